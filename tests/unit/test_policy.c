/* test_policy.c -- probe policies (responder/cli/policy.c): the built-in
 * policies' verdicts over the whole catalog, policy files and their errors
 * with line numbers, and the sentences for differences. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "policy.h"

/* Parse text, return the number of problems; the messages in *msgs
 * (malloc'd, "" when none). */
static int parse(const char *text, rs_policy *out, char **msgs)
{
    size_t len = 0;
    FILE *errs = open_memstream(msgs, &len);
    int n = policy_parse(text, strlen(text), "my.policy", out, errs);
    fclose(errs);
    return n;
}

static bool has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void test_builtin_load(void)
{
    static const struct {
        const char *spec;
        policy_kind kind;
    } cases[] = {{"strict", POLICY_STRICT},
                 {"pedantic", POLICY_PEDANTIC},
                 {"lenient", POLICY_LENIENT}};
    for (size_t i = 0; i < 3; i++) {
        rs_policy p;
        CHECK(policy_load(cases[i].spec, &p, stderr) == 0);
        CHECK(p.kind == cases[i].kind);
        CHECK_STR(p.name, cases[i].spec);
        CHECK(p.n_rules == 0);
        policy_free(&p);
        CHECK(p.name == NULL);
    }
    char *msgs = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&msgs, &len);
    rs_policy p;
    CHECK(policy_load("/nonexistent/dir/my.policy", &p, errs) > 0);
    fclose(errs);
    CHECK(has(msgs, "/nonexistent/dir/my.policy: No such file or directory"));
    CHECK(p.name == NULL && p.rules == NULL);
    free(msgs);
}

/* Every built-in policy over every catalog row, both ways. */
static void test_builtin_verdicts(void)
{
    rs_policy strict, pedantic, lenient;
    CHECK(policy_load("strict", &strict, stderr) == 0);
    CHECK(policy_load("pedantic", &pedantic, stderr) == 0);
    CHECK(policy_load("lenient", &lenient, stderr) == 0);
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        bool strict_accepts = p->strict == CATALOG_EXPECT_ACCEPT;
        policy_verdict v = policy_judge(&strict, p, strict_accepts);
        CHECK(v.checked && v.expect == p->strict && v.mark == POLICY_OK);
        v = policy_judge(&strict, p, !strict_accepts);
        CHECK(v.mark == (p->advisory ? POLICY_ADVISORY : POLICY_DIFF));
        v = policy_judge(&pedantic, p, strict_accepts);
        CHECK(v.mark == POLICY_OK);
        v = policy_judge(&pedantic, p, !strict_accepts);
        CHECK(v.mark == POLICY_DIFF);
        bool lenient_accepts = p->peers[CATALOG_PEER_PROSODY_LENIENT] == CATALOG_EXPECT_ACCEPT;
        v = policy_judge(&lenient, p, lenient_accepts);
        CHECK(v.checked && v.mark == POLICY_OK &&
              v.expect == p->peers[CATALOG_PEER_PROSODY_LENIENT]);
        v = policy_judge(&lenient, p, !lenient_accepts);
        CHECK(v.mark == POLICY_DIFF);
        CHECK(v.line == 0);
    }
    /* a row the catalog does not know is never checked */
    CHECK(policy_judge(&strict, NULL, true).mark == POLICY_UNCHECKED);
    CHECK(policy_judge(&lenient, NULL, false).mark == POLICY_UNCHECKED);
    CHECK(!policy_judge(&pedantic, NULL, false).checked);
    policy_free(&strict);
    policy_free(&pedantic);
    policy_free(&lenient);
}

/* Synthetic probes: the results a real server gave (the catalog's per-peer
 * truth) judged by each policy. This is the acceptance criterion of the
 * probe: Prosody strict passes strict, Prosody lenient fails it, naming the
 * bad certificates it took. */
