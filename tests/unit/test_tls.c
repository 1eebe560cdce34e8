/* test_tls.c -- tls.c with two real GnuTLS sessions wired to each other in
 * memory (each one's output is the other's input): every catalog priority
 * compiles, the default one refuses TLS 1.0/1.1, SNI applies the named
 * domain's whole policy before versions are chosen, unknown SNI keeps the
 * listener's domain, alerts are named on both sides, records and
 * close_notify flow, and the ciphertext backlog is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "check.h"
#include "tls.h"

/* One end of the wire: the peer's session receives what this one writes. */
typedef struct end {
    rs_tls *tls;       /* this end's session */
    rs_tls *peer;      /* where its output goes */
    char note[400];    /* the last note */
} end;

static int wire_write(void *ud, const void *data, size_t len)
{
    end *e = ud;
    return e->peer ? tls_feed(e->peer, data, len) : -1;
}

static void wire_note(void *ud, const char *text)
{
    end *e = ud;
    snprintf(e->note, sizeof e->note, "%s", text);
}

static const tls_io wire = {.write = wire_write, .note = wire_note};

/* Profiles: the catalog's own rows for the server, and clients that offer
 * exactly one version. */
static const catalog_profile *valid, *legacy, *tls13;
static catalog_profile client_profiles[4];
static const char *client_priority[4] = {
    "NORMAL:%PROFILE_LOW:-VERS-ALL:+VERS-TLS1.0",
    "NORMAL:%PROFILE_LOW:-VERS-ALL:+VERS-TLS1.1",
    "NORMAL:-VERS-ALL:+VERS-TLS1.2",
    "NORMAL:-VERS-ALL:+VERS-TLS1.3",
};

static gnutls_pcert_st chain;
static gnutls_privkey_t key;
static rs_domain items[3];
static rs_domains domains = {.refs = 1, .items = items, .n = 3};
static rs_domain client_domains[4];

/* A self-signed ECDSA certificate: what is presented does not matter here. */
static int make_credentials(void)
{
    gnutls_x509_privkey_t xkey;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_privkey_init(&xkey) < 0 ||
        gnutls_x509_privkey_generate(xkey, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_x509_crt_init(&crt) < 0)
        return -1;
    time_t now = time(NULL);
    unsigned char serial[] = {1};
    gnutls_x509_crt_set_version(crt, 3);
    gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    gnutls_x509_crt_set_activation_time(crt, now - 3600);
    gnutls_x509_crt_set_expiration_time(crt, now + 3600);
    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "tls.test", 8);
    gnutls_x509_crt_set_key(crt, xkey);
    int rc = gnutls_x509_crt_sign2(crt, crt, xkey, GNUTLS_DIG_SHA256, 0);
    if (rc == 0)
        rc = gnutls_pcert_import_x509(&chain, crt, 0);
    if (rc == 0)
        rc = gnutls_privkey_init(&key);
    if (rc == 0)
        rc = gnutls_privkey_import_x509(key, xkey, GNUTLS_PRIVKEY_IMPORT_COPY);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(xkey);
    return rc;
}

static void domain_init(rs_domain *d, const char *name, const catalog_profile *p)
{
    d->name = (char *)name;
    d->profile = p;
    d->chain = &chain;
    d->chain_len = 1;
    d->key = key;
}

/* A handshake between a server for domains (default def) and a client
 * offering version (index into client_priority) with sni (NULL: none). */
typedef struct result {
    tls_step server, client;     /* where each side ended */
    char server_alert[64], client_alert[64];
    char server_why[256], client_why[256];
    char describe[128];             /* the server's description */
    const rs_domain *domain;        /* the server's domain at the end */
    char sni[256];                  /* what the server saw by SNI */
    char note[400];                 /* the server's note */
} result;

static result handshake(const rs_domain *def, int version, const char *sni,
                        end *srv, end *cli)
{
    result r = {.server = RS_TLS_AGAIN, .client = RS_TLS_AGAIN};
    memset(srv, 0, sizeof *srv);
    memset(cli, 0, sizeof *cli);
    srv->tls = tls_new(true, &domains, def, NULL, &wire, srv);
    cli->tls = tls_new(false, NULL, &client_domains[version], sni, &wire, cli);
    CHECK(srv->tls && cli->tls);
    if (!srv->tls || !cli->tls)
        return r;
    srv->peer = cli->tls;
    cli->peer = srv->tls;
    for (int i = 0; i < 20 && (r.server == RS_TLS_AGAIN || r.client == RS_TLS_AGAIN); i++) {
        if (r.client == RS_TLS_AGAIN)
            r.client = tls_handshake(cli->tls, r.client_why, sizeof r.client_why,
                                     r.client_alert, sizeof r.client_alert);
        if (r.server == RS_TLS_AGAIN)
            r.server = tls_handshake(srv->tls, r.server_why, sizeof r.server_why,
                                     r.server_alert, sizeof r.server_alert);
    }
    tls_describe(srv->tls, r.describe, sizeof r.describe);
    r.domain = tls_domain(srv->tls);
    snprintf(r.sni, sizeof r.sni, "%s", tls_sni(srv->tls));
    snprintf(r.note, sizeof r.note, "%s", srv->note);
    return r;
}

