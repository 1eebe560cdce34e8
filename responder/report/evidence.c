/* evidence.c -- verified, address-matched or claimed: outcomes of
 * unauthenticated inbound streams wait for a lookup of the claimed domain's
 * own SRV (else A/AAAA) records, cached per domain. */
#include "evidence.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

#define MAX_TARGETS 4   /* SRV targets whose addresses are looked up */
#define MAX_ADDRS 16    /* addresses remembered per domain */
#define FAILED_SECONDS 60 /* a failed lookup is retried after this */

/* An outcome waiting for its domain's addresses. */
typedef struct ev_wait {
    struct ev_wait *next;
    report_outcome outcome;      /* the record, evidence still undecided */
    char ip[64];                 /* the stream's source address */
} ev_wait;

/* What we know of one claimed domain's addresses. */
typedef struct ev_entry {
    char domain[256];            /* lower-case domain, "" = free slot */
    bool resolving;              /* a lookup is running for it */
    time_t expires;              /* answers are stale after this */
    time_t last_used;            /* for choosing which entry to forget */
    struct sockaddr_storage addrs[MAX_ADDRS]; /* what its DNS names */
    size_t n_addrs;
    dns_target_list targets;     /* SRV targets (or the domain), and the
                                    one being resolved */
    bool failed;                 /* the lookup found nothing usable */
    rs_dns_req *req;             /* lookup in flight, or NULL */
    ev_wait *waiting;            /* outcomes that wait for the answer */
    struct rs_evidence *ev;      /* owner */
} ev_entry;

struct rs_evidence {
    rs_dns *dns;                 /* resolver (not owned) */
    rs_report *report;           /* where outcomes go (not owned) */
    evidence_limits limits;
    ev_entry *entries;           /* limits.cache_entries slots */
    unsigned pending;            /* outcomes waiting in all entries */
    evidence_stats stats;
};

static void next_target(ev_entry *e);

report_evidence evidence_of(const report_outcome *o, bool *needs_lookup)
{
    *needs_lookup = false;
    if (o->leg == REPORT_LEG_OUT || o->auth == REPORT_AUTH_OK)
        return REPORT_EVIDENCE_VERIFIED;
    *needs_lookup = o->remote[0] != '\0';
    return REPORT_EVIDENCE_CLAIMED;
}

