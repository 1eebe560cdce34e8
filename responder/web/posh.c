/* posh.c -- the POSH HTTPS listener (see posh.h). A slowloris crowd on port
 * 443 meets the same guard as the web report (http_guard.h, the http_*
 * limits): connections per address, a deadline for each request from its
 * connection, the handshake included, and the oldest waiting connection of
 * the busiest address giving way when all are taken. libmicrohttpd runs
 * this listener in its own thread, so the guard is swept at each accept
 * instead of by the loop's timer, and its lines are at most one a second. */
#include "posh.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>

#include "http_guard.h"
#include "json.h"
#include "log.h"

#define POSH_CHAIN_MAX 4
#define POSH_SLACK 32     /* connections cut, not yet closed by libmicrohttpd */

/* One domain served: its HTTPS credentials and its POSH document. */
typedef struct posh_site {
    char *name;                          /* the domain */
    gnutls_pcert_st chain[POSH_CHAIN_MAX]; /* HTTPS certificate chain */
    unsigned chain_len;
    gnutls_privkey_t key;                /* HTTPS key */
    char *json;                          /* the document */
} posh_site;

struct rs_posh {
    struct MHD_Daemon *mhd;
    posh_site *sites;
    size_t n_sites;
    rs_http_guard *guard;          /* who holds the connections */
    http_guard_limits limits;   /* the http_* limits at start */
};

/* libmicrohttpd's certificate callback has no user pointer: the one
 * listener is here, written before the daemon starts, then only read. */
static const rs_posh *the_posh;

static const posh_site *find_site(const rs_posh *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_sites; i++)
        if (strlen(p->sites[i].name) == len &&
            strncasecmp(p->sites[i].name, name, len) == 0)
            return &p->sites[i];
    return NULL;
}

/* TLS: present the certificate of the domain named by SNI (the first site
 * when there is none or it is not ours). */
static int pick_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
                     int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                     int pk_algos_length, gnutls_pcert_st **pcert,
                     unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    char name[256];
    size_t len = sizeof name - 1;
    unsigned type = 0;
    const posh_site *s = NULL;
    if (gnutls_server_name_get(session, name, &len, &type, 0) == 0 &&
        type == GNUTLS_NAME_DNS)
        s = find_site(the_posh, name, len);
    if (!s)
        s = &the_posh->sites[0];
    *pcert = (gnutls_pcert_st *)s->chain;
    *pcert_length = s->chain_len;
    *pkey = s->key;
    return 0;
}

/* Milliseconds of the monotonic clock (libmicrohttpd's thread has no loop). */
static uint64_t posh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lines from libmicrohttpd's thread: at most one a second (log.h's budget
 * per address belongs to the loop's thread). */
static bool log_ok(const char *key)
{
    (void)key;
    static time_t last;
    time_t now = time(NULL);
    if (now == last)
        return false;
    last = now;
    return true;
}

static enum MHD_Result posh_on_accept(void *cls, const struct sockaddr *addr,
                                      socklen_t addrlen)
{
    (void)addrlen;
    rs_posh *p = cls;
    return http_guard_admit(p->guard, &p->limits, addr, false, posh_now_ms()) ? MHD_YES
                                                                         : MHD_NO;
}

static void posh_on_connection(void *cls, struct MHD_Connection *conn,
                               void **socket_context,
                               enum MHD_ConnectionNotificationCode code)
{
    rs_posh *p = cls;
    http_guard_notify(p->guard, conn, socket_context, code, posh_now_ms());
}

static void *posh_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    rs_posh *p = cls;
    http_guard_request_line(p->guard, conn, uri);
    return NULL;
}

static void posh_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)con_cls;
    (void)toe;
    rs_posh *p = cls;
    http_guard_request_done(p->guard, conn, posh_now_ms());
}

static enum MHD_Result posh_respond(const rs_posh *p, struct MHD_Connection *conn,
                                    unsigned status, const char *type, const char *body)
{
    http_guard_answering(p->guard, conn, posh_now_ms());
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result posh_on_request(void *cls, struct MHD_Connection *conn,
                                       const char *url, const char *method,
                                       const char *version, const char *upload_data,
                                       size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    const rs_posh *p = cls;
    if (*upload_data_size)
        return MHD_NO; /* nothing here takes a body */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return posh_respond(p, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                            "only GET\n");
    /* the site is the Host header's, without a port */
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);
    size_t len = host ? strcspn(host, ":") : 0;
    const posh_site *s = host ? find_site(p, host, len) : NULL;
    if (!s || (strcmp(url, POSH_PATH) != 0 && strcmp(url, POSH_PATH_CLIENT) != 0))
        return posh_respond(p, conn, MHD_HTTP_NOT_FOUND, "text/plain",
                            "no POSH document here\n");
    return posh_respond(p, conn, MHD_HTTP_OK, "application/json", s->json);
}

/* The document: {"fingerprints":[{"sha-256":B64}],"expires":N}, the hash
 * being over the DER certificate the XMPP service presents. */
static char *posh_document(const rs_domain *d)
{
    unsigned char digest[32];
    const gnutls_datum_t *der = &d->chain[0].cert;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, digest) < 0)
        return NULL;
    gnutls_datum_t raw = {digest, sizeof digest}, b64 = {NULL, 0};
    if (gnutls_base64_encode2(&raw, &b64) < 0)
        return NULL;
    char fp[64];
    snprintf(fp, sizeof fp, "%.*s", (int)b64.size, (const char *)b64.data);
    gnutls_free(b64.data);
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    json_key(&j, "fingerprints");
    json_arr_begin(&j);
    json_obj_begin(&j);
    json_kv_str(&j, "sha-256", fp);
    json_obj_end(&j);
    json_arr_end(&j);
    json_kv_int(&j, "expires", POSH_EXPIRES);
    json_obj_end(&j);
    if (j.failed) {
        json_free(&j);
        return NULL;
    }
    return j.text; /* taken over */
}

