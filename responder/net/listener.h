/* listener.h -- one listening socket: accepts connections and hands them
 * to the accept function it was opened with (s2s_in's for servers, c2s's
 * for clients: server.c chooses), keeps going when an accept fails (no
 * memory: retried shortly; no descriptors: an unauthenticated stream gives
 * way), and logs failures at most once a minute with the count of the
 * others. */
#ifndef RS_LISTENER_H
#define RS_LISTENER_H

#include <stdbool.h>

#include <uv.h>

#include "config.h"
#include "daemon.h"

/* Take a connection waiting on listener (direct_tls: XEP-0368): 0 when it
 * was taken; UV_ENOMEM when nothing could be allocated (it is still
 * pending: tried again shortly); another uv error when uv_accept failed.
 * s2s_in_accept and c2s_accept are the two. */
typedef int (*listener_accept_fn)(rs_daemon *srv, uv_stream_t *listener,
                                  bool direct_tls);

/* One listening socket. */
typedef struct rs_listener {
    uv_tcp_t tcp;      /* the listening socket */
    struct rs_daemon *srv; /* the daemon */
    char address[64]; /* as configured */
    unsigned port;     /* TCP port */
    bool direct_tls;   /* XEP-0368: TLS starts with the first byte */
    bool clients;      /* a client port, else servers: its pool */
    listener_accept_fn accept; /* who takes its connections */
    uv_timer_t retry;  /* after a failed accept: try again shortly */
} rs_listener;

/* Bind and listen on conf for srv, handing connections to accept. 0, or -1
 * with "CONFIG: cannot listen on ADDRESS port PORT: why" on stderr. The
 * handles need listener_close. */
int listener_open(rs_listener *l, rs_daemon *srv, const config_listen *conf,
                  listener_accept_fn accept);

/* Stop listening; the handles close through the loop. */
void listener_close(rs_listener *l);

#endif
