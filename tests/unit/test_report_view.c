/* test_report_view.c -- what the report's outcomes mean: the verdicts and
 * explanations derived from the catalog, and evidence: claims kept apart,
 * never judged and never evicting trusted peers, addresses matched against
 * what a domain's DNS names. */
#include <uv.h>

#include "config.h"
#include "evidence.h"
#include "report_testlib.h"

/* A config with the given profiles as LABEL.r.example. */
static int load_cfg(rs_config *cfg, const char *const *labels, size_t n)
{
    char text[4096];
    int len = snprintf(text, sizeof text,
                       "base_domain = \"r.example\";\n"
                       "listen = ( { address = \"127.0.0.1\"; port = 5269; } );\n"
                       "domains = (\n");
    for (size_t i = 0; i < n; i++)
        len += snprintf(text + len, sizeof text - (size_t)len,
                        "{ name = \"%s.r.example\"; profile = \"%s\"; }%s\n",
                        labels[i], labels[i], i + 1 < n ? "," : "");
    snprintf(text + len, sizeof text - (size_t)len, ");\n");
    return config_load_string(text, "t.conf", tmpdir, cfg, stderr);
}

static void test_verdicts(void)
{
    const char *labels[] = {"expired", "le-tlsserver", "valid", "cn-only", "no-service"};
    rs_config cfg;
    CHECK(load_cfg(&cfg, labels, 5) == 0);
    report_limits lim = {.max_peers = 4, .history = 8, };
    rs_report *r = report_open(NULL, &lim);
    if (!r || cfg.n_domains != 5)
        return;
    /* expired: the peer sent a stream error after our certificate */
    report_outcome o = outcome(REPORT_LEG_IN, "peer.example", "expired.r.example", 1);
    snprintf(o.tls, sizeof o.tls, "TLS1.3 AES-256-GCM");
    snprintf(o.error_in, sizeof o.error_in,
             "not-authorized: Your server's certificate has expired");
    o.refused_by = REPORT_BY_PEER;
    report_add(r, &o);
    /* le-tlsserver: they dialled fine, but refused our SASL EXTERNAL */
    o = outcome(REPORT_LEG_IN, "peer.example", "le-tlsserver.r.example", 2);
    o.auth = REPORT_AUTH_OK;
    snprintf(o.auth_used, sizeof o.auth_used, "EXTERNAL");
    report_add(r, &o);
    o = outcome(REPORT_LEG_OUT, "peer.example", "le-tlsserver.r.example", 3);
    o.auth = REPORT_AUTH_FAILED;
    o.refused_by = REPORT_BY_PEER;
    snprintf(o.auth_error, sizeof o.auth_error, "SASL EXTERNAL refused: "
             "not-authorized (unsupported certificate purpose)");
    report_add(r, &o);
    /* valid: both legs authenticated */
    o = outcome(REPORT_LEG_IN, "peer.example", "valid.r.example", 4);
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    /* cn-only: accepted, where strict says refuse but it is advisory */
    o = outcome(REPORT_LEG_IN, "peer.example", "cn-only.r.example", 5);
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    /* an unauthenticated stream we refused does not count against them */
    o = outcome(REPORT_LEG_IN, "peer.example", "valid.r.example", 6);
    o.refused_by = REPORT_BY_US;
    o.auth = REPORT_AUTH_FAILED;
    snprintf(o.auth_error, sizeof o.auth_error, "invalid-mechanism: x");
    report_add(r, &o);

    report_cell cells[5];
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(cells[0].seen == REPORT_SEEN_REFUSE && cells[0].verdict == REPORT_VERDICT_OK);
    CHECK(strstr(cells[0].explanation, "certificate has expired") != NULL);
    CHECK(strstr(cells[0].explanation, "Correct") != NULL);
    CHECK(cells[1].seen == REPORT_SEEN_REFUSE && cells[1].verdict == REPORT_VERDICT_WRONG);
    CHECK(strstr(cells[1].explanation, "unsupported certificate purpose") != NULL);
    /* the latest IN was refused by us: no verdict about the profile */
    CHECK(cells[2].seen == REPORT_SEEN_UNDECIDED &&
          cells[2].verdict == REPORT_VERDICT_UNKNOWN);
    CHECK_STR(report_seen_name(cells[2].seen), "seen, no verdict");
    CHECK(strstr(cells[2].explanation, "we refused your server: invalid-mechanism") != NULL);
    CHECK(cells[3].seen == REPORT_SEEN_ACCEPT &&
          cells[3].verdict == REPORT_VERDICT_ADVISORY);
    CHECK(cells[4].seen == REPORT_SEEN_NOTHING &&
          cells[4].verdict == REPORT_VERDICT_UNKNOWN);
    CHECK(strstr(cells[4].explanation, "silence after a ping is correct") != NULL);
    report_summary s;
    report_summarize(cells, 5, &s);
    CHECK(s.ok == 1 && s.wrong == 1 && s.advisory == 1 && s.unknown == 2);

    char *text = report_matrix_text(r, "peer.example", &cfg);
    CHECK(text && strstr(text, "[wrong] le-tlsserver: refused") != NULL);
    CHECK(text && strstr(text, "Report for peer.example: 1 ok, 1 advisory, 1 wrong, "
                               "2 not seen yet.") != NULL);
    free(text);

    rs_json j;
    json_init(&j);
    report_matrix_json(&j, r, "peer.example", &cfg);
    CHECK(!j.failed && j.text && strstr(j.text, "\"verdict\":\"wrong\"") != NULL);
    CHECK(j.text && strstr(j.text, "\"out\":null") != NULL);
    json_free(&j);

    /* a certificate that differs from its row (certcheck.h): no verdict */
    cfg.domains[3].cert_mismatch = strdup("EKU: serverAuth clientAuth");
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(cells[3].seen == REPORT_SEEN_ACCEPT && cells[3].verdict == REPORT_VERDICT_UNKNOWN);
    CHECK(strstr(cells[3].explanation, "No verdict: the certificate this domain presents "
                                       "differs from its row (EKU: serverAuth clientAuth)") != NULL);
    free(cfg.domains[3].cert_mismatch);
    cfg.domains[3].cert_mismatch = NULL;

    /* a bare hang-up after TLS: said as such, and still a refusal */
    o = outcome(REPORT_LEG_IN, "peer.example", "expired.r.example", 7);
    snprintf(o.tls, sizeof o.tls, "TLS1.3 AES-256-GCM");
    snprintf(o.close, sizeof o.close, "peer closed the stream");
    o.refused_by = REPORT_BY_PEER;
    report_add(r, &o);
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(cells[0].seen == REPORT_SEEN_REFUSE && cells[0].verdict == REPORT_VERDICT_OK);
    CHECK(strstr(cells[0].explanation, "closed the stream after the TLS handshake "
                                       "without saying why") != NULL);

    char brief[300];
    report_outcome_brief(cells[1].out, brief, sizeof brief);
    CHECK_STR(brief, "no TLS; refused by the peer: SASL EXTERNAL refused: "
                     "not-authorized (unsupported certificate purpose)");

    /* the step of a refusal is said; our outbound rule is ours, by name */
    o = outcome(REPORT_LEG_OUT, "peer.example", "le-tlsserver.r.example", 8);
    snprintf(o.tls, sizeof o.tls, "TLS1.3 AES-256-GCM");
    o.auth = REPORT_AUTH_FAILED;
    o.refused_by = REPORT_BY_US;
    o.step = REPORT_STEP_FEATURES;
    snprintf(o.auth_error, sizeof o.auth_error, "the remote offers no authentication");
    report_add(r, &o);
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(strstr(cells[1].explanation, "this profile's rule stopped us at the stream "
                                       "features: the remote offers no authentication") != NULL);
    CHECK(strstr(cells[1].explanation, "we refused your server") == NULL);
    /* with the in leg authenticated, our refusal of the out leg still leaves
     * the test unfinished: no acceptance, no verdict */
    report_outcome in = outcome(REPORT_LEG_IN, "peer.example", "le-tlsserver.r.example", 9);
    in.auth = REPORT_AUTH_OK;
    report_add(r, &in);
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(cells[1].seen == REPORT_SEEN_UNDECIDED && cells[1].verdict == REPORT_VERDICT_UNKNOWN);
    CHECK(strstr(cells[1].explanation, "our refusal is this profile's rule") != NULL);
    report_outcome_brief(cells[1].out, brief, sizeof brief);
    CHECK_STR(brief, "TLS1.3 AES-256-GCM; refused by us at the stream features: the "
                     "remote offers no authentication");
    /* a TLS 1.3 server hanging up on our client certificate */
    o.refused_by = REPORT_BY_PEER;
    o.auth = REPORT_AUTH_NONE;
    o.step = REPORT_STEP_TLS;
    o.auth_error[0] = '\0';
    snprintf(o.close, sizeof o.close, "peer closed the connection");
    report_add(r, &o);
    report_matrix(r, "peer.example", &cfg, cells);
    CHECK(strstr(cells[1].explanation, "ended the connection right after the TLS "
                                       "handshake, before its stream header") != NULL);
    report_free(r);
    config_free(&cfg);
}

