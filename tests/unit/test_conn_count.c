/* test_conn_count.c -- the stream pools' indexes (conn_count.c,
 * conn_ids.c): which stream eviction closes in each pool (servers: the
 * oldest unauthenticated of the busiest address; clients: the oldest
 * unbound, then the longest-idle bound session), per-address counts, conns
 * by id. The rules are checked on hand-made cases, then against a walk over
 * all streams (a bounded random run over thousands of addresses per pool),
 * then through the real admission code with real conns on a loop, both
 * pools at once. Prints the time per victim choice, walk against index,
 * with 50,000 streams from 5,000 addresses (a figure, not an assertion). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "admission.h"
#include "check.h"
#include "conn.h"
#include "conn_internal.h"
#include "daemon.h"

static rs_daemon srv;
static unsigned next_id;
#define SERVERS (srv.pools[RS_POOL_SERVERS])
#define CLIENTS (srv.pools[RS_POOL_CLIENTS])

/* ---- streams by hand: counted as conn.c counts them, no socket ---------- */

/* What conn_set_authenticated needs besides the counts: the limits it
 * raises, and a parser to raise them on. */
static rs_config hand_cfg;

static void authenticate(rs_conn *c)
{
    if (!srv.cfg) {
        config_limits_default(&hand_cfg.limits);
        srv.cfg = &hand_cfg;
    }
    if (!c->xs && !(c->xs = xmlstream_new(NULL, NULL, NULL)))
        abort();
    conn_set_authenticated(c);
}

/* A stream counted by hand goes. */
static void drop(rs_conn *c)
{
    xmlstream_free(c->xs);
    free(c);
}

static rs_conn *open_from(const char *key)
{
    rs_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->srv = &srv;
    c->dir = CONN_IN;
    c->id = ++next_id;
    snprintf(c->peer_key, sizeof c->peer_key, "%s", key);
    CHECK(conn__count_in(c) == 0);
    return c;
}

/* A client stream (c2s) from key: counted in the client pool. */
static rs_conn *client_from(const char *key)
{
    rs_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->srv = &srv;
    c->dir = CONN_IN;
    c->client = true;
    c->id = ++next_id;
    snprintf(c->peer_key, sizeof c->peer_key, "%s", key);
    CHECK(conn__count_in(c) == 0);
    return c;
}

/* As conn_close does: closing, then out of the counts. */
static void close_conn(rs_conn *c)
{
    c->closing = true;
    conn__uncount_in(c);
}


static void test_rule(void)
{
    rs_conn *a1 = open_from("10.0.0.1"), *a2 = open_from("10.0.0.1"),
            *a3 = open_from("10.0.0.1");
    rs_conn *b4 = open_from("10.0.0.2"), *b5 = open_from("10.0.0.2");
    rs_conn *c6 = open_from("2001:db8:1:2::/64"), *c7 = open_from("2001:db8:1:2::/64");
    CHECK(SERVERS.live_in == 7 && SERVERS.unsettled == 7);
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "10.0.0.1") == 3);
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "10.0.0.9") == 0);
    /* the most streams, then the oldest */
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == a1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, a1) == a2);   /* never the one excepted */
    authenticate(a1);                    /* never authenticated */
    CHECK(SERVERS.unsettled == 6 && conn_streams_from(&srv, RS_POOL_SERVERS, "10.0.0.1") == 3);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == a2); /* a's count stays 3 */
    authenticate(a2);
    authenticate(a3);
    authenticate(a3);                    /* twice: counted once */
    CHECK(SERVERS.unsettled == 4 && SERVERS.live_in == 7);
    /* a holds the most but nothing evictable: b and c tie at 2, b is older */
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == b4);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, b4) == b5);   /* b still counts 2 */
    close_conn(b5);                                /* never closing ones */
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "10.0.0.2") == 1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == c6); /* c now holds more */
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, c6) == c7);
    close_conn(c7);
    close_conn(c7);                                /* idempotent */
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "2001:db8:1:2::/64") == 1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == b4); /* 1 and 1: b4 older */
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, b4) == c6);
    close_conn(b4);
    close_conn(c6);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == NULL);
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "10.0.0.2") == 0);
    /* ids out of order on one address: still the lowest first */
    next_id += 100;
    rs_conn *late = open_from("10.0.0.5");
    rs_conn *early = calloc(1, sizeof *early);
    if (!early)
        abort();
    *early = (rs_conn){.srv = &srv, .dir = CONN_IN, .id = late->id - 100};
    snprintf(early->peer_key, sizeof early->peer_key, "10.0.0.5");
    CHECK(conn__count_in(early) == 0);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == early);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, early) == late);
    rs_conn *all[] = {a1, a2, a3, b4, b5, c6, c7, late, early};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        close_conn(all[i]);
        drop(all[i]);
    }
    CHECK(SERVERS.live_in == 0 && SERVERS.unsettled == 0);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == NULL);
}

