/* certcheck.c -- a domain's certificate against its catalog row
 * (certcheck.h), with GnuTLS's X.509 API. */
#include "certcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/x509.h>

#include "buf.h"
#include "log.h"

#define OUR_CA_PREFIX "xmpp-responder " /* the CNs init gives its roots */
#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"

__attribute__((format(printf, 2, 3))) static void
mismatch(certcheck_result *r, const char *fmt, ...)
{
    if (r->n_mismatches >= CERTCHECK_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->mismatches[r->n_mismatches++], sizeof r->mismatches[0], fmt, ap);
    va_end(ap);
}

/* ---- what the certificate is ---------------------------------------------------- */

/* EKU bits (CATALOG_EKU_*) and whether the extension is there at all. */
static unsigned eku_bits(gnutls_x509_crt_t crt, bool *present, char *out, size_t n)
{
    unsigned bits = 0;
    *present = false;
    out[0] = '\0';
    for (unsigned i = 0;; i++) {
        char oid[128];
        size_t size = sizeof oid;
        if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL) < 0)
            break;
        *present = true;
        if (strcmp(oid, OID_SERVER_AUTH) == 0) {
            bits |= CATALOG_EKU_SERVER;
            buf_strcatf(out, n, "%sserverAuth", out[0] ? " " : "");
        } else if (strcmp(oid, OID_CLIENT_AUTH) == 0) {
            bits |= CATALOG_EKU_CLIENT;
            buf_strcatf(out, n, "%sclientAuth", out[0] ? " " : "");
        } else {
            buf_strcatf(out, n, "%s%s", out[0] ? " " : "", oid);
        }
    }
    if (!*present)
        snprintf(out, n, "none");
    return bits;
}

/* Whether the dNSNames include name (any case); all of them into list. */
static bool dns_names(gnutls_x509_crt_t crt, const char *name, char *list, size_t n)
{
    bool found = false;
    for (unsigned i = 0;; i++) {
        char san[256];
        size_t size = sizeof san - 1;
        int type = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &size, NULL);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type != GNUTLS_SAN_DNSNAME)
            continue;
        san[size] = '\0';
        buf_strcatf(list, n, "%s%s", list[0] ? " " : "", san);
        found |= strcasecmp(san, name) == 0;
    }
    return found;
}

static void subject_cn(gnutls_x509_crt_t crt, bool issuer, char *out, size_t n)
{
    size_t size = n;
    int rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(
                          crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &size)
                    : gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
                                                    0, 0, out, &size);
    if (rc < 0)
        out[0] = '\0';
}

/* ---- the row's recipe ------------------------------------------------------------- */

static void certcheck_check_names(const catalog_cert_recipe *c, gnutls_x509_crt_t crt,
                                  const char *domain, const char *base, certcheck_result *r)
{
    char cn[256], want[300];
    subject_cn(crt, false, cn, sizeof cn);
    bool dns = dns_names(crt, domain, r->names, sizeof r->names);
    if (!r->names[0])
        snprintf(r->names, sizeof r->names, "%s%s", cn[0] ? "CN " : "(none)", cn);
    switch (c->names) {
    case CATALOG_NAMES_DNS:
        if (!dns)
            mismatch(r, "names: no dNSName %s (has %s)", domain, r->names);
        break;
    case CATALOG_NAMES_SAN_ONLY:
        if (!dns || cn[0])
            mismatch(r, "names: the row wants dNSName %s and no subject CN "
                        "(has %s%s%s)", domain, r->names, cn[0] ? ", CN " : "", cn);
        break;
    case CATALOG_NAMES_CN_ONLY:
        if (dns || strcasecmp(cn, domain) != 0)
            mismatch(r, "names: the row wants the domain in the CN only (has %s)",
                     r->names);
        break;
    case CATALOG_NAMES_WILDCARD:
        snprintf(want, sizeof want, "*.%s", base);
        if (!dns_names(crt, want, (char[8]){0}, 8))
            mismatch(r, "names: no dNSName %s (has %s)", want, r->names);
        break;
    case CATALOG_NAMES_SRV_TARGET:
        snprintf(want, sizeof want, "xmpp.%s", domain);
        if (dns || !dns_names(crt, want, (char[8]){0}, 8))
            mismatch(r, "names: the row wants %s only (has %s)", want, r->names);
        break;
    case CATALOG_NAMES_WRONG:
    case CATALOG_NAMES_XMPPADDR:
    case CATALOG_NAMES_SRVNAME:
        /* the point of these rows: no DNS-ID (nor CN) names the domain */
        if (dns || strcasecmp(cn, domain) == 0)
            mismatch(r, "names: %s is named, the row says it must not be", domain);
        break;
    }
}

