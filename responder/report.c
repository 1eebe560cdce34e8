/* report.c -- the outcome store: per remote domain the latest outcome per
 * (test domain, leg) and a bounded history, kept in memory for the pages,
 * and queued for STATE/report.db (report_db.c), written in batches from a
 * timer so that the event loop never waits for the disk for long.
 * Rendering (cells, explanations, JSON, text) is in report_view.c. */
#include "report.h"
#include "report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#include "log.h"

/* Everything known about one remote domain. */
typedef struct report_peer {
    char name[256];            /* remote domain, lower case */
    int64_t last_seen;         /* time of the newest outcome */
    report_outcome *latest;    /* latest outcome per (local, leg), unordered */
    size_t n_latest, cap_latest;
    report_outcome *history;   /* ring of the newest outcomes */
    size_t history_head;       /* index of the next slot to write */
    size_t history_len;        /* slots in use */
} report_peer;

/* A bounded set of remote domains; the least recently seen goes first. */
typedef struct peer_table {
    report_peer **peers;       /* unordered; at most max */
    size_t n;
    unsigned max;              /* remote domains kept */
    unsigned history;          /* outcomes kept per remote domain */
} peer_table;

struct rs_report {
    report_limits limits;
    peer_table trusted;        /* verified and address-matched outcomes */
    peer_table claims;         /* claimed outcomes: shown, never judged */
    report_db *db;             /* DIR/report.db, NULL = memory only */
    report_outcome *queue;     /* outcomes waiting for the next write */
    size_t n_queue, cap_queue;
    bool failing;              /* the last write failed (logged once) */
    int64_t last_prune;        /* when retention last ran */
    uv_timer_t timer;          /* flushes the queue (when timer_on) */
    bool timer_on;             /* attached to a loop, timer initialised */
    uv_loop_t *loop;           /* for checkpoints in a worker thread */
    uv_work_t checkpoint;      /* the checkpoint running, if any */
    bool checkpointing;        /* checkpoint is queued or running */
    int checkpoint_rc;         /* its result (0 or -1, message below) */
    char checkpoint_err[300];
    char *db_path;             /* DIR/report.db, for the worker's connection */
    report_write_stats stats;  /* written, batches, failures, ... */
    report_listener listener;
    void *listener_arg;
};

#define CLAIM_HISTORY 8        /* claims kept per claimed domain at most */

static void on_flush_timer(uv_timer_t *t);
static void maybe_checkpoint(rs_report *r);

/* ---- peers ------------------------------------------------------------- */

static report_peer *find_peer(const peer_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->peers[i]->name, name) == 0)
            return t->peers[i];
    return NULL;
}

static void peer_free(report_peer *p)
{
    if (!p)
        return;
    free(p->latest);
    free(p->history);
    free(p);
}

/* The peer called name, created (evicting the least recent one when full).
 * NULL on allocation failure. */
static report_peer *get_peer(peer_table *t, const char *name)
{
    report_peer *p = find_peer(t, name);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (p)
        p->history = calloc(t->history, sizeof *p->history);
    if (!p || !p->history) {
        peer_free(p);
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    if (t->n >= t->max) {
        size_t oldest = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->peers[i]->last_seen < t->peers[oldest]->last_seen)
                oldest = i;
        peer_free(t->peers[oldest]);
        t->peers[oldest] = p;
        return p;
    }
    t->peers[t->n++] = p;
    return p;
}

static int table_init(peer_table *t, unsigned max, unsigned history)
{
    t->max = max ? max : 1;
    t->history = history ? history : 1;
    t->peers = calloc(t->max, sizeof *t->peers);
    return t->peers ? 0 : -1;
}

static void table_free(peer_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        peer_free(t->peers[i]);
    free(t->peers);
}

