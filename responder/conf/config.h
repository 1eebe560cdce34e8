/* config.h -- the daemon's configuration (libconfig), validated strictly:
 * unknown keys, wrong types, bad values, unknown profiles and duplicate
 * domains are errors reported as "FILE:LINE: message". Every key, its
 * default and an example file: xmpp-responder.conf(5). */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "catalog.h"
#include "netaddr.h"

/* Where `xmpp-responder acme install` puts the certificates of a public
 * instance's ACME rows, relative to state_dir (acme.h); the loader prefers
 * them over STATE/certs once they exist. */
#define CONFIG_ACME_LIVE_DIR "acme/live"

/* One listener. */
typedef struct config_listen {
    char *address;   /* IP literal to bind */
    unsigned port;   /* TCP port, default 5269 (5222 for clients) */
    bool direct_tls; /* XEP-0368: TLS from the first byte (e.g. port 5270) */
    bool clients;    /* a client port (c2s.h), else servers (s2s) */
} config_listen;

/* Bounds on what peers may do. Timeouts in seconds. */
typedef struct config_limits {
    size_t max_stanza_bytes;     /* largest top-level element, default 262144 */
    unsigned max_depth;          /* nesting inside a stanza, default 32 */
    size_t max_unauth_stanza_bytes; /* largest top-level element before the
                                       stream authenticates, 16384 */
    unsigned max_attributes;     /* attributes and namespace declarations of
                                    one element, 64 */
    unsigned max_namespaces;     /* namespace declarations in scope inside
                                    one stanza, 32 */
    unsigned unauth_timeout;     /* unauthenticated stream lifetime, default 30 */
    unsigned idle_timeout;       /* close idle streams after, default 300 */
    unsigned connect_timeout;    /* outbound DNS+connect+auth, default 15 */
    unsigned max_streams_per_ip; /* concurrent inbound server streams per IP,
                                    64 */
    unsigned max_streams;        /* concurrent server streams (inbound s2s and
                                    outbound), default 1024 */
    unsigned queue_max;          /* stanzas queued per outbound stream, 64 */
    unsigned report_peers;       /* remote domains kept in the report, 256 */
    unsigned report_history;     /* outcomes kept per remote domain, 32 */
    unsigned report_claims;      /* remote domains known only by claims, 64 */
    size_t report_file_bytes;    /* outcomes in report.db at most, 64 MiB,
                                    checked as the file fills */
    unsigned echo_per_minute;    /* echo/command replies per remote domain */
    unsigned probe_concurrency;  /* pings of one probe in flight at once, 16 */
    unsigned probe_timeout;      /* seconds to wait for each probe pong, 20 */
    unsigned probe_target_interval; /* seconds between probes of a target */
    unsigned probe_per_hour;     /* probes started per hour in all, 60 */
    unsigned verify_dials_per_domain; /* dialback verification dials per
                                         claimed domain per minute, 6 */
    unsigned verify_dials_total; /* dialback verification dials per minute
                                    in all, 60 */
    size_t send_buffer_bytes;    /* output held for one peer, 1 MiB */
    unsigned send_stall_timeout; /* seconds over send_buffer_bytes, 10 */
    unsigned ping_per_minute;    /* ping replies per remote domain, 600 */
    unsigned disco_per_minute;   /* disco#info and error replies, 120 */
    unsigned version_per_minute; /* version replies, 60 */
    unsigned presence_per_minute; /* presence replies, 60 */
    unsigned ipv6_prefix;        /* IPv6 prefix length counted as one IP, 64 */
    unsigned reserved_authenticated; /* % of max_streams kept from
                                        unauthenticated inbound server
                                        streams, 25 */
    unsigned log_per_minute;     /* log lines per peer address, 1200 */
    unsigned report_max_days;    /* days an outcome is kept in report.db, 365 */
    unsigned max_client_streams; /* client streams at once, a pool apart
                                    from max_streams, 512 */
    unsigned client_streams_per_ip; /* client streams per IP (IPv6: prefix), 8 */
    /* budgets per requester (probe_budget.h, http_guard.h) */
    unsigned probe_per_requester; /* probes an hour per web address (IPv6:
                                     prefix), 6 */
    unsigned probe_per_network;  /* probes an hour per IPv4 /24, IPv6 /48, 20 */
    unsigned http_connections;   /* web connections at once, 64 */
    unsigned http_connections_per_ip; /* of them from one address, 8 */
    unsigned http_header_timeout; /* seconds for a whole request to arrive, 10 */
    unsigned http_reserved;      /* more connections kept for the ACME
                                    challenge and the CRLs, 8 */
    unsigned report_matched_per_ip; /* address-matched remote domains kept per
                                       source address (IPv6: prefix), 16 */
    unsigned report_matched_per_site; /* address-matched remote domains kept per
                                         registrable domain, 16 */
} config_limits;

/* The HTTP listener of the web report (plain HTTP, meant for loopback or a
 * reverse proxy). */
typedef struct config_http {
    char *address;   /* IP literal to bind; NULL = no web */
    unsigned port;   /* TCP port, default 5280 */
    int line;        /* where it was defined */
    netaddr_cidr *trusted_proxies; /* reverse proxies whose X-Forwarded-For names
                                 the client (http only), or NULL */
    size_t n_trusted_proxies;
} config_http;

