/* test_report.c -- the outcome store: JSON output and escaping, report.db
 * read back after a restart, the import of an old report.jsonl, retention,
 * a locked database, the bounds on peers and history, records of one stream
 * replacing each other. What outcomes mean: test_report_view.c; what
 * servers present: test_report_shown.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "report_testlib.h"
#include "utf8.h"
#include "config.h"
#include "evidence.h"
#include "json.h"
#include "report.h"
#include "report_internal.h"

#include <sqlite3.h>
#include <time.h>

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

/* Every member goes into the database and comes back unchanged. */
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
    o.evidence = REPORT_EVIDENCE_ADDRESS;
    snprintf(o.auth_error, sizeof o.auth_error,
             "SASL EXTERNAL refused: not-authorized (unsupported certificate "
             "purpose) <b>&\"\xc3\xa9\"'); DROP TABLE outcomes; --");
    o.stanzas = 3;
    rs_json j;
    json_init(&j);
    report_outcome_json(&j, &o);
    CHECK(strstr(j.text, "\"step\":\"auth\"") != NULL);
    CHECK(strstr(j.text, "\"evidence\":\"address-matched\"") != NULL);
    json_free(&j);

    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("roundtrip");
    rs_report *r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    report_add(r, &o);
    report_free(r);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 1);
    CHECK(db_count(dir, "PRAGMA user_version") == 2);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE evidence = "
                        "'address-matched' AND step = 'auth' AND refused_by = "
                        "'peer' AND auth = 'failed' AND leg = 'out'") == 1);
    r = report_open(dir, &lim);
    const report_outcome *back = r ? report__latest(r, "peer.example",
                                                    "le-tlsserver.r.example",
                                                    REPORT_LEG_OUT) : NULL;
    CHECK(back != NULL);
    if (back) {
        CHECK(memcmp(&o, back, sizeof o) == 0);
        CHECK_STR(back->auth_error, o.auth_error);
    }
    report_free(r);
}

/* An idle stream's record keeps its outcome packed: every member comes
 * back, texts at their longest and empty alike. */
static void test_pack(void)
{
    report_outcome full;
    memset(&full, 0, sizeof full);
    full.time = -5;
    full.stream = UINT64_MAX - 1;
    full.leg = REPORT_LEG_OUT;
    full.auth = REPORT_AUTH_FAILED;
    full.refused_by = REPORT_BY_NETWORK;
    full.step = REPORT_STEP_STANZAS;
    full.evidence = REPORT_EVIDENCE_VERIFIED;
    full.stanzas = 4000000000u;
    for (size_t i = 0; i < report_n_text_fields; i++) {
        char *text = (char *)&full + report_text_fields[i].offset;
        memset(text, 'a' + (int)i, report_text_fields[i].size - 1);
    }
    report_outcome empty;
    memset(&empty, 0, sizeof empty);
    report_outcome typical = outcome(REPORT_LEG_IN, "peer.example", "valid.r.example", 1700000000);
    snprintf(typical.close, sizeof typical.close, "open");
    const report_outcome *cases[] = {&full, &empty, &typical};
    for (size_t k = 0; k < 3; k++) {
        char *packed = report_outcome_pack(cases[k]);
        CHECK(packed != NULL);
        if (!packed)
            continue;
        report_outcome back;
        memset(&back, 0xa5, sizeof back); /* whatever was there goes */
        report_outcome_unpack(packed, &back);
        CHECK(memcmp(&back, cases[k], sizeof back) == 0);
        CHECK_STR(back.remote, cases[k]->remote);
        CHECK_STR(back.close, cases[k]->close);
        free(packed);
    }
}

