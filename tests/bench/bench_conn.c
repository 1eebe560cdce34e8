/* bench_conn.c -- see bench_conn.h. */
#include "bench_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gnutls/x509.h>

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define READ_CHUNK 16384
#define OUT_MAX (8u << 20)   /* queued output per stream before we give up */
#define SEND_LIT(l, c, s) bc_send((l), (c), (s), sizeof(s) - 1)

enum { BC_KIND_CONN = 1, BC_KIND_LISTENER = 2 };
static int listener_tag = BC_KIND_LISTENER;

/* ---- elements ---- */

bool bc_is(xmlNodePtr el, const char *ns, const char *name)
{
    return el && el->type == XML_ELEMENT_NODE && el->ns && el->ns->href &&
           strcmp((const char *)el->name, name) == 0 &&
           strcmp((const char *)el->ns->href, ns) == 0;
}

const char *bc_attr(xmlNodePtr el, const char *name, char *buf, size_t n)
{
    xmlChar *v = xmlGetProp(el, (const xmlChar *)name);
    snprintf(buf, n, "%s", v ? (const char *)v : "");
    xmlFree(v);
    return buf;
}

static xmlNodePtr child(xmlNodePtr el, const char *ns, const char *name)
{
    for (xmlNodePtr k = el->children; k; k = k->next)
        if (bc_is(k, ns, name))
            return k;
    return NULL;
}

/* ---- lifetime ---- */

static void fail(bc_loop *l, bc_conn *c, const char *fmt, const char *arg)
{
    if (c->state == BC_DEAD)
        return;
    char why[256];
    snprintf(why, sizeof why, fmt, arg ? arg : "");
    if (c->state != BC_READY) {
        l->failed++;
        snprintf(l->last_error, sizeof l->last_error, "%s stream %u: %.200s",
                 c->role == BC_OUT ? "outbound" : "inbound", c->index, why);
    }
    c->state = BC_DEAD;
    if (l->cfg.ev.dead)
        l->cfg.ev.dead(l, c, why);
}

static void conn_free(bc_loop *l, bc_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->live[c->role]--;
    if (c->tls)
        gnutls_deinit(c->tls);
    if (c->xs)
        xmlstream_free(c->xs);
    close(c->fd);
    free(c->out);
    free(c);
}

static void arm(bc_loop *l, bc_conn *c, bool want_out)
{
    if (want_out == c->out_armed)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->out_armed = want_out;
}

/* ---- output ---- */

void bc_send(bc_loop *l, bc_conn *c, const char *data, size_t len)
{
    if (c->state == BC_DEAD)
        return;
    if (c->out_len + len > OUT_MAX) {
        fail(l, c, "more than 8 MiB of output queued%s", NULL);
        return;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) {
            fail(l, c, "out of memory%s", NULL);
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    if (!c->dirty) {
        c->dirty = true;
        c->next_dirty = l->dirty;
        l->dirty = c;
    }
}

static void sendf(bc_loop *l, bc_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sendf(bc_loop *l, bc_conn *c, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof buf)
        bc_send(l, c, buf, (size_t)n);
}

/* Write what is queued: as TLS records once the handshake is done, in clear
 * before it. Leaves EPOLLOUT armed while the socket is full. */
static void flush(bc_loop *l, bc_conn *c)
{
    size_t off = 0;
    bool blocked = false;
    bool tls = c->tls && c->state != BC_HANDSHAKE;
    while (off < c->out_len && c->state != BC_DEAD) {
        ssize_t n;
        if (tls) {
            n = c->tls_retry ? gnutls_record_send(c->tls, NULL, 0)
                             : gnutls_record_send(c->tls, c->out + off, c->out_len - off);
            if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                if (!c->tls_retry)
                    c->tls_pending = c->out_len - off;
                c->tls_retry = true;
                blocked = true;
                break;
            }
            c->tls_retry = false;
            if (n < 0) {
                fail(l, c, "TLS send: %s", gnutls_strerror((int)n));
                return;
            }
        } else {
            n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                blocked = true;
                break;
            }
            if (n < 0) {
                fail(l, c, "send: %s", strerror(errno));
                return;
            }
        }
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    if (c->state == BC_DEAD)
        return;
    arm(l, c, blocked);
    if (!blocked && c->closing) {
        if (c->tls)
            gnutls_bye(c->tls, GNUTLS_SHUT_WR);
        c->state = BC_DEAD;
        if (l->cfg.ev.dead)
            l->cfg.ev.dead(l, c, "closed by us");
    }
}

