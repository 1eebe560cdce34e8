/* http_guard.c -- see http_guard.h. Two fixed tables of capacity entries:
 * the connections (libmicrohttpd keeps a pointer to each slot as the
 * connection's socket context) and the addresses that hold them, with their
 * count of live connections. A decision scans the table once: at most a few
 * thousand slots, and only at accept, at the request line and at the
 * sweep. */
#include "http_guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "netaddr.h"

#define NAME_MAX_LEN 16

/* Where a connection is. */
typedef enum {
    GUARD_FREE,       /* slot unused */
    GUARD_WAITING,    /* for its (next) request: the deadline runs */
    GUARD_ANSWERING   /* an answer is queued: libmicrohttpd sends it */
} guard_state;

/* One address (IPv4, or IPv6 prefix) holding connections. */
typedef struct guard_addr {
    char key[RS_CIDR_TEXT_MAX];  /* "192.0.2.7", "2001:db8::/64" */
    unsigned live;               /* its connections not cut */
    unsigned refs;               /* connections pointing here (cut ones too) */
} guard_addr;

/* One connection of the daemon. */
typedef struct guard_conn {
    guard_state state;
    struct MHD_Connection *conn;
    unsigned addr;               /* index in addrs */
    uint64_t since_ms;           /* WAITING: accepted, or the previous
                                    request ended; ANSWERING: queued */
    bool priority;               /* the request line named a priority path */
    bool reserved;               /* let in on the reserve */
    bool cut;                    /* shut down; libmicrohttpd closes it soon */
} guard_conn;

/* Why a connection was cut or refused (indexes of the stats_counters arrays). */
enum { CUT_DEADLINE, CUT_ROOM };
enum { REFUSED_ADDRESS, REFUSED_FULL };

struct rs_http_guard {
    guard_conn *conns;
    guard_addr *addrs;
    unsigned cap;                /* entries of both tables */
    unsigned live;               /* connections tracked and not cut */
    unsigned live_reserved;      /* of them let in on the reserve */
    bool pending;                /* admitted, not started yet */
    unsigned pending_addr;       /* its address */
    bool pending_reserved;       /* it takes a reserved slot */
    char name[NAME_MAX_LEN];     /* "http", "posh" */
    stats_counters *stats;             /* counters, or NULL */
    http_guard_log_fn log_ok;    /* per-address log budget, or NULL */
};

rs_http_guard *http_guard_new(unsigned capacity, const char *name, stats_counters *stats,
                              http_guard_log_fn log_ok)
{
    rs_http_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cap = capacity ? capacity : 1;
    g->conns = calloc(g->cap, sizeof *g->conns);
    g->addrs = calloc(g->cap, sizeof *g->addrs);
    if (!g->conns || !g->addrs) {
        http_guard_free(g);
        return NULL;
    }
    snprintf(g->name, sizeof g->name, "%s", name);
    g->stats = stats;
    g->log_ok = log_ok;
    return g;
}

void http_guard_free(rs_http_guard *g)
{
    if (!g)
        return;
    free(g->conns);
    free(g->addrs);
    free(g);
}

bool http_guard_priority_path(const char *uri)
{
    return strncmp(uri, "/.well-known/acme-challenge/", 28) == 0 ||
           strncmp(uri, "/crl/", 5) == 0;
}

/* ---- tables ------------------------------------------------------------------- */

/* The address entry of key, or -1. */
static long addr_find(const rs_http_guard *g, const char *key)
{
    for (unsigned i = 0; i < g->cap; i++)
        if (g->addrs[i].refs && strcmp(g->addrs[i].key, key) == 0)
            return i;
    return -1;
}

/* The entry of key, made when it has none; -1 when the table is full. */
static long addr_get(rs_http_guard *g, const char *key)
{
    long i = addr_find(g, key);
    for (unsigned k = 0; i < 0 && k < g->cap; k++)
        if (!g->addrs[k].refs) {
            i = k;
            snprintf(g->addrs[k].key, sizeof g->addrs[k].key, "%s", key);
            g->addrs[k].live = 0;
        }
    return i;
}

