/* test_control.c -- the control socket's request line (control_parse_request):
 * framing across reads, the "probe TARGET" form and every refusal. */
#include <string.h>

#include "check.h"
#include "control.h"

static control_request req;

static control_request_kind parse(const char *text)
{
    control_parse_request(text, strlen(text), &req);
    return req.kind;
}

static void test_probe(void)
{
    CHECK(parse("probe prosody.example\n") == CONTROL_REQUEST_PROBE);
    CHECK_STR(req.target, "prosody.example");
    CHECK(parse("probe prosody.example\r\n") == CONTROL_REQUEST_PROBE);
    CHECK_STR(req.target, "prosody.example"); /* \r dropped */
    /* only the first line counts */
    CHECK(parse("probe a.example\nprobe b.example\n") == CONTROL_REQUEST_PROBE);
    CHECK_STR(req.target, "a.example");
    /* an empty target is the probe's to refuse, not the parser's */
    CHECK(parse("probe \n") == CONTROL_REQUEST_PROBE);
    CHECK_STR(req.target, "");
}

static void test_incomplete(void)
{
    CHECK(parse("") == CONTROL_REQUEST_INCOMPLETE);
    CHECK(parse("probe prosody.exa") == CONTROL_REQUEST_INCOMPLETE);
    CHECK(parse("probe\r") == CONTROL_REQUEST_INCOMPLETE);
    char line[CONTROL_LINE_MAX + 2];
    memset(line, 'a', sizeof line);
    control_parse_request(line, CONTROL_LINE_MAX - 1, &req);
    CHECK(req.kind == CONTROL_REQUEST_INCOMPLETE);
    control_parse_request(line, CONTROL_LINE_MAX, &req);
    CHECK(req.kind == CONTROL_REQUEST_BAD);
    CHECK_STR(req.error, "request line too long");
    /* a newline beyond the limit does not make it acceptable */
    memcpy(line, "probe ", 6);
    line[CONTROL_LINE_MAX + 1] = '\n';
    control_parse_request(line, sizeof line, &req);
    CHECK(req.kind == CONTROL_REQUEST_BAD);
    CHECK_STR(req.error, "request line too long");
    /* the longest accepted line: CONTROL_LINE_MAX - 1 bytes and '\n' */
    line[CONTROL_LINE_MAX - 1] = '\n';
    control_parse_request(line, CONTROL_LINE_MAX, &req);
    CHECK(req.kind == CONTROL_REQUEST_PROBE);
    CHECK(strlen(req.target) == CONTROL_LINE_MAX - 1 - 6);
}

static void test_refused(void)
{
    CHECK(parse("status\n") == CONTROL_REQUEST_BAD);
    CHECK_STR(req.error, "unknown request; expected 'probe TARGET'");
    CHECK(parse("PROBE x.example\n") == CONTROL_REQUEST_BAD);
    CHECK(parse("probe\n") == CONTROL_REQUEST_BAD);
    CHECK(parse("\n") == CONTROL_REQUEST_BAD);
    CHECK(parse("probe a.example b.example\n") == CONTROL_REQUEST_BAD);
    CHECK_STR(req.error, "expected 'probe TARGET' with one domain name");
    CHECK(parse("probe a.example\t\n") == CONTROL_REQUEST_BAD);
    CHECK(parse("probe  a.example\n") == CONTROL_REQUEST_BAD);
    CHECK(req.target[0] == '\0');
    static const char nul[] = "probe a\0.example\n";
    control_parse_request(nul, sizeof nul - 1, &req);
    CHECK(req.kind == CONTROL_REQUEST_BAD);
    CHECK_STR(req.error, "NUL byte in the request");
    /* a NUL after the line is not part of the request */
    static const char after[] = "probe a.example\n\0";
    control_parse_request(after, sizeof after - 1, &req);
    CHECK(req.kind == CONTROL_REQUEST_PROBE);
}

int main(void)
{
    test_probe();
    test_incomplete();
    test_refused();
    return check_done();
}
