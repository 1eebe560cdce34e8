/* test_config.c -- configuration loading, validation and the default file.
 * Every error class is checked for its exact "NAME:LINE:" prefix and for
 * naming the offending value, since that is what operators act on. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char tmpdir[PATH_MAX]; /* canonical scratch directory */

/* The smallest valid config, three lines, so error lines are predictable. */
#define HEAD                                                                \
    "base_domain = \"r.example\";\n"                                        \
    "listen = ( { address = \"127.0.0.1\"; port = 5269; } );\n"
#define DOMS "domains = ( { name = \"valid.r.example\"; profile = \"valid\"; } );\n"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while (m && (c = fgetc(f)) != EOF)
        fputc(c, m);
    if (m)
        fclose(m);
    fclose(f);
    return buf;
}

/* tmpdir/rel, into a static buffer. */
static const char *in_tmp(const char *rel)
{
    static char buf[PATH_MAX + 64];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, rel);
    return buf;
}

/* Load text as "t.conf" based in tmpdir; *msgs receives what was printed. */
static int load_text(const char *text, rs_config *cfg, char **msgs)
{
    size_t len = 0;
    *msgs = NULL;
    FILE *m = open_memstream(msgs, &len);
    int n = config_load_string(text, "t.conf", tmpdir, cfg, m);
    fclose(m);
    return n;
}

/* Some printed line starts with "t.conf:LINE: " and mentions needle
 * (NULL = any). */
static bool mentions(const char *msgs, int line, const char *needle)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t.conf:%d: ", line);
    size_t plen = strlen(prefix);
    for (const char *p = msgs; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (strncmp(p, prefix, plen) == 0) {
            const char *hit = needle ? strstr(p, needle) : p;
            if (hit && hit < p + n)
                return true;
        }
        p += n + (p[n] == '\n');
    }
    return false;
}

/* text has exactly count problems, one on line naming a and b. */
static void expect_problem(const char *text, int count, int line,
                           const char *a, const char *b)
{
    rs_config cfg;
    char *msgs;
    int n = load_text(text, &cfg, &msgs);
    CHECK(n == count);
    CHECK(mentions(msgs, line, a));
    CHECK(mentions(msgs, line, b));
    CHECK(cfg.path == NULL && cfg.n_domains == 0 && cfg.domains == NULL);
    if (n != count || !mentions(msgs, line, a) || !mentions(msgs, line, b))
        fprintf(stderr, "  for line %d want '%s' and '%s'; got %d:\n%s", line,
                a, b ? b : "", n, msgs ? msgs : "");
    free(msgs);
}

/* Field by field: the struct has padding. */
static bool limits_equal(const config_limits *a, const config_limits *b)
{
    return a->max_stanza_bytes == b->max_stanza_bytes &&
           a->max_depth == b->max_depth && a->unauth_timeout == b->unauth_timeout &&
           a->idle_timeout == b->idle_timeout &&
           a->connect_timeout == b->connect_timeout &&
           a->max_streams_per_ip == b->max_streams_per_ip &&
           a->max_streams == b->max_streams && a->queue_max == b->queue_max &&
           a->report_peers == b->report_peers &&
           a->report_history == b->report_history &&
           a->report_file_bytes == b->report_file_bytes &&
           a->report_matched_per_ip == b->report_matched_per_ip &&
           a->report_matched_per_site == b->report_matched_per_site &&
           a->echo_per_minute == b->echo_per_minute &&
           a->probe_concurrency == b->probe_concurrency &&
           a->probe_timeout == b->probe_timeout &&
           a->probe_target_interval == b->probe_target_interval &&
           a->probe_per_hour == b->probe_per_hour;
}

