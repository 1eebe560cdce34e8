/* services.c -- ping, echo, presence, disco#info and version on every test
 * domain. Every reply is built as a tree and handed to the router. */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "conn.h"
#include "jid.h"
#include "log.h"
#include "ratelimit.h"
#include "report.h"
#include "router.h"
#include "stanza.h"

#define RATE_SLOTS 4096 /* (remote domain, service) pairs the limits track */

#define PROFILE_FORM_TYPE "urn:xmpp:responder:profile:0"

struct rs_services {
    rs_daemon *srv;       /* limits, counters, report, router */
    rs_ratelimit_table *limits;     /* replies per (remote domain, service) this minute */
};

/* What one reply needs: who asked whom, on which test domain. */
typedef struct svc_ctx {
    rs_services *svc;     /* the services' own state */
    rs_daemon *srv;
    const rs_domain *dom;
    const char *remote;   /* authenticated sender domain; for a client the
                             key of its address (budgets and logs) */
    const char *reply_to; /* the domain replies go to: remote, or ours for a
                             client session (router_send delivers it) */
    const char *from;     /* sender's full JID, as received */
    const char *to;       /* the exact JID addressed */
    jid to_jid;           /* parsed 'to' */
} svc_ctx;

static bool allowed(const svc_ctx *x, unsigned svc);

/* A reply stanza {jabber:server}name from the addressed JID to the sender. */
static xmlNodePtr reply(const svc_ctx *x, const char *name, const char *type,
                        const char *id)
{
    xmlNodePtr el = stanza_new(NS_SERVER, name);
    stanza_set(el, "from", x->to);
    stanza_set(el, "to", x->from);
    stanza_set(el, "type", type);
    stanza_set(el, "id", id);
    return el;
}

static void send_reply(const svc_ctx *x, xmlNodePtr el, const char *what)
{
    if (!el) {
        log_msg(RS_LOG_ERROR, "services: out of memory answering %s", what);
        return;
    }
    /* one line per stanza is a debug detail (run --debug): streams, their
       authentication and their outcomes are what INFO records */
    if (log_enabled(RS_LOG_DEBUG) && log_peer_allowed(x->remote))
        log_msg(RS_LOG_DEBUG, "service local=%s remote=%s event=stanza answered %s "
               "from=%s to=%s", x->dom->name, x->remote, what, x->to, x->from);
    router_send(x->srv, x->dom->name, x->reply_to, el);
}

static void send_error(const svc_ctx *x, xmlNodePtr stanza, const char *type,
                       const char *condition)
{
    if (!allowed(x, RS_SVC_DISCO))
        return;
    xmlNodePtr el = reply(x, (const char *)stanza->name, "error",
                          stanza_attr(stanza, "id"));
    xmlNodePtr err = stanza_add(el, NULL, "error");
    stanza_set(err, "type", type);
    stanza_add(err, NS_STANZAS, condition);
    send_reply(x, el, condition);
}

static void add_field(xmlNodePtr form, const char *var, const char *value)
{
    xmlNodePtr f = stanza_add(form, NULL, "field");
    stanza_set(f, "var", var);
    xmlNodePtr v = stanza_add(f, NULL, "value");
    stanza_add_text(v, value);
}

static void disco_info(const svc_ctx *x, xmlNodePtr iq, xmlNodePtr query)
{
    const catalog_profile *p = x->dom->profile;
    xmlNodePtr el = reply(x, "iq", "result", stanza_attr(iq, "id"));
    xmlNodePtr q = stanza_add(el, NS_DISCO_INFO, "query");
    stanza_set(q, "node", stanza_attr(query, "node"));
    xmlNodePtr id = stanza_add(q, NULL, "identity");
    char name[300];
    if (x->to_jid.local[0]) {
        stanza_set(id, "category", "account");
        stanza_set(id, "type", "registered");
        snprintf(name, sizeof name, "echo contact of %s", x->dom->name);
    } else {
        stanza_set(id, "category", "server");
        stanza_set(id, "type", "im");
        snprintf(name, sizeof name, "xmpp-responder test domain: %s", p->label);
    }
    stanza_set(id, "name", name);
    static const char *features[] = {NS_DISCO_INFO, NS_PING, NS_VERSION};
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        stanza_set(stanza_add(q, NULL, "feature"), "var", features[i]);

    /* XEP-0128: the profile, machine-readable */
    xmlNodePtr form = stanza_add(q, NS_DATA, "x");
    stanza_set(form, "type", "result");
    xmlNodePtr ft = stanza_add(form, NULL, "field");
    stanza_set(ft, "var", "FORM_TYPE");
    stanza_set(ft, "type", "hidden");
    stanza_add_text(stanza_add(ft, NULL, "value"), PROFILE_FORM_TYPE);
    add_field(form, "profile", p->label);
    add_field(form, "kind", catalog_kind_name(p->kind));
    add_field(form, "breaks", p->breaks);
    add_field(form, "strict-server-should", catalog_expect_name(p->strict));
    add_field(form, "why", p->strict_why);
    add_field(form, "description", x->dom->description);
    send_reply(x, el, "disco#info");
}

