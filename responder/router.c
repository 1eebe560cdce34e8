/* router.c -- inbound stanzas to services, outbound ones to s2s_out. */
#include "router.h"

#include <stdlib.h>

#include "log.h"
#include "probe.h"
#include "s2s_in.h"
#include "s2s_out.h"
#include "services.h"
#include "xmlstream.h"

void router_deliver_local(rs_server *srv, const rs_domain *dom,
                          const char *remote, xmlNodePtr stanza)
{
    if (probe_on_stanza(srv, dom, remote, stanza))
        return;
    services_handle(srv, dom, remote, stanza);
}

void router_send(rs_server *srv, const char *local, const char *remote,
                 xmlNodePtr el)
{
    size_t len = 0;
    char *xml = xs_serialize(el, &len);
    xmlFreeNode(el);
    if (!xml) {
        rs_log(RS_LOG_ERROR, "router: out of memory serializing a stanza");
        return;
    }
    s2s_out *o = s2s_out_get(srv, local, remote);
    if (!o || !s2s_out_send(o, xml, len)) {
        rs_log(RS_LOG_WARN, "router: %s from %s to %s; stanza dropped",
               o ? "queue full" : "no stream (limits or memory)", local, remote);
        probe_on_undeliverable(srv, local, remote,
                               o ? "our queue to the target is full"
                                 : "no stream to the target (limits)");
    }
    free(xml);
}

void router_verify_dialback(rs_server *srv, const char *local,
                            const char *remote, const char *stream_id,
                            const char *key, unsigned requester_id)
{
    s2s_out *o = s2s_out_get(srv, local, remote);
    if (o)
        s2s_out_verify(o, stream_id, key, requester_id);
    else
        s2s_in_dialback_verdict(srv, requester_id, local, remote, false,
                                "cannot reach the authoritative server");
}
