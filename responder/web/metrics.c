/* metrics.c -- Prometheus text format 0.0.4 (see metrics.h). */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "probe_budget.h"
#include "report.h"

#define PREFIX "xmpp_responder_"

/* The text being built; failed sticks after the first allocation failure. */
typedef struct mtext {
    rs_buf b;
    bool failed;
} mtext;

__attribute__((format(printf, 2, 3))) static void
put(mtext *m, const char *fmt, ...)
{
    if (m->failed)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line ||
        buf_append(&m->b, line, (size_t)n, 0) < 0)
        m->failed = true;
}

bool metrics_escape_label(const char *v, char *out, size_t n)
{
    size_t o = 0;
    for (; *v; v++) {
        const char *rep = NULL;
        char one[2] = {*v, '\0'};
        if (*v == '\\')
            rep = "\\\\";
        else if (*v == '"')
            rep = "\\\"";
        else if (*v == '\n')
            rep = "\\n";
        else
            rep = one;
        size_t l = strlen(rep);
        if (o + l + 1 > n)
            return false;
        memcpy(out + o, rep, l);
        o += l;
    }
    if (o + 1 > n)
        return false;
    out[o] = '\0';
    return true;
}

/* "# HELP" and "# TYPE" of one family. */
static void family(mtext *m, const char *name, const char *type,
                   const char *help)
{
    put(m, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help,
        name, type);
}

/* One sample without labels. */
static void sample(mtext *m, const char *name, uint64_t v)
{
    put(m, PREFIX "%s %" PRIu64 "\n", name, v);
}

/* A family of one sample without labels. */
static void single(mtext *m, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    family(m, name, type, help);
    sample(m, name, v);
}

