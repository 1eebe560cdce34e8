/* netaddr.h -- IP addresses and CIDR ranges for the outbound allow-list:
 * parse "10.0.0.0/8" or "fc00::/7", test membership, and name the special
 * range an address falls in (loopback, private, link-local, ...) so that
 * outbound connections go only to public unicast addresses unless the
 * operator allowed more (config `outbound.allow`); and the key that counts
 * an address with its neighbours as one requester (budgets per address or
 * IPv6 prefix, per network). No I/O, no allocation. */
#ifndef RS_NETADDR_H
#define RS_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

/* Longest text of a CIDR: a full IPv6 literal, "/128" and the NUL. */
#define RS_CIDR_TEXT_MAX 52

/* An address range. */
typedef struct netaddr_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network address (4 bytes used for IPv4) */
    unsigned prefix;         /* prefix length, 0..32 or 0..128 */
} netaddr_cidr;

/* A non-public range an address falls in. */
typedef struct netaddr_special_range {
    const char *name;        /* short class name: "loopback", "private", ... */
    const char *phrase;      /* for messages: "a loopback address" */
    netaddr_cidr range;           /* the whole special range (127.0.0.0/8, ...) */
} netaddr_special_range;

/* Parse text as "ADDRESS/PREFIX" or a bare address (a single host). NULL on
 * success, else why it is not a valid CIDR (host bits set is an error). */
const char *netaddr_cidr_parse(const char *text, netaddr_cidr *out);

/* "10.0.0.0/8" into buf (RS_CIDR_TEXT_MAX bytes suffice). */
void netaddr_cidr_text(const netaddr_cidr *c, char *buf, size_t len);

/* Whether address sa (AF_INET or AF_INET6) lies in c. An IPv4-mapped IPv6
 * address also matches IPv4 ranges. */
bool netaddr_cidr_contains(const netaddr_cidr *c, const struct sockaddr *sa);

/* Which non-public range sa lies in: false for public unicast, true with
 * *out filled otherwise. IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96)
 * and 6to4 (2002::/16) addresses are judged by the IPv4 address they embed
 * (then *out names the IPv4 range). Unknown families count as reserved. */
bool netaddr_special(const struct sockaddr *sa, netaddr_special_range *out);

/* host as an IPv4 or IPv6 literal with port into *out; false when host is
 * not a literal. */
bool netaddr_literal(const char *host, unsigned port,
                     struct sockaddr_storage *out);

/* The address of sa without port, as text ("10.1.2.3", "fd00::1"). */
void netaddr_text(const struct sockaddr *sa, char *buf, size_t len);

/* The key that names sa's range of v4_bits (IPv4) or v6_bits (IPv6) as one
 * requester, into buf (RS_CIDR_TEXT_MAX bytes suffice): "192.0.2.7" for a
 * whole IPv4 address (32), else the network and its length
 * ("192.0.2.0/24", "2001:db8:1:2::/64"). An IPv4-mapped IPv6 address is its
 * IPv4 address. "?" for other families. */
void netaddr_prefix_key(const struct sockaddr *sa, unsigned v4_bits,
                        unsigned v6_bits, char *buf, size_t len);

#endif
