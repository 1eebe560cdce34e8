/* cmd_check.c -- `xmpp-responder check -c FILE`: validate a config file and
 * list every problem, so an operator can fix them all before `run`. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cmd.h"
#include "certcheck.h"
#include "config.h"
#include "domains.h"

static void check_usage(FILE *out)
{
    fputs("usage: xmpp-responder check -c FILE\n"
          "\n"
          "Validate a configuration file: syntax, unknown settings, types,\n"
          "values, profiles, duplicate domains and listeners, trust files.\n"
          "Every problem is printed as FILE:LINE: message.\n"
          "Then load every domain's certificate and key and compare each\n"
          "certificate with its catalog row (source, issuer, EKUs, names,\n"
          "validity, key, chain): a difference is printed as a warning (the\n"
          "daemon runs, but that domain's verdicts claim nothing).\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  the file to check\n"
          "  -h, --help         this text\n"
          "\n"
          "exit status: 0 valid (warnings or not), 1 problems found, 2 bad usage\n",
          out);
}

/* A usage error: say what, show the usage, exit code 2. */
static int check_bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "xmpp-responder check: %s%s%s\n", what, arg ? " " : "",
            arg ? arg : "");
    check_usage(stderr);
    return 2;
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL;
    optind = 0; /* GNU: full reinitialisation, argv is not main's */
    opterr = 0; /* our own messages, in our own words */
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 'h':
            check_usage(stdout);
            return 0;
        default:
            if (optopt == 'c')
                return check_bad_usage("option requires a file:", "-c/--config");
            char opt[3];
            return check_bad_usage("unknown option",
                                   cmd_bad_option(optopt, argv, optind, opt));
        }
    }
    if (optind < argc)
        return check_bad_usage("unexpected argument", argv[optind]);
    if (!file)
        return check_bad_usage("missing -c FILE", NULL);

    rs_config cfg;
    int problems = config_load(file, &cfg, stderr);
    if (problems > 0) {
        fprintf(stderr, "%s: %d problem%s\n", file, problems,
                problems == 1 ? "" : "s");
        return 1;
    }
    rs_domains *ds = domains_load(&cfg);
    if (ds && ds->lazy && domains_load_all(ds) < 0) { /* check reads them all */
        domains_unref(ds);
        ds = NULL;
    }
    if (!ds) {
        fprintf(stderr, "%s: the certificates or keys above cannot be loaded\n", file);
        config_free(&cfg);
        return 1;
    }
    size_t differ = 0;
    for (size_t i = 0; i < ds->n; i++) {
        certcheck_result r;
        certcheck_domain(&ds->items[i], cfg.base_domain, cfg.public_instance,
                         (int64_t)time(NULL), &r);
        for (size_t m = 0; m < r.n_mismatches; m++)
            printf("%s: warning: %s (%s): %s\n", file, ds->items[i].name,
                   ds->items[i].profile->label, r.mismatches[m]);
        differ += r.n_mismatches > 0;
    }
    printf("%s: ok (%zu domain%s, %zu listener%s; %zu certificate%s differ%s from "
           "%s row)\n", file, cfg.n_domains, cfg.n_domains == 1 ? "" : "s",
           cfg.n_listen, cfg.n_listen == 1 ? "" : "s", differ, differ == 1 ? "" : "s",
           differ == 1 ? "s" : "", differ == 1 ? "its" : "their");
    domains_unref(ds);
    config_free(&cfg);
    return 0;
}