/* Load STATE/certs/NAME.https.pem/.key and the document for d. */
static int site_load(posh_site *s, const rs_config *cfg, const rs_domain *d)
{
    char pem[4096], key[4096];
    snprintf(pem, sizeof pem, "%s/certs/%s.https.pem", cfg->state_dir, d->name);
    snprintf(key, sizeof key, "%s/certs/%s.https.key", cfg->state_dir, d->name);
    s->name = strdup(d->name);
    s->json = posh_document(d);
    if (!s->name || !s->json) {
        fprintf(stderr, "%s: out of memory preparing POSH\n", d->name);
        return -1;
    }
    s->chain_len = POSH_CHAIN_MAX;
    int rc = gnutls_pcert_list_import_x509_file(s->chain, &s->chain_len, pem,
                                                GNUTLS_X509_FMT_PEM, NULL, NULL, 0);
    if (rc < 0) {
        s->chain_len = 0;
        fprintf(stderr, "%s: %s (run `xmpp-responder init` to create it)\n",
                pem, gnutls_strerror(rc));
        return -1;
    }
    gnutls_datum_t data = {NULL, 0};
    rc = gnutls_load_file(key, &data);
    if (rc >= 0)
        rc = gnutls_privkey_init(&s->key);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(s->key, &data, GNUTLS_X509_FMT_PEM,
                                            NULL, 0);
    gnutls_free(data.data);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", key, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

static void site_free(posh_site *s)
{
    for (unsigned i = 0; i < s->chain_len; i++)
        gnutls_pcert_deinit(&s->chain[i]);
    if (s->key)
        gnutls_privkey_deinit(s->key);
    free(s->name);
    free(s->json);
}

void posh_stop(rs_posh *p)
{
    if (!p)
        return;
    if (p->mhd)
        MHD_stop_daemon(p->mhd);
    http_guard_free(p->guard);
    for (size_t i = 0; i < p->n_sites; i++)
        site_free(&p->sites[i]);
    free(p->sites);
    if (the_posh == p)
        the_posh = NULL;
    free(p);
}

/* libmicrohttpd's messages (from its thread) as our log lines. */
static void posh_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (!log_ok(NULL))
        return;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_msg(RS_LOG_INFO, "posh: %s", text);
}

rs_posh *posh_start(const rs_config *cfg, const rs_domains *doms)
{
    rs_posh *p = calloc(1, sizeof *p);
    if (p)
        p->sites = calloc(doms->n ? doms->n : 1, sizeof *p->sites);
    if (!p || !p->sites) {
        fprintf(stderr, "out of memory starting POSH\n");
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < doms->n; i++) {
        if (!doms->items[i].profile->posh)
            continue;
        if (site_load(&p->sites[p->n_sites++], cfg, &doms->items[i]) < 0) {
            posh_stop(p);
            return NULL;
        }
    }
    if (p->n_sites == 0) {
        fprintf(stderr, "%s:%d: https is configured but no domain has the posh "
                "profile\n", cfg->path, cfg->https.line);
        posh_stop(p);
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                     MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->https.address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)cfg->https.port);
    } else if (inet_pton(AF_INET6, cfg->https.address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->https.port);
        flags |= MHD_USE_IPv6;
    }
    the_posh = p;
    const config_limits *l = &cfg->limits;
    p->limits = (http_guard_limits){.total = l->http_connections,
                                    .per_address = l->http_connections_per_ip,
                                    .reserved = 0, /* no path has priority */
                                    .deadline_s = l->http_header_timeout,
                                    .ipv6_prefix = l->ipv6_prefix};
    unsigned capacity = l->http_connections + POSH_SLACK;
    p->guard = http_guard_new(capacity, "posh", NULL, log_ok);
    p->mhd = !p->guard ? NULL : MHD_start_daemon(
        flags, (uint16_t)cfg->https.port, posh_on_accept, p, posh_on_request, p,
        /* first, or libmicrohttpd complains on stderr */
        MHD_OPTION_EXTERNAL_LOGGER, posh_on_mhd_log, p,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_HTTPS_CERT_CALLBACK, pick_cert,
        MHD_OPTION_CONNECTION_LIMIT, capacity,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
        MHD_OPTION_NOTIFY_COMPLETED, posh_on_completed, p,
        MHD_OPTION_NOTIFY_CONNECTION, posh_on_connection, p,
        MHD_OPTION_URI_LOG_CALLBACK, posh_on_request_line, p,
        MHD_OPTION_END);
    if (!p->mhd) {
        fprintf(stderr, "%s:%d: cannot serve POSH on %s port %u (in use, or no "
                "permission for a port below 1024?)\n", cfg->path,
                cfg->https.line, cfg->https.address, cfg->https.port);
        posh_stop(p);
        return NULL;
    }
    log_msg(RS_LOG_INFO, "serving POSH for %zu domain(s) on https://%s:%u%s and %s",
           p->n_sites, cfg->https.address, cfg->https.port, POSH_PATH,
           POSH_PATH_CLIENT);
    return p;
}