static void check_key(const catalog_cert_recipe *c, gnutls_x509_crt_t crt,
                      certcheck_result *r)
{
    unsigned bits = 0;
    int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    if (pk == GNUTLS_PK_ECDSA)
        gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL);
    bool ok = c->key == CATALOG_KEY_ECDSA_P256 ? pk == GNUTLS_PK_ECDSA &&
                                                     curve == GNUTLS_ECC_CURVE_SECP256R1
              : pk == GNUTLS_PK_RSA && bits == (c->key == CATALOG_KEY_RSA2048 ? 2048u
                                                                               : 1024u);
    if (!ok)
        mismatch(r, "key: %s %u bits, not what the row says",
                 gnutls_pk_get_name((gnutls_pk_algorithm_t)pk), bits);
    int sign = gnutls_x509_crt_get_signature_algorithm(crt);
    bool sha1 = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign) ==
                GNUTLS_DIG_SHA1;
    if (sha1 != (c->sig == CATALOG_SIG_SHA1))
        mismatch(r, "signature: %s, the row says %s",
                 gnutls_sign_get_name((gnutls_sign_algorithm_t)sign),
                 c->sig == CATALOG_SIG_SHA1 ? "SHA-1" : "SHA-256");
}

static void check_issuer(const catalog_cert_recipe *c, const rs_domain *d,
                         bool public_instance, gnutls_x509_crt_t crt,
                         certcheck_result *r)
{
    char cn[256];
    size_t size = sizeof r->issuer;
    if (gnutls_x509_crt_get_issuer_dn(crt, r->issuer, &size) < 0)
        r->issuer[0] = '\0';
    subject_cn(crt, true, cn, sizeof cn);
    bool self = gnutls_x509_crt_check_issuer(crt, crt) == 1;
    snprintf(r->source, sizeof r->source, "%s",
             self || strncmp(cn, OUR_CA_PREFIX, strlen(OUR_CA_PREFIX)) == 0 ? "test-ca"
                                                                            : "acme");
    bool acme = public_instance && d->profile->source != CATALOG_SOURCE_TEST_CA;
    snprintf(r->expected, sizeof r->expected, "%s", acme ? "acme" : "test-ca");
    if (strcmp(r->source, r->expected) != 0)
        mismatch(r, "source: issued by %s; here the row's source is %s", cn,
                 acme ? catalog_public_text(d->profile) : "the test CA");
    if ((c->issuer == CATALOG_ISSUER_SELF) != self)
        mismatch(r, "issuer: %s, the row says %s", self ? "self-signed" : cn,
                 c->issuer == CATALOG_ISSUER_SELF ? "self-signed" : "a CA");
    if (c->issuer == CATALOG_ISSUER_INTERMEDIATE && !c->omit_chain && d->chain_len < 2)
        mismatch(r, "chain: the leaf alone is sent; the row sends the intermediate");
    if (c->omit_chain && d->chain_len > 1)
        mismatch(r, "chain: %u certificates sent; the row sends the leaf alone",
                 d->chain_len);
}

