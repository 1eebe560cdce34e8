/* fuzz_sasl_client.c -- libFuzzer target for client SASL (sasl_client.c,
 * sasl_client_scram.c): one exchange of up to four steps.
 *
 * The first byte steers: bits 0-1 the mechanism (3 is SCRAM-SHA-256 again),
 * bit 2 an encrypted stream, bit 3 raw mode (each part is base64-encoded
 * here, so the SCRAM and PLAIN parsers see the bytes; otherwise a part is
 * the element's text as is), bit 4 a stream domain ("valid.example"). The
 * rest is split into parts at form feeds (0x0c). The account is test/test;
 * the server nonce is fixed to "N", so client-final can carry the right one.
 *
 * Contract: a failure has an RFC 6120 condition, a text and no data; a
 * challenge has data; data is base64; the username is known exactly after
 * a success and is the account's; nothing but failure after the end.
 * Aborts on a broken contract.
 */
#include "sasl_client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#define PARTS_MAX 4

static sasl_client_account account;
static int account_ready;

static const char *const conditions[] = {
    "aborted", "account-disabled", "credentials-expired", "encryption-required",
    "incorrect-encoding", "invalid-authzid", "invalid-mechanism", "malformed-request",
    "mechanism-too-weak", "not-authorized", "temporary-auth-failure",
};

static void check_condition(const char *c)
{
    for (size_t i = 0; i < sizeof conditions / sizeof *conditions; i++)
        if (c && strcmp(c, conditions[i]) == 0)
            return;
    abort();
}

/* The text of one element for part p of n bytes: the bytes themselves (as a
 * string, up to a NUL) or their base64. malloc'd. */
static char *element_text(const uint8_t *p, size_t n, int raw_mode)
{
    if (!raw_mode || n == 0) {
        char *t = malloc(n + 1);
        if (!t)
            abort();
        memcpy(t, p, n);
        t[n] = '\0';
        return t;
    }
    gnutls_datum_t in = {(unsigned char *)p, (unsigned)n}, b64 = {NULL, 0};
    if (gnutls_base64_encode2(&in, &b64) < 0)
        abort();
    char *t = strdup((const char *)b64.data);
    gnutls_free(b64.data);
    if (!t)
        abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!account_ready) {
        if (sasl_client_account_init(&account, "test", "test") < 0)
            abort();
        account_ready = 1;
    }
    if (size == 0)
        return 0;
    uint8_t steer = data[0];
    sasl_client_mech m = (steer & 3) == 3 ? SASL_CLIENT_SCRAM_SHA256 : (sasl_client_mech)(steer & 3);
    int raw_mode = (steer >> 3) & 1;
    rs_sasl_client *s = sasl_client_new(&account, m, (steer & 16) ? "valid.example" : NULL,
                                        (steer >> 2) & 1);
    if (!s)
        abort();
    if (sasl_client_fix_nonce(s, "N") < 0)
        abort();
    data++;
    size--;

    int over = 0, succeeded = 0;
    for (int part = 0; part < PARTS_MAX && (size > 0 || part == 0); part++) {
        const uint8_t *ff = memchr(data, 0x0c, size);
        size_t n = ff ? (size_t)(ff - data) : size;
        char *text = element_text(data, n, raw_mode);
        data += ff ? n + 1 : n;
        size -= ff ? n + 1 : n;

        char *out = NULL;
        const char *cond = NULL, *why = NULL;
        sasl_client_step_result r = sasl_client_step(s, text, &out, &cond, &why);
        free(text);
        if (r == SASL_CLIENT_FAILURE) {
            check_condition(cond);
            if (!why || out)
                abort();
        } else if (r == SASL_CLIENT_CHALLENGE || r == SASL_CLIENT_SUCCESS) {
            if (over || cond || why || (r == SASL_CLIENT_CHALLENGE && !out))
                abort();
        } else {
            abort();
        }
        succeeded |= r == SASL_CLIENT_SUCCESS;
        /* Known exactly after a success, and only the account's. */
        const char *user = sasl_client_username(s);
        if (succeeded != (user != NULL) || (user && strcmp(user, "test") != 0) ||
            succeeded != (sasl_client_authzid(s) != NULL))
            abort();
        if (out && out[0]) {
            gnutls_datum_t in = {(unsigned char *)out, (unsigned)strlen(out)}, dec = {NULL, 0};
            if (gnutls_base64_decode2(&in, &dec) < 0)
                abort();
            gnutls_free(dec.data);
        }
        free(out);
        if (r != SASL_CLIENT_CHALLENGE)
            over = 1;
    }
    sasl_client_free(s);
    return 0;
}
