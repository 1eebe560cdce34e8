/* record.c -- a stream's outcome from its conn's events (see record.h). */
#include "record.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "evidence.h"
#include "tls.h"

struct rs_record {
    rs_conn *conn;        /* the stream recorded; valid until freed */
    report_outcome *o;    /* what the report gets; NULL while packed */
    char *packed;         /* an idle stream's outcome in a few hundred bytes
                             (report_outcome_pack), unpacked on next use */
    bool reported;        /* the final outcome went to the report */
    bool lost;            /* memory ran out unpacking: nothing more is sent */
    const char *public_close; /* close reason shown instead (a constant), or NULL */
    report_step step;     /* where the stream is now (the owner says) */
};

/* Where writes go once an outcome is lost or was finally reported: read
 * by nobody. */
static report_outcome lost_outcome;

/* The outcome, unpacked if the stream was idle. */
static report_outcome *outcome(rs_record *r)
{
    if (r->o)
        return r->o;
    if (!r->lost && !r->reported) {
        r->o = malloc(sizeof *r->o);
        if (r->o) {
            report_outcome_unpack(r->packed, r->o);
            free(r->packed);
            r->packed = NULL;
            return r->o;
        }
        r->lost = true;
        conn_log(r->conn, RS_LOG_WARN, "record",
                 "out of memory: this stream's outcome is not reported");
    }
    memset(&lost_outcome, 0, sizeof lost_outcome);
    return &lost_outcome;
}

/* The fields the conn knows: when, who, where, which profile. */
static void fill_from_conn(rs_record *r)
{
    rs_conn *c = r->conn;
    report_outcome *o = outcome(r);
    o->time = (int64_t)time(NULL);
    snprintf(o->local, sizeof o->local, "%s", c->local ? c->local : "");
    snprintf(o->remote, sizeof o->remote, "%s",
             !c->remote || strcmp(c->remote, "-") == 0 ? "" : c->remote);
    const rs_domain *d = c->local ? domains_find(c->domains, c->local) : NULL;
    snprintf(o->profile, sizeof o->profile, "%s", d ? d->profile->label : "");
    snprintf(o->address, sizeof o->address,
             strchr(c->peer_ip, ':') ? "[%s]:%u" : "%s:%u", c->peer_ip,
             c->peer_port);
}

static void submit(rs_record *r)
{
    rs_daemon *srv = r->conn->srv;
    fill_from_conn(r);
    if (!r->lost)
        evidence_submit(srv->evidence, srv->report, r->o, r->conn->peer_ip);
}

/* ---- the conn's events ----------------------------------------------------- */

/* A handshake ended: a failure is the peer refusing what the profile
 * presents (or the profile's TLS refusing the peer): the test's answer. */
static void record_on_tls(void *ud, bool ok, const char *alert)
{
    rs_record *r = ud;
    report_outcome *o = outcome(r);
    const rs_tls *t = r->conn->tls;
    const rs_domain *presented = t ? tls_domain(t) : NULL;
    if (alert && alert[0])
        snprintf(o->alert, sizeof o->alert, "%s", alert);
    if (ok) {
        tls_describe(t, o->tls, sizeof o->tls);
        if (presented && tls_sent_certificate(t))
            snprintf(o->presented, sizeof o->presented, "%s", presented->name);
        return;
    }
    if (presented)
        snprintf(o->presented, sizeof o->presented, "%s", presented->name);
    o->refused_by = REPORT_BY_PEER;
}

/* A peer that ends the stream before authentication is done refuses. */
static void record_on_peer_ended(void *ud)
{
    report_outcome *o = outcome(ud);
    if (o->auth != REPORT_AUTH_OK && o->refused_by == REPORT_BY_NONE)
        o->refused_by = REPORT_BY_PEER;
}

/* A stream error of ours before authentication is our refusal, except
 * those that say nobody decided: the peer was silent too long, or we are
 * stopping. */
static void record_on_error_sent(void *ud, const char *condition)
{
    report_outcome *o = outcome(ud);
    if (o->auth == REPORT_AUTH_OK || o->refused_by != REPORT_BY_NONE)
        return;
    if (strcmp(condition, "connection-timeout") == 0 ||
        strcmp(condition, "system-shutdown") == 0)
        o->refused_by = REPORT_BY_NETWORK;
    else
        o->refused_by = REPORT_BY_US;
}

