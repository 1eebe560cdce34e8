/* conn_flow.c -- what keeps one peer from taking more than its share:
 * backpressure on a stream's output (limits.send_buffer_bytes and
 * send_stall_timeout) and the per-IP key (IPv6 prefixes). */
#include "conn_internal.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"
#include "daemon.h"
#include "netaddr.h"

void conn__peer_key(const struct sockaddr_storage *ss, unsigned prefix,
                    char *out, size_t n)
{
    netaddr_prefix_key((const struct sockaddr *)ss, 32, prefix, out, n);
}

void conn_pause_reading(rs_conn *c, unsigned reason)
{
    if (!c->read_paused && !c->closing)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->read_paused |= reason;
}

void conn_resume_reading(rs_conn *c, unsigned reason)
{
    if (!(c->read_paused & reason))
        return;
    c->read_paused &= ~reason;
    if (!c->read_paused && !c->closing && !c->peer_gone &&
        !uv_is_closing((uv_handle_t *)&c->tcp))
        conn__start_reading(c);
}

/* The output stayed over the bound for limits.send_stall_timeout: the
 * peer does not read what it asked for. */
static void conn_on_stall(uv_timer_t *t)
{
    rs_conn *c = t->data;
    if (c->closing)
        return;
    c->stalled = true;
    c->srv->stats.send_cutoffs++;
    char text[200];
    snprintf(text, sizeof text, "you did not read %zu bytes of our output for "
             "%u s (limits.send_buffer_bytes = %zu)", c->out_pending,
             c->srv->cfg->limits.send_stall_timeout,
             c->srv->cfg->limits.send_buffer_bytes);
    conn_log(c, RS_LOG_WARN, "send-stalled", "%s", text);
    conn_stream_error(c, "policy-violation", text);
}

void conn__output_changed(rs_conn *c)
{
    size_t bound = c->srv->cfg->limits.send_buffer_bytes;
    if (!c->send_full && c->out_pending > bound) {
        c->send_full = true;
        conn_pause_reading(c, CONN_PAUSE_OWN_OUTPUT);
        if (!c->closing)
            uv_timer_start(&c->stall, conn_on_stall,
                           (uint64_t)c->srv->cfg->limits.send_stall_timeout * 1000, 0);
    } else if (c->send_full && c->out_pending <= bound / 2) {
        c->send_full = false;
        uv_timer_stop(&c->stall);
        conn_resume_reading(c, CONN_PAUSE_OWN_OUTPUT);
        if (c->handler->drained && !c->closing)
            c->handler->drained(c);
    }
}

void conn_shutdown_all(rs_daemon *srv)
{
    for (rs_conn *c = srv->conns; c; c = c->next)
        if (!c->closing) {
            if (c->header_sent)
                conn_stream_error(c, "system-shutdown", "the responder is stopping");
            else
                conn_close(c, "shutting down");
        }
}

/* ---- coalescing: cork TLS output until the loop turn ends ------------------ */

static void flush_unlist(rs_conn *c)
{
    rs_daemon *srv = c->srv;
    if (c->flush_prev)
        c->flush_prev->flush_next = c->flush_next;
    else
        srv->flush_list = c->flush_next;
    if (c->flush_next)
        c->flush_next->flush_prev = c->flush_prev;
    c->flush_next = c->flush_prev = NULL;
}

void conn__flush(rs_conn *c)
{
    if (!c->corked)
        return;
    c->corked = false;
    flush_unlist(c);
    int rc = tls_uncork(c->tls);
    if (rc < 0 && !c->closing)
        conn_close(c, gnutls_strerror(rc));
}

/* Before the loop waits for I/O (after the turn's callbacks, timers'
 * included): corked TLS output and buffered log lines go out. */
static void conn_on_flush_check(uv_prepare_t *h)
{
    rs_daemon *srv = h->data;
    while (srv->flush_list)
        conn__flush(srv->flush_list);
    log_flush();
}

/* Streams that read nothing for a while give their parser back (between
 * stanzas only; most did as they authenticated) and their observer hears
 * it (the record packs its outcome); a walk once a second, never per
 * stream. After many, the heap's free pages go back to the system too
 * (glibc keeps them otherwise, and the parsers of a crowd that went quiet
 * would stay in RSS). */
static void conn_on_idle_sweep(uv_timer_t *t)
{
    rs_daemon *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    unsigned released = 0;
    for (rs_conn *c = srv->conns; c; c = c->next) {
        if (c->closing || now - c->last_read_ms < CONN_PARSER_IDLE_MS)
            continue;
        if (!xmlstream_dormant(c->xs)) {
            if (!xmlstream_release(c->xs))
                continue; /* mid-stanza: not idle */
            released++;
        }
        if (c->observer && c->observer->idle)
            c->observer->idle(c->observer_ud); /* the record packs up too */
    }
    if (released >= CONN_TRIM_AFTER)
        malloc_trim(0);
}

void conn_flush_start(rs_daemon *srv)
{
    uv_timer_init(srv->loop, &srv->idle_sweep);
    srv->idle_sweep.data = srv;
    uv_timer_start(&srv->idle_sweep, conn_on_idle_sweep, CONN_PARSER_IDLE_MS,
                   CONN_PARSER_IDLE_MS);
    uv_unref((uv_handle_t *)&srv->idle_sweep);
    uv_prepare_init(srv->loop, &srv->flush_check);
    srv->flush_check.data = srv;
    uv_prepare_start(&srv->flush_check, conn_on_flush_check);
    uv_unref((uv_handle_t *)&srv->flush_check); /* never keeps the loop alive */
    srv->flush_on = true;
    log_set_buffered();
}

void conn_flush_stop(rs_daemon *srv)
{
    if (!srv->flush_on)
        return;
    conn_on_flush_check(&srv->flush_check);
    srv->flush_on = false;
    setvbuf(stderr, NULL, _IONBF, 0); /* from here to exit, line by line */
    uv_close((uv_handle_t *)&srv->flush_check, NULL);
    uv_close((uv_handle_t *)&srv->idle_sweep, NULL);
}

void conn__cork(rs_conn *c)
{
    if (!c->srv->flush_on || c->corked)
        return;
    tls_cork(c->tls);
    c->corked = true;
    c->flush_next = c->srv->flush_list;
    if (c->flush_next)
        c->flush_next->flush_prev = c;
    c->srv->flush_list = c;
}

void conn__cork_drop(rs_conn *c)
{
    if (!c->corked)
        return;
    c->corked = false;
    flush_unlist(c);
}