void bc_close(bc_loop *l, bc_conn *c)
{
    if (c->state == BC_DEAD || c->closing)
        return;
    SEND_LIT(l, c, "</stream:stream>");
    c->closing = true;
}

/* ---- the XMPP side ---- */

static void send_header(bc_loop *l, bc_conn *c, const char *from, const char *to, bool id)
{
    char *f = xmlstream_escape(from), *t = xmlstream_escape(to);
    if (!f || !t) {
        free(f);
        free(t);
        fail(l, c, "out of memory%s", NULL);
        return;
    }
    sendf(l, c, "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          "xmlns:stream='" NS_STREAMS "' from='%s' to='%s'%s version='1.0'>",
          f, t, id ? " id='bench'" : "");
    free(f);
    free(t);
}

static void on_header(void *ud, const xmlstream_header *h);
static void on_element(void *ud, xmlNodePtr el);
static void on_close(void *ud);
static void on_error(void *ud, xmlstream_error e, const char *text);
static const xmlstream_callbacks xs_cb = {.on_header = on_header, .on_element = on_element,
                                          .on_close = on_close, .on_error = on_error};
static const xmlstream_limits xs_limits = {.max_stanza_bytes = 1 << 20, .max_depth = 32};

static bc_loop *loop_of(bc_conn *c);

static void start_tls(bc_loop *l, bc_conn *c)
{
    unsigned flags = (c->role == BC_OUT ? GNUTLS_CLIENT : GNUTLS_SERVER) | GNUTLS_NONBLOCK;
    if (gnutls_init(&c->tls, flags) < 0 ||
        gnutls_priority_set(c->tls, l->prio) < 0 ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, l->creds) < 0) {
        fail(l, c, "gnutls_init failed%s", NULL);
        return;
    }
    if (c->role == BC_OUT)
        gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, l->cfg.to, strlen(l->cfg.to));
    else
        gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUIRE);
    gnutls_transport_set_int(c->tls, c->fd);
    c->state = BC_HANDSHAKE;
}

static void outbound_features(bc_loop *l, bc_conn *c, xmlNodePtr el)
{
    if (c->stage == BC_STAGE_PLAIN) {
        if (!child(el, NS_TLS, "starttls")) {
            fail(l, c, "no STARTTLS offered%s", NULL);
            return;
        }
        SEND_LIT(l, c, "<starttls xmlns='" NS_TLS "'/>");
        c->state = BC_WAIT_PROCEED;
    } else if (c->stage == BC_STAGE_TLS) {
        xmlNodePtr mechs = child(el, NS_SASL, "mechanisms");
        bool external = false;
        for (xmlNodePtr m = mechs ? mechs->children : NULL; m; m = m->next) {
            xmlChar *text = bc_is(m, NS_SASL, "mechanism") ? xmlNodeGetContent(m) : NULL;
            external |= text && strcmp((const char *)text, "EXTERNAL") == 0;
            xmlFree(text);
        }
        if (!external) {
            fail(l, c, "SASL EXTERNAL not offered after TLS%s", NULL);
            return;
        }
        /* authzid = our domain (XEP-0178 section 3) */
        gnutls_datum_t in = {(unsigned char *)l->cfg.from, (unsigned)strlen(l->cfg.from)}, b64;
        if (gnutls_base64_encode2(&in, &b64) < 0) {
            fail(l, c, "base64 failed%s", NULL);
            return;
        }
        sendf(l, c, "<auth xmlns='" NS_SASL "' mechanism='EXTERNAL'>%.*s</auth>",
              (int)b64.size, (const char *)b64.data);
        gnutls_free(b64.data);
        c->state = BC_WAIT_SUCCESS;
    } else {
        c->state = BC_READY;
        c->was_ready = true;
        if (l->cfg.ev.ready)
            l->cfg.ev.ready(l, c);
    }
}

