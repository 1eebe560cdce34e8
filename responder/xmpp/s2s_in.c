/* s2s_in.c -- the inbound server-to-server stream: one state enum (in
 * s2s_in_internal.h) and one transition function (in_transition). Dialback on it
 * is s2s_in_dialback.c. */
#include "s2s_in.h"
#include "s2s_in_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admission.h"
#include "conn.h"
#include "peercert.h"
#include "record.h"
#include "dialback.h"
#include "jid.h"
#include "router.h"
#include "s2s_out.h"
#include "sasl.h"
#include "stanza.h"
#include "verify.h"

static const char *const state_names[] = {"header", "starttls", "tls", "header-tls",
                                  "auth", "header-sasl", "ready"};

static const char *s2s_in_state_name(s2s_in_state st)
{
    return state_names[st];
}

const char *const *s2s_in_state_names(size_t *n)
{
    *n = sizeof state_names / sizeof state_names[0];
    return state_names;
}

static void in_step(rs_s2s_in *s, s2s_in_event ev, const void *arg);

/* ---- authorisation state -------------------------------------------------- */

static bool authorised(const rs_s2s_in *s, const char *local, const char *remote)
{
    if (s->sasl_done)
        return strcasecmp(FROM(s), remote) == 0 &&
               strcasecmp(s->dom->name, local) == 0;
    return s2s_in__pair_listed(s->pairs, s->n_pairs, local, remote);
}

/* ---- shared with s2s_in_dialback.c (s2s_in_internal.h) ----------------- */

char *s2s_in__esc(const char *v)
{
    char *e = xmlstream_escape(v ? v : "");
    return e ? e : strdup("");
}

bool s2s_in__pair_listed(const s2s_in_pair *list, size_t n, const char *local,
                         const char *remote)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i].local, local) == 0 &&
            strcasecmp(list[i].remote, remote) == 0)
            return true;
    return false;
}

void s2s_in__become_ready(rs_s2s_in *s)
{
    s->state = IN_READY;
    conn_set_timeout(s->conn, s->conn->srv->cfg->limits.idle_timeout);
    xmlstream_release_soon(s->conn->xs); /* re-created if stanzas follow */
}

/* What an authenticated peer presented of its client side in TLS, to the
 * report (its server side is what our own dials see). */
static void s2s_in_present(rs_s2s_in *s, const report_outcome *r)
{
    if (!s->conn->srv->report || s->conn->tls_state != CONN_TLS_ACTIVE || !FROM(s)[0])
        return;
    report_presented p = {.time = (int64_t)time(NULL), .leg = REPORT_LEG_IN,
                          .tls = grade_tls_mask(r->tls)};
    rs_report *rep = s->conn->srv->report;
    if (!report_cert_recent(rep, FROM(s), REPORT_LEG_IN, p.time, &p.cert))
        peercert_from_session(tls_session(s->conn->tls), s->conn->domains->trust,
                              FROM(s), p.time, &p.cert);
    report_add_presented(s->conn->srv->report, FROM(s), &p);
}

/* How the peer's authentication went, for the report; a refusal is ours. */
void s2s_in__outcome_auth(rs_s2s_in *s, const char *method, report_auth result,
                          const char *condition, const char *text)
{
    report_outcome *r = record_outcome(s->rec);
    if (r->auth == REPORT_AUTH_OK && result != REPORT_AUTH_OK)
        return; /* a later pair failing does not undo the stream */
    snprintf(r->auth_used, sizeof r->auth_used, "%s", method);
    r->auth = result;
    if (result == REPORT_AUTH_OK) {
        r->refused_by = REPORT_BY_NONE;
        conn_set_authenticated(s->conn);
        record_update(s->rec);
        s2s_in_present(s, r);
        return;
    }
    snprintf(r->auth_error, sizeof r->auth_error, "%s: %s", condition, text);
    r->refused_by = REPORT_BY_US;
}

/* ---- stream header ------------------------------------------------------- */