/* Replace or add the latest outcome for (o->local, o->leg). */
static bool set_latest(report_peer *p, const report_outcome *o)
{
    for (size_t i = 0; i < p->n_latest; i++) {
        report_outcome *l = &p->latest[i];
        if (l->leg == o->leg && strcasecmp(l->local, o->local) == 0) {
            if (l->time <= o->time || l->stream == o->stream)
                *l = *o;
            return true;
        }
    }
    if (p->n_latest == p->cap_latest) {
        size_t cap = p->cap_latest ? p->cap_latest * 2 : 8;
        report_outcome *n = realloc(p->latest, cap * sizeof *n);
        if (!n)
            return false;
        p->latest = n;
        p->cap_latest = cap;
    }
    p->latest[p->n_latest++] = *o;
    return true;
}

/* A stream reports when it gets going and when it ends: the second record
 * replaces the first in the history. */
static void add_history(const peer_table *t, report_peer *p,
                        const report_outcome *o)
{
    size_t cap = t->history;
    for (size_t k = 1; o->stream && k <= p->history_len; k++) {
        report_outcome *h = &p->history[(p->history_head + cap - k) % cap];
        if (h->stream == o->stream && h->leg == o->leg) {
            *h = *o;
            return;
        }
    }
    p->history[p->history_head] = *o;
    p->history_head = (p->history_head + 1) % cap;
    if (p->history_len < cap)
        p->history_len++;
}

/* ---- the database ----------------------------------------------------- */

/* Wait this long after an outcome before writing, so that a burst goes in
 * one transaction; and this long after a failed write before retrying. */
#define FLUSH_DELAY_MS 200
#define RETRY_DELAY_MS 1000
#define CHECKPOINT_PAGES 1000 /* a WAL this long is copied back (off the loop) */
#define PRUNE_SECONDS 3600    /* retention over the whole database (the
                                 history bound is kept by every write) */
#define BATCH 64              /* this many waiting: write now, not later */
#define QUEUE_MAX 2048        /* outcomes waiting; beyond, new ones are not
                                 written (memory still has them) */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void schedule(rs_report *r, uint64_t delay)
{
    if (r->timer_on && (!uv_is_active((uv_handle_t *)&r->timer) || delay == 0))
        uv_timer_start(&r->timer, on_flush_timer, delay, 0);
}

/* Queue o for the next write: a batch is written on the next loop turn, a
 * smaller one shortly after. A full queue is written at once (a crowd of
 * streams closing in one loop turn); while the database fails it takes no
 * more. */