/* Inbound EXTERNAL: the certificate must verify for the stream's from. */
static void inbound_auth(bc_loop *l, bc_conn *c, xmlNodePtr el)
{
    char mech[32];
    unsigned status = 1;
    if (strcmp(bc_attr(el, "mechanism", mech, sizeof mech), "EXTERNAL") != 0 ||
        gnutls_certificate_verify_peers3(c->tls, c->peer, &status) < 0 || status != 0) {
        SEND_LIT(l, c, "<failure xmlns='" NS_SASL "'><not-authorized/></failure>");
        bc_close(l, c);
        fail(l, c, "refused the target's EXTERNAL (certificate status %s)",
             status ? "not valid" : "unread");
        return;
    }
    SEND_LIT(l, c, "<success xmlns='" NS_SASL "'/>");
    c->stage = BC_STAGE_AUTHED;
    c->state = BC_WAIT_HEADER;
    xmlstream_restart(c->xs);
}

static void on_header(void *ud, const xmlstream_header *h)
{
    bc_conn *c = ud;
    bc_loop *l = loop_of(c);
    if (c->role == BC_OUT) {
        /* the answer to ours; features follow */
        return;
    }
    if (c->state != BC_WAIT_HEADER) {
        fail(l, c, "unexpected stream header%s", NULL);
        return;
    }
    snprintf(c->peer, sizeof c->peer, "%.255s", h->from);
    send_header(l, c, h->to, h->from, true);
    if (c->stage == BC_STAGE_PLAIN) {
        sendf(l, c, "<stream:features><starttls xmlns='" NS_TLS "'><required/></starttls>"
              "</stream:features>");
        c->state = BC_WAIT_STARTTLS;
    } else if (c->stage == BC_STAGE_TLS) {
        sendf(l, c, "<stream:features><mechanisms xmlns='" NS_SASL "'>"
              "<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>");
        c->state = BC_WAIT_AUTH;
    } else {
        sendf(l, c, "<stream:features/>");
        c->state = BC_READY;
        c->was_ready = true;
        if (l->cfg.ev.ready)
            l->cfg.ev.ready(l, c);
    }
}

static void on_element(void *ud, xmlNodePtr el)
{
    bc_conn *c = ud;
    bc_loop *l = loop_of(c);
    if (c->state == BC_DEAD)
        return;
    if (bc_is(el, NS_STREAMS, "error")) {
        xmlNodePtr k = el->children;
        while (k && k->type != XML_ELEMENT_NODE)
            k = k->next;
        fail(l, c, "stream error <%s/>", k ? (const char *)k->name : "?");
        return;
    }
    switch (c->state) {
    case BC_WAIT_FEATURES:
        if (bc_is(el, NS_STREAMS, "features"))
            outbound_features(l, c, el);
        else
            fail(l, c, "expected features, got <%s/>", (const char *)el->name);
        break;
    case BC_WAIT_PROCEED:
        if (!bc_is(el, NS_TLS, "proceed")) {
            fail(l, c, "STARTTLS refused: <%s/>", (const char *)el->name);
            break;
        }
        xmlstream_restart(c->xs);
        start_tls(l, c);
        break;
    case BC_WAIT_STARTTLS:
        if (!bc_is(el, NS_TLS, "starttls")) {
            fail(l, c, "expected starttls, got <%s/>", (const char *)el->name);
            break;
        }
        SEND_LIT(l, c, "<proceed xmlns='" NS_TLS "'/>");
        flush(l, c); /* in clear, before the session exists */
        xmlstream_restart(c->xs);
        c->state = BC_HANDSHAKE;
        start_tls(l, c);
        break;
    case BC_WAIT_SUCCESS:
        if (!bc_is(el, NS_SASL, "success")) {
            fail(l, c, "SASL EXTERNAL refused: <%s/>",
                 el->children && el->children->name ? (const char *)el->children->name
                                                    : (const char *)el->name);
            break;
        }
        xmlstream_restart(c->xs);
        c->stage = BC_STAGE_AUTHED;
        c->state = BC_WAIT_FEATURES;
        send_header(l, c, l->cfg.from, l->cfg.to, false);
        break;
    case BC_WAIT_AUTH:
        if (bc_is(el, NS_SASL, "auth"))
            inbound_auth(l, c, el);
        else
            fail(l, c, "expected auth, got <%s/>", (const char *)el->name);
        break;
    case BC_READY:
        if (l->cfg.ev.element)
            l->cfg.ev.element(l, c, el);
        break;
    default:
        fail(l, c, "unexpected <%s/>", (const char *)el->name);
    }
}

