/* test_zone.c -- zonegen: records per catalog row, serial, errors, and the
 * verdict of real zone checkers when they are installed. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "zonegen.h"

#define BASE "test.example"
#define MAX_LINES 4096

static char *lines[MAX_LINES]; /* the zone, comments cut, blanks collapsed */
static size_t n_lines;

static void free_lines(void)
{
    for (size_t i = 0; i < n_lines; i++)
        free(lines[i]);
    n_lines = 0;
}

/* Cut the comment, collapse whitespace runs to one space, trim. */
static char *normalise(const char *in)
{
    char *out = malloc(strlen(in) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *s = in; *s && *s != ';'; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n') {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *s;
        }
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return out;
}

/* Load path into lines[]; the serial (line tagged "; serial") into *serial. */
static int load_zone(const char *path, unsigned long *serial)
{
    FILE *f = fopen(path, "r");
    char buf[1024];
    free_lines();
    *serial = 0;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f) && n_lines < MAX_LINES) {
        if (strstr(buf, "; serial"))
            *serial = strtoul(buf, NULL, 10);
        char *l = normalise(buf);
        if (l && *l)
            lines[n_lines++] = l;
        else
            free(l);
    }
    fclose(f);
    return 0;
}

/* Number of normalised lines equal to rec. */
static int count(const char *rec)
{
    int n = 0;
    for (size_t i = 0; i < n_lines; i++)
        n += strcmp(lines[i], rec) == 0;
    return n;
}

/* Number of lines starting with prefix. */
static int count_prefix(const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < n_lines; i++)
        n += strncmp(lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

__attribute__((format(printf, 1, 2))) static int countf(const char *fmt, ...)
{
    char rec[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec, sizeof rec, fmt, ap);
    va_end(ap);
    return count(rec);
}

/* Run a checker; its exit status, or -1 when it could not run. */
static int run_tool(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static unsigned long today_serial(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return ((unsigned long)(tm.tm_year + 1900) * 10000 +
            (unsigned long)(tm.tm_mon + 1) * 100 + (unsigned long)tm.tm_mday) *
           100;
}

/* A row no catalog entry uses yet: SRV target ".". */
static const catalog_profile no_service = {
    .label = "syn-no-service",
    .kind = CATALOG_KIND_DNS,
    .breaks = "SRV says no service",
    .strict = CATALOG_EXPECT_REFUSE,
    .dns = CATALOG_DNS_NO_SERVICE,
};

/* A stand-in for the SHA-256 of a key: the zone copies it as it is. */
#define TLSA_TEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const addrs[] = {"192.0.2.10", "2001:DB8:0::10"};

/* The records of one service (servers or clients) for domain i. */
static void check_service(const zone_domain *dom, const char *svc, const char *xsvc,
                          unsigned port, unsigned direct_port)
{
    const char *d = dom->name;
    char srv[300], xsrv[300];
    snprintf(srv, sizeof srv, "%s._tcp.%s. IN SRV ", svc, d);
    snprintf(xsrv, sizeof xsrv, "%s._tcp.%s. IN SRV ", xsvc, d);
    bool direct = dom->profile->dns == CATALOG_DNS_DIRECT_TLS;
    CHECK(count_prefix(srv) == (direct ? 0 : 1));
    CHECK(count_prefix(xsrv) == (direct ? 1 : 0));
    switch (dom->profile->dns) {
    case CATALOG_DNS_SRV:
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u %s.", svc, d, port, d) == 1);
        break;
    case CATALOG_DNS_NO_SERVICE:
        CHECK(countf("%s._tcp.%s. IN SRV 0 0 0 .", svc, d) == 1);
        break;
    case CATALOG_DNS_NO_TARGET:
        /* the target is not defined anywhere in the zone: NXDOMAIN */
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u nowhere.%s.", svc, d, port, d) == 1);
        CHECK(countf("nowhere.%s. IN A %s", d, "192.0.2.10") == 0);
        CHECK(countf("nowhere.%s. IN TXT%s", d, "") == 0);
        break;
    case CATALOG_DNS_NO_ADDRESS:
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u noaddress.%s.", svc, d, port, d) == 1);
        CHECK(countf("noaddress.%s. IN A %s", d, "192.0.2.10") == 0);
        CHECK(countf("noaddress.%s. IN AAAA %s", d, "2001:db8::10") == 0);
        CHECK(countf("noaddress.%s. IN TXT \"no address records here\"", d) == 1);
        break;
    case CATALOG_DNS_DIRECT_TLS:
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u %s.", xsvc, d, direct_port, d) == 1);
        break;
    case CATALOG_DNS_SRV_TARGET:
        /* the SRV target is a host of its own, with addresses; not the domain */
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u " CATALOG_SRV_TARGET_HOST ".%s.", svc, d,
                     port, d) == 1);
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u %s.", svc, d, port, d) == 0);
        CHECK(countf(CATALOG_SRV_TARGET_HOST ".%s. IN A %s", d, "192.0.2.10") == 1);
        CHECK(countf(CATALOG_SRV_TARGET_HOST ".%s. IN AAAA %s", d, "2001:db8::10") == 1);
        break;
    case CATALOG_DNS_TLSA:
        CHECK(countf("%s._tcp.%s. IN SRV 0 5 %u %s.", svc, d, port, d) == 1);
        CHECK(countf("_%u._tcp.%s. IN TLSA 3 1 1 %s", port, d, dom->tlsa_sha256) == 1);
        break;
    }
}

