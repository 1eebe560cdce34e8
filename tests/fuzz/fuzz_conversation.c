/* fuzz_conversation.c -- libFuzzer target for a whole inbound s2s stream:
 * each input is what a peer sends on one TCP connection to the real daemon
 * (rs_daemon: listener, conn, s2s_in, dialback, router, services, report),
 * in plaintext, mostly to no-tls.fuzz.example (a profile without TLS).
 *
 * Once per process, the harness builds a small world of its own:
 * - a private network namespace (unshare; with a user namespace when not
 *   root) with only loopback up, and a private mount namespace whose
 *   /etc/resolv.conf names 127.0.0.1: nothing the daemon dials or resolves
 *   for a fuzzed domain leaves the machine;
 * - a DNS server on 127.0.0.1:53 (UDP) answering every A question with
 *   127.0.0.2 and every other question with "no data" (so SRV falls back
 *   to port 5269);
 * - an authoritative server for every remote domain on 127.0.0.2:5269 that
 *   answers each <db:verify/> and <db:result/> with type='valid': dialback
 *   succeeds and the peer's stanzas reach the router and the services,
 *   whose replies come back to it;
 * - certificates for four test domains in a temporary state dir, and the
 *   server started from an embedded config on 127.0.0.1:5269.
 *
 * Per input: a form feed (0x0c, never valid in XML) splits the input into
 * parts (at most 8). Connect, write each part and run the loop until it is
 * quiet (QUIET_MS without traffic on the harness's sockets, at most
 * PART_BOUND_MS), half-close, run until the daemon closes the stream, then
 * close the authority's streams and run until every daemon stream is gone.
 * The sanitizers are the contract, and a stream still open CLOSE_BOUND_MS
 * after the peer's end of input is a hang: abort. Exits 77 (skipped) when
 * the namespaces cannot be made. FUZZ_CONVERSATION_LOG=1 shows the daemon's
 * log (to see what one input does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
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
#define AUTHORITY_ADDR "127.0.0.2"  /* every remote domain's server */
#define MAX_PARTS 8
#define QUIET_MS 3          /* a part is done after this long without traffic */
#define PART_BOUND_MS 200   /* ... or after this long in any case */
#define CLOSE_BOUND_MS 2000 /* the daemon must close within this of our EOF */
#define AUTH_BUF_MAX 65536  /* what one authority stream may buffer */

static const char *const labels[] = {"no-tls", "valid", "dialback-only",
                                     "no-dialback"};

static uv_loop_t loop;
static rs_daemon srv;
static char state[64];
static uv_timer_t quiet;     /* ends a part when traffic stops */
static bool quiet_fired;

/* ---- once: namespaces ------------------------------------------------------ */

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

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        skip(path);
}

/* Network and mount namespaces of our own, lo up, resolv.conf -> 127.0.0.1. */
static void isolate(void)
{
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0)
            skip("unshare");
        char map[64];
        FILE *f = fopen("/proc/self/setgroups", "w");
        if (f) {
            fputs("deny", f);
            fclose(f);
        }
        snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
        write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
        write_file("/proc/self/gid_map", map);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        skip("mount --make-rprivate /");
    char resolv[96];
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", state);
    write_file(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
    if (mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0)
        skip("bind-mount resolv.conf");
    /* hundreds of streams a second: let ports in TIME_WAIT be reused
       (best effort; these are the namespace's own settings) */
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_tw_reuse", "w");
    if (f) {
        fputs("1", f);
        fclose(f);
    }
    f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
    if (f) {
        fputs("1024 65000", f);
        fclose(f);
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

static void on_quiet(uv_timer_t *t);

/* Any traffic on the harness's sockets: the part is not over yet. */
static void busy(void)
{
    uv_update_time(&loop); /* the loop's clock may be stale: from now */
    uv_timer_start(&quiet, on_quiet, QUIET_MS, 0);
}

/* ---- once: DNS ------------------------------------------------------------- */

static uv_udp_t dns_udp;

static void dns_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char in[512];
    *buf = uv_buf_init(in, sizeof in);
}

static void dns_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    free(req);
}

