/* s2s_out.c -- the outbound server-to-server stream: one state enum (in
 * s2s_out_internal.h) and one transition function (out_transition). Where it
 * connects to is s2s_out_dial.c. */
#include "s2s_out.h"
#include "s2s_out_internal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admission.h"
#include "conn.h"
#include "record.h"
#include "dialback.h"
#include "dns.h"
#include "peercert.h"
#include "evidence.h"
#include "report.h"
#include "sasl.h"
#include "stanza.h"
#include "tls.h"
#include "verify.h"

typedef enum {
    OUT_EV_CONNECTED, /* arg: int *status */
    OUT_EV_HEADER,    /* arg: const xmlstream_header * */
    OUT_EV_ELEMENT,   /* arg: xmlNodePtr */
    OUT_EV_TLS_OK,    /* arg: NULL */
    OUT_EV_TLS_FAIL,  /* arg: const char *why */
    OUT_EV_TIMEOUT,   /* arg: NULL */
    OUT_EV_CLOSED     /* arg: const char *why; the conn is gone */
} out_event;

static void out_step(rs_s2s_out *o, out_event ev, const void *arg);

static const char *const state_names[] = {"resolve", "addresses", "connecting",
                                  "header", "features", "starttls", "tls",
                                  "sasl", "dialback", "verify-only", "ready",
                                  "done"};

static const char *s2s_out_state_name(s2s_out_state st)
{
    return state_names[st];
}

const char *const *s2s_out_state_names(size_t *n)
{
    *n = sizeof state_names / sizeof state_names[0];
    return state_names;
}

void s2s_out__log(const rs_s2s_out *o, log_level level, const char *event,
                    const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->conn)
        conn_log(o->conn, level, event, "%s", msg);
    else
        log_msg(level, "s2s-out local=%s remote=%s event=%s %s", o->local,
               o->remote, event, msg);
}

/* ---- lifetime ---------------------------------------------------------------- */

static void s2s_out_on_timer_closed(uv_handle_t *h)
{
    rs_s2s_out *o = h->data;
    domains_unref(o->domains);
    free(o->shown);
    free(o);
}

static void unlink_out(rs_s2s_out *o)
{
    for (rs_s2s_out **pp = &o->srv->outs; *pp; pp = &(*pp)->next)
        if (*pp == o) {
            *pp = o->next;
            o->srv->n_outs--;
            return;
        }
}

/* We never got a connection to the remote (DNS, every address refused):
 * still an outcome, so the report says why nothing arrived. */
static void report_unreached(const rs_s2s_out *o, const char *why)
{
    report_outcome r = {.leg = REPORT_LEG_OUT, .refused_by = REPORT_BY_NETWORK};
    r.time = (int64_t)time(NULL);
    snprintf(r.local, sizeof r.local, "%s", o->local);
    snprintf(r.remote, sizeof r.remote, "%s", o->remote);
    snprintf(r.profile, sizeof r.profile, "%s", o->dom->profile->label);
    snprintf(r.close, sizeof r.close, "%s", why);
    evidence_submit(o->srv->evidence, o->srv->report, &r, "");
}

/* Release the stream; queued stanzas are bounced and pending verifications
 * answered with the failure when why is set. Before the remote spoke, what
 * others see is S2S_OUT_FAILED_PUBLIC; why (logged by the callers) stays
 * here, except in the unreached record, whose reasons are DNS answers and
 * our own allow-list, not what listens. */