/* clients: whether the zone was written with client ports 5222/5223. */
static void check_records(size_t n, const zone_domain *doms, bool clients)
{
    CHECK(count("$ORIGIN " BASE ".") == 1);
    CHECK(count("$TTL 300") == 1);
    CHECK(count(BASE ". IN SOA ns." BASE ". hostmaster." BASE ". (") == 1);
    CHECK(count(BASE ". IN NS ns." BASE ".") == 1);
    CHECK(count(BASE ". IN A 192.0.2.10") == 1);
    CHECK(count(BASE ". IN AAAA 2001:db8::10") == 1); /* canonical form */
    CHECK(count("ns." BASE ". IN A 192.0.2.10") == 1);
    CHECK(count("ns." BASE ". IN AAAA 2001:db8::10") == 1);
    for (size_t i = 0; i < n; i++) {
        const char *d = doms[i].name;
        CHECK(countf("%s. IN A %s", d, "192.0.2.10") == 1);
        CHECK(countf("%s. IN AAAA %s", d, "2001:db8::10") == 1);
        check_service(&doms[i], "_xmpp-server", "_xmpps-server", 5269, 5270);
        if (clients) {
            check_service(&doms[i], "_xmpp-client", "_xmpps-client", 5222, 5223);
        } else {
            char c[300];
            snprintf(c, sizeof c, "_xmpp-client._tcp.%s. ", d);
            CHECK(count_prefix(c) == 0);
        }
    }
}