/* Records survive a reopen; a stream's records replace each other. */
static void test_persistence(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("persistence");
    rs_report *r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    report_outcome o = outcome(REPORT_LEG_IN, "peer.example", "expired.r.example", 100);
    o.stream = 7;
    snprintf(o.close, sizeof o.close, "open");
    o.auth = REPORT_AUTH_OK;
    report_add(r, &o);
    CHECK(report_flush(r) == 0); /* the open record is in the database */
    snprintf(o.close, sizeof o.close, "idle");
    o.time = 160;
    report_add(r, &o);
    report_outcome no_remote = outcome(REPORT_LEG_IN, "", "expired.r.example", 1);
    report_add(r, &no_remote); /* ignored: nothing to attribute it to */
    const report_outcome *h[8];
    CHECK(report_history(r, "peer.example", h, 8) == 1);
    CHECK_STR(h[0]->close, "idle");
    report_write_stats ws;
    report_write_stats_get(r, &ws);
    CHECK(ws.open && ws.queued == 1 && ws.written == 1 && ws.batches == 1);
    report_free(r); /* writes what is queued */
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 1);
    CHECK(db_count(dir, "SELECT time FROM outcomes WHERE close = 'idle'") == 160);

    r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(report_has_peer(r, "PEER.example"));
    CHECK(report_history(r, "peer.example", h, 8) == 1);
    CHECK_STR(h[0]->close, "idle");
    CHECK(report__latest(r, "peer.example", "expired.r.example", REPORT_LEG_IN) != NULL);
    CHECK(report__latest(r, "peer.example", "expired.r.example", REPORT_LEG_OUT) == NULL);
    report_free(r);

    /* a reader sees one remote domain, from a time on */
    char err[256] = "";
    r = report_open_reader(dir, &lim, "peer.example", 0, err, sizeof err);
    CHECK(r && report_has_peer(r, "peer.example"));
    report_free(r);
    r = report_open_reader(dir, &lim, "peer.example", 161, err, sizeof err);
    CHECK(r && !report_has_peer(r, "peer.example"));
    report_free(r);
    r = report_open_reader(dir, &lim, "other.example", 0, err, sizeof err);
    CHECK(r && !report_has_peer(r, "other.example"));
    report_free(r);
    r = report_open_reader(tmpdir, &lim, "peer.example", 0, err, sizeof err);
    CHECK(r == NULL && strstr(err, "report.db") != NULL);
}

/* An old report.jsonl(.1) goes in once, with SQLite's JSON functions. */
static void test_import(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 16};
    const char *dir = subdir("import");
    write_file(dir, "report.jsonl.1",
        /* written before outcomes had evidence: dialled = verified */
        "{\"time\":50,\"stream\":3,\"leg\":\"out\",\"remote\":\"old.example\","
        "\"local\":\"valid.r.example\",\"auth\":\"ok\",\"refused_by\":\"none\"}\n"
        "not json at all\n");
    write_file(dir, "report.jsonl",
        "{\"time\":100,\"stream\":9,\"leg\":\"in\",\"remote\":\"peer.example\","
        "\"local\":\"expired.r.example\",\"close\":\"open\",\"auth\":\"none\","
        "\"evidence\":\"verified\"}\n"
        "{\"time\":5}\n"
        "{\"time\":1,\"leg\":\"sideways\",\"remote\":\"a\",\"local\":\"b\"}\n"
        "{\"time\":1,\"leg\":\"in\",\"remote\":\"a\",\"local\":\"b\"} trailing\n"
        "[1]\n"
        "{\"time\":1,\"leg\":\"in\",\"remote\":\"bad\xff.example\",\"local\":\"b\"}\n"
        "{\"time\":1,\"leg\":\"in\",\"remote\":\"x.example\",\"local\":\"b\","
        "\"evidence\":\"sure\"}\n"
        /* the same stream closed: replaces the open record */
        "{\"time\":160,\"stream\":9,\"leg\":\"in\",\"remote\":\"peer.example\","
        "\"local\":\"expired.r.example\",\"close\":\"idle \\u00e9\",\"auth\":\"none\","
        "\"refused_by\":\"peer\",\"step\":\"tls\",\"evidence\":\"verified\"}\n"
        /* unauthenticated, before evidence: only a claim */
        "{\"time\":170,\"leg\":\"in\",\"remote\":\"claimer.example\","
        "\"local\":\"valid.r.example\",\"auth\":\"none\"}\n");
    rs_report *r = report_open(dir, &lim);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 3);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'old.example' "
                        "AND evidence = 'verified'") == 1);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'claimer.example' AND evidence = 'claimed'") == 1);
    const report_outcome *l = report__latest(r, "peer.example", "expired.r.example",
                                             REPORT_LEG_IN);
    CHECK(l && l->time == 160 && l->step == REPORT_STEP_TLS &&
          l->refused_by == REPORT_BY_PEER);
    if (l)
        CHECK_STR(l->close, "idle \xc3\xa9");
    CHECK(report_has_trusted(r, "old.example") && !report_has_trusted(r, "claimer.example"));
    report_free(r);
    CHECK(!exists(dir, "report.jsonl") && !exists(dir, "report.jsonl.1"));
    CHECK(exists(dir, "report.jsonl.imported") && exists(dir, "report.jsonl.1.imported"));
    /* read once: a second start finds nothing to import */
    r = report_open(dir, &lim);
    report_free(r);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 3);
}

