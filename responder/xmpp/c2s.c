/* c2s.c -- the client stream: one state enum (c2s_internal.h) and one
 * transition function (c2s_transition). What a bound session does is
 * c2s_session.c. */
#include "c2s.h"
#include "c2s_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "conn.h"
#include "dialback.h"
#include "netaddr.h"
#include "router.h"
#include "stanza.h"
#include "tls.h"

static const char *const state_names[] = {"header", "starttls", "tls", "header-tls",
                                          "auth", "sasl", "header-sasl", "bind",
                                          "ready"};

static const char *c2s_state_name(c2s_state st)
{
    return state_names[st];
}

const char *const *c2s_state_names(size_t *n)
{
    *n = sizeof state_names / sizeof state_names[0];
    return state_names;
}

/* Whether the stream is encrypted now. */
static bool under_tls(const rs_c2s_stream *s)
{
    return s->conn->tls_state == CONN_TLS_ACTIVE;
}

/* ---- stream header ------------------------------------------------------- */

/* The mechanisms for the published account: PLAIN only where it cannot be
 * read on the way (RFC 6120 6.4.1 leaves it to us; a client that sends its
 * password in the clear is what no-tls tests). */
/* A no-sasl profile (policy.no_sasl) sends an empty <mechanisms/>: SASL stays
 * mandatory-to-negotiate, so a client cannot take the features for the end
 * of negotiation (an empty <features/> would say that, RFC 6120 4.3.5) and
 * has no mechanism to pick: one clear failure. */
static void c2s_send_auth_features(rs_c2s_stream *s)
{
    static const sasl_client_mech order[] = {SASL_CLIENT_SCRAM_SHA256,
                                             SASL_CLIENT_SCRAM_SHA1, SASL_CLIENT_PLAIN};
    char mechs[256] = "";
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (!s->dom->profile->policy.no_sasl &&
            sasl_client_mech_offered(order[i], under_tls(s)))
            snprintf(mechs + strlen(mechs), sizeof mechs - strlen(mechs),
                     "<mechanism>%s</mechanism>", sasl_client_mech_name(order[i]));
    c2s_send(s, "<stream:features><mechanisms xmlns='" NS_SASL "'>%s"
             "</mechanisms></stream:features>", mechs);
    s->state = C2S_AUTH;
}

/* RFC 6120 4.3.3: a restart continues the stream: the same 'to', and after
 * TLS the domain whose certificate and TLS versions the session used.
 * False after sending the stream error. */
static bool c2s_restart_allowed(rs_c2s_stream *s, const xmlstream_header *h,
                                const rs_domain *dom)
{
    char text[1200];
    if (s->dom && dom != s->dom) {
        snprintf(text, sizeof text, "this stream was opened to '%s'; a restarted "
                 "stream must name the same 'to' (RFC 6120 4.3.3), not '%.255s'",
                 s->dom->name, h->to);
        conn_stream_error(s->conn, "not-authorized", text);
        return false;
    }
    if (s->state != C2S_HEADER_TLS)
        return true;
    const rs_domain *presented = tls_domain(s->conn->tls);
    if (presented != dom) {
        snprintf(text, sizeof text, "TLS presented %s's certificate (chosen by "
                 "SNI); '%.255s' is tested with its own: ask for it by SNI",
                 presented ? presented->name : "no", h->to);
        conn_stream_error(s->conn, "policy-violation", text);
        return false;
    }
    return true;
}

/* Whether 'to' names no domain but the address the client connected to
 * (or nothing): the certificate is then chosen by SNI alone. */
static bool by_address(const char *to)
{
    struct sockaddr_storage ss;
    char v6[64];
    size_t n = strlen(to);
    if (n > 2 && n < sizeof v6 && to[0] == '[' && to[n - 1] == ']') {
        memcpy(v6, to + 1, n - 2);
        v6[n - 2] = '\0';
        return netaddr_literal(v6, 0, &ss);
    }
    return !to[0] || netaddr_literal(to, 0, &ss);
}