/* c's slot (its socket context), or NULL when it is not tracked. */
static guard_conn *slot_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    return ci ? ci->socket_context : NULL;
}

__attribute__((format(printf, 3, 4))) static void
log_event(const rs_http_guard *g, const char *key, const char *fmt, ...)
{
    if (g->log_ok && !g->log_ok(key))
        return;
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_msg(RS_LOG_INFO, "%s address=%s %s", g->name, key, text);
}

/* Shut gc's socket down so that libmicrohttpd ends it; it no longer counts. */
static void cut(rs_http_guard *g, guard_conn *gc, unsigned reason, uint64_t now_ms)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(gc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        shutdown(ci->connect_fd, SHUT_RDWR);
    gc->cut = true;
    g->live--;
    if (gc->reserved)
        g->live_reserved--;
    guard_addr *a = &g->addrs[gc->addr];
    a->live--;
    if (g->stats)
        g->stats->http_cut[reason]++;
    log_event(g, a->key, "event=cut reason=%s state=%s age=%.1fs",
              reason == CUT_DEADLINE ? "header-timeout" : "room",
              gc->state == GUARD_WAITING ? "waiting" : "answering",
              (double)(now_ms - gc->since_ms) / 1000.0);
}

/* How willingly gc gives way (higher first), or -1 when it may not: one
 * still waiting for its request, a priority request last among those; else
 * an answer going out for longer than the deadline (a client that does not
 * read). */
static int yield_class(const guard_conn *gc, uint64_t now_ms, uint64_t deadline_ms)
{
    if (gc->state == GUARD_FREE || gc->cut)
        return -1;
    if (gc->state == GUARD_WAITING)
        return gc->priority ? 1 : 2;
    return now_ms - gc->since_ms >= deadline_ms ? 0 : -1;
}

/* Who gives way for a newcomer: the best class, then the address holding
 * the most connections, then the oldest. NULL when nobody may. */
static guard_conn *pick_victim(rs_http_guard *g, uint64_t now_ms, uint64_t deadline_ms)
{
    guard_conn *best = NULL;
    int best_class = -1;
    for (unsigned i = 0; i < g->cap; i++) {
        guard_conn *gc = &g->conns[i];
        int cls = yield_class(gc, now_ms, deadline_ms);
        if (cls < 0)
            continue;
        unsigned n = g->addrs[gc->addr].live;
        unsigned best_n = best ? g->addrs[best->addr].live : 0;
        if (!best || cls > best_class ||
            (cls == best_class && (n > best_n ||
                                   (n == best_n && gc->since_ms < best->since_ms)))) {
            best = gc;
            best_class = cls;
        }
    }
    return best;
}

/* ---- decisions ------------------------------------------------------------------- */

bool http_guard_admit(rs_http_guard *g, const http_guard_limits *lim,
                      const struct sockaddr *sa, bool exempt, uint64_t now_ms)
{
    uint64_t deadline_ms = (uint64_t)lim->deadline_s * 1000;
    http_guard_sweep(g, lim, now_ms);
    if (g->pending) /* admitted before, never started: its hold goes */
        g->addrs[g->pending_addr].refs--;
    g->pending = false;
    char key[RS_CIDR_TEXT_MAX];
    netaddr_prefix_key(sa, 32, lim->ipv6_prefix, key, sizeof key);
    long a = addr_find(g, key);
    if (!exempt && a >= 0 && g->addrs[a].live >= lim->per_address) {
        if (g->stats)
            g->stats->http_refused[REFUSED_ADDRESS]++;
        log_event(g, key, "event=refused reason=per-address holding=%u",
                  g->addrs[a].live);
        return false;
    }
    bool reserved = false;
    if (g->live - g->live_reserved >= lim->total) {
        guard_conn *victim = pick_victim(g, now_ms, deadline_ms);
        if (victim) {
            reserved = victim->reserved; /* the newcomer takes its place */
            cut(g, victim, CUT_ROOM, now_ms);
        } else if (g->live_reserved < lim->reserved) {
            reserved = true;
        } else {
            if (g->stats)
                g->stats->http_refused[REFUSED_FULL]++;
            log_event(g, key, "event=refused reason=full connections=%u",
                      g->live);
            return false;
        }
    }
    a = addr_get(g, key);
    if (a < 0)
        return false; /* more addresses than slots: libmicrohttpd's limit */
    g->pending = true;
    g->pending_addr = (unsigned)a;
    g->pending_reserved = reserved;
    g->addrs[a].refs++; /* held for the start that follows */
    return true;
}

