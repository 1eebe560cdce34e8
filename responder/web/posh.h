/* posh.h -- POSH (RFC 7711, for XMPP RFC 7712) for the domains whose
 * profile sets `posh`: an HTTPS listener answering POSH_PATH and
 * POSH_PATH_CLIENT with the SHA-256 fingerprint of the certificate the
 * domain's XMPP service presents, over STATE/certs/NAME.https.pem. The
 * documents are computed at start and served from libmicrohttpd's own
 * thread (README.md). */
#ifndef RS_POSH_H
#define RS_POSH_H

#include "config.h"
#include "domains.h"

#define POSH_PATH "/.well-known/posh/xmpp-server.json"
#define POSH_PATH_CLIENT "/.well-known/posh/xmpp-client.json"
#define POSH_EXPIRES 86400 /* seconds a peer may cache the document */

typedef struct rs_posh rs_posh;

/* Listen on cfg->https for the posh domains of doms. NULL after a message
 * on stderr (no posh domain, missing HTTPS certificate, port in use). */
rs_posh *posh_start(const rs_config *cfg, const rs_domains *doms);

/* Stop the listener and free everything. */
void posh_stop(rs_posh *p);

#endif
