/* c2s_internal.h -- what c2s.c (the stream machine) and c2s_session.c (a
 * bound session) share: the stream's state and the hub. Not for other
 * modules. */
#ifndef RS_C2S_INTERNAL_H
#define RS_C2S_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "c2s.h"
#include "clients.h"
#include "conn.h"
#include "dialback.h"
#include "sasl_client.h"

#define C2S_MAX_AUTH_TRIES 3 /* SASL failures before the stream ends */

typedef enum {
    C2S_HEADER,      /* waiting for the client's first stream header */
    C2S_STARTTLS,    /* offered STARTTLS (required); waiting for <starttls/> */
    C2S_TLS,         /* TLS handshake running */
    C2S_HEADER_TLS,  /* waiting for the header that restarts the stream in TLS */
    C2S_AUTH,        /* mechanisms offered; waiting for <auth/> */
    C2S_SASL,        /* a SASL exchange runs: challenge sent, <response/> next */
    C2S_HEADER_SASL, /* authenticated; waiting for the restart header */
    C2S_BIND,        /* <bind/> offered; waiting for the bind request */
    C2S_READY        /* bound: the session's stanzas (c2s_session.c) */
} c2s_state;

typedef enum {
    C2S_EV_HEADER,   /* arg: const xmlstream_header * */
    C2S_EV_ELEMENT,  /* arg: xmlNodePtr */
    C2S_EV_TLS_OK,   /* arg: NULL */
    C2S_EV_TLS_FAIL, /* arg: const char *why */
    C2S_EV_TIMEOUT   /* arg: NULL */
} c2s_event;

typedef struct rs_c2s_stream {
    rs_conn *conn;                /* its transport */
    rs_c2s *hub;                  /* the daemon's client side */
    rs_clients_record *rec;          /* what it did, for the client report
                                     (clients.h); NULL without memory */
    c2s_state state;
    const rs_domain *dom;         /* the test domain it is for */
    bool direct_tls;              /* came in on the XEP-0368 port */
    char stream_id[DIALBACK_STREAM_ID]; /* our id for the current stream */
    rs_sasl_client *sasl;            /* the exchange running, or NULL */
    sasl_client_mech mech;        /* its mechanism */
    unsigned auth_failures;       /* SASL attempts refused so far */
    char jid[3072];               /* the bound full JID, "" before binding */
    char key[80];                 /* "c2s IP": rate budgets and sessions per
                                     address count by it */
    struct rs_c2s_stream *next;      /* in hub->sessions once bound */
    struct rs_c2s_stream **pprev;    /* what points at it there, NULL while
                                     not listed: leaving takes constant time */
    struct rs_c2s_stream *jid_next;  /* in its hub->by_jid bucket once bound */
} rs_c2s_stream;

struct rs_c2s {
    rs_daemon *srv;               /* the daemon */
    sasl_client_account account;  /* test/test, salted at start */
    rs_c2s_stream *sessions;         /* bound sessions */
    unsigned n_sessions;
    rs_c2s_stream **by_jid;          /* bound sessions by full JID (ASCII case
                                     ignored), chained through jid_next:
                                     a delivery or a bind finds its session
                                     without a walk over all of them */
    size_t by_jid_size;           /* buckets, a power of two; 0 before the
                                     first bind */
};

/* Formatted output of any length. */
#define c2s_send(s, ...) conn_send_fmt((s)->conn, __VA_ARGS__)

/* ---- c2s_session.c ------------------------------------------------------- */

/* The bind request (or anything else) after authentication. */
void c2s__session_bind(rs_c2s_stream *s, xmlNodePtr el);

/* A stanza of a bound session. */
void c2s__session_stanza(rs_c2s_stream *s, xmlNodePtr el);

/* Leave the hub's list (the stream is closing). */
void c2s__session_end(rs_c2s_stream *s);

#endif
