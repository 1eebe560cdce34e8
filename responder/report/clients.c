/* clients.c -- client outcomes by address, and their verdicts (clients.h). */
#include "clients.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "catalog.h"
#include "tls.h"

#define LOOP_WINDOW 60 /* seconds: this many failed tries of one domain ... */
#define LOOP_TRIES 3   /* ... or more is a reconnect loop */

/* One client address: its outcomes, newest first. */
typedef struct client_entry {
    char address[64];
    int64_t last_seen;
    clients_outcome history[CLIENTS_HISTORY];
    size_t n;
} client_entry;

struct rs_clients {
    client_entry *entries; /* CLIENTS_MAX_ADDRESSES slots */
    size_t n;              /* in use */
};

struct rs_clients_record {
    rs_clients *store;   /* where the outcome goes */
    rs_conn *conn;       /* the stream recorded */
    clients_outcome o;   /* built up as the stream goes */
    report_step step;    /* where the stream is now */
};

/* ---- the store --------------------------------------------------------------- */

rs_clients *clients_new(void)
{
    rs_clients *cs = calloc(1, sizeof *cs);
    if (cs && !(cs->entries = calloc(CLIENTS_MAX_ADDRESSES, sizeof *cs->entries))) {
        free(cs);
        return NULL;
    }
    return cs;
}

void clients_free(rs_clients *cs)
{
    if (!cs)
        return;
    free(cs->entries);
    free(cs);
}

static client_entry *find(const rs_clients *cs, const char *address)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->entries[i].address, address) == 0)
            return &cs->entries[i];
    return NULL;
}

/* The entry for address, taking the least recently seen slot when full. */
static client_entry *clients_entry_for(rs_clients *cs, const char *address)
{
    client_entry *e = find(cs, address);
    if (e)
        return e;
    if (cs->n < CLIENTS_MAX_ADDRESSES) {
        e = &cs->entries[cs->n++];
    } else {
        e = &cs->entries[0];
        for (size_t i = 1; i < cs->n; i++)
            if (cs->entries[i].last_seen < e->last_seen)
                e = &cs->entries[i];
    }
    memset(e, 0, sizeof *e);
    snprintf(e->address, sizeof e->address, "%s", address);
    return e;
}

void clients_add(rs_clients *cs, const clients_outcome *o)
{
    if (!cs || !o->local[0] || !o->address[0])
        return;
    client_entry *e = clients_entry_for(cs, o->address);
    memmove(&e->history[1], &e->history[0],
            sizeof e->history[0] * (CLIENTS_HISTORY - 1));
    e->history[0] = *o;
    if (e->n < CLIENTS_HISTORY)
        e->n++;
    e->last_seen = o->time;
}

bool clients_known(const rs_clients *cs, const char *address)
{
    return cs && find(cs, address) != NULL;
}

size_t clients_count(const rs_clients *cs)
{
    return cs ? cs->n : 0;
}

/* ---- the record of one stream ------------------------------------------------------ */

static void clients_on_tls(void *ud, bool ok, const char *alert)
{
    rs_clients_record *r = ud;
    const rs_tls *t = r->conn->tls;
    if (t)
        snprintf(r->o.sni, sizeof r->o.sni, "%s", tls_sni(t));
    if (alert && alert[0])
        snprintf(r->o.alert, sizeof r->o.alert, "%s", alert);
    if (ok)
        tls_describe(t, r->o.tls, sizeof r->o.tls);
    else /* the client did not take what the profile presents */
        r->o.refused_by = REPORT_BY_PEER;
}

static void clients_on_peer_ended(void *ud)
{
    rs_clients_record *r = ud;
    if (!r->o.auth_ok && r->o.refused_by == REPORT_BY_NONE)
        r->o.refused_by = REPORT_BY_PEER;
}

static void clients_on_error_sent(void *ud, const char *condition)
{
    rs_clients_record *r = ud;
    if (r->o.auth_ok || r->o.refused_by != REPORT_BY_NONE)
        return;
    r->o.refused_by = strcmp(condition, "connection-timeout") == 0 ||
                              strcmp(condition, "system-shutdown") == 0
                          ? REPORT_BY_NETWORK : REPORT_BY_US;
}

static void clients_on_closing(void *ud, const char *why)
{
    rs_clients_record *r = ud;
    clients_outcome *o = &r->o;
    o->time = (int64_t)time(NULL);
    o->step = r->step;
    snprintf(o->close, sizeof o->close, "%s", why);
    if (o->auth_ok)
        o->refused_by = REPORT_BY_NONE;
    else if (o->refused_by == REPORT_BY_NONE)
        o->refused_by = r->conn->peer_gone ? REPORT_BY_PEER : REPORT_BY_NETWORK;
    clients_add(r->store, o);
}

