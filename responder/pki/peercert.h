/* peercert.h -- what a remote server's certificate is, for grading it
 * (issue 23): chain, names, validity, key, signature and purpose, judged
 * for the remote domain with our trust anchors. verify.h decides whether
 * we accept a stream; this says what the certificate means for any peer.
 * Pure: no I/O, the time is given. */
#ifndef RS_PEERCERT_H
#define RS_PEERCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "json.h"

/* The TLS purposes the leaf's extended key usage allows. */
typedef enum {
    PEERCERT_EKU_UNKNOWN,     /* no certificate seen */
    PEERCERT_EKU_BOTH,        /* serverAuth and clientAuth (or anyExtendedKeyUsage) */
    PEERCERT_EKU_SERVER_ONLY, /* serverAuth without clientAuth: strict peers
                                 refuse it when this server dials them */
    PEERCERT_EKU_CLIENT_ONLY, /* clientAuth without serverAuth */
    PEERCERT_EKU_NONE_TLS,    /* an EKU without either TLS purpose */
    PEERCERT_EKU_ABSENT       /* no EKU extension: any purpose */
} peercert_eku;

/* Why the chain does not verify ("" in problem when it does). */
typedef enum {
    PEERCERT_CHAIN_OK,         /* reaches a trust anchor, every date valid */
    PEERCERT_CHAIN_INCOMPLETE, /* an intermediate is missing from what was sent */
    PEERCERT_CHAIN_UNTRUSTED,  /* self-signed or an unknown root */
    PEERCERT_CHAIN_EXPIRED,    /* a certificate of it is expired */
    PEERCERT_CHAIN_NOT_YET,    /* a certificate of it is not valid yet */
    PEERCERT_CHAIN_REVOKED,    /* revoked by a CRL we hold */
    PEERCERT_CHAIN_BAD,        /* a signature or structure does not verify */
    PEERCERT_CHAIN_NONE        /* no certificate was sent */
} peercert_chain;

/* One certificate's findings. Strings are "" when unknown. */
typedef struct peercert_findings {
    bool present;              /* a certificate was sent */
    peercert_chain chain;      /* how the chain verified */
    char chain_problem[160];   /* one sentence when chain != OK */
    unsigned chain_len;        /* certificates sent */
    bool name_ok;              /* the leaf names the domain */
    char name_how[16];         /* "DNS-ID", "SRV-ID", "xmppAddr", "CN" or "" */
    char names[300];           /* the leaf's names, space-separated (net) */
    char issuer[256];          /* the leaf's issuer DN (net) */
    int64_t not_before;        /* unix seconds */
    int64_t not_after;         /* unix seconds */
    int days_left;             /* whole days from now to not_after (< 0: expired) */
    char key[32];              /* "RSA 2048", "ECDSA P-256", "Ed25519" */
    bool key_weak;             /* RSA/DSA under 2048 bits, EC under 256 */
    char signature[48];        /* "RSA-SHA256", "ECDSA-SHA384", ... */
    bool signature_weak;       /* MD5 or SHA-1 on the leaf */
    peercert_eku eku;          /* the leaf's TLS purposes */
} peercert_findings;

/* Describe the chain raw[0..n) (leaf first, as sent) for domain, verified
 * with trust at unix time now. n == 0: present false, chain NONE. */
void peercert_analyse(const gnutls_datum_t *raw, unsigned n,
                      gnutls_x509_trust_list_t trust, const char *domain,
                      int64_t now, peercert_findings *out);

/* peercert_analyse on what the peer of session sent. */
void peercert_from_session(gnutls_session_t session,
                           gnutls_x509_trust_list_t trust, const char *domain,
                           int64_t now, peercert_findings *out);

/* Whole days from now to not_after, rounded down (< 0: expired). */
int peercert_days_left(int64_t not_after, int64_t now);

const char *peercert_eku_name(peercert_eku e);     /* "serverAuth only", ... */
const char *peercert_chain_name(peercert_chain c); /* "ok", "incomplete", ... */

/* f as one JSON object (keys as the fields, eku and chain by name). */
void peercert_json(rs_json *js, const peercert_findings *f);

#endif
