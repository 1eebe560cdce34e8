/* conn.h -- the transport of one XMPP stream: a libuv TCP socket, an
 * optional TLS session (tls.h) and the XML parser fed with the plaintext.
 * The owner gets events through a handler table and drives the protocol;
 * the conn only moves bytes. conn_close() closes in order (README.md); then
 * handler->closed runs and the conn is freed. Never free it otherwise. */
#ifndef RS_CONN_H
#define RS_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "daemon.h"
#include "domains.h"
#include "log.h"
#include "tls.h"
#include "xmlstream.h"

struct rs_daemon;
typedef struct rs_conn rs_conn;

/* Which side opened the TCP connection. */
typedef enum {
    CONN_IN, /* a peer dialled us */
    CONN_OUT /* we dialled a peer */
} conn_dir;

/* Where the TLS layer is. */
typedef enum {
    CONN_TLS_NONE,      /* plaintext */
    CONN_TLS_HANDSHAKE, /* handshake in progress */
    CONN_TLS_ACTIVE     /* records flow */
} conn_tls_state;

/* Events for the owner. Any may be NULL except closed. After conn_close the
 * owner only gets closed. */
typedef struct conn_handler {
    void (*connected)(rs_conn *c, int status);   /* outbound: 0 or uv error */
    void (*header)(rs_conn *c, const xmlstream_header *h);
    bool (*opening)(rs_conn *c, const char *name, const char *ns); /* a
                                                    top-level element starts:
                                                    false ends the stream
                                                    here (the owner sent its
                                                    error), unread */
    void (*element)(rs_conn *c, xmlNodePtr el);
    void (*stream_end)(rs_conn *c);              /* peer sent </stream:stream> */
    void (*tls_done)(rs_conn *c, bool ok, const char *why);
    void (*timeout)(rs_conn *c);                 /* conn_set_timeout expired */
    void (*drained)(rs_conn *c);                 /* output fell back under
                                                    limits.send_buffer_bytes */
    void (*closed)(rs_conn *c, const char *why); /* last call; then freed */
} conn_handler;

/* What the transport saw, for whoever records the stream (record.h); each
 * call runs before the owner's handler hears of the same thing. */
typedef struct conn_observer {
    void (*tls)(void *ud, bool ok, const char *alert); /* handshake ended;
                                     alert "received ..."/"sent ..." or "" */
    void (*peer_ended)(void *ud);                 /* peer sent </stream:stream> */
    void (*error_sent)(void *ud, const char *condition); /* we end it with a
                                                     stream error */
    void (*closing)(void *ud, const char *why);   /* conn_close began */
    void (*idle)(void *ud);                       /* read nothing for a while
                                                     (its parser went back) */
    void (*freed)(void *ud);                      /* last call */
} conn_observer;

/* Why reading is paused, as bits of rs_conn.read_paused. */
enum {
    CONN_PAUSE_OWN_OUTPUT = 1 << 0, /* this stream's own output is full */
    CONN_PAUSE_REPLIES = 1 << 1     /* our stream carrying the replies to
                                       this peer is full (s2s_in.c) */
};

