/* control.c -- the control socket: STATE/control.sock, mode 0600.
 *
 * A client sends one request line (at most CTL_LINE_MAX bytes, within
 * CTL_REQUEST_TIMEOUT_MS): "probe TARGET". The answer, one tab-separated
 * line each (every field sanitised: no tab, newline or other control
 * character, at most CTL_FIELD_MAX bytes):
 *   start    TARGET TOTAL MAX_SECONDS NEXT the probe runs; NEXT: seconds
 *            until the operator may start another (0: now)
 *   progress DONE TOTAL DOMAIN RESULT      after every finished domain
 *   cell     DOMAIN PROFILE RESULT DETAIL SEEN IN OUT
 *            one per test domain when finished: the probe's result and its
 *            detail, then the report's view of the target: what it saw
 *            (report_seen_name) and both legs' briefs ("" when none)
 *   unreached TEXT                         after the cells when no stream
 *            reached the target: why, in one sentence
 *   end                                    finished, then the daemon closes
 *   error    TEXT                          refused or aborted, then closes
 * A client that goes away mid-probe is detached; the probe runs on.
 * Every client here is the local operator: one requester with a budget of
 * its own (probe_budget.h), which the web crowd cannot use up.
 */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "probe.h"
#include "report.h"
#include "utf8.h"

#define CTL_LINE_MAX CONTROL_LINE_MAX /* the request line */
#define CTL_REQUEST_TIMEOUT_MS 10000  /* to send it */
#define CTL_FLUSH_TIMEOUT_MS 10000    /* to read our last lines */
#define CTL_CLIENTS_MAX 8             /* connected clients */
#define CTL_FIELD_MAX 600             /* bytes of one field */
#define CTL_QUEUE_MAX (1u << 20)      /* unread output before we give up */

typedef struct ctl_client {
    struct rs_control *ctl;
    struct ctl_client *next;
    uv_pipe_t pipe;
    uv_timer_t timer;
    char line[CTL_LINE_MAX + 1];
    size_t len;
    bool have_request;   /* the request line was read */
    bool finishing;      /* last line written, waiting for the flush */
    bool closing;        /* handles are being closed */
    int open_handles;    /* freed when both handles closed */
    rs_probe *probe;     /* the running probe we report, or NULL */
} ctl_client;

struct rs_control {
    rs_daemon *srv;
    uv_pipe_t pipe;
    bool listening;
    char *path;
    dev_t dev;           /* the socket file we made, to remove only it */
    ino_t ino;
    ctl_client *clients;
    unsigned n_clients;
    bool closing;
    bool pipe_closed;    /* the listener handle finished closing */
};

/* ---- output ----------------------------------------------------------------- */

typedef struct ctl_write {
    uv_write_t req;
    char data[];
} ctl_write;

static void client_close(ctl_client *cl);

static void control_on_write(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

/* Append s (len bytes) to the client's output. */
static void client_write(ctl_client *cl, const char *s, size_t len)
{
    if (cl->closing || cl->finishing)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > CTL_QUEUE_MAX) {
        log_msg(RS_LOG_WARN, "control: a client does not read its answer; "
               "dropping it");
        client_close(cl);
        return;
    }
    ctl_write *w = malloc(sizeof *w + len);
    if (!w) {
        log_msg(RS_LOG_ERROR, "control: out of memory; dropping a client");
        client_close(cl);
        return;
    }
    memcpy(w->data, s, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &buf, 1, control_on_write) < 0) {
        free(w);
        client_close(cl);
    }
}

/* Copy src into dst (n bytes) as one field: control characters become a
 * space, at most CTL_FIELD_MAX bytes, not cutting a UTF-8 sequence. */
static void field(char *dst, size_t n, const char *src)
{
    size_t max = n - 1 < CTL_FIELD_MAX ? n - 1 : CTL_FIELD_MAX;
    size_t len = src ? utf8_cut(src, max) : 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)src[k];
        dst[k] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    dst[len] = '\0';
}

