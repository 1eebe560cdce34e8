/* ratelimit.c -- see ratelimit.h. Open addressing over a power-of-two
 * table; a key lives in one of PROBE slots after its hash. Both kinds of
 * table (windows, buckets) work that way. */
#include "ratelimit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROBE 8 /* slots searched per key */

typedef struct rl_slot {
    char key[RATELIMIT_KEY_MAX]; /* "" = free */
    unsigned kind;        /* which counter of the key */
    int64_t window;       /* window number the count is for */
    uint64_t count;       /* events in that window */
    uint64_t refused;     /* of them refused */
} rl_slot;

struct rs_ratelimit_table {
    rl_slot *slots;
    unsigned mask;  /* slots - 1 */
    uint64_t seed;  /* per table, so nobody can aim keys at one slot */
};

/* Zeroed slots of size bytes, their number (slots rounded up to a power of
 * two, at least PROBE) less one in *mask; NULL without memory. */
static void *slots_new(unsigned slots, size_t size, unsigned *mask)
{
    unsigned n = PROBE;
    while (n < slots && n < (1u << 24))
        n <<= 1;
    *mask = n - 1;
    return calloc(n, size);
}

rs_ratelimit_table *ratelimit_new(unsigned slots)
{
    rs_ratelimit_table *t = calloc(1, sizeof *t);
    if (t && !(t->slots = slots_new(slots, sizeof *t->slots, &t->mask))) {
        free(t);
        return NULL;
    }
    if (t)
        t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
    return t;
}

void ratelimit_free(rs_ratelimit_table *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

/* FNV-1a over the lower-cased key and the kind, mixed with the seed. */
static uint64_t key_hash(uint64_t seed, const char *key, unsigned kind)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (const char *p = key; *p; p++) {
        h ^= (unsigned char)tolower((unsigned char)*p);
        h *= 0x100000001b3ull;
    }
    h ^= kind;
    h *= 0x100000001b3ull;
    return h ^ (h >> 29);
}

ratelimit_verdict ratelimit_hit(rs_ratelimit_table *t, const char *key, unsigned kind, unsigned limit,
                  int64_t now, unsigned window_seconds)
{
    ratelimit_verdict v = {.allowed = true};
    int64_t window = now / (window_seconds ? window_seconds : 1);
    uint64_t h = key_hash(t->seed, key, kind);
    rl_slot *slot = NULL, *stalest = NULL;
    for (unsigned i = 0; i < PROBE && !slot; i++) {
        rl_slot *s = &t->slots[(h + i) & t->mask];
        if (s->key[0] && s->kind == kind && strcasecmp(s->key, key) == 0)
            slot = s;
        else if (!stalest || !s->key[0] ||
                 (stalest->key[0] && s->window < stalest->window))
            stalest = s;
    }
    if (!slot) {
        slot = stalest;
        snprintf(slot->key, sizeof slot->key, "%s", key);
        slot->kind = kind;
        slot->window = window;
        slot->count = slot->refused = 0;
    }
    if (slot->window != window) {
        v.suppressed = slot->refused;
        slot->window = window;
        slot->count = slot->refused = 0;
    }
    slot->count++;
    if (slot->count > limit) {
        v.allowed = false;
        v.first_refusal = slot->refused++ == 0;
    }
    return v;
}

/* ---- token buckets --------------------------------------------------------- */

typedef struct rl_bucket {
    char key[RATELIMIT_BUCKET_KEY_MAX]; /* "" = free (a full bucket) */
    double tokens;        /* left at at_ms */
    uint64_t at_ms;       /* the last take */
} rl_bucket;

struct rs_ratelimit_buckets {
    rl_bucket *slots;
    unsigned mask;  /* slots - 1 */
    uint64_t seed;  /* per table */
};

rs_ratelimit_buckets *ratelimit_buckets_new(unsigned slots)
{
    rs_ratelimit_buckets *t = calloc(1, sizeof *t);
    if (t && !(t->slots = slots_new(slots, sizeof *t->slots, &t->mask))) {
        free(t);
        return NULL;
    }
    if (t)
        t->seed = (uint64_t)(uintptr_t)t ^ 0x94d049bb133111ebull;
    return t;
}

void ratelimit_buckets_free(rs_ratelimit_buckets *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

/* b's tokens at now_ms. */
static double bucket_level(const rl_bucket *b, double cap, uint64_t period_ms,
                           uint64_t now_ms)
{
    double v = b->tokens;
    if (now_ms > b->at_ms && period_ms > 0)
        v += (double)(now_ms - b->at_ms) * cap / (double)period_ms;
    return v < cap ? v : cap;
}

/* key's slot, or NULL when it has none. */
static rl_bucket *bucket_find(const rs_ratelimit_buckets *t, const char *key)
{
    uint64_t h = key_hash(t->seed, key, 0);
    for (unsigned i = 0; i < PROBE; i++) {
        rl_bucket *b = &t->slots[(h + i) & t->mask];
        if (b->key[0] && strcasecmp(b->key, key) == 0)
            return b;
    }
    return NULL;
}

double ratelimit_bucket_level(const rs_ratelimit_buckets *t, const char *key,
                              double cap, uint64_t period_ms, uint64_t now_ms)
{
    const rl_bucket *b = bucket_find(t, key);
    return b ? bucket_level(b, cap, period_ms, now_ms) : cap;
}

void ratelimit_bucket_take(rs_ratelimit_buckets *t, const char *key, double cap,
                           uint64_t period_ms, uint64_t now_ms)
{
    rl_bucket *b = bucket_find(t, key);
    if (!b) { /* a free slot, else the fullest: it loses the least */
        uint64_t h = key_hash(t->seed, key, 0);
        double best = -1;
        for (unsigned i = 0; i < PROBE; i++) {
            rl_bucket *s = &t->slots[(h + i) & t->mask];
            double level = s->key[0] ? bucket_level(s, cap, period_ms, now_ms)
                                     : cap + 1;
            if (level > best) {
                best = level;
                b = s;
            }
        }
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = cap;
        b->at_ms = now_ms;
    }
    double v = bucket_level(b, cap, period_ms, now_ms) - 1.0;
    b->tokens = v > 0 ? v : 0;
    b->at_ms = now_ms;
}
