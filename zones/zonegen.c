/* zonegen.c -- the RFC 1035 master file for BASE.
 *
 * Every owner name is written fully qualified so the file reads the same
 * whatever $ORIGIN a tool assumes. The SOA serial is YYYYMMDDnn (UTC); when
 * the file being replaced already carries a serial of today or later, the
 * new one is that plus one, so secondaries always see an increase.
 */
#include "zonegen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"

#define ZG_TTL 300
#define ZG_SERIAL_TAG "; serial"       /* marks the serial line we write */
#define ZG_SRV_PRIORITY 0
#define ZG_SRV_WEIGHT 5

/* One validated address. */
typedef struct zg_addr {
    int family;                   /* AF_INET or AF_INET6 */
    char text[INET6_ADDRSTRLEN];  /* canonical form */
} zg_addr;


/* Parse each literal into its canonical text; -1 on the first bad one. */
static int zg_parse_addrs(const char *const *in, size_t n, zg_addr *out,
                          char *err, size_t errlen)
{
    unsigned char buf[sizeof(struct in6_addr)];
    for (size_t i = 0; i < n; i++) {
        int fam = strchr(in[i], ':') ? AF_INET6 : AF_INET;
        if (inet_pton(fam, in[i], buf) != 1 ||
            !inet_ntop(fam, buf, out[i].text, sizeof out[i].text))
            return errmsg_fail(err, errlen, "'%s': not an IPv4 or IPv6 address",
                           in[i]);
        out[i].family = fam;
    }
    return 0;
}

/* True when name is base or a subdomain of it (case-insensitive). */
static bool zg_in_zone(const char *name, const char *base)
{
    size_t nl = strlen(name), bl = strlen(base);
    if (nl == bl)
        return strcasecmp(name, base) == 0;
    return nl > bl && name[nl - bl - 1] == '.' &&
           strcasecmp(name + nl - bl, base) == 0;
}

/* The serial in an earlier file of ours at path, or 0. */
static unsigned long zg_old_serial(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned long serial = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, ZG_SERIAL_TAG) &&
            sscanf(line, " %lu", &serial) == 1)
            break;
        serial = 0;
    }
    fclose(f);
    return serial;
}

/* Today's YYYYMMDD00, or one past the previous serial if that is larger. */
static unsigned long zg_serial(const char *path)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    unsigned long today = ((unsigned long)(tm.tm_year + 1900) * 10000 +
                           (unsigned long)(tm.tm_mon + 1) * 100 +
                           (unsigned long)tm.tm_mday) * 100;
    unsigned long old = zg_old_serial(path);
    /* RFC 1982: the serial is 32 bits; YYYYMMDDnn fits until year 4294. */
    return old >= today && old < 4294967295UL ? old + 1 : today;
}

/* A and AAAA records for owner, one per address. */
static void zg_addresses(FILE *f, const char *owner, const zg_addr *addrs,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s.\tIN\t%s\t%s\n", owner,
                addrs[i].family == AF_INET ? "A" : "AAAA", addrs[i].text);
}

/* The records of one test domain, chosen by its profile's DNS shape. */
static void zg_srv(FILE *f, const char *service, const char *name,
                   unsigned port, const char *target)
{
    fprintf(f, "%s._tcp.%s.\tIN\tSRV\t%d %d %u %s.\n", service, name,
            ZG_SRV_PRIORITY, ZG_SRV_WEIGHT, port, target);
}

/* One service's records for a domain (servers or clients), in the shape
 * of the domain's DNS profile. */
typedef struct zg_service {
    const char *srv;        /* "_xmpp-server" */
    const char *direct_srv; /* "_xmpps-server" */
    unsigned port, direct_port;
} zg_service;

static void zg_service_records(FILE *f, const zone_domain *d, const zg_service *s)
{
    char target[600];
    switch (d->profile->dns) {
    case CATALOG_DNS_SRV:
        zg_srv(f, s->srv, d->name, s->port, d->name);
        break;
    case CATALOG_DNS_NO_SERVICE:
        /* RFC 2782: target "." = the service is decidedly not available. */
        fprintf(f, "%s._tcp.%s.\tIN\tSRV\t0 0 0 .\n", s->srv, d->name);
        break;
    case CATALOG_DNS_NO_TARGET:
        /* nothing is defined at the target: NXDOMAIN */
        snprintf(target, sizeof target, "nowhere.%s", d->name);
        zg_srv(f, s->srv, d->name, s->port, target);
        break;
    case CATALOG_DNS_NO_ADDRESS:
        /* the target exists (a TXT, written once) but has no A/AAAA: NODATA */
        snprintf(target, sizeof target, "noaddress.%s", d->name);
        zg_srv(f, s->srv, d->name, s->port, target);
        break;
    case CATALOG_DNS_DIRECT_TLS: /* nothing without a direct TLS port */
        if (s->direct_port)
            zg_srv(f, s->direct_srv, d->name, s->direct_port, d->name);
        break;
    case CATALOG_DNS_SRV_TARGET: /* its A/AAAA: zg_domain */
        snprintf(target, sizeof target, CATALOG_SRV_TARGET_HOST ".%s", d->name);
        zg_srv(f, s->srv, d->name, s->port, target);
        break;
    case CATALOG_DNS_TLSA:
        zg_srv(f, s->srv, d->name, s->port, d->name);
        /* RFC 7673: TLSA at _PORT._tcp.TARGET; 3 1 1 = DANE-EE, SPKI, SHA-256 */
        fprintf(f, "_%u._tcp.%s.\tIN\tTLSA\t3 1 1 %s\n", s->port, d->name,
                d->tlsa_sha256 ? d->tlsa_sha256 : "");
        break;
    }
}

