/* conn.c -- bytes between a socket and the XML parser, through a TLS session
 * (tls.c) once STARTTLS or direct TLS started one. libuv reads feed the
 * session's ciphertext and its output goes through uv_write, so nothing here
 * ever blocks. */
#include "conn.h"

#include <stdarg.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn_internal.h"
#include "daemon.h"

#define READ_CHUNK 16384
#define CLOSE_GRACE_MS 2000     /* wait for the peer's close this long */

/* A write in flight: the request and its own copy of the bytes. */
typedef struct conn_write {
    uv_write_t req;
    rs_conn *conn;
    size_t len;
    char data[];
} conn_write;

static void conn_on_xs_header(void *ud, const xmlstream_header *h);
static bool conn_on_xs_open(void *ud, const xmlChar *name, const xmlChar *ns);
static void conn_on_xs_element(void *ud, xmlNodePtr el);
static void conn_on_xs_close(void *ud);
static void conn_on_xs_error(void *ud, xmlstream_error err, const char *text);

static const xmlstream_callbacks xs_events = {
    .on_header = conn_on_xs_header,
    .on_open = conn_on_xs_open,
    .on_element = conn_on_xs_element,
    .on_close = conn_on_xs_close,
    .on_error = conn_on_xs_error,
};

void conn_log(const rs_conn *c, log_level level, const char *event,
              const char *fmt, ...)
{
    if (!log_enabled(level) ||
        !log_peer_allowed(c->peer_key[0] ? c->peer_key : c->peer_ip))
        return;
    char prefix[700];
    snprintf(prefix, sizeof prefix, "%s#%u %s:%u local=%s remote=%s event=%s ",
             c->client ? "c2s" : c->dir == CONN_IN ? "s2s-in" : "s2s-out", c->id,
             c->peer_ip,
             c->peer_port, c->local ? c->local : "-",
             c->remote ? c->remote : "-", event);
    va_list ap;
    va_start(ap, fmt);
    log_prefixed(level, prefix, fmt, ap);
    va_end(ap);
}

/* What the peer may send: small and flat until it authenticated (an
 * initiating peer's auth nonzas hold no child element; a peer we dialled
 * sends features, which do, but never stanzas on our stream). */
static xmlstream_limits input_limits(const config_limits *l, conn_dir dir, bool authenticated)
{
    return (xmlstream_limits){
        .max_stanza_bytes = authenticated ? l->max_stanza_bytes : l->max_unauth_stanza_bytes,
        .max_depth = l->max_depth,
        .max_attributes = l->max_attributes,
        .max_namespaces = l->max_namespaces,
        .leaf_stanzas = dir == CONN_IN && !authenticated,
    };
}

rs_conn *conn_new(rs_daemon *srv, conn_dir dir, const conn_handler *handler,
                  void *owner)
{
    rs_conn *c = conn__ids_reserve(srv) == 0 ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return NULL;
    xmlstream_limits lim = input_limits(&srv->cfg->limits, dir, false);
    c->xs = xmlstream_new(&lim, &xs_events, c);
    if (!c->xs) {
        free(c);
        return NULL;
    }
    c->srv = srv;
    c->domains = domains_ref(srv->domains);
    c->id = ++srv->next_id;
    conn__ids_add(c);
    c->dir = dir;
    c->handler = handler;
    c->owner = owner;
    snprintf(c->peer_ip, sizeof c->peer_ip, "-");
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    uv_timer_init(srv->loop, &c->stall);
    c->tcp.data = c;
    c->timer.data = c;
    c->stall.data = c;
    c->open_handles = 3;
    c->evict_rank = -1;
    c->next = srv->conns;
    if (c->next)
        c->next->prev = c;
    srv->conns = c;
    srv->pools[RS_POOL_SERVERS].sockets++; /* until conn_set_client */
    if (++srv->n_conns > srv->conns_high)
        srv->conns_high = srv->n_conns;
    return c;
}

static void conn_unlink(rs_conn *c)
{
    conn__uncount_in(c);
    conn__ids_remove(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->srv->n_conns--;
}

static void conn_on_handle_closed(uv_handle_t *h)
{
    rs_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    conn_unlink(c);
    c->handler->closed(c, c->close_why ? c->close_why : "closed");
    if (c->observer)
        c->observer->freed(c->observer_ud);
    tls_free(c->tls);
    xmlstream_free(c->xs);
    domains_unref(c->domains);
    free(c->close_why);
    free(c->local);
    free(c->remote);
    free(c);
}

/* Close the handles now; closed() follows from the loop. */
static void conn_teardown(rs_conn *c)
{
    conn__cork_drop(c); /* the socket goes: nothing more will be sent */
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->stall);
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, conn_on_handle_closed);
        c->srv->pools[conn_pool(c)].sockets--;
    }
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, conn_on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&c->stall))
        uv_close((uv_handle_t *)&c->stall, conn_on_handle_closed);
}

