/* web_pages.c -- HTML pages as libxml2 trees (see web_pages.h). */
#include "web_pages.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include "catalog.h"
#include "clients.h"
#include "config.h"
#include "probe.h"
#include "report.h"
#include "utf8.h"

#define PEERS_SHOWN 100   /* remote domains listed on the index */
#define HISTORY_SHOWN 64  /* outcomes in a report's history table */

static const char style[] =
    "body{font-family:sans-serif;margin:1.5em;line-height:1.4;color:#222;"
    "background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}"
    "th,td{border:1px solid #bbb;padding:.3em .45em;text-align:left;"
    "vertical-align:top}"
    "th{background:#eee}"
    "td.name{white-space:nowrap}"
    "tr.verdict-ok td.verdict{background:#d9f2d9}"
    "tr.verdict-advisory td.verdict{background:#fff0c2}"
    "tr.verdict-wrong td.verdict{background:#f8c8c8;font-weight:bold}"
    "tr.verdict-unknown td.verdict{color:#666}"
    ".advisory{font-style:italic;color:#665}"
    ".notseen{color:#888}"
    ".nav{font-size:.9em;color:#555}"
    ".summary{font-size:1.1em}"
    ".probe{background:#eef;padding:.5em;border:1px solid #99c}"
    "code{font-family:monospace,monospace}";

/* A page being built. Once an allocation failed, every helper does nothing
 * and the page ends as NULL. */
typedef struct page {
    htmlDocPtr doc;
    xmlNodePtr head, body;
    bool failed;
} page;

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

/* Text s as the last child of parent. */
static void txt(page *pg, xmlNodePtr parent, const char *s)
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

__attribute__((format(printf, 3, 4))) static void
txtf(page *pg, xmlNodePtr parent, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    txt(pg, parent, buf);
}

/* A child element named name, with text (NULL = none). */
static xmlNodePtr el(page *pg, xmlNodePtr parent, const char *name,
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
        txt(pg, n, text);
    return n;
}

static void attr(page *pg, xmlNodePtr n, const char *name, const char *value)
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

/* <a href=href>text</a> */
static xmlNodePtr link_to(page *pg, xmlNodePtr parent, const char *href,
                          const char *text)
{
    xmlNodePtr a = el(pg, parent, "a", text);
    attr(pg, a, "href", href);
    return a;
}

/* <code>text</code> */
static void code(page *pg, xmlNodePtr parent, const char *text)
{
    el(pg, parent, "code", text);
}

/* A new page: doctype, head with title and style, body with navigation. */
static void page_new(page *pg, const char *title, unsigned refresh)
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
    attr(pg, html, "lang", "en");
    pg->head = el(pg, html, "head", NULL);
    xmlNodePtr meta = el(pg, pg->head, "meta", NULL);
    attr(pg, meta, "http-equiv", "Content-Type");
    attr(pg, meta, "content", "text/html; charset=utf-8");
    meta = el(pg, pg->head, "meta", NULL);
    attr(pg, meta, "name", "viewport");
    attr(pg, meta, "content", "width=device-width, initial-scale=1");
    if (refresh) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", refresh);
        meta = el(pg, pg->head, "meta", NULL);
        attr(pg, meta, "http-equiv", "refresh");
        attr(pg, meta, "content", secs);
    }
    el(pg, pg->head, "title", title);
    el(pg, pg->head, "style", style);
    pg->body = el(pg, html, "body", NULL);
    xmlNodePtr nav = el(pg, pg->body, "p", NULL);
    attr(pg, nav, "class", "nav");
    link_to(pg, nav, "/", "xmpp-responder: all test domains");
    txt(pg, nav, " \xC2\xB7 ");
    link_to(pg, nav, "/api/domains", "domains as JSON");
    txt(pg, nav, " \xC2\xB7 ");
    link_to(pg, nav, "/metrics", "metrics");
}

/* Serialize and free the tree. */
static xmlChar *page_end(page *pg, int *len)
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

static void utc(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) ||
        strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, n, "-");
}

