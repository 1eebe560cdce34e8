/* crl.h -- the test PKI's CRLs: the intermediate's (STATE/certs/crl.pem,
 * the revoked leaves) and the root's (ca-crl.pem, empty), signed by `init`
 * and kept current by the daemon, which serves them under /crl/, where the
 * CRL Distribution Point of every test-CA certificate leads. GnuTLS's x509
 * API only. Why the daemon re-signs them: README.md. */
#ifndef RS_CRL_H
#define RS_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/x509.h>
#include <uv.h>

#define CRL_VALID_SECS (7 * 24 * 60 * 60)    /* nextUpdate - thisUpdate */
#define CRL_RESIGN_SECS (24 * 60 * 60)       /* re-sign once this old */
#define CRL_CHECK_SECS (60 * 60)             /* how often the daemon looks */

/* The CRLs the test PKI publishes. */
enum { CRL_INTERMEDIATE, CRL_ROOT, CRL_COUNT };

/* One published CRL: who signs it, where it is kept, where it is served. */
typedef struct crl_spec {
    const char *ca;       /* the signing CA's files: CA.pem / CA.key */
    const char *file;     /* the CRL in the certs directory (PEM) */
    const char *url_path; /* where the web listener serves it (DER) */
} crl_spec;

/* Indexed by CRL_INTERMEDIATE, CRL_ROOT. */
extern const crl_spec crl_specs[CRL_COUNT];

/* ---- signing (init and the daemon) ---- */

/* Write path (PEM) as a CRL signed by issuer/key: the serials of the CRL
 * already at path unless reset, plus serial when not NULL (once). thisUpdate
 * is now, nextUpdate now + CRL_VALID_SECS. 0, or -1 with a message. */
int crl_sign(const char *path, gnutls_x509_crt_t issuer,
             gnutls_x509_privkey_t key, bool reset,
             const unsigned char *serial, size_t serial_len, char *err,
             size_t errlen);

/* Re-sign each CRL of crl_specs in certs_dir with its CA when it is older
 * than max_age seconds (0: always) or missing, keeping its serials.
 * *resigned says whether any was. 0, or -1 with a message (the others are
 * still refreshed). */
int crl_refresh(const char *certs_dir, time_t max_age, bool *resigned,
                char *err, size_t errlen);

/* ---- serving (the daemon) ---- */

typedef struct rs_crl rs_crl;

/* The CRLs of state_dir/certs: refreshed now and on an hourly timer of
 * loop. NULL when there is no test intermediate there (nothing to serve:
 * the routes answer 404) or out of memory; logged. */
rs_crl *crl_start(uv_loop_t *loop, const char *state_dir);

/* The CRL served at url_path in DER (owned by c) and its thisUpdate and
 * nextUpdate; NULL when url_path is none of crl_specs or it could not be
 * read. */
const unsigned char *crl_der(const rs_crl *c, const char *url_path, size_t *len,
                             time_t *this_update, time_t *next_update);

/* Stop the timer and release (through the loop). NULL is fine. */
void crl_close(rs_crl *c);

#endif
