/* report.h -- what happened between each remote server and each test
 * domain, and what it means. Every stream leaves an outcome per leg; the
 * store keeps per remote domain the latest outcome per (test domain, leg)
 * and a bounded history, in memory and in STATE/report.db, read back at
 * start; report_matrix() derives a verdict and an explanation per test
 * domain against the catalog. Storage and retention: README.md. */
#ifndef RS_REPORT_H
#define RS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "config.h"
#include "grade.h"
#include "json.h"
#include "peercert.h"

/* Which side opened the stream. */
typedef enum {
    REPORT_LEG_IN,  /* the peer dialled our test domain (we present first) */
    REPORT_LEG_OUT  /* our test domain dialled the peer (we authenticate) */
} report_leg;

/* Result of the authentication on the stream. */
typedef enum {
    REPORT_AUTH_NONE,   /* not attempted (or not reached) */
    REPORT_AUTH_OK,     /* the initiating side got authenticated */
    REPORT_AUTH_FAILED  /* refused: auth_error says how */
} report_auth;

/* Who ended the stream before it was authenticated, if anyone. */
typedef enum {
    REPORT_BY_NONE,    /* nobody refused (authenticated, idle close, shutdown) */
    REPORT_BY_PEER,    /* the peer refused: alert, stream error, auth failure
                          answered by them, or hung up before authenticating */
    REPORT_BY_US,      /* we refused the peer (its certificate or its auth) */
    REPORT_BY_NETWORK  /* DNS, connect or timeout: nobody decided anything */
} report_refusal;

/* Where in the stream an unauthenticated stream ended: the step at which
 * whoever refused refused. */
typedef enum {
    REPORT_STEP_NONE,     /* not recorded (older records) */
    REPORT_STEP_CONNECT,  /* DNS and TCP connect (our dials) */
    REPORT_STEP_STREAM,   /* the stream header: to, from, namespace */
    REPORT_STEP_TLS,      /* the TLS handshake, certificates included */
    REPORT_STEP_FEATURES, /* stream features: STARTTLS, choosing a method */
    REPORT_STEP_AUTH,     /* SASL EXTERNAL or dialback */
    REPORT_STEP_STANZAS   /* authenticated: stanzas flow */
} report_step;

/* How sure we are that an outcome came from the remote domain it names. A
 * stream's 'from' is only a claim until it authenticates: verdicts use
 * verified and address-matched outcomes only. */
typedef enum {
    REPORT_EVIDENCE_CLAIMED,  /* unauthenticated, from an address the domain's
                                 DNS does not name: anyone could have sent it */
    REPORT_EVIDENCE_ADDRESS,  /* unauthenticated, but from an address that the
                                 domain's own SRV/A/AAAA records resolve to */
    REPORT_EVIDENCE_VERIFIED  /* the stream authenticated as the domain, or we
                                 dialled the domain through its own DNS */
} report_evidence;

/* One stream's outcome. Strings are NUL-terminated, "" when unknown; those
 * marked (net) came from the network and must be escaped when shown. */
typedef struct report_outcome {
    int64_t time;            /* unix seconds of this record */
    uint64_t stream;         /* which stream: records of one stream replace
                                each other (open, then closed) */
    report_leg leg;          /* who dialled */
    char remote[256];        /* their domain, lower case (net) */
    char local[256];         /* our test domain */
    char profile[32];        /* catalog label of local at the time */
    char address[64];        /* their "IP:PORT" (IPv6 in brackets) */
    char tls[64];            /* "TLS1.3 AES-256-GCM"; "" = no TLS */
    char presented[256];     /* domain whose certificate we presented */
    char alert[64];          /* "received certificate_expired", "sent ..." */
    char peer_cert[256];     /* their certificate: "valid", reason, "none" */
    char auth_offered[48];   /* "EXTERNAL dialback": IN by us, OUT by them */
    char auth_used[16];      /* "EXTERNAL", "dialback" or "" */
    report_auth auth;        /* how authentication ended */
    report_refusal refused_by; /* who ended it unauthenticated */
    report_step step;        /* where the stream was when it ended */
    char auth_error[300];    /* SASL condition and text, dialback error (net) */
    char stanza[64];         /* last stanza handled: "answered ping", ... */
    unsigned stanzas;        /* stanzas handled on the stream */
    char error_in[300];      /* stream error the peer sent "cond: text" (net) */
    char close[300];         /* how the stream ended (may quote the peer) */
    report_evidence evidence; /* whether remote is proven, matched or claimed */
} report_outcome;

