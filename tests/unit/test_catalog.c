/* test_catalog.c -- the catalog's rows obey the rules everything generated
 * from them relies on. Rules run over all rows, so a new row is checked the
 * day it is added; only the named controls are checked by name. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "catalog.h"
#include "check.h"

static bool nonempty(const char *s)
{
    return s && s[0] != '\0';
}

/* One line of text: disco#info, presence status and the comments of the
 * default config all break on a newline. */
static bool one_line(const char *s)
{
    return s && strchr(s, '\n') == NULL && strchr(s, '\r') == NULL;
}

/* A DNS label usable as the left part of LABEL.BASE: lower-case letters,
 * digits and '-', not at either end, 1..63 characters. */
static bool dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
              s[i] == '-'))
            return false;
    return true;
}

/* The chain reaches no trust anchor: self-signed or the untrusted root's.
 * The cross-signed chains (gen-y, expired-cross-sign) do reach ours. */
static bool untrusted_issuer(const catalog_cert_recipe *c)
{
    return c->issuer == CATALOG_ISSUER_SELF || c->issuer == CATALOG_ISSUER_UNTRUSTED;
}

/* The leaf has a defect a strict verifier must reject (RFC 5280/6125). */
static bool cert_broken(const catalog_cert_recipe *c)
{
    return c->validity != CATALOG_VALID_NOW || untrusted_issuer(c) ||
           c->names == CATALOG_NAMES_WRONG || c->names == CATALOG_NAMES_SRV_TARGET;
}

/* The leaf is the fully correct one: both EKUs, valid, chained, named. */
static bool cert_good(const catalog_cert_recipe *c)
{
    return c->eku == (CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT) && !cert_broken(c) &&
           c->names == CATALOG_NAMES_DNS && c->sig == CATALOG_SIG_SHA256 &&
           c->key != CATALOG_KEY_RSA1024 && !c->omit_chain && !c->revoked;
}

static void test_rows_complete(void)
{
    CHECK(catalog_count() > 0);
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK(nonempty(p->label));
        CHECK(nonempty(p->breaks));
        CHECK(nonempty(p->strict_why));
        CHECK(nonempty(p->description));
        CHECK(one_line(p->breaks));
        CHECK(one_line(p->strict_why));
        CHECK(one_line(p->description));
        CHECK(strcmp(catalog_kind_name(p->kind), "?") != 0);
        CHECK(p->strict == CATALOG_EXPECT_ACCEPT || p->strict == CATALOG_EXPECT_REFUSE);
        if (!nonempty(p->label) || !nonempty(p->description))
            fprintf(stderr, "row %zu (%s) incomplete\n", i,
                    p->label ? p->label : "(null)");
    }
    CHECK(catalog_at(catalog_count()) == NULL);
}

static void test_labels(void)
{
    for (size_t i = 0; i < catalog_count(); i++) {
        const char *label = catalog_at(i)->label;
        CHECK(dns_label(label));
        if (!dns_label(label))
            fprintf(stderr, "label '%s' is not a DNS label\n", label);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(catalog_at(j)->label, label) != 0);
            if (strcmp(catalog_at(j)->label, label) == 0)
                fprintf(stderr, "label '%s' appears twice\n", label);
        }
        CHECK(catalog_find(label) == catalog_at(i));
    }
    CHECK(catalog_find("no-such-profile") == NULL);
    CHECK(catalog_find("") == NULL);
    CHECK(catalog_find("VALID") == NULL); /* labels are exact, lower case */
    CHECK_STR(catalog_expect_name(CATALOG_EXPECT_ACCEPT), "accept");
    CHECK_STR(catalog_expect_name(CATALOG_EXPECT_REFUSE), "refuse");
}

/* Field values are inside their enums, so generators' switches cover them. */
static void test_values_in_range(void)
{
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        CHECK((p->cert.eku & ~(unsigned)(CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT)) == 0);
        CHECK((p->policy.auth_in & ~(unsigned)(CATALOG_AUTH_EXTERNAL | CATALOG_AUTH_DIALBACK)) == 0);
        CHECK((p->policy.auth_out & ~(unsigned)(CATALOG_AUTH_EXTERNAL | CATALOG_AUTH_DIALBACK)) == 0);
        CHECK(p->cert.key <= CATALOG_KEY_RSA1024);
        CHECK(p->cert.validity <= CATALOG_VALID_NOT_YET);
        CHECK(p->cert.issuer <= CATALOG_ISSUER_EXPIRED_CROSS);
        CHECK(p->cert.names <= CATALOG_NAMES_SAN_ONLY);
        CHECK(p->cert.sig <= CATALOG_SIG_SHA1);
        CHECK(p->policy.starttls <= CATALOG_TLS_DIRECT_ONLY);
        CHECK(p->dns <= CATALOG_DNS_SRV_TARGET);
    }
}

