/* report_internal.h -- what the report's files share: the outcome's fields
 * by name (report_format.c), the database (report_db.c) and the
 * latest-outcome lookup used by the views (report_view.c). */
#ifndef RS_REPORT_INTERNAL_H
#define RS_REPORT_INTERNAL_H

#include <uv.h>

#include "report.h"

typedef struct report_db report_db;

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
bool report__outcome_set_enums(report_outcome *o, const char *leg,
                               const char *auth, const char *refused_by,
                               const char *step, const char *evidence);

/* The latest outcome of remote on (local, leg), or NULL. */
const report_outcome *report__latest(const rs_report *r, const char *remote,
                                     const char *local, report_leg leg);

/* ---- the tables in memory, and who gives way (report_retain.c) ------------ */

/* Everything known about one remote domain. */
typedef struct report_peer {
    char name[256];            /* remote domain, lower case */
    int64_t last_seen;         /* time of the newest outcome */
    report_evidence best;      /* the best evidence of its outcomes: its
                                  class (claimed < address-matched < verified) */
    char source[64];           /* the source address (IPv6: prefix) of the
                                  outcome that brought it in, "" if unknown */
    char site[256];            /* its registrable domain (public suffix list) */
    report_outcome *latest;    /* latest outcome per (local, leg), unordered */
    size_t n_latest, cap_latest;
    report_outcome *history;   /* ring of the newest outcomes */
    size_t history_head;       /* index of the next slot to write */
    size_t history_len;        /* slots in use */
    struct report_shown *shown; /* what it presented (report_shown.c), or NULL */
} report_peer;

/* What one remote server presented, and its grades. */
typedef struct report_shown {
    report_presented server;   /* its server side (time 0: not seen) */
    report_presented client;   /* its client side (time 0: not seen) */
    unsigned tls_seen;         /* every TLS version negotiated with it */
    report_grade_entry grades[REPORT_GRADES_KEPT]; /* ring, oldest first from
                                                      grades_head */
    size_t grades_head, n_grades;
    int64_t written;           /* when the database last took it */
    bool dirty;                /* changed since */
} report_shown;

/* Free what p presented (with p). */
void report__shown_free(struct report_shown *s);

/* Attach presented records kept aside for p (it was just admitted). */
void report__shown_adopt(rs_report *r, report_peer *p);

/* Read back presented rows and grades from the database into the peers. */
int report__shown_load(rs_report *r, report_db *db, char *err, size_t n);

/* A bounded set of remote domains. */
typedef struct report_table {
    report_peer **peers;       /* unordered; at most max */
    size_t n;
    unsigned max;              /* remote domains kept */
    unsigned history;          /* outcomes kept per remote domain */
} report_table;

struct psl_ctx_st;

/* What the tables need to decide who gives way. */
typedef struct report_retain {
    report_limits limits;          /* caps per source and registrable domain */
    struct psl_ctx_st *psl;        /* the public suffix list, loaded on first
                                      use (NULL until then, or if it failed) */
    bool psl_tried;                /* loading was tried */
    bool quiet;                    /* no log lines (reading back at start) */
    report_retain_stats stats;     /* what gave way */
} report_retain;

/* An empty table of max domains keeping history outcomes each; -1 without
 * memory. */
int report__table_init(report_table *t, unsigned max, unsigned history);
void report__table_free(report_table *t);

/* The peer called name, or NULL. */
report_peer *report__table_find(const report_table *t, const char *name);

/* The peer o->remote belongs to, made room for when it is new: in a full
 * table, or when o is address-matched and its source address or its
 * registrable domain holds its cap, the least valuable peer gives way
 * (address-matched before verified, least recent first; under a cap, the
 * least recent of that source or domain). A verified peer never gives way
 * to an unverified outcome: then o is not kept (NULL, counted). NULL with
 * *oom set when memory ran out. */
report_peer *report__table_admit(report_table *t, report_retain *ret,
                                 const report_outcome *o, bool *oom);

/* Record o in p: its latest outcome per cell (trusted tables only, with
 * set_latest), its history, its class and last_seen. false without memory. */
bool report__peer_keep(const report_table *t, report_peer *p,
                       const report_outcome *o, bool set_latest);

/* The k-th newest outcome of p's history (k from 1), or NULL. */
const report_outcome *report__peer_nth_newest(const report_table *t,
                                              const report_peer *p, size_t k);

/* Free the public suffix list. */
void report__retain_free(report_retain *ret);

/* ---- the store (report.c) and its writes (report_write.c) ----------------- */



