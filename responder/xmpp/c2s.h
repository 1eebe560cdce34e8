/* c2s.h -- streams clients open to our test domains (RFC 6120): STARTTLS or
 * direct TLS (XEP-0368) with the domain's certificate, SASL for the test
 * account (sasl_client.h), resource binding, then a session that may talk
 * to its own domain and echo contact only (no open relay). The stream
 * machine is c2s.c; what a bound session handles, c2s_session.c. */
#ifndef RS_C2S_H
#define RS_C2S_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>
#include <uv.h>

#include "daemon.h"

#define C2S_ACCOUNT "test"          /* the published account's localpart */
#define C2S_PASSWORD "test"         /* and its password */

typedef struct rs_c2s rs_c2s;

/* The client side of srv: the account's SASL secrets (derived once, with a
 * fresh salt) and the list of bound sessions. NULL on failure. */
rs_c2s *c2s_new(rs_daemon *srv);

/* Release it (the streams are closed by then). NULL is allowed. */
void c2s_free(rs_c2s *hub);

/* Accept a connection waiting on a client listener; direct_tls: XEP-0368.
 * Returns as s2s_in_accept does. */
int c2s_accept(rs_daemon *srv, uv_stream_t *listener, bool direct_tls);

/* Hand el (consumed; jabber:server, as the services build it) to the bound
 * sessions its 'to' names: the full JID's session, or every session of a
 * bare JID. Dropped when none. */
void c2s_deliver(void *hub, xmlNodePtr el);

/* The names of every state a client stream can be in (for /metrics). */
const char *const *c2s_state_names(size_t *n);

/* Call fn for every client stream with its state name. */
void c2s_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg);

#endif
