/* test_router.c -- the router as the hub: stanza handlers in registration
 * order, completions (verdicts, undeliverable stanzas, reply flow) that
 * never run inside the call that caused them but on the next loop turn,
 * and the verification-dial limits. In-process, no network: the daemon
 * state has no test domains, so every outbound stream is refused at once,
 * which is exactly the case that used to answer synchronously. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "router.h"
#include "s2s_out.h"

/* What the callbacks saw, in order. */
static char seen[2048];

static void saw(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof seen - n, fmt, a, b);
}

static bool h_decline(void *ud, const rs_domain *dom, const char *remote,
                      xmlNodePtr stanza)
{
    (void)ud, (void)dom, (void)stanza;
    saw("decline(%s)%s;", remote, "");
    return false;
}

static bool h_take(void *ud, const rs_domain *dom, const char *remote,
                   xmlNodePtr stanza)
{
    (void)ud, (void)dom;
    saw("take(%s,%s);", remote, (const char *)stanza->name);
    return true;
}

static bool h_never(void *ud, const rs_domain *dom, const char *remote,
                    xmlNodePtr stanza)
{
    (void)ud, (void)dom, (void)stanza;
    saw("never(%s)%s;", remote, "");
    return true;
}

static rs_daemon *verdict_srv; /* for the verdict that posts another */

static void on_verdict(void *ud, unsigned requester, const char *local,
                       const char *remote, bool valid, const char *why)
{
    (void)ud;
    char head[64];
    snprintf(head, sizeof head, "verdict#%u:%s:", requester,
             valid ? "valid" : "invalid");
    saw("%s%s", head, remote);
    saw("(%s)%s;", why ? why : "-", "");
    (void)local;
    if (requester == 7 && verdict_srv) { /* a completion that asks again */
        router_verify_dialback(verdict_srv, "a.test", "again.example", "id",
                               "key", 8);
        saw("end#7%s%s;", "", "");
    }
}

static void on_undeliverable(void *ud, const char *local, const char *remote,
                             const char *why)
{
    (void)ud, (void)local;
    saw("undeliverable:%s(%s);", remote, why);
}

static void on_flow(void *ud, const char *remote, bool cut)
{
    (void)ud;
    saw("flow:%s:%s;", remote, cut ? "cut" : "drained");
}

/* A daemon state with a loop, limits and no test domains. */
static void server_init(rs_daemon *srv, uv_loop_t *loop, rs_config *cfg,
                        rs_domains *doms)
{
    memset(srv, 0, sizeof *srv);
    memset(cfg, 0, sizeof *cfg);
    memset(doms, 0, sizeof *doms);
    config_limits_default(&cfg->limits);
    srv->loop = loop;
    srv->cfg = cfg;
    srv->domains = doms;
    srv->router = router_new(srv);
    CHECK(srv->router != NULL);
    router_on_verdict(srv->router, on_verdict, NULL);
    router_on_undeliverable(srv->router, on_undeliverable, NULL);
    router_on_flow(srv->router, on_flow, NULL);
}

static void server_done(rs_daemon *srv, uv_loop_t *loop)
{
    router_close(srv->router);
    srv->router = NULL;
    uv_run(loop, UV_RUN_DEFAULT); /* closes the timer, frees the router */
}

static void test_handlers_in_order(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rs_daemon srv;
    rs_config cfg;
    rs_domains doms;
    server_init(&srv, &loop, &cfg, &doms);
    CHECK(router_add_handler(srv.router, h_decline, NULL) == 0);
    CHECK(router_add_handler(srv.router, h_take, NULL) == 0);
    CHECK(router_add_handler(srv.router, h_never, NULL) == 0);
    xmlNodePtr iq = xmlNewNode(NULL, BAD_CAST "iq");
    seen[0] = '\0';
    router_deliver_local(&srv, NULL, "peer.example", iq);
    CHECK_STR(seen, "decline(peer.example);take(peer.example,iq);");
    xmlFreeNode(iq);
    /* the table is bounded */
    int added = 3;
    while (router_add_handler(srv.router, h_never, NULL) == 0 && added < 100)
        added++;
    CHECK(added == 8);
    server_done(&srv, &loop);
    CHECK(uv_loop_close(&loop) == 0);
}

static void test_completions_from_the_loop(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rs_daemon srv;
    rs_config cfg;
    rs_domains doms;
    server_init(&srv, &loop, &cfg, &doms);
    seen[0] = '\0';
    /* no outbound stream can exist: the verdict is "invalid, why", and it
     * must not arrive while the asking handler is still on the stack */
    router_verify_dialback(&srv, "a.test", "claimed.example", "s1", "k", 5);
    CHECK_STR(seen, "");
    router_send(&srv, "a.test", "peer.example", xmlNewNode(NULL, BAD_CAST "message"));
    CHECK_STR(seen, "");
    /* what s2s_out reports, from inside any of its calls, waits too */
    CHECK(srv.out_events != NULL);
    srv.out_events->replies_flow(srv.out_events_ud, "slow.example", true);
    srv.out_events->verdict(srv.out_events_ud, 6, "a.test", "auth.example",
                            true, NULL);
    CHECK_STR(seen, "");
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_STR(seen, "verdict#5:invalid:claimed.example(no outbound stream "
                    "(limits or memory));undeliverable:peer.example(no stream "
                    "to the target (limits));flow:slow.example:cut;"
                    "verdict#6:valid:auth.example(-);");
    /* a completion that asks again: its answer comes after it returned */
    seen[0] = '\0';
    verdict_srv = &srv;
    srv.out_events->verdict(srv.out_events_ud, 7, "a.test", "x.example",
                            false, "because");
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_STR(seen, "verdict#7:invalid:x.example(because);end#7;verdict#8:"
                    "invalid:again.example(no outbound stream (limits or memory));");
    verdict_srv = NULL;
    /* after close, pending completions are dropped, not delivered */
    seen[0] = '\0';
    srv.out_events->replies_flow(srv.out_events_ud, "late.example", false);
    rs_router *r = srv.router;
    router_close(r);
    srv.router = NULL;
    CHECK(srv.out_events == NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_STR(seen, "");
    CHECK(uv_loop_close(&loop) == 0);
}

static void test_verify_dial_limits(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rs_daemon srv;
    rs_config cfg;
    rs_domains doms;
    server_init(&srv, &loop, &cfg, &doms);
    cfg.limits.verify_dials_per_domain = 2;
    cfg.limits.verify_dials_total = 3;
    CHECK(router_verify_dial_allowed(&srv, "a.test", "one.example"));
    CHECK(router_verify_dial_allowed(&srv, "a.test", "ONE.example") ||
          router_verify_dial_allowed(&srv, "a.test", "one.example"));
    CHECK(!router_verify_dial_allowed(&srv, "a.test", "one.example"));
    CHECK(router_verify_dial_allowed(&srv, "a.test", "two.example"));
    CHECK(!router_verify_dial_allowed(&srv, "a.test", "three.example"));
    CHECK(srv.stats.verify_dials_limited == 2);
    server_done(&srv, &loop);
    CHECK(uv_loop_close(&loop) == 0);
}

int main(void)
{
    test_handlers_in_order();
    test_completions_from_the_loop();
    test_verify_dial_limits();
    return check_done();
}
