/* crl.c -- signing the test PKI's CRLs (see crl.h). A CRL file is the list
 * of revoked serials itself: adding one re-reads it, appends, and re-signs
 * it, so no separate bookkeeping file can drift from it. */
#include "crl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "atomic_file.h"
#include "errmsg.h"

#define CRL_KEYID_MAX 64
#define CRL_PATH_MAX 4096

const crl_spec crl_specs[CRL_COUNT] = {
    [CRL_INTERMEDIATE] = {"intermediate", "crl.pem", "/crl/intermediate.crl"},
    [CRL_ROOT] = {"ca", "ca-crl.pem", "/crl/ca.crl"},
};

static int crl_gfail(char *err, size_t errlen, const char *what, int ret)
{
    return errmsg_fail(err, errlen, "%s: %s", what, gnutls_strerror(ret));
}

/* Copy the serials of the CRL at path (if any) into crl, noting whether
 * serial is among them. */
static int crl_copy_old(const char *path, gnutls_x509_crl_t crl,
                        const unsigned char *serial, size_t serial_len,
                        bool *listed, char *err, size_t errlen)
{
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crl_t old;
    if (access(path, F_OK) != 0)
        return 0;
    int ret = gnutls_load_file(path, &data);
    if (ret >= 0 && (ret = gnutls_x509_crl_init(&old)) >= 0) {
        ret = gnutls_x509_crl_import(old, &data, GNUTLS_X509_FMT_PEM);
        int count = ret >= 0 ? gnutls_x509_crl_get_crt_count(old) : 0;
        for (int i = 0; ret >= 0 && i < count; i++) {
            unsigned char s[64];
            size_t len = sizeof s;
            time_t when;
            ret = gnutls_x509_crl_get_crt_serial(old, (unsigned)i, s, &len,
                                                 &when);
            if (ret >= 0)
                ret = gnutls_x509_crl_set_crt_serial(crl, s, len, when);
            if (serial && len == serial_len && memcmp(s, serial, len) == 0)
                *listed = true;
        }
        gnutls_x509_crl_deinit(old);
    }
    gnutls_free(data.data);
    return ret < 0 ? crl_gfail(err, errlen, path, ret) : 0;
}

/* Dates, authorityKeyId, number, signature. */
static int crl_finish(gnutls_x509_crl_t crl, gnutls_x509_crt_t issuer,
                      gnutls_x509_privkey_t key, time_t now)
{
    int ret = gnutls_x509_crl_set_version(crl, 2);
    if (ret >= 0)
        ret = gnutls_x509_crl_set_this_update(crl, now);
    if (ret >= 0)
        ret = gnutls_x509_crl_set_next_update(crl, now + CRL_VALID_SECS);
    unsigned char id[CRL_KEYID_MAX];
    size_t id_len = sizeof id;
    unsigned critical;
    if (ret >= 0)
        ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &id_len, &critical);
    if (ret >= 0)
        ret = gnutls_x509_crl_set_authority_key_id(crl, id, id_len);
    /* CRL number: the time, so later CRLs have larger numbers. */
    unsigned char number[8];
    for (int i = 0; i < 8; i++)
        number[i] = (unsigned char)((unsigned long long)now >> (56 - 8 * i));
    if (ret >= 0)
        ret = gnutls_x509_crl_set_number(crl, number, sizeof number);
    gnutls_privkey_t signer = NULL;
    if (ret >= 0 && (ret = gnutls_privkey_init(&signer)) >= 0 &&
        (ret = gnutls_privkey_import_x509(signer, key, 0)) >= 0)
        ret = gnutls_x509_crl_privkey_sign(crl, issuer, signer,
                                           GNUTLS_DIG_SHA256, 0);
    if (signer)
        gnutls_privkey_deinit(signer);
    return ret;
}