static void on_close(void *ud)
{
    bc_conn *c = ud;
    fail(loop_of(c), c, "the target closed the stream%s", NULL);
}

static void on_error(void *ud, xmlstream_error e, const char *text)
{
    bc_conn *c = ud;
    (void)e;
    fail(loop_of(c), c, "XML error: %s", text);
}

/* ---- input ---- */

static void handshake(bc_loop *l, bc_conn *c)
{
    int r = gnutls_handshake(c->tls);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
        arm(l, c, gnutls_record_get_direction(c->tls) == 1);
        return;
    }
    if (r < 0) {
        fail(l, c, "TLS handshake: %s", gnutls_strerror(r));
        return;
    }
    c->stage = BC_STAGE_TLS;
    if (c->role == BC_OUT) {
        c->state = BC_WAIT_FEATURES;
        send_header(l, c, l->cfg.from, l->cfg.to, false);
    } else {
        c->state = BC_WAIT_HEADER;
    }
    arm(l, c, false);
}

static void readable(bc_loop *l, bc_conn *c)
{
    char buf[READ_CHUNK];
    if (c->state == BC_HANDSHAKE) {
        handshake(l, c);
        if (c->state == BC_HANDSHAKE || c->state == BC_DEAD)
            return;
    }
    /* In TLS, read until GnuTLS says AGAIN: records it has already
     * decrypted would raise no epoll event. In clear, one recv per event. */
    while (c->state != BC_DEAD) {
        ssize_t n;
        if (c->tls && c->state != BC_HANDSHAKE) {
            n = gnutls_record_recv(c->tls, buf, sizeof buf);
            if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                return;
            if (n < 0) {
                fail(l, c, "TLS receive: %s", gnutls_strerror((int)n));
                return;
            }
        } else {
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (n < 0) {
                fail(l, c, "receive: %s", strerror(errno));
                return;
            }
        }
        if (n == 0) {
            fail(l, c, "the target closed the connection%s", NULL);
            return;
        }
        xmlstream_feed(c->xs, buf, (size_t)n);
        if (c->state == BC_HANDSHAKE) {
            /* STARTTLS began inside the callback: the client speaks first */
            if (c->role == BC_OUT)
                handshake(l, c);
            return;
        }
        if (!c->tls)
            return; /* one recv per event in clear; level-triggered */
    }
}

static void connected(bc_loop *l, bc_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        fail(l, c, "connect: %s", strerror(err));
        return;
    }
    c->state = BC_WAIT_FEATURES;
    send_header(l, c, l->cfg.from, l->cfg.to, false);
}

/* ---- connections ---- */

static bc_loop *current_loop; /* the parser callbacks' way back to the loop */
static bc_loop *loop_of(bc_conn *c)
{
    (void)c;
    return current_loop;
}

static bc_conn *conn_new(bc_loop *l, int fd, bc_role role, unsigned index)
{
    bc_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->kind = BC_KIND_CONN;
    c->fd = fd;
    c->role = role;
    c->index = index;
    c->xs = xmlstream_new(&xs_limits, &xs_cb, c);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c->xs || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        if (c->xs)
            xmlstream_free(c->xs);
        close(fd);
        free(c);
        return NULL;
    }
    c->next = l->all;
    if (l->all)
        l->all->prev = c;
    l->all = c;
    l->live[role]++;
    return c;
}

