/* certgen.h -- certificates for the test domains, from catalog recipes.
 *
 * Layout under CERTS_DIR (all PEM; keys mode 0600):
 *   ca.pem / ca.key                   test root CA that staging peers trust
 *   intermediate.pem / .key           intermediate signed by the root; signs leaves
 *   untrusted-ca.pem / .key           a second root nobody is told to trust
 *   DOMAIN.pem                        the chain DOMAIN presents, leaf first
 *   DOMAIN.key                        the leaf's private key
 *   crl.pem                           the intermediate's CRL (crl.h)
 * Leaves the intermediate signs carry a CRL Distribution Point (one URI,
 * crl_url: the responder's own HTTP listener serves that CRL) when crl_url
 * is not NULL; self-signed leaves and those of the untrusted root never do,
 * nor do the CAs (the root's CRL is not published: a verifier checking every
 * link of the chain finds no CDP on the intermediate and must not demand it).
 * Uses the GnuTLS x509 API only (no openssl, no shelling out).
 */
#ifndef RS_CERTGEN_H
#define RS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "../responder/catalog.h"

/* Create the roots and the intermediate in certs_dir (created if missing,
 * mode 0700). Existing files are kept unless force. 0 on success, else -1 with
 * a message in err. */
int certgen_pki(const char *certs_dir, bool force, char *err, size_t errlen);

/* Create DOMAIN.pem and DOMAIN.key for one domain following p->cert. base is
 * the base domain (for the wildcard recipe); crl_url the CDP (NULL = none).
 * When both files exist, are still signed by their CA and name that CDP, and
 * !force, they are kept as they are. Requires certgen_pki first. 0 / -1 + err. */
int certgen_domain(const char *certs_dir, const char *domain, const char *base,
                   const char *crl_url, const catalog_profile *p, bool force,
                   char *err, size_t errlen);

/* Create DOMAIN.https.pem and .key: a normal serverAuth leaf from the test
 * intermediate, for the HTTPS listener that serves POSH for DOMAIN. Kept
 * unless force, like certgen_domain. 0 / -1 + err. */
int certgen_https(const char *certs_dir, const char *domain,
                  const char *crl_url, bool force, char *err, size_t errlen);

/* Hex SHA-256 of the SubjectPublicKeyInfo of the first certificate in the PEM
 * file at path (what a TLSA 3 1 1 record carries). 0 / -1 + err. */
int certgen_spki_sha256(const char *path, char out[65], char *err,
                        size_t errlen);

#endif
