/* s2s_in_internal.h -- what s2s_in.c (the stream machine) and
 * s2s_in_dialback.c (dialback on it) share: the stream's state and the
 * helpers both use. Not for other modules. */
#ifndef RS_S2S_IN_INTERNAL_H
#define RS_S2S_IN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "conn.h"
#include "dialback.h"
#include "record.h"
#include "report.h"
#include "verify.h"

#define MAX_PAIRS 16   /* dialback-authenticated domain pairs per stream */
#define MAX_PENDING 8  /* dialback verifications in flight per stream */

typedef enum {
    IN_HEADER,      /* waiting for the peer's first stream header */
    IN_STARTTLS,    /* offered STARTTLS (required); waiting for <starttls/> */
    IN_TLS,         /* TLS handshake running */
    IN_HEADER_TLS,  /* waiting for the header that restarts the stream in TLS */
    IN_AUTH,        /* offered SASL EXTERNAL and/or dialback */
    IN_HEADER_SASL, /* SASL succeeded; waiting for the restart header */
    IN_READY        /* authenticated: stanzas are accepted */
} s2s_in_state;

typedef enum {
    IN_EV_HEADER,   /* arg: const xmlstream_header * */
    IN_EV_ELEMENT,  /* arg: xmlNodePtr */
    IN_EV_TLS_OK,   /* arg: NULL */
    IN_EV_TLS_FAIL, /* arg: const char *why */
    IN_EV_TIMEOUT   /* arg: NULL */
} s2s_in_event;

/* A (our domain, their domain) pair. */
typedef struct s2s_in_pair {
    char local[256];
    char remote[256];
} s2s_in_pair;

typedef struct rs_s2s_in {
    rs_conn *conn;
    rs_record *rec;               /* its outcome record (record.h) */
    s2s_in_state state;
    const rs_domain *dom;         /* the test domain this stream is for */
    char stream_id[DIALBACK_STREAM_ID]; /* our id for the current stream */
    char *peer_from;              /* 'from' of the peer's header (malloc'd;
                                     NULL before one: read it with FROM) */
    bool external_offered;        /* we offered SASL EXTERNAL */
    bool direct_tls;              /* came in on the XEP-0368 port */
    bool sasl_done;               /* authenticated by SASL as peer_from
                                     (a later header may only repeat it) */
    s2s_in_pair *pairs;               /* authenticated by dialback (n_pairs,
                                     allocated as they come: most streams
                                     have none or one) */
    size_t n_pairs;
    s2s_in_pair *pending;             /* dialback verifications in flight */
    size_t n_pending;
    char replies_to[256];         /* reading paused until our stream to
                                     this domain drains (CONN_PAUSE_REPLIES) */
    bool replies_listed;          /* in rs_daemon.replies_paused */
    struct rs_s2s_in *paused_prev, *paused_next; /* in that list */
} rs_s2s_in;

/* The peer's 'from', "" before its header or without one. */
#define FROM(s) ((s)->peer_from ? (s)->peer_from : "")

/* Formatted output of any length (peer-supplied ids can be long). */
#define s2s_in_send(s, ...) conn_send_fmt((s)->conn, __VA_ARGS__)

/* An escaped copy of a peer-supplied value, for our replies (never NULL
 * unless memory ran out twice; free it). */
char *s2s_in__esc(const char *v);

/* One more entry at the end of *list (n entries), grown as needed; NULL
 * out of memory. The caller bounds n (MAX_PAIRS, MAX_PENDING). */
s2s_in_pair *s2s_in__pair_add(s2s_in_pair **list, size_t *n);

/* Whether (local, remote) is in list. */
bool s2s_in__pair_listed(const s2s_in_pair *list, size_t n, const char *local,
                         const char *remote);

/* The stream is authenticated: stanzas are accepted, the idle clock runs. */
void s2s_in__become_ready(rs_s2s_in *s);

/* How the peer's authentication went, for the report; a refusal is ours. */
void s2s_in__outcome_auth(rs_s2s_in *s, const char *method, report_auth result,
                          const char *condition, const char *text);

/* The peer's <db:result/> (a claim to be 'from' for our 'to') and
 * <db:verify/> (it asks us, as authoritative server, about a key). */
void s2s_in__db_result(rs_s2s_in *s, xmlNodePtr el);
void s2s_in__db_verify(rs_s2s_in *s, xmlNodePtr el);

#endif