/* What the peer did with one test domain. */
typedef enum {
    REPORT_SEEN_NOTHING, /* no stream recorded for this domain */
    REPORT_SEEN_ACCEPT,  /* a stream got authenticated */
    REPORT_SEEN_REFUSE,  /* streams were seen, none got authenticated */
    REPORT_SEEN_UNDECIDED /* streams were seen, none decides the test: we
                             refused by the profile's rule, or the network
                             ended them */
} report_seen;

/* What that means. */
typedef enum {
    REPORT_VERDICT_OK,       /* what a strict correct server does */
    REPORT_VERDICT_ADVISORY, /* differs where the specs leave room */
    REPORT_VERDICT_WRONG,    /* differs from what a strict server must do */
    REPORT_VERDICT_UNKNOWN   /* nothing seen yet */
} report_verdict;

/* One row of a peer's matrix: a test domain. */
typedef struct report_cell {
    const config_domain *domain;  /* the test domain (from the config) */
    const report_outcome *in;      /* latest IN outcome, or NULL */
    const report_outcome *out;     /* latest OUT outcome, or NULL */
    report_seen seen;              /* what the peer did */
    report_verdict verdict;        /* compared with the catalog */
    char explanation[768];         /* for operators (contains net text) */
} report_cell;

/* Bounds of the store (from the config's limits). */
typedef struct report_limits {
    unsigned max_peers;   /* remote domains with trusted (verified or
                             address-matched) outcomes; the least recent goes */
    unsigned max_claims;  /* remote domains with claimed outcomes only, kept
                             apart so claims never evict trusted peers */
    unsigned history;     /* outcomes kept per remote domain, newest first */
    size_t file_bytes;    /* bytes the outcomes may take in report.db; beyond,
                             the least valuable go first (0 = no bound) */
    uint64_t max_age;     /* seconds an outcome is kept (0 = forever) */
    unsigned matched_per_source; /* address-matched remote domains kept per
                                    source address (0 = no cap) */
    unsigned matched_per_site;   /* address-matched remote domains kept per
                                    registrable domain (0 = no cap) */
    unsigned ipv6_prefix; /* IPv6 prefix length counted as one source (0: 64) */
} report_limits;

/* What gave way in memory since start (for /metrics). */
typedef struct report_retain_stats {
    uint64_t evicted[3];    /* remote domains that gave way, by their class
                               (report_evidence: the best of their outcomes) */
    uint64_t capped_source; /* address-matched ones that gave way to a newer
                               one from their source address (IPv6: prefix) */
    uint64_t capped_site;   /* ... under their registrable domain */
    uint64_t refused;       /* outcomes of new address-matched domains not
                               kept: verified peers filled the table */
} report_retain_stats;

typedef struct rs_report rs_report;

/* Called for every outcome added (the probe listens here). */
typedef void (*report_listener)(void *arg, const report_outcome *o);

/* Open the store in dir: DIR/report.db created or migrated, an old
 * report.jsonl(.1) imported once, everything read back. A database that
 * cannot be opened is logged, and the store runs from memory. dir NULL =
 * memory only. NULL on allocation failure. */
rs_report *report_open(const char *dir, const report_limits *limits);

/* For readers while the daemon runs (`xmpp-responder report`): DIR/report.db
 * opened read-only, the outcomes of remote (lower case) from since (unix
 * seconds) on. NULL with a message in err when there is no database or it
 * cannot be read. */
rs_report *report_open_reader(const char *dir, const report_limits *limits,
                              const char *remote, int64_t since, char *err,
                              size_t n);

/* Write what is queued, then close the database and free everything. */
void report_free(rs_report *r);

