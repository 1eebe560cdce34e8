/* ratelimit.h -- bounded tables of fixed-window counters keyed by (name,
 * kind) (replies, dialback dials, log lines) and of token buckets keyed by
 * name (probe budgets). A full table reuses a slot of the key's
 * neighbourhood, so memory never grows with the number of peers; what a
 * reused slot gives away: README.md. */
#ifndef RS_RATELIMIT_H
#define RS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 256 /* longest key kept (a domain name fits) */
#define RATELIMIT_BUCKET_KEY_MAX 64 /* longest bucket key (an IPv6 prefix fits) */

typedef struct rs_ratelimit_table rs_ratelimit_table;

/* A table of slots (rounded up to a power of two). NULL without memory. */
rs_ratelimit_table *ratelimit_new(unsigned slots);

void ratelimit_free(rs_ratelimit_table *t);

/* What ratelimit_hit decided. */
typedef struct ratelimit_verdict {
    bool allowed;        /* this event is within the limit */
    bool first_refusal;  /* the first refusal of this window (log it once) */
    uint64_t suppressed; /* events refused in the previous window of this
                            key, reported once when a new window starts */
} ratelimit_verdict;

/* Count one event of kind for key in the window now / window_seconds;
 * allowed while the window's count is at most limit. Keys compare without
 * case. */
ratelimit_verdict ratelimit_hit(rs_ratelimit_table *t, const char *key, unsigned kind, unsigned limit,
                  int64_t now, unsigned window_seconds);

/* Token buckets: at most slots keys (rounded up to a power of two). NULL
 * without memory. */
typedef struct rs_ratelimit_buckets rs_ratelimit_buckets;

rs_ratelimit_buckets *ratelimit_buckets_new(unsigned slots);

void ratelimit_buckets_free(rs_ratelimit_buckets *t);

/* The tokens in key's bucket at now_ms: what was left at its last take,
 * refilled at cap per period_ms since, at most cap. */
double ratelimit_bucket_level(const rs_ratelimit_buckets *t, const char *key,
                              double cap, uint64_t period_ms, uint64_t now_ms);

/* Take one token from key's bucket at now_ms (never below zero: callers
 * look at the level first). */
void ratelimit_bucket_take(rs_ratelimit_buckets *t, const char *key, double cap,
                           uint64_t period_ms, uint64_t now_ms);

#endif
