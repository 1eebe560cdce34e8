/* test_certs.c -- certgen: generate the PKI and a leaf for every catalog row
 * (and for synthetic rows covering recipe fields no row uses yet), read them
 * back with GnuTLS and check each property the recipe claims. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include "catalog.h"
#include "certgen.h"
#include "check.h"
#include "crl.h"
#include "certs_testlib.h"

#define BASE "test.example"
#define CDP_BASE "http://" BASE ":5280"
#define CDP_URL CDP_BASE "/crl/intermediate.crl"
#define DAY (24 * 60 * 60)

static char dir[] = "/tmp/test_certs.XXXXXX";
static char certs[256];

/* The normal recipe; synthetic rows override one field each. */
#define GOOD                                                                \
    .key = CATALOG_KEY_ECDSA_P256, .eku = CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT,      \
    .validity = CATALOG_VALID_NOW, .issuer = CATALOG_ISSUER_INTERMEDIATE,           \
    .names = CATALOG_NAMES_DNS, .sig = CATALOG_SIG_SHA256

#define SYN(lbl, ...)                                                       \
    {.label = lbl, .kind = CATALOG_KIND_CERT, .breaks = lbl,                    \
     .strict = CATALOG_EXPECT_REFUSE, .cert = {GOOD, __VA_ARGS__},              \
     .dns = CATALOG_DNS_SRV, .description = lbl}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const catalog_profile synthetic[] = {
    SYN("syn-rsa1024", .key = CATALOG_KEY_RSA1024),
    SYN("syn-rsa2048", .key = CATALOG_KEY_RSA2048, .eku = CATALOG_EKU_SERVER),
    SYN("syn-sha1", .sig = CATALOG_SIG_SHA1),
    SYN("syn-xmppaddr", .names = CATALOG_NAMES_XMPPADDR),
    SYN("syn-srvname", .names = CATALOG_NAMES_SRVNAME),
    SYN("syn-wildcard", .names = CATALOG_NAMES_WILDCARD),
    SYN("syn-cn-only", .names = CATALOG_NAMES_CN_ONLY),
    SYN("syn-wrong", .names = CATALOG_NAMES_WRONG),
    SYN("syn-omit-chain", .omit_chain = true),
    SYN("syn-revoked", .revoked = true),
    SYN("syn-no-eku", .eku = CATALOG_EKU_NONE),
    SYN("syn-client-only", .eku = CATALOG_EKU_CLIENT),
    SYN("syn-not-yet", .validity = CATALOG_VALID_NOT_YET),
    SYN("syn-expired", .validity = CATALOG_VALID_EXPIRED),
    SYN("syn-self", .issuer = CATALOG_ISSUER_SELF),
    SYN("syn-untrusted", .issuer = CATALOG_ISSUER_UNTRUSTED),
    SYN("syn-srv-target", .names = CATALOG_NAMES_SRV_TARGET),
    SYN("syn-self-wrong", .issuer = CATALOG_ISSUER_SELF, .names = CATALOG_NAMES_WRONG),
};
#pragma GCC diagnostic pop

static void path_of(char *out, size_t len, const char *name, const char *ext)
{
    snprintf(out, len, "%s/%s%s", certs, name, ext);
}

/* First certificate of a PEM file, or NULL. */
static gnutls_x509_crt_t load_one(const char *name)
{
    char path[1024];
    unsigned n;
    path_of(path, sizeof path, name, ".pem");
    gnutls_x509_crt_t *crts = load_chain(path, &n), first = NULL;
    if (n > 0) {
        first = crts[0];
        for (unsigned i = 1; i < n; i++)
            gnutls_x509_crt_deinit(crts[i]);
        gnutls_free(crts);
    }
    return first;
}

/* The leaf's one CRL Distribution Point URI into uri; false when it has
 * none, more than one, or one that is not a URI. */