struct uv_loop_s;
/* Write queued outcomes from loop: a timer flushes shortly after an outcome
 * comes in (and retries a failed write a second later). Without a loop,
 * only report_flush and report_free write. */
void report_attach_loop(rs_report *r, struct uv_loop_s *loop);

/* Stop the timer (before the loop's last run); report_free still writes
 * what is left. */
void report_detach_loop(rs_report *r);

/* Write the queued outcomes now, in one transaction. 0, or -1 when the
 * database is not there or the write failed (the outcomes stay queued). */
int report_flush(rs_report *r);

/* How the writes to the database went, for metrics and the benchmark. */
typedef struct report_write_stats {
    bool open;            /* the database is open for writing */
    bool failing;         /* the last write failed (full disk, lock): the
                             outcomes wait in memory, retried every second */
    uint64_t written;     /* outcomes committed */
    uint64_t batches;     /* transactions committed */
    uint64_t failures;    /* transactions that failed (outcomes kept) */
    uint64_t dropped;     /* outcomes dropped from a full queue */
    size_t queued;        /* outcomes waiting now */
    double longest_ms;    /* longest flush on the loop (one transaction), ms */
    long long bytes;      /* bytes the outcomes took in the file when last
                             measured (after each write), -1 unknown */
    uint64_t prunes;      /* retention runs that completed */
    uint64_t pruned;      /* rows they deleted */
} report_write_stats;
void report_write_stats_get(const rs_report *r, report_write_stats *s);

/* What gave way in memory so far. */
void report_retain_stats_get(const rs_report *r, report_retain_stats *s);

/* Record o (copied): queue it for the database, tell the listener, and keep it:
 * trusted outcomes (verified, address-matched) update the peer's latest
 * outcomes and history; claimed ones go to the history of a separate,
 * smaller table of claims and never count in a verdict. When a table is
 * full, who gives way is decided by value (report_retain.c): claims only
 * replace claims; address-matched domains go before verified ones, least
 * recent first, and are capped per source address and per registrable
 * domain; a verified peer never gives way to an unverified outcome.
 * Records without a remote domain are ignored. */
void report_add(rs_report *r, const report_outcome *o);

/* At most one listener; NULL removes it. */
void report_set_listener(rs_report *r, report_listener fn, void *arg);

/* Remote domains with trusted outcomes, most recently seen first: up to max
 * names (pointers valid until the next report_add). Returns how many there
 * are in all. Domains known only from claims are not listed. */
size_t report_peers(const rs_report *r, const char **names, int64_t *last_seen,
                    size_t max);

/* Whether anything is known about remote, trusted or claimed. */
bool report_has_peer(const rs_report *r, const char *remote);

/* Whether remote has trusted (verified or address-matched) outcomes. */
bool report_has_trusted(const rs_report *r, const char *remote);

/* One cell per domain of cfg for remote, in config order; cells must hold
 * cfg->n_domains. Pointers inside stay valid until the next report_add. */
void report_matrix(const rs_report *r, const char *remote,
                   const rs_config *cfg, report_cell *cells);

/* History of remote, newest first: trusted outcomes and claims together
 * (each says its evidence), up to max. Returns the count. */
size_t report_history(const rs_report *r, const char *remote,
                      const report_outcome **out, size_t max);

/* Counts of a matrix by verdict, for summaries. */
typedef struct report_summary {
    unsigned ok, advisory, wrong, unknown;
} report_summary;
void report_summarize(const report_cell *cells, size_t n, report_summary *s);

/* Printable names: "in"/"out", "ok"/"failed"/"none", "peer"/"us"/...,
 * "accepted"/..., "ok"/"advisory"/"wrong"/"unknown". */
const char *report_leg_name(report_leg leg);
const char *report_refusal_name(report_refusal by);
const char *report_step_name(report_step step);  /* "tls", "auth", ... */
const char *report_step_words(report_step step); /* "the TLS handshake" */
const char *report_auth_name(report_auth auth);
const char *report_seen_name(report_seen seen);
const char *report_verdict_name(report_verdict v);
const char *report_evidence_name(report_evidence e); /* "claimed", ... */

