/* tls.c -- GnuTLS sessions for streams: the priority (versions, ciphers) of
 * each profile, the credentials that present a test domain's chain, the SNI
 * switch to another domain's whole policy, records through the transport's
 * callbacks, and alerts named as RFC 8446 does. */
#include "tls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

#define TLS_IN_MAX (1u << 20) /* ciphertext backlog bound */
#define TLS_RECORD_MAX 16384  /* plaintext of a full record: corked output
                                 beyond it leaves at once */
#define PRIORITY_SLOTS 32     /* distinct priority strings in the catalog */
#define EXT_SERVER_NAME 0     /* the server_name extension (RFC 6066 3) */
#define SNI_HOST_NAME 0       /* its host_name entry type */

/* No profile but legacy-tls may negotiate TLS 1.0 or 1.1 (RFC 8996): the
 * default is GnuTLS's NORMAL without them, whatever the system allows. */
#define DEFAULT_PRIORITY "NORMAL:-VERS-TLS1.1:-VERS-TLS1.0"

struct rs_tls {
    gnutls_session_t session;   /* the GnuTLS session */
    const rs_domains *domains;  /* where SNI names are looked up */
    const rs_domain *domain;    /* presented, and whose policy is in use */
    bool server;                /* we answer the ClientHello */
    bool established;           /* the handshake completed */
    bool starved;               /* GnuTLS asked for bytes we do not have */
    bool hello_seen;            /* server: the first ClientHello chose the
                                   domain; a second one (after a TLS 1.3
                                   HelloRetryRequest) does not change it */
    rs_buf in;                  /* ciphertext not yet taken by GnuTLS */
    rs_buf out;                 /* plaintext held while corked: ours, not
                                   gnutls_record_cork's, whose buffer stays
                                   allocated (2 KiB per idle stream) */
    bool corked;                /* tls_send appends to out */
    char *sni;                  /* server side: the SNI host name (malloc'd),
                                   or NULL */
    char alert_in[64];          /* "received ..." once an alert ended the
                                   session after the handshake, else "" */
    unsigned char tail[7];      /* the last bytes GnuTLS took from us: a
                                   plaintext alert record is 7 bytes */
    size_t n_tail;              /* how many of them are filled */
    const tls_io *io;        /* the transport */
    void *ud;                   /* the transport's pointer */
};

/* One compiled priority string; profiles with the same string share it. */
typedef struct priority_slot {
    const char *string;          /* the priority string */
    gnutls_priority_t priority;  /* compiled */
} priority_slot;

static priority_slot priorities[PRIORITY_SLOTS];
static gnutls_certificate_credentials_t credentials; /* shared by sessions */

const char *tls_priority_string(const catalog_profile *profile)
{
    const char *p = profile->policy.tls_priority;
    return p ? p : DEFAULT_PRIORITY;
}

static int compile(const char *string, gnutls_priority_t *out, char *err,
                   size_t n)
{
    const char *where = NULL;
    int rc = gnutls_priority_init2(out, string, &where, 0);
    if (rc < 0)
        snprintf(err, n, "TLS priority '%s' rejected by GnuTLS at '%s': %s",
                 string, where ? where : "?", gnutls_strerror(rc));
    return rc;
}

bool tls_priority_check(const catalog_profile *profile, char *err, size_t n)
{
    gnutls_priority_t p;
    if (compile(tls_priority_string(profile), &p, err, n) < 0)
        return false;
    gnutls_priority_deinit(p);
    return true;
}

/* The compiled priority of dom's profile, compiled on first use and kept
 * for the process (profiles are compiled into the program). */
static gnutls_priority_t priority_of(const rs_domain *dom)
{
    const char *string = tls_priority_string(dom->profile);
    for (size_t i = 0; i < PRIORITY_SLOTS; i++) {
        priority_slot *s = &priorities[i];
        if (s->string && strcmp(s->string, string) == 0)
            return s->priority;
        if (s->string)
            continue;
        char err[512];
        if (compile(string, &s->priority, err, sizeof err) < 0) {
            log_msg(RS_LOG_ERROR, "%s: %s", dom->name, err);
            return NULL;
        }
        s->string = string;
        return s->priority;
    }
    log_msg(RS_LOG_ERROR, "more than %d TLS priority strings", PRIORITY_SLOTS);
    return NULL;
}

/* GnuTLS asks which certificate to present, as server (after ClientHello) or
 * as client (after CertificateRequest). We always present the domain's chain,
 * whatever CA names the peer asked for: presenting a bad certificate to peers
 * is the whole point. */
