/* report_prune.c -- retention of STATE/report.db, by value: what goes when
 * the outcomes are too old, their remote domains beyond the bounds, or the
 * file over report_file_bytes; then the freed pages go back to the file
 * system (incremental vacuum) and the WAL is copied back.
 *
 * It runs on whatever connection it is given: the owner's at start, its own
 * in a worker thread while the daemon runs (report.c), so it never logs:
 * errors come back as text. Over the size bound, rows go in order of value:
 * claims, then address-matched outcomes, then verified history that is not
 * a cell's latest verified outcome, then (only if that was not enough) the
 * oldest of the rest; each oldest first, down to three quarters of the bound
 * so that the next run is a while away. */
#include "report_internal.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>

#define PRUNE_ROUNDS 8        /* passes at most to get under the bound */
#define BUSY_MS 2000          /* a worker waits this long for the lock */

/* Beyond the newest ?2 outcomes of each remote, all go but each cell's
 * latest trusted outcome (what the matrix shows), however old. */
static const char *const by_count =
    "DELETE FROM outcomes WHERE id IN (SELECT id FROM (SELECT id, evidence, "
    "row_number() OVER (PARTITION BY remote ORDER BY time DESC, id DESC) "
    "AS nth, row_number() OVER (PARTITION BY remote, local, leg, "
    "evidence = 'claimed' ORDER BY time DESC, id DESC) AS cell_nth "
    "FROM outcomes) WHERE nth > ?2 AND NOT (cell_nth = 1 AND "
    "evidence != 'claimed'))";

static const char *const by_age = "DELETE FROM outcomes WHERE time < ?1";

/* Trusted remote domains beyond the bound go whole: the address-matched
 * ones first (a domain with any verified outcome ranks above every domain
 * without), least recently seen first within each. */
static const char *const by_peers =
    "DELETE FROM outcomes WHERE remote IN (SELECT remote FROM outcomes "
    "WHERE evidence != 'claimed' GROUP BY remote ORDER BY "
    "max(evidence = 'verified') DESC, max(time) DESC LIMIT -1 OFFSET ?1)";

/* Claimed remote domains beyond theirs lose their claims. */
static const char *const by_claims =
    "DELETE FROM outcomes WHERE evidence = 'claimed' AND remote IN (SELECT "
    "remote FROM outcomes WHERE evidence = 'claimed' GROUP BY remote "
    "ORDER BY max(time) DESC LIMIT -1 OFFSET ?1)";

/* Over the size bound: ?1 rows of one kind, oldest first, in this order. */
static const char *const by_value[] = {
    "DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes WHERE "
    "evidence = 'claimed' ORDER BY time, id LIMIT ?1)",
    "DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes WHERE "
    "evidence = 'address-matched' ORDER BY time, id LIMIT ?1)",
    "DELETE FROM outcomes WHERE id IN (SELECT o.id FROM outcomes o WHERE "
    "o.evidence = 'verified' AND EXISTS (SELECT 1 FROM outcomes p WHERE "
    "p.remote = o.remote AND p.local = o.local AND p.leg = o.leg AND "
    "p.evidence = 'verified' AND (p.time > o.time OR (p.time = o.time AND "
    "p.id > o.id))) ORDER BY o.time, o.id LIMIT ?1)",
    "DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes ORDER BY "
    "time, id LIMIT ?1)",
};