/* One test domain. */
typedef struct config_domain {
    char *name;                 /* fully qualified domain, lower case */
    const catalog_profile *profile; /* its catalog row */
    char *cert_file;            /* chain PEM, absolute; default STATE/certs/NAME.pem,
                                   on a public instance for an ACME row
                                   STATE/acme/live/NAME.pem once installed */
    char *key_file;             /* key PEM, absolute; default like cert_file */
    bool cert_given;            /* cert named in the file: ACME renewal
                                   leaves this domain alone */
    char *description;          /* override of the profile's, or NULL */
    int line;                   /* where it was defined */
    char *cert_mismatch;        /* how the loaded certificate differs from
                                   its row (certcheck.h), NULL when it does
                                   not; set by the daemon, not by the file */
} config_domain;

/* The whole configuration. All paths are absolute after loading. */
typedef struct rs_config {
    char *path;               /* the file it came from, or "(embedded)" */
    char *base_domain;        /* BASE */
    char *state_dir;          /* certs/, zones/ and runtime state */
    config_listen *listen;        /* s2s and c2s listeners */
    size_t n_listen;
    char **trust;             /* extra trust anchor files (PEM) */
    size_t n_trust;
    bool trust_system;        /* include the system trust store */
    bool public_instance;     /* `public = true`: rows with an ACME source
                                 present ACME certificates (catalog.h) */
    config_limits limits;
    config_http http;        /* web report listener (address NULL = off) */
    config_http https;       /* POSH listener for posh profiles (RFC 7711),
                                 certificates STATE/certs/NAME.https.pem */
    config_domain *domains;  /* test domains */
    size_t n_domains;
    netaddr_cidr *outbound_allow;  /* non-public ranges we may dial anyway */
    size_t n_outbound_allow;
    char *resolver_servers;   /* "IP:PORT,..." for c-ares, NULL = the
                                 system's (/etc/resolv.conf); read at start */
} rs_config;

/* Defaults for limits. */
void config_limits_default(config_limits *limits);

/* One key of `limits` as the table in config.c has it: what the manual
 * xmpp-responder.conf(5) lists (responder/cli/man/limits_mdoc.c). */
typedef struct config_limit_doc {
    const char *key;    /* setting name inside limits */
    bool is_size;       /* a size in bytes, else a count, seconds or percent */
    long long min, max; /* accepted range, inclusive */
    long long def;      /* default */
    const char *why;    /* one-line meaning */
} config_limit_doc;

/* Key i of limits, in the order the written config lists them; false past
 * the last one. */
bool config_limit_at(size_t i, config_limit_doc *out);

/* Load and validate path. Every problem is printed to errs as
 * "PATH:LINE: message". Returns the number of problems; on 0 *out is filled
 * and must be released with config_free, otherwise *out is left zeroed. */
int config_load(const char *path, rs_config *out, FILE *errs);

/* The same from a string (for tests); name is used in messages and relative
 * paths resolve against base_dir. */
int config_load_string(const char *text, const char *name,
                          const char *base_dir, rs_config *out, FILE *errs);

void config_free(rs_config *cfg);

/* What `init` writes into a config: the ports, and whether it is for a
 * public instance. */
typedef struct config_init_opts {
    unsigned s2s;        /* STARTTLS for servers, e.g. 5269 */
    unsigned s2s_direct; /* XEP-0368 direct TLS for servers, 5270; 0 = none */
    unsigned c2s;        /* STARTTLS for clients, 5222; 0 = no client ports */
    unsigned c2s_direct; /* direct TLS for clients, 5223; 0 = none (and
                            none when c2s is 0) */
    unsigned http;       /* the web report on the first address; 0 = none */
    bool public_instance; /* `public = true`: ACME rows take ACME certificates */
} config_init_opts;

/* Write a config file for `init`: the given base, state_dir ".", per address
 * the listeners of ports (one per non-zero port), the web report on the
 * first address, the trust files, one domain per catalog row named
 * LABEL.BASE, and outbound.allow: the CIDRs in allow, or when there are none
 * the whole special range (127.0.0.0/8, 10.0.0.0/8, fc00::/7, ...) of every
 * address that is not public, with a comment saying why. 0 on success, -1
 * with a message in err. */
int config_write_default(const char *path, const char *base,
                            const char *const *addresses, size_t n_addresses,
                            const config_init_opts *ports, const char *const *trust,
                            size_t n_trust, const char *const *allow,
                            size_t n_allow, char *err, size_t errlen);

/* Why name is not a valid DNS name (LDH labels of 1..63, at most 253
 * characters, no empty label), or NULL when it is. */
const char *config_dns_name_problem(const char *name);

/* Whether an outbound stream for remote may dial address sa: a public
 * unicast address, or one inside outbound.allow. When not, why gets
 * "target 10.1.2.3 of REMOTE is a private address; outbound.allow does not
 * include it". */
bool config_outbound_allowed(const rs_config *cfg, const struct sockaddr *sa,
                                const char *remote, char *why, size_t len);

/* Domain entry for name, or NULL. */
const config_domain *config_find_domain(const rs_config *cfg,
                                            const char *name);

#endif