static size_t diffs(const rs_policy *pol, catalog_peer peer, const char **named,
                    size_t max, size_t *advisories)
{
    size_t n = 0;
    *advisories = 0;
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        policy_verdict v = policy_judge(pol, p, p->peers[peer] == CATALOG_EXPECT_ACCEPT);
        if (v.mark == POLICY_DIFF) {
            if (n < max)
                named[n] = p->label;
            n++;
        }
        *advisories += v.mark == POLICY_ADVISORY;
    }
    return n;
}

static bool listed(const char **names, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], label) == 0)
            return true;
    return false;
}

static void test_synthetic_probes(void)
{
    rs_policy strict, pedantic, lenient;
    CHECK(policy_load("strict", &strict, stderr) == 0);
    CHECK(policy_load("pedantic", &pedantic, stderr) == 0);
    CHECK(policy_load("lenient", &lenient, stderr) == 0);
    const char *names[64];
    size_t adv;
    size_t n = diffs(&strict, CATALOG_PEER_PROSODY_STRICT, names, 64, &adv);
    CHECK(n == 0);
    for (size_t i = 0; i < n && i < 64; i++)
        fprintf(stderr, "prosody-strict differs from strict on %s\n", names[i]);
    CHECK(adv > 0); /* cn-only, revoked, ...: advisories, not failures */

    n = diffs(&strict, CATALOG_PEER_PROSODY_LENIENT, names, 64, &adv);
    CHECK(n >= 3);
    CHECK(listed(names, n, "expired"));
    CHECK(listed(names, n, "self-signed"));
    CHECK(listed(names, n, "wrong-name"));
    CHECK(!listed(names, n, "valid"));
    CHECK(!listed(names, n, "no-tls")); /* lenient Prosody refuses it too */

    CHECK(diffs(&lenient, CATALOG_PEER_PROSODY_LENIENT, names, 64, &adv) == 0);
    CHECK(adv == 0);
    n = diffs(&lenient, CATALOG_PEER_PROSODY_STRICT, names, 64, &adv);
    CHECK(n > 0 && listed(names, n, "expired"));

    /* pedantic counts what strict only advises about */
    size_t adv_strict;
    size_t n_strict = diffs(&strict, CATALOG_PEER_PROSODY_STRICT, names, 64, &adv_strict);
    n = diffs(&pedantic, CATALOG_PEER_PROSODY_STRICT, names, 64, &adv);
    CHECK(n == n_strict + adv_strict);
    CHECK(adv == 0);
    policy_free(&strict);
    policy_free(&pedantic);
    policy_free(&lenient);
}

static void test_file_ok(void)
{
    rs_policy p;
    char *msgs = NULL;
    const char *text = "# my server's policy\n"
                       "\n"
                       "valid accept\n"
                       "  expired\trefuse   # with a comment\r\n"
                       "le-tlsserver accept\n"
                       "#self-signed accept\n"
                       "cn-only refuse";   /* no final newline */
    CHECK(parse(text, &p, &msgs) == 0);
    CHECK_STR(msgs, "");
    free(msgs);
    CHECK(p.kind == POLICY_FILE);
    CHECK_STR(p.name, "my.policy");
    CHECK(p.n_rules == 4);
    if (p.n_rules == 4) {
        CHECK_STR(p.rules[0].profile->label, "valid");
        CHECK(p.rules[0].line == 3 && p.rules[0].expect == CATALOG_EXPECT_ACCEPT);
        CHECK_STR(p.rules[1].profile->label, "expired");
        CHECK(p.rules[1].line == 4 && p.rules[1].expect == CATALOG_EXPECT_REFUSE);
        CHECK(p.rules[3].line == 7);
    }
    /* listed rows are checked against the file, others not at all */
    policy_verdict v = policy_judge(&p, catalog_find("expired"), true);
    CHECK(v.checked && v.mark == POLICY_DIFF && v.line == 4 &&
          v.expect == CATALOG_EXPECT_REFUSE);
    v = policy_judge(&p, catalog_find("expired"), false);
    CHECK(v.mark == POLICY_OK);
    v = policy_judge(&p, catalog_find("valid"), true);
    CHECK(v.mark == POLICY_OK);
    /* the file says refuse where strict says so only as an advisory: a
     * difference, never an advisory */
    v = policy_judge(&p, catalog_find("cn-only"), true);
    CHECK(v.mark == POLICY_DIFF);
    v = policy_judge(&p, catalog_find("self-signed"), true); /* commented out */
    CHECK(!v.checked && v.mark == POLICY_UNCHECKED);
    v = policy_judge(&p, catalog_find("wrong-name"), false);
    CHECK(v.mark == POLICY_UNCHECKED);
    v = policy_judge(&p, NULL, true);
    CHECK(v.mark == POLICY_UNCHECKED);

    char why[1200];
    v = policy_judge(&p, catalog_find("expired"), true);
    policy_explain(&p, catalog_find("expired"), true, &v, why, sizeof why);
    CHECK(has(why, "accepted"));
    CHECK(has(why, "my.policy:4 says refuse"));
    CHECK(has(why, catalog_find("expired")->strict_why));
    v = policy_judge(&p, catalog_find("wrong-name"), true);
    policy_explain(&p, catalog_find("wrong-name"), true, &v, why, sizeof why);
    CHECK(has(why, "not listed"));
    policy_free(&p);
    CHECK(p.rules == NULL && p.n_rules == 0);
}

