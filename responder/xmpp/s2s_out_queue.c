/* s2s_out_queue.c -- what rides an outbound stream besides its own
 * protocol: stanzas queued until it is ready, dialback verifications sent
 * as soon as the remote spoke, and what the stream tells its listener (the
 * router) about them (s2s_out_events). */
#include "s2s_out.h"
#include "s2s_out_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "stanza.h"
#include "xmlstream.h"

void s2s_out__event_verdict(rs_s2s_out *o, unsigned requester, bool valid,
                            const char *why)
{
    const s2s_out_events *ev = o->srv->out_events;
    if (ev && ev->verdict)
        ev->verdict(o->srv->out_events_ud, requester, o->local, o->remote,
                    valid, why);
}

void s2s_out__event_undeliverable(rs_s2s_out *o, const char *why)
{
    const s2s_out_events *ev = o->srv->out_events;
    if (ev && ev->undeliverable)
        ev->undeliverable(o->srv->out_events_ud, o->local, o->remote, o->reach,
                          why);
}

void s2s_out__reached(rs_s2s_out *o, s2s_out_reach reach)
{
    if (reach > o->reach)
        o->reach = reach;
}

void s2s_out__event_flow(rs_s2s_out *o, bool cut)
{
    const s2s_out_events *ev = o->srv->out_events;
    if (ev && ev->replies_flow)
        ev->replies_flow(o->srv->out_events_ud, o->remote, cut);
}

/* One more stanza out on the stream, for the report. */
static void note_sent(rs_s2s_out *o)
{
    report_outcome *r = record_outcome(o->rec);
    r->stanzas++;
    snprintf(r->stanza, sizeof r->stanza, "sent %u stanza(s)", r->stanzas);
    if (r->stanzas == 1)
        record_update(o->rec);
}

void s2s_out__drop_queue(rs_s2s_out *o)
{
    while (o->queue) {
        s2s_out_item *it = o->queue;
        o->queue = it->next;
        free(it);
    }
    o->queue_tail = &o->queue;
    o->queued = 0;
    o->queued_bytes = 0;
}

void s2s_out__flush_queue(rs_s2s_out *o)
{
    while (o->queue && o->conn && o->state == OUT_READY) {
        s2s_out_item *it = o->queue;
        o->queue = it->next;
        if (!o->queue)
            o->queue_tail = &o->queue;
        o->queued--;
        o->queued_bytes -= it->len;
        conn_send(o->conn, it->data, it->len);
        free(it);
        note_sent(o);
    }
}

void s2s_out__send_verifies(rs_s2s_out *o)
{
    for (size_t i = 0; i < o->n_verifies && o->conn; i++) {
        s2s_out_pending_verify *v = &o->verifies[i];
        if (v->sent)
            continue;
        char *id = xmlstream_escape(v->id), *key = xmlstream_escape(v->key);
        if (id && key)
            s2s_out_send_fmt(o, "<db:verify from='%s' to='%s' id='%s'>%s</db:verify>",
                     o->local, o->remote, id, key);
        free(id);
        free(key);
        v->sent = true;
    }
}

bool s2s_out__verify_answered(rs_s2s_out *o, xmlNodePtr el)
{
    const char *id = stanza_attr(el, "id"), *type = stanza_attr(el, "type");
    for (size_t i = 0; i < o->n_verifies; i++) {
        if (strcmp(o->verifies[i].id, id) != 0)
            continue;
        unsigned requester = o->verifies[i].requester;
        o->verifies[i] = o->verifies[--o->n_verifies];
        s2s_out__log(o, RS_LOG_INFO, "dialback", "remote says key for stream %s is %s",
                id, type);
        s2s_out__event_verdict(o, requester, strcmp(type, "valid") == 0,
                          strcmp(type, "error") == 0
                              ? "the authoritative server answered an error"
                              : NULL);
        return o->n_verifies == 0;
    }
    return false;
}

bool s2s_out_send(rs_s2s_out *o, const char *xml, size_t len)
{
    if (o->state == OUT_DONE || o->state == OUT_VERIFY_ONLY)
        return false;
    if (o->state == OUT_READY && o->conn) {
        /* the idle clock restarts when the peer takes our bytes
           (idle_on_write), not when we queue them */
        conn_send(o->conn, xml, len);
        note_sent(o);
        return true;
    }
    if (o->queued >= o->srv->cfg->limits.queue_max ||
        o->queued_bytes + len > o->srv->cfg->limits.send_buffer_bytes) {
        s2s_out__log(o, RS_LOG_WARN, "dropped", "queue full (%u stanzas, %zu bytes)",
                o->queued, o->queued_bytes);
        return false;
    }
    s2s_out_item *it = malloc(sizeof *it + len);
    if (!it)
        return false;
    it->next = NULL;
    it->len = len;
    memcpy(it->data, xml, len);
    *o->queue_tail = it;
    o->queue_tail = &it->next;
    o->queued++;
    o->queued_bytes += len;
    return true;
}

void s2s_out_verify(rs_s2s_out *o, const char *stream_id, const char *key,
                    unsigned requester_id)
{
    if (o->state == OUT_DONE)
        return;
    if (o->n_verifies == MAX_VERIFIES || strlen(stream_id) >= 128 ||
        strlen(key) >= 130) {
        s2s_out__event_verdict(o, requester_id, false,
                               "cannot carry this verification");
        return;
    }
    s2s_out_pending_verify *v = &o->verifies[o->n_verifies++];
    snprintf(v->id, sizeof v->id, "%s", stream_id);
    snprintf(v->key, sizeof v->key, "%s", key);
    v->requester = requester_id;
    v->sent = false;
    if (o->verify_ok && o->conn)
        s2s_out__send_verifies(o);
}

