/* grade.h -- what a remote server presents (certificate, TLS, how it lets
 * peers authenticate), graded A+ to F by one published table of rules
 * that the manual, the web page and the report text all render, with a
 * separate "2026 readiness" line. Pure: findings in, grade out. */
#ifndef RS_GRADE_H
#define RS_GRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "peercert.h"

/* A yes/no finding that may not have been seen yet. */
typedef enum {
    GRADE_UNSEEN, /* nothing showed it either way */
    GRADE_NO,
    GRADE_YES
} grade_flag;

/* TLS versions, as bits of grade_findings' masks. */
#define GRADE_TLS10 (1u << 0)
#define GRADE_TLS11 (1u << 1)
#define GRADE_TLS12 (1u << 2)
#define GRADE_TLS13 (1u << 3)
#define GRADE_TLS_VERSIONS 4

/* Everything known of one remote server. */
typedef struct grade_findings {
    peercert_findings server_cert; /* what it presents when we dial it */
    int64_t server_cert_time;      /* when last seen (unix s), 0: never */
    peercert_findings client_cert; /* what it presents when it dials us */
    int64_t client_cert_time;      /* when last seen, 0: never */
    unsigned tls_seen;             /* versions negotiated on real streams */
    unsigned tls_tested;           /* versions tried one by one (probe) */
    unsigned tls_accepted;         /* of tls_tested, those it accepted */
    grade_flag tls_required;       /* it will not go on without TLS */
    grade_flag sasl_external;      /* it offered SASL EXTERNAL to our valid
                                      certificate */
    grade_flag dialback;           /* it offered dialback (XEP-0220) */
    grade_flag accepts_server_only; /* it accepted le-tlsserver (serverAuth
                                       only) in the acceptance matrix */
    grade_flag dnssec_srv;         /* its SRV answer was DNSSEC-validated */
    grade_flag dane_match;         /* a TLSA record matches its certificate */
    bool probed;                   /* a probe tried the TLS versions: else
                                      the grade is partial */
} grade_findings;

typedef enum {
    GRADE_A_PLUS,
    GRADE_A,
    GRADE_B,
    GRADE_C,
    GRADE_D,
    GRADE_F,
    GRADE_NONE     /* nothing seen: no grade */
} grade_letter;

/* One rule of the published table. */
typedef struct grade_rule {
    const char *id;     /* "untrusted", "tls10", ... stable, for JSON */
    grade_letter cap;   /* the best grade while it applies; GRADE_A_PLUS
                           marks a lift (from A to A+) */
    const char *when;   /* the condition, in words */
    const char *why;    /* what it means for peers, in words */
} grade_rule;

#define GRADE_APPLIED_MAX 16 /* rules one result lists */

typedef struct grade_result {
    grade_letter letter;       /* the grade */
    bool partial;              /* from streams only: not every rule could be
                                  checked (no probe tried the TLS versions) */
    const grade_rule *applied[GRADE_APPLIED_MAX]; /* rules that held, the
                                                     decisive one first */
    size_t n_applied;
    bool graded_client_cert;   /* the rules judged client_cert: it was
                                  never dialled, only dialled us */
    bool ready;                /* the 2026 readiness line is all good */
    char readiness[512];       /* that line, one or two sentences */
} grade_result;

/* The table, in the order the manual lists it. */
const grade_rule *grade_rules(size_t *n);

/* Grade f. A result without any certificate seen is GRADE_NONE. */
void grade_compute(const grade_findings *f, grade_result *out);

const char *grade_letter_name(grade_letter g); /* "A+", "A", ..., "-" */

/* "TLS1.0" ... "TLS1.3": the version of bit i of a GRADE_TLS* mask. */
const char *grade_tls_name(unsigned i);

/* A mask as "TLS1.2 TLS1.3" ("" for none), and every version a text
 * names as a mask ("TLS1.3 AES-256-GCM" -> GRADE_TLS13). */
void grade_tls_text(unsigned mask, char *out, size_t n);
unsigned grade_tls_mask(const char *text);

/* A flag as "yes", "no" or "" (unseen), and back. */
const char *grade_flag_name(grade_flag f);
grade_flag grade_flag_of(const char *name);

/* Why r is partial, in words; NULL when it is not. */
const char *grade_partial_reason(const grade_result *r);

/* Which certificate r's rules judged, in words. */
const char *grade_cert_words(const grade_result *r);

/* f and r as JSON members of the open object js: "grade", "partial",
 * "rules" (applied, with when/why), "readiness", "findings". */
void grade_json(rs_json *js, const grade_findings *f, const grade_result *r);

/* f and r as text for the terminal, a few lines, each starting with
 * indent. */
void grade_print(FILE *out, const char *indent, const grade_findings *f,
                 const grade_result *r);

/* The table as mdoc lines for xmpp-responder(8) (generated, checked by
 * tests/cli/test_man.py like the limits). */
void grade_rules_mdoc(FILE *out);

#endif