/* Retention: age, history per remote domain (each cell's latest stays),
 * remote domains beyond the bounds. */
static void test_retention(void)
{
    report_limits lim = {.max_peers = 2, .max_claims = 1, .history = 3,
                         .max_age = 30 * 86400};
    const char *dir = subdir("retention");
    rs_report *r = report_open(dir, &lim);
    if (!r)
        return;
    int64_t now = (int64_t)time(NULL);
    report_outcome o = outcome(REPORT_LEG_IN, "ancient.example", "valid.r.example",
                               now - 31 * 86400);
    report_add(r, &o);
    /* one cell seen long ago, then many streams on another */
    o = outcome(REPORT_LEG_OUT, "busy.example", "expired.r.example", now - 1000);
    report_add(r, &o);
    for (int i = 0; i < 6; i++) {
        o = outcome(REPORT_LEG_IN, "busy.example", "valid.r.example", now - 500 + i);
        report_add(r, &o);
    }
    o = outcome(REPORT_LEG_IN, "recent.example", "valid.r.example", now - 10);
    report_add(r, &o);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "claim%d.example", i);
        o = outcome(REPORT_LEG_IN, name, "valid.r.example", now - 100 + i);
        o.evidence = REPORT_EVIDENCE_CLAIMED;
        report_add(r, &o);
    }
    report_free(r);
    /* writes keep the history bound of the domains they touch: busy's 7
     * outcomes are its 3 newest and the expired cell's only one */
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 12 - 3);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'busy.example'") == 4);
    r = report_open(dir, &lim); /* the rest of retention runs at start */
    report_free(r);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'ancient.example'") == 0);
    /* 3 newest of busy, and the expired cell's only outcome */
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'busy.example'") == 4);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'busy.example' "
                        "AND local = 'expired.r.example'") == 1);
    CHECK(db_count(dir, "SELECT min(time) FROM outcomes WHERE remote = 'busy.example' "
                        "AND local = 'valid.r.example'") == now - 497);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'recent.example'") == 1);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE evidence = 'claimed'") == 1);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = "
                        "'claim2.example'") == 1);
}

/* A crowd closing in one loop turn (no timer runs between the outcomes):
 * a full queue is written at once instead of dropping what follows. */
static void test_crowd(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("crowd");
    rs_report *r = report_open(dir, &lim);
    if (!r)
        return;
    for (int i = 0; i < 5000; i++) {
        char remote[64];
        snprintf(remote, sizeof remote, "p%d.example", i);
        report_outcome o = outcome(REPORT_LEG_IN, remote, "valid.r.example", 100);
        o.stream = 1 + (uint64_t)i;
        report_add(r, &o);
    }
    report_write_stats ws;
    report_write_stats_get(r, &ws);
    CHECK(ws.dropped == 0 && ws.written >= 4096 && ws.queued == 5000 - ws.written);
    CHECK(report_flush(r) == 0);
    report_free(r);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 5000);
}

/* A locked database: the write fails, the outcome stays in memory and in
 * the queue, and goes in once the lock is gone. */