static bool cdp_of(gnutls_x509_crt_t crt, char *uri, size_t len)
{
    size_t n = len - 1;
    unsigned reasons, critical;
    if (gnutls_x509_crt_get_crl_dist_points(crt, 0, uri, &n, &reasons,
                                            &critical) != GNUTLS_SAN_URI)
        return false;
    uri[n] = '\0';
    char more[256];
    n = sizeof more;
    return gnutls_x509_crt_get_crl_dist_points(crt, 1, more, &n, &reasons,
                                               &critical) ==
           GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/* Verification status of chain against the anchors in anchor_file (and the
 * CRL in crl_file when not NULL); UINT32_MAX when it could not run. */
static unsigned verify(gnutls_x509_crt_t *chain, unsigned n,
                       const char *anchor_file, const char *crl_file,
                       unsigned flags)
{
    gnutls_x509_trust_list_t tl;
    unsigned status = UINT32_MAX;
    if (gnutls_x509_trust_list_init(&tl, 0) < 0)
        return status;
    if (gnutls_x509_trust_list_add_trust_file(tl, anchor_file, crl_file,
                                              GNUTLS_X509_FMT_PEM, 0, 0) > 0 &&
        gnutls_x509_trust_list_verify_crt2(tl, chain, n, NULL, 0, flags,
                                           &status, NULL) < 0)
        status = UINT32_MAX;
    gnutls_x509_trust_list_deinit(tl, 1);
    return status;
}

/* EKU as CATALOG_EKU_* bits; an unknown purpose sets bit 31. */
static unsigned eku_bits(gnutls_x509_crt_t crt)
{
    unsigned bits = 0;
    for (unsigned i = 0;; i++) {
        char oid[128];
        size_t len = sizeof oid;
        unsigned critical;
        if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len,
                                                &critical) < 0)
            break;
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
            bits |= CATALOG_EKU_SERVER;
        else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
            bits |= CATALOG_EKU_CLIENT;
        else
            bits |= 1u << 31;
    }
    return bits;
}

static void check_validity(gnutls_x509_crt_t crt, catalog_validity v)
{
    time_t now = time(NULL);
    time_t from = gnutls_x509_crt_get_activation_time(crt);
    time_t until = gnutls_x509_crt_get_expiration_time(crt);
    CHECK(from < until);
    switch (v) {
    case CATALOG_VALID_NOW:
        CHECK(from <= now - DAY + 60 && until > now + 300 * DAY);
        break;
    case CATALOG_VALID_EXPIRED:
        CHECK(until <= now - 29 * DAY && until >= now - 31 * DAY);
        break;
    case CATALOG_VALID_NOT_YET:
        CHECK(from >= now + 300 * DAY);
        break;
    }
}

/* One subjectAltName entry as read back, undecoded. */
typedef struct san {
    unsigned type;             /* GNUTLS_SAN_*, GNUTLS_SAN_OTHERNAME raw */
    char oid[64];              /* otherName OID, else "" */
    unsigned char value[512];  /* the entry (DER for otherName) */
    size_t len;
} san;

/* Up to max SAN entries of crt; returns how many. Read through the
 * extension API because the crt getters already decode known otherNames,
 * hiding the ASN.1 string type this test checks. */
static unsigned read_sans(gnutls_x509_crt_t crt, san *out, unsigned max)
{
    gnutls_datum_t ext = {NULL, 0};
    gnutls_subject_alt_names_t sans;
    unsigned critical, n = 0;
    if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.17", 0, &ext,
                                              &critical) < 0)
        return 0;
    if (gnutls_subject_alt_names_init(&sans) < 0) {
        gnutls_free(ext.data);
        return 0;
    }
    if (gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0) >= 0) {
        for (; n < max; n++) {
            gnutls_datum_t v = {NULL, 0}, oid = {NULL, 0};
            if (gnutls_subject_alt_names_get(sans, n, &out[n].type, &v,
                                             &oid) < 0)
                break;
            out[n].len = v.size < sizeof out[n].value ? v.size
                                                      : sizeof out[n].value - 1;
            memcpy(out[n].value, v.data, out[n].len);
            out[n].value[out[n].len] = '\0';
            snprintf(out[n].oid, sizeof out[n].oid, "%.*s",
                     oid.data ? (int)oid.size : 0,
                     oid.data ? (char *)oid.data : "");
        }
    }
    gnutls_subject_alt_names_deinit(sans);
    gnutls_free(ext.data);
    return n;
}

/* The otherName value decoded by GnuTLS (UTF8String / IA5String). */
static bool othername_is(const san *s, const char *oid, unsigned char tag,
                         const char *want)
{
    gnutls_datum_t raw = {(unsigned char *)s->value, (unsigned)s->len}, virt;
    unsigned vtype;
    if (s->type != GNUTLS_SAN_OTHERNAME || strcmp(s->oid, oid) != 0 ||
        s->len < 2 || s->value[0] != tag)
        return false;
    if (gnutls_x509_othername_to_virtual(oid, &raw, &vtype, &virt) < 0)
        return false;
    bool ok = virt.size == strlen(want) && memcmp(virt.data, want, virt.size) == 0;
    gnutls_free(virt.data);
    return ok;
}

