/* report_write.c -- the outcomes' way to STATE/report.db: queued, written in
 * batches from a timer so that the event loop never waits for the disk for
 * long; checkpoints and retention (report_prune.c) in worker threads, each
 * with a connection of its own.
 *
 * Retention runs whenever a write leaves the file over report_file_bytes
 * (checked after each), hourly, and while writes fail every
 * FAILING_PRUNE_SECONDS: on a full disk it is what may give back the room
 * the writes need, so the retry path never skips it.
 * While it runs the owner's connection does not write (it would find the
 * database locked); the queue waits and is written when it is done. */
#include "report_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Wait this long after an outcome before writing, so that a burst goes in
 * one transaction; and this long after a failed write before retrying. */
#define FLUSH_DELAY_MS 200
#define RETRY_DELAY_MS 1000
#define PRUNE_SECONDS 3600    /* the bounds on remote domains this often */
#define FAILING_PRUNE_SECONDS 10 /* while writes fail, retention this often */
#define BATCH 64              /* this many waiting: write now, not later */
#define TURN_MAX 128          /* outcomes the timer writes in one loop turn;
                                 more (a crowd, a retention run) wait for the
                                 next turns */
#define QUEUE_MAX 2048        /* outcomes waiting; beyond, new ones are not
                                 written (memory still has them) */

static void report_on_flush_timer(uv_timer_t *t);
static void maybe_checkpoint(rs_report *r);
static void maybe_prune(rs_report *r, bool failed);

static double report_write_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report_write_schedule(rs_report *r, uint64_t delay)
{
    if (r->timer_on && (!uv_is_active((uv_handle_t *)&r->timer) || delay == 0))
        uv_timer_start(&r->timer, report_on_flush_timer, delay, 0);
}

/* Outcomes waiting: queue[head..n_queue). */
static size_t waiting(const rs_report *r)
{
    return r->n_queue - r->q_head;
}

/* A batch is written on the next loop turn, a smaller one shortly after. A
 * full queue is written at once (a crowd of streams closing in one loop
 * turn); while the database fails it takes no more. */
void report__enqueue(rs_report *r, const report_outcome *o)
{
    if (!r->db)
        return;
    if (waiting(r) == QUEUE_MAX && !r->failing)
        report_flush(r);
    if (waiting(r) == QUEUE_MAX) {
        if (!r->stats.dropped++)
            log_msg(RS_LOG_ERROR, "report: %d outcomes wait for the database; "
                    "newer ones are kept in memory only", QUEUE_MAX);
        return;
    }
    if (r->n_queue == r->cap_queue && r->q_head > 0) { /* room at the front */
        memmove(r->queue, r->queue + r->q_head, waiting(r) * sizeof *r->queue);
        r->n_queue -= r->q_head;
        r->q_head = 0;
    }
    if (r->n_queue == r->cap_queue) {
        size_t cap = r->cap_queue ? r->cap_queue * 2 : 16;
        report_outcome *q = realloc(r->queue, cap * sizeof *q);
        if (!q) {
            r->stats.dropped++;
            log_msg(RS_LOG_ERROR, "report: out of memory; outcome for %s kept in "
                    "memory only", o->remote);
            return;
        }
        r->queue = q;
        r->cap_queue = cap;
    }
    r->queue[r->n_queue++] = *o;
    report_write_schedule(r, waiting(r) == BATCH && !r->failing ? 0 : FLUSH_DELAY_MS);
}

/* Write up to max waiting outcomes in one transaction: 0, or -1 (logged
 * once per failure, not per retry). */
static int write_queue(rs_report *r, size_t max)
{
    char err[512];
    size_t n = waiting(r) < max ? waiting(r) : max;
    if (report__db_write(r->db, r->queue + r->q_head, n, err, sizeof err) < 0) {
        r->stats.failures++;
        if (!r->failing)
            log_msg(RS_LOG_ERROR, "report: cannot write: %s; %zu outcome(s) kept "
                    "in memory, retrying every %d s", err, waiting(r),
                    RETRY_DELAY_MS / 1000);
        r->failing = true;
        return -1;
    }
    if (r->failing)
        log_msg(RS_LOG_INFO, "report: writing again: %zu outcome(s) stored", n);
    r->failing = false;
    r->stats.written += n;
    r->since_prune += n;
    r->stats.batches++;
    r->q_head += n;
    if (r->q_head == r->n_queue) {
        r->q_head = r->n_queue = 0;
        if (r->cap_queue > 4 * BATCH) { /* a crowd's queue goes with it */
            free(r->queue);
            r->queue = NULL;
            r->cap_queue = 0;
        }
    }
    maybe_checkpoint(r);
    return 0;
}

/* Write up to max outcomes, then retention if it is due. */
static int flush_some(rs_report *r, size_t max)
{
    if (!r->db)
        return -1;
    if (r->pruning) /* the worker has the database; it flushes when done */
        return 0;
    double start = report_write_now_ms();
    int rc = waiting(r) ? write_queue(r, max) : 0;
    double took = report_write_now_ms() - start;
    if (took > r->stats.longest_ms)
        r->stats.longest_ms = took;
    maybe_prune(r, rc < 0);
    return rc;
}

