/* config.c -- load and validate the daemon's libconfig file: what each
 * section means (base, state dir, listeners, http/https, trust, limits,
 * domains).
 *
 * Validation never stops at the first problem: an operator fixing a config
 * wants the whole list in one run. Problems are collected with their line
 * (config_loader.c), sorted by line and printed as "PATH:LINE: message".
 */
#include "config.h"
#include "config_internal.h"
#include "name_index.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>




#define LIMIT(field, size, lo, hi, d, text)                                 \
    {#field, offsetof(config_limits, field), size, lo, hi, d, text}

const config_limit_def limit_defs[] = {
    LIMIT(max_stanza_bytes, true, 1024, 16 << 20, 262144,
          "largest top-level element a peer may send, in bytes"),
    LIMIT(max_depth, false, 4, 256, 32, "element nesting inside one stanza"),
    LIMIT(max_unauth_stanza_bytes, true, 1024, 16 << 20, 16384,
          "largest top-level element before the stream authenticates, in "
          "bytes (Prosody: 10,000); what precedes authentication is small "
          "and holds no child element; the smaller of this and "
          "max_stanza_bytes applies"),
    LIMIT(max_attributes, false, 8, 4096, 64,
          "attributes and namespace declarations of one element (real "
          "stanzas use under 10)"),
    LIMIT(max_namespaces, false, 4, 4096, 32,
          "namespace declarations in scope at once inside one stanza"),
    LIMIT(unauth_timeout, false, 1, 86400, 30,
          "seconds a stream may stay unauthenticated"),
    LIMIT(idle_timeout, false, 1, 86400, 300,
          "seconds before an idle stream is closed (a bound client's keepalives count)"),
    LIMIT(connect_timeout, false, 1, 86400, 15,
          "seconds for DNS, connect and auth of an outbound stream"),
    LIMIT(max_streams_per_ip, false, 1, 1 << 20, 64,
          "concurrent inbound server streams from one IP address (IPv6: prefix)"),
    LIMIT(max_streams, false, 1, 1 << 20, 1024,
          "server streams at once, inbound and outbound (clients: max_client_streams)"),
    LIMIT(queue_max, false, 1, 1 << 20, 64,
          "stanzas queued per outbound stream while it is set up"),
    LIMIT(report_peers, false, 1, 1 << 20, 256,
          "remote domains the report keeps; address-matched ones give way "
          "before verified ones, the least recent first"),
    LIMIT(report_history, false, 1, 4096, 32,
          "outcomes kept per remote domain besides the latest per cell"),
    LIMIT(report_claims, false, 1, 1 << 20, 64,
          "remote domains kept apart whose outcomes are unproven claims"),
    LIMIT(report_file_bytes, true, 4096, 1LL << 40, 64 << 20,
          "bytes the outcomes may take in STATE/report.db, checked as it fills; "
          "claims go first, then address-matched, then old verified history"),
    LIMIT(echo_per_minute, false, 1, 1 << 20, 20,
          "echo and command replies per remote domain per minute"),
    LIMIT(probe_concurrency, false, 1, 1024, 16,
          "pings of one probe in flight at once"),
    LIMIT(probe_timeout, false, 1, 3600, 20,
          "seconds a probe waits for each pong"),
    LIMIT(probe_target_interval, false, 0, 86400, 60,
          "seconds before the same target may be probed again"),
    LIMIT(probe_per_hour, false, 1, 1 << 20, 60,
          "probes web requesters start per hour in all; the local operator "
          "has as many of its own"),
    LIMIT(verify_dials_per_domain, false, 1, 1 << 20, 6,
          "dialback verification dials per claimed domain per minute"),
    LIMIT(verify_dials_total, false, 1, 1 << 20, 60,
          "dialback verification dials per minute in all"),
    LIMIT(send_buffer_bytes, true, 4096, 1LL << 30, 1 << 20,
          "output waiting for one peer to read, in bytes; at least "
          "max_stanza_bytes"),
    LIMIT(send_stall_timeout, false, 1, 3600, 10,
          "seconds the output may stay over send_buffer_bytes"),
    LIMIT(ping_per_minute, false, 1, 1 << 20, 600,
          "ping replies per remote domain per minute"),
    LIMIT(disco_per_minute, false, 1, 1 << 20, 120,
          "disco#info and error replies per remote domain per minute"),
    LIMIT(version_per_minute, false, 1, 1 << 20, 60,
          "version replies per remote domain per minute"),
    LIMIT(presence_per_minute, false, 1, 1 << 20, 60,
          "presence replies per remote domain per minute"),
    LIMIT(ipv6_prefix, false, 1, 128, 64,
          "IPv6 addresses in one prefix of this length count as one IP"),
    LIMIT(reserved_authenticated, false, 0, 90, 25,
          "percent of max_streams unauthenticated inbound server streams never take"),
    LIMIT(log_per_minute, false, 1, 1 << 20, 1200,
          "log lines per peer address per minute; the rest are counted"),
    LIMIT(report_max_days, false, 1, 36500, 365,
          "days an outcome is kept in STATE/report.db"),
    /* the client pool (issue 21): clients of the public test account never
     * take a server's slot, nor servers a client's */
    LIMIT(max_client_streams, false, 1, 1 << 20, 512,
          "client streams at once, a pool apart from max_streams; when full, "
          "an unbound or else the longest-idle session gives way (512: far "
          "above honest use, about 8 MiB)"),
    LIMIT(client_streams_per_ip, false, 1, 1 << 20, 8,
          "client streams from one IP address (IPv6: prefix), the excess "
          "refused (8: a few clients per person; 64 addresses to fill the pool)"),
    /* budgets per requester (probes, web connections) */
    LIMIT(probe_per_requester, false, 1, 1 << 20, 6,
          "probes per hour one web address (IPv6: prefix) may start; it "
          "never takes more than half of what probe_per_hour has left"),
    LIMIT(probe_per_network, false, 1, 1 << 20, 20,
          "probes per hour the addresses of one IPv4 /24 or IPv6 /48 may "
          "start together"),
    LIMIT(http_connections, false, 1, 4096, 64,
          "web connections at once; when full, the oldest still sending its "
          "request from the busiest address gives way"),
    LIMIT(http_connections_per_ip, false, 1, 4096, 8,
          "web connections at once from one address (IPv6: prefix); not for "
          "http.trusted_proxies"),
    LIMIT(http_header_timeout, false, 1, 3600, 10,
          "seconds a web request has from its connection (or the previous "
          "answer) to arrive whole, however slowly it trickles"),
    LIMIT(http_reserved, false, 1, 1024, 8,
          "web connections beyond http_connections kept for "
          "/.well-known/acme-challenge/ and /crl/"),
    /* retention that one source cannot flush (issue 21) */
    LIMIT(report_matched_per_ip, false, 1, 1 << 20, 16,
          "address-matched remote domains kept from one source address (IPv6: "
          "prefix): a host serving a few domains fits, a crowd from one address "
          "replaces only its own"),
    LIMIT(report_matched_per_site, false, 1, 1 << 20, 16,
          "address-matched remote domains kept under one registrable domain "
          "(public suffix list): a wildcard record fills no more"),
};
const size_t n_limit_defs = sizeof limit_defs / sizeof limit_defs[0];

/* Keys limits no longer has, still accepted so that an older config starts:
 * why each is gone, in a note (config__note). */
static const struct obsolete_limit {
    const char *key;
    const char *why;
} obsolete_limits[] = {
    {"client_sessions", "bound client sessions are client streams: "
     "max_client_streams and client_streams_per_ip bound them, and when the "
     "pool is full the longest-idle one gives way to a newcomer; the value is "
     "ignored, remove it"},
};
#define N_OBSOLETE_LIMITS (sizeof obsolete_limits / sizeof obsolete_limits[0])

static const char *const top_keys[] = {"base_domain", "state_dir", "listen",
                                       "trust", "trust_system", "limits",
                                       "http", "https", "domains",
                                       "outbound", "resolver", "public", NULL};
static const char *const listen_keys[] = {"address", "port", "direct_tls",
                                          "clients", NULL};
#define LISTEN_SHAPE "{ address = \"127.0.0.1\"; port = 5269; }"
#define HTTP_SHAPE "{ address = \"127.0.0.1\"; port = 5280; }"
static const char *const http_keys[] = {"address", "port", "trusted_proxies",
                                        NULL};
static const char *const https_keys[] = {"address", "port", NULL};
#define DOMAIN_SHAPE "{ name = \"LABEL.BASE\"; profile = \"LABEL\"; }"
static const char *const domain_keys[] = {"name", "profile", "cert", "key",
                                          "description", NULL};
static const char *const outbound_keys[] = {"allow", NULL};
#define OUTBOUND_SHAPE "{ allow = ( \"127.0.0.0/8\" ); }"
static const char *const resolver_keys[] = {"servers", NULL};
#define RESOLVER_SHAPE "{ servers = ( \"127.0.0.1:53\" ); }"


void config_limits_default(config_limits *limits)
{
    for (size_t i = 0; i < n_limit_defs; i++) {
        char *field = (char *)limits + limit_defs[i].offset;
        if (limit_defs[i].is_size)
            *(size_t *)(void *)field = (size_t)limit_defs[i].def;
        else
            *(unsigned *)(void *)field = (unsigned)limit_defs[i].def;
    }
}

bool config_limit_at(size_t i, config_limit_doc *out)
{
    if (i >= n_limit_defs)
        return false;
    const config_limit_def *d = &limit_defs[i];
    *out = (config_limit_doc){.key = d->key, .is_size = d->is_size, .min = d->min,
                              .max = d->max, .def = d->def, .why = d->why};
    return true;
}

/* Why name is not a syntactically valid domain name, or NULL if it is. */
const char *config_dns_name_problem(const char *name)
{
    size_t len = strlen(name);
    if (len == 0)
        return "it is empty";
    if (len > DNS_NAME_MAX)
        return "it is longer than 253 characters";
    if (name[0] == '.' || name[len - 1] == '.')
        return "it starts or ends with a dot";
    const char *label = name;
    for (const char *p = name;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0)
                return "it has an empty label";
            if (n > DNS_LABEL_MAX)
                return "a label is longer than 63 characters";
            if (label[0] == '-' || p[-1] == '-')
                return "a label starts or ends with '-'";
            if (*p == '\0')
                return NULL;
            label = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '-') {
            return "only letters, digits, '-' and dots are allowed";
        }
    }
}