/* ---- random changes in each pool against the walk ---------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

#define R_ADDRS 3000  /* addresses */
#define R_SLOTS 6000  /* streams open at most */
#define R_OPS 40000   /* changes */
#define R_CHECK 16    /* changes between comparisons */

/* The rule, by walking every stream (what admission.c did for servers):
 * in pool, of the first rank (servers not authenticated, clients not
 * bound) the stream of the address with the most live inbound streams,
 * then the lowest id; for clients, when that rank is empty, the bound
 * one of the address with the most, then the least recent activity
 * (act[i], kept by the test). The counts are the test's own. */
static rs_conn *walk_victim(rs_conn **all, const unsigned *addr_of, const unsigned *count,
                           const uint64_t *act, size_t n, const rs_conn *except)
{
    rs_conn *victim[2] = {NULL, NULL};  /* unsettled, bound */
    unsigned most[2] = {0, 0};
    for (int bound = 0; bound < 2; bound++) {
        uint64_t best = 0;
        for (size_t i = 0; i < n; i++) {
            rs_conn *c = all[i];
            if (!c || c->dir != CONN_IN || c->closing || c == except ||
                (c->client ? c->bound != bound : c->authenticated || bound))
                continue;
            unsigned k = count[addr_of[i]];
            uint64_t key = bound ? act[i] : c->id;
            if (!victim[bound] || k > most[bound] || (k == most[bound] && key < best)) {
                victim[bound] = c;
                most[bound] = k;
                best = key;
            }
        }
    }
    /* the address holding the most, unsettled streams before sessions */
    return victim[1] && most[1] > most[0] ? victim[1] : victim[0];
}

/* Random opens, authentications (servers) or binds and stanzas (clients),
 * and closes in pool, against the walk. */
static void test_random(daemon_pool_kind pool)
{
    bool clients = pool == RS_POOL_CLIENTS;
    rs_conn **all = calloc(R_SLOTS, sizeof *all);
    unsigned *addr_of = calloc(R_SLOTS, sizeof *addr_of);
    unsigned *count = calloc(R_ADDRS, sizeof *count);
    uint64_t *act = calloc(R_SLOTS, sizeof *act), clock = 0;
    if (!all || !addr_of || !count || !act)
        abort();
    unsigned compared = 0, mismatches = 0, wrong_counts = 0;
    for (unsigned op = 0; op < R_OPS; op++) {
        size_t i = rnd(R_SLOTS);
        char key[64];
        if (!all[i]) {
            /* skewed: a few addresses hold many streams, most a few */
            addr_of[i] = rnd(4) ? rnd(R_ADDRS) : rnd(20);
            snprintf(key, sizeof key, "192.0.%u.%u", addr_of[i] / 256, addr_of[i] % 256);
            all[i] = clients ? client_from(key) : open_from(key);
            count[addr_of[i]]++;
        } else if (!clients && !all[i]->authenticated && rnd(3) == 0) {
            authenticate(all[i]);
        } else if (clients && !all[i]->bound && rnd(2)) {
            conn_set_bound(all[i]);
            act[i] = ++clock;
        } else if (clients && all[i]->bound && rnd(3)) {
            conn_set_active(all[i]);
            act[i] = ++clock;
        } else {
            close_conn(all[i]);
            drop(all[i]);
            all[i] = NULL;
            count[addr_of[i]]--;
        }
        snprintf(key, sizeof key, "192.0.%u.%u", addr_of[i] / 256, addr_of[i] % 256);
        wrong_counts += conn_streams_from(&srv, pool, key) != count[addr_of[i]];
        if (op % R_CHECK)
            continue;
        rs_conn *except = all[rnd(R_SLOTS)];
        if (rnd(2)) /* the likely one: the victim itself asks */
            except = walk_victim(all, addr_of, count, act, R_SLOTS, NULL);
        rs_conn *want = walk_victim(all, addr_of, count, act, R_SLOTS, except);
        rs_conn *got = conn_eviction_victim(&srv, pool, except);
        compared++;
        if (got != want && mismatches++ < 5)
            fprintf(stderr, "op %u: victim id %u, the walk says %u\n", op,
                    got ? got->id : 0, want ? want->id : 0);
    }
    CHECK(mismatches == 0);
    CHECK(wrong_counts == 0);
    printf("random %s: %u comparisons with the walk over %u changes, %u differ\n",
           clients ? "clients" : "servers", compared, R_OPS, mismatches);
    unsigned live = 0, unsettled = 0;
    for (size_t i = 0; i < R_SLOTS; i++)
        if (all[i]) {
            live++;
            unsettled += clients ? !all[i]->bound : !all[i]->authenticated;
            close_conn(all[i]);
            drop(all[i]);
        }
    CHECK(live > unsettled && unsettled > 0);
    CHECK(srv.pools[pool].live_in == 0 && srv.pools[pool].unsettled == 0);
    CHECK(conn_eviction_victim(&srv, pool, NULL) == NULL);
    free(all);
    free(addr_of);
    free(count);
    free(act);
}