static void s2s_in_send_auth_features(rs_s2s_in *s)
{
    unsigned allowed = s->dom->profile->policy.auth_in;
    if (s->dom->profile->policy.no_sasl) /* no mechanism at all: no EXTERNAL */
        allowed &= ~(unsigned)CATALOG_AUTH_EXTERNAL;
    bool tls = s->conn->tls_state == CONN_TLS_ACTIVE;
    verify_verdict cert = {0};
    s->external_offered = (allowed & CATALOG_AUTH_EXTERNAL) && tls &&
                          FROM(s)[0] &&
                          verify_peer(tls_session(s->conn->tls), s->conn->domains->trust,
                                         FROM(s), &cert);
    report_outcome *r = record_outcome(s->rec);
    snprintf(r->auth_offered, sizeof r->auth_offered, "%s%s%s",
             s->external_offered ? "EXTERNAL" : "",
             s->external_offered && (allowed & CATALOG_AUTH_DIALBACK) ? " " : "",
             allowed & CATALOG_AUTH_DIALBACK ? "dialback" : "");
    if (tls && FROM(s)[0])
        snprintf(r->peer_cert, sizeof r->peer_cert, "%s",
                 s->external_offered ? "valid"
                 : cert.reason[0] ? cert.reason : "not checked");
    if (tls && FROM(s)[0])
        conn_log(s->conn, RS_LOG_INFO, "peer-cert", "%s eku=%s%s%s",
                 s->external_offered || !cert.reason[0] ? "valid" : "invalid",
                 cert.eku[0] ? cert.eku : "-",
                 cert.reason[0] ? " reason=" : "", cert.reason);
    s2s_in_send(s, "<stream:features>%s%s</stream:features>",
             s->external_offered
                 ? "<mechanisms xmlns='" NS_SASL "'><mechanism>EXTERNAL"
                   "</mechanism></mechanisms>"
                 : "",
             (allowed & CATALOG_AUTH_DIALBACK)
                 ? "<dialback xmlns='" NS_DIALBACK_FEATURE "'><errors/></dialback>"
                 : "");
    s->state = IN_AUTH;
}

/* RFC 6120 4.3.3: a restart continues the stream, so its header names what
 * the stream was opened for; otherwise a SASL result or a TLS session would
 * move to another test domain and skip that domain's policy (certificate, TLS
 * versions, auth methods). False after sending the stream error. */
static bool s2s_in_restart_allowed(rs_s2s_in *s, const xmlstream_header *h, const rs_domain *dom)
{
    rs_conn *c = s->conn;
    char text[1200];
    /* after SASL, 'from' is the authenticated identity (4.7.1, 4.9.3.9) */
    bool sasl = s->state == IN_HEADER_SASL;
    const char *claimed = FROM(s); /* after SASL: the identity */
    if (claimed[0] && h->from[0] && strcasecmp(h->from, claimed) != 0) {
        snprintf(text, sizeof text, "this stream %s '%s'; the restarted header "
                 "says from='%.255s'", sasl ? "was authenticated by SASL as"
                 : "was opened from", claimed, h->from);
        conn_stream_error(c, "invalid-from", text);
        return false;
    }
    if (s->dom && dom != s->dom) {
        snprintf(text, sizeof text, "this stream was opened to '%s'; a restarted "
                 "stream must name the same 'to' (RFC 6120 4.3.3), not '%.255s'",
                 s->dom->name, h->to);
        conn_stream_error(c, "not-authorized", text);
        return false;
    }
    if (s->state != IN_HEADER_TLS)
        return true;
    /* the session's certificate and TLS versions (tls.c applies them
     * together, SNI may choose them) must be the domain's own */
    const rs_domain *presented = tls_domain(c->tls);
    if (presented != dom) {
        snprintf(text, sizeof text, "TLS presented %s's certificate (chosen by "
                 "SNI); '%.255s' is tested with its own: ask for it by SNI",
                 presented ? presented->name : "no", h->to);
        conn_stream_error(c, "policy-violation", text);
        return false;
    }
    return true;
}

