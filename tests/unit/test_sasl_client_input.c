/* test_sasl_client_input.c -- sasl_client's PLAIN, the mechanism table, and
 * what any mechanism does with the element's text: none, "=", bad base64,
 * oversized, NUL, steps after the end. SCRAM's exchanges: test_sasl_client.c. */
#include "sasl_client_test.h"

static sasl_client_account account;

static step_out plain(const char *raw, size_t len, const char *domain, bool encrypted,
                      const char **authzid)
{
    rs_sasl_client *s = sasl_client_new(&account, SASL_CLIENT_PLAIN, domain, encrypted);
    step_out o = step_raw(s, raw, len);
    CHECK((o.res == SASL_CLIENT_SUCCESS) == (sasl_client_username(s) != NULL));
    if (authzid)
        *authzid = o.res == SASL_CLIENT_SUCCESS ? strdup(sasl_client_authzid(s)) : NULL;
    sasl_client_free(s);
    return o;
}

#define PLAIN(lit, domain, enc) plain(lit, sizeof lit - 1, domain, enc, NULL)

static void test_plain(void)
{
    const char *authzid = NULL;
    step_out o = plain("\0test\0test", 10, "valid.example", true, &authzid);
    CHECK(o.res == SASL_CLIENT_SUCCESS && !o.had_out);
    CHECK_STR(authzid, "");
    free((void *)authzid);
    o = plain("test@valid.example\0test\0test", 28, "valid.example", true, &authzid);
    CHECK(o.res == SASL_CLIENT_SUCCESS);
    CHECK_STR(authzid, "test@valid.example");
    free((void *)authzid);
    CHECK(PLAIN("test\0test\0test", NULL, true).res == SASL_CLIENT_SUCCESS);

    /* Wrong password and unknown user: one answer. */
    o = PLAIN("\0test\0tesT", "valid.example", true);
    CHECK_STR(o.condition, "not-authorized");
    step_out unknown = PLAIN("\0nobody\0test", "valid.example", true);
    CHECK_STR(unknown.condition, "not-authorized");
    CHECK_STR(unknown.text, o.text);
    CHECK_STR(PLAIN("\0test\0test\xff", "valid.example", true).condition, "not-authorized");
    CHECK_STR(PLAIN("\0test\0tes", "valid.example", true).condition, "not-authorized");

    /* authzid someone else, or the account on another domain. */
    CHECK_STR(PLAIN("echo\0test\0test", "valid.example", true).condition, "invalid-authzid");
    CHECK_STR(PLAIN("test@other.example\0test\0test", "valid.example", true).condition,
              "invalid-authzid");
    CHECK_STR(PLAIN("test@valid.example\0test\0test", NULL, true).condition, "invalid-authzid");
    /* ... but wrong credentials say so first. */
    CHECK_STR(PLAIN("echo\0test\0x", "valid.example", true).condition, "not-authorized");

    /* Shape. */
    static const struct { const char *raw; size_t len; } malformed[] = {
        {"test", 4}, {"\0test", 5}, {"\0test\0", 6}, {"\0\0test", 6},
        {"\0test\0test\0", 11}, {"a\0b\0c\0d", 7},
    };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
        CHECK_STR(plain(malformed[i].raw, malformed[i].len, NULL, true, NULL).condition,
                  "malformed-request");

    /* Never over plaintext, whatever the payload. */
    CHECK_STR(PLAIN("\0test\0test", "valid.example", false).condition, "encryption-required");

    /* The password is normalised on both sides (NFC): e + combining acute
     * is the account's precomposed e-acute. */
    sasl_client_account cafe;
    CHECK(sasl_client_account_init(&cafe, "test", "caf\xc3\xa9") == 0);
    rs_sasl_client *s = sasl_client_new(&cafe, SASL_CLIENT_PLAIN, NULL, true);
    CHECK(step_raw(s, "\0test\0cafe\xcc\x81", 12).res == SASL_CLIENT_SUCCESS);
    sasl_client_free(s);

    /* No initial response: an empty challenge, then the response. */
    s = sasl_client_new(&account, SASL_CLIENT_PLAIN, NULL, true);
    o = step_b64(s, "");
    CHECK(o.res == SASL_CLIENT_CHALLENGE && o.had_out && o.out[0] == '\0');
    CHECK(step_raw(s, "\0test\0test", 10).res == SASL_CLIENT_SUCCESS);
    sasl_client_free(s);
}