/* ---- sections ---------------------------------------------------------- */

static void parse_base(config_loader *ld, const config_setting_t *root)
{
    const char *base = config__get_string(ld, root, "base_domain", "at top level", true);
    if (!base)
        return;
    const config_setting_t *s = config_setting_get_member(root, "base_domain");
    const char *why = config_dns_name_problem(base);
    if (why) {
        config__report(ld, s, "base_domain '%s' is not a valid domain name: %s", base, why);
        return;
    }
    ld->cfg->base_domain = config__lower_dup(ld, base);
}

static void parse_state_dir(config_loader *ld, const config_setting_t *root)
{
    const char *dir = config__get_string(ld, root, "state_dir", "at top level", false);
    ld->cfg->state_dir = config__resolve_path(ld, ld->base_dir, dir ? dir : ".");
}

/* One listen entry, element i of list; earlier entries are in cfg->listen. */
static void parse_listener(config_loader *ld, const config_setting_t *list, unsigned i)
{
    const config_setting_t *e =
        config__get_entry(ld, list, i, "listen entry", LISTEN_SHAPE);
    if (!e)
        return;
    config__check_keys(ld, e, "in listen entry", listen_keys);
    const char *addr = config__get_string(ld, e, "address", "in listen entry", true);
    bool clients = false;
    const config_setting_t *cl = config_setting_get_member(e, "clients");
    if (cl && config_setting_type(cl) != CONFIG_TYPE_BOOL)
        config__report_type(ld, cl, "in listen entry", "a boolean (true or false)");
    else if (cl)
        clients = config_setting_get_bool(cl) != 0;
    long long port = clients ? DEFAULT_CLIENT_PORT : DEFAULT_PORT;
    bool port_ok = config_setting_get_member(e, "port") == NULL ||
                   config__get_int(ld, e, "port", "in listen entry", 1, 65535, &port);
    unsigned char bin[16];
    int af = 0;
    if (addr) {
        af = inet_pton(AF_INET, addr, bin) == 1    ? AF_INET
             : inet_pton(AF_INET6, addr, bin) == 1 ? AF_INET6
                                                   : 0;
        if (!af)
            config__report(ld, config_setting_get_member(e, "address"),
                   "listen address '%s' is not an IPv4 or IPv6 literal", addr);
    }
    if (!af || !port_ok)
        return;
    config_listen *l = &ld->cfg->listen[i];
    for (unsigned j = 0; j < i; j++) {
        unsigned char other[16];
        const config_listen *p = &ld->cfg->listen[j];
        if (p->address && p->port == port &&
            inet_pton(af, p->address, other) == 1 &&
            memcmp(bin, other, af == AF_INET ? 4 : 16) == 0) {
            config__report(ld, e, "duplicate listener %s port %lld (first defined at "
                           "line %d)",
                   addr, port, config__line(config_setting_get_elem(list, j)));
            return;
        }
    }
    l->address = config__strdup(ld, addr);
    l->port = (unsigned)port;
    l->clients = clients;
    const config_setting_t *dt = config_setting_get_member(e, "direct_tls");
    if (dt && config_setting_type(dt) != CONFIG_TYPE_BOOL)
        config__report_type(ld, dt, "in listen entry", "a boolean (true or false)");
    else if (dt)
        l->direct_tls = config_setting_get_bool(dt) != 0;
}

