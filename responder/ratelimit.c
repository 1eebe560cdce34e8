/* ratelimit.c -- see ratelimit.h. Open addressing over a power-of-two
 * table; a key lives in one of PROBE slots after its hash. */
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

struct ratelimit_table {
    rl_slot *slots;
    unsigned mask;  /* slots - 1 */
    uint64_t seed;  /* per table, so nobody can aim keys at one slot */
};

ratelimit_table *ratelimit_new(unsigned slots)
{
    unsigned n = PROBE;
    while (n < slots && n < (1u << 24))
        n <<= 1;
    ratelimit_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
    return t;
}

void ratelimit_free(ratelimit_table *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

/* FNV-1a over the lower-cased key and the kind, mixed with the seed. */
static uint64_t key_hash(const ratelimit_table *t, const char *key, unsigned kind)
{
    uint64_t h = 0xcbf29ce484222325ull ^ t->seed;
    for (const char *p = key; *p; p++) {
        h ^= (unsigned char)tolower((unsigned char)*p);
        h *= 0x100000001b3ull;
    }
    h ^= kind;
    h *= 0x100000001b3ull;
    return h ^ (h >> 29);
}

ratelimit_verdict ratelimit_hit(ratelimit_table *t, const char *key, unsigned kind, unsigned limit,
                  int64_t now, unsigned window_seconds)
{
    ratelimit_verdict v = {.allowed = true};
    int64_t window = now / (window_seconds ? window_seconds : 1);
    uint64_t h = key_hash(t, key, kind);
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