/* A row of table cells: <th> each of names. */
static void header_row(page *pg, xmlNodePtr table, const char *const *names,
                       size_t n)
{
    xmlNodePtr tr = el(pg, el(pg, table, "thead", NULL), "tr", NULL);
    for (size_t i = 0; i < n; i++)
        el(pg, tr, "th", names[i]);
}

/* "accept" / "refuse", and "(advisory)" when the specs leave room. */
static void strict_cell(page *pg, xmlNodePtr tr, const catalog_profile *p)
{
    xmlNodePtr td = el(pg, tr, "td", catalog_expect_name(p->strict));
    if (p->advisory) {
        txt(pg, td, " ");
        xmlNodePtr s = el(pg, td, "span", "(advisory)");
        attr(pg, s, "class", "advisory");
        attr(pg, s, "title", "the specifications leave room here: this is "
                             "the pedantic answer");
    }
}

/* The probe form, prefilled with target when not NULL. */
static void probe_form(page *pg, const rs_config *cfg, const char *target)
{
    xmlNodePtr p = el(pg, pg->body, "p", NULL);
    txt(pg, p, "The responder pings your server from every test domain and "
               "records what happens on both legs; the report page of your "
               "domain fills in as the answers arrive. ");
    txtf(pg, p, "One probe per target every %u s, at most %u probes an hour "
                "in all. The same from a shell: ",
         cfg->limits.probe_target_interval, cfg->limits.probe_per_hour);
    code(pg, p, "xmpp-responder probe YOUR.DOMAIN");
    txt(pg, p, ".");
    xmlNodePtr form = el(pg, pg->body, "form", NULL);
    attr(pg, form, "method", "post");
    attr(pg, form, "action", "/probe");
    attr(pg, form, "id", "probe");
    xmlNodePtr fp = el(pg, form, "p", NULL);
    xmlNodePtr label = el(pg, fp, "label", "Your server's domain: ");
    attr(pg, label, "for", "target");
    xmlNodePtr input = el(pg, fp, "input", NULL);
    attr(pg, input, "type", "text");
    attr(pg, input, "id", "target");
    attr(pg, input, "name", "target");
    attr(pg, input, "size", "40");
    attr(pg, input, "maxlength", "253");
    attr(pg, input, "placeholder", "example.org");
    attr(pg, input, "required", "required");
    if (target)
        attr(pg, input, "value", target);
    txt(pg, fp, " ");
    xmlNodePtr button = el(pg, fp, "button", "Probe");
    attr(pg, button, "type", "submit");
}

/* ---- GET / ------------------------------------------------------------------------ */

static void index_intro(page *pg, const rs_config *cfg)
{
    xmlNodePtr p = el(pg, pg->body, "p", NULL);
    txt(pg, p, "Every domain below is hosted here and bound to one "
               "deliberately broken profile. To see what your XMPP server "
               "accepts, ping any of them from your server (with Prosody: ");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "prosodyctl shell \"xmpp:ping('your.domain', "
             "'valid.%s', 5)\"", cfg->base_domain);
    code(pg, p, cmd);
    txt(pg, p, "), or add ");
    code(pg, p, "echo@DOMAIN");
    txt(pg, p, " to your roster and write to it: it echoes your message, ");
    code(pg, p, "help");
    txt(pg, p, " lists its commands and ");
    code(pg, p, "report");
    txt(pg, p, " answers with what it saw of your server. A pong or an echo "
               "means your server accepted the domain. Then open ");
    code(pg, p, "/report/YOUR.DOMAIN");
    txt(pg, p, " for the verdict and explanation of every domain, or let the "
               "responder dial you with ");
    code(pg, p, "xmpp-responder probe YOUR.DOMAIN");
    txt(pg, p, " or the form below.");
}

/* Whether clients can log in here (a client listener is configured). */
static bool serves_clients(const rs_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listen; i++)
        if (cfg->listen[i].clients)
            return true;
    return false;
}