static void record_peer(rs_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        uv_ip4_name(in, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(in6, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    conn__peer_key(&ss, c->srv->cfg->limits.ipv6_prefix, c->peer_key,
                   sizeof c->peer_key);
}

/* ---- writing ---------------------------------------------------------- */

static void handshake_step(rs_conn *c);

/* A write failed mid-handshake: the peer is gone, but what it sent before it
 * went (its alert: why it refused what we presented) may still wait in the
 * socket, behind the part of our flight it did not wait for. Read that
 * before closing, so that the close says why. */
static void read_last_words(rs_conn *c)
{
    uv_os_fd_t fd;
    char buf[READ_CHUNK];
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
        return;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && tls_feed(c->tls, buf, (size_t)n) == 0)
        handshake_step(c);
}

static void conn_on_written(uv_write_t *req, int status)
{
    conn_write *w = (conn_write *)req;
    rs_conn *c = w->conn;
    c->out_pending -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && !c->closing) {
        c->peer_gone = true;
        if (c->tls_state == CONN_TLS_HANDSHAKE)
            read_last_words(c);
        if (!c->closing)
            conn_close(c, uv_strerror(status));
        return;
    }
    if (status == 0 && c->idle_on_write && !c->closing)
        uv_timer_start(&c->timer, conn__on_timer, (uint64_t)c->idle_on_write * 1000, 0);
    conn__output_changed(c);
}

/* Put raw bytes on the socket. */
static int write_raw(rs_conn *c, const void *data, size_t len)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp) || c->peer_gone)
        return -1;
    conn_write *w = malloc(sizeof *w + len);
    if (!w)
        return -1;
    w->conn = c;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, conn_on_written) < 0) {
        free(w);
        return -1;
    }
    c->out_pending += len;
    c->bytes_out += len;
    c->srv->stats.bytes_out += len;
    conn__output_changed(c);
    return 0;
}

void conn_send(rs_conn *c, const char *data, size_t len)
{
    if (c->closing && c->close_sent)
        return;
    if (log_enabled(RS_LOG_DEBUG))
        conn_log(c, RS_LOG_DEBUG, "send", "%.*s", (int)(len > 1000 ? 1000 : len), data);
    if (c->tls_state == CONN_TLS_NONE) {
        if (write_raw(c, data, len) < 0 && !c->closing)
            conn_close(c, "write failed");
        return;
    }
    if (c->tls_state != CONN_TLS_ACTIVE)
        return; /* nothing may be sent during the handshake */
    conn__cork(c);
    int rc = tls_send(c->tls, data, len);
    if (rc < 0 && !c->closing)
        conn_close(c, gnutls_strerror(rc));
}

void conn_send_fmt(rs_conn *c, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!c->closing)
            conn_close(c, "out of memory formatting output");
        return;
    }
    conn_send(c, text, (size_t)n);
    free(text);
}

void conn_send_str(rs_conn *c, const char *s)
{
    conn_send(c, s, strlen(s));
}

void conn_send_node(rs_conn *c, xmlNodePtr el)
{
    size_t len = 0;
    char *s = xmlstream_serialize(el, &len);
    if (!s) {
        conn_close(c, "out of memory");
        return;
    }
    conn_send(c, s, len);
    free(s);
}

/* Append ' name="escaped value"' to out. */
static void append_attr(char *out, size_t n, const char *name, const char *val)
{
    if (!val || !val[0])
        return;
    char *esc = xmlstream_escape(val);
    if (!esc)
        return;
    size_t used = strlen(out);
    snprintf(out + used, n - used, " %s='%s'", name, esc);
    free(esc);
}

void conn_send_header(rs_conn *c, const char *from, const char *to,
                      const char *id)
{
    char hdr[2048];
    snprintf(hdr, sizeof hdr, "<?xml version='1.0'?><stream:stream xmlns='%s'"
             " xmlns:stream='http://etherx.jabber.org/streams'%s version='1.0'",
             c->client ? "jabber:client" : "jabber:server",
             c->client ? "" : " xmlns:db='jabber:server:dialback'");
    append_attr(hdr, sizeof hdr, "from", from);
    append_attr(hdr, sizeof hdr, "to", to);
    append_attr(hdr, sizeof hdr, "id", id);
    strncat(hdr, ">", sizeof hdr - strlen(hdr) - 1);
    c->header_sent = true;
    conn_send_str(c, hdr);
}