static int present_domain_chain(gnutls_session_t session,
                                const struct gnutls_cert_retr_st *info,
                                gnutls_pcert_st **certs, unsigned *n_certs,
                                gnutls_ocsp_data_st **ocsp, unsigned *n_ocsp,
                                gnutls_privkey_t *key, unsigned *flags)
{
    (void)info;
    const rs_tls *t = gnutls_session_get_ptr(session);
    *ocsp = NULL;
    *n_ocsp = 0;
    *flags = 0;
    /* a large set loads a domain's credentials on its first handshake; the
     * set is otherwise immutable, this only fills its cache */
    if (!t || !t->domain || domains_creds((rs_domains *)t->domains, t->domain) < 0) {
        *certs = NULL;
        *n_certs = 0;
        *key = NULL;
        return 0;
    }
    *certs = t->domain->chain;
    *n_certs = t->domain->chain_len;
    *key = t->domain->key;
    return 0;
}

static gnutls_certificate_credentials_t shared_credentials(void)
{
    if (!credentials) {
        if (gnutls_certificate_allocate_credentials(&credentials) < 0)
            return NULL;
        gnutls_certificate_set_retrieve_function3(credentials, present_domain_chain);
    }
    return credentials;
}

/* Present dom with its versions and ciphers. */
static int apply_policy(rs_tls *t, const rs_domain *dom)
{
    gnutls_priority_t p = priority_of(dom);
    if (!p)
        return GNUTLS_E_NO_PRIORITIES_WERE_SET;
    int rc = gnutls_priority_set(t->session, p);
    if (rc == 0)
        t->domain = dom;
    return rc;
}

/* ---- the ClientHello's SNI ------------------------------------------------ */

/* gnutls_ext_raw_parse callback: copy the host_name of server_name into
 * ctx (a char[256]); a name that is not printable ASCII is left out. */
static int read_server_name(void *ctx, unsigned tls_id, const unsigned char *data,
                            unsigned len)
{
    char *name = ctx;
    if (tls_id != EXT_SERVER_NAME)
        return 0;
    /* ServerNameList: u16 length, then (u8 type, u16 length, bytes)... */
    if (len < 2)
        return 0;
    unsigned list = (unsigned)data[0] << 8 | data[1];
    const unsigned char *p = data + 2;
    const unsigned char *end = data + 2 + (list < len - 2 ? list : len - 2);
    while (end - p >= 3) {
        unsigned type = p[0];
        unsigned n = (unsigned)p[1] << 8 | p[2];
        p += 3;
        if ((size_t)(end - p) < n)
            return 0;
        if (type == SNI_HOST_NAME && n > 0 && n < 256) {
            for (unsigned i = 0; i < n; i++)
                if (p[i] <= 0x20 || p[i] >= 0x7f)
                    return 0;
            memcpy(name, p, n);
            name[n] = '\0';
            return 0;
        }
        p += n;
    }
    return 0;
}

/* Before GnuTLS reads a ClientHello (versions are chosen right then, so
 * the post-client-hello function would be too late): the domain the peer
 * asks for by SNI, with its whole policy. Unknown or absent SNI keeps the
 * listener's domain. */
static int tls_on_handshake_message(gnutls_session_t session, unsigned htype,
                                    unsigned when, unsigned incoming,
                                    const gnutls_datum_t *msg)
{
    rs_tls *t = gnutls_session_get_ptr(session);
    if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO || when != GNUTLS_HOOK_PRE ||
        !incoming || !t || !t->server || t->hello_seen)
        return 0;
    t->hello_seen = true;
    char name[256] = "";
    /* a malformed hello is GnuTLS's to refuse when it reads it */
    (void)gnutls_ext_raw_parse(name, read_server_name, msg,
                               GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
    if (!name[0])
        return 0;
    t->sni = strdup(name);
    if (!t->sni)
        return GNUTLS_E_MEMORY_ERROR; /* the handshake fails */
    const rs_domain *d = domains_find(t->domains, name);
    if (!d) {
        if (t->io->note) {
            char text[400];
            snprintf(text, sizeof text, "SNI '%s' is not ours; presenting %s",
                     name, t->domain ? t->domain->name : "nothing");
            t->io->note(t->ud, text);
        }
        return 0;
    }
    return d == t->domain ? 0 : apply_policy(t, d);
}

