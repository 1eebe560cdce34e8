/* web_pages_report.c -- GET /report/REMOTE (see web_pages.h): the summary
 * bar, the matrix as a compact grid with verdict badges, the timeline of
 * changes and every stream in a box of its own. */
#include "web_pages.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "probe.h"
#include "report.h"
#include "utf8.h"
#include "web_html.h"
#include "web_pages_internal.h"
#include "web_timeline.h"

#define HISTORY_SHOWN 64  /* outcomes in a report's history */

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

/* One leg's brief under the explanation: "in: TLS1.3; dialback ok ...". */
static void leg_line(rs_web_page *pg, xmlNodePtr td, const char *leg,
                     const report_outcome *o)
{
    xmlNodePtr div = web_html_elc(pg, td, "div", "legs", NULL);
    web_html_el(pg, div, "b", leg);
    if (!o) {
        web_html_elc(pg, div, "span", "notseen", " not seen");
        return;
    }
    char brief[512];
    report_outcome_brief(o, brief, sizeof brief);
    web_html_txt(pg, div, " ");
    web_html_txt(pg, div, brief);
}

/* The explanation folded to its first sentence, so that the grid of every
 * domain fits a screen; open where the verdict is wrong (what the reader
 * came for). The whole text and both legs are inside. */
static void explanation(rs_web_page *pg, xmlNodePtr td, const report_cell *c)
{
    const char *text = c->explanation;
    const char *stop = strstr(text, ". ");
    size_t len = stop ? (size_t)(stop - text) + 1 : strlen(text);
    char first[104]; /* about two lines of the column */
    bool cut = len > sizeof first - 4;
    if (cut)
        len = utf8_cut(text, sizeof first - 4);
    snprintf(first, sizeof first, "%.*s%s", (int)len, text, cut ? "..." : "");
    xmlNodePtr details = web_html_el(pg, td, "details", NULL);
    if (c->verdict == REPORT_VERDICT_WRONG)
        web_html_attr(pg, details, "open", "open");
    web_html_el(pg, details, "summary", first);
    if (text[len])
        web_html_el(pg, details, "p", text);
    leg_line(pg, details, "in:", c->in);
    leg_line(pg, details, "out:", c->out);
}

static void report_table(rs_web_page *pg, const rs_config *cfg, const report_cell *cells,
                         const rs_probe *probe, size_t probe_total)
{
    xmlNodePtr table = web_html_elc(pg, pg->main, "table", "grid cards", NULL);
    web_html_attr(pg, table, "id", "domains");
    static const char *const cols[] = {"test domain", "a strict server should",
                                       "your server", "verdict",
                                       "explanation", "probe"};
    size_t ncols = sizeof cols / sizeof cols[0] - (probe ? 0 : 1);
    web_html_header_row(pg, table, cols, ncols);
    xmlNodePtr tbody = web_html_el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const report_cell *c = &cells[i];
        const catalog_profile *p = c->domain->profile;
        char cls[64];
        snprintf(cls, sizeof cls, "domain verdict-%s",
                 report_verdict_name(c->verdict));
        xmlNodePtr tr = web_html_elc(pg, tbody, "tr", cls, NULL);
        web_html_attr(pg, tr, "data-domain", c->domain->name);
        web_html_attr(pg, tr, "data-verdict", report_verdict_name(c->verdict));
        xmlNodePtr td = web_html_td(pg, tr, "test domain", NULL);
        web_html_attr(pg, td, "class", "name");
        web_html_code(pg, td, c->domain->name);
        web_html_el(pg, td, "small", p->breaks);
        web_pages__strict_cell(pg, tr, "a strict server should", p);
        web_html_td(pg, tr, "your server", report_seen_name(c->seen));
        td = web_html_td(pg, tr, "verdict", NULL);
        web_html_attr(pg, td, "class", "verdict");
        web_html_badge(pg, td, c->verdict);
        td = web_html_td(pg, tr, "explanation", NULL);
        web_html_attr(pg, td, "class", "details");
        explanation(pg, td, c);
        if (probe) {
            const char *detail = NULL;
            const char *r = probe_result_of(probe, probe_total, c->domain->name,
                                            &detail);
            td = web_html_td(pg, tr, "probe", r ? r : "-");
            if (detail && detail[0]) {
                web_html_txt(pg, td, ": ");
                web_html_txt(pg, td, detail);
            }
        }
    }
}