/* One line of fields separated by tabs, each sanitised. */
static void client_line(ctl_client *cl, size_t nf, const char *const *fields)
{
    size_t cap = nf * (CTL_FIELD_MAX + 1) + 2, len = 0;
    char *out = malloc(cap);
    if (!out) {
        client_close(cl);
        return;
    }
    for (size_t i = 0; i < nf; i++) {
        char f[CTL_FIELD_MAX + 1];
        field(f, sizeof f, fields[i]);
        size_t fl = strlen(f);
        memcpy(out + len, f, fl);
        len += fl;
        out[len++] = i + 1 < nf ? '\t' : '\n';
    }
    client_write(cl, out, len);
    free(out);
}

/* ---- client lifetime ------------------------------------------------------- */

static void ctl_maybe_free(rs_control *c);

static void control_on_client_handle_closed(uv_handle_t *h)
{
    ctl_client *cl = h->data;
    if (--cl->open_handles > 0)
        return;
    rs_control *c = cl->ctl;
    for (ctl_client **pp = &c->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    c->n_clients--;
    free(cl);
    ctl_maybe_free(c);
}

static void client_close(ctl_client *cl)
{
    if (cl->closing)
        return;
    cl->closing = true;
    if (cl->probe) {
        probe_detach(cl->probe); /* the probe goes on without us */
        cl->probe = NULL;
    }
    uv_timer_stop(&cl->timer);
    uv_close((uv_handle_t *)&cl->timer, control_on_client_handle_closed);
    uv_close((uv_handle_t *)&cl->pipe, control_on_client_handle_closed);
}

static void control_on_flush_timeout(uv_timer_t *t)
{
    client_close(t->data);
}

static void control_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    ctl_client *cl = req->data;
    free(req);
    client_close(cl);
}

/* The answer is complete: close once the client has it (bounded wait). */
static void client_finish(ctl_client *cl)
{
    if (cl->closing || cl->finishing)
        return;
    cl->finishing = true;
    uv_read_stop((uv_stream_t *)&cl->pipe);
    uv_timer_start(&cl->timer, control_on_flush_timeout, CTL_FLUSH_TIMEOUT_MS, 0);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) {
        client_close(cl);
        return;
    }
    req->data = cl;
    if (uv_shutdown(req, (uv_stream_t *)&cl->pipe, control_on_shutdown) < 0) {
        free(req);
        client_close(cl);
    }
}

static void client_error(ctl_client *cl, const char *text)
{
    const char *f[] = {"error", text};
    client_line(cl, 2, f);
    client_finish(cl);
}

/* ---- probe ---------------------------------------------------------------- */

static void write_cells(ctl_client *cl, rs_probe *p)
{
    rs_daemon *srv = cl->ctl->srv;
    const rs_config *cfg = srv->cfg;
    report_cell *cells = cfg->n_domains ? calloc(cfg->n_domains, sizeof *cells)
                                        : NULL;
    if (cells && srv->report)
        report_matrix(srv->report, probe_target(p), cfg, cells);
    size_t done, total;
    probe_counts(p, &done, &total);
    for (size_t i = 0; i < total; i++) {
        probe_result r;
        const char *detail;
        const char *name = probe_domain(p, i, &r, &detail);
        if (!name)
            continue;
        const report_cell *cell = NULL;
        if (cells && srv->report) {
            if (i < cfg->n_domains && strcasecmp(cfg->domains[i].name, name) == 0)
                cell = &cells[i];
            for (size_t k = 0; !cell && k < cfg->n_domains; k++)
                if (strcasecmp(cfg->domains[k].name, name) == 0)
                    cell = &cells[k];
        }
        const config_domain *dc = config_find_domain(cfg, name);
        char in[400] = "", out[400] = "";
        if (cell) {
            report_outcome_brief(cell->in, in, sizeof in);
            report_outcome_brief(cell->out, out, sizeof out);
        }
        const char *f[] = {"cell", name,
                           dc && dc->profile ? dc->profile->label : "",
                           probe_result_name(r), detail,
                           cell ? report_seen_name(cell->seen) : "",
                           in, out};
        client_line(cl, sizeof f / sizeof f[0], f);
    }
    free(cells);
}

