/* report_shown.c -- what remote servers present (their certificate, TLS,
 * how they let peers authenticate) and the grades it earns them: kept with
 * their trusted peer in memory and in report.db (tables presented and
 * grades), read back at start. Only streams we trust bring it: ours,
 * dialled through the remote's own DNS, and theirs once authenticated. */
#include "report_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "utf8.h"

#define ASIDE_MAX 8           /* presented records waiting for their remote */
#define REWRITE_AFTER_S 3600  /* an unchanged record is written again after */

/* Presented records whose remote has no outcome yet: its stream's outcome
 * comes when the stream ends, what it presented when it authenticated. */
typedef struct report_aside {
    struct {
        char remote[256];
        report_presented p;
    } items[ASIDE_MAX];
    size_t n;
} report_aside;

static peercert_chain chain_of(const char *s)
{
    for (int c = PEERCERT_CHAIN_OK; c <= PEERCERT_CHAIN_NONE; c++)
        if (s && strcmp(s, peercert_chain_name((peercert_chain)c)) == 0)
            return (peercert_chain)c;
    return PEERCERT_CHAIN_NONE;
}

static peercert_eku eku_of(const char *s)
{
    for (int e = PEERCERT_EKU_UNKNOWN; e <= PEERCERT_EKU_ABSENT; e++)
        if (s && strcmp(s, peercert_eku_name((peercert_eku)e)) == 0)
            return (peercert_eku)e;
    return PEERCERT_EKU_UNKNOWN;
}

/* ---- grading a peer ------------------------------------------------------- */

/* Whether remote let our serverAuth-only certificate authenticate: its
 * latest outcome of our le-tlsserver domain dialling it. */
static grade_flag accepts_server_only(const report_peer *p)
{
    for (size_t i = 0; i < p->n_latest; i++) {
        const report_outcome *o = &p->latest[i];
        if (o->leg != REPORT_LEG_OUT || strcmp(o->profile, "le-tlsserver") != 0)
            continue;
        if (o->auth == REPORT_AUTH_OK)
            return GRADE_YES;
        if (o->auth == REPORT_AUTH_FAILED && o->refused_by == REPORT_BY_PEER)
            return GRADE_NO;
    }
    return GRADE_UNSEEN;
}

/* A certificate's days left as of now, not as of when it was seen: the
 * grade shown is today's (one that expired since is F now). */
static void days_from_now(peercert_findings *c, int64_t now)
{
    if (c->present && c->not_after)
        c->days_left = peercert_days_left(c->not_after, now);
}

static void findings_of(const report_peer *p, grade_findings *f, int64_t now)
{
    memset(f, 0, sizeof *f);
    const report_shown *s = p->shown;
    f->accepts_server_only = accepts_server_only(p);
    if (!s)
        return;
    if (s->server.time) {
        f->server_cert = s->server.cert;
        f->server_cert_time = s->server.time;
        f->tls_required = s->server.tls_required;
        f->sasl_external = s->server.sasl_external;
        f->dialback = s->server.dialback;
    }
    if (s->client.time) {
        f->client_cert = s->client.cert;
        f->client_cert_time = s->client.time;
    }
    days_from_now(&f->server_cert, now);
    days_from_now(&f->client_cert, now);
    f->tls_seen = s->tls_seen;
}

static const report_peer *trusted_peer(const rs_report *r, const char *remote)
{
    return r && remote ? report__table_find(&r->trusted, remote) : NULL;
}

bool report_grade(const rs_report *r, const char *remote, grade_findings *f,
                  grade_result *g)
{
    const report_peer *p = trusted_peer(r, remote);
    if (p)
        findings_of(p, f, (int64_t)time(NULL));
    else
        memset(f, 0, sizeof *f);
    grade_compute(f, g);
    return p && p->shown;
}

bool report_cert_recent(const rs_report *r, const char *remote, report_leg leg,
                        int64_t now, peercert_findings *cert)
{
    const report_peer *p = trusted_peer(r, remote);
    if (!p || !p->shown)
        return false;
    const report_presented *x = leg == REPORT_LEG_OUT ? &p->shown->server
                                                      : &p->shown->client;
    if (!x->time || now - x->time >= REPORT_CERT_FRESH_S || now < x->time)
        return false;
    *cert = x->cert;
    return true;
}

