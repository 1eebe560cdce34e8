/* cmd_check.c -- `xmpp-responder check -c FILE`: validate a config file and
 * list every problem, so an operator can fix them all before `run`. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"

static void check_usage(FILE *out)
{
    fputs("usage: xmpp-responder check -c FILE\n"
          "\n"
          "Validate a configuration file: syntax, unknown settings, types,\n"
          "values, profiles, duplicate domains and listeners, trust files.\n"
          "Every problem is printed as FILE:LINE: message.\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  the file to check\n"
          "  -h, --help         this text\n"
          "\n"
          "exit status: 0 valid, 1 problems found, 2 bad usage\n",
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
            if (optopt) {
                char opt[3] = {'-', (char)optopt, '\0'};
                return check_bad_usage("unknown option", opt);
            }
            return check_bad_usage("unknown option", argv[optind - 1]);
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
    printf("%s: ok (%zu domain%s, %zu listener%s)\n", file, cfg.n_domains,
           cfg.n_domains == 1 ? "" : "s", cfg.n_listen,
           cfg.n_listen == 1 ? "" : "s");
    config_free(&cfg);
    return 0;
}
