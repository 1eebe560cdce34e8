/* bench_conn.h -- the load generator's s2s streams: one epoll loop driving
 * many non-blocking TCP connections through STARTTLS (GnuTLS on the socket)
 * and SASL EXTERNAL, in both roles a real peer plays:
 *   - outbound (BC_OUT): we dial the target as FROM, ask for STARTTLS, present
 *     our certificate and authenticate with SASL EXTERNAL (XEP-0178);
 *   - inbound (BC_IN): the target dials our listener to answer (its replies
 *     travel on its own stream, DESIGN.md "how a ping travels"); we offer
 *     STARTTLS, then EXTERNAL, and accept it only for a certificate that
 *     verifies against our trust anchors for the stream's `from`.
 * The target's server certificate is not checked on our outbound streams
 * (what it costs the target is measured, not its credentials).
 * XML goes through the project's own parser (xmlstream.h, libxml2 push);
 * TLS is GnuTLS directly, since tls.c serves catalog domains and has no
 * client credentials of its own. Writes are queued and flushed once per
 * loop turn, so pipelined stanzas share TLS records. */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <libxml/tree.h>

#include "xmlstream.h"

typedef enum { BC_OUT, BC_IN } bc_role;

/* Where one stream is; each state names what we wait for. */
typedef enum {
    BC_CONNECTING,     /* out: TCP connect in progress */
    BC_WAIT_HEADER,    /* in: the peer's stream header of this stage */
    BC_WAIT_FEATURES,  /* out: the features of this stage */
    BC_WAIT_PROCEED,   /* out: <proceed/> after our <starttls/> */
    BC_WAIT_STARTTLS,  /* in: <starttls/> */
    BC_HANDSHAKE,      /* both: TLS handshake running */
    BC_WAIT_SUCCESS,   /* out: SASL <success/> */
    BC_WAIT_AUTH,      /* in: <auth mechanism='EXTERNAL'> */
    BC_READY,          /* authenticated: stanzas flow */
    BC_DEAD            /* closed or failed; freed by the loop */
} bc_state;

/* Stream stage: what the current stream header follows. */
enum { BC_STAGE_PLAIN, BC_STAGE_TLS, BC_STAGE_AUTHED };

typedef struct bc_loop bc_loop;
typedef struct bc_conn bc_conn;

/* What the owner (a mode) is told. */
typedef struct bc_events {
    void (*ready)(bc_loop *l, bc_conn *c);                   /* authenticated */
    void (*element)(bc_loop *l, bc_conn *c, xmlNodePtr el);  /* a stanza once ready */
    void (*dead)(bc_loop *l, bc_conn *c, const char *why);   /* before it is freed */
} bc_events;

/* One stream. */
struct bc_conn {
    int kind;                 /* BC_KIND_CONN (epoll tag) */
    bc_role role;             /* who dialled */
    bc_state state;           /* see bc_state */
    int stage;                /* BC_STAGE_* */
    int fd;                   /* the socket */
    unsigned index;           /* the owner's number for it */
    bool out_armed;           /* EPOLLOUT requested */
    bool dirty;               /* queued output not yet flushed */
    bool tls_retry;           /* gnutls_record_send owes a retry of tls_pending */
    bool closing;             /* close once the queue is flushed */
    bool was_ready;           /* reached BC_READY at some point */
    gnutls_session_t tls;     /* NULL before STARTTLS */
    rs_xmlstream *xs;         /* the parser of the current stream */
    char peer[256];           /* the peer's domain (header from / our to) */
    char *out;                /* queued plaintext */
    size_t out_len;           /* bytes queued */
    size_t out_cap;           /* bytes allocated */
    size_t tls_pending;       /* bytes the owed GnuTLS retry covers */
    bc_conn *next_dirty;      /* the loop's list of connections to flush */
    bc_conn *prev, *next;     /* the loop's list of all connections */
};

/* Settings of a loop; strings are not copied and must outlive it. */
typedef struct bc_config {
    const char *from;        /* our domain */
    const char *to;          /* the target's domain we dial */
    const char *cert;        /* our certificate (PEM, with chain) */
    const char *key;         /* its key */
    const char *const *cas;  /* trust anchors (PEM files), NULL-terminated */
    const char *priority;    /* GnuTLS priority string for both roles */
    struct sockaddr_storage target;   /* where outbound streams go */
    socklen_t target_len;
    bc_events ev;            /* callbacks */
    void *ud;                /* the owner's pointer */
} bc_config;

/* The loop. */
struct bc_loop {
    bc_config cfg;            /* copied */
    int epfd;                 /* epoll */
    int listen_fd;            /* -1 without a listener */
    gnutls_certificate_credentials_t creds; /* ours, and the anchors */
    gnutls_priority_t prio;   /* cfg.priority, parsed once */
    bc_conn *all;             /* every live connection */
    bc_conn *dirty;           /* connections with output to flush */
    unsigned live[2];         /* live connections per role */
    unsigned failed;          /* connections that died before READY */
    char last_error[256];     /* why the last one died */
};

/* Set up the loop (credentials, epoll). 0, or -1 with err filled. */
int bc_loop_init(bc_loop *l, const bc_config *cfg, char *err, size_t n);

/* Listen for the target's own streams on addr. 0 or -1 with err. */
int bc_listen(bc_loop *l, const struct sockaddr *addr, socklen_t len, char *err,
              size_t n);

/* Dial the target from source (NULL: any address). NULL on a local failure
 * (with l->last_error); otherwise the stream reports through the events. */
bc_conn *bc_dial(bc_loop *l, const struct sockaddr *source, socklen_t len,
                 unsigned index);

/* Queue bytes on a stream (flushed at the end of the loop turn). */
void bc_send(bc_loop *l, bc_conn *c, const char *data, size_t len);

/* Close a stream cleanly: </stream:stream>, close_notify, then the socket. */
void bc_close(bc_loop *l, bc_conn *c);

/* One loop turn: wait up to timeout_ms, handle events, flush, reap. */
void bc_turn(bc_loop *l, int timeout_ms);

/* Close everything and free the loop. */
void bc_loop_free(bc_loop *l);

/* Element helpers: name and namespace match; first child element so named. */
bool bc_is(xmlNodePtr el, const char *ns, const char *name);
const char *bc_attr(xmlNodePtr el, const char *name, char *buf, size_t n);

#endif