static void test_locked(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("locked");
    rs_report *r = report_open(dir, &lim);
    if (!r)
        return;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.db", dir);
    sqlite3 *other;
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
    report_outcome o = outcome(REPORT_LEG_IN, "peer.example", "valid.r.example", 10);
    report_add(r, &o);
    CHECK(report_flush(r) == -1);
    CHECK(report_flush(r) == -1);
    report_write_stats ws;
    report_write_stats_get(r, &ws);
    CHECK(ws.failures == 2 && ws.queued == 1 && ws.written == 0);
    CHECK(report_has_trusted(r, "peer.example")); /* the pages still show it */
    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
    CHECK(report_flush(r) == 0);
    report_write_stats_get(r, &ws);
    CHECK(ws.queued == 0 && ws.written == 1);

    /* locked for long: the queue takes 2048 outcomes, no more (the pages
     * still have every one) */
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < 2100; i++) {
        o = outcome(REPORT_LEG_IN, "peer.example", "valid.r.example", 20 + i);
        o.stream = 1000 + (uint64_t)i;
        report_add(r, &o);
    }
    CHECK(report_flush(r) == -1);
    report_write_stats_get(r, &ws);
    CHECK(ws.queued == 2048 && ws.dropped == 2100 - 2048);
    const report_outcome *h[1];
    CHECK(report_history(r, "peer.example", h, 1) == 1 && h[0]->time == 2119);
    sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(other);
    report_free(r); /* writes the queue, the newest 4 stay */
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 4);
    CHECK(db_count(dir, "SELECT min(time) FROM outcomes") == 20 + 2044);

    /* a database from a newer xmpp-responder: memory only, no crash */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    r = report_open(dir, &lim);
    CHECK(r != NULL);
    report_write_stats_get(r, &ws);
    CHECK(!ws.open);
    report_add(r, &o);
    CHECK(report_has_trusted(r, "peer.example") && report_flush(r) == -1);
    report_free(r);
    char err[256] = "";
    CHECK(report_open_reader(dir, &lim, "peer.example", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "version 99") != NULL);
}

static void test_bounds(void)
{
    report_limits lim = {.max_peers = 3, .history = 2, };
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

/* An address-matched outcome from source (an "IP:PORT" as record.c writes). */
static report_outcome matched(const char *remote, const char *source, int64_t time)
{
    report_outcome o = outcome(REPORT_LEG_IN, remote, "no-tls.r.example", time);
    o.evidence = REPORT_EVIDENCE_ADDRESS;
    snprintf(o.address, sizeof o.address, "%s", source);
    return o;
}

/* How many remote domains the report lists end in suffix. */
static size_t listed_under(const rs_report *r, const char *suffix)
{
    const char *names[64];
    size_t n = report_peers(r, names, NULL, 64), count = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        size_t len = strlen(names[i]), sl = strlen(suffix);
        count += len >= sl && strcmp(names[i] + len - sl, suffix) == 0;
    }
    return count;
}

/* Address-matched domains are capped per source address (IPv6: prefix)
 * and per registrable domain; the crowd replaces only its own. */