/* The final outcome: who ended it, and how. */
static void record_on_closing(void *ud, const char *why)
{
    rs_record *r = ud;
    report_outcome *o = outcome(r);
    const rs_conn *c = r->conn;
    if (c->tls && c->tls_state == CONN_TLS_HANDSHAKE && c->peer_gone &&
        !o->alert[0] && tls_domain(c->tls) && tls_sent_certificate(c->tls)) {
        /* the peer hung up mid-handshake with our certificate in hand: how
         * strict servers that send no alert refuse a certificate */
        snprintf(o->presented, sizeof o->presented, "%s", tls_domain(c->tls)->name);
        o->refused_by = REPORT_BY_PEER;
    }
    if (c->tls && !o->alert[0])
        snprintf(o->alert, sizeof o->alert, "%s", tls_alert_after_handshake(c->tls));
    if (o->step == REPORT_STEP_NONE)
        o->step = r->step;
    if (c->dir == CONN_OUT && o->step == REPORT_STEP_TLS && o->tls[0] &&
        o->presented[0] && o->refused_by == REPORT_BY_NONE)
        /* gone before its header, our client certificate in hand: a TLS 1.3
         * server judges it after the handshake (s2s_out.c) */
        o->refused_by = REPORT_BY_PEER;
    snprintf(o->close, sizeof o->close, "%s", r->public_close ? r->public_close : why);
    if (r->public_close && o->auth != REPORT_AUTH_OK)
        o->refused_by = REPORT_BY_NETWORK;
    else if (o->auth == REPORT_AUTH_OK)
        o->refused_by = REPORT_BY_NONE;
    else if (o->refused_by == REPORT_BY_NONE)
        o->refused_by = r->conn->peer_gone || o->error_in[0] ? REPORT_BY_PEER
                                                             : REPORT_BY_NETWORK;
    submit(r);
    r->reported = true;
    free(r->o); /* the report has its copy; what is set from now on is not read */
    r->o = NULL;
}

/* Idle a while (conn_flow.c's sweep): the outcome shrinks to what its
 * texts use until the stream does something again. Memory short: it
 * stays as it is. */
static void record_on_idle(void *ud)
{
    rs_record *r = ud;
    if (!r->o || r->reported)
        return;
    char *packed = report_outcome_pack(r->o);
    if (!packed)
        return;
    free(r->o);
    r->o = NULL;
    r->packed = packed;
}

static void record_on_freed(void *ud)
{
    rs_record *r = ud;
    free(r->o);
    free(r->packed);
    free(r);
}

static const conn_observer record_events = {
    .tls = record_on_tls,
    .peer_ended = record_on_peer_ended,
    .error_sent = record_on_error_sent,
    .closing = record_on_closing,
    .idle = record_on_idle,
    .freed = record_on_freed,
};

/* ---- the owner's side --------------------------------------------------------- */

rs_record *record_attach(rs_conn *c)
{
    rs_record *r = calloc(1, sizeof *r);
    report_outcome *o = r ? calloc(1, sizeof *o) : NULL;
    if (!o) {
        free(r);
        return NULL;
    }
    r->conn = c;
    r->o = o;
    o->leg = c->dir == CONN_IN ? REPORT_LEG_IN : REPORT_LEG_OUT;
    o->stream = c->srv->start_time * 1000000ull + c->id;
    r->step = c->dir == CONN_IN ? REPORT_STEP_STREAM : REPORT_STEP_CONNECT;
    conn_observe(c, &record_events, r);
    return r;
}

report_outcome *record_outcome(rs_record *r)
{
    return outcome(r);
}

void record_set_public_close(rs_record *r, const char *text)
{
    r->public_close = text;
}

void record_set_step(rs_record *r, report_step step)
{
    r->step = step;
}

void record_update(rs_record *r)
{
    if (r->reported)
        return;
    report_outcome *o = outcome(r);
    if (!o->close[0] || strcmp(o->close, "open") == 0)
        snprintf(o->close, sizeof o->close, "open");
    submit(r);
}