static void control_on_progress(void *arg, rs_probe *p, size_t done, size_t total,
                                size_t just_finished)
{
    ctl_client *cl = arg;
    char d[32], t[32];
    snprintf(d, sizeof d, "%zu", done);
    snprintf(t, sizeof t, "%zu", total);
    probe_result r;
    const char *detail;
    const char *name = probe_domain(p, just_finished, &r, &detail);
    const char *f[] = {"progress", d, t, name ? name : "", probe_result_name(r)};
    client_line(cl, 5, f);
    if (done < total || cl->closing)
        return;
    cl->probe = NULL; /* freed after this call */
    if (probe_stopped(p)) {
        client_error(cl, "the responder is stopping; the probe did not finish");
        return;
    }
    write_cells(cl, p);
    char why[400];
    if (probe_unreached(p, why, sizeof why)) {
        const char *u[] = {"unreached", why};
        client_line(cl, 2, u);
    }
    const char *e[] = {"end"};
    client_line(cl, 1, e);
    client_finish(cl);
}

void control_parse_request(const char *data, size_t len, control_request *out)
{
    out->kind = CONTROL_REQUEST_BAD;
    out->target[0] = '\0';
    out->error = NULL;
    const char *nl = memchr(data, '\n', len);
    if (!nl) {
        if (len >= CONTROL_LINE_MAX)
            out->error = "request line too long";
        else
            out->kind = CONTROL_REQUEST_INCOMPLETE;
        return;
    }
    size_t n = (size_t)(nl - data);
    if (n > CONTROL_LINE_MAX) {
        out->error = "request line too long";
        return;
    }
    if (memchr(data, '\0', n)) {
        out->error = "NUL byte in the request";
        return;
    }
    if (n > 0 && data[n - 1] == '\r')
        n--;
    if (n < 6 || memcmp(data, "probe ", 6) != 0) {
        out->error = "unknown request; expected 'probe TARGET'";
        return;
    }
    const char *target = data + 6;
    size_t target_len = n - 6;
    if (memchr(target, ' ', target_len) || memchr(target, '\t', target_len)) {
        out->error = "expected 'probe TARGET' with one domain name";
        return;
    }
    memcpy(out->target, target, target_len);
    out->target[target_len] = '\0';
    out->kind = CONTROL_REQUEST_PROBE;
}

static void handle_request(ctl_client *cl, const char *target)
{
    probe_refusal why;
    probe_budget_requester operator;
    probe_budget_local_requester(&operator);
    rs_daemon *srv = cl->ctl->srv;
    rs_probe *p = probe_start(srv, target, &operator, control_on_progress, cl, &why);
    if (!p) {
        log_msg(RS_LOG_INFO, "control: probe refused: %s", why.text);
        client_error(cl, why.text[0] ? why.text : "the probe could not start");
        return;
    }
    cl->probe = p;
    uv_timer_stop(&cl->timer); /* the probe bounds the time from now */
    size_t done, total;
    probe_counts(p, &done, &total);
    char t[32], m[32], next[32];
    snprintf(t, sizeof t, "%zu", total);
    snprintf(m, sizeof m, "%u", probe_max_seconds(p));
    snprintf(next, sizeof next, "%u", probe_next_wait(srv, &operator));
    const char *f[] = {"start", probe_target(p), t, m, next};
    client_line(cl, 5, f);
}

static void control_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    ctl_client *cl = h->data;
    if (cl->have_request) {
        static char sink[256]; /* after the request: read and ignore */
        *buf = uv_buf_init(sink, sizeof sink);
        return;
    }
    *buf = uv_buf_init(cl->line + cl->len, (unsigned)(CTL_LINE_MAX - cl->len));
}

static void control_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    ctl_client *cl = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        /* the client went away: a running probe goes on (detached) */
        client_close(cl);
        return;
    }
    if (cl->have_request || cl->finishing || cl->closing)
        return;
    cl->len += (size_t)nread;
    control_request req;
    control_parse_request(cl->line, cl->len, &req);
    if (req.kind == CONTROL_REQUEST_INCOMPLETE)
        return;
    cl->have_request = true;
    if (req.kind == CONTROL_REQUEST_BAD) {
        client_error(cl, req.error);
        return;
    }
    handle_request(cl, req.target);
}

