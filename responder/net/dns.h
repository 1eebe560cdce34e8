/* dns.h -- asynchronous DNS for outbound s2s: c-ares driven by the libuv loop.
 * A request can be cancelled; its callback then never runs. */
#ifndef RS_DNS_H
#define RS_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#include <uv.h>

/* Result of a lookup. */
typedef enum {
    RS_DNS_OK,         /* answers follow */
    RS_DNS_NO_SERVICE, /* SRV says "no service here" (target ".") */
    RS_DNS_NOT_FOUND,  /* the name has no such records */
    RS_DNS_FAILED      /* timeout, server failure, ... */
} dns_status;

/* One place to connect to. */
typedef struct dns_target {
    char host[256]; /* host name from the SRV record, or the domain */
    unsigned port;  /* TCP port */
} dns_target;

#define DNS_TARGETS_MAX 16 /* targets a list keeps */

/* The targets of a domain, tried one after another. */
typedef struct dns_target_list {
    dns_target items[DNS_TARGETS_MAX]; /* in the order to try them */
    size_t n;    /* how many */
    size_t next; /* index of the one being tried */
} dns_target_list;

/* Keep the first max (at most DNS_TARGETS_MAX) of targets; the first is
 * current. */
void dns_target_list_set(dns_target_list *l, const dns_target *targets,
                         size_t n, size_t max);

/* The target being tried, or NULL when none is left. */
const dns_target *dns_target_list_current(const dns_target_list *l);

/* Move on to the next target. */
void dns_target_list_advance(dns_target_list *l);

typedef struct rs_dns rs_dns;         /* the resolver */
typedef struct rs_dns_req rs_dns_req; /* one pending lookup */

/* Targets for an s2s domain, in the order to try them. */
typedef void (*dns_targets_cb)(void *ud, dns_status status,
                               const dns_target *targets, size_t n);

/* Addresses of a host, port already set in each. */
typedef void (*dns_addrs_cb)(void *ud, dns_status status,
                             const struct sockaddr_storage *addrs, size_t n);

/* A resolver on loop using the system configuration (/etc/resolv.conf), or
 * when servers is not NULL those servers ("IP:PORT,[IPv6]:PORT", as
 * config.h's resolver.servers). NULL on failure, logged. */
rs_dns *dns_new(uv_loop_t *loop, const char *servers);

/* Cancel everything and release; the loop must run to finish closing. */
void dns_free(rs_dns *dns);

/* Both lookups call cb exactly once, possibly before they return (then they
 * return NULL); otherwise they return a handle for dns_cancel. Owners must
 * therefore not free themselves synchronously inside cb. */

/* _xmpp-server._tcp SRV of domain (RFC 6120 3.2), ordered by priority then
 * weight; when there is no SRV record, the domain itself on default_port. */
rs_dns_req *dns_s2s_targets(rs_dns *dns, const char *domain,
                               unsigned default_port, dns_targets_cb cb,
                               void *ud);

/* A and AAAA of host. */
rs_dns_req *dns_addresses(rs_dns *dns, const char *host, unsigned port,
                             dns_addrs_cb cb, void *ud);

/* The callback of req will not run. req must still be pending. */
void dns_cancel(rs_dns_req *req);

/* Printable status. */
const char *dns_status_name(dns_status status);

#endif