/* Certificate i of d's chain, imported; NULL when it cannot be read. */
static gnutls_x509_crt_t chain_crt(const rs_domain *d, unsigned i)
{
    gnutls_x509_crt_t crt;
    if (i >= d->chain_len || gnutls_x509_crt_init(&crt) < 0)
        return NULL;
    if (gnutls_x509_crt_import(crt, &d->chain[i].cert, GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return NULL;
    }
    return crt;
}

/* The chains that end with a cross-signature (catalog.h): three
 * certificates sent; gen-y's carry no clientAuth and its intermediate is
 * serverAuth only; expired-cross-sign's third is an expired signature of
 * the intermediate's issuer by another CA. */
static void check_cross_chain(const catalog_cert_recipe *c, const rs_domain *d,
                              int64_t now, certcheck_result *r)
{
    if (c->issuer != CATALOG_ISSUER_GEN_Y && c->issuer != CATALOG_ISSUER_EXPIRED_CROSS)
        return;
    if (d->chain_len != 3) {
        mismatch(r, "chain: %u certificates sent; the row sends leaf, "
                    "intermediate and a cross-signed root", d->chain_len);
        return;
    }
    gnutls_x509_crt_t crts[3] = {NULL, NULL, NULL};
    for (unsigned i = 0; i < 3; i++)
        if (!(crts[i] = chain_crt(d, i)))
            mismatch(r, "chain: certificate %u cannot be read", i + 1);
    if (crts[0] && crts[1] && crts[2]) {
        bool present, self = gnutls_x509_crt_check_issuer(crts[2], crts[2]) == 1;
        char ekus[48];
        if (c->issuer == CATALOG_ISSUER_GEN_Y) {
            for (unsigned i = 0; i < 3; i++)
                if (eku_bits(crts[i], &present, ekus, sizeof ekus) & CATALOG_EKU_CLIENT)
                    mismatch(r, "chain: certificate %u carries clientAuth; the "
                                "row's chain has none", i + 1);
            if (eku_bits(crts[1], &present, ekus, sizeof ekus) != CATALOG_EKU_SERVER)
                mismatch(r, "chain: the intermediate's EKU is %s, the row says "
                            "serverAuth only", ekus);
            if (self)
                mismatch(r, "chain: the third certificate is self-signed, the "
                            "row sends the new root cross-signed");
        } else {
            char want[256] = "", got[256] = "";
            size_t nw = sizeof want, ng = sizeof got;
            gnutls_x509_crt_get_issuer_dn(crts[1], want, &nw);
            gnutls_x509_crt_get_dn(crts[2], got, &ng);
            if (self || strcmp(want, got) != 0)
                mismatch(r, "chain: the third certificate is not the "
                            "intermediate's issuer signed by another CA");
            if ((int64_t)gnutls_x509_crt_get_expiration_time(crts[2]) > now)
                mismatch(r, "chain: the cross-signature sent has not expired, "
                            "the row says expired");
        }
    }
    for (unsigned i = 0; i < 3; i++)
        if (crts[i])
            gnutls_x509_crt_deinit(crts[i]);
}

static void check_validity(const catalog_cert_recipe *c, int64_t now,
                           certcheck_result *r)
{
    bool before = now < r->not_before, after = now >= r->not_after;
    const char *is = before ? "not yet valid" : after ? "expired" : "valid now";
    const char *want = c->validity == CATALOG_VALID_EXPIRED   ? "expired"
                       : c->validity == CATALOG_VALID_NOT_YET ? "not yet valid"
                                                              : "valid now";
    if (strcmp(is, want) != 0)
        mismatch(r, "validity: %s, the row says %s", is, want);
}

void certcheck_domain(const rs_domain *d, const char *base, bool public_instance,
                      int64_t now, certcheck_result *out)
{
    memset(out, 0, sizeof *out);
    out->chain_len = d->chain_len;
    gnutls_x509_crt_t crt;
    if (d->chain_len == 0 || gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &d->chain[0].cert, GNUTLS_X509_FMT_DER) < 0) {
        mismatch(out, "the certificate cannot be read");
        gnutls_x509_crt_deinit(crt);
        return;
    }
    const catalog_cert_recipe *c = &d->profile->cert;
    out->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
    out->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
    check_issuer(c, d, public_instance, crt, out);
    bool present;
    unsigned bits = eku_bits(crt, &present, out->ekus, sizeof out->ekus);
    if (c->eku == CATALOG_EKU_NONE ? present : bits != c->eku)
        mismatch(out, "EKU: %s, the row says %s", out->ekus,
                 c->eku == CATALOG_EKU_NONE ? "none"
                 : c->eku == CATALOG_EKU_SERVER ? "serverAuth only"
                 : c->eku == CATALOG_EKU_CLIENT ? "clientAuth only"
                                                : "serverAuth clientAuth");
    certcheck_check_names(c, crt, d->name, base, out);
    unsigned char skid[64];
    size_t skid_len = sizeof skid;
    if (c->no_skid && gnutls_x509_crt_get_subject_key_id(crt, skid, &skid_len, NULL) >= 0)
        mismatch(out, "key id: the leaf has a subject key identifier, the row "
                      "says none");
    check_cross_chain(c, d, now, out);
    check_validity(c, now, out);
    check_key(c, crt, out);
    gnutls_x509_crt_deinit(crt);
}

void certcheck_summary(const certcheck_result *r, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < r->n_mismatches; i++)
        buf_strcatf(out, n, "%s%s", i ? "; " : "", r->mismatches[i]);
}

bool certcheck_mark_domain(rs_config *cfg, const rs_domains *ds, size_t i,
                           int64_t now)
{
    if (i >= ds->n || i >= cfg->n_domains)
        return false;
    certcheck_result r;
    certcheck_domain(&ds->items[i], cfg->base_domain, cfg->public_instance, now, &r);
    char text[CERTCHECK_MAX * 170];
    certcheck_summary(&r, text, sizeof text);
    free(cfg->domains[i].cert_mismatch);
    cfg->domains[i].cert_mismatch = text[0] ? strdup(text) : NULL;
    if (text[0])
        log_msg(RS_LOG_WARN, "certificate of %s does not match its row (%s): %s",
                ds->items[i].name, ds->items[i].profile->label, text);
    return text[0] != '\0';
}

size_t certcheck_mark_config(rs_config *cfg, const rs_domains *ds, int64_t now)
{
    size_t bad = 0;
    for (size_t i = 0; i < ds->n; i++)
        bad += certcheck_mark_domain(cfg, ds, i, now);
    return bad;
}