/* A stream we refuse at its header still belongs to the test domain it
 * asked for (by SNI or 'to'): the report's cell shows that the peer tried,
 * and how. The 'from' is a claim; evidence.c decides what it proves. */
static void attribute_refusal(rs_s2s_in *s, const rs_domain *dom, const char *from)
{
    if (dom && !s->dom && from[0] && jid_domain_valid(from))
        conn_set_names(s->conn, dom->name, from);
}

static void in_open(rs_s2s_in *s, const xmlstream_header *h)
{
    rs_conn *c = s->conn;
    if (strcmp(h->default_ns, NS_SERVER) != 0) {
        conn_stream_error(c, "invalid-namespace",
                          "this is a server-to-server port: use jabber:server");
        return;
    }
    if (strncmp(h->version, "1.", 2) != 0) {
        conn_stream_error(c, "unsupported-version", "version='1.0' is required");
        return;
    }
    const rs_domain *dom = domains_find(c->domains, h->to);
    if (!dom) {
        char text[1200];
        snprintf(text, sizeof text, "'%s' is not served here", h->to);
        if (c->tls && tls_sni(c->tls)[0]) /* SNI named a test domain */
            attribute_refusal(s, tls_domain(c->tls), h->from);
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (dom->profile->policy.starttls == CATALOG_TLS_DIRECT_ONLY && !s->direct_tls) {
        char text[1200];
        attribute_refusal(s, dom, h->from);
        snprintf(text, sizeof text, "'%s' is served by direct TLS (XEP-0368, "
                 "_xmpps-server SRV) only", h->to);
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (h->from[0] && !jid_domain_valid(h->from)) {
        conn_stream_error(c, "invalid-from", "'from' is not a domain");
        return;
    }
    if (s->state != IN_HEADER && !s2s_in_restart_allowed(s, h, dom))
        return;
    s->dom = dom;
    if (s->state != IN_HEADER_SASL || h->from[0]) { /* else: the SASL identity */
        free(s->peer_from); /* kept at its length: idle streams hold it */
        s->peer_from = strndup(h->from, 255);
        if (!s->peer_from) {
            conn_stream_error(c, "internal-server-error", "out of memory");
            return;
        }
    }
    conn_set_names(c, dom->name, FROM(s)[0] ? FROM(s) : "-");
    if (dialback_stream_id(s->stream_id) < 0) {
        conn_stream_error(c, "internal-server-error", "no randomness");
        return;
    }
    conn_send_header(c, dom->name, h->from[0] ? h->from : NULL, s->stream_id);
    conn_log(c, RS_LOG_DEBUG, "header", "state=%s id=%s", s2s_in_state_name(s->state),
             s->stream_id);

    switch (s->state) {
    case IN_HEADER:
        if (dom->profile->policy.starttls == CATALOG_TLS_REQUIRED) {
            s2s_in_send(s, "<stream:features><starttls xmlns='" NS_TLS
                        "'><required/></starttls></stream:features>");
            s->state = IN_STARTTLS;
        } else {
            s2s_in_send_auth_features(s);
        }
        break;
    case IN_HEADER_TLS:
        s2s_in_send_auth_features(s);
        break;
    case IN_HEADER_SASL:
        s2s_in_send(s, "<stream:features/>");
        s2s_in__become_ready(s);
        break;
    default:
        break;
    }
}

/* ---- STARTTLS ------------------------------------------------------------ */

static void in_starttls(rs_s2s_in *s, xmlNodePtr el)
{
    if (!stanza_is(el, NS_TLS, "starttls")) {
        conn_stream_error(s->conn, "policy-violation",
                          "STARTTLS is required before anything else");
        return;
    }
    s2s_in_send(s, "<proceed xmlns='" NS_TLS "'/>");
    conn_restart_stream(s->conn);
    s->state = IN_TLS;
    if (conn_starttls(s->conn, s->dom, NULL) < 0)
        conn_close(s->conn, "cannot set up TLS");
}

static void in_tls_done(rs_s2s_in *s, bool ok, const char *why)
{
    rs_conn *c = s->conn;
    if (!ok) {
        conn_log(c, RS_LOG_INFO, "tls-fail", "presented=%s reason=\"%s\"",
                 tls_domain(c->tls) ? tls_domain(c->tls)->name : "-", why);
        return; /* conn closes itself */
    }
    char desc[128];
    tls_describe(c->tls, desc, sizeof desc);
    const char *sni = tls_sni(c->tls);
    conn_log(c, RS_LOG_INFO, "tls-ok", "%s presented=%s sni=%s", desc,
             tls_domain(c->tls)->name, sni[0] ? sni : "-");
    s->state = IN_HEADER_TLS;
}

/* ---- SASL EXTERNAL --------------------------------------------------------- */

static void sasl_fail(rs_s2s_in *s, const char *condition, const char *text)
{
    char *t = s2s_in__esc(text);
    s2s_in_send(s, "<failure xmlns='" NS_SASL "'><%s/><text>%s</text></failure>",
             condition, t);
    free(t);
    s->conn->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_FAILED]++;
    s2s_in__outcome_auth(s, "EXTERNAL", REPORT_AUTH_FAILED, condition, text);
    conn_log(s->conn, RS_LOG_INFO, "auth-fail",
             "method=EXTERNAL condition=%s reason=\"%s\"", condition, text);
}

static void in_sasl_auth(rs_s2s_in *s, xmlNodePtr el)
{
    if (strcmp(stanza_attr(el, "mechanism"), "EXTERNAL") != 0 || !s->external_offered) {
        sasl_fail(s, "invalid-mechanism", "only EXTERNAL is offered, and only "
                                          "to a peer with a valid certificate");
        return;
    }
    char *payload = stanza_text(el);
    char authzid[256];
    int rc = payload ? sasl_external_authzid(payload, authzid, sizeof authzid) : -1;
    free(payload);
    if (rc < 0) {
        sasl_fail(s, "incorrect-encoding", "authzid is not valid base64");
        return;
    }
    const char *identity = authzid[0] ? authzid : FROM(s);
    if (strcasecmp(identity, FROM(s)) != 0) {
        sasl_fail(s, "invalid-authzid", "authzid differs from the stream's 'from'");
        return;
    }
    s2s_in_send(s, "<success xmlns='" NS_SASL "'/>");
    s->sasl_done = true; /* identity is peer_from */
    s->conn->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_OK]++;
    s2s_in__outcome_auth(s, "EXTERNAL", REPORT_AUTH_OK, NULL, NULL);
    /* the certificate's EKU went in the peer-cert line */
    conn_log(s->conn, RS_LOG_INFO, "auth-ok", "method=EXTERNAL identity=%s", identity);
    conn_restart_stream(s->conn);
    s->state = IN_HEADER_SASL;
}

