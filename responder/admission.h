/* admission.h -- who gets one of the limits.max_streams slots.
 *
 * Every live inbound stream and every outbound stream (from the moment it
 * is created, while it still resolves) takes a slot. Inbound streams from
 * one IPv4 address or one IPv6 prefix (limits.ipv6_prefix) are capped at
 * limits.max_streams_per_ip. Unauthenticated inbound streams may take at
 * most (100 - limits.reserved_authenticated)% of the slots; the rest stays
 * for authenticated and outbound streams. When a new stream finds no room,
 * an unauthenticated inbound stream gives way: the oldest one of the
 * address (or prefix) holding the most streams, so a crowd can delay an
 * honest peer but never lock it out. The same happens before the sockets
 * of all streams reach rs_daemon.fd_budget (ulimit -n less a headroom):
 * libuv silently drops what it cannot accept, so room is made before.
 * Evicted and refused streams get their stream error and lose their socket
 * at once, without the close grace period. */
#ifndef RS_ADMISSION_H
#define RS_ADMISSION_H

#include <stdbool.h>

#include "conn.h"
#include "daemon.h"

/* Room for c, an inbound stream just accepted. true: it may stay (older
 * unauthenticated streams may have been closed for it); false: it must be
 * refused, *why says why. */
bool admission_inbound(rs_daemon *srv, rs_conn *c, const char **why);

/* Room for one more outbound stream (may close an unauthenticated inbound
 * stream for it). */
bool admission_outbound(rs_daemon *srv);

/* Close one unauthenticated inbound stream to free its socket (after an
 * accept failed for lack of file descriptors). false when there is none. */
bool admission_evict_one(rs_daemon *srv, const char *why);

#endif