static void test_defaults(void)
{
    config_limits l;
    config_limits_default(&l);
    CHECK(l.max_stanza_bytes == 262144);
    CHECK(l.max_depth == 32);
    CHECK(l.max_unauth_stanza_bytes == 16384);
    CHECK(l.max_attributes == 64 && l.max_namespaces == 32);
    CHECK(l.unauth_timeout == 30);
    CHECK(l.idle_timeout == 300);
    CHECK(l.connect_timeout == 15);
    CHECK(l.max_streams_per_ip == 64);
    CHECK(l.send_buffer_bytes == 1048576 && l.send_stall_timeout == 10);
    CHECK(l.ipv6_prefix == 64 && l.reserved_authenticated == 25);
    CHECK(l.ping_per_minute == 600 && l.log_per_minute == 1200);
    CHECK(l.max_streams == 1024);
    CHECK(l.queue_max == 64);
    CHECK(l.max_client_streams == 512 && l.client_streams_per_ip == 8);

    rs_config cfg;
    char *msgs;
    CHECK(load_text(HEAD DOMS, &cfg, &msgs) == 0);
    CHECK_STR(msgs, "");
    CHECK_STR(cfg.path, "t.conf");
    CHECK_STR(cfg.state_dir, tmpdir); /* "." = the config's directory */
    CHECK(cfg.trust_system == true);
    CHECK(cfg.public_instance == false); /* staging unless it says so */
    CHECK(cfg.n_trust == 0);
    CHECK(limits_equal(&cfg.limits, &l));
    CHECK(cfg.n_domains == 1);
    CHECK_STR(cfg.domains[0].cert_file, in_tmp("certs/valid.r.example.pem"));
    CHECK_STR(cfg.domains[0].key_file, in_tmp("certs/valid.r.example.key"));
    CHECK(cfg.domains[0].description == NULL);
    CHECK(cfg.domains[0].line == 3);
    config_free(&cfg);
    CHECK(cfg.domains == NULL && cfg.path == NULL);
    free(msgs);
}

static void test_full_round_trip(void)
{
    const char *text =
        "# every field\n"
        "base_domain = \"R.Example\";\n"
        "state_dir = \"state/../st\";\n"
        "listen = ( { address = \"127.0.0.1\"; port = 5270; },\n"
        "           { address = \"::1\"; port = 5269L; },\n"
        "           { address = \"127.0.0.2\"; } );\n"
        "trust = [ \"./ca.pem\", \"" "%s" "/ca2.pem\" ];\n"
        "trust_system = false;\n"
        "limits = { max_stanza_bytes = 65536; max_depth = 8; unauth_timeout = 10;\n"
        "           idle_timeout = 60; connect_timeout = 5; max_streams_per_ip = 4;\n"
        "           max_streams = 100; queue_max = 8L; };\n"
        "domains = (\n"
        "  { name = \"Valid.R.Example\"; profile = \"valid\"; },\n"
        "  { name = \"le.r.example\"; profile = \"le-tlsserver\";\n"
        "    cert = \"certs/custom.pem\"; key = \"/etc/x/le.key\";\n"
        "    description = \"my own words\"; },\n"
        "  { name = \"r.example\"; profile = \"expired\"; }\n"
        ");\n";
    char buf[PATH_MAX + 1024];
    snprintf(buf, sizeof buf, text, tmpdir);
    rs_config cfg;
    char *msgs;
    CHECK(load_text(buf, &cfg, &msgs) == 0);
    CHECK_STR(msgs, "");
    free(msgs);
    if (cfg.n_domains != 3)
        return;
    CHECK_STR(cfg.base_domain, "r.example");
    CHECK_STR(cfg.state_dir, in_tmp("st"));
    CHECK(cfg.n_listen == 3);
    CHECK_STR(cfg.listen[0].address, "127.0.0.1");
    CHECK(cfg.listen[0].port == 5270);
    CHECK_STR(cfg.listen[1].address, "::1");
    CHECK(cfg.listen[1].port == 5269);
    CHECK(cfg.listen[2].port == 5269); /* default */
    CHECK(cfg.n_trust == 2);
    CHECK_STR(cfg.trust[0], in_tmp("ca.pem"));
    CHECK_STR(cfg.trust[1], in_tmp("ca2.pem"));
    CHECK(cfg.trust_system == false);
    CHECK(cfg.limits.max_stanza_bytes == 65536);
    CHECK(cfg.limits.max_depth == 8);
    CHECK(cfg.limits.unauth_timeout == 10);
    CHECK(cfg.limits.idle_timeout == 60);
    CHECK(cfg.limits.connect_timeout == 5);
    CHECK(cfg.limits.max_streams_per_ip == 4);
    CHECK(cfg.limits.max_streams == 100);
    CHECK(cfg.limits.queue_max == 8);
    CHECK_STR(cfg.domains[0].name, "valid.r.example");
    CHECK(cfg.domains[0].profile == catalog_find("valid"));
    CHECK(cfg.domains[0].line == 13);
    CHECK_STR(cfg.domains[0].cert_file, in_tmp("st/certs/valid.r.example.pem"));
    CHECK_STR(cfg.domains[1].name, "le.r.example");
    CHECK(cfg.domains[1].profile == catalog_find("le-tlsserver"));
    CHECK_STR(cfg.domains[1].cert_file, in_tmp("certs/custom.pem"));
    CHECK_STR(cfg.domains[1].key_file, "/etc/x/le.key");
    CHECK_STR(cfg.domains[1].description, "my own words");
    CHECK(cfg.domains[1].line == 14);
    CHECK_STR(cfg.domains[2].name, "r.example"); /* BASE itself is allowed */
    CHECK(config_find_domain(&cfg, "LE.r.example") == &cfg.domains[1]);
    CHECK(config_find_domain(&cfg, "nope.r.example") == NULL);
    config_free(&cfg);
}

