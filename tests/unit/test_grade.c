/* test_grade.c -- the grade from findings filled by hand: each rule alone
 * moves the grade to its cap, the grade is the lowest cap of several,
 * unseen findings never cap, partial and no grade, the A+ lift and what
 * blocks it, the 2026 readiness line, and grade_json as JSON that Python
 * parses with the decisive rule first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grade.h"
#include "json.h"


/* A server that does everything right, seen by a probe: grade A. */
static grade_findings good(void)
{
    grade_findings f;
    memset(&f, 0, sizeof f);
    f.server_cert = (peercert_findings){
        .present = true, .chain = PEERCERT_CHAIN_OK, .chain_len = 2,
        .name_ok = true, .name_how = "DNS-ID", .not_before = 1700000000,
        .not_after = 1800000000, .days_left = 60, .key = "ECDSA P-256",
        .signature = "ECDSA-SHA256", .eku = PEERCERT_EKU_BOTH};
    f.server_cert_time = 1760000000;
    f.tls_seen = GRADE_TLS13;
    f.tls_tested = GRADE_TLS10 | GRADE_TLS11 | GRADE_TLS12 | GRADE_TLS13;
    f.tls_accepted = GRADE_TLS12 | GRADE_TLS13;
    f.tls_required = GRADE_YES;
    f.sasl_external = GRADE_YES;
    f.dialback = GRADE_YES;
    f.accepts_server_only = GRADE_YES;
    f.dnssec_srv = GRADE_NO;
    f.dane_match = GRADE_NO;
    f.probed = true;
    return f;
}

static const grade_rule *rule(const char *id)
{
    size_t n;
    const grade_rule *t = grade_rules(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

static bool applied(const grade_result *r, const char *id)
{
    for (size_t i = 0; i < r->n_applied; i++)
        if (strcmp(r->applied[i]->id, id) == 0)
            return true;
    return false;
}

/* f alone must give exactly rule id as the decisive one, and its cap. */
static void expect_alone(const grade_findings *f, const char *id)
{
    grade_result r;
    grade_compute(f, &r);
    const grade_rule *g = rule(id);
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK_STR(grade_letter_name(r.letter), grade_letter_name(g->cap));
    CHECK(r.n_applied == 1);
    CHECK_STR(r.n_applied ? r.applied[0]->id : "", id);
}

static void test_table(void)
{
    size_t n;
    const grade_rule *t = grade_rules(&n);
    CHECK(n >= 15 && n <= GRADE_APPLIED_MAX + 2);
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i].id && t[i].when && t[i].why && t[i].cap != GRADE_NONE);
        /* one sentence each: the manual writes one per line */
        CHECK(strstr(t[i].when, ". ") == NULL && strstr(t[i].why, ". ") == NULL);
        /* grade_rules_mdoc writes them as they are, in a 512-byte line */
        CHECK(!strchr(t[i].when, '\\') && !strchr(t[i].why, '\\'));
        CHECK(strlen(t[i].when) < 400 && strlen(t[i].why) < 400);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(t[i].id, t[j].id) != 0);
    }
}

static void test_good_is_a(void)
{
    grade_findings f = good();
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A);
    CHECK(r.n_applied == 0);
    CHECK(!r.partial);
    CHECK(!r.graded_client_cert);
}

static void test_each_rule_alone(void)
{
    grade_findings f;

    f = good();
    f.server_cert = (peercert_findings){.present = false, .chain = PEERCERT_CHAIN_NONE};
    expect_alone(&f, "no-certificate");

    f = good();
    f.server_cert.chain = PEERCERT_CHAIN_UNTRUSTED;
    expect_alone(&f, "untrusted");
    f.server_cert.chain = PEERCERT_CHAIN_BAD;
    expect_alone(&f, "untrusted");

    f = good();
    f.server_cert.chain = PEERCERT_CHAIN_INCOMPLETE;
    expect_alone(&f, "incomplete-chain");

    f = good();
    f.server_cert.chain = PEERCERT_CHAIN_EXPIRED;
    f.server_cert.days_left = -3;
    expect_alone(&f, "expired");
    f = good();
    f.server_cert.chain = PEERCERT_CHAIN_NOT_YET;
    expect_alone(&f, "expired");

    f = good();
    f.server_cert.chain = PEERCERT_CHAIN_REVOKED;
    expect_alone(&f, "revoked");

    f = good();
    f.server_cert.name_ok = false;
    expect_alone(&f, "wrong-name");

    f = good();
    f.server_cert.eku = PEERCERT_EKU_CLIENT_ONLY;
    expect_alone(&f, "no-server-purpose");
    f.server_cert.eku = PEERCERT_EKU_NONE_TLS;
    expect_alone(&f, "no-server-purpose");

    f = good();
    f.tls_seen = 0;
    f.tls_accepted = 0;
    expect_alone(&f, "no-modern-tls");

    f = good();
    f.tls_required = GRADE_NO;
    expect_alone(&f, "tls-not-required");

    f = good();
    f.server_cert.key_weak = true;
    expect_alone(&f, "weak-key");

    f = good();
    f.server_cert.signature_weak = true;
    expect_alone(&f, "weak-signature");

    f = good();
    f.tls_accepted |= GRADE_TLS10;
    expect_alone(&f, "old-tls");
    f = good();
    f.tls_seen |= GRADE_TLS11; /* negotiated on a real stream counts too */
    expect_alone(&f, "old-tls");

    f = good();
    f.server_cert.eku = PEERCERT_EKU_SERVER_ONLY;
    expect_alone(&f, "server-auth-only");

    f = good();
    f.sasl_external = GRADE_NO;
    expect_alone(&f, "no-sasl-external");

    f = good();
    f.server_cert.days_left = 13;
    expect_alone(&f, "expires-soon");
    f.server_cert.days_left = 14;
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A);

    f = good();
    f.dane_match = GRADE_YES;
    expect_alone(&f, "dane");

    f = good();
    f.dnssec_srv = GRADE_YES;
    expect_alone(&f, "dnssec-srv");

    /* absent EKU means any purpose: no rule */
    f = good();
    f.server_cert.eku = PEERCERT_EKU_ABSENT;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A && r.n_applied == 0);
}

