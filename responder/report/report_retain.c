/* report_retain.c -- the report's tables in memory, and who gives way when
 * one is full: retention by value, so that no single source flushes them.
 *
 * A remote domain's class is the best evidence among its outcomes. When room
 * is needed, address-matched domains go before verified ones, least recently
 * seen first; a verified domain never gives way to an unverified outcome
 * (that outcome is dropped and counted instead). An address-matched domain
 * costs nothing but DNS the sender controls (a wildcard record naming its own
 * address makes every name under it match), so address-matched domains are
 * also capped per source address (IPv6: per prefix) and per registrable
 * domain (libpsl): over a cap, the new one replaces the least recent of that
 * source or domain, and a crowd churns only its own slots. Claims live in a
 * table of their own and only ever replace claims (report.c). */
#include "report_internal.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "netaddr.h"

#define DEFAULT_IPV6_PREFIX 64

int report__table_init(report_table *t, unsigned max, unsigned history)
{
    t->max = max ? max : 1;
    t->history = history ? history : 1;
    t->n = 0;
    t->peers = calloc(t->max, sizeof *t->peers);
    return t->peers ? 0 : -1;
}

static void peer_free(report_peer *p)
{
    if (!p)
        return;
    free(p->latest);
    free(p->history);
    report__shown_free(p->shown);
    free(p);
}

void report__table_free(report_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        peer_free(t->peers[i]);
    free(t->peers);
    t->peers = NULL;
    t->n = 0;
}

report_peer *report__table_find(const report_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->peers[i]->name, name) == 0)
            return t->peers[i];
    return NULL;
}

void report__retain_free(report_retain *ret)
{
    psl_free(ret->psl);
    ret->psl = NULL;
}

/* ---- what an outcome's domain counts against ------------------------------ */

/* The source address of o ("IP:PORT", IPv6 in brackets) as the unit the
 * caps count: IPv4, or the IPv6 prefix. "" when it is not an address. */
static void source_key(const report_retain *ret, const report_outcome *o,
                       char *out, size_t n)
{
    char host[64];
    const char *a = o->address;
    size_t len;
    out[0] = '\0';
    if (a[0] == '[') { /* "[v6]:port" */
        const char *end = strchr(a, ']');
        if (!end)
            return;
        a++;
        len = (size_t)(end - a);
    } else {
        const char *colon = strrchr(a, ':');
        len = colon ? (size_t)(colon - a) : strlen(a);
    }
    if (len == 0 || len >= sizeof host)
        return;
    memcpy(host, a, len);
    host[len] = '\0';
    struct sockaddr_storage ss;
    if (!netaddr_literal(host, 0, &ss))
        return;
    unsigned prefix = ret->limits.ipv6_prefix ? ret->limits.ipv6_prefix
                                              : DEFAULT_IPV6_PREFIX;
    netaddr_prefix_key((const struct sockaddr *)&ss, 32, prefix, out, n);
}

/* The registrable domain of name (evil.example for x.evil.example), by the
 * public suffix list; name itself when it is a public suffix, or when the
 * list could not be loaded. */
static void site_of(report_retain *ret, const char *name, char *out, size_t n)
{
    if (!ret->psl_tried) {
        ret->psl_tried = true;
        ret->psl = psl_latest(NULL); /* the system's list, else the built-in one */
        if (!ret->psl)
            log_msg(RS_LOG_ERROR, "report: no public suffix list (libpsl); "
                    "address-matched domains are capped per name, not per "
                    "registrable domain");
    }
    const char *site = ret->psl ? psl_registrable_domain(ret->psl, name) : NULL;
    snprintf(out, n, "%s", site ? site : name);
}

/* ---- who gives way --------------------------------------------------------- */

/* Which peers a search considers. */
typedef struct peer_filter {
    report_evidence best;      /* of this class */
    const char *source;        /* and this source, unless NULL */
    const char *site;          /* and this registrable domain, unless NULL */
} peer_filter;

static bool matches(const report_peer *p, const peer_filter *f)
{
    return p->best == f->best && (!f->source || strcmp(p->source, f->source) == 0) &&
           (!f->site || strcasecmp(p->site, f->site) == 0);
}

/* How many peers of t match f, and the index of the least recent of them
 * (-1 when none). */
static size_t count_matching(const report_table *t, const peer_filter *f,
                             long *oldest)
{
    size_t n = 0;
    *oldest = -1;
    for (size_t i = 0; i < t->n; i++) {
        const report_peer *p = t->peers[i];
        if (!matches(p, f))
            continue;
        n++;
        if (*oldest < 0 || p->last_seen < t->peers[*oldest]->last_seen)
            *oldest = (long)i;
    }
    return n;
}

/* Why a newcomer took a slot. */
typedef enum {
    SLOT_FREE,        /* there was room */
    SLOT_FULL,        /* the table was full: the least valuable gave way */
    SLOT_SOURCE_CAP,  /* its source address held its cap */
    SLOT_SITE_CAP,    /* its registrable domain held its cap */
    SLOT_NONE         /* only more valuable peers: not kept */
} slot_reason;

/* The slot a new peer of class best takes in t: the index of the peer that
 * gives way, t->n when there is room, or -1 when it is not kept. */
