/* fuzz_conversation.c -- libFuzzer target for a whole inbound s2s stream:
 * each input is what a peer sends on one TCP connection to the real daemon
 * (rs_server: listener, conn, s2s_in, dialback, router, services, report),
 * in plaintext, mostly to no-tls.fuzz.example (a profile without TLS).
 *
 * Once per process: a private network namespace (unshare; a user namespace
 * too when not root) with only loopback up, so that whatever the daemon
 * dials or resolves for a fuzzed domain (dialback verification, replies)
 * fails locally and nothing leaves the machine; certificates for four test
 * domains generated into a temporary state dir; the server started from an
 * embedded config on 127.0.0.1:5269 inside that namespace.
 *
 * Per input: connect, write the input, half-close, run the loop until the
 * daemon closes the stream (or 2 s pass), then until every stream it made is
 * gone. The sanitizers and the daemon's own checks are the contract; a
 * stream still open 2 s after the peer's end of input is a hang and aborts.
 * Exits 77 (skipped) when no network namespace can be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "catalog.h"
#include "certgen.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define BASE "fuzz.example"
#define PORT 5269
#define CLOSE_BOUND_MS 2000  /* the daemon must close within this of our EOF */

static const char *const labels[] = {"no-tls", "valid", "dialback-only",
                                     "no-dialback"};

static uv_loop_t loop;
static rs_server srv;
static char state[64];

/* ---- once ---------------------------------------------------------------- */

static void skip(const char *why)
{
    fprintf(stderr, "fuzz_conversation: skipped: %s: %s\n", why, strerror(errno));
    exit(77);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_conversation: %s\n", what);
    exit(1);
}

/* A network namespace of our own with lo up. */
static void isolate_network(void)
{
    if (unshare(CLONE_NEWNET) != 0) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
            skip("unshare(CLONE_NEWNET)");
        /* map ourselves so that files we create keep our ids */
        char map[64];
        FILE *f = fopen("/proc/self/setgroups", "w");
        if (f) {
            fputs("deny", f);
            fclose(f);
        }
        snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
        f = fopen("/proc/self/uid_map", "w");
        if (!f || fputs(map, f) < 0 || fclose(f) != 0)
            skip("uid_map");
        snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
        f = fopen("/proc/self/gid_map", "w");
        if (!f || fputs(map, f) < 0 || fclose(f) != 0)
            skip("gid_map");
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        skip("lo flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        skip("lo up");
    close(s);
}

static void make_certs(void)
{
    char certs[128], domain[128], err[512];
    snprintf(certs, sizeof certs, "%s/certs", state);
    if (certgen_pki(certs, false, err, sizeof err) != 0)
        die(err);
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        snprintf(domain, sizeof domain, "%s.%s", labels[i], BASE);
        if (certgen_domain(certs, domain, BASE, cat_find(labels[i]), false, err,
                           sizeof err) != 0)
            die(err);
    }
}

static void start_server(void)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
        "base_domain = \"" BASE "\";\n"
        "state_dir = \"%s\";\n"
        "trust_system = false;\n"
        "listen = ( { address = \"127.0.0.1\"; port = %d; } );\n"
        "limits = { max_stanza_bytes = 4096; max_depth = 8; unauth_timeout = 5;"
        " echo_per_minute = 1000000; report_file_bytes = 65536; };\n"
        "outbound = { allow = ( \"127.0.0.0/8\" ); };\n"
        "domains = (", state, PORT);
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "%s { name = \"%s." BASE "\"; profile = \"%s\"; }",
                      i ? "," : "", labels[i], labels[i]);
    snprintf(text + n, sizeof text - (size_t)n, " );\n");
    rs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || rs_config_load_string(text, "fuzz.conf", state, cfg, stderr) != 0)
        die("the embedded config was refused");
    uv_loop_init(&loop);
    if (rs_server_start(&srv, &loop, cfg, NULL) != 0)
        die("the server did not start");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    isolate_network();
    strcpy(state, "/tmp/fuzz-conversation-XXXXXX");
    if (!mkdtemp(state))
        die("mkdtemp");
    /* FUZZ_CONVERSATION_LOG=1 shows the daemon's log, to see what an input does */
    rs_log_set_level(getenv("FUZZ_CONVERSATION_LOG") ? RS_LOG_DEBUG : RS_LOG_ERROR);
    make_certs();
    start_server();
    return 0;
}

/* ---- per input ------------------------------------------------------------ */

typedef struct peer {
    uv_poll_t poll;
    uv_timer_t bound;
    int fd;
    bool closed;     /* the daemon closed the stream */
    bool timed_out;  /* it did not within CLOSE_BOUND_MS */
} peer;

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    peer *p = h->data;
    char buf[4096];
    ssize_t n = status < 0 ? -1 : recv(p->fd, buf, sizeof buf, 0);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    p->closed = true; /* EOF or reset */
    uv_stop(&loop);
}

static void on_bound(uv_timer_t *t)
{
    peer *p = t->data;
    p->timed_out = true;
    uv_stop(&loop);
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    peer p = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (p.fd < 0 || connect(p.fd, (struct sockaddr *)&sin, sizeof sin) != 0)
        die("connect to the daemon");
    /* the input fits the socket buffers (-max_len), so this does not block */
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(p.fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the daemon may refuse early and reset */
        off += (size_t)n;
    }
    shutdown(p.fd, SHUT_WR);
    uv_poll_init(&loop, &p.poll, p.fd);
    uv_timer_init(&loop, &p.bound);
    p.poll.data = &p;
    p.bound.data = &p;
    uv_poll_start(&p.poll, UV_READABLE | UV_DISCONNECT, on_readable);
    uv_timer_start(&p.bound, on_bound, CLOSE_BOUND_MS, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&p.poll, on_closed);
    uv_close((uv_handle_t *)&p.bound, on_closed);
    uv_run(&loop, UV_RUN_NOWAIT);
    close(p.fd);
    if (p.timed_out && !p.closed) {
        fprintf(stderr, "fuzz_conversation: the daemon kept the stream open "
                        "%d ms after the peer's end of input\n", CLOSE_BOUND_MS);
        abort();
    }
    /* let the daemon finish closing whatever the stream started */
    for (int i = 0; i < 2000 && srv.n_conns > 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (srv.n_conns > 0)
            usleep(1000);
    }
    return 0;
}
