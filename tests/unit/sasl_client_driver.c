/* sasl_client_driver.c -- sasl_client on stdin/stdout, one command a line,
 * for test_sasl_client_slixmpp.py (slixmpp's own SASL client against ours):
 *
 *   account USER PASSWORD   -> "ok" (random salt, 4096 iterations)
 *   new MECH DOMAIN|- 0|1   -> "ok" (a new exchange; 1: encrypted stream)
 *   step TEXT|-             -> "challenge TEXT|-", "success TEXT|- USER AUTHZID|-"
 *                              or "failure CONDITION TEXT..." ("-": none)
 */
#include "sasl_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 16384

static const char *or_dash(const char *s) { return s && s[0] ? s : "-"; }

int main(void)
{
    static char line[LINE_MAX_BYTES];
    static sasl_client_account account;
    rs_sasl_client *s = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *cmd = strtok(line, " "), *a1 = strtok(NULL, " "), *a2 = strtok(NULL, " "),
             *a3 = strtok(NULL, " ");
        if (!cmd)
            continue;
        if (strcmp(cmd, "account") == 0 && a2) {
            puts(sasl_client_account_init(&account, a1, a2) == 0 ? "ok" : "error");
        } else if (strcmp(cmd, "new") == 0 && a3) {
            sasl_client_mech m;
            sasl_client_free(s);
            s = NULL;
            if (sasl_client_mech_parse(a1, &m) == 0)
                s = sasl_client_new(&account, m, strcmp(a2, "-") ? a2 : NULL, a3[0] == '1');
            puts(s ? "ok" : "error");
        } else if (strcmp(cmd, "step") == 0 && a1 && s) {
            char *out;
            const char *cond, *text;
            sasl_client_step_result r =
                sasl_client_step(s, strcmp(a1, "-") ? a1 : NULL, &out, &cond, &text);
            if (r == SASL_CLIENT_CHALLENGE)
                printf("challenge %s\n", or_dash(out));
            else if (r == SASL_CLIENT_SUCCESS)
                printf("success %s %s %s\n", or_dash(out), sasl_client_username(s),
                       or_dash(sasl_client_authzid(s)));
            else
                printf("failure %s %s\n", cond, text);
            free(out);
        } else {
            puts("error");
        }
    }
    sasl_client_free(s);
    return 0;
}