static void release(end *srv, end *cli)
{
    tls_free(srv->tls);
    tls_free(cli->tls);
}

/* One handshake that should complete with the version named want. */
static void expect_version(const rs_domain *def, int version, const char *sni,
                           const rs_domain *domain, const char *want)
{
    end srv, cli;
    result r = handshake(def, version, sni, &srv, &cli);
    CHECK(r.server == RS_TLS_DONE && r.client == RS_TLS_DONE);
    CHECK(strncmp(r.describe, want, strlen(want)) == 0);
    CHECK(r.domain == domain);
    if (r.server != RS_TLS_DONE || strncmp(r.describe, want, strlen(want)) != 0)
        fprintf(stderr, "  offered %s, sni %s: %s / %s (%s)\n", client_priority[version],
                sni ? sni : "-", r.describe, r.server_why, r.client_why);
    release(&srv, &cli);
}

/* One handshake that should fail at the version. */
static void expect_refusal(const rs_domain *def, int version, const char *sni)
{
    end srv, cli;
    result r = handshake(def, version, sni, &srv, &cli);
    CHECK(r.server == RS_TLS_FAILED || r.client == RS_TLS_FAILED);
    CHECK(r.server != RS_TLS_DONE || r.client != RS_TLS_DONE);
    if (r.server == RS_TLS_DONE && r.client == RS_TLS_DONE)
        fprintf(stderr, "  offered %s, sni %s: completed %s\n", client_priority[version],
                sni ? sni : "-", r.describe);
    release(&srv, &cli);
}

static void test_priorities(void)
{
    char err[512];
    for (size_t i = 0; i < catalog_count(); i++) {
        CHECK(tls_priority_check(catalog_at(i), err, sizeof err));
        CHECK(strstr(tls_priority_string(catalog_at(i)), "NORMAL") != NULL);
    }
    catalog_profile bad = {.label = "bad", .policy = {.tls_priority = "NORMAL:+NO-SUCH-THING"}};
    CHECK(!tls_priority_check(&bad, err, sizeof err));
    CHECK(strstr(err, "NO-SUCH-THING") != NULL);
    /* the default, which valid uses, lists neither TLS 1.0 nor 1.1 */
    gnutls_priority_t p;
    CHECK(gnutls_priority_init2(&p, tls_priority_string(valid), NULL, 0) == 0);
    const unsigned *list = NULL;
    int n = gnutls_priority_protocol_list(p, &list);
    bool old = false, tls12 = false;
    for (int i = 0; i < n; i++) {
        old |= list[i] == GNUTLS_TLS1_0 || list[i] == GNUTLS_TLS1_1;
        tls12 |= list[i] == GNUTLS_TLS1_2;
    }
    CHECK(n > 0 && !old && tls12);
    gnutls_priority_deinit(p);
}

/* The listener's domain (no SNI) and the domain SNI names: each with its
 * own versions, as STARTTLS and direct TLS must agree. */
static void test_versions(void)
{
    const rs_domain *dv = &items[0], *dl = &items[1], *d13 = &items[2];
    /* valid without SNI: 1.2 and 1.3 only */
    expect_refusal(dv, 0, NULL);
    expect_refusal(dv, 1, NULL);
    expect_version(dv, 2, NULL, dv, "TLS1.2");
    expect_version(dv, 3, NULL, dv, "TLS1.3");
    /* a listener on valid, SNI legacy-tls: 1.0 and 1.1 only */
    expect_version(dv, 0, "legacy-tls.tls.test", dl, "TLS1.0");
    expect_version(dv, 1, "LEGACY-TLS.tls.test", dl, "TLS1.1");
    expect_refusal(dv, 2, "legacy-tls.tls.test");
    expect_refusal(dv, 3, "legacy-tls.tls.test");
    /* a listener on legacy-tls, SNI tls13-only or valid */
    expect_refusal(dl, 2, "tls13-only.tls.test");
    expect_version(dl, 3, "tls13-only.tls.test", d13, "TLS1.3");
    expect_refusal(dl, 0, "valid.tls.test");
    expect_version(dl, 2, "valid.tls.test", dv, "TLS1.2");
}

