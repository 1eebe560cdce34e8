/* conn_harness.h -- what test_conn.c and test_conn_tls.c share: a server
 * with the minimum conn uses (a config loaded from a string, a real domain
 * generation with certificates made by certgen, stats, the list of conns), a
 * libuv listener on an ephemeral loopback port that accepts into conn_new
 * with this harness's handler table as the owner (the record R), and a plain
 * non-blocking socket as the peer (P). One test program includes it once;
 * conn_harness_main runs the tests between set-up and tear-down. */
#ifndef RS_CONN_HARNESS_H
#define RS_CONN_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "certgen.h"
#include "check.h"
#include "config.h"
#include "conn.h"
#include "domains.h"
#include "log.h"
#include "server.h"

#define BASE "conn.test"
#define DOMAIN "valid." BASE
#define HEADER "<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
    "xmlns:stream='http://etherx.jabber.org/streams' from='peer.example' "  \
    "to='" DOMAIN "' version='1.0'>"

static char dir[] = "/tmp/test_conn.XXXXXX"; /* the certificates */
static uv_loop_t loop;
static rs_daemon srv;
static uv_tcp_t listener;
static int port;

/* ---- the owner: what the conn told us --------------------------------------- */

typedef struct rec {
    rs_conn *c;             /* the live conn, NULL once closed */
    int headers, elements, stream_ends, timeouts, drained, closed;
    char to[1024], from[1024]; /* of the last header */
    char last[4096];        /* the last element, serialized */
    char why[400];          /* closed's reason */
    bool reply_header;      /* answer a header with ours and a fmt line */
    bool echo;              /* send every element back (conn_send_node) */
    bool unauthenticated;   /* leave accepted streams unauthenticated (the
                               transport's tests send stanzas as if the
                               peer had authenticated: the larger limits) */
    double timeout_at;      /* monotonic seconds of the timeout event */
    bool starttls;          /* answer <starttls/> with <proceed/> and TLS */
    int tls_ok, tls_failed; /* tls_done events */
    int connected;          /* connected events (outbound) */
    int connect_status;     /* and the last one's status */
    char tls_why[300];      /* tls_done's reason when it failed */
} rec;

static rec R;

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void on_header(rs_conn *c, const xmlstream_header *h)
{
    R.headers++;
    snprintf(R.to, sizeof R.to, "%s", h->to);
    snprintf(R.from, sizeof R.from, "%s", h->from);
    if (R.reply_header) {
        conn_send_header(c, h->to, h->from, "sid-1");
        conn_send_fmt(c, "<stream:features><n>%d</n></stream:features>", 42);
    }
}

/* What an owner does on <starttls/> (RFC 6120 5.4.2): proceed, then TLS
 * with a fresh parser. */
