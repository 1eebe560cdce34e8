/* netaddr.c -- CIDR parsing and matching, and the table of special-purpose
 * ranges (IANA IPv4/IPv6 Special-Purpose Address Registries) that outbound
 * connections avoid unless the operator allowed them. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How an address of a range is judged. */
typedef enum {
    SPECIAL_NAMED,   /* the range is special: name it */
    SPECIAL_EMBEDS,  /* judge the IPv4 address embedded at embed_at */
} special_kind;

/* One row of the special-purpose table, most specific first per family. */
typedef struct special_row {
    const char *cidr;      /* the range */
    special_kind kind;
    const char *name;      /* class name (SPECIAL_NAMED) */
    const char *phrase;    /* for messages (SPECIAL_NAMED) */
    unsigned embed_at;     /* byte offset of the IPv4 address (SPECIAL_EMBEDS) */
} special_row;

#define NAMED(c, n, p) {c, SPECIAL_NAMED, n, p, 0}
#define EMBEDS(c, at) {c, SPECIAL_EMBEDS, NULL, NULL, at}

static const special_row special_v4[] = {
    NAMED("255.255.255.255/32", "broadcast", "a broadcast address"),
    NAMED("0.0.0.0/32", "unspecified", "an unspecified address"),
    NAMED("0.0.0.0/8", "this-network", "a \"this network\" address (0.0.0.0/8)"),
    NAMED("10.0.0.0/8", "private", "a private address"),
    NAMED("100.64.0.0/10", "shared", "a shared (carrier-grade NAT) address"),
    NAMED("127.0.0.0/8", "loopback", "a loopback address"),
    NAMED("169.254.0.0/16", "link-local", "a link-local address"),
    NAMED("172.16.0.0/12", "private", "a private address"),
    NAMED("192.0.0.0/24", "reserved", "a reserved (IETF protocol) address"),
    NAMED("192.0.2.0/24", "documentation", "a documentation address"),
    NAMED("192.88.99.0/24", "reserved", "a reserved (6to4 relay) address"),
    NAMED("192.168.0.0/16", "private", "a private address"),
    NAMED("198.18.0.0/15", "benchmarking", "a benchmarking address"),
    NAMED("198.51.100.0/24", "documentation", "a documentation address"),
    NAMED("203.0.113.0/24", "documentation", "a documentation address"),
    NAMED("224.0.0.0/4", "multicast", "a multicast address"),
    NAMED("240.0.0.0/4", "reserved", "a reserved address"),
};

static const special_row special_v6[] = {
    NAMED("::/128", "unspecified", "an unspecified address"),
    NAMED("::1/128", "loopback", "a loopback address"),
    EMBEDS("::ffff:0:0/96", 12),
    EMBEDS("64:ff9b::/96", 12),
    NAMED("64:ff9b:1::/48", "private", "a private (local NAT64) address"),
    NAMED("100::/64", "reserved", "a reserved (discard-only) address"),
    NAMED("2001:db8::/32", "documentation", "a documentation address"),
    NAMED("2001::/23", "reserved", "a reserved (IETF protocol) address"),
    EMBEDS("2002::/16", 2),
    NAMED("3fff::/20", "documentation", "a documentation address"),
    NAMED("fc00::/7", "unique-local", "a unique-local (private) address"),
    NAMED("fe80::/10", "link-local", "a link-local address"),
    NAMED("fec0::/10", "site-local", "a site-local address"),
    NAMED("ff00::/8", "multicast", "a multicast address"),
};

/* Global unicast is 2000::/3; everything else not named above is reserved. */
#define GLOBAL_UNICAST_V6 "2000::/3"

const char *netaddr_cidr_parse(const char *text, netaddr_cidr *out)
{
    memset(out, 0, sizeof *out);
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen == 0)
        return slash ? "no address before the '/'" : "it is empty";
    if (alen >= sizeof addr)
        return "the address is too long";
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    unsigned max;
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return "the address is not an IPv4 or IPv6 literal";
    }
    out->prefix = max;
    if (slash) {
        const char *p = slash + 1;
        unsigned long v = 0;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || p[digits] != '\0')
            return "the prefix length after '/' is not a number";
        v = strtoul(p, NULL, 10);
        if (v > max)
            return max == 32 ? "an IPv4 prefix length is at most 32"
                             : "an IPv6 prefix length is at most 128";
        out->prefix = (unsigned)v;
    }
    for (unsigned bit = out->prefix; bit < max; bit++)
        if (out->addr[bit / 8] & (0x80u >> (bit % 8)))
            return "the address has bits set beyond the prefix length "
                   "(write the network address, e.g. 10.0.0.0/8)";
    return NULL;
}

