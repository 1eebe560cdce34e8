/* web.c -- the HTTP side (see web.h): libmicrohttpd in external epoll mode,
 * driven by the libuv loop (a uv_poll_t on MHD's epoll descriptor and a
 * uv_timer_t armed from MHD_get_timeout and the guard's next deadline),
 * routing, the JSON API. Who holds the connections and who gives way:
 * http_guard.h; the probe form: web_probe.c; pages: web_pages.c; /metrics:
 * metrics.c. Everything runs on the daemon's one thread, so handlers read
 * srv->report, srv->cfg and srv->stats directly. */
#include "web.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/xmlmemory.h>
#include <microhttpd.h>
#include <uv.h>

#include "acme.h"
#include "certcheck.h"
#include "clients.h"
#include "crl.h"
#include "jid.h"
#include "json.h"
#include "http_guard.h"
#include "log.h"
#include "metrics.h"
#include "netaddr.h"
#include "probe.h"
#include "report.h"
#include "web_internal.h"
#include "web_pages.h"

#define URL_MAX 1024            /* longer paths get 414 */
#define TIMER_MAX_MS 60000      /* re-check at least this often */
#define MHD_SLACK 32            /* connections cut, not yet closed by MHD */

/* con_cls of a GET or HEAD after its first call (POSTs have their own,
 * web_probe.c). */
static char get_marker;

static const char csp[] = "default-src 'none'; style-src 'self'; "
                          "form-action 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'";

/* ---- responses ------------------------------------------------------------------ */

enum MHD_Result web__respond_with(const web_req *q, unsigned status,
                                  const char *type, const void *body,
                                  size_t len, const char *cache_control,
                                  const char *const *extra)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        log_msg(RS_LOG_ERROR, "http %s %.200s: out of memory", q->method, q->url);
        return MHD_NO;
    }
    bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) &&
              MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") &&
              MHD_add_response_header(r, "Content-Security-Policy", csp) &&
              MHD_add_response_header(r, "X-Frame-Options", "DENY") &&
              MHD_add_response_header(r, "Referrer-Policy", "same-origin") &&
              MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                      cache_control);
    for (size_t i = 0; ok && extra && extra[i]; i += 2)
        ok = MHD_add_response_header(r, extra[i], extra[i + 1]);
    http_guard_answering(q->w->guard, q->conn, uv_now(q->w->srv->loop));
    enum MHD_Result ret = ok ? MHD_queue_response(q->conn, status, r) : MHD_NO;
    MHD_destroy_response(r);
    log_msg(RS_LOG_DEBUG, "http %s %.200s -> %u%s", q->method, q->url, status,
           ret == MHD_YES ? "" : " (failed)");
    return ret;
}

/* Queue status, never cached; extra_* is one more header (may be NULL). */
static enum MHD_Result web_respond(const web_req *q, unsigned status, const char *type,
                                   const void *body, size_t len,
                                   const char *extra_name, const char *extra_value)
{
    const char *const extra[] = {extra_name, extra_value, NULL};
    return web__respond_with(q, status, type, body, len, "no-store", extra);
}

enum MHD_Result web__internal_error(const web_req *q)
{
    static const char text[] = "500 internal error (out of memory)\n";
    return web_respond(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "text/plain; charset=utf-8", text, sizeof text - 1, NULL,
                       NULL);
}

/* A rendered page (taken over), or 500 when rendering failed. */
static enum MHD_Result send_html(const web_req *q, unsigned status, xmlChar *page,
                                 int len, const char *extra_name,
                                 const char *extra_value)
{
    if (!page)
        return web__internal_error(q);
    enum MHD_Result ret = web_respond(q, status, "text/html; charset=utf-8", page,
                                      (size_t)len, extra_name, extra_value);
    xmlFree(page);
    return ret;
}

enum MHD_Result web__send_message(const web_req *q, unsigned status,
                                  const char *title, const char *text,
                                  const char *detail, const char *extra_name,
                                  const char *extra_value)
{
    int len = 0;
    xmlChar *page = web_pages_message(status, title, text, detail, &len);
    return send_html(q, status, page, len, extra_name, extra_value);
}

enum MHD_Result web__send_json(const web_req *q, unsigned status, rs_json *j,
                               const char *extra_name, const char *extra_value)
{
    enum MHD_Result ret;
    if (j->failed || !j->text)
        ret = web__internal_error(q);
    else
        ret = web_respond(q, status, "application/json; charset=utf-8", j->text,
                          j->len, extra_name, extra_value);
    json_free(j);
    return ret;
}

