/* dns.c -- c-ares on libuv: sockets watched with uv_poll, timeouts driven by a
 * uv_timer while queries are pending. */
#include "dns.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_TARGETS 16
#define MAX_ADDRS 16

/* One socket c-ares asked us to watch. */
typedef struct dns_poll {
    uv_poll_t handle;
    struct rs_dns *dns;   /* owner */
    ares_socket_t fd;     /* the socket */
    struct dns_poll *next;
} dns_poll;

struct rs_dns {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer; /* drives c-ares timeouts */
    dns_poll *polls;  /* watched sockets */
    unsigned pending; /* queries in flight */
    bool closing;
};

/* A lookup in flight. Freed by the c-ares callback, which always runs. */
struct rs_dns_req {
    rs_dns *dns;
    bool cancelled; /* the owner is gone: do not call back */
    dns_targets_cb targets_cb;
    dns_addrs_cb addrs_cb;
    void *ud;
    char domain[256]; /* for the SRV fallback */
    unsigned port;
    bool starting;    /* inside rs_dns_*: c-ares may answer synchronously */
    bool finished;    /* answered while starting: free it on return */
};

const char *dns_status_name(dns_status status)
{
    switch (status) {
    case RS_DNS_OK: return "ok";
    case RS_DNS_NO_SERVICE: return "no service (SRV target '.')";
    case RS_DNS_NOT_FOUND: return "not found";
    case RS_DNS_FAILED: return "lookup failed";
    }
    return "?";
}

static void dns_on_timer(uv_timer_t *t)
{
    rs_dns *dns = t->data;
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void dns_on_poll(uv_poll_t *h, int status, int events)
{
    dns_poll *p = h->data;
    ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
    if (status < 0 || (events & UV_READABLE))
        rfd = p->fd;
    if (status < 0 || (events & UV_WRITABLE))
        wfd = p->fd;
    ares_process_fd(p->dns->channel, rfd, wfd);
}

static void dns_on_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

/* c-ares tells us which sockets to watch for what. */
static void dns_on_sock_state(void *data, ares_socket_t fd, int readable,
                              int writable)
{
    rs_dns *dns = data;
    dns_poll **pp = &dns->polls;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    dns_poll *p = *pp;

    if (!readable && !writable) {
        if (p) {
            *pp = p->next;
            uv_poll_stop(&p->handle);
            uv_close((uv_handle_t *)&p->handle, dns_on_poll_closed);
        }
        return;
    }
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p || uv_poll_init_socket(dns->loop, &p->handle, fd) < 0) {
            free(p);
            log_msg(RS_LOG_ERROR, "dns: cannot watch socket %d", (int)fd);
            return;
        }
        p->dns = dns;
        p->fd = fd;
        p->handle.data = p;
        p->next = dns->polls;
        dns->polls = p;
    }
    uv_poll_start(&p->handle,
                  (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                  dns_on_poll);
}

rs_dns *dns_new(uv_loop_t *loop, const char *servers)
{
    static bool library_ready;
    if (!library_ready) {
        if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
            return NULL;
        library_ready = true;
    }
    rs_dns *dns = calloc(1, sizeof *dns);
    if (!dns)
        return NULL;
    dns->loop = loop;
    struct ares_options opts = {0};
    opts.sock_state_cb = dns_on_sock_state;
    opts.sock_state_cb_data = dns;
    opts.timeout = 2000; /* ms per try */
    opts.tries = 2;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    int rc = ares_init_options(&dns->channel, &opts, mask);
    if (rc != ARES_SUCCESS) {
        log_msg(RS_LOG_ERROR, "dns: %s", ares_strerror(rc));
        free(dns);
        return NULL;
    }
    if (servers && (rc = ares_set_servers_ports_csv(dns->channel, servers))
                       != ARES_SUCCESS) {
        log_msg(RS_LOG_ERROR, "dns: servers %s: %s", servers, ares_strerror(rc));
        ares_destroy(dns->channel);
        free(dns);
        return NULL;
    }
    uv_timer_init(loop, &dns->timer);
    dns->timer.data = dns;
    return dns;
}

