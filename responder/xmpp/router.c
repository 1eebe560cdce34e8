/* router.c -- stanza handlers, outbound sending, and the completions of
 * what streams were asked, run from the loop (see router.h). */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ratelimit.h"
#include "s2s_out.h"
#include "xmlstream.h"

#define MAX_HANDLERS 8     /* stanza handlers (probe, services) */
#define VERIFY_SLOTS 256   /* claimed domains the verify-dial limit tracks */
#define VERIFY_PER_DOMAIN 0 /* ratelimit_hit kinds: one claimed domain */
#define VERIFY_TOTAL 1      /* all verification dials (key "*") */

/* Kinds of completion waiting to be delivered from the loop. */
typedef enum {
    DONE_VERDICT,       /* a dialback verification's answer */
    DONE_UNDELIVERABLE, /* stanzas could not be sent */
    DONE_FLOW           /* our stream to a remote drained or was cut */
} done_kind;

/* One completion, queued in order. */
typedef struct done_event {
    done_kind kind;
    unsigned requester;     /* DONE_VERDICT: the asking inbound stream */
    bool flag;              /* DONE_VERDICT: valid; DONE_FLOW: cut */
    s2s_out_reach reach;    /* DONE_UNDELIVERABLE: how far the stream got */
    char local[256];        /* our domain ("" for DONE_FLOW) */
    char remote[256];       /* their domain */
    char why[256];          /* reason, "" when none */
    struct done_event *next;
} done_event;

/* One registered stanza handler. */
typedef struct handler {
    router_stanza_fn fn;
    void *ud;
} handler;

struct rs_router {
    rs_daemon *srv;                 /* the daemon */
    handler handlers[MAX_HANDLERS]; /* in the order they are asked */
    size_t n_handlers;
    router_undeliverable_fn undeliverable; /* registered listeners */
    void *undeliverable_ud;
    router_verdict_fn verdict;
    void *verdict_ud;
    router_flow_fn flow;
    void *flow_ud;
    router_local_fn local;          /* our client sessions */
    void *local_ud;
    router_client_fn client;        /* what answers their stanzas */
    void *client_ud;
    rs_ratelimit_table *verify_limits;        /* verification dials per claimed
                                       domain and in all this minute */
    done_event *head, *tail;        /* completions not yet delivered */
    uv_timer_t timer;               /* delivers them on the next loop turn */
    bool closed;                    /* router_close was called */
};

/* ---- completions from the loop ------------------------------------------ */

static void deliver_one(rs_router *r, const done_event *e)
{
    const char *why = e->why[0] ? e->why : NULL;
    switch (e->kind) {
    case DONE_VERDICT:
        if (r->verdict)
            r->verdict(r->verdict_ud, e->requester, e->local, e->remote,
                       e->flag, why);
        break;
    case DONE_UNDELIVERABLE:
        if (r->undeliverable)
            r->undeliverable(r->undeliverable_ud, e->local, e->remote,
                             e->reach, why ? why : "");
        break;
    case DONE_FLOW:
        if (r->flow)
            r->flow(r->flow_ud, e->remote, e->flag);
        break;
    }
}

/* Deliver what is queued now; what these callbacks queue in turn waits for
 * the next loop turn. */
static void router_on_done_timer(uv_timer_t *t)
{
    rs_router *r = t->data;
    done_event *batch = r->head;
    r->head = r->tail = NULL;
    while (batch) {
        done_event *e = batch;
        batch = e->next;
        if (!r->closed)
            deliver_one(r, e);
        free(e);
    }
}

static void post(rs_router *r, done_kind kind, unsigned requester, bool flag,
                 s2s_out_reach reach, const char *local, const char *remote,
                 const char *why)
{
    if (r->closed)
        return;
    done_event *e = calloc(1, sizeof *e);
    if (!e) {
        /* the asking stream then ends by its own timeout */
        log_msg(RS_LOG_ERROR, "router: out of memory queueing a completion "
               "for %s", remote);
        return;
    }
    e->kind = kind;
    e->requester = requester;
    e->flag = flag;
    e->reach = reach;
    snprintf(e->local, sizeof e->local, "%s", local ? local : "");
    snprintf(e->remote, sizeof e->remote, "%s", remote);
    snprintf(e->why, sizeof e->why, "%s", why ? why : "");
    if (r->tail)
        r->tail->next = e;
    else
        r->head = e;
    r->tail = e;
    if (!uv_is_active((uv_handle_t *)&r->timer))
        uv_timer_start(&r->timer, router_on_done_timer, 0, 0);
}

/* What s2s_out tells us, turned into completions. */
static void out_verdict(void *ud, unsigned requester, const char *local,
                        const char *remote, bool valid, const char *why)
{
    post(ud, DONE_VERDICT, requester, valid, S2S_OUT_REACHED, local, remote, why);
}

static void out_undeliverable(void *ud, const char *local, const char *remote,
                              s2s_out_reach reach, const char *why)
{
    post(ud, DONE_UNDELIVERABLE, 0, false, reach, local, remote, why);
}

static void out_flow(void *ud, const char *remote, bool cut)
{
    post(ud, DONE_FLOW, 0, cut, S2S_OUT_REACHED, NULL, remote, NULL);
}

static const s2s_out_events out_events = {
    .verdict = out_verdict,
    .undeliverable = out_undeliverable,
    .replies_flow = out_flow,
};

/* ---- set-up --------------------------------------------------------------- */

