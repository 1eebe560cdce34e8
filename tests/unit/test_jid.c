/* test_jid.c -- JID parsing, validation, normalisation and formatting. */
#include "check.h"
#include "jid.h"

#include <stdlib.h>
#include <string.h>

static void check_parts(const char *s, const char *local, const char *domain,
                        const char *resource)
{
    jid j;
    bool ok = jid_parse(s, &j);
    if (!ok)
        fprintf(stderr, "  refused: \"%s\"\n", s);
    CHECK(ok);
    CHECK_STR(j.local, local);
    CHECK_STR(j.domain, domain);
    CHECK_STR(j.resource, resource);
}

static void check_bad(const char *s)
{
    jid j;
    bool ok = jid_parse(s, &j);
    if (ok)
        fprintf(stderr, "  accepted: \"%s\"\n", s);
    CHECK(!ok);
    CHECK(j.domain[0] == '\0'); /* nothing half-filled on failure */
}

static void test_valid(void)
{
    check_parts("example.com", "", "example.com", "");
    check_parts("echo@valid.responder.example", "echo", "valid.responder.example", "");
    check_parts("alice@op.example/laptop", "alice", "op.example", "laptop");
    check_parts("op.example/res", "", "op.example", "res");
    /* The resource keeps '@', '/' and spaces verbatim (OpaqueString). */
    check_parts("a@b.example/c@d/e f", "a", "b.example", "c@d/e f");
    /* Domain: ASCII lower-cased, one trailing dot dropped; local untouched. */
    check_parts("Alice@OP.Example./Res", "Alice", "op.example", "Res");
    check_parts("[::1]", "", "[::1]", "");
    check_parts("127.0.0.1", "", "127.0.0.1", "");
    check_parts("_xmpp.example", "", "_xmpp.example", "");
    /* UTF-8 is fine anywhere (no stringprep: bytes kept as given). */
    check_parts("j\xc3\xbcrgen@b\xc3\xbc" "cher.example/\xe2\x98\xba", "j\xc3\xbcrgen",
                "b\xc3\xbc" "cher.example", "\xe2\x98\xba");
}

static void test_invalid(void)
{
    check_bad("");
    check_bad("@example.com");          /* empty local after '@' */
    check_bad("example.com/");          /* empty resource after '/' */
    check_bad("a@example.com/");
    check_bad("a@");                    /* empty domain */
    check_bad("/res");
    check_bad(".");                     /* only the trailing dot */
    check_bad("example.com..");         /* only one trailing dot is dropped */
    check_bad(".example.com");
    check_bad("a..example.com");
    check_bad("a@b@example.com");       /* '@' in the domain */
    check_bad("a b@example.com");       /* space in local */
    check_bad("ab@exa mple.com");       /* space in domain */
    check_bad("a\tb@example.com");
    check_bad("ab@example.com/x\ny");   /* control char in resource */
    check_bad("ab@example.com/x\x7fy");
    check_bad("a<b@example.com");
    check_bad("a>b@example.com");
    check_bad("a\"b@example.com");
    check_bad("a&b@example.com");
    check_bad("a'b@example.com");
    check_bad("a:b@example.com");
    check_bad("ab@exa<mple.com");
    check_bad("ab@example.com\xff");    /* not UTF-8 */
    check_bad("\xc3@example.com");      /* truncated UTF-8 */
    jid j;
    CHECK(!jid_parse(NULL, &j));
}

/* A part of n bytes of 'a'. */
static char *rep(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_lengths(void)
{
    char *max = rep(JID_PART_MAX, 'a'), *over = rep(JID_PART_MAX + 1, 'a');
    char buf[4 * JID_PART_MAX];
    jid j;

    snprintf(buf, sizeof buf, "%s@%s/%s", max, max, max);
    CHECK(jid_parse(buf, &j));
    CHECK(strlen(j.local) == JID_PART_MAX && strlen(j.domain) == JID_PART_MAX &&
          strlen(j.resource) == JID_PART_MAX);

    snprintf(buf, sizeof buf, "%s@d.example", over);
    CHECK(!jid_parse(buf, &j));
    snprintf(buf, sizeof buf, "%s", over);
    CHECK(!jid_parse(buf, &j));
    snprintf(buf, sizeof buf, "d.example/%s", over);
    CHECK(!jid_parse(buf, &j));
    /* 1023 bytes plus the trailing dot that is dropped is still fine. */
    snprintf(buf, sizeof buf, "%s.", max);
    CHECK(jid_parse(buf, &j) && strlen(j.domain) == JID_PART_MAX);

    CHECK(jid_domain_valid(max));
    CHECK(!jid_domain_valid(over));
    free(max);
    free(over);
}

static void test_domain_valid(void)
{
    CHECK(jid_domain_valid("responder.example"));
    CHECK(jid_domain_valid("Responder.Example."));
    CHECK(jid_domain_valid("xn--bcher-kva.example"));
    CHECK(!jid_domain_valid(""));
    CHECK(!jid_domain_valid("a@b.example"));
    CHECK(!jid_domain_valid("b.example/r"));
    CHECK(!jid_domain_valid("b .example"));
    CHECK(!jid_domain_valid("b..example"));
    CHECK(!jid_domain_valid(NULL));
}

static void check_roundtrip(const char *in, const char *full, const char *bare)
{
    jid j;
    char buf[3 * JID_PART_MAX + 3];
    CHECK(jid_parse(in, &j));
    CHECK(jid_format(&j, buf, sizeof buf));
    CHECK_STR(buf, full);
    CHECK(jid_format_bare(&j, buf, sizeof buf));
    CHECK_STR(buf, bare);
    /* Formatting then parsing again gives the same parts. */
    jid again;
    CHECK(jid_format(&j, buf, sizeof buf) && jid_parse(buf, &again));
    CHECK(memcmp(&j, &again, sizeof j) == 0);
}

static void test_format(void)
{
    check_roundtrip("a@b.example/c", "a@b.example/c", "a@b.example");
    check_roundtrip("B.Example.", "b.example", "b.example");
    check_roundtrip("b.example/r/s", "b.example/r/s", "b.example");
    check_roundtrip("Echo@X.example", "Echo@x.example", "Echo@x.example");

    jid j;
    CHECK(jid_parse("ab@cd.example/ef", &j));
    char exact[17]; /* "ab@cd.example/ef" is 16 bytes plus the NUL */
    CHECK(jid_format(&j, exact, sizeof exact));
    CHECK_STR(exact, "ab@cd.example/ef");
    CHECK(!jid_format(&j, exact, 16));
    CHECK(jid_format_bare(&j, exact, 14)); /* "ab@cd.example" + NUL */
    CHECK(!jid_format_bare(&j, exact, 13));
    CHECK(!jid_format(&j, NULL, 0));
}

int main(void)
{
    test_valid();
    test_invalid();
    test_lengths();
    test_domain_valid();
    test_format();
    return check_done();
}
