/* report_internal.h -- what the report's files share: the outcome's fields
 * by name (report_format.c), the database (report_db.c) and the
 * latest-outcome lookup used by the views (report_view.c). */
#ifndef RS_REPORT_INTERNAL_H
#define RS_REPORT_INTERNAL_H

#include "report.h"

/* One text member of an outcome: its JSON key and column name, and where it
 * lives in report_outcome. */
typedef struct report_text_field {
    const char *name;  /* "remote", "tls", ... (JSON key = column name) */
    size_t offset;     /* offsetof(report_outcome, ...) */
    size_t size;       /* the char array's size, NUL included */
} report_text_field;

extern const report_text_field report_text_fields[];
extern const size_t report_n_text_fields;

/* Set o's leg, auth, refused_by, step and evidence from their names (as
 * report_*_name prints them); false when one is not a known name. */
bool report_outcome_set_enums(report_outcome *o, const char *leg,
                              const char *auth, const char *refused_by,
                              const char *step, const char *evidence);

/* The latest outcome of remote on (local, leg), or NULL. */
const report_outcome *report_latest(const rs_report *r, const char *remote,
                                    const char *local, report_leg leg);

/* ---- STATE/report.db (report_db.c) ---------------------------------------- */

typedef struct report_db report_db;

/* Open DIR/report.db. Writable: created when missing, WAL, the schema
 * brought to the current version, report.jsonl(.1) imported once and
 * renamed *.imported. Read-only: the schema must be the current one.
 * NULL with a message in err on failure. */
report_db *report_db_open(const char *dir, const report_limits *limits,
                          bool read_only, char *err, size_t n);
void report_db_close(report_db *db);

/* Every outcome (of remote only, unless NULL) from since on, oldest first,
 * to fn. 0, or -1 after a database error (logged, or in err). */
int report_db_load(report_db *db, const char *remote, int64_t since,
                   void (*fn)(void *arg, const report_outcome *o), void *arg,
                   char *err, size_t n);

/* os[0..n) in one transaction; the records of one stream replace each
 * other; each remote domain written to keeps its newest outcomes only (the
 * history bound, as report_db_prune). 0, or -1 when nothing was written
 * (busy, full disk, I/O: the message in err; the caller keeps the outcomes
 * and retries). */
int report_db_write(report_db *db, const report_outcome *os, size_t n,
                    char *err, size_t errn);

/* From now on the writes leave checkpoints (copying the WAL back into the
 * database, with an fsync or two) to report_db_checkpoint, which the
 * owner runs off the event loop when report_db_wal_pages grows. */
void report_db_defer_checkpoints(report_db *db);
unsigned report_db_wal_pages(const report_db *db);
const char *report_db_path(const report_db *db);

/* A passive checkpoint of the database at path through a connection of its
 * own: safe from another thread while the owner's connection writes. 0, or
 * -1 with the message in err. */
int report_db_checkpoint(const char *path, char *err, size_t n);

/* Retention: outcomes older than the age bound; remote domains beyond the
 * peer and claim bounds; the oldest quarter while the outcomes take more
 * than file_bytes; with every_domain, also the history bound of every
 * remote domain (each cell's latest trusted outcome stays; writes keep it
 * for the domains they touch). Returns the rows deleted, -1 on an error
 * (logged). */
long report_db_prune(report_db *db, int64_t now, bool every_domain);

#endif