static void report_prune_set_err(char *err, size_t n, const char *path, sqlite3 *db)
{
    if (err && n)
        snprintf(err, n, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
}

/* One number from sql, -1 on an error. */
static long long number(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Rows deleted by sql with ?1 = a, ?2 = b; -1 on an error. */
static long step(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(db) : -1;
}

long long report__prune_used_bytes(sqlite3 *db)
{
    long long pages = number(db, "PRAGMA page_count");
    long long free_pages = number(db, "PRAGMA freelist_count");
    long long size = number(db, "PRAGMA page_size");
    if (pages < 0 || free_pages < 0 || size < 0)
        return -1;
    return (pages - free_pages) * size;
}

/* Over the size bound: rows in order of value until the outcomes take no
 * more than three quarters of it. Rows deleted, or -1. Each pass deletes
 * the share of rows the excess is of the bytes in use; pages that deleted
 * rows leave partly filled count until they empty, hence more passes. */
static long shrink(sqlite3 *db, size_t bound)
{
    if (!bound)
        return 0;
    long long used = report__prune_used_bytes(db);
    if (used < 0)
        return -1;
    if (used <= (long long)bound)
        return 0;
    long long target = (long long)(bound / 4 * 3);
    long total = 0;
    for (int round = 0; round < PRUNE_ROUNDS && used > target; round++) {
        long long rows = number(db, "SELECT count(*) FROM outcomes");
        if (rows <= 0)
            break;
        long excess = (long)((double)rows * (double)(used - target) / (double)used) + 1;
        for (size_t k = 0; k < sizeof by_value / sizeof by_value[0] && excess > 0; k++) {
            long gone = step(db, by_value[k], excess, 0);
            if (gone < 0)
                return -1;
            excess -= gone;
            total += gone;
        }
        if ((used = report__prune_used_bytes(db)) < 0)
            return -1;
    }
    return total;
}

/* What remote servers presented, and their grades, go with their last
 * outcome: a remote domain the outcomes no longer name leaves nothing. */
static int drop_orphans(sqlite3 *db)
{
    return sqlite3_exec(db, "DELETE FROM presented WHERE remote NOT IN "
                        "(SELECT remote FROM outcomes); DELETE FROM grades WHERE "
                        "remote NOT IN (SELECT remote FROM outcomes)", NULL, NULL,
                        NULL) == SQLITE_OK ? 0 : -1;
}

long report__prune_run(sqlite3 *db, const char *path, const report_limits *l,
                       int64_t now, unsigned what, char *err, size_t n)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        report_prune_set_err(err, n, path, db);
        return -1;
    }
    int64_t cutoff = l->max_age ? now - (int64_t)l->max_age : INT64_MIN;
    long shrunk;
    long steps[] = {
        step(db, by_age, cutoff, 0),
        what & REPORT_PRUNE_HISTORY ? step(db, by_count, 0, l->history ? l->history : 1) : 0,
        what & REPORT_PRUNE_DOMAINS ? step(db, by_peers, l->max_peers ? l->max_peers : 1, 0) : 0,
        what & REPORT_PRUNE_DOMAINS ? step(db, by_claims, l->max_claims ? l->max_claims : 1, 0) : 0,
        shrunk = shrink(db, l->file_bytes),
    };
    long total = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i] < 0) {
            report_prune_set_err(err, n, path, db);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        total += steps[i];
    }
    if (total > 0 && drop_orphans(db) < 0) {
        report_prune_set_err(err, n, path, db);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        report_prune_set_err(err, n, path, db);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    /* the free pages back to the file system, after a shrink or when they
     * are a quarter of the file (the rows each write trims leave a few,
     * which the next writes reuse): the file shrinks when the WAL is copied
     * back; a file that predates auto_vacuum keeps them */
    long long free_pages = number(db, "PRAGMA freelist_count");
    if (free_pages > 0 && (shrunk > 0 || free_pages * 4 > number(db, "PRAGMA page_count"))) {
        if (sqlite3_exec(db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
                SQLITE_OK) {
            report_prune_set_err(err, n, path, db);
            return -1;
        }
    }
    return total;
}

long report__prune_path(const char *path, const report_limits *l, int64_t now,
                        unsigned what, char *err, size_t n)
{
    sqlite3 *db = NULL;
    long rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        report_prune_set_err(err, n, path, db);
    else {
        sqlite3_busy_timeout(db, BUSY_MS);
        rc = report__prune_run(db, path, l, now, what, err, n);
    }
    sqlite3_close(db);
    return rc;
}