size_t report_grade_history(const rs_report *r, const char *remote,
                            report_grade_entry *out, size_t max)
{
    const report_peer *p = trusted_peer(r, remote);
    if (!p || !p->shown)
        return 0;
    const report_shown *s = p->shown;
    size_t k = 0;
    for (; k < s->n_grades && k < max; k++)
        out[k] = s->grades[(s->grades_head + s->n_grades - 1 - k) % REPORT_GRADES_KEPT];
    return k;
}

/* Append g to s's grade ring unless it is the newest already. */
static bool push_grade(report_shown *s, const report_grade_entry *g)
{
    if (s->n_grades) {
        const report_grade_entry *last =
            &s->grades[(s->grades_head + s->n_grades - 1) % REPORT_GRADES_KEPT];
        if (last->letter == g->letter && last->partial == g->partial)
            return false;
    }
    if (s->n_grades < REPORT_GRADES_KEPT)
        s->grades[(s->grades_head + s->n_grades++) % REPORT_GRADES_KEPT] = *g;
    else {
        s->grades[s->grades_head] = *g;
        s->grades_head = (s->grades_head + 1) % REPORT_GRADES_KEPT;
    }
    return true;
}

/* ---- the database ------------------------------------------------------------ */

#define PRESENTED_COLUMNS                                                      \
    "remote, side, time, present, chain, chain_problem, chain_len, name_ok, "  \
    "name_how, names, issuer, not_before, not_after, key, key_weak, "          \
    "signature, signature_weak, eku, tls, tls_seen, tls_required, "            \
    "sasl_external, dialback"