static void enqueue(rs_report *r, const report_outcome *o)
{
    if (!r->db)
        return;
    if (r->n_queue == QUEUE_MAX && !r->failing)
        report_flush(r);
    if (r->n_queue == QUEUE_MAX) {
        if (!r->stats.dropped++)
            log_msg(RS_LOG_ERROR, "report: %d outcomes wait for the database; "
                    "newer ones are kept in memory only", QUEUE_MAX);
        return;
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
    schedule(r, r->n_queue == BATCH && !r->failing ? 0 : FLUSH_DELAY_MS);
}

int report_flush(rs_report *r)
{
    if (!r->db)
        return -1;
    double start = now_ms();
    int rc = 0;
    if (r->n_queue) {
        char err[512];
        if (report_db_write(r->db, r->queue, r->n_queue, err, sizeof err) < 0) {
            r->stats.failures++;
            if (!r->failing) /* once per failure, not per retry */
                log_msg(RS_LOG_ERROR, "report: cannot write: %s; %zu outcome(s) "
                        "kept in memory, retrying", err, r->n_queue);
            r->failing = true;
            rc = -1;
        } else {
            if (r->failing)
                log_msg(RS_LOG_INFO, "report: writing again: %zu outcome(s) "
                        "stored", r->n_queue);
            r->failing = false;
            r->stats.written += r->n_queue;
            r->stats.batches++;
            r->n_queue = 0;
            if (r->cap_queue > 4 * BATCH) { /* a crowd's queue goes with it */
                free(r->queue);
                r->queue = NULL;
                r->cap_queue = 0;
            }
            maybe_checkpoint(r);
        }
    }
    int64_t now = (int64_t)time(NULL);
    if (rc == 0 && now - r->last_prune >= PRUNE_SECONDS) {
        r->last_prune = now;
        report_db_prune(r->db, now, false);
    }
    double took = now_ms() - start;
    if (took > r->stats.longest_ms)
        r->stats.longest_ms = took;
    return rc;
}

/* In a worker thread: nothing of r but the path and the result. */
static void checkpoint_work(uv_work_t *w)
{
    rs_report *r = w->data;
    r->checkpoint_rc = report_db_checkpoint(r->db_path, r->checkpoint_err,
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
        report_db_wal_pages(r->db) < CHECKPOINT_PAGES)
        return;
    r->checkpoint.data = r;
    if (uv_queue_work(r->loop, &r->checkpoint, checkpoint_work, checkpoint_done) == 0)
        r->checkpointing = true;
}

static void on_flush_timer(uv_timer_t *t)
{
    rs_report *r = t->data;
    if (report_flush(r) < 0 && r->n_queue)
        schedule(r, RETRY_DELAY_MS);
}

void report_attach_loop(rs_report *r, struct uv_loop_s *loop)
{
    if (!r || r->timer_on || uv_timer_init(loop, &r->timer) != 0)
        return;
    r->timer.data = r;
    r->timer_on = true;
    r->loop = loop;
    if (r->db && (r->db_path = strdup(report_db_path(r->db))) != NULL)
        report_db_defer_checkpoints(r->db);
    if (r->n_queue)
        schedule(r, FLUSH_DELAY_MS);
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h; /* the timer lives in rs_report, freed by report_free */
}

void report_detach_loop(rs_report *r)
{
    if (!r || !r->timer_on)
        return;
    r->timer_on = false;
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

void report_write_stats_get(const rs_report *r, report_write_stats *s)
{
    *s = r->stats;
    s->open = r->db != NULL;
    s->queued = r->n_queue;
}

/* Keep o in memory: trusted outcomes update the peer's latest outcomes and
 * history; claimed ones go to the claims' history. */
static bool keep(rs_report *r, const report_outcome *o)
{
    bool trusted = o->evidence != REPORT_EVIDENCE_CLAIMED;
    peer_table *t = trusted ? &r->trusted : &r->claims;
    report_peer *p = get_peer(t, o->remote);
    if (!p || (trusted && !set_latest(p, o))) {
        log_msg(RS_LOG_ERROR, "report: out of memory; outcome for %s dropped",
               o->remote);
        return false;
    }
    add_history(t, p, o);
    if (o->time > p->last_seen)
        p->last_seen = o->time;
    return true;
}

static void keep_loaded(void *arg, const report_outcome *o)
{
    keep(arg, o);
}

/* ---- API --------------------------------------------------------------- */

/* A store with its tables, without a database. */
static rs_report *report_new(const report_limits *limits)
{
    rs_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->limits = *limits;
    unsigned claim_history = limits->history < CLAIM_HISTORY ? limits->history
                                                             : CLAIM_HISTORY;
    if (table_init(&r->trusted, limits->max_peers, limits->history) < 0 ||
        table_init(&r->claims, limits->max_claims, claim_history) < 0) {
        report_free(r);
        return NULL;
    }
    return r;
}

rs_report *report_open(const char *dir, const report_limits *limits)
{
    rs_report *r = report_new(limits);
    if (!r || !dir)
        return r;
    char err[512];
    r->db = report_db_open(dir, limits, false, err, sizeof err);
    if (!r->db) {
        log_msg(RS_LOG_ERROR, "report: %s; outcomes are kept in memory only and "
                "will not survive a restart", err);
        return r;
    }
    r->last_prune = (int64_t)time(NULL);
    report_db_prune(r->db, r->last_prune, true);
    if (report_db_load(r->db, NULL, 0, keep_loaded, r, err, sizeof err) < 0)
        log_msg(RS_LOG_ERROR, "report: reading back: %s", err);
    size_t peers = report_peers(r, NULL, NULL, 0);
    log_msg(RS_LOG_INFO, "report: %s/report.db: %zu remote domain(s) read back",
            dir, peers);
    return r;
}

rs_report *report_open_reader(const char *dir, const report_limits *limits,
                              const char *remote, int64_t since, char *err,
                              size_t n)
{
    rs_report *r = report_new(limits);
    if (!r) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    report_db *db = report_db_open(dir, limits, true, err, n);
    if (!db || report_db_load(db, remote, since, keep_loaded, r, err, n) < 0) {
        report_db_close(db);
        report_free(r);
        return NULL;
    }
    report_db_close(db);
    return r;
}

void report_free(rs_report *r)
{
    if (!r)
        return;
    if (r->db && r->n_queue && report_flush(r) < 0)
        log_msg(RS_LOG_ERROR, "report: %zu outcome(s) lost at exit", r->n_queue);
    report_db_close(r->db); /* the last connection: checkpoints what is left */
    free(r->db_path);
    table_free(&r->trusted);
    table_free(&r->claims);
    free(r->queue);
    free(r);
}

void report_add(rs_report *r, const report_outcome *o)
{
    if (!r || !o->remote[0] || !o->local[0])
        return;
    if (!keep(r, o))
        return;
    enqueue(r, o);
    if (r->listener)
        r->listener(r->listener_arg, o);
}

void report_set_listener(rs_report *r, report_listener fn, void *arg)
{
    r->listener = fn;
    r->listener_arg = arg;
}

static int peer_recent_first(const void *a, const void *b)
{
    const report_peer *x = *(report_peer *const *)a;
    const report_peer *y = *(report_peer *const *)b;
    if (x->last_seen != y->last_seen)
        return x->last_seen > y->last_seen ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t report_peers(const rs_report *r, const char **names, int64_t *last_seen,
                    size_t max)
{
    const peer_table *t = &r->trusted;
    if (t->n > 0) /* qsort wants a non-NULL base */
        qsort(t->peers, t->n, sizeof *t->peers, peer_recent_first);
    for (size_t i = 0; i < t->n && i < max; i++) {
        if (names)
            names[i] = t->peers[i]->name;
        if (last_seen)
            last_seen[i] = t->peers[i]->last_seen;
    }
    return t->n;
}

bool report_has_peer(const rs_report *r, const char *remote)
{
    return find_peer(&r->trusted, remote) || find_peer(&r->claims, remote);
}

bool report_has_trusted(const rs_report *r, const char *remote)
{
    return find_peer(&r->trusted, remote) != NULL;
}

const report_outcome *report_latest(const rs_report *r, const char *remote,
                                    const char *local, report_leg leg)
{
    const report_peer *p = find_peer(&r->trusted, remote);
    for (size_t i = 0; p && i < p->n_latest; i++)
        if (p->latest[i].leg == leg && strcasecmp(p->latest[i].local, local) == 0)
            return &p->latest[i];
    return NULL;
}

/* The k-th newest outcome of p's history (k from 1), or NULL. */
static const report_outcome *nth_newest(const peer_table *t,
                                        const report_peer *p, size_t k)
{
    if (!p || k > p->history_len)
        return NULL;
    return &p->history[(p->history_head + t->history - k) % t->history];
}

size_t report_history(const rs_report *r, const char *remote,
                      const report_outcome **out, size_t max)
{
    const report_peer *tp = find_peer(&r->trusted, remote);
    const report_peer *cp = find_peer(&r->claims, remote);
    size_t n = 0, ti = 1, ci = 1;
    while (n < max) { /* merge the two rings, newest first */
        const report_outcome *a = nth_newest(&r->trusted, tp, ti);
        const report_outcome *b = nth_newest(&r->claims, cp, ci);
        if (!a && !b)
            break;
        if (a && (!b || a->time >= b->time)) {
            out[n++] = a;
            ti++;
        } else {
            out[n++] = b;
            ci++;
        }
    }
    return n;
}
