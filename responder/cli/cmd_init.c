/* cmd_init.c -- `xmpp-responder init`: the test PKI and one certificate per
 * catalog row, the DNS zone and a config file for a base domain, then a
 * table of what each domain tests. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "certgen.h"
#include "cmd.h"
#include "config.h"
#include "zonegen.h"

#define INIT_MAX_ADDRS 16
#define INIT_MAX_TRUST 32
#define INIT_MAX_ALLOW 32
#define INIT_PATH 4096
#define INIT_NAME 254 /* a domain name without trailing dot, plus NUL */

/* What init was asked to do. */
typedef struct init_opts {
    char base[INIT_NAME];                     /* lower case, no trailing dot */
    const char *dir;                          /* as given */
    const char *addresses[INIT_MAX_ADDRS];    /* IP literals, validated */
    size_t n_addresses;
    config_init_opts ports;                       /* s2s, c2s and web ports */
    char *trust[INIT_MAX_TRUST];              /* absolute, malloc'd */
    size_t n_trust;
    const char *allow[INIT_MAX_ALLOW];        /* --allow-target CIDRs, valid */
    size_t n_allow;
    bool force;                               /* regenerate everything */
    bool quiet;                               /* one line only (run's default) */
} init_opts;

/* Where init put things. */
typedef struct init_paths {
    char dir[INIT_PATH];   /* absolute DIR */
    char certs[INIT_PATH]; /* DIR/certs */
    char zone[INIT_PATH];  /* DIR/zones/BASE.zone */
    char conf[INIT_PATH];  /* DIR/responder.conf */
    bool conf_kept;        /* responder.conf existed and was left alone */
} init_paths;

static void init_usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder init --base-domain BASE --dir DIR\n"
            "                           [--address IP]... [--port N] [--direct-port N]\n"
            "                           [--client-port N] [--client-direct-port N]\n"
            "                           [--http-port N] [--trust CAFILE]...\n"
            "                           [--allow-target CIDR]... [--public] [--force]\n"
            "\n"
            "Writes, for every profile in the catalog, a test domain\n"
            "LABEL.BASE with its certificate, plus the DNS zone and a config:\n"
            "  DIR/certs/           test root (ca.pem), intermediate, an\n"
            "                       untrusted root, crl.pem and ca-crl.pem,\n"
            "                       DOMAIN.pem/.key\n"
            "  DIR/zones/BASE.zone  SOA, NS, A/AAAA and SRV records (servers\n"
            "                       and clients)\n"
            "  DIR/responder.conf   config for 'xmpp-responder run -c'\n"
            "\n"
            "options:\n"
            "  -b, --base-domain BASE  domain the test domains live under\n"
            "  -d, --dir DIR           output directory (created if missing)\n"
            "  -a, --address IP        address to listen on and publish in the\n"
            "                          zone; repeatable (default %s)\n"
            "  -p, --port N            s2s STARTTLS port (default %u)\n"
            "      --direct-port N     XEP-0368 direct TLS port (default 5270)\n"
            "      --client-port N     c2s STARTTLS port for the test account\n"
            "                          (default 5222; 0 = no client ports at all)\n"
            "      --client-direct-port N  c2s direct TLS port (default 5223;\n"
            "                          0 = none)\n"
            "      --http-port N       web report on the first address (default\n"
            "                          5280; 0 = no web listener); it also serves\n"
            "                          the test CAs' CRLs, which test-CA\n"
            "                          certificates name (CRL Distribution\n"
            "                          Point); 0 = no CDP\n"
            "  -t, --trust CAFILE      PEM of a CA whose servers the responder\n"
            "                          should trust; repeatable\n"
            "      --allow-target CIDR a non-public range outbound streams may\n"
            "                          reach (outbound.allow); repeatable. Without\n"
            "                          it, a loopback or private --address allows\n"
            "                          its own range (e.g. 127.0.0.0/8)\n"
            "      --public            write a config for a public instance\n"
            "                          (public = true): the rows that need a\n"
            "                          trusted chain take ACME certificates; until\n"
            "                          deploy/acme-renew ran, check and the index\n"
            "                          say which still present the test CA's\n"
            "  -f, --force             regenerate keys and certificates and\n"
            "                          overwrite responder.conf\n"
            "  -h, --help              this text\n"
            "Existing keys, certificates and responder.conf are kept unless\n"
            "--force; the zone is always rewritten with a higher serial.\n",
            RS_DEFAULT_ADDRESS, RS_DEFAULT_PORT);
}