/* Claims are shown, never judged, and kept in their own bound. */
static void test_evidence(void)
{
    rs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK(config_load_string(
              "base_domain = \"r.example\";\n"
              "listen = ( { address = \"127.0.0.1\"; } );\n"
              "domains = ( { name = \"valid.r.example\"; profile = \"valid\"; },\n"
              "            { name = \"no-tls.r.example\"; profile = \"no-tls\"; } );\n",
              "test.conf", "/tmp", &cfg, stderr) == 0);
    report_limits lim = {.max_peers = 2, .max_claims = 2, .history = 16,
                         };
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/evidence", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    rs_report *r = report_open(dir, &lim);
    CHECK(r != NULL);

    /* two trusted peers */
    report_outcome o = outcome(REPORT_LEG_IN, "real1.example", "valid.r.example", 10);
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    o = outcome(REPORT_LEG_IN, "real2.example", "valid.r.example", 11);
    o.evidence = REPORT_EVIDENCE_ADDRESS;
    o.refused_by = REPORT_BY_PEER;
    snprintf(o.close, sizeof o.close, "peer closed the stream");
    report_add(r, &o);

    /* the forging pair of issue 8, as claims, then a crowd of other claims */
    o = outcome(REPORT_LEG_IN, "jabber.org", "no-tls.r.example", 20);
    o.evidence = REPORT_EVIDENCE_CLAIMED;
    snprintf(o.auth_used, sizeof o.auth_used, "db-verify");
    report_add(r, &o);
    o = outcome(REPORT_LEG_IN, "jabber.org", "valid.r.example", 21);
    o.evidence = REPORT_EVIDENCE_CLAIMED;
    o.refused_by = REPORT_BY_PEER;
    report_add(r, &o);
    for (int i = 0; i < 50; i++) {
        char name[64];
        snprintf(name, sizeof name, "crowd%d.example", i);
        o = outcome(REPORT_LEG_IN, name, "valid.r.example", 30 + i);
        o.evidence = REPORT_EVIDENCE_CLAIMED;
        report_add(r, &o);
    }
    /* claims evicted claims, never the trusted peers */
    const char *names[8];
    CHECK(report_peers(r, names, NULL, 8) == 2);
    CHECK(report_has_peer(r, "real1.example") && report_has_peer(r, "real2.example"));
    CHECK(report_has_peer(r, "crowd49.example") && !report_has_peer(r, "crowd0.example"));
    CHECK(!report_has_peer(r, "jabber.org")); /* evicted by the crowd */

    /* a claimed peer: listed as claims, every domain unknown */
    o = outcome(REPORT_LEG_IN, "jabber.org", "valid.r.example", 100);
    o.evidence = REPORT_EVIDENCE_CLAIMED;
    o.refused_by = REPORT_BY_PEER;
    report_add(r, &o);
    report_cell cells[2];
    report_matrix(r, "jabber.org", &cfg, cells);
    CHECK(cells[0].verdict == REPORT_VERDICT_UNKNOWN && cells[0].in == NULL);
    CHECK(cells[1].verdict == REPORT_VERDICT_UNKNOWN && cells[1].in == NULL);
    const report_outcome *h[8];
    CHECK(report_history(r, "jabber.org", h, 8) == 1);
    CHECK(h[0]->evidence == REPORT_EVIDENCE_CLAIMED);
    rs_json j;
    json_init(&j);
    report_matrix_json(&j, r, "jabber.org", &cfg);
    CHECK(strstr(j.text, "\"unknown\":2") != NULL);
    CHECK(strstr(j.text, "\"evidence\":\"claimed\"") != NULL);
    json_free(&j);

    /* trusted peers keep their verdicts; claims about them do not change
     * the cells but show in the history, newest first */
    o = outcome(REPORT_LEG_IN, "real2.example", "valid.r.example", 200);
    o.evidence = REPORT_EVIDENCE_CLAIMED;
    o.auth = REPORT_AUTH_NONE;
    snprintf(o.close, sizeof o.close, "forged");
    report_add(r, &o);
    report_matrix(r, "real2.example", &cfg, cells);
    CHECK(cells[0].seen == REPORT_SEEN_REFUSE && cells[0].in->time == 11);
    CHECK(report_history(r, "real2.example", h, 8) == 2);
    CHECK(h[0]->time == 200 && h[0]->evidence == REPORT_EVIDENCE_CLAIMED);
    CHECK(h[1]->time == 11 && h[1]->evidence == REPORT_EVIDENCE_ADDRESS);
    report_free(r);

    /* after a restart: the same split, evidence read back from the file */
    r = report_open(dir, &lim);
    CHECK(r != NULL);
    CHECK(report_peers(r, names, NULL, 8) == 2);
    report_matrix(r, "real2.example", &cfg, cells);
    CHECK(cells[0].seen == REPORT_SEEN_REFUSE && cells[0].in->time == 11);
    report_matrix(r, "jabber.org", &cfg, cells);
    CHECK(cells[0].verdict == REPORT_VERDICT_UNKNOWN);
    report_free(r);

    /* what an outcome proves by itself */
    bool lookup;
    o = outcome(REPORT_LEG_OUT, "a.example", "l.example", 1);
    CHECK(evidence_of(&o, &lookup) == REPORT_EVIDENCE_VERIFIED && !lookup);
    o.leg = REPORT_LEG_IN;
    CHECK(evidence_of(&o, &lookup) == REPORT_EVIDENCE_CLAIMED && lookup);
    o.auth = REPORT_AUTH_FAILED;
    CHECK(evidence_of(&o, &lookup) == REPORT_EVIDENCE_CLAIMED && lookup);
    o.auth = REPORT_AUTH_OK;
    CHECK(evidence_of(&o, &lookup) == REPORT_EVIDENCE_VERIFIED && !lookup);

    /* matching a stream's address against what the domain's DNS names */
    struct sockaddr_storage addrs[2];
    memset(addrs, 0, sizeof addrs);
    CHECK(uv_ip4_addr("192.0.2.7", 5269, (struct sockaddr_in *)&addrs[0]) == 0);
    CHECK(uv_ip6_addr("2001:db8::7", 5269, (struct sockaddr_in6 *)&addrs[1]) == 0);
    CHECK(evidence_address_in("192.0.2.7", addrs, 2));
    CHECK(evidence_address_in("::ffff:192.0.2.7", addrs, 2));
    CHECK(evidence_address_in("2001:db8::7", addrs, 2));
    CHECK(!evidence_address_in("192.0.2.8", addrs, 2));
    CHECK(!evidence_address_in("2001:db8::8", addrs, 2));
    CHECK(!evidence_address_in("", addrs, 2));
    CHECK(!evidence_address_in("192.0.2.7", addrs, 0));

    /* without an attester, outcomes go in as they stand */
    r = report_open(NULL, &lim);
    o = outcome(REPORT_LEG_IN, "claimer.example", "valid.r.example", 5);
    o.evidence = REPORT_EVIDENCE_VERIFIED; /* what the caller says is ignored */
    evidence_submit(NULL, r, &o, "192.0.2.1");
    CHECK(report_has_peer(r, "claimer.example") &&
          report_peers(r, NULL, NULL, 0) == 0);
    o.auth = REPORT_AUTH_OK;
    evidence_submit(NULL, r, &o, "192.0.2.1");
    CHECK(report_peers(r, NULL, NULL, 0) == 1);
    report_free(r);

    config_free(&cfg);
}

int main(void)
{
    if (!report_test_begin("test-report-view"))
        return 1;
    test_verdicts();
    test_evidence();
    return report_test_end();
}
