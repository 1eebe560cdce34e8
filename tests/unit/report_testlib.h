/* report_testlib.h -- what the report's unit tests share: an outcome to
 * fill in, a scratch directory per test under one temporary directory, and
 * a count read straight from a report.db. Header-only (static inline). */
#ifndef RS_REPORT_TESTLIB_H
#define RS_REPORT_TESTLIB_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "check.h"
#include "report.h"

static char tmpdir[PATH_MAX]; /* this test's directory */

static inline report_outcome outcome(report_leg leg, const char *remote,
                              const char *local, int64_t time)
{
    report_outcome o;
    memset(&o, 0, sizeof o);
    o.leg = leg;
    o.time = time;
    o.evidence = REPORT_EVIDENCE_VERIFIED; /* unless a test says otherwise */
    snprintf(o.remote, sizeof o.remote, "%s", remote);
    snprintf(o.local, sizeof o.local, "%s", local);
    return o;
}

static inline long db_count(const char *dir, const char *sql)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.db", dir);
    sqlite3 *db;
    long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                v = (long)sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return v;
}

/* A fresh directory under tmpdir. */
static inline const char *subdir(const char *name)
{
    static char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    CHECK(mkdir(dir, 0700) == 0);
    return dir;
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static inline bool exists(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* Make the temporary directory; false (printed) when it cannot be made. */
static inline bool report_test_begin(const char *name)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rs-%s.XXXXXX", name);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return false;
    }
    return true;
}

/* Remove it, and give the checks' exit status. */
static inline int report_test_end(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done();
}

#endif
