/* report.c -- the outcome store: per remote domain the latest outcome per
 * (test domain, leg) and a bounded history, kept in memory and appended to
 * STATE/report.jsonl. Rendering (cells, explanations, JSON, text) is in
 * report_view.c. */
#include "report.h"
#include "report_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"

#define REPORT_FILE "report.jsonl"
#define REPORT_LINE_MAX 8192 /* longer lines in the file are not ours: skip */

/* Everything known about one remote domain. */
typedef struct report_peer {
    char name[256];            /* remote domain, lower case */
    int64_t last_seen;         /* time of the newest outcome */
    report_outcome *latest;    /* latest outcome per (local, leg), unordered */
    size_t n_latest, cap_latest;
    report_outcome *history;   /* ring of the newest outcomes */
    size_t history_head;       /* index of the next slot to write */
    size_t history_len;        /* slots in use */
} report_peer;

/* A bounded set of remote domains; the least recently seen goes first. */
typedef struct peer_table {
    report_peer **peers;       /* unordered; at most max */
    size_t n;
    unsigned max;              /* remote domains kept */
    unsigned history;          /* outcomes kept per remote domain */
} peer_table;

struct rs_report {
    report_limits limits;
    peer_table trusted;        /* verified and address-matched outcomes */
    peer_table claims;         /* claimed outcomes: shown, never judged */
    char *path;                /* DIR/report.jsonl, NULL = memory only */
    char *path_old;            /* DIR/report.jsonl.1 */
    FILE *file;                /* open for append, NULL when it failed */
    size_t file_size;          /* bytes in file */
    bool loading;              /* reading the file back: do not append */
    report_listener listener;
    void *listener_arg;
};

#define CLAIM_HISTORY 8        /* claims kept per claimed domain at most */

/* ---- peers ------------------------------------------------------------- */

static report_peer *find_peer(const peer_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->peers[i]->name, name) == 0)
            return t->peers[i];
    return NULL;
}

static void peer_free(report_peer *p)
{
    if (!p)
        return;
    free(p->latest);
    free(p->history);
    free(p);
}

/* The peer called name, created (evicting the least recent one when full).
 * NULL on allocation failure. */
static report_peer *get_peer(peer_table *t, const char *name)
{
    report_peer *p = find_peer(t, name);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (p)
        p->history = calloc(t->history, sizeof *p->history);
    if (!p || !p->history) {
        peer_free(p);
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    if (t->n >= t->max) {
        size_t oldest = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->peers[i]->last_seen < t->peers[oldest]->last_seen)
                oldest = i;
        peer_free(t->peers[oldest]);
        t->peers[oldest] = p;
        return p;
    }
    t->peers[t->n++] = p;
    return p;
}

static int table_init(peer_table *t, unsigned max, unsigned history)
{
    t->max = max ? max : 1;
    t->history = history ? history : 1;
    t->peers = calloc(t->max, sizeof *t->peers);
    return t->peers ? 0 : -1;
}

static void table_free(peer_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        peer_free(t->peers[i]);
    free(t->peers);
}

/* Replace or add the latest outcome for (o->local, o->leg). */
static bool set_latest(report_peer *p, const report_outcome *o)
{
    for (size_t i = 0; i < p->n_latest; i++) {
        report_outcome *l = &p->latest[i];
        if (l->leg == o->leg && strcasecmp(l->local, o->local) == 0) {
            if (l->time <= o->time || l->stream == o->stream)
                *l = *o;
            return true;
        }
    }
    if (p->n_latest == p->cap_latest) {
        size_t cap = p->cap_latest ? p->cap_latest * 2 : 8;
        report_outcome *n = realloc(p->latest, cap * sizeof *n);
        if (!n)
            return false;
        p->latest = n;
        p->cap_latest = cap;
    }
    p->latest[p->n_latest++] = *o;
    return true;
}

/* A stream reports when it gets going and when it ends: the second record
 * replaces the first in the history. */
