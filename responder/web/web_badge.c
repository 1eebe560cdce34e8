/* web_badge.c -- the SVG badge of verified verdicts (see web_badge.h). */
#include "web_badge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "utf8.h"

#define LABEL "xmpp strict"
#define GRADE_LABEL "xmpp grade"
#define CHAR_PX 7     /* average advance of the 11 px sans-serif, rounded up */
#define PAD_PX 6      /* space left and right of each half's text */
#define HEIGHT_PX 20

/* Whether o is absent or verified. */
static bool verified_or_absent(const report_outcome *o)
{
    return !o || o->evidence == REPORT_EVIDENCE_VERIFIED;
}

bool web_badge_count(const rs_report *r, const char *remote, const rs_config *cfg,
                     web_badge_counts *out)
{
    memset(out, 0, sizeof *out);
    report_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    if (!cells)
        return false;
    report_matrix(r, remote, cfg, cells);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const report_cell *c = &cells[i];
        report_verdict v = c->verdict;
        if (!verified_or_absent(c->in) || !verified_or_absent(c->out))
            v = REPORT_VERDICT_UNKNOWN; /* rests on an address match */
        out->verified.ok += v == REPORT_VERDICT_OK;
        out->verified.advisory += v == REPORT_VERDICT_ADVISORY;
        out->verified.wrong += v == REPORT_VERDICT_WRONG;
        out->verified.unknown += v == REPORT_VERDICT_UNKNOWN;
    }
    out->total = (unsigned)cfg->n_domains;
    free(cells);
    return true;
}

void web_badge_message(const web_badge_counts *c, char *out, size_t n)
{
    snprintf(out, n, "%u/%u ok", c->verified.ok, c->total);
}

/* The message's colour: red with any wrong, amber with advisories, green
 * with oks, grey with nothing verified. White text on each has a contrast
 * of at least 4.5:1. */
static const char *colour(const report_summary *s)
{
    if (s->wrong)
        return "#cf222e";
    if (s->advisory)
        return "#9a6700";
    if (s->ok)
        return "#1a7f37";
    return "#57606a";
}

void web_badge_of_counts(const web_badge_counts *c, web_badge *b)
{
    b->label = LABEL;
    web_badge_message(c, b->message, sizeof b->message);
    b->colour = colour(&c->verified);
}

void web_badge_of_grade(const grade_result *g, web_badge *b)
{
    b->label = GRADE_LABEL;
    snprintf(b->message, sizeof b->message, "%s%s", grade_letter_name(g->letter),
             g->letter != GRADE_NONE && g->partial ? " (partial)" : "");
    b->colour = g->letter <= GRADE_A ? "#1a7f37"
                : g->letter <= GRADE_C ? "#9a6700"
                : g->letter == GRADE_NONE ? "#57606a" : "#cf222e";
}

/* A child element of parent in the SVG namespace; NULL on failure. */
static xmlNodePtr node(xmlNodePtr parent, const char *name, const char *text)
{
    return parent ? xmlNewTextChild(parent, NULL, BAD_CAST name,
                                    text ? BAD_CAST text : NULL)
                  : NULL;
}

/* Set attributes name, value, ... (NULL-terminated); false on failure. */
static bool attrs(xmlNodePtr n, ...)
{
    if (!n)
        return false;
    va_list ap;
    va_start(ap, n);
    bool ok = true;
    for (const char *k; ok && (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        ok = xmlNewProp(n, BAD_CAST k, BAD_CAST v) != NULL;
    }
    va_end(ap);
    return ok;
}

/* One half's text with its shadow, centred at x. */
static bool half_text(xmlNodePtr g, unsigned x, const char *text)
{
    char cx[16];
    snprintf(cx, sizeof cx, "%u", x);
    return attrs(node(g, "text", text), "x", cx, "y", "15", "fill", "#010101",
                 "fill-opacity", ".3", (char *)NULL) &&
           attrs(node(g, "text", text), "x", cx, "y", "14", (char *)NULL);
}

xmlChar *web_badge_svg(const char *remote, const web_badge *b, int *len)
{
    char title[160], name[WEB_BADGE_NAME_MAX + 4];
    const char *message = b->message;
    size_t cut = utf8_cut(remote, WEB_BADGE_NAME_MAX);
    snprintf(name, sizeof name, "%.*s%s", (int)cut, remote,
             remote[cut] ? "\xE2\x80\xA6" : ""); /* … */
    snprintf(title, sizeof title, "%s: %s for %s", b->label, message, name);
    unsigned lw = 2 * PAD_PX + CHAR_PX * (unsigned)strlen(b->label);
    unsigned mw = 2 * PAD_PX + CHAR_PX * (unsigned)strlen(message);
    char w[16], lws[16], mws[16];
    snprintf(w, sizeof w, "%u", lw + mw);
    snprintf(lws, sizeof lws, "%u", lw);
    snprintf(mws, sizeof mws, "%u", mw);

    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr svg = doc ? xmlNewDocNode(doc, NULL, BAD_CAST "svg", NULL) : NULL;
    if (!svg) {
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlDocSetRootElement(doc, svg);
    xmlNsPtr ns = xmlNewNs(svg, BAD_CAST "http://www.w3.org/2000/svg", NULL);
    xmlSetNs(svg, ns);
    bool ok = ns && attrs(svg, "width", w, "height", "20", "role", "img",
                    "aria-label", title, (char *)NULL);
    ok = ok && node(svg, "title", title);
    xmlNodePtr grad = node(node(svg, "defs", NULL), "linearGradient", NULL);
    ok = ok && attrs(grad, "id", "s", "x2", "0", "y2", "100%", (char *)NULL) &&
         attrs(node(grad, "stop", NULL), "offset", "0", "stop-color", "#bbb",
               "stop-opacity", ".1", (char *)NULL) &&
         attrs(node(grad, "stop", NULL), "offset", "1", "stop-opacity", ".1",
               (char *)NULL);
    xmlNodePtr clip = node(svg, "clipPath", NULL);
    ok = ok && attrs(clip, "id", "r", (char *)NULL) &&
         attrs(node(clip, "rect", NULL), "width", w, "height", "20", "rx", "3",
               "fill", "#fff", (char *)NULL);
    xmlNodePtr g = node(svg, "g", NULL);
    ok = ok && attrs(g, "clip-path", "url(#r)", (char *)NULL) &&
         attrs(node(g, "rect", NULL), "width", lws, "height", "20", "fill",
               "#555", (char *)NULL) &&
         attrs(node(g, "rect", NULL), "x", lws, "width", mws, "height", "20",
               "fill", b->colour, (char *)NULL) &&
         attrs(node(g, "rect", NULL), "width", w, "height", "20", "fill",
               "url(#s)", (char *)NULL);
    xmlNodePtr t = node(svg, "g", NULL);
    ok = ok && attrs(t, "fill", "#fff", "text-anchor", "middle", "font-family",
                     "Verdana,Geneva,DejaVu Sans,sans-serif", "font-size", "11",
                     (char *)NULL) &&
         half_text(t, lw / 2, b->label) && half_text(t, lw + mw / 2, message);
    xmlChar *mem = NULL;
    int size = 0;
    if (ok)
        xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    xmlFreeDoc(doc);
    if (!mem || size <= 0) {
        xmlFree(mem);
        return NULL;
    }
    *len = size;
    return mem;
}
