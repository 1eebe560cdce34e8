/* router.c -- inbound stanzas to services, outbound ones to s2s_out. */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
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

/* Verification dials this minute: per claimed remote domain in a bounded
 * table (a full table reuses the stalest slot; the total still holds), and
 * in all. One server per process, so the state lives here. */
#define VERIFY_SLOTS 256

typedef struct verify_count {
    char remote[256];   /* claimed domain, "" = free */
    uint64_t window;    /* minute (uv_now / 60000) the count is for */
    unsigned count;     /* dials asked for in that minute */
} verify_count;

static verify_count verify_by_remote[VERIFY_SLOTS];
static verify_count verify_total;

/* The slot of remote; when absent, a free slot or else the stalest one is
 * taken over. */
static verify_count *verify_slot(const char *remote, uint64_t now)
{
    verify_count *reuse = &verify_by_remote[0];
    for (size_t i = 0; i < VERIFY_SLOTS; i++) {
        verify_count *v = &verify_by_remote[i];
        if (!v->remote[0]) {
            if (reuse->remote[0])
                reuse = v;
            continue;
        }
        if (strcasecmp(v->remote, remote) == 0)
            return v;
        if (reuse->remote[0] && v->window < reuse->window)
            reuse = v;
    }
    snprintf(reuse->remote, sizeof reuse->remote, "%s", remote);
    reuse->window = now;
    reuse->count = 0;
    return reuse;
}

/* Count one more in v for minute now; false past limit (logged once). */
static bool verify_count_one(verify_count *v, uint64_t now, unsigned limit,
                             const char *what)
{
    if (v->window != now) {
        v->window = now;
        v->count = 0;
    }
    if (v->count < limit) {
        v->count++;
        return true;
    }
    if (v->count++ == limit)
        rs_log(RS_LOG_WARN, "dialback event=verify-limited %s: more than %u "
               "verification dials this minute; refusing the rest", what, limit);
    return false;
}

bool router_verify_dial_allowed(rs_server *srv, const char *local,
                                const char *remote)
{
    if (s2s_out_find(srv, local, remote))
        return true; /* rides the stream we have: no new dial */
    const rs_limits *lim = &srv->cfg->limits;
    uint64_t now = uv_now(srv->loop) / 60000;
    char what[300];
    snprintf(what, sizeof what, "remote=%s", remote);
    verify_count *v = verify_slot(remote, now);
    /* the total only counts dials the per-domain limit let through */
    bool ok = verify_count_one(v, now, lim->verify_dials_per_domain, what) &&
              verify_count_one(&verify_total, now, lim->verify_dials_total,
                               "in all");
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