static void parse_listen(config_loader *ld, const config_setting_t *root)
{
    const config_setting_t *list;
    unsigned n = config__get_list(ld, root, "listen", "a config without a listener "
                          "serves nothing", LISTEN_SHAPE, &list);
    if (n == 0)
        return;
    ld->cfg->listen = calloc(n, sizeof *ld->cfg->listen);
    if (!ld->cfg->listen)
        return (void)config__oom(ld);
    ld->cfg->n_listen = n;
    for (unsigned i = 0; i < n; i++)
        parse_listener(ld, list, i);
}

/* A list of CIDRs (what: "outbound.allow"; a bare address is one host) into
 * a new array and its length in *count; every bad entry is a problem. */
static netaddr_cidr *parse_cidrs(config_loader *ld, const config_setting_t *list, unsigned n,
                                 const char *what, size_t *count)
{
    netaddr_cidr *out = calloc(n, sizeof *out);
    if (!out)
        return config__oom(ld);
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            config__report(ld, e, "%s entries must be strings (\"10.0.0.0/8\"), "
                           "not %s", what, config__type_phrase(config_setting_type(e)));
            continue;
        }
        const char *text = config_setting_get_string(e);
        const char *why = netaddr_cidr_parse(text, &out[*count]);
        if (why)
            config__report(ld, e, "%s entry '%s' is not a valid CIDR: %s", what,
                           text, why);
        else
            (*count)++;
    }
    return out;
}

