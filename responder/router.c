/* router.c -- inbound stanzas to services, outbound ones to s2s_out. */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "ratelimit.h"
#include "probe.h"
#include "s2s_in.h"
#include "s2s_out.h"
#include "services.h"
#include "xmlstream.h"

void router_deliver_local(rs_server *srv, const rs_domain *dom,
                          const char *remote, xmlNodePtr stanza)
{
    if (probe_on_stanza(srv, dom, remote, stanza))
        return;
    services_handle(srv, dom, remote, stanza);
}

void router_send(rs_server *srv, const char *local, const char *remote,
                 xmlNodePtr el)
{
    size_t len = 0;
    char *xml = xs_serialize(el, &len);
    xmlFreeNode(el);
    if (!xml) {
        rs_log(RS_LOG_ERROR, "router: out of memory serializing a stanza");
        return;
    }
    s2s_out *o = s2s_out_get(srv, local, remote);
    if (!o || !s2s_out_send(o, xml, len)) {
        rs_log(RS_LOG_WARN, "router: %s from %s to %s; stanza dropped",
               o ? "queue full" : "no stream (limits or memory)", local, remote);
        probe_on_undeliverable(srv, local, remote,
                               o ? "our queue to the target is full"
                                 : "no stream to the target (limits)");
    }
    free(xml);
}

#define VERIFY_SLOTS 256 /* claimed domains the verify-dial limit tracks */
#define VERIFY_PER_DOMAIN 0 /* rl_hit kinds: one claimed domain */
#define VERIFY_TOTAL 1      /* all verification dials (key "*") */

/* Count one verification dial of kind for key this minute; false past
 * limit, logged once a minute. */
static bool verify_count_one(rl_table *t, const char *key, unsigned kind,
                             unsigned limit, const char *what)
{
    rl_verdict v = rl_hit(t, key, kind, limit, (int64_t)time(NULL), 60);
    if (v.first_refusal)
        rs_log(RS_LOG_WARN, "dialback event=verify-limited %s: more than %u "
               "verification dials this minute; refusing the rest", what, limit);
    return v.allowed;
}

bool router_verify_dial_allowed(rs_server *srv, const char *local,
                                const char *remote)
{
    if (s2s_out_find(srv, local, remote))
        return true; /* rides the stream we have: no new dial */
    if (!srv->verify_limits && !(srv->verify_limits = rl_new(VERIFY_SLOTS)))
        return false;
    const rs_limits *lim = &srv->cfg->limits;
    char what[300];
    snprintf(what, sizeof what, "remote=%s", remote);
    /* the total only counts dials the per-domain limit let through */
    bool ok = verify_count_one(srv->verify_limits, remote, VERIFY_PER_DOMAIN,
                               lim->verify_dials_per_domain, what) &&
              verify_count_one(srv->verify_limits, "*", VERIFY_TOTAL,
                               lim->verify_dials_total, "in all");
    if (!ok)
        srv->stats.verify_dials_limited++;
    return ok;
}

void router_verify_dialback(rs_server *srv, const char *local,
                            const char *remote, const char *stream_id,
                            const char *key, unsigned requester_id)
{
    s2s_out *o = s2s_out_get(srv, local, remote);
    if (o)
        s2s_out_verify(o, stream_id, key, requester_id);
    else
        s2s_in_dialback_verdict(srv, requester_id, local, remote, false,
                                "no outbound stream (limits or memory)");
}
