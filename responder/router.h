/* router.h -- where stanzas go. Inbound stanzas from an authenticated peer go
 * to the services of the addressed test domain; what services produce goes
 * out on our own outbound stream for (our domain, their domain), created on
 * demand and queued while it is being set up. Dialback verification requests
 * travel the same outbound streams. */
#ifndef RS_ROUTER_H
#define RS_ROUTER_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "server.h"

/* A stanza from remote to one of our domains, already authorised. */
void router_deliver_local(rs_server *srv, const rs_domain *dom,
                          const char *remote, xmlNodePtr stanza);

/* Send el (consumed) from our domain local to remote. */
void router_send(rs_server *srv, const char *local, const char *remote,
                 xmlNodePtr el);

/* Whether a dialback verification for (local, remote) may go ahead: true
 * when it rides an existing outbound stream, or when a new dial fits
 * limits.verify_dials_per_domain (per claimed remote) and
 * limits.verify_dials_total this minute; it is then counted. Anyone can
 * claim any domain, so these bound the dials strangers make us start. */
bool router_verify_dial_allowed(rs_server *srv, const char *local,
                                const char *remote);

/* Ask remote's authoritative server whether key was issued for a stream it
 * opened to local with our stream id. The verdict arrives later through
 * s2s_in_dialback_verdict() for the inbound stream requester_id. */
void router_verify_dialback(rs_server *srv, const char *local,
                            const char *remote, const char *stream_id,
                            const char *key, unsigned requester_id);

#endif