/* A usage error: message, usage on stderr, exit code 2. */
static int init_bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "xmpp-responder init: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n");
    init_usage(stderr);
    return 2;
}

static bool init_label_ok(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Longest catalog label: BASE must leave room for
 * _xmpp-server._tcp.LABEL.BASE within 253 characters. */
static size_t init_longest_label(void)
{
    size_t max = 0;
    for (size_t i = 0; i < catalog_count(); i++)
        if (strlen(catalog_at(i)->label) > max)
            max = strlen(catalog_at(i)->label);
    return max;
}

/* Lower-case, drop one trailing dot, check LDH labels and the length. */
static int init_set_base(init_opts *o, const char *arg)
{
    size_t len = strlen(arg);
    if (len > 0 && arg[len - 1] == '.')
        len--;
    size_t room = 253 - strlen("_xmpp-server._tcp.") - 1 - init_longest_label();
    if (len == 0 || len > room)
        return init_bad("--base-domain '%s': empty or too long", arg);
    for (size_t i = 0; i < len; i++)
        o->base[i] = (char)tolower((unsigned char)arg[i]);
    o->base[len] = '\0';
    for (const char *l = o->base; *l;) {
        const char *dot = strchr(l, '.');
        size_t ll = dot ? (size_t)(dot - l) : strlen(l);
        if (!init_label_ok(l, ll))
            return init_bad("--base-domain '%s': labels must be 1-63 letters, "
                            "digits or inner hyphens",
                            arg);
        l += ll + (dot ? 1 : 0);
        if (dot && !*l)
            return init_bad("--base-domain '%s': empty label", arg);
    }
    return 0;
}

/* Special-use names some resolvers never look up (RFC 6761). */
static void init_warn_special(const char *base)
{
    static const char *const special[] = {"test", "localhost", "invalid",
                                          "local"};
    const char *tld = strrchr(base, '.');
    tld = tld ? tld + 1 : base;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strcmp(tld, special[i]) == 0)
            fprintf(stderr,
                    "xmpp-responder init: warning: names under .%s are "
                    "answered NXDOMAIN by some resolvers (libunbound, used by "
                    "Prosody); a name under .example is safer\n",
                    special[i]);
}

static int init_add_address(init_opts *o, const char *arg)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, arg, buf) != 1 && inet_pton(AF_INET6, arg, buf) != 1)
        return init_bad("--address '%s': not an IPv4 or IPv6 address", arg);
    if (o->n_addresses == INIT_MAX_ADDRS)
        return init_bad("--address '%s': too many addresses", arg);
    for (size_t i = 0; i < o->n_addresses; i++)
        if (strcmp(o->addresses[i], arg) == 0)
            return init_bad("--address '%s': given twice", arg);
    o->addresses[o->n_addresses++] = arg;
    return 0;
}

static int init_set_port(unsigned *port, const char *opt, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > 65535) {
        char what[64];
        snprintf(what, sizeof what, "%s '%%s': not a port number (1-65535)", opt);
        return init_bad(what, arg);
    }
    *port = (unsigned)v;
    return 0;
}

/* Keep the absolute path: the config may be read from another directory. */
static int init_add_trust(init_opts *o, const char *arg)
{
    if (o->n_trust == INIT_MAX_TRUST)
        return init_bad("--trust '%s': too many trust files", arg);
    char *abs = realpath(arg, NULL);
    FILE *f = abs ? fopen(abs, "r") : NULL;
    if (!f) {
        fprintf(stderr, "xmpp-responder init: --trust '%s': %s\n\n", arg,
                strerror(errno));
        init_usage(stderr);
        free(abs);
        return 2;
    }
    fclose(f);
    o->trust[o->n_trust++] = abs;
    return 0;
}

static int init_add_allow(init_opts *o, const char *arg)
{
    netaddr_cidr c;
    const char *why = netaddr_cidr_parse(arg, &c);
    if (why) {
        fprintf(stderr, "xmpp-responder init: --allow-target '%s': %s\n\n", arg,
                why);
        init_usage(stderr);
        return 2;
    }
    if (o->n_allow == INIT_MAX_ALLOW)
        return init_bad("--allow-target '%s': too many ranges", arg);
    o->allow[o->n_allow++] = arg;
    return 0;
}