static void get_cn(gnutls_x509_crt_t crt, char *cn, size_t len)
{
    cn[0] = '\0';
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                      cn, &len) < 0)
        cn[0] = '\0';
}

static void check_names(gnutls_x509_crt_t crt, const char *domain,
                        const catalog_profile *p)
{
    san s[4];
    unsigned n = read_sans(crt, s, 4);
    char cn[300], want[300];
    get_cn(crt, cn, sizeof cn);
    switch (p->cert.names) {
    case CATALOG_NAMES_DNS:
        CHECK(n == 1 && s[0].type == GNUTLS_SAN_DNSNAME);
        CHECK_STR(cn, domain);
        CHECK(gnutls_x509_crt_check_hostname(crt, domain));
        CHECK(!gnutls_x509_crt_check_hostname(crt, "other." BASE));
        break;
    case CATALOG_NAMES_WRONG:
        snprintf(want, sizeof want, "wrong-name-%s.invalid", p->label);
        CHECK(n == 1 && s[0].type == GNUTLS_SAN_DNSNAME);
        CHECK_STR((char *)s[0].value, want);
        CHECK(!gnutls_x509_crt_check_hostname(crt, domain));
        break;
    case CATALOG_NAMES_CN_ONLY:
        CHECK(n == 0);
        CHECK_STR(cn, domain);
        break;
    case CATALOG_NAMES_SAN_ONLY: /* more in test_cert_shapes.c */
        CHECK(n == 1 && s[0].type == GNUTLS_SAN_DNSNAME);
        CHECK_STR(cn, "");
        CHECK(gnutls_x509_crt_check_hostname(crt, domain));
        break;
    case CATALOG_NAMES_XMPPADDR:
        CHECK(n == 1 && othername_is(&s[0], "1.3.6.1.5.5.7.8.5", 0x0c, domain));
        CHECK(strcmp(cn, domain) != 0 && strchr(cn, '.') == NULL);
        CHECK(!gnutls_x509_crt_check_hostname(crt, domain));
        break;
    case CATALOG_NAMES_SRVNAME:
        snprintf(want, sizeof want, "_xmpp-server.%s", domain);
        CHECK(n == 1 && othername_is(&s[0], "1.3.6.1.5.5.7.8.7", 0x16, want));
        CHECK(strcmp(cn, domain) != 0 && strchr(cn, '.') == NULL);
        CHECK(!gnutls_x509_crt_check_hostname(crt, domain));
        break;
    case CATALOG_NAMES_WILDCARD:
        CHECK(n == 1 && s[0].type == GNUTLS_SAN_DNSNAME);
        CHECK_STR((char *)s[0].value, "*." BASE);
        CHECK(gnutls_x509_crt_check_hostname(crt, domain));
        CHECK(!gnutls_x509_crt_check_hostname(crt, "a.b." BASE));
        break;
    case CATALOG_NAMES_SRV_TARGET:
        /* only the host the SRV points at, never the domain */
        snprintf(want, sizeof want, CATALOG_SRV_TARGET_HOST ".%s", domain);
        CHECK(n == 1 && s[0].type == GNUTLS_SAN_DNSNAME);
        CHECK(n >= 1 && strcmp((char *)s[0].value, want) == 0);
        CHECK_STR(cn, want);
        CHECK(gnutls_x509_crt_check_hostname(crt, want));
        CHECK(!gnutls_x509_crt_check_hostname(crt, domain));
        break;
    }
}

static void check_key_and_sig(gnutls_x509_crt_t crt, const catalog_cert_recipe *r)
{
    unsigned bits = 0, usage = 0, critical;
    int algo = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
    switch (r->key) {
    case CATALOG_KEY_ECDSA_P256:
        CHECK(algo == GNUTLS_PK_ECDSA);
        CHECK(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) >= 0);
        CHECK(curve == GNUTLS_ECC_CURVE_SECP256R1);
        gnutls_free(x.data);
        gnutls_free(y.data);
        break;
    case CATALOG_KEY_RSA2048:
        CHECK(algo == GNUTLS_PK_RSA && bits == 2048);
        break;
    case CATALOG_KEY_RSA1024:
        CHECK(algo == GNUTLS_PK_RSA && bits == 1024);
        break;
    }
    unsigned want_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    if (r->key != CATALOG_KEY_ECDSA_P256)
        want_usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
    CHECK(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    CHECK(usage == want_usage);
    unsigned ca = 1;
    int pathlen;
    CHECK(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
                                                &pathlen) >= 0);
    CHECK(ca == 0);
    int sign = gnutls_x509_crt_get_signature_algorithm(crt);
    CHECK(gnutls_sign_get_hash_algorithm(sign) ==
          (r->sig == CATALOG_SIG_SHA1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256));
    unsigned char serial[64];
    size_t slen = sizeof serial;
    CHECK(gnutls_x509_crt_get_serial(crt, serial, &slen) >= 0);
    CHECK(slen == 16 && (serial[0] & 0x80) == 0);
}

