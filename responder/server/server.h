/* server.h -- starting, reloading and stopping the daemon: server.c creates
 * every module and wires them together; the shared state is rs_daemon
 * (daemon.h). */
#ifndef RS_SERVER_H
#define RS_SERVER_H

#include <uv.h>

#include "config.h"
#include "daemon.h"

/* Set up everything from cfg (taken over) and start listening. 0 or -1 with
 * messages on stderr. config_path is kept for SIGHUP (NULL: reload re-reads
 * nothing but the certificates). */
int server_start(rs_daemon *srv, uv_loop_t *loop, rs_config *cfg,
                    const char *config_path);

/* Re-read the config and certificates; established streams keep theirs. */
void server_reload(rs_daemon *srv);

/* Close listeners and every stream; the loop then ends by itself. */
void server_stop(rs_daemon *srv);

/* Release what is left after the loop ended. */
void server_free(rs_daemon *srv);

#endif
