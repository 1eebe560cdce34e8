/* test_report.c -- the outcome store: JSON output and escaping, the JSON-lines
 * file read back after a restart, rotation, the bounds on peers and history,
 * records of one stream replacing each other, and the verdicts and
 * explanations derived from the catalog; evidence: claims kept apart, never
 * judged and never evicting trusted peers. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "utf8.h"
#include "config.h"
#include "evidence.h"
#include "json.h"
#include "report.h"
#include "report_internal.h"

static char tmpdir[PATH_MAX];

static void test_json_escaping(void)
{
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    json_kv_str(&j, "a", "<script>\"x\"\\&\n\x01");
    json_kv_str(&j, "bad-utf8", "\xff\xc3\xa9");
    json_key(&j, "list");
    json_arr_begin(&j);
    json_int(&j, -5);
    json_bool(&j, true);
    json_str(&j, NULL);
    json_arr_end(&j);
    json_obj_end(&j);
    CHECK(!j.failed);
    CHECK_STR(j.text, "{\"a\":\"\\u003cscript\\u003e\\\"x\\\"\\\\\\u0026\\u000a\\u0001\","
                      "\"bad-utf8\":\"\\ufffd\xc3\xa9\",\"list\":[-5,true,null]}");
    CHECK(strchr(j.text, '<') == NULL);
    json_free(&j);
    /* cutting never splits a character */
    CHECK(utf8_cut("h\xc3\xa9llo", 2) == 1);
    CHECK(utf8_cut("h\xc3\xa9llo", 3) == 3);
    CHECK(utf8_cut("abc", 10) == 3);
}

static report_outcome outcome(report_leg leg, const char *remote,
                              const char *local, int64_t time)
{
    report_outcome o;
    memset(&o, 0, sizeof o);
    o.leg = leg;
    o.time = time;
    o.evidence = REPORT_EVIDENCE_VERIFIED; /* unless a test says otherwise */
    snprintf(o.remote, sizeof o.remote, "%s", remote);
    snprintf(o.local, sizeof o.local, "%s", local);
    return o;
}