static void clients_on_freed(void *ud)
{
    free(ud);
}

static const conn_observer client_events = {
    .tls = clients_on_tls,
    .peer_ended = clients_on_peer_ended,
    .error_sent = clients_on_error_sent,
    .closing = clients_on_closing,
    .freed = clients_on_freed,
};

rs_clients_record *clients_attach(rs_clients *cs, rs_conn *c, bool direct_tls)
{
    rs_clients_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->store = cs;
    r->conn = c;
    r->step = REPORT_STEP_STREAM;
    r->o.direct_tls = direct_tls;
    snprintf(r->o.address, sizeof r->o.address, "%s", c->peer_ip);
    conn_observe(c, &client_events, r);
    return r;
}

void clients_set_domain(rs_clients_record *r, const char *local, const char *profile)
{
    if (!r)
        return;
    snprintf(r->o.local, sizeof r->o.local, "%s", local);
    snprintf(r->o.profile, sizeof r->o.profile, "%s", profile);
}

void clients_auth(rs_clients_record *r, const char *mechanism, bool ok,
                  const char *condition)
{
    if (!r)
        return;
    snprintf(r->o.auth, sizeof r->o.auth, "%s", mechanism);
    r->o.auth_ok = ok;
    snprintf(r->o.auth_error, sizeof r->o.auth_error, "%s", ok ? "" : condition);
}

void clients_password_in_clear(rs_clients_record *r)
{
    if (r)
        r->o.password_in_clear = true;
}

void clients_bound(rs_clients_record *r)
{
    if (r)
        r->o.bound = true;
}

void clients_answered(rs_clients_record *r, bool echo)
{
    if (!r)
        return;
    if (echo)
        r->o.echoes++;
    else
        r->o.pings++;
}

void clients_set_step(rs_clients_record *r, report_step step)
{
    if (r)
        r->step = step;
}

/* ---- verdicts ------------------------------------------------------------------------ */

const char *clients_seen_name(report_seen seen)
{
    static const char *const names[] = {"nothing seen", "connected", "refused"};
    return names[seen];
}

/* Getting as far as SASL means the client took the TLS (or its absence)
 * and the certificate: that is connecting, whatever the password did. */
static report_seen clients_seen_of(const clients_outcome *o)
{
    if (o->auth[0] || o->password_in_clear)
        return REPORT_SEEN_ACCEPT;
    if (o->refused_by == REPORT_BY_PEER)
        return REPORT_SEEN_REFUSE;
    return REPORT_SEEN_NOTHING;
}

/* How many unauthenticated tries of domain within LOOP_WINDOW of the latest. */
static unsigned tries(const client_entry *e, const char *domain)
{
    unsigned n = 0;
    for (size_t i = 0; i < e->n; i++) {
        const clients_outcome *o = &e->history[i];
        if (strcasecmp(o->local, domain) == 0 && !o->auth_ok &&
            e->history[0].time - o->time <= LOOP_WINDOW)
            n++;
    }
    return n;
}

static void explain(const clients_outcome *o, char *e, size_t n)
{
    buf_strcatf(e, n, "Your client came to %s (%s%s%s%s)", o->local,
        o->tls[0] ? o->tls : "no TLS", o->sni[0] ? ", SNI " : "", o->sni,
        o->direct_tls ? ", direct TLS" : "");
    if (o->password_in_clear) {
        buf_strcatf(e, n, " and sent its password in the clear (PLAIN without TLS). ");
        return;
    }
    if (o->auth[0]) {
        buf_strcatf(e, n, " and %s with %s", o->auth_ok ? "logged in" : "tried to log in",
            o->auth);
        if (!o->auth_ok && o->auth_error[0])
            buf_strcatf(e, n, " (%s)", o->auth_error);
        if (o->bound)
            buf_strcatf(e, n, ", bound a resource");
        if (o->pings)
            buf_strcatf(e, n, ", pinged (%u)", o->pings);
        if (o->echoes)
            buf_strcatf(e, n, ", got %u echo%s", o->echoes, o->echoes == 1 ? "" : "es");
        buf_strcatf(e, n, ". ");
        return;
    }
    if (o->refused_by == REPORT_BY_PEER)
        buf_strcatf(e, n, " and refused it at %s: %s. ", report_step_words(o->step),
            o->alert[0] ? o->alert : "it closed without an alert");
    else if (o->refused_by == REPORT_BY_US)
        buf_strcatf(e, n, " and we refused it: %s. ", o->close);
    else
        buf_strcatf(e, n, " and the stream ended: %s. ", o->close);
}