/* A: 127.0.0.2; anything else: no data. */
static void dns_read(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
                     const struct sockaddr *from, unsigned flags)
{
    (void)flags;
    if (n < 12 + 5 || !from)
        return;
    busy();
    const unsigned char *q = (const unsigned char *)buf->base;
    size_t i = 12;
    while (i < (size_t)n && q[i] != 0)
        i += (size_t)q[i] + 1;
    if (i + 5 > (size_t)n)
        return;
    size_t qend = i + 5;
    unsigned qtype = (unsigned)q[i + 1] << 8 | q[i + 2];
    uv_udp_send_t *req = malloc(sizeof *req + qend + 16);
    if (!req)
        return;
    unsigned char *r = (unsigned char *)(req + 1);
    memcpy(r, q, qend);
    r[2] = 0x84 | (q[2] & 0x01); /* response, authoritative, RD copied */
    r[3] = 0x00;                 /* no error */
    r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
    size_t len = qend;
    if (qtype == 1) {
        static const unsigned char a[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
                                            0, 4, 127, 0, 0, 2};
        memcpy(r + len, a, sizeof a);
        len += sizeof a;
        r[7] = 1;
    }
    uv_buf_t out = uv_buf_init((char *)r, (unsigned)len);
    if (uv_udp_send(req, h, &out, 1, from, dns_sent) != 0)
        free(req);
}

static void start_dns(void)
{
    struct sockaddr_in sin;
    uv_ip4_addr("127.0.0.1", 53, &sin);
    if (uv_udp_init(&loop, &dns_udp) != 0 ||
        uv_udp_bind(&dns_udp, (struct sockaddr *)&sin, 0) != 0 ||
        uv_udp_recv_start(&dns_udp, dns_alloc, dns_read) != 0)
        die("DNS server on 127.0.0.1:53");
}

/* ---- once: the remote domains' authoritative server ---------------------------- */

typedef struct auth_stream {
    uv_tcp_t tcp;
    struct auth_stream *next;
    char *buf;         /* what the daemon sent, NUL-terminated */
    size_t len, scanned;
    bool header_sent;
    bool closing;
} auth_stream;

static uv_tcp_t auth_listener;
static auth_stream *auth_streams;

static void auth_write_done(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void auth_send(auth_stream *a, const char *text)
{
    size_t len = strlen(text);
    uv_write_t *req = malloc(sizeof *req + len);
    if (!req)
        return;
    memcpy(req + 1, text, len);
    uv_buf_t b = uv_buf_init((char *)(req + 1), (unsigned)len);
    if (uv_write(req, (uv_stream_t *)&a->tcp, &b, 1, auth_write_done) != 0)
        free(req);
}

static void auth_closed(uv_handle_t *h)
{
    auth_stream *a = h->data;
    for (auth_stream **pp = &auth_streams; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    free(a->buf);
    free(a);
}

static void auth_close(auth_stream *a)
{
    if (a->closing)
        return;
    a->closing = true;
    uv_close((uv_handle_t *)&a->tcp, auth_closed);
}

/* attr='value' (as the daemon writes them) within [tag, end) into out. */
static void attr(const char *tag, const char *end, const char *name, char *out,
                 size_t n)
{
    out[0] = '\0';
    char pat[16];
    snprintf(pat, sizeof pat, " %s='", name);
    const char *v = strstr(tag, pat);
    if (!v || v >= end)
        return;
    v += strlen(pat);
    const char *q = memchr(v, '\'', (size_t)(end - v));
    if (!q || (size_t)(q - v) >= n)
        return;
    memcpy(out, v, (size_t)(q - v));
    out[q - v] = '\0';
}

/* Answer every complete <db:verify> and <db:result> with type='valid'. */
static void auth_scan(auth_stream *a)
{
    if (!a->header_sent && strstr(a->buf, "<stream:stream")) {
        auth_send(a, "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                     "xmlns:stream='http://etherx.jabber.org/streams' "
                     "xmlns:db='jabber:server:dialback' version='1.0' id='authority1'>"
                     "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>"
                     "</stream:features>");
        a->header_sent = true;
    }
    for (;;) {
        char *tag = strstr(a->buf + a->scanned, "<db:");
        if (!tag)
            return;
        bool verify = strncmp(tag, "<db:verify ", 11) == 0;
        char *end = strstr(tag, verify ? "</db:verify>" : "</db:result>");
        if (!end)
            return;
        char from[300], to[300], id[300], reply[1100];
        attr(tag, end, "from", from, sizeof from);
        attr(tag, end, "to", to, sizeof to);
        attr(tag, end, "id", id, sizeof id);
        if (verify)
            snprintf(reply, sizeof reply, "<db:verify from='%s' to='%s' id='%s' "
                     "type='valid'/>", to, from, id);
        else
            snprintf(reply, sizeof reply, "<db:result from='%s' to='%s' "
                     "type='valid'/>", to, from);
        auth_send(a, reply);
        a->scanned = (size_t)(end - a->buf) + 1;
    }
}

static void auth_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    auth_stream *a = h->data;
    size_t room = AUTH_BUF_MAX - a->len;
    *buf = uv_buf_init(a->buf + a->len, (unsigned)(room > 4096 ? 4096 : room));
}

static void auth_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    auth_stream *a = s->data;
    busy();
    if (n < 0 || a->len + (size_t)n >= AUTH_BUF_MAX) {
        auth_close(a);
        return;
    }
    a->len += (size_t)n;
    a->buf[a->len] = '\0';
    auth_scan(a);
}