/* ---- the client pool: unbound first, then the longest idle ------------ */

static void test_client_rule(void)
{
    rs_conn *a1 = client_from("10.1.0.1"), *a2 = client_from("10.1.0.1"),
            *a3 = client_from("10.1.0.1");
    rs_conn *b4 = client_from("10.1.0.2"), *b5 = client_from("10.1.0.2");
    rs_conn *s6 = open_from("10.1.0.1");            /* a server stream */
    /* the pools count apart */
    CHECK(CLIENTS.live_in == 5 && CLIENTS.unsettled == 5);
    CHECK(SERVERS.live_in == 1 && SERVERS.unsettled == 1);
    CHECK(conn_streams_from(&srv, RS_POOL_CLIENTS, "10.1.0.1") == 3);
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "10.1.0.1") == 1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == s6);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a1);
    /* authenticated, a client stays unsettled: the account is public */
    authenticate(a1);
    CHECK(CLIENTS.unsettled == 5);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a1);
    /* bound, it goes after its address's unbound ones */
    conn_set_bound(a1);
    conn_set_bound(a1);                             /* twice: once */
    CHECK(CLIENTS.unsettled == 4 && CLIENTS.live_in == 5);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a2);
    conn_set_bound(a2);
    conn_set_bound(a3);
    /* the address holding the most goes first: a's sessions before b's
     * logins (a crowd's sessions before an honest client logging in) */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, a1) == a2);
    close_conn(a3);                                 /* a and b tie at 2 */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == b4); /* unbound first */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, b4) == b5);
    drop(a3);
    a3 = client_from("10.1.0.1");
    conn_set_bound(a3);
    conn_set_bound(b4);
    conn_set_bound(b5);
    CHECK(CLIENTS.unsettled == 0);
    /* all bound: the longest idle of the address holding the most (a) */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a1);
    conn_set_active(a1);                            /* a stanza */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a2);
    conn_set_active(a2);
    conn_set_active(a3);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, a1) == a2);
    close_conn(a1);                                 /* a and b tie at 2 */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == b4); /* b4 idle longer */
    conn_set_active(b4);
    conn_set_active(b5);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a2);
    /* a newcomer, unbound, alone at its address, goes after the sessions
     * of addresses holding more; never for itself */
    rs_conn *c7 = client_from("10.1.0.3");
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == a2);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, c7) == a2);
    close_conn(a2);
    close_conn(b4);                                 /* all at 1: unbound first */
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == c7);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, c7) == a3);
    /* binding never touches the server pool, nor authenticating a server
     * the client pool */
    authenticate(s6);
    CHECK(SERVERS.unsettled == 0 && CLIENTS.unsettled == 1);
    CHECK(conn_eviction_victim(&srv, RS_POOL_SERVERS, NULL) == NULL);
    rs_conn *all[] = {a1, a2, a3, b4, b5, s6, c7};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        close_conn(all[i]);
        drop(all[i]);
    }
    CHECK(CLIENTS.live_in == 0 && CLIENTS.unsettled == 0 && SERVERS.live_in == 0);
    CHECK(conn_eviction_victim(&srv, RS_POOL_CLIENTS, NULL) == NULL);
}

/* ---- the figure: one choice among 50,000 streams from 5,000 addresses -- */