rs_router *router_new(rs_daemon *srv)
{
    rs_router *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = srv;
    uv_timer_init(srv->loop, &r->timer);
    r->timer.data = r;
    s2s_out_set_events(srv, &out_events, r);
    return r;
}

static void router_on_timer_closed(uv_handle_t *h)
{
    rs_router *r = h->data;
    while (r->head) {
        done_event *e = r->head;
        r->head = e->next;
        free(e);
    }
    ratelimit_free(r->verify_limits);
    free(r);
}

void router_close(rs_router *r)
{
    if (!r)
        return;
    r->closed = true;
    s2s_out_set_events(r->srv, NULL, NULL);
    uv_close((uv_handle_t *)&r->timer, router_on_timer_closed);
}

int router_add_handler(rs_router *r, router_stanza_fn fn, void *ud)
{
    if (r->n_handlers == MAX_HANDLERS)
        return -1;
    r->handlers[r->n_handlers++] = (handler){fn, ud};
    return 0;
}

void router_on_undeliverable(rs_router *r, router_undeliverable_fn fn, void *ud)
{
    r->undeliverable = fn;
    r->undeliverable_ud = ud;
}

void router_on_verdict(rs_router *r, router_verdict_fn fn, void *ud)
{
    r->verdict = fn;
    r->verdict_ud = ud;
}

void router_on_flow(rs_router *r, router_flow_fn fn, void *ud)
{
    r->flow = fn;
    r->flow_ud = ud;
}

/* ---- stanzas ------------------------------------------------------------------ */

void router_deliver_local(rs_daemon *srv, const rs_domain *dom,
                          const char *remote, xmlNodePtr stanza)
{
    rs_router *r = srv->router;
    for (size_t i = 0; r && i < r->n_handlers; i++)
        if (r->handlers[i].fn(r->handlers[i].ud, dom, remote, stanza))
            return;
}

void router_on_local(rs_router *r, router_local_fn fn, void *ud)
{
    r->local = fn;
    r->local_ud = ud;
}

void router_on_client(rs_router *r, router_client_fn fn, void *ud)
{
    r->client = fn;
    r->client_ud = ud;
}

void router_deliver_client(rs_daemon *srv, const rs_domain *dom,
                           const char *client_key, xmlNodePtr stanza)
{
    rs_router *r = srv->router;
    if (r && r->client)
        r->client(r->client_ud, dom, client_key, stanza);
}

void router_send(rs_daemon *srv, const char *local, const char *remote,
                 xmlNodePtr el)
{
    if (domains_find(srv->domains, remote)) {
        if (srv->router && srv->router->local)
            srv->router->local(srv->router->local_ud, el);
        else
            xmlFreeNode(el);
        return;
    }
    size_t len = 0;
    char *xml = xmlstream_serialize(el, &len);
    xmlFreeNode(el);
    if (!xml) {
        log_msg(RS_LOG_ERROR, "router: out of memory serializing a stanza");
        return;
    }
    rs_s2s_out *o = s2s_out_get(srv, local, remote);
    if (!o || !s2s_out_send(o, xml, len)) {
        log_msg(RS_LOG_WARN, "router: %s from %s to %s; stanza dropped",
               o ? "queue full" : "no stream (limits or memory)", local, remote);
        if (srv->router)
            post(srv->router, DONE_UNDELIVERABLE, 0, false,
                 S2S_OUT_UNREACHED_LOCAL, local, remote, o ? "our queue to the target is full"
                   : "no stream to the target (limits)");
    }
    free(xml);
}

/* ---- dialback verification ----------------------------------------------------- */

/* Count one verification dial of kind for key this minute; false past
 * limit, logged once a minute. */
static bool verify_count_one(rs_ratelimit_table *t, const char *key, unsigned kind,
                             unsigned limit, const char *what)
{
    ratelimit_verdict v = ratelimit_hit(t, key, kind, limit, (int64_t)time(NULL), 60);
    if (v.first_refusal)
        log_msg(RS_LOG_WARN, "dialback event=verify-limited %s: more than %u "
               "verification dials this minute; refusing the rest", what, limit);
    return v.allowed;
}

bool router_verify_dial_allowed(rs_daemon *srv, const char *local,
                                const char *remote)
{
    if (s2s_out_find(srv, local, remote))
        return true; /* rides the stream we have: no new dial */
    rs_router *r = srv->router;
    if (!r || (!r->verify_limits && !(r->verify_limits = ratelimit_new(VERIFY_SLOTS))))
        return false;
    const config_limits *lim = &srv->cfg->limits;
    char what[300];
    snprintf(what, sizeof what, "remote=%s", remote);
    /* the total only counts dials the per-domain limit let through */
    bool ok = verify_count_one(r->verify_limits, remote, VERIFY_PER_DOMAIN,
                               lim->verify_dials_per_domain, what) &&
              verify_count_one(r->verify_limits, "*", VERIFY_TOTAL,
                               lim->verify_dials_total, "in all");
    if (!ok)
        srv->stats.verify_dials_limited++;
    return ok;
}

void router_verify_dialback(rs_daemon *srv, const char *local,
                            const char *remote, const char *stream_id,
                            const char *key, unsigned requester_id)
{
    rs_s2s_out *o = s2s_out_get(srv, local, remote);
    if (o)
        s2s_out_verify(o, stream_id, key, requester_id);
    else if (srv->router)
        post(srv->router, DONE_VERDICT, requester_id, false, S2S_OUT_REACHED,
             local, remote, "no outbound stream (limits or memory)");
}