/* subjectKeyId present; authorityKeyId = the issuer's subjectKeyId. */
static void check_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
    unsigned char ski[64], aki[64];
    size_t ski_len = sizeof ski, aki_len = sizeof aki;
    unsigned critical;
    CHECK(gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_len,
                                               &critical) >= 0);
    CHECK(gnutls_x509_crt_get_subject_key_id(issuer, ski, &ski_len,
                                             &critical) >= 0);
    CHECK(aki_len == ski_len && memcmp(aki, ski, aki_len) == 0);
}

/* The serial of crt is listed in crl.pem, which the intermediate signed. */
static bool crl_lists(gnutls_x509_crt_t crt, int *count)
{
    char path[1024];
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crl_t crl;
    gnutls_x509_crt_t inter = load_one("intermediate");
    unsigned char serial[64], s[64];
    size_t slen = sizeof serial;
    unsigned status = 1;
    bool found = false;
    path_of(path, sizeof path, "crl", ".pem");
    *count = -1;
    if (!inter || gnutls_x509_crt_get_serial(crt, serial, &slen) < 0 ||
        gnutls_load_file(path, &data) < 0 || gnutls_x509_crl_init(&crl) < 0) {
        if (inter)
            gnutls_x509_crt_deinit(inter);
        gnutls_free(data.data);
        return false;
    }
    if (gnutls_x509_crl_import(crl, &data, GNUTLS_X509_FMT_PEM) >= 0) {
        CHECK(gnutls_x509_crl_verify(crl, &inter, 1, 0, &status) >= 0);
        CHECK(status == 0);
        *count = gnutls_x509_crl_get_crt_count(crl);
        for (int i = 0; i < *count; i++) {
            size_t len = sizeof s;
            time_t when;
            if (gnutls_x509_crl_get_crt_serial(crl, (unsigned)i, s, &len,
                                               &when) >= 0 &&
                len == slen && memcmp(s, serial, len) == 0)
                found = true;
        }
    }
    gnutls_x509_crl_deinit(crl);
    gnutls_x509_crt_deinit(inter);
    gnutls_free(data.data);
    return found;
}

/* Chain verification as the recipe predicts. */
static void check_verify(gnutls_x509_crt_t *chain, unsigned n,
                         const char *pem, const catalog_cert_recipe *r)
{
    char ca[1024], untrusted[1024], crl[1024];
    path_of(ca, sizeof ca, "ca", ".pem");
    path_of(untrusted, sizeof untrusted, "untrusted-ca", ".pem");
    path_of(crl, sizeof crl, "crl", ".pem");
    unsigned flags = r->sig == CATALOG_SIG_SHA1 ? GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1
                                            : 0;
    if (r->validity != CATALOG_VALID_NOW) {
        unsigned st = verify(chain, n, r->issuer == CATALOG_ISSUER_SELF ? pem : ca,
                             NULL, flags);
        CHECK(st != UINT32_MAX && (st & (GNUTLS_CERT_EXPIRED |
                                         GNUTLS_CERT_NOT_ACTIVATED)));
        flags |= GNUTLS_VERIFY_DISABLE_TIME_CHECKS;
    }
    if (r->sig == CATALOG_SIG_SHA1) /* refused unless allowed: the point */
        CHECK(verify(chain, n, ca, NULL, flags &
                     ~(unsigned)GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1) &
              GNUTLS_CERT_INSECURE_ALGORITHM);
    switch (r->issuer) {
    case CATALOG_ISSUER_INTERMEDIATE:
        if (r->omit_chain) {
            gnutls_x509_crt_t both[2] = {chain[0], load_one("intermediate")};
            CHECK(verify(chain, 1, ca, NULL, flags) &
                  GNUTLS_CERT_SIGNER_NOT_FOUND);
            CHECK(both[1] && verify(both, 2, ca, NULL, flags) == 0);
            if (both[1])
                gnutls_x509_crt_deinit(both[1]);
        } else {
            CHECK(verify(chain, n, ca, NULL, flags) == 0);
        }
        break;
    case CATALOG_ISSUER_SELF:
        CHECK(verify(chain, n, ca, NULL, flags) & GNUTLS_CERT_INVALID);
        CHECK(verify(chain, n, pem, NULL, flags) == 0);
        break;
    case CATALOG_ISSUER_UNTRUSTED:
        CHECK(verify(chain, n, ca, NULL, flags) & GNUTLS_CERT_SIGNER_NOT_FOUND);
        CHECK(verify(chain, n, untrusted, NULL, flags) == 0);
        break;
    case CATALOG_ISSUER_GEN_Y: /* the paths: test_cert_shapes.c */
    case CATALOG_ISSUER_EXPIRED_CROSS:
        CHECK(verify(chain, n, ca, NULL, flags) == 0);
        break;
    }
    int count;
    CHECK(crl_lists(chain[0], &count) == r->revoked);
    if (r->revoked && !r->omit_chain && r->issuer == CATALOG_ISSUER_INTERMEDIATE)
        CHECK(verify(chain, n, ca, crl, flags) & GNUTLS_CERT_REVOKED);
}