static int write_side(sqlite3 *db, const char *remote, const char *side,
                      const report_presented *p, unsigned tls_seen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO presented (" PRESENTED_COLUMNS
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                           "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    const peercert_findings *c = &p->cert;
    char tls[32], seen[40];
    grade_tls_text(p->tls, tls, sizeof tls);
    grade_tls_text(tls_seen, seen, sizeof seen);
    int i = 1;
    sqlite3_bind_text(st, i++, remote, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, side, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, p->time);
    sqlite3_bind_int(st, i++, c->present);
    sqlite3_bind_text(st, i++, peercert_chain_name(c->chain), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, c->chain_problem, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, (int)c->chain_len);
    sqlite3_bind_int(st, i++, c->name_ok);
    sqlite3_bind_text(st, i++, c->name_how, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, c->names, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, c->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, c->not_before);
    sqlite3_bind_int64(st, i++, c->not_after);
    sqlite3_bind_text(st, i++, c->key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, c->key_weak);
    sqlite3_bind_text(st, i++, c->signature, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, c->signature_weak);
    sqlite3_bind_text(st, i++, peercert_eku_name(c->eku), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, tls, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, seen, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, grade_flag_name(p->tls_required), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, grade_flag_name(p->sasl_external), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i, grade_flag_name(p->dialback), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int write_grade(sqlite3 *db, const char *remote, const report_grade_entry *g)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO grades (remote, time, grade, partial) "
                           "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, g->time);
    sqlite3_bind_text(st, 3, grade_letter_name(g->letter), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, g->partial);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc < 0 || sqlite3_prepare_v2(db, "DELETE FROM grades WHERE remote = ?1 AND "
                                     "id NOT IN (SELECT id FROM grades WHERE remote "
                                     "= ?1 ORDER BY time DESC, id DESC LIMIT ?2)",
                                     -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, REPORT_GRADES_KEPT);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* s of p to the database when the owner's connection is free (a retention
 * run in a worker holds the file: the next change writes it). */
static void write_shown(rs_report *r, const report_peer *p, const report_grade_entry *g)
{
    sqlite3 *db = report__db_conn(r->db);
    report_shown *s = p->shown;
    if (!db || r->pruning)
        return;
    int rc = 0;
    if (s->dirty && s->server.time)
        rc |= write_side(db, p->name, "server", &s->server, s->tls_seen);
    if (s->dirty && s->client.time)
        rc |= write_side(db, p->name, "client", &s->client, s->tls_seen);
    if (g)
        rc |= write_grade(db, p->name, g);
    if (rc < 0) {
        log_msg(RS_LOG_WARN, "report: what %s presented was not written: %s",
                p->name, sqlite3_errmsg(db));
        return;
    }
    s->dirty = false;
    s->written = s->server.time > s->client.time ? s->server.time : s->client.time;
}

/* ---- keeping --------------------------------------------------------------- */

static bool same_presented(const report_presented *a, const report_presented *b)
{
    return a->leg == b->leg && a->tls == b->tls && a->tls_required == b->tls_required &&
           a->sasl_external == b->sasl_external && a->dialback == b->dialback &&
           memcmp(&a->cert, &b->cert, sizeof a->cert) == 0;
}

static void apply(rs_report *r, report_peer *p, const report_presented *in)
{
    if (!p->shown && !(p->shown = calloc(1, sizeof *p->shown))) {
        log_msg(RS_LOG_ERROR, "report: out of memory; what %s presented is dropped",
                p->name);
        return;
    }
    report_shown *s = p->shown;
    report_presented *slot = in->leg == REPORT_LEG_OUT ? &s->server : &s->client;
    if (!same_presented(slot, in) || (in->tls && !(s->tls_seen & in->tls)) ||
        in->time - s->written >= REWRITE_AFTER_S)
        s->dirty = true;
    *slot = *in;
    s->tls_seen |= in->tls;
    grade_findings f;
    grade_result g;
    findings_of(p, &f, in->time); /* the grade as of this stream */
    grade_compute(&f, &g);
    report_grade_entry e = {.time = in->time, .letter = g.letter, .partial = g.partial};
    bool changed = push_grade(s, &e);
    if (s->dirty || changed)
        write_shown(r, p, changed ? &e : NULL);
}

void report_add_presented(rs_report *r, const char *remote, const report_presented *p)
{
    if (!r || !remote || !remote[0])
        return;
    report_peer *peer = report__table_find(&r->trusted, remote);
    if (peer) {
        apply(r, peer, p);
        return;
    }
    if (!r->aside && !(r->aside = calloc(1, sizeof *r->aside)))
        return;
    report_aside *a = r->aside;
    size_t i = 0;
    while (i < a->n && !(strcmp(a->items[i].remote, remote) == 0 &&
                         a->items[i].p.leg == p->leg))
        i++;
    if (i == a->n && a->n == ASIDE_MAX) { /* full: the oldest gives way */
        memmove(&a->items[0], &a->items[1], (ASIDE_MAX - 1) * sizeof a->items[0]);
        i = ASIDE_MAX - 1;
    } else if (i == a->n) {
        a->n++;
    }
    snprintf(a->items[i].remote, sizeof a->items[i].remote, "%s", remote);
    a->items[i].p = *p;
}

void report__shown_adopt(rs_report *r, report_peer *p)
{
    report_aside *a = r->aside;
    for (size_t i = 0; a && i < a->n;) {
        if (strcmp(a->items[i].remote, p->name) != 0) {
            i++;
            continue;
        }
        report_presented pres = a->items[i].p;
        memmove(&a->items[i], &a->items[i + 1], (a->n - i - 1) * sizeof a->items[0]);
        a->n--;
        apply(r, p, &pres);
    }
}

void report__shown_free(report_shown *s)
{
    free(s);
}

/* ---- reading back ----------------------------------------------------------- */

static void copy_column(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    s = s ? s : "";
    size_t len = utf8_cut(s, size - 1);
    memcpy(dst, s, len);
    dst[len] = '\0';
}

int report__shown_load(rs_report *r, report_db *db, char *err, size_t n)
{
    sqlite3 *conn = report__db_conn(db);
    sqlite3_stmt *st;
    if (!conn)
        return 0;
    if (sqlite3_prepare_v2(conn, "SELECT " PRESENTED_COLUMNS " FROM presented",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "%s", sqlite3_errmsg(conn));
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        char remote[256], text[64];
        copy_column(remote, sizeof remote, st, 0);
        report_peer *p = report__table_find(&r->trusted, remote);
        if (!p || (!p->shown && !(p->shown = calloc(1, sizeof *p->shown))))
            continue;
        const char *side = (const char *)sqlite3_column_text(st, 1);
        bool server = side && strcmp(side, "server") == 0;
        report_presented *x = server ? &p->shown->server : &p->shown->client;
        peercert_findings *c = &x->cert;
        memset(x, 0, sizeof *x);
        x->leg = server ? REPORT_LEG_OUT : REPORT_LEG_IN;
        x->time = sqlite3_column_int64(st, 2);
        c->present = sqlite3_column_int(st, 3) != 0;
        copy_column(text, sizeof text, st, 4);
        c->chain = chain_of(text);
        copy_column(c->chain_problem, sizeof c->chain_problem, st, 5);
        c->chain_len = (unsigned)sqlite3_column_int(st, 6);
        c->name_ok = sqlite3_column_int(st, 7) != 0;
        copy_column(c->name_how, sizeof c->name_how, st, 8);
        copy_column(c->names, sizeof c->names, st, 9);
        copy_column(c->issuer, sizeof c->issuer, st, 10);
        c->not_before = sqlite3_column_int64(st, 11);
        c->not_after = sqlite3_column_int64(st, 12);
        c->days_left = peercert_days_left(c->not_after, x->time);
        copy_column(c->key, sizeof c->key, st, 13);
        c->key_weak = sqlite3_column_int(st, 14) != 0;
        copy_column(c->signature, sizeof c->signature, st, 15);
        c->signature_weak = sqlite3_column_int(st, 16) != 0;
        copy_column(text, sizeof text, st, 17);
        c->eku = eku_of(text);
        copy_column(text, sizeof text, st, 18);
        x->tls = grade_tls_mask(text);
        copy_column(text, sizeof text, st, 19);
        p->shown->tls_seen |= grade_tls_mask(text);
        copy_column(text, sizeof text, st, 20);
        x->tls_required = grade_flag_of(text);
        copy_column(text, sizeof text, st, 21);
        x->sasl_external = grade_flag_of(text);
        copy_column(text, sizeof text, st, 22);
        x->dialback = grade_flag_of(text);
        p->shown->written = x->time > p->shown->written ? x->time : p->shown->written;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(conn, "SELECT remote, time, grade, partial FROM grades "
                           "ORDER BY time, id", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "%s", sqlite3_errmsg(conn));
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        char remote[256], letter[8];
        copy_column(remote, sizeof remote, st, 0);
        report_peer *p = report__table_find(&r->trusted, remote);
        if (!p || !p->shown)
            continue;
        copy_column(letter, sizeof letter, st, 2);
        report_grade_entry e = {.time = sqlite3_column_int64(st, 1),
                                .letter = GRADE_NONE,
                                .partial = sqlite3_column_int(st, 3) != 0};
        for (int g = GRADE_A_PLUS; g <= GRADE_NONE; g++)
            if (strcmp(letter, grade_letter_name((grade_letter)g)) == 0)
                e.letter = (grade_letter)g;
        push_grade(p->shown, &e);
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- text ------------------------------------------------------------------ */

static void utc(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm))
        snprintf(out, n, "-");
}

void report_presented_print(FILE *out, const rs_report *r, const char *remote)
{
    grade_findings f;
    grade_result g;
    fprintf(out, "\nwhat %s presents:\n", remote);
    if (!report_grade(r, remote, &f, &g)) {
        fprintf(out, "  nothing seen yet: no stream we trust (one we dialled, or one "
                "that authenticated to us) has shown its certificate\n");
        return;
    }
    char a[40], b[40];
    utc(f.server_cert_time, a, sizeof a);
    utc(f.client_cert_time, b, sizeof b);
    fprintf(out, "  seen as a server: %s; as a client: %s\n", a, b);
    grade_print(out, "  ", &f, &g);
    report_grade_entry h[REPORT_GRADES_KEPT];
    size_t nh = report_grade_history(r, remote, h, REPORT_GRADES_KEPT);
    if (nh > 1) {
        fprintf(out, "  grade history (newest first):");
        for (size_t i = 0; i < nh; i++) {
            utc(h[i].time, a, sizeof a);
            fprintf(out, "%s %s%s since %s", i ? "," : "", grade_letter_name(h[i].letter),
                    h[i].partial ? " (partial)" : "", a);
        }
        fputc('\n', out);
    }
}

/* ---- JSON ------------------------------------------------------------------ */

void report_presented_json(rs_json *j, const rs_report *r, const char *remote)
{
    grade_findings f;
    grade_result g;
    json_key(j, "presented");
    if (!report_grade(r, remote, &f, &g)) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    grade_json(j, &f, &g);
    json_kv_int(j, "seen_server", f.server_cert_time);
    json_kv_int(j, "seen_client", f.client_cert_time);
    report_grade_entry h[REPORT_GRADES_KEPT];
    size_t nh = report_grade_history(r, remote, h, REPORT_GRADES_KEPT);
    json_key(j, "history");
    json_arr_begin(j);
    for (size_t i = 0; i < nh; i++) {
        json_obj_begin(j);
        json_kv_int(j, "time", h[i].time);
        json_kv_str(j, "grade", grade_letter_name(h[i].letter));
        json_kv_bool(j, "partial", h[i].partial);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
}
