/* policy.c -- probe policies: the catalog's strict and lenient columns and
 * the operator's own tables. */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated word of *s (NUL-terminated in place), or
 * NULL at the end. */
static char *next_word(char **s)
{
    char *p = *s;
    while (*p && is_space(*p))
        p++;
    if (!*p) {
        *s = p;
        return NULL;
    }
    char *w = p;
    while (*p && !is_space(*p))
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return w;
}

/* A word for messages: at most 40 bytes, control characters as '?'. */
static const char *shown(const char *w, char *buf, size_t n)
{
    size_t k = 0;
    for (; w[k] && k + 4 < n && k < 40; k++)
        buf[k] = (unsigned char)w[k] < 0x20 || w[k] == 0x7f ? '?' : w[k];
    if (w[k]) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

static const policy_rule *find_rule(const policy_rule *rules, size_t n,
                                    const catalog_profile *prof)
{
    for (size_t i = 0; i < n; i++)
        if (rules[i].profile == prof)
            return &rules[i];
    return NULL;
}

int policy_parse(const char *text, size_t len, const char *name,
                 rs_policy *out, FILE *errs)
{
    memset(out, 0, sizeof *out);
    int problems = 0;
    policy_rule *rules = NULL;
    size_t n = 0, cap = 0;
    int lineno = 0;
    char line[POLICY_LINE_MAX + 1], b1[48], b2[48];
    if (len > POLICY_FILE_MAX) {
        fprintf(errs, "%s: larger than %u bytes; not a policy\n", name,
                POLICY_FILE_MAX);
        return 1;
    }
    if (memchr(text, '\0', len)) {
        fprintf(errs, "%s: contains a NUL byte; not a policy\n", name);
        return 1;
    }
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        const char *start = text + pos;
        pos += ll + (nl ? 1 : 0);
        if (ll > POLICY_LINE_MAX) {
            fprintf(errs, "%s:%d: line longer than %u bytes\n", name, lineno,
                    POLICY_LINE_MAX);
            problems++;
            continue;
        }
        memcpy(line, start, ll);
        line[ll] = '\0';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        char *label = next_word(&s);
        if (!label)
            continue; /* blank or comment */
        char *word = next_word(&s);
        char *extra = next_word(&s);
        if (!word) {
            fprintf(errs, "%s:%d: expected 'LABEL accept' or 'LABEL refuse', "
                    "got only '%s'\n", name, lineno, shown(label, b1, sizeof b1));
            problems++;
            continue;
        }
        if (extra) {
            fprintf(errs, "%s:%d: unexpected '%s' after '%s %s'; one rule per "
                    "line: LABEL accept|refuse\n", name, lineno,
                    shown(extra, b1, sizeof b1), shown(label, b2, sizeof b2), word);
            problems++;
            continue;
        }
        const catalog_profile *prof = catalog_find(label);
        catalog_expect expect;
        bool word_ok = true;
        if (strcmp(word, "accept") == 0)
            expect = CATALOG_EXPECT_ACCEPT;
        else if (strcmp(word, "refuse") == 0)
            expect = CATALOG_EXPECT_REFUSE;
        else
            word_ok = false;
        if (!prof) {
            fprintf(errs, "%s:%d: unknown profile '%s' (see `xmpp-responder "
                    "catalog`)\n", name, lineno, shown(label, b1, sizeof b1));
            problems++;
        }
        if (!word_ok) {
            fprintf(errs, "%s:%d: expected 'accept' or 'refuse' after '%s', "
                    "got '%s'\n", name, lineno, shown(label, b1, sizeof b1),
                    shown(word, b2, sizeof b2));
            problems++;
        }
        if (!prof || !word_ok)
            continue;
        const policy_rule *dup = find_rule(rules, n, prof);
        if (dup) {
            fprintf(errs, "%s:%d: '%s' is already listed on line %d\n", name,
                    lineno, prof->label, dup->line);
            problems++;
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            policy_rule *r = realloc(rules, nc * sizeof *r);
            if (!r) {
                fprintf(errs, "%s:%d: out of memory\n", name, lineno);
                free(rules);
                return problems + 1;
            }
            rules = r;
            cap = nc;
        }
        rules[n++] = (policy_rule){.profile = prof, .expect = expect,
                                   .line = lineno};
    }
    if (problems == 0 && n == 0) {
        fprintf(errs, "%s:%d: the policy lists no profiles; write one "
                "'LABEL accept|refuse' per line\n", name, lineno ? lineno : 1);
        problems++;
    }
    if (problems) {
        free(rules);
        return problems;
    }
    out->kind = POLICY_FILE;
    out->name = strdup(name);
    if (!out->name) {
        fprintf(errs, "%s: out of memory\n", name);
        free(rules);
        memset(out, 0, sizeof *out);
        return 1;
    }
    out->rules = rules;
    out->n_rules = n;
    return 0;
}