bool evidence_address_in(const char *ip, const struct sockaddr_storage *addrs,
                         size_t n)
{
    if (strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.'))
        ip += 7; /* a dual-stack socket shows IPv4 peers this way */
    char name[64];
    for (size_t i = 0; i < n; i++) {
        name[0] = '\0';
        if (addrs[i].ss_family == AF_INET)
            uv_ip4_name((const struct sockaddr_in *)&addrs[i], name, sizeof name);
        else if (addrs[i].ss_family == AF_INET6)
            uv_ip6_name((const struct sockaddr_in6 *)&addrs[i], name, sizeof name);
        if (name[0] && strcasecmp(name, ip) == 0)
            return true;
    }
    return false;
}

/* Put o into the report with the evidence decided. */
static void record(rs_report *report, evidence_stats *stats,
                   const report_outcome *o, report_evidence level)
{
    report_outcome copy = *o;
    copy.evidence = level;
    if (stats)
        stats->by_level[level]++;
    report_add(report, &copy);
}

/* The answer is in (or the lookup ended): every waiting outcome goes in. */
static void entry_done(ev_entry *e)
{
    rs_evidence *ev = e->ev;
    time_t now = time(NULL);
    e->resolving = false;
    e->req = NULL;
    e->failed = e->n_addrs == 0;
    e->expires = now + (e->failed ? FAILED_SECONDS : ev->limits.cache_seconds);
    while (e->waiting) {
        ev_wait *w = e->waiting;
        e->waiting = w->next;
        ev->pending--;
        bool match = evidence_address_in(w->ip, e->addrs, e->n_addrs);
        record(ev->report, &ev->stats, &w->outcome,
               match ? REPORT_EVIDENCE_ADDRESS : REPORT_EVIDENCE_CLAIMED);
        free(w);
    }
}

static void evidence_on_addresses(void *ud, dns_status status,
                                  const struct sockaddr_storage *addrs, size_t n)
{
    ev_entry *e = ud;
    e->req = NULL;
    for (size_t i = 0; status == RS_DNS_OK && i < n && e->n_addrs < MAX_ADDRS; i++)
        e->addrs[e->n_addrs++] = addrs[i];
    dns_target_list_advance(&e->targets);
    next_target(e);
}

static void next_target(ev_entry *e)
{
    const dns_target *t = dns_target_list_current(&e->targets);
    if (!t) {
        entry_done(e);
        return;
    }
    /* the callback may run before this returns and start the next lookup */
    rs_dns_req *r = dns_addresses(e->ev->dns, t->host, t->port, evidence_on_addresses, e);
    if (r)
        e->req = r;
}

static void evidence_on_targets(void *ud, dns_status status,
                                const dns_target *targets, size_t n)
{
    ev_entry *e = ud;
    e->req = NULL;
    if (status != RS_DNS_OK) {
        entry_done(e);
        return;
    }
    dns_target_list_set(&e->targets, targets, n, MAX_TARGETS);
    next_target(e);
}

/* The entry for domain: a fresh or known one, or NULL when every slot is
 * busy resolving. */
static ev_entry *evidence_entry_for(rs_evidence *ev, const char *domain)
{
    ev_entry *free_slot = NULL, *oldest = NULL;
    for (unsigned i = 0; i < ev->limits.cache_entries; i++) {
        ev_entry *e = &ev->entries[i];
        if (!e->domain[0]) {
            if (!free_slot)
                free_slot = e;
            continue;
        }
        if (strcasecmp(e->domain, domain) == 0)
            return e;
        if (!e->resolving && (!oldest || e->last_used < oldest->last_used))
            oldest = e;
    }
    ev_entry *e = free_slot ? free_slot : oldest;
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->ev = ev;
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    return e;
}

rs_evidence *evidence_new(rs_dns *dns, rs_report *report,
                          const evidence_limits *limits)
{
    rs_evidence *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->dns = dns;
    ev->report = report;
    ev->limits = *limits;
    if (ev->limits.cache_entries == 0)
        ev->limits.cache_entries = 1;
    ev->entries = calloc(ev->limits.cache_entries, sizeof *ev->entries);
    if (!ev->entries) {
        free(ev);
        return NULL;
    }
    return ev;
}

void evidence_free(rs_evidence *ev)
{
    if (!ev)
        return;
    for (unsigned i = 0; i < ev->limits.cache_entries; i++) {
        ev_entry *e = &ev->entries[i];
        if (e->req)
            dns_cancel(e->req);
        e->req = NULL;
        e->n_addrs = 0; /* no answer: what waits stays a claim */
        if (e->resolving)
            entry_done(e);
    }
    free(ev->entries);
    free(ev);
}

void evidence_submit(rs_evidence *ev, rs_report *report,
                     const report_outcome *o, const char *peer_ip)
{
    if (!report)
        return;
    bool needs_lookup;
    report_evidence level = evidence_of(o, &needs_lookup);
    if (!needs_lookup || !ev || report != ev->report) {
        record(report, ev ? &ev->stats : NULL, o, level);
        return;
    }
    time_t now = time(NULL);
    ev_entry *e = evidence_entry_for(ev, o->remote);
    if (e && e->domain[0] && !e->resolving && e->expires > now) {
        e->last_used = now;
        bool match = evidence_address_in(peer_ip, e->addrs, e->n_addrs);
        record(report, &ev->stats, o,
               match ? REPORT_EVIDENCE_ADDRESS : REPORT_EVIDENCE_CLAIMED);
        return;
    }
    ev_wait *w = NULL;
    if (e && ev->pending < ev->limits.max_pending)
        w = malloc(sizeof *w);
    if (!w) {
        ev->stats.overflow++;
        record(report, &ev->stats, o, REPORT_EVIDENCE_CLAIMED);
        return;
    }
    w->outcome = *o;
    snprintf(w->ip, sizeof w->ip, "%s", peer_ip ? peer_ip : "");
    w->next = e->waiting;
    e->waiting = w;
    ev->pending++;
    e->last_used = now;
    if (e->resolving)
        return;
    e->resolving = true;
    e->n_addrs = 0;
    e->targets.n = e->targets.next = 0;
    ev->stats.lookups++;
    rs_dns_req *r = dns_s2s_targets(ev->dns, e->domain, 5269, evidence_on_targets, e);
    if (r)
        e->req = r;
}

const evidence_stats *evidence_get_stats(const rs_evidence *ev)
{
    return &ev->stats;
}
