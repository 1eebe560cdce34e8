/* report_format.c -- an outcome's members by name: the printable names of
 * its enums (and back, for the database), and the outcome as a flat JSON
 * object for the API. The member names are the database's column names
 * (report_db.c). */
#include "report_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(f) {#f, offsetof(report_outcome, f), sizeof(((report_outcome *)0)->f)}
const report_text_field report_text_fields[] = {
    FIELD(remote),    FIELD(local),        FIELD(profile),   FIELD(address),
    FIELD(tls),       FIELD(presented),    FIELD(alert),     FIELD(peer_cert),
    FIELD(auth_offered), FIELD(auth_used), FIELD(auth_error), FIELD(stanza),
    FIELD(error_in),  FIELD(close),
};
#define N_FIELDS (sizeof report_text_fields / sizeof report_text_fields[0])
const size_t report_n_text_fields = N_FIELDS;

static const char *const leg_names[] = {"in", "out"};
static const char *const auth_names[] = {"none", "ok", "failed"};
static const char *const refusal_names[] = {"none", "peer", "us", "network"};
static const char *const step_names[] = {"", "connect", "stream", "tls",
                                         "features", "auth", "stanzas"};
static const char *const evidence_names[] = {"claimed", "address-matched",
                                             "verified"};

const char *report_leg_name(report_leg leg) { return leg_names[leg]; }
const char *report_auth_name(report_auth a) { return auth_names[a]; }
const char *report_refusal_name(report_refusal by) { return refusal_names[by]; }
const char *report_evidence_name(report_evidence e) { return evidence_names[e]; }
const char *report_step_name(report_step step) { return step_names[step]; }

const char *report_step_words(report_step step)
{
    static const char *const words[] = {"", "the connection", "the stream header",
                                        "the TLS handshake", "the stream features",
                                        "authentication", "the stanzas"};
    return words[step];
}

void report_outcome_json(rs_json *j, const report_outcome *o)
{
    json_obj_begin(j);
    json_kv_int(j, "time", o->time);
    json_kv_int(j, "stream", (int64_t)o->stream);
    json_kv_str(j, "leg", leg_names[o->leg]);
    for (size_t i = 0; i < N_FIELDS; i++)
        json_kv_str(j, report_text_fields[i].name,
                    (const char *)o + report_text_fields[i].offset);
    json_kv_str(j, "auth", auth_names[o->auth]);
    json_kv_str(j, "refused_by", refusal_names[o->refused_by]);
    json_kv_str(j, "step", step_names[o->step]);
    json_kv_int(j, "stanzas", o->stanzas);
    json_kv_str(j, "evidence", evidence_names[o->evidence]);
    json_obj_end(j);
}

/* ---- names back ---------------------------------------------------------- */

static int name_position(const char *const *names, size_t n, const char *v)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(names[i], v) == 0)
            return (int)i;
    return -1;
}

#define N(a) (sizeof a / sizeof a[0])

bool report__outcome_set_enums(report_outcome *o, const char *leg,
                               const char *auth, const char *refused_by,
                               const char *step, const char *evidence)
{
    int l = name_position(leg_names, N(leg_names), leg);
    int a = name_position(auth_names, N(auth_names), auth);
    int r = name_position(refusal_names, N(refusal_names), refused_by);
    int s = name_position(step_names, N(step_names), step);
    int e = name_position(evidence_names, N(evidence_names), evidence);
    if (l < 0 || a < 0 || r < 0 || s < 0 || e < 0)
        return false;
    o->leg = (report_leg)l;
    o->auth = (report_auth)a;
    o->refused_by = (report_refusal)r;
    o->step = (report_step)s;
    o->evidence = (report_evidence)e;
    return true;
}

/* ---- packed outcomes ------------------------------------------------------ */

/* The numbers of an outcome; its texts follow, each NUL-terminated, in
 * report_text_fields order. */
typedef struct packed_head {
    int64_t time;
    uint64_t stream;
    unsigned stanzas;
    unsigned char leg, auth, refused_by, step, evidence;
} packed_head;

char *report_outcome_pack(const report_outcome *o)
{
    size_t n = sizeof(packed_head);
    for (size_t i = 0; i < N_FIELDS; i++)
        n += strnlen((const char *)o + report_text_fields[i].offset,
                     report_text_fields[i].size - 1) + 1;
    char *p = malloc(n);
    if (!p)
        return NULL;
    packed_head h = {
        .time = o->time, .stream = o->stream, .stanzas = o->stanzas,
        .leg = (unsigned char)o->leg, .auth = (unsigned char)o->auth,
        .refused_by = (unsigned char)o->refused_by,
        .step = (unsigned char)o->step, .evidence = (unsigned char)o->evidence,
    };
    memcpy(p, &h, sizeof h);
    char *at = p + sizeof h;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *text = (const char *)o + report_text_fields[i].offset;
        size_t len = strnlen(text, report_text_fields[i].size - 1);
        memcpy(at, text, len);
        at[len] = '\0';
        at += len + 1;
    }
    return p;
}

void report_outcome_unpack(const char *packed, report_outcome *o)
{
    packed_head h;
    memcpy(&h, packed, sizeof h);
    memset(o, 0, sizeof *o);
    o->time = h.time;
    o->stream = h.stream;
    o->stanzas = h.stanzas;
    o->leg = (report_leg)h.leg;
    o->auth = (report_auth)h.auth;
    o->refused_by = (report_refusal)h.refused_by;
    o->step = (report_step)h.step;
    o->evidence = (report_evidence)h.evidence;
    const char *at = packed + sizeof h;
    for (size_t i = 0; i < N_FIELDS; i++) {
        size_t len = strlen(at); /* packed from a field of this size */
        memcpy((char *)o + report_text_fields[i].offset, at, len + 1);
        at += len + 1;
    }
}
