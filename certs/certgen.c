/* certgen.c -- the test PKI and one leaf per test domain, from catalog
 * recipes, with the GnuTLS x509 API.
 *
 * State lives only in the files: a CA is kept when its PEM and key exist and
 * it is still signed by its parent (same DN and authorityKeyId = the parent's
 * subjectKeyId) and names the CRL Distribution Point asked for; a leaf
 * likewise. The CRLs are kept by crl.h.
 */
#include "certgen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include "certgen_internal.h"
#include "crl.h"
#include "errmsg.h"

#define LEAF_NEUTRAL_CN "xmpp-responder test leaf" /* not a domain name */

/* The CAs certgen_pki maintains, parents before children. */
typedef struct cg_ca_spec {
    const char *file; /* basename of FILE.pem / FILE.key */
    const char *cn;   /* subject common name */
    int parent;       /* index of the signer in cg_cas, -1 = self-signed */
    int pathlen;      /* basicConstraints pathLenConstraint, -1 = none */
    int crl;          /* the CRL it signs and publishes (crl_specs), -1 = none */
    unsigned eku;     /* CATALOG_EKU_* bits; 0 = no EKU extension */
} cg_ca_spec;

enum {
    CG_ROOT,
    CG_INTERMEDIATE,
    CG_UNTRUSTED,
    CG_GEN_Y_ROOT,         /* a new root nobody trusts by itself */
    CG_GEN_Y_INTERMEDIATE, /* under it, serverAuth only, as Let's Encrypt's
                              Generation Y intermediates */
    CG_NCAS
};

static const cg_ca_spec cg_cas[CG_NCAS] = {
    [CG_ROOT] = {"ca", "xmpp-responder test root", -1, -1, CRL_ROOT,
                 CATALOG_EKU_NONE},
    [CG_INTERMEDIATE] = {"intermediate", "xmpp-responder test intermediate",
                         CG_ROOT, 0, CRL_INTERMEDIATE, CATALOG_EKU_NONE},
    [CG_UNTRUSTED] = {"untrusted-ca", "xmpp-responder untrusted root", -1, -1,
                      -1, CATALOG_EKU_NONE},
    [CG_GEN_Y_ROOT] = {"gen-y-root", "xmpp-responder gen-y root", -1, -1, -1,
                       CATALOG_EKU_NONE},
    [CG_GEN_Y_INTERMEDIATE] = {"gen-y-intermediate",
                               "xmpp-responder gen-y intermediate",
                               CG_GEN_Y_ROOT, 0, -1, CATALOG_EKU_SERVER},
};

/* A cross-signature: CA `subject`'s name and key in a certificate that CA
 * `signer` signed, so a verifier can reach `signer` from what `subject`
 * issued. No key file of its own: the key is the subject's. */
typedef struct cg_cross_spec {
    const char *file; /* FILE.pem */
    int subject;      /* the CA cross-signed (index in cg_cas) */
    int signer;       /* the CA that signs the cross-signature */
    bool expired;     /* ended a month ago */
} cg_cross_spec;

enum { CG_CROSS_GEN_Y, CG_CROSS_EXPIRED, CG_NCROSSES };

static const cg_cross_spec cg_crosses[CG_NCROSSES] = {
    /* the new root reachable from the trusted one (ISRG Root YR by X1) */
    [CG_CROSS_GEN_Y] = {"gen-y-root-cross", CG_GEN_Y_ROOT, CG_ROOT, false},
    /* the trusted root, also signed by a root that has since gone, its
     * signature expired (ISRG Root X1 by DST Root X3) */
    [CG_CROSS_EXPIRED] = {"ca-cross-expired", CG_ROOT, CG_UNTRUSTED, true},
};


/* The CRL Distribution Point of what CA signer (index in cg_cas, -1 = self)
 * signs, into out: crl_base + the path of the signer's CRL; NULL when
 * crl_base is NULL or the signer publishes none. */
static const char *cg_cdp_url(char *out, size_t len, const char *crl_base,
                              int signer)
{
    if (!crl_base || signer < 0 || cg_cas[signer].crl < 0)
        return NULL;
    int n = snprintf(out, len, "%s%s", crl_base,
                     crl_specs[cg_cas[signer].crl].url_path);
    return n < 0 || (size_t)n >= len ? NULL : out;
}

