/* test_ratelimit.c -- the fixed-window table behind the per-service reply
 * limits and the per-peer log limit. */
#include <stdio.h>

#include "check.h"
#include "ratelimit.h"

/* Within a window: exactly limit events pass; the first refusal is flagged
 * once; the next window starts fresh and reports what was refused. */
static void test_window(void)
{
    rs_ratelimit_table *t = ratelimit_new(64);
    CHECK(t != NULL);
    if (!t)
        return;
    unsigned passed = 0, first = 0;
    for (int i = 0; i < 25; i++) {
        ratelimit_verdict v = ratelimit_hit(t, "peer.example", 0, 10, 600, 60);
        passed += v.allowed;
        first += v.first_refusal;
        CHECK(v.suppressed == 0);
    }
    CHECK(passed == 10);
    CHECK(first == 1);
    /* case does not matter; another kind has its own count */
    CHECK(!ratelimit_hit(t, "PEER.example", 0, 10, 610, 60).allowed);
    CHECK(ratelimit_hit(t, "peer.example", 1, 10, 610, 60).allowed);
    ratelimit_verdict v = ratelimit_hit(t, "peer.example", 0, 10, 660, 60);
    CHECK(v.allowed && v.suppressed == 16);
    ratelimit_free(t);
}

/* Many more keys than slots: memory stays what it was, and a key seen
 * again after being pushed out starts a fresh window (never refused more). */
static void test_bounded(void)
{
    rs_ratelimit_table *t = ratelimit_new(16);
    CHECK(t != NULL);
    if (!t)
        return;
    char key[32];
    unsigned refused = 0;
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "d%d.example", i);
        refused += !ratelimit_hit(t, key, 0, 1, 1000 + i / 100, 60).allowed;
    }
    CHECK(refused == 0);
    /* a hot key in a crowd of others keeps its count while it stays hot */
    unsigned ok = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "x%d.example", i % 4);
        ratelimit_hit(t, key, 0, 1000, 5000, 60);
        ok += ratelimit_hit(t, "hot.example", 0, 50, 5000, 60).allowed;
    }
    CHECK(ok == 50);
    ratelimit_free(t);
}

#define HOUR_MS 3600000ull

/* A bucket starts full, loses one token per take, refills at cap per hour
 * and never beyond cap; keys are independent and compare without case. */
static void test_buckets(void)
{
    rs_ratelimit_buckets *t = ratelimit_buckets_new(16);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(ratelimit_bucket_level(t, "192.0.2.7", 6, HOUR_MS, 1000) == 6);
    for (int i = 0; i < 6; i++)
        ratelimit_bucket_take(t, "192.0.2.7", 6, HOUR_MS, 1000);
    CHECK(ratelimit_bucket_level(t, "192.0.2.7", 6, HOUR_MS, 1000) < 0.001);
    ratelimit_bucket_take(t, "192.0.2.7", 6, HOUR_MS, 1000); /* stays at 0 */
    CHECK(ratelimit_bucket_level(t, "192.0.2.7", 6, HOUR_MS, 1000) == 0);
    /* 6 an hour: one token after 10 minutes, full after an hour */
    double l = ratelimit_bucket_level(t, "192.0.2.7", 6, HOUR_MS, 1000 + HOUR_MS / 6);
    CHECK(l > 0.999 && l < 1.001);
    CHECK(ratelimit_bucket_level(t, "192.0.2.7", 6, HOUR_MS, 1000 + 2 * HOUR_MS) == 6);
    CHECK(ratelimit_bucket_level(t, "2001:DB8::/64", 6, HOUR_MS, 1000) == 6);
    ratelimit_bucket_take(t, "2001:db8::/64", 6, HOUR_MS, 1000);
    CHECK(ratelimit_bucket_level(t, "2001:DB8::/64", 6, HOUR_MS, 1000) == 5);
    /* a smaller cap after a reload caps what is there */
    CHECK(ratelimit_bucket_level(t, "2001:db8::/64", 2, HOUR_MS, 1000) == 2);
    ratelimit_buckets_free(t);
}

/* A full table reuses the fullest bucket of the neighbourhood: thousands of
 * keys fit in 8 slots, and a drained bucket survives a crowd of fresh ones
 * that each took one token only while full buckets remain to be reused. */
static void test_buckets_bounded(void)
{
    rs_ratelimit_buckets *t = ratelimit_buckets_new(8);
    if (!t)
        return;
    for (int i = 0; i < 3; i++)
        ratelimit_bucket_take(t, "drained", 3, HOUR_MS, 0);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        ratelimit_bucket_take(t, key, 3, HOUR_MS, 0);
    }
    CHECK(ratelimit_bucket_level(t, "drained", 3, HOUR_MS, 0) == 0);
    ratelimit_buckets_free(t);
}

int main(void)
{
    test_window();
    test_bounded();
    test_buckets();
    test_buckets_bounded();
    return check_done();
}