static void auth_accept(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    busy();
    auth_stream *a = calloc(1, sizeof *a);
    if (!a || !(a->buf = malloc(AUTH_BUF_MAX + 1)))
        die("out of memory");
    a->buf[0] = '\0';
    uv_tcp_init(&loop, &a->tcp);
    a->tcp.data = a;
    a->next = auth_streams;
    auth_streams = a;
    if (uv_accept(server, (uv_stream_t *)&a->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&a->tcp, auth_alloc, auth_read) != 0)
        auth_close(a);
}

static void start_authority(void)
{
    struct sockaddr_in sin;
    uv_ip4_addr(AUTHORITY_ADDR, PORT, &sin);
    if (uv_tcp_init(&loop, &auth_listener) != 0 ||
        uv_tcp_bind(&auth_listener, (struct sockaddr *)&sin, 0) != 0 ||
        uv_listen((uv_stream_t *)&auth_listener, 64, auth_accept) != 0)
        die("authority on " AUTHORITY_ADDR ":5269");
}

/* ---- once: the daemon ------------------------------------------------------- */

static void make_certs(void)
{
    char certs[128], domain[128], err[512];
    snprintf(certs, sizeof certs, "%s/certs", state);
    if (certgen_pki(certs, NULL, false, err, sizeof err) != 0)
        die(err);
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        snprintf(domain, sizeof domain, "%s.%s", labels[i], BASE);
        if (certgen_domain(certs, domain, BASE, NULL, catalog_find(labels[i]), false, err,
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
        " connect_timeout = 2; echo_per_minute = 1000000;"
        " report_file_bytes = 65536; verify_dials_per_domain = 1000000;"
        " verify_dials_total = 1000000; };\n"
        "outbound = { allow = ( \"127.0.0.0/8\" ); };\n"
        "domains = (", state, PORT);
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "%s { name = \"%s." BASE "\"; profile = \"%s\"; }",
                      i ? "," : "", labels[i], labels[i]);
    snprintf(text + n, sizeof text - (size_t)n, " );\n");
    rs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || config_load_string(text, "fuzz.conf", state, cfg, stderr) != 0)
        die("the embedded config was refused");
    if (server_start(&srv, &loop, cfg, NULL) != 0)
        die("the server did not start");
}

static void on_quiet(uv_timer_t *t)
{
    (void)t;
    quiet_fired = true;
    uv_stop(&loop);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    strcpy(state, "/tmp/fuzz-conversation-XXXXXX");
    if (!mkdtemp(state))
        die("mkdtemp");
    isolate();
    log_set_level(getenv("FUZZ_CONVERSATION_LOG") ? RS_LOG_DEBUG : RS_LOG_ERROR);
    make_certs();
    uv_loop_init(&loop);
    uv_timer_init(&loop, &quiet);
    start_dns();
    start_authority();
    start_server();
    return 0;
}

/* ---- per input ------------------------------------------------------------ */

