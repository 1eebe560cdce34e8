/* test_sasl_client.c -- SCRAM in sasl_client: the RFC 5802 and RFC 7677
 * example exchanges byte for byte, one computed independently by Python's
 * hashlib/hmac, the exchange with a random account, and every way the
 * client-final can be wrong. PLAIN and hostile input: test_sasl_client_input.c. */
#include "sasl_client_test.h"

/* Salts of the RFC examples, decoded. */
static sasl_client_account rfc_account(const char *salt_b64)
{
    sasl_client_account a;
    gnutls_datum_t in = {(unsigned char *)salt_b64, (unsigned)strlen(salt_b64)}, salt = {0};
    CHECK(gnutls_base64_decode2(&in, &salt) == 0);
    CHECK(sasl_client_account_init_salted(&a, "user", "pencil", salt.data, salt.size, 4096) == 0);
    gnutls_free(salt.data);
    return a;
}

/* A whole exchange from fixed messages: each server message must be the
 * expected one byte for byte. */
static void fixed_exchange(const sasl_client_account *a, sasl_client_mech m, const char *domain,
                           const char *snonce, const char *first, const char *server_first,
                           const char *final, const char *server_final)
{
    rs_sasl_client *s = sasl_client_new(a, m, domain, false);
    CHECK(s && sasl_client_fix_nonce(s, snonce) == 0);
    step_out o = step_str(s, first);
    CHECK(o.res == SASL_CLIENT_CHALLENGE);
    CHECK_STR(o.out, server_first);
    CHECK(sasl_client_username(s) == NULL);
    o = step_str(s, final);
    CHECK(o.res == SASL_CLIENT_SUCCESS);
    CHECK_STR(o.out, server_final);
    CHECK_STR(o.condition, "");
    CHECK_STR(sasl_client_username(s), a->username);
    sasl_client_free(s);
}