/* ---- stanzas ---------------------------------------------------------------- */

static bool is_stanza(xmlNodePtr el)
{
    return stanza_is(el, NS_SERVER, "iq") || stanza_is(el, NS_SERVER, "message") ||
           stanza_is(el, NS_SERVER, "presence");
}

/* "received iq get ping": what the last stanza was, for the report. */
static void note_stanza(rs_s2s_in *s, xmlNodePtr el)
{
    report_outcome *r = record_outcome(s->rec);
    xmlNodePtr child = stanza_first_child(el);
    const char *type = stanza_attr(el, "type");
    r->stanzas++;
    snprintf(r->stanza, sizeof r->stanza, "received %s%s%s%s%.24s",
             (const char *)el->name, type[0] ? " " : "", type,
             child ? " " : "", child ? (const char *)child->name : "");
    if (r->stanzas == 1)
        record_update(s->rec);
}

/* s in or out of the daemon's list of streams paused for their replies
 * (CONN_PAUSE_REPLIES), so that s2s_in_replies_flow visits only those. */
static void replies_listed(rs_s2s_in *s, bool listed)
{
    rs_daemon *srv = s->conn->srv;
    if (listed == s->replies_listed)
        return;
    s->replies_listed = listed;
    if (listed) {
        s->paused_prev = NULL;
        s->paused_next = srv->replies_paused;
        if (s->paused_next)
            s->paused_next->paused_prev = s;
        srv->replies_paused = s;
        return;
    }
    if (s->paused_prev)
        s->paused_prev->paused_next = s->paused_next;
    else
        srv->replies_paused = s->paused_next;
    if (s->paused_next)
        s->paused_next->paused_prev = s->paused_prev;
    s->paused_prev = s->paused_next = NULL;
}

