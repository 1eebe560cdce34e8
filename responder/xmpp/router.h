/* router.h -- the hub between streams and what answers on them: inbound
 * stanzas of an authenticated peer go through the handlers registered at
 * start-up until one takes them; what they produce, and dialback
 * verifications, go out on our stream for (our domain, their domain).
 * Completions always run from the loop, never inside the call that asked
 * (why: README.md). Modules register; the router includes none of them. */
#ifndef RS_ROUTER_H
#define RS_ROUTER_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "daemon.h"
#include "s2s_out.h"

/* The echo contact's localpart (echo@DOMAIN): the services answer it;
 * client sessions may talk to it and to their own domain only. */
#define ECHO_LOCALPART "echo"

typedef struct rs_router rs_router;

/* A stanza from remote to dom, already authorised: true when the handler
 * took it (it stays owned by the caller either way). */
typedef bool (*router_stanza_fn)(void *ud, const rs_domain *dom,
                                 const char *remote, xmlNodePtr stanza);

/* Stanzas from local to remote could not be delivered; why is public,
 * reach says whether the remote server was reached at all. */
typedef void (*router_undeliverable_fn)(void *ud, const char *local,
                                        const char *remote, s2s_out_reach reach,
                                        const char *why);

/* The answer to router_verify_dialback for the inbound stream requester_id
 * (which may be gone). valid false with why set: it could not be done. */
typedef void (*router_verdict_fn)(void *ud, unsigned requester_id,
                                  const char *local, const char *remote,
                                  bool valid, const char *why);

/* Our stream carrying replies to remote drained (cut false) or was closed
 * because remote did not read it (cut true). */
typedef void (*router_flow_fn)(void *ud, const char *remote, bool cut);

/* A stanza for one of our own client sessions (its 'to' is on one of our
 * domains): el is consumed. */
typedef void (*router_local_fn)(void *ud, xmlNodePtr el);

/* A stanza a client session on dom sent to its own domain or echo contact
 * (jabber:server, 'from' stamped); client_key is the client's address, by
 * which the answering side counts its budgets. It stays the caller's. */
typedef void (*router_client_fn)(void *ud, const rs_domain *dom,
                                 const char *client_key, xmlNodePtr stanza);

/* The router of srv, kept in srv->router. NULL on allocation failure. */
rs_router *router_new(rs_daemon *srv);

/* Stop: pending completions are dropped; the memory goes when the loop
 * has closed the timer. */
void router_close(rs_router *r);

/* Append a stanza handler (start-up). -1 when the table is full. */
int router_add_handler(rs_router *r, router_stanza_fn fn, void *ud);

/* Who hears of undeliverable stanzas, verdicts and reply flow (one each). */
void router_on_undeliverable(rs_router *r, router_undeliverable_fn fn, void *ud);
void router_on_verdict(rs_router *r, router_verdict_fn fn, void *ud);
void router_on_flow(rs_router *r, router_flow_fn fn, void *ud);

/* Who takes stanzas addressed to our own domains: the client sessions
 * (c2s.h). Without one, such stanzas are dropped. */
void router_on_local(rs_router *r, router_local_fn fn, void *ud);

/* Who answers what client sessions send to their own domain: the services
 * (services.h). Without one, such stanzas are dropped. */
void router_on_client(rs_router *r, router_client_fn fn, void *ud);

/* A stanza from remote to one of our domains, already authorised: offered
 * to each handler in order. */
void router_deliver_local(rs_daemon *srv, const rs_domain *dom,
                          const char *remote, xmlNodePtr stanza);

/* A stanza of a client session (router_client_fn): handed to the one
 * registered with router_on_client. */
void router_deliver_client(rs_daemon *srv, const rs_domain *dom,
                           const char *client_key, xmlNodePtr stanza);

/* Send el (consumed) from our domain local to remote: on our outbound
 * stream, or to our client sessions when remote is one of our domains
 * (nothing else can send there: claims of our own names are refused). */
void router_send(rs_daemon *srv, const char *local, const char *remote,
                 xmlNodePtr el);

/* Whether a dialback verification for (local, remote) may go ahead: true
 * when it rides an existing outbound stream, or when a new dial fits
 * limits.verify_dials_per_domain (per claimed remote) and
 * limits.verify_dials_total this minute; it is then counted. Anyone can
 * claim any domain, so these bound the dials strangers make us start. */
bool router_verify_dial_allowed(rs_daemon *srv, const char *local,
                                const char *remote);

/* Ask remote's authoritative server whether key was issued for a stream it
 * opened to local with our stream id. The verdict for requester_id comes
 * later, from the loop, through the router_on_verdict callback. */
void router_verify_dialback(rs_daemon *srv, const char *local,
                            const char *remote, const char *stream_id,
                            const char *key, unsigned requester_id);

#endif