static void test_caps(void)
{
    report_limits lim = {.max_peers = 32, .history = 4, .matched_per_source = 3,
                         .matched_per_site = 4, .ipv6_prefix = 64};
    rs_report *r = report_open(NULL, &lim);
    if (!r)
        return;
    report_outcome o = outcome(REPORT_LEG_IN, "real.example", "valid.r.example", 1);
    report_add(r, &o); /* verified */
    char name[64];
    /* one address, ten names under evil.example (a wildcard record) */
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "x%d.evil.example", i);
        o = matched(name, "192.0.2.66:40000", 10 + i);
        report_add(r, &o);
    }
    CHECK(listed_under(r, ".evil.example") == 3);
    CHECK(report_has_trusted(r, "x9.evil.example") &&
          report_has_trusted(r, "x7.evil.example") &&
          !report_has_trusted(r, "x6.evil.example")); /* the newest stay */
    report_retain_stats rs;
    report_retain_stats_get(r, &rs);
    CHECK(rs.capped_source == 7 && rs.capped_site == 0);
    CHECK(rs.evicted[REPORT_EVIDENCE_ADDRESS] == 7 && rs.evicted[REPORT_EVIDENCE_VERIFIED] == 0);

    /* several addresses, many names under one registrable domain: 4 in all */
    for (int i = 0; i < 12; i++) {
        char source[32];
        snprintf(name, sizeof name, "y%d.deep.evil.example", i);
        snprintf(source, sizeof source, "192.0.2.%d:5269", 67 + i % 4);
        o = matched(name, source, 30 + i);
        report_add(r, &o);
    }
    CHECK(listed_under(r, ".evil.example") == 4);
    CHECK(report_has_trusted(r, "y11.deep.evil.example"));
    report_retain_stats_get(r, &rs);
    CHECK(rs.capped_site == 12 - 1); /* 3 + 1 made 4; each later one replaced */

    /* one IPv6 /64 is one source, whatever the names' domains */
    const char *v6[] = {"[2001:db8:1:2::1]:5269", "[2001:db8:1:2::ff]:5269",
                        "[2001:db8:1:2:8000::1]:1"};
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "host.site%d.example", i);
        o = matched(name, v6[i % 3], 50 + i);
        report_add(r, &o);
    }
    CHECK(listed_under(r, ".example") == 1 + 4 + 3);
    CHECK(report_has_trusted(r, "host.site5.example") &&
          !report_has_trusted(r, "host.site2.example"));
    /* another /64 is another source */
    o = matched("host.other.example", "[2001:db8:1:3::1]:5269", 60);
    report_add(r, &o);
    CHECK(report_has_trusted(r, "host.other.example"));
    CHECK(report_has_trusted(r, "real.example")); /* never touched */
    report_free(r);
}

/* Who gives way in a full table: address-matched before verified, least
 * recent first; a verified peer never gives way to an unverified outcome. */
static void test_eviction_order(void)
{
    report_limits lim = {.max_peers = 3, .max_claims = 2, .history = 4};
    rs_report *r = report_open(NULL, &lim);
    if (!r)
        return;
    report_outcome o = outcome(REPORT_LEG_IN, "old-verified.example", "valid.r.example", 1);
    report_add(r, &o);
    o = matched("m1.example", "192.0.2.1:1", 5);
    report_add(r, &o);
    o = matched("m2.example", "192.0.2.2:1", 6);
    report_add(r, &o);
    /* a newer verified peer: the least recent address-matched one goes,
     * although the verified one is older */
    o = outcome(REPORT_LEG_OUT, "v2.example", "valid.r.example", 10);
    report_add(r, &o);
    CHECK(report_has_trusted(r, "old-verified.example") &&
          !report_has_trusted(r, "m1.example") && report_has_trusted(r, "m2.example"));
    /* an address-matched peer gaining a verified outcome is verified */
    o = outcome(REPORT_LEG_OUT, "m2.example", "valid.r.example", 11);
    report_add(r, &o);
    /* now all three are verified: a new address-matched domain is dropped */
    o = matched("m3.example", "192.0.2.3:1", 20);
    report_add(r, &o);
    CHECK(!report_has_peer(r, "m3.example"));
    report_retain_stats rs;
    report_retain_stats_get(r, &rs);
    CHECK(rs.refused == 1 && rs.evicted[REPORT_EVIDENCE_ADDRESS] == 1 &&
          rs.evicted[REPORT_EVIDENCE_VERIFIED] == 0);
    /* a verified newcomer replaces the least recent verified peer */
    o = outcome(REPORT_LEG_OUT, "v3.example", "valid.r.example", 30);
    report_add(r, &o);
    CHECK(!report_has_trusted(r, "old-verified.example") &&
          report_has_trusted(r, "v3.example") && report_has_trusted(r, "m2.example"));
    /* claims replace claims only */
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%d.example", i);
        o = outcome(REPORT_LEG_IN, name, "valid.r.example", 40 + i);
        o.evidence = REPORT_EVIDENCE_CLAIMED;
        report_add(r, &o);
    }
    report_retain_stats_get(r, &rs);
    CHECK(rs.evicted[REPORT_EVIDENCE_CLAIMED] == 1 && rs.evicted[REPORT_EVIDENCE_VERIFIED] == 1);
    CHECK(report_peers(r, NULL, NULL, 0) == 3 && !report_has_peer(r, "c0.example"));
    report_free(r);
}

