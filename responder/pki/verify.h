/* verify.h -- verifying a remote server's certificate for s2s, with an
 * explicit purpose policy: the chain must reach a trust anchor and be within
 * its validity, the leaf must name the domain (DNS-ID, SRV-ID or xmppAddr,
 * RFC 6120 13.7.1.2 / RFC 6125), and its EKU, when present, must allow TLS
 * server OR client authentication. serverAuth-only is accepted in both
 * directions, as Prosody does; the strict-EKU refusal is what we test in
 * others, not what we do. */
#ifndef RS_VERIFY_H
#define RS_VERIFY_H

#include <stdbool.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* The outcome of one verification, for logs and the report. */
typedef struct verify_verdict {
    bool presented;   /* the peer sent a certificate */
    bool trusted;     /* chain verified: signatures, anchors, dates */
    bool name_ok;     /* the leaf names the domain */
    bool purpose_ok;  /* EKU absent or includes serverAuth/clientAuth */
    char eku[64];     /* "serverAuth+clientAuth", "serverAuth", "none", ... */
    char reason[256]; /* why it is not valid; empty when valid */
} verify_verdict;

/* Verify the certificate the peer of session presented for domain. Returns
 * true when all checks pass; v is always filled. */
bool verify_peer(gnutls_session_t session, gnutls_x509_trust_list_t trust,
                    const char *domain, verify_verdict *v);

#endif
