/* control.h -- the local control socket (STATE/control.sock, a Unix stream
 * socket, mode 0600) through which `xmpp-responder probe` asks the running
 * daemon to probe a target and reads progress and results: one request
 * line, then tab-separated answer lines (the protocol: README.md). */
#ifndef RS_CONTROL_H
#define RS_CONTROL_H

#include "daemon.h"

#define RS_CONTROL_SOCKET "control.sock" /* name inside the state dir */
#define CONTROL_LINE_MAX 1024             /* bytes of the request line */

/* What the bytes a client sent so far ask for. */
typedef enum {
    CONTROL_REQUEST_INCOMPLETE, /* no newline yet: read on */
    CONTROL_REQUEST_PROBE,      /* "probe TARGET": target is set */
    CONTROL_REQUEST_BAD         /* refused: error is the answer's text */
} control_request_kind;

typedef struct control_request {
    control_request_kind kind;
    char target[CONTROL_LINE_MAX + 1]; /* PROBE: TARGET as sent (no space,
                                          tab or NUL; not yet validated) */
    const char *error;                 /* BAD: a static sentence */
} control_request;

/* Parse the first len bytes a client sent (not NUL-terminated; more than
 * CONTROL_LINE_MAX without a newline is refused). Only the first line
 * counts; a trailing "\r" is dropped. Pure: the socket code and the fuzz
 * target both call it. */
void control_parse_request(const char *data, size_t len, control_request *out);

typedef struct rs_control rs_control;

/* Listen on STATE/control.sock (a stale socket file is replaced). NULL after
 * a message on stderr. */
rs_control *control_open(rs_daemon *srv, const char *state_dir);

/* Stop listening, drop clients, remove the socket file. */
void control_close(rs_control *c);

#endif
