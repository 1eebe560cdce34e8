/* s2s_in.c -- the inbound server-to-server stream: one state enum and one
 * transition function (in_step). */
#include "s2s_in.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "conn.h"
#include "record.h"
#include "dialback.h"
#include "jid.h"
#include "router.h"
#include "s2s_out.h"
#include "sasl.h"
#include "stanza.h"
#include "verify.h"

#define MAX_PAIRS 16   /* dialback-authenticated domain pairs per stream */
#define MAX_PENDING 8  /* dialback verifications in flight per stream */

typedef enum {
    IN_HEADER,      /* waiting for the peer's first stream header */
    IN_STARTTLS,    /* offered STARTTLS (required); waiting for <starttls/> */
    IN_TLS,         /* TLS handshake running */
    IN_HEADER_TLS,  /* waiting for the header that restarts the stream in TLS */
    IN_AUTH,        /* offered SASL EXTERNAL and/or dialback */
    IN_HEADER_SASL, /* SASL succeeded; waiting for the restart header */
    IN_READY        /* authenticated: stanzas are accepted */
} in_state;

typedef enum {
    IN_EV_HEADER,   /* arg: const xmlstream_header * */
    IN_EV_ELEMENT,  /* arg: xmlNodePtr */
    IN_EV_TLS_OK,   /* arg: NULL */
    IN_EV_TLS_FAIL, /* arg: const char *why */
    IN_EV_TIMEOUT   /* arg: NULL */
} in_event;

/* A (our domain, their domain) pair. */
typedef struct in_pair {
    char local[256];
    char remote[256];
} in_pair;

typedef struct s2s_in {
    rs_conn *conn;
    rs_record *rec;               /* its outcome record (record.h) */
    in_state state;
    const rs_domain *dom;         /* the test domain this stream is for */
    char stream_id[DIALBACK_STREAM_ID]; /* our id for the current stream */
    char peer_from[256];          /* 'from' of the peer's header */
    rs_peer_verdict cert;         /* their certificate, checked for peer_from */
    bool external_offered;        /* we offered SASL EXTERNAL */
    bool direct_tls;              /* came in on the XEP-0368 port */
    char sasl_remote[256];        /* authenticated by SASL, else "" */
    in_pair pairs[MAX_PAIRS];     /* authenticated by dialback */
    size_t n_pairs;
    in_pair pending[MAX_PENDING]; /* dialback verifications in flight */
    size_t n_pending;
    char replies_to[256];         /* reading paused until our stream to
                                     this domain drains (CONN_PAUSE_REPLIES) */
} s2s_in;

static const char *const state_names[] = {"header", "starttls", "tls", "header-tls",
                                  "auth", "header-sasl", "ready"};

static const char *state_name(in_state st)
{
    return state_names[st];
}

const char *const *s2s_in_state_names(size_t *n)
{
    *n = sizeof state_names / sizeof state_names[0];
    return state_names;
}

static void in_step(s2s_in *s, in_event ev, const void *arg);

/* ---- sending helpers ------------------------------------------------------ */

/* Formatted output of any length (peer-supplied ids can be long). */
#define send_fmt(s, ...) conn_send_fmt((s)->conn, __VA_ARGS__)

/* An escaped copy of a peer-supplied value, for our replies. */
static char *esc(const char *v)
{
    char *e = xmlstream_escape(v ? v : "");
    return e ? e : strdup("");
}

/* ---- authorisation state -------------------------------------------------- */

static bool pair_listed(const in_pair *list, size_t n, const char *local,
                        const char *remote)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i].local, local) == 0 &&
            strcasecmp(list[i].remote, remote) == 0)
            return true;
    return false;
}

static bool authorised(const s2s_in *s, const char *local, const char *remote)
{
    if (s->sasl_remote[0])
        return strcasecmp(s->sasl_remote, remote) == 0 &&
               strcasecmp(s->dom->name, local) == 0;
    return pair_listed(s->pairs, s->n_pairs, local, remote);
}

static void become_ready(s2s_in *s)
{
    s->state = IN_READY;
    conn_set_timeout(s->conn, s->conn->srv->cfg->limits.idle_timeout);
}

/* ---- stream header ------------------------------------------------------- */

