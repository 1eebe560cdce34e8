/* test_conn_count.c -- the stream table's indexes (conn_count.c,
 * conn_ids.c): which stream eviction closes, per-address counts, conns by
 * id. The rule is checked on hand-made cases, then against the walk over
 * all streams it replaced (a bounded random run over thousands of
 * addresses), then through the real admission code with real conns on a
 * loop. Prints the time per victim choice, walk against index, with 50,000
 * streams from 5,000 addresses (a figure, not an assertion). */
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

/* ---- streams by hand: counted as conn.c counts them, no socket ---------- */

static rs_conn *open_from(const char *key)
{
    rs_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->srv = &srv;
    c->dir = CONN_IN;
    c->id = ++next_id;
    snprintf(c->peer_key, sizeof c->peer_key, "%s", key);
    CHECK(conn_count_in(c) == 0);
    return c;
}

/* As conn_close does: closing, then out of the counts. */
static void close_conn(rs_conn *c)
{
    c->closing = true;
    conn_uncount_in(c);
}

/* The rule, by walking every stream (what admission.c did): the oldest
 * evictable stream of the address with the most live inbound streams, the
 * counts given (counted by the test itself). */
static rs_conn *walk_victim(rs_conn **all, const unsigned *addr_of,
                           const unsigned *count, size_t n, const rs_conn *except)
{
    rs_conn *victim = NULL;
    unsigned most = 0;
    for (size_t i = 0; i < n; i++) {
        rs_conn *c = all[i];
        if (!c || c->dir != CONN_IN || c->closing || c->authenticated || c == except)
            continue;
        unsigned k = count[addr_of[i]];
        if (!victim || k > most || (k == most && c->id < victim->id)) {
            victim = c;
            most = k;
        }
    }
    return victim;
}

static void test_rule(void)
{
    rs_conn *a1 = open_from("10.0.0.1"), *a2 = open_from("10.0.0.1"),
            *a3 = open_from("10.0.0.1");
    rs_conn *b4 = open_from("10.0.0.2"), *b5 = open_from("10.0.0.2");
    rs_conn *c6 = open_from("2001:db8:1:2::/64"), *c7 = open_from("2001:db8:1:2::/64");
    CHECK(srv.live_in == 7 && srv.unauth_in == 7);
    CHECK(conn_streams_from(&srv, "10.0.0.1") == 3);
    CHECK(conn_streams_from(&srv, "10.0.0.9") == 0);
    /* the most streams, then the oldest */
    CHECK(conn_eviction_victim(&srv, NULL) == a1);
    CHECK(conn_eviction_victim(&srv, a1) == a2);   /* never the one excepted */
    conn_set_authenticated(a1);                    /* never authenticated */
    CHECK(srv.unauth_in == 6 && conn_streams_from(&srv, "10.0.0.1") == 3);
    CHECK(conn_eviction_victim(&srv, NULL) == a2); /* a's count stays 3 */
    conn_set_authenticated(a2);
    conn_set_authenticated(a3);
    conn_set_authenticated(a3);                    /* twice: counted once */
    CHECK(srv.unauth_in == 4 && srv.live_in == 7);
    /* a holds the most but nothing evictable: b and c tie at 2, b is older */
    CHECK(conn_eviction_victim(&srv, NULL) == b4);
    CHECK(conn_eviction_victim(&srv, b4) == b5);   /* b still counts 2 */
    close_conn(b5);                                /* never closing ones */
    CHECK(conn_streams_from(&srv, "10.0.0.2") == 1);
    CHECK(conn_eviction_victim(&srv, NULL) == c6); /* c now holds more */
    CHECK(conn_eviction_victim(&srv, c6) == c7);
    close_conn(c7);
    close_conn(c7);                                /* idempotent */
    CHECK(conn_streams_from(&srv, "2001:db8:1:2::/64") == 1);
    CHECK(conn_eviction_victim(&srv, NULL) == b4); /* 1 and 1: b4 older */
    CHECK(conn_eviction_victim(&srv, b4) == c6);
    close_conn(b4);
    close_conn(c6);
    CHECK(conn_eviction_victim(&srv, NULL) == NULL);
    CHECK(conn_streams_from(&srv, "10.0.0.2") == 0);
    /* ids out of order on one address: still the lowest first */
    next_id += 100;
    rs_conn *late = open_from("10.0.0.5");
    rs_conn *early = calloc(1, sizeof *early);
    if (!early)
        abort();
    *early = (rs_conn){.srv = &srv, .dir = CONN_IN, .id = late->id - 100};
    snprintf(early->peer_key, sizeof early->peer_key, "10.0.0.5");
    CHECK(conn_count_in(early) == 0);
    CHECK(conn_eviction_victim(&srv, NULL) == early);
    CHECK(conn_eviction_victim(&srv, early) == late);
    rs_conn *all[] = {a1, a2, a3, b4, b5, c6, c7, late, early};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        close_conn(all[i]);
        free(all[i]);
    }
    CHECK(srv.live_in == 0 && srv.unauth_in == 0);
    CHECK(conn_eviction_victim(&srv, NULL) == NULL);
}