/* A stanza on a stream not authenticated yet ends it, unanswered. */
static void refuse_unauthenticated(rs_s2s_in *s, const char *claimed_from)
{
    conn_log(s->conn, RS_LOG_WARN, "refused", "stanza before authentication "
             "(claimed from=%s); not answered", claimed_from);
    conn_stream_error(s->conn, "not-authorized", "authenticate before sending stanzas");
}

static void in_stanza(rs_s2s_in *s, xmlNodePtr el)
{
    rs_conn *c = s->conn;
    if (s->state != IN_READY) {
        refuse_unauthenticated(s, stanza_attr(el, "from"));
        return;
    }
    jid *from = malloc(sizeof *from), *to = malloc(sizeof *to);
    if (!from || !to) {
        free(from);
        free(to);
        conn_close(c, "out of memory");
        return;
    }
    if (!jid_parse(stanza_attr(el, "from"), from)) {
        conn_stream_error(c, "invalid-from", "missing or malformed 'from'");
    } else if (!jid_parse(stanza_attr(el, "to"), to) ||
               !domains_find(c->domains, to->domain)) {
        conn_stream_error(c, "host-unknown", "'to' is not a domain served here");
    } else if (!authorised(s, to->domain, from->domain)) {
        conn_stream_error(c, "invalid-from", "that domain pair is not authenticated "
                                             "on this stream");
    } else {
        conn_set_timeout(c, c->srv->cfg->limits.idle_timeout);
        note_stanza(s, el);
        router_deliver_local(c->srv, domains_find(c->domains, to->domain),
                             from->domain, el);
        /* backpressure: the peer reads our replies slower than it asks */
        if (!c->closing && s2s_out_congested(c->srv, to->domain, from->domain)) {
            snprintf(s->replies_to, sizeof s->replies_to, "%.255s", from->domain);
            conn_pause_reading(c, CONN_PAUSE_REPLIES);
            replies_listed(s, true);
        }
    }
    free(from);
    free(to);
}

static void in_element(rs_s2s_in *s, xmlNodePtr el)
{
    if (stanza_is(el, NS_SASL, "auth") && s->state == IN_AUTH)
        in_sasl_auth(s, el);
    else if (stanza_is(el, NS_DIALBACK, "result") && !stanza_attr(el, "type")[0])
        s2s_in__db_result(s, el);
    else if (stanza_is(el, NS_DIALBACK, "verify") && !stanza_attr(el, "type")[0])
        s2s_in__db_verify(s, el);
    else if (is_stanza(el))
        in_stanza(s, el);
    else
        conn_stream_error(s->conn, "unsupported-stanza-type",
                          "unexpected element on this stream");
}

/* The peer gave up on the stream and says why: that is the operator's answer. */
static void in_peer_error(rs_s2s_in *s, xmlNodePtr el)
{
    xmlNodePtr t = stanza_child(el, NS_STREAM_ERRORS, "text");
    char *text = t ? stanza_text(t) : NULL;
    char why[700];
    snprintf(why, sizeof why, "peer sent stream error %s%s%s",
             stanza_condition(el, NS_STREAM_ERRORS), text && text[0] ? ": " : "",
             text ? text : "");
    free(text);
    conn_log(s->conn, RS_LOG_INFO, "stream-error", "presented=%s reason=\"%s\"",
             tls_domain(s->conn->tls) ? tls_domain(s->conn->tls)->name : "-", why);
    report_outcome *r = record_outcome(s->rec);
    snprintf(r->error_in, sizeof r->error_in, "%.299s",
             why + strlen("peer sent stream error "));
    /* a stream error that follows our refusal is context, not theirs; a
     * server going down refuses nothing */
    bool shutdown = strcmp(stanza_condition(el, NS_STREAM_ERRORS),
                           "system-shutdown") == 0;
    if (r->auth != REPORT_AUTH_OK && r->refused_by != REPORT_BY_US)
        r->refused_by = shutdown ? REPORT_BY_NETWORK : REPORT_BY_PEER;
    s->conn->srv->stats.stream_errors_in++;
    conn_close(s->conn, why);
}

