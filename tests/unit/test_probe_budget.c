/* test_probe_budget.c -- who may start a probe (probe_budget.h): per target,
 * per requester, per network, the fair share of the total, the local
 * operator's own budget, and what the refusal says about when to retry. */
#include <string.h>

#include "check.h"
#include "config.h"
#include "netaddr.h"
#include "probe_budget.h"

#define MIN_MS 60000ull

static probe_budget_requester web(const char *address)
{
    struct sockaddr_storage ss;
    probe_budget_requester who;
    if (!netaddr_literal(address, 0, &ss))
        fprintf(stderr, "bad literal in the test: %s\n", address);
    probe_budget_web_requester((const struct sockaddr *)&ss, 64, &who);
    return who;
}

static config_limits limits(unsigned per_requester, unsigned per_network,
                            unsigned per_hour)
{
    config_limits l;
    config_limits_default(&l);
    l.probe_per_requester = per_requester;
    l.probe_per_network = per_network;
    l.probe_per_hour = per_hour;
    l.probe_target_interval = 60;
    return l;
}

/* Start a probe of target by who at now if allowed; its verdict. */
static probe_budget_verdict try(rs_probe_budget *b, const config_limits *l,
                                const char *target, const probe_budget_requester *who,
                                uint64_t now)
{
    probe_budget_verdict v = probe_budget_check(b, l, target, who, now);
    if (v.limit == PROBE_BUDGET_OK)
        probe_budget_charge(b, l, target, who, now);
    return v;
}

static void test_keys(void)
{
    probe_budget_requester a = web("203.0.113.7"), b = web("2001:db8:1:2::99"), op;
    CHECK_STR(a.key, "203.0.113.7");
    CHECK_STR(a.network, "203.0.113.0/24");
    CHECK(!a.local);
    CHECK_STR(b.key, "2001:db8:1:2::/64");
    CHECK_STR(b.network, "2001:db8:1::/48");
    probe_budget_local_requester(&op);
    CHECK(op.local);
    CHECK_STR(op.key, "local");
}

/* The attack: one address asks for 60 targets; its own budget stops
 * it, and someone else still gets a probe. */
static void test_one_address_cannot_close_the_probe(void)
{
    rs_probe_budget *b = probe_budget_new();
    if (!b)
        return;
    config_limits l = limits(6, 20, 60);
    probe_budget_requester attacker = web("198.51.100.5"), honest = web("192.0.2.80");
    unsigned started = 0;
    char target[64];
    probe_budget_verdict last = {0};
    for (int i = 0; i < 60; i++) {
        snprintf(target, sizeof target, "t%d.example", i);
        last = try(b, &l, target, &attacker, 1000 + (uint64_t)i);
        started += last.limit == PROBE_BUDGET_OK;
    }
    CHECK(started == 6);
    CHECK(last.limit == PROBE_BUDGET_REQUESTER);
    /* 6 an hour: a token after 10 minutes */
    CHECK(last.wait_s >= 599 && last.wait_s <= 600);
    CHECK(try(b, &l, "honest.example", &honest, 2000).limit == PROBE_BUDGET_OK);
    /* ten minutes later the attacker may start one more, not two */
    CHECK(try(b, &l, "t60.example", &attacker, 2000 + 10 * MIN_MS).limit ==
          PROBE_BUDGET_OK);
    CHECK(try(b, &l, "t61.example", &attacker, 2000 + 10 * MIN_MS).limit ==
          PROBE_BUDGET_REQUESTER);
    probe_budget_free(b);
}