/* http.trusted_proxies = ( "127.0.0.1", "fd00::/8" ): the reverse proxies
 * whose X-Forwarded-For names the client (addresses or CIDRs). */
static void parse_trusted_proxies(config_loader *ld, const config_setting_t *g,
                                  config_http *out)
{
    const config_setting_t *list;
    unsigned n = config__get_list(ld, g, "trusted_proxies", NULL, "\"127.0.0.1\"", &list);
    if (n > 0)
        out->trusted_proxies = parse_cidrs(ld, list, n, "http.trusted_proxies",
                                           &out->n_trusted_proxies);
}

/* An optional web listener, key "http" (the report) or "https" (POSH): an
 * address and a port that no other listener already uses. */
static void parse_http(config_loader *ld, const config_setting_t *root,
                       const char *key, long long def_port, config_http *out)
{
    const config_setting_t *g = config_setting_get_member(root, key);
    if (!g)
        return;
    char where[16];
    snprintf(where, sizeof where, "in %s", key);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        config__report_type(ld, g, "at top level", "a group " HTTP_SHAPE);
        return;
    }
    config__check_keys(ld, g, where, out == &ld->cfg->http ? http_keys : https_keys);
    const char *addr = config__get_string(ld, g, "address", where, true);
    long long port = def_port;
    if (config_setting_get_member(g, "port") &&
        !config__get_int(ld, g, "port", where, 1, 65535, &port))
        return;
    unsigned char bin[16];
    if (!addr)
        return;
    if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1) {
        config__report(ld, config_setting_get_member(g, "address"),
               "%s address '%s' is not an IPv4 or IPv6 literal", key, addr);
        return;
    }
    for (size_t i = 0; i < ld->cfg->n_listen; i++) {
        const config_listen *l = &ld->cfg->listen[i];
        if (l->address && l->port == port && strcmp(l->address, addr) == 0) {
            config__report(ld, g, "%s listener %s port %lld is also an s2s listener",
                   key, addr, port);
            return;
        }
    }
    const config_http *h = &ld->cfg->http;
    if (out != h && h->address && h->port == port && strcmp(h->address, addr) == 0) {
        config__report(ld, g, "%s listener %s port %lld is also the http listener",
               key, addr, port);
        return;
    }
    out->address = config__strdup(ld, addr);
    out->port = (unsigned)port;
    out->line = config__line(g);
    if (out == &ld->cfg->http)
        parse_trusted_proxies(ld, g, out);
}

/* One trust anchor file: it must exist and be readable now, not at the
 * first handshake hours later. */