static void version(const svc_ctx *x, xmlNodePtr iq)
{
    xmlNodePtr el = reply(x, "iq", "result", stanza_attr(iq, "id"));
    xmlNodePtr q = stanza_add(el, NS_VERSION, "query");
    stanza_add_text(stanza_add(q, NULL, "name"), "xmpp-responder");
    stanza_add_text(stanza_add(q, NULL, "version"), RS_VERSION);
    send_reply(x, el, "version");
}

static void handle_iq(const svc_ctx *x, xmlNodePtr iq)
{
    const char *type = stanza_attr(iq, "type");
    if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0)
        return; /* result and error are never answered */
    xmlNodePtr q = stanza_first_child(iq);
    if (strcmp(type, "get") == 0 && stanza_is(q, NS_PING, "ping")) {
        if (!allowed(x, RS_SVC_PING))
            return;
        x->srv->stats.pings++;
        send_reply(x, reply(x, "iq", "result", stanza_attr(iq, "id")), "ping");
    } else if (strcmp(type, "get") == 0 && stanza_is(q, NS_DISCO_INFO, "query")) {
        if (allowed(x, RS_SVC_DISCO))
            disco_info(x, iq, q);
    } else if (strcmp(type, "get") == 0 && stanza_is(q, NS_VERSION, "query") &&
               !x->to_jid.local[0]) {
        if (allowed(x, RS_SVC_VERSION))
            version(x, iq);
    } else {
        send_error(x, iq, "cancel", "service-unavailable");
    }
}

static bool to_echo(const svc_ctx *x)
{
    return strcmp(x->to_jid.local, ECHO_LOCALPART) == 0;
}

static void copy_child_text(xmlNodePtr from, xmlNodePtr to, const char *name)
{
    xmlNodePtr src = stanza_child(from, NS_SERVER, name);
    if (!src)
        return;
    char *text = stanza_text(src);
    xmlNodePtr dst = stanza_add(to, NULL, name);
    stanza_add_text(dst, text);
    free(text);
}

static unsigned svc_limit(const config_limits *l, unsigned svc)
{
    switch (svc) {
    case RS_SVC_PING: return l->ping_per_minute;
    case RS_SVC_DISCO: return l->disco_per_minute;
    case RS_SVC_VERSION: return l->version_per_minute;
    case RS_SVC_ECHO: return l->echo_per_minute;
    default: return l->presence_per_minute;
    }
}

/* Whether one more reply of service svc to x->remote fits this minute's
 * budget (limits.*_per_minute). The table is bounded (ratelimit.h). */
static bool allowed(const svc_ctx *x, unsigned svc)
{
    rs_daemon *srv = x->srv;
    unsigned limit = svc_limit(&srv->cfg->limits, svc);
    ratelimit_verdict v = ratelimit_hit(x->svc->limits, x->remote, svc, limit,
                          (int64_t)time(NULL), 60);
    if (v.allowed)
        return true;
    srv->stats.limited[svc]++;
    if (svc == RS_SVC_ECHO)
        srv->stats.rate_limited++;
    if (v.first_refusal)
        log_msg(RS_LOG_INFO, "service local=%s remote=%s event=rate-limited "
               "more than %u %s replies this minute; dropping the rest",
               x->dom->name, x->remote, limit, stats_service_name(svc));
    return false;
}

rs_services *services_new(rs_daemon *srv)
{
    rs_services *s = calloc(1, sizeof *s);
    if (!s || !(s->limits = ratelimit_new(RATE_SLOTS))) {
        free(s);
        return NULL;
    }
    s->srv = srv;
    return s;
}

void services_free(rs_services *s)
{
    if (!s)
        return;
    ratelimit_free(s->limits);
    free(s);
}

/* The command a body is, if any: the whole body, trimmed, any case. */
static bool is_command(const char *body, const char *command)
{
    while (isspace((unsigned char)*body))
        body++;
    size_t n = strlen(command);
    if (strncasecmp(body, command, n) != 0)
        return false;
    for (body += n; *body; body++)
        if (!isspace((unsigned char)*body))
            return false;
    return true;
}