/* ---- reading ---------------------------------------------------------- */

static void feed_xml(rs_conn *c, const char *data, size_t len)
{
    if (c->closing)
        return; /* after we decided to close, the peer's bytes are ignored */
    if (log_enabled(RS_LOG_DEBUG))
        conn_log(c, RS_LOG_DEBUG, "recv", "%.*s", (int)(len > 1000 ? 1000 : len), data);
    xmlstream_feed(c->xs, data, len);
}

/* A failed handshake is the peer refusing what the profile presents (or
 * the profile's TLS refusing the peer): either way the test's answer. */
static void handshake_step(rs_conn *c)
{
    char why[256], alert[64] = "";
    tls_step step = tls_handshake(c->tls, why, sizeof why, alert,
                                  sizeof alert);
    if (step == RS_TLS_AGAIN)
        return;
    if (step == RS_TLS_DONE) {
        c->tls_state = CONN_TLS_ACTIVE;
        c->srv->stats.tls_ok++;
        if (c->observer)
            c->observer->tls(c->observer_ud, true, alert);
        if (c->handler->tls_done)
            c->handler->tls_done(c, true, NULL);
        return;
    }
    c->srv->stats.tls_failed++;
    if (c->observer)
        c->observer->tls(c->observer_ud, false, alert);
    c->tls_state = CONN_TLS_NONE; /* nothing more may be sent in TLS */
    c->close_sent = true;
    if (c->handler->tls_done)
        c->handler->tls_done(c, false, why);
    if (!c->closing)
        conn_close(c, why);
}

static void read_records(rs_conn *c)
{
    char buf[READ_CHUNK];
    while (!c->closing) {
        char why[256];
        ssize_t n = tls_recv(c->tls, buf, sizeof buf, why, sizeof why);
        if (n > 0) {
            feed_xml(c, buf, (size_t)n);
            if (c->tls_state != CONN_TLS_ACTIVE)
                return;
            continue;
        }
        if (n == RS_TLS_RECV_AGAIN)
            return;
        c->peer_gone = true;
        if (!c->closing)
            conn_close(c, n == RS_TLS_RECV_CLOSED ? "peer closed TLS" : why);
        return;
    }
}

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char chunk[READ_CHUNK]; /* one loop thread, consumed at once */
    *buf = uv_buf_init(chunk, sizeof chunk);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    rs_conn *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        c->peer_gone = true;
        uv_read_stop(s);
        if (c->closing) {
            conn_teardown(c); /* the peer finished too */
            return;
        }
        conn_close(c, nread == UV_EOF ? "peer closed the connection"
                                      : uv_strerror((int)nread));
        return;
    }
    c->bytes_in += (uint64_t)nread;
    c->srv->stats.bytes_in += (uint64_t)nread;
    c->last_read_ms = uv_now(c->srv->loop);
    if (c->closing)
        return; /* draining until the peer closes or the grace ends */
    if (c->idle_on_read)
        uv_timer_start(&c->timer, conn__on_timer, (uint64_t)c->idle_on_read * 1000, 0);
    if (c->tls_state == CONN_TLS_NONE) {
        feed_xml(c, buf->base, (size_t)nread);
        return;
    }
    if (tls_feed(c->tls, buf->base, (size_t)nread) < 0) {
        conn_close(c, "TLS input backlog too large");
        return;
    }
    if (c->tls_state == CONN_TLS_HANDSHAKE)
        handshake_step(c);
    if (c->tls_state == CONN_TLS_ACTIVE && !c->closing)
        read_records(c);
}

void conn__start_reading(rs_conn *c)
{
    uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc, conn_on_read);
}

int conn_accept(rs_conn *c, uv_stream_t *listener)
{
    int rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rc < 0)
        return rc;
    record_peer(c);
    if (c->dir == CONN_IN && conn__count_in(c) < 0)
        return UV_ENOMEM;
    uv_tcp_nodelay(&c->tcp, 1);
    conn__start_reading(c);
    return 0;
}

static void conn_on_connected(uv_connect_t *req, int status)
{
    rs_conn *c = req->data;
    free(req);
    if (c->closing) {
        return;
    }
    if (status == 0) {
        record_peer(c);
        uv_tcp_nodelay(&c->tcp, 1);
        conn__start_reading(c);
    } else {
        c->peer_gone = true;
    }
    if (c->handler->connected)
        c->handler->connected(c, status);
}