/* Mode 0600, and the key is the certificate's. */
static void check_key_file(const char *path, gnutls_x509_crt_t crt)
{
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_privkey_t key;
    unsigned char kid[64], cid[64];
    size_t klen = sizeof kid, clen = sizeof cid;
    CHECK(gnutls_load_file(path, &data) >= 0);
    CHECK(gnutls_x509_privkey_init(&key) >= 0);
    CHECK(gnutls_x509_privkey_import2(key, &data, GNUTLS_X509_FMT_PEM, NULL,
                                      0) >= 0);
    CHECK(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, kid,
                                         &klen) >= 0);
    CHECK(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, cid,
                                     &clen) >= 0);
    CHECK(klen == clen && memcmp(kid, cid, klen) == 0);
    gnutls_x509_privkey_deinit(key);
    gnutls_free(data.data);
}

/* Everything one recipe claims about DOMAIN.pem / DOMAIN.key. */
static void check_leaf(const char *domain, const catalog_profile *p)
{
    const catalog_cert_recipe *r = &p->cert;
    char pem[1024], key[1024];
    unsigned n;
    int failed_before = check_failed_;
    path_of(pem, sizeof pem, domain, ".pem");
    path_of(key, sizeof key, domain, ".key");
    gnutls_x509_crt_t *chain = load_chain(pem, &n);
    bool alone = r->omit_chain || r->issuer == CATALOG_ISSUER_SELF;
    bool cross = r->issuer == CATALOG_ISSUER_GEN_Y ||
                 r->issuer == CATALOG_ISSUER_EXPIRED_CROSS;
    CHECK(n == (alone ? 1u : cross ? 3u : 2u));
    if (n > 0) {
        gnutls_x509_crt_t leaf = chain[0];
        const char *issuer_name = r->issuer == CATALOG_ISSUER_UNTRUSTED ? "untrusted-ca"
                                  : r->issuer == CATALOG_ISSUER_GEN_Y
                                      ? "gen-y-intermediate"
                                      : "intermediate";
        gnutls_x509_crt_t issuer = r->issuer == CATALOG_ISSUER_SELF
                                       ? NULL
                                       : load_one(issuer_name);
        CHECK(eku_bits(leaf) == r->eku);
        check_validity(leaf, r->validity);
        CHECK(gnutls_x509_crt_check_issuer(leaf, issuer ? issuer : leaf));
        if (n >= 2 && issuer)
            CHECK(gnutls_x509_crt_equals(chain[1], issuer));
        check_key_ids(leaf, issuer ? issuer : leaf);
        check_names(leaf, domain, p);
        check_key_and_sig(leaf, r);
        check_verify(chain, n, pem, r);
        check_key_file(key, leaf);
        char uri[512];
        CHECK(!cdp_of(leaf, uri, sizeof uri)); /* init --http-port 0: none */
        if (issuer)
            gnutls_x509_crt_deinit(issuer);
    }
    free_chain(chain, n);
    if (check_failed_ != failed_before)
        fprintf(stderr, "  ^ in %s (%s)\n", domain, p->label);
}

/* certgen_domain then check_leaf for one row. */
static void generate_and_check(const catalog_profile *p)
{
    char domain[300], err[256] = "";
    snprintf(domain, sizeof domain, "%s.%s", p->label, BASE);
    int ret = certgen_domain(certs, domain, BASE, NULL, p, false, err, sizeof err);
    if (ret != 0)
        fprintf(stderr, "%s: %s\n", domain, err);
    CHECK(ret == 0);
    check_leaf(domain, p);
}

