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

struct rs_server;
struct rs_listener;
struct rs_conn;
struct s2s_out;
struct s2s_out_events;
struct rs_router;
struct rs_services;
struct rs_report;
struct rs_evidence;
struct rs_web;
struct rs_posh;
struct rs_probe;
struct rs_control;

/* A copy of the counters and gauges now, for /metrics (server.c). */
typedef void (*rs_snapshot_fn)(struct rs_server *srv, stats_snapshot *snap);


typedef struct rs_server {
    uv_loop_t *loop;
    rs_config *cfg;              /* current configuration (owned) */
    char *config_path;           /* what SIGHUP reloads, NULL = embedded */
    rs_domains *domains;         /* current domain generation */
    rs_dns *dns;                 /* resolver */
    struct rs_listener *listeners; /* s2s listeners (listener.h) */
    size_t n_listeners;
    uv_signal_t sig_term, sig_int, sig_hup;
    struct rs_conn *conns;       /* every live connection */
    unsigned n_conns;
    unsigned conns_high;         /* most live conns since memory was last
                                    handed back (server.c on_trim) */
    uv_timer_t trim_timer;       /* looks at conns_high now and then */
    struct s2s_out *outs;        /* outbound streams by (local, remote) */
    unsigned n_outs;             /* how many; each holds a stream slot
                                    (kept by s2s_out.c, read by admission.c) */
    const struct s2s_out_events *out_events; /* who hears what outbound
                                    streams report (router.c) */
    void *out_events_ud;
    struct rs_router *router;    /* stanza handlers, completions (router.h) */
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
    struct rs_services *services; /* what test domains answer (services.h) */
    rs_snapshot_fn snapshot;     /* fills a stats_snapshot (server.c) */
    unsigned fd_budget;          /* sockets streams may hold: RLIMIT_NOFILE
                                    less what the daemon needs besides */
} rs_server;

/* Called once per live stream: dir "in" or "out", state the name of its
 * state machine's state ("tls", "ready", ...). */
typedef void (*rs_stream_visitor)(void *arg, const char *dir,
                                  const char *state);

#endif
