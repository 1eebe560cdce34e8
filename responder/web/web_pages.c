/* web_pages.c -- HTML pages as libxml2 trees (see web_pages.h). */
#include "web_pages.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "catalog.h"
#include "clients.h"
#include "config.h"
#include "probe.h"
#include "report.h"
#include "web_html.h"
#include "web_pages_internal.h"

#define PEERS_SHOWN 100   /* remote domains listed on the index */

xmlNodePtr web_pages__strict_cell(rs_web_page *pg, xmlNodePtr tr, const char *label,
                                  const catalog_profile *p)
{
    xmlNodePtr td = web_html_td(pg, tr, label, catalog_expect_name(p->strict));
    if (p->advisory) {
        web_html_txt(pg, td, " ");
        xmlNodePtr s = web_html_el(pg, td, "span", "(advisory)");
        web_html_attr(pg, s, "class", "advisory");
        web_html_attr(pg, s, "title", "the specifications leave room here: this is "
                             "the pedantic answer");
    }
    return td;
}

void web_pages__probe_form(rs_web_page *pg, const rs_config *cfg, const char *target)
{
    xmlNodePtr p = web_html_el(pg, pg->main, "p", NULL);
    web_html_txt(pg, p, "The responder pings your server from every test domain and "
               "records what happens on both legs; the report page of your "
               "domain fills in as the answers arrive. ");
    web_html_txtf(pg, p, "One probe per target every %u s. Each address may start %u "
                "an hour, each network (IPv4 /24, IPv6 /48) %u, and everyone together "
                "%u, of which nobody takes more than half of what is left. The same "
                "from a shell: ",
         cfg->limits.probe_target_interval, cfg->limits.probe_per_requester,
         cfg->limits.probe_per_network, cfg->limits.probe_per_hour);
    web_html_code(pg, p, "xmpp-responder probe YOUR.DOMAIN");
    web_html_txt(pg, p, ".");
    xmlNodePtr form = web_html_el(pg, pg->main, "form", NULL);
    web_html_attr(pg, form, "method", "post");
    web_html_attr(pg, form, "action", "/probe");
    web_html_attr(pg, form, "id", "probe");
    xmlNodePtr fp = web_html_el(pg, form, "p", NULL);
    xmlNodePtr label = web_html_el(pg, fp, "label", "Your server's domain: ");
    web_html_attr(pg, label, "for", "target");
    xmlNodePtr input = web_html_el(pg, fp, "input", NULL);
    web_html_attr(pg, input, "type", "text");
    web_html_attr(pg, input, "id", "target");
    web_html_attr(pg, input, "name", "target");
    web_html_attr(pg, input, "size", "40");
    web_html_attr(pg, input, "maxlength", "253");
    web_html_attr(pg, input, "placeholder", "example.org");
    web_html_attr(pg, input, "required", "required");
    if (target)
        web_html_attr(pg, input, "value", target);
    web_html_txt(pg, fp, " ");
    xmlNodePtr button = web_html_el(pg, fp, "button", "Probe");
    web_html_attr(pg, button, "type", "submit");
}

/* ---- GET / ------------------------------------------------------------------------ */

static void index_intro(rs_web_page *pg, const rs_config *cfg)
{
    xmlNodePtr p = web_html_el(pg, pg->main, "p", NULL);
    web_html_txt(pg, p, "Every domain below is hosted here and bound to one "
               "deliberately broken profile. To see what your XMPP server "
               "accepts, ping any of them from your server (with Prosody: ");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "prosodyctl shell \"xmpp:ping('your.domain', "
             "'valid.%s', 5)\"", cfg->base_domain);
    web_html_code(pg, p, cmd);
    web_html_txt(pg, p, "), or add ");
    web_html_code(pg, p, "echo@DOMAIN");
    web_html_txt(pg, p, " to your roster and write to it: it echoes your message, ");
    web_html_code(pg, p, "help");
    web_html_txt(pg, p, " lists its commands and ");
    web_html_code(pg, p, "report");
    web_html_txt(pg, p, " answers with what it saw of your server. A pong or an echo "
               "means your server accepted the domain. Then open ");
    web_html_code(pg, p, "/report/YOUR.DOMAIN");
    web_html_txt(pg, p, " for the verdict and explanation of every domain, or let the "
               "responder dial you with ");
    web_html_code(pg, p, "xmpp-responder probe YOUR.DOMAIN");
    web_html_txt(pg, p, " or the form below.");
}

/* Whether clients can log in here (a client listener is configured). */
static bool serves_clients(const rs_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listen; i++)
        if (cfg->listen[i].clients)
            return true;
    return false;
}

