/* listener.h -- one listening socket: accepts connections and hands them
 * to s2s_in (servers) or c2s (clients), keeps going when an accept fails (no memory: retried
 * shortly; no descriptors: an unauthenticated stream gives way), and logs
 * failures at most once a minute with the count of the others. */
#ifndef RS_LISTENER_H
#define RS_LISTENER_H

#include <stdbool.h>

#include <uv.h>

#include "config.h"
#include "daemon.h"

/* One listening socket. */
typedef struct rs_listener {
    uv_tcp_t tcp;      /* the listening socket */
    struct rs_daemon *srv; /* the daemon */
    char address[64]; /* as configured */
    unsigned port;     /* TCP port */
    bool direct_tls;   /* XEP-0368: TLS starts with the first byte */
    bool clients;      /* a client port (c2s.h), else servers (s2s_in.h) */
    uv_timer_t retry;  /* after a failed accept: try again shortly */
} rs_listener;

/* Bind and listen on conf for srv. 0, or -1 with "CONFIG: cannot listen on
 * ADDRESS port PORT: why" on stderr. The handles need listener_close. */
int listener_open(rs_listener *l, rs_daemon *srv, const rs_listen *conf);

/* Stop listening; the handles close through the loop. */
void listener_close(rs_listener *l);

#endif