static void check_errors(const char *path, const zone_domain *doms, size_t n,
                         unsigned long serial_before)
{
    char err[256] = "";
    const char *bad[] = {"192.0.2.300"};
    CHECK(zonegen_write(path, BASE, bad, 1, doms, n, &(zone_ports){5269, 5270, 0, 0}, err, sizeof err) < 0);
    CHECK(strstr(err, "192.0.2.300") != NULL);
    zone_domain outside = {"x.other.example", doms[0].profile, NULL};
    err[0] = '\0';
    CHECK(zonegen_write(path, BASE, addrs, 2, &outside, 1, &(zone_ports){5269, 5270, 0, 0}, err,
                        sizeof err) < 0);
    CHECK(strstr(err, "x.other.example") != NULL);
    /* "xtest.example" ends like BASE but is not under it. */
    zone_domain lookalike = {"x" BASE, doms[0].profile, NULL};
    CHECK(zonegen_write(path, BASE, addrs, 2, &lookalike, 1, &(zone_ports){5269, 5270, 0, 0}, err,
                        sizeof err) < 0);
    CHECK(zonegen_write(path, BASE, addrs, 2, doms, n, &(zone_ports){0, 5270, 0, 0}, err, sizeof err) < 0);
    CHECK(zonegen_write(path, BASE, addrs, 0, doms, n, &(zone_ports){5269, 5270, 0, 0}, err,
                        sizeof err) < 0);
    CHECK(zonegen_write("/nonexistent-dir/z.zone", BASE, addrs, 2, doms, n, &(zone_ports){5269, 5270, 0, 0}, err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent-dir/z.zone") != NULL);
    unsigned long serial;
    CHECK(load_zone(path, &serial) == 0); /* failed writes left it alone */
    CHECK(serial == serial_before);
}

/* First executable among candidates, or NULL. */
static const char *find_tool(const char *const *candidates)
{
    for (; *candidates; candidates++)
        if (access(*candidates, X_OK) == 0)
            return *candidates;
    return NULL;
}

/* Knot has no standalone checker in Debian 12; `knotc zone-check` works
 * without the daemon given a config naming the zone file. */
static int knot_check(const char *knotc, const char *dir, const char *path)
{
    char conf[512];
    snprintf(conf, sizeof conf, "%s/knot.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f,
            "server:\n    rundir: \"%s\"\n"
            "database:\n    storage: \"%s\"\n"
            "zone:\n  - domain: " BASE "\n    file: \"%s\"\n",
            dir, dir, path);
    fclose(f);
    char *argv[] = {(char *)knotc, "-c", conf, "zone-check", BASE, NULL};
    int rc = run_tool(argv);
    unlink(conf);
    return rc;
}

static void check_with_tools(const char *dir, const char *path)
{
    const char *const named_at[] = {"/usr/sbin/named-checkzone",
                                    "/usr/bin/named-checkzone", NULL};
    const char *const knotc_at[] = {"/usr/sbin/knotc", "/usr/bin/knotc", NULL};
    const char *named = find_tool(named_at), *knotc = find_tool(knotc_at);
    if (named) {
        char *argv[] = {(char *)named, BASE, (char *)path, NULL};
        CHECK(run_tool(argv) == 0);
    } else {
        printf("skip: named-checkzone not installed (bind9-utils)\n");
    }
    if (knotc)
        CHECK(knot_check(knotc, dir, path) == 0);
    else
        printf("skip: knotc not installed (knot)\n");
}

int main(void)
{
    char dir[] = "/tmp/test_zone.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    size_t n = catalog_count() + 1;
    zone_domain *doms = calloc(n, sizeof *doms);
    char (*names)[300] = calloc(n, sizeof *names);
    if (!doms || !names)
        return 1;
    for (size_t i = 0; i < n; i++) {
        doms[i].profile = i < catalog_count() ? catalog_at(i) : &no_service;
        snprintf(names[i], sizeof names[i], "%s.%s", doms[i].profile->label,
                 BASE);
        doms[i].name = names[i];
        if (doms[i].profile->dns == CATALOG_DNS_TLSA)
            doms[i].tlsa_sha256 = TLSA_TEST;
    }
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/%s.zone", dir, BASE);
    CHECK(zonegen_write(path, BASE, addrs, 2, doms, n, &(zone_ports){5269, 5270, 0, 0}, err,
                        sizeof err) == 0);
    unsigned long serial1 = 0, serial2 = 0;
    CHECK(load_zone(path, &serial1) == 0);
    CHECK(serial1 == today_serial());
    check_records(n, doms, false);
    CHECK(zonegen_write(path, BASE, addrs, 2, doms, n,
                        &(zone_ports){5269, 5270, 5222, 5223}, err, sizeof err) == 0);
    CHECK(load_zone(path, &serial1) == 0);
    check_records(n, doms, true);
    /* issue 11: dane-ee pins its key for the client port too */
    const catalog_profile *dane = catalog_find("dane-ee");
    CHECK(dane && dane->dns == CATALOG_DNS_TLSA);
    CHECK(countf("_5269._tcp.dane-ee." BASE ". IN TLSA 3 1 1 %s", TLSA_TEST) == 1);
    CHECK(countf("_5222._tcp.dane-ee." BASE ". IN TLSA 3 1 1 %s", TLSA_TEST) == 1);
    /* srv-target-name: the target host has addresses of its own */
    CHECK(catalog_find("srv-target-name") &&
          catalog_find("srv-target-name")->dns == CATALOG_DNS_SRV_TARGET);
    CHECK(count("_xmpp-client._tcp.srv-target-name." BASE ". IN SRV 0 5 5222 xmpp.srv-target-name." BASE ".") == 1);
    CHECK(count("xmpp.srv-target-name." BASE ". IN A 192.0.2.10") == 1);
    check_with_tools(dir, path);

    /* Rewriting the same day must still raise the serial. */
    CHECK(zonegen_write(path, BASE, addrs, 2, doms, n, &(zone_ports){5269, 5270, 0, 0}, err,
                        sizeof err) == 0);
    CHECK(load_zone(path, &serial2) == 0);
    CHECK(serial2 == serial1 + 1);
    CHECK(zonegen_write(path, BASE, addrs, 2, doms, n, &(zone_ports){5269, 5270, 5222, 70000},
                        err, sizeof err) < 0);
    check_errors(path, doms, n, serial2);

    free_lines();
    unlink(path);
    rmdir(dir);
    free(doms);
    free(names);
    return check_done();
}
