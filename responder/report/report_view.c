/* report_view.c -- what the outcomes mean: one cell per test domain with a
 * verdict against the catalog and an explanation for the operator, and the
 * same as JSON and as a chat-sized text. */
#include "report_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"

const char *report_seen_name(report_seen seen)
{
    static const char *const names[] = {"nothing seen", "accepted", "refused",
                                        "seen, no verdict"};
    return names[seen];
}

const char *report_verdict_name(report_verdict v)
{
    static const char *const names[] = {"ok", "advisory", "wrong", "unknown"};
    return names[v];
}

/* The peer's reason for a refusal, most specific first. */
static const char *refusal_text(const report_outcome *o)
{
    if (o->alert[0])
        return o->alert;
    if (o->leg == REPORT_LEG_OUT && o->auth == REPORT_AUTH_FAILED && o->auth_error[0])
        return o->auth_error;
    if (o->error_in[0])
        return o->error_in;
    return o->close[0] ? o->close : "closed";
}

/* Why a leg ended unauthenticated, in the words of whoever ended it. */
static const char *report_view_failure_text(const report_outcome *o)
{
    if (o->refused_by == REPORT_BY_PEER)
        return refusal_text(o);
    if (o->refused_by == REPORT_BY_US && o->auth_error[0])
        return o->auth_error;
    return o->close;
}

void report_outcome_brief(const report_outcome *o, char *out, size_t n)
{
    static const char *const who[] = {"", "refused by the peer", "refused by us",
                                      "failed"};
    out[0] = '\0';
    if (!o)
        return;
    buf_strcatf(out, n, "%s", o->tls[0] ? o->tls : "no TLS");
    if (o->auth_used[0])
        buf_strcatf(out, n, "; %s %s", o->auth_used,
            o->auth == REPORT_AUTH_OK ? "ok" : "failed");
    if (o->refused_by != REPORT_BY_NONE)
        buf_strcatf(out, n, "; %s%s%s: %s", who[o->refused_by],
            o->step ? " at " : "", report_step_words(o->step), report_view_failure_text(o));
    else if (o->stanza[0])
        buf_strcatf(out, n, "; %s", o->stanza);
}

/* ---- cells ------------------------------------------------------------- */

/* One leg's story, for the explanation. */
static void explain_leg(const report_outcome *o, char *out, size_t n)
{
    if (o->leg == REPORT_LEG_IN) {
        buf_strcatf(out, n, "Your server dialled %s", o->local);
        if (o->tls[0])
            buf_strcatf(out, n, " (%s, we presented the certificate of %s)", o->tls,
                o->presented[0] ? o->presented : o->local);
        else
            buf_strcatf(out, n, " (no TLS)");
    } else {
        buf_strcatf(out, n, "We dialled you from %s", o->local);
        if (o->tls[0])
            buf_strcatf(out, n, " (%s, our client certificate: %s)", o->tls,
                o->presented[0] ? o->presented : "none");
        else
            buf_strcatf(out, n, " (no TLS)");
    }
    static const char *const who[] = {"", " and your server refused",
                                      " and we refused your server",
                                      " but the stream failed"};
    bool silent = o->refused_by == REPORT_BY_PEER && !o->alert[0] &&
                  !o->error_in[0] && o->auth != REPORT_AUTH_FAILED;
    if (silent && !o->tls[0] && o->presented[0]) { /* mid-handshake */
        buf_strcatf(out, n, " and your server closed the TLS handshake after receiving "
                    "our certificate (no alert; its log should say why). ");
        return;
    }
    if (silent && o->leg == REPORT_LEG_OUT && o->step == REPORT_STEP_TLS) {
        buf_strcatf(out, n, " and your server ended the connection right after the TLS "
                    "handshake, before its stream header: how a TLS 1.3 server "
                    "refuses a client certificate (%s; its log should say why). ",
            o->close);
        return;
    }
    if (silent) { /* a bare hang-up: its own log has the reason */
        buf_strcatf(out, n, " and your server closed the %s without saying why "
                    "(%s; its log should say). ",
            o->tls[0] ? "stream after the TLS handshake" : "stream", o->close);
        return;
    }
    if (o->refused_by == REPORT_BY_US && o->leg == REPORT_LEG_OUT) {
        buf_strcatf(out, n, " and this profile's rule stopped us at %s: %s. ",
            o->step ? report_step_words(o->step) : "authentication", report_view_failure_text(o));
        return;
    }
    if (o->refused_by != REPORT_BY_NONE) {
        buf_strcatf(out, n, "%s%s%s: %s. ", who[o->refused_by], o->step ? " at " : "",
            report_step_words(o->step), report_view_failure_text(o));
        return;
    }
    if (o->auth == REPORT_AUTH_OK) {
        buf_strcatf(out, n, o->leg == REPORT_LEG_IN ? " and your server authenticated "
                    "with %s" : " and your server accepted our %s",
            o->auth_used[0] ? o->auth_used : "authentication");
        if (o->auth_error[0]) /* e.g. dialback after a SASL EXTERNAL refusal */
            buf_strcatf(out, n, " (after %s)", o->auth_error);
    } else
        buf_strcatf(out, n, " and the stream ended before authentication");
    if (o->stanza[0])
        buf_strcatf(out, n, "; %s", o->stanza);
    buf_strcatf(out, n, ". ");
}