#define F_STREAMS 50000
#define F_ADDRS 5000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The walk admission.c made before: every live conn, its address's count. */
static rs_conn *old_walk(rs_conn *list, const rs_conn *except)
{
    rs_conn *victim = NULL;
    unsigned most = 0;
    for (rs_conn *c = list; c; c = c->next) {
        if (c->dir != CONN_IN || c->closing || c->authenticated || c == except)
            continue;
        unsigned n = conn_streams_from(&srv, RS_POOL_SERVERS, c->peer_key);
        if (!victim || n > most || (n == most && c->id < victim->id)) {
            victim = c;
            most = n;
        }
    }
    return victim;
}

static void figure(void)
{
    rs_conn *list = NULL;
    for (unsigned i = 0; i < F_STREAMS; i++) {
        char key[64];
        unsigned a = rnd(F_ADDRS);
        snprintf(key, sizeof key, "198.51.%u.%u", a / 256, a % 256);
        rs_conn *c = open_from(key);
        if (rnd(2)) {
            /* the counts only (no parser for 50,000 streams to raise) */
            conn__count_authenticated(c);
            c->authenticated = true;
        }
        c->next = list;
        list = c;
    }
    unsigned walks = 50, picks = 200000, same = 0;
    double t0 = now_s();
    for (unsigned i = 0; i < walks; i++)
        same += old_walk(list, list) == conn_eviction_victim(&srv, RS_POOL_SERVERS, list);
    double t1 = now_s();
    volatile uintptr_t sink = 0;
    for (unsigned i = 0; i < picks; i++)
        sink += (uintptr_t)conn_eviction_victim(&srv, RS_POOL_SERVERS, i & 1 ? list : NULL);
    double t2 = now_s();
    CHECK(same == walks);
    /* the index kept as streams come and go: a close and an open */
    unsigned churn = 100000;
    rs_conn *c = list;
    double t3 = now_s();
    int failed = 0;
    for (unsigned i = 0; i < churn; i++) {
        conn__uncount_in(c);
        failed |= conn__count_in(c);
    }
    CHECK(failed == 0);
    double t4 = now_s();
    (void)sink;
    double walk_us = (t1 - t0) / walks * 1e6 - (t2 - t1) / picks * 1e6;
    printf("figure: victim choice among %u streams from %u addresses: walk "
           "%.1f us, index %.3f us (%.0fx); keeping the index: %.3f us per "
           "close+open\n", F_STREAMS, F_ADDRS, walk_us, (t2 - t1) / picks * 1e6,
           walk_us / ((t2 - t1) / picks * 1e6), (t4 - t3) / churn * 1e6);
    for (rs_conn *next; list; list = next) {
        next = list->next;
        close_conn(list);
        drop(list);
    }
}

/* ---- the real code: streams accepted over loopback, admitted --------- */

static int closed;
static rs_conn *accepted[16];   /* in the order accepted (may be freed) */
static unsigned ids[16];        /* their ids */
static bool admitted[16];       /* admission_inbound's answer */
static unsigned n_accepted;

static void on_closed(rs_conn *c, const char *why)
{
    (void)c;
    (void)why;
    closed++;
}

static const conn_handler handler = {.closed = on_closed};

static bool as_clients;          /* accept as c2s_accept does */

/* What s2s_in_accept (or c2s_accept) does: a conn, accepted, then admitted
 * or refused. */
static void on_connection(uv_stream_t *l, int status)
{
    CHECK(status == 0);
    rs_conn *c = conn_new(&srv, CONN_IN, &handler, NULL);
    if (c && as_clients)
        conn_set_client(c);
    CHECK(c && conn_accept(c, l) == 0);
    if (!c || n_accepted == 16)
        abort();
    const char *why = NULL;
    admitted[n_accepted] = admission_inbound(&srv, c, &why);
    if (!admitted[n_accepted])
        conn_abort(c, why);
    ids[n_accepted] = c->id;
    accepted[n_accepted++] = c;
}

/* The stream with this id was closed: closing, or gone already. */
static bool gone(unsigned id)
{
    rs_conn *c = conn_find(&srv, id);
    return !c || c->closing;
}

/* A peer from 127.0.0.host (all of 127/8 is loopback): connected, then
 * accepted and admitted by the daemon's code. */