void netaddr_cidr_text(const netaddr_cidr *c, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    if (!inet_ntop(c->family, c->addr, a, sizeof a))
        snprintf(a, sizeof a, "?");
    snprintf(buf, len, "%s/%u", a, c->prefix);
}

/* Whether the first prefix bits of a and b agree. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b,
                         unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* The raw bytes of sa's address and its family (0 when unknown). */
static int addr_bytes(const struct sockaddr *sa, const unsigned char **bytes)
{
    if (sa->sa_family == AF_INET) {
        *bytes = (const unsigned char *)&((const struct sockaddr_in *)
                                              (const void *)sa)->sin_addr;
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        *bytes = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        return AF_INET6;
    }
    return 0;
}

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0,
                                                   0, 0, 0, 0, 0xff, 0xff};

bool netaddr_cidr_contains(const netaddr_cidr *c, const struct sockaddr *sa)
{
    const unsigned char *b;
    int family = addr_bytes(sa, &b);
    if (family == AF_INET6 && c->family == AF_INET &&
        memcmp(b, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
        family = AF_INET;
        b += 12;
    }
    return family != 0 && family == c->family && prefix_equal(b, c->addr, c->prefix);
}

/* An IPv4 sockaddr for the 4 bytes at b. */
static struct sockaddr_in v4_of(const unsigned char *b)
{
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    memcpy(&in4.sin_addr, b, 4);
    return in4;
}

/* The first row of table that contains sa, or NULL. */
static const special_row *find_row(const special_row *table, size_t n,
                                   const struct sockaddr *sa, netaddr_cidr *range)
{
    for (size_t i = 0; i < n; i++) {
        if (netaddr_cidr_parse(table[i].cidr, range) == NULL &&
            netaddr_cidr_contains(range, sa))
            return &table[i];
    }
    return NULL;
}

bool netaddr_special(const struct sockaddr *sa, netaddr_special_range *out)
{
    memset(out, 0, sizeof *out);
    const unsigned char *b;
    int family = addr_bytes(sa, &b);
    if (family == AF_INET) {
        const special_row *r = find_row(special_v4, sizeof special_v4 /
                                        sizeof special_v4[0], sa, &out->range);
        if (!r)
            return false;
        out->name = r->name;
        out->phrase = r->phrase;
        return true;
    }
    if (family == AF_INET6) {
        const special_row *r = find_row(special_v6, sizeof special_v6 /
                                        sizeof special_v6[0], sa, &out->range);
        if (r && r->kind == SPECIAL_EMBEDS) {
            struct sockaddr_in in4 = v4_of(b + r->embed_at);
            return netaddr_special((const struct sockaddr *)&in4, out);
        }
        if (r) {
            out->name = r->name;
            out->phrase = r->phrase;
            return true;
        }
        netaddr_cidr global;
        netaddr_cidr_parse(GLOBAL_UNICAST_V6, &global);
        if (netaddr_cidr_contains(&global, sa))
            return false;
        out->range = (netaddr_cidr){.family = AF_INET6, .prefix = 128};
        memcpy(out->range.addr, b, 16);
    }
    out->name = "reserved";
    out->phrase = "a reserved address";
    return true;
}

bool netaddr_literal(const char *host, unsigned port,
                     struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *in4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        return true;
    }
    return false;
}

void netaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    const unsigned char *b;
    int family = addr_bytes(sa, &b);
    if (len == 0)
        return;
    if (!family || !inet_ntop(family, b, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

void netaddr_prefix_key(const struct sockaddr *sa, unsigned v4_bits,
                        unsigned v6_bits, char *buf, size_t len)
{
    const unsigned char *b;
    int family = addr_bytes(sa, &b);
    if (family == AF_INET6 && memcmp(b, v4_mapped_prefix,
                                     sizeof v4_mapped_prefix) == 0) {
        family = AF_INET; /* an IPv4 peer on a :: listener */
        b += 12;
    }
    if (len == 0)
        return;
    if (!family) {
        snprintf(buf, len, "?");
        return;
    }
    netaddr_cidr c = {.family = family, .prefix = family == AF_INET ? v4_bits : v6_bits};
    unsigned max = family == AF_INET ? 32 : 128;
    if (c.prefix > max)
        c.prefix = max;
    memcpy(c.addr, b, max / 8);
    for (unsigned bit = c.prefix; bit < max; bit++)
        c.addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    if (family == AF_INET && c.prefix == 32) {
        if (!inet_ntop(AF_INET, c.addr, buf, (socklen_t)len))
            snprintf(buf, len, "?");
        return;
    }
    netaddr_cidr_text(&c, buf, len);
}