static void check_ca(const char *name, const char *cn, int want_pathlen)
{
    gnutls_x509_crt_t crt = load_one(name);
    CHECK(crt != NULL);
    if (!crt)
        return;
    char got[200], path[1024];
    unsigned critical, ca = 0, usage = 0;
    int pathlen = -2;
    get_cn(crt, got, sizeof got);
    CHECK_STR(got, cn);
    CHECK(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
                                                &pathlen) >= 0);
    CHECK(ca == 1 && pathlen == want_pathlen);
    CHECK(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    CHECK(usage == (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN));
    CHECK(gnutls_x509_crt_get_expiration_time(crt) >
          time(NULL) + 9 * 365 * DAY);
    path_of(path, sizeof path, name, ".key");
    check_key_file(path, crt);
    gnutls_x509_crt_deinit(crt);
}

static void check_pki(void)
{
    struct stat st;
    char ca[1024], inter[1024], untrusted[1024];
    CHECK(stat(certs, &st) == 0 && (st.st_mode & 0777) == 0700);
    check_ca("ca", "xmpp-responder test root", -1);
    check_ca("intermediate", "xmpp-responder test intermediate", 0);
    check_ca("untrusted-ca", "xmpp-responder untrusted root", -1);
    path_of(ca, sizeof ca, "ca", ".pem");
    path_of(inter, sizeof inter, "intermediate", ".pem");
    path_of(untrusted, sizeof untrusted, "untrusted-ca", ".pem");
    unsigned n;
    gnutls_x509_crt_t *chain = load_chain(inter, &n);
    CHECK(n == 1 && verify(chain, n, ca, NULL, 0) == 0);
    CHECK(n == 1 && verify(chain, n, untrusted, NULL, 0) != 0);
    free_chain(chain, n);
}

/* The bytes of certs/NAME.key, malloc'd (NUL-terminated). */
static char *key_bytes(const char *name)
{
    char path[1024];
    gnutls_datum_t data = {NULL, 0};
    path_of(path, sizeof path, name, ".key");
    if (gnutls_load_file(path, &data) < 0)
        return NULL;
    char *copy = strndup((char *)data.data, data.size);
    gnutls_free(data.data);
    return copy;
}

/* Keys survive a rerun without force, change with force; a leaf whose
 * issuer was regenerated is regenerated even without force. */
static void check_keep_and_force(const catalog_profile *p)
{
    char domain[300], err[256];
    snprintf(domain, sizeof domain, "%s.%s", p->label, BASE);
    char *ca1 = key_bytes("ca"), *leaf1 = key_bytes(domain);
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    CHECK(certgen_domain(certs, domain, BASE, NULL, p, false, err, sizeof err) == 0);
    char *ca2 = key_bytes("ca"), *leaf2 = key_bytes(domain);
    CHECK(ca1 && ca2 && strcmp(ca1, ca2) == 0);
    CHECK(leaf1 && leaf2 && strcmp(leaf1, leaf2) == 0);
    CHECK(certgen_domain(certs, domain, BASE, NULL, p, true, err, sizeof err) == 0);
    char *leaf3 = key_bytes(domain);
    CHECK(leaf3 && strcmp(leaf2, leaf3) != 0);
    CHECK(certgen_pki(certs, NULL, true, err, sizeof err) == 0);
    char *ca3 = key_bytes("ca");
    CHECK(ca3 && strcmp(ca2, ca3) != 0);
    CHECK(certgen_domain(certs, domain, BASE, NULL, p, false, err, sizeof err) == 0);
    char *leaf4 = key_bytes(domain);
    CHECK(leaf4 && strcmp(leaf3, leaf4) != 0);
    check_leaf(domain, p); /* verifies against the new ca.pem */
    free(ca1), free(ca2), free(ca3);
    free(leaf1), free(leaf2), free(leaf3), free(leaf4);
}

/* A kept revoked leaf is not listed twice. */
static void check_revoked_rerun(void)
{
    const catalog_profile *p = &synthetic[9];
    char domain[300], err[256], pem[1024];
    snprintf(domain, sizeof domain, "%s.%s", p->label, BASE);
    path_of(pem, sizeof pem, domain, ".pem");
    CHECK(p->cert.revoked);
    CHECK(certgen_domain(certs, domain, BASE, NULL, p, false, err, sizeof err) == 0);
    gnutls_x509_crt_t leaf = load_one(domain);
    int before, after;
    CHECK(leaf && crl_lists(leaf, &before));
    CHECK(certgen_domain(certs, domain, BASE, NULL, p, false, err, sizeof err) == 0);
    CHECK(leaf && crl_lists(leaf, &after));
    CHECK(before == after && before >= 1);
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
}