/* Each bad line is reported with its number; all of them, not just the
 * first; nothing is returned. */
static void test_file_errors(void)
{
    rs_policy p;
    char *msgs = NULL;
    const char *text = "valid accept\n"               /* 1 */
                       "# fine\n"                     /* 2 */
                       "no-such-profile accept\n"     /* 3 */
                       "expired maybe\n"              /* 4 */
                       "valid refuse\n"               /* 5 duplicate of 1 */
                       "self-signed\n"                /* 6 no word */
                       "wrong-name refuse extra\n"    /* 7 extra word */
                       "Valid accept\n"               /* 8 labels are lower case */
                       "cn-only ACCEPT\n";            /* 9 words too */
    int n = parse(text, &p, &msgs);
    CHECK(n == 7);
    CHECK(count_lines(msgs) == 7);
    CHECK(has(msgs, "my.policy:3: unknown profile 'no-such-profile'"));
    CHECK(has(msgs, "my.policy:4: expected 'accept' or 'refuse' after 'expired', got 'maybe'"));
    CHECK(has(msgs, "my.policy:5: 'valid' is already listed on line 1"));
    CHECK(has(msgs, "my.policy:6: expected 'LABEL accept' or 'LABEL refuse'"));
    CHECK(has(msgs, "my.policy:7: unexpected 'extra'"));
    CHECK(has(msgs, "my.policy:8: unknown profile 'Valid'"));
    CHECK(has(msgs, "my.policy:9: expected 'accept' or 'refuse'"));
    CHECK(!has(msgs, "my.policy:1:") && !has(msgs, "my.policy:2:"));
    CHECK(p.rules == NULL && p.name == NULL && p.n_rules == 0);
    free(msgs);

    /* an unknown label and a bad word on one line: both said */
    msgs = NULL;
    CHECK(parse("nope perhaps\n", &p, &msgs) == 2);
    CHECK(has(msgs, "my.policy:1: unknown profile 'nope'"));
    CHECK(has(msgs, "my.policy:1: expected 'accept' or 'refuse'"));
    free(msgs);

    /* empty, or only comments: a policy that checks nothing is an error */
    msgs = NULL;
    CHECK(parse("", &p, &msgs) == 1);
    CHECK(has(msgs, "my.policy:1: the policy lists no profiles"));
    free(msgs);
    msgs = NULL;
    CHECK(parse("# nothing\n\n# here\n", &p, &msgs) == 1);
    CHECK(has(msgs, "my.policy:3: the policy lists no profiles"));
    free(msgs);

    /* hostile input: control characters are not echoed, long words cut,
     * long lines refused, NUL bytes refused */
    msgs = NULL;
    CHECK(parse("\x1b[31mred accept\n", &p, &msgs) == 1);
    CHECK(has(msgs, "unknown profile '?[31mred'"));
    CHECK(!has(msgs, "\x1b"));
    free(msgs);
    char long_word[300];
    memset(long_word, 'a', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    char text2[400];
    snprintf(text2, sizeof text2, "%s accept\n", long_word);
    msgs = NULL;
    CHECK(parse(text2, &p, &msgs) == 1);
    CHECK(has(msgs, "...'"));
    CHECK(strlen(msgs) < 200);
    free(msgs);
    size_t big = POLICY_LINE_MAX + 10;
    char *text3 = malloc(big + 32);
    if (text3) {
        memset(text3, 'x', big);
        strcpy(text3 + big, "\nvalid accept\n");
        msgs = NULL;
        CHECK(parse(text3, &p, &msgs) == 1);
        CHECK(has(msgs, "my.policy:1: line longer than"));
        free(msgs);
        free(text3);
    }
    size_t len = 0;
    msgs = NULL;
    FILE *errs = open_memstream(&msgs, &len);
    CHECK(policy_parse("valid accept\n\0expired refuse\n", 28, "nul.policy", &p,
                       errs) == 1);
    fclose(errs);
    CHECK(has(msgs, "nul.policy: contains a NUL byte"));
    free(msgs);
}

/* policy_load of a real file: the path is the name in messages. */
static void test_file_load(void)
{
    char path[] = "/tmp/test_policy.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "valid accept\nexpired refuse\nexpired accept\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    rs_policy p;
    char *msgs = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&msgs, &len);
    CHECK(policy_load(path, &p, errs) == 1);
    fclose(errs);
    char want[128];
    snprintf(want, sizeof want, "%s:3: 'expired' is already listed on line 2", path);
    CHECK(has(msgs, want));
    free(msgs);

    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("wrong-name refuse\n", f);
        fclose(f);
    }
    CHECK(policy_load(path, &p, stderr) == 0);
    CHECK(p.kind == POLICY_FILE && p.n_rules == 1);
    CHECK_STR(p.name, path);
    policy_free(&p);
    unlink(path);
}