int conn_connect(rs_conn *c, const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)addr, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
    } else {
        uv_ip6_name((const struct sockaddr_in6 *)addr, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    }
    uv_connect_t *req = malloc(sizeof *req);
    if (!req)
        return UV_ENOMEM;
    req->data = c;
    int rc = uv_tcp_connect(req, &c->tcp, addr, conn_on_connected);
    if (rc < 0)
        free(req);
    return rc;
}

/* ---- XML events ---------------------------------------------------------- */

static void conn_on_xs_header(void *ud, const xmlstream_header *h)
{
    rs_conn *c = ud;
    /* inbound, every header (first or after a restart) opens a stream that
     * needs our own header, also before a stream error (RFC 6120 4.9.1.1):
     * the one sent before the restart does not count */
    if (c->dir == CONN_IN)
        c->header_sent = false;
    if (!c->closing && c->handler->header)
        c->handler->header(c, h);
}

static bool conn_on_xs_open(void *ud, const xmlChar *name, const xmlChar *ns)
{
    rs_conn *c = ud;
    if (c->closing)
        return false;
    return !c->handler->opening || c->handler->opening(c, (const char *)name,
                                                        (const char *)ns);
}

static void conn_on_xs_element(void *ud, xmlNodePtr el)
{
    rs_conn *c = ud;
    if (!c->closing && c->handler->element)
        c->handler->element(c, el);
}

static void conn_on_xs_close(void *ud)
{
    rs_conn *c = ud;
    if (c->closing)
        return;
    if (c->observer)
        c->observer->peer_ended(c->observer_ud);
    if (c->handler->stream_end)
        c->handler->stream_end(c);
    if (!c->closing)
        conn_close(c, "peer closed the stream");
}

static void conn_on_xs_error(void *ud, xmlstream_error err, const char *text)
{
    rs_conn *c = ud;
    if (c->closing)
        return;
    static const unsigned counter[XMLSTREAM_LIMIT_COUNT] = {
        [XMLSTREAM_LIMIT_STANZA_BYTES] = RS_INPUT_STANZA_BYTES,
        [XMLSTREAM_LIMIT_DEPTH] = RS_INPUT_DEPTH,
        [XMLSTREAM_LIMIT_ATTRIBUTES] = RS_INPUT_ATTRIBUTES,
        [XMLSTREAM_LIMIT_NAMESPACES] = RS_INPUT_NAMESPACES,
        [XMLSTREAM_LIMIT_LEAF] = RS_INPUT_UNAUTH_CHILDREN};
    xmlstream_limit broken = xmlstream_limit_broken(c->xs);
    char why[200];
    if (broken != XMLSTREAM_LIMIT_NONE) {
        unsigned i = counter[broken];
        if (broken == XMLSTREAM_LIMIT_STANZA_BYTES && !c->authenticated)
            i = RS_INPUT_UNAUTH_STANZA_BYTES;
        c->srv->stats.input_limits[i]++;
        /* the text names the key an operator would raise */
        if (broken != XMLSTREAM_LIMIT_LEAF)
            snprintf(why, sizeof why, "%s (limits.%s)", text, stats_input_limit_name(i));
        else
            snprintf(why, sizeof why, "%s", text);
        text = why;
    }
    conn_log(c, RS_LOG_WARN, "stream-error", "sent %s reason=\"%s\"",
             xmlstream_error_condition(err), text);
    conn_stream_error(c, xmlstream_error_condition(err), text);
}

/* ---- TLS (tls.c) ------------------------------------------------------- */

static int write_ciphertext(void *ud, const void *data, size_t len)
{
    return write_raw(ud, data, len);
}

static void log_tls_note(void *ud, const char *text)
{
    conn_log(ud, RS_LOG_INFO, "tls", "%s", text);
}

static const tls_io conn_tls_io = {.write = write_ciphertext, .note = log_tls_note};

int conn_starttls(rs_conn *c, const rs_domain *dom, const char *sni)
{
    c->tls = tls_new(c->dir == CONN_IN, c->domains, dom, sni, &conn_tls_io, c);
    if (!c->tls)
        return -1;
    c->tls_state = CONN_TLS_HANDSHAKE;
    handshake_step(c); /* the client speaks first; harmless for servers */
    return 0;
}

/* ---- timers and closing ------------------------------------------------- */

void conn__on_timer(uv_timer_t *t)
{
    rs_conn *c = t->data;
    if (c->closing) {
        conn_teardown(c); /* grace period over */
        return;
    }
    if (c->handler->timeout)
        c->handler->timeout(c);
}

void conn_set_timeout(rs_conn *c, unsigned seconds)
{
    if (c->closing)
        return;
    if (seconds == 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, conn__on_timer, (uint64_t)seconds * 1000, 0);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    rs_conn *c = req->data;
    free(req);
    if (status < 0 || c->peer_gone)
        conn_teardown(c);
}