/* Relative paths follow the file, not the working directory. */
static void test_load_file(void)
{
    mkdir(in_tmp("sub"), 0700);
    write_file(in_tmp("sub/anchor.pem"), "x\n");
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s", in_tmp("sub/x.conf"));
    write_file(path, HEAD DOMS "trust = ( \"anchor.pem\" );\n");
    rs_config cfg;
    CHECK(config_load(path, &cfg, stderr) == 0);
    CHECK_STR(cfg.path, path);
    CHECK(cfg.n_trust == 1 && cfg.trust && cfg.trust[0] &&
          strcmp(cfg.trust[0], in_tmp("sub/anchor.pem")) == 0);
    CHECK_STR(cfg.state_dir, in_tmp("sub"));
    config_free(&cfg);

    /* A syntax error in a file: its name and line. */
    write_file(path, HEAD DOMS "limits = { max_depth = 8 };\nx = ;\n");
    char *msgs = NULL;
    size_t len;
    FILE *m = open_memstream(&msgs, &len);
    CHECK(config_load(path, &cfg, m) == 1);
    fclose(m);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s:5: ", path);
    CHECK(msgs && strncmp(msgs, want, strlen(want)) == 0);
    free(msgs);

    m = open_memstream(&msgs, &len);
    CHECK(config_load(in_tmp("absent.conf"), &cfg, m) == 1);
    fclose(m);
    CHECK(msgs && strstr(msgs, "absent.conf") && strstr(msgs, "cannot open"));
    CHECK(cfg.domains == NULL);
    free(msgs);
}

static void test_syntax_error(void)
{
    expect_problem(HEAD DOMS "\nlimits = { max_depth = = 8; };\n", 1, 5,
                   "syntax error", NULL);
    expect_problem(HEAD "domains = ( { name = \"x\"; profile = ; } );\n", 1, 3,
                   "syntax error", NULL);
}

static void test_unknown_keys(void)
{
    expect_problem(HEAD DOMS "colour = \"blue\";\n", 1, 4, "'colour'",
                   "allowed: base_domain, state_dir, listen");
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"127.0.0.1\"; prot = 5269; } );\n" DOMS,
                   1, 2, "'prot'", "allowed: address, port");
    expect_problem(HEAD DOMS "limits = { max_stanzas = 5; };\n", 1, 4,
                   "'max_stanzas'", "max_stanza_bytes, max_depth");
    expect_problem(HEAD "domains = ( { name = \"valid.r.example\";\n"
                        "  profile = \"valid\"; certfile = \"x\"; } );\n",
                   1, 4, "'certfile'", "name, profile, cert, key, description");
}

static void test_wrong_types(void)
{
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"127.0.0.1\"; port = \"5269\"; } );\n" DOMS,
                   1, 2, "'port'", "an integer, not a string (\"5269\")");
    expect_problem(HEAD DOMS "trust_system = \"yes\";\n", 1, 4,
                   "'trust_system'", "(\"yes\")");
    expect_problem(HEAD DOMS "public = 1;\n", 1, 4, "'public'", "boolean");
    expect_problem(HEAD DOMS "limits = { max_depth = 8.5; };\n", 1, 4,
                   "'max_depth'", "a float (8.5)");
    expect_problem("base_domain = 7;\n"
                   "listen = ( { address = \"127.0.0.1\"; port = 5269; } );\n"
                   "domains = ( { name = \"valid.r.example\"; profile = \"valid\"; } );\n",
                   1, 1, "'base_domain'", "(7)");
    expect_problem(HEAD "domains = { name = \"valid.r.example\"; profile = \"valid\"; };\n",
                   1, 3, "'domains'", "a group");
}

