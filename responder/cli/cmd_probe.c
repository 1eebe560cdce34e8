/* cmd_probe.c -- `xmpp-responder probe TARGET`: ask the running daemon,
 * through its control socket (control.h), to ping TARGET from every test
 * domain; show progress, the matrix with both legs, and judge it against a
 * policy (policy.h).
 *
 * Exit status: 0 the target behaves as the policy says, 1 it does not (the
 * differences are listed), 2 usage, configuration, policy file or
 * connection errors, or the daemon refused the probe. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "cmd.h"
#include "config.h"
#include "control.h"
#include "json.h"
#include "policy.h"
#include "report.h"
#include "probe_budget.h"

#define LINE_MAX_BYTES 65536     /* one line from the daemon */
#define CELLS_MAX 100000         /* cell lines we keep */
#define CONNECT_WAIT_S 30        /* until the daemon says "start" */
#define SLACK_S 30               /* beyond the daemon's own bound */

static void probe_usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder probe TARGET [-c FILE] [--policy strict|"
            "pedantic|lenient|FILE]\n"
            "                            [--json] [--timeout SECONDS]\n"
            "\n"
            "Asks the running daemon (through STATE/%s) to ping the XMPP\n"
            "server of TARGET from every test domain, waits for the pongs and\n"
            "for TARGET's connections back, and prints one row per domain:\n"
            "what TARGET did (accepted = the ping was answered, refused,\n"
            "unknown = the network or our side stopped it: never a verdict),\n"
            "what the policy expects, and both streams (in: TARGET dialled\n"
            "us, out: we dialled TARGET). Progress goes to stderr.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE  the daemon's config (default ./%s/responder.conf)\n"
            "  --policy POLICY    strict (default): what RFC 6120/7590/6125\n"
            "                     require of a server insisting on authenticated\n"
            "                     TLS; rows where the specs leave room are only\n"
            "                     advisories;\n"
            "                     pedantic: strict, advisories included;\n"
            "                     lenient: what a dialback-accepting server does;\n"
            "                     FILE: lines 'LABEL accept|refuse' ('#' comments)\n"
            "  --json             print the result as JSON instead of a table\n"
            "  --timeout SECONDS  give up waiting after this long (default: the\n"
            "                     daemon's own bound plus %d s)\n"
            "  -h, --help         this text\n"
            "\n"
            "exit status: 0 as the policy says, 1 differences found, 2 usage,\n"
            "policy or connection errors, the daemon refused the probe, or no\n"
            "stream reached TARGET (the reason is printed)\n",
            RS_CONTROL_SOCKET, RS_DEFAULT_STATE, SLACK_S);
}

static int bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "xmpp-responder probe: %s%s%s\n", what, arg ? " " : "",
            arg ? arg : "");
    probe_usage(stderr);
    return 2;
}

/* ---- what the daemon sent ---------------------------------------------- */

typedef struct cell {
    char *domain, *profile, *result, *detail, *seen, *in, *out;
} cell;

