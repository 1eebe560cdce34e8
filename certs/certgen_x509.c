/* certgen_x509.c -- the X.509 building blocks of certgen
 * (certgen_internal.h), with the GnuTLS x509 API. */
#include "certgen_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "atomic_file.h"
#include "errmsg.h"

#define SERIAL_BYTES 16

/* GnuTLS failure of a step on a named file or thing. */
int certgen_gfail(char *err, size_t errlen, const char *what, int ret)
{
    return errmsg_fail(err, errlen, "%s: %s", what, gnutls_strerror(ret));
}

void certgen_pair_free(certgen_pair *p)
{
    if (p->crt)
        gnutls_x509_crt_deinit(p->crt);
    if (p->key)
        gnutls_x509_privkey_deinit(p->key);
    p->crt = NULL;
    p->key = NULL;
}

/* dir/name+suffix into out; -1 when it does not fit. */
int certgen_path(char *out, size_t outlen, const char *dir, const char *name,
                   const char *suffix)
{
    int n = snprintf(out, outlen, "%s/%s%s", dir, name, suffix);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool certgen_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Write parts to path through atomic_file.h, so a reader never sees half
 * a key and an interrupted run leaves the old file intact. */
static int cg_write_atomic(const char *path, const gnutls_datum_t *parts,
                           size_t n_parts, mode_t mode, char *err,
                           size_t errlen)
{
    rs_atomic_file a;
    if (atomic_file_open(&a, path, mode) < 0)
        return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
    for (size_t i = 0; i < n_parts; i++)
        if (fwrite(parts[i].data, 1, parts[i].size, a.f) != parts[i].size) {
            int saved = errno;
            atomic_file_abort(&a);
            return errmsg_fail(err, errlen, "%s: %s", path, strerror(saved));
        }
    if (atomic_file_commit(&a) < 0)
        return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
    return 0;
}

/* The first certificate of a PEM file into *out (NULL on failure). */
int certgen_load_crt(const char *pem_path, gnutls_x509_crt_t *out,
                       char *err, size_t errlen)
{
    gnutls_datum_t data = {NULL, 0};
    *out = NULL;
    int ret = gnutls_load_file(pem_path, &data);
    if (ret >= 0 && (ret = gnutls_x509_crt_init(out)) >= 0)
        ret = gnutls_x509_crt_import(*out, &data, GNUTLS_X509_FMT_PEM);
    gnutls_free(data.data);
    if (ret < 0) {
        if (*out)
            gnutls_x509_crt_deinit(*out);
        *out = NULL;
        return certgen_gfail(err, errlen, pem_path, ret);
    }
    return 0;
}

/* Read a PEM key (PKCS#8 or legacy) and the first certificate of a PEM. */
int certgen_load_pair(const char *pem_path, const char *key_path,
                        certgen_pair *out, char *err, size_t errlen)
{
    if (certgen_load_crt(pem_path, &out->crt, err, errlen) < 0)
        return -1;
    gnutls_datum_t data = {NULL, 0};
    int ret = gnutls_load_file(key_path, &data);
    if (ret >= 0 && (ret = gnutls_x509_privkey_init(&out->key)) >= 0)
        ret = gnutls_x509_privkey_import2(out->key, &data, GNUTLS_X509_FMT_PEM,
                                          NULL, 0);
    if (data.data) {
        gnutls_memset(data.data, 0, data.size);
        gnutls_free(data.data);
    }
    if (ret < 0) {
        certgen_pair_free(out);
        return certgen_gfail(err, errlen, key_path, ret);
    }
    return 0;
}

/* Write the key (0600) as PKCS#8, the most widely readable form. */
int certgen_save_key(const char *path, gnutls_x509_privkey_t key, char *err,
                       size_t errlen)
{
    gnutls_datum_t pem = {NULL, 0};
    int ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
                                                GNUTLS_PKCS_PLAIN, &pem);
    if (ret < 0)
        return certgen_gfail(err, errlen, path, ret);
    ret = cg_write_atomic(path, &pem, 1, 0600, err, errlen);
    gnutls_memset(pem.data, 0, pem.size);
    gnutls_free(pem.data);
    return ret;
}

/* Write certificates in order (leaf first) as one PEM file. */
int certgen_save_chain(const char *path, gnutls_x509_crt_t *crts, size_t n,
                         char *err, size_t errlen)
{
    gnutls_datum_t pem[CHAIN_MAX] = {{NULL, 0}};
    int ret = 0;
    if (n > CHAIN_MAX)
        return errmsg_fail(err, errlen, "%s: chain too long", path);
    for (size_t i = 0; i < n && ret >= 0; i++)
        ret = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_PEM, &pem[i]);
    if (ret < 0)
        ret = certgen_gfail(err, errlen, path, ret);
    else
        ret = cg_write_atomic(path, pem, n, 0644, err, errlen);
    for (size_t i = 0; i < n; i++)
        gnutls_free(pem[i].data);
    return ret;
}

int certgen_new_key(gnutls_x509_privkey_t *key, catalog_key type, char *err,
                      size_t errlen)
{
    gnutls_pk_algorithm_t algo = GNUTLS_PK_RSA;
    unsigned bits = 2048;
    switch (type) {
    case CATALOG_KEY_ECDSA_P256:
        algo = GNUTLS_PK_ECDSA;
        bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
        break;
    case CATALOG_KEY_RSA2048:
        bits = 2048;
        break;
    case CATALOG_KEY_RSA1024:
        bits = 1024;
        break;
    }
    int ret = gnutls_x509_privkey_init(key);
    if (ret >= 0)
        ret = gnutls_x509_privkey_generate2(*key, algo, bits, 0, NULL, 0);
    return ret < 0 ? certgen_gfail(err, errlen, "key generation", ret) : 0;
}

