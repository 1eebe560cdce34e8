/* tls.h -- the TLS layer of one stream: a GnuTLS session presenting a test
 * domain's certificate with that domain's TLS policy, fed ciphertext by the
 * transport and writing through it, so it never blocks. As server, SNI
 * naming another of our domains switches to that domain's whole policy
 * before GnuTLS reads the hello. Certificates: domains.h; verifying the
 * peer's: verify.h. */
#ifndef RS_TLS_H
#define RS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

#include "catalog.h"
#include "domains.h"

typedef struct rs_tls rs_tls;

/* What the session needs from its transport; ud is given back. */
typedef struct tls_io {
    int (*write)(void *ud, const void *data, size_t len); /* ciphertext to the
                                                             peer; < 0 = failed */
    void (*note)(void *ud, const char *text); /* a line worth logging */
} tls_io;

/* Where a handshake step left the session. */
typedef enum {
    RS_TLS_AGAIN, /* waiting for the peer's bytes */
    RS_TLS_DONE,  /* handshake complete: records flow */
    RS_TLS_FAILED /* fatal; why (and the alert) were written */
} tls_step;

/* tls_recv's answers besides a byte count. */
enum {
    RS_TLS_RECV_CLOSED = 0,   /* the peer sent close_notify */
    RS_TLS_RECV_AGAIN = -1,   /* every buffered record was read */
    RS_TLS_RECV_ERROR = -2    /* fatal; why was written */
};

/* The GnuTLS priority string of a profile: its own, or the default (TLS 1.2
 * and later, RFC 8996) when it has none. */
const char *tls_priority_string(const catalog_profile *profile);

/* Whether GnuTLS accepts the profile's priority string; if not, a message
 * naming the string and the place GnuTLS stopped goes to err. */
bool tls_priority_check(const catalog_profile *profile, char *err, size_t n);

/* A session presenting dom with dom's policy. As server (server true),
 * SNI naming another domain of domains switches to that domain; as client,
 * sni (may be NULL) is sent and dom is presented if the peer asks. NULL on
 * failure. domains and dom must outlive the session. */
rs_tls *tls_new(bool server, const rs_domains *domains, const rs_domain *dom,
                const char *sni, const tls_io *io, void *ud);

/* Release the session (NULL is fine). */
void tls_free(rs_tls *t);

/* Ciphertext from the peer, buffered until GnuTLS takes it. -1 when the
 * backlog would pass its bound (1 MiB). */
int tls_feed(rs_tls *t, const void *data, size_t len);

/* Run the handshake as far as the buffered bytes allow. On RS_TLS_FAILED,
 * why says what went wrong and alert names the alert received or sent
 * ("received certificate_expired", "sent protocol_version"), or is left
 * untouched when there was none. */
tls_step tls_handshake(rs_tls *t, char *why, size_t why_n, char *alert,
                       size_t alert_n);

/* Plaintext of the next record into buf: a byte count or RS_TLS_RECV_*. */
ssize_t tls_recv(rs_tls *t, void *buf, size_t n, char *why, size_t why_n);

/* Hold what tls_send gives until tls_uncork, which sends it in as few
 * records (and socket writes) as fit: replies made in one loop turn leave
 * together (conn.c). A full record's worth leaves at once; the held bytes'
 * storage goes back when they leave. */
void tls_cork(rs_tls *t);
int tls_uncork(rs_tls *t); /* 0, or a GnuTLS error code (negative) */

/* Send all of data as records. 0, or a GnuTLS error code (negative). */
int tls_send(rs_tls *t, const void *data, size_t len);

/* Send close_notify. */
void tls_bye(rs_tls *t);

/* TLS version and cipher of a completed handshake, e.g. "TLS1.3 AES-256-GCM";
 * "none" before (or without) one. */
void tls_describe(const rs_tls *t, char *out, size_t n);

/* Server side: the host name the peer sent by SNI, or "". */
const char *tls_sni(const rs_tls *t);

/* The domain whose certificate and policy the session uses (NULL for none). */
const rs_domain *tls_domain(const rs_tls *t);

/* Whether our certificate went to the peer in the handshake. */
bool tls_sent_certificate(const rs_tls *t);

/* "received bad_certificate" when a fatal alert ended the session after
 * the handshake (how a TLS 1.3 server refuses a client certificate), else
 * "". */
const char *tls_alert_after_handshake(const rs_tls *t);

/* The GnuTLS session, for verify.c (verify_peer). */
gnutls_session_t tls_session(const rs_tls *t);

#endif