static void parse_trust_file(config_loader *ld, const config_setting_t *s, size_t i)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        config__report(ld, s, "trust entries must be strings (file names), not %s",
               config__type_phrase(config_setting_type(s)));
        return;
    }
    char *path = config__resolve_path(ld, ld->base_dir, config_setting_get_string(s));
    if (!path)
        return;
    struct stat st;
    if (stat(path, &st) != 0)
        config__report(ld, s, "trust file '%s': %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        config__report(ld, s, "trust file '%s' is not a regular file", path);
    else if (access(path, R_OK) != 0)
        config__report(ld, s, "trust file '%s' is not readable: %s", path,
               strerror(errno));
    ld->cfg->trust[i] = path;
}

static void parse_trust(config_loader *ld, const config_setting_t *root)
{
    const config_setting_t *list;
    size_t n = config__get_list(ld, root, "trust", NULL, "\"ca.pem\"", &list);
    if (n == 0)
        return;
    ld->cfg->trust = calloc(n, sizeof *ld->cfg->trust);
    if (!ld->cfg->trust)
        return (void)config__oom(ld);
    ld->cfg->n_trust = n;
    for (size_t i = 0; i < n; i++)
        parse_trust_file(ld, config_setting_get_elem(list, (unsigned)i), i);
}

/* A top-level boolean key into *out (def when absent). */
static void parse_bool(config_loader *ld, const config_setting_t *root, const char *key,
                       bool def, bool *out)
{
    const config_setting_t *s = config_setting_get_member(root, key);
    *out = def;
    if (!s)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        config__report_type(ld, s, "at top level", "a boolean (true or false)");
    else
        *out = config_setting_get_bool(s) != 0;
}

static void parse_limits(config_loader *ld, const config_setting_t *root)
{
    config_limits_default(&ld->cfg->limits);
    const config_setting_t *g = config_setting_get_member(root, "limits");
    if (!g)
        return;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        config__report_type(ld, g, "at top level", "a group { ... }");
        return;
    }
    const char *keys[n_limit_defs + N_OBSOLETE_LIMITS + 1];
    for (size_t i = 0; i < n_limit_defs; i++)
        keys[i] = limit_defs[i].key;
    for (size_t i = 0; i < N_OBSOLETE_LIMITS; i++) {
        keys[n_limit_defs + i] = obsolete_limits[i].key;
        const config_setting_t *old = config_setting_get_member(g, obsolete_limits[i].key);
        if (old)
            config__note(ld, old, "'%s' in limits is no longer used: %s",
                         obsolete_limits[i].key, obsolete_limits[i].why);
    }
    keys[n_limit_defs + N_OBSOLETE_LIMITS] = NULL;
    config__check_keys(ld, g, "in limits", keys);
    for (size_t i = 0; i < n_limit_defs; i++) {
        const config_limit_def *d = &limit_defs[i];
        long long v;
        if (!config__get_int(ld, g, d->key, "in limits", d->min, d->max, &v))
            continue;
        char *field = (char *)&ld->cfg->limits + d->offset;
        if (d->is_size)
            *(size_t *)(void *)field = (size_t)v;
        else
            *(unsigned *)(void *)field = (unsigned)v;
    }
    /* a legal reply must fit in what we are ready to hold for a peer */
    config_limits *l = &ld->cfg->limits;
    if (l->max_unauth_stanza_bytes > l->max_stanza_bytes)
        l->max_unauth_stanza_bytes = l->max_stanza_bytes; /* documented: the smaller */
    if (l->send_buffer_bytes < l->max_stanza_bytes) {
        const config_setting_t *s = config_setting_get_member(g, "send_buffer_bytes");
        config__report(ld, s ? s : g, "'send_buffer_bytes' in limits = %zu is smaller "
                  "than max_stanza_bytes = %zu: a reply to a legal stanza would "
                  "not fit", l->send_buffer_bytes, l->max_stanza_bytes);
    }
}

/* "valid, le-tlsserver, ..." for the unknown-profile message. */
static char *known_profiles(config_loader *ld)
{
    char *out = NULL;
    size_t len;
    FILE *m = open_memstream(&out, &len);
    for (size_t i = 0; m && i < catalog_count(); i++)
        fprintf(m, "%s%s", i ? ", " : "", catalog_at(i)->label);
    if (!m || fclose(m) != 0) {
        free(out);
        return config__oom(ld);
    }
    return out;
}