static void add_history(const peer_table *t, report_peer *p,
                        const report_outcome *o)
{
    size_t cap = t->history;
    for (size_t k = 1; o->stream && k <= p->history_len; k++) {
        report_outcome *h = &p->history[(p->history_head + cap - k) % cap];
        if (h->stream == o->stream && h->leg == o->leg) {
            *h = *o;
            return;
        }
    }
    p->history[p->history_head] = *o;
    p->history_head = (p->history_head + 1) % cap;
    if (p->history_len < cap)
        p->history_len++;
}

/* ---- the file ---------------------------------------------------------- */

static void open_file(rs_report *r)
{
    r->file = fopen(r->path, "a");
    if (!r->file) {
        log_msg(RS_LOG_ERROR, "report: cannot append to %s: %s; history will "
               "not survive a restart", r->path, strerror(errno));
        return;
    }
    struct stat st;
    r->file_size = fstat(fileno(r->file), &st) == 0 ? (size_t)st.st_size : 0;
}

/* report.jsonl -> report.jsonl.1 (replacing it), and a fresh file. */
static void rotate(rs_report *r)
{
    if (r->file)
        fclose(r->file);
    r->file = NULL;
    if (rename(r->path, r->path_old) != 0)
        log_msg(RS_LOG_ERROR, "report: cannot rotate %s: %s", r->path,
               strerror(errno));
    open_file(r);
}

static void append_line(rs_report *r, const report_outcome *o)
{
    if (!r->path || r->loading)
        return;
    rs_json j;
    json_init(&j);
    report_outcome_json(&j, o);
    if (j.failed) {
        log_msg(RS_LOG_ERROR, "report: out of memory writing an outcome");
        json_free(&j);
        return;
    }
    if (r->file && r->file_size + j.len + 1 > r->limits.file_bytes)
        rotate(r);
    if (r->file) {
        fprintf(r->file, "%s\n", j.text);
        if (fflush(r->file) != 0)
            log_msg(RS_LOG_ERROR, "report: writing %s: %s", r->path,
                   strerror(errno));
        r->file_size += j.len + 1;
    }
    json_free(&j);
}

/* Read one file back; every line that is not an outcome is counted. */
static void load_file(rs_report *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT)
            log_msg(RS_LOG_WARN, "report: cannot read %s: %s", path,
                   strerror(errno));
        return;
    }
    char *line = malloc(REPORT_LINE_MAX);
    if (!line) {
        fclose(f);
        return;
    }
    unsigned n = 0, bad = 0;
    bool skipping = false; /* inside an over-long line */
    while (fgets(line, REPORT_LINE_MAX, f)) {
        size_t len = strlen(line);
        bool complete = len > 0 && line[len - 1] == '\n';
        if (skipping || !complete) {
            if (!skipping)
                bad++;
            skipping = !complete;
            continue;
        }
        line[len - 1] = '\0';
        report_outcome o;
        if (report_outcome_parse(line, &o) == 0) {
            report_add(r, &o);
            n++;
        } else {
            bad++;
        }
    }
    free(line);
    fclose(f);
    log_msg(RS_LOG_INFO, "report: read %u outcome(s) from %s", n, path);
    if (bad)
        log_msg(RS_LOG_WARN, "report: %u line(s) of %s skipped", bad, path);
}

/* ---- API --------------------------------------------------------------- */

rs_report *report_open(const char *dir, const report_limits *limits)
{
    rs_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->limits = *limits;
    unsigned claim_history = limits->history < CLAIM_HISTORY ? limits->history
                                                             : CLAIM_HISTORY;
    if (table_init(&r->trusted, limits->max_peers, limits->history) < 0 ||
        table_init(&r->claims, limits->max_claims, claim_history) < 0) {
        report_free(r);
        return NULL;
    }
    if (!dir)
        return r;
    if (asprintf(&r->path, "%s/" REPORT_FILE, dir) < 0 ||
        asprintf(&r->path_old, "%s/" REPORT_FILE ".1", dir) < 0) {
        r->path = r->path_old = NULL; /* undefined after a failure */
        report_free(r);
        return NULL;
    }
    r->loading = true;
    load_file(r, r->path_old);
    load_file(r, r->path);
    r->loading = false;
    open_file(r);
    return r;
}