static void index_table(page *pg, const rs_config *cfg)
{
    bool clients = serves_clients(cfg);
    xmlNodePtr table = el(pg, pg->body, "table", NULL);
    attr(pg, table, "id", "domains");
    static const char *const cols[] = {"domain", "kind", "what it breaks",
                                       "a strict server should", "why",
                                       "a strict client should", "how to test"};
    header_row(pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const rs_domain_conf *d = &cfg->domains[i];
        const catalog_profile *p = d->profile;
        xmlNodePtr tr = el(pg, tbody, "tr", NULL);
        attr(pg, tr, "class", "domain");
        attr(pg, tr, "data-domain", d->name);
        attr(pg, tr, "data-profile", p->label);
        xmlNodePtr td = el(pg, tr, "td", NULL);
        attr(pg, td, "class", "name");
        code(pg, td, d->name);
        el(pg, tr, "td", catalog_kind_name(p->kind));
        td = el(pg, tr, "td", p->breaks);
        if (d->description) {
            el(pg, td, "br", NULL);
            el(pg, td, "small", d->description);
        }
        if (cfg->public_instance) {
            el(pg, td, "br", NULL);
            xmlNodePtr s = el(pg, td, "small", catalog_public_text(p));
            attr(pg, s, "class", "source");
        }
        if (d->cert_mismatch) {
            el(pg, td, "br", NULL);
            xmlNodePtr m = el(pg, td, "small", "certificate differs from the row: ");
            attr(pg, m, "class", "mismatch");
            txt(pg, m, d->cert_mismatch);
        }
        strict_cell(pg, tr, p);
        el(pg, tr, "td", p->strict_why);
        td = el(pg, tr, "td", catalog_client_name(p->client));
        attr(pg, td, "class", "client");
        if (p->client_why) {
            el(pg, td, "br", NULL);
            el(pg, td, "small", p->client_why);
        }
        td = el(pg, tr, "td", "ping ");
        code(pg, td, d->name);
        el(pg, td, "br", NULL);
        txt(pg, td, "write to ");
        char echo[300];
        snprintf(echo, sizeof echo, "echo@%s", d->name);
        code(pg, td, echo);
        if (!clients)
            continue;
        el(pg, td, "br", NULL);
        txt(pg, td, "log in as ");
        char account[300];
        snprintf(account, sizeof account, "test@%s", d->name);
        code(pg, td, account);
        txt(pg, td, " (password test)");
    }
}

static void index_peers(page *pg, rs_daemon *srv)
{
    el(pg, pg->body, "h2", "Servers seen recently");
    const char *names[PEERS_SHOWN];
    int64_t seen[PEERS_SHOWN];
    size_t total = report_peers(srv->report, names, seen, PEERS_SHOWN);
    size_t n = total < PEERS_SHOWN ? total : PEERS_SHOWN;
    if (n == 0) {
        el(pg, pg->body, "p", "No remote server has been seen yet.");
        return;
    }
    xmlNodePtr p = el(pg, pg->body, "p", NULL);
    txtf(pg, p, "%zu remote domain%s known", total, total == 1 ? "" : "s");
    txt(pg, p, n < total ? "; the most recent are listed." : ".");
    xmlNodePtr ul = el(pg, pg->body, "ul", NULL);
    attr(pg, ul, "id", "peers");
    for (size_t i = 0; i < n; i++) {
        char href[300], when[32];
        snprintf(href, sizeof href, "/report/%s", names[i]);
        utc(seen[i], when, sizeof when);
        xmlNodePtr li = el(pg, ul, "li", NULL);
        link_to(pg, li, href, names[i]);
        txtf(pg, li, ", last seen %s UTC", when);
    }
}

xmlChar *web_pages_index(rs_daemon *srv, int *len)
{
    const rs_config *cfg = srv->cfg;
    page pg;
    char title[300];
    snprintf(title, sizeof title, "XMPP test domains under %s", cfg->base_domain);
    page_new(&pg, title, 0);
    el(&pg, pg.body, "h1", title);
    index_intro(&pg, cfg);
    xmlNodePtr p = el(&pg, pg.body, "p", NULL);
    txtf(&pg, p, "%zu test domains. \"advisory\" marks rows where the "
                 "specifications leave room: the answer shown is the "
                 "pedantic one.", cfg->n_domains);
    index_table(&pg, cfg);
    index_peers(&pg, srv);
    el(&pg, pg.body, "h2", "Probe your server");
    probe_form(&pg, cfg, NULL);
    return page_end(&pg, len);
}