typedef struct run {
    const char *target_arg;
    char target[256];     /* as the daemon normalised it */
    size_t total;         /* domains, from "start" */
    unsigned max_seconds; /* the daemon's bound, from "start" */
    bool started, ended;
    size_t done, pong, error, refused, unknown; /* progress counts */
    char unreached[512];  /* why no stream reached the target, or "" */
    double seconds;       /* the whole run's wall time */
    cell *cells;
    size_t n_cells, cap_cells;
    bool tty;             /* stderr is a terminal: rewrite one line */
    bool progress_open;   /* a \r line is on the terminal */
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_print(run *r)
{
    char line[400];
    int n = snprintf(line, sizeof line, "probing %s: %zu/%zu done (%zu pong, ",
                     r->target, r->done, r->total, r->pong);
    if (r->error)
        n += snprintf(line + n, sizeof line - (size_t)n, "%zu error, ", r->error);
    n += snprintf(line + n, sizeof line - (size_t)n, "%zu refused", r->refused);
    if (r->unknown)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %zu unknown", r->unknown);
    snprintf(line + n, sizeof line - (size_t)n, ")");
    if (r->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        r->progress_open = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

static void progress_close(run *r)
{
    if (r->progress_open)
        fputc('\n', stderr);
    r->progress_open = false;
}

/* Split line at tabs into at most max fields; returns the count. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *s = line;
    while (n < max) {
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (!t)
            break;
        *t = '\0';
        s = t + 1;
    }
    return n;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > 10000000ull)
        return false;
    *out = (size_t)v;
    return true;
}

static void cells_free(run *r)
{
    for (size_t i = 0; i < r->n_cells; i++) {
        cell *c = &r->cells[i];
        free(c->domain);
        free(c->profile);
        free(c->result);
        free(c->detail);
        free(c->seen);
        free(c->in);
        free(c->out);
    }
    free(r->cells);
    r->cells = NULL;
    r->n_cells = r->cap_cells = 0;
}

/* -1 protocol error (message printed), 0 go on, 1 refused by the daemon
 * (message printed), 2 "end". */
static int handle_line(run *r, char *line)
{
    char *f[9];
    size_t n = split(line, f, 9);
    if (strcmp(f[0], "error") == 0) {
        progress_close(r);
        fprintf(stderr, "xmpp-responder probe: %s\n",
                n > 1 && f[1][0] ? f[1] : "the daemon refused without a reason");
        return 1;
    }
    if (strcmp(f[0], "start") == 0 && n >= 4) {
        size_t max;
        if (!parse_size(f[2], &r->total) || !parse_size(f[3], &max)) {
            fprintf(stderr, "xmpp-responder probe: bad start line from the "
                    "daemon\n");
            return -1;
        }
        snprintf(r->target, sizeof r->target, "%s", f[1]);
        r->max_seconds = (unsigned)max;
        r->started = true;
        fprintf(stderr, "probing %s from %zu test domains (at most %u s)\n",
                r->target, r->total, r->max_seconds);
        size_t next;
        if (n >= 5 && parse_size(f[4], &next)) { /* older daemons: no NEXT */
            char when[64];
            probe_budget_when((unsigned)next, (int64_t)time(NULL), when, sizeof when);
            fprintf(stderr, "the operator's next probe may start %s\n", when);
        }
        return 0;
    }
    if (strcmp(f[0], "progress") == 0 && n >= 5) {
        size_t done;
        if (!parse_size(f[1], &done))
            return 0;
        r->done = done;
        if (strcmp(f[4], "pong") == 0)
            r->pong++;
        else if (strcmp(f[4], "error") == 0)
            r->error++;
        else if (strcmp(f[4], "unknown") == 0)
            r->unknown++;
        else
            r->refused++;
        progress_print(r);
        return 0;
    }
    if (strcmp(f[0], "cell") == 0 && n >= 8) {
        if (r->n_cells >= CELLS_MAX)
            return 0;
        if (r->n_cells == r->cap_cells) {
            size_t nc = r->cap_cells ? r->cap_cells * 2 : 64;
            cell *c = realloc(r->cells, nc * sizeof *c);
            if (!c) {
                fprintf(stderr, "xmpp-responder probe: out of memory\n");
                return -1;
            }
            r->cells = c;
            r->cap_cells = nc;
        }
        cell *c = &r->cells[r->n_cells];
        *c = (cell){strdup(f[1]), strdup(f[2]), strdup(f[3]), strdup(f[4]),
                    strdup(f[5]), strdup(f[6]), strdup(f[7])};
        r->n_cells++;
        if (!c->domain || !c->profile || !c->result || !c->detail || !c->seen ||
            !c->in || !c->out) {
            fprintf(stderr, "xmpp-responder probe: out of memory\n");
            return -1;
        }
        return 0;
    }
    if (strcmp(f[0], "unreached") == 0 && n >= 2) {
        snprintf(r->unreached, sizeof r->unreached, "%s", f[1]);
        return 0;
    }
    if (strcmp(f[0], "end") == 0) {
        r->ended = true;
        return 2;
    }
    return 0; /* a line type we do not know: newer daemon */
}

/* Connect, send the request, read until "end". 0 ok, 2 error (printed). */
static int talk(run *r, const char *sock_path, int timeout_s)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(sock_path) >= sizeof sun.sun_path) {
        fprintf(stderr, "xmpp-responder probe: %s: path too long for a Unix "
                "socket\n", sock_path);
        return 2;
    }
    memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "xmpp-responder probe: socket: %s\n", strerror(errno));
        return 2;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        fprintf(stderr, "xmpp-responder probe: cannot reach the daemon at %s: "
                "%s \xe2\x80\x94 is `xmpp-responder run` running?\n", sock_path,
                strerror(errno));
        close(fd);
        return 2;
    }
    char req[400];
    int rl = snprintf(req, sizeof req, "probe %s\n", r->target_arg);
    for (int off = 0; off < rl;) {
        ssize_t w = send(fd, req + off, (size_t)(rl - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "xmpp-responder probe: writing to %s: %s\n",
                    sock_path, strerror(errno));
            close(fd);
            return 2;
        }
        off += (int)w;
    }
    char *buf = malloc(LINE_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        fprintf(stderr, "xmpp-responder probe: out of memory\n");
        return 2;
    }
    size_t len = 0;
    double t0 = now_s();
    int rc = 2;
    for (;;) {
        double limit = timeout_s > 0 ? timeout_s
                       : r->started ? (double)r->max_seconds + SLACK_S
                                    : CONNECT_WAIT_S;
        double left = t0 + limit - now_s();
        if (left <= 0) {
            progress_close(r);
            fprintf(stderr, "xmpp-responder probe: no %s from the daemon "
                    "within %.0f s\n", r->started ? "result" : "answer", limit);
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            fprintf(stderr, "xmpp-responder probe: poll: %s\n", strerror(errno));
            break;
        }
        if (pr == 0)
            continue;
        ssize_t got = recv(fd, buf + len, LINE_MAX_BYTES - len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            progress_close(r);
            fprintf(stderr, "xmpp-responder probe: the daemon closed the "
                    "connection before the probe finished%s%s\n",
                    got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
            break;
        }
        len += (size_t)got;
        buf[len] = '\0';
        char *start = buf, *nl;
        int hr = 0;
        while (hr == 0 && (nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
            *nl = '\0';
            if (memchr(start, '\0', (size_t)(nl - start))) {
                fprintf(stderr, "xmpp-responder probe: NUL byte from the "
                        "daemon\n");
                hr = -1;
                break;
            }
            hr = handle_line(r, start);
            start = nl + 1;
        }
        if (hr == 2) {
            rc = 0;
            break;
        }
        if (hr != 0)
            break;
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len >= LINE_MAX_BYTES) {
            fprintf(stderr, "xmpp-responder probe: a line from the daemon is "
                    "longer than %d bytes\n", LINE_MAX_BYTES);
            break;
        }
    }
    progress_close(r);
    free(buf);
    close(fd);
    return rc;
}