struct rs_conn {
    uv_tcp_t tcp;                 /* the socket */
    uv_timer_t timer;             /* owner's timeout, then the close grace */
    struct rs_daemon *srv;        /* the daemon */
    rs_domains *domains;          /* generation in use (referenced) */
    unsigned id;                  /* for logs */
    conn_dir dir;
    char peer_ip[48];             /* remote address (INET6_ADDRSTRLEN fits) */
    unsigned peer_port;
    char *local;                  /* our domain on this stream, NULL until
                                     known (conn_set_names; malloc'd) */
    char *remote;                 /* their domain, likewise */
    rs_tls *tls;                  /* NULL until STARTTLS (tls.h) */
    conn_tls_state tls_state;
    rs_xmlstream *xs;                /* parser of the peer's XML */
    const conn_handler *handler;
    void *owner;                  /* s2s_in or s2s_out */
    bool header_sent;             /* our stream header is out */
    bool close_sent;              /* our </stream:stream> is out */
    bool closing;                 /* conn_close was called */
    bool peer_gone;               /* EOF or error from the peer */
    int open_handles;             /* tcp + timer still open */
    char *close_why;              /* reason given to closed (malloc'd at
                                     close; NULL: "closed") */
    uint64_t bytes_in, bytes_out; /* raw bytes on the socket */
    const struct conn_observer *observer; /* who records this stream's
                                     events (record.h), or NULL */
    void *observer_ud;            /* its argument */
    char peer_key[48];            /* peer_ip, or its IPv6 prefix "a:b::/64":
                                     the unit of per-IP caps and log limits */
    uv_timer_t stall;             /* runs while the output is over the bound */
    size_t out_pending;           /* bytes handed to libuv, not yet written */
    bool send_full;               /* out_pending went over send_buffer_bytes
                                     and has not yet drained to half of it */
    bool stalled;                 /* closed because the peer did not read */
    unsigned read_paused;         /* CONN_PAUSE_* bits; reading when 0 */
    unsigned idle_on_write;       /* > 0: a completed write re-arms the
                                     owner's timeout with this many seconds */
    unsigned idle_on_read;        /* > 0: bytes read (a whitespace keepalive
                                     too) re-arm it likewise */
    bool authenticated;           /* inbound: the peer authenticated (SASL or
                                     dialback); a server stream is then never
                                     evicted */
    bool client;                  /* a client stream (c2s): jabber:client,
                                     logged as c2s */
    bool counted_in;              /* in the daemon's live inbound counts
                                     (conn_count.c) */
    bool bound;                   /* a client stream bound a resource: it
                                     gives way only after the unbound ones,
                                     the longest idle first (admission.h) */
    uint64_t last_read_ms;        /* loop time of the last bytes read */
    bool corked;                  /* TLS output held until the loop turn
                                     ends; listed in rs_daemon.flush_list */
    struct rs_conn *flush_next, *flush_prev; /* in that list */
    struct rs_conn *next;         /* in the server's list */
    struct rs_conn *prev;         /* in the server's list, for O(1) unlinking */
    struct rs_conn *evict_prev, *evict_next; /* among the evictable streams
                                     of its address and rank, by evict_key
                                     (conn_count.c) */
    uint64_t evict_key;           /* its order there: the id while unsettled,
                                     a bound session's last activity after */
    int evict_rank;               /* which rank it is listed in (conn_count.c),
                                     -1: none (never evicted) */
    struct rs_conn *id_next;      /* in its rs_daemon.ids chain (conn_ids.c) */
};

/* Coalesce output: from now on what conns send over TLS in one loop turn
 * leaves in as few records and writes as fit, before the loop next waits
 * for I/O (a uv_prepare handle); and once a second, streams that read
 * nothing for CONN_PARSER_IDLE_MS give their XML parser back between
 * stanzas (xmlstream_release: an idle stream's largest cost). conn_flush_stop
 * sends what waits and turns both off. */
#define CONN_PARSER_IDLE_MS 1000
#define CONN_TRIM_AFTER 64 /* parsers given back in one sweep: trim the heap */
void conn_flush_start(struct rs_daemon *srv);
void conn_flush_stop(struct rs_daemon *srv);

/* Live inbound streams of pool from the address (or IPv6 prefix)
 * peer_key, in constant time (kept as streams open and close: conn_count.c). */
unsigned conn_streams_from(const struct rs_daemon *srv, daemon_pool_kind pool,
                           const char *peer_key);

/* The pool c counts in: clients for client streams, servers otherwise. */
daemon_pool_kind conn_pool(const rs_conn *c);

/* Free the per-address counts of both pools (the daemon's end, after the
 * last conn). */
void conn_addrs_free(struct rs_daemon *srv);

/* A new conn on the server's loop, registered in its list. NULL on failure. */
rs_conn *conn_new(struct rs_daemon *srv, conn_dir dir,
                  const conn_handler *handler, void *owner);

/* Name the stream's ends for logs and records: our domain and theirs
 * ("-" when unknown). NULL leaves one as it is. */
void conn_set_names(rs_conn *c, const char *local, const char *remote);

/* This is a client stream (c2s.h): our header says jabber:client (no
 * dialback namespace) and its log lines start with c2s. */
void conn_set_client(rs_conn *c);

/* The peer authenticated: it may send stanzas with children up to
 * limits.max_stanza_bytes (before: limits.max_unauth_stanza_bytes, no child
 * elements); a server stream is never evicted from then on (admission.h), a
 * client stream still may be, until and after it binds. */
void conn_set_authenticated(rs_conn *c);

/* A client stream bound a resource: it no longer goes before other bound
 * sessions, and among them the longest idle goes first (admission.h). */