static void test_rfc_vectors(void)
{
    /* RFC 5802 section 5. */
    sasl_client_account a = rfc_account("QSXCR+Q6sek8bf92");
    fixed_exchange(&a, SASL_CLIENT_SCRAM_SHA1, NULL, "3rfcNHYJY1ZVvWVs7j",
                   "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                   "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                   "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                   "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
                   "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    /* RFC 7677 section 3. */
    a = rfc_account("W22ZaJ0SNY7soEsUEjb6gQ==");
    fixed_exchange(&a, SASL_CLIENT_SCRAM_SHA256, NULL, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                   "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                   "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                   "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                   "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                   "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

/* Computed by Python's hashlib.pbkdf2_hmac and hmac (not GnuTLS) for
 * test/test, salt "salt-for-the-test": gs2 "y," with authzid
 * test@valid.example, so c= is not "biws". */
static void test_independent_vector(void)
{
    sasl_client_account a;
    CHECK(sasl_client_account_init_salted(&a, "test", "test",
                                          (const unsigned char *)"salt-for-the-test", 17,
                                          4096) == 0);
    const char *first = "y,a=test@valid.example,n=test,r=slixmppXYZ0123456789abcdef";
    const char *server_first = "r=slixmppXYZ0123456789abcdefSrvNonce/+Test,"
                               "s=c2FsdC1mb3ItdGhlLXRlc3Q=,i=4096";
    const char *final = "c=eSxhPXRlc3RAdmFsaWQuZXhhbXBsZSw=,"
                        "r=slixmppXYZ0123456789abcdefSrvNonce/+Test,"
                        "p=pJmtwZ3XzzQuuI9zvnQ76uPYLqE9oYZHLgD9vBLpM/c=";
    fixed_exchange(&a, SASL_CLIENT_SCRAM_SHA256, "valid.example", "SrvNonce/+Test", first,
                   server_first, final, "v=X56qLEhjMJvQRn4PhCHu6PlY8lYNz4LTWALAoVYpiWk=");

    /* The same proof on a stream to another domain: right credentials,
     * authzid not ours. */
    rs_sasl_client *s = sasl_client_new(&a, SASL_CLIENT_SCRAM_SHA256, "other.example", false);
    CHECK(sasl_client_fix_nonce(s, "SrvNonce/+Test") == 0);
    CHECK(step_str(s, first).res == SASL_CLIENT_CHALLENGE);
    step_out o = step_str(s, final);
    CHECK(o.res == SASL_CLIENT_FAILURE);
    CHECK_STR(o.condition, "invalid-authzid");
    CHECK(sasl_client_username(s) == NULL && sasl_client_authzid(s) == NULL);
    sasl_client_free(s);
}

/* client-first for gs2 + bare, then the client-final computed from
 * `password` after `mutate` changed it; the server's answer. */
static step_out scram_run(const sasl_client_account *a, sasl_client_mech m, const char *gs2,
                          const char *bare, const char *password,
                          void (*mutate)(char *final), char *server_first_out)
{
    rs_sasl_client *s = sasl_client_new(a, m, "valid.example", true);
    char first[600], final[1400], v[100];
    snprintf(first, sizeof first, "%s%s", gs2, bare);
    step_out o = step_str(s, first);
    if (o.res != SASL_CLIENT_CHALLENGE) {
        sasl_client_free(s);
        return o;
    }
    if (server_first_out)
        strcpy(server_first_out, o.out);
    scram_client_final(m, password, gs2, bare, o.out, final, sizeof final, v, sizeof v);
    if (mutate)
        mutate(final);
    o = step_str(s, final);
    if (o.res == SASL_CLIENT_SUCCESS) {
        CHECK_STR(o.out, v);
        CHECK_STR(sasl_client_username(s), a->username);
    } else {
        CHECK(sasl_client_username(s) == NULL);
    }
    /* Nothing after the end. */
    step_out after = step_str(s, final);
    CHECK(after.res == SASL_CLIENT_FAILURE);
    CHECK((o.res == SASL_CLIENT_SUCCESS) == (sasl_client_username(s) != NULL));
    sasl_client_free(s);
    return o;
}

static void test_random_account(void)
{
    sasl_client_account a, b;
    CHECK(sasl_client_account_init(&a, "test", "test") == 0);
    CHECK(sasl_client_account_init(&b, "test", "test") == 0);
    CHECK(a.salt_len == 16 && a.iterations == 4096);
    CHECK(memcmp(a.salt, b.salt, 16) != 0);
    CHECK(memcmp(a.sha256.stored_key, b.sha256.stored_key, 32) != 0);

    char sf1[600], sf2[600];
    step_out o = scram_run(&a, SASL_CLIENT_SCRAM_SHA256, "n,,", "n=test,r=abc", "test", NULL, sf1);
    CHECK(o.res == SASL_CLIENT_SUCCESS);
    o = scram_run(&a, SASL_CLIENT_SCRAM_SHA1, "n,,", "n=test,r=abc", "test", NULL, sf2);
    CHECK(o.res == SASL_CLIENT_SUCCESS);
    /* A random server nonce after the client's: two exchanges differ. */
    CHECK(strncmp(sf1, "r=abc", 5) == 0 && strcmp(sf1, sf2) != 0);
    /* authzid forms, the "y" flag, extensions after the nonce. */
    CHECK(scram_run(&a, SASL_CLIENT_SCRAM_SHA256, "y,,", "n=test,r=x", "test", NULL, NULL).res ==
          SASL_CLIENT_SUCCESS);
    CHECK(scram_run(&a, SASL_CLIENT_SCRAM_SHA256, "n,a=test,", "n=test,r=x,e=1", "test", NULL,
                    NULL).res == SASL_CLIENT_SUCCESS);
    o = scram_run(&a, SASL_CLIENT_SCRAM_SHA1, "n,a=test@valid.example,", "n=test,r=x", "test",
                  NULL, NULL);
    CHECK(o.res == SASL_CLIENT_SUCCESS);
    o = scram_run(&a, SASL_CLIENT_SCRAM_SHA1, "n,a=echo@valid.example,", "n=test,r=x", "test",
                  NULL, NULL);
    CHECK_STR(o.condition, "invalid-authzid");
}

static void flip_proof(char *final)
{
    char *p = strstr(final, ",p=") + 3;
    *p = *p == 'A' ? 'B' : 'A';
}
static void flip_nonce(char *final) { strchr(final, 'r')[2] ^= 1; }
static void cb_y(char *final) { memcpy(final, "c=eSws", 6); } /* "y,," */
static void cb_n(char *final) { memcpy(final, "c=biws", 6); } /* "n,," */
static void short_proof(char *final) { strcpy(strstr(final, ",p=") + 3, "AAAA"); }
static void bad_proof_b64(char *final) { strcpy(strstr(final, ",p=") + 3, "!!"); }
static void no_proof(char *final) { *strstr(final, ",p=") = '\0'; }
static void proof_not_last(char *final) { strcat(final, ",x=1"); }

static void test_wrong_client_final(void)
{
    sasl_client_account a;
    CHECK(sasl_client_account_init(&a, "test", "test") == 0);
    sasl_client_mech m = SASL_CLIENT_SCRAM_SHA256;
    step_out o = scram_run(&a, m, "n,,", "n=test,r=abc", "wrong", NULL, NULL);
    CHECK_STR(o.condition, "not-authorized");
    const char *wrong_password_text = o.text;
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", flip_proof, NULL);
    CHECK_STR(o.condition, "not-authorized");
    /* An unknown user gets a challenge and the same answer at the end. */
    o = scram_run(&a, m, "n,,", "n=nobody,r=abc", "test", NULL, NULL);
    CHECK_STR(o.condition, "not-authorized");
    CHECK_STR(o.text, wrong_password_text);
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", flip_nonce, NULL);
    CHECK_STR(o.condition, "not-authorized");
    CHECK(strstr(o.text, "nonce"));
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", cb_y, NULL);
    CHECK_STR(o.condition, "not-authorized");
    CHECK(strstr(o.text, "c="));
    o = scram_run(&a, m, "y,,", "n=test,r=abc", "test", cb_n, NULL);
    CHECK_STR(o.condition, "not-authorized");
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", short_proof, NULL);
    CHECK_STR(o.condition, "malformed-request");
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", bad_proof_b64, NULL);
    CHECK_STR(o.condition, "incorrect-encoding");
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", no_proof, NULL);
    CHECK_STR(o.condition, "malformed-request");
    o = scram_run(&a, m, "n,,", "n=test,r=abc", "test", proof_not_last, NULL);
    CHECK_STR(o.condition, "malformed-request");
}

static void test_client_first(void)
{
    sasl_client_account a;
    CHECK(sasl_client_account_init(&a, "a,b=c", "test") == 0);
    /* Escaped username. */
    CHECK(scram_run(&a, SASL_CLIENT_SCRAM_SHA1, "n,,", "n=a=2Cb=3Dc,r=x", "test", NULL, NULL).res ==
          SASL_CLIENT_SUCCESS);
    static const char *const refused[] = {
        "p=tls-unique,,n=a=2Cb=3Dc,r=x", /* channel binding never offered */
        "n,,n=a=2Xb,r=x",                /* bad escape */
        "n,,n=a=2,r=x",                  /* truncated escape */
        "n,,n=,r=x",                     /* empty username */
        "n,,m=ext,n=u,r=x",              /* mandatory extension */
        "n,,n=u,r=",                     /* empty nonce */
        "n,,n=u,r=a b",                  /* nonce not printable */
        "n,,n=u",                        /* no nonce */
        "n,,r=x,n=u",                    /* wrong order */
        "x,,n=u,r=x",                    /* bad flag */
        "n,b=u,n=u,r=x",                 /* not an authzid */
        "n,a=,n=u,r=x",                  /* empty authzid */
        "n,a=u",                         /* gs2 header not closed */
        "n",                             /* nothing */
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        rs_sasl_client *s = sasl_client_new(&a, SASL_CLIENT_SCRAM_SHA256, NULL, true);
        step_out o = step_str(s, refused[i]);
        if (o.res != SASL_CLIENT_FAILURE || strcmp(o.condition, "malformed-request") != 0)
            fprintf(stderr, "not refused as malformed: %s (%s)\n", refused[i], o.condition);
        CHECK(o.res == SASL_CLIENT_FAILURE);
        CHECK_STR(o.condition, "malformed-request");
        sasl_client_free(s);
    }
    rs_sasl_client *s = sasl_client_new(&a, SASL_CLIENT_SCRAM_SHA1, NULL, true);
    CHECK(strstr(step_str(s, refused[0]).text, "channel binding"));
    sasl_client_free(s);
    /* A nonce of SASL_CLIENT_NONCE_MAX is fine, one more is not. */
    char first[SASL_CLIENT_NONCE_MAX + 32];
    for (int extra = 0; extra < 2; extra++) {
        int w = snprintf(first, sizeof first, "n,,n=u,r=");
        memset(first + w, 'N', SASL_CLIENT_NONCE_MAX + extra);
        first[w + SASL_CLIENT_NONCE_MAX + extra] = '\0';
        rs_sasl_client *s = sasl_client_new(&a, SASL_CLIENT_SCRAM_SHA256, NULL, true);
        CHECK(step_str(s, first).res == (extra ? SASL_CLIENT_FAILURE : SASL_CLIENT_CHALLENGE));
        sasl_client_free(s);
    }
}

int main(void)
{
    test_rfc_vectors();
    test_independent_vector();
    test_random_account();
    test_wrong_client_final();
    test_client_first();
    return check_done();
}