static void test_missing(void)
{
    expect_problem("listen = ( { address = \"127.0.0.1\"; port = 5269; } );\n" DOMS,
                   1, 1, "missing required setting 'base_domain'", NULL);
    expect_problem(HEAD, 1, 1, "missing required setting 'domains'", NULL);
    expect_problem("base_domain = \"r.example\";\n" DOMS, 1, 1,
                   "missing required setting 'listen'", "without a listener");
    expect_problem(HEAD "listen2 = 1;\n", 2, 1, "'domains'", NULL);
    expect_problem(HEAD "domains = (\n { name = \"valid.r.example\"; } );\n",
                   1, 4, "missing required setting 'profile'", "domain entry");
    expect_problem(HEAD "domains = ( { profile = \"valid\"; } );\n", 1, 3,
                   "missing required setting 'name'", NULL);
    expect_problem("base_domain = \"r.example\";\nlisten = ( { port = 1; } );\n" DOMS,
                   1, 2, "missing required setting 'address'", NULL);
    expect_problem("base_domain = \"r.example\";\nlisten = ( );\n" DOMS, 1, 2,
                   "'listen' is empty", NULL);
    expect_problem(HEAD "domains = ( );\n", 1, 3, "'domains' is empty", NULL);
}

static void test_bad_values(void)
{
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"127.0.0.1\"; port = 70000; } );\n" DOMS,
                   1, 2, "70000", "1..65535");
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"127.0.0.1\"; port = 0; } );\n" DOMS,
                   1, 2, "= 0 ", "1..65535");
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"localhost\"; } );\n" DOMS,
                   1, 2, "'localhost'", "IPv4 or IPv6");
    expect_problem("base_domain = \"-r.example\";\n"
                   "listen = ( { address = \"::1\"; } );\n"
                   "domains = ( { name = \"valid.r.example\"; profile = \"valid\"; } );\n",
                   1, 1, "'-r.example'", "'-'");
    expect_problem(HEAD "domains = ( { name = \"a..r.example\"; profile = \"valid\"; } );\n",
                   1, 3, "'a..r.example'", "empty label");
    expect_problem(HEAD "domains = ( { name = \"a_b.r.example\"; profile = \"valid\"; } );\n",
                   1, 3, "'a_b.r.example'", "letters, digits");
    expect_problem(HEAD "domains = ( { name = \"valid.r.example.\"; profile = \"valid\"; } );\n",
                   1, 3, "'valid.r.example.'", "dot");
    char text[1024];
    snprintf(text, sizeof text, HEAD "domains = ( { name = \"%s.r.example\"; "
             "profile = \"valid\"; } );\n",
             "a123456789b123456789c123456789d123456789e123456789f123456789xyzw");
    expect_problem(text, 1, 3, "a123456789b", "63");
}

static void test_domains(void)
{
    expect_problem(HEAD "domains = ( { name = \"valid.other.example\"; profile = \"valid\"; } );\n",
                   1, 3, "'valid.other.example'", "'r.example'");
    /* a suffix without the dot is not under BASE */
    expect_problem(HEAD "domains = ( { name = \"xr.example\"; profile = \"valid\"; } );\n",
                   1, 3, "'xr.example'", "end in .r.example");
    expect_problem(HEAD "domains = ( { name = \"n.r.example\"; profile = \"nope\"; } );\n",
                   1, 3, "'nope'", "known: valid, le-tlsserver");
    /* a quoted value with a newline keeps the message on one line */
    expect_problem(HEAD "domains = ( { name = \"n.r.example\"; profile = \"no-\\ntls\"; } );\n",
                   1, 3, "'no-\\ntls'", "known: valid, le-tlsserver");
    expect_problem(HEAD "domains = (\n"
                        "  { name = \"valid.r.example\"; profile = \"valid\"; },\n"
                        "  { name = \"other.r.example\"; profile = \"valid\"; },\n"
                        "  { name = \"VALID.r.example\"; profile = \"expired\"; } );\n",
                   1, 6, "duplicate domain 'valid.r.example'", "(first defined at line 4)");
}

static void test_listeners(void)
{
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"127.0.0.1\"; },\n"
                   "           { address = \"127.0.0.1\"; port = 5269; } );\n" DOMS,
                   1, 3, "duplicate listener 127.0.0.1 port 5269", "line 2");
    /* the same IPv6 address spelt two ways */
    expect_problem("base_domain = \"r.example\";\n"
                   "listen = ( { address = \"::1\"; },\n"
                   "           { address = \"127.0.0.1\"; },\n"
                   "           { address = \"0:0::1\"; } );\n" DOMS,
                   1, 4, "duplicate listener 0:0::1", "line 2");
    /* same address, other port: fine */
    rs_config cfg;
    char *msgs;
    CHECK(load_text("base_domain = \"r.example\";\n"
                    "listen = ( { address = \"::1\"; }, { address = \"::1\"; port = 5270; } );\n" DOMS,
                    &cfg, &msgs) == 0);
    config_free(&cfg);
    free(msgs);
}

