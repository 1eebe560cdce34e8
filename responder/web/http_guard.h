/* http_guard.h -- who holds the connections of a libmicrohttpd daemon and
 * who gives way, so that a crowd that trickles its requests cannot hold
 * every slot: a cap per address, a total with a reserve for the priority
 * paths (the ACME challenge, the CRLs), a deadline for each whole request.
 * Calls come from the one thread that runs that daemon; no allocation
 * after http_guard_new. The rules: xmpp-responder.conf(5), "The web
 * listener"; why and how: README.md. */
#ifndef RS_HTTP_GUARD_H
#define RS_HTTP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>
#include <sys/socket.h>

#include "stats.h"

/* The bounds, read at every accept (they follow a reload). */
typedef struct http_guard_limits {
    unsigned total;        /* connections at once */
    unsigned per_address;  /* of them from one address (IPv6: prefix) */
    unsigned reserved;     /* more, for the priority paths only */
    unsigned deadline_s;   /* for a whole request to arrive */
    unsigned ipv6_prefix;  /* IPv6 addresses in one prefix are one address */
} http_guard_limits;

/* Whether one more log line about key may go out (log_peer_allowed). */
typedef bool (*http_guard_log_fn)(const char *key);

typedef struct rs_http_guard rs_http_guard;

/* Room for capacity connections (libmicrohttpd's own limit: total +
 * reserved + the ones cut and not yet closed). name prefixes log lines
 * ("http", "posh"); stats (may be NULL) gets the http_* counters; log_ok
 * (may be NULL: every event logged) bounds the lines per address. NULL
 * without memory. */
rs_http_guard *http_guard_new(unsigned capacity, const char *name, stats_counters *stats,
                              http_guard_log_fn log_ok);

void http_guard_free(rs_http_guard *g);

/* The apply-policy callback's decision for a connection from sa (exempt: a
 * trusted proxy) at now_ms: true to accept it, after cutting whoever must
 * give way; false to refuse it. */
bool http_guard_admit(rs_http_guard *g, const http_guard_limits *lim,
                      const struct sockaddr *sa, bool exempt, uint64_t now_ms);

/* MHD_OPTION_NOTIFY_CONNECTION: a connection started (the one just
 * admitted) or closed; socket_context is its slot. */
void http_guard_notify(rs_http_guard *g, struct MHD_Connection *c,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode code, uint64_t now_ms);

/* MHD_OPTION_URI_LOG_CALLBACK: c's request line arrived, naming uri. */
void http_guard_request_line(rs_http_guard *g, struct MHD_Connection *c,
                             const char *uri);

/* Whether c's request may be served: false when c holds a reserved slot,
 * its path is not a priority one and there is still no room (answer 503
 * and close). */
bool http_guard_may_serve(rs_http_guard *g, const http_guard_limits *lim,
                          struct MHD_Connection *c);

/* An answer to c is queued: from now on the guard waits for it to go out,
 * not for the request. */
void http_guard_answering(rs_http_guard *g, struct MHD_Connection *c,
                          uint64_t now_ms);

/* c's request ended (MHD_OPTION_NOTIFY_COMPLETED): it waits for the next
 * request, whose deadline starts now. */
void http_guard_request_done(rs_http_guard *g, struct MHD_Connection *c,
                             uint64_t now_ms);

/* Cut every connection whose request is past the deadline at now_ms;
 * milliseconds until the next deadline, UINT64_MAX when none waits. */
uint64_t http_guard_sweep(rs_http_guard *g, const http_guard_limits *lim,
                          uint64_t now_ms);

/* Whether uri (a request line's target) is a priority path: the ACME
 * http-01 challenge or the CRLs. */
bool http_guard_priority_path(const char *uri);

#endif