static int dial_from(uv_loop_t *loop, int port, unsigned host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(0x7f000000u | host);
    to.sin_addr.s_addr = htonl(0x7f000001u);
    to.sin_port = htons((uint16_t)port);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&from, sizeof from) == 0 &&
              connect(fd, (struct sockaddr *)&to, sizeof to) == 0;
    CHECK(ok);
    unsigned want = n_accepted + 1;
    for (int i = 0; i < 1000 && n_accepted < want; i++)
        uv_run(loop, UV_RUN_ONCE);
    CHECK(n_accepted == want);
    return fd;
}

static void test_real(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    static rs_config cfg;
    cfg.limits.max_stanza_bytes = 4096;
    cfg.limits.max_depth = 8;
    cfg.limits.max_streams = 4;
    cfg.limits.max_streams_per_ip = 3;
    cfg.limits.send_buffer_bytes = 1 << 20;
    cfg.limits.ipv6_prefix = 64;
    srv.cfg = &cfg;
    srv.loop = &loop;
    srv.domains = domains_load(&cfg);
    CHECK(srv.domains != NULL);
    if (!srv.domains)
        return;
    srv.fd_budget = 1000;
    uv_tcp_t listener;
    uv_tcp_init(&loop, &listener);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    CHECK(uv_tcp_bind(&listener, (struct sockaddr *)&a, 0) == 0 &&
          uv_listen((uv_stream_t *)&listener, 16, on_connection) == 0 &&
          uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len) == 0);
    int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    int fds[16];
    unsigned n = 0;
    /* x = 127.0.0.2, y = .3, z = .4: x1 y2 x3 y4 fill the table */
    fds[n++] = dial_from(&loop, port, 2);
    fds[n++] = dial_from(&loop, port, 3);
    fds[n++] = dial_from(&loop, port, 2);
    fds[n++] = dial_from(&loop, port, 3);
    CHECK(admitted[0] && admitted[1] && admitted[2] && admitted[3]);
    unsigned x1 = ids[0], y2 = ids[1], x3 = ids[2], y4 = ids[3];
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "127.0.0.2") == 2);
    CHECK(conn_find(&srv, x1) == accepted[0] && conn_find(&srv, y4) == accepted[3]);
    CHECK(conn_find(&srv, y4 + 1000) == NULL);
    authenticate(conn_find(&srv, y2));
    /* full: the fifth gives way to the oldest of the busiest (x and y tie
     * at 2: x1 is older) */
    fds[n++] = dial_from(&loop, port, 4);
    unsigned z5 = ids[4];
    CHECK(admitted[4] && srv.stats.evicted == 1);
    CHECK(gone(x1) && !gone(y2) && !gone(x3) && !gone(y4));
    /* the next: y holds 2, but y2 is authenticated: y4 goes */
    fds[n++] = dial_from(&loop, port, 4);
    unsigned z6 = ids[5];
    CHECK(admitted[5] && gone(y4) && !gone(y2) && !gone(x3) && !gone(z5));
    /* z holds 2 (z5, z6): the newcomer is z's third, never itself: z5 */
    fds[n++] = dial_from(&loop, port, 4);
    unsigned z7 = ids[6];
    CHECK(admitted[6] && gone(z5) && !gone(z6) && !gone(z7) && !gone(x3));
    CHECK(conn_streams_from(&srv, RS_POOL_SERVERS, "127.0.0.4") == 2);
    CHECK(SERVERS.live_in == 4 && SERVERS.unsettled == 3);
    for (int i = 0; i < 100 && closed < 3; i++)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(closed == 3);
    CHECK(conn_find(&srv, x1) == NULL); /* gone, not closing */
    CHECK(conn_find(&srv, z7) == accepted[6]);
    conn_shutdown_all(&srv);
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed == 7 && srv.n_conns == 0 && SERVERS.live_in == 0);
    CHECK(conn_find(&srv, z7) == NULL);
    CHECK(uv_loop_close(&loop) == 0);
    domains_unref(srv.domains);
    srv.domains = NULL;
}

/* Both pools through the real code: a full server pool refuses no client,
 * a full client pool takes no server slot; in it, the unbound go first,
 * then the longest-idle bound session; per address, the excess is refused. */
