/* listener.c -- accepting s2s and c2s connections (see listener.h). */
#include "listener.h"

#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "log.h"

#define ACCEPT_RETRY_MS 100 /* after an accept failed for lack of memory */

static void listener_on_connection(uv_stream_t *listener, int status);

/* One warning per listener and minute about failed accepts, with the count
 * of those not logged: a flood of them must not fill the disk. */
static void accept_failed(rs_listener *l, int err)
{
    rs_daemon *srv = l->srv;
    srv->stats.accept_failures++;
    char key[96];
    snprintf(key, sizeof key, "listener %s:%u", l->address, l->port);
    uint64_t unlogged;
    if (log_once_a_minute(key, &unlogged))
        log_msg(RS_LOG_WARN, "%s: accept failed: %s (%llu more since the last "
               "such line); the listener keeps going", key, uv_strerror(err),
               (unsigned long long)unlogged);
}

/* The pool this listener's streams take their slots from: out of
 * descriptors, a stream of the same pool gives way for the next. */
static daemon_pool_kind listener_pool(const rs_listener *l)
{
    return l->clients ? RS_POOL_CLIENTS : RS_POOL_SERVERS;
}

/* Memory came back, perhaps: take the connection still pending. */
static void listener_on_accept_retry(uv_timer_t *t)
{
    rs_listener *l = t->data;
    if (!l->srv->stopping)
        listener_on_connection((uv_stream_t *)&l->tcp, 0);
}

/* libuv stops polling a listener while a connection it announced waits for
 * uv_accept, and does not resume it when uv_accept fails: so a connection
 * we could not take is retried, and a failed uv_accept restarts listening. */
static void listener_on_connection(uv_stream_t *listener, int status)
{
    rs_listener *l = listener->data;
    rs_daemon *srv = l->srv;
    if (status < 0) {
        /* EMFILE/ENFILE: libuv already dropped the connection; free a
           socket of the pool for the next one */
        accept_failed(l, status);
        if ((status == UV_EMFILE || status == UV_ENFILE) && !srv->stopping)
            admission_evict_one(srv, listener_pool(l));
        return;
    }
    if (srv->stopping)
        return;
    int rc = l->accept(srv, listener, l->direct_tls);
    if (rc == UV_ENOMEM) {
        accept_failed(l, rc);
        uv_timer_start(&l->retry, listener_on_accept_retry, ACCEPT_RETRY_MS, 0);
    } else if (rc < 0) {
        accept_failed(l, rc);
        if (rc == UV_EMFILE || rc == UV_ENFILE)
            admission_evict_one(srv, listener_pool(l));
        uv_listen(listener, 128, listener_on_connection);
    }
}

int listener_open(rs_listener *l, rs_daemon *srv, const config_listen *conf,
                  listener_accept_fn accept)
{
    struct sockaddr_storage ss;
    int rc = strchr(conf->address, ':')
                 ? uv_ip6_addr(conf->address, (int)conf->port,
                               (struct sockaddr_in6 *)&ss)
                 : uv_ip4_addr(conf->address, (int)conf->port,
                               (struct sockaddr_in *)&ss);
    l->srv = srv;
    l->port = conf->port;
    l->direct_tls = conf->direct_tls;
    l->clients = conf->clients;
    l->accept = accept;
    snprintf(l->address, sizeof l->address, "%s", conf->address);
    uv_tcp_init(srv->loop, &l->tcp);
    l->tcp.data = l;
    uv_timer_init(srv->loop, &l->retry);
    l->retry.data = l;
    if (rc == 0)
        rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 128, listener_on_connection);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot listen on %s port %u: %s\n",
                srv->config_path ? srv->config_path : "(embedded config)",
                conf->address, conf->port, uv_strerror(rc));
        return -1;
    }
    log_msg(RS_LOG_INFO, "listening on %s port %u (%s, %s)", conf->address,
           conf->port, conf->clients ? "c2s" : "s2s",
           conf->direct_tls ? "direct TLS" : "STARTTLS");
    return 0;
}

static void listener_on_closed_noop(uv_handle_t *h)
{
    (void)h;
}

void listener_close(rs_listener *l)
{
    uv_close((uv_handle_t *)&l->tcp, listener_on_closed_noop);
    uv_close((uv_handle_t *)&l->retry, listener_on_closed_noop);
}
