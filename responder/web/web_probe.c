/* web_probe.c -- starting a probe over HTTP: POST /probe (the form; HTML
 * answers) and POST /api/probe (the same field; JSON answers), and GET
 * /api/probe (the requester's budget). Each names the requester as
 * web__client_address resolves it, charges the probe to its budgets
 * (probe_budget.h) and says when its next probe may start: a refusal is
 * 429 with Retry-After and the time in the text. */
#include "web_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "probe.h"

#define BODY_MAX 8192           /* a probe form is a few dozen bytes */
#define TARGET_MAX 512          /* the form's target field, before checking */

/* State of a POST /probe across the calls that bring its body. */
typedef struct post_ctx {
    struct MHD_PostProcessor *pp;
    char target[TARGET_MAX + 1];
    bool too_long;              /* target longer than TARGET_MAX */
    bool bad;                   /* the body could not be parsed */
    bool json;                  /* /api/probe: answer in JSON */
    size_t body;                /* bytes received */
} post_ctx;

void web__post_free(void *con_cls)
{
    post_ctx *ctx = con_cls;
    if (ctx->pp)
        MHD_destroy_post_processor(ctx->pp);
    free(ctx);
}

/* The requester of q: its budgets' keys. false when MHD knows no address. */
static bool requester_of(const web_req *q, probe_budget_requester *who)
{
    struct sockaddr_storage ss;
    if (!web__client_address(q, &ss))
        return false;
    probe_budget_web_requester((const struct sockaddr *)&ss,
                               q->w->srv->cfg->limits.ipv6_prefix, who);
    return true;
}

/* "requester", "next_probe_in" and "next_probe_at" of who into j. */
static void json_next(rs_json *j, const rs_daemon *srv, const probe_budget_requester *who)
{
    unsigned wait = probe_next_wait(srv, who);
    char when[64] = "";
    time_t at = time(NULL) + wait;
    struct tm tm;
    if (gmtime_r(&at, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_kv_str(j, "requester", who->key);
    json_kv_str(j, "network", who->network);
    json_kv_int(j, "next_probe_in", wait);
    json_kv_str(j, "next_probe_at", when);
}

enum MHD_Result web__get_api_probe(const web_req *q)
{
    probe_budget_requester who;
    if (!requester_of(q, &who))
        return web__json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "no client address");
    const config_limits *lim = &q->w->srv->cfg->limits;
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    json_next(&j, q->w->srv, &who);
    json_key(&j, "limits");
    json_obj_begin(&j);
    json_kv_int(&j, "probe_target_interval", lim->probe_target_interval);
    json_kv_int(&j, "probe_per_requester", lim->probe_per_requester);
    json_kv_int(&j, "probe_per_network", lim->probe_per_network);
    json_kv_int(&j, "probe_per_hour", lim->probe_per_hour);
    json_obj_end(&j);
    json_obj_end(&j);
    return web__send_json(q, MHD_HTTP_OK, &j, NULL, NULL);
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *filename,
                                  const char *content_type,
                                  const char *transfer_encoding,
                                  const char *data, uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    post_ctx *ctx = cls;
    if (!key || strcmp(key, "target") != 0)
        return MHD_YES;
    if (off > TARGET_MAX || size > TARGET_MAX - off) {
        ctx->too_long = true;
        return MHD_YES;
    }
    memcpy(ctx->target + off, data, size);
    ctx->target[off + size] = '\0';
    return MHD_YES;
}

/* Whether url is http(s)://HOST followed by nothing or by what may end an
 * origin in a Referer ("/..."); HOST compared without regard to case. */
static bool origin_is_host(const char *url, const char *host, bool referer)
{
    const char *rest = web__has_prefix(url, "http://")    ? url + 7
                       : web__has_prefix(url, "https://") ? url + 8
                                                     : NULL;
    size_t n = strlen(host);
    if (!rest || n == 0 || strncasecmp(rest, host, n) != 0)
        return false;
    rest += n;
    return *rest == '\0' || (referer && *rest == '/');
}

/* Why a POST /probe is not from our own page, or NULL when it may be: a
 * browser says where a form came from (Sec-Fetch-Site, Origin, else
 * Referer), which must be this Host; a client that names no origin at all
 * (curl, scripts) is no cross-site forgery and may post. Our pages send
 * Referrer-Policy same-origin: a no-referrer policy would turn the Origin
 * of our own form's POST into "null". */
static const char *cross_origin(const web_req *q)
{
    const char *site = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                   "Sec-Fetch-Site");
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                     "Origin");
    const char *referer = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                      "Referer");
    const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);
    if (site && strcasecmp(site, "same-origin") == 0)
        return NULL;
    if (site && (strcasecmp(site, "cross-site") == 0 ||
                 strcasecmp(site, "same-site") == 0))
        return "Sec-Fetch-Site says the form is from another site";
    if (origin)
        return host && origin_is_host(origin, host, false)
                   ? NULL : "the Origin is not this server";
    if (referer)
        return host && origin_is_host(referer, host, true)
                   ? NULL : "the Referer is not this server";
    return NULL;
}

