/* ratelimit.h -- fixed-window counters keyed by (name, kind), in a bounded
 * table: per remote domain and service for replies (services.c), per peer
 * address for log lines (conn.c). A full table reuses the stalest slot of a
 * key's neighbourhood, so memory never grows with the number of peers; a
 * peer whose slot was reused starts a fresh window, which only ever lets
 * through at most one more window's worth.
 *
 * And token buckets keyed by name, in a bounded table too (probe budgets per
 * requester, probe_budget.h): a bucket holds up to cap tokens and refills
 * continuously at cap per period; a key not in the table has a full bucket.
 * A full table reuses the fullest bucket of a key's neighbourhood, which
 * gives its owner back at most what that bucket lacked. */
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