/* Start a certificate for CA spec's name and out->key, signed by issuer
 * (NULL: self), with the CA extensions, valid from..until, and sign it. */
static int cg_sign_ca(certgen_pair *out, const cg_ca_spec *spec,
                      const certgen_pair *issuer, time_t from, time_t until,
                      const char *cdp)
{
    int ret = certgen_start_crt(out, spec->cn, "xmpp-responder", issuer, true);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_activation_time(out->crt, from);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_expiration_time(out->crt, until);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_basic_constraints(out->crt, 1, spec->pathlen);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_key_usage(out->crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                          GNUTLS_KEY_CRL_SIGN);
    if (ret >= 0)
        ret = certgen_set_eku(out->crt, spec->eku);
    if (ret >= 0 && cdp)
        ret = gnutls_x509_crt_set_crl_dist_points(out->crt, GNUTLS_SAN_URI, cdp,
                                                  0);
    if (ret >= 0)
        ret = certgen_sign(out->crt, out->key, issuer, GNUTLS_DIG_SHA256);
    return ret;
}

/* A CA certificate: ECDSA P-256, keyCertSign+cRLSign, valid from two years
 * ago (so expired leaves still fall inside their issuer's window) for ten
 * years from now; cdp its CRL Distribution Point (NULL = none). */
static int cg_make_ca(certgen_pair *out, const cg_ca_spec *spec,
                      const certgen_pair *issuer, const char *cdp, char *err,
                      size_t errlen)
{
    time_t now = time(NULL);
    if (certgen_new_key(&out->key, CATALOG_KEY_ECDSA_P256, err, errlen) < 0)
        return -1;
    int ret = cg_sign_ca(out, spec, issuer, now - 2 * YEAR_SECS,
                         now + 10 * YEAR_SECS, cdp);
    return ret < 0 ? certgen_gfail(err, errlen, spec->cn, ret) : 0;
}

/* Cross-signature x of the CAs in cas: from a year ago for five years,
 * or, expired, for the year that ended 30 days ago (both inside the
 * signer's window). */
static int cg_make_cross(gnutls_x509_crt_t *out, const cg_cross_spec *x,
                         const certgen_pair *cas, const char *cdp, char *err,
                         size_t errlen)
{
    time_t now = time(NULL), from = now - YEAR_SECS, until = now + 5 * YEAR_SECS;
    if (x->expired) {
        until = now - 30 * DAY_SECS;
        from = until - YEAR_SECS;
    }
    certgen_pair cross = {NULL, cas[x->subject].key}; /* the key is borrowed */
    int ret = cg_sign_ca(&cross, &cg_cas[x->subject], &cas[x->signer], from,
                         until, cdp);
    *out = cross.crt;
    return ret < 0 ? certgen_gfail(err, errlen, x->file, ret) : 0;
}

/* Load CA i from certs_dir. */
static int cg_load_ca(const char *certs_dir, int i, certgen_pair *out, char *err,
                      size_t errlen)
{
    char pem[4096], key[4096];
    if (certgen_path(pem, sizeof pem, certs_dir, cg_cas[i].file, ".pem") < 0 ||
        certgen_path(key, sizeof key, certs_dir, cg_cas[i].file, ".key") < 0)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    if (!certgen_exists(pem) || !certgen_exists(key))
        return errmsg_fail(err, errlen, "%s: missing (create the PKI first)", pem);
    return certgen_load_pair(pem, key, out, err, errlen);
}

/* Keep CA i if present, still signed by its (kept) parent and naming the
 * CDP asked for now, else make it. *fresh tells the children whether they
 * must be re-signed. */