/* Every recorded stream, in a box that scrolls sideways on its own. */
static void history_table(rs_web_page *pg, const report_outcome *const *hist, size_t n)
{
    xmlNodePtr details = web_html_el(pg, pg->main, "details", NULL);
    xmlNodePtr sum = web_html_el(pg, details, "summary", NULL);
    web_html_txtf(pg, sum, "Every stream, newest first (%zu)", n);
    xmlNodePtr note = web_html_elc(pg, details, "p", "muted", NULL);
    web_html_attr(pg, note, "id", "evidence-note");
    web_html_txt(pg, note, "Evidence: verified = the stream authenticated as this "
                           "server, or we dialled it through its own DNS; "
                           "address-matched = not authenticated, but it came from an "
                           "address this server's DNS names; claimed = anyone could "
                           "have sent it under this name. Only verified and "
                           "address-matched streams count in the verdicts above.");
    if (n == 0) {
        web_html_el(pg, details, "p", "No stream recorded yet.");
        return;
    }
    xmlNodePtr box = web_html_elc(pg, details, "div", "scroll", NULL);
    xmlNodePtr table = web_html_el(pg, box, "table", NULL);
    web_html_attr(pg, table, "id", "history");
    static const char *const cols[] = {
        "time (UTC)", "evidence", "leg", "test domain", "address", "TLS",
        "authentication", "refused by", "authentication error",
        "stream error from your server", "how it ended"};
    web_html_header_row(pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = web_html_el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < n; i++) {
        const report_outcome *o = hist[i];
        char when[32], auth[64], by[64];
        web_html_utc(o->time, when, sizeof when);
        if (o->auth_used[0])
            snprintf(auth, sizeof auth, "%s %s", o->auth_used,
                     report_auth_name(o->auth));
        else
            snprintf(auth, sizeof auth, "%s", report_auth_name(o->auth));
        snprintf(by, sizeof by, "%s%s%s", o->refused_by == REPORT_BY_NONE
                 ? "-" : report_refusal_name(o->refused_by),
                 o->refused_by && o->step ? ", at " : "",
                 o->refused_by && o->step ? report_step_words(o->step) : "");
        xmlNodePtr tr = web_html_el(pg, tbody, "tr", NULL);
        web_html_attr(pg, tr, "class", o->evidence == REPORT_EVIDENCE_CLAIMED
                                           ? "outcome claim" : "outcome");
        const char *cells[] = {when, report_evidence_name(o->evidence),
                               report_leg_name(o->leg), o->local, o->address,
                               o->tls[0] ? o->tls : "no TLS", auth, by,
                               o->auth_error, o->error_in, o->close};
        for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++)
            web_html_el(pg, tr, "td", cells[k]);
    }
}

/* A notice paragraph (id): before, name as code, after. */
static xmlNodePtr notice(rs_web_page *pg, const char *id, const char *before,
                         const char *name, const char *after)
{
    xmlNodePtr p = web_html_elc(pg, pg->main, "p", "notice", NULL);
    web_html_attr(pg, p, "id", id);
    web_html_txt(pg, p, before);
    web_html_code(pg, p, name);
    web_html_txt(pg, p, after);
    return p;
}

/* What is known (nothing, claims only) and the probe's progress. */
static void report_notices(rs_web_page *pg, rs_daemon *srv, const char *remote,
                           const rs_probe *probe, size_t done, size_t total)
{
    if (probe) {
        xmlNodePtr p = web_html_elc(pg, pg->main, "p", "probe", NULL);
        web_html_attr(pg, p, "id", "probe-status");
        web_html_txtf(pg, p, "probe running: %zu/%zu answered. This page refreshes "
                             "every 5 seconds until it ends.", done, total);
    }
    if (!report_has_peer(srv->report, remote)) {
        xmlNodePtr p = notice(pg, "nothing", "Nothing seen from ", remote,
                              " yet. Ping any test domain from that server, write "
                              "to the echo contact of one (");
        char echo[300];
        snprintf(echo, sizeof echo, "echo@valid.%s", srv->cfg->base_domain);
        web_html_code(pg, p, echo);
        web_html_txt(pg, p, "), or start a probe below; then reload this page.");
    } else if (!report_has_trusted(srv->report, remote)) {
        notice(pg, "claims-only", "Only claims so far: streams that named ", remote,
               " but neither authenticated nor came from an address its DNS names. "
               "They are listed below and decide nothing.");
    }
}