/* resolver.servers: canonical "IP:PORT" list for c-ares; bad entries named
 * with their line. */
static void test_resolver(void)
{
    rs_config cfg;
    char *msgs;
    CHECK(load_text(HEAD DOMS "resolver = { servers = ( \"127.0.0.1:5353\", "
                    "\"::1\", \"[fe80::1]:54\", \"192.0.2.1\" ); };\n",
                    &cfg, &msgs) == 0);
    CHECK_STR(cfg.resolver_servers,
              "127.0.0.1:5353,[::1]:53,[fe80::1]:54,192.0.2.1:53");
    config_free(&cfg);
    free(msgs);
    CHECK(load_text(HEAD DOMS, &cfg, &msgs) == 0);
    CHECK(cfg.resolver_servers == NULL);
    config_free(&cfg);
    free(msgs);
    expect_problem(HEAD DOMS "resolver = { servers = ( \"127.0.0.1:0\" ); };\n",
                   1, 4, "'127.0.0.1:0'", "port must be 1..65535");
    expect_problem(HEAD DOMS "resolver = {\n servers = ( \"ns.example\" ); };\n",
                   1, 5, "'ns.example'", "not an IP address");
    expect_problem(HEAD DOMS "resolver = { servers = ( \"[::1\" ); };\n",
                   1, 4, "'[::1'", "']'");
    expect_problem(HEAD DOMS "resolver = { server = ( \"::1\" ); };\n",
                   1, 4, "server", "resolver");
}

/* limits.client_sessions is gone (the client pool bounds bound sessions):
 * an older config that has it still loads, with a note at its line that
 * says what replaced it, not counted as a problem. */
static void test_obsolete_limit(void)
{
    rs_config cfg;
    char *msgs;
    CHECK(load_text(HEAD DOMS "limits = {\n  client_sessions = 256; };\n", &cfg, &msgs) == 0);
    CHECK(mentions(msgs, 5, "note: 'client_sessions' in limits is no longer used"));
    CHECK(mentions(msgs, 5, "max_client_streams and client_streams_per_ip"));
    CHECK(cfg.limits.max_client_streams == 512);
    config_free(&cfg);
    free(msgs);
    /* a bad value of it is still noted, never a problem: it is not read */
    CHECK(load_text(HEAD DOMS "limits = { client_sessions = -5; };\n", &cfg, &msgs) == 0);
    config_free(&cfg);
    free(msgs);
}

static void test_limits_and_trust(void)
{
    expect_problem(HEAD DOMS "limits = { max_stanza_bytes = 100; };\n", 1, 4,
                   "max_stanza_bytes' in limits = 100", "1024..16777216");
    expect_problem(HEAD DOMS "limits = { max_depth = 1000; };\n", 1, 4,
                   "= 1000", "4..256");
    /* a reply to a legal stanza must fit in the send buffer */
    expect_problem(HEAD DOMS "limits = { max_stanza_bytes = 65536;\n"
                   "  send_buffer_bytes = 16384; };\n", 1, 5,
                   "send_buffer_bytes' in limits = 16384", "max_stanza_bytes = 65536");
    expect_problem(HEAD DOMS "limits = { max_unauth_stanza_bytes = 512; };\n", 1, 4,
                   "max_unauth_stanza_bytes' in limits = 512", "1024..16777216");
    expect_problem(HEAD DOMS "limits = { max_attributes = 2; };\n", 1, 4,
                   "max_attributes' in limits = 2", "8..4096");
    expect_problem(HEAD DOMS "limits = { max_namespaces = 100000; };\n", 1, 4,
                   "max_namespaces' in limits = 100000", "4..4096");
    expect_problem(HEAD DOMS "limits = { ipv6_prefix = 129; };\n", 1, 4,
                   "ipv6_prefix' in limits = 129", "1..128");
    expect_problem(HEAD DOMS "limits = { reserved_authenticated = 95; };\n", 1, 4,
                   "= 95", "0..90");
    expect_problem(HEAD DOMS "limits = { idle_timeout = 0; };\n", 1, 4,
                   "idle_timeout", "1..86400");
    expect_problem(HEAD DOMS "limits = { queue_max = -1; };\n", 1, 4,
                   "= -1", "queue_max");
    expect_problem(HEAD DOMS "limits = { probe_concurrency = 0; };\n", 1, 4,
                   "probe_concurrency", "1..1024");
    /* the client pool's keys, each with its line */
    expect_problem(HEAD DOMS "limits = {\n max_client_streams = 0; };\n", 1, 5,
                   "'max_client_streams' in limits = 0", "1..1048576");
    expect_problem(HEAD DOMS "limits = { client_streams_per_ip = 2000000; };\n", 1, 4,
                   "'client_streams_per_ip' in limits = 2000000", "1..1048576");
    expect_problem(HEAD DOMS "limits = { client_streams_per_ip = \"8\"; };\n", 1, 4,
                   "client_streams_per_ip", "integer");
    test_obsolete_limit();
    expect_problem(HEAD DOMS "limits = {\n  report_matched_per_ip = 0; };\n", 1, 5,
                   "report_matched_per_ip' in limits = 0", "1..1048576");
    expect_problem(HEAD DOMS "limits = { report_matched_per_site = 2097152; };\n", 1, 4,
                   "report_matched_per_site' in limits = 2097152", "1..1048576");
    expect_problem(HEAD DOMS "limits = { report_matched_per_site = -1; };\n", 1, 4,
                   "= -1", "report_matched_per_site");
    expect_problem(HEAD DOMS "http = { address = \"localhost\"; };\n", 1, 4,
                   "http address 'localhost'", "IPv4 or IPv6 literal");
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\"; port = 70000; };\n",
                   1, 4, "'port' in http", "1..65535");
    expect_problem(HEAD DOMS "http = { port = 5280; };\n", 1, 4,
                   "missing required setting 'address' in http", NULL);
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\"; tls = true; };\n",
                   1, 4, "unknown setting 'tls' in http", NULL);
    expect_problem(HEAD DOMS "http = \"127.0.0.1:5280\";\n", 1, 4, "http",
                   "a group");
    expect_problem(HEAD DOMS "trust = ( \"missing.pem\" );\n", 1, 4,
                   in_tmp("missing.pem"), "No such file");
    expect_problem(HEAD DOMS "trust = ( \"sub\" );\n", 1, 4, in_tmp("sub"),
                   "not a regular file");
}

