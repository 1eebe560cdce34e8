/* cmd_acme.c -- `xmpp-responder acme plan|install -c FILE`: the two steps of
 * deploy/acme-renew that need the catalog (acme.h): what to ask uacme for,
 * and making each row's certificate from what uacme got. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "cmd.h"
#include "config.h"

static void acme_usage(FILE *out)
{
    fputs("usage: xmpp-responder acme plan -c FILE [--days N]\n"
          "       xmpp-responder acme install -c FILE\n"
          "\n"
          "The catalog's half of deploy/acme-renew on a public instance\n"
          "(public = true): rows whose source is acme or acme-derived.\n"
          "\n"
          "  plan     print the state directory (state DIR), then, one per line\n"
          "           and tab-separated, what uacme must do:\n"
          "           issue|dns01|revoke NAME KEYTYPE BITS IDENTIFIER\n"
          "           ('#' lines: rows that need nothing)\n"
          "  install  write STATE/acme/live/NAME.pem and .key for each row from\n"
          "           uacme's files in STATE/acme/uacme: the domain's own, another\n"
          "           domain's (wrong-name), the leaf alone (missing-chain), the\n"
          "           newest expired (expired) or revoked (revoked) one; then say\n"
          "           what each domain presents. Reload the daemon afterwards.\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  the daemon's configuration\n"
          "  -d, --days N       plan: renew the revoked row's certificate when\n"
          "                     it expires within N days (default 30)\n"
          "  -h, --help         this text\n"
          "\n"
          "exit status: 0 done, 1 problems (config, or a row that could not be\n"
          "installed), 2 bad usage\n",
          out);
}

static int acme_bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "xmpp-responder acme: %s%s%s\n", what, arg ? " " : "",
            arg ? arg : "");
    acme_usage(stderr);
    return 2;
}

int cmd_acme(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"days", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        acme_usage(stdout);
        return 0;
    }
    if (argc < 2)
        return acme_bad_usage("missing step: plan or install", NULL);
    const char *step = argv[1];
    bool plan = strcmp(step, "plan") == 0;
    if (!plan && strcmp(step, "install") != 0)
        return acme_bad_usage("unknown step", step);
    const char *file = NULL;
    unsigned long days = ACME_RENEW_DAYS;
    optind = 0; /* GNU: full reinitialisation, argv is not main's */
    opterr = 0;
    char **args = argv + 1; /* args[0] is the step, as getopt wants */
    int nargs = argc - 1, c;
    while ((c = getopt_long(nargs, args, "+c:d:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 'd':
            days = strtoul(optarg, &end, 10);
            if (!plan || !*optarg || *end || days > 365)
                return acme_bad_usage(plan ? "--days wants 0..365, not" :
                                      "--days is for plan, not install:", optarg);
            break;
        case 'h':
            acme_usage(stdout);
            return 0;
        default:
            if (optopt == 'c' || optopt == 'd')
                return acme_bad_usage("option requires a value:",
                                      optopt == 'c' ? "-c/--config" : "-d/--days");
            {
                char opt[3];
                return acme_bad_usage("unknown option",
                                      cmd_bad_option(optopt, args, optind, opt));
            }
        }
    }
    if (optind < nargs)
        return acme_bad_usage("unexpected argument", args[optind]);
    if (!file)
        return acme_bad_usage("missing -c FILE", NULL);

    rs_config cfg;
    int problems = config_load(file, &cfg, stderr);
    if (problems > 0) {
        fprintf(stderr, "%s: %d problem%s\n", file, problems, problems == 1 ? "" : "s");
        return 1;
    }
    int rc = 0;
    if (!cfg.public_instance) {
        printf("# %s: not a public instance (public = false): every domain "
               "presents the test CA's certificate; nothing to %s\n", file, step);
    } else if (plan) {
        acme_plan(&cfg, (int64_t)time(NULL), (unsigned)days, stdout);
    } else {
        size_t failed = acme_install(&cfg, (int64_t)time(NULL), stdout);
        if (failed) {
            fprintf(stderr, "%s: %zu domain%s could not be installed (see above)\n",
                    file, failed, failed == 1 ? "" : "s");
            rc = 1;
        }
    }
    config_free(&cfg);
    return rc;
}