static void out_finish(rs_s2s_out *o, const char *condition, const char *why)
{
    if (o->state == OUT_DONE)
        return;
    const char *shown = o->heard_peer || o->state == OUT_READY
                            ? why : S2S_OUT_FAILED_PUBLIC;
    o->state = OUT_DONE;
    unlink_out(o);
    if (o->queued)
        s2s_out__log(o, RS_LOG_INFO, "bounce", "%u stanza(s) undeliverable: %s (%s)",
                o->queued, condition, why);
    if (o->queued && strcmp(condition, "idle") != 0)
        s2s_out__event_undeliverable(o, shown);
    s2s_out__drop_queue(o);
    if (!o->connected_once && !o->srv->stopping)
        report_unreached(o, why);
    for (size_t i = 0; i < o->n_verifies; i++)
        s2s_out__event_verdict(o, o->verifies[i].requester, false, shown);
    o->n_verifies = 0;
    s2s_out__event_flow(o, false); /* nothing left to wait for */
    if (o->dns_req)
        dns_cancel(o->dns_req);
    if (o->conn) {
        conn_detach(o->conn); /* the conn finishes closing on its own */
        conn_close(o->conn, shown);
        o->conn = NULL;
        o->rec = NULL;      /* its record goes with it */
    }
    uv_timer_stop(&o->timer);
    uv_close((uv_handle_t *)&o->timer, s2s_out_on_timer_closed);
}

void s2s_out__fail(rs_s2s_out *o, const char *condition, const char *why)
{
    s2s_out__log(o, RS_LOG_INFO, "out-fail", "state=%s condition=%s reason=\"%s\"",
            s2s_out_state_name(o->state), condition, why);
    out_finish(o, condition, why);
}

/* ---- authentication ------------------------------------------------------------- */

static bool has_mechanism(xmlNodePtr features, const char *name)
{
    xmlNodePtr mechs = stanza_child(features, NS_SASL, "mechanisms");
    for (xmlNodePtr m = mechs ? mechs->children : NULL; m; m = m->next) {
        if (!stanza_is(m, NS_SASL, "mechanism"))
            continue;
        char *t = stanza_text(m);
        bool match = t && strcmp(t, name) == 0;
        free(t);
        if (match)
            return true;
    }
    return false;
}

static void start_dialback(rs_s2s_out *o)
{
    char key[DIALBACK_KEY_HEX];
    if (!o->peer_stream_id[0] ||
        dialback_key(o->srv->db_secret, o->remote, o->local, o->peer_stream_id, key) < 0) {
        s2s_out__fail(o, "remote-server-not-found", "no stream id from the remote: "
                                           "cannot do dialback");
        return;
    }
    s2s_out_send_fmt(o, "<db:result from='%s' to='%s'>%s</db:result>", o->local,
             o->remote, key);
    s2s_out__log(o, RS_LOG_INFO, "auth", "method=dialback sent");
    report_outcome *r = record_outcome(o->rec);
    snprintf(r->auth_used, sizeof r->auth_used, "dialback");
    o->state = OUT_DIALBACK;
}

/* The stream may not authenticate as the profile allows, but dialback
 * verifications ride it, and they need no authentication of ours
 * (XEP-0220): it stays until they are answered, within the connect
 * deadline, then closes. Stanzas cannot go this way: they bounce now. */
static void verify_only(rs_s2s_out *o, const char *why)
{
    o->state = OUT_VERIFY_ONLY;
    s2s_out__log(o, RS_LOG_INFO, "verify-only", "%zu verification(s) wait; "
                 "stanzas bounce: %s", o->n_verifies, why);
    if (o->queued)
        s2s_out__event_undeliverable(o, why);
    s2s_out__drop_queue(o);
}

/* What the remote showed of its server side, to the report: its
 * certificate from the TLS handshake and what its features offer. A
 * plaintext profile that left an offered STARTTLS aside saw no certificate
 * and says nothing. */
