/* conn_internal.h -- what conn.c, conn_flow.c, conn_count.c and conn_ids.c
 * share; not for owners. */
#ifndef RS_CONN_INTERNAL_H
#define RS_CONN_INTERNAL_H

#include <sys/socket.h>

#include "conn.h"

typedef struct conn_addrs conn_addrs;
typedef struct conn_ids conn_ids;

/* Count c, an inbound stream whose peer_key is known, as live (once). 0, or
 * -1 out of memory. */
int conn__count_in(rs_conn *c);

/* c is live no more: closing or gone (idempotent). */
void conn__uncount_in(rs_conn *c);

/* c, counted or not, authenticates (before rs_conn.authenticated is set):
 * a server stream is no longer unauthenticated, nor evictable. */
void conn__count_authenticated(rs_conn *c);

/* c, a client stream, binds (before rs_conn.bound is set): from the first
 * rank of eviction to the second, as the least idle. */
void conn__count_bound(rs_conn *c);

/* c, a bound client, was active: the least idle of its rank. */
void conn__count_active(rs_conn *c);

/* The id index (conn_find): room for one more conn (-1 when there is no
 * index and no memory for one; then the conn must not be made), add c
 * (after a reserve, never fails), remove c (as it is unlinked), free it
 * (with the per-address counts, conn_addrs_free). */
int conn__ids_reserve(struct rs_daemon *srv);
void conn__ids_add(rs_conn *c);
void conn__ids_remove(rs_conn *c);
void conn__ids_free(struct rs_daemon *srv);

/* Coalescing (conn_flush_start): cork c's TLS output until the loop turn
 * ends (conn_send); send it now (before close_notify); forget it (the
 * socket is going). */
void conn__cork(rs_conn *c);
void conn__flush(rs_conn *c);
void conn__cork_drop(rs_conn *c);

/* (Re)start reading the socket. */
void conn__start_reading(rs_conn *c);

/* The owner's timeout, then the close grace period. */
void conn__on_timer(uv_timer_t *t);

/* out_pending changed. Backpressure: over limits.send_buffer_bytes, stop
 * reading the peer (it asked for what fills the buffer) and start the stall
 * clock; at half of it, read again and tell the owner (drained). */
void conn__output_changed(rs_conn *c);

/* The unit per-IP limits count: an IPv4 address, or an IPv6 address cut to
 * prefix bits as "2001:db8:1:2::/64" (one host usually owns a whole /64). */
void conn__peer_key(const struct sockaddr_storage *ss, unsigned prefix,
                    char *out, size_t n);

#endif
