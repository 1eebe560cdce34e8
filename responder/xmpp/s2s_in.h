/* s2s_in.h -- streams other servers open to us (RFC 6120): header, STARTTLS
 * with the test domain's certificate, SASL EXTERNAL (XEP-0178) or dialback
 * (XEP-0220), then stanzas for our services. Nothing is ever answered before
 * the sending domain authenticated. */
#ifndef RS_S2S_IN_H
#define RS_S2S_IN_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "daemon.h"

/* Accept a connection waiting on listener; direct_tls: XEP-0368, TLS starts
 * at once and the certificate is chosen by SNI. 0 when it was taken (and
 * perhaps refused by the limits); UV_ENOMEM when nothing could be
 * allocated (it is still pending: try again later); another uv error when
 * uv_accept failed. */
int s2s_in_accept(rs_daemon *srv, uv_stream_t *listener, bool direct_tls);

/* Our stream carrying replies to remote drained (cut false: inbound
 * streams of remote paused for it read again) or was closed because remote
 * did not read it (cut true: they are closed with policy-violation). */
void s2s_in_replies_flow(rs_daemon *srv, const char *remote, bool cut);

/* The authoritative server's answer to a dialback verification requested by
 * the inbound stream whose conn id is conn_id (which may be gone by now).
 * valid false with why set means the verification could not be done. */
void s2s_in_dialback_verdict(rs_daemon *srv, unsigned conn_id,
                             const char *local, const char *remote, bool valid,
                             const char *why);

/* The names of every state a stream can be in (for /metrics). */
const char *const *s2s_in_state_names(size_t *n);

/* Call fn for every inbound stream with its state name. */
void s2s_in_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg);

#endif