int crl_sign(const char *path, gnutls_x509_crt_t issuer,
             gnutls_x509_privkey_t key, bool reset,
             const unsigned char *serial, size_t serial_len, char *err,
             size_t errlen)
{
    gnutls_x509_crl_t crl;
    int ret = gnutls_x509_crl_init(&crl);
    if (ret < 0)
        return crl_gfail(err, errlen, path, ret);
    time_t now = time(NULL);
    bool listed = false;
    if (!reset &&
        crl_copy_old(path, crl, serial, serial_len, &listed, err, errlen) < 0) {
        gnutls_x509_crl_deinit(crl);
        return -1;
    }
    ret = 0;
    if (serial && !listed)
        ret = gnutls_x509_crl_set_crt_serial(crl, serial, serial_len, now);
    if (ret >= 0)
        ret = crl_finish(crl, issuer, key, now);
    gnutls_datum_t pem = {NULL, 0};
    if (ret >= 0)
        ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem);
    gnutls_x509_crl_deinit(crl);
    if (ret < 0)
        return crl_gfail(err, errlen, path, ret);
    rs_atomic_file a;
    int rc = 0;
    if (atomic_file_open(&a, path, 0644) < 0)
        rc = errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
    else if (fwrite(pem.data, 1, pem.size, a.f) != pem.size) {
        rc = errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
        atomic_file_abort(&a);
    } else if (atomic_file_commit(&a) < 0)
        rc = errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
    gnutls_free(pem.data);
    return rc;
}

/* thisUpdate of the PEM CRL at path, or -1 when it cannot be read. */
static time_t crl_file_this_update(const char *path)
{
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crl_t crl = NULL;
    time_t t = -1;
    if (gnutls_load_file(path, &data) >= 0 && gnutls_x509_crl_init(&crl) >= 0 &&
        gnutls_x509_crl_import(crl, &data, GNUTLS_X509_FMT_PEM) >= 0)
        t = gnutls_x509_crl_get_this_update(crl);
    if (crl)
        gnutls_x509_crl_deinit(crl);
    gnutls_free(data.data);
    return t;
}

/* The certificate and key of CA ca from certs_dir. */
static int crl_load_issuer(const char *certs_dir, const char *ca,
                           gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key,
                           char *err, size_t errlen)
{
    char path[CRL_PATH_MAX];
    gnutls_datum_t data = {NULL, 0};
    *crt = NULL;
    *key = NULL;
    snprintf(path, sizeof path, "%s/%s.pem", certs_dir, ca);
    int ret = gnutls_load_file(path, &data);
    if (ret >= 0 && (ret = gnutls_x509_crt_init(crt)) >= 0)
        ret = gnutls_x509_crt_import(*crt, &data, GNUTLS_X509_FMT_PEM);
    gnutls_free(data.data);
    data.data = NULL;
    if (ret >= 0) {
        snprintf(path, sizeof path, "%s/%s.key", certs_dir, ca);
        ret = gnutls_load_file(path, &data);
        if (ret >= 0 && (ret = gnutls_x509_privkey_init(key)) >= 0)
            ret = gnutls_x509_privkey_import2(*key, &data, GNUTLS_X509_FMT_PEM,
                                              NULL, 0);
        if (data.data) {
            gnutls_memset(data.data, 0, data.size);
            gnutls_free(data.data);
        }
    }
    if (ret >= 0)
        return 0;
    if (*crt)
        gnutls_x509_crt_deinit(*crt);
    if (*key)
        gnutls_x509_privkey_deinit(*key);
    *crt = NULL;
    *key = NULL;
    return crl_gfail(err, errlen, path, ret);
}

/* crl_refresh for one CRL. */
static int crl_refresh_one(const char *certs_dir, const crl_spec *spec,
                           time_t max_age, bool *resigned, char *err,
                           size_t errlen)
{
    char path[CRL_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", certs_dir, spec->file) >=
        (int)sizeof path)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    time_t this_update = crl_file_this_update(path);
    if (max_age > 0 && this_update >= 0 && time(NULL) - this_update < max_age)
        return 0;
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
    if (crl_load_issuer(certs_dir, spec->ca, &crt, &key, err, errlen) < 0)
        return -1;
    /* a missing file starts empty; a damaged one is an error, not a silent
     * loss of its serials */
    int rc = crl_sign(path, crt, key, false, NULL, 0, err, errlen);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    if (rc == 0)
        *resigned = true;
    return rc;
}

int crl_refresh(const char *certs_dir, time_t max_age, bool *resigned,
                char *err, size_t errlen)
{
    int rc = 0;
    *resigned = false;
    for (int i = 0; i < CRL_COUNT; i++)
        if (crl_refresh_one(certs_dir, &crl_specs[i], max_age, resigned, err,
                            errlen) < 0)
            rc = -1; /* err keeps the last failure */
    return rc;
}
