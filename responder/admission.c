/* admission.c -- stream slots, per-IP caps and eviction (admission.h).
 * Whether there is room, and which stream gives way when there is none, are
 * read from what conn.c keeps as streams change state (conn_count.c):
 * constant time per stream, however many are open. */
#include "admission.h"

/* The stream error goes out (it fits the socket buffer of a stream that
 * sent no more than a few headers), then the socket is closed at once: a
 * crowd must not hold descriptors through the close grace period. */
static void evict(rs_daemon *srv, rs_conn *victim, const char *why)
{
    srv->stats.evicted++;
    conn_log(victim, RS_LOG_INFO, "evicted", "reason=\"%s\"", why);
    conn_stream_error(victim, "policy-violation", why);
    conn_abort(victim, why);
}

/* Slots in use: live inbound streams and every outbound stream. */
typedef struct usage {
    unsigned sockets;    /* streams whose socket is open, closing or not */
    unsigned total;      /* streams holding a slot */
    unsigned unauth_in;  /* of them unauthenticated inbound */
    unsigned same_addr;  /* inbound from the address of the one asked about */
} usage;

static usage count_usage(rs_daemon *srv, const rs_conn *c)
{
    return (usage){.sockets = srv->sockets_open,
                   .total = srv->n_outs + srv->live_in,
                   .unauth_in = srv->unauth_in,
                   .same_addr = c ? conn_streams_from(srv, c->peer_key) : 0};
}

/* At most this many unauthenticated inbound streams. */
static unsigned unauth_cap(const rs_limits *l)
{
    unsigned reserved = (unsigned)((unsigned long long)l->max_streams *
                                   l->reserved_authenticated / 100);
    return l->max_streams > reserved ? l->max_streams - reserved : 1;
}

bool admission_inbound(rs_daemon *srv, rs_conn *c, const char **why)
{
    const rs_limits *l = &srv->cfg->limits;
    for (;;) {
        usage u = count_usage(srv, c);
        if (u.same_addr > l->max_streams_per_ip) {
            *why = "too many streams from your address";
            return false;
        }
        if (u.total <= l->max_streams && u.unauth_in <= unauth_cap(l) &&
            u.sockets <= srv->fd_budget)
            return true;
        rs_conn *victim = conn_eviction_victim(srv, c);
        if (!victim) {
            *why = "too many streams";
            return false;
        }
        evict(srv, victim, "the stream table is full: the oldest "
                           "unauthenticated stream gives way");
    }
}

bool admission_outbound(rs_daemon *srv)
{
    for (;;) {
        usage u = count_usage(srv, NULL);
        if (u.total < srv->cfg->limits.max_streams && u.sockets < srv->fd_budget)
            break;
        rs_conn *victim = conn_eviction_victim(srv, NULL);
        if (!victim)
            return false;
        evict(srv, victim, "the stream table is full: the oldest "
                           "unauthenticated stream gives way");
    }
    return true;
}

bool admission_evict_one(rs_daemon *srv, const char *why)
{
    rs_conn *victim = conn_eviction_victim(srv, NULL);
    if (!victim)
        return false;
    evict(srv, victim, why);
    return true;
}
