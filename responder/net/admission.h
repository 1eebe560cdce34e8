/* admission.h -- who gets a stream slot. Two pools (rs_daemon.pools), so
 * that whoever can log in for free (the public test account) never competes
 * with those who cannot (servers that dial us):
 *
 * Servers: every live inbound s2s stream and every outbound stream (from the
 * moment it is created, while it still resolves) takes one of
 * limits.max_streams. Inbound streams from one IPv4 address or one IPv6
 * prefix (limits.ipv6_prefix) are capped at limits.max_streams_per_ip.
 * Unauthenticated inbound streams may take at most
 * (100 - limits.reserved_authenticated)% of the slots; the rest stays for
 * authenticated and outbound streams. When a new stream finds no room, an
 * unauthenticated inbound stream gives way: the oldest one of the address
 * (or prefix) holding the most streams, so a crowd can delay an honest peer
 * but never lock it out.
 *
 * Clients: every live client stream takes one of limits.max_client_streams,
 * at most limits.client_streams_per_ip per address (or prefix): the
 * address's excess is refused. When the pool is full a newcomer still gets
 * in: the address holding the most client streams gives way, its oldest
 * stream that has not bound a resource (authenticated or not: the account
 * is public), else its longest-idle bound session, idle meaning no stanza
 * (whitespace keepalives keep the socket, not the slot). So a crowd's
 * sessions go before an honest client that is still logging in.
 *
 * The sockets of all streams stay under rs_daemon.fd_budget (ulimit -n less
 * a headroom): libuv silently drops what it cannot accept, so room is made
 * before, each pool within its share (admission_fd_share). Evicted and
 * refused streams get their stream error and lose their socket at once,
 * without the close grace period. */
#ifndef RS_ADMISSION_H
#define RS_ADMISSION_H

#include <stdbool.h>

#include "conn.h"
#include "daemon.h"

/* Room for c, an inbound stream just accepted, in its pool (conn_pool).
 * true: it may stay (other streams may have been closed for it); false: it
 * must be refused, *why says why. */
bool admission_inbound(rs_daemon *srv, rs_conn *c, const char **why);

/* Room for one more outbound stream (may close an unauthenticated inbound
 * server stream for it). */
bool admission_outbound(rs_daemon *srv);

/* Close one stream of pool to free its socket (after an accept on one of
 * its listeners failed for lack of file descriptors). false when there is
 * none to close. */
bool admission_evict_one(rs_daemon *srv, daemon_pool_kind pool);

/* The sockets of fd_budget pool may hold: the client pool's share is in
 * proportion of max_client_streams to both pools' sizes (none without a
 * client listener), the servers' the rest; when the budget covers both
 * sizes, neither share ever binds. */
unsigned admission_fd_share(const rs_daemon *srv, daemon_pool_kind pool);

/* The streams pool holds now, and how many it may hold (its limit, or its
 * share of the descriptors when that is smaller), for /metrics. */
unsigned admission_pool_streams(const rs_daemon *srv, daemon_pool_kind pool);
unsigned admission_pool_capacity(const rs_daemon *srv, daemon_pool_kind pool);

#endif