/* The domain's name: valid, under BASE, not seen before in d[0..i) (seen
 * holds those names). */
static char *domain_name(config_loader *ld, const config_setting_t *e,
                         const config_domain *d, unsigned i, rs_name_index *seen)
{
    const char *raw = config__get_string(ld, e, "name", "in domain entry", true);
    if (!raw)
        return NULL;
    const config_setting_t *s = config_setting_get_member(e, "name");
    const char *why = config_dns_name_problem(raw);
    if (why) {
        config__report(ld, s, "domain name '%s' is not a valid domain name: %s", raw, why);
        return NULL;
    }
    char *name = config__lower_dup(ld, raw);
    const char *base = ld->cfg->base_domain;
    if (!name || !base)
        return name; /* no base: its own problem is already reported */
    size_t nl = strlen(name), bl = strlen(base);
    if (strcmp(name, base) != 0 &&
        !(nl > bl + 1 && name[nl - bl - 1] == '.' &&
          strcmp(name + nl - bl, base) == 0))
        config__report(ld, s, "domain '%s' is not under base_domain '%s' (it must "
                       "be %s or end in .%s)",
               name, base, base, base);
    size_t first = name_index_add(seen, name, i);
    if (first != NAME_INDEX_NONE)
        config__report(ld, s, "duplicate domain '%s' (first defined at line %d)",
                       name, d[first].line);
    return name;
}

/* cert or key of a domain: given (relative to the config); on a public
 * instance, for a row with an ACME source, what deploy/acme-renew installed
 * (STATE/acme/live/NAME.ext, acme.h) once it exists; else the test CA's
 * STATE/certs/NAME.ext. */
static char *domain_file(config_loader *ld, const config_setting_t *e, const char *key,
                         const config_domain *d, const char *ext)
{
    const char *given = config__get_string(ld, e, key, "in domain entry", false);
    if (given)
        return config__resolve_path(ld, ld->base_dir, given);
    if (!d->name || !ld->cfg->state_dir)
        return NULL;
    /* state_dir is already canonical and NAME a checked DNS name (no '/'):
     * a plain join, without a realpath(3) per file (thousands of domains) */
    bool acme = ld->cfg->public_instance && d->profile &&
                d->profile->source != CATALOG_SOURCE_TEST_CA;
    char *path;
    if (acme) {
        if (asprintf(&path, "%s/" CONFIG_ACME_LIVE_DIR "/%s.%s", ld->cfg->state_dir,
                     d->name, ext) < 0)
            return config__oom(ld);
        if (access(path, R_OK) == 0)
            return path;
        free(path);
    }
    if (asprintf(&path, "%s/certs/%s.%s", ld->cfg->state_dir, d->name, ext) < 0)
        return config__oom(ld);
    return path;
}

static void parse_domain(config_loader *ld, const config_setting_t *list, unsigned i,
                         rs_name_index *seen)
{
    config_domain *d = &ld->cfg->domains[i];
    d->line = config__line(config_setting_get_elem(list, i));
    const config_setting_t *e =
        config__get_entry(ld, list, i, "domain entry", DOMAIN_SHAPE);
    if (!e)
        return;
    config__check_keys(ld, e, "in domain entry", domain_keys);
    d->name = domain_name(ld, e, ld->cfg->domains, i, seen);
    const char *prof = config__get_string(ld, e, "profile", "in domain entry", true);
    if (prof) {
        d->profile = catalog_find(prof);
        char *known = d->profile ? NULL : known_profiles(ld);
        if (!d->profile)
            config__report(ld, config_setting_get_member(e, "profile"),
                   "unknown profile '%s' (known: %s)", prof,
                   known ? known : "?");
        free(known);
    }
    d->cert_file = domain_file(ld, e, "cert", d, "pem");
    d->key_file = domain_file(ld, e, "key", d, "key");
    d->cert_given = config_setting_get_member(e, "cert") != NULL;
    const char *desc = config__get_string(ld, e, "description", "in domain entry", false);
    if (desc)
        d->description = config__strdup(ld, desc);
}

static void parse_domains(config_loader *ld, const config_setting_t *root)
{
    const config_setting_t *list;
    unsigned n = config__get_list(ld, root, "domains", "without test domains there "
                          "is nothing to serve", DOMAIN_SHAPE, &list);
    if (n == 0)
        return;
    ld->cfg->domains = calloc(n, sizeof *ld->cfg->domains);
    if (!ld->cfg->domains)
        return (void)config__oom(ld);
    ld->cfg->n_domains = n;
    rs_name_index seen; /* thousands of domains: no comparison of each pair */
    if (name_index_init(&seen, n) < 0)
        return (void)config__oom(ld);
    for (unsigned i = 0; i < n; i++)
        parse_domain(ld, list, i, &seen);
    name_index_free(&seen);
}