/* What the peer did, from the latest legs: any refusal by the peer counts,
 * since either leg failing loses the conversation. Legs that failed on the
 * network say nothing about the profile; a leg we refused (by the profile's
 * rule) leaves the test unfinished, so the other leg alone cannot make it
 * an acceptance: le-tlsserver against a server without SASL EXTERNAL never
 * shows whether it takes the certificate as a client's. */
static report_seen report_view_seen_of(const report_outcome *in, const report_outcome *out)
{
    const report_outcome *legs[] = {in, out};
    bool accepted = false, ours = false;
    for (size_t i = 0; i < 2; i++) {
        if (!legs[i])
            continue;
        if (legs[i]->refused_by == REPORT_BY_PEER)
            return REPORT_SEEN_REFUSE;
        accepted |= legs[i]->auth == REPORT_AUTH_OK;
        ours |= legs[i]->refused_by == REPORT_BY_US;
    }
    if (accepted && !ours)
        return REPORT_SEEN_ACCEPT;
    return in || out ? REPORT_SEEN_UNDECIDED : REPORT_SEEN_NOTHING;
}

static void report_view_fill_cell(const rs_report *r, const char *remote,
                                  const config_domain *d, report_cell *c)
{
    const catalog_profile *p = d->profile;
    memset(c, 0, sizeof *c);
    c->domain = d;
    c->in = report__latest(r, remote, d->name, REPORT_LEG_IN);
    c->out = report__latest(r, remote, d->name, REPORT_LEG_OUT);
    c->seen = report_view_seen_of(c->in, c->out);
    char *e = c->explanation;
    size_t n = sizeof c->explanation;
    const char *should = p->strict == CATALOG_EXPECT_ACCEPT ? "accept" : "refuse";
    if (c->seen == REPORT_SEEN_NOTHING || c->seen == REPORT_SEEN_UNDECIDED) {
        c->verdict = REPORT_VERDICT_UNKNOWN;
        if (c->in)
            explain_leg(c->in, e, n);
        if (c->out)
            explain_leg(c->out, e, n);
        bool ours = (c->in && c->in->refused_by == REPORT_BY_US) ||
                    (c->out && c->out->refused_by == REPORT_BY_US);
        if (ours)
            buf_strcatf(e, n, "No verdict: our refusal is this profile's rule, so the test "
                      "did not get to what it checks. ");
        else
            buf_strcatf(e, n, "%s: ping %s or write to echo@%s. ",
                c->in || c->out ? "No verdict from that" : "Nothing seen yet",
                d->name, d->name);
        if (p->kind == CATALOG_KIND_DNS && p->strict == CATALOG_EXPECT_REFUSE)
            buf_strcatf(e, n, "A server that cannot find a way to %s never "
                      "connects, so silence after a ping is correct here. ",
                d->name);
        buf_strcatf(e, n, "A strict server should %s it: %s.", should, p->strict_why);
        return;
    }
    if (c->in)
        explain_leg(c->in, e, n);
    if (c->out)
        explain_leg(c->out, e, n);
    if (d->cert_mismatch) { /* not the test the row describes */
        c->verdict = REPORT_VERDICT_UNKNOWN;
        buf_strcatf(e, n, "No verdict: the certificate this domain presents differs "
                          "from its row (%s), so this is not the test the row "
                          "describes.", d->cert_mismatch);
        return;
    }
    bool as_strict = (c->seen == REPORT_SEEN_ACCEPT) == (p->strict == CATALOG_EXPECT_ACCEPT);
    if (as_strict) {
        c->verdict = REPORT_VERDICT_OK;
        buf_strcatf(e, n, "Correct: a strict server should %s it (%s).", should,
            p->strict_why);
    } else if (p->advisory) {
        c->verdict = REPORT_VERDICT_ADVISORY;
        buf_strcatf(e, n, "Advisory: the strictest reading is to %s it (%s); the "
                  "specs leave room here.", should, p->strict_why);
    } else {
        c->verdict = REPORT_VERDICT_WRONG;
        buf_strcatf(e, n, "Wrong: a strict server should %s it: %s.", should,
            p->strict_why);
    }
}

