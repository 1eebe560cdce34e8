/* evidence.h -- how sure we are that an outcome came from the domain it
 * names (verified, address-matched or claimed: report_evidence), decided
 * before the outcome enters the report. Outcomes that need a lookup of the
 * domain's addresses wait here, bounded in number, answers cached per
 * domain. The levels: xmpp-responder(8), "Reports"; the bounds: README.md. */
#ifndef RS_EVIDENCE_H
#define RS_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "report.h"

/* Bounds of the attestation. */
typedef struct evidence_limits {
    unsigned cache_entries;  /* domains whose addresses are remembered */
    unsigned cache_seconds;  /* how long an answer is trusted */
    unsigned max_pending;    /* outcomes waiting for a lookup at once */
} evidence_limits;

/* Counters since start (for /metrics). */
typedef struct evidence_stats {
    uint64_t lookups;        /* address lookups started for a claimed domain */
    uint64_t overflow;       /* outcomes recorded as claims without a lookup
                                because max_pending were waiting */
    uint64_t by_level[3];    /* outcomes recorded, by report_evidence */
} evidence_stats;

typedef struct rs_evidence rs_evidence;

/* An attester that resolves with dns and records into report (both must
 * outlive it). NULL on allocation failure. */
rs_evidence *evidence_new(rs_dns *dns, rs_report *report,
                          const evidence_limits *limits);

/* Record every waiting outcome as it stands (claimed), cancel the lookups
 * and free. Call before the resolver is freed. NULL is allowed. */
void evidence_free(rs_evidence *ev);

/* What an outcome proves by itself: verified when we dialled (leg out) or
 * the stream authenticated; otherwise claimed, and *needs_lookup tells
 * whether an address lookup could raise it to address-matched. */
report_evidence evidence_of(const report_outcome *o, bool *needs_lookup);

/* Whether ip (as libuv prints it; an IPv4-mapped IPv6 address counts as its
 * IPv4 address) is one of the n addresses. */
bool evidence_address_in(const char *ip, const struct sockaddr_storage *addrs,
                         size_t n);

/* Decide o's evidence (peer_ip: the stream's source address) and add it to
 * the report, now or after a lookup. ev NULL (stopping): decided without a
 * lookup. report NULL: nothing is recorded. */
void evidence_submit(rs_evidence *ev, rs_report *report,
                     const report_outcome *o, const char *peer_ip);

/* Counters so far. */
const evidence_stats *evidence_get_stats(const rs_evidence *ev);

#endif