/* Leaf of label generated with crl_base; its key file's bytes. */
static char *cdp_leaf(const catalog_profile *p, const char *crl_base,
                      char *uri, size_t len, bool *has_cdp)
{
    char domain[300], err[256] = "";
    snprintf(domain, sizeof domain, "%s.%s", p->label, BASE);
    int ret = certgen_domain(certs, domain, BASE, crl_base, p, false, err,
                             sizeof err);
    if (ret != 0)
        fprintf(stderr, "%s: %s\n", domain, err);
    CHECK(ret == 0);
    gnutls_x509_crt_t leaf = load_one(domain);
    CHECK(leaf != NULL);
    *has_cdp = leaf && cdp_of(leaf, uri, len);
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
    return key_bytes(domain);
}

/* Leaves of the intermediate name the CRL URL given; self-signed ones and
 * the untrusted root's never; a kept leaf whose CDP is not the one asked
 * for now is regenerated. */
static void check_cdp(void)
{
    static const catalog_profile web = {
        .label = "cdp-valid", .cert = {GOOD}};
    char uri[512];
    bool has;
    char *k1 = cdp_leaf(&web, CDP_BASE, uri, sizeof uri, &has);
    CHECK(has && strcmp(uri, CDP_URL) == 0);
    char *k2 = cdp_leaf(&web, CDP_BASE, uri, sizeof uri, &has);
    CHECK(has && k1 && k2 && strcmp(k1, k2) == 0); /* kept */
    char *k3 = cdp_leaf(&web, "http://other.example", uri, sizeof uri, &has);
    CHECK(has && strcmp(uri, "http://other.example/crl/intermediate.crl") == 0);
    CHECK(k3 && k2 && strcmp(k2, k3) != 0); /* regenerated */
    char *k4 = cdp_leaf(&web, NULL, uri, sizeof uri, &has);
    CHECK(!has && k4 && k3 && strcmp(k3, k4) != 0); /* http port now 0 */
    free(k1), free(k2), free(k3), free(k4);
    const catalog_profile *self = &synthetic[14], *untrusted = &synthetic[15];
    CHECK(self->cert.issuer == CATALOG_ISSUER_SELF &&
          untrusted->cert.issuer == CATALOG_ISSUER_UNTRUSTED);
    free(cdp_leaf(self, CDP_BASE, uri, sizeof uri, &has));
    CHECK(!has);
    free(cdp_leaf(untrusted, CDP_BASE, uri, sizeof uri, &has));
    CHECK(!has);
}

/* With a crl_base the intermediate names the root's CRL (and is made anew
 * when it named another or none); the roots name none; ca-crl.pem is the
 * root's, listing nothing. Without, the intermediate names none again. */
static void check_pki_cdp(void)
{
    char err[256] = "", uri[512], path[1024];
    gnutls_x509_crt_t inter = load_one("intermediate"), root = NULL;
    CHECK(inter && !cdp_of(inter, uri, sizeof uri));
    if (inter)
        gnutls_x509_crt_deinit(inter);
    char *k1 = key_bytes("intermediate"), *r1 = key_bytes("ca");
    CHECK(certgen_pki(certs, CDP_BASE, false, err, sizeof err) == 0);
    char *k2 = key_bytes("intermediate"), *r2 = key_bytes("ca");
    CHECK(k1 && k2 && strcmp(k1, k2) != 0);
    CHECK(r1 && r2 && strcmp(r1, r2) == 0); /* the root is kept */
    inter = load_one("intermediate");
    root = load_one("ca");
    CHECK(inter && cdp_of(inter, uri, sizeof uri) &&
          strcmp(uri, CDP_BASE "/crl/ca.crl") == 0);
    CHECK(root && !cdp_of(root, uri, sizeof uri));
    CHECK(certgen_pki(certs, CDP_BASE, false, err, sizeof err) == 0);
    char *k3 = key_bytes("intermediate");
    CHECK(k3 && strcmp(k2, k3) == 0); /* same CDP: kept */
    path_of(path, sizeof path, "ca-crl", ".pem");
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crl_t crl;
    unsigned status = 1;
    CHECK(gnutls_load_file(path, &data) >= 0 && gnutls_x509_crl_init(&crl) >= 0);
    CHECK(gnutls_x509_crl_import(crl, &data, GNUTLS_X509_FMT_PEM) >= 0);
    CHECK(root && gnutls_x509_crl_verify(crl, &root, 1, 0, &status) >= 0 &&
          status == 0);
    CHECK(gnutls_x509_crl_get_crt_count(crl) == 0);
    gnutls_x509_crl_deinit(crl);
    gnutls_free(data.data);
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    if (inter)
        gnutls_x509_crt_deinit(inter);
    inter = load_one("intermediate");
    CHECK(inter && !cdp_of(inter, uri, sizeof uri));
    if (inter)
        gnutls_x509_crt_deinit(inter);
    if (root)
        gnutls_x509_crt_deinit(root);
    free(k1), free(k2), free(k3), free(r1), free(r2);
}