static void zg_domain(FILE *f, const zone_domain *d, const zg_addr *addrs,
                      size_t n_addrs, const zone_ports *ports)
{
    fprintf(f, "\n; %s: %s\n", d->profile->label, d->profile->breaks);
    const zg_service server = {"_xmpp-server", "_xmpps-server", ports->s2s,
                               ports->s2s_direct};
    const zg_service client = {"_xmpp-client", "_xmpps-client", ports->c2s,
                               ports->c2s_direct};
    zg_service_records(f, d, &server);
    if (ports->c2s)
        zg_service_records(f, d, &client);
    if (d->profile->dns == CATALOG_DNS_NO_ADDRESS)
        fprintf(f, "noaddress.%s.\tIN\tTXT\t\"no address records here\"\n", d->name);
    /* Addresses stay even without service: a peer that ignores the SRV and
     * falls back to A/AAAA would reach us, which is what the test reveals. */
    zg_addresses(f, d->name, addrs, n_addrs);
    if (d->profile->dns == CATALOG_DNS_SRV_TARGET) {
        char host[600];
        snprintf(host, sizeof host, CATALOG_SRV_TARGET_HOST ".%s", d->name);
        zg_addresses(f, host, addrs, n_addrs);
    }
}

/* SOA, NS and the base's own addresses. */
static void zg_head(FILE *f, const char *base, unsigned long serial,
                    const zg_addr *addrs, size_t n_addrs)
{
    fprintf(f,
            "; Zone for the xmpp-responder test domains under %s.\n"
            "; Generated by `xmpp-responder init`; re-run it instead of "
            "editing.\n"
            "$ORIGIN %s.\n"
            "$TTL %d\n"
            "%s.\tIN\tSOA\tns.%s. hostmaster.%s. (\n"
            "\t\t%lu\t" ZG_SERIAL_TAG "\n"
            "\t\t3600\t; refresh\n"
            "\t\t600\t; retry\n"
            "\t\t604800\t; expire\n"
            "\t\t%d )\t; negative TTL\n"
            "%s.\tIN\tNS\tns.%s.\n",
            base, base, ZG_TTL, base, base, base, serial, ZG_TTL, base, base);
    zg_addresses(f, base, addrs, n_addrs);
    char ns[300];
    snprintf(ns, sizeof ns, "ns.%s", base);
    zg_addresses(f, ns, addrs, n_addrs);
}

/* Checks that do not need the file. */
static int zg_validate(const char *base, size_t n_addresses,
                       const zone_domain *domains, size_t n_domains,
                       const zone_ports *ports, char *err, size_t errlen)
{
    if (!base || !*base || strlen(base) > 250 || base[strlen(base) - 1] == '.')
        return errmsg_fail(err, errlen, "'%s': not a base domain (no trailing dot)",
                       base ? base : "(null)");
    if (n_addresses == 0)
        return errmsg_fail(err, errlen, "no address for the zone");
    if (ports->s2s == 0 || ports->s2s > 65535)
        return errmsg_fail(err, errlen, "port %u out of range", ports->s2s);
    if (ports->s2s_direct == 0 || ports->s2s_direct > 65535)
        return errmsg_fail(err, errlen, "direct TLS port %u out of range",
                       ports->s2s_direct);
    if (ports->c2s > 65535 || ports->c2s_direct > 65535)
        return errmsg_fail(err, errlen, "client ports %u/%u out of range",
                       ports->c2s, ports->c2s_direct);
    for (size_t i = 0; i < n_domains; i++) {
        if (!domains[i].name || !domains[i].profile)
            return errmsg_fail(err, errlen, "domain %zu incomplete", i);
        if (!zg_in_zone(domains[i].name, base))
            return errmsg_fail(err, errlen, "%s: not under %s", domains[i].name,
                           base);
        if (domains[i].profile->dns == CATALOG_DNS_TLSA &&
            (!domains[i].tlsa_sha256 || strlen(domains[i].tlsa_sha256) != 64))
            return errmsg_fail(err, errlen, "%s: TLSA needs the key's SHA-256",
                           domains[i].name);
    }
    return 0;
}

/* Write to a temporary file next to path, then rename over it. */
int zonegen_write(const char *path, const char *base,
                  const char *const *addresses, size_t n_addresses,
                  const zone_domain *domains, size_t n_domains,
                  const zone_ports *ports, char *err, size_t errlen)
{
    if (zg_validate(base, n_addresses, domains, n_domains, ports, err, errlen))
        return -1;
    zg_addr *addrs = calloc(n_addresses, sizeof *addrs);
    if (!addrs)
        return errmsg_fail(err, errlen, "out of memory");
    if (zg_parse_addrs(addresses, n_addresses, addrs, err, errlen) < 0) {
        free(addrs);
        return -1;
    }
    rs_atomic_file a;
    if (atomic_file_open(&a, path, 0644) < 0) {
        int saved = errno;
        free(addrs);
        return errmsg_fail(err, errlen, "%s: %s", path, strerror(saved));
    }
    zg_head(a.f, base, zg_serial(path), addrs, n_addresses);
    for (size_t i = 0; i < n_domains; i++)
        zg_domain(a.f, &domains[i], addrs, n_addresses, ports);
    free(addrs);
    if (atomic_file_commit(&a) < 0)
        return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
    return 0;
}
