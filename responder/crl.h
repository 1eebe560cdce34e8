/* crl.h -- the test intermediate's CRL: signed into STATE/certs/crl.pem by
 * `init` (certgen adds revoked serials) and kept current by the daemon, which
 * serves it over its HTTP listener at CRL_URL_PATH so that the CRL
 * Distribution Point in every test-CA leaf leads a checking server to it.
 *
 * Why the daemon re-signs: the test intermediate's key is in STATE/certs
 * already (init made it there, the daemon owns the directory), it is a
 * private test CA that no public trust store holds, and a CRL that must be
 * re-signed every few days is kept fresh most simply by the one process that
 * serves it: no second timer can be forgotten. Every hour it checks; once a
 * CRL is older than CRL_RESIGN_SECS it is re-signed, CRL_VALID_SECS ahead.
 * Uses the GnuTLS x509 API only. */
#ifndef RS_CRL_H
#define RS_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/x509.h>

#define CRL_URL_PATH "/crl/intermediate.crl" /* where the web listener serves it */
#define CRL_VALID_SECS (7 * 24 * 60 * 60)    /* nextUpdate - thisUpdate */
#define CRL_RESIGN_SECS (24 * 60 * 60)       /* re-sign once this old */
#define CRL_CHECK_SECS (60 * 60)             /* how often the daemon looks */

struct rs_daemon;

/* ---- signing (init and the daemon) ---- */

/* Write path (PEM) as a CRL signed by issuer/key: the serials of the CRL
 * already at path unless reset, plus serial when not NULL (once). thisUpdate
 * is now, nextUpdate now + CRL_VALID_SECS. 0, or -1 with a message. */
int crl_sign(const char *path, gnutls_x509_crt_t issuer,
             gnutls_x509_privkey_t key, bool reset,
             const unsigned char *serial, size_t serial_len, char *err,
             size_t errlen);

/* Re-sign certs_dir/crl.pem with certs_dir/intermediate.{pem,key} when it is
 * older than max_age seconds (0: always), keeping its serials. *resigned
 * says whether it was. 0, or -1 with a message. */
int crl_refresh(const char *certs_dir, time_t max_age, bool *resigned,
                char *err, size_t errlen);

/* ---- serving (the daemon) ---- */

typedef struct rs_crl rs_crl;

/* The CRL of srv->cfg->state_dir/certs: refreshed now and on an hourly
 * timer. NULL when there is no test intermediate there (nothing to serve:
 * the route answers 404) or out of memory; logged. */
rs_crl *crl_start(struct rs_daemon *srv);

/* The current CRL in DER (owned by c) and its thisUpdate/nextUpdate; NULL
 * when none could be read. */
const unsigned char *crl_der(const rs_crl *c, size_t *len, time_t *this_update,
                             time_t *next_update);

/* Stop the timer and release (through the loop). NULL is fine. */
void crl_close(rs_crl *c);

#endif
