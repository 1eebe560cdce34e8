/* test_peercert.c -- peercert_analyse on real certificates made here with
 * GnuTLS (certgen's building blocks): a root and an intermediate that the
 * trust list holds the root of, and leaves that differ in one property
 * each; every finding of peercert.h is asserted, the dates at a given time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "certgen_internal.h"
#include "check.h"
#include "json.h"
#include "peercert.h"
#include "utf8.h"

#define D "xmpp.example.org"
#define DAY (24 * 60 * 60)

static int64_t now;

/* What one leaf looks like; zero fields: the normal leaf (dNSName D, both
 * purposes, ECDSA P-256, SHA-256, valid from yesterday for 90 days). */
typedef struct leaf_spec {
    const char *cn;       /* subject CN, NULL: "Peercert Test Leaf" */
    const char *dns;      /* dNSName, NULL: D; "": none */
    const char *srv;      /* SRV-ID otherName, NULL: none */
    const char *xmpp;     /* xmppAddr otherName, NULL: none */
    int eku;              /* CATALOG_EKU_* bits; -1: both (the default) */
    const char *eku_oid;  /* one more purpose */
    catalog_key key;      /* ECDSA P-256 by default */
    bool sha1;            /* sign with SHA-1 */
    const char *raw_san;  /* a SAN extension of these DER bytes instead */
    size_t raw_san_len;
} leaf_spec;

static certgen_pair root, inter, other_root;

static void fail_if(int ret, const char *what)
{
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", what, gnutls_strerror(ret));
        exit(1);
    }
}

