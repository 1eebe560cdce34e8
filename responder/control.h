/* control.h -- the local control socket (a Unix stream socket, mode 0600, in
 * the state dir) through which `xmpp-responder probe` asks the running
 * daemon to probe a target and reads progress and results.
 *
 * Protocol: the client sends one line "probe TARGET\n"; the daemon answers
 * with tab-separated lines (fields never contain tabs or newlines):
 *   progress DONE TOTAL DOMAIN RESULT
 *   cell ...      one per test domain, see control.c
 *   end           finished
 *   error TEXT    refused (rate limit, bad target, ...), then close
 */
#ifndef RS_CONTROL_H
#define RS_CONTROL_H

#include "server.h"

#define RS_CONTROL_SOCKET "control.sock" /* name inside the state dir */

typedef struct rs_control rs_control;

/* Listen on STATE/control.sock (a stale socket file is replaced). NULL after
 * a message on stderr. */
rs_control *control_open(rs_server *srv, const char *state_dir);

/* Stop listening, drop clients, remove the socket file. */
void control_close(rs_control *c);

#endif