/* Bytes the outcomes take in dir's report.db (pages in use). */
static long db_used(const char *dir)
{
    return (db_count(dir, "PRAGMA page_count") - db_count(dir, "PRAGMA freelist_count")) *
           db_count(dir, "PRAGMA page_size");
}

/* report_file_bytes holds as the file fills (not at the next hour), and the
 * least valuable rows go first: claims before older verified outcomes; the
 * freed pages go back to the file system. */
static void test_file_bound(void)
{
    const long bound = 64 * 1024;
    report_limits lim = {.max_peers = 1000, .max_claims = 100000, .history = 32,
                         .file_bytes = (size_t)bound};
    const char *dir = subdir("file-bound");
    rs_report *r = report_open(dir, &lim);
    if (!r)
        return;
    CHECK(db_count(dir, "PRAGMA auto_vacuum") == 2); /* incremental */
    char name[64];
    for (int i = 0; i < 15; i++) { /* verified, older than every claim */
        snprintf(name, sizeof name, "v%d.example", i % 3);
        report_outcome o = outcome(REPORT_LEG_OUT, name, "valid.r.example", 100 + i);
        o.stream = 1 + (uint64_t)i;
        report_add(r, &o);
    }
    long most = 0;
    for (int i = 0; i < 3000; i++) { /* ten streams per claimed name */
        snprintf(name, sizeof name, "claim%d.example", i / 10);
        report_outcome o = outcome(REPORT_LEG_IN, name, "valid.r.example", 1000 + i);
        o.evidence = REPORT_EVIDENCE_CLAIMED;
        o.stream = 100 + (uint64_t)i;
        snprintf(o.close, sizeof o.close, "peer closed the stream before authenticating");
        report_add(r, &o);
        if (i % 64 == 63) {
            CHECK(report_flush(r) == 0);
            long used = db_used(dir);
            most = used > most ? used : most;
        }
    }
    CHECK(report_flush(r) == 0);
    report_write_stats ws;
    report_write_stats_get(r, &ws);
    CHECK(ws.prunes >= 3 && ws.pruned > 2000 && ws.bytes <= bound);
    report_free(r);
    CHECK(most <= bound);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE evidence = 'verified'") == 15);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'claim299.example'") == 10);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'claim0.example'") == 0);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") < 1000);
    struct stat st;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.db", dir);
    CHECK(stat(path, &st) == 0 && st.st_size <= bound + 8192); /* given back */
}

/* report__db_checkpoint copies the WAL back into report.db through a
 * connection of its own (a worker thread's): on one that had read nothing,
 * SQLite copied nothing and said OK (the hostile benchmark saw a 160 MiB
 * WAL beside a 4 KiB report.db). */
static void test_checkpoint(void)
{
    report_limits lim = {.max_peers = 1000, .max_claims = 1000, .history = 4096};
    const char *dir = subdir("checkpoint");
    char err[512] = "", path[PATH_MAX + 32], wal[PATH_MAX + 32];
    report_db *db = report__db_open(dir, &lim, false, err, sizeof err);
    CHECK(db != NULL);
    if (!db)
        return;
    report__db_defer_checkpoints(db);
    report_outcome batch[100];
    for (int t = 0; t < 20; t++) {
        for (int i = 0; i < 100; i++) {
            char name[64];
            snprintf(name, sizeof name, "r%d.example", i % 7);
            batch[i] = outcome(REPORT_LEG_OUT, name, "valid.r.example", 100 + t * 100 + i);
            batch[i].stream = 1 + (uint64_t)(t * 100 + i);
        }
        CHECK(report__db_write(db, batch, 100, err, sizeof err) == 0);
    }
    snprintf(path, sizeof path, "%s/report.db", dir);
    snprintf(wal, sizeof wal, "%s/report.db-wal", dir);
    struct stat before, after;
    CHECK(stat(path, &before) == 0 && report__db_wal_pages(db) > 100);
    CHECK(report__db_checkpoint(path, err, sizeof err) == 0);
    CHECK(stat(path, &after) == 0);
    /* the rows are in report.db now, not only in the WAL */
    CHECK(after.st_size > before.st_size + 100 * 1024);
    report__db_close(db);
}

