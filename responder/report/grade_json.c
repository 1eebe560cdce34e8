/* grade_json.c -- a grade and its findings as JSON members, for the API,
 * the report page and `probe --json`. Apart from grade.c so that what
 * renders only the table (the manual's generator) does not pull in the
 * certificate's JSON (peercert.c). */
#include "grade.h"

/* A grade_flag as "yes", "no" or null (unseen). */
static void grade_json_flag(rs_json *js, const char *key, grade_flag v)
{
    json_key(js, key);
    if (v == GRADE_UNSEEN)
        json_null(js);
    else
        json_str(js, grade_flag_name(v));
}

/* A mask of GRADE_TLS* bits as ["TLS1.0", ...]. */
static void grade_json_versions(rs_json *js, const char *key, unsigned mask)
{
    json_key(js, key);
    json_arr_begin(js);
    for (unsigned i = 0; i < GRADE_TLS_VERSIONS; i++)
        if (mask & (1u << i))
            json_str(js, grade_tls_name(i));
    json_arr_end(js);
}

/* A certificate seen at time (0: never, then null) and when. */
static void grade_json_cert(rs_json *js, const char *key, const peercert_findings *c,
                            int64_t time)
{
    json_key(js, key);
    if (time == 0 && !c->present)
        json_null(js);
    else
        peercert_json(js, c);
    char seen[32];
    snprintf(seen, sizeof seen, "%s_seen", key);
    json_key(js, seen);
    if (time == 0)
        json_null(js);
    else
        json_int(js, time);
}

void grade_json(rs_json *js, const grade_findings *f, const grade_result *r)
{
    json_key(js, "grade");
    if (r->letter == GRADE_NONE)
        json_null(js);
    else
        json_str(js, grade_letter_name(r->letter));
    json_kv_bool(js, "partial", r->partial);
    json_key(js, "partial_reason");
    json_str(js, grade_partial_reason(r));
    json_kv_str(js, "graded", grade_cert_words(r));
    json_key(js, "rules");
    json_arr_begin(js);
    for (size_t i = 0; i < r->n_applied; i++) {
        const grade_rule *g = r->applied[i];
        json_obj_begin(js);
        json_kv_str(js, "id", g->id);
        json_kv_str(js, "cap", grade_letter_name(g->cap));
        json_kv_str(js, "when", g->when);
        json_kv_str(js, "why", g->why);
        json_obj_end(js);
    }
    json_arr_end(js);
    json_key(js, "readiness");
    json_obj_begin(js);
    json_kv_bool(js, "ready", r->ready);
    json_kv_str(js, "text", r->readiness);
    json_obj_end(js);
    json_key(js, "findings");
    json_obj_begin(js);
    grade_json_cert(js, "server_cert", &f->server_cert, f->server_cert_time);
    grade_json_cert(js, "client_cert", &f->client_cert, f->client_cert_time);
    grade_json_versions(js, "tls_seen", f->tls_seen);
    grade_json_versions(js, "tls_tested", f->tls_tested);
    grade_json_versions(js, "tls_accepted", f->tls_accepted);
    grade_json_flag(js, "tls_required", f->tls_required);
    grade_json_flag(js, "sasl_external", f->sasl_external);
    grade_json_flag(js, "dialback", f->dialback);
    grade_json_flag(js, "accepts_server_only", f->accepts_server_only);
    grade_json_flag(js, "dnssec_srv", f->dnssec_srv);
    grade_json_flag(js, "dane_match", f->dane_match);
    json_kv_bool(js, "probed", f->probed);
    json_obj_end(js);
}
