/* report_db.c -- the report's store of record: STATE/report.db, SQLite in
 * WAL mode (readers such as `xmpp-responder report` and sqlite3 never block
 * the daemon's writes). The schema is versioned with PRAGMA user_version and
 * brought up to date at start; the README documents it for operators.
 *
 * One row per stream and leg (the record written when a stream gets going
 * is replaced by the one written when it ends; `started` keeps the time of
 * the first, `time` is the last's; the row keeps its id, so reading by id
 * gives the history in the order the store kept it in memory). Enums are stored by their
 * printable names so that queries read like the pages. */
#include "report_internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "utf8.h"

#define DB_FILE "report.db"
#define OLD_FILE "report.jsonl"
#define IMPORT_LINE_MAX 8192  /* longer lines in an old file are not ours */
#define WAL_PAGES_MIN 16      /* checkpoint a WAL of this many pages at least */
#define WAL_PAGES_MAX 1000    /* and at most (SQLite's own default) */

/* Each step brings the schema from version i to i + 1. (The CHECKs are
 * written with OR: an IN list would make SQLite build a temporary b-tree
 * for every row written.) */
static const char *const migrations[] = {
    /* 0 -> 1: outcomes, indexed by stream (replacement), remote domain and
     * time */
    "CREATE TABLE outcomes (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  time INTEGER NOT NULL,\n"
    "  started INTEGER NOT NULL,\n"
    "  stream INTEGER NOT NULL DEFAULT 0,\n"
    "  leg TEXT NOT NULL CHECK (leg = 'in' OR leg = 'out'),\n"
    "  remote TEXT NOT NULL,\n"
    "  local TEXT NOT NULL,\n"
    "  profile TEXT NOT NULL DEFAULT '',\n"
    "  address TEXT NOT NULL DEFAULT '',\n"
    "  tls TEXT NOT NULL DEFAULT '',\n"
    "  presented TEXT NOT NULL DEFAULT '',\n"
    "  alert TEXT NOT NULL DEFAULT '',\n"
    "  peer_cert TEXT NOT NULL DEFAULT '',\n"
    "  auth_offered TEXT NOT NULL DEFAULT '',\n"
    "  auth_used TEXT NOT NULL DEFAULT '',\n"
    "  auth_error TEXT NOT NULL DEFAULT '',\n"
    "  stanza TEXT NOT NULL DEFAULT '',\n"
    "  error_in TEXT NOT NULL DEFAULT '',\n"
    "  close TEXT NOT NULL DEFAULT '',\n"
    "  auth TEXT NOT NULL\n"
    "    CHECK (auth = 'none' OR auth = 'ok' OR auth = 'failed'),\n"
    "  refused_by TEXT NOT NULL CHECK (refused_by = 'none' OR\n"
    "    refused_by = 'peer' OR refused_by = 'us' OR refused_by = 'network'),\n"
    "  step TEXT NOT NULL CHECK (step = '' OR step = 'connect' OR\n"
    "    step = 'stream' OR step = 'tls' OR step = 'features' OR\n"
    "    step = 'auth' OR step = 'stanzas'),\n"
    "  stanzas INTEGER NOT NULL DEFAULT 0,\n"
    "  evidence TEXT NOT NULL CHECK (evidence = 'claimed' OR\n"
    "    evidence = 'address-matched' OR evidence = 'verified')\n"
    ");\n"
    "CREATE UNIQUE INDEX outcomes_by_stream ON outcomes (stream, leg)\n"
    "  WHERE stream != 0;\n"
    "CREATE INDEX outcomes_by_remote ON outcomes (remote, time);\n"
    "CREATE INDEX outcomes_by_time ON outcomes (time);\n",
    /* 1 -> 2: what each remote server presented (its server side, dialled
     * by us; its client side, authenticated to us) and its grades */
    "CREATE TABLE presented (\n"
    "  remote TEXT NOT NULL,\n"
    "  side TEXT NOT NULL CHECK (side = 'server' OR side = 'client'),\n"
    "  time INTEGER NOT NULL,\n"
    "  present INTEGER NOT NULL DEFAULT 0,\n"
    "  chain TEXT NOT NULL DEFAULT '',\n"
    "  chain_problem TEXT NOT NULL DEFAULT '',\n"
    "  chain_len INTEGER NOT NULL DEFAULT 0,\n"
    "  name_ok INTEGER NOT NULL DEFAULT 0,\n"
    "  name_how TEXT NOT NULL DEFAULT '',\n"
    "  names TEXT NOT NULL DEFAULT '',\n"
    "  issuer TEXT NOT NULL DEFAULT '',\n"
    "  not_before INTEGER NOT NULL DEFAULT 0,\n"
    "  not_after INTEGER NOT NULL DEFAULT 0,\n"
    "  key TEXT NOT NULL DEFAULT '',\n"
    "  key_weak INTEGER NOT NULL DEFAULT 0,\n"
    "  signature TEXT NOT NULL DEFAULT '',\n"
    "  signature_weak INTEGER NOT NULL DEFAULT 0,\n"
    "  eku TEXT NOT NULL DEFAULT '',\n"
    "  tls TEXT NOT NULL DEFAULT '',\n"
    "  tls_seen TEXT NOT NULL DEFAULT '',\n"
    "  tls_required TEXT NOT NULL DEFAULT '',\n"
    "  sasl_external TEXT NOT NULL DEFAULT '',\n"
    "  dialback TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (remote, side)\n"
    ");\n"
    "CREATE TABLE grades (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  remote TEXT NOT NULL,\n"
    "  time INTEGER NOT NULL,\n"
    "  grade TEXT NOT NULL,\n"
    "  partial INTEGER NOT NULL DEFAULT 1\n"
    ");\n"
    "CREATE INDEX grades_by_remote ON grades (remote, time);\n",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

struct report_db {
    sqlite3 *db;             /* the connection */
    char *path;              /* DIR/report.db */
    char *dir;               /* DIR, for the old files */
    report_limits limits;    /* retention bounds */
    sqlite3_stmt *insert;    /* the upsert of one outcome */
    sqlite3_stmt *trim;      /* the history bound of one remote domain */
    unsigned wal_pages;      /* pages in the WAL after the last commit */
    unsigned checkpoint_pages; /* a WAL this long is copied back */
};

/* The history bound of one remote domain ?1: beyond its newest ?2
 * outcomes, all go but each cell's latest trusted outcome (what the matrix
 * shows), however old. Cheap when it has no more than ?2 rows: the (remote,
 * time) index gives the rows beyond the newest ?2, and a row goes if it is a
 * claim or a newer trusted outcome of its cell exists. */
#define TRIM_ONE_SQL                                                           \
    "DELETE FROM outcomes WHERE id IN (SELECT o.id FROM (SELECT id, local, "    \
    "leg, time, evidence FROM outcomes WHERE remote = ?1 ORDER BY time DESC, " \
    "id DESC LIMIT -1 OFFSET ?2) AS o WHERE o.evidence = 'claimed' OR EXISTS " \
    "(SELECT 1 FROM outcomes p WHERE p.remote = ?1 AND p.local = o.local AND " \
    "p.leg = o.leg AND p.evidence != 'claimed' AND (p.time > o.time OR "       \
    "(p.time = o.time AND p.id > o.id))))"

static void report_db_set_err(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_db_set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* Run sql (no results); -1 with the message in err. */
static int exec(report_db *d, const char *sql, char *err, size_t n)
{
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    report_db_set_err(err, n, "%s: %s", d->path, msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return -1;
}

/* The text written to b (an open_memstream of text), or NULL when writing
 * it failed (memory). */
static char *text_done(FILE *b, char **text)
{
    bool failed = ferror(b) != 0;
    if (fclose(b) != 0 || failed) { /* fclose sets *text */
        free(*text);
        return NULL;
    }
    return *text;
}

/* The outcome's columns in the order of the insert's parameters:
 * time, stream, the text fields, then leg auth refused_by step stanzas
 * evidence. malloc'd "a, b, ..." (with prefix before each name), NULL
 * without memory. */
static char *column_list(const char *prefix, bool assign)
{
    static const char *const head[] = {"time", "stream"};
    static const char *const tail[] = {"leg", "auth", "refused_by", "step",
                                       "stanzas", "evidence"};
    char *text = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&text, &len);
    if (!b)
        return NULL;
    size_t total = 2 + report_n_text_fields + 6;
    for (size_t i = 0; i < total; i++) {
        const char *name = i < 2 ? head[i]
                         : i < 2 + report_n_text_fields
                             ? report_text_fields[i - 2].name
                             : tail[i - 2 - report_n_text_fields];
        if (assign) /* "name = excluded.name" */
            fprintf(b, "%s%s = excluded.%s", i ? ", " : "", name, name);
        else
            fprintf(b, "%s%s%s", i ? ", " : "", prefix, name);
    }
    return text_done(b, &text);
}

/* ---- opening ------------------------------------------------------------- */

static int user_version(report_db *d, int *v, char *err, size_t n)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
        return -1;
    }
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

/* Bring the schema to SCHEMA_VERSION in one transaction. */
static int migrate(report_db *d, char *err, size_t n)
{
    int v;
    if (exec(d, "BEGIN IMMEDIATE", err, n) < 0)
        return -1;
    if (user_version(d, &v, err, n) < 0)
        goto fail;
    if (v > SCHEMA_VERSION) {
        report_db_set_err(err, n, "%s has schema version %d, newer than this "
                          "xmpp-responder's %d", d->path, v, SCHEMA_VERSION);
        goto fail;
    }
    for (; v < SCHEMA_VERSION; v++) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (exec(d, migrations[v], err, n) < 0 || exec(d, pragma, err, n) < 0)
            goto fail;
        log_msg(RS_LOG_INFO, "report: %s schema now at version %d", d->path, v + 1);
    }
    return exec(d, "COMMIT", err, n);
fail:
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int prepare_insert(report_db *d, char *err, size_t n)
{
    char *cols = column_list("", false), *params = column_list(":", false);
    char *update = column_list("", true);
    char *sql = NULL;
    if (cols && params && update &&
        asprintf(&sql, "INSERT INTO outcomes (started, %s) VALUES (:time, %s) ON CONFLICT "
                 "(stream, leg) WHERE stream != 0 DO UPDATE SET %s",
                 cols, params, update) < 0)
        sql = NULL;
    int rc = sql ? sqlite3_prepare_v2(d->db, sql, -1, &d->insert, NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->db, TRIM_ONE_SQL, -1, &d->trim, NULL);
    free(cols);
    free(params);
    free(update);
    free(sql);
    if (rc != SQLITE_OK) {
        report_db_set_err(err, n, "%s: preparing the insert: %s", d->path,
                          rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

/* ---- importing report.jsonl ---------------------------------------------- */

/* The lines of path into the temporary table import_lines; the count of
 * lines skipped before SQL sees them (too long, not UTF-8) in *skipped. */
static int read_lines(report_db *d, const char *path, unsigned *skipped,
                      char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        report_db_set_err(err, n, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "INSERT INTO import_lines (line) VALUES (?)",
                           -1, &st, NULL) != SQLITE_OK) {
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
        fclose(f);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || len > IMPORT_LINE_MAX || !utf8_valid(line, (size_t)len)) {
            *skipped += len > 0;
            continue;
        }
        sqlite3_bind_text(st, 1, line, (int)len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
            rc = -1;
            break;
        }
        sqlite3_reset(st);
    }
    if (rc == 0 && ferror(f)) {
        report_db_set_err(err, n, "reading %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    sqlite3_finalize(st);
    fclose(f);
    return rc;
}

/* The lines that make an outcome, with SQLite's JSON functions: lines
 * written before outcomes carried their evidence count as verified when we
 * dialled or they authenticated, else as claims (what the old reader did). */
static char *import_view_sql(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&text, &len);
    if (!b)
        return NULL;
    fprintf(b, "CREATE TEMP VIEW import_rows AS SELECT * FROM (SELECT n, "
               "json_extract(line, '$.time') AS time, "
               "coalesce(json_extract(line, '$.stream'), 0) AS stream");
    for (size_t i = 0; i < report_n_text_fields; i++)
        fprintf(b, ", CAST(coalesce(json_extract(line, '$.%s'), '') AS TEXT) AS %s",
                   report_text_fields[i].name, report_text_fields[i].name);
    fprintf(b, ", json_extract(line, '$.leg') AS leg, "
               "coalesce(json_extract(line, '$.auth'), 'none') AS auth, "
               "coalesce(json_extract(line, '$.refused_by'), 'none') AS refused_by, "
               "coalesce(json_extract(line, '$.step'), '') AS step, "
               "coalesce(json_extract(line, '$.stanzas'), 0) AS stanzas, "
               "coalesce(json_extract(line, '$.evidence'), "
               "  CASE WHEN json_extract(line, '$.leg') = 'out' OR "
               "    json_extract(line, '$.auth') = 'ok' THEN 'verified' "
               "  ELSE 'claimed' END) AS evidence "
               "FROM import_lines WHERE json_valid(line) AND "
               "json_type(line) = 'object') "
               "WHERE typeof(time) = 'integer' AND typeof(stream) = 'integer' "
               "AND stream >= 0 AND remote != '' AND local != '' "
               "AND leg IN ('in', 'out') AND auth IN ('none', 'ok', 'failed') "
               "AND refused_by IN ('none', 'peer', 'us', 'network') "
               "AND step IN ('', 'connect', 'stream', 'tls', 'features', 'auth', "
               "'stanzas') AND typeof(stanzas) = 'integer' AND stanzas >= 0 "
               "AND evidence IN ('claimed', 'address-matched', 'verified')");
    return text_done(b, &text);
}

static long count_rows(report_db *d, const char *sql)
{
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Import report.jsonl.1 then report.jsonl (whichever exist) in one
 * transaction, then rename them *.imported so that they are read once. */
static int import_old(report_db *d, char *err, size_t n)
{
    char *paths[2] = {NULL, NULL};
    bool any = false;
    if (asprintf(&paths[0], "%s/" OLD_FILE ".1", d->dir) < 0)
        paths[0] = NULL;
    if (asprintf(&paths[1], "%s/" OLD_FILE, d->dir) < 0)
        paths[1] = NULL;
    if (!paths[0] || !paths[1]) {
        free(paths[0]);
        free(paths[1]);
        report_db_set_err(err, n, "out of memory");
        return -1;
    }
    struct stat st;
    bool exists[2];
    for (int i = 0; i < 2; i++)
        any |= exists[i] = stat(paths[i], &st) == 0;
    int rc = 0;
    char *view = NULL, *cols = NULL, *update = NULL, *sql = NULL;
    if (!any)
        goto done;
    rc = -1;
    unsigned skipped = 0;
    view = import_view_sql();
    cols = column_list("", false);
    update = column_list("", true);
    if (!view || !cols || !update ||
        asprintf(&sql, "INSERT INTO outcomes (started, %s) SELECT time, %s FROM import_rows "
                 "WHERE true ORDER BY n ON CONFLICT (stream, leg) WHERE stream "
                 "!= 0 DO UPDATE SET %s", cols, cols, update) < 0) {
        sql = NULL;
        report_db_set_err(err, n, "out of memory");
        goto done;
    }
    if (exec(d, "BEGIN IMMEDIATE", err, n) < 0)
        goto done;
    if (exec(d, "CREATE TEMP TABLE import_lines (n INTEGER PRIMARY KEY, line TEXT)",
             err, n) < 0 || exec(d, view, err, n) < 0)
        goto rollback;
    for (int i = 0; i < 2; i++)
        if (exists[i] && read_lines(d, paths[i], &skipped, err, n) < 0)
            goto rollback;
    long lines = count_rows(d, "SELECT count(*) FROM import_lines");
    long good = count_rows(d, "SELECT count(*) FROM import_rows");
    if (exec(d, sql, err, n) < 0 ||
        exec(d, "DROP VIEW import_rows; DROP TABLE import_lines", err, n) < 0 ||
        exec(d, "COMMIT", err, n) < 0)
        goto rollback;
    log_msg(RS_LOG_INFO, "report: imported %ld outcome(s) from %s(.1) into %s",
            good, OLD_FILE, d->path);
    if (good < lines || skipped)
        log_msg(RS_LOG_WARN, "report: %ld line(s) of %s(.1) skipped: not outcomes",
                lines - good + (long)skipped, OLD_FILE);
    rc = 0;
    for (int i = 0; i < 2; i++) {
        char done_path[4200];
        snprintf(done_path, sizeof done_path, "%s.imported", paths[i]);
        if (exists[i] && rename(paths[i], done_path) != 0)
            log_msg(RS_LOG_ERROR, "report: cannot rename %s to %s: %s (it will "
                    "be imported again; its streams replace themselves)",
                    paths[i], done_path, strerror(errno));
    }
    goto done;
rollback:
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_exec(d->db, "DROP VIEW IF EXISTS import_rows; "
                 "DROP TABLE IF EXISTS import_lines", NULL, NULL, NULL);
done:
    free(view);
    free(cols);
    free(update);
    free(sql);
    free(paths[0]);
    free(paths[1]);
    return rc;
}

/* A file made before auto_vacuum was set keeps its freed pages: one VACUUM
 * (a rewrite of the file, once, before the daemon serves) switches it. */
static void use_incremental_vacuum(report_db *d)
{
    if (count_rows(d, "PRAGMA auto_vacuum") != 0) /* 2: incremental already */
        return;
    char err[512];
    if (exec(d, "PRAGMA auto_vacuum = INCREMENTAL", err, sizeof err) < 0 ||
        exec(d, "VACUUM", err, sizeof err) < 0)
        log_msg(RS_LOG_WARN, "report: %s keeps the pages retention frees (cannot "
                "switch to incremental vacuum: %s); it does not grow for them",
                d->path, err);
    else
        log_msg(RS_LOG_INFO, "report: %s now gives the pages retention frees "
                "back (auto_vacuum = incremental, one VACUUM)", d->path);
}

/* The WAL grows between checkpoints: keep it to a quarter of the file's
 * bound (at most SQLite's usual 1000 pages), and its file truncated to that
 * after each, so that report.db and its WAL take about 1.25 times
 * report_file_bytes at most. */
static int bound_wal(report_db *d, char *err, size_t n)
{
    long page = count_rows(d, "PRAGMA page_size");
    if (page <= 0)
        page = 4096;
    size_t pages = d->limits.file_bytes ? d->limits.file_bytes / 4 / (size_t)page
                                        : WAL_PAGES_MAX;
    d->checkpoint_pages = pages < WAL_PAGES_MIN   ? WAL_PAGES_MIN
                          : pages > WAL_PAGES_MAX ? WAL_PAGES_MAX
                                                  : (unsigned)pages;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA journal_size_limit = %ld",
             (long)d->checkpoint_pages * page);
    return exec(d, pragma, err, n);
}

report_db *report__db_open(const char *dir, const report_limits *limits,
                           bool read_only, char *err, size_t n)
{
    report_db *d = calloc(1, sizeof *d);
    if (d && asprintf(&d->path, "%s/" DB_FILE, dir) < 0)
        d->path = NULL; /* undefined after a failure */
    if (d && d->path)
        d->dir = strdup(dir);
    if (!d || !d->dir) {
        report__db_close(d);
        report_db_set_err(err, n, "out of memory");
        return NULL;
    }
    d->limits = *limits;
    int flags = read_only ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(d->path, &d->db, flags, NULL);
    if (rc != SQLITE_OK) {
        report_db_set_err(err, n, "cannot open %s: %s", d->path,
                          d->db ? sqlite3_errmsg(d->db) : "out of memory");
        report__db_close(d);
        return NULL;
    }
    sqlite3_extended_result_codes(d->db, 1);
    /* the daemon never waits for a lock: a busy database is retried on the
     * next flush; a reader waits a little for a checkpoint */
    sqlite3_busy_timeout(d->db, read_only ? 2000 : 0);
    int v;
    if (read_only) {
        if (user_version(d, &v, err, n) < 0)
            goto fail;
        if (v != SCHEMA_VERSION) {
            report_db_set_err(err, n, "%s has schema version %d, this xmpp-responder reads "
                              "version %d%s", d->path, v, SCHEMA_VERSION,
                              v < SCHEMA_VERSION ? " (the daemon migrates it at start)" : "");
            goto fail;
        }
        return d;
    }
    /* auto_vacuum: retention gives freed pages back to the file system (a
     * new file only: an older one is switched below); WAL: readers never
     * block the writer; NORMAL: a commit does not wait for the disk (a
     * crash may lose the last commits, never the file); a 512 KiB page
     * cache, not SQLite's 2 MiB: writes append and the queries read one
     * remote's recent rows (it showed in the daemon's memory as a crowd's
     * first thousands of streams were recorded) */
    if (exec(d, "PRAGMA auto_vacuum = INCREMENTAL", err, n) < 0 ||
        exec(d, "PRAGMA journal_mode = WAL", err, n) < 0 ||
        exec(d, "PRAGMA synchronous = NORMAL", err, n) < 0 ||
        exec(d, "PRAGMA cache_size = -512", err, n) < 0 ||
        migrate(d, err, n) < 0)
        goto fail;
    use_incremental_vacuum(d);
    if (bound_wal(d, err, n) < 0 || prepare_insert(d, err, n) < 0)
        goto fail;
    char ierr[512] = "";
    if (import_old(d, ierr, sizeof ierr) < 0)
        log_msg(RS_LOG_ERROR, "report: importing %s/%s: %s", dir, OLD_FILE, ierr);
    return d;
fail:
    report__db_close(d);
    return NULL;
}

/* After each commit: how big the WAL has grown. */
static int report_on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((report_db *)arg)->wal_pages = pages > 0 ? (unsigned)pages : 0;
    return SQLITE_OK;
}

void report__db_defer_checkpoints(report_db *d)
{
    sqlite3_wal_hook(d->db, report_on_wal_commit, d); /* replaces the automatic one */
}

unsigned report__db_wal_pages(const report_db *d)
{
    return d->wal_pages;
}

unsigned report__db_checkpoint_pages(const report_db *d)
{
    return d->checkpoint_pages;
}

const char *report__db_path(const report_db *d)
{
    return d->path;
}

int report__db_checkpoint(const char *path, char *err, size_t n)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    /* a connection that has read nothing has not opened the WAL yet: its
     * checkpoint copies nothing and says so only by a frame count of -1 */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA user_version", NULL, NULL, NULL);
    int frames = -1, copied = -1;
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                       &copied);
    if (rc == SQLITE_OK && frames < 0) {
        report_db_set_err(err, n, "checkpoint of %s: the WAL was not open", path);
        sqlite3_close(db);
        return -1;
    }
    if (rc != SQLITE_OK)
        report_db_set_err(err, n, "checkpoint of %s: %s", path,
                          db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

struct sqlite3 *report__db_conn(report_db *d)
{
    return d ? d->db : NULL;
}

void report__db_close(report_db *d)
{
    if (!d)
        return;
    sqlite3_finalize(d->insert);
    sqlite3_finalize(d->trim);
    sqlite3_close(d->db);
    free(d->path);
    free(d->dir);
    free(d);
}

/* ---- reading --------------------------------------------------------------- */

/* Column text into a field of size bytes, cut at a character boundary. */
static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    const char *s = src ? (const char *)src : "";
    size_t len = utf8_cut(s, size - 1);
    memcpy(dst, s, len);
    dst[len] = '\0';
}

int report__db_load(report_db *d, const char *remote, int64_t since,
                    void (*fn)(void *arg, const report_outcome *o), void *arg,
                    char *err, size_t n)
{
    char *cols = column_list("", false), *sql = NULL;
    if (!cols || asprintf(&sql, "SELECT %s FROM outcomes WHERE (?1 IS NULL OR "
                          "remote = ?1) AND time >= ?2 ORDER BY id", cols) < 0) {
        free(cols);
        report_db_set_err(err, n, "out of memory");
        return -1;
    }
    free(cols);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
        return -1;
    }
    if (remote)
        sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    unsigned bad = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        report_outcome o;
        memset(&o, 0, sizeof o);
        o.time = sqlite3_column_int64(st, 0);
        o.stream = (uint64_t)sqlite3_column_int64(st, 1);
        int c = 2;
        for (size_t i = 0; i < report_n_text_fields; i++, c++)
            copy_text((char *)&o + report_text_fields[i].offset,
                      report_text_fields[i].size, sqlite3_column_text(st, c));
        const char *leg = (const char *)sqlite3_column_text(st, c);
        const char *auth = (const char *)sqlite3_column_text(st, c + 1);
        const char *by = (const char *)sqlite3_column_text(st, c + 2);
        const char *step = (const char *)sqlite3_column_text(st, c + 3);
        sqlite3_int64 stanzas = sqlite3_column_int64(st, c + 4);
        const char *evidence = (const char *)sqlite3_column_text(st, c + 5);
        o.stanzas = stanzas < 0 ? 0 : stanzas > 0xffffffffLL ? 0xffffffffu
                                                            : (unsigned)stanzas;
        if (!report__outcome_set_enums(&o, leg, auth, by, step, evidence) ||
            !o.remote[0] || !o.local[0]) {
            bad++; /* an operator's hand edit the CHECKs let through */
            continue;
        }
        fn(arg, &o);
    }
    if (rc != SQLITE_DONE)
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
    sqlite3_finalize(st);
    if (bad)
        log_msg(RS_LOG_WARN, "report: %u row(s) of %s skipped: not outcomes", bad,
                d->path);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- writing --------------------------------------------------------------- */

