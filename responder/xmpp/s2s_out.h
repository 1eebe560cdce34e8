/* s2s_out.h -- our own streams to other servers, one per (test domain, remote
 * domain): SRV lookup, connect, STARTTLS presenting the test domain's
 * certificate as TLS client, then SASL EXTERNAL or dialback as the profile
 * allows. Stanzas queue while the stream is set up and are bounced if it
 * fails; dialback verification requests ride the stream before it is
 * authenticated. Never negotiates bidirectional streams (XEP-0288). */
#ifndef RS_S2S_OUT_H
#define RS_S2S_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

typedef struct rs_s2s_out rs_s2s_out;

/* What peers, probe callers and the report are told when one of our streams
 * failed before the remote sent a stream header: one text whether the
 * connection was refused, timed out, or the address was not ours to dial,
 * so that making us dial reveals nothing about what listens there. The
 * detail goes to the log only. */
#define S2S_OUT_FAILED_PUBLIC "no stream could be established with the " \
                              "remote server"

/* How far a failed stream got towards the remote server, in the same
 * spirit: DNS answers are public, what listens at an address is not. A
 * stream that tried several targets keeps the furthest. */
typedef enum {
    S2S_OUT_UNREACHED_LOCAL,      /* our own side failed before DNS answered */
    S2S_OUT_UNREACHED_RESOLVER,   /* our resolver gave no answer */
    S2S_OUT_UNREACHED_NAME,       /* no SRV and no address for the name */
    S2S_OUT_UNREACHED_NO_SERVICE, /* its SRV says "no service" (target ".") */
    S2S_OUT_UNREACHED_ADDRESS,    /* no stream at any address DNS gave */
    S2S_OUT_REACHED               /* the remote sent a stream header */
} s2s_out_reach;

/* What outbound streams report to whoever registered (the router). The
 * callbacks may run inside any s2s_out call: the listener must defer work
 * that could re-enter a stream. */
typedef struct s2s_out_events {
    /* the answer to s2s_out_verify for requester_id */
    void (*verdict)(void *ud, unsigned requester_id, const char *local,
                    const char *remote, bool valid, const char *why);
    /* stanzas from local to remote were dropped; why is public, reach says
     * whether the remote server was reached at all */
    void (*undeliverable)(void *ud, const char *local, const char *remote,
                          s2s_out_reach reach, const char *why);
    /* our stream to remote drained (cut false) or was closed because remote
     * did not read it (cut true) */
    void (*replies_flow)(void *ud, const char *remote, bool cut);
} s2s_out_events;

/* Register ev (static, or NULL to stop) with its ud. */
void s2s_out_set_events(rs_daemon *srv, const s2s_out_events *ev, void *ud);

/* The stream for (local, remote) if there is one, else NULL. */
rs_s2s_out *s2s_out_find(rs_daemon *srv, const char *local, const char *remote);

/* The stream for (local, remote), created and started when absent. NULL when
 * it cannot be created (limits, memory). */
rs_s2s_out *s2s_out_get(rs_daemon *srv, const char *local, const char *remote);

/* Queue or send a serialized stanza (copied). false when it was dropped
 * (queue full, stream finished, memory). */
bool s2s_out_send(rs_s2s_out *o, const char *xml, size_t len);

/* Send <db:verify/> for a key the remote gave to our inbound stream
 * requester_id; the answer goes to the verdict event. */
void s2s_out_verify(rs_s2s_out *o, const char *stream_id, const char *key,
                    unsigned requester_id);

/* true when the stream for (local, remote) holds more unread output than
 * limits.send_buffer_bytes: whoever asks for replies to remote should wait. */
bool s2s_out_congested(rs_daemon *srv, const char *local, const char *remote);

/* Close every outbound stream (shutdown). */
void s2s_out_close_all(rs_daemon *srv);

/* The names of every state a stream can be in (for /metrics). */
const char *const *s2s_out_state_names(size_t *n);

/* Call fn for every outbound stream with its state name. */
void s2s_out_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg);

#endif
