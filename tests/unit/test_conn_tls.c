/* test_conn_tls.c -- the transport's STARTTLS and outbound side, through
 * real loopback TCP with this test's own handler table as the owner
 * (conn_harness.h): STARTTLS against a GnuTLS client that verifies the
 * domain's certificate (tls_done, SNI, a restarted stream in one-byte
 * records, our replies through TLS, close_notify) or sends garbage instead
 * of a ClientHello (tls_done failed, closed); conn_connect to a refused port
 * and to a listening peer (connected, our header first, stream_end). */
#include "conn_harness.h"

static int want_elements;
static bool have_n_elements(void) { return R.elements >= want_elements; }

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

/* Read TLS records into P.in until tls_want appears. */
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

static void peer_tls_send(const char *s, size_t len)
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
    peer_want = proceed;
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
    tls_describe(R.c->tls, desc, sizeof desc);
    CHECK(strncmp(desc, "TLS1.", 5) == 0);
    CHECK_STR(tls_sni(R.c->tls), DOMAIN);
    /* the restarted stream: a header and a message, one byte per record */
    int headers = R.headers, elements = R.elements;
    peer_tls_send(HEADER, strlen(HEADER));
    for (const char *p = message; *p; p++)
        peer_tls_send(p, 1);
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

/* ---- outbound: conn_connect ------------------------------------------------ */

static bool have_connected(void) { return R.connected > 0; }

/* A loopback port with nothing listening (the kernel's pick, released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* conn_connect to a refused port: connected(status < 0); the owner closes. */
static void test_connect_refused(void)
{
    memset(&R, 0, sizeof R);
    R.c = conn_new(&srv, CONN_OUT, &handler, &R);
    CHECK(R.c != NULL);
    if (!R.c)
        return;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", closed_port(), &a);
    CHECK(conn_connect(R.c, (struct sockaddr *)&a) == 0);
    CHECK(run_until(have_connected, 3000));
    CHECK(R.connect_status == UV_ECONNREFUSED);
    conn_close(R.c, "connect failed");
    CHECK(run_until(is_closed, 1000)); /* no grace: nothing to wait for */
    CHECK_STR(R.why, "connect failed");
}

/* conn_connect to a listening peer: connected(0), our header first, the
 * peer's header and elements, and its </stream:stream>. */
static void test_connect(void)
{
    memset(&R, 0, sizeof R);
    free(P.in);
    memset(&P, 0, sizeof P);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1) == 0);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    R.c = conn_new(&srv, CONN_OUT, &handler, &R);
    CHECK(R.c != NULL);
    if (!R.c) {
        close(lfd);
        return;
    }
    CHECK(conn_connect(R.c, (struct sockaddr *)&a) == 0);
    CHECK(run_until(have_connected, 3000));
    CHECK(R.connect_status == 0);
    P.fd = accept(lfd, NULL, NULL);
    close(lfd);
    CHECK(P.fd >= 0);
    fcntl(P.fd, F_SETFL, fcntl(P.fd, F_GETFL) | O_NONBLOCK);
    P.reading = true;
    peer_want = "<stream:stream";
    CHECK(run_until(peer_wants, 2000));
    CHECK(peer_got("from='" DOMAIN "'") && peer_got("to='peer.example'"));
    peer_send_str("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "from='peer.example' to='" DOMAIN "' id='x1' version='1.0'>"
                  "<stream:features/>");
    CHECK(run_until(have_element, 2000));
    CHECK(R.headers == 1);
    CHECK_STR(R.from, "peer.example");
    CHECK(strstr(R.last, "features") != NULL);
    peer_ends_stream();
}

static void tests(void)
{
    test_starttls();
    test_tls_garbage();
    test_connect_refused();
    test_connect();
}

int main(void)
{
    return conn_harness_main(tests);
}