static void test_real_pools(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    static rs_config cfg;
    cfg.limits.max_stanza_bytes = 4096;
    cfg.limits.max_depth = 8;
    cfg.limits.max_streams = 2;
    cfg.limits.max_streams_per_ip = 3;
    cfg.limits.max_client_streams = 3;
    cfg.limits.client_streams_per_ip = 2;
    cfg.limits.send_buffer_bytes = 1 << 20;
    cfg.limits.ipv6_prefix = 64;
    srv = (rs_daemon){.cfg = &cfg, .loop = &loop, .domains = domains_load(&cfg),
                      .fd_budget = 1000, .client_ports = true};
    n_accepted = 0;
    closed = 0;
    CHECK(srv.domains != NULL);
    if (!srv.domains)
        return;
    /* the descriptors: the client pool's share in proportion to its size */
    CHECK(admission_fd_share(&srv, RS_POOL_CLIENTS) == 600);
    CHECK(admission_fd_share(&srv, RS_POOL_SERVERS) == 400);
    uv_tcp_t listener;
    uv_tcp_init(&loop, &listener);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    CHECK(uv_tcp_bind(&listener, (struct sockaddr *)&a, 0) == 0 &&
          uv_listen((uv_stream_t *)&listener, 16, on_connection) == 0 &&
          uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len) == 0);
    int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    int fds[16];
    unsigned n = 0;
    /* two server streams fill the server pool */
    as_clients = false;
    fds[n++] = dial_from(&loop, port, 2);
    fds[n++] = dial_from(&loop, port, 3);
    unsigned x = ids[0], y = ids[1];
    /* clients still get in: c1, c2 from .5, c3 from .6 */
    as_clients = true;
    fds[n++] = dial_from(&loop, port, 5);
    fds[n++] = dial_from(&loop, port, 5);
    fds[n++] = dial_from(&loop, port, 6);
    CHECK(admitted[0] && admitted[1] && admitted[2] && admitted[3] && admitted[4]);
    unsigned c1 = ids[2], c2 = ids[3], c3 = ids[4];
    CHECK(!gone(x) && !gone(y) && srv.stats.evicted == 0);
    CHECK(SERVERS.live_in == 2 && CLIENTS.live_in == 3 && CLIENTS.sockets == 3);
    /* a third from .5: over client_streams_per_ip, refused; the rest stay */
    fds[n++] = dial_from(&loop, port, 5);
    CHECK(!admitted[5] && !gone(c1) && !gone(c2) && !gone(c3));
    /* c1 binds; c6 from .7 finds the pool full: the oldest unbound of the
     * address holding the most (.5: c2) gives way, never the bound c1 */
    conn_set_bound(conn_find(&srv, c1));
    fds[n++] = dial_from(&loop, port, 7);
    unsigned c6 = ids[6];
    CHECK(admitted[6] && gone(c2) && !gone(c1) && !gone(c3));
    CHECK(srv.stats.client_evicted_unbound == 1 && srv.stats.client_evicted_bound == 0);
    /* all bound; c1 sent a stanza since: c3 is the longest idle */
    conn_set_bound(conn_find(&srv, c3));
    conn_set_bound(conn_find(&srv, c6));
    conn_set_active(conn_find(&srv, c1));
    fds[n++] = dial_from(&loop, port, 8);
    unsigned c7 = ids[7];
    CHECK(admitted[7] && gone(c3) && !gone(c1) && !gone(c6) && !gone(c7));
    CHECK(srv.stats.client_evicted_bound == 1);
    /* and a server stream makes room among servers only */
    as_clients = false;
    fds[n++] = dial_from(&loop, port, 4);
    CHECK(admitted[8] && gone(x) && !gone(y) && srv.stats.evicted == 1);
    CHECK(!gone(c1) && !gone(c6) && !gone(c7));
    CHECK(SERVERS.live_in == 2 && CLIENTS.live_in == 3);
    conn_shutdown_all(&srv);
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(srv.n_conns == 0 && SERVERS.live_in == 0 && CLIENTS.live_in == 0);
    CHECK(SERVERS.sockets == 0 && CLIENTS.sockets == 0);
    CHECK(uv_loop_close(&loop) == 0);
    domains_unref(srv.domains);
    conn_addrs_free(&srv);
    /* no client port: the servers take every descriptor */
    srv.client_ports = false;
    CHECK(admission_fd_share(&srv, RS_POOL_CLIENTS) == 0);
    CHECK(admission_fd_share(&srv, RS_POOL_SERVERS) == 1000);
}

int main(void)
{
    test_rule();
    test_random(RS_POOL_SERVERS);
    test_client_rule();
    test_random(RS_POOL_CLIENTS);
    figure();
    test_real();
    conn_addrs_free(&srv);
    test_real_pools();
    return check_done();
}