static void c2s_open(rs_c2s_stream *s, const xmlstream_header *h)
{
    rs_conn *c = s->conn;
    if (strcmp(h->default_ns, NS_CLIENT) != 0) {
        conn_stream_error(c, "invalid-namespace",
                          "this is a client port: use jabber:client");
        return;
    }
    if (strncmp(h->version, "1.", 2) != 0) {
        conn_stream_error(c, "unsupported-version", "version='1.0' is required");
        return;
    }
    const rs_domain *dom = domains_find(c->domains, h->to);
    char text[1200];
    if (!dom && s->state == C2S_HEADER && !s->direct_tls && by_address(h->to)) {
        /* connected by address (gnutls-cli does): SNI will choose */
        if (dialback_stream_id(s->stream_id) < 0) {
            conn_stream_error(c, "internal-server-error", "no randomness");
            return;
        }
        conn_send_header(c, NULL, NULL, s->stream_id);
        c2s_send(s, "<stream:features><starttls xmlns='" NS_TLS "'><required/>"
                    "</starttls></stream:features>");
        s->state = C2S_STARTTLS;
        return;
    }
    if (!dom) {
        snprintf(text, sizeof text, "'%s' is not served here", h->to);
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (dom->profile->policy.starttls == CATALOG_TLS_DIRECT_ONLY && !s->direct_tls) {
        snprintf(text, sizeof text, "'%s' is served by direct TLS (XEP-0368, "
                 "_xmpps-client SRV) only", h->to);
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (!c2s_restart_allowed(s, h, dom))
        return;
    s->dom = dom;
    conn_set_names(c, dom->name, s->jid[0] ? s->jid : "-");
    clients_set_domain(s->rec, dom->name, dom->profile->label);
    if (dialback_stream_id(s->stream_id) < 0) {
        conn_stream_error(c, "internal-server-error", "no randomness");
        return;
    }
    conn_send_header(c, dom->name, NULL, s->stream_id);
    conn_log(c, RS_LOG_DEBUG, "header", "state=%s id=%s", c2s_state_name(s->state),
             s->stream_id);
    switch (s->state) {
    case C2S_HEADER:
        if (dom->profile->policy.starttls == CATALOG_TLS_NONE) {
            c2s_send_auth_features(s); /* the plaintext test: no TLS at all */
        } else {
            c2s_send(s, "<stream:features><starttls xmlns='" NS_TLS "'><required/>"
                        "</starttls></stream:features>");
            s->state = C2S_STARTTLS;
        }
        break;
    case C2S_HEADER_TLS:
        c2s_send_auth_features(s);
        break;
    case C2S_HEADER_SASL:
        c2s_send(s, "<stream:features><bind xmlns='" NS_BIND "'/><session xmlns='"
                    NS_SESSION "'><optional/></session></stream:features>");
        s->state = C2S_BIND;
        break;
    default:
        break;
    }
}

/* ---- STARTTLS ------------------------------------------------------------ */

static void c2s_starttls(rs_c2s_stream *s, xmlNodePtr el)
{
    if (!stanza_is(el, NS_TLS, "starttls")) {
        conn_stream_error(s->conn, "policy-violation",
                          "STARTTLS is required before anything else");
        return;
    }
    c2s_send(s, "<proceed xmlns='" NS_TLS "'/>");
    conn_restart_stream(s->conn);
    s->state = C2S_TLS;
    const rs_domain *dom = s->dom ? s->dom : domains_direct_tls_default(s->conn->domains);
    if (!dom || conn_starttls(s->conn, dom, NULL) < 0)
        conn_close(s->conn, "cannot set up TLS");
}

static void c2s_tls_done(rs_c2s_stream *s, bool ok, const char *why)
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
    s->state = C2S_HEADER_TLS;
}

/* ---- SASL ------------------------------------------------------------------ */

static void sasl_failure(rs_c2s_stream *s, const char *condition, const char *text)
{
    char *t = xmlstream_escape(text ? text : "");
    c2s_send(s, "<failure xmlns='" NS_SASL "'><%s/><text>%s</text></failure>",
             condition, t ? t : "");
    free(t);
    sasl_client_free(s->sasl);
    s->sasl = NULL;
    s->state = C2S_AUTH;
    conn_log(s->conn, RS_LOG_INFO, "auth-fail", "condition=%s reason=\"%s\"",
             condition, text ? text : "");
    if (strcmp(condition, "invalid-mechanism") != 0 && strcmp(condition, "aborted") != 0)
        clients_auth(s->rec, sasl_client_mech_name(s->mech), false, condition);
    if (++s->auth_failures >= C2S_MAX_AUTH_TRIES)
        conn_stream_error(s->conn, "policy-violation",
                          "too many failed authentication attempts");
}

static void sasl_success(rs_c2s_stream *s, const char *final)
{
    rs_conn *c = s->conn;
    if (final && final[0])
        c2s_send(s, "<success xmlns='" NS_SASL "'>%s</success>", final);
    else
        c2s_send(s, "<success xmlns='" NS_SASL "'/>");
    conn_log(c, RS_LOG_INFO, "auth-ok", "method=%s account=%s@%s",
             sasl_client_mech_name(s->mech), C2S_ACCOUNT,
             s->dom->name);
    sasl_client_free(s->sasl);
    s->sasl = NULL;
    clients_auth(s->rec, sasl_client_mech_name(s->mech), true, NULL);
    conn_set_authenticated(c);
    conn_restart_stream(c);
    s->state = C2S_HEADER_SASL;
}

/* Run one step of the exchange with the element's text (base64). */
static void sasl_step(rs_c2s_stream *s, xmlNodePtr el)
{
    char *in = stanza_text(el);
    char *out = NULL;
    const char *condition = "malformed-request", *text = "out of memory";
    sasl_client_step_result r = in ? sasl_client_step(s->sasl, in, &out, &condition, &text)
                              : SASL_CLIENT_FAILURE;
    free(in);
    if (r == SASL_CLIENT_CHALLENGE) {
        c2s_send(s, "<challenge xmlns='" NS_SASL "'>%s</challenge>", out ? out : "");
        s->state = C2S_SASL;
    } else if (r == SASL_CLIENT_SUCCESS) {
        sasl_success(s, out);
    } else {
        sasl_failure(s, condition, text);
    }
    free(out);
}

static void c2s_auth(rs_c2s_stream *s, xmlNodePtr el)
{
    if (!stanza_is(el, NS_SASL, "auth")) {
        conn_stream_error(s->conn, "not-authorized", "authenticate first");
        return;
    }
    if (s->dom->profile->policy.no_sasl) {
        sasl_failure(s, "invalid-mechanism", "this domain offers no SASL mechanism");
        return;
    }
    sasl_client_mech mech;
    const char *name = stanza_attr(el, "mechanism");
    if (sasl_client_mech_parse(name, &mech) < 0) {
        sasl_failure(s, "invalid-mechanism", "not offered here");
        return;
    }
    if (!sasl_client_mech_offered(mech, under_tls(s))) {
        /* the client sent the password in the clear anyway: said in the log */
        conn_log(s->conn, RS_LOG_WARN, "password-in-clear",
                 "PLAIN without TLS, although it was not offered");
        clients_password_in_clear(s->rec);
        sasl_failure(s, "encryption-required", "PLAIN is offered only under TLS");
        return;
    }
    s->mech = mech;
    if (!(s->sasl = sasl_client_new(&s->hub->account, mech, s->dom->name, under_tls(s)))) {
        conn_close(s->conn, "out of memory");
        return;
    }
    sasl_step(s, el);
}

static void c2s_sasl(rs_c2s_stream *s, xmlNodePtr el)
{
    if (stanza_is(el, NS_SASL, "response"))
        sasl_step(s, el);
    else if (stanza_is(el, NS_SASL, "abort"))
        sasl_failure(s, "aborted", "the client aborted");
    else
        conn_stream_error(s->conn, "policy-violation",
                          "a SASL exchange is running: <response/> or <abort/>");
}

/* ---- the transition function ---------------------------------------------- */

/* The step of the stream in the report's terms (report_step). */
static report_step c2s_step_of(const rs_c2s_stream *s)
{
    switch (s->state) {
    case C2S_HEADER:
    case C2S_HEADER_TLS:
        return REPORT_STEP_STREAM;
    case C2S_STARTTLS:
    case C2S_AUTH:
        return REPORT_STEP_FEATURES;
    case C2S_TLS:
        return REPORT_STEP_TLS;
    case C2S_SASL:
    case C2S_HEADER_SASL:
    case C2S_BIND:
        return REPORT_STEP_AUTH;
    case C2S_READY:
        break;
    }
    return REPORT_STEP_STANZAS;
}

static void c2s_transition(rs_c2s_stream *s, c2s_event ev, const void *arg)
{
    rs_conn *c = s->conn;
    if (ev == C2S_EV_TIMEOUT) {
        if (s->state == C2S_READY)
            conn_close(c, "idle");
        else
            conn_stream_error(c, "connection-timeout", "not bound in time");
        return;
    }
    if (ev == C2S_EV_ELEMENT && stanza_is((xmlNodePtr)arg, NS_STREAMS, "error")) {
        conn_close(c, "the client sent a stream error");
        return;
    }
    switch (s->state) {
    case C2S_HEADER:
    case C2S_HEADER_TLS:
    case C2S_HEADER_SASL:
        if (ev == C2S_EV_HEADER) {
            c2s_open(s, arg);
            return;
        }
        break;
    case C2S_STARTTLS:
        if (ev == C2S_EV_ELEMENT) {
            c2s_starttls(s, (xmlNodePtr)arg);
            return;
        }
        break;
    case C2S_TLS:
        if (ev == C2S_EV_TLS_OK || ev == C2S_EV_TLS_FAIL) {
            c2s_tls_done(s, ev == C2S_EV_TLS_OK, arg);
            return;
        }
        break;
    case C2S_AUTH:
        if (ev == C2S_EV_ELEMENT && stanza_is((xmlNodePtr)arg, NS_TLS, "starttls")) {
            /* no TLS on a plaintext test, none twice elsewhere */
            c2s_send(s, "<failure xmlns='" NS_TLS "'/>");
            conn_close(c, "STARTTLS refused");
            return;
        }
        if (ev == C2S_EV_ELEMENT) {
            c2s_auth(s, (xmlNodePtr)arg);
            return;
        }
        break;
    case C2S_SASL:
        if (ev == C2S_EV_ELEMENT) {
            c2s_sasl(s, (xmlNodePtr)arg);
            return;
        }
        break;
    case C2S_BIND:
        if (ev == C2S_EV_ELEMENT) {
            c2s__session_bind(s, (xmlNodePtr)arg);
            return;
        }
        break;
    case C2S_READY:
        if (ev == C2S_EV_ELEMENT) {
            c2s__session_stanza(s, (xmlNodePtr)arg);
            return;
        }
        break;
    }
    conn_stream_error(c, ev == C2S_EV_HEADER ? "bad-format" : "policy-violation",
                      "unexpected in this state of the stream");
}

/* One event: the transition, then the record learns the step it led to. */
static void c2s_step(rs_c2s_stream *s, c2s_event ev, const void *arg)
{
    c2s_transition(s, ev, arg);
    clients_set_step(s->rec, c2s_step_of(s));
}

/* ---- conn events ------------------------------------------------------------ */

static void c2s_on_header(rs_conn *c, const xmlstream_header *h)
{
    c2s_step(c->owner, C2S_EV_HEADER, h);
}

/* Before SASL succeeded a stanza is refused at its start tag, unread, as
 * c2s_auth refuses it once read. */
static bool c2s_on_opening(rs_conn *c, const char *name, const char *ns)
{
    if (c->authenticated || !stanza_name_is_stanza(ns, name, NS_CLIENT))
        return true;
    conn_stream_error(c, "not-authorized", "authenticate first");
    return false;
}

static void c2s_on_element(rs_conn *c, xmlNodePtr el)
{
    c2s_step(c->owner, C2S_EV_ELEMENT, el);
}

static void c2s_on_tls_done(rs_conn *c, bool ok, const char *why)
{
    c2s_step(c->owner, ok ? C2S_EV_TLS_OK : C2S_EV_TLS_FAIL, why);
}

static void c2s_on_timeout(rs_conn *c)
{
    c2s_step(c->owner, C2S_EV_TIMEOUT, NULL);
}

static void c2s_on_closed(rs_conn *c, const char *why)
{
    (void)why;
    rs_c2s_stream *s = c->owner;
    c2s__session_end(s);
    sasl_client_free(s->sasl);
    free(s);
}

static const conn_handler c2s_handler = {
    .header = c2s_on_header,
    .opening = c2s_on_opening,
    .element = c2s_on_element,
    .tls_done = c2s_on_tls_done,
    .timeout = c2s_on_timeout,
    .closed = c2s_on_closed,
};

int c2s_accept(rs_daemon *srv, uv_stream_t *listener, bool direct_tls)
{
    rs_c2s_stream *s = calloc(1, sizeof *s);
    rs_conn *c = s ? conn_new(srv, CONN_IN, &c2s_handler, s) : NULL;
    if (!c) {
        free(s);
        return UV_ENOMEM; /* the connection stays pending in libuv */
    }
    conn_set_client(c);
    s->conn = c;
    s->hub = srv->c2s;
    s->state = C2S_HEADER;
    int rc = conn_accept(c, listener);
    if (rc < 0) {
        conn_close(c, "accept failed");
        return rc;
    }
    srv->stats.streams_in++;
    s->rec = clients_attach(srv->clients, c, direct_tls);
    snprintf(s->key, sizeof s->key, "c2s %s", c->peer_key[0] ? c->peer_key : c->peer_ip);
    conn_log(c, RS_LOG_INFO, "accept", "%sstreams=%u", direct_tls ? "direct-tls " : "",
             srv->n_conns);
    const char *why = NULL;
    if (!s->hub || !admission_inbound(srv, c, &why)) {
        srv->stats.refused++;
        srv->stats.client_refused++;
        conn_stream_error(c, "policy-violation", why ? why : "no client service");
        conn_abort(c, why ? why : "no client service");
        return 0;
    }
    conn_set_timeout(c, srv->cfg->limits.unauth_timeout);
    if (direct_tls) {
        s->direct_tls = true;
        s->state = C2S_TLS;
        const rs_domain *dom = domains_direct_tls_default(c->domains);
        if (!dom || conn_starttls(c, dom, NULL) < 0)
            conn_close(c, "cannot set up TLS");
    }
    return 0;
}

void c2s_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg)
{
    for (rs_conn *c = srv->conns; c; c = c->next)
        if (c->handler == &c2s_handler && c->owner)
            fn(arg, "c2s", c2s_state_name(((rs_c2s_stream *)c->owner)->state));
}

/* ---- the hub ------------------------------------------------------------------ */

rs_c2s *c2s_new(rs_daemon *srv)
{
    rs_c2s *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->srv = srv;
    if (sasl_client_account_init(&hub->account, C2S_ACCOUNT, C2S_PASSWORD) < 0) {
        free(hub);
        return NULL;
    }
    return hub;
}

void c2s_free(rs_c2s *hub)
{
    if (hub)
        free(hub->by_jid);
    free(hub);
}
