/* cmd.h -- the subcommands of xmpp-responder. Each takes the arguments after
 * its own name (argv[0] is the subcommand name) and returns the exit code:
 * 0 success, 1 failure of the task, 2 bad usage. */
#ifndef RS_CMD_H
#define RS_CMD_H

#include <stddef.h>

#define RS_DEFAULT_BASE "responder.example"   /* embedded default base domain */
#define RS_DEFAULT_STATE "responder-state"    /* embedded default state dir */
#define RS_DEFAULT_ADDRESS "127.0.0.1"        /* embedded default listener */
#define RS_DEFAULT_PORT 5269u                 /* s2s STARTTLS port */
#define RS_DEFAULT_DIRECT_PORT 5270u          /* XEP-0368 direct TLS port */
#define RS_DEFAULT_HTTP_PORT 5280u            /* web report */
#define RS_DEFAULT_CLIENT_PORT 5222u          /* c2s STARTTLS port */
#define RS_DEFAULT_CLIENT_DIRECT_PORT 5223u   /* c2s direct TLS port */

/* The config file a command that talks to the daemon's state uses: given
 * (-c), else ./RS_DEFAULT_STATE/responder.conf if it exists (into buf).
 * NULL, after a message naming cmd on stderr, when there is none. */
const char *cmd_config_path(const char *cmd, const char *given, char *buf,
                            size_t n);

/* The option getopt refused, for the message: "-x" (into buf) or the
 * argument as given ("--bogus"). */
const char *cmd_bad_option(int opt, char **argv, int index, char buf[3]);

/* init: certificates, zone and config for a base domain. */
int cmd_init(int argc, char **argv);

/* Library form of init used by `run` on first start with no -c. */
int cmd_init_default(const char *dir);

/* run: the daemon in the foreground. */
int cmd_run(int argc, char **argv);

/* check: validate a config file. */
int cmd_check(int argc, char **argv);

/* catalog: print the profile table (text, markdown, tsv). */
int cmd_catalog(int argc, char **argv);

/* probe: ask the running daemon to probe a target; 0 as the policy says,
 * 1 differences, 2 usage or connection errors. */
int cmd_probe(int argc, char **argv);

/* acme: plan and install a public instance's ACME certificates for
 * deploy/acme-renew. */
int cmd_acme(int argc, char **argv);

/* report: a remote server's matrix from STATE/report.db; 0 printed, 1 the
 * database cannot be read, 2 usage or config, 3 nothing recorded. */
int cmd_report(int argc, char **argv);

#endif
