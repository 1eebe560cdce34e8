/* web_internal.h -- what the files of the web module share: the listener,
 * one request, building responses (web.c), who is asking (web_client.c),
 * starting probes (web_probe.c) and the cacheable responses (web_static.c:
 * the stylesheet, badges, CRLs). */
#ifndef RS_WEB_INTERNAL_H
#define RS_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>
#include <uv.h>

#include <sys/socket.h>

#include "daemon.h"
#include "json.h"
#include "web.h"

struct rs_web {
    rs_daemon *srv;
    struct MHD_Daemon *mhd;
    struct rs_http_guard *guard;   /* who holds the connections (http_guard.h) */
    uv_poll_t poll;             /* readable when MHD's epoll set has events */
    uv_timer_t timer;           /* MHD's next timeout */
    int open_handles;           /* poll + timer not yet closed */
    char last_error[256];       /* MHD's last log message, for start errors */
};

/* One request being answered. */
typedef struct web_req {
    rs_web *w;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
} web_req;

/* Queue status with a copy of body, cache_control as Cache-Control, the
 * security headers (CSP without scripts, nosniff, ...) and extra: more
 * headers as name, value pairs ending at a NULL name. MHD_NO (the
 * connection closes) when an allocation fails. */
enum MHD_Result web__respond_with(const web_req *q, unsigned status,
                                  const char *type, const void *body,
                                  size_t len, const char *cache_control,
                                  const char *const *extra);

/* An HTML error or notice page (web_pages_message), never cached; extra_*
 * is one more header (may be NULL). */
enum MHD_Result web__send_message(const web_req *q, unsigned status,
                                  const char *title, const char *text,
                                  const char *detail, const char *extra_name,
                                  const char *extra_value);

/* 500 without allocating a page. */
enum MHD_Result web__internal_error(const web_req *q);

/* A JSON document (freed here), never cached, extra_* one more header (may
 * be NULL); 500 when building it failed. */
enum MHD_Result web__send_json(const web_req *q, unsigned status, rs_json *j,
                               const char *extra_name, const char *extra_value);

/* {"error": message} with status. */
enum MHD_Result web__json_error(const web_req *q, unsigned status, const char *message);

bool web__has_prefix(const char *s, const char *prefix);

/* The client q comes from (web_client.c): the TCP peer, or when the peer is
 * one of http.trusted_proxies, who X-Forwarded-For names. IPv4-mapped
 * addresses come back as IPv4. false when MHD knows no address. */
bool web__client_address(const web_req *q, struct sockaddr_storage *out);

/* Whether sa is one of http.trusted_proxies. */
bool web__peer_trusted(const rs_web *w, const struct sockaddr *sa);

/* POST: /probe and /api/probe (web_probe.c), anything else 405 or 404;
 * called as MHD calls the access handler, with its con_cls. */
enum MHD_Result web__route_post(const web_req *q, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);

/* Release what web__route_post kept in con_cls (the request ended). */
void web__post_free(void *con_cls);

/* GET /api/probe: the requester, its network, when its next probe may
 * start, and the probe limits. */
enum MHD_Result web__get_api_probe(const web_req *q);

/* A remote domain from a URL or the form: lower-cased, one trailing dot
 * dropped, and a plausible domain name (what stream headers may carry). */
bool web__remote_name(const char *in, char *out, size_t n);

/* GET /crl/...: a test CA's CRL in DER, cacheable until its nextUpdate. */
enum MHD_Result web__get_crl(const web_req *q);

/* GET /style.css: the stylesheet, cacheable, revalidated by ETag. */
enum MHD_Result web__get_style(const web_req *q);

/* GET /badge/NAME.svg (name: what follows /badge/): the badge of NAME's
 * verified verdicts; 404 for a malformed or unknown domain. */
enum MHD_Result web__get_badge(const web_req *q, const char *name);

#endif
