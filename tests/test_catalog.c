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

/* The leaf has a defect a strict verifier must reject (RFC 5280/6125). */
static bool cert_broken(const cat_cert_recipe *c)
{
    return c->validity != CAT_VALID_NOW || c->issuer != CAT_ISSUER_INTERMEDIATE ||
           c->names == CAT_NAMES_WRONG;
}

/* The leaf is the fully correct one: both EKUs, valid, chained, named. */
static bool cert_good(const cat_cert_recipe *c)
{
    return c->eku == (CAT_EKU_SERVER | CAT_EKU_CLIENT) && !cert_broken(c) &&
           c->names == CAT_NAMES_DNS && c->sig == CAT_SIG_SHA256 &&
           c->key != CAT_KEY_RSA1024 && !c->omit_chain && !c->revoked;
}

static void test_rows_complete(void)
{
    CHECK(cat_count() > 0);
    for (size_t i = 0; i < cat_count(); i++) {
        const cat_profile *p = cat_at(i);
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
        CHECK(strcmp(cat_kind_name(p->kind), "?") != 0);
        CHECK(p->strict == CAT_EXPECT_ACCEPT || p->strict == CAT_EXPECT_REFUSE);
        if (!nonempty(p->label) || !nonempty(p->description))
            fprintf(stderr, "row %zu (%s) incomplete\n", i,
                    p->label ? p->label : "(null)");
    }
    CHECK(cat_at(cat_count()) == NULL);
}

static void test_labels(void)
{
    for (size_t i = 0; i < cat_count(); i++) {
        const char *label = cat_at(i)->label;
        CHECK(dns_label(label));
        if (!dns_label(label))
            fprintf(stderr, "label '%s' is not a DNS label\n", label);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(cat_at(j)->label, label) != 0);
            if (strcmp(cat_at(j)->label, label) == 0)
                fprintf(stderr, "label '%s' appears twice\n", label);
        }
        CHECK(cat_find(label) == cat_at(i));
    }
    CHECK(cat_find("no-such-profile") == NULL);
    CHECK(cat_find("") == NULL);
    CHECK(cat_find("VALID") == NULL); /* labels are exact, lower case */
    CHECK_STR(cat_expect_name(CAT_EXPECT_ACCEPT), "accept");
    CHECK_STR(cat_expect_name(CAT_EXPECT_REFUSE), "refuse");
}

/* Field values are inside their enums, so generators' switches cover them. */
static void test_values_in_range(void)
{
    for (size_t i = 0; i < cat_count(); i++) {
        const cat_profile *p = cat_at(i);
        CHECK((p->cert.eku & ~(unsigned)(CAT_EKU_SERVER | CAT_EKU_CLIENT)) == 0);
        CHECK((p->policy.auth_in & ~(unsigned)(CAT_AUTH_EXTERNAL | CAT_AUTH_DIALBACK)) == 0);
        CHECK((p->policy.auth_out & ~(unsigned)(CAT_AUTH_EXTERNAL | CAT_AUTH_DIALBACK)) == 0);
        CHECK(p->cert.key <= CAT_KEY_RSA1024);
        CHECK(p->cert.validity <= CAT_VALID_NOT_YET);
        CHECK(p->cert.issuer <= CAT_ISSUER_UNTRUSTED);
        CHECK(p->cert.names <= CAT_NAMES_WILDCARD);
        CHECK(p->cert.sig <= CAT_SIG_SHA1);
        CHECK(p->policy.starttls <= CAT_TLS_DIRECT_ONLY);
        CHECK(p->dns <= CAT_DNS_TLSA);
    }
}

/* The rules that make each test meaningful. */
static void test_rules(void)
{
    int server_only_external = 0;
    for (size_t i = 0; i < cat_count(); i++) {
        const cat_profile *p = cat_at(i);
        /* A broken leaf must be refused by a strict peer. */
        if (cert_broken(&p->cert)) {
            CHECK(p->strict == CAT_EXPECT_REFUSE);
            if (p->strict != CAT_EXPECT_REFUSE)
                fprintf(stderr, "'%s' has a broken certificate but expects "
                                "accept\n", p->label);
        }
        /* A certificate profile whose leaf is fully correct is a control
         * and must be accepted. */
        if (p->kind == CAT_KIND_CERT && cert_good(&p->cert))
            CHECK(p->strict == CAT_EXPECT_ACCEPT);
        /* A serverAuth-only leaf is tested on our outbound leg (we present
         * it as TLS client): falling back to dialback hides the outcome, so
         * at least one such row must authenticate by SASL EXTERNAL only. */
        if (p->cert.eku == CAT_EKU_SERVER && p->policy.auth_out == CAT_AUTH_EXTERNAL)
            server_only_external++;
        /* A TLSA row needs a certificate whose key the zone can pin, and a
         * direct TLS row a policy that keeps it off the STARTTLS port. */
        if (p->dns == CAT_DNS_DIRECT_TLS)
            CHECK(p->policy.starttls == CAT_TLS_DIRECT_ONLY);
        if (p->policy.starttls == CAT_TLS_DIRECT_ONLY)
            CHECK(p->dns == CAT_DNS_DIRECT_TLS);
        /* Every row says what the four matrix peers do. */
        for (int q = 0; q < CAT_PEER_COUNT; q++)
            CHECK(p->peers[q] == CAT_EXPECT_ACCEPT || p->peers[q] == CAT_EXPECT_REFUSE);
        /* We must be able to authenticate replies at all. */
        CHECK(p->policy.auth_out != 0);
        /* Without STARTTLS there is no certificate to do SASL EXTERNAL
         * with, so peers dialling us need dialback. */
        if (p->policy.starttls == CAT_TLS_NONE)
            CHECK((p->policy.auth_in & CAT_AUTH_DIALBACK) != 0);
    }
    CHECK(server_only_external >= 1);
}

/* The named controls the design relies on. */
static void test_named_rows(void)
{
    const cat_profile *valid = cat_find("valid");
    CHECK(valid != NULL);
    if (valid) {
        CHECK(valid->cert.eku == (CAT_EKU_SERVER | CAT_EKU_CLIENT));
        CHECK(cert_good(&valid->cert));
        CHECK(valid->strict == CAT_EXPECT_ACCEPT);
        CHECK(valid->kind == CAT_KIND_CERT);
    }
    const cat_profile *le = cat_find("le-tlsserver");
    CHECK(le != NULL);
    if (le) {
        CHECK(le->cert.eku == CAT_EKU_SERVER);
        CHECK(le->policy.auth_out == CAT_AUTH_EXTERNAL);
        CHECK(le->strict == CAT_EXPECT_ACCEPT);
    }
    const cat_profile *expired = cat_find("expired");
    CHECK(expired != NULL);
    if (expired) {
        CHECK(expired->cert.validity == CAT_VALID_EXPIRED);
        CHECK(expired->strict == CAT_EXPECT_REFUSE);
    }
}

int main(void)
{
    test_rows_complete();
    test_labels();
    test_values_in_range();
    test_rules();
    test_named_rows();
    return check_done();
}