/* The answer to a refused or started probe, as JSON (/api/probe). */
static enum MHD_Result probe_json(const web_req *q, const rs_probe *p,
                                  const probe_refusal *why,
                                  const probe_budget_requester *who)
{
    rs_daemon *srv = q->w->srv;
    char report[320], retry[24] = "";
    rs_json j;
    json_init(&j);
    json_obj_begin(&j);
    unsigned status = MHD_HTTP_ACCEPTED;
    if (p) {
        snprintf(report, sizeof report, "/report/%s", probe_target(p));
        json_kv_bool(&j, "started", true);
        json_kv_str(&j, "target", probe_target(p));
        json_kv_str(&j, "report", report);
    } else {
        json_kv_bool(&j, "started", false);
        json_kv_str(&j, "error", why->text);
        status = why->kind == PROBE_REFUSED_LIMITED ? MHD_HTTP_TOO_MANY_REQUESTS
                 : why->kind == PROBE_REFUSED_RUNNING ? MHD_HTTP_CONFLICT
                 : why->kind == PROBE_REFUSED_UNAVAILABLE ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                          : MHD_HTTP_BAD_REQUEST;
        if (why->kind == PROBE_REFUSED_LIMITED) {
            json_kv_str(&j, "limit", probe_budget_limit_name(why->limit));
            json_kv_int(&j, "retry_after", why->retry_after);
            snprintf(retry, sizeof retry, "%u", why->retry_after);
        }
    }
    json_next(&j, srv, who);
    json_obj_end(&j);
    return web__send_json(q, status, &j, retry[0] ? MHD_HTTP_HEADER_RETRY_AFTER : NULL,
                          retry[0] ? retry : NULL);
}