/* ---- the verdict ----------------------------------------------------------- */

typedef struct judged {
    const catalog_profile *prof;
    bool accepted;
    bool unknown;      /* no verdict: the network or our side stopped it */
    policy_verdict v;
} judged;

/* The row's mark as printed: the policy's, or "unknown". */
static const char *mark_name(const judged *x)
{
    return x->unknown ? "unknown" : policy_mark_name(x->v.mark);
}

static const char *result_word(const judged *x)
{
    return x->unknown ? "unknown" : x->accepted ? "accepted" : "refused";
}

static bool answered(const char *result)
{
    /* an iq error came back over an authenticated stream: both legs held */
    return strcmp(result, "pong") == 0 || strcmp(result, "error") == 0;
}

static void print_text(const run *r, const rs_policy *pol, const judged *j,
                       const rs_report *rep)
{
    size_t dw = 6, pw = 7;
    for (size_t i = 0; i < r->n_cells; i++) {
        size_t a = strlen(r->cells[i].domain), b = strlen(r->cells[i].profile);
        dw = a > dw ? a : dw;
        pw = b > pw ? b : pw;
    }
    if (dw > 60)
        dw = 60;
    if (pw > 30)
        pw = 30;
    printf("probe of %s from %zu test domains, policy %s\n\n", r->target,
           r->n_cells, pol->name);
    printf("%-8s  %-*s  %-*s  %-8s  %-8s  %s\n", "MARK", (int)dw, "DOMAIN",
           (int)pw, "PROFILE", "RESULT", "EXPECTED", "DETAIL");
    size_t acc = 0, ok = 0, diff = 0, adv = 0, unchecked = 0, unknown = 0;
    for (size_t i = 0; i < r->n_cells; i++) {
        const cell *c = &r->cells[i];
        const judged *x = &j[i];
        acc += x->accepted;
        unknown += x->unknown;
        ok += x->v.mark == POLICY_OK;
        diff += x->v.mark == POLICY_DIFF;
        adv += x->v.mark == POLICY_ADVISORY;
        unchecked += x->v.mark == POLICY_UNCHECKED;
        /* "pong in 0.12 s" says it already; "timeout: no answer ..." */
        bool says = strncmp(c->detail, c->result, strlen(c->result)) == 0;
        printf("%-8s  %-*s  %-*s  %-8s  %-8s  %s%s%s\n",
               mark_name(x), (int)dw, c->domain, (int)pw,
               c->profile[0] ? c->profile : "?", result_word(x),
               x->v.checked ? catalog_expect_name(x->v.expect) : "-",
               says ? "" : c->result, c->detail[0] && !says ? ": " : "",
               c->detail);
        printf("          in:  %s\n", c->in[0] ? c->in : "(no stream from the target seen)");
        printf("          out: %s\n", c->out[0] ? c->out : "(no stream to the target seen)");
    }
    printf("\nsummary: %zu domains, %zu accepted, %zu refused, %zu unknown; policy "
           "%s: %zu OK, %zu differences, %zu advisories, %zu not checked\n",
           r->n_cells, acc, r->n_cells - acc - unknown, unknown, pol->name, ok,
           diff, adv, unchecked);
    char why[1200];
    if (diff) {
        printf("\ndifferences (%zu):\n", diff);
        for (size_t i = 0; i < r->n_cells; i++)
            if (j[i].v.mark == POLICY_DIFF) {
                policy_explain(pol, j[i].prof, j[i].accepted, &j[i].v, why, sizeof why);
                printf("  %s (%s): %s\n", r->cells[i].domain,
                       r->cells[i].profile, why);
            }
    }
    if (adv) {
        printf("\nadvisories (%zu; they do not fail the strict policy, "
               "pedantic counts them):\n", adv);
        for (size_t i = 0; i < r->n_cells; i++)
            if (j[i].v.mark == POLICY_ADVISORY) {
                policy_explain(pol, j[i].prof, j[i].accepted, &j[i].v, why, sizeof why);
                printf("  %s (%s): %s\n", r->cells[i].domain,
                       r->cells[i].profile, why);
            }
    }
    if (r->unreached[0]) {
        printf("\nresult: no stream reached %s, so nothing was tested: %s\n",
               r->target, r->unreached);
        printf("time: %.1f s\n", r->seconds);
        return;
    }
    if (acc == 0 && r->n_cells > 0)
        printf("\nnote: %s answered none of our domains, not even the "
               "controls; check that its XMPP server is reachable from the "
               "responder (DNS, port 5269) before reading the matrix\n",
               r->target);
    if (unknown)
        printf("\nnote: %zu row%s unknown: the network or the responder's own "
               "side stopped %s, not %s; probe again to test %s\n", unknown,
               unknown == 1 ? " is" : "s are", unknown == 1 ? "it" : "them",
               r->target, unknown == 1 ? "it" : "them");
    if (diff)
        printf("\nresult: %s differs from the %s policy on %zu domain%s\n",
               r->target, pol->name, diff, diff == 1 ? "" : "s");
    else
        printf("\nresult: %s behaves as the %s policy says\n", r->target,
               pol->name);
    if (rep)
        report_presented_print(stdout, rep, r->target);
    printf("time: %.1f s\n", r->seconds);
}