static void clients_fill_cell(const client_entry *e, const config_domain *d, clients_cell *c)
{
    memset(c, 0, sizeof *c);
    c->domain = d;
    for (size_t i = 0; e && i < e->n && !c->latest; i++)
        if (strcasecmp(e->history[i].local, d->name) == 0)
            c->latest = &e->history[i];
    const catalog_profile *p = d->profile;
    const char *should = catalog_client_name(p->client);
    if (!c->latest) {
        c->verdict = REPORT_VERDICT_UNKNOWN;
        snprintf(c->explanation, sizeof c->explanation,
                 "Nothing seen yet: log in as test@%s (password test). A strict "
                 "client should %s: %s.", d->name, should, catalog_client_why(p));
        return;
    }
    c->seen = clients_seen_of(c->latest);
    explain(c->latest, c->explanation, sizeof c->explanation);
    unsigned n = tries(e, d->name);
    if (c->seen != REPORT_SEEN_ACCEPT && n >= LOOP_TRIES) {
        c->verdict = REPORT_VERDICT_WRONG;
        buf_strcatf(c->explanation, sizeof c->explanation, "Wrong: it tried %u times within "
            "a minute; a client should fail once, clearly, and not loop.", n);
        return;
    }
    if (c->seen == REPORT_SEEN_NOTHING) {
        c->verdict = REPORT_VERDICT_UNKNOWN;
        buf_strcatf(c->explanation, sizeof c->explanation, "No verdict from that. A strict "
            "client should %s: %s.", should, catalog_client_why(p));
        return;
    }
    bool as_strict = (c->seen == REPORT_SEEN_ACCEPT) == (p->client == CATALOG_EXPECT_ACCEPT);
    c->verdict = as_strict ? REPORT_VERDICT_OK
                 : p->advisory ? REPORT_VERDICT_ADVISORY : REPORT_VERDICT_WRONG;
    buf_strcatf(c->explanation, sizeof c->explanation, "%s: a strict client should %s (%s).",
        as_strict ? "Correct" : p->advisory ? "Advisory" : "Wrong", should,
        catalog_client_why(p));
}

void clients_matrix(const rs_clients *cs, const char *address,
                    const rs_config *cfg, clients_cell *cells)
{
    const client_entry *e = cs ? find(cs, address) : NULL;
    for (size_t i = 0; i < cfg->n_domains; i++)
        clients_fill_cell(e, &cfg->domains[i], &cells[i]);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void outcome_json(rs_json *j, const clients_outcome *o)
{
    if (!o) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_int(j, "time", o->time);
    json_kv_str(j, "tls", o->tls);
    json_kv_str(j, "sni", o->sni);
    json_kv_bool(j, "direct_tls", o->direct_tls);
    json_kv_str(j, "alert", o->alert);
    json_kv_str(j, "auth", o->auth);
    json_kv_bool(j, "auth_ok", o->auth_ok);
    json_kv_str(j, "auth_error", o->auth_error);
    json_kv_bool(j, "password_in_clear", o->password_in_clear);
    json_kv_bool(j, "bound", o->bound);
    json_kv_int(j, "pings", o->pings);
    json_kv_int(j, "echoes", o->echoes);
    json_kv_str(j, "refused_by", report_refusal_name(o->refused_by));
    json_kv_str(j, "step", report_step_name(o->step));
    json_kv_str(j, "close", o->close);
    json_obj_end(j);
}

void clients_matrix_json(rs_json *j, const rs_clients *cs, const char *address,
                         const rs_config *cfg)
{
    clients_cell *cells = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *cells);
    if (!cells) {
        j->failed = true;
        return;
    }
    clients_matrix(cs, address, cfg, cells);
    unsigned count[4] = {0};
    for (size_t i = 0; i < cfg->n_domains; i++)
        count[cells[i].verdict]++;
    json_obj_begin(j);
    json_kv_str(j, "address", address);
    json_kv_bool(j, "known", clients_known(cs, address));
    json_key(j, "summary");
    json_obj_begin(j);
    for (int v = 0; v < 4; v++)
        json_kv_int(j, report_verdict_name((report_verdict)v), count[v]);
    json_obj_end(j);
    json_key(j, "domains");
    json_arr_begin(j);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const clients_cell *c = &cells[i];
        json_obj_begin(j);
        json_kv_str(j, "domain", c->domain->name);
        json_kv_str(j, "profile", c->domain->profile->label);
        json_kv_str(j, "client_should", catalog_client_name(c->domain->profile->client));
        json_kv_bool(j, "advisory", c->domain->profile->advisory);
        json_kv_str(j, "seen", clients_seen_name(c->seen));
        json_kv_str(j, "verdict", report_verdict_name(c->verdict));
        json_kv_str(j, "explanation", c->explanation);
        json_key(j, "latest");
        outcome_json(j, c->latest);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
    free(cells);
}
