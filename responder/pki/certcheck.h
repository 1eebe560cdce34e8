/* certcheck.h -- what a test domain really presents, compared with its
 * catalog row: source, issuer, EKUs, names, validity, key, signature and
 * the chain sent. A row's verdicts mean what the row says only if its
 * certificate is what the row describes: a public CA that adds clientAuth
 * to le-tlsserver, or an operator who swapped a file, turns the test into
 * another one. The daemon checks at start and after each reload (logged,
 * on the index, in /api/domains, in the report's verdicts); `check` prints
 * the same. */
#ifndef RS_CERTCHECK_H
#define RS_CERTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domains.h"

#define CERTCHECK_MAX 8 /* mismatches kept per domain */

/* What the domain's certificate is, and where it differs from its row. */
typedef struct certcheck_result {
    char source[16];        /* "test-ca": made by init (our roots or self-
                               signed); "acme": anyone else's */
    char expected[16];      /* what the row wants here: "test-ca", or on a
                               public instance "acme" for ACME rows */
    char issuer[256];       /* the leaf's issuer DN */
    char ekus[48];          /* "serverAuth clientAuth", "none" (no EKU) */
    char names[300];        /* dNSNames, else the CN: "a.example b.example" */
    int64_t not_before;     /* unix seconds */
    int64_t not_after;      /* unix seconds */
    unsigned chain_len;     /* certificates sent */
    char mismatches[CERTCHECK_MAX][160]; /* "EKU: has clientAuth, the row
                                            says serverAuth only" */
    size_t n_mismatches;
} certcheck_result;

/* Inspect d's loaded chain against d's row (base: the base domain, for the
 * wildcard row; public_instance: the config's `public`), at time now. */
void certcheck_domain(const rs_domain *d, const char *base, bool public_instance,
                      int64_t now, certcheck_result *out);


/* Inspect domain i of ds (loaded from cfg), log how it differs from its row
 * and set cfg->domains[i].cert_mismatch to the summary (NULL when none), as
 * the verdicts want it. true when it differs. A domain of a lazy set not
 * loaded yet is judged when it is (domains.h). */
bool certcheck_mark_domain(rs_config *cfg, const rs_domains *ds, size_t i,
                           int64_t now);

/* certcheck_mark_domain for every domain; how many differ. */
size_t certcheck_mark_config(rs_config *cfg, const rs_domains *ds, int64_t now);

/* The mismatches as one line, "; "-separated, into out. */
void certcheck_summary(const certcheck_result *r, char *out, size_t n);

#endif