void conn_stream_error(rs_conn *c, const char *condition, const char *text)
{
    if (c->closing)
        return;
    if (c->observer && c->observer->error_sent)
        c->observer->error_sent(c->observer_ud, condition);
    if (!c->header_sent)
        conn_send_header(c, c->local, NULL, NULL);
    char *esc = xmlstream_escape(text ? text : "");
    c->srv->stats.stream_errors++;
    conn_send_fmt(c, "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                  "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>%s</text>"
                  "</stream:error>", condition, esc ? esc : "");
    free(esc);
    if (c->closing)
        return;
    char why[300];
    snprintf(why, sizeof why, "stream error sent: %s (%s)", condition,
             text ? text : "");
    conn_close(c, why);
}

void conn_set_client(rs_conn *c)
{
    if (c->client || c->counted_in)
        return; /* once, before it is counted (conn_accept) */
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        c->srv->pools[RS_POOL_SERVERS].sockets--;
        c->srv->pools[RS_POOL_CLIENTS].sockets++;
    }
    c->client = true;
}

/* Names are kept at their length, not in fixed 256-byte arrays: an idle
 * stream holds them for hours. Without memory the old name stays. */
static void set_name(char **name, const char *value)
{
    if (!value || (*name && strcmp(*name, value) == 0))
        return;
    char *copy = value[0] ? strndup(value, 255) : NULL;
    if (value[0] && !copy)
        return;
    free(*name);
    *name = copy;
}

void conn_set_names(rs_conn *c, const char *local, const char *remote)
{
    set_name(&c->local, local);
    set_name(&c->remote, remote);
}

void conn_set_authenticated(rs_conn *c)
{
    conn__count_authenticated(c);
    c->authenticated = true;
    xmlstream_limits lim = input_limits(&c->srv->cfg->limits, c->dir, true);
    xmlstream_set_limits(c->xs, &lim);
}

void conn_set_bound(rs_conn *c)
{
    conn__count_bound(c);
    c->bound = true;
}

void conn_set_active(rs_conn *c)
{
    conn__count_active(c);
}

void conn_set_idle_on_write(rs_conn *c, unsigned seconds)
{
    c->idle_on_write = seconds;
}

void conn_set_idle_on_read(rs_conn *c, unsigned seconds)
{
    c->idle_on_read = seconds;
}

void conn_detach(rs_conn *c)
{
    c->owner = NULL;
}

void conn_restart_stream(rs_conn *c)
{
    xmlstream_restart(c->xs);
}

void conn_observe(rs_conn *c, const conn_observer *ob, void *ud)
{
    c->observer = ob;
    c->observer_ud = ud;
}

void conn_abort(rs_conn *c, const char *why)
{
    if (!c->closing)
        conn_close(c, why);
    conn_teardown(c);
}

void conn_close(rs_conn *c, const char *why)
{
    if (c->closing)
        return;
    if (c->observer)
        c->observer->closing(c->observer_ud, why ? why : "closed");
    c->closing = true; /* a write failing right here must not close again */
    if (c->header_sent && !c->close_sent && !c->peer_gone)
        conn_send_str(c, "</stream:stream>");
    c->close_sent = true;
    conn__uncount_in(c);
    /* bounded as before: a reason may quote the peer */
    c->close_why = strndup(why ? why : "closed", 255); /* NULL: "closed" */
    conn__flush(c); /* what is corked goes before close_notify */
    if (c->tls && c->tls_state == CONN_TLS_ACTIVE && !c->peer_gone)
        tls_bye(c->tls);
    uv_timer_stop(&c->stall);
    conn_log(c, RS_LOG_INFO, "close", "reason=\"%s\" in=%llu out=%llu",
             c->close_why ? c->close_why : "closed", (unsigned long long)c->bytes_in,
             (unsigned long long)c->bytes_out);
    uv_timer_stop(&c->timer);
    if (c->peer_gone || uv_is_closing((uv_handle_t *)&c->tcp) ||
        !uv_is_writable((uv_stream_t *)&c->tcp)) {
        conn_teardown(c);
        return;
    }
    /* FIN after our last bytes, then wait briefly for the peer to close so
     * our stream error is read rather than reset away. */
    uv_timer_start(&c->timer, conn__on_timer, CLOSE_GRACE_MS, 0);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || (req->data = c,
                 uv_shutdown(req, (uv_stream_t *)&c->tcp, conn_on_shutdown) < 0)) {
        free(req);
        conn_teardown(c);
    }
}
