/* config_loader.c -- reading a libconfig tree with every problem kept as
 * "FILE:LINE: message": the collected problems, typed getters that report
 * wrong types and ranges, unknown-key checks and path resolution. What the
 * settings mean is config.c's business. */
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- problems ---------------------------------------------------------- */

/* Notes a failed allocation (reported once at the end); NULL for callers. */
void *config__oom(config_loader *ld)
{
    ld->oom = true;
    return NULL;
}

int config__line(const config_setting_t *s)
{
    unsigned line = config_setting_source_line(s);
    return line ? (int)line : 1; /* the root has no line: blame line 1 */
}

/* text with control characters shown as \n, \t or \xHH: a value quoted in
 * a message (a name with a newline in it) must not break "FILE:LINE:
 * message" into lines. malloc'd, NULL without memory. */
static char *one_line(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(4 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n')
            o += sprintf(o, "\\n");
        else if (*p == '\t')
            o += sprintf(o, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            o += sprintf(o, "\\x%02x", *p);
        else
            *o++ = (char)*p;
    }
    *o = '\0';
    return out;
}

/* Records one problem (or a note, which is not counted); config__flush
 * prints it. */
static void vreport(config_loader *ld, const char *file, int line, bool note,
                    const char *fmt, va_list ap)
{
    ld->count += !note;
    if (ld->n_probs == ld->cap_probs) {
        size_t cap = ld->cap_probs ? ld->cap_probs * 2 : 8;
        config_problem *p = realloc(ld->probs, cap * sizeof *p);
        if (!p)
            return (void)config__oom(ld);
        ld->probs = p;
        ld->cap_probs = cap;
    }
    char *raw, *text;
    if (vasprintf(&raw, fmt, ap) < 0)
        return (void)config__oom(ld);
    text = one_line(raw);
    free(raw);
    if (!text)
        return (void)config__oom(ld);
    size_t seq = ld->n_probs++;
    ld->probs[seq] = (config_problem){.file = file ? file : ld->name, .line = line,
                               .seq = seq, .text = text, .note = note};
}

/* A problem at an explicit place (a syntax error). */
__attribute__((format(printf, 4, 5))) void
config__report_at(config_loader *ld, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(ld, file, line, false, fmt, ap);
    va_end(ap);
}

/* A problem about setting s (its line). */
__attribute__((format(printf, 3, 4))) void
config__report(config_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(ld, config_setting_source_file(s), config__line(s), false, fmt, ap);
    va_end(ap);
}

/* A note about setting s: printed like a problem, not counted as one. */
__attribute__((format(printf, 3, 4))) void
config__note(config_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(ld, config_setting_source_file(s), config__line(s), true, fmt, ap);
    va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
    const config_problem *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the problems in line order and release them. */
void config__flush(config_loader *ld, FILE *errs)
{
    if (ld->n_probs > 0) /* qsort wants a non-NULL base */
        qsort(ld->probs, ld->n_probs, sizeof *ld->probs, problem_cmp);
    for (size_t i = 0; i < ld->n_probs; i++) {
        if (errs)
            fprintf(errs, "%s:%d: %s%s\n", ld->probs[i].file,
                    ld->probs[i].line, ld->probs[i].note ? "note: " : "",
                    ld->probs[i].text);
        free(ld->probs[i].text);
    }
    if (ld->oom) {
        ld->count++;
        if (errs)
            fprintf(errs, "%s: out of memory while loading\n", ld->name);
    }
    free(ld->probs);
    ld->probs = NULL;
    ld->n_probs = ld->cap_probs = 0;
}

/* ---- small helpers ----------------------------------------------------- */

char *config__strdup(config_loader *ld, const char *s)
{
    char *d = strdup(s);
    return d ? d : config__oom(ld);
}

char *config__lower_dup(config_loader *ld, const char *s)
{
    char *d = config__strdup(ld, s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* "an integer", "a string", ... for type messages. */
const char *config__type_phrase(int type)
{
    static const char *const phrase[] = {
        [CONFIG_TYPE_GROUP] = "a group",     [CONFIG_TYPE_INT] = "an integer",
        [CONFIG_TYPE_INT64] = "a 64-bit integer",
        [CONFIG_TYPE_FLOAT] = "a float",     [CONFIG_TYPE_STRING] = "a string",
        [CONFIG_TYPE_BOOL] = "a boolean",    [CONFIG_TYPE_ARRAY] = "an array",
        [CONFIG_TYPE_LIST] = "a list"};
    size_t n = sizeof phrase / sizeof phrase[0];
    return type > 0 && (size_t)type < n ? phrase[type] : "nothing";
}

/* The value of s as the user wrote it, for messages; "" for aggregates. */
static void value_text(const config_setting_t *s, char *buf, size_t len)
{
    int type = config_setting_type(s);
    buf[0] = '\0';
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
        snprintf(buf, len, " (%lld)", config_setting_get_int64(s));
    else if (type == CONFIG_TYPE_FLOAT)
        snprintf(buf, len, " (%g)", config_setting_get_float(s));
    else if (type == CONFIG_TYPE_STRING)
        snprintf(buf, len, " (\"%s\")", config_setting_get_string(s));
    else if (type == CONFIG_TYPE_BOOL)
        snprintf(buf, len, " (%s)", config_setting_get_bool(s) ? "true" : "false");
}

void config__report_type(config_loader *ld, const config_setting_t *s,
                         const char *where, const char *want)
{
    char val[160];
    value_text(s, val, sizeof val);
    config__report(ld, s, "'%s' %s must be %s, not %s%s", config_setting_name(s),
           where, want, config__type_phrase(config_setting_type(s)), val);
}

/* Report every member of group whose name is not in allowed. */
void config__check_keys(config_loader *ld, const config_setting_t *group,
                        const char *where, const char *const *allowed)
{
    char list[256] = "";
    for (size_t i = 0; allowed[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[i], sizeof list - strlen(list) - 1);
    }
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        size_t k = 0;
        while (allowed[k] && strcmp(allowed[k], name) != 0)
            k++;
        if (!allowed[k])
            config__report(ld, s, "unknown setting '%s' %s (allowed: %s)", name,
                   where, list);
    }
}

/* Member key of group if it is a string; reports a missing required key or
 * a wrong type and returns NULL then. */
const char *config__get_string(config_loader *ld, const config_setting_t *group,
                               const char *key, const char *where,
                               bool required)
{
    const config_setting_t *s = config_setting_get_member(group, key);
    if (!s) {
        if (required)
            config__report(ld, group, "missing required setting '%s' %s", key, where);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        config__report_type(ld, s, where, "a string");
        return NULL;
    }
    return config_setting_get_string(s);
}

/* Member key of group as an integer in min..max. Returns false (with a
 * problem reported unless it is simply absent) when there is none. */
bool config__get_int(config_loader *ld, const config_setting_t *group,
                     const char *key, const char *where, long long min,
                     long long max, long long *out)
{
    const config_setting_t *s = config_setting_get_member(group, key);
    if (!s)
        return false;
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
        config__report_type(ld, s, where, "an integer");
        return false;
    }
    long long v = config_setting_get_int64(s);
    if (v < min || v > max) {
        config__report(ld, s, "'%s' %s = %lld is out of range %lld..%lld", key, where,
               v, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* The list root.key and its length (0: nothing to read). When why says
 * why the list is needed, a missing or empty one is a problem; optional
 * lists of strings may also be arrays. */
unsigned config__get_list(config_loader *ld, const config_setting_t *root,
                          const char *key, const char *why, const char *shape,
                          const config_setting_t **out)
{
    const config_setting_t *list = config_setting_get_member(root, key);
    *out = list;
    if (!list) {
        if (why)
            config__report(ld, root, "missing required setting '%s' at top level: %s "
                             "(e.g. %s = ( %s );)", key, why, key, shape);
        return 0;
    }
    int type = config_setting_type(list);
    if (type != CONFIG_TYPE_LIST && (why || type != CONFIG_TYPE_ARRAY)) {
        char want[160];
        snprintf(want, sizeof want, "a list ( %s, ... )", shape);
        config__report_type(ld, list, "at top level", want);
        return 0;
    }
    unsigned n = (unsigned)config_setting_length(list);
    if (n == 0 && why)
        config__report(ld, list, "'%s' is empty: %s", key, why);
    return n;
}

/* Element i of list if it is a group, else NULL and a problem. */
const config_setting_t *config__get_entry(config_loader *ld,
                                          const config_setting_t *list,
                                          unsigned i, const char *what,
                                          const char *shape)
{
    const config_setting_t *e = config_setting_get_elem(list, i);
    if (config_setting_type(e) == CONFIG_TYPE_GROUP)
        return e;
    config__report(ld, e, "%s must be a group %s, not %s", what, shape,
           config__type_phrase(config_setting_type(e)));
    return NULL;
}

/* ---- paths ------------------------------------------------------------- */

/* Lexically normalized copy of an absolute path: no "//", "." or "..". */
static char *normalize(config_loader *ld, const char *abs)
{
    char *out = malloc(strlen(abs) + 2);
    if (!out)
        return config__oom(ld);
    size_t o = 0;
    const char *p = abs;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = p + strcspn(p, "/");
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = end;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* path made absolute against dir: realpath when it exists (so the daemon
 * sees one canonical name), otherwise a normalized join. */
char *config__resolve_path(config_loader *ld, const char *dir, const char *path)
{
    char *joined;
    if (path[0] == '/')
        joined = config__strdup(ld, path);
    else if (asprintf(&joined, "%s/%s", dir, path) < 0)
        joined = config__oom(ld);
    if (!joined)
        return NULL;
    char *real = realpath(joined, NULL);
    if (!real) {
        if (errno == ENOMEM)
            ld->oom = true;
        real = normalize(ld, joined);
    }
    free(joined);
    return real;
}