static void test_minimum_of_several(void)
{
    grade_findings f = good();
    f.tls_accepted |= GRADE_TLS10;     /* B */
    f.tls_required = GRADE_NO;         /* C */
    f.server_cert.eku = PEERCERT_EKU_SERVER_ONLY; /* B */
    f.dane_match = GRADE_YES;          /* lift, blocked */
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_C);
    CHECK(r.n_applied == 4);
    CHECK_STR(r.applied[0]->id, "tls-not-required");
    /* the B rules in the table's order, the lift last */
    CHECK_STR(r.applied[1]->id, "old-tls");
    CHECK_STR(r.applied[2]->id, "server-auth-only");
    CHECK_STR(r.applied[3]->id, "dane");

    f.server_cert.name_ok = false; /* F beats all */
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_F);
    CHECK_STR(r.applied[0]->id, "wrong-name");
}

static void test_unseen_never_caps(void)
{
    grade_findings f = good();
    f.tls_seen = f.tls_tested = f.tls_accepted = 0;
    f.tls_required = GRADE_UNSEEN;
    f.sasl_external = GRADE_UNSEEN;
    f.dialback = GRADE_UNSEEN;
    f.accepts_server_only = GRADE_UNSEEN;
    f.dnssec_srv = GRADE_UNSEEN;
    f.dane_match = GRADE_UNSEEN;
    f.probed = false;
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A);
    CHECK(r.n_applied == 0);
    CHECK(r.partial);
    CHECK(grade_partial_reason(&r) != NULL);

    /* only TLS 1.2 tried and refused: 1.3 untried, so no-modern-tls waits */
    f.tls_tested = GRADE_TLS12;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A);
}

static void test_partial_and_none(void)
{
    grade_findings f = good();
    f.probed = false;
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.partial && r.letter == GRADE_A);
    f.probed = true;
    grade_compute(&f, &r);
    CHECK(!r.partial && grade_partial_reason(&r) == NULL);

    /* nothing seen of either certificate: no grade, whatever else */
    grade_findings none;
    memset(&none, 0, sizeof none);
    none.tls_required = GRADE_NO;
    grade_compute(&none, &r);
    CHECK(r.letter == GRADE_NONE);
    CHECK(r.n_applied == 0);
    CHECK(r.partial);
    CHECK_STR(grade_letter_name(r.letter), "-");

    /* only the certificate it sent when dialling us: that one is graded */
    f = good();
    f.client_cert = f.server_cert;
    f.client_cert.chain = PEERCERT_CHAIN_UNTRUSTED;
    f.client_cert_time = 1760000000;
    memset(&f.server_cert, 0, sizeof f.server_cert);
    f.server_cert_time = 0;
    f.probed = false;
    grade_compute(&f, &r);
    CHECK(r.graded_client_cert);
    CHECK(r.letter == GRADE_F && r.partial);
    CHECK(strstr(grade_cert_words(&r), "dialled us") != NULL);
    /* and the one it presents when dialled wins once it is seen */
    f.server_cert = good().server_cert;
    f.server_cert_time = 1760000100;
    grade_compute(&f, &r);
    CHECK(!r.graded_client_cert && r.letter == GRADE_A);
}

static void test_lift(void)
{
    grade_findings f = good();
    f.dane_match = GRADE_YES;
    f.dnssec_srv = GRADE_YES;
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_A_PLUS);
    CHECK(r.n_applied == 2);
    CHECK_STR(grade_letter_name(r.letter), "A+");

    f.sasl_external = GRADE_NO; /* any cap below A blocks the lift */
    grade_compute(&f, &r);
    CHECK(r.letter == GRADE_B);
    CHECK_STR(r.applied[0]->id, "no-sasl-external");
    CHECK(applied(&r, "dane") && applied(&r, "dnssec-srv"));
}

