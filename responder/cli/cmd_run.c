/* cmd_run.c -- `xmpp-responder run`: the daemon in the foreground. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <uv.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder run [-c FILE] [--debug]\n"
            "\n"
            "Runs the daemon in the foreground, logging one line per event to\n"
            "stderr. SIGTERM/SIGINT stop it; SIGHUP reloads the config and the\n"
            "certificates without dropping established streams.\n"
            "\n"
            "  -c, --config FILE  config written by 'xmpp-responder init'\n"
            "                     (default: the embedded one: state in ./%s,\n"
            "                     base domain %s, listening on %s port %u,\n"
            "                     initialised on first run)\n"
            "  --debug            also log every stanza sent and answered\n"
            "  -h, --help         this text\n",
            RS_DEFAULT_STATE, RS_DEFAULT_BASE, RS_DEFAULT_ADDRESS,
            RS_DEFAULT_PORT);
}

/* The embedded default: ./responder-state, created on first run. */
static int default_config_path(char *out, size_t n)
{
    snprintf(out, n, "%s/responder.conf", RS_DEFAULT_STATE);
    struct stat st;
    if (stat(out, &st) == 0)
        return 0;
    if (errno != ENOENT) {
        fprintf(stderr, "xmpp-responder: %s: %s\n", out, strerror(errno));
        return -1;
    }
    return cmd_init_default(RS_DEFAULT_STATE) == 0 ? 0 : -1;
}

int cmd_run(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
                   i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--debug") == 0) {
            log_set_level(RS_LOG_DEBUG);
        } else {
            fprintf(stderr, "xmpp-responder run: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char path[512];
    if (!config) {
        if (default_config_path(path, sizeof path) < 0)
            return 1;
        config = path;
    }
    rs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return 1;
    if (config_load(config, cfg, stderr) != 0) {
        free(cfg);
        return 1;
    }
    /* a peer closing first must not kill us with SIGPIPE; writes report EPIPE */
    signal(SIGPIPE, SIG_IGN);
    /* nor a file size limit (LimitFSIZE=): a write beyond it fails with
     * EFBIG, which the report's database handles like a full disk */
    signal(SIGXFSZ, SIG_IGN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rs_daemon srv;
    int rc = server_start(&srv, &loop, cfg, config);
    if (rc == 0) {
        log_msg(RS_LOG_INFO, "xmpp-responder %s running (config %s)", RS_VERSION,
               config);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        server_stop(&srv);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    server_free(&srv);
    uv_loop_close(&loop);
    xmlCleanupParser();
    log_msg(RS_LOG_INFO, "stopped");
    return rc == 0 ? 0 : 1;
}
