/* probe.h -- active probing: ping a target server from every test domain
 * (limits.probe_concurrency in flight) and collect what happened on both
 * legs; each domain's result is pong, error, refused, timeout or unknown
 * (the target was never reached: xmpp-responder(8), "probe"). Probes are
 * charged to budgets (probe_budget.h); their streams leave outcomes in the
 * report like any other, so the target's matrix fills in too. */
#ifndef RS_PROBE_H
#define RS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "daemon.h"
#include "probe_budget.h"
#include "s2s_out.h"

#define PROBE_WAIT_FACTOR 4   /* a row waits this many times the slowest answer */
#define PROBE_WAIT_FLOOR_S 5  /* ... but at least this long */

/* Result of one test domain in a probe. */
typedef enum {
    PROBE_PENDING,  /* not sent or no answer yet */
    PROBE_PONG,     /* iq result received */
    PROBE_ERROR,    /* iq error received */
    PROBE_REFUSED,  /* the target refused a stream */
    PROBE_TIMEOUT,  /* no answer in time */
    PROBE_UNKNOWN   /* the target was not reached: network or our side */
} probe_result;

typedef struct rs_probe rs_probe;

/* Progress and end notifications to whoever started the probe (the control
 * socket client); done == total when finished, then the probe is freed
 * after the call. */
typedef void (*probe_progress_cb)(void *arg, rs_probe *p, size_t done,
                                  size_t total, size_t just_finished);

/* Why a probe did not start. */
typedef enum {
    PROBE_REFUSED_INVALID,     /* not a domain we may probe (a client error) */
    PROBE_REFUSED_RUNNING,     /* a probe of it runs: its report shows it */
    PROBE_REFUSED_LIMITED,     /* a budget is used up: retry_after says when */
    PROBE_REFUSED_UNAVAILABLE  /* stopping, no test domains, no memory */
} probe_refusal_kind;

typedef struct probe_refusal {
    probe_refusal_kind kind;
    probe_budget_limit limit; /* LIMITED: which budget */
    unsigned retry_after;     /* LIMITED: seconds until the requester may
                                 start it (if nobody else takes a token) */
    char text[512];           /* one sentence: why, and when to try again */
} probe_refusal;

/* Start probing target (a domain name, validated here) for who, charged to
 * its budgets. NULL with why filled when refused. cb may be NULL (web). */
rs_probe *probe_start(rs_daemon *srv, const char *target,
                      const probe_budget_requester *who, probe_progress_cb cb,
                      void *arg, probe_refusal *why);

/* Seconds until who may start its next probe (of a target not probed
 * lately), if nobody else takes a token meanwhile; 0: now. */
unsigned probe_next_wait(const rs_daemon *srv, const probe_budget_requester *who);

/* Detach the callback (the client went away); the probe runs to its end. */
void probe_detach(rs_probe *p);

/* The running probe for target, or NULL. */
rs_probe *probe_find(rs_daemon *srv, const char *target);

/* Progress of p: finished domains and total. */
void probe_counts(const rs_probe *p, size_t *done, size_t *total);

/* Domain i of p (config order): its name, result and detail (error
 * condition, bounce reason), the detail may contain network text. */
const char *probe_domain(const rs_probe *p, size_t i, probe_result *result,
                         const char **detail);

const char *probe_result_name(probe_result r); /* "pong", "refused", ... */

/* true when no stream of a finished p reached the target, with one
 * sentence in why saying why (our resolver did not answer, the name does
 * not exist, nothing answered at its addresses, ...). */
bool probe_unreached(const rs_probe *p, char *why, size_t n);

/* The target of p (lower case). */
const char *probe_target(const rs_probe *p);

/* An upper bound of p's run time in seconds, from the limits at its start
 * (rounds of probe_concurrency pings, probe_timeout each). */
unsigned probe_max_seconds(const rs_probe *p);

/* true when p ended early because the responder is stopping (its pending
 * domains then read PROBE_TIMEOUT with a detail saying so). */
bool probe_stopped(const rs_probe *p);

/* An inbound stanza from remote to dom: true when it answers one of our
 * probe pings (it is consumed then). Called by the router first. */
bool probe_on_stanza(rs_daemon *srv, const rs_domain *dom, const char *remote,
                     xmlNodePtr stanza);

/* A stanza we queued from local to remote could not be delivered. */
void probe_on_undeliverable(rs_daemon *srv, const char *local,
                            const char *remote, s2s_out_reach reach,
                            const char *why);

/* Stop every probe (shutdown): callbacks get a final call; the budgets are
 * released. */
void probe_stop_all(rs_daemon *srv);

#endif