static int cg_ensure_ca(const char *certs_dir, const char *crl_base, int i,
                        certgen_pair *cas, const bool *parent_fresh, bool force,
                        bool *fresh, char *err, size_t errlen)
{
    const cg_ca_spec *spec = &cg_cas[i];
    const certgen_pair *parent = spec->parent >= 0 ? &cas[spec->parent] : NULL;
    char pem[4096], key[4096], url[1024];
    const char *cdp = cg_cdp_url(url, sizeof url, crl_base, spec->parent);
    if (certgen_path(pem, sizeof pem, certs_dir, spec->file, ".pem") < 0 ||
        certgen_path(key, sizeof key, certs_dir, spec->file, ".key") < 0)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    bool regen = force || !certgen_exists(pem) || !certgen_exists(key) ||
                 (parent && parent_fresh[spec->parent]);
    if (!regen) {
        if (certgen_load_pair(pem, key, &cas[i], err, errlen) < 0)
            return -1;
        regen = (parent && !certgen_issued_by(cas[i].crt, parent->crt)) ||
                !certgen_cdp_is(cas[i].crt, cdp);
        if (regen)
            certgen_pair_free(&cas[i]);
    }
    *fresh = regen;
    if (!regen)
        return 0;
    if (cg_make_ca(&cas[i], spec, parent, cdp, err, errlen) < 0 ||
        certgen_save_key(key, cas[i].key, err, errlen) < 0 ||
        certgen_save_chain(pem, &cas[i].crt, 1, err, errlen) < 0)
        return -1;
    return 0;
}

/* Keep cross-signature x if present, still signed by its signer, for its
 * subject's key and naming the CDP asked for, else make it. */
static int cg_ensure_cross(const char *certs_dir, const char *crl_base,
                           const cg_cross_spec *x, const certgen_pair *cas,
                           const bool *fresh, bool force, char *err,
                           size_t errlen)
{
    char pem[4096], url[1024];
    const char *cdp = cg_cdp_url(url, sizeof url, crl_base, x->signer);
    if (certgen_path(pem, sizeof pem, certs_dir, x->file, ".pem") < 0)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    gnutls_x509_crt_t crt = NULL;
    bool regen = force || !certgen_exists(pem) || fresh[x->subject] || fresh[x->signer];
    if (!regen) {
        if (certgen_load_crt(pem, &crt, err, errlen) < 0)
            return -1;
        regen = !certgen_issued_by(crt, cas[x->signer].crt) ||
                !certgen_same_key(crt, cas[x->subject].crt) || !certgen_cdp_is(crt, cdp);
        gnutls_x509_crt_deinit(crt);
        crt = NULL;
    }
    if (!regen)
        return 0;
    int ret = cg_make_cross(&crt, x, cas, cdp, err, errlen);
    if (ret == 0)
        ret = certgen_save_chain(pem, &crt, 1, err, errlen);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    return ret;
}

/* Rewrite the CRL of CA i (crl.h): the old serials unless reset, plus
 * serial when given. */
static int cg_crl_write(const char *certs_dir, int i, const certgen_pair *ca,
                        bool reset, const unsigned char *serial,
                        size_t serial_len, char *err, size_t errlen)
{
    char path[4096];
    if (certgen_path(path, sizeof path, certs_dir, crl_specs[cg_cas[i].crl].file,
                "") < 0)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    return crl_sign(path, ca->crt, ca->key, reset, serial, serial_len, err,
                    errlen);
}