static void s2s_out_present(rs_s2s_out *o, bool tls, bool external, bool dialback)
{
    if (!o->srv->report || (!tls && o->starttls_offered))
        return;
    report_presented p = {.time = (int64_t)time(NULL), .leg = REPORT_LEG_OUT};
    if (tls && o->shown)
        p.cert = o->shown->cert;
    else
        p.cert.chain = PEERCERT_CHAIN_NONE;
    p.tls = tls ? grade_tls_mask(record_outcome(o->rec)->tls) : 0;
    p.tls_required = o->tls_required;
    p.sasl_external = tls ? (external ? GRADE_YES : GRADE_NO) : GRADE_UNSEEN;
    p.dialback = dialback ? GRADE_YES : GRADE_NO;
    report_add_presented(o->srv->report, o->remote, &p);
    free(o->shown);
    o->shown = NULL;
}

/* Features after TLS (or without TLS): authenticate as the profile allows. */
static void authenticate(rs_s2s_out *o, xmlNodePtr features)
{
    unsigned allowed = o->dom->profile->policy.auth_out;
    bool tls = o->conn->tls_state == CONN_TLS_ACTIVE;
    bool dialback = stanza_child(features, NS_DIALBACK_FEATURE, "dialback") != NULL;
    report_outcome *r = record_outcome(o->rec);
    bool external = has_mechanism(features, "EXTERNAL");
    s2s_out_present(o, tls, external, dialback);
    snprintf(r->auth_offered, sizeof r->auth_offered, "%s%s%s",
             external ? "EXTERNAL" : "", external && dialback ? " " : "",
             dialback ? "dialback" : "");
    o->verify_ok = true;
    s2s_out__send_verifies(o);
    if ((allowed & CATALOG_AUTH_EXTERNAL) && tls && has_mechanism(features, "EXTERNAL")) {
        char *auth = sasl_external_auth(o->local);
        if (!auth) {
            s2s_out__fail(o, "internal-server-error", "out of memory");
            return;
        }
        conn_send_str(o->conn, auth);
        free(auth);
        s2s_out__log(o, RS_LOG_INFO, "auth", "method=EXTERNAL sent");
        snprintf(r->auth_used, sizeof r->auth_used, "EXTERNAL");
        o->state = OUT_SASL;
        return;
    }
    if (allowed & CATALOG_AUTH_DIALBACK) {
        start_dialback(o);
        return;
    }
    char why[256];
    snprintf(why, sizeof why, "the remote offers no authentication this profile "
             "may use (it allows %s; remote offered SASL EXTERNAL: %s, TLS: %s)",
             allowed == CATALOG_AUTH_EXTERNAL ? "SASL EXTERNAL only" : "dialback only",
             external ? "yes" : "no", tls ? "yes" : "no");
    /* our rule, not the remote's refusal: the report says so */
    r->auth = REPORT_AUTH_FAILED;
    snprintf(r->auth_error, sizeof r->auth_error, "%s", why);
    r->refused_by = REPORT_BY_US;
    if (o->n_verifies > 0) {
        verify_only(o, why);
        return;
    }
    s2s_out__fail(o, "remote-server-not-found", why);
}

/* The remote's answer to our authentication, for the report. A refusal
 * stays in auth_error even when dialback then succeeds. */
static void outcome_auth(rs_s2s_out *o, report_auth result, const char *why)
{
    report_outcome *r = record_outcome(o->rec);
    r->auth = result;
    if (why) {
        size_t len = strlen(r->auth_error);
        snprintf(r->auth_error + len, sizeof r->auth_error - len, "%s%s",
                 len ? "; " : "", why);
        r->refused_by = REPORT_BY_PEER;
    } else {
        r->refused_by = REPORT_BY_NONE;
        record_update(o->rec);
    }
}