static void test_mechanisms(void)
{
    sasl_client_mech m;
    CHECK_STR(sasl_client_mech_name(SASL_CLIENT_SCRAM_SHA256), "SCRAM-SHA-256");
    for (unsigned i = 0; i < SASL_CLIENT_MECH_COUNT; i++)
        CHECK(sasl_client_mech_parse(sasl_client_mech_name((sasl_client_mech)i), &m) == 0 &&
              m == (sasl_client_mech)i);
    CHECK(sasl_client_mech_parse("SCRAM-SHA-256-PLUS", &m) < 0);
    CHECK(sasl_client_mech_parse("scram-sha-1", &m) < 0);
    CHECK(sasl_client_mech_parse("", &m) < 0);
    CHECK(!sasl_client_mech_offered(SASL_CLIENT_PLAIN, false));
    CHECK(sasl_client_mech_offered(SASL_CLIENT_PLAIN, true));
    CHECK(sasl_client_mech_offered(SASL_CLIENT_SCRAM_SHA1, false));
    CHECK(sasl_client_new(&account, (sasl_client_mech)7, NULL, true) == NULL);
    rs_sasl_client *s = sasl_client_new(&account, SASL_CLIENT_SCRAM_SHA1, NULL, true);
    CHECK(sasl_client_fix_nonce(s, "") < 0 && sasl_client_fix_nonce(s, "a,b") < 0 &&
          sasl_client_fix_nonce(s, "a b") < 0 && sasl_client_fix_nonce(s, "a+/=") == 0);
    sasl_client_free(s);
    sasl_client_account a;
    CHECK(sasl_client_account_init(&a, "", "test") < 0);
    CHECK(sasl_client_account_init(&a, "test", "") < 0);
    CHECK(sasl_client_account_init(&a, "test", "\xff") < 0);
    CHECK(sasl_client_account_init_salted(&a, "test", "test", (const unsigned char *)"s", 1, 0) < 0);
}

/* What every mechanism does with the element's text. */
static void test_hostile_input(void)
{
    for (unsigned i = 0; i < SASL_CLIENT_MECH_COUNT; i++) {
        sasl_client_mech m = (sasl_client_mech)i;
        rs_sasl_client *s = sasl_client_new(&account, m, NULL, true);
        CHECK_STR(step_b64(s, "=").condition, "malformed-request"); /* present, empty */
        CHECK_STR(step_b64(s, "dGVzdA==").condition, "malformed-request"); /* over */
        sasl_client_free(s);

        s = sasl_client_new(&account, m, NULL, true);
        CHECK_STR(step_b64(s, "!!!!").condition, "incorrect-encoding");
        sasl_client_free(s);

        /* Twice the bound: refused before decoding. */
        size_t big = 2 * SASL_CLIENT_PAYLOAD_MAX;
        char *b64 = malloc(big + 1);
        memset(b64, 'Q', big);
        b64[big] = '\0';
        s = sasl_client_new(&account, m, NULL, true);
        step_out o = step_b64(s, b64);
        CHECK_STR(o.condition, "malformed-request");
        CHECK(strstr(o.text, "too long"));
        sasl_client_free(s);
        free(b64);

        /* Exactly the bound decodes (and is then wrong as a message). */
        char *raw = malloc(SASL_CLIENT_PAYLOAD_MAX);
        memset(raw, 'n', SASL_CLIENT_PAYLOAD_MAX);
        s = sasl_client_new(&account, m, NULL, true);
        o = step_raw(s, raw, SASL_CLIENT_PAYLOAD_MAX);
        CHECK_STR(o.condition, "malformed-request");
        CHECK(!strstr(o.text, "too long"));
        sasl_client_free(s);
        free(raw);

        s = sasl_client_new(&account, m, NULL, true);
        if (m == SASL_CLIENT_PLAIN) {
            CHECK(step_b64(s, NULL).res == SASL_CLIENT_CHALLENGE);
            CHECK_STR(step_b64(s, "").condition, "malformed-request");
        } else {
            /* NUL inside a SCRAM message. */
            CHECK_STR(step_raw(s, "n,,n=test\0,r=x", 14).condition, "malformed-request");
        }
        sasl_client_free(s);
    }
    /* SCRAM after an empty challenge: client-first, then a client-final
     * that is really a second client-first. */
    rs_sasl_client *s = sasl_client_new(&account, SASL_CLIENT_SCRAM_SHA1, NULL, false);
    CHECK(step_b64(s, NULL).res == SASL_CLIENT_CHALLENGE);
    step_out o = step_str(s, "n,,n=test,r=abc");
    CHECK(o.res == SASL_CLIENT_CHALLENGE && strncmp(o.out, "r=abc", 5) == 0);
    CHECK_STR(step_str(s, "n,,n=test,r=abc").condition, "malformed-request");
    sasl_client_free(s);
}

int main(void)
{
    CHECK(sasl_client_account_init(&account, "test", "test") == 0);
    test_plain();
    test_mechanisms();
    test_hostile_input();
    return check_done();
}
