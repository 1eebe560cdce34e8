/* report.c -- placeholder: an empty store until the real one lands. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

struct rs_report {
    report_listener fn;
    void *arg;
};

rs_report *report_open(const char *dir, const report_limits *limits)
{
    (void)dir; (void)limits;
    return calloc(1, sizeof(rs_report));
}
void report_free(rs_report *r) { free(r); }
void report_add(rs_report *r, const report_outcome *o)
{
    if (r->fn)
        r->fn(r->arg, o);
}
void report_set_listener(rs_report *r, report_listener fn, void *arg)
{
    r->fn = fn;
    r->arg = arg;
}
size_t report_peers(const rs_report *r, const char **names, int64_t *last_seen,
                    size_t max)
{
    (void)r; (void)names; (void)last_seen; (void)max;
    return 0;
}
bool report_has_peer(const rs_report *r, const char *remote)
{
    (void)r; (void)remote;
    return false;
}
void report_matrix(const rs_report *r, const char *remote, const rs_config *cfg,
                   report_cell *cells)
{
    (void)r; (void)remote;
    for (size_t i = 0; i < cfg->n_domains; i++)
        cells[i] = (report_cell){.domain = &cfg->domains[i],
                                 .verdict = REPORT_VERDICT_UNKNOWN};
}
size_t report_history(const rs_report *r, const char *remote,
                      const report_outcome **out, size_t max)
{
    (void)r; (void)remote; (void)out; (void)max;
    return 0;
}
void report_summarize(const report_cell *cells, size_t n, report_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s->unknown += cells[i].verdict == REPORT_VERDICT_UNKNOWN;
}
const char *report_leg_name(report_leg leg) { return leg == REPORT_LEG_IN ? "in" : "out"; }
const char *report_auth_name(report_auth a)
{
    return a == REPORT_AUTH_OK ? "ok" : a == REPORT_AUTH_FAILED ? "failed" : "none";
}
const char *report_seen_name(report_seen s)
{
    return s == REPORT_SEEN_ACCEPT ? "accepted" : s == REPORT_SEEN_REFUSE ? "refused" : "nothing";
}
const char *report_verdict_name(report_verdict v)
{
    static const char *n[] = {"ok", "advisory", "wrong", "unknown"};
    return n[v];
}
void report_outcome_json(rs_json *j, const report_outcome *o)
{
    rs_json_obj_begin(j);
    rs_json_kv_str(j, "remote", o->remote);
    rs_json_obj_end(j);
}
void report_matrix_json(rs_json *j, const rs_report *r, const char *remote,
                        const rs_config *cfg)
{
    (void)r; (void)cfg;
    rs_json_obj_begin(j);
    rs_json_kv_str(j, "remote", remote);
    rs_json_obj_end(j);
}
char *report_matrix_text(const rs_report *r, const char *remote,
                         const rs_config *cfg)
{
    (void)r; (void)remote; (void)cfg;
    return strdup("");
}
void report_outcome_brief(const report_outcome *o, char *out, size_t n)
{
    (void)o;
    if (n)
        out[0] = '\0';
}