static long choose_slot(const report_table *t, report_retain *ret,
                        report_evidence best, const char *source,
                        const char *site, slot_reason *why)
{
    const report_limits *l = &ret->limits;
    long victim;
    if (best == REPORT_EVIDENCE_ADDRESS) {
        peer_filter same_source = {best, source, NULL};
        *why = SLOT_SOURCE_CAP;
        if (source[0] && l->matched_per_source &&
            count_matching(t, &same_source, &victim) >= l->matched_per_source)
            return victim;
        peer_filter same_site = {best, NULL, site};
        *why = SLOT_SITE_CAP;
        if (l->matched_per_site &&
            count_matching(t, &same_site, &victim) >= l->matched_per_site)
            return victim;
    }
    *why = SLOT_FREE;
    if (t->n < t->max)
        return (long)t->n;
    /* full: the least recent of the lowest class present, never one of a
     * higher class than the newcomer's */
    *why = SLOT_FULL;
    for (report_evidence c = REPORT_EVIDENCE_CLAIMED; c <= best; c++) {
        peer_filter cls = {c, NULL, NULL};
        if (count_matching(t, &cls, &victim) > 0)
            return victim;
    }
    *why = SLOT_NONE;
    return -1;
}

/* Count what gave way, and say so (a line per event, within the log budget
 * of the newcomer's source address, else of its name). */
static void account(report_retain *ret, const report_outcome *o,
                    const char *source, const report_peer *victim, slot_reason why)
{
    static const char *const because[] = {
        [SLOT_FULL] = "the report is full (limits.report_peers or report_claims)",
        [SLOT_SOURCE_CAP] = "address-matched domains from one source are capped "
                            "(limits.report_matched_per_ip)",
        [SLOT_SITE_CAP] = "address-matched domains under one registrable domain "
                          "are capped (limits.report_matched_per_site)",
        [SLOT_NONE] = "verified peers fill the report and never give way to an "
                      "unverified outcome",
    };
    if (why == SLOT_FREE)
        return;
    ret->stats.capped_source += why == SLOT_SOURCE_CAP;
    ret->stats.capped_site += why == SLOT_SITE_CAP;
    ret->stats.refused += why == SLOT_NONE;
    if (victim)
        ret->stats.evicted[victim->best]++;
    if (ret->quiet || !log_enabled(RS_LOG_INFO) ||
        !log_peer_allowed(source[0] ? source : o->remote))
        return;
    if (victim)
        log_msg(RS_LOG_INFO, "report: %s (%s%s%s) replaces %s (%s): %s", o->remote,
                report_evidence_name(o->evidence), source[0] ? ", from " : "",
                source, victim->name, report_evidence_name(victim->best),
                because[why]);
    else
        log_msg(RS_LOG_INFO, "report: %s (%s%s%s) not kept: %s", o->remote,
                report_evidence_name(o->evidence), source[0] ? ", from " : "",
                source, because[why]);
}

report_peer *report__table_admit(report_table *t, report_retain *ret,
                                 const report_outcome *o, bool *oom)
{
    *oom = false;
    report_peer *p = report__table_find(t, o->remote);
    if (p)
        return p;
    char source[sizeof p->source] = "", site[sizeof p->site] = "";
    source_key(ret, o, source, sizeof source); /* also the log's budget */
    if (o->evidence == REPORT_EVIDENCE_ADDRESS) /* what the caps count */
        site_of(ret, o->remote, site, sizeof site);
    slot_reason why;
    long slot = choose_slot(t, ret, o->evidence, source, site, &why);
    if (slot < 0) {
        account(ret, o, source, NULL, why);
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (p)
        p->history = calloc(t->history, sizeof *p->history);
    if (!p || !p->history) {
        peer_free(p);
        *oom = true;
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s", o->remote);
    snprintf(p->source, sizeof p->source, "%s", source);
    snprintf(p->site, sizeof p->site, "%s", site);
    p->best = o->evidence;
    if ((size_t)slot == t->n) {
        t->peers[t->n++] = p;
    } else {
        account(ret, o, source, t->peers[slot], why);
        peer_free(t->peers[slot]);
        t->peers[slot] = p;
    }
    return p;
}

/* ---- one peer's outcomes ------------------------------------------------------ */

/* Replace or add the latest outcome for (o->local, o->leg). */
static bool set_latest(report_peer *p, const report_outcome *o)
{
    for (size_t i = 0; i < p->n_latest; i++) {
        report_outcome *l = &p->latest[i];
        if (l->leg == o->leg && strcasecmp(l->local, o->local) == 0) {
            if (l->time <= o->time || l->stream == o->stream)
                *l = *o;
            return true;
        }
    }
    if (p->n_latest == p->cap_latest) {
        size_t cap = p->cap_latest ? p->cap_latest * 2 : 8;
        report_outcome *n = realloc(p->latest, cap * sizeof *n);
        if (!n)
            return false;
        p->latest = n;
        p->cap_latest = cap;
    }
    p->latest[p->n_latest++] = *o;
    return true;
}

/* A stream reports when it gets going and when it ends: the second record
 * replaces the first in the history. */
static void add_history(const report_table *t, report_peer *p,
                        const report_outcome *o)
{
    size_t cap = t->history;
    for (size_t k = 1; o->stream && k <= p->history_len; k++) {
        report_outcome *h = &p->history[(p->history_head + cap - k) % cap];
        if (h->stream == o->stream && h->leg == o->leg) {
            *h = *o;
            return;
        }
    }
    p->history[p->history_head] = *o;
    p->history_head = (p->history_head + 1) % cap;
    if (p->history_len < cap)
        p->history_len++;
}

bool report__peer_keep(const report_table *t, report_peer *p,
                       const report_outcome *o, bool latest)
{
    if (latest && !set_latest(p, o))
        return false;
    add_history(t, p, o);
    if (o->evidence > p->best)
        p->best = o->evidence;
    if (o->time > p->last_seen)
        p->last_seen = o->time;
    return true;
}

const report_outcome *report__peer_nth_newest(const report_table *t,
                                              const report_peer *p, size_t k)
{
    if (!p || k > p->history_len)
        return NULL;
    return &p->history[(p->history_head + t->history - k) % t->history];
}