int certgen_pki(const char *certs_dir, const char *crl_base, bool force,
                char *err, size_t errlen)
{
    if (mkdir(certs_dir, 0700) != 0 && errno != EEXIST)
        return errmsg_fail(err, errlen, "%s: %s", certs_dir, strerror(errno));
    struct stat st;
    if (stat(certs_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return errmsg_fail(err, errlen, "%s: not a directory", certs_dir);
    /* mkdir obeys the umask and an existing directory keeps its mode. */
    if (chmod(certs_dir, 0700) != 0)
        return errmsg_fail(err, errlen, "%s: %s", certs_dir, strerror(errno));
    certgen_pair cas[CG_NCAS] = {{NULL, NULL}};
    bool fresh[CG_NCAS] = {false};
    int ret = 0;
    for (int i = 0; i < CG_NCAS && ret == 0; i++)
        ret = cg_ensure_ca(certs_dir, crl_base, i, cas, fresh, force,
                           &fresh[i], err, errlen);
    for (int i = 0; i < CG_NCROSSES && ret == 0; i++)
        ret = cg_ensure_cross(certs_dir, crl_base, &cg_crosses[i], cas, fresh,
                              force, err, errlen);
    /* a CA made anew has revoked nothing yet */
    for (int i = 0; i < CG_NCAS && ret == 0; i++)
        if (cg_cas[i].crl >= 0)
            ret = cg_crl_write(certs_dir, i, &cas[i], fresh[i], NULL, 0, err,
                               errlen);
    for (int i = 0; i < CG_NCAS; i++)
        certgen_pair_free(&cas[i]);
    return ret;
}

/* Validity per recipe: now = from yesterday for a year; expired = ended 30
 * days ago after a year; not-yet = starts in a year, for a year. */
static int cg_leaf_validity(gnutls_x509_crt_t crt, catalog_validity v)
{
    time_t now = time(NULL), from = now - DAY_SECS, until = from + YEAR_SECS;
    switch (v) {
    case CATALOG_VALID_NOW:
        break;
    case CATALOG_VALID_EXPIRED:
        until = now - 30 * DAY_SECS;
        from = until - YEAR_SECS;
        break;
    case CATALOG_VALID_NOT_YET:
        from = now + YEAR_SECS;
        until = from + YEAR_SECS;
        break;
    }
    int ret = gnutls_x509_crt_set_activation_time(crt, from);
    return ret < 0 ? ret : gnutls_x509_crt_set_expiration_time(crt, until);
}

/* The subject CN for a recipe's names, into cn. */
static int cg_leaf_cn(char *cn, size_t len, const char *domain,
                      const char *base, const catalog_profile *p)
{
    int n = 0;
    switch (p->cert.names) {
    case CATALOG_NAMES_DNS:
    case CATALOG_NAMES_CN_ONLY:
    case CATALOG_NAMES_SAN_ONLY: /* the name for the SAN; no subject */
        n = snprintf(cn, len, "%s", domain);
        break;
    case CATALOG_NAMES_WRONG:
        n = snprintf(cn, len, "wrong-name-%s.invalid", p->label);
        break;
    case CATALOG_NAMES_XMPPADDR:
    case CATALOG_NAMES_SRVNAME:
        /* The names must appear only in the otherName, or a peer that falls
         * back to the CN would pass for the wrong reason. */
        n = snprintf(cn, len, "%s", LEAF_NEUTRAL_CN);
        break;
    case CATALOG_NAMES_WILDCARD:
        n = snprintf(cn, len, "*.%s", base ? base : "");
        break;
    case CATALOG_NAMES_SRV_TARGET: /* the host the zone's SRV points at */
        n = snprintf(cn, len, CATALOG_SRV_TARGET_HOST ".%s", domain);
        break;
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A subjectAltName of one dNSName, critical: RFC 5280 4.2.1.6 wants it so
 * when the subject is empty. */
static int cg_critical_dns_san(gnutls_x509_crt_t crt, const char *name)
{
    gnutls_subject_alt_names_t sans;
    gnutls_datum_t der = {NULL, 0};
    gnutls_datum_t value = {(unsigned char *)name, (unsigned)strlen(name)};
    int ret = gnutls_subject_alt_names_init(&sans);
    if (ret < 0)
        return ret;
    ret = gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME, &value, NULL);
    if (ret >= 0)
        ret = gnutls_x509_ext_export_subject_alt_names(sans, &der);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_extension_by_oid(crt, GNUTLS_X509EXT_OID_SAN,
                                                   der.data, der.size, 1);
    gnutls_free(der.data);
    gnutls_subject_alt_names_deinit(sans);
    return ret;
}

/* subjectAltName per recipe. The GnuTLS virtual SAN types encode
 * id-on-xmppAddr as UTF8String and SRVName as IA5String, as RFC 6120 and
 * RFC 4985 require. */
static int cg_leaf_san(gnutls_x509_crt_t crt, const char *domain,
                       const char *cn, const catalog_profile *p)
{
    char srv[300];
    switch (p->cert.names) {
    case CATALOG_NAMES_DNS:
    case CATALOG_NAMES_WRONG:
    case CATALOG_NAMES_WILDCARD:
    case CATALOG_NAMES_SRV_TARGET:
        return gnutls_x509_crt_set_subject_alt_name(
            crt, GNUTLS_SAN_DNSNAME, cn, (unsigned)strlen(cn), GNUTLS_FSAN_SET);
    case CATALOG_NAMES_CN_ONLY:
        return 0;
    case CATALOG_NAMES_SAN_ONLY:
        return cg_critical_dns_san(crt, cn);
    case CATALOG_NAMES_XMPPADDR:
        return gnutls_x509_crt_set_subject_alt_name(
            crt, GNUTLS_SAN_OTHERNAME_XMPP, domain, (unsigned)strlen(domain),
            GNUTLS_FSAN_SET);
    case CATALOG_NAMES_SRVNAME:
        if (snprintf(srv, sizeof srv, "_xmpp-server.%s", domain) >=
            (int)sizeof srv)
            return GNUTLS_E_INVALID_REQUEST;
        return gnutls_x509_crt_set_subject_alt_name(
            crt, GNUTLS_SAN_OTHERNAME_SRV, srv, (unsigned)strlen(srv),
            GNUTLS_FSAN_SET);
    }
    return GNUTLS_E_INVALID_REQUEST;
}

/* Build and sign the leaf for domain; issuer NULL = self-signed; cdp the
 * URL of the issuer's CRL (NULL = no CRL Distribution Point). */
static int cg_make_leaf(certgen_pair *out, const char *domain, const char *base,
                        const catalog_profile *p, const certgen_pair *issuer,
                        const char *cdp, char *err, size_t errlen)
{
    char cn[300];
    if (cg_leaf_cn(cn, sizeof cn, domain, base, p) < 0)
        return errmsg_fail(err, errlen, "%s: name too long", domain);
    if (certgen_new_key(&out->key, p->cert.key, err, errlen) < 0)
        return -1;
    unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    if (p->cert.key != CATALOG_KEY_ECDSA_P256)
        usage |= GNUTLS_KEY_KEY_ENCIPHERMENT; /* RSA key exchange */
    bool subject = p->cert.names != CATALOG_NAMES_SAN_ONLY;
    int ret = certgen_start_crt(out, subject ? cn : NULL, NULL, issuer,
                           !p->cert.no_skid);
    if (ret >= 0)
        ret = cg_leaf_validity(out->crt, p->cert.validity);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_basic_constraints(out->crt, 0, -1);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_key_usage(out->crt, usage);
    if (ret >= 0)
        ret = certgen_set_eku(out->crt, p->cert.eku);
    if (ret >= 0)
        ret = cg_leaf_san(out->crt, domain, cn, p);
    if (ret >= 0 && cdp)
        ret = gnutls_x509_crt_set_crl_dist_points(out->crt, GNUTLS_SAN_URI, cdp,
                                                  0);
    /* GnuTLS 3.7 still signs with SHA-1 (only verification is refused by
     * default); a system policy forbidding it surfaces as this error. */
    if (ret >= 0)
        ret = certgen_sign(out->crt, out->key, issuer,
                      p->cert.sig == CATALOG_SIG_SHA1 ? GNUTLS_DIG_SHA1
                                                  : GNUTLS_DIG_SHA256);
    return ret < 0 ? certgen_gfail(err, errlen, domain, ret) : 0;
}

/* Domain names become file names: refuse anything that could leave the
 * directory or hide the file. */
static bool cg_domain_ok(const char *domain)
{
    return domain && domain[0] && domain[0] != '.' && !strchr(domain, '/') &&
           strlen(domain) <= 253;
}

/* Which CA signs this recipe's leaf, or -1 for self-signed. */
static int cg_signer_index(const catalog_profile *p)
{
    switch (p->cert.issuer) {
    case CATALOG_ISSUER_INTERMEDIATE: return CG_INTERMEDIATE;
    case CATALOG_ISSUER_UNTRUSTED: return CG_UNTRUSTED;
    case CATALOG_ISSUER_SELF: return -1;
    case CATALOG_ISSUER_GEN_Y: return CG_GEN_Y_INTERMEDIATE;
    case CATALOG_ISSUER_EXPIRED_CROSS: return CG_INTERMEDIATE;
    }
    return -1;
}

/* The cross-signature the recipe's chain ends with (index in cg_crosses),
 * or -1: the chain is the leaf and its issuer. */
static int cg_chain_cross(const catalog_profile *p)
{
    switch (p->cert.issuer) {
    case CATALOG_ISSUER_GEN_Y: return CG_CROSS_GEN_Y;
    case CATALOG_ISSUER_EXPIRED_CROSS: return CG_CROSS_EXPIRED;
    default: return -1;
    }
}

/* Whether the chain in pem ends with cross (its third certificate); true
 * when cross is NULL. A re-made cross-signature re-makes the chain. */
static bool cg_chain_ends_with(const char *pem, gnutls_x509_crt_t cross)
{
    if (!cross)
        return true;
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    bool same = false;
    if (gnutls_load_file(pem, &data) >= 0 &&
        gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0) >= 0) {
        same = n == CHAIN_MAX && gnutls_x509_crt_equals(crts[n - 1], cross);
        for (unsigned i = 0; i < n; i++)
            gnutls_x509_crt_deinit(crts[i]);
        gnutls_free(crts);
    }
    gnutls_free(data.data);
    return same;
}

/* List the leaf's serial in crl.pem (no-op when already there). */
static int cg_revoke(const char *certs_dir, gnutls_x509_crt_t leaf, char *err,
                     size_t errlen)
{
    certgen_pair inter = {NULL, NULL};
    unsigned char serial[64];
    size_t len = sizeof serial;
    int ret = gnutls_x509_crt_get_serial(leaf, serial, &len);
    if (ret < 0)
        return certgen_gfail(err, errlen, "serial", ret);
    if (cg_load_ca(certs_dir, CG_INTERMEDIATE, &inter, err, errlen) < 0)
        return -1;
    ret = cg_crl_write(certs_dir, CG_INTERMEDIATE, &inter, false, serial, len,
                       err, errlen);
    certgen_pair_free(&inter);
    return ret;
}

/* Make, sign and write DOMAIN.key then DOMAIN.pem (key first: a missing PEM
 * makes the next run regenerate both); the chain is the leaf, its signer
 * (unless omitted) and cross when not NULL. */
static int cg_write_leaf(const char *certs_dir, const char *pem,
                         const char *key, const char *domain, const char *base,
                         const catalog_profile *p, const certgen_pair *signer,
                         gnutls_x509_crt_t cross, const char *cdp, char *err,
                         size_t errlen)
{
    certgen_pair leaf = {NULL, NULL};
    int ret = cg_make_leaf(&leaf, domain, base, p, signer, cdp, err, errlen);
    if (ret == 0)
        ret = certgen_save_key(key, leaf.key, err, errlen);
    if (ret == 0) {
        gnutls_x509_crt_t chain[CHAIN_MAX] = {leaf.crt, signer ? signer->crt : NULL,
                                              cross};
        size_t n = signer && !p->cert.omit_chain ? (cross ? 3 : 2) : 1;
        ret = certgen_save_chain(pem, chain, n, err, errlen);
    }
    if (ret == 0 && p->cert.revoked)
        ret = cg_revoke(certs_dir, leaf.crt, err, errlen);
    certgen_pair_free(&leaf);
    return ret;
}

/* DOMAIN{suffix}.pem and .key following p->cert; leaves of a CA that
 * publishes a CRL name it under crl_base (when not NULL) as their CRL
 * Distribution Point. */
static int cg_domain_files(const char *certs_dir, const char *domain,
                           const char *suffix, const char *base,
                           const char *crl_base, const catalog_profile *p,
                           bool force, char *err, size_t errlen)
{
    char pem[4096], key[4096], pem_ext[32], key_ext[32];
    snprintf(pem_ext, sizeof pem_ext, "%s.pem", suffix);
    snprintf(key_ext, sizeof key_ext, "%s.key", suffix);
    if (!cg_domain_ok(domain))
        return errmsg_fail(err, errlen, "'%s': not usable as a domain file name",
                       domain ? domain : "(null)");
    if (p->cert.names == CATALOG_NAMES_WILDCARD && (!base || !*base))
        return errmsg_fail(err, errlen, "%s: wildcard recipe needs a base domain",
                       domain);
    if (certgen_path(pem, sizeof pem, certs_dir, domain, pem_ext) < 0 ||
        certgen_path(key, sizeof key, certs_dir, domain, key_ext) < 0)
        return errmsg_fail(err, errlen, "%s: path too long", certs_dir);
    certgen_pair signer = {NULL, NULL};
    int si = cg_signer_index(p);
    char url[1024];
    const char *cdp = cg_cdp_url(url, sizeof url, crl_base, si);
    if (si >= 0 && cg_load_ca(certs_dir, si, &signer, err, errlen) < 0)
        return -1;
    gnutls_x509_crt_t cross = NULL;
    int xi = cg_chain_cross(p);
    char cross_pem[4096];
    if (xi >= 0 && (certgen_path(cross_pem, sizeof cross_pem, certs_dir,
                            cg_crosses[xi].file, ".pem") < 0 ||
                    certgen_load_crt(cross_pem, &cross, err, errlen) < 0)) {
        certgen_pair_free(&signer);
        return -1;
    }
    int ret = 1; /* 1 = still to be generated */
    if (!force && certgen_exists(pem) && certgen_exists(key)) {
        certgen_pair old = {NULL, NULL};
        if (certgen_load_pair(pem, key, &old, err, errlen) < 0) {
            certgen_pair_free(&signer);
            if (cross)
                gnutls_x509_crt_deinit(cross);
            return -1;
        }
        if ((!signer.crt || certgen_issued_by(old.crt, signer.crt)) &&
            certgen_cdp_is(old.crt, cdp) && cg_chain_ends_with(pem, cross))
            ret = p->cert.revoked ? cg_revoke(certs_dir, old.crt, err, errlen)
                                  : 0;
        certgen_pair_free(&old);
    }
    if (ret == 1)
        ret = cg_write_leaf(certs_dir, pem, key, domain, base, p,
                            si >= 0 ? &signer : NULL, cross, cdp, err, errlen);
    certgen_pair_free(&signer);
    if (cross)
        gnutls_x509_crt_deinit(cross);
    return ret;
}

int certgen_domain(const char *certs_dir, const char *domain, const char *base,
                   const char *crl_base, const catalog_profile *p, bool force,
                   char *err, size_t errlen)
{
    return cg_domain_files(certs_dir, domain, "", base, crl_base, p, force, err,
                           errlen);
}

int certgen_https(const char *certs_dir, const char *domain,
                  const char *crl_base, bool force, char *err, size_t errlen)
{
    /* what a web server of the domain would have: a normal leaf */
    static const catalog_profile web = {
        .label = "https",
        .cert = {.key = CATALOG_KEY_ECDSA_P256, .eku = CATALOG_EKU_SERVER,
                 .validity = CATALOG_VALID_NOW, .issuer = CATALOG_ISSUER_INTERMEDIATE,
                 .names = CATALOG_NAMES_DNS, .sig = CATALOG_SIG_SHA256},
    };
    return cg_domain_files(certs_dir, domain, ".https", NULL, crl_base, &web,
                           force, err, errlen);
}

int certgen_spki_sha256(const char *path, char out[65], char *err,
                        size_t errlen)
{
    gnutls_datum_t pem = {0}, spki = {0};
    gnutls_x509_crt_t crt = NULL;
    gnutls_pubkey_t key = NULL;
    unsigned char digest[32];
    int rc = gnutls_load_file(path, &pem);
    if (rc >= 0)
        rc = gnutls_x509_crt_init(&crt);
    if (rc >= 0)
        rc = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM);
    if (rc >= 0)
        rc = gnutls_pubkey_init(&key);
    if (rc >= 0)
        rc = gnutls_pubkey_import_x509(key, crt, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki);
    if (rc >= 0)
        rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest);
    if (rc >= 0) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < sizeof digest; i++) {
            out[2 * i] = hex[digest[i] >> 4];
            out[2 * i + 1] = hex[digest[i] & 15];
        }
        out[64] = '\0';
    } else {
        snprintf(err, errlen, "%s: %s", path, gnutls_strerror(rc));
    }
    gnutls_free(pem.data);
    gnutls_free(spki.data);
    if (key)
        gnutls_pubkey_deinit(key);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    return rc < 0 ? -1 : 0;
}
