/* config_write.c -- the commented config file `init` writes. */
#include "config.h"
#include "config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- writing the default file ----------------------------------------- */

/* s as a libconfig string literal. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Reasons the arguments cannot make a loadable file, or NULL. */
static const char *default_args_problem(const char *base,
                                        const char *const *addresses,
                                        size_t n_addresses, unsigned port)
{
    if (!base || config_dns_name_problem(base))
        return "invalid base domain";
    if (n_addresses == 0)
        return "no listen address: a config without a listener serves nothing";
    for (size_t i = 0; i < n_addresses; i++) {
        unsigned char bin[16];
        if (inet_pton(AF_INET, addresses[i], bin) != 1 &&
            inet_pton(AF_INET6, addresses[i], bin) != 1)
            return "listen address is not an IPv4 or IPv6 literal";
    }
    if (port < 1 || port > 65535)
        return "port out of range 1..65535";
    return NULL;
}

static void write_http(FILE *f, const char *address, unsigned http_port)
{
    if (http_port) {
        fputs("# The web report: index, per-peer reports, JSON API, /metrics and the\n"
              "# probe form. Plain HTTP: keep it on loopback or behind a proxy.\n"
              "http = { address = ", f);
        put_string(f, address);
        fprintf(f, "; port = %u; };\n", http_port);
    } else {
        fputs("# The web report (index, per-peer reports, /metrics, probe form):\n"
              "# http = { address = \"127.0.0.1\"; port = 5280; };\n", f);
    }
    fputs("# POSH (RFC 7711/7712) for the posh profile: HTTPS serving\n"
          "# /.well-known/posh/xmpp-server.json and xmpp-client.json with\n"
          "# certs/NAME.https.pem.\n"
          "# Peers fetch it from port 443 of the domain.\n"
          "# https = { address = ", f);
    put_string(f, address);
    fputs("; port = 443; };\n\n", f);
}

/* One listen entry per address for port (0: none). */
static void write_listeners(FILE *f, const char *const *addresses,
                            size_t n_addresses, unsigned port, const char *extra,
                            bool *first)
{
    for (size_t i = 0; port && i < n_addresses; i++) {
        fputs(*first ? "  { address = " : ",\n  { address = ", f);
        put_string(f, addresses[i]);
        fprintf(f, "; port = %u;%s }", port, extra);
        *first = false;
    }
}

static void write_listen_trust(FILE *f, const char *const *addresses,
                               size_t n_addresses, const config_init_opts *ports,
                               const char *const *trust, size_t n_trust)
{
    fputs("# Where remote servers connect: STARTTLS (5269) and XEP-0368 direct\n"
          "# TLS (direct_tls = true, 5270); where clients connect to the test\n"
          "# account (clients = true): STARTTLS (5222) and direct TLS (5223).\n"
          "# IP literals only.\nlisten = (\n", f);
    bool first = true;
    write_listeners(f, addresses, n_addresses, ports->s2s, "", &first);
    write_listeners(f, addresses, n_addresses, ports->s2s_direct,
                    " direct_tls = true;", &first);
    write_listeners(f, addresses, n_addresses, ports->c2s, " clients = true;", &first);
    write_listeners(f, addresses, n_addresses, ports->c2s ? ports->c2s_direct : 0,
                    " clients = true; direct_tls = true;", &first);
    fputs("\n", f);
    fputs(");\n\n# Extra trust anchors (PEM files) for remote servers' "
          "certificates.\ntrust = (", f);
    for (size_t i = 0; i < n_trust; i++) {
        fputs(i ? ", " : " ", f);
        put_string(f, trust[i]);
    }
    fputs(" );\n# Also trust the system's CA bundle.\ntrust_system = true;\n\n", f);
}

static void write_limits(FILE *f)
{
    fputs("# Bounds on what peers may do. Timeouts are in seconds.\n"
          "limits = {\n", f);
    for (size_t i = 0; i < n_limit_defs; i++) {
        const config_limit_def *d = &limit_defs[i];
        int w = (int)strlen(d->key) + 3 + snprintf(NULL, 0, "%lld;", d->def);
        fprintf(f, "  %s = %lld;%*s# %s (%lld..%lld)\n", d->key, d->def,
                w < 34 ? 34 - w : 1, "", d->why, d->min, d->max);
    }
    fputs("};\n\n", f);
}

/* outbound.allow: the given CIDRs, or the special range of every listen
 * address that is not public (a loopback or private responder tests peers
 * next to it, which outbound streams could not reach otherwise). */
