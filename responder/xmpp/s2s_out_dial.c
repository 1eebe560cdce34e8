/* s2s_out_dial.c -- where an outbound stream connects: the remote's
 * _xmpp-server SRV targets (or the domain itself), their addresses, less
 * those outbound.allow refuses, tried one after the other until one
 * connects. The stream itself is s2s_out.c. */
#include "s2s_out_internal.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "netaddr.h"

static void try_next_target(rs_s2s_out *o);

/* The connect to the current address failed: the detail to the log and
 * last_error, the public text to the conn (and so to its outcome record). */
void s2s_out__dial_connect_failed(rs_s2s_out *o, const char *detail)
{
    char addr[64];
    netaddr_text((const struct sockaddr *)&o->addrs[o->addr_i], addr, sizeof addr);
    snprintf(o->last_error, sizeof o->last_error, "%s: %s", addr, detail);
    s2s_out__log(o, RS_LOG_INFO, "connect-fail", "address=%s reason=\"%s\"", addr,
            detail);
    conn_close(o->conn, S2S_OUT_FAILED_PUBLIC);
}

/* Skip addresses outbound.allow does not let us dial, logging each; the
 * reason of the last one stays in last_error for the unreached record. */
static void skip_refused_addresses(rs_s2s_out *o)
{
    for (; o->addr_i < o->n_addrs; o->addr_i++) {
        char why[sizeof o->last_error];
        const struct sockaddr *sa = (const struct sockaddr *)&o->addrs[o->addr_i];
        if (config_outbound_allowed(o->srv->cfg, sa, o->remote, why,
                                       sizeof why))
            return;
        s2s_out__log(o, RS_LOG_WARN, "refused-target", "reason=\"%s\"", why);
        o->srv->stats.targets_refused++;
        snprintf(o->last_error, sizeof o->last_error, "%s", why);
    }
}

/* How far a lookup that did not give answers got. */
static s2s_out_reach reach_of_dns(dns_status status)
{
    switch (status) {
    case RS_DNS_NO_SERVICE: return S2S_OUT_UNREACHED_NO_SERVICE;
    case RS_DNS_NOT_FOUND: return S2S_OUT_UNREACHED_NAME;
    case RS_DNS_OK:
    case RS_DNS_FAILED: break;
    }
    return S2S_OUT_UNREACHED_RESOLVER;
}

void s2s_out__dial_next_address(rs_s2s_out *o)
{
    if (o->state == OUT_DONE)
        return;
    s2s_out__reached(o, S2S_OUT_UNREACHED_ADDRESS); /* DNS gave addresses */
    skip_refused_addresses(o);
    if (o->addr_i >= o->n_addrs) {
        dns_target_list_advance(&o->targets);
        try_next_target(o);
        return;
    }
    o->state = OUT_CONNECTING;
    o->conn = s2s_out__conn_new(o);
    if (!o->conn) {
        s2s_out__fail(o, "internal-server-error", "out of memory");
        return;
    }
    o->connected_once = true;
    o->heard_peer = false;
    conn_set_names(o->conn, o->local, o->remote);
    int rc = conn_connect(o->conn, (const struct sockaddr *)&o->addrs[o->addr_i]);
    if (rc < 0)
        s2s_out__dial_connect_failed(o, uv_strerror(rc));
}

static void s2s_out_on_addresses(void *ud, dns_status status,
                                 const struct sockaddr_storage *addrs, size_t n)
{
    rs_s2s_out *o = ud;
    o->dns_req = NULL;
    if (status != RS_DNS_OK) {
        s2s_out__reached(o, reach_of_dns(status));
        snprintf(o->last_error, sizeof o->last_error, "%s: %s",
                 dns_target_list_current(&o->targets)->host,
                 dns_status_name(status));
        dns_target_list_advance(&o->targets);
        try_next_target(o);
        return;
    }
    o->n_addrs = n < MAX_ADDRS ? n : MAX_ADDRS;
    memcpy(o->addrs, addrs, o->n_addrs * sizeof *addrs);
    o->addr_i = 0;
    s2s_out__dial_next_address(o);
}

static void try_next_target(rs_s2s_out *o)
{
    if (o->state == OUT_DONE)
        return;
    const dns_target *t = dns_target_list_current(&o->targets);
    if (!t) {
        s2s_out__fail(o, "remote-server-not-found", o->last_error[0] ? o->last_error
                                                            : "no address");
        return;
    }
    if (netaddr_literal(t->host, t->port, &o->addrs[0])) { /* no lookup */
        o->n_addrs = 1;
        o->addr_i = 0;
        s2s_out__dial_next_address(o);
        return;
    }
    o->state = OUT_ADDRESSES;
    /* the callback may run before this returns, and start the next lookup */
    rs_dns_req *r = dns_addresses(o->srv->dns, t->host, t->port, s2s_out_on_addresses, o);
    if (r)
        o->dns_req = r;
}

static void s2s_out_on_targets(void *ud, dns_status status,
                               const dns_target *targets, size_t n)
{
    rs_s2s_out *o = ud;
    o->dns_req = NULL;
    if (status != RS_DNS_OK) {
        s2s_out__reached(o, reach_of_dns(status));
        char why[300];
        snprintf(why, sizeof why, "DNS for %s: %s", o->remote,
                 dns_status_name(status));
        s2s_out__fail(o, "remote-server-not-found", why);
        return;
    }
    dns_target_list_set(&o->targets, targets, n, DNS_TARGETS_MAX);
    log_msg(RS_LOG_INFO, "s2s-out local=%s remote=%s event=dns targets=%zu "
            "first=%s:%u", o->local, o->remote, o->targets.n,
            o->targets.items[0].host, o->targets.items[0].port);
    try_next_target(o);
}

void s2s_out__dial_start(rs_s2s_out *o)
{
    o->state = OUT_RESOLVE;
    /* the callback may run before this returns */
    rs_dns_req *r = dns_s2s_targets(o->srv->dns, o->remote, 5269, s2s_out_on_targets, o);
    if (r)
        o->dns_req = r;
}
