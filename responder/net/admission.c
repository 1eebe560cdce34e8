/* admission.c -- stream slots in two pools, per-IP caps and eviction
 * (admission.h). Whether there is room, and which stream gives way when
 * there is none, are read from what conn.c keeps as streams change state
 * (conn_count.c): constant time per stream, however many are open. */
#include "admission.h"

#include <stdint.h>

#define SERVERS_FULL "the stream table is full: the oldest unauthenticated " \
                     "stream gives way"
#define CLIENTS_FULL_UNBOUND "the client pool is full: the oldest unbound " \
                             "session gives way"
#define CLIENTS_FULL_BOUND "the client pool is full: the longest-idle bound " \
                           "session gives way"

/* The stream error goes out (it fits the socket buffer of a stream that
 * sent no more than a few headers), then the socket is closed at once: a
 * crowd must not hold descriptors through the close grace period. */
static void evict(rs_daemon *srv, rs_conn *victim, const char *why)
{
    if (!victim->client)
        srv->stats.evicted++;
    else if (victim->bound)
        srv->stats.client_evicted_bound++;
    else
        srv->stats.client_evicted_unbound++;
    conn_log(victim, RS_LOG_INFO, "evicted", "reason=\"%s\"", why);
    conn_stream_error(victim, "policy-violation", why);
    conn_abort(victim, why);
}

/* Why the victim of pool gives way, for its stream error and the log. */
static const char *eviction_reason(const rs_conn *victim)
{
    if (!victim->client)
        return SERVERS_FULL;
    return victim->bound ? CLIENTS_FULL_BOUND : CLIENTS_FULL_UNBOUND;
}

unsigned admission_fd_share(const rs_daemon *srv, daemon_pool_kind pool)
{
    const config_limits *l = &srv->cfg->limits;
    unsigned budget = srv->fd_budget, clients = 0;
    if (srv->client_ports) {
        clients = (unsigned)((uint64_t)budget * l->max_client_streams /
                             ((uint64_t)l->max_client_streams + l->max_streams));
        if (clients == 0 || clients >= budget)
            clients = budget / 2 ? budget / 2 : 1; /* a tiny budget: halves */
    }
    if (pool == RS_POOL_CLIENTS)
        return clients;
    return budget > clients ? budget - clients : 1;
}

unsigned admission_pool_streams(const rs_daemon *srv, daemon_pool_kind pool)
{
    unsigned n = srv->pools[pool].live_in;
    return pool == RS_POOL_SERVERS ? n + srv->n_outs : n;
}

unsigned admission_pool_capacity(const rs_daemon *srv, daemon_pool_kind pool)
{
    const config_limits *l = &srv->cfg->limits;
    unsigned max = pool == RS_POOL_SERVERS ? l->max_streams : l->max_client_streams;
    unsigned fds = admission_fd_share(srv, pool);
    return fds < max ? fds : max;
}

/* At most this many unauthenticated inbound server streams. */
static unsigned unauth_cap(const config_limits *l)
{
    unsigned reserved = (unsigned)((unsigned long long)l->max_streams *
                                   l->reserved_authenticated / 100);
    return l->max_streams > reserved ? l->max_streams - reserved : 1;
}

/* Whether pool holds no more than it may, c (already counted) included. */
static bool within(const rs_daemon *srv, daemon_pool_kind pool)
{
    const config_limits *l = &srv->cfg->limits;
    const daemon_pool *p = &srv->pools[pool];
    if (p->sockets > admission_fd_share(srv, pool))
        return false;
    if (pool == RS_POOL_CLIENTS)
        return p->live_in <= l->max_client_streams;
    return admission_pool_streams(srv, pool) <= l->max_streams &&
           p->unsettled <= unauth_cap(l);
}

bool admission_inbound(rs_daemon *srv, rs_conn *c, const char **why)
{
    const config_limits *l = &srv->cfg->limits;
    daemon_pool_kind pool = conn_pool(c);
    unsigned per_ip = pool == RS_POOL_CLIENTS ? l->client_streams_per_ip
                                              : l->max_streams_per_ip;
    if (conn_streams_from(srv, pool, c->peer_key) > per_ip) {
        *why = pool == RS_POOL_CLIENTS ? "too many client streams from your address"
                                       : "too many streams from your address";
        return false;
    }
    while (!within(srv, pool)) {
        rs_conn *victim = conn_eviction_victim(srv, pool, c);
        if (!victim) {
            *why = pool == RS_POOL_CLIENTS ? "too many client streams"
                                           : "too many streams";
            return false;
        }
        evict(srv, victim, eviction_reason(victim));
    }
    return true;
}

bool admission_outbound(rs_daemon *srv)
{
    const daemon_pool *p = &srv->pools[RS_POOL_SERVERS];
    while (admission_pool_streams(srv, RS_POOL_SERVERS) >= srv->cfg->limits.max_streams ||
           p->sockets >= admission_fd_share(srv, RS_POOL_SERVERS)) {
        rs_conn *victim = conn_eviction_victim(srv, RS_POOL_SERVERS, NULL);
        if (!victim)
            return false;
        evict(srv, victim, SERVERS_FULL);
    }
    return true;
}

bool admission_evict_one(rs_daemon *srv, daemon_pool_kind pool)
{
    rs_conn *victim = conn_eviction_victim(srv, pool, NULL);
    if (!victim)
        return false;
    evict(srv, victim, pool == RS_POOL_CLIENTS
                           ? "the responder is out of file descriptors: a client "
                             "session gives way"
                           : "the responder is out of file descriptors: the "
                             "oldest unauthenticated stream gives way");
    return true;
}