/* Over the bound without claims: address-matched outcomes go, then verified
 * history, but each cell's latest verified outcome stays, however old. */
static void test_file_bound_order(void)
{
    const long bound = 48 * 1024;
    report_limits lim = {.max_peers = 1000, .history = 320, .file_bytes = 1 << 30};
    const char *dir = subdir("file-order");
    rs_report *r = report_open(dir, &lim);
    if (!r)
        return;
    report_outcome o = outcome(REPORT_LEG_OUT, "quiet.example", "expired.r.example", 1);
    report_add(r, &o); /* the oldest row of all: a cell's only outcome */
    for (int i = 0; i < 300; i++) { /* a busy cell's long history */
        o = outcome(REPORT_LEG_OUT, "busy.example", "valid.r.example", 100 + i);
        o.stream = 1 + (uint64_t)i;
        snprintf(o.close, sizeof o.close, "idle: the stream was quiet for 300 s");
        report_add(r, &o);
    }
    for (int i = 0; i < 300; i++) { /* newer, but only address-matched */
        char name[64];
        snprintf(name, sizeof name, "m%d.example", i % 10);
        o = matched(name, "192.0.2.9:1", 1000 + i);
        o.stream = 1000 + (uint64_t)i;
        snprintf(o.close, sizeof o.close, "peer closed the stream before authenticating");
        report_add(r, &o);
    }
    report_free(r);
    CHECK(db_used(dir) > bound);
    lim.file_bytes = (size_t)bound; /* the operator lowers the bound */
    r = report_open(dir, &lim);      /* retention at start */
    report_free(r);
    CHECK(db_used(dir) <= bound);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE evidence = 'address-matched'") == 0);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'quiet.example'") == 1);
    long busy = db_count(dir, "SELECT count(*) FROM outcomes WHERE remote = 'busy.example'");
    CHECK(busy > 0 && busy < 300);
    CHECK(db_count(dir, "SELECT max(time) FROM outcomes WHERE remote = 'busy.example'") == 399);
}

/* A file made before auto_vacuum was set is switched once (a VACUUM). */
static void test_vacuum_switch(void)
{
    report_limits lim = {.max_peers = 8, .max_claims = 8, .history = 4};
    const char *dir = subdir("vacuum-switch");
    rs_report *r = report_open(dir, &lim);
    report_outcome o = outcome(REPORT_LEG_OUT, "peer.example", "valid.r.example", 5);
    report_add(r, &o);
    report_free(r);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA auto_vacuum = NONE; VACUUM", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(db_count(dir, "PRAGMA auto_vacuum") == 0);
    r = report_open(dir, &lim);
    CHECK(r && report_has_trusted(r, "peer.example"));
    report_free(r);
    CHECK(db_count(dir, "PRAGMA auto_vacuum") == 2);
    CHECK(db_count(dir, "SELECT count(*) FROM outcomes") == 1);
}

int main(void)
{
    if (!report_test_begin("test-report"))
        return 1;
    test_json_escaping();
    test_roundtrip();
    test_pack();
    test_persistence();
    test_import();
    test_retention();
    test_locked();
    test_crowd();
    test_bounds();
    test_caps();
    test_eviction_order();
    test_file_bound();
    test_checkpoint();
    test_file_bound_order();
    test_vacuum_switch();
    return report_test_end();
}
