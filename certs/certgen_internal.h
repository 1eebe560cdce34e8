/* certgen_internal.h -- the X.509 building blocks certgen.c's PKI and
 * leaves share (certgen_x509.c): files in, files out, a certificate started
 * and signed, and the questions a kept file is asked before it is kept.
 * Functions that fail return -1 with a message in err (GnuTLS's own words). */
#ifndef RS_CERTGEN_INTERNAL_H
#define RS_CERTGEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "catalog.h"

#define DAY_SECS (24 * 60 * 60)
#define YEAR_SECS (365 * DAY_SECS)
#define KEYID_MAX 64 /* bytes of a key identifier */
#define CHAIN_MAX 3  /* leaf, intermediate, a cross-signed root */

/* A certificate and its private key. */
typedef struct certgen_pair {
    gnutls_x509_crt_t crt;     /* the certificate, NULL when absent */
    gnutls_x509_privkey_t key; /* its key, NULL when absent */
} certgen_pair;

/* GnuTLS failure ret of a step on a named file or thing: -1 + err. */
int certgen_gfail(char *err, size_t errlen, const char *what, int ret);

/* Free both halves (either may be NULL) and clear them. */
void certgen_pair_free(certgen_pair *p);

/* dir/name+suffix into out; -1 when it does not fit. */
int certgen_path(char *out, size_t outlen, const char *dir, const char *name,
                 const char *suffix);

bool certgen_exists(const char *path);

/* The first certificate of a PEM file into *out (NULL on failure). */
int certgen_load_crt(const char *pem_path, gnutls_x509_crt_t *out, char *err,
                     size_t errlen);

/* A PEM key (PKCS#8 or legacy) and the first certificate of a PEM. */
int certgen_load_pair(const char *pem_path, const char *key_path,
                      certgen_pair *out, char *err, size_t errlen);

/* Write the key (0600) as PKCS#8, atomically. */
int certgen_save_key(const char *path, gnutls_x509_privkey_t key, char *err,
                     size_t errlen);

/* Write n <= CHAIN_MAX certificates in order (leaf first) as one PEM file
 * (0644), atomically. */
int certgen_save_chain(const char *path, gnutls_x509_crt_t *crts, size_t n,
                       char *err, size_t errlen);

/* A new key of the catalog's type. */
int certgen_new_key(gnutls_x509_privkey_t *key, catalog_key type, char *err,
                    size_t errlen);

/* Sign crt with issuer (NULL: with own_key, self-signed); GnuTLS error. */
int certgen_sign(gnutls_x509_crt_t crt, gnutls_x509_privkey_t own_key,
                 const certgen_pair *issuer, gnutls_digest_algorithm_t dig);

/* Start out->crt for out->key: v3, random serial, subject (org when not
 * NULL, cn unless NULL: an empty subject), key ids (skid: with a
 * subjectKeyId; the authorityKeyId is issuer's, own when NULL); GnuTLS
 * error. */
int certgen_start_crt(certgen_pair *out, const char *cn, const char *org,
                      const certgen_pair *issuer, bool skid);

/* child names parent as issuer by DN and by key id (what changes when the
 * parent was regenerated with the same DN). */
bool certgen_issued_by(gnutls_x509_crt_t child, gnutls_x509_crt_t parent);

/* crt's CRL Distribution Point is exactly want (one URI), or absent when
 * want is NULL. */
bool certgen_cdp_is(gnutls_x509_crt_t crt, const char *want);

/* EKU exactly as the CATALOG_EKU_* bits say; none = no extension at all. */
int certgen_set_eku(gnutls_x509_crt_t crt, unsigned eku);

/* a and b carry the same public key. */
bool certgen_same_key(gnutls_x509_crt_t a, gnutls_x509_crt_t b);

#endif