/* ---- GET /report/REMOTE -------------------------------------------------------------- */

static const char *verdict_marker(report_verdict v)
{
    switch (v) {
    case REPORT_VERDICT_OK: return "\xE2\x9C\x93 ok";             /* ✓ */
    case REPORT_VERDICT_ADVISORY: return "! advisory";
    case REPORT_VERDICT_WRONG: return "\xE2\x9C\x97 wrong";       /* ✗ */
    case REPORT_VERDICT_UNKNOWN: break;
    }
    return "? unknown";
}

/* One leg's brief, or "not seen". */
static void leg_cell(page *pg, xmlNodePtr tr, const report_outcome *o)
{
    if (!o) {
        xmlNodePtr td = el(pg, tr, "td", "not seen");
        attr(pg, td, "class", "notseen");
        return;
    }
    char brief[512];
    report_outcome_brief(o, brief, sizeof brief);
    el(pg, tr, "td", brief);
}

/* The probe's result for domain, if p has it. */
static const char *probe_result_of(const rs_probe *p, size_t total,
                                   const char *domain, const char **detail)
{
    for (size_t i = 0; p && i < total; i++) {
        probe_result r;
        const char *name = probe_domain(p, i, &r, detail);
        if (name && strcmp(name, domain) == 0)
            return probe_result_name(r);
    }
    *detail = NULL;
    return NULL;
}

static void report_table(page *pg, const rs_config *cfg, const report_cell *cells,
                         const rs_probe *probe, size_t probe_total)
{
    xmlNodePtr table = el(pg, pg->body, "table", NULL);
    attr(pg, table, "id", "domains");
    static const char *const cols[] = {
        "test domain", "what it breaks", "a strict server should",
        "your server", "verdict", "explanation",
        "in: your server dialled us", "out: we dialled your server", "probe"};
    size_t ncols = sizeof cols / sizeof cols[0] - (probe ? 0 : 1);
    header_row(pg, table, cols, ncols);
    xmlNodePtr tbody = el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const report_cell *c = &cells[i];
        const catalog_profile *p = c->domain->profile;
        char cls[64];
        snprintf(cls, sizeof cls, "domain verdict-%s",
                 report_verdict_name(c->verdict));
        xmlNodePtr tr = el(pg, tbody, "tr", NULL);
        attr(pg, tr, "class", cls);
        attr(pg, tr, "data-domain", c->domain->name);
        attr(pg, tr, "data-verdict", report_verdict_name(c->verdict));
        xmlNodePtr td = el(pg, tr, "td", NULL);
        attr(pg, td, "class", "name");
        code(pg, td, c->domain->name);
        el(pg, tr, "td", p->breaks);
        strict_cell(pg, tr, p);
        el(pg, tr, "td", report_seen_name(c->seen));
        td = el(pg, tr, "td", verdict_marker(c->verdict));
        attr(pg, td, "class", "verdict");
        el(pg, tr, "td", c->explanation);
        leg_cell(pg, tr, c->in);
        leg_cell(pg, tr, c->out);
        if (probe) {
            const char *detail = NULL;
            const char *r = probe_result_of(probe, probe_total, c->domain->name,
                                            &detail);
            td = el(pg, tr, "td", r ? r : "-");
            if (detail && detail[0]) {
                txt(pg, td, ": ");
                txt(pg, td, detail);
            }
        }
    }
}