typedef struct peer {
    uv_poll_t poll;
    uv_timer_t bound;
    int fd;
    bool closed;     /* the daemon closed the stream */
    bool timed_out;  /* the bound passed */
} peer;

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    peer *p = h->data;
    busy();
    char buf[4096];
    ssize_t n = status < 0 ? -1 : recv(p->fd, buf, sizeof buf, 0);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    p->closed = true; /* EOF or reset */
    uv_poll_stop(&p->poll);
    uv_stop(&loop);
}

static void on_bound(uv_timer_t *t)
{
    peer *p = t->data;
    p->timed_out = true;
    uv_stop(&loop);
}

static int handles_closing; /* the peer's handles (on the stack) not yet closed */

static void on_closed(uv_handle_t *h)
{
    (void)h;
    handles_closing--;
}

/* Run the loop until the harness's sockets are quiet, the daemon closed the
 * stream, or bound_ms passed. */
static void run_until_quiet(peer *p, unsigned bound_ms)
{
    p->timed_out = false;
    quiet_fired = false;
    uv_update_time(&loop);
    uv_timer_start(&p->bound, on_bound, bound_ms, 0);
    busy();
    while (!p->closed && !p->timed_out && !quiet_fired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&p->bound);
    uv_timer_stop(&quiet);
}

/* Write one part; false when the daemon no longer takes bytes. */
static bool send_part(peer *p, const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(p->fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            run_until_quiet(p, PART_BOUND_MS); /* let the daemon read */
            if (p->closed || p->timed_out)
                return false;
            continue;
        }
        return false; /* refused early: reset */
    }
    return true;
}

/* Non-blocking connect, the loop running meanwhile (the daemon may have to
 * accept older connections first; libFuzzer's SIGALRM must not cut it). */
static bool connect_daemon(int fd, const struct sockaddr_in *sin)
{
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        return false;
    if (connect(fd, (const struct sockaddr *)sin, sizeof *sin) == 0)
        return true;
    if (errno != EINPROGRESS && errno != EINTR)
        return false;
    for (int i = 0; i < 2000; i++) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 1) == 1) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
                errno = err;
                return false;
            }
            return true;
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    errno = ETIMEDOUT;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    peer p = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (p.fd < 0 || !connect_daemon(p.fd, &sin)) {
        perror("fuzz_conversation: connect to the daemon");
        abort();
    }
    uv_poll_init(&loop, &p.poll, p.fd);
    uv_timer_init(&loop, &p.bound);
    p.poll.data = &p;
    p.bound.data = &p;
    uv_poll_start(&p.poll, UV_READABLE | UV_DISCONNECT, on_readable);
    int parts = 0;
    while (!p.closed) {
        const uint8_t *ff = parts + 1 < MAX_PARTS ? memchr(data, '\f', size) : NULL;
        size_t n = ff ? (size_t)(ff - data) : size;
        if (!send_part(&p, data, n))
            break;
        run_until_quiet(&p, PART_BOUND_MS);
        parts++;
        if (!ff)
            break;
        data += n + 1;
        size -= n + 1;
    }
    shutdown(p.fd, SHUT_WR);
    p.timed_out = false;
    uv_update_time(&loop);
    uv_timer_start(&p.bound, on_bound, CLOSE_BOUND_MS, 0);
    while (!p.closed && !p.timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    if (!p.closed) {
        fprintf(stderr, "fuzz_conversation: the daemon kept the stream open "
                        "%d ms after the peer's end of input\n", CLOSE_BOUND_MS);
        abort();
    }
    uv_timer_stop(&p.bound);
    handles_closing = 2;
    uv_close((uv_handle_t *)&p.poll, on_closed);
    uv_close((uv_handle_t *)&p.bound, on_closed);
    while (handles_closing > 0) /* they live on this stack frame */
        uv_run(&loop, UV_RUN_NOWAIT);
    close(p.fd);
    /* end the authority's streams; let the daemon finish what it started */
    for (auth_stream *a = auth_streams; a; a = a->next)
        auth_close(a);
    for (int i = 0; i < 2000 && (srv.n_conns > 0 || auth_streams); i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (srv.n_conns > 0 || auth_streams)
            usleep(500);
    }
    return 0;
}