static void send_auth_features(s2s_in *s)
{
    unsigned allowed = s->dom->profile->policy.auth_in;
    bool tls = s->conn->tls_state == CONN_TLS_ACTIVE;
    s->external_offered = (allowed & CATALOG_AUTH_EXTERNAL) && tls &&
                          s->peer_from[0] &&
                          verify_peer(tls_session(s->conn->tls), s->conn->domains->trust,
                                         s->peer_from, &s->cert);
    report_outcome *r = record_outcome(s->rec);
    snprintf(r->auth_offered, sizeof r->auth_offered, "%s%s%s",
             s->external_offered ? "EXTERNAL" : "",
             s->external_offered && (allowed & CATALOG_AUTH_DIALBACK) ? " " : "",
             allowed & CATALOG_AUTH_DIALBACK ? "dialback" : "");
    if (tls && s->peer_from[0])
        snprintf(r->peer_cert, sizeof r->peer_cert, "%s",
                 s->external_offered ? "valid"
                 : s->cert.reason[0] ? s->cert.reason : "not checked");
    if (tls && s->peer_from[0])
        conn_log(s->conn, RS_LOG_INFO, "peer-cert", "%s eku=%s%s%s",
                 s->external_offered || !s->cert.reason[0] ? "valid" : "invalid",
                 s->cert.eku[0] ? s->cert.eku : "-",
                 s->cert.reason[0] ? " reason=" : "", s->cert.reason);
    send_fmt(s, "<stream:features>%s%s</stream:features>",
             s->external_offered
                 ? "<mechanisms xmlns='" NS_SASL "'><mechanism>EXTERNAL"
                   "</mechanism></mechanisms>"
                 : "",
             (allowed & CATALOG_AUTH_DIALBACK)
                 ? "<dialback xmlns='" NS_DIALBACK_FEATURE "'><errors/></dialback>"
                 : "");
    s->state = IN_AUTH;
}

/* Direct TLS: what to present before SNI names a domain (a peer without SNI
 * gets the direct-TLS profile's certificate, the one it came for). */
static const rs_domain *direct_tls_default(const rs_domains *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].profile->policy.starttls == CATALOG_TLS_DIRECT_ONLY)
            return &d->items[i];
    return d->n ? &d->items[0] : NULL;
}

/* RFC 6120 4.3.3: a restart continues the stream, so its header names what
 * the stream was opened for; otherwise a SASL result or a TLS session would
 * move to another test domain and skip that domain's policy (certificate, TLS
 * versions, auth methods). False after sending the stream error. */
static bool restart_allowed(s2s_in *s, const xmlstream_header *h, const rs_domain *dom)
{
    rs_conn *c = s->conn;
    char text[1200];
    /* after SASL, 'from' is the authenticated identity (4.7.1, 4.9.3.9) */
    bool sasl = s->state == IN_HEADER_SASL;
    const char *claimed = sasl ? s->sasl_remote : s->peer_from;
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

static void in_open(s2s_in *s, const xmlstream_header *h)
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
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (dom->profile->policy.starttls == CATALOG_TLS_DIRECT_ONLY && !s->direct_tls) {
        char text[1200];
        snprintf(text, sizeof text, "'%s' is served by direct TLS (XEP-0368, "
                 "_xmpps-server SRV) only", h->to);
        conn_stream_error(c, "host-unknown", text);
        return;
    }
    if (h->from[0] && !jid_domain_valid(h->from)) {
        conn_stream_error(c, "invalid-from", "'from' is not a domain");
        return;
    }
    if (s->state != IN_HEADER && !restart_allowed(s, h, dom))
        return;
    s->dom = dom;
    if (s->state != IN_HEADER_SASL || h->from[0]) /* else: the SASL identity */
        snprintf(s->peer_from, sizeof s->peer_from, "%.255s", h->from);
    conn_set_names(c, dom->name, s->peer_from[0] ? s->peer_from : "-");
    if (dialback_stream_id(s->stream_id) < 0) {
        conn_stream_error(c, "internal-server-error", "no randomness");
        return;
    }
    conn_send_header(c, dom->name, h->from[0] ? h->from : NULL, s->stream_id);
    conn_log(c, RS_LOG_DEBUG, "header", "state=%s id=%s", state_name(s->state),
             s->stream_id);

    switch (s->state) {
    case IN_HEADER:
        if (dom->profile->policy.starttls == CATALOG_TLS_REQUIRED) {
            send_fmt(s, "<stream:features><starttls xmlns='" NS_TLS
                        "'><required/></starttls></stream:features>");
            s->state = IN_STARTTLS;
        } else {
            send_auth_features(s);
        }
        break;
    case IN_HEADER_TLS:
        send_auth_features(s);
        break;
    case IN_HEADER_SASL:
        send_fmt(s, "<stream:features/>");
        become_ready(s);
        break;
    default:
        break;
    }
}

