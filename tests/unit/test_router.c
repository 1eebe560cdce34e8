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
                             s2s_out_reach reach, const char *why)
{
    (void)ud, (void)local;
    saw(reach == S2S_OUT_REACHED ? "undeliverable:%s(%s);"
                                 : "undeliverable:%s:unreached(%s);", remote, why);
}

static void on_flow(void *ud, const char *remote, bool cut)
{
    (void)ud;
    saw("flow:%s:%s;", remote, cut ? "cut" : "drained");
}

/* A daemon state with a loop, limits and no test domains, and a router
 * whose listeners record into seen. */
typedef struct fixture {
    uv_loop_t loop;
    rs_daemon srv;
    rs_config cfg;
    rs_domains doms;
} fixture;

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    uv_loop_init(&f->loop);
    config_limits_default(&f->cfg.limits);
    f->srv.loop = &f->loop;
    f->srv.cfg = &f->cfg;
    f->srv.domains = &f->doms;
    f->srv.router = router_new(&f->srv);
    CHECK(f->srv.router != NULL);
    router_on_verdict(f->srv.router, on_verdict, NULL);
    router_on_undeliverable(f->srv.router, on_undeliverable, NULL);
    router_on_flow(f->srv.router, on_flow, NULL);
}

/* Close the router (unless the test did), let the loop free it, and check
 * nothing is left on the loop. */
static void fixture_done(fixture *f)
{
    router_close(f->srv.router);
    f->srv.router = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&f->loop) == 0);
}

static void test_handlers_in_order(void)
{
    fixture f;
    fixture_init(&f);
    rs_daemon *srv = &f.srv;
    CHECK(router_add_handler(srv->router, h_decline, NULL) == 0);
    CHECK(router_add_handler(srv->router, h_take, NULL) == 0);
    CHECK(router_add_handler(srv->router, h_never, NULL) == 0);
    xmlNodePtr iq = xmlNewNode(NULL, BAD_CAST "iq");
    seen[0] = '\0';
    router_deliver_local(srv, NULL, "peer.example", iq);
    CHECK_STR(seen, "decline(peer.example);take(peer.example,iq);");
    xmlFreeNode(iq);
    /* the table is bounded */
    int added = 3;
    while (router_add_handler(srv->router, h_never, NULL) == 0 && added < 100)
        added++;
    CHECK(added == 8);
    fixture_done(&f);
}

static void test_completions_from_the_loop(void)
{
    fixture f;
    fixture_init(&f);
    rs_daemon *srv = &f.srv;
    seen[0] = '\0';
    /* no outbound stream can exist: the verdict is "invalid, why", and it
     * must not arrive while the asking handler is still on the stack */
    router_verify_dialback(srv, "a.test", "claimed.example", "s1", "k", 5);
    CHECK_STR(seen, "");
    router_send(srv, "a.test", "peer.example", xmlNewNode(NULL, BAD_CAST "message"));
    CHECK_STR(seen, "");
    /* what s2s_out reports, from inside any of its calls, waits too */
    CHECK(srv->out_events != NULL);
    srv->out_events->replies_flow(srv->out_events_ud, "slow.example", true);
    srv->out_events->verdict(srv->out_events_ud, 6, "a.test", "auth.example",
                            true, NULL);
    CHECK_STR(seen, "");
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK_STR(seen, "verdict#5:invalid:claimed.example(no outbound stream "
                    "(limits or memory));undeliverable:peer.example:unreached(no "
                    "stream to the target (limits));flow:slow.example:cut;"
                    "verdict#6:valid:auth.example(-);");
    /* a completion that asks again: its answer comes after it returned */
    seen[0] = '\0';
    verdict_srv = srv;
    srv->out_events->verdict(srv->out_events_ud, 7, "a.test", "x.example",
                            false, "because");
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK_STR(seen, "verdict#7:invalid:x.example(because);end#7;verdict#8:"
                    "invalid:again.example(no outbound stream (limits or memory));");
    verdict_srv = NULL;
    /* after close, pending completions are dropped, not delivered */
    seen[0] = '\0';
    srv->out_events->replies_flow(srv->out_events_ud, "late.example", false);
    router_close(srv->router);
    srv->router = NULL;
    CHECK(srv->out_events == NULL);
    fixture_done(&f);
    CHECK_STR(seen, "");
}

static void test_verify_dial_limits(void)
{
    fixture f;
    fixture_init(&f);
    rs_daemon *srv = &f.srv;
    f.cfg.limits.verify_dials_per_domain = 2;
    f.cfg.limits.verify_dials_total = 3;
    CHECK(router_verify_dial_allowed(srv, "a.test", "one.example"));
    CHECK(router_verify_dial_allowed(srv, "a.test", "ONE.example") ||
          router_verify_dial_allowed(srv, "a.test", "one.example"));
    CHECK(!router_verify_dial_allowed(srv, "a.test", "one.example"));
    CHECK(router_verify_dial_allowed(srv, "a.test", "two.example"));
    CHECK(!router_verify_dial_allowed(srv, "a.test", "three.example"));
    CHECK(srv->stats.verify_dials_limited == 2);
    fixture_done(&f);
}

int main(void)
{
    test_handlers_in_order();
    test_completions_from_the_loop();
    test_verify_dial_limits();
    return check_done();
}