/* A random positive 16-byte serial: top bit clear (DER INTEGER sign) and the
 * next one set so the encoding keeps all 16 bytes. */
static int cg_set_serial(gnutls_x509_crt_t crt)
{
    unsigned char serial[SERIAL_BYTES];
    int ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    if (ret < 0)
        return ret;
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    return gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
}

/* subjectKeyId from the public key (unless !skid); authorityKeyId = the
 * issuer's subjectKeyId (own id when issuer is NULL: self-signed). */
static int cg_set_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
                          bool skid)
{
    unsigned char id[KEYID_MAX];
    size_t len = sizeof id;
    int ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len);
    if (ret >= 0 && skid)
        ret = gnutls_x509_crt_set_subject_key_id(crt, id, len);
    if (ret >= 0 && issuer) {
        unsigned critical;
        len = sizeof id;
        ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &len, &critical);
    }
    if (ret >= 0)
        ret = gnutls_x509_crt_set_authority_key_id(crt, id, len);
    return ret;
}

/* Sign crt with issuer (NULL: with crt's own key, self-signed). */
int certgen_sign(gnutls_x509_crt_t crt, gnutls_x509_privkey_t own_key,
                   const certgen_pair *issuer, gnutls_digest_algorithm_t dig)
{
    gnutls_privkey_t signer;
    int ret = gnutls_privkey_init(&signer);
    if (ret < 0)
        return ret;
    ret = gnutls_privkey_import_x509(signer, issuer ? issuer->key : own_key, 0);
    if (ret >= 0)
        ret = gnutls_x509_crt_privkey_sign(crt, issuer ? issuer->crt : crt,
                                           signer, dig, 0);
    gnutls_privkey_deinit(signer);
    return ret;
}

/* Fields every certificate here shares: v3, serial, subject (cn NULL: an
 * empty subject), key, key ids (skid: with a subjectKeyId). */
int certgen_start_crt(certgen_pair *out, const char *cn, const char *org,
                        const certgen_pair *issuer, bool skid)
{
    int ret = gnutls_x509_crt_init(&out->crt);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_version(out->crt, 3);
    if (ret >= 0)
        ret = cg_set_serial(out->crt);
    if (ret >= 0 && org)
        ret = gnutls_x509_crt_set_dn_by_oid(out->crt,
                                            GNUTLS_OID_X520_ORGANIZATION_NAME,
                                            0, org, (unsigned)strlen(org));
    if (ret >= 0 && cn)
        ret = gnutls_x509_crt_set_dn_by_oid(out->crt,
                                            GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                            (unsigned)strlen(cn));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_key(out->crt, out->key);
    if (ret >= 0)
        ret = cg_set_key_ids(out->crt, issuer ? issuer->crt : NULL, skid);
    return ret;
}

/* True when child names parent as issuer by DN and by key id, which is what
 * changes when the parent was regenerated with the same DN. */
bool certgen_issued_by(gnutls_x509_crt_t child, gnutls_x509_crt_t parent)
{
    unsigned char aki[KEYID_MAX], ski[KEYID_MAX];
    size_t aki_len = sizeof aki, ski_len = sizeof ski;
    unsigned critical;
    if (!gnutls_x509_crt_check_issuer(child, parent))
        return false;
    if (gnutls_x509_crt_get_authority_key_id(child, aki, &aki_len,
                                             &critical) < 0 ||
        gnutls_x509_crt_get_subject_key_id(parent, ski, &ski_len,
                                           &critical) < 0)
        return false;
    return aki_len == ski_len && memcmp(aki, ski, aki_len) == 0;
}

/* Whether crt's CRL Distribution Point is exactly want (one URI), or absent
 * when want is NULL. */
bool certgen_cdp_is(gnutls_x509_crt_t crt, const char *want)
{
    char uri[1024];
    size_t len = sizeof uri - 1;
    unsigned reasons, critical;
    int type = gnutls_x509_crt_get_crl_dist_points(crt, 0, uri, &len, &reasons,
                                                   &critical);
    if (!want)
        return type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
    if (type != GNUTLS_SAN_URI)
        return false;
    uri[len] = '\0';
    len = sizeof uri - 1;
    return strcmp(uri, want) == 0 &&
           gnutls_x509_crt_get_crl_dist_points(crt, 1, uri, &len, &reasons,
                                               &critical) ==
               GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/* EKU exactly as the bits say; none = no extension at all. */
int certgen_set_eku(gnutls_x509_crt_t crt, unsigned eku)
{
    int ret = 0;
    if (eku & CATALOG_EKU_SERVER)
        ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER,
                                                  0);
    if (ret >= 0 && (eku & CATALOG_EKU_CLIENT))
        ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT,
                                                  0);
    return ret;
}

/* Whether a and b carry the same public key. */
bool certgen_same_key(gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
    unsigned char ida[KEYID_MAX], idb[KEYID_MAX];
    size_t la = sizeof ida, lb = sizeof idb;
    return gnutls_x509_crt_get_key_id(a, GNUTLS_KEYID_USE_SHA256, ida, &la) >= 0 &&
           gnutls_x509_crt_get_key_id(b, GNUTLS_KEYID_USE_SHA256, idb, &lb) >= 0 &&
           la == lb && memcmp(ida, idb, la) == 0;
}