/* The budgets per requester: defaults, a bad value of each key with its
 * line, and http.trusted_proxies (addresses or CIDRs, http only). */
static void test_requester_budgets(void)
{
    config_limits l;
    config_limits_default(&l);
    CHECK(l.probe_per_requester == 6 && l.probe_per_network == 20);
    CHECK(l.http_connections == 64 && l.http_connections_per_ip == 8);
    CHECK(l.http_header_timeout == 10 && l.http_reserved == 8);
    expect_problem(HEAD DOMS "limits = { probe_per_requester = 0; };\n", 1, 4,
                   "probe_per_requester' in limits = 0", "1..1048576");
    expect_problem(HEAD DOMS "limits = {\n probe_per_network = -3; };\n", 1, 5,
                   "probe_per_network' in limits = -3", "1..1048576");
    expect_problem(HEAD DOMS "limits = { http_connections = 5000; };\n", 1, 4,
                   "http_connections' in limits = 5000", "1..4096");
    expect_problem(HEAD DOMS "limits = { http_connections_per_ip = 0; };\n", 1, 4,
                   "http_connections_per_ip' in limits = 0", "1..4096");
    expect_problem(HEAD DOMS "limits = { http_header_timeout = 0; };\n", 1, 4,
                   "http_header_timeout' in limits = 0", "1..3600");
    expect_problem(HEAD DOMS "limits = { http_reserved = 2000; };\n", 1, 4,
                   "http_reserved' in limits = 2000", "1..1024");
    expect_problem(HEAD DOMS "limits = { http_reserved = \"8\"; };\n", 1, 4,
                   "http_reserved", "integer");

    rs_config cfg;
    char *msgs;
    CHECK(load_text(HEAD DOMS "http = { address = \"127.0.0.1\";\n"
                    "  trusted_proxies = ( \"127.0.0.1\", \"fd00::/8\" ); };\n",
                    &cfg, &msgs) == 0);
    CHECK(cfg.http.n_trusted_proxies == 2 && cfg.http.trusted_proxies &&
          cfg.http.trusted_proxies[0].family == AF_INET &&
          cfg.http.trusted_proxies[0].prefix == 32 &&
          cfg.http.trusted_proxies[1].prefix == 8);
    config_free(&cfg);
    free(msgs);
    CHECK(load_text(HEAD DOMS "http = { address = \"127.0.0.1\"; };\n", &cfg,
                    &msgs) == 0);
    CHECK(cfg.http.n_trusted_proxies == 0 && !cfg.http.trusted_proxies);
    config_free(&cfg);
    free(msgs);
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\";\n"
                   "  trusted_proxies = ( \"127.0.0.1\",\n \"proxy.example\" ); };\n",
                   1, 6, "http.trusted_proxies entry 'proxy.example' is not a "
                   "valid CIDR", "not an IPv4 or IPv6 literal");
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\";\n"
                   "  trusted_proxies = ( \"10.0.0.1/8\" ); };\n", 1, 5,
                   "trusted_proxies entry '10.0.0.1/8'", "bits set beyond");
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\";\n"
                   "  trusted_proxies = ( 127 ); };\n", 1, 5,
                   "http.trusted_proxies entries must be strings", "an integer");
    expect_problem(HEAD DOMS "http = { address = \"127.0.0.1\";\n"
                   "  trusted_proxies = \"127.0.0.1\"; };\n", 1, 5,
                   "trusted_proxies", "a list");
    expect_problem(HEAD DOMS "https = { address = \"127.0.0.1\"; port = 8443;\n"
                   "  trusted_proxies = ( \"127.0.0.1\" ); };\n", 1, 5,
                   "unknown setting 'trusted_proxies' in https", NULL);
}

