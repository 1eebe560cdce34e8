/* test_conn.c -- the transport (conn.c, conn_flow.c) through real loopback
 * TCP: a libuv listener on an ephemeral port accepts into conn_new with this
 * test's own handler table as the owner, and a plain non-blocking socket
 * plays the peer. The server is the minimum conn uses: a config loaded from a
 * string, a real domain generation (certificates made by certgen), the
 * stats and the list of conns.
 *
 * Covered: header/element events with input split down to single bytes,
 * stream_end, the stream errors for max_stanza_bytes and max_depth
 * (policy-violation), malformed XML (not-well-formed), restricted XML,
 * conn_send/_fmt/_node reaching the peer, our orderly close (</stream:stream>,
 * FIN, closed once, nothing sent or delivered after it), peer EOF, the
 * owner's timeout (and disarming it), backpressure (reading pauses over
 * send_buffer_bytes, drained fires once the peer reads), the stall
 * cut-off (send_stall_timeout), and STARTTLS against a GnuTLS client that
 * verifies the domain's certificate (tls_done, SNI, a restarted stream in
 * one-byte records, close_notify) or sends garbage (tls_done failed). */
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
#include "ratelimit.h"
#include "server.h"

#define BASE "conn.test"
#define DOMAIN "valid." BASE
#define HEADER "<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
    "xmlns:stream='http://etherx.jabber.org/streams' from='peer.example' "  \
    "to='" DOMAIN "' version='1.0'>"

static char dir[] = "/tmp/test_conn.XXXXXX";
static uv_loop_t loop;
static rs_server srv;
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
    double timeout_at;      /* monotonic seconds of the timeout event */
    bool starttls;          /* answer <starttls/> with <proceed/> and TLS */
    int tls_ok, tls_failed; /* tls_done events */
    char tls_why[300];      /* tls_done's reason when it failed */
} rec;

