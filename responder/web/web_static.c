/* web_static.c -- responses a cache may keep (see web_internal.h): the
 * stylesheet, the badges, the test CAs' CRLs. Each says how long it stays
 * fresh; the stylesheet and badges carry an ETag, and a request whose
 * If-None-Match names it gets 304 without a body. */
#include "web_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlmemory.h>

#include "crl.h"
#include "report.h"
#include "web_badge.h"
#include "web_style.h"

#define STYLE_MAX_AGE "public, max-age=86400" /* a day; the ETag revalidates */
#define BADGE_MAX_AGE "public, max-age=300"   /* verdicts change by the minute */

/* t as an HTTP date (RFC 9110 IMF-fixdate). */
static void http_date(time_t t, char *out, size_t n)
{
    struct tm tm;
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

/* A test CA's CRL in DER (crl.h), cacheable until its nextUpdate. */
enum MHD_Result web__get_crl(const web_req *q)
{
    size_t len = 0;
    time_t this_update = 0, next_update = 0;
    const unsigned char *der = crl_der(q->w->srv->crl, q->url, &len,
                                       &this_update, &next_update);
    if (!der)
        return web__send_message(q, MHD_HTTP_NOT_FOUND, "Not Found",
                            "No such CRL here: the test CAs publish "
                            "/crl/intermediate.crl and /crl/ca.crl.", NULL,
                            NULL, NULL);
    time_t now = time(NULL);
    char cache[64], expires[40], modified[40];
    snprintf(cache, sizeof cache, "public, max-age=%lld",
             next_update > now ? (long long)(next_update - now) : 0LL);
    http_date(next_update, expires, sizeof expires);
    http_date(this_update, modified, sizeof modified);
    const char *const extra[] = {MHD_HTTP_HEADER_EXPIRES, expires,
                                 MHD_HTTP_HEADER_LAST_MODIFIED, modified, NULL};
    return web__respond_with(q, MHD_HTTP_OK, "application/pkix-crl", der, len, cache,
                        extra);
}

/* Whether the request's If-None-Match names etag (or is "*"). */
static bool client_has(const web_req *q, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

/* body with its ETag and cache_control, or 304 when the client has it. */
static enum MHD_Result send_cacheable(const web_req *q, const char *type,
                                      const void *body, size_t len,
                                      const char *etag, const char *cache_control)
{
    const char *const extra[] = {MHD_HTTP_HEADER_ETAG, etag, NULL};
    if (client_has(q, etag))
        return web__respond_with(q, MHD_HTTP_NOT_MODIFIED, type, "", 0,
                                 cache_control, extra);
    return web__respond_with(q, MHD_HTTP_OK, type, body, len, cache_control, extra);
}

enum MHD_Result web__get_style(const web_req *q)
{
    size_t len = 0;
    const char *css = web_style_css(&len);
    return send_cacheable(q, "text/css; charset=utf-8", css, len, web_style_etag(),
                          STYLE_MAX_AGE);
}

enum MHD_Result web__get_badge(const web_req *q, const char *name)
{
    char in[300], remote[300];
    bool grade = strncmp(name, "grade/", 6) == 0;
    if (grade)
        name += 6;
    size_t n = strlen(name);
    bool svg = n > 4 && n < sizeof in && strcmp(name + n - 4, ".svg") == 0;
    if (svg)
        snprintf(in, sizeof in, "%.*s", (int)(n - 4), name);
    rs_daemon *srv = q->w->srv;
    grade_findings f;
    grade_result g;
    if (!svg || !web__remote_name(in, remote, sizeof remote) ||
        !report_has_trusted(srv->report, remote) ||
        (grade && !report_grade(srv->report, remote, &f, &g)))
        return web__send_message(q, MHD_HTTP_NOT_FOUND, "Not Found",
                                 "No badge here: /badge/DOMAIN.svg exists once a "
                                 "server's streams have been verified, "
                                 "/badge/grade/DOMAIN.svg once one has shown its "
                                 "certificate.", NULL, NULL, NULL);
    web_badge_counts counts;
    web_badge b;
    int len = 0;
    xmlChar *body = NULL;
    if (grade) {
        web_badge_of_grade(&g, &b);
        body = web_badge_svg(remote, &b, &len);
    } else if (web_badge_count(srv->report, remote, srv->cfg, &counts)) {
        web_badge_of_counts(&counts, &b);
        body = web_badge_svg(remote, &b, &len);
    }
    if (!body) {
        static const char text[] = "500 internal error (out of memory)\n";
        return web__respond_with(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                 "text/plain; charset=utf-8", text, sizeof text - 1,
                                 "no-store", NULL);
    }
    char etag[40];
    snprintf(etag, sizeof etag, "\"badge-%016llx\"",
             (unsigned long long)web_style_hash(body, (size_t)len));
    enum MHD_Result ret = send_cacheable(q, "image/svg+xml; charset=utf-8", body,
                                         (size_t)len, etag, BADGE_MAX_AGE);
    xmlFree(body);
    return ret;
}
