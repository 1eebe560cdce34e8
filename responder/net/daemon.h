/* daemon.h -- the state one running daemon shares between its modules: the
 * loop, the configuration and domain set in force, the resolver, the live
 * streams and the counters. Modules receive it; server.c fills it and wires
 * the modules together (server.h). Each module owns the fields its comment
 * names; the others only read them. */
#ifndef RS_DAEMON_H
#define RS_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "dns.h"
#include "domains.h"
#include "stats.h"

struct rs_daemon;
struct rs_listener;
struct rs_conn;
struct rs_s2s_out;
struct s2s_out_events;
struct rs_router;
struct rs_services;
struct rs_c2s;
struct rs_clients;
struct rs_report;
struct rs_evidence;
struct rs_web;
struct rs_crl;
struct rs_posh;
struct rs_probe;
struct rs_control;
struct rs_s2s_in;

/* The two pools of stream slots (admission.h): what servers hold (inbound
 * s2s and our outbound streams) and what clients of the test account hold
 * (c2s). Neither can take the other's slots. */
typedef enum {
    RS_POOL_SERVERS, /* limits.max_streams, max_streams_per_ip */
    RS_POOL_CLIENTS, /* limits.max_client_streams, client_streams_per_ip */
    RS_POOLS
} daemon_pool_kind;

/* What one pool holds now, kept by conn.c as streams change state
 * (conn_count.c) so that admission decides in constant time. */
typedef struct daemon_pool {
    unsigned sockets;         /* its conns whose socket is not closing */
    unsigned live_in;         /* its inbound conns not closing */
    unsigned unsettled;       /* of them the first to give way: servers
                                 not authenticated, clients not bound */
    struct conn_addrs *addrs; /* its live inbound conns per address */
} daemon_pool;

/* A copy of the counters and gauges now, for /metrics (server.c). */
typedef void (*daemon_snapshot_fn)(struct rs_daemon *srv, stats_snapshot *snap);

/* Every field has one writer, named in brackets: server.c sets up and
 * tears down; the module named keeps its own list or counters. The rest
 * only read. */
typedef struct rs_daemon {
    uv_loop_t *loop;             /* the one event loop [server] */
    rs_config *cfg;              /* current configuration, owned [server] */
    char *config_path;           /* what SIGHUP reloads, NULL = embedded [server] */
    rs_domains *domains;         /* current domain generation [server] */
    rs_dns *dns;                 /* resolver [server] */
    struct rs_listener *listeners; /* s2s and c2s listeners (listener.h) [server] */
    size_t n_listeners;          /* how many [server] */
    uv_signal_t sig_term, sig_int, sig_hup; /* stop, stop, reload [server] */
    struct rs_conn *conns;       /* every live connection [conn] */
    unsigned n_conns;            /* how many [conn] */
    daemon_pool pools[RS_POOLS];     /* stream slots, servers' and clients'
                                    (admission.h) [conn] */
    uv_prepare_t flush_check;    /* before the loop waits for I/O: send what
                                    conns corked meanwhile [conn] */
    bool flush_on;               /* flush_check runs: TLS output is corked
                                    until it does (off: sent at once) [conn] */
    struct rs_conn *flush_list;  /* conns with corked output [conn] */
    uv_timer_t idle_sweep;       /* each second: idle streams give their XML
                                    parser back (xmlstream_release) [conn] */
    unsigned conns_high;         /* most live conns since memory was last
                                    handed back [conn; server resets] */
    uv_timer_t trim_timer;       /* looks at conns_high now and then [server] */
    struct rs_s2s_out *outs;        /* outbound streams by (local, remote) [s2s_out] */
    unsigned n_outs;             /* how many; each holds a stream slot
                                    (admission.c counts them) [s2s_out] */
    const struct s2s_out_events *out_events; /* who hears what outbound
                                    streams report [s2s_out, set by router] */
    void *out_events_ud;         /* their argument [s2s_out] */
    struct rs_router *router;    /* stanza handlers, completions (router.h) [server] */
    unsigned char db_secret[32]; /* dialback key secret, random per start [server] */
    unsigned next_id;            /* ids for logs [conn] */
    bool stopping;               /* server_stop ran [server] */
    stats_counters stats;              /* counters, each bumped by the module whose
                                    work it counts (stats.h) */
    uint64_t start_time;         /* unix seconds at start (stream ids) [server] */
    struct rs_report *report;    /* outcome records (report.h) [server] */
    struct rs_evidence *evidence; /* decides how sure each outcome is
                                    before it enters the report (evidence.h) [server] */
    struct rs_web *web;          /* HTTP listener, or NULL (web.h) [server] */
    struct rs_crl *crl;          /* the test CA's CRL, kept current and
                                    served by web, or NULL (crl.h) [server] */
    struct rs_posh *posh;        /* POSH HTTPS listener, or NULL (posh.h) [server] */
    struct rs_probe *probes;     /* running probes (probe.h) [probe] */
    struct rs_control *control;  /* control socket (control.h) [server] */
    struct rs_services *services; /* what test domains answer (services.h) [server] */
    struct rs_c2s *c2s;          /* the test account and its client
                                    sessions (c2s.h) [server] */
    struct rs_clients *clients;  /* what clients did, by address (clients.h);
                                    NULL: not recorded [server] */
    daemon_snapshot_fn snapshot;     /* fills a stats_snapshot [server] */
    unsigned fd_budget;          /* sockets streams may hold: RLIMIT_NOFILE
                                    less what the daemon needs besides; the
                                    pools share it (admission.h) [server] */
    bool client_ports;           /* a client listener is open: the client
                                    pool takes its share of fd_budget [server] */
    struct conn_ids *ids;        /* every conn by id (conn_find) [conn] */
    struct rs_s2s_in *replies_paused; /* inbound streams whose reading waits for
                                    our stream carrying their replies
                                    (CONN_PAUSE_REPLIES) [s2s_in] */
} rs_daemon;

/* Called once per live stream: dir "in", "out" or "c2s", state the name of its
 * state machine's state ("tls", "ready", ...). */
typedef void (*daemon_stream_visitor)(void *arg, const char *dir,
                                      const char *state);

#endif