/* ---- random opens, authentications and closes against the walk -------- */

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

static void test_random(void)
{
    rs_conn **all = calloc(R_SLOTS, sizeof *all);
    unsigned *addr_of = calloc(R_SLOTS, sizeof *addr_of);
    unsigned *count = calloc(R_ADDRS, sizeof *count);
    if (!all || !addr_of || !count)
        abort();
    unsigned compared = 0, mismatches = 0, wrong_counts = 0;
    for (unsigned op = 0; op < R_OPS; op++) {
        size_t i = rnd(R_SLOTS);
        char key[64];
        if (!all[i]) {
            /* skewed: a few addresses hold many streams, most a few */
            addr_of[i] = rnd(4) ? rnd(R_ADDRS) : rnd(20);
            snprintf(key, sizeof key, "192.0.%u.%u", addr_of[i] / 256, addr_of[i] % 256);
            all[i] = open_from(key);
            count[addr_of[i]]++;
        } else if (!all[i]->authenticated && rnd(3) == 0) {
            conn_set_authenticated(all[i]);
        } else {
            snprintf(key, sizeof key, "%s", all[i]->peer_key);
            close_conn(all[i]);
            free(all[i]);
            all[i] = NULL;
            count[addr_of[i]]--;
        }
        snprintf(key, sizeof key, "192.0.%u.%u", addr_of[i] / 256, addr_of[i] % 256);
        wrong_counts += conn_streams_from(&srv, key) != count[addr_of[i]];
        if (op % R_CHECK)
            continue;
        rs_conn *except = all[rnd(R_SLOTS)];
        if (rnd(2)) /* the likely one: the victim itself asks */
            except = walk_victim(all, addr_of, count, R_SLOTS, NULL);
        rs_conn *want = walk_victim(all, addr_of, count, R_SLOTS, except);
        rs_conn *got = conn_eviction_victim(&srv, except);
        compared++;
        if (got != want && mismatches++ < 5)
            fprintf(stderr, "op %u: victim id %u, the walk says %u\n", op,
                    got ? got->id : 0, want ? want->id : 0);
    }
    CHECK(mismatches == 0);
    CHECK(wrong_counts == 0);
    printf("random: %u comparisons with the walk over %u changes, %u differ\n",
           compared, R_OPS, mismatches);
    unsigned live = 0, unauth = 0;
    for (size_t i = 0; i < R_SLOTS; i++)
        if (all[i]) {
            live++;
            unauth += !all[i]->authenticated;
        }
    CHECK(srv.live_in == live && srv.unauth_in == unauth);
    for (size_t i = 0; i < R_SLOTS; i++)
        if (all[i]) {
            close_conn(all[i]);
            free(all[i]);
        }
    CHECK(srv.live_in == 0 && conn_eviction_victim(&srv, NULL) == NULL);
    free(all);
    free(addr_of);
    free(count);
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
        unsigned n = conn_streams_from(&srv, c->peer_key);
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
        if (rnd(2))
            conn_set_authenticated(c);
        c->next = list;
        list = c;
    }
    unsigned walks = 50, picks = 200000, same = 0;
    double t0 = now_s();
    for (unsigned i = 0; i < walks; i++)
        same += old_walk(list, list) == conn_eviction_victim(&srv, list);
    double t1 = now_s();
    volatile uintptr_t sink = 0;
    for (unsigned i = 0; i < picks; i++)
        sink += (uintptr_t)conn_eviction_victim(&srv, i & 1 ? list : NULL);
    double t2 = now_s();
    CHECK(same == walks);
    /* the index kept as streams come and go: a close and an open */
    unsigned churn = 100000;
    rs_conn *c = list;
    double t3 = now_s();
    int failed = 0;
    for (unsigned i = 0; i < churn; i++) {
        conn_uncount_in(c);
        failed |= conn_count_in(c);
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
        free(list);
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

static const rs_conn_handler handler = {.closed = on_closed};

/* What s2s_in_accept does: a conn, accepted, then admitted or refused. */
static void on_connection(uv_stream_t *l, int status)
{
    CHECK(status == 0);
    rs_conn *c = conn_new(&srv, CONN_IN, &handler, NULL);
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
    CHECK(conn_streams_from(&srv, "127.0.0.2") == 2);
    CHECK(conn_find(&srv, x1) == accepted[0] && conn_find(&srv, y4) == accepted[3]);
    CHECK(conn_find(&srv, y4 + 1000) == NULL);
    conn_set_authenticated(conn_find(&srv, y2));
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
    CHECK(conn_streams_from(&srv, "127.0.0.4") == 2);
    CHECK(srv.live_in == 4 && srv.unauth_in == 3);
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
    CHECK(closed == 7 && srv.n_conns == 0 && srv.live_in == 0);
    CHECK(conn_find(&srv, z7) == NULL);
    CHECK(uv_loop_close(&loop) == 0);
    domains_unref(srv.domains);
    srv.domains = NULL;
}

int main(void)
{
    test_rule();
    test_random();
    figure();
    test_real();
    conn_addrs_free(&srv);
    return check_done();
}