static void test_roundtrip(void)
{
    report_outcome o = outcome(REPORT_LEG_OUT, "peer.example", "le-tlsserver.r.example",
                               1700000000);
    o.stream = 1700000000000042ull;
    snprintf(o.tls, sizeof o.tls, "TLS1.3 AES-256-GCM");
    snprintf(o.auth_used, sizeof o.auth_used, "EXTERNAL");
    o.auth = REPORT_AUTH_FAILED;
    o.refused_by = REPORT_BY_PEER;
    o.step = REPORT_STEP_AUTH;
    snprintf(o.auth_error, sizeof o.auth_error,
             "SASL EXTERNAL refused: not-authorized (unsupported certificate "
             "purpose) <b>&\"\xc3\xa9\"");
    o.stanzas = 3;
    rs_json j;
    json_init(&j);
    report_outcome_json(&j, &o);
    report_outcome back;
    CHECK(report_outcome_parse(j.text, &back) == 0);
    CHECK(memcmp(&o, &back, sizeof o) == 0);
    CHECK_STR(back.auth_error, o.auth_error);
    CHECK(back.stream == o.stream && back.auth == o.auth && back.stanzas == 3);
    CHECK(back.step == REPORT_STEP_AUTH && strstr(j.text, "\"step\":\"auth\"") != NULL);
    json_free(&j);

    const char *bad[] = {"", "{", "{}", "[1]", "{\"time\":1,\"leg\":\"in\"}",
                         "{\"time\":1,\"leg\":\"sideways\",\"remote\":\"a\",\"local\":\"b\"}",
                         "{\"time\":1,\"leg\":\"in\",\"remote\":\"a\",\"local\":\"b\",\"x\":2}",
                         "{\"time\":1,\"leg\":\"in\",\"remote\":\"a\",\"local\":\"b\"} trailing",
                         "{\"time\":1,\"leg\":\"in\",\"remote\":\"a\\u0000\",\"local\":\"b\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(report_outcome_parse(bad[i], &back) == -1);
    CHECK(report_outcome_parse("{\"time\":1,\"leg\":\"in\",\"remote\":\"a\",\"local\":\"b\"}",
                               &back) == 0);
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Records survive a reopen; bad lines are skipped; a stream's records
 * replace each other; rotation keeps the previous file. */
static void test_persistence(void)
{
    report_limits lim = {.max_peers = 8, .history = 4, .file_bytes = 1 << 20};
    rs_report *r = report_open(tmpdir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    report_outcome o = outcome(REPORT_LEG_IN, "peer.example", "expired.r.example", 100);
    o.stream = 7;
    snprintf(o.close, sizeof o.close, "open");
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    snprintf(o.close, sizeof o.close, "idle");
    o.time = 160;
    report_add(r, &o);
    report_outcome no_remote = outcome(REPORT_LEG_IN, "", "expired.r.example", 1);
    report_add(r, &no_remote); /* ignored: nothing to attribute it to */
    const report_outcome *h[8];
    CHECK(report_history(r, "peer.example", h, 8) == 1);
    CHECK_STR(h[0]->close, "idle");
    report_free(r);

    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.jsonl", tmpdir);
    CHECK(count_lines(path) == 2);
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    if (f) {
        fputs("not json at all\n{\"time\":5}\n", f);
        fclose(f);
    }
    r = report_open(tmpdir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(report_has_peer(r, "PEER.example"));
    CHECK(report_history(r, "peer.example", h, 8) == 1);
    CHECK_STR(h[0]->close, "idle");
    CHECK(report_latest(r, "peer.example", "expired.r.example", REPORT_LEG_IN) != NULL);
    CHECK(report_latest(r, "peer.example", "expired.r.example", REPORT_LEG_OUT) == NULL);
    report_free(r);

    /* rotation: a tiny bound moves the file to .1 and starts a new one */
    lim.file_bytes = 600;
    r = report_open(tmpdir, &lim);
    if (!r)
        return;
    for (int i = 0; i < 10; i++) {
        report_outcome x = outcome(REPORT_LEG_OUT, "other.example", "valid.r.example",
                                   200 + i);
        x.stream = 100 + (uint64_t)i;
        report_add(r, &x);
    }
    report_free(r);
    char old[PATH_MAX + 32];
    snprintf(old, sizeof old, "%s/report.jsonl.1", tmpdir);
    struct stat st;
    CHECK(stat(old, &st) == 0);
    CHECK(stat(path, &st) == 0 && (size_t)st.st_size <= 600);
    r = report_open(tmpdir, &lim);
    if (!r)
        return;
    /* both files are read back: the newest record of other.example is there */
    const report_outcome *l = report_latest(r, "other.example", "valid.r.example",
                                            REPORT_LEG_OUT);
    CHECK(l && l->time == 209);
    report_free(r);
    unlink(path);
    unlink(old);
}

static void test_bounds(void)
{
    report_limits lim = {.max_peers = 3, .history = 2, .file_bytes = 1 << 20};
    rs_report *r = report_open(NULL, &lim);
    if (!r)
        return;
    char name[64];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "p%d.example", i);
        report_outcome o = outcome(REPORT_LEG_IN, name, "valid.r.example", 10 + i);
        report_add(r, &o);
    }
    const char *names[8];
    CHECK(report_peers(r, names, NULL, 8) == 3);
    CHECK_STR(names[0], "p4.example"); /* most recent first */
    CHECK(!report_has_peer(r, "p0.example") && !report_has_peer(r, "p1.example"));
    for (int i = 0; i < 5; i++) {
        report_outcome o = outcome(REPORT_LEG_OUT, "p4.example", "valid.r.example", 100 + i);
        o.stream = (uint64_t)(1000 + i);
        report_add(r, &o);
    }
    const report_outcome *h[8];
    CHECK(report_history(r, "p4.example", h, 8) == 2);
    CHECK(h[0]->time == 104 && h[1]->time == 103);
    report_free(r);
}

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
    report_limits lim = {.max_peers = 4, .history = 8, .file_bytes = 1 << 20};
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
    CHECK(cells[2].seen == REPORT_SEEN_NOTHING &&
          cells[2].verdict == REPORT_VERDICT_UNKNOWN);
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
    CHECK(cells[1].seen == REPORT_SEEN_NOTHING && cells[1].verdict == REPORT_VERDICT_UNKNOWN);
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
                         .file_bytes = 1 << 20};
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

    /* lines from before evidence: dialled or authenticated is verified */
    report_outcome back;
    CHECK(report_outcome_parse("{\"time\":1,\"leg\":\"in\",\"remote\":\"a.example\","
                               "\"local\":\"l.example\",\"auth\":\"ok\"}", &back) == 0);
    CHECK(back.evidence == REPORT_EVIDENCE_VERIFIED);
    CHECK(report_outcome_parse("{\"time\":1,\"leg\":\"in\",\"remote\":\"a.example\","
                               "\"local\":\"l.example\",\"auth\":\"none\"}", &back) == 0);
    CHECK(back.evidence == REPORT_EVIDENCE_CLAIMED);
    CHECK(report_outcome_parse("{\"time\":1,\"leg\":\"out\",\"remote\":\"a.example\","
                               "\"local\":\"l.example\"}", &back) == 0);
    CHECK(back.evidence == REPORT_EVIDENCE_VERIFIED);
    CHECK(report_outcome_parse("{\"time\":1,\"leg\":\"in\",\"remote\":\"a.example\","
                               "\"local\":\"l.example\",\"evidence\":\"sure\"}", &back) < 0);

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

    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.jsonl", dir);
    unlink(path);
    rmdir(dir);
    config_free(&cfg);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rs-test-report.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_json_escaping();
    test_roundtrip();
    test_persistence();
    test_bounds();
    test_verdicts();
    test_evidence();
    rmdir(tmpdir);
    return check_done();
}