static void bind_outcome(sqlite3_stmt *st, const report_outcome *o)
{
    int c = 1;
    sqlite3_bind_int64(st, c++, o->time);
    sqlite3_bind_int64(st, c++, (sqlite3_int64)o->stream);
    for (size_t i = 0; i < report_n_text_fields; i++)
        sqlite3_bind_text(st, c++, (const char *)o + report_text_fields[i].offset,
                          -1, SQLITE_STATIC);
    sqlite3_bind_text(st, c++, report_leg_name(o->leg), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, c++, report_auth_name(o->auth), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, c++, report_refusal_name(o->refused_by), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, c++, report_step_name(o->step), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, c++, o->stanzas);
    sqlite3_bind_text(st, c, report_evidence_name(o->evidence), -1, SQLITE_STATIC);
}

/* The history bound of each remote domain in os[0..count), once each:
 * through the (remote, time) index, a few rows per domain. */
static int trim_written(report_db *d, const report_outcome *os, size_t count,
                        char *err, size_t n)
{
    for (size_t i = 0; i < count; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(os[k].remote, os[i].remote) == 0;
        if (seen)
            continue;
        sqlite3_bind_text(d->trim, 1, os[i].remote, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d->trim, 2, d->limits.history ? d->limits.history : 1);
        int rc = sqlite3_step(d->trim);
        sqlite3_reset(d->trim);
        if (rc != SQLITE_DONE) {
            report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
            return -1;
        }
    }
    return 0;
}

int report__db_write(report_db *d, const report_outcome *os, size_t count,
                     char *err, size_t n)
{
    if (exec(d, "BEGIN IMMEDIATE", err, n) < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        bind_outcome(d->insert, &os[i]);
        int rc = sqlite3_step(d->insert);
        sqlite3_reset(d->insert);
        sqlite3_clear_bindings(d->insert);
        if (rc == SQLITE_DONE)
            continue;
        if ((rc & 0xff) == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_TOOBIG) {
            /* this row can never go in: skip it rather than block the rest */
            log_msg(RS_LOG_ERROR, "report: outcome for %s not stored: %s",
                    os[i].remote, sqlite3_errstr(rc));
            continue;
        }
        report_db_set_err(err, n, "%s: %s", d->path, sqlite3_errmsg(d->db));
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (trim_written(d, os, count, err, n) < 0) {
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (exec(d, "COMMIT", err, n) < 0) {
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---- retention (report_prune.c) ------------------------------------------- */

long report__db_prune(report_db *d, int64_t now, unsigned what, char *err,
                      size_t n)
{
    return report__prune_run(d->db, d->path, &d->limits, now, what, err, n);
}

long long report__db_used_bytes(report_db *d)
{
    return report__prune_used_bytes(d->db);
}
