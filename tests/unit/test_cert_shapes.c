/* test_cert_shapes.c -- the certificates of the 2026 public PKI's rows
 * (catalog.c: no-cn, gen-y, expired-cross-sign) have the shapes their rows
 * claim, and the paths a verifier may build through them lead where the
 * rows say: to the test root only through the cross-signature (gen-y), to
 * the test root despite the expired cross-signature (expired-cross-sign).
 * test_certs.c checks what every row shares; this file what these three add. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "catalog.h"
#include "certgen.h"
#include "check.h"
#include "certs_testlib.h"

#define BASE "shapes.example"
#define CDP_BASE "http://" BASE ":5280"

static char dir[] = "/tmp/test_cert_shapes.XXXXXX";
static char certs[256];

/* All certificates of certs/NAME.pem; *n = 0 when unreadable. */
static gnutls_x509_crt_t *load(const char *name, unsigned *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.pem", certs, name);
    return load_chain(path, n);
}

/* The one certificate of certs/NAME.pem, or NULL. */
static gnutls_x509_crt_t load_one(const char *name)
{
    unsigned n;
    gnutls_x509_crt_t *crts = load(name, &n), one = NULL;
    if (n == 1) {
        one = crts[0];
        gnutls_free(crts);
    } else {
        free_chain(crts, n);
    }
    return one;
}

/* Status of chain (n certificates) verified against certs/ANCHOR.pem alone,
 * for the TLS purpose oid (NULL: any purpose); UINT32_MAX when it could not
 * run. */
static unsigned verify(gnutls_x509_crt_t *chain, unsigned n, const char *anchor,
                       const char *purpose)
{
    char path[1024];
    gnutls_x509_trust_list_t tl;
    gnutls_typed_vdata_st data = {GNUTLS_DT_KEY_PURPOSE_OID,
                                  (unsigned char *)purpose, 0};
    unsigned status = UINT32_MAX;
    snprintf(path, sizeof path, "%s/%s.pem", certs, anchor);
    if (gnutls_x509_trust_list_init(&tl, 0) < 0)
        return status;
    if (gnutls_x509_trust_list_add_trust_file(tl, path, NULL, GNUTLS_X509_FMT_PEM,
                                              0, 0) == 1 &&
        gnutls_x509_trust_list_verify_crt2(tl, chain, n, purpose ? &data : NULL,
                                           purpose ? 1 : 0, 0, &status, NULL) < 0)
        status = UINT32_MAX;
    gnutls_x509_trust_list_deinit(tl, 1);
    return status;
}

static bool has_eku(gnutls_x509_crt_t crt, const char *want)
{
    for (unsigned i = 0;; i++) {
        char oid[128];
        size_t len = sizeof oid;
        if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len, NULL) < 0)
            return false;
        if (strcmp(oid, want) == 0)
            return true;
    }
}

/* Same subject DN and same public key: two certificates of one CA. */
static bool same_ca(gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
    gnutls_datum_t da = {NULL, 0}, db = {NULL, 0};
    unsigned char ka[64], kb[64];
    size_t la = sizeof ka, lb = sizeof kb;
    bool same = gnutls_x509_crt_get_raw_dn(a, &da) >= 0 &&
                gnutls_x509_crt_get_raw_dn(b, &db) >= 0 && da.size == db.size &&
                memcmp(da.data, db.data, da.size) == 0 &&
                gnutls_x509_crt_get_key_id(a, GNUTLS_KEYID_USE_SHA256, ka, &la) >= 0 &&
                gnutls_x509_crt_get_key_id(b, GNUTLS_KEYID_USE_SHA256, kb, &lb) >= 0 &&
                la == lb && memcmp(ka, kb, la) == 0;
    gnutls_free(da.data);
    gnutls_free(db.data);
    return same;
}

static int generate(const char *label, const char *crl_base)
{
    char domain[300], err[256] = "";
    snprintf(domain, sizeof domain, "%s.%s", label, BASE);
    const catalog_profile *p = catalog_find(label);
    CHECK(p != NULL);
    int ret = p ? certgen_domain(certs, domain, BASE, crl_base, p, false, err, sizeof err)
                : -1;
    if (ret != 0)
        fprintf(stderr, "%s: %s\n", domain, err);
    CHECK(ret == 0);
    return ret;
}

/* A chain of three as a row sends it and three CAs to compare it with. */
typedef struct fixture {
    gnutls_x509_crt_t *chain; /* the domain's PEM, leaf first */
    unsigned n;               /* certificates in it */
    gnutls_x509_crt_t ca[3];  /* the CAs named, in order; NULL if unreadable */
    bool ok;                  /* three certificates sent, every CA read */
} fixture;