static void sasl_outcome(rs_s2s_out *o, xmlNodePtr el)
{
    if (stanza_is(el, NS_SASL, "success")) {
        o->authenticated = true;
        o->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_OK]++;
        s2s_out__log(o, RS_LOG_INFO, "auth-ok", "method=EXTERNAL");
        outcome_auth(o, REPORT_AUTH_OK, NULL);
        conn_restart_stream(o->conn);
        conn_send_header(o->conn, o->local, o->remote, NULL);
        o->state = OUT_HEADER;
        return;
    }
    xmlNodePtr text_el = stanza_child(el, NS_SASL, "text");
    char *text = text_el ? stanza_text(text_el) : NULL;
    char why[600];
    snprintf(why, sizeof why, "SASL EXTERNAL refused: %s%s%s%s",
             stanza_condition(el, NS_SASL), text && text[0] ? " (" : "",
             text ? text : "", text && text[0] ? ")" : "");
    free(text);
    o->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_FAILED]++;
    s2s_out__log(o, RS_LOG_INFO, "auth-fail", "method=EXTERNAL reason=\"%s\"", why);
    outcome_auth(o, REPORT_AUTH_FAILED, why);
    if (o->dom->profile->policy.auth_out & CATALOG_AUTH_DIALBACK) {
        s2s_out__log(o, RS_LOG_INFO, "auth", "falling back to dialback");
        start_dialback(o);
        return;
    }
    s2s_out__fail(o, "remote-server-not-found", why);
}

static void dialback_outcome(rs_s2s_out *o, xmlNodePtr el)
{
    const char *type = stanza_attr(el, "type");
    if (strcmp(type, "valid") == 0) {
        o->srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_OK]++;
        s2s_out__log(o, RS_LOG_INFO, "auth-ok", "method=dialback");
        outcome_auth(o, REPORT_AUTH_OK, NULL);
        o->state = OUT_READY;
        conn_set_timeout(o->conn, o->srv->cfg->limits.idle_timeout);
        conn_set_idle_on_write(o->conn, o->srv->cfg->limits.idle_timeout);
        uv_timer_stop(&o->timer);
        xmlstream_release_soon(o->conn->xs); /* the peer answers on its own stream */
        s2s_out__flush_queue(o);
        return;
    }
    char why[300];
    const char *condition = stanza_condition(stanza_child(el, NULL, "error"), NS_STANZAS);
    snprintf(why, sizeof why, "dialback refused: type=%s%s%s", type,
             condition[0] ? " " : "", condition);
    o->srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_FAILED]++;
    s2s_out__log(o, RS_LOG_INFO, "auth-fail", "method=dialback reason=\"%s\"", why);
    outcome_auth(o, REPORT_AUTH_FAILED, why);
    s2s_out__fail(o, "remote-server-not-found", why);
}

/* ---- stream events ----------------------------------------------------------------- */

static void s2s_out_on_features(rs_s2s_out *o, xmlNodePtr el)
{
    if (!stanza_is(el, NS_STREAMS, "features")) {
        s2s_out__fail(o, "remote-server-not-found", "expected stream features");
        return;
    }
    if (o->authenticated) {
        o->state = OUT_READY;
        conn_set_timeout(o->conn, o->srv->cfg->limits.idle_timeout);
        conn_set_idle_on_write(o->conn, o->srv->cfg->limits.idle_timeout);
        uv_timer_stop(&o->timer);
        xmlstream_release_soon(o->conn->xs); /* the peer answers on its own stream */
        s2s_out__flush_queue(o);
        return;
    }
    xmlNodePtr starttls = stanza_child(el, NS_TLS, "starttls");
    bool plaintext_only = o->dom->profile->policy.starttls == CATALOG_TLS_NONE;
    if (o->conn->tls_state == CONN_TLS_NONE) {
        o->starttls_offered = starttls != NULL;
        o->tls_required = starttls && stanza_child(starttls, NS_TLS, "required")
                              ? GRADE_YES : GRADE_NO;
    }
    if (o->conn->tls_state == CONN_TLS_NONE && starttls && plaintext_only &&
        stanza_child(starttls, NS_TLS, "required")) {
        s2s_out__fail(o, "remote-server-not-found", "the remote requires STARTTLS; "
             "this profile speaks plaintext only");
        return;
    }
    if (o->conn->tls_state == CONN_TLS_NONE && starttls && !plaintext_only) {
        s2s_out_send_fmt(o, "<starttls xmlns='" NS_TLS "'/>");
        o->state = OUT_STARTTLS;
        return;
    }
    if (o->conn->tls_state == CONN_TLS_NONE)
        s2s_out__log(o, RS_LOG_INFO, "tls", "remote offers no STARTTLS: plaintext");
    authenticate(o, el);
}