static void dns_on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void dns_free(rs_dns *dns)
{
    if (!dns)
        return;
    dns->closing = true;
    ares_destroy(dns->channel); /* runs pending callbacks with EDESTRUCTION */
    while (dns->polls) {
        dns_poll *p = dns->polls;
        dns->polls = p->next;
        uv_poll_stop(&p->handle);
        uv_close((uv_handle_t *)&p->handle, dns_on_poll_closed);
    }
    uv_timer_stop(&dns->timer);
    uv_close((uv_handle_t *)&dns->timer, dns_on_timer_closed);
}

static rs_dns_req *req_start(rs_dns *dns, void *ud)
{
    rs_dns_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->dns = dns;
    req->ud = ud;
    req->starting = true;
    if (dns->pending++ == 0)
        uv_timer_start(&dns->timer, dns_on_timer, 100, 100);
    return req;
}

/* Account for a finished request; true when its owner still wants it. */
static bool req_finish(rs_dns_req *req)
{
    rs_dns *dns = req->dns;
    if (--dns->pending == 0 && !dns->closing)
        uv_timer_stop(&dns->timer);
    return !req->cancelled && !dns->closing;
}

/* Free a finished request, unless its start function still holds it. */
static void req_release(rs_dns_req *req)
{
    if (req->starting)
        req->finished = true;
    else
        free(req);
}

/* After the c-ares call: the handle, or NULL when it already completed. */
static rs_dns_req *req_started(rs_dns_req *req)
{
    req->starting = false;
    if (req->finished) {
        free(req);
        return NULL;
    }
    return req;
}

static dns_status status_of(int ares_status)
{
    switch (ares_status) {
    case ARES_SUCCESS: return RS_DNS_OK;
    case ARES_ENOTFOUND:
    case ARES_ENODATA: return RS_DNS_NOT_FOUND;
    default: return RS_DNS_FAILED;
    }
}

