/* web_html.h -- building the web report's HTML pages as libxml2 trees: the
 * page skeleton every page shares (doctype, head linking /style.css, the
 * top bar), element and text helpers that clean network text before it
 * enters the tree (the serializer escapes it), and the small widgets several
 * pages use: a verdict badge and the summary bar of verdict counts.
 *
 * Once an allocation failed, every helper does nothing and web_html_end
 * returns NULL, so builders need not check each step. */
#ifndef RS_WEB_HTML_H
#define RS_WEB_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include "report.h"

/* A page being built. */
typedef struct rs_web_page {
    htmlDocPtr doc;       /* the tree */
    xmlNodePtr head;      /* <head> */
    xmlNodePtr body;      /* <body> */
    xmlNodePtr main;      /* <main>: where builders add their content */
    bool failed;          /* an allocation failed: the page ends as NULL */
} rs_web_page;

/* A new page titled title: doctype, head (charset, viewport, title, the
 * stylesheet link; a refresh every refresh seconds unless 0), body with the
 * top bar and an empty <main>. */
void web_html_new(rs_web_page *pg, const char *title, unsigned refresh);

/* Serialize and free the tree: the page (xmlFree it) and its length, or
 * NULL when anything failed. */
xmlChar *web_html_end(rs_web_page *pg, int *len);

/* A child element of parent named name, with text (NULL = none). */
xmlNodePtr web_html_el(rs_web_page *pg, xmlNodePtr parent, const char *name,
                       const char *text);

/* An element with a class attribute. */
xmlNodePtr web_html_elc(rs_web_page *pg, xmlNodePtr parent, const char *name,
                        const char *cls, const char *text);

/* Text s (cleaned: invalid UTF-8 -> U+FFFD, controls -> '?') as the last
 * child of parent. */
void web_html_txt(rs_web_page *pg, xmlNodePtr parent, const char *s);
__attribute__((format(printf, 3, 4)))
void web_html_txtf(rs_web_page *pg, xmlNodePtr parent, const char *fmt, ...);

/* An attribute (value cleaned like text). */
void web_html_attr(rs_web_page *pg, xmlNodePtr n, const char *name, const char *value);

/* <a href=href>text</a> */
xmlNodePtr web_html_link(rs_web_page *pg, xmlNodePtr parent, const char *href,
                         const char *text);

/* <code>text</code> */
void web_html_code(rs_web_page *pg, xmlNodePtr parent, const char *text);

/* A <thead> row of <th> names. */
void web_html_header_row(rs_web_page *pg, xmlNodePtr table, const char *const *names,
                         size_t n);

/* A <td> carrying data-label (the column's name, shown by the stylesheet
 * when narrow screens turn rows into cards). */
xmlNodePtr web_html_td(rs_web_page *pg, xmlNodePtr tr, const char *label,
                       const char *text);

/* t as "YYYY-MM-DD HH:MM:SS" (UTC), "-" when unknown. */
void web_html_utc(int64_t t, char *out, size_t n);

/* A verdict badge: <span class="badge v-VERDICT">SYMBOL WORD</span>; the
 * symbol and word say it without colour. */
xmlNodePtr web_html_badge(rs_web_page *pg, xmlNodePtr parent, report_verdict v);

/* The symbol and word of a verdict's badge ("\u2713 ok", ...). */
const char *web_html_badge_text(report_verdict v);

/* The summary bar (id="summary"): one badge-coloured count per verdict. */
void web_html_summary(rs_web_page *pg, xmlNodePtr parent, const report_summary *s);

#endif
