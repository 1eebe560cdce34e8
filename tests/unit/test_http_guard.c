/* test_http_guard.c -- who holds the connections and who gives way
 * (http_guard.h), with a real libmicrohttpd on loopback and a clock the test
 * moves: the per-address cap, the reserve that only the ACME challenge and
 * the CRLs may use when every other connection is busy answering, the
 * header deadline, and a slow reader giving way once past it. A request to
 * /hold is "answered" by suspending it: its answer never goes out, as with
 * a client that does not read. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "http_guard.h"

static uint64_t clock_ms = 1000;     /* the guard's time, moved by the test */
static rs_http_guard *guard;
static const http_guard_limits lim = {.total = 2, .per_address = 2, .reserved = 1,
                                      .deadline_s = 10, .ipv6_prefix = 64};
static char marker;
static struct MHD_Connection *held[4];  /* suspended by /hold */
static size_t n_held;

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    (void)cls;
    (void)len;
    return http_guard_admit(guard, &lim, sa, false, clock_ms) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    http_guard_notify(guard, c, ctx, code, clock_ms);
}

static void *on_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    http_guard_request_line(guard, c, uri);
    return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con_cls;
    (void)toe;
    http_guard_request_done(guard, c, clock_ms);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (status == 503)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    http_guard_answering(guard, c, clock_ms);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)data;
    (void)size;
    if (!*con_cls) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (!http_guard_may_serve(guard, &lim, c))
        return answer(c, 503, "busy");
    if (strcmp(url, "/hold") == 0 && n_held < 4) { /* an answer that never goes out */
        bool again = false;
        for (size_t i = 0; i < n_held; i++)
            again |= held[i] == c;
        if (again) /* resumed at the end */
            return answer(c, 200, "ok");
        http_guard_answering(guard, c, clock_ms);
        held[n_held++] = c;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    return answer(c, 200, "ok");
}

/* A connection from 127.0.0.last to port that sent request (may be NULL). */
static int client(unsigned last, unsigned port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000000u | last);
    dst.sin_addr.s_addr = htonl(0x7f000001u);
    dst.sin_port = htons((uint16_t)port);
    if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        perror("client");
        exit(1);
    }
    if (request && write(fd, request, strlen(request)) != (ssize_t)strlen(request))
        exit(1);
    return fd;
}

/* Run the daemon until fd has something to read (at most 2 s); the status
 * of the HTTP answer, 0 when the server closed without one, -1 when nothing
 * came. */
static int outcome(struct MHD_Daemon *d, int fd)
{
    for (int i = 0; i < 200; i++) {
        MHD_run_wait(d, 10);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            continue;
        char buf[256] = "";
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            return 0;
        return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
    }
    return -1;
}

/* Let the daemon take what waits (accepts, requests), about 50 ms. */
static void settle(struct MHD_Daemon *d)
{
    for (int i = 0; i < 5; i++)
        MHD_run_wait(d, 10);
}

int main(void)
{
    guard = http_guard_new(lim.total + lim.reserved + 8, "test", NULL, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, 0, on_accept, NULL, on_request,
        NULL, MHD_OPTION_CONNECTION_LIMIT, 16u,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_line, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    CHECK(guard && info);
    if (!guard || !info)
        return check_done();
    unsigned port = info->port;
    const char *hold = "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *page = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *crl = "GET /crl/ca.crl HTTP/1.1\r\nHost: x\r\n\r\n";

    /* an address holds per_address connections; a third is refused */
    int a1 = client(41, port, NULL), a2 = client(41, port, NULL);
    settle(d);
    int a3 = client(41, port, NULL);
    CHECK(outcome(d, a3) == 0);
    close(a1);
    close(a2);
    close(a3);
    settle(d);

    /* both general slots answer slowly; nothing may give way */
    int h1 = client(51, port, hold), h2 = client(52, port, hold);
    settle(d);
    /* a page on the reserve: 503; the CRL there: served */
    int b = client(53, port, page);
    CHECK(outcome(d, b) == 503);
    close(b);
    settle(d);
    int c = client(54, port, crl);
    CHECK(outcome(d, c) == 200);
    /* the reserve is taken by c (kept alive, waiting) and the general slots
     * answer: c gives way to the next, which is served on the reserve */
    int e = client(55, port, crl);
    CHECK(outcome(d, e) == 200);
    CHECK(outcome(d, c) == 0); /* cut */
    close(c);
    /* past the deadline: e (waiting, kept alive) is cut by the sweep */
    clock_ms += 10000;
    CHECK(http_guard_sweep(guard, &lim, clock_ms) == UINT64_MAX);
    CHECK(outcome(d, e) == 0);
    close(e);
    settle(d);
    /* the slow readers are past the deadline too: one gives way to a page */
    int f = client(56, port, page);
    CHECK(outcome(d, f) == 200);
    close(f);
    close(h1);
    close(h2);
    for (size_t i = 0; i < n_held; i++)
        MHD_resume_connection(held[i]);
    settle(d);
    MHD_stop_daemon(d);
    http_guard_free(guard);
    return check_done();
}