/* Every problem in one run, printed in line order. */
/* max_unauth_stanza_bytes never exceeds max_stanza_bytes: the smaller
 * applies, as its text says. */
static void test_unauth_follows_stanza_bytes(void)
{
    rs_config cfg;
    char *msgs;
    CHECK(load_text(HEAD DOMS "limits = { max_stanza_bytes = 4096; };\n", &cfg, &msgs) == 0);
    CHECK(cfg.limits.max_unauth_stanza_bytes == 4096);
    config_free(&cfg);
    free(msgs);
    CHECK(load_text(HEAD DOMS "limits = { max_unauth_stanza_bytes = 8192; };\n", &cfg,
                    &msgs) == 0);
    CHECK(cfg.limits.max_unauth_stanza_bytes == 8192 && cfg.limits.max_stanza_bytes == 262144);
    config_free(&cfg);
    free(msgs);
}

static void test_many_problems(void)
{
    const char *text =
        "base_domain = \"r.example\";\n"
        "listen = ( { address = \"nowhere\"; port = 99999; } );\n"
        "limits = { max_depth = 1; idle_timeout = 0; bogus = 1; };\n"
        "domains = (\n"
        "  { name = \"valid.r.example\"; profile = \"nope\"; },\n"
        "  { name = \"valid.r.example\"; profile = \"valid\"; }\n"
        ");\n"
        "trust = ( \"missing.pem\" );\n";
    rs_config cfg;
    char *msgs;
    CHECK(load_text(text, &cfg, &msgs) == 8);
    CHECK(mentions(msgs, 2, "'nowhere'"));
    CHECK(mentions(msgs, 2, "99999"));
    CHECK(mentions(msgs, 3, "max_depth"));
    CHECK(mentions(msgs, 3, "idle_timeout"));
    CHECK(mentions(msgs, 3, "'bogus'"));
    CHECK(mentions(msgs, 5, "'nope'"));
    CHECK(mentions(msgs, 6, "duplicate domain"));
    CHECK(mentions(msgs, 8, "missing.pem"));
    /* sorted by line although sections are checked in another order */
    const char *l2 = strstr(msgs, "t.conf:2:"), *l8 = strstr(msgs, "t.conf:8:");
    CHECK(l2 && l8 && l2 < l8 && msgs == l2);
    CHECK(cfg.domains == NULL && cfg.listen == NULL && cfg.trust == NULL);
    free(msgs);
}

static void replace(char *text, const char *from, const char *to)
{
    char *p = strstr(text, from);
    CHECK(p != NULL && strlen(from) == strlen(to));
    if (p)
        memcpy(p, to, strlen(to));
}