static void s2s_out_on_tls_ok(rs_s2s_out *o)
{
    char desc[128];
    verify_verdict v;
    tls_describe(o->conn->tls, desc, sizeof desc);
    bool ok = verify_peer(tls_session(o->conn->tls), o->conn->domains->trust, o->remote, &v);
    int64_t now = (int64_t)time(NULL);
    if ((o->shown || (o->shown = malloc(sizeof *o->shown))) &&
        !report_cert_recent(o->srv->report, o->remote, REPORT_LEG_OUT, now,
                            &o->shown->cert))
        peercert_from_session(tls_session(o->conn->tls), o->conn->domains->trust,
                              o->remote, now, &o->shown->cert);
    report_outcome *r = record_outcome(o->rec);
    snprintf(r->peer_cert, sizeof r->peer_cert, "%s",
             ok ? "valid" : v.reason[0] ? v.reason : "invalid");
    s2s_out__log(o, RS_LOG_INFO, "tls-ok", "%s presented=%s remote-cert=%s%s%s", desc,
            o->local, ok ? "valid" : "invalid", v.reason[0] ? " reason=" : "",
            v.reason);
    conn_send_header(o->conn, o->local, o->remote, NULL);
    o->state = OUT_HEADER;
}

/* Elements any state after the header may see. true when handled. */
static bool common_element(rs_s2s_out *o, xmlNodePtr el)
{
    if (stanza_is(el, NS_STREAMS, "error")) {
        xmlNodePtr t = stanza_child(el, NS_STREAM_ERRORS, "text");
        char *text = t ? stanza_text(t) : NULL;
        char why[700];
        snprintf(why, sizeof why, "remote sent stream error %s%s%s%s",
                 stanza_condition(el, NS_STREAM_ERRORS), text && text[0] ? ": " : "",
                 text ? text : "", "");
        report_outcome *r = record_outcome(o->rec);
        snprintf(r->error_in, sizeof r->error_in,
                 "%s%s%s", stanza_condition(el, NS_STREAM_ERRORS),
                 text && text[0] ? ": " : "", text ? text : "");
        /* a server going down says nothing about us: a clean close */
        bool shutdown = strcmp(stanza_condition(el, NS_STREAM_ERRORS),
                               "system-shutdown") == 0;
        if (r->auth != REPORT_AUTH_OK)
            r->refused_by = shutdown ? REPORT_BY_NETWORK : REPORT_BY_PEER;
        o->srv->stats.stream_errors_in++;
        free(text);
        if (shutdown) {
            s2s_out__log(o, RS_LOG_INFO, "out-closed", "state=%s reason=\"%s\"",
                         s2s_out_state_name(o->state), why);
            out_finish(o, "remote-server-timeout", why);
        } else {
            s2s_out__fail(o, "remote-server-not-found", why);
        }
        return true;
    }
    if (stanza_is(el, NS_DIALBACK, "verify") && stanza_attr(el, "type")[0]) {
        if (s2s_out__verify_answered(o, el) && o->state == OUT_VERIFY_ONLY)
            out_finish(o, "verified", "dialback verifications answered");
        return true;
    }
    return false;
}

/* The remote ended our stream after TLS, before its header: with our
 * client certificate sent, that is how a TLS 1.3 server refuses it (it
 * judges the certificate after the handshake is over for us). */
static bool gone_after_our_certificate(const rs_s2s_out *o)
{
    return o->state == OUT_HEADER && !o->authenticated && o->conn &&
           o->conn->tls_state == CONN_TLS_ACTIVE && tls_sent_certificate(o->conn->tls);
}