/* ---- the transition function ---------------------------------------------- */

/* The step of the stream in the report's terms (report_step). */
static report_step s2s_in_step_of(const rs_s2s_in *s)
{
    switch (s->state) {
    case IN_HEADER:
    case IN_HEADER_TLS:
        return REPORT_STEP_STREAM;
    case IN_STARTTLS:
        return REPORT_STEP_FEATURES;
    case IN_TLS:
        return REPORT_STEP_TLS;
    case IN_AUTH: /* features offered; authentication once the peer tries */
        return record_outcome(s->rec)->auth_used[0] ? REPORT_STEP_AUTH
                                                    : REPORT_STEP_FEATURES;
    case IN_HEADER_SASL:
        return REPORT_STEP_AUTH;
    case IN_READY:
        return REPORT_STEP_STANZAS;
    }
    return REPORT_STEP_NONE;
}

static void in_transition(rs_s2s_in *s, s2s_in_event ev, const void *arg)
{
    rs_conn *c = s->conn;
    if (ev == IN_EV_TIMEOUT) {
        if (s->state == IN_READY)
            conn_close(c, "idle");
        else
            conn_stream_error(c, "connection-timeout",
                              "not authenticated in time");
        return;
    }
    if (ev == IN_EV_ELEMENT && stanza_is((xmlNodePtr)arg, NS_STREAMS, "error")) {
        in_peer_error(s, (xmlNodePtr)arg);
        return;
    }
    switch (s->state) {
    case IN_HEADER:
    case IN_HEADER_TLS:
    case IN_HEADER_SASL:
        if (ev == IN_EV_HEADER) {
            in_open(s, arg);
            return;
        }
        break;
    case IN_STARTTLS:
        if (ev == IN_EV_ELEMENT) {
            in_starttls(s, (xmlNodePtr)arg);
            return;
        }
        break;
    case IN_TLS:
        if (ev == IN_EV_TLS_OK || ev == IN_EV_TLS_FAIL) {
            in_tls_done(s, ev == IN_EV_TLS_OK, arg);
            return;
        }
        break;
    case IN_AUTH:
    case IN_READY:
        if (ev == IN_EV_ELEMENT) {
            in_element(s, (xmlNodePtr)arg);
            return;
        }
        break;
    }
    conn_stream_error(c, ev == IN_EV_HEADER ? "bad-format" : "policy-violation",
                      "unexpected in this state of the stream");
}

/* One event: the transition, then the record learns the step it led to. */
static void in_step(rs_s2s_in *s, s2s_in_event ev, const void *arg)
{
    in_transition(s, ev, arg);
    record_set_step(s->rec, s2s_in_step_of(s));
}

/* ---- conn events ----------------------------------------------------------- */

static void s2s_in_on_header(rs_conn *c, const xmlstream_header *h)
{
    in_step(c->owner, IN_EV_HEADER, h);
}

static void s2s_in_on_element(rs_conn *c, xmlNodePtr el)
{
    in_step(c->owner, IN_EV_ELEMENT, el);
}

static void s2s_in_on_tls_done(rs_conn *c, bool ok, const char *why)
{
    in_step(c->owner, ok ? IN_EV_TLS_OK : IN_EV_TLS_FAIL, why);
}

static void s2s_in_on_timeout(rs_conn *c)
{
    in_step(c->owner, IN_EV_TIMEOUT, NULL);
}