static void history_table(page *pg, const rs_report *r, const char *remote)
{
    el(pg, pg->body, "h2", "History, newest first");
    xmlNodePtr note = el(pg, pg->body, "p", NULL);
    attr(pg, note, "id", "evidence-note");
    txt(pg, note, "Evidence: verified = the stream authenticated as this "
                  "server, or we dialled it through its own DNS; "
                  "address-matched = not authenticated, but it came from an "
                  "address this server's DNS names; claimed = anyone could "
                  "have sent it under this name. Only verified and "
                  "address-matched streams count in the verdicts above.");
    const report_outcome *hist[HISTORY_SHOWN];
    size_t n = report_history(r, remote, hist, HISTORY_SHOWN);
    if (n == 0) {
        el(pg, pg->body, "p", "No stream recorded yet.");
        return;
    }
    xmlNodePtr table = el(pg, pg->body, "table", NULL);
    attr(pg, table, "id", "history");
    static const char *const cols[] = {
        "time (UTC)", "evidence", "leg", "test domain", "address", "TLS",
        "authentication",
        "refused by", "authentication error", "stream error from your server",
        "how it ended"};
    header_row(pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < n; i++) {
        const report_outcome *o = hist[i];
        char when[32], auth[64];
        utc(o->time, when, sizeof when);
        if (o->auth_used[0])
            snprintf(auth, sizeof auth, "%s %s", o->auth_used,
                     report_auth_name(o->auth));
        else
            snprintf(auth, sizeof auth, "%s", report_auth_name(o->auth));
        xmlNodePtr tr = el(pg, tbody, "tr", NULL);
        attr(pg, tr, "class", o->evidence == REPORT_EVIDENCE_CLAIMED
                                  ? "outcome claim" : "outcome");
        el(pg, tr, "td", when);
        el(pg, tr, "td", report_evidence_name(o->evidence));
        el(pg, tr, "td", report_leg_name(o->leg));
        el(pg, tr, "td", o->local);
        el(pg, tr, "td", o->address);
        el(pg, tr, "td", o->tls[0] ? o->tls : "no TLS");
        el(pg, tr, "td", auth);
        char by[64];
        snprintf(by, sizeof by, "%s%s%s", o->refused_by == REPORT_BY_NONE
                 ? "-" : report_refusal_name(o->refused_by),
                 o->refused_by && o->step ? ", at " : "",
                 o->refused_by && o->step ? report_step_words(o->step) : "");
        el(pg, tr, "td", by);
        el(pg, tr, "td", o->auth_error);
        el(pg, tr, "td", o->error_in);
        el(pg, tr, "td", o->close);
    }
}

static void summary_line(page *pg, const report_summary *s)
{
    xmlNodePtr p = el(pg, pg->body, "p", NULL);
    attr(pg, p, "class", "summary");
    attr(pg, p, "id", "summary");
    txtf(pg, p, "%u ok, %u advisory, %u wrong, %u not seen yet.", s->ok,
         s->advisory, s->wrong, s->unknown);
}

xmlChar *web_pages_report(rs_daemon *srv, const char *remote, int *len)
{
    const rs_config *cfg = srv->cfg;
    report_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1,
                                sizeof *cells);
    if (!cells)
        return NULL;
    report_matrix(srv->report, remote, cfg, cells);
    report_summary s;
    report_summarize(cells, cfg->n_domains, &s);
    rs_probe *probe = probe_find(srv, remote);
    size_t done = 0, total = 0;
    if (probe)
        probe_counts(probe, &done, &total);

    page pg;
    char title[320];
    snprintf(title, sizeof title, "What %s accepts", remote);
    page_new(&pg, title, probe ? 5 : 0);
    xmlNodePtr h1 = el(&pg, pg.body, "h1", "Report for ");
    code(&pg, h1, remote);
    if (probe) {
        xmlNodePtr p = el(&pg, pg.body, "p", NULL);
        attr(&pg, p, "class", "probe");
        attr(&pg, p, "id", "probe-status");
        txtf(&pg, p, "probe running: %zu/%zu answered. This page refreshes "
                     "every 5 seconds until it ends.", done, total);
    }
    if (!report_has_peer(srv->report, remote)) {
        xmlNodePtr p = el(&pg, pg.body, "p", NULL);
        attr(&pg, p, "id", "nothing");
        txt(&pg, p, "Nothing seen from ");
        code(&pg, p, remote);
        txt(&pg, p, " yet. Ping any test domain from that server, write to "
                    "the echo contact of one (");
        char echo[300];
        snprintf(echo, sizeof echo, "echo@valid.%s", cfg->base_domain);
        code(&pg, p, echo);
        txt(&pg, p, "), or start a probe below; then reload this page.");
    } else if (!report_has_trusted(srv->report, remote)) {
        xmlNodePtr p = el(&pg, pg.body, "p", NULL);
        attr(&pg, p, "id", "claims-only");
        txt(&pg, p, "Only claims so far: streams that named ");
        code(&pg, p, remote);
        txt(&pg, p, " but neither authenticated nor came from an address its "
                    "DNS names. They are listed below and decide nothing.");
    }
    summary_line(&pg, &s);
    report_table(&pg, cfg, cells, probe, total);
    history_table(&pg, srv->report, remote);
    if (!probe) {
        el(&pg, pg.body, "h2", "Probe this server");
        probe_form(&pg, cfg, remote);
    }
    xmlNodePtr p = el(&pg, pg.body, "p", "The same as JSON: ");
    char href[300];
    snprintf(href, sizeof href, "/api/report/%s", remote);
    link_to(&pg, p, href, href);
    free(cells);
    return page_end(&pg, len);
}