enum MHD_Result web__json_error(const web_req *q, unsigned status, const char *message)
{
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    json_kv_str(&j, "error", message);
    json_obj_end(&j);
    return web__send_json(q, status, &j, NULL, NULL);
}

/* ---- names ----------------------------------------------------------------------- */

bool web__remote_name(const char *in, char *out, size_t n)
{
    size_t len = strlen(in);
    if (len == 0 || len > 254 || len + 1 > n)
        return false;
    for (size_t i = 0; i < len; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a')
                                                : in[i];
    out[len] = '\0';
    if (len > 1 && out[len - 1] == '.')
        out[--len] = '\0';
    return len <= 253 && strchr(out, '/') == NULL && jid_domain_valid(out);
}

/* ---- GET ------------------------------------------------------------------------- */

static enum MHD_Result get_index(const web_req *q)
{
    int len = 0;
    xmlChar *page = web_pages_index(q->w->srv, &len);
    return send_html(q, MHD_HTTP_OK, page, len, NULL, NULL);
}

static enum MHD_Result get_report(const web_req *q, const char *name)
{
    char remote[300];
    if (!web__remote_name(name, remote, sizeof remote))
        return web__send_message(q, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "That is not a domain name. Give the domain of "
                            "your XMPP server, as in /report/example.org.",
                            name[0] ? name : NULL, NULL, NULL);
    int len = 0;
    xmlChar *page = web_pages_report(q->w->srv, remote, &len);
    return send_html(q, MHD_HTTP_OK, page, len, NULL, NULL);
}

/* What d presents now and how that differs from its row (certcheck.h). */
static void certificate_json(rs_json *j, const rs_domains *ds, const config_domain *d,
                             const rs_config *cfg)
{
    const rs_domain *dom = domains_find(ds, d->name);
    json_key(j, "certificate");
    if (!dom) {
        json_null(j);
        return;
    }
    if (dom->creds == DOMAIN_CREDS_UNLOADED) { /* a large set: not used yet */
        json_obj_begin(j);
        json_kv_bool(j, "loaded", false);
        json_kv_str(j, "public_source", catalog_public_text(d->profile));
        json_obj_end(j);
        return;
    }
    certcheck_result r;
    certcheck_domain(dom, cfg->base_domain, cfg->public_instance, (int64_t)time(NULL), &r);
    json_obj_begin(j);
    json_kv_bool(j, "loaded", dom->creds == DOMAIN_CREDS_LOADED);
    json_kv_str(j, "source", r.source);
    json_kv_str(j, "expected_source", r.expected);
    json_kv_str(j, "public_source", catalog_public_text(d->profile));
    json_kv_str(j, "issuer", r.issuer);
    json_kv_str(j, "ekus", r.ekus);
    json_kv_str(j, "names", r.names);
    json_kv_int(j, "not_before", r.not_before);
    json_kv_int(j, "not_after", r.not_after);
    json_kv_int(j, "chain", r.chain_len);
    json_key(j, "mismatches");
    json_arr_begin(j);
    for (size_t i = 0; i < r.n_mismatches; i++)
        json_str(j, r.mismatches[i]);
    json_arr_end(j);
    json_obj_end(j);
}

static enum MHD_Result get_api_domains(const web_req *q)
{
    const rs_config *cfg = q->w->srv->cfg;
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    json_kv_str(&j, "base_domain", cfg->base_domain);
    json_key(&j, "domains");
    json_arr_begin(&j);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const config_domain *d = &cfg->domains[i];
        const catalog_profile *p = d->profile;
        char echo[300];
        snprintf(echo, sizeof echo, "echo@%s", d->name);
        json_obj_begin(&j);
        json_kv_str(&j, "domain", d->name);
        json_kv_str(&j, "profile", p->label);
        json_kv_str(&j, "kind", catalog_kind_name(p->kind));
        json_kv_str(&j, "breaks", p->breaks);
        json_kv_str(&j, "strict", catalog_expect_name(p->strict));
        json_kv_bool(&j, "advisory", p->advisory);
        json_kv_str(&j, "why", p->strict_why);
        json_kv_str(&j, "description",
                       d->description ? d->description : p->description);
        json_kv_str(&j, "echo", echo);
        json_kv_str(&j, "client_should", catalog_client_name(p->client));
        certificate_json(&j, q->w->srv->domains, d, cfg);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    return web__send_json(q, MHD_HTTP_OK, &j, NULL, NULL);
}

static enum MHD_Result get_api_report(const web_req *q, const char *name)
{
    char remote[300];
    if (!web__remote_name(name, remote, sizeof remote))
        return web__json_error(q, MHD_HTTP_BAD_REQUEST, "not a domain name");
    rs_json j;
    json_init(&j);
    report_matrix_json(&j, q->w->srv->report, remote, q->w->srv->cfg);
    return web__send_json(q, MHD_HTTP_OK, &j, NULL, NULL);
}

/* ---- clients ------------------------------------------------------------------------ */

/* A client address from a URL ("" = the requester's own, web_client.c):
 * an IP literal, canonical as libuv prints it. false for anything else. */
static bool client_address(const web_req *q, const char *in, char *out, size_t n,
                           bool *own)
{
    *own = !in[0];
    struct sockaddr_storage ss;
    if (*own ? !web__client_address(q, &ss) : !netaddr_literal(in, 0, &ss))
        return false;
    netaddr_text((const struct sockaddr *)&ss, out, n);
    return true;
}

static enum MHD_Result get_clients(const web_req *q, const char *in)
{
    char address[INET6_ADDRSTRLEN];
    bool own;
    if (!client_address(q, in, address, sizeof address, &own))
        return web__send_message(q, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "That is not an IP address. /clients shows the "
                            "address you come from; /clients/ADDRESS another.",
                            in[0] ? in : NULL, NULL, NULL);
    int len = 0;
    xmlChar *page = web_pages_clients(q->w->srv, address, own, &len);
    return send_html(q, MHD_HTTP_OK, page, len, NULL, NULL);
}

static enum MHD_Result get_api_clients(const web_req *q, const char *in)
{
    char address[INET6_ADDRSTRLEN];
    bool own;
    if (!client_address(q, in, address, sizeof address, &own))
        return web__json_error(q, MHD_HTTP_BAD_REQUEST, "not an IP address");
    rs_json j;
    json_init(&j);
    clients_matrix_json(&j, q->w->srv->clients, address, q->w->srv->cfg);
    return web__send_json(q, MHD_HTTP_OK, &j, NULL, NULL);
}

static enum MHD_Result get_metrics(const web_req *q)
{
    size_t len = 0;
    stats_snapshot snap;
    q->w->srv->snapshot(q->w->srv, &snap);
    char *text = metrics_render(&snap, &len);
    if (!text)
        return web__internal_error(q);
    enum MHD_Result ret = web_respond(q, MHD_HTTP_OK,
                                      "text/plain; version=0.0.4; charset=utf-8",
                                      text, len, NULL, NULL);
    free(text);
    return ret;
}

/* An ACME http-01 key authorization (acme.h) that the renewal's hook wrote,
 * for whichever of our names the CA asks under (RFC 8555 8.3). */
static enum MHD_Result get_acme_challenge(const web_req *q, const char *token)
{
    char auth[ACME_KEYAUTH_MAX];
    size_t len = 0;
    if (acme_challenge_read(q->w->srv->cfg->state_dir, token, auth, sizeof auth,
                            &len) < 0)
        return web__send_message(q, MHD_HTTP_NOT_FOUND, "Not Found",
                                 "No such ACME challenge here.", NULL, NULL, NULL);
    log_msg(RS_LOG_INFO, "http acme-challenge %s answered", token);
    return web__respond_with(q, MHD_HTTP_OK, "application/octet-stream", auth, len,
                             "no-store", NULL);
}

bool web__has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum MHD_Result route_get(const web_req *q)
{
    const char *u = q->url;
    if (strcmp(u, "/") == 0 || strcmp(u, "/index.html") == 0)
        return get_index(q);
    if (web__has_prefix(u, "/report/"))
        return get_report(q, u + strlen("/report/"));
    if (strcmp(u, "/api/domains") == 0)
        return get_api_domains(q);
    if (web__has_prefix(u, "/api/report/"))
        return get_api_report(q, u + strlen("/api/report/"));
    if (strcmp(u, "/clients") == 0 || web__has_prefix(u, "/clients/"))
        return get_clients(q, u[8] ? u + 9 : "");
    if (strcmp(u, "/api/clients") == 0 || web__has_prefix(u, "/api/clients/"))
        return get_api_clients(q, u[12] ? u + 13 : "");
    if (strcmp(u, "/api/probe") == 0)
        return web__get_api_probe(q);
    if (strcmp(u, "/api") == 0 || web__has_prefix(u, "/api/"))
        return web__json_error(q, MHD_HTTP_NOT_FOUND,
                          "no such API: /api/domains, /api/report/DOMAIN, "
                          "/api/clients[/ADDRESS] and /api/probe exist");
    if (strcmp(u, "/metrics") == 0)
        return get_metrics(q);
    if (web__has_prefix(u, "/crl/"))
        return web__get_crl(q);
    if (strcmp(u, "/style.css") == 0)
        return web__get_style(q);
    if (web__has_prefix(u, "/badge/"))
        return web__get_badge(q, u + strlen("/badge/"));
    if (web__has_prefix(u, "/.well-known/acme-challenge/"))
        return get_acme_challenge(q, u + strlen("/.well-known/acme-challenge/"));
    if (strcmp(u, "/probe") == 0)
        return web__send_message(q, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed",
                            "Start a probe with the form on the index page "
                            "(POST /probe).", NULL, MHD_HTTP_HEADER_ALLOW,
                            "POST");
    return web__send_message(q, MHD_HTTP_NOT_FOUND, "Not Found",
                        "There is no page here. The index lists every test "
                        "domain; /report/DOMAIN shows what a server accepted.",
                        NULL, NULL, NULL);
}

/* ---- libmicrohttpd callbacks -------------------------------------------------------- */

/* The guard's bounds from the running configuration. */
static void guard_limits(const rs_web *w, http_guard_limits *lim)
{
    const config_limits *l = &w->srv->cfg->limits;
    *lim = (http_guard_limits){.total = l->http_connections,
                               .per_address = l->http_connections_per_ip,
                               .reserved = l->http_reserved,
                               .deadline_s = l->http_header_timeout,
                               .ipv6_prefix = l->ipv6_prefix};
}

/* Accept or refuse a connection (MHD's apply-policy callback). */
static enum MHD_Result web_on_accept(void *cls, const struct sockaddr *addr,
                                     socklen_t addrlen)
{
    (void)addrlen;
    rs_web *w = cls;
    http_guard_limits lim;
    guard_limits(w, &lim);
    return http_guard_admit(w->guard, &lim, addr, web__peer_trusted(w, addr),
                            uv_now(w->srv->loop)) ? MHD_YES : MHD_NO;
}

static void web_on_connection(void *cls, struct MHD_Connection *conn,
                              void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    rs_web *w = cls;
    http_guard_notify(w->guard, conn, socket_context, code, uv_now(w->srv->loop));
}

/* The request line arrived, before its headers: the guard learns its path.
 * What this returns becomes the request's con_cls: nothing yet. */
static void *web_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    rs_web *w = cls;
    http_guard_request_line(w->guard, conn, uri);
    return NULL;
}