/* The step of the stream in the report's terms (report_step). */
static report_step s2s_out_step_of(const rs_s2s_out *o)
{
    switch (o->state) {
    case OUT_RESOLVE:
    case OUT_ADDRESSES:
    case OUT_CONNECTING:
        return REPORT_STEP_CONNECT;
    case OUT_HEADER:
        return gone_after_our_certificate(o) ? REPORT_STEP_TLS : REPORT_STEP_STREAM;
    case OUT_FEATURES:
    case OUT_STARTTLS:
    case OUT_VERIFY_ONLY: /* our rule refused at the features */
        return REPORT_STEP_FEATURES;
    case OUT_TLS:
        return REPORT_STEP_TLS;
    case OUT_SASL:
    case OUT_DIALBACK:
        return REPORT_STEP_AUTH;
    case OUT_READY:
    case OUT_DONE:
        break;
    }
    return REPORT_STEP_STANZAS;
}

/* Why the stream closed, for the log: the transport's words, or what they
 * mean right after TLS. */
static void closed_why(const rs_s2s_out *o, const char *how, char *out, size_t n)
{
    if (!gone_after_our_certificate(o)) {
        snprintf(out, n, "%s", how);
        return;
    }
    const char *alert = tls_alert_after_handshake(o->conn->tls);
    if (alert[0])
        snprintf(out, n, "the remote refused our client certificate (%s) after the "
                 "TLS handshake: %s", o->local, alert);
    else
        snprintf(out, n, "the remote ended the connection right after the TLS "
                 "handshake, before its stream header (%s): how a TLS 1.3 server "
                 "refuses a client certificate (ours: %s)", how, o->local);
}

