/* probe_budget.c -- see probe_budget.h. The targets probed lately live in a
 * bounded table of their own; requesters and networks share one table of
 * token buckets, the total and the operator another two-key one, so that no
 * crowd of requesters can push them out. */
#include "probe_budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define HOUR_MS 3600000ull
#define TARGET_SLOTS 512      /* targets remembered for the interval */
#define TARGET_MAX 253        /* longest domain name we probe */
#define REQUESTER_SLOTS 4096  /* requesters and networks remembered */
#define NETWORK_V4_BITS 24    /* an IPv4 network */
#define NETWORK_V6_BITS 48    /* an IPv6 site */
#define TOTAL_KEY "*"         /* the web's shared bucket */
#define NET_PREFIX "net "     /* network keys, apart from requester keys */

/* A target probed lately (uv_now of its last start). */
typedef struct target_slot {
    char name[TARGET_MAX + 1];    /* "" = free */
    uint64_t last_ms;
} target_slot;

struct rs_probe_budget {
    target_slot recent[TARGET_SLOTS];
    rs_ratelimit_buckets *requesters; /* requester and network keys */
    rs_ratelimit_buckets *shared;     /* TOTAL_KEY and the operator's */
};

rs_probe_budget *probe_budget_new(void)
{
    rs_probe_budget *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->requesters = ratelimit_buckets_new(REQUESTER_SLOTS);
    b->shared = ratelimit_buckets_new(8);
    if (!b->requesters || !b->shared) {
        probe_budget_free(b);
        return NULL;
    }
    return b;
}

void probe_budget_free(rs_probe_budget *b)
{
    if (!b)
        return;
    ratelimit_buckets_free(b->requesters);
    ratelimit_buckets_free(b->shared);
    free(b);
}

void probe_budget_web_requester(const struct sockaddr *sa, unsigned ipv6_prefix,
                                probe_budget_requester *out)
{
    memset(out, 0, sizeof *out);
    netaddr_prefix_key(sa, 32, ipv6_prefix, out->key, sizeof out->key);
    char net[PROBE_BUDGET_KEY_MAX];
    netaddr_prefix_key(sa, NETWORK_V4_BITS,
                       ipv6_prefix < NETWORK_V6_BITS ? ipv6_prefix : NETWORK_V6_BITS,
                       net, sizeof net);
    snprintf(out->network, sizeof out->network, "%s", net);
}

void probe_budget_local_requester(probe_budget_requester *out)
{
    memset(out, 0, sizeof *out);
    out->local = true;
    snprintf(out->key, sizeof out->key, "local");
}

const char *probe_budget_limit_name(probe_budget_limit limit)
{
    switch (limit) {
    case PROBE_BUDGET_OK: return "ok";
    case PROBE_BUDGET_TARGET: return "target";
    case PROBE_BUDGET_REQUESTER: return "requester";
    case PROBE_BUDGET_NETWORK: return "network";
    case PROBE_BUDGET_SHARE: return "share";
    case PROBE_BUDGET_TOTAL: return "total";
    case PROBE_BUDGET_LOCAL: return "local";
    case PROBE_BUDGET_LIMITS: break;
    }
    return "?";
}

/* ---- the targets ------------------------------------------------------------ */

static const target_slot *recent_find(const rs_probe_budget *b, const char *name)
{
    for (size_t i = 0; i < TARGET_SLOTS; i++)
        if (b->recent[i].name[0] && strcmp(b->recent[i].name, name) == 0)
            return &b->recent[i];
    return NULL;
}

/* Remember that name starts now: its slot, else a free one, else the one
 * started longest ago. */