/* How to embed the badge of remote (shown once something is verified). */
static void badge_embed(rs_web_page *pg, const char *remote)
{
    web_html_el(pg, pg->main, "h2", "Badge");
    xmlNodePtr p = web_html_el(pg, pg->main, "p", "A badge of the verified results, "
                                                  "for a README or a status page: ");
    char href[300], md[700];
    snprintf(href, sizeof href, "/badge/%s.svg", remote);
    web_html_link(pg, p, href, href);
    snprintf(md, sizeof md, "[![xmpp strict](https://RESPONDER%s)]"
             "(https://RESPONDER/report/%s)", href, remote);
    web_html_el(pg, web_html_el(pg, pg->main, "pre", NULL), "code", md);
}

/* The grade's badge class: its letter's verdict colour. */
static report_verdict grade_verdict(grade_letter g)
{
    return g <= GRADE_A ? REPORT_VERDICT_OK : g <= GRADE_C ? REPORT_VERDICT_ADVISORY
           : g == GRADE_NONE ? REPORT_VERDICT_UNKNOWN : REPORT_VERDICT_WRONG;
}

static const char *flag_words(grade_flag f)
{
    return f == GRADE_UNSEEN ? "not seen yet" : grade_flag_name(f);
}

/* One row of the findings table. */
static void finding_row(rs_web_page *pg, xmlNodePtr table, const char *what,
                        const char *value)
{
    xmlNodePtr tr = web_html_el(pg, table, "tr", NULL);
    web_html_td(pg, tr, "Finding", what);
    web_html_td(pg, tr, "Seen", value);
}

static void cert_rows(rs_web_page *pg, xmlNodePtr table, const char *side,
                      const peercert_findings *c, int64_t seen)
{
    char what[64], v[1400], when[40];
    web_html_utc(seen, when, sizeof when);
    snprintf(what, sizeof what, "Certificate as a %s", side);
    if (!c->present) {
        snprintf(v, sizeof v, "none sent (seen %s)", when);
        finding_row(pg, table, what, v);
        return;
    }
    snprintf(v, sizeof v, "chain %s%s%s (%u sent); names %s %s%s; issuer %s; "
             "%d days left; %s%s; %s%s; purpose: %s; seen %s",
             peercert_chain_name(c->chain), c->chain_problem[0] ? ": " : "",
             c->chain_problem, c->chain_len, c->names,
             c->name_ok ? "match by " : "do not name the domain",
             c->name_ok ? c->name_how : "", c->issuer, c->days_left, c->key,
             c->key_weak ? " (weak)" : "", c->signature,
             c->signature_weak ? " (weak)" : "", peercert_eku_name(c->eku), when);
    finding_row(pg, table, what, v);
}

/* What the remote presents and its grade, with the rules that set it and
 * every rule of the table folded below. */