/* key: [the domains whose verdict carries mark]. */
static void json_domains_marked(rs_json *js, const char *key, const run *r,
                                const judged *j, policy_mark mark)
{
    json_key(js, key);
    json_arr_begin(js);
    for (size_t i = 0; i < r->n_cells; i++)
        if (j[i].v.mark == mark)
            json_str(js, r->cells[i].domain);
    json_arr_end(js);
}

static int print_json(const run *r, const rs_policy *pol, const judged *j,
                      bool passed, const rs_report *rep)
{
    rs_json js;
    json_init(&js);
    json_obj_begin(&js);
    json_kv_str(&js, "target", r->target);
    json_kv_str(&js, "policy", pol->name);
    json_kv_bool(&js, "passed", passed);
    json_kv_bool(&js, "reached", !r->unreached[0]);
    json_key(&js, "unreached");
    if (r->unreached[0])
        json_str(&js, r->unreached);
    else
        json_null(&js);
    json_kv_int(&js, "milliseconds", (int64_t)(r->seconds * 1000));
    size_t acc = 0, ok = 0, diff = 0, adv = 0, unchecked = 0, unknown = 0;
    for (size_t i = 0; i < r->n_cells; i++) {
        acc += j[i].accepted;
        unknown += j[i].unknown;
        ok += j[i].v.mark == POLICY_OK;
        diff += j[i].v.mark == POLICY_DIFF;
        adv += j[i].v.mark == POLICY_ADVISORY;
        unchecked += j[i].v.mark == POLICY_UNCHECKED;
    }
    json_key(&js, "summary");
    json_obj_begin(&js);
    json_kv_int(&js, "domains", (int64_t)r->n_cells);
    json_kv_int(&js, "accepted", (int64_t)acc);
    json_kv_int(&js, "refused", (int64_t)(r->n_cells - acc - unknown));
    json_kv_int(&js, "unknown", (int64_t)unknown);
    json_kv_int(&js, "ok", (int64_t)ok);
    json_kv_int(&js, "differences", (int64_t)diff);
    json_kv_int(&js, "advisories", (int64_t)adv);
    json_kv_int(&js, "unchecked", (int64_t)unchecked);
    json_obj_end(&js);
    json_key(&js, "domains");
    json_arr_begin(&js);
    char why[1200];
    for (size_t i = 0; i < r->n_cells; i++) {
        const cell *c = &r->cells[i];
        json_obj_begin(&js);
        json_kv_str(&js, "domain", c->domain);
        json_kv_str(&js, "profile", c->profile);
        json_kv_str(&js, "result", c->result);
        json_kv_bool(&js, "accepted", j[i].accepted);
        json_kv_str(&js, "detail", c->detail);
        json_key(&js, "expected");
        json_str(&js, j[i].v.checked ? catalog_expect_name(j[i].v.expect) : NULL);
        json_kv_str(&js, "mark", j[i].unknown ? "unknown"
                                    : j[i].v.mark == POLICY_OK ? "ok"
                                    : j[i].v.mark == POLICY_DIFF ? "difference"
                                    : j[i].v.mark == POLICY_ADVISORY ? "advisory"
                                                                      : "unchecked");
        if (j[i].v.mark == POLICY_DIFF || j[i].v.mark == POLICY_ADVISORY) {
            policy_explain(pol, j[i].prof, j[i].accepted, &j[i].v, why, sizeof why);
            json_kv_str(&js, "why", why);
        } else {
            json_key(&js, "why");
            json_null(&js);
        }
        json_kv_str(&js, "seen", c->seen);
        json_kv_str(&js, "in", c->in);
        json_kv_str(&js, "out", c->out);
        json_obj_end(&js);
    }
    json_arr_end(&js);
    json_domains_marked(&js, "differences", r, j, POLICY_DIFF);
    json_domains_marked(&js, "advisories", r, j, POLICY_ADVISORY);
    if (rep)
        report_presented_json(&js, rep, r->target);
    json_obj_end(&js);
    int rc = 0;
    if (js.failed) {
        fprintf(stderr, "xmpp-responder probe: out of memory writing JSON\n");
        rc = -1;
    } else {
        fwrite(js.text, 1, js.len, stdout);
        fputc('\n', stdout);
    }
    json_free(&js);
    return rc;
}