static void recent_note(rs_probe_budget *b, const char *name, uint64_t now)
{
    target_slot *s = (target_slot *)recent_find(b, name);
    for (size_t i = 0; !s && i < TARGET_SLOTS; i++)
        if (!b->recent[i].name[0])
            s = &b->recent[i];
    if (!s) {
        s = &b->recent[0];
        for (size_t i = 1; i < TARGET_SLOTS; i++)
            if (b->recent[i].last_ms < s->last_ms)
                s = &b->recent[i];
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    s->last_ms = now;
}

/* ---- the buckets -------------------------------------------------------------- */

/* One owner's bucket as the check sees it. */
typedef struct level {
    double cap;   /* tokens an hour */
    double left;  /* tokens now */
} level;

static level level_of(const rs_ratelimit_buckets *t, const char *key, unsigned cap,
                      uint64_t now)
{
    level l = {(double)cap, ratelimit_bucket_level(t, key, cap, HOUR_MS, now)};
    return l;
}

/* Milliseconds until l holds one token. */
static double wait_token(level l)
{
    return l.left >= 1.0 ? 0 : (1.0 - l.left) * (double)HOUR_MS / l.cap;
}

/* Milliseconds until total holds at least what l's owner used plus one:
 * the total refills at its rate while l's deficit shrinks at l's. */
static double wait_share(level total, level l)
{
    double need = l.cap - l.left + 1.0 - total.left;
    if (need <= 0)
        return 0;
    double ms = need * (double)HOUR_MS / (total.cap + l.cap);
    return ms < (double)HOUR_MS ? ms : (double)HOUR_MS;
}

/* Let limit decide when it waits longer than what decided so far. */
static void consider(probe_budget_verdict *v, double *longest, double ms,
                     probe_budget_limit limit, double used, bool network)
{
    if (ms > 0 && ms > *longest) {
        *longest = ms;
        v->limit = limit;
        v->used = used;
        v->network = network;
    }
}

/* requester and network keys of who in the requesters table. */
static void network_key(const probe_budget_requester *who, char *out, size_t n)
{
    snprintf(out, n, NET_PREFIX "%.*s", PROBE_BUDGET_KEY_MAX - 1, who->network);
}

probe_budget_verdict probe_budget_check(const rs_probe_budget *b,
                                        const config_limits *lim, const char *target,
                                        const probe_budget_requester *who,
                                        uint64_t now_ms)
{
    probe_budget_verdict v = {.limit = PROBE_BUDGET_OK};
    double longest = 0;
    const target_slot *slot = target ? recent_find(b, target) : NULL;
    uint64_t interval_ms = (uint64_t)lim->probe_target_interval * 1000;
    if (slot && now_ms - slot->last_ms < interval_ms) {
        v.last_ago_s = (now_ms - slot->last_ms) / 1000;
        consider(&v, &longest, (double)(interval_ms - (now_ms - slot->last_ms)),
                 PROBE_BUDGET_TARGET, 0, false);
    }
    level total = level_of(b->shared, TOTAL_KEY, lim->probe_per_hour, now_ms);
    v.left = total.left;
    if (who->local) {
        level own = level_of(b->shared, who->key, lim->probe_per_hour, now_ms);
        consider(&v, &longest, wait_token(own), PROBE_BUDGET_LOCAL,
                 own.cap - own.left, false);
    } else {
        char net[PROBE_BUDGET_KEY_MAX + 8];
        network_key(who, net, sizeof net);
        level req = level_of(b->requesters, who->key, lim->probe_per_requester, now_ms);
        level nw = level_of(b->requesters, net, lim->probe_per_network, now_ms);
        consider(&v, &longest, wait_token(total), PROBE_BUDGET_TOTAL, 0, false);
        consider(&v, &longest, wait_share(total, req), PROBE_BUDGET_SHARE,
                 req.cap - req.left, false);
        consider(&v, &longest, wait_share(total, nw), PROBE_BUDGET_SHARE,
                 nw.cap - nw.left, true);
        consider(&v, &longest, wait_token(req), PROBE_BUDGET_REQUESTER,
                 req.cap - req.left, false);
        consider(&v, &longest, wait_token(nw), PROBE_BUDGET_NETWORK,
                 nw.cap - nw.left, true);
    }
    v.wait_s = (unsigned)(longest / 1000.0);
    if (v.limit != PROBE_BUDGET_OK && (double)v.wait_s * 1000.0 < longest)
        v.wait_s++; /* whole seconds, rounded up */
    return v;
}

void probe_budget_charge(rs_probe_budget *b, const config_limits *lim,
                         const char *target, const probe_budget_requester *who,
                         uint64_t now_ms)
{
    recent_note(b, target, now_ms);
    if (who->local) {
        ratelimit_bucket_take(b->shared, who->key, lim->probe_per_hour, HOUR_MS, now_ms);
        return;
    }
    char net[PROBE_BUDGET_KEY_MAX + 8];
    network_key(who, net, sizeof net);
    ratelimit_bucket_take(b->shared, TOTAL_KEY, lim->probe_per_hour, HOUR_MS, now_ms);
    ratelimit_bucket_take(b->requesters, who->key, lim->probe_per_requester,
                          HOUR_MS, now_ms);
    ratelimit_bucket_take(b->requesters, net, lim->probe_per_network, HOUR_MS,
                          now_ms);
}

/* ---- what we tell the requester ---------------------------------------------- */

void probe_budget_when(unsigned wait_s, int64_t wall_now, char *out, size_t n)
{
    if (wait_s == 0) {
        snprintf(out, n, "now");
        return;
    }
    time_t at = (time_t)(wall_now + wait_s);
    struct tm tm;
    char hms[32] = "?";
    if (gmtime_r(&at, &tm))
        strftime(hms, sizeof hms, wait_s >= 86400 ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
                 &tm);
    snprintf(out, n, "in %u s (at %s UTC)", wait_s, hms);
}

void probe_budget_explain(const probe_budget_verdict *v, const config_limits *lim,
                          const probe_budget_requester *who, const char *target,
                          int64_t wall_now, char *out, size_t n)
{
    char when[64];
    probe_budget_when(v->wait_s, wall_now, when, sizeof when);
    const char *t = target ? target : "that target";
    switch (v->limit) {
    case PROBE_BUDGET_TARGET:
        snprintf(out, n, "rate limited: %s was probed %llu s ago and one target "
                 "is probed at most once every %u s (probe_target_interval); "
                 "try again %s", t, (unsigned long long)v->last_ago_s,
                 lim->probe_target_interval, when);
        return;
    case PROBE_BUDGET_REQUESTER:
        snprintf(out, n, "rate limited: %s has started its %u probes of the "
                 "hour (probe_per_requester); try again %s", who->key,
                 lim->probe_per_requester, when);
        return;
    case PROBE_BUDGET_NETWORK:
        snprintf(out, n, "rate limited: the network %s has started its %u probes "
                 "of the hour (probe_per_network); try again %s", who->network,
                 lim->probe_per_network, when);
        return;
    case PROBE_BUDGET_SHARE:
        snprintf(out, n, "rate limited: %u of the %u probes an hour for "
                 "everyone are left and %s%s has used %u: one requester never "
                 "takes more than half of what is left; try again %s",
                 (unsigned)v->left, lim->probe_per_hour,
                 v->network ? "the network " : "", v->network ? who->network : who->key,
                 (unsigned)(v->used + 0.99), when);
        return;
    case PROBE_BUDGET_TOTAL:
        snprintf(out, n, "rate limited: the responder starts at most %u probes "
                 "an hour for web requesters (probe_per_hour) and they are used "
                 "up; try again %s", lim->probe_per_hour, when);
        return;
    case PROBE_BUDGET_LOCAL:
        snprintf(out, n, "rate limited: the local operator's own %u probes of "
                 "the hour (probe_per_hour) are used up; try again %s",
                 lim->probe_per_hour, when);
        return;
    case PROBE_BUDGET_OK:
    case PROBE_BUDGET_LIMITS:
        break;
    }
    snprintf(out, n, "allowed");
}