/* A compact copy of o: its numbers and the bytes its texts use, a few
 * hundred bytes where the outcome takes 2.4 KiB (an idle stream's record
 * keeps this, record.c). malloc'd, NULL on allocation failure. */
char *report_outcome_pack(const report_outcome *o);

/* o as it was packed (report_outcome_pack's bytes). */
void report_outcome_unpack(const char *packed, report_outcome *o);

/* One outcome as a JSON object (the same shape as a line of the file). */
void report_outcome_json(rs_json *j, const report_outcome *o);

/* The whole matrix of remote as a JSON object:
 * {"remote":..., "summary":{...}, "domains":[{"domain","profile","kind",
 *  "breaks","strict","advisory","seen","verdict","explanation","in":{..}|null,
 *  "out":{..}|null}, ...], "history":[...]} */
void report_matrix_json(rs_json *j, const rs_report *r, const char *remote,
                        const rs_config *cfg);

/* A plain-text matrix for a chat message: one line per domain. malloc'd,
 * NULL on allocation failure. */
char *report_matrix_text(const rs_report *r, const char *remote,
                         const rs_config *cfg);

/* ---- what a remote server presents (report_shown.c) ---------------------- */

/* What a remote server showed of itself on one stream we trust: one we
 * dialled through its own DNS (its server side) or one that authenticated
 * to us (its client side). */
typedef struct report_presented {
    int64_t time;              /* unix seconds */
    report_leg leg;            /* OUT: its server side; IN: its client side */
    peercert_findings cert;    /* its certificate */
    unsigned tls;              /* GRADE_TLS* bit negotiated, 0: no TLS */
    grade_flag tls_required;   /* OUT: whether its features required STARTTLS */
    grade_flag sasl_external;  /* OUT: SASL EXTERNAL offered after TLS */
    grade_flag dialback;       /* OUT: dialback offered */
} report_presented;

/* One grade a remote server had, from when. */
typedef struct report_grade_entry {
    int64_t time;              /* when it took this grade */
    grade_letter letter;
    bool partial;              /* from streams only */
} report_grade_entry;

#define REPORT_GRADES_KEPT 32  /* grade changes kept per remote server */


/* Keep what remote presented (copied): in memory with its trusted peer,
 * and in report.db; a change of its grade goes to its grade history. A
 * remote not in the report yet is kept aside until its first outcome. */
void report_add_presented(rs_report *r, const char *remote,
                          const report_presented *p);

#define REPORT_CERT_FRESH_S 600 /* a side's certificate is analysed again
                                   after this long, not on every stream */

/* The certificate remote presented on leg, when it was analysed less than
 * REPORT_CERT_FRESH_S before now: true with it in cert (a stream then need
 * not verify it again). */
bool report_cert_recent(const rs_report *r, const char *remote, report_leg leg,
                        int64_t now, peercert_findings *cert);

/* What is known of remote (f) and its grade (g); false when nothing was
 * presented yet (f and g then say so: GRADE_NONE). Whether it accepts
 * serverAuth-only peers comes from its latest le-tlsserver outcome. */
bool report_grade(const rs_report *r, const char *remote, grade_findings *f,
                  grade_result *g);

/* remote's grades, newest first, up to max; returns the count. */
size_t report_grade_history(const rs_report *r, const char *remote,
                            report_grade_entry *out, size_t max);

/* The findings, grade and grade history of remote as members of the open
 * JSON object j: "presented": {grade_json's members, "seen_server",
 * "seen_client", "history": [{"time","grade","partial"}]} or null. */
void report_presented_json(rs_json *j, const rs_report *r, const char *remote);

/* The same as text for the terminal: the grade, its rules, the readiness
 * line, when each side was seen and the grade history. */
void report_presented_print(FILE *out, const rs_report *r, const char *remote);

/* A one-line summary of an outcome for tables, e.g.
 * "TLS1.3, EXTERNAL ok, answered ping" or "closed: peer sent stream error
 * not-authorized: certificate expired". */
void report_outcome_brief(const report_outcome *o, char *out, size_t n);

#endif