/* One sample with one label. */
static void sample1(mtext *m, const char *name, const char *label,
                    const char *value, uint64_t v)
{
    char esc[256];
    if (!metrics_escape_label(value, esc, sizeof esc))
        snprintf(esc, sizeof esc, "(too long)");
    put(m, PREFIX "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, esc, v);
}

/* ---- streams open by direction and state ------------------------------------ */

static void streams_open(mtext *m, const stats_snapshot *snap)
{
    family(m, "streams_open", "gauge",
           "Live s2s streams by direction (in: a peer dialled us, out: we "
           "dialled a peer) and state of the stream's state machine.");
    for (size_t i = 0; i < snap->n_streams; i++) {
        char esc[80];
        if (!metrics_escape_label(snap->streams[i].state, esc, sizeof esc))
            continue;
        put(m, PREFIX "streams_open{direction=\"%s\",state=\"%s\"} %" PRIu64
            "\n", snap->streams[i].dir, esc, snap->streams[i].n);
    }
    for (int d = 0; d < 2; d++)
        if (snap->streams_other[d])
            put(m, PREFIX "streams_open{direction=\"%s\",state=\"other\"} %"
                PRIu64 "\n", d ? "out" : "in", snap->streams_other[d]);
}

/* Who gave way in the report's memory. */
static void report_retention(mtext *m, const stats_snapshot *snap)
{
    family(m, "report_evicted_total", "counter",
           "Remote domains that gave way in the report's memory, by their class "
           "(claims only to claims; address-matched before verified).");
    for (int e = REPORT_EVIDENCE_VERIFIED; e >= REPORT_EVIDENCE_CLAIMED; e--)
        sample1(m, "report_evicted_total", "evidence",
                report_evidence_name((report_evidence)e), snap->report_evicted[e]);
    family(m, "report_capped_total", "counter",
           "Address-matched remote domains replaced by a newer one from the same "
           "source address (IPv6: prefix; limits.report_matched_per_ip) or "
           "under the same registrable domain (limits.report_matched_per_site).");
    sample1(m, "report_capped_total", "by", "address", snap->report_capped_source);
    sample1(m, "report_capped_total", "by", "registrable-domain",
            snap->report_capped_site);
    single(m, "report_refused_total", "counter",
           "Outcomes of new address-matched remote domains not kept: verified "
           "peers filled the report (never evicted by unverified outcomes).",
           snap->report_refused);
}

/* ---- the exposition ------------------------------------------------------------ */

char *metrics_render(const stats_snapshot *snap, size_t *len)
{
    mtext m;
    memset(&m, 0, sizeof m);
    const stats_counters *s = &snap->counters;

    put(&m, "# HELP " PREFIX "build_info The running version (always 1).\n"
            "# TYPE " PREFIX "build_info gauge\n");
    sample1(&m, "build_info", "version", RS_VERSION, 1);
    single(&m, "start_time_seconds", "gauge",
           "Start time of the responder since the Unix epoch in seconds.",
           snap->start_time);
    single(&m, "test_domains", "gauge", "Test domains configured.",
           snap->test_domains);
    single(&m, "report_peers", "gauge",
           "Remote domains the report knows about.",
           snap->report_peers);
    if (snap->have_evidence) {
        family(&m, "outcomes_total", "counter",
               "Outcomes added to the report by evidence (verified: "
               "authenticated or dialled by us; address-matched: from an "
               "address the domain's DNS names; claimed: neither, never judged).");
        for (int e = REPORT_EVIDENCE_VERIFIED; e >= REPORT_EVIDENCE_CLAIMED; e--)
            sample1(&m, "outcomes_total", "evidence",
                    report_evidence_name((report_evidence)e),
                    snap->outcomes_by_evidence[e]);
        single(&m, "evidence_lookups_total", "counter",
               "DNS lookups of claimed domains to match a stream's address.",
               snap->evidence_lookups);
        single(&m, "evidence_overflow_total", "counter",
               "Outcomes recorded as claims unchecked: too many lookups waiting.",
               snap->evidence_overflow);
    }
    if (snap->have_report_db) {
        single(&m, "report_db_up", "gauge",
               "1 when STATE/report.db is open for writing (0: memory only).",
               snap->report_db_up);
        single(&m, "report_db_written_total", "counter",
               "Outcomes committed to STATE/report.db.", snap->report_db_written);
        single(&m, "report_db_failures_total", "counter",
               "Writes to STATE/report.db that failed (locked, disk full; "
               "retried, the outcomes kept).", snap->report_db_failures);
        single(&m, "report_db_dropped_total", "counter",
               "Outcomes not written: the queue for STATE/report.db was full.",
               snap->report_db_dropped);
        single(&m, "report_db_queued", "gauge",
               "Outcomes waiting to be written to STATE/report.db.",
               snap->report_db_queued);
        family(&m, "report_db_longest_flush_seconds", "gauge",
               "Longest write to STATE/report.db (one transaction; retention "
               "runs in a worker thread): how long the event loop waited for it.");
        put(&m, PREFIX "report_db_longest_flush_seconds %.6f\n",
            (double)snap->report_db_longest_us / 1e6);
        single(&m, "report_db_failing", "gauge",
               "1 while writes to STATE/report.db fail (full disk, lock): the "
               "outcomes wait in memory and are retried every second.",
               snap->report_db_failing);
        single(&m, "report_db_bytes", "gauge",
               "Bytes the outcomes take in STATE/report.db (limits."
               "report_file_bytes bounds it).", snap->report_db_bytes);
        single(&m, "report_db_pruned_total", "counter",
               "Outcomes retention deleted from STATE/report.db (age, bounds, "
               "size: claims first, then address-matched, then old verified history).",
               snap->report_db_pruned);
        report_retention(&m, snap);
    }

    streams_open(&m, snap);
    family(&m, "streams_total", "counter",
           "s2s streams since start by direction (in: accepted, out: started).");
    sample1(&m, "streams_total", "direction", "in", s->streams_in);
    sample1(&m, "streams_total", "direction", "out", s->streams_out);

    family(&m, "tls_handshakes_total", "counter",
           "TLS handshakes on s2s streams by result.");
    sample1(&m, "tls_handshakes_total", "result", "ok", s->tls_ok);
    sample1(&m, "tls_handshakes_total", "result", "failed", s->tls_failed);

    family(&m, "auth_total", "counter",
           "Authentications of the initiating server (both directions) by "
           "method and result.");
    static const char *const methods[RS_AUTH_METHODS] = {"external", "dialback"};
    static const char *const results[RS_AUTH_RESULTS] = {"ok", "failed"};
    for (int i = 0; i < RS_AUTH_METHODS; i++)
        for (int r = 0; r < RS_AUTH_RESULTS; r++)
            put(&m, PREFIX "auth_total{method=\"%s\",result=\"%s\"} %" PRIu64
                "\n", methods[i], results[r], s->auth[i][r]);

    single(&m, "pings_answered_total", "counter", "XMPP pings answered.",
           s->pings);
    single(&m, "echoes_total", "counter",
           "Messages echoed by the echo contacts.", s->echoes);
    single(&m, "echo_commands_total", "counter",
           "Echo contact commands answered (help, report).", s->commands);
    single(&m, "echo_rate_limited_total", "counter",
           "Echo replies suppressed by the per-domain rate limit.",
           s->rate_limited);

    family(&m, "stream_errors_total", "counter",
           "Stream errors by direction (sent: by us, received: from peers).");
    sample1(&m, "stream_errors_total", "direction", "sent", s->stream_errors);
    sample1(&m, "stream_errors_total", "direction", "received",
            s->stream_errors_in);

    single(&m, "connections_refused_total", "counter",
           "Inbound connections refused by the stream limits.", s->refused);

    family(&m, "s2s_bytes_total", "counter",
           "Raw bytes on s2s sockets by direction.");
    sample1(&m, "s2s_bytes_total", "direction", "in", s->bytes_in);
    sample1(&m, "s2s_bytes_total", "direction", "out", s->bytes_out);

    family(&m, "rate_limited_total", "counter",
           "Replies suppressed by the per-remote-domain rate limits "
           "(limits.*_per_minute), by service.");
    for (unsigned i = 0; i < RS_SVC_COUNT; i++)
        sample1(&m, "rate_limited_total", "service", stats_service_name(i),
                s->limited[i]);
    single(&m, "send_cutoffs_total", "counter",
           "Streams closed because the peer left more than "
           "limits.send_buffer_bytes unread for limits.send_stall_timeout.",
           s->send_cutoffs);
    single(&m, "streams_evicted_total", "counter",
           "Unauthenticated inbound server streams closed to make room for "
           "new server streams.", s->evicted);
    single(&m, "accept_failures_total", "counter",
           "Inbound connections that could not be accepted (no memory or no "
           "file descriptors).", s->accept_failures);
    single(&m, "log_lines_suppressed_total", "counter",
           "Log lines dropped by the per-peer limit (limits.log_per_minute).",
           s->log_suppressed);
    family(&m, "input_limit_total", "counter",
           "Streams ended with policy-violation for breaking an input limit "
           "(limits.max_*), by limit.");
    for (unsigned i = 0; i < RS_INPUT_LIMITS; i++)
        sample1(&m, "input_limit_total", "limit", stats_input_limit_name(i),
                s->input_limits[i]);
    single(&m, "probes_started_total", "counter", "Probes started.", s->probes);
    family(&m, "probes_refused_total", "counter",
           "Probes refused by a budget: the target's interval, the "
           "requester's, its network's, its share of the total, the total, "
           "the local operator's.");
    for (unsigned i = PROBE_BUDGET_OK + 1; i < PROBE_BUDGET_LIMITS; i++)
        sample1(&m, "probes_refused_total", "limit", probe_budget_limit_name(i),
                s->probes_limited[i]);
    family(&m, "http_connections_refused_total", "counter",
           "Web connections refused at accept: their address holds "
           "http_connections_per_ip, or nothing could give way.");
    sample1(&m, "http_connections_refused_total", "reason", "per_address",
            s->http_refused[0]);
    sample1(&m, "http_connections_refused_total", "reason", "full",
            s->http_refused[1]);
    family(&m, "http_connections_cut_total", "counter",
           "Web connections cut while their request had not arrived: past "
           "http_header_timeout, or to make room for a new one.");
    sample1(&m, "http_connections_cut_total", "reason", "header_timeout",
            s->http_cut[0]);
    sample1(&m, "http_connections_cut_total", "reason", "room", s->http_cut[1]);
    single(&m, "http_reserved_refused_total", "counter",
           "Requests on a connection of the http_reserved room for another "
           "path than the ACME challenge or the CRLs (answered 503).",
           s->http_reserve_refused);
    single(&m, "outcomes_recorded_total", "counter",
           "Stream outcome records added to the report.", s->outcomes);
    single(&m, "outbound_targets_refused_total", "counter",
           "Outbound addresses skipped: not public and not in outbound.allow.",
           s->targets_refused);
    single(&m, "verify_dials_limited_total", "counter",
           "Dialback verifications refused by verify_dials_per_domain or "
           "verify_dials_total.", s->verify_dials_limited);

    /* the two pools (admission.h) */
    static const char *const pools[2] = {"servers", "clients"};
    family(&m, "pool_streams", "gauge",
           "Streams holding a slot, by pool (servers: inbound s2s and "
           "outbound; clients: c2s).");
    for (int k = 0; k < 2; k++)
        sample1(&m, "pool_streams", "pool", pools[k], snap->pool_streams[k]);
    family(&m, "pool_capacity", "gauge",
           "Slots of each pool: limits.max_streams and max_client_streams, or "
           "the pool's share of the file descriptors when smaller.");
    for (int k = 0; k < 2; k++)
        sample1(&m, "pool_capacity", "pool", pools[k], snap->pool_capacity[k]);
    family(&m, "client_streams_evicted_total", "counter",
           "Client streams closed to make room for a new one in a full client "
           "pool: unbound (the oldest first) or, when none was left, bound "
           "(the longest idle).");
    sample1(&m, "client_streams_evicted_total", "session", "unbound",
            s->client_evicted_unbound);
    sample1(&m, "client_streams_evicted_total", "session", "bound",
            s->client_evicted_bound);
    single(&m, "client_streams_refused_total", "counter",
           "Client streams refused: limits.client_streams_per_ip reached.",
           s->client_refused);

    if (m.failed || buf_append(&m.b, "", 1, 0) < 0) {
        buf_free(&m.b);
        return NULL;
    }
    *len = m.b.len - 1;
    return m.b.data;
}
