/* web_html.c -- the page skeleton and tree helpers (see web_html.h). */
#include "web_html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlmemory.h>

#include "utf8.h"

/* A copy of s that is safe as text in the tree: invalid UTF-8 sequences
 * become U+FFFD, control characters other than tab and newline '?'. */
static xmlChar *clean(const char *s)
{
    size_t n = strlen(s);
    xmlChar *out = xmlMalloc(n * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, left = n;
    while (left > 0) {
        unsigned char c = *p;
        if (c < 0x80) {
            bool ctl = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
            out[o++] = ctl ? '?' : c;
            p++;
            left--;
            continue;
        }
        size_t len = utf8_char_len(p, left);
        if (len == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
            left--;
            continue;
        }
        if (c == 0xc2 && p[1] < 0xa0) { /* C1 controls, U+0080..U+009F */
            out[o++] = '?';
        } else {
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
        left -= len;
    }
    out[o] = '\0';
    return out;
}

void web_html_txt(rs_web_page *pg, xmlNodePtr parent, const char *s)
{
    if (pg->failed || !parent) {
        pg->failed = true;
        return;
    }
    xmlChar *c = clean(s);
    xmlNodePtr t = c ? xmlNewDocText(pg->doc, c) : NULL;
    xmlFree(c);
    if (!t || !t->content) {
        xmlFreeNode(t);
        pg->failed = true;
        return;
    }
    if (!xmlAddChild(parent, t)) {
        xmlFreeNode(t);
        pg->failed = true;
    }
}

void web_html_txtf(rs_web_page *pg, xmlNodePtr parent, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    web_html_txt(pg, parent, buf);
}

xmlNodePtr web_html_el(rs_web_page *pg, xmlNodePtr parent, const char *name,
                       const char *text)
{
    if (pg->failed || !parent) {
        pg->failed = true;
        return NULL;
    }
    xmlNodePtr n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
    if (!n) {
        pg->failed = true;
        return NULL;
    }
    if (text)
        web_html_txt(pg, n, text);
    return n;
}

void web_html_attr(rs_web_page *pg, xmlNodePtr n, const char *name, const char *value)
{
    if (pg->failed || !n) {
        pg->failed = true;
        return;
    }
    xmlChar *c = clean(value);
    if (!c || !xmlNewProp(n, BAD_CAST name, c))
        pg->failed = true;
    xmlFree(c);
}

xmlNodePtr web_html_elc(rs_web_page *pg, xmlNodePtr parent, const char *name,
                        const char *cls, const char *text)
{
    xmlNodePtr n = web_html_el(pg, parent, name, text);
    web_html_attr(pg, n, "class", cls);
    return n;
}

xmlNodePtr web_html_link(rs_web_page *pg, xmlNodePtr parent, const char *href,
                         const char *text)
{
    xmlNodePtr a = web_html_el(pg, parent, "a", text);
    web_html_attr(pg, a, "href", href);
    return a;
}

void web_html_code(rs_web_page *pg, xmlNodePtr parent, const char *text)
{
    web_html_el(pg, parent, "code", text);
}

void web_html_header_row(rs_web_page *pg, xmlNodePtr table, const char *const *names,
                         size_t n)
{
    xmlNodePtr tr = web_html_el(pg, web_html_el(pg, table, "thead", NULL), "tr", NULL);
    for (size_t i = 0; i < n; i++)
        web_html_el(pg, tr, "th", names[i]);
}

xmlNodePtr web_html_td(rs_web_page *pg, xmlNodePtr tr, const char *label,
                       const char *text)
{
    xmlNodePtr td = web_html_el(pg, tr, "td", text);
    web_html_attr(pg, td, "data-label", label);
    return td;
}

void web_html_utc(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) ||
        strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, n, "-");
}