/* outbound = { allow = ( "CIDR", ... ); }: the non-public ranges outbound
 * streams may reach besides public unicast addresses. */
static void parse_outbound(config_loader *ld, const config_setting_t *root)
{
    const config_setting_t *g = config_setting_get_member(root, "outbound");
    if (!g)
        return;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        config__report_type(ld, g, "at top level", "a group " OUTBOUND_SHAPE);
        return;
    }
    config__check_keys(ld, g, "in outbound", outbound_keys);
    const config_setting_t *list;
    unsigned n = config__get_list(ld, g, "allow", NULL, "\"10.0.0.0/8\"", &list);
    if (n == 0)
        return;
    ld->cfg->outbound_allow = parse_cidrs(ld, list, n, "outbound.allow",
                                          &ld->cfg->n_outbound_allow);
}

/* Why text is not "IPv4", "IPv4:PORT", "IPv6" or "[IPv6]:PORT", or NULL.
 * The canonical "ADDR:PORT" / "[ADDR]:PORT" (port 53 by default) goes to out. */
static const char *resolver_server_problem(const char *text, char *out,
                                           size_t n)
{
    char host[64];
    unsigned long port = 53;
    const char *colon = strrchr(text, ':');
    bool v6 = false;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (size_t)(close - text - 1) >= sizeof host)
            return "an IPv6 address in brackets needs its ']'";
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        v6 = true;
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close[1])
            return "only ':PORT' may follow ']'";
    } else if (colon && strchr(text, ':') != colon) {
        colon = NULL; /* a bare IPv6 address */
        if (strlen(text) >= sizeof host)
            return "too long for an address";
        snprintf(host, sizeof host, "%s", text);
        v6 = true;
    } else {
        size_t len = colon ? (size_t)(colon - text) : strlen(text);
        if (len >= sizeof host)
            return "too long for an address";
        memcpy(host, text, len);
        host[len] = '\0';
    }
    if (colon) {
        char *end;
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || errno || port == 0 || port > 65535)
            return "the port must be 1..65535";
    }
    unsigned char bin[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1)
        return v6 ? "not an IPv6 address" : "not an IP address";
    snprintf(out, n, v6 ? "[%s]:%lu" : "%s:%lu", host, port);
    return NULL;
}

/* resolver = { servers = ( "IP[:PORT]", ... ); }: where outbound lookups go
 * instead of /etc/resolv.conf, as the comma list c-ares takes. */
static void parse_resolver(config_loader *ld, const config_setting_t *root)
{
    const config_setting_t *g = config_setting_get_member(root, "resolver");
    if (!g)
        return;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        config__report_type(ld, g, "at top level", "a group " RESOLVER_SHAPE);
        return;
    }
    config__check_keys(ld, g, "in resolver", resolver_keys);
    const config_setting_t *list;
    unsigned n = config__get_list(ld, g, "servers", NULL, "\"127.0.0.1:53\"", &list);
    if (n == 0)
        return;
    size_t cap = (size_t)n * 64;
    char *csv = calloc(1, cap);
    if (!csv)
        return (void)config__oom(ld);
    size_t used = 0;
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            config__report(ld, e, "resolver.servers entries must be strings "
                      "(\"127.0.0.1:53\"), not %s",
                      config__type_phrase(config_setting_type(e)));
            continue;
        }
        const char *text = config_setting_get_string(e);
        char one[64];
        const char *why = resolver_server_problem(text, one, sizeof one);
        if (why) {
            config__report(ld, e, "resolver.servers entry '%s': %s", text, why);
            continue;
        }
        used += (size_t)snprintf(csv + used, cap - used, "%s%s",
                                 used ? "," : "", one);
    }
    ld->cfg->resolver_servers = csv;
}

/* ---- loading ----------------------------------------------------------- */

/* Validate a parsed tree into ld->cfg. Order matters only for values other
 * sections need (base before domains, state_dir before default certs);
 * messages are sorted by line anyway. */