static void index_table(rs_web_page *pg, const rs_config *cfg)
{
    bool clients = serves_clients(cfg);
    xmlNodePtr table = web_html_elc(pg, pg->main, "table", "grid cards stack", NULL);
    web_html_attr(pg, table, "id", "domains");
    static const char *const cols[] = {"domain and how to test it", "what it breaks",
                                       "a strict server should",
                                       "a strict client should"};
    web_html_header_row(pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = web_html_el(pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const config_domain *d = &cfg->domains[i];
        const catalog_profile *p = d->profile;
        xmlNodePtr tr = web_html_elc(pg, tbody, "tr", "domain", NULL);
        web_html_attr(pg, tr, "data-domain", d->name);
        web_html_attr(pg, tr, "data-profile", p->label);
        xmlNodePtr td = web_html_td(pg, tr, "domain", NULL);
        web_html_attr(pg, td, "class", "name");
        web_html_code(pg, td, d->name);
        /* how to test it, under its name: ping it, its echo, its account */
        xmlNodePtr how = web_html_elc(pg, td, "small", "how", NULL);
        web_html_txtf(pg, how, "%s \xC2\xB7 ping, or write to ", catalog_kind_name(p->kind));
        char addr[300];
        snprintf(addr, sizeof addr, "echo@%s", d->name);
        web_html_code(pg, how, addr);
        if (clients) {
            web_html_txt(pg, how, " \xC2\xB7 log in as ");
            snprintf(addr, sizeof addr, "test@%s", d->name);
            web_html_code(pg, how, addr);
            web_html_txt(pg, how, " (password test)");
        }
        td = web_html_td(pg, tr, "what it breaks", p->breaks);
        if (d->description)
            web_html_el(pg, td, "small", d->description);
        if (cfg->public_instance)
            web_html_elc(pg, td, "small", "source", catalog_public_text(p));
        if (d->cert_mismatch) {
            xmlNodePtr m = web_html_elc(pg, td, "small", "mismatch",
                                        "certificate differs from the row: ");
            web_html_txt(pg, m, d->cert_mismatch);
        }
        td = web_pages__strict_cell(pg, tr, "a strict server should", p);
        web_html_el(pg, td, "small", p->strict_why);
        td = web_html_td(pg, tr, "a strict client should",
                         catalog_client_name(p->client));
        web_html_attr(pg, td, "class", "client");
        if (p->client_why)
            web_html_el(pg, td, "small", p->client_why);
    }
}

static void index_peers(rs_web_page *pg, rs_daemon *srv)
{
    web_html_el(pg, pg->main, "h2", "Servers seen recently");
    const char *names[PEERS_SHOWN];
    int64_t seen[PEERS_SHOWN];
    size_t total = report_peers(srv->report, names, seen, PEERS_SHOWN);
    size_t n = total < PEERS_SHOWN ? total : PEERS_SHOWN;
    if (n == 0) {
        web_html_el(pg, pg->main, "p", "No remote server has been seen yet.");
        return;
    }
    xmlNodePtr p = web_html_el(pg, pg->main, "p", NULL);
    web_html_txtf(pg, p, "%zu remote domain%s known", total, total == 1 ? "" : "s");
    web_html_txt(pg, p, n < total ? "; the most recent are listed." : ".");
    xmlNodePtr ul = web_html_el(pg, pg->main, "ul", NULL);
    web_html_attr(pg, ul, "id", "peers");
    for (size_t i = 0; i < n; i++) {
        char href[300], when[32];
        snprintf(href, sizeof href, "/report/%s", names[i]);
        web_html_utc(seen[i], when, sizeof when);
        xmlNodePtr li = web_html_el(pg, ul, "li", NULL);
        web_html_link(pg, li, href, names[i]);
        web_html_txtf(pg, li, ", last seen %s UTC", when);
    }
}

xmlChar *web_pages_index(rs_daemon *srv, int *len)
{
    const rs_config *cfg = srv->cfg;
    rs_web_page pg;
    char title[300];
    snprintf(title, sizeof title, "XMPP test domains under %s", cfg->base_domain);
    web_html_new(&pg, title, 0);
    web_html_el(&pg, pg.main, "h1", title);
    index_intro(&pg, cfg);
    xmlNodePtr p = web_html_el(&pg, pg.main, "p", NULL);
    web_html_txtf(&pg, p, "%zu test domains. \"advisory\" marks rows where the "
                 "specifications leave room: the answer shown is the "
                 "pedantic one.", cfg->n_domains);
    index_table(&pg, cfg);
    index_peers(&pg, srv);
    web_html_el(&pg, pg.main, "h2", "Probe your server");
    web_pages__probe_form(&pg, cfg, NULL);
    return web_html_end(&pg, len);
}

/* ---- clients ---------------------------------------------------------------------- */

xmlChar *web_pages_clients(rs_daemon *srv, const char *address, bool own, int *len)
{
    const rs_config *cfg = srv->cfg;
    clients_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    if (!cells)
        return NULL;
    clients_matrix(srv->clients, address, cfg, cells);
    rs_web_page pg;
    char title[120];
    snprintf(title, sizeof title, "What the client at %s accepts", address);
    web_html_new(&pg, title, 0);
    xmlNodePtr h1 = web_html_el(&pg, pg.main, "h1", "Clients: what the client at ");
    web_html_code(&pg, h1, address);
    web_html_txt(&pg, h1, " did");
    xmlNodePtr p = web_html_el(&pg, pg.main, "p", NULL);
    web_html_attr(&pg, p, "id", "how");
    web_html_txtf(&pg, p, "Every test domain has the account test@DOMAIN, password test: "
                 "log in from a client and reload. %s Addresses are not listed "
                 "(%zu seen lately); a page shows the address it is asked for.",
         own ? "This page shows the address your browser came from; a client on "
               "another machine has its own page at /clients/ADDRESS."
             : "",
         clients_count(srv->clients));
    if (!clients_known(srv->clients, address)) {
        p = web_html_elc(&pg, pg.main, "p", "notice", NULL);
        web_html_attr(&pg, p, "id", "nothing");
        web_html_txt(&pg, p, "Nothing seen from ");
        web_html_code(&pg, p, address);
        web_html_txt(&pg, p, " yet.");
    }
    report_summary sum = {0};
    for (size_t i = 0; i < cfg->n_domains; i++) {
        report_verdict v = cells[i].verdict;
        sum.ok += v == REPORT_VERDICT_OK;
        sum.advisory += v == REPORT_VERDICT_ADVISORY;
        sum.wrong += v == REPORT_VERDICT_WRONG;
        sum.unknown += v == REPORT_VERDICT_UNKNOWN;
    }
    web_html_summary(&pg, pg.main, &sum);
    xmlNodePtr table = web_html_elc(&pg, pg.main, "table", "grid cards", NULL);
    web_html_attr(&pg, table, "id", "clients");
    static const char *const cols[] = {"test domain", "a strict client should",
                                       "your client", "verdict", "why"};
    web_html_header_row(&pg, table, cols, sizeof cols / sizeof cols[0]);
    xmlNodePtr tbody = web_html_el(&pg, table, "tbody", NULL);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const clients_cell *c = &cells[i];
        xmlNodePtr tr = web_html_el(&pg, tbody, "tr", NULL);
        web_html_attr(&pg, tr, "class", report_verdict_name(c->verdict));
        web_html_attr(&pg, tr, "data-profile", c->domain->profile->label);
        xmlNodePtr td = web_html_td(&pg, tr, "test domain", NULL);
        web_html_attr(&pg, td, "class", "name");
        web_html_code(&pg, td, c->domain->name);
        web_html_td(&pg, tr, "a strict client should",
                    catalog_client_name(c->domain->profile->client));
        web_html_td(&pg, tr, "your client", clients_seen_name(c->seen));
        web_html_badge(&pg, web_html_td(&pg, tr, "verdict", NULL), c->verdict);
        td = web_html_td(&pg, tr, "why", c->explanation);
        web_html_attr(&pg, td, "class", "details");
    }
    p = web_html_el(&pg, pg.main, "p", "The same as JSON: ");
    char href[120];
    snprintf(href, sizeof href, "/api/clients/%s", address);
    web_html_link(&pg, p, href, href);
    free(cells);
    return web_html_end(&pg, len);
}

/* ---- messages ---------------------------------------------------------------------- */

xmlChar *web_pages_message(unsigned status, const char *title, const char *text,
                          const char *detail, int *len)
{
    rs_web_page pg;
    char heading[200];
    snprintf(heading, sizeof heading, "%u %s", status, title);
    web_html_new(&pg, heading, 0);
    xmlNodePtr box = web_html_elc(&pg, pg.main, "section",
                                  status >= 400 ? "message error" : "message", NULL);
    xmlNodePtr h1 = web_html_el(&pg, box, "h1", NULL);
    char code[16];
    snprintf(code, sizeof code, "%u", status);
    web_html_elc(&pg, h1, "span", "status", code);
    web_html_txt(&pg, h1, " ");
    web_html_txt(&pg, h1, title);
    if (text)
        web_html_el(&pg, box, "p", text);
    if (detail) {
        xmlNodePtr p = web_html_el(&pg, box, "p", NULL);
        web_html_attr(&pg, p, "id", "detail");
        web_html_code(&pg, p, detail);
    }
    xmlNodePtr p = web_html_el(&pg, box, "p", NULL);
    web_html_link(&pg, p, "/", "Back to the test domains");
    return web_html_end(&pg, len);
}
