/* posh.h -- POSH (RFC 7711, for XMPP RFC 7712) for the domains whose profile
 * sets `posh`: an HTTPS listener that answers
 *   GET /.well-known/posh/xmpp-server.json   (RFC 7712, for servers)
 *   GET /.well-known/posh/xmpp-client.json   (service xmpp-client, for clients)
 * for such a domain (chosen by SNI and Host) with the SHA-256 fingerprint of
 * the certificate its XMPP service presents (the same on s2s and c2s ports,
 * so the two documents are the same), over a normal certificate for
 * the domain (STATE/certs/NAME.https.pem and .key, written by `init`).
 *
 * The documents are computed once at start and never change, so
 * libmicrohttpd serves them from its own thread; nothing else is shared.
 * A reload does not change them: restart to pick up new certificates. */
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