/* ---- the transport --------------------------------------------------------- */

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    rs_tls *t = ptr;
    if (t->io->write(t->ud, data, len) < 0) {
        gnutls_transport_set_errno(t->session, EPIPE);
        return -1;
    }
    return (ssize_t)len;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
    rs_tls *t = ptr;
    if (t->in.len == 0) {
        t->starved = true;
        gnutls_transport_set_errno(t->session, EAGAIN);
        return -1;
    }
    size_t n = len < t->in.len ? len : t->in.len;
    memcpy(data, t->in.data, n);
    /* keep the last bytes taken, for plain_alert() */
    size_t keep = n < sizeof t->tail ? n : sizeof t->tail;
    size_t old = t->n_tail + keep > sizeof t->tail ? sizeof t->tail - keep : t->n_tail;
    memmove(t->tail, t->tail + t->n_tail - old, old);
    memcpy(t->tail + old, t->in.data + n - keep, keep);
    t->n_tail = old + keep;
    buf_consume(&t->in, n);
    return (ssize_t)n;
}

int tls_feed(rs_tls *t, const void *data, size_t len)
{
    return buf_append(&t->in, data, len, TLS_IN_MAX);
}

/* ---- sessions ---------------------------------------------------------------- */

rs_tls *tls_new(bool server, const rs_domains *domains, const rs_domain *dom,
                const char *sni, const tls_io *io, void *ud)
{
    gnutls_certificate_credentials_t creds = shared_credentials();
    rs_tls *t = creds && dom ? calloc(1, sizeof *t) : NULL;
    if (!t)
        return NULL;
    t->server = server;
    t->domains = domains;
    t->io = io;
    t->ud = ud;
    unsigned flags = server ? GNUTLS_SERVER : GNUTLS_CLIENT;
    if (gnutls_init(&t->session, flags | GNUTLS_NONBLOCK) < 0) {
        free(t);
        return NULL;
    }
    gnutls_session_set_ptr(t->session, t);
    if (apply_policy(t, dom) < 0 ||
        gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, creds) < 0) {
        tls_free(t);
        return NULL;
    }
    if (server) {
        /* ask for the peer's certificate for SASL EXTERNAL; verify.c judges */
        gnutls_certificate_server_set_request(t->session, GNUTLS_CERT_REQUEST);
        gnutls_handshake_set_hook_function(t->session, GNUTLS_HANDSHAKE_CLIENT_HELLO,
                                           GNUTLS_HOOK_PRE, tls_on_handshake_message);
    } else if (sni && sni[0]) {
        gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, sni, strlen(sni));
    }
    gnutls_transport_set_ptr(t->session, t);
    gnutls_transport_set_push_function(t->session, push);
    gnutls_transport_set_pull_function(t->session, pull);
    return t;
}

void tls_free(rs_tls *t)
{
    if (!t)
        return;
    gnutls_deinit(t->session);
    buf_free(&t->in);
    buf_free(&t->out);
    free(t->sni);
    free(t);
}

/* ---- alerts and failures ---------------------------------------------------- */

/* The alert in the last record GnuTLS took, if that record was a
 * plaintext alert (type 21, length 2): OpenSSL clients refusing our
 * certificate in TLS 1.3 send theirs in the clear, which GnuTLS, expecting
 * the client's handshake keys, reports as a decryption failure. -1 if not. */
static int plain_alert(const rs_tls *t)
{
    const unsigned char *r = t->tail;
    if (t->n_tail != sizeof t->tail || r[0] != 21 || r[1] != 3 || r[3] != 0 ||
        r[4] != 2 || (r[5] != 1 && r[5] != 2))
        return -1;
    return r[6];
}

/* Describe why a TLS operation failed, with the alert when there was one. */
static void tls_failure_text(const rs_tls *t, int rc, char *out, size_t n)
{
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED)
        snprintf(out, n, "alert received: %s",
                 gnutls_alert_get_name(gnutls_alert_get(t->session)));
    else if (rc == GNUTLS_E_DECRYPTION_FAILED && plain_alert(t) >= 0)
        snprintf(out, n, "alert received in the clear: %s",
                 gnutls_alert_get_name((gnutls_alert_description_t)plain_alert(t)));
    else if (rc == GNUTLS_E_PREMATURE_TERMINATION || rc == GNUTLS_E_PULL_ERROR)
        snprintf(out, n, "peer closed the connection during TLS");
    else
        snprintf(out, n, "%s", gnutls_strerror(rc));
}

/* "received certificate_expired": the RFC 8446 name of an alert. */
static void alert_name(gnutls_alert_description_t alert, const char *dir,
                       char *out, size_t n)
{
    const char *name = gnutls_alert_get_strname(alert); /* GNUTLS_A_... */
    if (!name)
        name = "unknown";
    if (strncmp(name, "GNUTLS_A_", 9) == 0)
        name += 9;
    int len = snprintf(out, n, "%s ", dir);
    for (size_t i = 0; name[i] && len >= 0 && (size_t)len + 1 < n; i++)
        out[len++] = (char)tolower((unsigned char)name[i]);
    out[len < 0 ? 0 : ((size_t)len < n ? (size_t)len : n - 1)] = '\0';
}