void conn_set_bound(rs_conn *c);

/* A bound client sent a stanza: it is the least idle of its pool now.
 * Whitespace keepalives do not count: holding a slot takes more than
 * keeping the socket open. */
void conn_set_active(rs_conn *c);

/* From now on a completed write re-arms the owner's timeout with seconds
 * (0: it does not), so a peer that reads our output is not idle. */
void conn_set_idle_on_write(rs_conn *c, unsigned seconds);

/* From now on any bytes read re-arm the owner's timeout with seconds (0:
 * they do not): a client's whitespace keepalives keep its session. Only
 * for authenticated streams: before, the clock must not be fed by a
 * trickle (unauthenticated streams have a hard deadline). */
void conn_set_idle_on_read(rs_conn *c, unsigned seconds);

/* The owner lets go: no more events reach it; the conn finishes closing on
 * its own. */
void conn_detach(rs_conn *c);

/* The peer's XML starts anew after STARTTLS or SASL (RFC 6120 4.3.3). */
void conn_restart_stream(rs_conn *c);

/* Let ob see c's events from now on (one observer; ob static). */
void conn_observe(rs_conn *c, const conn_observer *ob, void *ud);

/* Accept a pending connection from listener and start reading. */
int conn_accept(rs_conn *c, uv_stream_t *listener);

/* Connect to addr; handler->connected follows, then reading starts. */
int conn_connect(rs_conn *c, const struct sockaddr *addr);

/* Send bytes (through TLS when active). Errors close the conn. */
void conn_send(rs_conn *c, const char *data, size_t len);

/* Send printf-formatted text, of any length (no fixed buffer). */
void conn_send_fmt(rs_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stop reading for reason (a CONN_PAUSE_* bit) / drop the reason; reading
 * resumes when no reason is left. */
void conn_pause_reading(rs_conn *c, unsigned reason);
void conn_resume_reading(rs_conn *c, unsigned reason);

/* Send a NUL-terminated string. */
void conn_send_str(rs_conn *c, const char *s);

/* Send an element, serialized. */
void conn_send_node(rs_conn *c, xmlNodePtr el);

/* Send our stream header (from/to/id may be NULL to omit). */
void conn_send_header(rs_conn *c, const char *from, const char *to,
                      const char *id);

/* Start TLS (tls_new). As server, dom's certificate and TLS policy apply
 * unless the ClientHello's SNI names another of our domains, whose own then
 * do; as client, dom is presented if the peer asks and sni is sent. The
 * owner must have called xmlstream_restart as the protocol says. */
int conn_starttls(rs_conn *c, const rs_domain *dom, const char *sni);

/* Arm the owner's timeout (seconds); 0 disarms. */
void conn_set_timeout(rs_conn *c, unsigned seconds);

/* Send a stream error (with a header first if none was sent) and close. */
void conn_stream_error(rs_conn *c, const char *condition, const char *text);

/* Close the socket at once, without waiting for the peer to read what is
 * pending (after conn_stream_error: its descriptor is free on return). */
void conn_abort(rs_conn *c, const char *why);

/* Every stream of srv ends (shutdown): system-shutdown where our header is
 * out, an orderly close otherwise. */
void conn_shutdown_all(struct rs_daemon *srv);

/* Orderly close; why is logged and given to handler->closed. */
void conn_close(rs_conn *c, const char *why);

/* Log a line about this stream: "DIR#ID IP:PORT local=.. remote=.. event=EV ...".
 * At most limits.log_per_minute lines per peer address (log_peer_allowed). */
void conn_log(const rs_conn *c, log_level level, const char *event,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The stream eviction closes in pool (admission.h), never except, NULL
 * when there is none: of the address (or prefix) holding the most live
 * inbound streams of the pool among those with an evictable one, its
 * oldest (lowest id) unsettled stream (servers: not authenticated;
 * clients: not bound), else (clients) its longest-idle bound session.
 * Kept ready as streams open, authenticate, bind, send
 * stanzas and close (conn_count.c): constant time, however many streams
 * are open. */
rs_conn *conn_eviction_victim(const struct rs_daemon *srv, daemon_pool_kind pool,
                              const rs_conn *except);

/* The conn with this id, live or closing, or NULL once it is gone:
 * constant time (conn_ids.c). */
rs_conn *conn_find(const struct rs_daemon *srv, unsigned id);

#endif