/* ---- clients ---------------------------------------------------------------------- */

xmlChar *web_pages_clients(rs_daemon *srv, const char *address, bool own, int *len)
{
    const rs_config *cfg = srv->cfg;
    clients_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    if (!cells)
        return NULL;
    clients_matrix(srv->clients, address, cfg, cells);
    page pg;
    char title[120];
    snprintf(title, sizeof title, "What the client at %s accepts", address);
    page_new(&pg, title, 0);
    xmlNodePtr h1 = el(&pg, pg.body, "h1", "Clients: what the client at ");
    code(&pg, h1, address);
    txt(&pg, h1, " did");
    xmlNodePtr p = el(&pg, pg.body, "p", NULL);
    attr(&pg, p, "id", "how");
    txtf(&pg, p, "Every test domain has the account test@DOMAIN, password test: "
                 "log in from a client and reload. %s Addresses are not listed "
                 "(%zu seen lately); a page shows the address it is asked for.",
         own ? "This page shows the address your browser came from; a client on "
               "another machine has its own page at /clients/ADDRESS."
             : "",
         clients_count(srv->clients));
    if (!clients_known(srv->clients, address)) {
        p = el(&pg, pg.body, "p", NULL);
        attr(&pg, p, "id", "nothing");
        txt(&pg, p, "Nothing seen from ");
        code(&pg, p, address);
        txt(&pg, p, " yet.");
    }
    xmlNodePtr table = el(&pg, pg.body, "table", NULL);
    attr(&pg, table, "id", "clients");
    static const char *const cols[] = {"test domain", "a strict client should",
                                       "your client", "verdict", "why"};
    header_row(&pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = el(&pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const clients_cell *c = &cells[i];
        xmlNodePtr tr = el(&pg, tbody, "tr", NULL);
        attr(&pg, tr, "class", report_verdict_name(c->verdict));
        attr(&pg, tr, "data-profile", c->domain->profile->label);
        code(&pg, el(&pg, tr, "td", NULL), c->domain->name);
        el(&pg, tr, "td", catalog_client_name(c->domain->profile->client));
        el(&pg, tr, "td", clients_seen_name(c->seen));
        el(&pg, tr, "td", report_verdict_name(c->verdict));
        el(&pg, tr, "td", c->explanation);
    }
    p = el(&pg, pg.body, "p", "The same as JSON: ");
    char href[120];
    snprintf(href, sizeof href, "/api/clients/%s", address);
    link_to(&pg, p, href, href);
    free(cells);
    return page_end(&pg, len);
}

/* ---- messages ---------------------------------------------------------------------- */

xmlChar *web_pages_message(unsigned status, const char *title, const char *text,
                          const char *detail, int *len)
{
    page pg;
    char heading[200];
    snprintf(heading, sizeof heading, "%u %s", status, title);
    page_new(&pg, heading, 0);
    el(&pg, pg.body, "h1", heading);
    if (text)
        el(&pg, pg.body, "p", text);
    if (detail) {
        xmlNodePtr p = el(&pg, pg.body, "p", NULL);
        attr(&pg, p, "id", "detail");
        code(&pg, p, detail);
    }
    xmlNodePtr p = el(&pg, pg.body, "p", NULL);
    link_to(&pg, p, "/", "Back to the test domains");
    return page_end(&pg, len);
}