static void init_opts_free(init_opts *o)
{
    for (size_t i = 0; i < o->n_trust; i++)
        free(o->trust[i]);
    o->n_trust = 0;
}

/* A port, or 0 for "none". */
static int init_set_port_or_none(unsigned *port, const char *opt, const char *arg)
{
    if (strcmp(arg, "0") == 0) {
        *port = 0;
        return 0;
    }
    return init_set_port(port, opt, arg);
}

/* Apply one parsed option; 0, or an exit code. */
static int init_option(init_opts *o, int c, const char *arg, bool *help)
{
    switch (c) {
    case 'b': return init_set_base(o, arg);
    case 'd': o->dir = arg; return 0;
    case 'a': return init_add_address(o, arg);
    case 'p': return init_set_port(&o->ports.s2s, "--port", arg);
    case 'P': return init_set_port(&o->ports.s2s_direct, "--direct-port", arg);
    case 'C': return init_set_port_or_none(&o->ports.c2s, "--client-port", arg);
    case 'D':
        return init_set_port_or_none(&o->ports.c2s_direct, "--client-direct-port", arg);
    case 'H': return init_set_port_or_none(&o->ports.http, "--http-port", arg);
    case 't': return init_add_trust(o, arg);
    case 'A': return init_add_allow(o, arg);
    case 'f': o->force = true; return 0;
    case 'U': o->ports.public_instance = true; return 0;
    case 'h': *help = true; return 0;
    }
    return 2;
}

/* Parse argv into o; 0, -1 for --help, or an exit code. */
static int init_parse(int argc, char **argv, init_opts *o)
{
    static const struct option longopts[] = {
        {"base-domain", required_argument, NULL, 'b'},
        {"dir", required_argument, NULL, 'd'},
        {"address", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"direct-port", required_argument, NULL, 'P'},
        {"client-port", required_argument, NULL, 'C'},
        {"client-direct-port", required_argument, NULL, 'D'},
        {"http-port", required_argument, NULL, 'H'},
        {"trust", required_argument, NULL, 't'},
        {"allow-target", required_argument, NULL, 'A'},
        {"force", no_argument, NULL, 'f'},
        {"public", no_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    bool help = false;
    int c, rc = 0;
    opterr = 0; /* our own messages, with usage */
    optind = 0; /* full reset: glibc keeps state between calls otherwise */
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":b:d:a:p:P:t:fh", longopts, NULL)) != -1) {
        if (c == ':')
            rc = init_bad("option '%s' needs a value", argv[optind - 1]);
        else if (c == '?')
            rc = init_bad("unknown option '%s'", argv[optind - 1]);
        else
            rc = init_option(o, c, optarg, &help);
    }
    if (rc)
        return rc;
    if (help)
        return -1;
    if (optind < argc)
        return init_bad("unexpected argument '%s'", argv[optind]);
    if (!o->base[0])
        return init_bad("%s", "--base-domain is required");
    if (!o->dir || !o->dir[0])
        return init_bad("%s", "--dir is required");
    return 0;
}

/* mkdir -p with mode for the directories it creates. */
static int init_mkdirs(const char *path, mode_t mode)
{
    char buf[INIT_PATH];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, mode) != 0 && errno != EEXIST ? -1 : 0;
}

static int init_fail(const char *what, const char *why)
{
    fprintf(stderr, "xmpp-responder init: %s: %s\n", what, why);
    return 1;
}

static int init_make_paths(const init_opts *o, init_paths *p)
{
    if (init_mkdirs(o->dir, 0755) != 0)
        return init_fail(o->dir, strerror(errno));
    char *abs = realpath(o->dir, NULL);
    if (!abs)
        return init_fail(o->dir, strerror(errno));
    int n1 = snprintf(p->dir, sizeof p->dir, "%s", abs);
    free(abs);
    int n2 = snprintf(p->certs, sizeof p->certs, "%s/certs", p->dir);
    int n3 = snprintf(p->zone, sizeof p->zone, "%s/zones/%s.zone", p->dir,
                      o->base);
    int n4 = snprintf(p->conf, sizeof p->conf, "%s/responder.conf", p->dir);
    if (n1 >= INIT_PATH - 64 || n2 >= INIT_PATH || n3 >= INIT_PATH ||
        n4 >= INIT_PATH)
        return init_fail(o->dir, "path too long");
    return 0;
}

