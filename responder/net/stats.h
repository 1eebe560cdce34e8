/* stats.h -- the daemon's counters and the snapshot /metrics renders from.
 * Modules bump the counters of what they do in rs_daemon.stats (daemon.h);
 * server.c copies them with the gauges into a stats_snapshot, so metrics.c
 * needs to know no other module. */
#ifndef RS_STATS_H
#define RS_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Authentication methods and results, as indexes of stats_counters.auth. */
enum { RS_AUTH_EXTERNAL, RS_AUTH_DIALBACK, RS_AUTH_METHODS };
enum { RS_AUTH_OK, RS_AUTH_FAILED, RS_AUTH_RESULTS };

/* Services with a per-remote-domain reply limit, as indexes of
 * stats_counters.limited (services.c). */
enum { RS_SVC_PING, RS_SVC_DISCO, RS_SVC_VERSION, RS_SVC_ECHO, RS_SVC_PRESENCE,
       RS_SVC_COUNT };

/* Input limits a peer broke (its stream ended with policy-violation), as
 * indexes of stats_counters.input_limits (conn.c). */
enum { RS_INPUT_STANZA_BYTES, RS_INPUT_UNAUTH_STANZA_BYTES, RS_INPUT_DEPTH,
       RS_INPUT_ATTRIBUTES, RS_INPUT_NAMESPACES, RS_INPUT_UNAUTH_CHILDREN,
       RS_INPUT_LIMITS };
/* Probes refused, by the budget that refused them (as many as
 * probe_budget_limit in probe_budget.h; index 0 unused). */
#define STATS_PROBE_LIMITS 8

/* Counters since start, for logs and /metrics. */
typedef struct stats_counters {
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
    uint64_t log_suppressed;  /* log lines dropped by limits.log_per_minute
                                 (kept by log.c, copied at snapshot) */
    uint64_t input_limits[RS_INPUT_LIMITS]; /* streams ended for breaking an
                                 input limit, by limit */
    uint64_t client_evicted_unbound; /* client streams not yet bound closed
                                 to make room for a new client (admission.c) */
    uint64_t client_evicted_bound; /* bound client sessions closed for one,
                                 the longest idle (admission.c) */
    uint64_t client_refused;  /* client streams refused: per-address cap
                                 (c2s.c) */
    uint64_t probes_limited[STATS_PROBE_LIMITS]; /* probes refused, by the
                                 budget (probe_budget_limit) */
    uint64_t http_refused[2]; /* web connections refused (http_guard.h):
                                 per address, no room */
    uint64_t http_cut[2];     /* web connections cut: past
                                 http_header_timeout, to make room */
    uint64_t http_reserve_refused; /* requests on a reserved connection for
                                 another path than the ACME challenge or
                                 the CRLs (answered 503) */
} stats_counters;

/* "ping", "disco", ...: the name of an RS_SVC_* index, for /metrics. */
const char *stats_service_name(unsigned svc);

/* "max_attributes", ...: the limits key of an RS_INPUT_* index
 * ("children_before_auth" for the rule that has none). */
const char *stats_input_limit_name(unsigned limit);

#define STATS_MAX_STATES 32 /* rows of stats_snapshot.streams */

/* Live streams in one state of one direction's state machine. */
typedef struct stats_stream_count {
    const char *dir;  /* "in" or "out" (static) */
    char state[32];   /* the state's name */
    uint64_t n;       /* streams in it */
} stats_stream_count;

/* Everything /metrics shows, taken at one moment. */
typedef struct stats_snapshot {
    stats_counters counters;          /* since start */
    uint64_t start_time;        /* unix seconds */
    uint64_t test_domains;      /* domains configured */
    uint64_t report_peers;      /* remote domains the report knows */
    int have_evidence;          /* the evidence counters below are set */
    uint64_t outcomes_by_evidence[3]; /* by report_evidence (report.h) */
    uint64_t evidence_lookups;  /* DNS lookups of claimed domains */
    uint64_t evidence_overflow; /* outcomes left unchecked: too many waiting */
    int have_report_db;         /* the report.db counters below are set */
    uint64_t report_db_up;      /* 1: report.db is open for writing */
    uint64_t report_db_written; /* outcomes committed to report.db */
    uint64_t report_db_failures; /* transactions that failed (retried) */
    uint64_t report_db_dropped; /* outcomes not queued: the queue was full */
    uint64_t report_db_queued;  /* outcomes waiting to be written */
    uint64_t report_db_longest_us; /* longest flush, microseconds */
    uint64_t report_db_failing; /* 1 while writes to report.db fail */
    uint64_t report_db_bytes;   /* bytes the outcomes take in report.db */
    uint64_t report_db_pruned;  /* rows retention deleted from report.db */
    uint64_t report_evicted[3]; /* remote domains that gave way in memory,
                                   by class (report_evidence) */
    uint64_t report_capped_source; /* address-matched ones replaced by a newer
                                      one from the same source address */
    uint64_t report_capped_site; /* ... under the same registrable domain */
    uint64_t report_refused;    /* address-matched outcomes not kept: verified
                                   peers filled the table */
    stats_stream_count streams[STATS_MAX_STATES]; /* every known state of
                                   both machines, zeros included */
    size_t n_streams;
    uint64_t streams_other[2];  /* streams in states beyond the table: in, out */
    uint64_t pool_streams[2];   /* streams the pools hold: servers, clients
                                   (admission.h) */
    uint64_t pool_capacity[2];  /* how many each may hold */
} stats_snapshot;

/* Declare state of dir ("in"/"out") in snap with no stream yet, so the set
 * of series stays stable. */
void stats_declare_state(stats_snapshot *snap, const char *dir,
                         const char *state);

/* Count one live stream of dir in state (a stream visitor). */
void stats_count_stream(void *snap, const char *dir, const char *state);

#endif