/* The text answering a command, malloc'd; NULL when body is no command. */
static char *command_reply(const svc_ctx *x, const char *body)
{
    char *text = NULL;
    if (is_command(body, "help")) {
        if (asprintf(&text,
                     "This is the echo contact of %s, a test domain of "
                     "xmpp-responder (profile %s: %s; a strict server should %s "
                     "it).\nCommands:\n"
                     "  help    this list\n"
                     "  report  what we saw of your server (%s): one line per "
                     "test domain, with the verdict\n"
                     "Anything else is echoed back.",
                     x->dom->name, x->dom->profile->label,
                     x->dom->profile->breaks,
                     catalog_expect_name(x->dom->profile->strict), x->remote) < 0)
            return NULL;
        return text;
    }
    if (is_command(body, "report"))
        return report_matrix_text(x->srv->report, x->remote, x->srv->cfg);
    return NULL;
}

static void handle_message(const svc_ctx *x, xmlNodePtr msg)
{
    const char *type = stanza_attr(msg, "type");
    if (strcmp(type, "error") == 0 || strcmp(type, "groupchat") == 0 ||
        strcmp(type, "headline") == 0)
        return;
    if (!to_echo(x)) {
        send_error(x, msg, "cancel", "service-unavailable");
        return;
    }
    xmlNodePtr body = stanza_child(msg, NS_SERVER, "body");
    if (!body)
        return; /* chat states, receipts alone: nothing to echo */
    if (!allowed(x, RS_SVC_ECHO))
        return;
    char *text = stanza_text(body);
    char *answer = text ? command_reply(x, text) : NULL;
    free(text);
    xmlNodePtr el = reply(x, "message", type[0] ? type : NULL, stanza_attr(msg, "id"));
    if (answer) {
        stanza_add_text(stanza_add(el, NULL, "body"), answer);
        free(answer);
        copy_child_text(msg, el, "thread");
        x->srv->stats.commands++;
        send_reply(x, el, "command");
        return;
    }
    copy_child_text(msg, el, "body");
    copy_child_text(msg, el, "thread");
    x->srv->stats.echoes++;
    send_reply(x, el, "echo");
}

static void send_presence(const svc_ctx *x, const char *type, const char *to,
                          const char *status)
{
    xmlNodePtr el = stanza_new(NS_SERVER, "presence");
    char from[600];
    snprintf(from, sizeof from, "%s@%s", ECHO_LOCALPART, x->dom->name);
    stanza_set(el, "from", from);
    stanza_set(el, "to", to);
    stanza_set(el, "type", type);
    if (status)
        stanza_add_text(stanza_add(el, NULL, "status"), status);
    send_reply(x, el, type ? type : "presence");
}

static void handle_presence(const svc_ctx *x, xmlNodePtr pres)
{
    if (!to_echo(x))
        return;
    jid from;
    char bare[2100];
    if (!jid_parse(x->from, &from) || !jid_format_bare(&from, bare, sizeof bare))
        return;
    const char *type = stanza_attr(pres, "type");
    if ((strcmp(type, "subscribe") == 0 || strcmp(type, "probe") == 0 ||
         strcmp(type, "unsubscribe") == 0) && !allowed(x, RS_SVC_PRESENCE))
        return;
    char status[600];
    snprintf(status, sizeof status, "%s: %s (a strict server should %s)",
             x->dom->profile->label, x->dom->description,
             catalog_expect_name(x->dom->profile->strict));
    if (strcmp(type, "subscribe") == 0) {
        send_presence(x, "subscribed", bare, NULL);
        send_presence(x, NULL, bare, status);
    } else if (strcmp(type, "probe") == 0) {
        send_presence(x, NULL, bare, status);
    } else if (strcmp(type, "unsubscribe") == 0) {
        send_presence(x, "unsubscribed", bare, NULL);
    }
}

/* One stanza, whoever sent it. */
static void handle(svc_ctx *x, xmlNodePtr stanza)
{
    x->from = stanza_attr(stanza, "from");
    x->to = stanza_attr(stanza, "to");
    if (!jid_parse(x->to, &x->to_jid))
        return;
    if (stanza_is(stanza, NS_SERVER, "iq"))
        handle_iq(x, stanza);
    else if (stanza_is(stanza, NS_SERVER, "message"))
        handle_message(x, stanza);
    else if (stanza_is(stanza, NS_SERVER, "presence"))
        handle_presence(x, stanza);
}

void services_handle(rs_services *s, const rs_domain *dom, const char *remote,
                     xmlNodePtr stanza)
{
    svc_ctx x = {.svc = s, .srv = s->srv, .dom = dom, .remote = remote,
                 .reply_to = remote};
    handle(&x, stanza);
}

void services_handle_client(rs_services *s, const rs_domain *dom,
                            const char *client_key, xmlNodePtr stanza)
{
    svc_ctx x = {.svc = s, .srv = s->srv, .dom = dom, .remote = client_key,
                 .reply_to = dom->name};
    handle(&x, stanza);
}
