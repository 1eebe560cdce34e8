/* certgen.h -- certificates for the test domains, from catalog recipes.
 *
 * Layout under CERTS_DIR (all PEM; keys mode 0600):
 *   ca.pem / ca.key                   test root CA that staging peers trust
 *   intermediate.pem / .key           intermediate signed by the root; signs leaves
 *   untrusted-ca.pem / .key           a second root nobody is told to trust
 *   gen-y-root.pem / .key             a new root (self-signed), trusted by nobody
 *   gen-y-root-cross.pem              the same root signed by the test root
 *   gen-y-intermediate.pem / .key     under the new root, EKU serverAuth only
 *   ca-cross-expired.pem              the test root signed by the untrusted
 *                                     root, expired a month ago
 *   DOMAIN.pem                        the chain DOMAIN presents, leaf first
 *                                     (gen-y and expired-cross-sign recipes:
 *                                     then a cross-signature, catalog.h)
 *   DOMAIN.key                        the leaf's private key
 *   crl.pem, ca-crl.pem               the intermediate's and the root's CRLs (crl.h)
 * With crl_base ("http://HOST[:PORT]", the responder's own HTTP listener,
 * which serves the CRLs) not NULL, every certificate the intermediate or
 * the root signs carries a CRL Distribution Point: one URI, crl_base + the
 * signer's path in crl_specs. Self-signed leaves, the roots and the
 * untrusted root's leaves have none.
 * Uses the GnuTLS x509 API only (no openssl, no shelling out).
 */
#ifndef RS_CERTGEN_H
#define RS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"

/* Create the roots, the intermediate and their CRLs in certs_dir (created if
 * missing, mode 0700). Existing files are kept unless force (or the
 * intermediate's CDP is not the one crl_base gives). 0 on success, else -1
 * with a message in err. */
int certgen_pki(const char *certs_dir, const char *crl_base, bool force,
                char *err, size_t errlen);

/* Create DOMAIN.pem and DOMAIN.key for one domain following p->cert. base is
 * the base domain (for the wildcard recipe); crl_base as above (NULL = no CDP).
 * When both files exist, are still signed by their CA and name that CDP, and
 * !force, they are kept as they are. Requires certgen_pki first. 0 / -1 + err. */
int certgen_domain(const char *certs_dir, const char *domain, const char *base,
                   const char *crl_base, const catalog_profile *p, bool force,
                   char *err, size_t errlen);

/* Create DOMAIN.https.pem and .key: a normal serverAuth leaf from the test
 * intermediate, for the HTTPS listener that serves POSH for DOMAIN. Kept
 * unless force, like certgen_domain. 0 / -1 + err. */
int certgen_https(const char *certs_dir, const char *domain,
                  const char *crl_base, bool force, char *err, size_t errlen);

/* Hex SHA-256 of the SubjectPublicKeyInfo of the first certificate in the PEM
 * file at path (what a TLSA 3 1 1 record carries). 0 / -1 + err. */
int certgen_spki_sha256(const char *path, char out[65], char *err,
                        size_t errlen);

#endif