void http_guard_notify(rs_http_guard *g, struct MHD_Connection *c,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode code, uint64_t now_ms)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = NULL;
        if (!g->pending)
            return; /* not admitted by us: not tracked */
        g->pending = false;
        guard_conn *gc = NULL;
        for (unsigned i = 0; !gc && i < g->cap; i++)
            if (g->conns[i].state == GUARD_FREE)
                gc = &g->conns[i];
        if (!gc) {
            g->addrs[g->pending_addr].refs--;
            return;
        }
        *gc = (guard_conn){.state = GUARD_WAITING, .conn = c,
                           .addr = g->pending_addr, .since_ms = now_ms,
                           .reserved = g->pending_reserved};
        g->addrs[gc->addr].live++;
        g->live++;
        g->live_reserved += gc->reserved;
        *socket_context = gc;
        return;
    }
    guard_conn *gc = *socket_context;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED || !gc || gc->state == GUARD_FREE)
        return;
    if (!gc->cut) {
        g->live--;
        g->live_reserved -= gc->reserved;
        g->addrs[gc->addr].live--;
    }
    g->addrs[gc->addr].refs--;
    gc->state = GUARD_FREE;
    *socket_context = NULL;
}

void http_guard_request_line(rs_http_guard *g, struct MHD_Connection *c,
                             const char *uri)
{
    (void)g;
    guard_conn *gc = slot_of(c);
    if (gc && uri)
        gc->priority = http_guard_priority_path(uri);
}

bool http_guard_may_serve(rs_http_guard *g, const http_guard_limits *lim,
                          struct MHD_Connection *c)
{
    guard_conn *gc = slot_of(c);
    if (!gc || !gc->reserved || gc->priority || gc->cut)
        return true;
    if (g->live - g->live_reserved < lim->total) { /* room opened meanwhile */
        gc->reserved = false;
        g->live_reserved--;
        return true;
    }
    if (g->stats)
        g->stats->http_reserve_refused++;
    return false;
}

void http_guard_answering(rs_http_guard *g, struct MHD_Connection *c,
                          uint64_t now_ms)
{
    (void)g;
    guard_conn *gc = slot_of(c);
    if (gc && gc->state == GUARD_WAITING) {
        gc->state = GUARD_ANSWERING;
        gc->since_ms = now_ms;
    }
}

void http_guard_request_done(rs_http_guard *g, struct MHD_Connection *c,
                             uint64_t now_ms)
{
    (void)g;
    guard_conn *gc = slot_of(c);
    if (gc && gc->state != GUARD_FREE) {
        gc->state = GUARD_WAITING;
        gc->since_ms = now_ms;
        gc->priority = false;
    }
}

uint64_t http_guard_sweep(rs_http_guard *g, const http_guard_limits *lim,
                          uint64_t now_ms)
{
    uint64_t deadline_ms = (uint64_t)lim->deadline_s * 1000, next = UINT64_MAX;
    for (unsigned i = 0; i < g->cap; i++) {
        guard_conn *gc = &g->conns[i];
        if (gc->state != GUARD_WAITING || gc->cut)
            continue;
        uint64_t age = now_ms - gc->since_ms;
        if (age >= deadline_ms)
            cut(g, gc, CUT_DEADLINE, now_ms);
        else if (deadline_ms - age < next)
            next = deadline_ms - age;
    }
    return next;
}
