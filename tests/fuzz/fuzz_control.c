/* fuzz_control.c -- libFuzzer target for the control socket's request line
 * (control_parse_request in control.c), read as the socket reads it: the
 * first input byte picks the size of each read (1..256 bytes), the buffer
 * holds at most CONTROL_LINE_MAX bytes, and parsing stops at the first
 * answer other than "incomplete".
 *
 * Contract: "incomplete" only while there is no newline and room is left;
 * a probe's target has no space, tab, NUL or newline and the line began
 * with "probe "; a refusal has an error text; once decided, more bytes do
 * not change the answer. Aborts on a broken contract.
 */
#include "control.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char line[CONTROL_LINE_MAX];
static control_request req, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    size_t len = 0, used = 0;
    req.kind = CONTROL_REQUEST_INCOMPLETE; /* as before the first read */
    req.target[0] = '\0';
    req.error = NULL;
    while (used < size && req.kind == CONTROL_REQUEST_INCOMPLETE) {
        size_t n = size - used;
        if (n > chunk)
            n = chunk;
        if (n > sizeof line - len)
            n = sizeof line - len;
        memcpy(line + len, data + used, n);
        len += n;
        used += n;
        control_parse_request(line, len, &req);
        bool has_nl = memchr(line, '\n', len) != NULL;
        if (req.kind == CONTROL_REQUEST_INCOMPLETE && (has_nl || len >= sizeof line))
            abort();
        if (req.kind != CONTROL_REQUEST_INCOMPLETE && !has_nl && len < sizeof line)
            abort();
    }
    switch (req.kind) {
    case CONTROL_REQUEST_INCOMPLETE:
        if (req.error)
            abort();
        return 0;
    case CONTROL_REQUEST_PROBE:
        if (req.error || memcmp(line, "probe ", 6) != 0 ||
            strpbrk(req.target, " \t\n") ||
            strlen(req.target) >= sizeof req.target ||
            memcmp(line + 6, req.target, strlen(req.target)) != 0)
            abort();
        break;
    case CONTROL_REQUEST_BAD:
        if (!req.error || !req.error[0] || req.target[0])
            abort();
        break;
    }
    /* Bytes after the decision change nothing. */
    size_t more = size - used;
    if (more > sizeof line - len)
        more = sizeof line - len;
    memcpy(line + len, data + used, more);
    control_parse_request(line, len + more, &again);
    if (again.kind != req.kind || strcmp(again.target, req.target) != 0 ||
        (req.error && strcmp(again.error, req.error) != 0))
        abort();
    return 0;
}
