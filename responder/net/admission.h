/* admission.h -- who gets a stream slot. Two pools (rs_daemon.pools):
 * servers (inbound s2s and outbound streams) and clients, so that whoever
 * can log in for free never competes with servers. Each pool caps streams
 * per address; when one is full, a stream of the address holding the most
 * gives way, unsettled ones first. Sockets stay under rs_daemon.fd_budget,
 * each pool in its share. The rules: xmpp-responder.conf(5), "Stream
 * pools"; the design: README.md. */
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
