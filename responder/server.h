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
struct rs_report;
struct rs_evidence;
struct rs_web;
struct rs_posh;
struct rs_probe;
struct rs_control;

/* Authentication methods and results, as indexes of rs_stats.auth. */
enum { RS_AUTH_EXTERNAL, RS_AUTH_DIALBACK, RS_AUTH_METHODS };
enum { RS_AUTH_OK, RS_AUTH_FAILED, RS_AUTH_RESULTS };

/* Services with a per-remote-domain reply limit, as indexes of
 * rs_stats.limited (services.c). */
enum { RS_SVC_PING, RS_SVC_DISCO, RS_SVC_VERSION, RS_SVC_ECHO, RS_SVC_PRESENCE,
       RS_SVC_COUNT };

/* Counters since start, for logs and /metrics. */
typedef struct rs_stats {
    uint64_t streams_in;      /* inbound streams accepted */
    uint64_t streams_out;     /* outbound streams started */
    uint64_t tls_ok;          /* handshakes completed */
    uint64_t tls_failed;      /* handshakes failed */
    uint64_t auth[RS_AUTH_METHODS][RS_AUTH_RESULTS]; /* by method, result;
                                 in and out: the initiator's authentication */
    uint64_t pings;           /* pings answered */
    uint64_t echoes;          /* messages echoed */
    uint64_t commands;        /* echo commands answered (help, report) */
    uint64_t rate_limited;    /* echo replies suppressed by the rate limit */
    uint64_t stream_errors;   /* stream errors we sent */
    uint64_t stream_errors_in; /* stream errors peers sent */
    uint64_t refused;         /* connections refused by limits */
    uint64_t bytes_in;        /* raw bytes received on s2s sockets */
    uint64_t bytes_out;       /* raw bytes sent on s2s sockets */
    uint64_t probes;          /* probes started */
    uint64_t outcomes;        /* outcome records added to the report */
    uint64_t targets_refused; /* outbound addresses outbound.allow refused */
    uint64_t verify_dials_limited; /* dialback verifications refused by
                                      verify_dials_per_domain / _total */
    uint64_t limited[RS_SVC_COUNT]; /* replies suppressed by the per-domain
                                 rate limit, by service */
    uint64_t send_cutoffs;    /* streams closed: peer did not read our output */
    uint64_t evicted;         /* unauthenticated streams closed to make room */
    uint64_t accept_failures; /* accepts that failed (no memory, no fds) */
    uint64_t log_suppressed;  /* log lines dropped by limits.log_per_minute */
} rs_stats;

/* One listening socket. */
typedef struct rs_listener {
    uv_tcp_t tcp;
    struct rs_server *srv;
    char address[64];
    unsigned port;
    bool direct_tls;   /* XEP-0368: TLS starts with the first byte */
    uv_timer_t retry;  /* after a failed accept: try again shortly */
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
    unsigned conns_high;         /* most live conns since memory was last
                                    handed back (server.c on_trim) */
    uv_timer_t trim_timer;       /* looks at conns_high now and then */
    struct s2s_out *outs;        /* outbound streams by (local, remote) */
    unsigned char db_secret[32]; /* dialback key secret, random per start */
    unsigned next_id;            /* ids for logs */
    bool stopping;
    rs_stats stats;
    uint64_t start_time;         /* unix seconds at start (stream ids) */
    struct rs_report *report;    /* outcome records (report.h) */
    struct rs_evidence *evidence; /* decides how sure each outcome is
                                    before it enters the report (evidence.h) */
    struct rs_web *web;          /* HTTP listener, or NULL (web.h) */
    struct rs_posh *posh;        /* POSH HTTPS listener, or NULL (posh.h) */
    struct rs_probe *probes;     /* running probes (probe.h) */
    struct rs_control *control;  /* control socket (control.h) */
    struct rl_table *svc_limits; /* per-remote reply rates (services.c) */
    struct rl_table *log_limits; /* per-peer log line rates (conn.c) */
    struct rl_table *verify_limits; /* dialback verification dials per
                                       claimed domain and in all (router.c) */
    unsigned fd_budget;          /* sockets streams may hold: RLIMIT_NOFILE
                                    less what the daemon needs besides */
} rs_server;

/* Called once per live stream: dir "in" or "out", state the name of its
 * state machine's state ("tls", "ready", ...). */
typedef void (*rs_stream_visitor)(void *arg, const char *dir,
                                  const char *state);

/* Set up everything from cfg (taken over) and start listening. 0 or -1 with
 * messages on stderr. config_path is kept for SIGHUP (NULL: reload re-reads
 * nothing but the certificates). */
int rs_server_start(rs_server *srv, uv_loop_t *loop, rs_config *cfg,
                    const char *config_path);

/* Re-read the config and certificates; established streams keep theirs. */
void rs_server_reload(rs_server *srv);

/* Close listeners and every stream; the loop then ends by itself. */
void rs_server_stop(rs_server *srv);

/* Visit every live stream (for /metrics). */
void rs_server_each_stream(rs_server *srv, rs_stream_visitor fn, void *arg);

/* Release what is left after the loop ended. */
void rs_server_free(rs_server *srv);

#endif