static enum MHD_Result post_probe_done(const web_req *q, post_ctx *ctx)
{
    rs_daemon *srv = q->w->srv;
    const char *bad = ctx->bad ? "The form could not be read."
                      : ctx->too_long ? "The target is too long to be a domain name."
                      : !ctx->target[0] ? "Give the domain of your XMPP server in "
                                          "the field 'target'."
                                        : NULL;
    if (bad && ctx->json)
        return web__json_error(q, MHD_HTTP_BAD_REQUEST, bad);
    if (bad)
        return web__send_message(q, MHD_HTTP_BAD_REQUEST, "Bad Request", bad,
                                 NULL, NULL, NULL);
    probe_budget_requester who;
    if (!requester_of(q, &who))
        return web__internal_error(q);
    probe_refusal why;
    rs_probe *p = probe_start(srv, ctx->target, &who, NULL, NULL, &why);
    if (p)
        log_msg(RS_LOG_INFO, "http probe of %s started from the web form by %s",
               probe_target(p), who.key);
    if (ctx->json)
        return probe_json(q, p, &why, &who);
    char location[320], when[64], text[200];
    if (p) {
        probe_budget_when(probe_next_wait(srv, &who), (int64_t)time(NULL), when,
                          sizeof when);
        snprintf(text, sizeof text, "The probe is running: its report follows. "
                 "Your next probe may start %s.", when);
        snprintf(location, sizeof location, "/report/%s", probe_target(p));
        return web__send_message(q, MHD_HTTP_SEE_OTHER, "See Other", text,
                            location, MHD_HTTP_HEADER_LOCATION, location);
    }
    char name[300];
    if (why.kind == PROBE_REFUSED_RUNNING &&
        web__remote_name(ctx->target, name, sizeof name)) {
        snprintf(location, sizeof location, "/report/%s", name);
        return web__send_message(q, MHD_HTTP_SEE_OTHER, "See Other",
                            "A probe of this server is already running.",
                            location, MHD_HTTP_HEADER_LOCATION, location);
    }
    if (why.kind == PROBE_REFUSED_LIMITED) {
        char secs[24];
        snprintf(secs, sizeof secs, "%u", why.retry_after);
        probe_budget_when(why.retry_after, (int64_t)time(NULL), when, sizeof when);
        snprintf(text, sizeof text, "Probes are limited per target, per address, "
                 "per network and in all. Your next probe may start %s.", when);
        return web__send_message(q, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                            text, why.text, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (why.kind == PROBE_REFUSED_UNAVAILABLE)
        return web__send_message(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "Service Unavailable",
                            "The probe could not be started.", why.text, NULL, NULL);
    return web__send_message(q, MHD_HTTP_BAD_REQUEST, "Bad Request",
                        "The probe could not be started.",
                        why.text[0] ? why.text : "probe refused", NULL, NULL);
}

enum MHD_Result web__route_post(const web_req *q, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    post_ctx *ctx = *con_cls;
    if (!ctx) { /* headers only so far */
        bool json = strcmp(q->url, "/api/probe") == 0;
        if (strcmp(q->url, "/probe") != 0 && !json) {
            if (strcmp(q->url, "/") == 0 || web__has_prefix(q->url, "/report/") ||
                strcmp(q->url, "/style.css") == 0 || web__has_prefix(q->url, "/badge/") ||
                web__has_prefix(q->url, "/api/") || strcmp(q->url, "/metrics") == 0)
                return web__send_message(q, MHD_HTTP_METHOD_NOT_ALLOWED,
                                    "Method Not Allowed", "Only GET here.",
                                    NULL, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
            return web__send_message(q, MHD_HTTP_NOT_FOUND, "Not Found",
                                "There is no page here.", NULL, NULL, NULL);
        }
        const char *foreign = cross_origin(q);
        if (foreign) {
            log_msg(RS_LOG_INFO, "http POST %s refused: %s", q->url, foreign);
            if (json)
                return web__json_error(q, MHD_HTTP_FORBIDDEN, foreign);
            return web__send_message(q, MHD_HTTP_FORBIDDEN, "Forbidden",
                                "Probes start only from this server's own "
                                "form (cross-origin posts are refused).",
                                foreign, NULL, NULL);
        }
        const char *cl = MHD_lookup_connection_value(
            q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > BODY_MAX)
            return web__send_message(q, MHD_HTTP_CONTENT_TOO_LARGE,
                                "Content Too Large",
                                "The form is far too large.", NULL, NULL, NULL);
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return web__internal_error(q);
        ctx->json = json;
        *con_cls = ctx;
        ctx->pp = MHD_create_post_processor(q->conn, 1024, post_field, ctx);
        if (!ctx->pp && json)
            return web__json_error(q, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "send the form as application/x-www-form-urlencoded");
        if (!ctx->pp)
            return web__send_message(q, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "Unsupported Media Type",
                                "Send the form as "
                                "application/x-www-form-urlencoded.",
                                NULL, NULL, NULL);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        ctx->body += *upload_data_size;
        if (ctx->body > BODY_MAX) {
            log_msg(RS_LOG_DEBUG, "http POST %.200s: body beyond %d bytes, closing",
                   q->url, BODY_MAX);
            return MHD_NO;
        }
        if (!ctx->bad &&
            MHD_post_process(ctx->pp, upload_data, *upload_data_size) != MHD_YES)
            ctx->bad = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return post_probe_done(q, ctx);
}