/* thisUpdate and nextUpdate of crl.pem; -1 when unreadable. */
static time_t crl_times(time_t *next)
{
    char path[1024];
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crl_t crl;
    time_t t = -1;
    path_of(path, sizeof path, "crl", ".pem");
    if (gnutls_load_file(path, &data) >= 0 && gnutls_x509_crl_init(&crl) >= 0) {
        if (gnutls_x509_crl_import(crl, &data, GNUTLS_X509_FMT_PEM) >= 0) {
            t = gnutls_x509_crl_get_this_update(crl);
            *next = gnutls_x509_crl_get_next_update(crl);
        }
        gnutls_x509_crl_deinit(crl);
    }
    gnutls_free(data.data);
    return t;
}

/* crl_refresh: a young CRL is left alone, an old one (max_age 0 = always)
 * re-signed for CRL_VALID_SECS with its serials; a damaged file is an
 * error and stays as it is (its serials are not silently dropped). */
static void check_crl_refresh(void)
{
    char err[256] = "", path[1024];
    bool resigned = true;
    time_t next = 0;
    gnutls_x509_crt_t leaf = load_one("syn-revoked." BASE);
    int before = 0, after = 0;
    CHECK(leaf && crl_lists(leaf, &before));
    CHECK(crl_refresh(certs, CRL_RESIGN_SECS, &resigned, err, sizeof err) == 0);
    CHECK(!resigned);
    CHECK(crl_refresh(certs, 0, &resigned, err, sizeof err) == 0 && resigned);
    time_t this_update = crl_times(&next);
    CHECK(this_update >= time(NULL) - 5 && next - this_update == CRL_VALID_SECS);
    CHECK(leaf && crl_lists(leaf, &after) && after == before);
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
    path_of(path, sizeof path, "crl", ".pem");
    gnutls_datum_t good = {NULL, 0};
    CHECK(gnutls_load_file(path, &good) >= 0);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n", f);
        fclose(f);
    }
    /* the root's CRL is still refreshed: one bad file stops no other */
    CHECK(crl_refresh(certs, 0, &resigned, err, sizeof err) < 0 && resigned);
    CHECK(strstr(err, "crl.pem") != NULL);
    CHECK(crl_times(&next) == -1); /* left as it was */
    f = fopen(path, "w"); /* the good one back for the checks after this */
    CHECK(f && fwrite(good.data, 1, good.size, f) == good.size);
    if (f)
        fclose(f);
    gnutls_free(good.data);
}

static void check_errors(void)
{
    char err[256] = "";
    CHECK(certgen_domain(certs, "../evil", BASE, NULL, catalog_at(0), false, err,
                         sizeof err) < 0);
    CHECK(certgen_domain("/nonexistent-dir", "a." BASE, BASE, NULL, catalog_at(0), false,
                         err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent-dir") != NULL);
    CHECK(certgen_pki("/proc/nonexistent/certs", NULL, false, err, sizeof err) < 0);
    CHECK(strstr(err, "/proc/nonexistent/certs") != NULL);
}

int main(void)
{
    char err[256] = "";
    if (scratch_make(dir, certs, sizeof certs) < 0)
        return 1;
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    check_pki();
    for (size_t i = 0; i < catalog_count(); i++)
        generate_and_check(catalog_at(i));
    for (size_t i = 0; i < sizeof synthetic / sizeof synthetic[0]; i++)
        generate_and_check(&synthetic[i]);
    check_revoked_rerun();
    check_cdp();
    check_crl_refresh();
    check_keep_and_force(catalog_at(0));
    check_pki_cdp();
    check_errors();
    printf("%zu catalog rows and %zu synthetic recipes checked\n", catalog_count(),
           sizeof synthetic / sizeof synthetic[0]);
    scratch_remove(dir);
    return check_done();
}