/* ---- STARTTLS ------------------------------------------------------------ */

static void in_starttls(s2s_in *s, xmlNodePtr el)
{
    if (!stanza_is(el, NS_TLS, "starttls")) {
        conn_stream_error(s->conn, "policy-violation",
                          "STARTTLS is required before anything else");
        return;
    }
    send_fmt(s, "<proceed xmlns='" NS_TLS "'/>");
    conn_restart_stream(s->conn);
    s->state = IN_TLS;
    if (conn_starttls(s->conn, s->dom, NULL) < 0)
        conn_close(s->conn, "cannot set up TLS");
}

static void in_tls_done(s2s_in *s, bool ok, const char *why)
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

/* How the peer's authentication went, for the report; a refusal is ours. */
static void outcome_auth(s2s_in *s, const char *method, report_auth result,
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
        return;
    }
    snprintf(r->auth_error, sizeof r->auth_error, "%s: %s", condition, text);
    r->refused_by = REPORT_BY_US;
}

static void sasl_fail(s2s_in *s, const char *condition, const char *text)
{
    char *t = esc(text);
    send_fmt(s, "<failure xmlns='" NS_SASL "'><%s/><text>%s</text></failure>",
             condition, t);
    free(t);
    s->conn->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_FAILED]++;
    outcome_auth(s, "EXTERNAL", REPORT_AUTH_FAILED, condition, text);
    conn_log(s->conn, RS_LOG_INFO, "auth-fail",
             "method=EXTERNAL condition=%s reason=\"%s\"", condition, text);
}

static void in_sasl_auth(s2s_in *s, xmlNodePtr el)
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
    const char *identity = authzid[0] ? authzid : s->peer_from;
    if (strcasecmp(identity, s->peer_from) != 0) {
        sasl_fail(s, "invalid-authzid", "authzid differs from the stream's 'from'");
        return;
    }
    send_fmt(s, "<success xmlns='" NS_SASL "'/>");
    snprintf(s->sasl_remote, sizeof s->sasl_remote, "%s", identity);
    s->conn->srv->stats.auth[RS_AUTH_EXTERNAL][RS_AUTH_OK]++;
    outcome_auth(s, "EXTERNAL", REPORT_AUTH_OK, NULL, NULL);
    conn_log(s->conn, RS_LOG_INFO, "auth-ok", "method=EXTERNAL identity=%s eku=%s",
             identity, s->cert.eku);
    conn_restart_stream(s->conn);
    s->state = IN_HEADER_SASL;
}

/* ---- dialback ------------------------------------------------------------ */

static void db_result_error(s2s_in *s, const char *from, const char *to,
                            const char *condition, const char *text)
{
    char *f = esc(from), *t = esc(to), *x = esc(text);
    send_fmt(s, "<db:result from='%s' to='%s' type='error'><error type='cancel'>"
                "<%s xmlns='" NS_STANZAS "'/><text xmlns='" NS_STANZAS "'>%s"
                "</text></error></db:result>", t, f, condition, x);
    free(f);
    free(t);
    free(x);
    s->conn->srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_FAILED]++;
    outcome_auth(s, "dialback", REPORT_AUTH_FAILED, condition, text);
    conn_log(s->conn, RS_LOG_INFO, "auth-fail", "method=dialback local=%s "
             "remote=%s condition=%s reason=\"%s\"", to, from, condition, text);
}

