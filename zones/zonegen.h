/* zonegen.h -- the DNS zone (RFC 1035 master file) for BASE from the catalog. */
#ifndef RS_ZONEGEN_H
#define RS_ZONEGEN_H

#include <stddef.h>

#include "catalog.h"

/* One test domain in the zone. */
typedef struct zone_domain {
    const char *name;           /* fully qualified, without trailing dot */
    const catalog_profile *profile; /* its row: decides the records */
    const char *tlsa_sha256;    /* hex SHA-256 of the key's SPKI, for
                                   CATALOG_DNS_TLSA rows (else NULL) */
} zone_domain;

/* The ports the zone points at. */
typedef struct zone_ports {
    unsigned s2s;        /* STARTTLS s2s (_xmpp-server), e.g. 5269 */
    unsigned s2s_direct; /* XEP-0368 direct TLS s2s (_xmpps-server), 5270 */
    unsigned c2s;        /* STARTTLS c2s (_xmpp-client), 5222; 0 = no
                            client records */
    unsigned c2s_direct; /* direct TLS c2s (_xmpps-client), 5223; 0 = none */
} zone_ports;

/* Write the zone for base to path: $ORIGIN/$TTL, SOA, NS ns.BASE, A/AAAA for
 * BASE and ns.BASE, and per domain A/AAAA to every address plus the records
 * its profile's DNS shape asks for, the same shape for servers and (when
 * ports->c2s is set) for clients. addresses are IPv4 or IPv6 literals. 0 on
 * success, -1 with a message in err. */
int zonegen_write(const char *path, const char *base,
                  const char *const *addresses, size_t n_addresses,
                  const zone_domain *domains, size_t n_domains,
                  const zone_ports *ports, char *err, size_t errlen);

#endif
