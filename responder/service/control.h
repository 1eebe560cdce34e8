/* control.h -- the local control socket (a Unix stream socket, mode 0600, in
 * the state dir) through which `xmpp-responder probe` asks the running
 * daemon to probe a target and reads progress and results.
 *
 * Protocol: the client sends one line "probe TARGET\n" (at most 1 KiB,
 * within 10 s); the daemon answers with tab-separated lines (fields never
 * contain tabs, newlines or other control characters):
 *   start    TARGET TOTAL MAX_SECONDS   the probe runs (normalised target,
 *                                       domains, an upper bound of its time)
 *   progress DONE TOTAL DOMAIN RESULT   after every finished domain
 *   cell     DOMAIN PROFILE RESULT DETAIL SEEN IN OUT
 *            one per test domain at the end: the probe's result
 *            (probe_result_name) and detail, what the report saw of the
 *            target for it (report_seen_name) and the briefs of the latest
 *            inbound and outbound streams (report_outcome_brief, "" = none)
 *   end      finished; the daemon closes
 *   error    TEXT   refused (rate limit, bad target, ...) or aborted, then
 *            close
 * Clients should ignore lines of other types. At most 8 clients at once.
 */
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