void report_free(rs_report *r)
{
    if (!r)
        return;
    table_free(&r->trusted);
    table_free(&r->claims);
    if (r->file)
        fclose(r->file);
    free(r->path);
    free(r->path_old);
    free(r);
}

void report_add(rs_report *r, const report_outcome *o)
{
    if (!r || !o->remote[0] || !o->local[0])
        return;
    bool trusted = o->evidence != REPORT_EVIDENCE_CLAIMED;
    peer_table *t = trusted ? &r->trusted : &r->claims;
    report_peer *p = get_peer(t, o->remote);
    if (!p || (trusted && !set_latest(p, o))) {
        log_msg(RS_LOG_ERROR, "report: out of memory; outcome for %s dropped",
               o->remote);
        return;
    }
    add_history(t, p, o);
    if (o->time > p->last_seen)
        p->last_seen = o->time;
    append_line(r, o);
    if (r->listener && !r->loading)
        r->listener(r->listener_arg, o);
}

void report_set_listener(rs_report *r, report_listener fn, void *arg)
{
    r->listener = fn;
    r->listener_arg = arg;
}

static int peer_recent_first(const void *a, const void *b)
{
    const report_peer *x = *(report_peer *const *)a;
    const report_peer *y = *(report_peer *const *)b;
    if (x->last_seen != y->last_seen)
        return x->last_seen > y->last_seen ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t report_peers(const rs_report *r, const char **names, int64_t *last_seen,
                    size_t max)
{
    const peer_table *t = &r->trusted;
    if (t->n > 0) /* qsort wants a non-NULL base */
        qsort(t->peers, t->n, sizeof *t->peers, peer_recent_first);
    for (size_t i = 0; i < t->n && i < max; i++) {
        if (names)
            names[i] = t->peers[i]->name;
        if (last_seen)
            last_seen[i] = t->peers[i]->last_seen;
    }
    return t->n;
}

bool report_has_peer(const rs_report *r, const char *remote)
{
    return find_peer(&r->trusted, remote) || find_peer(&r->claims, remote);
}

bool report_has_trusted(const rs_report *r, const char *remote)
{
    return find_peer(&r->trusted, remote) != NULL;
}

const report_outcome *report_latest(const rs_report *r, const char *remote,
                                    const char *local, report_leg leg)
{
    const report_peer *p = find_peer(&r->trusted, remote);
    for (size_t i = 0; p && i < p->n_latest; i++)
        if (p->latest[i].leg == leg && strcasecmp(p->latest[i].local, local) == 0)
            return &p->latest[i];
    return NULL;
}

/* The k-th newest outcome of p's history (k from 1), or NULL. */
static const report_outcome *nth_newest(const peer_table *t,
                                        const report_peer *p, size_t k)
{
    if (!p || k > p->history_len)
        return NULL;
    return &p->history[(p->history_head + t->history - k) % t->history];
}

size_t report_history(const rs_report *r, const char *remote,
                      const report_outcome **out, size_t max)
{
    const report_peer *tp = find_peer(&r->trusted, remote);
    const report_peer *cp = find_peer(&r->claims, remote);
    size_t n = 0, ti = 1, ci = 1;
    while (n < max) { /* merge the two rings, newest first */
        const report_outcome *a = nth_newest(&r->trusted, tp, ti);
        const report_outcome *b = nth_newest(&r->claims, cp, ci);
        if (!a && !b)
            break;
        if (a && (!b || a->time >= b->time)) {
            out[n++] = a;
            ti++;
        } else {
            out[n++] = b;
            ci++;
        }
    }
    return n;
}