/* The rules that make each test meaningful. */
static void test_rules(void)
{
    int server_only_external = 0;
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        /* A broken leaf must be refused by a strict peer. */
        if (cert_broken(&p->cert)) {
            CHECK(p->strict == CATALOG_EXPECT_REFUSE);
            if (p->strict != CATALOG_EXPECT_REFUSE)
                fprintf(stderr, "'%s' has a broken certificate but expects "
                                "accept\n", p->label);
        }
        /* A certificate profile whose leaf is fully correct is a control
         * and must be accepted. */
        if (p->kind == CATALOG_KIND_CERT && cert_good(&p->cert))
            CHECK(p->strict == CATALOG_EXPECT_ACCEPT);
        /* A serverAuth-only leaf is tested on our outbound leg (we present
         * it as TLS client): falling back to dialback hides the outcome, so
         * at least one such row must authenticate by SASL EXTERNAL only. */
        if (p->cert.eku == CATALOG_EKU_SERVER && p->policy.auth_out == CATALOG_AUTH_EXTERNAL)
            server_only_external++;
        /* A TLSA row needs a certificate whose key the zone can pin, and a
         * direct TLS row a policy that keeps it off the STARTTLS port. */
        if (p->dns == CATALOG_DNS_DIRECT_TLS)
            CHECK(p->policy.starttls == CATALOG_TLS_DIRECT_ONLY);
        if (p->policy.starttls == CATALOG_TLS_DIRECT_ONLY)
            CHECK(p->dns == CATALOG_DNS_DIRECT_TLS);
        /* Every row says what the five matrix peers do. */
        for (int q = 0; q < CATALOG_PEER_COUNT; q++)
            CHECK(p->peers[q] == CATALOG_EXPECT_ACCEPT || p->peers[q] == CATALOG_EXPECT_REFUSE);
        /* The dialback-only peer authenticates by dialback only, both ways,
         * over STARTTLS on port 5269: a row that refuses dialback on either
         * leg, or has no STARTTLS there, cannot answer it. */
        bool dialback_both = (p->policy.auth_in & CATALOG_AUTH_DIALBACK) &&
                             (p->policy.auth_out & CATALOG_AUTH_DIALBACK);
        if (!dialback_both || p->policy.starttls != CATALOG_TLS_REQUIRED) {
            CHECK(p->peers[CATALOG_PEER_DIALBACK_ONLY] == CATALOG_EXPECT_REFUSE);
            CHECK(p->peer_note != NULL || p->strict == CATALOG_EXPECT_REFUSE);
        }
        /* We must be able to authenticate replies at all. */
        CHECK(p->policy.auth_out != 0);
        /* Without STARTTLS there is no certificate to do SASL EXTERNAL
         * with, so peers dialling us need dialback. */
        if (p->policy.starttls == CATALOG_TLS_NONE)
            CHECK((p->policy.auth_in & CATALOG_AUTH_DIALBACK) != 0);
        /* No SASL at all: servers get no EXTERNAL, so dialback is the only
         * way in; and a client cannot log in. */
        if (p->policy.no_sasl) {
            CHECK((p->policy.auth_in & CATALOG_AUTH_EXTERNAL) == 0);
            CHECK((p->policy.auth_in & CATALOG_AUTH_DIALBACK) != 0);
            CHECK(p->client == CATALOG_EXPECT_REFUSE);
        }
        /* A certificate naming the SRV target tests something only where
         * the zone's SRV points at that target. */
        CHECK((p->cert.names == CATALOG_NAMES_SRV_TARGET) ==
              (p->dns == CATALOG_DNS_SRV_TARGET));
    }
    CHECK(server_only_external >= 1);
}