static void init_domain_name(char *out, size_t len, const catalog_profile *p,
                             const char *base)
{
    snprintf(out, len, "%s.%s", p->label, base);
}

/* Where the test-CA certificates' CRL Distribution Points lead (certgen.h):
 * this responder's own web listener under the base domain (which the zone
 * gives the listening addresses), or "" without one. */
static void init_crl_base(const init_opts *o, char *out, size_t len)
{
    char port[16] = "";
    if (o->ports.http != 80)
        snprintf(port, sizeof port, ":%u", o->ports.http);
    if (o->ports.http)
        snprintf(out, len, "http://%s%s", o->base, port);
    else
        out[0] = '\0';
}

/* The PKI, then one leaf per catalog row. */
static int init_certs(const init_opts *o, const init_paths *p)
{
    char err[512], domain[INIT_NAME + 64], url[INIT_NAME + 64];
    init_crl_base(o, url, sizeof url);
    const char *crl_base = url[0] ? url : NULL;
    if (certgen_pki(p->certs, crl_base, o->force, err, sizeof err) != 0)
        return init_fail("certificates", err);
    for (size_t i = 0; i < catalog_count(); i++) {
        init_domain_name(domain, sizeof domain, catalog_at(i), o->base);
        if (certgen_domain(p->certs, domain, o->base, crl_base, catalog_at(i),
                           o->force, err, sizeof err) != 0)
            return init_fail(domain, err);
        if (catalog_at(i)->posh &&
            certgen_https(p->certs, domain, crl_base, o->force, err,
                          sizeof err) != 0)
            return init_fail(domain, err);
    }
    return 0;
}

static int init_zone(const init_opts *o, const init_paths *p)
{
    char zones[INIT_PATH + 8], err[512];
    snprintf(zones, sizeof zones, "%s/zones", p->dir);
    if (mkdir(zones, 0755) != 0 && errno != EEXIST)
        return init_fail(zones, strerror(errno));
    size_t n = catalog_count();
    zone_domain *doms = calloc(n, sizeof *doms);
    char(*names)[INIT_NAME + 64] = calloc(n, sizeof *names);
    char(*tlsa)[65] = calloc(n, sizeof *tlsa);
    int rc = 0;
    if (!doms || !names || !tlsa) {
        rc = init_fail(p->zone, "out of memory");
    } else {
        for (size_t i = 0; i < n && rc == 0; i++) {
            init_domain_name(names[i], sizeof names[i], catalog_at(i), o->base);
            doms[i] = (zone_domain){names[i], catalog_at(i), NULL};
            if (catalog_at(i)->dns != CATALOG_DNS_TLSA)
                continue;
            char pem[INIT_PATH + 300];
            snprintf(pem, sizeof pem, "%s/%s.pem", p->certs, names[i]);
            if (certgen_spki_sha256(pem, tlsa[i], err, sizeof err) != 0)
                rc = init_fail(pem, err);
            doms[i].tlsa_sha256 = tlsa[i];
        }
        const zone_ports ports = {o->ports.s2s, o->ports.s2s_direct, o->ports.c2s,
                                  o->ports.c2s ? o->ports.c2s_direct : 0};
        if (rc == 0 && zonegen_write(p->zone, o->base, o->addresses,
                                     o->n_addresses, doms, n, &ports, err,
                                     sizeof err) != 0)
            rc = init_fail(p->zone, err);
    }
    free(doms);
    free(names);
    free(tlsa);
    return rc;
}

/* responder.conf is the user's to edit: keep it unless --force. */
static int init_config(const init_opts *o, init_paths *p)
{
    char err[512];
    p->conf_kept = !o->force && access(p->conf, F_OK) == 0;
    if (p->conf_kept)
        return 0;
    if (config_write_default(p->conf, o->base, o->addresses, o->n_addresses,
                                &o->ports, (const char *const *)o->trust, o->n_trust,
                                o->allow, o->n_allow, err, sizeof err) != 0)
        return init_fail(p->conf, err);
    return 0;
}

