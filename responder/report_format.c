/* report_format.c -- one outcome as a flat JSON object, written for the API
 * and the JSON-lines file, and read back from that file at start.
 *
 * The reader accepts exactly what the writer produces: one object whose
 * members are strings or integers. It is not a general JSON parser; the file
 * is ours, and anything else in it is skipped as a bad line. */
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The string members, by name and place in the struct. */
typedef struct field_def {
    const char *name;
    size_t offset;
    size_t size;
} field_def;

#define FIELD(f) {#f, offsetof(report_outcome, f), sizeof(((report_outcome *)0)->f)}
static const field_def fields[] = {
    FIELD(remote),    FIELD(local),        FIELD(profile),   FIELD(address),
    FIELD(tls),       FIELD(presented),    FIELD(alert),     FIELD(peer_cert),
    FIELD(auth_offered), FIELD(auth_used), FIELD(auth_error), FIELD(stanza),
    FIELD(error_in),  FIELD(close),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

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
        json_kv_str(j, fields[i].name, (const char *)o + fields[i].offset);
    json_kv_str(j, "auth", auth_names[o->auth]);
    json_kv_str(j, "refused_by", refusal_names[o->refused_by]);
    json_kv_str(j, "step", step_names[o->step]);
    json_kv_int(j, "stanzas", o->stanzas);
    json_kv_str(j, "evidence", evidence_names[o->evidence]);
    json_obj_end(j);
}

/* ---- reading back ------------------------------------------------------ */

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Append code point cp as UTF-8; false when it does not fit. */
static bool put_utf8(char *out, size_t cap, size_t *n, unsigned cp)
{
    char b[4];
    size_t k = utf8_put_bmp(b, cp);
    if (k == 0 || *n + k >= cap)
        return false;
    memcpy(out + *n, b, k);
    *n += k;
    return true;
}

/* A string literal at *p into out (cap bytes with the NUL). -1 when it is
 * malformed or too long. The writer only emits \" \\ and \u00XX/\ufffd, but
 * the usual short escapes are accepted too. */
static int read_string(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    if (*s++ != '"')
        return -1;
    while (*s && *s != '"') {
        unsigned cp = (unsigned char)*s;
        if (cp == '\\') {
            s++;
            switch (*s) {
            case '"': case '\\': case '/': cp = (unsigned char)*s; s++; break;
            case 'n': cp = '\n'; s++; break;
            case 't': cp = '\t'; s++; break;
            case 'r': cp = '\r'; s++; break;
            case 'u':
                if (hex4(s + 1, &cp) < 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
                    return -1;
                s += 5;
                break;
            default: return -1;
            }
            if (!put_utf8(out, cap, &n, cp))
                return -1;
            continue;
        }
        /* raw bytes must be valid UTF-8: the writer never emits others */
        size_t len = utf8_char_len((const unsigned char *)s, strnlen(s, 4));
        if (cp < 0x20 || len == 0 || n + len >= cap)
            return -1;
        memcpy(out + n, s, len);
        n += len;
        s += len;
    }
    if (*s != '"')
        return -1;
    out[n] = '\0';
    *p = s + 1;
    return 0;
}

static int read_int(const char **p, long long *out)
{
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (end == *p)
        return -1;
    *p = end;
    *out = v;
    return 0;
}

static int name_index(const char *const *names, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], v) == 0)
            return (int)i;
    return -1;
}

/* Store member key = value (a string) into o; -1 for an unknown member. */
static int set_string(report_outcome *o, const char *key, const char *value)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].name, key) == 0) {
            char *dst = (char *)o + fields[i].offset;
            if (strlen(value) >= fields[i].size)
                return -1;
            memset(dst, 0, fields[i].size); /* a repeated key leaves no tail */
            strcpy(dst, value);
            return 0;
        }
    int k;
    if (strcmp(key, "leg") == 0 && (k = name_index(leg_names, 2, value)) >= 0)
        o->leg = (report_leg)k;
    else if (strcmp(key, "auth") == 0 && (k = name_index(auth_names, 3, value)) >= 0)
        o->auth = (report_auth)k;
    else if (strcmp(key, "refused_by") == 0 &&
             (k = name_index(refusal_names, 4, value)) >= 0)
        o->refused_by = (report_refusal)k;
    else if (strcmp(key, "step") == 0 && (k = name_index(step_names, 7, value)) >= 0)
        o->step = (report_step)k;
    else if (strcmp(key, "evidence") == 0 &&
             (k = name_index(evidence_names, 3, value)) >= 0)
        o->evidence = (report_evidence)k;
    else
        return -1;
    return 0;
}

int report_outcome_parse(const char *line, report_outcome *o)
{
    memset(o, 0, sizeof *o);
    const char *p = line;
    char key[32], value[512];
    bool have_time = false, have_leg = false, have_evidence = false;
    skip_ws(&p);
    if (*p++ != '{')
        return -1;
    skip_ws(&p);
    while (*p != '}') {
        if (read_string(&p, key, sizeof key) < 0)
            return -1;
        skip_ws(&p);
        if (*p++ != ':')
            return -1;
        skip_ws(&p);
        if (*p == '"') {
            if (read_string(&p, value, sizeof value) < 0 ||
                set_string(o, key, value) < 0)
                return -1;
            have_leg |= strcmp(key, "leg") == 0;
            have_evidence |= strcmp(key, "evidence") == 0;
        } else {
            long long v;
            if (read_int(&p, &v) < 0)
                return -1;
            if (strcmp(key, "time") == 0) {
                o->time = v;
                have_time = true;
            } else if (strcmp(key, "stream") == 0 && v >= 0) {
                o->stream = (uint64_t)v;
            } else if (strcmp(key, "stanzas") == 0 && v >= 0 && v <= 0xffffffffLL) {
                o->stanzas = (unsigned)v;
            } else {
                return -1;
            }
        }
        skip_ws(&p);
        if (*p == ',') {
            p++;
            skip_ws(&p);
        } else if (*p != '}') {
            return -1;
        }
    }
    p++;
    skip_ws(&p);
    if (*p || !have_time || !have_leg || !o->remote[0] || !o->local[0])
        return -1;
    /* lines written before outcomes carried their evidence: what we dialled
     * or what authenticated is proven; the rest can only be a claim now */
    if (!have_evidence)
        o->evidence = o->leg == REPORT_LEG_OUT || o->auth == REPORT_AUTH_OK
                          ? REPORT_EVIDENCE_VERIFIED
                          : REPORT_EVIDENCE_CLAIMED;
    return 0;
}