static void fixture_load(fixture *f, const char *domain, const char *a,
                         const char *b, const char *c)
{
    const char *names[3] = {a, b, c};
    f->chain = load(domain, &f->n);
    f->ok = f->n == 3;
    for (int i = 0; i < 3; i++)
        f->ok &= (f->ca[i] = load_one(names[i])) != NULL;
    CHECK(f->ok);
}

static void fixture_free(fixture *f)
{
    free_chain(f->chain, f->n);
    for (int i = 0; i < 3; i++)
        if (f->ca[i])
            gnutls_x509_crt_deinit(f->ca[i]);
}

/* no-cn: an empty subject, the name only in a critical SAN, no SKID, yet
 * an authority key id that names its issuer, and a chain that verifies. */
static void check_no_cn(void)
{
    unsigned n;
    gnutls_x509_crt_t *chain = load("no-cn." BASE, &n);
    CHECK(n == 2);
    if (n != 2)
        return free_chain(chain, n);
    char dn[256], san[256];
    size_t len = sizeof dn, sanlen = sizeof san;
    unsigned critical = 0;
    unsigned char id[64];
    size_t idlen = sizeof id;
    gnutls_datum_t raw = {NULL, 0}, ext = {NULL, 0};
    /* the subject is an empty SEQUENCE: no attribute at all */
    CHECK(gnutls_x509_crt_get_raw_dn(chain[0], &raw) >= 0 && raw.size == 2);
    gnutls_free(raw.data);
    CHECK(gnutls_x509_crt_get_dn(chain[0], dn, &len) == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    CHECK(gnutls_x509_crt_get_subject_alt_name(chain[0], 0, san, &sanlen, NULL) ==
          GNUTLS_SAN_DNSNAME);
    CHECK(strcmp(san, "no-cn." BASE) == 0);
    sanlen = sizeof san;
    CHECK(gnutls_x509_crt_get_subject_alt_name(chain[0], 1, san, &sanlen, NULL) ==
          GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    CHECK(gnutls_x509_crt_get_extension_by_oid2(chain[0], GNUTLS_X509EXT_OID_SAN, 0, &ext,
                                                &critical) >= 0 && critical == 1);
    gnutls_free(ext.data);
    CHECK(gnutls_x509_crt_get_subject_key_id(chain[0], id, &idlen, NULL) ==
          GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    idlen = sizeof id;
    CHECK(gnutls_x509_crt_get_authority_key_id(chain[0], id, &idlen, NULL) >= 0);
    CHECK(gnutls_x509_crt_check_hostname(chain[0], "no-cn." BASE));
    CHECK(verify(chain, n, "ca", NULL) == 0);
    CHECK(verify(chain, n, "ca", GNUTLS_KP_TLS_WWW_SERVER) == 0);
    free_chain(chain, n);
}

/* gen-y: leaf, serverAuth-only intermediate, the new root cross-signed by
 * the test root. The test root alone verifies it, and only through the
 * cross-signature; no certificate carries clientAuth, so a verifier that
 * demands it for the chain (OpenSSL's sslclient purpose) refuses it. */
static void check_gen_y(void)
{
    fixture f;
    fixture_load(&f, "gen-y." BASE, "ca", "gen-y-root", "gen-y-intermediate");
    gnutls_x509_crt_t *chain = f.chain, root = f.ca[0], new_root = f.ca[1];
    if (f.ok) {
        CHECK(gnutls_x509_crt_equals(chain[1], f.ca[2]));
        for (unsigned i = 0; i < f.n; i++)
            CHECK(!has_eku(chain[i], GNUTLS_KP_TLS_WWW_CLIENT));
        CHECK(has_eku(chain[0], GNUTLS_KP_TLS_WWW_SERVER));
        CHECK(has_eku(chain[1], GNUTLS_KP_TLS_WWW_SERVER));
        /* the third is the new root's name and key, signed by the test root */
        CHECK(same_ca(chain[2], new_root) && !gnutls_x509_crt_equals(chain[2], new_root));
        CHECK(gnutls_x509_crt_check_issuer(chain[2], root) == 1);
        CHECK(gnutls_x509_crt_check_issuer(chain[2], chain[2]) == 0);
        CHECK(verify(chain, 3, "ca", NULL) == 0);
        CHECK(verify(chain, 3, "ca", GNUTLS_KP_TLS_WWW_SERVER) == 0);
        CHECK(verify(chain, 3, "ca", GNUTLS_KP_TLS_WWW_CLIENT) & GNUTLS_CERT_PURPOSE_MISMATCH);
        /* without the cross-signature the test root is out of reach */
        CHECK(verify(chain, 2, "ca", NULL) & GNUTLS_CERT_SIGNER_NOT_FOUND);
        CHECK(verify(chain, 3, "untrusted-ca", NULL) & GNUTLS_CERT_INVALID);
    }
    fixture_free(&f);
}

/* expired-cross-sign: leaf, intermediate, and the test root's name and key
 * signed by the untrusted root, expired. The valid path ends at the trusted
 * test root; the sent chain followed to its end ends at an expired
 * certificate (what a verifier that trusts the other root would meet). */
static void check_expired_cross(void)
{
    fixture f;
    fixture_load(&f, "expired-cross-sign." BASE, "ca", "untrusted-ca", "intermediate");
    gnutls_x509_crt_t *chain = f.chain, root = f.ca[0], untrusted = f.ca[1];
    if (f.ok) {
        time_t now = time(NULL);
        CHECK(gnutls_x509_crt_equals(chain[1], f.ca[2]));
        CHECK(same_ca(chain[2], root) && !gnutls_x509_crt_equals(chain[2], root));
        CHECK(gnutls_x509_crt_check_issuer(chain[2], untrusted) == 1);
        CHECK(gnutls_x509_crt_get_expiration_time(chain[2]) < now - 29 * 24 * 3600);
        CHECK(gnutls_x509_crt_get_expiration_time(chain[0]) > now);
        CHECK(verify(chain, 3, "ca", NULL) == 0);
        CHECK(verify(chain, 3, "ca", GNUTLS_KP_TLS_WWW_CLIENT) == 0);
        CHECK(verify(&chain[2], 1, "untrusted-ca", NULL) & GNUTLS_CERT_EXPIRED);
        CHECK(verify(chain, 3, "untrusted-ca", NULL) & GNUTLS_CERT_EXPIRED);
    }
    fixture_free(&f);
}

/* The bytes of certs/NAME.pem (malloc'd, NUL-terminated), or NULL. */
static char *slurp(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.pem", certs, name);
    FILE *f = fopen(path, "r");
    char *buf = f ? calloc(1, 65536) : NULL;
    if (buf && fread(buf, 1, 65535, f) == 0) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

/* A second run keeps everything; a cross-signature made anew (its file
 * lost) is made anew in the chain that sends it; with a CRL base the
 * test root's cross-signature names the root's CRL. */
static void check_keep_and_remake(void)
{
    char err[256] = "", path[1024];
    char *cross = slurp("ca-cross-expired"), *chain = slurp("expired-cross-sign." BASE),
         *gen_y = slurp("gen-y." BASE);
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    generate("expired-cross-sign", NULL);
    generate("gen-y", NULL);
    char *cross2 = slurp("ca-cross-expired"), *chain2 = slurp("expired-cross-sign." BASE),
         *gen_y2 = slurp("gen-y." BASE);
    CHECK(cross && cross2 && strcmp(cross, cross2) == 0);
    CHECK(chain && chain2 && strcmp(chain, chain2) == 0);
    CHECK(gen_y && gen_y2 && strcmp(gen_y, gen_y2) == 0);
    snprintf(path, sizeof path, "%s/ca-cross-expired.pem", certs);
    CHECK(unlink(path) == 0);
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    generate("expired-cross-sign", NULL);
    char *cross3 = slurp("ca-cross-expired"), *chain3 = slurp("expired-cross-sign." BASE);
    CHECK(cross3 && strcmp(cross, cross3) != 0);
    CHECK(chain3 && strstr(chain3, cross3) != NULL);
    check_expired_cross();
    char *all[] = {cross, chain, gen_y, cross2, chain2, gen_y2, cross3, chain3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);

    CHECK(certgen_pki(certs, CDP_BASE, false, err, sizeof err) == 0);
    gnutls_x509_crt_t y = load_one("gen-y-root-cross"), x = load_one("ca-cross-expired");
    char uri[512];
    size_t len = sizeof uri;
    CHECK(y && gnutls_x509_crt_get_crl_dist_points(y, 0, uri, &len, NULL, NULL) ==
                   GNUTLS_SAN_URI &&
          strcmp(uri, CDP_BASE "/crl/ca.crl") == 0);
    len = sizeof uri; /* the untrusted root publishes no CRL */
    CHECK(x && gnutls_x509_crt_get_crl_dist_points(x, 0, uri, &len, NULL, NULL) ==
                   GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    if (y)
        gnutls_x509_crt_deinit(y);
    if (x)
        gnutls_x509_crt_deinit(x);
    generate("gen-y", CDP_BASE);
    check_gen_y(); /* still the same shape under the re-made PKI */
}

int main(void)
{
    char err[256] = "";
    if (scratch_make(dir, certs, sizeof certs) < 0)
        return 1;
    CHECK(certgen_pki(certs, NULL, false, err, sizeof err) == 0);
    generate("no-cn", NULL);
    generate("gen-y", NULL);
    generate("expired-cross-sign", NULL);
    check_no_cn();
    check_gen_y();
    check_expired_cross();
    check_keep_and_remake();
    scratch_remove(dir);
    return check_done();
}