static enum MHD_Result web_on_request(void *cls, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls)
{
    (void)version;
    web_req q = {.w = cls, .conn = conn, .method = method, .url = url};
    http_guard_limits lim;
    guard_limits(q.w, &lim);
    if (!http_guard_may_serve(q.w->guard, &lim, conn))
        return web__send_message(&q, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "Service Unavailable", "The web server is busy: the "
                            "connections left are kept for the ACME challenge "
                            "and the CRLs. Try again in a moment.", NULL,
                            MHD_HTTP_HEADER_CONNECTION, "close");
    if (strlen(url) > URL_MAX)
        return web__send_message(&q, MHD_HTTP_URI_TOO_LONG, "URI Too Long",
                            "That address is far too long.", NULL, NULL, NULL);
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return web__route_post(&q, upload_data, upload_data_size, con_cls);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return web__send_message(&q, MHD_HTTP_METHOD_NOT_ALLOWED,
                            "Method Not Allowed", "Only GET, HEAD and (for "
                            "/probe) POST are served.", NULL,
                            MHD_HTTP_HEADER_ALLOW,
                            strcmp(url, "/probe") == 0 ? "POST"
                            : strcmp(url, "/api/probe") == 0 ? "GET, HEAD, POST"
                                                            : "GET, HEAD");
    if (!*con_cls) {
        /* answer on the next call: a response queued while MHD may still
         * read a body makes it close the connection (no keep-alive) */
        *con_cls = &get_marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0)
        return MHD_NO; /* nothing here takes a body */
    return route_get(&q);
}