/* Many addresses of one /24 (or /48) share the network's budget. */
static void test_network(void)
{
    rs_probe_budget *b = probe_budget_new();
    if (!b)
        return;
    config_limits l = limits(2, 5, 60);
    unsigned started = 0;
    char target[64], addr[64];
    for (int i = 0; i < 20; i++) {
        snprintf(target, sizeof target, "n%d.example", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", i + 1);
        probe_budget_requester who = web(addr);
        started += try(b, &l, target, &who, 1000).limit == PROBE_BUDGET_OK;
    }
    CHECK(started == 5);
    probe_budget_requester next = web("198.51.100.200"), v6a = web("2001:db8:7:1::1"),
                    v6b = web("2001:db8:7:2::1"), other = web("192.0.2.1");
    probe_budget_verdict v = try(b, &l, "n99.example", &next, 1000);
    CHECK(v.limit == PROBE_BUDGET_NETWORK && v.network);
    CHECK(try(b, &l, "o.example", &other, 1000).limit == PROBE_BUDGET_OK);
    /* two /64s of one /48: two requesters, one network */
    for (int i = 0; i < 2; i++) {
        snprintf(target, sizeof target, "v6a%d.example", i);
        CHECK(try(b, &l, target, &v6a, 1000).limit == PROBE_BUDGET_OK);
        snprintf(target, sizeof target, "v6b%d.example", i);
        CHECK(try(b, &l, target, &v6b, 1000).limit == PROBE_BUDGET_OK);
    }
    probe_budget_requester v6c = web("2001:db8:7:3::1");
    CHECK(try(b, &l, "v6c.example", &v6c, 1000).limit == PROBE_BUDGET_OK);
    CHECK(try(b, &l, "v6c2.example", &v6c, 1000).limit == PROBE_BUDGET_NETWORK);
    probe_budget_free(b);
}

/* The share: a requester with a budget as large as the total takes about
 * half of it; the last tokens go to requesters new this hour. */
static void test_fair_share(void)
{
    rs_probe_budget *b = probe_budget_new();
    if (!b)
        return;
    config_limits l = limits(10, 10, 10);
    probe_budget_requester greedy = web("198.51.100.5");
    unsigned started = 0;
    char target[64];
    probe_budget_verdict v = {0};
    for (int i = 0; i < 10; i++) {
        snprintf(target, sizeof target, "g%d.example", i);
        v = try(b, &l, target, &greedy, 1000);
        started += v.limit == PROBE_BUDGET_OK;
    }
    CHECK(started == 5);
    CHECK(v.limit == PROBE_BUDGET_SHARE);
    CHECK(v.used > 4.99 && v.left > 4.99 && v.left < 5.01);
    /* one token short; the total refills and the deficit shrinks, 20 an hour */
    CHECK(v.wait_s == 180);
    char text[512];
    probe_budget_explain(&v, &l, &greedy, "g9.example", 0, text, sizeof text);
    CHECK(strstr(text, "5 of the 10 probes an hour for everyone are left") != NULL);
    CHECK(strstr(text, "198.51.100.5 has used 5") != NULL);
    CHECK(strstr(text, "never takes more than half") != NULL);
    CHECK(strstr(text, "try again in 180 s (at 00:03:00 UTC)") != NULL);
    /* five newcomers from five networks take the rest, one each */
    char addr[64];
    for (int i = 0; i < 5; i++) {
        snprintf(addr, sizeof addr, "192.0.%d.1", i + 1);
        probe_budget_requester who = web(addr);
        snprintf(target, sizeof target, "new%d.example", i);
        CHECK(try(b, &l, target, &who, 1000).limit == PROBE_BUDGET_OK);
    }
    probe_budget_requester late = web("203.0.113.1");
    v = try(b, &l, "late.example", &late, 1000);
    CHECK(v.limit == PROBE_BUDGET_TOTAL);
    CHECK(v.wait_s == 360); /* one token of 10 an hour */
    probe_budget_free(b);
}

/* The target interval holds for everyone; the operator has a budget of its
 * own outside the total. */
static void test_target_and_operator(void)
{
    rs_probe_budget *b = probe_budget_new();
    if (!b)
        return;
    config_limits l = limits(6, 20, 2);
    probe_budget_requester a = web("192.0.2.1"), c = web("192.0.3.1"), op;
    probe_budget_local_requester(&op);
    CHECK(try(b, &l, "x.example", &a, 1000).limit == PROBE_BUDGET_OK);
    probe_budget_verdict v = try(b, &l, "x.example", &c, 21000);
    CHECK(v.limit == PROBE_BUDGET_TARGET && v.wait_s == 40 && v.last_ago_s == 20);
    CHECK(try(b, &l, "x.example", &op, 21000).limit == PROBE_BUDGET_TARGET);
    CHECK(try(b, &l, "y.example", &c, 21000).limit == PROBE_BUDGET_OK);
    /* the web's total (2) is gone; the operator still has its own 2 */
    CHECK(try(b, &l, "z.example", &c, 21000).limit != PROBE_BUDGET_OK);
    CHECK(try(b, &l, "op1.example", &op, 21000).limit == PROBE_BUDGET_OK);
    CHECK(try(b, &l, "op2.example", &op, 21000).limit == PROBE_BUDGET_OK);
    v = try(b, &l, "op3.example", &op, 21000);
    CHECK(v.limit == PROBE_BUDGET_LOCAL && v.wait_s == 1800);
    char text[512];
    probe_budget_explain(&v, &l, &op, "op3.example", 86400, text, sizeof text);
    CHECK(strstr(text, "local operator's own 2 probes of the hour") != NULL);
    CHECK(strstr(text, "try again in 1800 s (at 00:30:00 UTC)") != NULL);
    /* when may a requester start its next probe, whatever the target */
    CHECK(probe_budget_check(b, &l, NULL, &a, 21000).wait_s > 0);
    probe_budget_requester fresh = web("203.0.113.9");
    CHECK(probe_budget_check(b, &l, NULL, &fresh, 21000).limit == PROBE_BUDGET_TOTAL);
    probe_budget_free(b);
}

static void test_when(void)
{
    char buf[64];
    probe_budget_when(0, 0, buf, sizeof buf);
    CHECK_STR(buf, "now");
    probe_budget_when(90, 3600, buf, sizeof buf);
    CHECK_STR(buf, "in 90 s (at 01:01:30 UTC)");
    probe_budget_when(86400, 0, buf, sizeof buf);
    CHECK_STR(buf, "in 86400 s (at 1970-01-02 00:00:00 UTC)");
}

int main(void)
{
    test_keys();
    test_one_address_cannot_close_the_probe();
    test_network();
    test_fair_share();
    test_target_and_operator();
    test_when();
    return check_done();
}
