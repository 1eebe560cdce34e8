/* strophe_client.c -- a small libstrophe client for the client matrix.
 *
 * Usage: strophe_client JID PASSWORD CAFILE ECHO_JID SECONDS
 *
 * Connects the way an application built on libstrophe does: no host given,
 * so libstrophe looks up _xmpp-client SRV of the JID's domain; TLS is
 * mandatory and the certificate is checked against CAFILE (the test CA).
 * After login it sends one message to ECHO_JID and waits for the same body
 * back. Prints one line "RESULT\tOUTCOME\tDETAIL" with OUTCOME connected or
 * refused and exits 0 (connected, echo back), 1 (connected, no echo) or
 * 2 (refused) within SECONDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <strophe.h>

/* What one run saw, for the RESULT line. */
typedef struct {
    const char *echo_jid;  /* bare JID of the echo contact */
    char body[64];         /* the unique body sent to it */
    int logged_in;         /* XMPP_CONN_CONNECT was reported */
    int echoed;            /* the body came back from echo_jid */
    int done;              /* stop the event loop */
    char why[300];         /* the first error libstrophe reported */
} run_state;

static run_state state;

/* remember TEXT as the reason unless one is already known */
static void note_why(const char *text)
{
    if (state.why[0] == '\0' && text != NULL)
        snprintf(state.why, sizeof state.why, "%s", text);
}

/* libstrophe's own error lines are the client's words on a failure. */
static void log_handler(void *userdata, xmpp_log_level_t level, const char *area,
                        const char *msg)
{
    (void)userdata;
    if (level >= XMPP_LEVEL_WARN) {
        fprintf(stderr, "%s %s\n", area, msg);
        if (level == XMPP_LEVEL_ERROR) {
            char line[300];
            snprintf(line, sizeof line, "%s: %s", area, msg);
            note_why(line);
        }
    }
}

/* Strict: refuse, but keep the verifier's message as the reason. */
static int certfail_handler(const xmpp_tlscert_t *cert, const char *errormsg)
{
    char line[300];
    (void)cert;
    snprintf(line, sizeof line, "certificate not trusted: %s", errormsg ? errormsg : "?");
    note_why(line);
    return 0;
}

static int message_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    const char *from = xmpp_stanza_get_from(stanza);
    char *body = xmpp_message_get_body(stanza);
    (void)userdata;
    if (from != NULL && strncmp(from, state.echo_jid, strlen(state.echo_jid)) == 0 &&
        body != NULL && strcmp(body, state.body) == 0) {
        state.echoed = 1;
        xmpp_disconnect(conn);
    }
    if (body != NULL)
        xmpp_free(xmpp_conn_get_context(conn), body);
    return 1;
}

static void conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                         xmpp_stream_error_t *stream_error, void *userdata)
{
    xmpp_ctx_t *ctx = userdata;
    if (event == XMPP_CONN_CONNECT) {
        state.logged_in = 1;
        xmpp_handler_add(conn, message_handler, NULL, "message", NULL, NULL);
        xmpp_stanza_t *pres = xmpp_presence_new(ctx);
        xmpp_send(conn, pres);
        xmpp_stanza_release(pres);
        xmpp_stanza_t *msg = xmpp_message_new(ctx, "chat", state.echo_jid, "m1");
        xmpp_message_set_body(msg, state.body);
        xmpp_send(conn, msg);
        xmpp_stanza_release(msg);
        return;
    }
    if (stream_error != NULL) {
        char line[300];
        snprintf(line, sizeof line, "stream error %d%s%s", (int)stream_error->type,
                 stream_error->text ? ": " : "", stream_error->text ? stream_error->text : "");
        note_why(line);
    } else if (error != 0) {
        char line[64];
        snprintf(line, sizeof line, "connection error %d (%s)", error, strerror(error));
        note_why(line);
    }
    state.done = 1;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s JID PASSWORD CAFILE ECHO_JID SECONDS\n", argv[0]);
        return 64;
    }
    state.echo_jid = argv[4];
    snprintf(state.body, sizeof state.body, "strophe-%ld-%d", (long)time(NULL), (int)getpid());
    time_t deadline = time(NULL) + atoi(argv[5]);

    xmpp_initialize();
    xmpp_log_t log = {log_handler, NULL};
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, &log);
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(conn, argv[1]);
    xmpp_conn_set_pass(conn, argv[2]);
    xmpp_conn_set_cafile(conn, argv[3]);
    xmpp_conn_set_certfail_handler(conn, certfail_handler);
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);

    /* no altdomain: the SRV lookup of the JID's domain decides */
    if (xmpp_connect_client(conn, NULL, 0, conn_handler, ctx) != XMPP_EOK) {
        note_why("xmpp_connect_client() returned an error: nothing to connect to");
        state.done = 1;
    }
    while (!state.done && time(NULL) < deadline)
        xmpp_run_once(ctx, 200);
    if (!state.done && state.logged_in)
        note_why("no echo in time");
    else if (!state.done)
        note_why("no session in time");

    int rc;
    if (state.logged_in) {
        printf("RESULT\tconnected\t%s\n", state.echoed ? "login ok, echo received" : state.why);
        rc = state.echoed ? 0 : 1;
    } else {
        printf("RESULT\trefused\t%s\n", state.why[0] ? state.why : "disconnected before login");
        rc = 2;
    }
    fflush(stdout);
    xmpp_conn_release(conn);
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