static void web_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    rs_web *w = cls;
    (void)toe;
    http_guard_request_done(w->guard, conn, uv_now(w->srv->loop));
    if (*con_cls && *con_cls != (void *)&get_marker)
        web__post_free(*con_cls);
    *con_cls = NULL;
}

static void web_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    rs_web *w = cls;
    vsnprintf(w->last_error, sizeof w->last_error, fmt, ap);
    size_t n = strlen(w->last_error);
    while (n > 0 && (w->last_error[n - 1] == '\n' || w->last_error[n - 1] == '\r'))
        w->last_error[--n] = '\0';
    /* once serving, a crowd makes one per connection cut: a line a minute */
    uint64_t unlogged = 0;
    if (!w->mhd || log_once_a_minute("http: libmicrohttpd", &unlogged))
        log_msg(RS_LOG_INFO, "http: %s%s", w->last_error,
               unlogged ? " (and more such lines in the last minute, not logged)"
                        : "");
}

/* ---- the loop ---------------------------------------------------------------------- */

static void web_on_timer(uv_timer_t *t);

/* Cut requests past their deadline, let MHD do what is due, then arm the
 * timer for the nearer of its next timeout and the next deadline. */
static void web_run(rs_web *w)
{
    if (!w->mhd)
        return;
    http_guard_limits lim;
    guard_limits(w, &lim);
    uint64_t next = http_guard_sweep(w->guard, &lim, uv_now(w->srv->loop));
    MHD_run(w->mhd);
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(w->mhd, &ms) == MHD_YES && ms < next)
        next = ms;
    uv_timer_start(&w->timer, web_on_timer, next < TIMER_MAX_MS ? next + 1 : TIMER_MAX_MS,
                   0);
}