static void s2s_in_on_closed(rs_conn *c, const char *why)
{
    (void)why;
    rs_s2s_in *s = c->owner;
    if (s) {
        replies_listed(s, false);
        free(s->pairs);
        free(s->pending);
        free(s->peer_from);
    }
    free(s);
}

s2s_in_pair *s2s_in__pair_add(s2s_in_pair **list, size_t *n)
{
    s2s_in_pair *grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return NULL;
    *list = grown;
    return &grown[(*n)++];
}

/* Before authentication a stanza is refused at its start tag, unread. */
static bool s2s_in_on_opening(rs_conn *c, const char *name, const char *ns)
{
    rs_s2s_in *s = c->owner;
    if (s->state == IN_READY || !stanza_name_is_stanza(ns, name, NS_SERVER))
        return true;
    refuse_unauthenticated(s, "-");
    return false;
}

static const conn_handler in_handler = {
    .header = s2s_in_on_header,
    .opening = s2s_in_on_opening,
    .element = s2s_in_on_element,
    .tls_done = s2s_in_on_tls_done,
    .timeout = s2s_in_on_timeout,
    .closed = s2s_in_on_closed,
};

void s2s_in_replies_flow(rs_daemon *srv, const char *remote, bool cut)
{
    for (rs_s2s_in *s = srv->replies_paused, *next; s; s = next) {
        next = s->paused_next;
        rs_conn *c = s->conn;
        if (c->closing || !(c->read_paused & CONN_PAUSE_REPLIES)) {
            replies_listed(s, false); /* waits for nothing any more */
            continue;
        }
        if (strcasecmp(s->replies_to, remote) != 0)
            continue;
        replies_listed(s, false);
        if (cut)
            conn_stream_error(c, "policy-violation", "your server does not "
                              "read the replies to what it sends");
        else
            conn_resume_reading(c, CONN_PAUSE_REPLIES);
    }
}

int s2s_in_accept(rs_daemon *srv, uv_stream_t *listener, bool direct_tls)
{
    rs_s2s_in *s = calloc(1, sizeof *s);
    rs_conn *c = s ? conn_new(srv, CONN_IN, &in_handler, s) : NULL;
    if (!c) {
        free(s);
        return UV_ENOMEM; /* the connection stays pending in libuv */
    }
    s->conn = c;
    s->state = IN_HEADER;
    if (!(s->rec = record_attach(c))) {
        conn_close(c, "out of memory");
        return UV_ENOMEM;
    }
    int rc = conn_accept(c, listener);
    if (rc < 0) {
        conn_close(c, "accept failed");
        return rc;
    }
    srv->stats.streams_in++;
    struct sockaddr_storage here;
    int len = sizeof here;
    unsigned port = 0;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&here, &len) == 0)
        port = ntohs(here.ss_family == AF_INET6
                         ? ((struct sockaddr_in6 *)&here)->sin6_port
                         : ((struct sockaddr_in *)&here)->sin_port);
    conn_log(c, RS_LOG_INFO, "accept", "port=%u%s streams=%u", port,
             direct_tls ? " direct-tls" : "", srv->n_conns);
    const config_limits *lim = &srv->cfg->limits;
    const char *why = NULL;
    if (!admission_inbound(srv, c, &why)) {
        srv->stats.refused++;
        conn_stream_error(c, "policy-violation", why);
        conn_abort(c, why); /* a refused crowd holds no descriptors */
        return 0;
    }
    conn_set_timeout(c, lim->unauth_timeout);
    if (direct_tls) {
        s->direct_tls = true;
        s->state = IN_TLS;
        const rs_domain *dom = domains_direct_tls_default(c->domains);
        if (!dom || conn_starttls(c, dom, NULL) < 0)
            conn_close(c, "cannot set up TLS");
    }
    return 0;
}

void s2s_in_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg)
{
    for (rs_conn *c = srv->conns; c; c = c->next)
        if (c->dir == CONN_IN && c->handler == &in_handler && c->owner)
            fn(arg, "in", s2s_in_state_name(((rs_s2s_in *)c->owner)->state));
}