void report_matrix(const rs_report *r, const char *remote,
                   const rs_config *cfg, report_cell *cells)
{
    for (size_t i = 0; i < cfg->n_domains; i++)
        report_view_fill_cell(r, remote, &cfg->domains[i], &cells[i]);
}

void report_summarize(const report_cell *cells, size_t n, report_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        switch (cells[i].verdict) {
        case REPORT_VERDICT_OK: s->ok++; break;
        case REPORT_VERDICT_ADVISORY: s->advisory++; break;
        case REPORT_VERDICT_WRONG: s->wrong++; break;
        case REPORT_VERDICT_UNKNOWN: s->unknown++; break;
        }
    }
}

/* ---- JSON and text ----------------------------------------------------- */

static void leg_json(rs_json *j, const char *key, const report_outcome *o)
{
    json_key(j, key);
    if (!o) {
        json_null(j);
        return;
    }
    report_outcome_json(j, o);
}

void report_matrix_json(rs_json *j, const rs_report *r, const char *remote,
                        const rs_config *cfg)
{
    report_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    if (!cells) {
        j->failed = true;
        return;
    }
    report_matrix(r, remote, cfg, cells);
    report_summary s;
    report_summarize(cells, cfg->n_domains, &s);
    json_obj_begin(j);
    json_kv_str(j, "remote", remote);
    json_kv_bool(j, "known", report_has_peer(r, remote));
    json_kv_bool(j, "trusted", report_has_trusted(r, remote));
    json_key(j, "summary");
    json_obj_begin(j);
    json_kv_int(j, "ok", s.ok);
    json_kv_int(j, "advisory", s.advisory);
    json_kv_int(j, "wrong", s.wrong);
    json_kv_int(j, "unknown", s.unknown);
    json_obj_end(j);
    json_key(j, "domains");
    json_arr_begin(j);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const report_cell *c = &cells[i];
        const catalog_profile *p = c->domain->profile;
        json_obj_begin(j);
        json_kv_str(j, "domain", c->domain->name);
        json_kv_str(j, "profile", p->label);
        json_kv_str(j, "kind", catalog_kind_name(p->kind));
        json_kv_str(j, "breaks", p->breaks);
        json_kv_str(j, "strict", catalog_expect_name(p->strict));
        json_kv_bool(j, "advisory", p->advisory);
        json_kv_str(j, "seen", report_seen_name(c->seen));
        json_kv_str(j, "verdict", report_verdict_name(c->verdict));
        json_kv_str(j, "explanation", c->explanation);
        leg_json(j, "in", c->in);
        leg_json(j, "out", c->out);
        json_obj_end(j);
    }
    json_arr_end(j);
    free(cells);
    report_presented_json(j, r, remote);
    const report_outcome *hist[64];
    size_t n = report_history(r, remote, hist, sizeof hist / sizeof hist[0]);
    json_key(j, "history");
    json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        report_outcome_json(j, hist[i]);
    json_arr_end(j);
    json_obj_end(j);
}

char *report_matrix_text(const rs_report *r, const char *remote,
                         const rs_config *cfg)
{
    report_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    size_t cap = 256 + cfg->n_domains * 400;
    char *out = malloc(cap);
    if (!cells || !out) {
        free(cells);
        free(out);
        return NULL;
    }
    out[0] = '\0';
    report_matrix(r, remote, cfg, cells);
    report_summary s;
    report_summarize(cells, cfg->n_domains, &s);
    buf_strcatf(out, cap, "Report for %s: %u ok, %u advisory, %u wrong, %u not seen yet.\n",
        remote, s.ok, s.advisory, s.wrong, s.unknown);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const report_cell *c = &cells[i];
        const catalog_profile *p = c->domain->profile;
        char brief[300] = "";
        const report_outcome *o = c->in;
        if (c->out && (!o || c->out->refused_by == REPORT_BY_PEER))
            o = c->out;
        report_outcome_brief(o, brief, sizeof brief);
        buf_strcatf(out, cap, "[%s] %s: %s (strict: %s)%s%s\n",
            report_verdict_name(c->verdict), p->label, report_seen_name(c->seen),
            catalog_expect_name(p->strict), brief[0] ? " - " : "", brief);
    }
    free(cells);
    return out;
}