static int by_priority_weight(const void *a, const void *b)
{
    const struct ares_srv_reply *x = *(const struct ares_srv_reply *const *)a;
    const struct ares_srv_reply *y = *(const struct ares_srv_reply *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return (int)y->weight - (int)x->weight; /* heavier first */
}

static void dns_on_srv(void *arg, int status, int timeouts, unsigned char *abuf,
                       int alen)
{
    (void)timeouts;
    rs_dns_req *req = arg;
    if (!req_finish(req)) {
        req_release(req);
        return;
    }
    dns_target targets[MAX_TARGETS];
    size_t n = 0;
    dns_status st = status_of(status);
    struct ares_srv_reply *srv = NULL;
    if (st == RS_DNS_OK && ares_parse_srv_reply(abuf, alen, &srv) != ARES_SUCCESS)
        st = RS_DNS_NOT_FOUND;
    if (st == RS_DNS_OK) {
        const struct ares_srv_reply *sorted[MAX_TARGETS];
        size_t m = 0;
        for (const struct ares_srv_reply *r = srv; r && m < MAX_TARGETS; r = r->next)
            sorted[m++] = r;
        qsort(sorted, m, sizeof sorted[0], by_priority_weight);
        bool no_service = false;
        for (size_t i = 0; i < m; i++) {
            const char *host = sorted[i]->host;
            if (host[0] == '\0' || strcmp(host, ".") == 0) {
                no_service = true; /* RFC 2782: "." = service not available */
                continue;
            }
            snprintf(targets[n].host, sizeof targets[n].host, "%s", host);
            targets[n].port = sorted[i]->port;
            n++;
        }
        if (n == 0)
            st = no_service ? RS_DNS_NO_SERVICE : RS_DNS_NOT_FOUND;
    }
    if (srv)
        ares_free_data(srv);
    if (st == RS_DNS_NOT_FOUND) {
        /* RFC 6120 3.2.2: no SRV record, fall back to the domain itself */
        snprintf(targets[0].host, sizeof targets[0].host, "%s", req->domain);
        targets[0].port = req->port;
        n = 1;
        st = RS_DNS_OK;
    }
    req->targets_cb(req->ud, st, targets, n);
    req_release(req);
}

rs_dns_req *dns_s2s_targets(rs_dns *dns, const char *domain,
                               unsigned default_port, dns_targets_cb cb,
                               void *ud)
{
    char qname[300];
    rs_dns_req *req = NULL;
    if (snprintf(qname, sizeof qname, "_xmpp-server._tcp.%s", domain) >=
            (int)sizeof qname ||
        !(req = req_start(dns, ud))) {
        cb(ud, RS_DNS_FAILED, NULL, 0);
        return NULL;
    }
    req->targets_cb = cb;
    snprintf(req->domain, sizeof req->domain, "%s", domain);
    req->port = default_port;
    ares_query(dns->channel, qname, ns_c_in, ns_t_srv, dns_on_srv, req);
    return req_started(req);
}

static void dns_on_addrinfo(void *arg, int status, int timeouts,
                            struct ares_addrinfo *result)
{
    (void)timeouts;
    rs_dns_req *req = arg;
    if (!req_finish(req)) {
        if (result)
            ares_freeaddrinfo(result);
        req_release(req);
        return;
    }
    struct sockaddr_storage addrs[MAX_ADDRS];
    size_t n = 0;
    dns_status st = status_of(status);
    if (st == RS_DNS_OK && result) {
        for (struct ares_addrinfo_node *a = result->nodes; a && n < MAX_ADDRS;
             a = a->ai_next) {
            if ((size_t)a->ai_addrlen > sizeof addrs[0])
                continue;
            memset(&addrs[n], 0, sizeof addrs[n]);
            memcpy(&addrs[n], a->ai_addr, (size_t)a->ai_addrlen);
            if (a->ai_family == AF_INET)
                ((struct sockaddr_in *)&addrs[n])->sin_port = htons((uint16_t)req->port);
            else if (a->ai_family == AF_INET6)
                ((struct sockaddr_in6 *)&addrs[n])->sin6_port = htons((uint16_t)req->port);
            else
                continue;
            n++;
        }
    }
    if (result)
        ares_freeaddrinfo(result);
    if (st == RS_DNS_OK && n == 0)
        st = RS_DNS_NOT_FOUND;
    req->addrs_cb(req->ud, st, addrs, n);
    req_release(req);
}

rs_dns_req *dns_addresses(rs_dns *dns, const char *host, unsigned port,
                             dns_addrs_cb cb, void *ud)
{
    rs_dns_req *req = req_start(dns, ud);
    if (!req) {
        cb(ud, RS_DNS_FAILED, NULL, 0);
        return NULL;
    }
    req->addrs_cb = cb;
    req->port = port;
    struct ares_addrinfo_hints hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(dns->channel, host, NULL, &hints, dns_on_addrinfo, req);
    return req_started(req);
}

void dns_cancel(rs_dns_req *req)
{
    if (req)
        req->cancelled = true;
}

void dns_target_list_set(dns_target_list *l, const dns_target *targets,
                         size_t n, size_t max)
{
    if (max > DNS_TARGETS_MAX)
        max = DNS_TARGETS_MAX;
    l->n = n < max ? n : max;
    memcpy(l->items, targets, l->n * sizeof *targets);
    l->next = 0;
}

const dns_target *dns_target_list_current(const dns_target_list *l)
{
    return l->next < l->n ? &l->items[l->next] : NULL;
}

void dns_target_list_advance(dns_target_list *l)
{
    if (l->next < l->n)
        l->next++;
}
