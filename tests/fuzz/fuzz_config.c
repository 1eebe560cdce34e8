/* fuzz_config.c -- libFuzzer target for the config loader
 * (config_load_string: libconfig syntax, then the strict validation).
 *
 * Any text is either refused with at least one "NAME:LINE: message" (or
 * "NAME: out of memory ...") line and a zeroed config, or accepted into a
 * config whose required parts are present (base domain, state dir, each
 * domain with a name and a catalog row). Relative paths resolve against an
 * empty directory made once. Inputs with "@include" are skipped: they make
 * libconfig read arbitrary files of the fuzzing machine (a config file is
 * written by the operator, not by a peer). Aborts on a broken contract.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.conf"

static char base_dir[64];

/* Every message is one line that starts with "fuzz.conf:" and a line
 * number (or is the out-of-memory line): a quoted value with a newline in it
 * (an unknown profile "no-\ntls") is shown escaped, never split. */
static void check_messages(const char *msgs, size_t len)
{
    if (len == 0 || msgs[len - 1] != '\n')
        abort();
    for (const char *line = msgs; line < msgs + len;) {
        if (strncmp(line, NAME ":", sizeof NAME) != 0)
            abort();
        const char *q = line + sizeof NAME;
        if (!(*q >= '1' && *q <= '9') && strncmp(q, " out of memory", 14) != 0)
            abort();
        line = strchr(line, '\n') + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base_dir[0] == '\0') {
        strcpy(base_dir, "/tmp/fuzz-config-XXXXXX");
        if (!mkdtemp(base_dir))
            abort();
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strstr(text, "@include")) {
        free(text);
        return 0;
    }
    char *msgs = NULL;
    size_t msgs_len = 0;
    FILE *errs = open_memstream(&msgs, &msgs_len);
    if (!errs)
        abort();
    rs_config cfg;
    int problems = config_load_string(text, NAME, base_dir, &cfg, errs);
    fclose(errs);
    if (problems < 0)
        abort();
    if (problems > 0) {
        check_messages(msgs, msgs_len);
        if (cfg.base_domain || cfg.domains || cfg.listen)
            abort(); /* refused: nothing is left allocated in it */
    } else {
        if (msgs_len != 0 || !cfg.base_domain || !cfg.state_dir || cfg.state_dir[0] != '/')
            abort();
        for (size_t i = 0; i < cfg.n_domains; i++)
            if (!cfg.domains[i].name || !cfg.domains[i].profile ||
                !cfg.domains[i].cert_file || cfg.domains[i].cert_file[0] != '/')
                abort();
        for (size_t i = 0; i < cfg.n_listen; i++)
            if (!cfg.listen[i].address || cfg.listen[i].port > 65535)
                abort();
        config_free(&cfg);
    }
    free(msgs);
    free(text);
    return 0;
}