static void write_outbound(FILE *f, const char *const *addresses,
                           size_t n_addresses, const char *const *allow,
                           size_t n_allow)
{
    fputs("# Outbound streams (replies, dialback verification, probes) go only\n"
          "# to public unicast addresses, and to the ranges listed here.\n", f);
    char ranges[16][RS_CIDR_TEXT_MAX];
    size_t n_ranges = 0;
    for (size_t i = 0; n_allow == 0 && i < n_addresses; i++) {
        struct sockaddr_storage ss;
        netaddr_special_range sp;
        if (!netaddr_literal(addresses[i], 0, &ss) ||
            !netaddr_special((const struct sockaddr *)&ss, &sp))
            continue;
        char text[RS_CIDR_TEXT_MAX];
        netaddr_cidr_text(&sp.range, text, sizeof text);
        size_t k = 0;
        while (k < n_ranges && strcmp(ranges[k], text) != 0)
            k++;
        if (k < n_ranges || n_ranges == sizeof ranges / sizeof ranges[0])
            continue;
        memcpy(ranges[n_ranges++], text, sizeof text);
        fprintf(f, "# %s: the listen address %s is %s, so the peers this\n"
                   "# responder tests are probably in that range too.\n",
                text, addresses[i], sp.phrase);
    }
    fputs("outbound = { allow = (", f);
    for (size_t i = 0; i < n_allow + n_ranges; i++) {
        fputs(i ? ", " : " ", f);
        put_string(f, i < n_allow ? allow[i] : ranges[i - n_allow]);
    }
    fputs(" ); };\n\n", f);
}

static void write_domains(FILE *f, const char *base)
{
    fputs("# One test domain per catalog profile, named PROFILE.BASE.\n"
          "# cert/key default to STATE/certs/NAME.pem and NAME.key; set\n"
          "# cert = \"...\"; key = \"...\"; to override, description = "
          "\"...\"; to reword.\ndomains = (\n", f);
    size_t width = 0;
    for (size_t i = 0; i < catalog_count(); i++) {
        size_t w = 2 * strlen(catalog_at(i)->label) + strlen(base);
        width = w > width ? w : width;
    }
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        int n = fprintf(f, "  { name = \"%s.%s\"; profile = \"%s\"; }%s",
                        p->label, base, p->label,
                        i + 1 < catalog_count() ? "," : "");
        int pad = (int)width + 33 - n;
        fprintf(f, "%*s# %s\n", pad > 1 ? pad : 1, "", p->description);
    }
    fputs(");\n", f);
}

/* Whether the ports are in range and all different (0 = unused). */
static const char *ports_problem(const config_init_opts *p)
{
    const unsigned all[] = {p->s2s, p->s2s_direct, p->c2s,
                            p->c2s ? p->c2s_direct : 0, p->http};
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        if (all[i] > 65535)
            return "port out of range 1..65535";
        for (size_t j = i + 1; all[i] && j < n; j++)
            if (all[i] == all[j])
                return "the XMPP and HTTP ports must all differ";
    }
    return NULL;
}

int config_write_default(const char *path, const char *base,
                            const char *const *addresses, size_t n_addresses,
                            const config_init_opts *ports, const char *const *trust,
                            size_t n_trust, const char *const *allow,
                            size_t n_allow, char *err, size_t errlen)
{
    const char *why = default_args_problem(base, addresses, n_addresses, ports->s2s);
    if (!why)
        why = ports_problem(ports);
    for (size_t i = 0; !why && i < n_allow; i++) {
        netaddr_cidr c;
        if (netaddr_cidr_parse(allow[i], &c) != NULL)
            why = "an outbound allow entry is not a valid CIDR";
    }
    if (why) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    char lower[DNS_NAME_MAX + 1];
    size_t i;
    for (i = 0; base[i]; i++)
        lower[i] = (char)tolower((unsigned char)base[i]);
    lower[i] = '\0';
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fputs("# xmpp-responder configuration, written by `xmpp-responder init`.\n"
          "# Check it with `xmpp-responder check -c FILE`. Relative paths\n"
          "# are relative to the directory of this file.\n\n"
          "# Every test domain is PROFILE.BASE under this base domain.\n"
          "base_domain = ", f);
    put_string(f, lower);
    fputs(";\n\n# Certificates (certs/), the zone (zones/) and runtime state.\n"
          "state_dir = \".\";\n\n", f);
    fputs(ports->public_instance
              ? "# A public instance: the rows whose test needs a publicly trusted\n"
                "# chain present certificates from the ACME CA (deploy/README.md),\n"
                "# the others the test CA's; `check` says what each one presents.\n"
                "public = true;\n\n"
              : "# Staging: every domain presents the test CA's certificate. A public\n"
                "# instance says `public = true;` (xmpp-responder init --public).\n"
                "public = false;\n\n", f);
    write_listen_trust(f, addresses, n_addresses, ports, trust, n_trust);
    write_http(f, addresses[0], ports->http);
    write_limits(f);
    write_outbound(f, addresses, n_addresses, allow, n_allow);
    write_domains(f, lower);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}