static void test_write_default(void)
{
    const char *addrs[] = {"127.0.0.1", "::1"};
    const char *trust[] = {"ca.pem"};
    char err[256] = "";
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s", in_tmp("default.conf"));
    CHECK(config_write_default(path, "Base.Example", addrs, 2,
                                  &(config_init_opts){5269, 0, 0, 0, 5280, false}, trust,
                                  1, NULL, 0, err, sizeof err) == 0);
    CHECK_STR(err, "");
    rs_config cfg;
    CHECK(config_load(path, &cfg, stderr) == 0);
    CHECK_STR(cfg.base_domain, "base.example");
    CHECK_STR(cfg.state_dir, tmpdir);
    CHECK(cfg.n_listen == 2 && cfg.listen[1].port == 5269);
    CHECK(cfg.n_trust == 1 && strcmp(cfg.trust[0], in_tmp("ca.pem")) == 0);
    CHECK(cfg.trust_system == true);
    CHECK(cfg.http.address && strcmp(cfg.http.address, "127.0.0.1") == 0);
    CHECK(cfg.http.port == 5280);
    config_limits def;
    config_limits_default(&def);
    CHECK(limits_equal(&cfg.limits, &def));
    CHECK(cfg.n_domains == catalog_count());
    for (size_t i = 0; i < cfg.n_domains && i < catalog_count(); i++) {
        char name[300];
        snprintf(name, sizeof name, "%s.base.example", catalog_at(i)->label);
        CHECK_STR(cfg.domains[i].name, name);
        CHECK(cfg.domains[i].profile == catalog_at(i));
    }
    config_free(&cfg);

    /* Every limit is spelt out, so scripts can sed one of them. */
    char *text = read_all(path);
    CHECK(text != NULL);
    if (!text)
        return;
    const char *lines[] = {"max_stanza_bytes = 262144;", "max_depth = 32;",
                           "unauth_timeout = 30;", "idle_timeout = 300;",
                           "connect_timeout = 15;", "max_streams_per_ip = 64;",
                           "max_streams = 1024;", "queue_max = 64;",
                           "report_peers = 256;", "probe_timeout = 20;",
                           "http = { address = \"127.0.0.1\"; port = 5280; };"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        CHECK(strstr(text, lines[i]) != NULL);
    for (size_t i = 0; i < catalog_count(); i++)
        CHECK(strstr(text, catalog_at(i)->description) != NULL);
    replace(text, "max_depth = 32;", "max_depth = 16;");
    char *msgs;
    CHECK(load_text(text, &cfg, &msgs) == 0);
    CHECK(cfg.limits.max_depth == 16);
    config_free(&cfg);
    free(msgs);
    free(text);

    /* No trust files: an empty list that still loads. */
    CHECK(config_write_default(path, "b.example", addrs, 1,
                                  &(config_init_opts){5999, 0, 0, 0, 0, false}, NULL, 0,
                                  NULL, 0, err, sizeof err) == 0);
    CHECK(config_load(path, &cfg, stderr) == 0);
    CHECK(cfg.n_trust == 0 && cfg.n_listen == 1 && cfg.listen[0].port == 5999);
    CHECK(cfg.http.address == NULL); /* http_port 0: no web listener */
    config_free(&cfg);

    CHECK(config_write_default(path, "bad..base", addrs, 1,
                                  &(config_init_opts){5269, 0, 0, 0, 0, false}, NULL, 0,
                                  NULL, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "base") != NULL);
    CHECK(config_write_default(path, "b.example", addrs, 0,
                                  &(config_init_opts){5269, 0, 0, 0, 0, false}, NULL, 0,
                                  NULL, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "listen") != NULL);
    const char *bad[] = {"localhost"};
    CHECK(config_write_default(path, "b.example", bad, 1,
                                  &(config_init_opts){5269, 0, 0, 0, 0, false}, NULL, 0,
                                  NULL, 0, err, sizeof err) == -1);
    CHECK(config_write_default(path, "b.example", addrs, 1,
                                  &(config_init_opts){0, 0, 0, 0, 0, false}, NULL, 0,
                                  NULL, 0, err, sizeof err) == -1);
    CHECK(config_write_default("/nonexistent-dir/x.conf", "b.example", addrs, 1,
                                  &(config_init_opts){5269, 0, 0, 0, 0, false}, NULL, 0, NULL, 0, err,
                                  sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent-dir/x.conf") != NULL);
}

static void cleanup(void)
{
    const char *files[] = {"ca.pem", "ca2.pem", "sub/anchor.pem", "sub/x.conf",
                           "default.conf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(in_tmp(files[i]));
    rmdir(in_tmp("sub"));
    rmdir(tmpdir);
}

int main(void)
{
    char templ[] = "/tmp/test_config.XXXXXX";
    if (!mkdtemp(templ) || !realpath(templ, tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    write_file(in_tmp("ca.pem"), "not parsed here\n");
    write_file(in_tmp("ca2.pem"), "not parsed here\n");
    mkdir(in_tmp("sub"), 0700);
    test_defaults();
    test_full_round_trip();
    test_load_file();
    test_syntax_error();
    test_unknown_keys();
    test_wrong_types();
    test_missing();
    test_bad_values();
    test_domains();
    test_listeners();
    test_resolver();
    test_limits_and_trust();
    test_unauth_follows_stanza_bytes();
    test_requester_budgets();
    test_many_problems();
    test_write_default();
    cleanup();
    return check_done();
}