int report_flush(rs_report *r)
{
    return flush_some(r, SIZE_MAX);
}

/* ---- checkpoints --------------------------------------------------------- */

/* In a worker thread: nothing of r but the path and the result. */
static void checkpoint_work(uv_work_t *w)
{
    rs_report *r = w->data;
    r->checkpoint_rc = report__db_checkpoint(r->db_path, r->checkpoint_err,
                                             sizeof r->checkpoint_err);
}

static void checkpoint_done(uv_work_t *w, int status)
{
    rs_report *r = w->data;
    r->checkpointing = false;
    if (status == 0 && r->checkpoint_rc < 0)
        log_msg(RS_LOG_WARN, "report: %s", r->checkpoint_err);
}

/* The WAL has grown: copy it back into the database in a worker thread
 * (the fsyncs of a checkpoint would hold the loop for tens of ms). */
static void maybe_checkpoint(rs_report *r)
{
    if (!r->timer_on || r->checkpointing || !r->db_path ||
        report__db_wal_pages(r->db) < report__db_checkpoint_pages(r->db))
        return;
    r->checkpoint.data = r;
    if (uv_queue_work(r->loop, &r->checkpoint, checkpoint_work, checkpoint_done) == 0)
        r->checkpointing = true;
}

/* ---- retention ------------------------------------------------------------ */

/* What a retention run did: counted, and a failure logged once until one
 * succeeds again. */
static void prune_result(rs_report *r, long rc, const char *err)
{
    if (rc < 0) {
        if (!r->prune_failing && !r->failing)
            log_msg(RS_LOG_ERROR, "report: retention: %s", err);
        r->prune_failing = true;
        return;
    }
    r->prune_failing = false;
    r->stats.prunes++;
    r->stats.pruned += (uint64_t)rc;
    r->stats.bytes = report__db_used_bytes(r->db);
}

/* In a worker thread, through its own connection. */
static void prune_work(uv_work_t *w)
{
    rs_report *r = w->data;
    r->prune_rc = report__prune_path(r->db_path, &r->limits, r->last_prune,
                                     r->prune_what, r->prune_err,
                                     sizeof r->prune_err);
}

static void prune_done(uv_work_t *w, int status)
{
    rs_report *r = w->data;
    r->pruning = false;
    if (status == 0)
        prune_result(r, r->prune_rc, r->prune_err);
    if (waiting(r))
        report_write_schedule(r, 0);
}

/* Whether retention is due, and if so run it: in a worker while attached
 * to a loop, else here (tests, tools). The size bound is checked after
 * every write (two PRAGMAs); over it, a run that only removes rows by value.
 * The bounds on remote domains scan every row: hourly, and every
 * FAILING_PRUNE_SECONDS while writes fail. */
static void maybe_prune(rs_report *r, bool failed)
{
    int64_t now = (int64_t)time(NULL);
    bool full, over = false;
    if (failed) {
        full = now - r->last_prune >= FAILING_PRUNE_SECONDS;
    } else {
        long long used = report__db_used_bytes(r->db);
        r->stats.bytes = used;
        full = now - r->last_prune >= PRUNE_SECONDS;
        over = r->limits.file_bytes && used > (long long)r->limits.file_bytes &&
               r->since_prune > 0;
    }
    if (!full && !over)
        return;
    r->since_prune = 0;
    if (full)
        r->last_prune = now;
    r->prune_what = full ? REPORT_PRUNE_DOMAINS : 0;
    if (r->timer_on && r->db_path) {
        r->prune.data = r;
        if (uv_queue_work(r->loop, &r->prune, prune_work, prune_done) == 0)
            r->pruning = true;
        return;
    }
    char err[512];
    prune_result(r, report__db_prune(r->db, now, r->prune_what, err, sizeof err), err);
}

/* ---- the loop --------------------------------------------------------------- */

static void report_on_flush_timer(uv_timer_t *t)
{
    rs_report *r = t->data;
    if (flush_some(r, TURN_MAX) < 0)
        report_write_schedule(r, RETRY_DELAY_MS);
    else if (waiting(r) && !r->pruning)
        report_write_schedule(r, 0); /* the rest on the next loop turn */
}

void report_attach_loop(rs_report *r, struct uv_loop_s *loop)
{
    if (!r || r->timer_on || uv_timer_init(loop, &r->timer) != 0)
        return;
    r->timer.data = r;
    r->timer_on = true;
    r->loop = loop;
    if (r->db && (r->db_path = strdup(report__db_path(r->db))) != NULL)
        report__db_defer_checkpoints(r->db);
    if (waiting(r))
        report_write_schedule(r, FLUSH_DELAY_MS);
}

static void report_on_timer_closed(uv_handle_t *h)
{
    (void)h; /* the timer lives in rs_report, freed by report_free */
}

void report_detach_loop(rs_report *r)
{
    if (!r || !r->timer_on)
        return;
    r->timer_on = false;
    uv_close((uv_handle_t *)&r->timer, report_on_timer_closed);
}

void report_write_stats_get(const rs_report *r, report_write_stats *s)
{
    *s = r->stats;
    s->open = r->db != NULL;
    s->failing = r->failing;
    s->queued = waiting(r);
}