/* The alert of a failed handshake: the peer's, or the one we send now, as
 * TLS wants (it fails quietly when the peer is gone). */
static void failure_alert(rs_tls *t, int rc, char *out, size_t n)
{
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        alert_name(gnutls_alert_get(t->session), "received", out, n);
        return;
    }
    int plain = rc == GNUTLS_E_DECRYPTION_FAILED ? plain_alert(t) : -1;
    if (plain >= 0) {
        alert_name((gnutls_alert_description_t)plain, "received", out, n);
        return;
    }
    int level;
    int alert = gnutls_error_to_alert(rc, &level);
    if (alert >= 0 && gnutls_alert_send_appropriate(t->session, rc) >= 0)
        alert_name((gnutls_alert_description_t)alert, "sent", out, n);
}

tls_step tls_handshake(rs_tls *t, char *why, size_t why_n, char *alert,
                       size_t alert_n)
{
    for (;;) {
        int rc = gnutls_handshake(t->session);
        if (rc == 0) {
            t->established = true;
            return RS_TLS_DONE;
        }
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
            return RS_TLS_AGAIN;
        if (!gnutls_error_is_fatal(rc))
            continue; /* e.g. a warning alert: go on */
        tls_failure_text(t, rc, why, why_n);
        failure_alert(t, rc, alert, alert_n);
        return RS_TLS_FAILED;
    }
}

/* ---- records ------------------------------------------------------------------ */

ssize_t tls_recv(rs_tls *t, void *buf, size_t n, char *why, size_t why_n)
{
    unsigned spins = 0;
    for (;;) {
        t->starved = false;
        ssize_t got = gnutls_record_recv(t->session, buf, n);
        if (got > 0)
            return got;
        if (got == 0)
            return RS_TLS_RECV_CLOSED;
        /* GnuTLS also answers AGAIN after a post-handshake message (TLS 1.3
         * session tickets) with records still buffered: only stop when it
         * really asked for more bytes. */
        if (got == GNUTLS_E_AGAIN && (t->starved || ++spins > 64))
            return RS_TLS_RECV_AGAIN;
        if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED ||
            !gnutls_error_is_fatal((int)got))
            continue;
        tls_failure_text(t, (int)got, why, why_n);
        if (got == GNUTLS_E_FATAL_ALERT_RECEIVED)
            alert_name(gnutls_alert_get(t->session), "received", t->alert_in,
                       sizeof t->alert_in);
        return RS_TLS_RECV_ERROR;
    }
}

/* Records now: GnuTLS frees each one once our push has copied it. */
static int send_records(rs_tls *t, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = gnutls_record_send(t->session, p, len);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue; /* our push never blocks; retry the same record */
        if (n < 0)
            return (int)n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int tls_send(rs_tls *t, const void *data, size_t len)
{
    if (!t->corked)
        return send_records(t, data, len);
    if (buf_append(&t->out, data, len, 0) < 0)
        return GNUTLS_E_MEMORY_ERROR;
    /* whole records gain nothing by waiting */
    size_t full = t->out.len - t->out.len % TLS_RECORD_MAX;
    if (full == 0)
        return 0;
    int rc = send_records(t, t->out.data, full);
    buf_consume(&t->out, full);
    return rc;
}

void tls_cork(rs_tls *t)
{
    t->corked = true;
}

int tls_uncork(rs_tls *t)
{
    t->corked = false;
    int rc = send_records(t, t->out.data, t->out.len);
    buf_consume(&t->out, t->out.len); /* the storage goes back */
    return rc;
}

void tls_bye(rs_tls *t)
{
    gnutls_bye(t->session, GNUTLS_SHUT_WR); /* close_notify via push */
}

/* ---- what the session is ------------------------------------------------------ */

void tls_describe(const rs_tls *t, char *out, size_t n)
{
    if (!t || !t->established) {
        snprintf(out, n, "none");
        return;
    }
    const char *ver = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));
    const char *cipher = gnutls_cipher_get_name(gnutls_cipher_get(t->session));
    snprintf(out, n, "%s %s", ver ? ver : "?", cipher ? cipher : "?");
}

const char *tls_sni(const rs_tls *t)
{
    return t && t->server && t->sni ? t->sni : "";
}

const rs_domain *tls_domain(const rs_tls *t)
{
    return t ? t->domain : NULL;
}

const char *tls_alert_after_handshake(const rs_tls *t)
{
    return t->alert_in;
}

bool tls_sent_certificate(const rs_tls *t)
{
    return t && gnutls_certificate_get_ours(t->session) != NULL;
}

gnutls_session_t tls_session(const rs_tls *t)
{
    return t ? t->session : NULL;
}