/* A quick sanity check before sending: the daemon validates for real. */
static bool target_sendable(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
            return false;
    return true;
}

int cmd_probe(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"policy", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *policy_spec = "strict", *target = NULL;
    bool json = false;
    int timeout_s = 0;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'p':
            policy_spec = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 't': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 86400)
                return bad_usage("--timeout wants seconds between 1 and 86400, "
                                 "got", optarg);
            timeout_s = (int)v;
            break;
        }
        case 'h':
            probe_usage(stdout);
            return 0;
        default:
            if (optopt == 'c')
                return bad_usage("option requires a file:", "-c/--config");
            if (optopt == 'p')
                return bad_usage("option requires a value:", "--policy");
            if (optopt == 't')
                return bad_usage("option requires a value:", "--timeout");
            char opt[3];
            return bad_usage("unknown option", cmd_bad_option(optopt, argv, optind, opt));
        }
    }
    if (optind >= argc)
        return bad_usage("no TARGET given", NULL);
    target = argv[optind++];
    if (optind < argc)
        return bad_usage("unexpected argument", argv[optind]);
    if (!target_sendable(target))
        return bad_usage("not a domain name:", "TARGET");

    rs_policy pol;
    if (policy_load(policy_spec, &pol, stderr) != 0)
        return 2;

    char default_path[512];
    config = cmd_config_path("probe", config, default_path, sizeof default_path);
    if (!config) {
        policy_free(&pol);
        return 2;
    }
    rs_config cfg;
    if (config_load(config, &cfg, stderr) != 0) {
        policy_free(&pol);
        return 2;
    }
    char sock_path[4200], state_dir[4096];
    snprintf(sock_path, sizeof sock_path, "%s/%s", cfg.state_dir,
             RS_CONTROL_SOCKET);
    snprintf(state_dir, sizeof state_dir, "%s", cfg.state_dir);
    unsigned history = cfg.limits.report_history;
    config_free(&cfg);

    run r = {.target_arg = target};
    snprintf(r.target, sizeof r.target, "%s", target);
    r.tty = isatty(STDERR_FILENO);
    double t0 = now_s();
    int rc = talk(&r, sock_path, timeout_s);
    r.seconds = now_s() - t0;
    if (rc != 0 || !r.ended) {
        cells_free(&r);
        policy_free(&pol);
        return 2;
    }
    judged *j = calloc(r.n_cells ? r.n_cells : 1, sizeof *j);
    if (!j) {
        fprintf(stderr, "xmpp-responder probe: out of memory\n");
        cells_free(&r);
        policy_free(&pol);
        return 2;
    }
    bool passed = true;
    for (size_t i = 0; i < r.n_cells; i++) {
        j[i].prof = catalog_find(r.cells[i].profile);
        j[i].accepted = answered(r.cells[i].result);
        j[i].unknown = strcmp(r.cells[i].result, "unknown") == 0;
        j[i].v = policy_judge(&pol, j[i].prof, j[i].accepted);
        if (j[i].unknown)
            j[i].v = (policy_verdict){.mark = POLICY_UNCHECKED};
        if (j[i].v.mark == POLICY_DIFF)
            passed = false;
    }
    if (r.unreached[0])
        passed = false; /* nothing was tested */
    /* what the target presented on the probe's streams: the report's
     * database has it (a daemon without one: the grade is not shown) */
    report_limits rl = {.max_peers = 1, .max_claims = 1, .history = history};
    char err[600];
    rs_report *rep = r.unreached[0] ? NULL
                     : report_open_reader(state_dir, &rl, r.target, 0, err, sizeof err);
    if (json) {
        if (print_json(&r, &pol, j, passed, rep) < 0)
            rc = 2;
    } else {
        print_text(&r, &pol, j, rep);
    }
    report_free(rep);
    if (rc == 0)
        rc = r.unreached[0] ? 2 : passed ? 0 : 1;
    fflush(stdout);
    free(j);
    cells_free(&r);
    policy_free(&pol);
    return rc;
}