static void out_transition(rs_s2s_out *o, out_event ev, const void *arg)
{
    if (ev == OUT_EV_TIMEOUT) {
        if (o->state == OUT_READY) {
            out_finish(o, "idle", "idle");
            return;
        }
        if (o->conn && record_outcome(o->rec)->refused_by == REPORT_BY_NONE)
            record_outcome(o->rec)->refused_by = REPORT_BY_NETWORK;
        s2s_out__fail(o, "remote-server-timeout", "stream not established in time");
        return;
    }
    if (ev == OUT_EV_CLOSED) {
        char why[420];
        closed_why(o, arg, why, sizeof why);
        o->conn = NULL;
        o->rec = NULL;
        if (o->state == OUT_CONNECTING) {
            /* we closed it (connect failed): last_error has the detail */
            o->addr_i++;
            s2s_out__dial_next_address(o);
        } else if (o->state != OUT_READY) {
            s2s_out__fail(o, "remote-server-not-found", why); /* logs out-fail */
        } else {
            out_finish(o, "remote-server-not-found", arg);
        }
        return;
    }
    if (ev == OUT_EV_ELEMENT && o->state >= OUT_FEATURES &&
        common_element(o, (xmlNodePtr)arg))
        return;
    switch (o->state) {
    case OUT_CONNECTING:
        if (ev == OUT_EV_CONNECTED) {
            int status = *(const int *)arg;
            if (status < 0) {
                record_outcome(o->rec)->refused_by = REPORT_BY_NETWORK;
                s2s_out__dial_connect_failed(o, uv_strerror(status));
                return; /* OUT_EV_CLOSED moves on */
            }
            o->srv->stats.streams_out++;
            const dns_target *t = dns_target_list_current(&o->targets);
            conn_log(o->conn, RS_LOG_INFO, "connect", "target=%s:%u",
                     t ? t->host : "?", t ? t->port : 0);
            conn_set_timeout(o->conn, 0);
            conn_send_header(o->conn, o->local, o->remote, NULL);
            o->state = OUT_HEADER;
            return;
        }
        break;
    case OUT_HEADER:
        if (ev == OUT_EV_HEADER) {
            const xmlstream_header *h = arg;
            o->heard_peer = true;
            s2s_out__reached(o, S2S_OUT_REACHED);
            record_set_public_close(o->rec, NULL);
            snprintf(o->peer_stream_id, sizeof o->peer_stream_id, "%s", h->id);
            o->state = OUT_FEATURES;
            return;
        }
        break;
    case OUT_FEATURES:
        if (ev == OUT_EV_ELEMENT) {
            s2s_out_on_features(o, (xmlNodePtr)arg);
            return;
        }
        break;
    case OUT_STARTTLS:
        if (ev == OUT_EV_ELEMENT && stanza_is((xmlNodePtr)arg, NS_TLS, "proceed")) {
            conn_restart_stream(o->conn);
            o->state = OUT_TLS;
            if (conn_starttls(o->conn, o->dom, o->remote) < 0)
                s2s_out__fail(o, "internal-server-error", "cannot set up TLS");
            return;
        }
        if (ev == OUT_EV_ELEMENT) {
            s2s_out__fail(o, "remote-server-not-found", "remote refused STARTTLS");
            return;
        }
        break;
    case OUT_TLS:
        if (ev == OUT_EV_TLS_OK) {
            s2s_out_on_tls_ok(o);
            return;
        }
        if (ev == OUT_EV_TLS_FAIL) {
            char why[300];
            snprintf(why, sizeof why, "TLS handshake failed: %s", (const char *)arg);
            s2s_out__log(o, RS_LOG_INFO, "tls-fail", "presented=%s reason=\"%s\"",
                    o->local, (const char *)arg);
            s2s_out__fail(o, "remote-server-not-found", why);
            return;
        }
        break;
    case OUT_SASL:
        if (ev == OUT_EV_ELEMENT) {
            sasl_outcome(o, (xmlNodePtr)arg);
            return;
        }
        break;
    case OUT_DIALBACK:
        if (ev == OUT_EV_ELEMENT && stanza_is((xmlNodePtr)arg, NS_DIALBACK, "result")) {
            dialback_outcome(o, (xmlNodePtr)arg);
            return;
        }
        break;
    case OUT_VERIFY_ONLY: /* db:verify answers go through common_element */
    case OUT_READY:
        if (ev == OUT_EV_ELEMENT) {
            s2s_out__log(o, RS_LOG_DEBUG, "ignored", "element on our outbound stream");
            return;
        }
        break;
    default:
        break;
    }
    s2s_out__fail(o, "remote-server-not-found", "unexpected in this state of the stream");
}

/* One event: the transition, then the record learns the step it led to. */
static void out_step(rs_s2s_out *o, out_event ev, const void *arg)
{
    out_transition(o, ev, arg);
    if (o->rec)
        record_set_step(o->rec, s2s_out_step_of(o));
}

/* ---- conn events ------------------------------------------------------------------- */

static void s2s_out_on_connected(rs_conn *c, int status)
{
    if (c->owner)
        out_step(c->owner, OUT_EV_CONNECTED, &status);
}

static void s2s_out_on_header(rs_conn *c, const xmlstream_header *h)
{
    if (c->owner)
        out_step(c->owner, OUT_EV_HEADER, h);
}

static void s2s_out_on_element(rs_conn *c, xmlNodePtr el)
{
    if (c->owner)
        out_step(c->owner, OUT_EV_ELEMENT, el);
}

static void s2s_out_on_tls_done(rs_conn *c, bool ok, const char *why)
{
    if (c->owner)
        out_step(c->owner, ok ? OUT_EV_TLS_OK : OUT_EV_TLS_FAIL, why);
}

static void s2s_out_on_conn_timeout(rs_conn *c)
{
    if (c->owner)
        out_step(c->owner, OUT_EV_TIMEOUT, NULL);
}