static void test_explain(void)
{
    rs_policy strict, lenient;
    CHECK(policy_load("strict", &strict, stderr) == 0);
    CHECK(policy_load("lenient", &lenient, stderr) == 0);
    char why[1200];
    const catalog_profile *expired = catalog_find("expired");
    CHECK(expired != NULL);
    if (!expired)
        return;
    policy_verdict v = policy_judge(&strict, expired, true);
    policy_explain(&strict, expired, true, &v, why, sizeof why);
    CHECK(has(why, "accepted; a strict server must refuse it: "));
    CHECK(has(why, expired->strict_why));
    v = policy_judge(&lenient, expired, false);
    policy_explain(&lenient, expired, false, &v, why, sizeof why);
    CHECK(has(why, "refused; a dialback-accepting server would accept it"));
    /* an advisory says so, and that only pedantic fails on it */
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        if (!p->advisory)
            continue;
        bool accepted = p->strict != CATALOG_EXPECT_ACCEPT;
        v = policy_judge(&strict, p, accepted);
        CHECK(v.mark == POLICY_ADVISORY);
        policy_explain(&strict, p, accepted, &v, why, sizeof why);
        CHECK(has(why, "advisory"));
        CHECK(has(why, "pedantic"));
        CHECK(has(why, p->strict_why));
    }
    /* a small buffer is cut, not overrun */
    char tiny[16];
    v = policy_judge(&strict, expired, true);
    policy_explain(&strict, expired, true, &v, tiny, sizeof tiny);
    CHECK(strlen(tiny) == sizeof tiny - 1);
    CHECK_STR(policy_mark_name(POLICY_OK), "OK");
    CHECK_STR(policy_mark_name(POLICY_DIFF), "DIFF");
    CHECK_STR(policy_mark_name(POLICY_ADVISORY), "advisory");
    CHECK_STR(policy_mark_name(POLICY_UNCHECKED), "-");
    policy_free(&strict);
    policy_free(&lenient);
}

int main(void)
{
    test_builtin_load();
    test_builtin_verdicts();
    test_synthetic_probes();
    test_file_ok();
    test_file_errors();
    test_file_load();
    test_explain();
    return check_done();
}
