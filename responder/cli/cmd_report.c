/* cmd_report.c -- `xmpp-responder report DOMAIN`: the matrix of one remote
 * server, as the page /report/DOMAIN shows it, read from STATE/report.db
 * (read-only: it works while the daemon runs and writes). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certcheck.h"
#include "cmd.h"
#include "config.h"
#include "domains.h"
#include "json.h"
#include "log.h"
#include "report.h"

#define EXIT_UNKNOWN 3 /* nothing recorded about the domain */

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder report DOMAIN [-c FILE] [--json] [--since DURATION]\n"
            "\n"
            "Print what the remote server DOMAIN did with every test domain and\n"
            "what that means (the matrix of the page /report/DOMAIN), from the\n"
            "daemon's database STATE/report.db. Safe while the daemon runs.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE  the daemon's config (default ./%s/responder.conf)\n"
            "  --json             the matrix as JSON (as /api/report/DOMAIN)\n"
            "  --since DURATION   only outcomes from the last DURATION: a number\n"
            "                     with s, m, h, d or w (seconds if none), e.g. 7d\n"
            "  -h, --help         this text\n"
            "\n"
            "exit status: 0 printed, 1 the database cannot be read, 2 bad usage\n"
            "or config, %d nothing recorded about DOMAIN (in that time)\n",
            RS_DEFAULT_STATE, EXIT_UNKNOWN);
}

static int bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "xmpp-responder report: %s%s%s\n", what, arg ? " " : "",
            arg ? arg : "");
    report_usage(stderr);
    return 2;
}

/* "90", "45s", "30m", "12h", "7d", "2w" -> seconds; false when it is not
 * one of those or beyond a century. */
static bool parse_duration(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)s[0]))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    int64_t unit = 1;
    if (*end) {
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return false;
        }
        if (end[1])
            return false;
    }
    if (errno || v > 100ull * 366 * 86400 / (unsigned long long)unit)
        return false;
    *out = (int64_t)v * unit;
    return true;
}

/* The config's certificates against their rows, as the daemon judges them
 * (a domain that presents something else has no verdict). Best effort: a
 * reader that may not read the keys gets the verdicts without it. */
static void mark_certificates(rs_config *cfg)
{
    log_set_level(RS_LOG_ERROR); /* the daemon's log says it; we print a matrix */
    rs_domains *ds = domains_load(cfg);
    if (ds && ds->lazy)
        domains_load_all(ds); /* one that cannot load is judged as such */
    if (!ds) {
        fprintf(stderr, "xmpp-responder report: warning: the certificates cannot "
                "be loaded; verdicts do not account for certificates that differ "
                "from their row\n");
        return;
    }
    certcheck_mark_config(cfg, ds, (int64_t)time(NULL));
    domains_unref(ds);
}

/* Print the matrix of remote; the exit status. */
static int print_report(rs_config *cfg, const char *remote, bool json,
                        int64_t since)
{
    report_limits rl = {.max_peers = 1, .max_claims = 1,
                        .history = cfg->limits.report_history};
    char err[600];
    rs_report *r = report_open_reader(cfg->state_dir, &rl, remote, since, err,
                                      sizeof err);
    if (!r) {
        fprintf(stderr, "xmpp-responder report: %s\n", err);
        return 1;
    }
    if (!report_has_peer(r, remote)) {
        fprintf(stderr, "xmpp-responder report: nothing recorded about %s in "
                "%s/report.db%s\n", remote, cfg->state_dir,
                since ? " in that time" : "");
        report_free(r);
        return EXIT_UNKNOWN;
    }
    mark_certificates(cfg);
    int rc = 0;
    if (json) {
        rs_json j;
        json_init(&j);
        report_matrix_json(&j, r, remote, cfg);
        if (j.failed)
            rc = 1;
        else
            printf("%s\n", j.text);
        json_free(&j);
    } else {
        char *text = report_matrix_text(r, remote, cfg);
        if (text) {
            fputs(text, stdout);
            report_presented_print(stdout, r, remote);
        } else {
            rc = 1;
        }
        free(text);
    }
    if (rc)
        fprintf(stderr, "xmpp-responder report: out of memory\n");
    report_free(r);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    enum { OPT_JSON = 1000, OPT_SINCE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, OPT_JSON},
        {"since", required_argument, NULL, OPT_SINCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool json = false;
    int64_t since = 0;
    optind = 0; /* GNU: full reinitialisation, argv is not main's */
    opterr = 0;
    int c;
    /* not "+": DOMAIN may come before the options */
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_SINCE: {
            int64_t d;
            if (!parse_duration(optarg, &d))
                return bad_usage("--since wants a duration such as 90s, 30m, "
                                 "12h, 7d or 2w, not", optarg);
            since = (int64_t)time(NULL) - d;
            break;
        }
        case 'h':
            report_usage(stdout);
            return 0;
        default:
            if (optopt == 'c')
                return bad_usage("option requires a file:", "-c/--config");
            if (optopt == OPT_SINCE)
                return bad_usage("option requires a duration:", "--since");
            char opt[3];
            return bad_usage("unknown option", cmd_bad_option(optopt, argv, optind, opt));
        }
    }
    if (optind >= argc)
        return bad_usage("no DOMAIN given", NULL);
    if (optind + 1 < argc)
        return bad_usage("unexpected argument", argv[optind + 1]);
    char remote[256];
    snprintf(remote, sizeof remote, "%s", argv[optind]);
    for (char *p = remote; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *problem = strlen(argv[optind]) >= sizeof remote
                              ? "it is too long"
                              : config_dns_name_problem(remote);
    if (problem) {
        fprintf(stderr, "xmpp-responder report: '%s' is not a domain name: %s\n",
                argv[optind], problem);
        return 2;
    }
    char default_path[512];
    config = cmd_config_path("report", config, default_path, sizeof default_path);
    if (!config)
        return 2;
    rs_config cfg;
    if (config_load(config, &cfg, stderr) != 0)
        return 2;
    int rc = print_report(&cfg, remote, json, since);
    config_free(&cfg);
    return rc;
}
