/* main.c -- xmpp-responder's command line: dispatch to a subcommand, and
 * what the subcommands share. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

const char *cmd_config_path(const char *cmd, const char *given, char *buf,
                            size_t n)
{
    if (given)
        return given;
    snprintf(buf, n, "%s/responder.conf", RS_DEFAULT_STATE);
    struct stat st;
    if (stat(buf, &st) == 0)
        return buf;
    fprintf(stderr, "xmpp-responder %s: no -c FILE given and ./%s: %s; give the "
            "daemon's config with -c\n", cmd, buf, strerror(errno));
    return NULL;
}

const char *cmd_bad_option(int opt, char **argv, int index, char buf[3])
{
    if (!opt || opt > 127)
        return argv[index - 1];
    buf[0] = '-';
    buf[1] = (char)opt;
    buf[2] = '\0';
    return buf;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder COMMAND [OPTIONS]\n"
            "\n"
            "Hosts many virtual XMPP test domains, each with a deliberately\n"
            "broken certificate or protocol profile, and answers pings and\n"
            "echo messages on all of them.\n"
            "\n"
            "commands:\n"
            "  init     write certificates, a DNS zone and a config for a base domain\n"
            "  run      run the daemon in the foreground\n"
            "  check    validate a config file\n"
            "  catalog  print the test profiles (text, markdown or tsv)\n"
            "  probe    ask the running daemon to ping a server from every test\n"
            "           domain and judge what it accepted against a policy\n"
            "  acme     plan and install a public instance's ACME certificates\n"
            "           (used by deploy/acme-renew)\n"
            "  report   print a remote server's matrix from the report database\n"
            "\n"
            "Run 'xmpp-responder COMMAND --help' for a command's options.\n"
            "With no command, 'run' is meant: 'xmpp-responder' alone runs on\n"
            "the embedded default (127.0.0.1, state in ./%s).\n",
            RS_DEFAULT_STATE);
}

int main(int argc, char **argv)
{
    /* Line by line even into a pipe or file: `run` (and a first run that
     * initialises the state dir) prints before a daemon that may run for
     * weeks, and a full buffer would hold those lines until it stops. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return cmd_run(1, (char *[]){"run", NULL});
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("xmpp-responder %s\n", RS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "catalog") == 0)
        return cmd_catalog(argc - 1, argv + 1);
    if (strcmp(cmd, "acme") == 0)
        return cmd_acme(argc - 1, argv + 1);
    if (strcmp(cmd, "probe") == 0)
        return cmd_probe(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    fprintf(stderr, "xmpp-responder: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
