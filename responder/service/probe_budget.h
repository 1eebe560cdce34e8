/* probe_budget.h -- who may start a probe now, and when the next may start:
 * one probe per target per interval, and token buckets refilled over the
 * hour per requester, per network and in all (shared so that nobody takes
 * more than about half of what is left), the local operator apart. The
 * rules: xmpp-responder.conf(5), "Probes"; why: README.md. Everything runs
 * on the loop's thread; times are uv_now milliseconds. */
#ifndef RS_PROBE_BUDGET_H
#define RS_PROBE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "config.h"
#include "netaddr.h"

#define PROBE_BUDGET_KEY_MAX RS_CIDR_TEXT_MAX /* a requester's key */

/* Who asks: the budgets a probe is charged to. */
typedef struct probe_budget_requester {
    bool local;                          /* the operator (control socket) */
    char key[PROBE_BUDGET_KEY_MAX];      /* "203.0.113.7", "2001:db8:1:2::/64";
                                            "local" for the operator */
    char network[PROBE_BUDGET_KEY_MAX];  /* "203.0.113.0/24", "2001:db8:1::/48";
                                            "" for the operator */
} probe_budget_requester;

/* What decided, as it is named in messages and /metrics. */
typedef enum {
    PROBE_BUDGET_OK,         /* allowed */
    PROBE_BUDGET_TARGET,     /* the target was probed too recently */
    PROBE_BUDGET_REQUESTER,  /* the requester's own budget is used up */
    PROBE_BUDGET_NETWORK,    /* its network's budget is used up */
    PROBE_BUDGET_SHARE,      /* the total holds no more than the requester
                                or its network has used */
    PROBE_BUDGET_TOTAL,      /* the total is used up */
    PROBE_BUDGET_LOCAL,      /* the local operator's budget is used up */
    PROBE_BUDGET_LIMITS      /* how many kinds (an array size) */
} probe_budget_limit;

/* The answer for one requester and target. */
typedef struct probe_budget_verdict {
    probe_budget_limit limit; /* the budget that waits longest, or OK */
    unsigned wait_s;     /* seconds until this probe could start, if nobody
                            else takes a token meanwhile; 0 when allowed */
    double used;         /* what limit's owner has used (tokens), for the
                            message: the requester's or the network's deficit */
    bool network;        /* used is the network's, not the requester's */
    double left;         /* tokens the total holds now */
    uint64_t last_ago_s; /* TARGET: seconds since the target's last probe */
} probe_budget_verdict;

typedef struct rs_probe_budget rs_probe_budget;

/* Empty budgets (everyone full). NULL without memory. */
rs_probe_budget *probe_budget_new(void);

void probe_budget_free(rs_probe_budget *b);

/* The requester for a web client at sa (its budgets' keys). */
void probe_budget_web_requester(const struct sockaddr *sa, unsigned ipv6_prefix,
                                probe_budget_requester *out);

/* The local operator. */
void probe_budget_local_requester(probe_budget_requester *out);

/* May who start a probe of target (normalised) at now_ms? target NULL:
 * any target not probed lately (when may who start its next probe). */
probe_budget_verdict probe_budget_check(const rs_probe_budget *b,
                                        const config_limits *lim, const char *target,
                                        const probe_budget_requester *who,
                                        uint64_t now_ms);

/* A probe of target by who starts at now_ms: take its tokens. */
void probe_budget_charge(rs_probe_budget *b, const config_limits *lim,
                         const char *target, const probe_budget_requester *who,
                         uint64_t now_ms);

/* Why v refused who a probe of target and when it may start, as one
 * sentence for the form, the JSON answer and the command: "rate limited:
 * ...; try again in N s (at HH:MM:SS UTC)". wall_now: unix seconds. */
void probe_budget_explain(const probe_budget_verdict *v, const config_limits *lim,
                          const probe_budget_requester *who, const char *target,
                          int64_t wall_now, char *out, size_t n);

/* "in N s (at HH:MM:SS UTC)" for a wait of wait_s from wall_now; "now" for
 * none. */
void probe_budget_when(unsigned wait_s, int64_t wall_now, char *out, size_t n);

/* "target", "requester", ...: limit's name in /metrics and logs. */
const char *probe_budget_limit_name(probe_budget_limit limit);

#endif