static rec R;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_header(rs_conn *c, const xs_header *h)
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
static void start_tls(rs_conn *c)
{
    conn_send_str(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    xs_restart(c->xs);
    const rs_domain *dom = rs_domains_find(srv.domains, DOMAIN);
    CHECK(dom != NULL);
    CHECK(dom && conn_starttls(c, dom, NULL) == 0);
}

static void on_element(rs_conn *c, xmlNodePtr el)
{
    R.elements++;
    if (R.starttls && strcmp((const char *)el->name, "starttls") == 0) {
        R.starttls = false;
        start_tls(c);
        return;
    }
    size_t len = 0;
    char *s = xs_serialize(el, &len);
    snprintf(R.last, sizeof R.last, "%s", s ? s : "");
    free(s);
    if (R.echo)
        conn_send_node(c, el);
}

static void on_stream_end(rs_conn *c)
{
    (void)c;
    R.stream_ends++;
}

static void on_timeout(rs_conn *c)
{
    (void)c;
    R.timeouts++;
    R.timeout_at = now_s();
}

static void on_tls_done(rs_conn *c, bool ok, const char *why)
{
    (void)c;
    if (ok)
        R.tls_ok++;
    else
        R.tls_failed++;
    snprintf(R.tls_why, sizeof R.tls_why, "%s", why ? why : "");
}

static void on_drained(rs_conn *c)
{
    (void)c;
    R.drained++;
}

static void on_closed(rs_conn *c, const char *why)
{
    CHECK(c == R.c);
    R.closed++;
    snprintf(R.why, sizeof R.why, "%s", why);
    R.c = NULL;
}

static const rs_conn_handler handler = {
    .header = on_header,
    .element = on_element,
    .stream_end = on_stream_end,
    .timeout = on_timeout,
    .drained = on_drained,
    .tls_done = on_tls_done,
    .closed = on_closed,
};

static void on_connection(uv_stream_t *l, int status)
{
    CHECK(status == 0);
    rs_conn *c = conn_new(&srv, CONN_IN, &handler, &R);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(R.c == NULL); /* one stream at a time */
    R.c = c;
    CHECK(conn_accept(c, l) == 0);
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
static void pump(void)
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
static bool run_until(bool (*pred)(void), unsigned ms)
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

static bool have_conn(void) { return R.c != NULL; }
static bool is_closed(void) { return R.closed > 0; }
static bool peer_eof(void) { return P.eof; }
static bool have_header(void) { return R.headers > 0; }
static bool have_element(void) { return R.elements > 0; }
static int want_elements;
static uint64_t stall_cutoffs;
static bool have_n_elements(void) { return R.elements >= want_elements; }
static bool have_timeout(void) { return R.timeouts > 0; }
static bool have_drained(void) { return R.drained > 0; }
static bool peer_has_features(void) { return P.in && strstr(P.in, "</stream:features>"); }

/* A fresh peer connected and accepted; rcvbuf > 0 shrinks its receive
 * buffer before connecting (so our output backs up sooner). */
static bool peer_connect(int rcvbuf)
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
static void peer_send(const char *s, size_t len)
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

static void peer_send_str(const char *s)
{
    peer_send(s, strlen(s));
}

/* End the peer's side and let the conn finish (closed runs). */
static void peer_close(void)
{
    if (P.fd >= 0)
        close(P.fd);
    P.fd = -1;
    if (R.c)
        CHECK(run_until(is_closed, 4000));
}

static bool peer_got(const char *s)
{
    return P.in && strstr(P.in, s);
}

/* ---- the tests -------------------------------------------------------------------- */

static const char message[] =
    "<message from='a@peer.example' to='echo@" DOMAIN "' type='chat' id='m1'>"
    "<body>hi &amp; bye</body></message>";

/* Header and element events arrive whole however the bytes are split. */
static void test_events_one_byte_at_a_time(void)
{
    if (!peer_connect(0))
        return;
    R.reply_header = true;
    R.echo = true;
    char all[1024];
    snprintf(all, sizeof all, "%s%s", HEADER, message);
    size_t n = strlen(all);
    for (size_t i = 0; i < n; i++) {
        uint64_t before = srv.stats.bytes_in;
        peer_send(all + i, 1);
        /* wait until the conn read this byte, so every read is one byte */
        double end = now_s() + 2;
        while (srv.stats.bytes_in == before && now_s() < end)
            run_until(NULL, 1);
        if (i + 1 < strlen(HEADER) && R.headers != 0) {
            CHECK(!"a header event before the header's last byte");
            break;
        }
    }
    CHECK(srv.stats.bytes_in >= n);
    CHECK(run_until(have_element, 2000));
    CHECK(R.headers == 1);
    CHECK_STR(R.to, DOMAIN);
    CHECK_STR(R.from, "peer.example");
    CHECK(R.elements == 1);
    CHECK(strstr(R.last, "<body>hi &amp; bye</body>") != NULL);
    CHECK(strstr(R.last, "id=\"m1\"") || strstr(R.last, "id='m1'"));
    /* what the owner sent reached the peer: header, fmt, the echoed node */
    CHECK(run_until(peer_has_features, 2000));
    CHECK(peer_got("<stream:stream"));
    CHECK(peer_got("from='" DOMAIN "'"));
    CHECK(peer_got("to='peer.example'"));
    CHECK(peer_got("id='sid-1'"));
    CHECK(peer_got("<stream:features><n>42</n></stream:features>"));
    CHECK(peer_got("hi &amp; bye</body></message>"));
    /* a second element in one write: two events */
    peer_send_str("<iq type='get' id='a'/><iq type='get' id='b'/>");
    want_elements = 3;
    CHECK(run_until(have_n_elements, 2000));
    CHECK(R.elements == 3);
    CHECK(strstr(R.last, "'b'") || strstr(R.last, "\"b\""));
    CHECK(R.closed == 0);
    /* the peer ends the stream: stream_end, our </stream:stream>, FIN */
    peer_send_str("</stream:stream>");
    CHECK(run_until(peer_eof, 3000));
    CHECK(R.stream_ends == 1);
    CHECK(peer_got("</stream:stream>"));
    CHECK(R.closed == 0); /* waiting for the peer's close (grace) */
    peer_close();
    CHECK(R.closed == 1);
    CHECK_STR(R.why, "peer closed the stream");
    CHECK(srv.n_conns == 0 && srv.conns == NULL);
}

/* A stanza over max_stanza_bytes: policy-violation, with our header first
 * (none was sent yet), then </stream:stream> and FIN. */
static void test_stanza_too_big(void)
{
    if (!peer_connect(0))
        return;
    peer_send_str(HEADER);
    CHECK(run_until(have_header, 2000));
    char big[3000];
    int len = snprintf(big, sizeof big, "<message to='x@" DOMAIN "'><body>");
    memset(big + len, 'a', 2000);
    snprintf(big + len + 2000, sizeof big - (size_t)len - 2000, "</body></message>");
    uint64_t errors = srv.stats.stream_errors;
    peer_send_str(big);
    CHECK(run_until(peer_eof, 3000));
    CHECK(R.elements == 0);
    CHECK(peer_got("<stream:stream"));
    CHECK(peer_got("<stream:error><policy-violation "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
    CHECK(P.in && strstr(P.in, "<stream:stream") < strstr(P.in, "<stream:error>"));
    CHECK(P.in && strstr(P.in, "</stream:error></stream:stream>"));
    CHECK(srv.stats.stream_errors == errors + 1);
    /* after the error, more input from the peer is ignored */
    peer_send_str("<message/>");
    run_until(NULL, 100);
    CHECK(R.elements == 0);
    peer_close();
    CHECK(R.closed == 1);
    CHECK(strstr(R.why, "stream error sent: policy-violation") == R.why);
}

/* Nesting deeper than max_depth (4 here): policy-violation; 3 levels pass. */
static void test_too_deep(void)
{
    if (!peer_connect(0))
        return;
    R.reply_header = true;
    peer_send_str(HEADER "<message><a><b/></a></message>");
    CHECK(run_until(have_element, 2000));
    CHECK(R.elements == 1);
    char deep[512] = "<message>";
    for (int i = 0; i < 12; i++)
        strcat(deep, "<x>");
    peer_send_str(deep);
    CHECK(run_until(peer_eof, 3000));
    CHECK(R.elements == 1);
    CHECK(peer_got("<stream:error><policy-violation "));
    /* our header went out once only: at the answer, not again before the error */
    CHECK(P.in && strstr(strstr(P.in, "<stream:stream") + 1, "<stream:stream") == NULL);
    peer_close();
    CHECK(strstr(R.why, "policy-violation") != NULL);
}

/* Broken XML: not-well-formed; a DOCTYPE: restricted-xml. */
static void test_malformed(void)
{
    if (!peer_connect(0))
        return;
    peer_send_str(HEADER "<message><a></b></message>");
    CHECK(run_until(peer_eof, 3000));
    CHECK(R.headers == 1);
    CHECK(R.elements == 0);
    CHECK(peer_got("<stream:error><not-well-formed "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
    CHECK(peer_got("</stream:stream>"));
    peer_close();
    CHECK(strstr(R.why, "stream error sent: not-well-formed") == R.why);

    if (!peer_connect(0))
        return;
    peer_send_str("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'boom'>]>");
    CHECK(run_until(peer_eof, 3000));
    CHECK(R.headers == 0);
    CHECK(peer_got("<stream:error><restricted-xml "));
    peer_close();
    CHECK(R.closed == 1);
}

/* conn_close: </stream:stream> and FIN to the peer; nothing the owner sends
 * afterwards goes out, nothing the peer sends comes in; closed runs once,
 * when the peer closes too. */
static void test_orderly_close(void)
{
    if (!peer_connect(0))
        return;
    R.reply_header = true;
    peer_send_str(HEADER);
    CHECK(run_until(peer_has_features, 2000));
    conn_close(R.c, "test over");
    conn_send_str(R.c, "<late/>");
    conn_close(R.c, "closed twice");
    peer_send_str("<message id='after-close'/>");
    CHECK(run_until(peer_eof, 3000));
    CHECK(peer_got("</stream:features></stream:stream>"));
    CHECK(!peer_got("<late/>"));
    CHECK(R.elements == 0);
    CHECK(R.closed == 0);
    peer_close();
    CHECK(R.closed == 1);
    CHECK_STR(R.why, "test over");
    run_until(NULL, 100);
    CHECK(R.closed == 1);
}

/* The peer goes away without a word: closed, no stream_end. */
static void test_peer_eof(void)
{
    if (!peer_connect(0))
        return;
    peer_send_str(HEADER);
    CHECK(run_until(have_header, 2000));
    close(P.fd);
    P.fd = -1;
    CHECK(run_until(is_closed, 3000));
    CHECK(R.stream_ends == 0);
    CHECK_STR(R.why, "peer closed the connection");
}

/* The owner's timeout fires after its seconds; 0 disarms it; the grace
 * after conn_close ends a peer that never closes. */
static void test_timeout(void)
{
    if (!peer_connect(0))
        return;
    rs_conn *c = R.c;
    conn_set_timeout(c, 1);
    conn_set_timeout(c, 0);
    run_until(NULL, 1150);
    CHECK(R.timeouts == 0);
    double t0 = now_s();
    conn_set_timeout(c, 1);
    CHECK(run_until(have_timeout, 3000));
    double took = R.timeout_at - t0;
    CHECK(took > 0.9 && took < 3.0);
    CHECK(R.timeouts == 1);
    CHECK(R.closed == 0); /* the owner decides what a timeout means */
    /* the peer never closes: the close grace (2 s) ends it */
    t0 = now_s();
    conn_close(c, "timed out");
    CHECK(run_until(is_closed, 6000));
    took = now_s() - t0;
    CHECK(took > 1.5 && took < 4.5);
    CHECK(R.timeouts == 1);
    CHECK_STR(R.why, "timed out");
    close(P.fd);
    P.fd = -1;
}

/* Bytes enough to fill both kernels' buffers (the sender's grows up to
 * tcp_wmem's maximum), and more. */
static size_t flood_bytes(void)
{
    size_t max = 4u << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    unsigned long a, b, c;
    if (f && fscanf(f, "%lu %lu %lu", &a, &b, &c) == 3)
        max = c;
    if (f)
        fclose(f);
    return max * 2 + (1u << 20);
}

/* Send n bytes of whitespace-free filler the peer need not parse. */
static void flood(rs_conn *c, size_t n)
{
    size_t chunk = 1 << 16;
    char *buf = malloc(chunk);
    memset(buf, 'z', chunk);
    for (size_t sent = 0; sent < n && R.c == c; sent += chunk)
        conn_send(c, buf, chunk);
    free(buf);
}

/* A stream whose peer got our header and features, then stops reading;
 * stall_timeout is limits.send_stall_timeout meanwhile. */
static bool peer_open_unread(unsigned stall_timeout)
{
    srv.cfg->limits.send_stall_timeout = stall_timeout;
    if (!peer_connect(4096))
        return false;
    R.reply_header = true;
    peer_send_str(HEADER);
    CHECK(run_until(peer_has_features, 2000));
    P.reading = false;
    return true;
}

/* Over send_buffer_bytes the conn stops reading the peer (who asked for all
 * that); once the peer reads, drained fires and reading resumes. */
static void test_backpressure(void)
{
    if (!peer_open_unread(30)) /* no stall here */
        return;
    flood(R.c, flood_bytes());
    run_until(NULL, 300);
    peer_send_str("<message id='while-paused'/>");
    run_until(NULL, 300);
    CHECK(R.elements == 0); /* not read while our output is over the bound */
    CHECK(R.drained == 0);
    CHECK(R.closed == 0);
    P.reading = true;
    CHECK(run_until(have_drained, 10000));
    CHECK(run_until(have_element, 2000));
    CHECK(R.elements == 1);
    CHECK(strstr(R.last, "while-paused") != NULL);
    CHECK(R.drained == 1);
    CHECK(R.closed == 0);
    CHECK(P.len > flood_bytes() / 2);
    peer_send_str("</stream:stream>");
    CHECK(run_until(peer_eof, 10000));
    peer_close();
    CHECK(R.closed == 1);
    CHECK_STR(R.why, "peer closed the stream");
}

/* A peer that does not read for send_stall_timeout (1 s): policy-violation
 * and the stream ends (the close grace, tested above, bounds the rest). */
static bool have_cutoff(void) { return srv.stats.send_cutoffs > stall_cutoffs; }
static void test_stall(void)
{
    if (!peer_open_unread(1))
        return;
    stall_cutoffs = srv.stats.send_cutoffs;
    double t0 = now_s();
    flood(R.c, flood_bytes());
    CHECK(run_until(have_cutoff, 5000));
    double took = now_s() - t0;
    CHECK(took > 0.9 && took < 3.0);
    CHECK(R.drained == 0);
    CHECK(R.elements == 0);
    peer_close();
    CHECK(R.closed == 1);
    CHECK(strstr(R.why, "stream error sent: policy-violation (you did not read") == R.why);
    CHECK(strstr(R.why, "limits.send_buffer_bytes = 4096") != NULL);
    CHECK(srv.stats.send_cutoffs == stall_cutoffs + 1);
}

/* ---- STARTTLS: the peer is a GnuTLS client on the same socket ------------- */

static gnutls_session_t ptls;                 /* the peer's session */
static gnutls_certificate_credentials_t pcred; /* trusts the test root */

/* The peer's client session: SNI DOMAIN, the certificate verified against
 * certs/ca.pem for DOMAIN (so the conn presented that domain's chain). */
static void peer_tls_init(void)
{
    char ca[600];
    snprintf(ca, sizeof ca, "%s/certs/ca.pem", dir);
    gnutls_certificate_allocate_credentials(&pcred);
    CHECK(gnutls_certificate_set_x509_trust_file(pcred, ca, GNUTLS_X509_FMT_PEM) == 1);
    gnutls_init(&ptls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    gnutls_set_default_priority(ptls);
    gnutls_credentials_set(ptls, GNUTLS_CRD_CERTIFICATE, pcred);
    gnutls_server_name_set(ptls, GNUTLS_NAME_DNS, DOMAIN, strlen(DOMAIN));
    gnutls_session_set_verify_cert(ptls, DOMAIN, 0);
    gnutls_transport_set_int(ptls, P.fd);
}

static void peer_tls_free(void)
{
    gnutls_deinit(ptls);
    gnutls_certificate_free_credentials(pcred);
    ptls = NULL;
}

static int hs_rc = GNUTLS_E_AGAIN;
static bool handshake_step(void)
{
    hs_rc = gnutls_handshake(ptls);
    return hs_rc == 0 || gnutls_error_is_fatal(hs_rc);
}

/* Read TLS records into P.in until want appears (or the time is up). */
static const char *tls_want;
static bool tls_got(void)
{
    char buf[4096];
    ssize_t n;
    while ((n = gnutls_record_recv(ptls, buf, sizeof buf)) > 0) {
        if (P.cap - P.len < (size_t)n + 1) {
            P.cap = P.cap * 2 + (size_t)n + 1;
            P.in = realloc(P.in, P.cap);
        }
        memcpy(P.in + P.len, buf, (size_t)n);
        P.len += (size_t)n;
        P.in[P.len] = '\0';
    }
    return P.in && strstr(P.in, tls_want);
}

static void tls_send(const char *s, size_t len)
{
    double end = now_s() + 5;
    while (len > 0 && now_s() < end) {
        ssize_t n = gnutls_record_send(ptls, s, len);
        if (n > 0) {
            s += n;
            len -= (size_t)n;
        } else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            run_until(NULL, 2);
        } else {
            break;
        }
    }
    CHECK(len == 0);
}

static bool peer_wants(void) { return peer_got(tls_want); }
static bool have_tls_done(void) { return R.tls_ok + R.tls_failed > 0; }

/* Up to <proceed/> in plaintext, then the handshake; true when it worked. */
static bool peer_starttls(void)
{
    if (!peer_connect(0))
        return false;
    R.reply_header = true;
    R.starttls = true;
    peer_send_str(HEADER);
    CHECK(run_until(peer_has_features, 2000));
    peer_send_str("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    static const char proceed[] = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    tls_want = proceed;
    bool proceeded = run_until(peer_wants, 2000);
    CHECK(proceeded);
    /* nothing after <proceed/> was sent in plaintext */
    CHECK(P.in && strlen(strstr(P.in, proceed)) == sizeof proceed - 1);
    P.reading = false; /* from here on GnuTLS reads the socket */
    free(P.in);
    P.in = NULL;
    P.len = P.cap = 0;
    peer_tls_init();
    return proceeded;
}

/* STARTTLS: tls_done(ok), the domain's certificate (verified by the peer),
 * SNI, a new header and elements through TLS records of one byte, our
 * replies through TLS, and the peer's close_notify ending the stream. */
static void test_starttls(void)
{
    if (!peer_starttls())
        return;
    CHECK(run_until(handshake_step, 5000));
    CHECK(hs_rc == 0);
    if (hs_rc != 0) {
        fprintf(stderr, "peer handshake: %s\n", gnutls_strerror(hs_rc));
        peer_tls_free();
        peer_close();
        return;
    }
    CHECK(run_until(have_tls_done, 2000));
    CHECK(R.tls_ok == 1 && R.tls_failed == 0);
    char desc[128];
    conn_tls_describe(R.c, desc, sizeof desc);
    CHECK(strncmp(desc, "TLS1.", 5) == 0);
    CHECK_STR(conn_tls_sni(R.c), DOMAIN);
    /* the restarted stream: a header and a message, one byte per record */
    int headers = R.headers, elements = R.elements;
    tls_send(HEADER, strlen(HEADER));
    for (const char *p = message; *p; p++)
        tls_send(p, 1);
    want_elements = elements + 1;
    CHECK(run_until(have_n_elements, 3000));
    CHECK(R.headers == headers + 1);
    CHECK(strstr(R.last, "<body>hi &amp; bye</body>") != NULL);
    tls_want = "<stream:features><n>42</n></stream:features>";
    CHECK(run_until(tls_got, 3000));
    CHECK(strstr(P.in, "<stream:stream") == P.in + strlen("<?xml version='1.0'?>"));
    /* close_notify from the peer: the conn ends at once */
    gnutls_bye(ptls, GNUTLS_SHUT_WR);
    CHECK(run_until(is_closed, 3000));
    CHECK_STR(R.why, "peer closed TLS");
    CHECK(R.stream_ends == 0);
    peer_tls_free();
    close(P.fd);
    P.fd = -1;
}

/* Garbage where the ClientHello belongs: tls_done(false), closed. */
static void test_tls_garbage(void)
{
    if (!peer_starttls())
        return;
    uint64_t failed = srv.stats.tls_failed;
    peer_send_str("this is not a TLS record, just text that goes on and on\r\n");
    CHECK(run_until(have_tls_done, 3000));
    CHECK(R.tls_failed == 1 && R.tls_ok == 0);
    peer_close();
    CHECK(R.closed == 1);
    CHECK(strstr(R.why, R.tls_why) == R.why);
    CHECK(R.tls_why[0] != '\0');
    CHECK(srv.stats.tls_failed == failed + 1);
    CHECK(R.elements == 1); /* only the <starttls/> */
    peer_tls_free();
}

/* ---- set-up --------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static bool server_up(void)
{
    char certs[512], err[256] = "";
    snprintf(certs, sizeof certs, "%s/certs", dir);
    if (certgen_pki(certs, false, err, sizeof err) < 0 ||
        certgen_domain(certs, DOMAIN, BASE, cat_find("valid"), false, err,
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
    if (rs_config_load_string(text, "conn.conf", dir, &cfg, stderr) != 0)
        return false;
    srv.cfg = &cfg;
    srv.domains = rs_domains_load(&cfg);
    if (!srv.domains)
        return false;
    srv.start_time = (uint64_t)time(NULL);
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

static void server_down(void)
{
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    rs_domains_unref(srv.domains);
    rl_free(srv.log_limits);
    rs_config_free(srv.cfg);
    free(P.in);
}

int main(void)
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
        test_events_one_byte_at_a_time();
        test_stanza_too_big();
        test_too_deep();
        test_malformed();
        test_orderly_close();
        test_peer_eof();
        test_timeout();
        test_backpressure();
        test_stall();
        test_starttls();
        test_tls_garbage();
        CHECK(srv.n_conns == 0);
        server_down();
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}