static void presented_section(rs_web_page *pg, const rs_report *rep, const char *remote)
{
    grade_findings f;
    grade_result g;
    web_html_el(pg, pg->main, "h2", "What it presents");
    if (!report_grade(rep, remote, &f, &g)) {
        web_html_el(pg, pg->main, "p", "Nothing seen yet: no stream we trust (one we "
                    "dialled through its DNS, or one that authenticated to us) has "
                    "shown its certificate.");
        return;
    }
    xmlNodePtr p = web_html_el(pg, pg->main, "p", "Grade ");
    char cls[48];
    snprintf(cls, sizeof cls, "grade v-%s", report_verdict_name(grade_verdict(g.letter)));
    web_html_elc(pg, p, "span", cls, grade_letter_name(g.letter));
    if (g.partial)
        web_html_txt(pg, p, " (partial: from the streams seen so far; a probe "
                     "also tries the TLS versions one by one)");
    web_html_el(pg, pg->main, "p", g.readiness);
    if (g.n_applied) {
        xmlNodePtr t = web_html_el(pg, pg->main, "table", NULL);
        static const char *const cols[] = {"Rule", "Caps at", "Why"};
        web_html_header_row(pg, t, cols, 3);
        for (size_t i = 0; i < g.n_applied; i++) {
            xmlNodePtr tr = web_html_el(pg, t, "tr", NULL);
            web_html_td(pg, tr, "Rule", g.applied[i]->when);
            web_html_td(pg, tr, "Caps at", grade_letter_name(g.applied[i]->cap));
            web_html_td(pg, tr, "Why", g.applied[i]->why);
        }
    }
    xmlNodePtr t = web_html_el(pg, pg->main, "table", NULL);
    static const char *const cols[] = {"Finding", "Seen"};
    web_html_header_row(pg, t, cols, 2);
    if (f.server_cert_time)
        cert_rows(pg, t, "server", &f.server_cert, f.server_cert_time);
    if (f.client_cert_time)
        cert_rows(pg, t, "client", &f.client_cert, f.client_cert_time);
    char v[80];
    grade_tls_text(f.tls_seen, v, sizeof v);
    finding_row(pg, t, "TLS versions negotiated", v[0] ? v : "none yet");
    finding_row(pg, t, "STARTTLS required", flag_words(f.tls_required));
    finding_row(pg, t, "SASL EXTERNAL offered to a valid certificate", flag_words(f.sasl_external));
    finding_row(pg, t, "Dialback offered", flag_words(f.dialback));
    finding_row(pg, t, "Accepts peers whose certificate is serverAuth only",
                flag_words(f.accepts_server_only));
    report_grade_entry h[REPORT_GRADES_KEPT];
    size_t nh = report_grade_history(rep, remote, h, REPORT_GRADES_KEPT);
    if (nh) {
        xmlNodePtr ul = web_html_el(pg, pg->main, "ul", NULL);
        for (size_t i = 0; i < nh; i++) {
            char when[40];
            web_html_utc(h[i].time, when, sizeof when);
            web_html_txtf(pg, web_html_el(pg, ul, "li", NULL), "%s%s since %s",
                          grade_letter_name(h[i].letter), h[i].partial ? " (partial)" : "",
                          when);
        }
    }
    xmlNodePtr d = web_html_el(pg, pg->main, "details", NULL);
    web_html_el(pg, d, "summary", "How grades are given");
    size_t n;
    const grade_rule *rules = grade_rules(&n);
    xmlNodePtr rt = web_html_el(pg, d, "table", NULL);
    static const char *const rcols[] = {"When", "Caps at", "Why"};
    web_html_header_row(pg, rt, rcols, 3);
    for (size_t i = 0; i < n; i++) {
        xmlNodePtr tr = web_html_el(pg, rt, "tr", NULL);
        web_html_td(pg, tr, "When", rules[i].when);
        web_html_td(pg, tr, "Caps at", rules[i].cap == GRADE_A_PLUS ? "lifts to A+"
                                                     : grade_letter_name(rules[i].cap));
        web_html_td(pg, tr, "Why", rules[i].why);
    }
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

    rs_web_page pg;
    char title[320];
    snprintf(title, sizeof title, "What %s accepts", remote);
    web_html_new(&pg, title, probe ? 5 : 0);
    xmlNodePtr h1 = web_html_el(&pg, pg.main, "h1", "Report for ");
    web_html_code(&pg, h1, remote);
    report_notices(&pg, srv, remote, probe, done, total);
    web_html_summary(&pg, pg.main, &s);
    report_table(&pg, cfg, cells, probe, total);
    presented_section(&pg, srv->report, remote);
    web_html_el(&pg, pg.main, "h2", "Timeline of changes");
    const report_outcome *hist[HISTORY_SHOWN];
    size_t n = report_history(srv->report, remote, hist, HISTORY_SHOWN);
    web_timeline_render(&pg, pg.main, hist, n);
    history_table(&pg, hist, n);
    if (report_has_trusted(srv->report, remote))
        badge_embed(&pg, remote);
    if (!probe) {
        web_html_el(&pg, pg.main, "h2", "Probe this server");
        web_pages__probe_form(&pg, cfg, remote);
    }
    xmlNodePtr p = web_html_el(&pg, pg.main, "p", "The same as JSON: ");
    char href[300];
    snprintf(href, sizeof href, "/api/report/%s", remote);
    web_html_link(&pg, p, href, href);
    free(cells);
    return web_html_end(&pg, len);
}
