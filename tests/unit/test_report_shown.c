/* test_report_shown.c -- what remote servers present, kept by the report
 * (report_shown.c): kept aside until the remote's first outcome, graded,
 * written to report.db and read back with the grade history; the grade
 * shown counts a certificate's days from today. */
#include <time.h>

#include "report_testlib.h"

/* What a remote server presented: kept aside until its first outcome,
 * graded, written to report.db, read back with its grade history. */
static void test_presented(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("presented");
    rs_report *r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    report_presented p = {.time = 1800000000, .leg = REPORT_LEG_OUT,
                          .tls = GRADE_TLS13, .tls_required = GRADE_YES,
                          .sasl_external = GRADE_YES, .dialback = GRADE_NO};
    p.cert.present = true;
    p.cert.chain = PEERCERT_CHAIN_OK;
    p.cert.name_ok = true;
    snprintf(p.cert.name_how, sizeof p.cert.name_how, "DNS-ID");
    snprintf(p.cert.names, sizeof p.cert.names, "shown.example");
    snprintf(p.cert.key, sizeof p.cert.key, "ECDSA P-256");
    p.cert.not_after = p.time + 60 * 86400;
    p.cert.days_left = 60;
    p.cert.eku = PEERCERT_EKU_BOTH;
    /* before any outcome of shown.example: kept aside, nothing graded yet */
    report_add_presented(r, "shown.example", &p);
    grade_findings f;
    grade_result g;
    CHECK(!report_grade(r, "shown.example", &f, &g));
    report_outcome o = outcome(REPORT_LEG_OUT, "shown.example", "valid.r.example",
                               1800000001);
    o.evidence = REPORT_EVIDENCE_VERIFIED;
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    CHECK(report_grade(r, "shown.example", &f, &g));
    CHECK(g.letter == GRADE_A && g.partial);
    /* the certificate turns serverAuth only: B, and the history has both */
    p.time += 10;
    p.cert.eku = PEERCERT_EKU_SERVER_ONLY;
    report_add_presented(r, "shown.example", &p);
    CHECK(report_grade(r, "shown.example", &f, &g) && g.letter == GRADE_B);
    report_free(r);
    CHECK(db_count(dir, "SELECT count(*) FROM presented WHERE remote = "
                        "'shown.example' AND side = 'server' AND tls_required = 'yes'") == 1);
    CHECK(db_count(dir, "SELECT count(*) FROM grades WHERE remote = 'shown.example'") == 2);
    r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(report_grade(r, "shown.example", &f, &g) && g.letter == GRADE_B);
    CHECK(f.server_cert.eku == PEERCERT_EKU_SERVER_ONLY && f.tls_seen == GRADE_TLS13);
    CHECK_STR(f.server_cert.names, "shown.example");
    report_grade_entry h[4];
    CHECK(report_grade_history(r, "shown.example", h, 4) == 2);
    CHECK(h[0].letter == GRADE_B && h[1].letter == GRADE_A && h[0].time > h[1].time);
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    report_presented_json(&j, r, "shown.example");
    json_obj_end(&j);
    CHECK(strstr(j.text, "\"grade\":\"B\"") != NULL);
    json_free(&j);
    /* a certificate that was fine when seen and has expired since: the
     * history keeps the A of then, the grade shown is today's F */
    int64_t now = (int64_t)time(NULL);
    report_outcome aged = outcome(REPORT_LEG_OUT, "aged.example", "valid.r.example",
                                  now - 20 * 86400);
    aged.evidence = REPORT_EVIDENCE_VERIFIED;
    aged.auth = REPORT_AUTH_OK;
    report_add(r, &aged);
    p.time = now - 20 * 86400;
    p.cert.eku = PEERCERT_EKU_BOTH;
    p.cert.not_after = now - 86400;
    report_add_presented(r, "aged.example", &p);
    CHECK(report_grade(r, "aged.example", &f, &g) && g.letter == GRADE_F);
    CHECK(f.server_cert.days_left == -1);
    CHECK(report_grade_history(r, "aged.example", h, 4) == 1 && h[0].letter == GRADE_A);
    report_free(r);
}

int main(void)
{
    if (!report_test_begin("test-report-shown"))
        return 1;
    test_presented();
    return report_test_end();
}