static void web_on_timer(uv_timer_t *t)
{
    web_run(t->data);
}

static void web_on_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        log_msg(RS_LOG_WARN, "http: poll: %s", uv_strerror(status));
    web_run(h->data);
}

static void web_on_handle_closed(uv_handle_t *h)
{
    rs_web *w = h->data;
    if (--w->open_handles > 0)
        return;
    http_guard_free(w->guard);
    free(w);
}

rs_web *web_start(rs_daemon *srv, const config_http *conf)
{
    const char *where = srv->config_path ? srv->config_path : "(embedded config)";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, conf->address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)conf->port);
    } else if (inet_pton(AF_INET6, conf->address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)conf->port);
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "%s:%d: http address '%s' is not an IP address\n", where,
                conf->line, conf->address);
        return NULL;
    }
    rs_web *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, "out of memory starting the web listener\n");
        return NULL;
    }
    w->srv = srv;
    /* the guard decides who holds a connection (http_guard.h); MHD's own
       limit only bounds what is cut and not closed yet, and it has no
       per-IP limit: a trusted proxy carries everyone */
    const config_limits *l = &srv->cfg->limits;
    unsigned capacity = l->http_connections + l->http_reserved + MHD_SLACK;
    w->guard = http_guard_new(capacity, "http", &srv->stats, log_peer_allowed);
    w->mhd = !w->guard ? NULL : MHD_start_daemon(
        flags, (uint16_t)conf->port, web_on_accept, w, web_on_request, w,
        /* first: libmicrohttpd logs options before it to stderr itself and
           complains when the logger comes later */
        MHD_OPTION_EXTERNAL_LOGGER, web_on_mhd_log, w,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, capacity,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 64u,
        MHD_OPTION_NOTIFY_COMPLETED, web_on_completed, w,
        MHD_OPTION_NOTIFY_CONNECTION, web_on_connection, w,
        MHD_OPTION_URI_LOG_CALLBACK, web_on_request_line, w,
        MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        w->mhd ? MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        fprintf(stderr, "%s:%d: cannot listen on %s port %u (http)%s%s\n", where,
                conf->line, conf->address, conf->port,
                w->last_error[0] ? ": " : "", w->last_error);
        if (w->mhd)
            MHD_stop_daemon(w->mhd);
        http_guard_free(w->guard);
        free(w);
        return NULL;
    }
    int rc = uv_poll_init(srv->loop, &w->poll, info->epoll_fd);
    if (rc < 0) {
        fprintf(stderr, "web: cannot watch the HTTP listener: %s\n",
                uv_strerror(rc));
        MHD_stop_daemon(w->mhd);
        http_guard_free(w->guard);
        free(w);
        return NULL;
    }
    w->poll.data = w;
    uv_timer_init(srv->loop, &w->timer);
    w->timer.data = w;
    w->open_handles = 2;
    uv_poll_start(&w->poll, UV_READABLE, web_on_poll);
    web_run(w);
    log_msg(RS_LOG_INFO, "listening on %s port %u (http: web report, /metrics)",
           conf->address, conf->port);
    return w;
}

void web_close(rs_web *w)
{
    if (!w)
        return;
    /* stop watching MHD's descriptor before MHD closes it */
    uv_close((uv_handle_t *)&w->poll, web_on_handle_closed);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, web_on_handle_closed);
    MHD_stop_daemon(w->mhd);
    w->mhd = NULL;
}