/* XEP-0220 lets a peer add pairs for other domains of ours to a stream; each
 * local domain's test must still run as its own profile says, or a plaintext
 * stream to no-tls would authenticate a pair for valid. NULL when this stream
 * can carry dialback for local, else why not (written to why). */
static const char *dialback_refusal(const s2s_in *s, const rs_domain *local,
                                    char *why, size_t n)
{
    const rs_conn *c = s->conn;
    const catalog_stream_policy *p = &local->profile->policy;
    bool tls = c->tls_state == CONN_TLS_ACTIVE;
    const rs_domain *presented = tls_domain(c->tls);
    if (p->starttls == CATALOG_TLS_REQUIRED && !tls)
        snprintf(why, n, "this stream is plaintext; %s requires TLS: dial it "
                 "on a stream of its own", local->name);
    else if (p->starttls == CATALOG_TLS_NONE && tls)
        snprintf(why, n, "%s is a plaintext test; over this TLS stream (%s's "
                 "certificate) it tests nothing: dial it on a stream of its own",
                 local->name, presented ? presented->name : "no");
    else if (p->starttls == CATALOG_TLS_DIRECT_ONLY && !s->direct_tls)
        snprintf(why, n, "%s is served by direct TLS only; this stream did not "
                 "come on the direct TLS port", local->name);
    else if (tls && presented != local)
        snprintf(why, n, "this stream presented %s's certificate; %s's test "
                 "needs its own stream", presented ? presented->name : "no",
                 local->name);
    else
        return NULL;
    return why;
}

/* The peer asks to be authenticated as 'from' for our domain 'to'. */
/* Whether name is the base domain or under it: one of our own names,
 * whose authoritative server we are. */
static bool name_is_ours(const rs_daemon *srv, const char *name)
{
    const char *base = srv->cfg->base_domain;
    size_t n = strlen(name), b = strlen(base);
    return strcasecmp(name, base) == 0 ||
           (n > b && name[n - b - 1] == '.' && strcasecmp(name + n - b, base) == 0);
}

static void in_db_result(s2s_in *s, xmlNodePtr el)
{
    const char *from = stanza_attr(el, "from"), *to = stanza_attr(el, "to");
    const rs_domain *local = domains_find(s->conn->domains, to);
    if (!jid_domain_valid(from)) {
        conn_stream_error(s->conn, "invalid-from", "dialback 'from' is not a domain");
        return;
    }
    if (!local) {
        db_result_error(s, from, to, "item-not-found", "not a domain of ours");
        return;
    }
    if (!(local->profile->policy.auth_in & CATALOG_AUTH_DIALBACK)) {
        db_result_error(s, from, to, "not-authorized",
                        "this test domain does not accept dialback");
        return;
    }
    if (name_is_ours(s->conn->srv, from)) {
        /* we never dial ourselves on a stranger's word: the claim is forged
         * and the dial would only reflect traffic back at us */
        db_result_error(s, from, to, "not-authorized",
                        "that name is this responder's own");
        return;
    }
    char why[700];
    if (dialback_refusal(s, local, why, sizeof why)) {
        db_result_error(s, from, to, "policy-violation", why);
        return;
    }
    if (s->n_pending == MAX_PENDING) {
        db_result_error(s, from, to, "resource-constraint",
                        "too many verifications in flight");
        return;
    }
    if (!router_verify_dial_allowed(s->conn->srv, local->name, from)) {
        db_result_error(s, from, to, "resource-constraint",
                        "too many dialback verifications; try again later");
        return;
    }
    char *key = stanza_text(el);
    if (!key) {
        conn_close(s->conn, "out of memory");
        return;
    }
    in_pair *p = &s->pending[s->n_pending++];
    snprintf(p->local, sizeof p->local, "%s", local->name);
    snprintf(p->remote, sizeof p->remote, "%s", from);
    /* the stream's outcome names the domain it authenticated as: a later
     * claim on an authenticated stream must not take that name over */
    if (record_outcome(s->rec)->auth != REPORT_AUTH_OK)
        conn_set_names(s->conn, NULL, from);
    conn_log(s->conn, RS_LOG_INFO, "dialback", "verifying %s -> %s with its "
             "authoritative server", from, local->name);
    router_verify_dialback(s->conn->srv, local->name, from, s->stream_id, key,
                           s->conn->id);
    free(key);
}