static void s2s_out_on_closed(rs_conn *c, const char *why)
{
    rs_s2s_out *o = c->owner;
    if (o && c->stalled) /* the peer did not read our replies: its streams
                            asking for more are cut off too */
        s2s_out__event_flow(o, true);
    if (o)
        out_step(o, OUT_EV_CLOSED, why);
}

static void s2s_out_on_drained(rs_conn *c)
{
    rs_s2s_out *o = c->owner;
    if (o)
        s2s_out__event_flow(o, false);
}

static const conn_handler out_handler;

rs_conn *s2s_out__conn_new(rs_s2s_out *o)
{
    rs_conn *c = conn_new(o->srv, CONN_OUT, &out_handler, o);
    if (c && !(o->rec = record_attach(c))) {
        conn_detach(c); /* closes on its own, unreported */
        conn_abort(c, "out of memory");
        return NULL;
    }
    if (c) /* until the remote speaks, how it failed is not shown */
        record_set_public_close(o->rec, S2S_OUT_FAILED_PUBLIC);
    return c;
}

static const conn_handler out_handler = {
    .connected = s2s_out_on_connected,
    .header = s2s_out_on_header,
    .element = s2s_out_on_element,
    .tls_done = s2s_out_on_tls_done,
    .timeout = s2s_out_on_conn_timeout,
    .drained = s2s_out_on_drained,
    .closed = s2s_out_on_closed,
};

static void s2s_out_on_deadline(uv_timer_t *t)
{
    rs_s2s_out *o = t->data;
    out_step(o, OUT_EV_TIMEOUT, NULL);
}

rs_s2s_out *s2s_out_find(rs_daemon *srv, const char *local, const char *remote)
{
    for (rs_s2s_out *o = srv->outs; o; o = o->next)
        if (strcasecmp(o->local, local) == 0 && strcasecmp(o->remote, remote) == 0)
            return o;
    return NULL;
}

rs_s2s_out *s2s_out_get(rs_daemon *srv, const char *local, const char *remote)
{
    rs_s2s_out *found = s2s_out_find(srv, local, remote);
    if (found)
        return found;
    const rs_domain *dom = domains_find(srv->domains, local);
    if (!dom || srv->stopping)
        return NULL;
    if (!admission_outbound(srv)) {
        log_msg(RS_LOG_WARN, "s2s-out local=%s remote=%s event=refused too many "
               "streams", local, remote);
        return NULL;
    }
    rs_s2s_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->srv = srv;
    o->domains = domains_ref(srv->domains);
    o->dom = dom;
    snprintf(o->local, sizeof o->local, "%s", dom->name);
    snprintf(o->remote, sizeof o->remote, "%s", remote);
    o->queue_tail = &o->queue;
    o->state = OUT_RESOLVE;
    uv_timer_init(srv->loop, &o->timer);
    o->timer.data = o;
    uv_timer_start(&o->timer, s2s_out_on_deadline,
                   (uint64_t)srv->cfg->limits.connect_timeout * 1000, 0);
    o->next = srv->outs;
    srv->outs = o;
    srv->n_outs++;
    s2s_out__dial_start(o);
    return o;
}

bool s2s_out_congested(rs_daemon *srv, const char *local, const char *remote)
{
    for (rs_s2s_out *o = srv->outs; o; o = o->next)
        if (strcasecmp(o->local, local) == 0 && strcasecmp(o->remote, remote) == 0)
            return o->conn && o->conn->send_full;
    return false;
}

void s2s_out_set_events(rs_daemon *srv, const s2s_out_events *ev, void *ud)
{
    srv->out_events = ev;
    srv->out_events_ud = ud;
}

void s2s_out_close_all(rs_daemon *srv)
{
    while (srv->outs)
        out_finish(srv->outs, "system-shutdown", "shutting down");
}

void s2s_out_visit(rs_daemon *srv, daemon_stream_visitor fn, void *arg)
{
    for (rs_s2s_out *o = srv->outs; o; o = o->next)
        fn(arg, "out", s2s_out_state_name(o->state));
}