void web_html_new(rs_web_page *pg, const char *title, unsigned refresh)
{
    memset(pg, 0, sizeof *pg);
    pg->doc = htmlNewDocNoDtD(NULL, NULL);
    if (!pg->doc || !xmlCreateIntSubset(pg->doc, BAD_CAST "html", NULL, NULL)) {
        pg->failed = true;
        return;
    }
    xmlNodePtr html = xmlNewDocNode(pg->doc, NULL, BAD_CAST "html", NULL);
    if (!html) {
        pg->failed = true;
        return;
    }
    xmlDocSetRootElement(pg->doc, html);
    web_html_attr(pg, html, "lang", "en");
    pg->head = web_html_el(pg, html, "head", NULL);
    xmlNodePtr meta = web_html_el(pg, pg->head, "meta", NULL);
    web_html_attr(pg, meta, "http-equiv", "Content-Type");
    web_html_attr(pg, meta, "content", "text/html; charset=utf-8");
    meta = web_html_el(pg, pg->head, "meta", NULL);
    web_html_attr(pg, meta, "name", "viewport");
    web_html_attr(pg, meta, "content", "width=device-width, initial-scale=1");
    if (refresh) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", refresh);
        meta = web_html_el(pg, pg->head, "meta", NULL);
        web_html_attr(pg, meta, "http-equiv", "refresh");
        web_html_attr(pg, meta, "content", secs);
    }
    web_html_el(pg, pg->head, "title", title);
    /* the one stylesheet, served by the daemon: CSP style-src 'self' */
    xmlNodePtr css = web_html_el(pg, pg->head, "link", NULL);
    web_html_attr(pg, css, "rel", "stylesheet");
    web_html_attr(pg, css, "href", "/style.css");
    pg->body = web_html_el(pg, html, "body", NULL);
    xmlNodePtr bar = web_html_elc(pg, pg->body, "header", "top", NULL);
    xmlNodePtr brand = web_html_link(pg, bar, "/", "xmpp-responder");
    web_html_attr(pg, brand, "class", "brand");
    xmlNodePtr nav = web_html_elc(pg, bar, "nav", "nav", NULL);
    web_html_link(pg, nav, "/", "test domains");
    web_html_link(pg, nav, "/clients", "your client");
    web_html_link(pg, nav, "/api/domains", "JSON");
    web_html_link(pg, nav, "/metrics", "metrics");
    pg->main = web_html_el(pg, pg->body, "main", NULL);
}

xmlChar *web_html_end(rs_web_page *pg, int *len)
{
    xmlChar *mem = NULL;
    int size = 0;
    if (!pg->failed && pg->doc)
        htmlDocDumpMemoryFormat(pg->doc, &mem, &size, 1);
    if (pg->doc)
        xmlFreeDoc(pg->doc);
    pg->doc = NULL;
    if (!mem || size <= 0) {
        xmlFree(mem);
        return NULL;
    }
    *len = size;
    return mem;
}

/* ---- widgets ------------------------------------------------------------------ */

const char *web_html_badge_text(report_verdict v)
{
    switch (v) {
    case REPORT_VERDICT_OK: return "\xE2\x9C\x93 ok";             /* ✓ */
    case REPORT_VERDICT_ADVISORY: return "! advisory";
    case REPORT_VERDICT_WRONG: return "\xE2\x9C\x97 wrong";       /* ✗ */
    case REPORT_VERDICT_UNKNOWN: break;
    }
    return "? unknown";
}

xmlNodePtr web_html_badge(rs_web_page *pg, xmlNodePtr parent, report_verdict v)
{
    char cls[48];
    snprintf(cls, sizeof cls, "badge v-%s", report_verdict_name(v));
    return web_html_elc(pg, parent, "span", cls, web_html_badge_text(v));
}

void web_html_summary(rs_web_page *pg, xmlNodePtr parent, const report_summary *s)
{
    xmlNodePtr bar = web_html_elc(pg, parent, "div", "summary", NULL);
    web_html_attr(pg, bar, "id", "summary");
    const struct {
        report_verdict v;
        unsigned n;
        const char *words;
    } parts[] = {{REPORT_VERDICT_OK, s->ok, "ok"},
                 {REPORT_VERDICT_ADVISORY, s->advisory, "advisory"},
                 {REPORT_VERDICT_WRONG, s->wrong, "wrong"},
                 {REPORT_VERDICT_UNKNOWN, s->unknown, "not seen yet"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char cls[48], sym[8];
        snprintf(cls, sizeof cls, "count v-%s", report_verdict_name(parts[i].v));
        xmlNodePtr c = web_html_elc(pg, bar, "span", cls, NULL);
        web_html_attr(pg, c, "data-verdict", report_verdict_name(parts[i].v));
        /* the badge's symbol (its text up to the space) */
        snprintf(sym, sizeof sym, "%.*s",
                 (int)strcspn(web_html_badge_text(parts[i].v), " "),
                 web_html_badge_text(parts[i].v));
        web_html_elc(pg, c, "span", "sym", sym);
        web_html_txt(pg, c, " ");
        xmlNodePtr n = web_html_elc(pg, c, "b", "n", NULL);
        web_html_txtf(pg, n, "%u", parts[i].n);
        web_html_txt(pg, c, " ");
        web_html_txt(pg, c, parts[i].words);
    }
}