int policy_load(const char *spec, rs_policy *out, FILE *errs)
{
    memset(out, 0, sizeof *out);
    static const struct {
        const char *name;
        policy_kind kind;
    } builtin[] = {{"strict", POLICY_STRICT},
                   {"pedantic", POLICY_PEDANTIC},
                   {"lenient", POLICY_LENIENT}};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcmp(spec, builtin[i].name) == 0) {
            out->kind = builtin[i].kind;
            out->name = strdup(spec);
            if (!out->name) {
                fprintf(errs, "out of memory\n");
                return 1;
            }
            return 0;
        }
    FILE *f = fopen(spec, "rb");
    if (!f) {
        fprintf(errs, "%s: %s (a policy is strict, pedantic, lenient or a "
                "file)\n", spec, strerror(errno));
        return 1;
    }
    char *buf = malloc(POLICY_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        fprintf(errs, "%s: out of memory\n", spec);
        return 1;
    }
    size_t len = fread(buf, 1, POLICY_FILE_MAX + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int problems;
    if (rerr) {
        fprintf(errs, "%s: read error\n", spec);
        problems = 1;
    } else {
        problems = policy_parse(buf, len, spec, out, errs);
    }
    free(buf);
    return problems;
}

void policy_free(rs_policy *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->rules);
    memset(p, 0, sizeof *p);
}

policy_verdict policy_judge(const rs_policy *p, const catalog_profile *prof,
                            bool accepted)
{
    policy_verdict v = {.mark = POLICY_UNCHECKED};
    if (!prof)
        return v;
    catalog_expect got = accepted ? CATALOG_EXPECT_ACCEPT : CATALOG_EXPECT_REFUSE;
    switch (p->kind) {
    case POLICY_STRICT:
    case POLICY_PEDANTIC:
        v.checked = true;
        v.expect = prof->strict;
        if (got == v.expect)
            v.mark = POLICY_OK;
        else if (p->kind == POLICY_STRICT && prof->advisory)
            v.mark = POLICY_ADVISORY;
        else
            v.mark = POLICY_DIFF;
        return v;
    case POLICY_LENIENT:
        v.checked = true;
        v.expect = prof->peers[CATALOG_PEER_PROSODY_LENIENT];
        v.mark = got == v.expect ? POLICY_OK : POLICY_DIFF;
        return v;
    case POLICY_FILE: {
        const policy_rule *r = find_rule(p->rules, p->n_rules, prof);
        if (!r)
            return v;
        v.checked = true;
        v.expect = r->expect;
        v.line = r->line;
        v.mark = got == v.expect ? POLICY_OK : POLICY_DIFF;
        return v;
    }
    }
    return v;
}

const char *policy_mark_name(policy_mark m)
{
    switch (m) {
    case POLICY_OK: return "OK";
    case POLICY_DIFF: return "DIFF";
    case POLICY_ADVISORY: return "advisory";
    case POLICY_UNCHECKED: return "-";
    }
    return "-";
}

void policy_explain(const rs_policy *p, const catalog_profile *prof, bool accepted,
                    const policy_verdict *v, char *out, size_t n)
{
    const char *got = accepted ? "accepted" : "refused";
    if (!prof) {
        snprintf(out, n, "%s; the catalog does not know this profile, so no "
                 "policy checks it", got);
        return;
    }
    if (!v->checked) {
        snprintf(out, n, "%s; not listed in the policy", got);
        return;
    }
    const char *want = catalog_expect_name(v->expect);
    switch (p->kind) {
    case POLICY_STRICT:
    case POLICY_PEDANTIC:
        if (v->mark == POLICY_ADVISORY)
            snprintf(out, n, "%s; the pedantic answer is %s (advisory: the "
                     "specifications leave room; only --policy pedantic "
                     "fails on it): %s", got, want, prof->strict_why);
        else
            snprintf(out, n, "%s; a strict server must %s it: %s", got, want,
                     prof->strict_why);
        return;
    case POLICY_LENIENT:
        if (v->expect == prof->strict)
            snprintf(out, n, "%s; even a dialback-accepting server would %s "
                     "it: %s", got, want, prof->strict_why);
        else
            snprintf(out, n, "%s; a dialback-accepting server would %s it "
                     "(a strict one would %s it: %s)", got, want,
                     catalog_expect_name(prof->strict), prof->strict_why);
        return;
    case POLICY_FILE:
        snprintf(out, n, "%s; %s:%d says %s (a strict server would %s it: %s)",
                 got, p->name, v->line, want, catalog_expect_name(prof->strict),
                 prof->strict_why);
        return;
    }
    snprintf(out, n, "%s", got);
}