static void control_on_request_timeout(uv_timer_t *t)
{
    ctl_client *cl = t->data;
    client_error(cl, "no request within 10 s");
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void control_on_connection(uv_stream_t *server, int status)
{
    rs_control *c = server->data;
    if (status < 0) {
        log_msg(RS_LOG_WARN, "control: accept: %s", uv_strerror(status));
        return;
    }
    ctl_client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        /* accept and drop, so the pending connection does not spin */
        uv_pipe_t *tmp = malloc(sizeof *tmp);
        if (tmp) {
            uv_pipe_init(c->srv->loop, tmp, 0);
            if (uv_accept(server, (uv_stream_t *)tmp) == 0)
                log_msg(RS_LOG_ERROR, "control: out of memory; client dropped");
            uv_close((uv_handle_t *)tmp, free_handle);
        }
        return;
    }
    cl->ctl = c;
    uv_pipe_init(c->srv->loop, &cl->pipe, 0);
    uv_timer_init(c->srv->loop, &cl->timer);
    cl->pipe.data = cl;
    cl->timer.data = cl;
    cl->open_handles = 2;
    cl->next = c->clients;
    c->clients = cl;
    c->n_clients++;
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
        client_close(cl);
        return;
    }
    if (c->n_clients > CTL_CLIENTS_MAX) {
        log_msg(RS_LOG_WARN, "control: too many clients (%u); one refused",
               CTL_CLIENTS_MAX);
        client_error(cl, "too many control clients; try again later");
        return;
    }
    uv_timer_start(&cl->timer, control_on_request_timeout, CTL_REQUEST_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)&cl->pipe, control_on_alloc, control_on_read) < 0)
        client_close(cl);
}

/* ---- open and close ----------------------------------------------------- */

static void ctl_maybe_free(rs_control *c)
{
    if (c->closing && c->pipe_closed && !c->clients) {
        free(c->path);
        free(c);
    }
}

static void control_on_listener_closed(uv_handle_t *h)
{
    rs_control *c = h->data;
    c->pipe_closed = true;
    ctl_maybe_free(c);
}

rs_control *control_open(rs_daemon *srv, const char *state_dir)
{
    struct sockaddr_un sun;
    size_t need = strlen(state_dir) + 1 + strlen(RS_CONTROL_SOCKET) + 1;
    if (need > sizeof sun.sun_path) {
        fprintf(stderr, "%s/%s: the control socket's path is longer than a "
                "Unix socket allows (%zu bytes); use a shorter state_dir\n",
                state_dir, RS_CONTROL_SOCKET, sizeof sun.sun_path - 1);
        return NULL;
    }
    rs_control *c = calloc(1, sizeof *c);
    if (c)
        c->path = malloc(need);
    if (!c || !c->path) {
        if (c)
            free(c);
        fprintf(stderr, "control socket: out of memory\n");
        return NULL;
    }
    snprintf(c->path, need, "%s/%s", state_dir, RS_CONTROL_SOCKET);
    c->srv = srv;

    struct stat st;
    if (lstat(c->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fprintf(stderr, "%s: exists and is not a socket; not replacing "
                    "it\n", c->path);
            goto fail;
        }
        if (unlink(c->path) < 0) {
            fprintf(stderr, "%s: cannot remove the stale socket: %s\n",
                    c->path, strerror(errno));
            goto fail;
        }
    }
    uv_pipe_init(srv->loop, &c->pipe, 0);
    c->pipe.data = c;
    /* created 0600: nobody else may ever connect, not even between bind
     * and chmod (and nobody can connect before listen) */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&c->pipe, c->path);
    umask(old);
    if (rc == 0 && chmod(c->path, 0600) < 0)
        rc = uv_translate_sys_error(errno);
    if (rc == 0 && lstat(c->path, &st) == 0) {
        c->dev = st.st_dev;
        c->ino = st.st_ino;
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->pipe, 16, control_on_connection);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot listen: %s\n", c->path, uv_strerror(rc));
        unlink(c->path);
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, control_on_listener_closed);
        return NULL;
    }
    c->listening = true;
    log_msg(RS_LOG_INFO, "control socket %s", c->path);
    return c;
fail:
    free(c->path);
    free(c);
    return NULL;
}

void control_close(rs_control *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    struct stat st;
    if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
        unlink(c->path); /* only our own: a newer daemon may have replaced it */
    for (ctl_client *cl = c->clients; cl; cl = cl->next) {
        if (cl->probe)
            client_error(cl, "the responder is stopping");
        client_close(cl);
    }
    uv_close((uv_handle_t *)&c->pipe, control_on_listener_closed);
}
