/* report.c -- the outcome store: per remote domain the latest outcome per
 * (test domain, leg) and a bounded history, kept in memory for the pages
 * (who gives way when a table is full: report_retain.c), and queued for
 * STATE/report.db (report_write.c, report_db.c), read back at start.
 * Rendering (cells, explanations, JSON, text) is in report_view.c. */
#include "report.h"
#include "report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>

#include "log.h"

#define CLAIM_HISTORY 8        /* claims kept per claimed domain at most */

void report_retain_stats_get(const rs_report *r, report_retain_stats *s)
{
    *s = r->retain.stats;
}

/* Keep o in memory: trusted outcomes update the peer's latest outcomes and
 * history; claimed ones go to the claims' history. false when it was not
 * kept (no room that it may take, or no memory). */
static bool keep(rs_report *r, const report_outcome *o)
{
    bool trusted = o->evidence != REPORT_EVIDENCE_CLAIMED;
    report_table *t = trusted ? &r->trusted : &r->claims;
    bool oom;
    report_peer *p = report__table_admit(t, &r->retain, o, &oom);
    if (p && report__peer_keep(t, p, o, trusted)) {
        if (trusted && r->aside)
            report__shown_adopt(r, p); /* what it presented came first */
        return true;
    }
    if (p || oom)
        log_msg(RS_LOG_ERROR, "report: out of memory; outcome for %s dropped",
                o->remote);
    return false;
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
    r->retain.limits = *limits;
    if (report__table_init(&r->trusted, limits->max_peers, limits->history) < 0 ||
        report__table_init(&r->claims, limits->max_claims, claim_history) < 0) {
        report_free(r);
        return NULL;
    }
    return r;
}

/* The file and its WAL may take 1.25 times the bound: say so at start when
 * the file system has less room than that (a full disk stops the writes
 * until someone frees space). */
static void warn_if_no_room(const char *dir, size_t bound, long long used)
{
    struct statvfs fs;
    if (!bound || statvfs(dir, &fs) != 0)
        return;
    unsigned long long room = (unsigned long long)fs.f_bavail * fs.f_frsize +
                              (used > 0 ? (unsigned long long)used : 0);
    if ((unsigned long long)bound + bound / 4 > room)
        log_msg(RS_LOG_WARN, "report: %s has %llu KiB for report.db, less than "
                "limits.report_file_bytes (%zu KiB) and its WAL may take; lower "
                "it, or the disk may fill before the bound holds", dir, room / 1024,
                bound / 1024);
}

rs_report *report_open(const char *dir, const report_limits *limits)
{
    rs_report *r = report_new(limits);
    if (!r || !dir)
        return r;
    char err[512];
    r->db = report__db_open(dir, limits, false, err, sizeof err);
    if (!r->db) {
        log_msg(RS_LOG_ERROR, "report: %s; outcomes are kept in memory only and "
                "will not survive a restart", err);
        return r;
    }
    r->last_prune = (int64_t)time(NULL);
    long pruned = report__db_prune(r->db, r->last_prune,
                                   REPORT_PRUNE_HISTORY | REPORT_PRUNE_DOMAINS, err,
                                   sizeof err);
    if (pruned < 0)
        log_msg(RS_LOG_ERROR, "report: retention: %s", err);
    else if (pruned > 0)
        log_msg(RS_LOG_INFO, "report: retention removed %ld outcome(s) from %s/report.db",
                pruned, dir);
    r->stats.bytes = report__db_used_bytes(r->db);
    warn_if_no_room(dir, limits->file_bytes, r->stats.bytes);
    r->retain.quiet = true; /* what gives way here was logged when it came */
    if (report__db_load(r->db, NULL, 0, keep_loaded, r, err, sizeof err) < 0 ||
        report__shown_load(r, r->db, err, sizeof err) < 0)
        log_msg(RS_LOG_ERROR, "report: reading back: %s", err);
    r->retain.quiet = false;
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
    r->retain.quiet = true;
    report_db *db = report__db_open(dir, limits, true, err, n);
    if (!db || report__db_load(db, remote, since, keep_loaded, r, err, n) < 0 ||
        report__shown_load(r, db, err, n) < 0) {
        report__db_close(db);
        report_free(r);
        return NULL;
    }
    report__db_close(db);
    return r;
}

void report_free(rs_report *r)
{
    if (!r)
        return;
    if (r->db && r->n_queue > r->q_head && report_flush(r) < 0)
        log_msg(RS_LOG_ERROR, "report: %zu outcome(s) lost at exit",
                r->n_queue - r->q_head);
    report__db_close(r->db); /* the last connection: checkpoints what is left */
    free(r->db_path);
    report__table_free(&r->trusted);
    report__table_free(&r->claims);
    report__retain_free(&r->retain);
    free(r->queue);
    free(r->aside);
    free(r);
}

void report_add(rs_report *r, const report_outcome *o)
{
    if (!r || !o->remote[0] || !o->local[0])
        return;
    if (keep(r, o)) /* an outcome memory has no room for is not stored */
        report__enqueue(r, o);
    if (r->listener) /* a probe hears it either way */
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
    const report_table *t = &r->trusted;
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
    return report__table_find(&r->trusted, remote) ||
           report__table_find(&r->claims, remote);
}

bool report_has_trusted(const rs_report *r, const char *remote)
{
    return report__table_find(&r->trusted, remote) != NULL;
}

const report_outcome *report__latest(const rs_report *r, const char *remote,
                                     const char *local, report_leg leg)
{
    const report_peer *p = report__table_find(&r->trusted, remote);
    for (size_t i = 0; p && i < p->n_latest; i++)
        if (p->latest[i].leg == leg && strcasecmp(p->latest[i].local, local) == 0)
            return &p->latest[i];
    return NULL;
}

size_t report_history(const rs_report *r, const char *remote,
                      const report_outcome **out, size_t max)
{
    const report_peer *tp = report__table_find(&r->trusted, remote);
    const report_peer *cp = report__table_find(&r->claims, remote);
    size_t n = 0, ti = 1, ci = 1;
    while (n < max) { /* merge the two rings, newest first */
        const report_outcome *a = report__peer_nth_newest(&r->trusted, tp, ti);
        const report_outcome *b = report__peer_nth_newest(&r->claims, cp, ci);
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
