/* report_bench.c -- the report's database under load: outcomes added from a
 * libuv loop as fast as a timer can add them, written by the store's own
 * batching (report.h), and how long the loop was held up.
 *
 * Prints outcomes written per second, the transactions, the longest flush
 * (write + retention) and the longest loop turn (from the end of one poll
 * to the start of the next: everything the loop did in between, adding
 * outcomes included), then the time a start takes to read the database
 * back. Never judges the times: the machine decides them. Exits 1 only when
 * outcomes were lost or a write failed.
 *
 * Usage: report_bench [--quick] [OUTCOMES]   (default 100000; --quick 5000) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "report.h"

#define PER_TICK 100        /* outcomes added per timer tick (every 1 ms) */
#define REMOTES 200         /* remote domains the outcomes name (all kept) */
#define LOCALS 34           /* test domains */

typedef struct bench {
    uv_loop_t loop;
    uv_timer_t producer;    /* adds PER_TICK outcomes a tick */
    uv_prepare_t before_poll;
    uv_check_t after_poll;
    rs_report *report;
    unsigned long total;    /* outcomes to add */
    unsigned long added;
    uint64_t poll_end;      /* uv_hrtime at the end of the last poll, 0 none */
    uint64_t longest_turn;  /* ns */
    uint64_t t0, t_added, t_written; /* ns */
} bench;

static void fill(report_outcome *o, unsigned long i)
{
    memset(o, 0, sizeof *o);
    o->time = (int64_t)time(NULL);
    o->stream = 1000000ull * 1700000000ull + i / 2 + 1; /* two records each */
    o->leg = (i / 2) % 2 ? REPORT_LEG_OUT : REPORT_LEG_IN;
    snprintf(o->remote, sizeof o->remote, "server%lu.example", (i / 2) % REMOTES);
    snprintf(o->local, sizeof o->local, "label%lu.responder.example",
             (i / 2 / REMOTES) % LOCALS);
    snprintf(o->profile, sizeof o->profile, "label%lu", (i / 2 / REMOTES) % LOCALS);
    snprintf(o->address, sizeof o->address, "192.0.2.%lu:5269", i % 250);
    snprintf(o->tls, sizeof o->tls, "TLS1.3 AES-256-GCM");
    snprintf(o->presented, sizeof o->presented, "%s", o->local);
    o->evidence = i % 7 ? REPORT_EVIDENCE_VERIFIED : REPORT_EVIDENCE_CLAIMED;
    if (i % 2 == 0) { /* the stream gets going */
        snprintf(o->close, sizeof o->close, "open");
        return;
    }
    o->auth = i % 3 ? REPORT_AUTH_OK : REPORT_AUTH_FAILED;
    o->refused_by = o->auth == REPORT_AUTH_OK ? REPORT_BY_NONE : REPORT_BY_PEER;
    o->step = o->auth == REPORT_AUTH_OK ? REPORT_STEP_STANZAS : REPORT_STEP_AUTH;
    snprintf(o->auth_used, sizeof o->auth_used, "EXTERNAL");
    snprintf(o->stanza, sizeof o->stanza, "answered ping");
    o->stanzas = 1;
    snprintf(o->close, sizeof o->close, "peer closed the stream");
}

static void on_produce(uv_timer_t *t)
{
    bench *b = t->data;
    for (int k = 0; k < PER_TICK && b->added < b->total; k++, b->added++) {
        report_outcome o;
        fill(&o, b->added);
        report_add(b->report, &o);
    }
    if (b->added == b->total && !b->t_added)
        b->t_added = uv_hrtime();
    report_write_stats s;
    report_write_stats_get(b->report, &s);
    if (b->added == b->total && s.queued == 0) { /* all written: stop */
        b->t_written = uv_hrtime();
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
        uv_close((uv_handle_t *)&b->before_poll, NULL);
        uv_close((uv_handle_t *)&b->after_poll, NULL);
        report_detach_loop(b->report);
    }
}

static void on_before_poll(uv_prepare_t *p)
{
    bench *b = p->data;
    uint64_t now = uv_hrtime();
    if (b->poll_end && now - b->poll_end > b->longest_turn)
        b->longest_turn = now - b->poll_end;
}

static void on_after_poll(uv_check_t *c)
{
    bench *b = c->data;
    b->poll_end = uv_hrtime();
}

static long long file_size(const char *dir, const char *name)
{
    char path[PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    b.total = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            b.total = 5000;
        else if ((b.total = strtoul(argv[i], NULL, 10)) == 0) {
            fprintf(stderr, "usage: report_bench [--quick] [OUTCOMES]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/rs-report-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    report_limits lim = {.max_peers = 256, .max_claims = 64, .history = 32,
                         .file_bytes = 64 << 20, .max_age = 365 * 86400ull};
    if (uv_loop_init(&b.loop) != 0 || !(b.report = report_open(dir, &lim))) {
        fprintf(stderr, "report_bench: cannot start\n");
        return 1;
    }
    report_attach_loop(b.report, &b.loop);
    uv_timer_init(&b.loop, &b.producer);
    uv_prepare_init(&b.loop, &b.before_poll);
    uv_check_init(&b.loop, &b.after_poll);
    b.producer.data = b.before_poll.data = b.after_poll.data = &b;
    uv_prepare_start(&b.before_poll, on_before_poll);
    uv_check_start(&b.after_poll, on_after_poll);
    uv_timer_start(&b.producer, on_produce, 0, 1);
    b.t0 = uv_hrtime();
    uv_run(&b.loop, UV_RUN_DEFAULT);

    report_write_stats s;
    report_write_stats_get(b.report, &s);
    report_free(b.report);
    uv_loop_close(&b.loop);
    double secs = (double)(b.t_written - b.t0) / 1e9;
    printf("report_bench: %lu outcomes (%lu streams, %d remote domains) in %.2f s\n",
           b.total, (b.total + 1) / 2, REMOTES, secs);
    printf("  outcomes written per second: %.0f\n", secs > 0 ? (double)s.written / secs : 0);
    printf("  transactions: %llu (%.1f outcomes each), failures: %llu, dropped: %llu\n",
           (unsigned long long)s.batches,
           s.batches ? (double)s.written / (double)s.batches : 0.0,
           (unsigned long long)s.failures, (unsigned long long)s.dropped);
    printf("  longest flush (write + retention): %.2f ms\n", s.longest_ms);
    printf("  longest loop turn (adding %d outcomes included): %.2f ms\n", PER_TICK,
           (double)b.longest_turn / 1e6);
    printf("  report.db: %lld bytes, WAL: %lld bytes\n", file_size(dir, "report.db"),
           file_size(dir, "report.db-wal"));

    /* a start: retention, then everything read back */
    uint64_t t = uv_hrtime();
    rs_report *again = report_open(dir, &lim);
    double start_ms = (double)(uv_hrtime() - t) / 1e6;
    size_t peers = again ? report_peers(again, NULL, NULL, 0) : 0;
    report_free(again);
    printf("  a start reads it back in %.1f ms (%zu remote domains)\n", start_ms, peers);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "report_bench: could not remove %s\n", dir);
    bool lost = s.written != b.total || s.failures || s.dropped ||
                peers != REMOTES;
    if (lost)
        fprintf(stderr, "report_bench: outcomes lost (written %llu of %lu, %zu remote "
                "domains read back)\n", (unsigned long long)s.written, b.total, peers);
    return lost ? 1 : 0;
}
