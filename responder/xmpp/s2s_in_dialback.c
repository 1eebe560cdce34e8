/* s2s_in_dialback.c -- dialback (XEP-0220) on inbound streams: the peer's
 * db:result claims, the verification we ask of the claimed domain's
 * authoritative server (through the router) and its verdict, and the
 * db:verify requests we answer as an authoritative server ourselves. */
#include "s2s_in.h"
#include "s2s_in_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialback.h"
#include "jid.h"
#include "record.h"
#include "router.h"
#include "s2s_out.h"
#include "stanza.h"

static void db_result_error(rs_s2s_in *s, const char *from, const char *to,
                            const char *condition, const char *text)
{
    char *f = s2s_in__esc(from), *t = s2s_in__esc(to), *x = s2s_in__esc(text);
    s2s_in_send(s, "<db:result from='%s' to='%s' type='error'><error type='cancel'>"
                "<%s xmlns='" NS_STANZAS "'/><text xmlns='" NS_STANZAS "'>%s"
                "</text></error></db:result>", t, f, condition, x);
    free(f);
    free(t);
    free(x);
    s->conn->srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_FAILED]++;
    s2s_in__outcome_auth(s, "dialback", REPORT_AUTH_FAILED, condition, text);
    conn_log(s->conn, RS_LOG_INFO, "auth-fail", "method=dialback local=%s "
             "remote=%s condition=%s reason=\"%s\"", to, from, condition, text);
}

/* XEP-0220 lets a peer add pairs for other domains of ours to a stream; each
 * local domain's test must still run as its own profile says, or a plaintext
 * stream to no-tls would authenticate a pair for valid. NULL when this stream
 * can carry dialback for local, else why not (written to why). */
static const char *dialback_refusal(const rs_s2s_in *s, const rs_domain *local,
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

/* Whether name is the base domain or under it: one of our own names,
 * whose authoritative server we are. */
static bool name_is_ours(const rs_daemon *srv, const char *name)
{
    const char *base = srv->cfg->base_domain;
    size_t n = strlen(name), b = strlen(base);
    return strcasecmp(name, base) == 0 ||
           (n > b && name[n - b - 1] == '.' && strcasecmp(name + n - b, base) == 0);
}

/* The peer asks to be authenticated as 'from' for our domain 'to'. */
void s2s_in__db_result(rs_s2s_in *s, xmlNodePtr el)
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
    s2s_in_pair *p = s2s_in__pair_add(&s->pending, &s->n_pending);
    if (!p) {
        free(key);
        conn_close(s->conn, "out of memory");
        return;
    }
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
void s2s_in__db_verify(rs_s2s_in *s, xmlNodePtr el)
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
    char *f = s2s_in__esc(from), *t = s2s_in__esc(to), *i = s2s_in__esc(id);
    s2s_in_send(s, "<db:verify from='%s' to='%s' id='%s' type='%s'/>", t, f, i,
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
        if (!FROM(s)[0])
            conn_set_names(s->conn, NULL, from);
        snprintf(r->auth_used, sizeof r->auth_used, "db-verify");
        r->auth = REPORT_AUTH_OK;
        snprintf(r->stanza, sizeof r->stanza, "answered a dialback verification");
    }
}

void s2s_in_dialback_verdict(rs_daemon *srv, unsigned conn_id, const char *local,
                             const char *remote, bool valid, const char *why)
{
    rs_conn *c = conn_find(srv, conn_id);
    if (!c || c->dir != CONN_IN || c->closing)
        return;
    rs_s2s_in *s = c->owner;
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
    char *f = s2s_in__esc(remote), *t = s2s_in__esc(local);
    s2s_in_send(s, "<db:result from='%s' to='%s' type='%s'/>", t, f,
             valid ? "valid" : "invalid");
    free(f);
    free(t);
    if (!valid) {
        srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_FAILED]++;
        s2s_in__outcome_auth(s, "dialback", REPORT_AUTH_FAILED, "not-authorized",
                     "the authoritative server said the key is invalid");
        conn_log(c, RS_LOG_INFO, "auth-fail", "method=dialback remote=%s "
                 "reason=\"authoritative server said the key is invalid\"", remote);
        return;
    }
    if (s->n_pairs < MAX_PAIRS && !s2s_in__pair_listed(s->pairs, s->n_pairs, local, remote)) {
        s2s_in_pair *p = s2s_in__pair_add(&s->pairs, &s->n_pairs);
        if (!p) {
            conn_close(c, "out of memory");
            return;
        }
        snprintf(p->local, sizeof p->local, "%s", local);
        snprintf(p->remote, sizeof p->remote, "%s", remote);
    }
    srv->stats.auth[RS_AUTH_DIALBACK][RS_AUTH_OK]++;
    s2s_in__outcome_auth(s, "dialback", REPORT_AUTH_OK, NULL, NULL);
    conn_log(c, RS_LOG_INFO, "auth-ok", "method=dialback identity=%s for=%s",
             remote, local);
    if (s->state == IN_AUTH)
        s2s_in__become_ready(s);
}