/* The peer, as receiving server, asks whether we issued a key. */
static void in_db_verify(s2s_in *s, xmlNodePtr el)
{
    const char *from = stanza_attr(el, "from"), *to = stanza_attr(el, "to");
    const char *id = stanza_attr(el, "id");
    char *key = stanza_text(el);
    if (!key) {
        conn_close(s->conn, "out of memory");
        return;
    }
    bool ours = domains_find(s->conn->domains, to) != NULL;
    bool valid = ours && dialback_key_valid(s->conn->srv->db_secret, from, to, id, key);
    free(key);
    char *f = esc(from), *t = esc(to), *i = esc(id);
    send_fmt(s, "<db:verify from='%s' to='%s' id='%s' type='%s'/>", t, f, i,
             valid ? "valid" : "invalid");
    free(f);
    free(t);
    free(i);
    conn_log(s->conn, RS_LOG_INFO, "dialback", "answered verify %s -> %s: %s",
             to, from, valid ? "valid" : "invalid");
    /* a verification stream did what it came for: the peer accepted our
     * certificate far enough to ask, and the key we gave only to 'from''s
     * server proves who asks. A key we did not issue proves nothing. */
    report_outcome *r = record_outcome(s->rec);
    if (valid && jid_domain_valid(from) && r->auth == REPORT_AUTH_NONE) {
        if (!s->peer_from[0])
            conn_set_names(s->conn, NULL, from);
        snprintf(r->auth_used, sizeof r->auth_used, "db-verify");
        r->auth = REPORT_AUTH_OK;
        snprintf(r->stanza, sizeof r->stanza, "answered a dialback verification");
    }
}

void s2s_in_dialback_verdict(rs_daemon *srv, unsigned conn_id, const char *local,
                             const char *remote, bool valid, const char *why)
{
    rs_conn *c = srv->conns;
    while (c && (c->id != conn_id || c->dir != CONN_IN))
        c = c->next;
    if (!c || c->closing)
        return;
    s2s_in *s = c->owner;
    size_t i = 0;
    while (i < s->n_pending && !(strcasecmp(s->pending[i].local, local) == 0 &&
                                 strcasecmp(s->pending[i].remote, remote) == 0))
        i++;
    if (i == s->n_pending)
        return;
    s->pending[i] = s->pending[--s->n_pending];

    if (why && !valid) {
        /* one text for every way the dial can fail: no port-scan oracle */
        conn_log(c, RS_LOG_INFO, "verify-fail", "remote=%s reason=\"%s\"",
                 remote, why);
        db_result_error(s, remote, local, "remote-connection-failed",
                        S2S_OUT_FAILED_PUBLIC);
        return;
    }
    char *f = esc(remote), *t = esc(local);
    send_fmt(s, "<db:result from='%s' to='%s' type='%s'/>", t, f,
             valid ? "valid" : "invalid");
    free(f);
    free(t);
    if (!valid) {
        srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_FAILED]++;
        outcome_auth(s, "dialback", REPORT_AUTH_FAILED, "not-authorized",
                     "the authoritative server said the key is invalid");
        conn_log(c, RS_LOG_INFO, "auth-fail", "method=dialback remote=%s "
                 "reason=\"authoritative server said the key is invalid\"", remote);
        return;
    }
    if (s->n_pairs < MAX_PAIRS && !pair_listed(s->pairs, s->n_pairs, local, remote)) {
        in_pair *p = &s->pairs[s->n_pairs++];
        snprintf(p->local, sizeof p->local, "%s", local);
        snprintf(p->remote, sizeof p->remote, "%s", remote);
    }
    srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_OK]++;
    outcome_auth(s, "dialback", REPORT_AUTH_OK, NULL, NULL);
    conn_log(c, RS_LOG_INFO, "auth-ok", "method=dialback identity=%s for=%s",
             remote, local);
    if (s->state == IN_AUTH)
        become_ready(s);
}

/* ---- stanzas ---------------------------------------------------------------- */

static bool is_stanza(xmlNodePtr el)
{
    return stanza_is(el, NS_SERVER, "iq") || stanza_is(el, NS_SERVER, "message") ||
           stanza_is(el, NS_SERVER, "presence");
}

