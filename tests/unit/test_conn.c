/* test_conn.c -- the transport (conn.c, conn_flow.c) in plaintext, through
 * real loopback TCP with this test's own handler table as the owner
 * (conn_harness.h): header/element events with input split down to single
 * bytes, stream_end, the stream errors for max_stanza_bytes and max_depth
 * (policy-violation), malformed XML (not-well-formed), restricted XML,
 * conn_send/_fmt/_node reaching the peer, our orderly close
 * (</stream:stream>, FIN, closed once, nothing sent or delivered after it),
 * peer EOF, the owner's timeout (and disarming it) and the close grace,
 * backpressure (reading pauses over send_buffer_bytes, drained fires once
 * the peer reads) and the stall cut-off (send_stall_timeout). */
#include "conn_harness.h"

static int want_elements;
static uint64_t stall_cutoffs;
static bool have_n_elements(void) { return R.elements >= want_elements; }
static bool have_timeout(void) { return R.timeouts > 0; }
static bool have_drained(void) { return R.drained > 0; }

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
    peer_ends_stream();
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
    peer_ends_stream();
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

static void tests(void)
{
    test_events_one_byte_at_a_time();
    test_stanza_too_big();
    test_too_deep();
    test_malformed();
    test_orderly_close();
    test_peer_eof();
    test_timeout();
    test_backpressure();
    test_stall();
}

int main(void)
{
    return conn_harness_main(tests);
}