bc_conn *bc_dial(bc_loop *l, const struct sockaddr *source, socklen_t len, unsigned index)
{
    int fd = socket(l->cfg.target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        snprintf(l->last_error, sizeof l->last_error, "socket: %s", strerror(errno));
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source)
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if ((source && bind(fd, source, len) < 0) ||
        (connect(fd, (const struct sockaddr *)&l->cfg.target, l->cfg.target_len) < 0 &&
         errno != EINPROGRESS)) {
        snprintf(l->last_error, sizeof l->last_error, "bind/connect: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    bc_conn *c = conn_new(l, fd, BC_OUT, index);
    if (!c) {
        snprintf(l->last_error, sizeof l->last_error, "out of memory");
        return NULL;
    }
    c->state = BC_CONNECTING;
    snprintf(c->peer, sizeof c->peer, "%s", l->cfg.to);
    arm(l, c, true);
    return c;
}

static void accept_all(bc_loop *l)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bc_conn *c = conn_new(l, fd, BC_IN, l->live[BC_IN]);
        if (c)
            c->state = BC_WAIT_HEADER;
    }
}

int bc_listen(bc_loop *l, const struct sockaddr *addr, socklen_t len, char *err, size_t n)
{
    int one = 1;
    l->listen_fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener_tag};
    if (l->listen_fd < 0 ||
        setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(l->listen_fd, addr, len) < 0 || listen(l->listen_fd, 128) < 0 ||
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->listen_fd, &ev) < 0) {
        snprintf(err, n, "listen: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int bc_loop_init(bc_loop *l, const bc_config *cfg, char *err, size_t n)
{
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->listen_fd = -1;
    current_loop = l;
    int r;
    if ((r = gnutls_certificate_allocate_credentials(&l->creds)) < 0 ||
        (r = gnutls_certificate_set_x509_key_file(l->creds, cfg->cert, cfg->key,
                                                  GNUTLS_X509_FMT_PEM)) < 0) {
        snprintf(err, n, "%s: %s", cfg->cert, gnutls_strerror(r));
        return -1;
    }
    for (const char *const *ca = cfg->cas; ca && *ca; ca++)
        if ((r = gnutls_certificate_set_x509_trust_file(l->creds, *ca,
                                                        GNUTLS_X509_FMT_PEM)) <= 0) {
            snprintf(err, n, "%s: %s", *ca, r < 0 ? gnutls_strerror(r) : "no certificate");
            return -1;
        }
    const char *where = NULL;
    if ((r = gnutls_priority_init(&l->prio, cfg->priority, &where)) < 0) {
        snprintf(err, n, "priority %s at '%s': %s", cfg->priority, where ? where : "",
                 gnutls_strerror(r));
        return -1;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        snprintf(err, n, "epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* One flush per stream per turn: pipelined stanzas share records. */
static void flush_dirty(bc_loop *l)
{
    while (l->dirty) {
        bc_conn *c = l->dirty;
        l->dirty = c->next_dirty;
        c->dirty = false;
        if (c->state != BC_DEAD && c->state != BC_CONNECTING)
            flush(l, c);
    }
}

void bc_turn(bc_loop *l, int timeout_ms)
{
    struct epoll_event evs[256];
    current_loop = l;
    flush_dirty(l); /* what the owner queued between turns */
    int n = epoll_wait(l->epfd, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        if (*(int *)evs[i].data.ptr == BC_KIND_LISTENER) {
            accept_all(l);
            continue;
        }
        bc_conn *c = evs[i].data.ptr;
        if (c->state == BC_DEAD)
            continue;
        if (c->state == BC_CONNECTING) {
            if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                connected(l, c);
        } else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
            readable(l, c);
        } else if ((evs[i].events & EPOLLOUT) && c->state == BC_HANDSHAKE) {
            handshake(l, c);
        }
        if ((evs[i].events & EPOLLOUT) && c->out_len && !c->dirty) {
            c->dirty = true;
            c->next_dirty = l->dirty;
            l->dirty = c;
        }
    }
    flush_dirty(l);
    for (bc_conn *c = l->all, *next; c; c = next) {
        next = c->next;
        if (c->state == BC_DEAD)
            conn_free(l, c);
    }
}

void bc_loop_free(bc_loop *l)
{
    while (l->all)
        conn_free(l, l->all);
    if (l->listen_fd >= 0)
        close(l->listen_fd);
    if (l->epfd > 0)
        close(l->epfd);
    if (l->prio)
        gnutls_priority_deinit(l->prio);
    if (l->creds)
        gnutls_certificate_free_credentials(l->creds);
}