static inline void start_tls(rs_conn *c)
{
    conn_send_str(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    xmlstream_restart(c->xs);
    const rs_domain *dom = domains_find(srv.domains, DOMAIN);
    CHECK(dom != NULL);
    CHECK(dom && conn_starttls(c, dom, NULL) == 0);
}

static inline void on_element(rs_conn *c, xmlNodePtr el)
{
    R.elements++;
    if (R.starttls && strcmp((const char *)el->name, "starttls") == 0) {
        R.starttls = false;
        start_tls(c);
        return;
    }
    size_t len = 0;
    char *s = xmlstream_serialize(el, &len);
    snprintf(R.last, sizeof R.last, "%s", s ? s : "");
    free(s);
    if (R.echo)
        conn_send_node(c, el);
}

static inline void on_stream_end(rs_conn *c)
{
    (void)c;
    R.stream_ends++;
}

static inline void on_timeout(rs_conn *c)
{
    (void)c;
    R.timeouts++;
    R.timeout_at = now_s();
}

static inline void on_tls_done(rs_conn *c, bool ok, const char *why)
{
    (void)c;
    if (ok)
        R.tls_ok++;
    else
        R.tls_failed++;
    snprintf(R.tls_why, sizeof R.tls_why, "%s", why ? why : "");
}

static inline void on_drained(rs_conn *c)
{
    (void)c;
    R.drained++;
}

static inline void on_closed(rs_conn *c, const char *why)
{
    CHECK(c == R.c);
    R.closed++;
    snprintf(R.why, sizeof R.why, "%s", why);
    R.c = NULL;
}

/* Outbound: on success our header goes first, as an initiator's does. */
static inline void on_connected(rs_conn *c, int status)
{
    R.connected++;
    R.connect_status = status;
    if (status == 0)
        conn_send_header(c, DOMAIN, "peer.example", NULL);
}

static const conn_handler handler = {
    .connected = on_connected,
    .header = on_header,
    .element = on_element,
    .stream_end = on_stream_end,
    .timeout = on_timeout,
    .drained = on_drained,
    .tls_done = on_tls_done,
    .closed = on_closed,
};

static inline void on_connection(uv_stream_t *l, int status)
{
    CHECK(status == 0);
    rs_conn *c = conn_new(&srv, CONN_IN, &handler, &R);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(R.c == NULL); /* one stream at a time */
    R.c = c;
    CHECK(conn_accept(c, l) == 0);
    if (!R.unauthenticated)
        conn_set_authenticated(c);
}

/* ---- the peer: a plain socket ------------------------------------------------- */

typedef struct peer {
    int fd;
    char *in;               /* everything received, NUL-terminated */
    size_t len, cap;
    bool eof;               /* the conn's FIN arrived */
    bool reading;           /* pump reads (false: let our buffers fill) */
} peer;

static peer P;

/* Read what is there (when reading). */
static inline void pump(void)
{
    while (P.reading && !P.eof && P.fd >= 0) {
        if (P.cap - P.len < 65537) {
            P.cap = P.cap * 2 + 65537;
            P.in = realloc(P.in, P.cap);
        }
        ssize_t n = recv(P.fd, P.in + P.len, P.cap - P.len - 1, 0);
        if (n > 0) {
            P.len += (size_t)n;
            P.in[P.len] = '\0';
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            P.eof = true;
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
}

/* Run the loop (and the peer) until pred() or ms pass. */
static inline bool run_until(bool (*pred)(void), unsigned ms)
{
    double end = now_s() + ms / 1000.0;
    for (;;) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pump();
        if (pred && pred())
            return true;
        if (now_s() > end)
            return false;
        struct pollfd pf[2] = {{.fd = uv_backend_fd(&loop), .events = POLLIN},
                               {.fd = P.reading ? P.fd : -1, .events = POLLIN}};
        poll(pf, 2, 2);
    }
}

static inline bool have_conn(void) { return R.c != NULL; }
static inline bool is_closed(void) { return R.closed > 0; }
static inline bool peer_eof(void) { return P.eof; }
static inline bool have_header(void) { return R.headers > 0; }
static inline bool have_element(void) { return R.elements > 0; }
static inline bool peer_has_features(void) { return P.in && strstr(P.in, "</stream:features>"); }

/* A fresh peer connected and accepted; rcvbuf > 0 shrinks its receive
 * buffer before connecting (so our output backs up sooner). */
static inline bool peer_connect(int rcvbuf)
{
    memset(&R, 0, sizeof R);
    free(P.in);
    memset(&P, 0, sizeof P);
    P.reading = true;
    P.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0)
        setsockopt(P.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(P.fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return false;
    }
    fcntl(P.fd, F_SETFL, fcntl(P.fd, F_GETFL) | O_NONBLOCK);
    bool ok = run_until(have_conn, 3000);
    CHECK(ok);
    return ok;
}

/* Send all of s from the peer (bounded wait on a full buffer). */
static inline void peer_send(const char *s, size_t len)
{
    double end = now_s() + 5;
    while (len > 0 && now_s() < end) {
        ssize_t n = send(P.fd, s, len, MSG_NOSIGNAL);
        if (n > 0) {
            s += n;
            len -= (size_t)n;
        } else {
            run_until(NULL, 5);
        }
    }
    CHECK(len == 0);
}

static inline void peer_send_str(const char *s)
{
    peer_send(s, strlen(s));
}

/* End the peer's side and let the conn finish (closed runs). */
static inline void peer_close(void)
{
    if (P.fd >= 0)
        close(P.fd);
    P.fd = -1;
    if (R.c)
        CHECK(run_until(is_closed, 4000));
}

static inline bool peer_got(const char *s)
{
    return P.in && strstr(P.in, s);
}

/* The peer ends its stream: stream_end once, our </stream:stream> and FIN,
 * nothing closed until the peer closes too; then closed with the reason. */
static inline void peer_ends_stream(void)
{
    peer_send_str("</stream:stream>");
    CHECK(run_until(peer_eof, 10000));
    CHECK(R.stream_ends == 1);
    CHECK(peer_got("</stream:stream>"));
    CHECK(R.closed == 0); /* waiting for the peer's close (grace) */
    peer_close();
    CHECK(R.closed == 1);
    CHECK_STR(R.why, "peer closed the stream");
}

/* Read by peer_wants: what the peer waits for. */
static const char *peer_want;
static inline bool peer_wants(void) { return peer_got(peer_want); }

static const char message[] =
    "<message from='a@peer.example' to='echo@" DOMAIN "' type='chat' id='m1'>"
    "<body>hi &amp; bye</body></message>";

/* ---- set-up --------------------------------------------------------------------- */

static inline int rm_entry(const char *path, const struct stat *st, int flag,
                           struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline bool server_up(void)
{
    char certs[512], err[256] = "";
    snprintf(certs, sizeof certs, "%s/certs", dir);
    if (certgen_pki(certs, NULL, false, err, sizeof err) < 0 ||
        certgen_domain(certs, DOMAIN, BASE, NULL, catalog_find("valid"), false, err,
                       sizeof err) < 0) {
        fprintf(stderr, "certgen: %s\n", err);
        return false;
    }
    char text[2048];
    snprintf(text, sizeof text,
             "base_domain = \"" BASE "\";\n"
             "state_dir = \"%s\";\n"
             "listen = ( { address = \"127.0.0.1\"; port = 5269; } );\n"
             "trust_system = false;\n"
             "limits = { max_stanza_bytes = 1024; max_depth = 4;\n"
             "  send_buffer_bytes = 4096; send_stall_timeout = 1; };\n"
             "domains = ( { name = \"" DOMAIN "\"; profile = \"valid\"; } );\n",
             dir);
    static rs_config cfg;
    if (config_load_string(text, "conn.conf", dir, &cfg, stderr) != 0)
        return false;
    srv.cfg = &cfg;
    srv.domains = domains_load(&cfg);
    if (!srv.domains)
        return false;
    srv.start_time = (uint64_t)time(NULL);
    log_set_peer_limit(cfg.limits.log_per_minute); /* as server.c does */
    uv_loop_init(&loop);
    srv.loop = &loop;
    uv_tcp_init(&loop, &listener);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&listener, (struct sockaddr *)&a, 0) < 0 ||
        uv_listen((uv_stream_t *)&listener, 16, on_connection) < 0)
        return false;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return true;
}

static inline void server_down(void)
{
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    domains_unref(srv.domains);
    log_limits_free();
    config_free(srv.cfg);
    free(P.in);
}

/* Set up, run tests, check that no conn is left, tear down. */
static inline int conn_harness_main(void (*tests)(void))
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    P.fd = -1;
    signal(SIGPIPE, SIG_IGN); /* as the daemon does (a peer that reset) */
    bool up = server_up();
    CHECK(up);
    if (up) {
        printf("listening on 127.0.0.1:%d\n", port);
        tests();
        CHECK(srv.n_conns == 0 && srv.conns == NULL);
        server_down();
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}

#endif