/* The named controls the design relies on. */
static void test_named_rows(void)
{
    const catalog_profile *valid = catalog_find("valid");
    CHECK(valid != NULL);
    if (valid) {
        CHECK(valid->cert.eku == (CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT));
        CHECK(cert_good(&valid->cert));
        CHECK(valid->strict == CATALOG_EXPECT_ACCEPT);
        CHECK(valid->kind == CATALOG_KIND_CERT);
    }
    const catalog_profile *le = catalog_find("le-tlsserver");
    CHECK(le != NULL);
    if (le) {
        CHECK(le->cert.eku == CATALOG_EKU_SERVER);
        CHECK(le->policy.auth_out == CATALOG_AUTH_EXTERNAL);
        CHECK(le->strict == CATALOG_EXPECT_ACCEPT);
    }
    /* the 2026 public PKI's shapes: valid chains a strict server accepts */
    const catalog_profile *no_cn = catalog_find("no-cn");
    CHECK(no_cn && no_cn->cert.names == CATALOG_NAMES_SAN_ONLY && no_cn->cert.no_skid &&
          no_cn->strict == CATALOG_EXPECT_ACCEPT);
    const catalog_profile *gen_y = catalog_find("gen-y");
    CHECK(gen_y && gen_y->cert.issuer == CATALOG_ISSUER_GEN_Y &&
          gen_y->cert.eku == CATALOG_EKU_SERVER && gen_y->strict == CATALOG_EXPECT_ACCEPT);
    const catalog_profile *cross = catalog_find("expired-cross-sign");
    CHECK(cross && cross->cert.issuer == CATALOG_ISSUER_EXPIRED_CROSS &&
          cross->strict == CATALOG_EXPECT_ACCEPT && cert_good(&cross->cert));
    const catalog_profile *expired = catalog_find("expired");
    CHECK(expired != NULL);
    if (expired) {
        CHECK(expired->cert.validity == CATALOG_VALID_EXPIRED);
        CHECK(expired->strict == CATALOG_EXPECT_REFUSE);
    }
}

/* The matrix peers' names are the tsv columns test_matrix.sh reads, in
 * this order, each once. */
static void test_peer_names(void)
{
    static const char *want[] = {"prosody-strict", "prosody-lenient", "ejabberd-strict",
                                 "ejabberd-dialback", "dialback-only"};
    CHECK(CATALOG_PEER_COUNT == sizeof want / sizeof want[0]);
    for (int q = 0; q < CATALOG_PEER_COUNT && q < (int)(sizeof want / sizeof want[0]); q++)
        CHECK(strcmp(catalog_peer_name((catalog_peer)q), want[q]) == 0);
    CHECK(strcmp(catalog_peer_name(CATALOG_PEER_COUNT), "?") == 0);
}

/* The client column: a client refuses what fails certificate validation
 * for a TLS server (chain, dates, name, purpose), plaintext and every DNS
 * shape that leaves it nowhere to connect; where it differs from the server
 * view, the row says why. */
static void test_client_column(void)
{
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        const catalog_cert_recipe *c = &p->cert;
        bool bad_cert = c->validity != CATALOG_VALID_NOW ||
                        untrusted_issuer(c) || c->omit_chain ||
                        c->names == CATALOG_NAMES_WRONG ||
                        c->names == CATALOG_NAMES_SRV_TARGET ||
                        (c->eku != CATALOG_EKU_NONE && !(c->eku & CATALOG_EKU_SERVER));
        bool nowhere = p->dns == CATALOG_DNS_NO_SERVICE || p->dns == CATALOG_DNS_NO_TARGET ||
                       p->dns == CATALOG_DNS_NO_ADDRESS;
        if (bad_cert || nowhere || p->policy.starttls == CATALOG_TLS_NONE ||
            p->policy.no_sasl) {
            if (p->client != CATALOG_EXPECT_REFUSE)
                printf("%s: a strict client must refuse it\n", p->label);
            CHECK(p->client == CATALOG_EXPECT_REFUSE);
        }
        if (p->client != p->strict) {
            if (!p->client_why)
                printf("%s: client differs from server without a reason\n", p->label);
            CHECK(p->client_why != NULL);
        }
        CHECK(strcmp(catalog_client_why(p), p->client_why ? p->client_why
                                                           : p->strict_why) == 0);
    }
    const catalog_profile *le = catalog_find("le-tlsserver");
    CHECK(le && le->client == CATALOG_EXPECT_ACCEPT); /* the normal case for clients */
    CHECK(strcmp(catalog_client_name(CATALOG_EXPECT_ACCEPT), "connect") == 0);
}

int main(void)
{
    test_rows_complete();
    test_labels();
    test_values_in_range();
    test_rules();
    test_named_rows();
    test_peer_names();
    test_client_column();
    return check_done();
}