/* SNI that names no domain of ours: the listener's, and a note says so. */
static void test_unknown_sni(void)
{
    end srv, cli;
    result r = handshake(&items[1], 1, "elsewhere.example", &srv, &cli);
    CHECK(r.server == RS_TLS_DONE);
    CHECK(r.domain == &items[1]);
    CHECK_STR(r.sni, "elsewhere.example");
    CHECK_STR(r.note, "SNI 'elsewhere.example' is not ours; presenting legacy-tls.tls.test");
    CHECK(!tls_sni(cli.tls)[0]); /* the client side has none */
    CHECK(tls_sent_certificate(srv.tls));
    release(&srv, &cli);
}

/* A refused version: the server names the alert it sent, the client the
 * one it received; neither describes a session. */
static void test_alerts(void)
{
    end srv, cli;
    result r = handshake(&items[2], 2, NULL, &srv, &cli);
    CHECK(r.server == RS_TLS_FAILED);
    CHECK(r.client == RS_TLS_FAILED);
    CHECK(strncmp(r.server_alert, "sent ", 5) == 0);
    CHECK(strncmp(r.client_alert, "received ", 9) == 0);
    CHECK_STR(r.server_alert + 5, r.client_alert + 9);
    CHECK(strstr(r.client_why, "alert received") != NULL);
    CHECK_STR(r.describe, "none");
    char desc[64];
    tls_describe(NULL, desc, sizeof desc);
    CHECK_STR(desc, "none");
    release(&srv, &cli);
}

/* Records both ways, close_notify, and the backlog bound. */
static void test_records(void)
{
    end srv, cli;
    result r = handshake(&items[0], 3, "valid.tls.test", &srv, &cli);
    CHECK(r.server == RS_TLS_DONE && r.client == RS_TLS_DONE);
    char buf[256], why[256];
    CHECK(tls_send(cli.tls, "<stream:stream>", 15) == 0);
    ssize_t n = tls_recv(srv.tls, buf, sizeof buf, why, sizeof why);
    CHECK(n == 15 && memcmp(buf, "<stream:stream>", 15) == 0);
    CHECK(tls_recv(srv.tls, buf, sizeof buf, why, sizeof why) == RS_TLS_RECV_AGAIN);
    CHECK(tls_send(srv.tls, "pong", 4) == 0);
    n = tls_recv(cli.tls, buf, sizeof buf, why, sizeof why);
    CHECK(n == 4 && memcmp(buf, "pong", 4) == 0);
    tls_bye(cli.tls);
    CHECK(tls_recv(srv.tls, buf, sizeof buf, why, sizeof why) == RS_TLS_RECV_CLOSED);
    /* garbage where a record should be is fatal, with a reason */
    end s2, c2;
    handshake(&items[0], 3, NULL, &s2, &c2);
    static const char junk[] = "\x17\x03\x03\x00\x05hello";
    CHECK(tls_feed(s2.tls, junk, sizeof junk - 1) == 0);
    CHECK(tls_recv(s2.tls, buf, sizeof buf, why, sizeof why) == RS_TLS_RECV_ERROR);
    CHECK(why[0] != '\0');
    /* at most 1 MiB of ciphertext waits */
    static char mib[1 << 20];
    CHECK(tls_feed(s2.tls, mib, sizeof mib) == 0);
    CHECK(tls_feed(s2.tls, "x", 1) == -1);
    release(&s2, &c2);
    release(&srv, &cli);
}

int main(void)
{
    gnutls_global_init();
    valid = catalog_find("valid");
    legacy = catalog_find("legacy-tls");
    tls13 = catalog_find("tls13-only");
    CHECK(valid && legacy && tls13);
    if (!valid || !legacy || !tls13 || make_credentials() < 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    domain_init(&items[0], "valid.tls.test", valid);
    domain_init(&items[1], "legacy-tls.tls.test", legacy);
    domain_init(&items[2], "tls13-only.tls.test", tls13);
    CHECK(domains_index(&domains) == 0);
    for (int i = 0; i < 4; i++) {
        client_profiles[i].label = "client";
        client_profiles[i].policy.tls_priority = client_priority[i];
        domain_init(&client_domains[i], "client.tls.test", &client_profiles[i]);
    }
    test_priorities();
    test_versions();
    test_unknown_sni();
    test_alerts();
    test_records();
    gnutls_pcert_deinit(&chain);
    gnutls_privkey_deinit(key);
    return check_done();
}