struct rs_report {
    report_limits limits;
    report_table trusted;      /* verified and address-matched outcomes */
    report_table claims;       /* claimed outcomes: shown, never judged */
    report_retain retain;      /* who gives way when a table is full */
    report_db *db;             /* DIR/report.db, NULL = memory only */
    report_outcome *queue;     /* outcomes for the database: those at
                                  q_head..n_queue wait for a write */
    size_t q_head, n_queue, cap_queue;
    bool failing;              /* the last write failed (logged once) */
    int64_t last_prune;        /* when retention last started */
    uint64_t since_prune;      /* outcomes written since */
    uv_timer_t timer;          /* flushes the queue (when timer_on) */
    bool timer_on;             /* attached to a loop, timer initialised */
    uv_loop_t *loop;           /* for work in worker threads */
    uv_work_t checkpoint;      /* the checkpoint running, if any */
    bool checkpointing;        /* checkpoint is queued or running */
    int checkpoint_rc;         /* its result (0 or -1, message below) */
    char checkpoint_err[300];
    uv_work_t prune;           /* retention running, if any */
    bool pruning;              /* prune is queued or running: the worker's
                                  connection writes, the owner's waits */
    unsigned prune_what;       /* what it does (REPORT_PRUNE_*) */
    long prune_rc;             /* rows it deleted, or -1 (message below) */
    char prune_err[300];
    bool prune_failing;        /* the last retention failed (logged once) */
    char *db_path;             /* DIR/report.db, for the workers' connections */
    report_write_stats stats;  /* written, batches, failures, ... */
    report_listener listener;
    void *listener_arg;
    struct report_aside *aside; /* presented records whose remote has no
                                   outcome yet (report_shown.c), a few */
};

/* Queue o for the database (report_write.c). */
void report__enqueue(rs_report *r, const report_outcome *o);

/* ---- STATE/report.db (report_db.c) ---------------------------------------- */

/* Open DIR/report.db. Writable: created when missing, WAL, the schema
 * brought to the current version, report.jsonl(.1) imported once and
 * renamed *.imported. Read-only: the schema must be the current one.
 * NULL with a message in err on failure. */
report_db *report__db_open(const char *dir, const report_limits *limits,
                           bool read_only, char *err, size_t n);
void report__db_close(report_db *db);

/* Every outcome (of remote only, unless NULL) from since on, oldest first,
 * to fn. 0, or -1 after a database error (logged, or in err). */
int report__db_load(report_db *db, const char *remote, int64_t since,
                    void (*fn)(void *arg, const report_outcome *o), void *arg,
                    char *err, size_t n);

/* os[0..n) in one transaction; the records of one stream replace each
 * other; each remote domain written to keeps its newest outcomes only (the
 * history bound, as report__db_prune). 0, or -1 when nothing was written
 * (busy, full disk, I/O: the message in err; the caller keeps the outcomes
 * and retries). */
int report__db_write(report_db *db, const report_outcome *os, size_t n,
                     char *err, size_t errn);

/* From now on the writes leave checkpoints (copying the WAL back into the
 * database, with an fsync or two) to report__db_checkpoint, which the
 * owner runs off the event loop when report__db_wal_pages grows. */
void report__db_defer_checkpoints(report_db *db);
unsigned report__db_wal_pages(const report_db *db);
/* WAL pages that call for a checkpoint: a quarter of report_file_bytes,
 * 16 to 1000 pages. */
unsigned report__db_checkpoint_pages(const report_db *db);
const char *report__db_path(const report_db *db);

/* A passive checkpoint of the database at path through a connection of its
 * own: safe from another thread while the owner's connection writes. 0, or
 * -1 with the message in err. */
int report__db_checkpoint(const char *path, char *err, size_t n);

/* Retention on the owner's connection, as report__prune_run. Rows
 * deleted, or -1 with the message in err. */
long report__db_prune(report_db *db, int64_t now, unsigned what, char *err,
                      size_t n);

/* The owner's connection, for report_shown.c's table (NULL: none). */
struct sqlite3 *report__db_conn(report_db *db);

/* Bytes the outcomes take in the file (pages in use), -1 on an error. */
long long report__db_used_bytes(report_db *db);

/* ---- retention (report_prune.c) ------------------------------------------ */

struct sqlite3;

/* What a retention run does besides the age and size bounds. */
#define REPORT_PRUNE_HISTORY 1u  /* the history bound of every remote domain
                                    (writes keep it for those they touch) */
#define REPORT_PRUNE_DOMAINS 2u  /* remote domains beyond max_peers and
                                    max_claims (a scan of every row) */

/* Retention of the database at path through conn, in one transaction:
 * outcomes older than the age bound; with REPORT_PRUNE_HISTORY, the
 * history bound of every remote domain (each cell's latest trusted outcome
 * stays); with REPORT_PRUNE_DOMAINS, trusted remote domains beyond
 * max_peers (address-matched ones before any with a verified outcome) and
 * claimed ones beyond max_claims, least recently seen first; then, while
 * the outcomes take more than file_bytes, rows by value (claims, then
 * address-matched, then verified history beyond each cell's latest, then
 * the oldest of the rest) down to three quarters of it. Then the freed
 * pages go back to the file system (incremental vacuum) and the WAL is
 * checkpointed. Never logs. Rows deleted, or -1 with the message in err. */
long report__prune_run(struct sqlite3 *conn, const char *path,
                       const report_limits *limits, int64_t now, unsigned what,
                       char *err, size_t n);

/* The same through a connection of its own: safe in a worker thread while
 * the owner's connection stays idle. */
long report__prune_path(const char *path, const report_limits *limits,
                        int64_t now, unsigned what, char *err, size_t n);

/* Bytes the outcomes take through conn: pages in use, free pages not
 * counted. -1 on an error. */
long long report__prune_used_bytes(struct sqlite3 *conn);

#endif
