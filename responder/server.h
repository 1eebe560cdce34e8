/* server.h -- the daemon: the event loop, listeners, the current domain set,
 * the resolver, all live streams, signal handling and reload. */
#ifndef RS_SERVER_H
#define RS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "dns.h"
#include "domains.h"

struct rs_conn;
struct s2s_out;

/* Counters for logs and (later) metrics. */
typedef struct rs_stats {
    uint64_t streams_in;      /* inbound streams accepted */
    uint64_t streams_out;     /* outbound streams started */
    uint64_t tls_ok;          /* handshakes completed */
    uint64_t tls_failed;      /* handshakes failed */
    uint64_t auth_ok;         /* peers authenticated (any method) */
    uint64_t auth_failed;     /* authentications refused */
    uint64_t pings;           /* pings answered */
    uint64_t echoes;          /* messages echoed */
    uint64_t stream_errors;   /* stream errors we sent */
    uint64_t refused;         /* connections refused by limits */
} rs_stats;

/* One listening socket. */
typedef struct rs_listener {
    uv_tcp_t tcp;
    struct rs_server *srv;
    char address[64];
    unsigned port;
    bool direct_tls;   /* XEP-0368: TLS starts with the first byte */
} rs_listener;

typedef struct rs_server {
    uv_loop_t *loop;
    rs_config *cfg;              /* current configuration (owned) */
    char *config_path;           /* what SIGHUP reloads, NULL = embedded */
    rs_domains *domains;         /* current domain generation */
    rs_dns *dns;                 /* resolver */
    rs_listener *listeners;
    size_t n_listeners;
    uv_signal_t sig_term, sig_int, sig_hup;
    struct rs_conn *conns;       /* every live connection */
    unsigned n_conns;
    struct s2s_out *outs;        /* outbound streams by (local, remote) */
    unsigned char db_secret[32]; /* dialback key secret, random per start */
    unsigned next_id;            /* ids for logs */
    bool stopping;
    rs_stats stats;
} rs_server;

/* Set up everything from cfg (taken over) and start listening. 0 or -1 with
 * messages on stderr. config_path is kept for SIGHUP (NULL: reload re-reads
 * nothing but the certificates). */
int rs_server_start(rs_server *srv, uv_loop_t *loop, rs_config *cfg,
                    const char *config_path);

/* Re-read the config and certificates; established streams keep theirs. */
void rs_server_reload(rs_server *srv);

/* Close listeners and every stream; the loop then ends by itself. */
void rs_server_stop(rs_server *srv);

/* Release what is left after the loop ended. */
void rs_server_free(rs_server *srv);

#endif