/* Widths of the domain, profile and tests columns. */
static void init_widths(const char *base, int w[3])
{
    w[0] = (int)strlen("DOMAIN");
    w[1] = (int)strlen("PROFILE");
    w[2] = (int)strlen("WHAT IT TESTS");
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        int d = (int)(strlen(p->label) + 1 + strlen(base));
        if (d > w[0])
            w[0] = d;
        if ((int)strlen(p->label) > w[1])
            w[1] = (int)strlen(p->label);
        if ((int)strlen(p->breaks) > w[2])
            w[2] = (int)strlen(p->breaks);
    }
}

static void init_table(const init_opts *o)
{
    int w[3];
    char domain[INIT_NAME + 64];
    init_widths(o->base, w);
    printf("\n%-*s  %-*s  %-*s  %-13s  %s\n", w[0], "DOMAIN", w[1], "PROFILE",
           w[2], "WHAT IT TESTS", "STRICT SERVER", "FILES (in DIR)");
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        init_domain_name(domain, sizeof domain, p, o->base);
        printf("%-*s  %-*s  %-*s  %-13s  certs/%s.{pem,key}\n", w[0], domain,
               w[1], p->label, w[2], p->breaks, catalog_expect_name(p->strict),
               domain);
    }
}

static void init_report(const init_opts *o, const init_paths *p)
{
    printf("Initialised %s for %s\n", p->dir, o->base);
    printf("  certificates  %s/ (%s)\n", p->certs,
           o->force ? "all regenerated"
                    : "existing keys kept; --force regenerates");
    printf("  zone          %s\n", p->zone);
    printf("  config        %s%s\n", p->conf,
           p->conf_kept ? " (already there: kept; --force overwrites it)" : "");
    init_table(o);
    printf("\nSTRICT SERVER: what a strict, correct server should do with a "
           "ping from that domain.\n\nNext:\n");
    if (o->ports.public_instance)
        printf("  1. Serve %s as the authoritative zone for %s.\n"
               "  2. Start the responder: xmpp-responder run -c %s\n"
               "  3. Get the ACME certificates (http-01 on port 80, or the proxy):\n"
               "     deploy/acme-renew -c %s --email YOU\n"
               "     then its daily timer (deploy/README.md, steps 3 to 7).\n",
               p->zone, o->base, p->conf, p->conf);
    else
        printf("  1. Make your staging servers trust %s/ca.pem (the test root).\n"
               "  2. Serve %s as the authoritative zone for %s\n"
               "     (or an unbound auth-zone with that zonefile).\n"
               "  3. Start the responder: xmpp-responder run -c %s\n",
               p->certs, p->zone, o->base, p->conf);
}

/* The work shared by `init` and the first start of `run`. */
static int init_run(const init_opts *o)
{
    init_paths p;
    memset(&p, 0, sizeof p);
    int rc = init_make_paths(o, &p);
    if (rc == 0)
        rc = init_certs(o, &p);
    if (rc == 0)
        rc = init_zone(o, &p);
    if (rc == 0)
        rc = init_config(o, &p);
    if (rc != 0)
        return rc;
    if (o->quiet)
        printf("initialised %s for %s\n", o->dir, o->base);
    else
        init_report(o, &p);
    return 0;
}

static config_init_opts init_default_ports(void)
{
    return (config_init_opts){RS_DEFAULT_PORT, RS_DEFAULT_DIRECT_PORT,
                              RS_DEFAULT_CLIENT_PORT, RS_DEFAULT_CLIENT_DIRECT_PORT,
                              RS_DEFAULT_HTTP_PORT, false};
}

int cmd_init(int argc, char **argv)
{
    init_opts o;
    memset(&o, 0, sizeof o);
    o.ports = init_default_ports();
    int rc = init_parse(argc, argv, &o);
    if (rc == -1) {
        init_usage(stdout);
        rc = 0;
    } else if (rc == 0) {
        if (o.n_addresses == 0)
            o.addresses[o.n_addresses++] = RS_DEFAULT_ADDRESS;
        init_warn_special(o.base);
        rc = init_run(&o);
    }
    init_opts_free(&o);
    return rc;
}

int cmd_init_default(const char *dir)
{
    init_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.base, sizeof o.base, "%s", RS_DEFAULT_BASE);
    o.dir = dir;
    o.addresses[0] = RS_DEFAULT_ADDRESS;
    o.n_addresses = 1;
    o.ports = init_default_ports();
    o.quiet = true;
    return init_run(&o);
}