static void test_readiness(void)
{
    grade_findings f = good();
    grade_result r;
    grade_compute(&f, &r);
    CHECK(r.ready);
    CHECK(strstr(r.readiness, "client purpose") != NULL);
    CHECK(strstr(r.readiness, "server authentication only") == NULL);

    f.server_cert.eku = PEERCERT_EKU_SERVER_ONLY;
    grade_compute(&f, &r);
    CHECK(!r.ready);
    CHECK(strstr(r.readiness, "allows TLS server authentication only") != NULL);
    CHECK(strstr(r.readiness, "ejabberd before 25.07") != NULL);

    /* what it sent when dialling us decides over what it presents */
    f.client_cert = good().server_cert;
    f.client_cert_time = 1760000000;
    grade_compute(&f, &r);
    CHECK(r.ready);
    f.client_cert.eku = PEERCERT_EKU_NONE_TLS;
    grade_compute(&f, &r);
    CHECK(!r.ready && strstr(r.readiness, "neither TLS purpose") != NULL);

    f = good();
    f.accepts_server_only = GRADE_NO;
    grade_compute(&f, &r);
    CHECK(!r.ready);
    CHECK(strstr(r.readiness, "refuses peers whose certificate is serverAuth-only") != NULL);
    CHECK(strstr(r.readiness, "11 February 2026") != NULL);
    f.accepts_server_only = GRADE_UNSEEN;
    grade_compute(&f, &r);
    CHECK(!r.ready && strstr(r.readiness, "not tested yet") != NULL);
    f.accepts_server_only = GRADE_YES;
    grade_compute(&f, &r);
    CHECK(r.ready && strstr(r.readiness, "It accepts peers") != NULL);

    grade_findings none;
    memset(&none, 0, sizeof none);
    grade_compute(&none, &r);
    CHECK(!r.ready && strstr(r.readiness, "not been seen") != NULL);
}

/* text through python3's json module; exit 0 when it parses and the first
 * applied rule is want (or there is none and want is NULL). */
static int python_checks(const char *text, const char *want)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "r=d[\"rules\"]; f=d[\"findings\"]; "
             "assert f[\"tls_accepted\"]==[\"TLS1.0\",\"TLS1.2\",\"TLS1.3\"]; "
             "assert f[\"dane_match\"] is None and f[\"tls_required\"]==\"yes\"; "
             "assert f[\"client_cert\"] is None and f[\"server_cert\"][\"present\"]; "
             "assert (r[0][\"id\"] if r else None)==%s, r'",
             want ? "\"old-tls\"" : "None");
    FILE *p = popen(cmd, "w");
    if (!p)
        return -1;
    fputs(text, p);
    return pclose(p);
}

static void test_json(void)
{
    grade_findings f = good();
    f.tls_accepted |= GRADE_TLS10;
    f.dane_match = GRADE_UNSEEN;
    f.server_cert.names[0] = '\0';
    grade_result r;
    grade_compute(&f, &r);
    rs_json js;
    json_init(&js);
    json_obj_begin(&js);
    grade_json(&js, &f, &r);
    json_obj_end(&js);
    CHECK(!js.failed);
    CHECK(strstr(js.text, "\"grade\":\"B\"") != NULL);
    CHECK(strstr(js.text, "\"id\":\"old-tls\"") != NULL);
    CHECK(python_checks(js.text, "old-tls") == 0);
    json_free(&js);

    /* no grade: null */
    grade_findings none;
    memset(&none, 0, sizeof none);
    grade_compute(&none, &r);
    json_init(&js);
    json_obj_begin(&js);
    grade_json(&js, &none, &r);
    json_obj_end(&js);
    CHECK(strstr(js.text, "\"grade\":null") != NULL);
    CHECK(strstr(js.text, "\"server_cert\":null") != NULL);
    json_free(&js);
}

static void test_print(void)
{
    grade_findings f = good();
    f.tls_accepted |= GRADE_TLS11;
    f.sasl_external = GRADE_NO;
    f.probed = false;
    grade_result r;
    grade_compute(&f, &r);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK(out != NULL);
    if (!out)
        return;
    grade_print(out, "  ", &f, &r);
    fclose(out);
    CHECK(strstr(text, "  grade: B (partial: the TLS versions have not been tried one by one yet)\n") != NULL);
    CHECK(strstr(text, "    decisive: old-tls (caps at B): ") != NULL);
    CHECK(strstr(text, "    also: no-sasl-external (B)\n") != NULL);
    CHECK(strstr(text, "  2026 readiness: ready. ") != NULL);
    free(text);

    text = NULL;
    out = open_memstream(&text, &len);
    if (!out)
        return;
    grade_rules_mdoc(out);
    fclose(out);
    CHECK(strncmp(text, ".Bl -tag -width Ds\n", 19) == 0);
    CHECK(strstr(text, ".It Cm untrusted Pq caps at F\n") != NULL);
    CHECK(strstr(text, ".It Cm dane Pq lifts A to A+\n") != NULL);
    CHECK(strstr(text, "\n.El\n") != NULL);
    free(text);
}

int main(void)
{
    test_table();
    test_good_is_a();
    test_each_rule_alone();
    test_minimum_of_several();
    test_unseen_never_caps();
    test_partial_and_none();
    test_lift();
    test_readiness();
    test_json();
    test_print();
    return check_done();
}