static void make_ca(certgen_pair *ca, const char *cn, const certgen_pair *issuer)
{
    char err[256];
    if (certgen_new_key(&ca->key, CATALOG_KEY_ECDSA_P256, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    int ret = certgen_start_crt(ca, cn, "Peercert Test", issuer, true);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_activation_time(ca->crt, (time_t)(now - DAY));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_expiration_time(ca->crt,
                                                  (time_t)(now + 3650 * DAY));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_basic_constraints(ca->crt, 1, -1);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_key_usage(ca->crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                         GNUTLS_KEY_CRL_SIGN);
    if (ret >= 0)
        ret = certgen_sign(ca->crt, ca->key, issuer, GNUTLS_DIG_SHA256);
    fail_if(ret, cn);
}

/* A leaf per s, issued by issuer (NULL: self-signed); the pair to free. */
static certgen_pair make_leaf(const leaf_spec *s, const certgen_pair *issuer)
{
    certgen_pair leaf = {NULL, NULL};
    char err[256];
    if (certgen_new_key(&leaf.key, s->key, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    const char *dns = s->dns ? s->dns : D;
    int ret = certgen_start_crt(&leaf, s->cn ? s->cn : "Peercert Test Leaf",
                                NULL, issuer, true);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_activation_time(leaf.crt, (time_t)(now - DAY));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_expiration_time(leaf.crt,
                                                  (time_t)(now + 90 * DAY));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_basic_constraints(leaf.crt, 0, -1);
    if (ret >= 0)
        ret = certgen_set_eku(leaf.crt, s->eku < 0 || (s->eku == 0 && !s->eku_oid)
                                            ? CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT
                                            : (unsigned)s->eku);
    if (ret >= 0 && s->eku_oid)
        ret = gnutls_x509_crt_set_key_purpose_oid(leaf.crt, s->eku_oid, 0);
    if (ret >= 0 && dns[0] && !s->raw_san)
        ret = gnutls_x509_crt_set_subject_alt_name(
            leaf.crt, GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
            GNUTLS_FSAN_APPEND);
    if (ret >= 0 && s->srv)
        ret = gnutls_x509_crt_set_subject_alt_name(
            leaf.crt, GNUTLS_SAN_OTHERNAME_SRV, s->srv, (unsigned)strlen(s->srv),
            GNUTLS_FSAN_APPEND);
    if (ret >= 0 && s->xmpp)
        ret = gnutls_x509_crt_set_subject_alt_name(
            leaf.crt, GNUTLS_SAN_OTHERNAME_XMPP, s->xmpp,
            (unsigned)strlen(s->xmpp), GNUTLS_FSAN_APPEND);
    if (ret >= 0 && s->raw_san)
        ret = gnutls_x509_crt_set_extension_by_oid(leaf.crt, "2.5.29.17",
                                                   s->raw_san, s->raw_san_len, 0);
    if (ret >= 0)
        ret = certgen_sign(leaf.crt, leaf.key, issuer,
                           s->sha1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256);
    fail_if(ret, "leaf");
    return leaf;
}

static gnutls_datum_t der(gnutls_x509_crt_t crt)
{
    gnutls_datum_t d = {NULL, 0};
    fail_if(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d), "export");
    return d;
}

/* A trust list holding a copy of the root (and crl when not NULL). */
static gnutls_x509_trust_list_t trust_of(gnutls_x509_crl_t crl)
{
    gnutls_x509_trust_list_t tl;
    gnutls_x509_crt_t copy;
    gnutls_datum_t d = der(root.crt);
    fail_if(gnutls_x509_trust_list_init(&tl, 0), "trust list");
    fail_if(gnutls_x509_crt_init(&copy), "crt");
    fail_if(gnutls_x509_crt_import(copy, &d, GNUTLS_X509_FMT_DER), "import");
    gnutls_free(d.data);
    fail_if(gnutls_x509_trust_list_add_cas(tl, &copy, 1, 0), "add cas");
    if (crl)
        fail_if(gnutls_x509_trust_list_add_crls(tl, &crl, 1, 0, 0),
                "add crl");
    return tl;
}

/* peercert_analyse of the chain crts[0..n) for domain at t. */
static peercert_findings analyse(gnutls_x509_crt_t *crts, unsigned n,
                                 gnutls_x509_trust_list_t tl,
                                 const char *domain, int64_t t)
{
    gnutls_datum_t raw[4];
    peercert_findings f;
    for (unsigned i = 0; i < n; i++)
        raw[i] = der(crts[i]);
    peercert_analyse(raw, n, tl, domain, t, &f);
    for (unsigned i = 0; i < n; i++)
        gnutls_free(raw[i].data);
    return f;
}

/* The leaf of s under the intermediate, sent with it, for D at now. */
static peercert_findings analyse_spec(const leaf_spec *s,
                                      gnutls_x509_trust_list_t tl,
                                      const char *domain)
{
    certgen_pair leaf = make_leaf(s, &inter);
    gnutls_x509_crt_t chain[2] = {leaf.crt, inter.crt};
    peercert_findings f = analyse(chain, 2, tl, domain, now);
    certgen_pair_free(&leaf);
    return f;
}

static bool clean_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return utf8_valid(s, strlen(s));
}

static void test_ok_and_dates(gnutls_x509_trust_list_t tl)
{
    leaf_spec s = {.eku = -1};
    certgen_pair leaf = make_leaf(&s, &inter);
    gnutls_x509_crt_t chain[2] = {leaf.crt, inter.crt};
    peercert_findings f = analyse(chain, 2, tl, D, now);
    CHECK(f.present);
    CHECK(f.chain == PEERCERT_CHAIN_OK);
    CHECK_STR(f.chain_problem, "");
    CHECK(f.chain_len == 2);
    CHECK(f.name_ok);
    CHECK_STR(f.name_how, "DNS-ID");
    CHECK_STR(f.names, D);
    CHECK(strstr(f.issuer, "CN=Peercert Test Intermediate") != NULL);
    CHECK(f.not_before == now - DAY);
    CHECK(f.not_after == now + 90 * DAY);
    CHECK(f.days_left == 90);
    CHECK_STR(f.key, "ECDSA P-256");
    CHECK(!f.key_weak);
    CHECK_STR(f.signature, "ECDSA-SHA256");
    CHECK(!f.signature_weak);
    CHECK(f.eku == PEERCERT_EKU_BOTH);
    CHECK_STR(peercert_chain_name(f.chain), "ok");
    CHECK_STR(peercert_eku_name(f.eku), "both");

    rs_json js;
    json_init(&js);
    peercert_json(&js, &f);
    CHECK(!js.failed);
    printf("json: %s\n", js.text);
    CHECK(strstr(js.text, "\"chain\":\"ok\"") != NULL);
    CHECK(strstr(js.text, "\"eku\":\"both\"") != NULL);
    CHECK(strstr(js.text, "\"days_left\":90") != NULL);
    CHECK(strstr(js.text, "\"name_how\":\"DNS-ID\"") != NULL);
    CHECK(js.text[0] == '{' && js.text[js.len - 1] == '}');
    json_free(&js);

    /* Half a day before the end: 0 whole days left, still ok. */
    f = analyse(chain, 2, tl, D, now + 90 * DAY - DAY / 2);
    CHECK(f.chain == PEERCERT_CHAIN_OK);
    CHECK(f.days_left == 0);
    /* Two days after the end: expired, -2. */
    f = analyse(chain, 2, tl, D, now + 92 * DAY);
    CHECK(f.chain == PEERCERT_CHAIN_EXPIRED);
    CHECK(f.days_left == -2);
    CHECK(f.days_left < 0);
    CHECK(strstr(f.chain_problem, "the leaf expired on") != NULL);
    printf("expired: %s\n", f.chain_problem);
    /* Before it starts: not yet valid. */
    f = analyse(chain, 2, tl, D, now - 2 * DAY);
    CHECK(f.chain == PEERCERT_CHAIN_NOT_YET);
    CHECK(strstr(f.chain_problem, "not valid until") != NULL);
    /* After the intermediate ends (and the leaf): the leaf is named first. */
    f = analyse(chain, 2, tl, D, now + 3651 * DAY);
    CHECK(f.chain == PEERCERT_CHAIN_EXPIRED);

    /* The leaf without its intermediate. */
    f = analyse(chain, 1, tl, D, now);
    CHECK(f.chain == PEERCERT_CHAIN_INCOMPLETE);
    CHECK(f.chain_len == 1);
    CHECK(strstr(f.chain_problem, "CN=Peercert Test Intermediate") != NULL);
    CHECK(f.name_ok); /* the rest is still described */
    printf("incomplete: %s\n", f.chain_problem);

    /* The chain with its root sent too, and in the wrong order. */
    gnutls_x509_crt_t three[3] = {leaf.crt, root.crt, inter.crt};
    f = analyse(three, 3, tl, D, now);
    CHECK(f.chain == PEERCERT_CHAIN_OK);
    CHECK(f.chain_len == 3);

    /* No trust list at all: the path ends at the intermediate's issuer. */
    f = analyse(chain, 2, NULL, D, now);
    CHECK(f.chain == PEERCERT_CHAIN_INCOMPLETE);

    /* Revoked by a CRL of the intermediate that the trust list holds. */
    gnutls_x509_crl_t crl;
    gnutls_privkey_t signer;
    fail_if(gnutls_x509_crl_init(&crl), "crl");
    fail_if(gnutls_x509_crl_set_version(crl, 2), "crl version");
    fail_if(gnutls_x509_crl_set_crt(crl, leaf.crt, (time_t)now), "crl entry");
    fail_if(gnutls_x509_crl_set_this_update(crl, (time_t)(now - DAY)), "this");
    fail_if(gnutls_x509_crl_set_next_update(crl, (time_t)(now + 7 * DAY)), "next");
    fail_if(gnutls_privkey_init(&signer), "privkey");
    fail_if(gnutls_privkey_import_x509(signer, inter.key, 0), "privkey import");
    fail_if(gnutls_x509_crl_privkey_sign(crl, inter.crt, signer,
                                         GNUTLS_DIG_SHA256, 0),
            "crl sign");
    gnutls_privkey_deinit(signer);
    /* Read back: GnuTLS files a CRL by the DER of its issuer, which a CRL
     * made here has only once exported. */
    gnutls_datum_t crl_der = {NULL, 0};
    fail_if(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &crl_der), "crl der");
    gnutls_x509_crl_deinit(crl);
    fail_if(gnutls_x509_crl_init(&crl), "crl");
    fail_if(gnutls_x509_crl_import(crl, &crl_der, GNUTLS_X509_FMT_DER), "crl import");
    gnutls_free(crl_der.data);
    gnutls_x509_trust_list_t with_crl = trust_of(crl);
    f = analyse(chain, 2, with_crl, D, now);
    printf("revoked: %s: %s\n", peercert_chain_name(f.chain), f.chain_problem);
    CHECK(f.chain == PEERCERT_CHAIN_REVOKED);
    gnutls_x509_trust_list_deinit(with_crl, 1);
    certgen_pair_free(&leaf);
}

static void test_untrusted(gnutls_x509_trust_list_t tl)
{
    leaf_spec s = {.eku = -1};
    certgen_pair self = make_leaf(&s, NULL);
    peercert_findings f = analyse(&self.crt, 1, tl, D, now);
    CHECK(f.chain == PEERCERT_CHAIN_UNTRUSTED);
    CHECK(strstr(f.chain_problem, "self-signed") != NULL);
    CHECK(f.name_ok);
    CHECK(strstr(f.issuer, "CN=Peercert Test Leaf") != NULL);
    printf("self-signed: %s\n", f.chain_problem);
    certgen_pair_free(&self);

    /* A chain up to a root nobody trusts, sent with it. */
    certgen_pair leaf = make_leaf(&s, &other_root);
    gnutls_x509_crt_t chain[2] = {leaf.crt, other_root.crt};
    f = analyse(chain, 2, tl, D, now);
    CHECK(f.chain == PEERCERT_CHAIN_UNTRUSTED);
    CHECK(strstr(f.chain_problem, "a root we do not trust") != NULL);
    printf("unknown root: %s\n", f.chain_problem);
    certgen_pair_free(&leaf);
}

static void test_names(gnutls_x509_trust_list_t tl)
{
    peercert_findings f;
    leaf_spec wrong = {.dns = "other.example.org"};
    f = analyse_spec(&wrong, tl, D);
    CHECK(!f.name_ok);
    CHECK_STR(f.name_how, "");
    CHECK_STR(f.names, "other.example.org");
    CHECK(f.chain == PEERCERT_CHAIN_OK);

    leaf_spec wild = {.dns = "*.example.org"};
    f = analyse_spec(&wild, tl, D);
    CHECK(f.name_ok);
    CHECK_STR(f.name_how, "DNS-ID");
    f = analyse_spec(&wild, tl, "a.b.example.org"); /* one label only */
    CHECK(!f.name_ok);

    leaf_spec srv = {.dns = "", .srv = "_xmpp-server." D};
    f = analyse_spec(&srv, tl, D);
    CHECK(f.name_ok);
    CHECK_STR(f.name_how, "SRV-ID");
    CHECK_STR(f.names, "_xmpp-server." D " Peercert?Test?Leaf");
    leaf_spec srv_client = {.dns = "", .srv = "_xmpp-client." D};
    f = analyse_spec(&srv_client, tl, D);
    CHECK(!f.name_ok);

    leaf_spec xmpp = {.dns = "", .xmpp = D};
    f = analyse_spec(&xmpp, tl, D);
    CHECK(f.name_ok);
    CHECK_STR(f.name_how, "xmppAddr");

    leaf_spec cn = {.dns = "", .cn = D};
    f = analyse_spec(&cn, tl, D);
    CHECK(f.name_ok);
    CHECK_STR(f.name_how, "CN");
    CHECK_STR(f.names, D);
    /* A dNSName makes the CN no name. */
    leaf_spec cn_and_dns = {.dns = "other.example.org", .cn = D};
    f = analyse_spec(&cn_and_dns, tl, D);
    CHECK(!f.name_ok);
    CHECK_STR(f.names, "other.example.org");

    /* Hostile text in the CN: kept printable, valid UTF-8, bounded. */
    char hostile[400];
    memset(hostile, 'x', sizeof hostile - 1);
    hostile[sizeof hostile - 1] = '\0';
    memcpy(hostile, "a\x01\x1b[31m\xc3\xa9\xc2\x85", 10);
    leaf_spec bad_cn = {.dns = "", .cn = hostile};
    f = analyse_spec(&bad_cn, tl, D);
    printf("hostile CN: %.20s...\n", f.names);
    CHECK(clean_text(f.names));
    CHECK(strncmp(f.names, "a??[31m\xc3\xa9?x", 11) == 0);
    CHECK(strlen(f.names) < sizeof f.names);
    CHECK(clean_text(f.issuer));

    /* A SAN extension that does not decode: the analysis ends, no name. */
    leaf_spec junk = {.raw_san = "\x30\x03\xff\xff\xff", .raw_san_len = 5};
    f = analyse_spec(&junk, tl, D);
    CHECK(f.present);
    CHECK(!f.name_ok);

    /* No domain. */
    leaf_spec plain = {0};
    f = analyse_spec(&plain, tl, NULL);
    CHECK(!f.name_ok);
}

static void test_eku(gnutls_x509_trust_list_t tl)
{
    struct {
        leaf_spec s;
        peercert_eku want;
        const char *name;
    } cases[] = {
        {{.eku = CATALOG_EKU_SERVER}, PEERCERT_EKU_SERVER_ONLY, "serverAuth only"},
        {{.eku = CATALOG_EKU_CLIENT}, PEERCERT_EKU_CLIENT_ONLY, "clientAuth only"},
        {{.eku = CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT}, PEERCERT_EKU_BOTH, "both"},
        {{.eku = CATALOG_EKU_NONE, .eku_oid = GNUTLS_KP_ANY}, PEERCERT_EKU_BOTH, "both"},
        {{.eku = CATALOG_EKU_NONE, .eku_oid = GNUTLS_KP_CODE_SIGNING},
         PEERCERT_EKU_NONE_TLS, "no TLS purpose"},
        {{.eku = CATALOG_EKU_SERVER, .eku_oid = GNUTLS_KP_CODE_SIGNING},
         PEERCERT_EKU_SERVER_ONLY, "serverAuth only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        peercert_findings f = analyse_spec(&cases[i].s, tl, D);
        CHECK(f.eku == cases[i].want);
        CHECK_STR(peercert_eku_name(f.eku), cases[i].name);
    }
    /* No EKU extension: make_leaf maps eku 0 without an oid to both, so
     * strip it by hand here. */
    certgen_pair leaf = {NULL, NULL};
    char err[256];
    if (certgen_new_key(&leaf.key, CATALOG_KEY_ECDSA_P256, err, sizeof err) < 0)
        exit(1);
    int ret = certgen_start_crt(&leaf, D, NULL, &inter, true);
    if (ret >= 0)
        ret = gnutls_x509_crt_set_activation_time(leaf.crt, (time_t)(now - DAY));
    if (ret >= 0)
        ret = gnutls_x509_crt_set_expiration_time(leaf.crt, (time_t)(now + DAY));
    if (ret >= 0)
        ret = certgen_sign(leaf.crt, leaf.key, &inter, GNUTLS_DIG_SHA256);
    fail_if(ret, "leaf without EKU");
    gnutls_x509_crt_t chain[2] = {leaf.crt, inter.crt};
    peercert_findings f = analyse(chain, 2, tl, D, now);
    CHECK(f.eku == PEERCERT_EKU_ABSENT);
    CHECK_STR(peercert_eku_name(f.eku), "absent");
    CHECK(f.chain == PEERCERT_CHAIN_OK);
    CHECK_STR(f.name_how, "CN");
    certgen_pair_free(&leaf);
}

static void test_key_and_signature(gnutls_x509_trust_list_t tl)
{
    leaf_spec rsa1024 = {.key = CATALOG_KEY_RSA1024};
    peercert_findings f = analyse_spec(&rsa1024, tl, D);
    CHECK_STR(f.key, "RSA 1024");
    CHECK(f.key_weak);
    leaf_spec rsa2048 = {.key = CATALOG_KEY_RSA2048};
    f = analyse_spec(&rsa2048, tl, D);
    CHECK_STR(f.key, "RSA 2048");
    CHECK(!f.key_weak);
    CHECK_STR(f.signature, "ECDSA-SHA256"); /* the intermediate's key signs */

    /* The intermediate signs a leaf with SHA-1 (GnuTLS 3.7 still signs so;
     * make_leaf exits with GnuTLS's words when a system policy refuses). */
    leaf_spec sha1 = {.sha1 = true};
    certgen_pair leaf = make_leaf(&sha1, &inter);
    gnutls_x509_crt_t chain[2] = {leaf.crt, inter.crt};
    f = analyse(chain, 2, tl, D, now);
    CHECK_STR(f.signature, "ECDSA-SHA1");
    CHECK(f.signature_weak);
    /* GnuTLS refuses SHA-1 signatures on certificates by default. */
    printf("sha-1 leaf: chain %s: %s\n", peercert_chain_name(f.chain),
           f.chain_problem);
    CHECK(f.chain == PEERCERT_CHAIN_BAD);
    certgen_pair_free(&leaf);
}

static void test_nothing_and_junk(gnutls_x509_trust_list_t tl)
{
    peercert_findings f;
    peercert_analyse(NULL, 0, tl, D, now, &f);
    CHECK(!f.present);
    CHECK(f.chain == PEERCERT_CHAIN_NONE);
    CHECK(f.eku == PEERCERT_EKU_UNKNOWN);
    CHECK(f.chain_len == 0);
    CHECK(!f.name_ok);
    CHECK_STR(peercert_chain_name(f.chain), "none");

    gnutls_datum_t junk = {(unsigned char *)"\x30\x03\x02\x01\x00", 5};
    peercert_analyse(&junk, 1, tl, D, now, &f);
    CHECK(f.present);
    CHECK(f.chain == PEERCERT_CHAIN_BAD);
    CHECK_STR(f.chain_problem, "the leaf cannot be parsed");
    CHECK(f.eku == PEERCERT_EKU_UNKNOWN);
}

int main(void)
{
    now = (int64_t)time(NULL);
    make_ca(&root, "Peercert Test Root", NULL);
    make_ca(&inter, "Peercert Test Intermediate", &root);
    make_ca(&other_root, "Peercert Unknown Root", NULL);
    gnutls_x509_trust_list_t tl = trust_of(NULL);

    test_ok_and_dates(tl);
    test_untrusted(tl);
    test_names(tl);
    test_eku(tl);
    test_key_and_signature(tl);
    test_nothing_and_junk(tl);

    gnutls_x509_trust_list_deinit(tl, 1);
    certgen_pair_free(&root);
    certgen_pair_free(&inter);
    certgen_pair_free(&other_root);
    return check_done();
}