static void validate(config_loader *ld, const config_t *lc)
{
    const config_setting_t *root = config_root_setting(lc);
    config__check_keys(ld, root, "at top level", top_keys);
    parse_base(ld, root);
    parse_state_dir(ld, root);
    parse_listen(ld, root);
    parse_http(ld, root, "http", DEFAULT_HTTP_PORT, &ld->cfg->http);
    parse_http(ld, root, "https", DEFAULT_HTTPS_PORT, &ld->cfg->https);
    parse_trust(ld, root);
    parse_bool(ld, root, "trust_system", true, &ld->cfg->trust_system);
    parse_bool(ld, root, "public", false, &ld->cfg->public_instance);
    parse_limits(ld, root);
    parse_domains(ld, root);
    parse_outbound(ld, root);
    parse_resolver(ld, root);
}

/* Absolute, canonical form of dir (cwd when NULL). */
static char *absolute_dir(config_loader *ld, const char *dir)
{
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return config__oom(ld); /* ENOMEM, or a deleted cwd: either way, give up */
    char *abs = dir ? config__resolve_path(ld, cwd, dir) : cwd;
    if (abs != cwd)
        free(cwd);
    return abs;
}

/* Shared tail of both loaders: fp or text is read, then validated. */
static int load(config_loader *ld, FILE *fp, const char *text, rs_config *out,
                FILE *errs)
{
    memset(out, 0, sizeof *out);
    config_t lc;
    config_init(&lc);
    if (ld->base_dir)
        config_set_include_dir(&lc, ld->base_dir);
    int ok = fp ? config_read(&lc, fp) : config_read_string(&lc, text);
    if (!ok) {
        config__report_at(ld, config_error_file(&lc), config_error_line(&lc), "%s",
                  config_error_text(&lc));
    } else {
        ld->cfg = out;
        out->path = config__strdup(ld, ld->name);
        validate(ld, &lc);
    }
    config__flush(ld, errs); /* before config_destroy frees file names */
    config_destroy(&lc);
    free(ld->base_dir);
    if (ld->count > 0)
        config_free(out);
    return ld->count;
}

int config_load_string(const char *text, const char *name,
                          const char *base_dir, rs_config *out, FILE *errs)
{
    config_loader ld = {.name = name ? name : "(embedded)"};
    memset(out, 0, sizeof *out);
    ld.base_dir = absolute_dir(&ld, base_dir);
    if (ld.base_dir)
        return load(&ld, NULL, text, out, errs);
    config__flush(&ld, errs);
    return ld.count;
}

int config_load(const char *path, rs_config *out, FILE *errs)
{
    config_loader ld = {.name = path};
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errs)
            fprintf(errs, "%s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    char *copy = config__strdup(&ld, path);
    ld.base_dir = copy ? absolute_dir(&ld, dirname(copy)) : NULL;
    free(copy);
    if (ld.base_dir)
        load(&ld, fp, NULL, out, errs);
    else
        config__flush(&ld, errs);
    fclose(fp);
    return ld.count;
}

void config_free(rs_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->base_domain);
    free(cfg->state_dir);
    for (size_t i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i].address);
    free(cfg->listen);
    free(cfg->http.address);
    free(cfg->http.trusted_proxies);
    free(cfg->https.address);
    for (size_t i = 0; i < cfg->n_trust; i++)
        free(cfg->trust[i]);
    free(cfg->trust);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        free(cfg->domains[i].name);
        free(cfg->domains[i].cert_file);
        free(cfg->domains[i].key_file);
        free(cfg->domains[i].description);
        free(cfg->domains[i].cert_mismatch);
    }
    free(cfg->domains);
    free(cfg->outbound_allow);
    free(cfg->resolver_servers);
    memset(cfg, 0, sizeof *cfg);
}

const config_domain *config_find_domain(const rs_config *cfg,
                                            const char *name)
{
    for (size_t i = 0; i < cfg->n_domains; i++)
        if (cfg->domains[i].name && strcasecmp(cfg->domains[i].name, name) == 0)
            return &cfg->domains[i];
    return NULL;
}

bool config_outbound_allowed(const rs_config *cfg, const struct sockaddr *sa,
                                const char *remote, char *why, size_t len)
{
    netaddr_special_range sp;
    if (!netaddr_special(sa, &sp))
        return true;
    for (size_t i = 0; i < cfg->n_outbound_allow; i++)
        if (netaddr_cidr_contains(&cfg->outbound_allow[i], sa))
            return true;
    char addr[64];
    netaddr_text(sa, addr, sizeof addr);
    snprintf(why, len, "target %s of %s is %s; outbound.allow does not "
             "include it", addr, remote, sp.phrase);
    return false;
}