/* "received iq get ping": what the last stanza was, for the report. */
static void note_stanza(s2s_in *s, xmlNodePtr el)
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

static void in_stanza(s2s_in *s, xmlNodePtr el)
{
    rs_conn *c = s->conn;
    if (s->state != IN_READY) {
        conn_log(c, RS_LOG_WARN, "refused", "stanza before authentication "
                 "(claimed from=%s); not answered", stanza_attr(el, "from"));
        conn_stream_error(c, "not-authorized", "authenticate before sending stanzas");
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
        }
    }
    free(from);
    free(to);
}

static void in_element(s2s_in *s, xmlNodePtr el)
{
    if (stanza_is(el, NS_SASL, "auth") && s->state == IN_AUTH)
        in_sasl_auth(s, el);
    else if (stanza_is(el, NS_DIALBACK, "result") && !stanza_attr(el, "type")[0])
        in_db_result(s, el);
    else if (stanza_is(el, NS_DIALBACK, "verify") && !stanza_attr(el, "type")[0])
        in_db_verify(s, el);
    else if (is_stanza(el))
        in_stanza(s, el);
    else
        conn_stream_error(s->conn, "unsupported-stanza-type",
                          "unexpected element on this stream");
}

/* The peer gave up on the stream and says why: that is the operator's answer. */
static void in_peer_error(s2s_in *s, xmlNodePtr el)
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
    if (r->auth != REPORT_AUTH_OK)
        r->refused_by = REPORT_BY_PEER;
    s->conn->srv->stats.stream_errors_in++;
    conn_close(s->conn, why);
}

/* ---- the transition function ---------------------------------------------- */

static void in_step(s2s_in *s, in_event ev, const void *arg)
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

/* ---- conn events ----------------------------------------------------------- */

static void on_header(rs_conn *c, const xmlstream_header *h)
{
    in_step(c->owner, IN_EV_HEADER, h);
}

static void on_element(rs_conn *c, xmlNodePtr el)
{
    in_step(c->owner, IN_EV_ELEMENT, el);
}

static void on_tls_done(rs_conn *c, bool ok, const char *why)
{
    in_step(c->owner, ok ? IN_EV_TLS_OK : IN_EV_TLS_FAIL, why);
}

static void on_timeout(rs_conn *c)
{
    in_step(c->owner, IN_EV_TIMEOUT, NULL);
}

static void on_closed(rs_conn *c, const char *why)
{
    (void)why;
    free(c->owner);
}

static const rs_conn_handler in_handler = {
    .header = on_header,
    .element = on_element,
    .tls_done = on_tls_done,
    .timeout = on_timeout,
    .closed = on_closed,
};

void s2s_in_replies_flow(rs_daemon *srv, const char *remote, bool cut)
{
    for (rs_conn *c = srv->conns; c; c = c->next) {
        if (c->dir != CONN_IN || c->handler != &in_handler || c->closing ||
            !(c->read_paused & CONN_PAUSE_REPLIES))
            continue;
        s2s_in *s = c->owner;
        if (strcasecmp(s->replies_to, remote) != 0)
            continue;
        if (cut)
            conn_stream_error(c, "policy-violation", "your server does not "
                              "read the replies to what it sends");
        else
            conn_resume_reading(c, CONN_PAUSE_REPLIES);
    }
}

int s2s_in_accept(rs_daemon *srv, uv_stream_t *listener, bool direct_tls)
{
    s2s_in *s = calloc(1, sizeof *s);
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
    const rs_limits *lim = &srv->cfg->limits;
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
        const rs_domain *dom = direct_tls_default(c->domains);
        if (!dom || conn_starttls(c, dom, NULL) < 0)
            conn_close(c, "cannot set up TLS");
    }
    return 0;
}

void s2s_in_visit(rs_daemon *srv, rs_stream_visitor fn, void *arg)
{
    for (rs_conn *c = srv->conns; c; c = c->next)
        if (c->dir == CONN_IN && c->handler == &in_handler && c->owner)
            fn(arg, "in", state_name(((s2s_in *)c->owner)->state));
}
