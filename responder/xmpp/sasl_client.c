/* sasl_client.c -- the account, the exchange's state machine, PLAIN, and
 * the base64 around every step. The SCRAM rounds are in sasl_client_scram.c. */
#include "sasl_client_internal.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define SALT_LEN 16 /* bytes of a new account's random salt */

/* Base64 of SASL_CLIENT_PAYLOAD_MAX bytes, padded. */
#define B64_IN_MAX (((SASL_CLIENT_PAYLOAD_MAX + 2) / 3) * 4)

static const char *const mech_names[SASL_CLIENT_MECH_COUNT] = {
    [SASL_CLIENT_PLAIN] = "PLAIN",
    [SASL_CLIENT_SCRAM_SHA1] = "SCRAM-SHA-1",
    [SASL_CLIENT_SCRAM_SHA256] = "SCRAM-SHA-256",
};

/* The same words for an unknown username and a wrong password. */
static const char bad_credentials[] = "wrong username or password";

const char *sasl_client_mech_name(sasl_client_mech m)
{
    return (unsigned)m < SASL_CLIENT_MECH_COUNT ? mech_names[m] : "";
}

int sasl_client_mech_parse(const char *name, sasl_client_mech *out)
{
    for (unsigned i = 0; i < SASL_CLIENT_MECH_COUNT; i++) {
        if (strcmp(name, mech_names[i]) == 0) {
            *out = (sasl_client_mech)i;
            return 0;
        }
    }
    return -1;
}

bool sasl_client_mech_offered(sasl_client_mech m, bool encrypted)
{
    if ((unsigned)m >= SASL_CLIENT_MECH_COUNT)
        return false;
    return m != SASL_CLIENT_PLAIN || encrypted;
}

/* The password as GnuTLS normalises it (RFC 8265 OpaqueString), in *out
 * (gnutls_free). 0, or -1 when it is empty or not acceptable. */
static int normalise_password(const char *pw, size_t len, gnutls_datum_t *out)
{
    out->data = NULL;
    out->size = 0;
    if (len == 0 || len > SASL_CLIENT_PAYLOAD_MAX)
        return -1;
    if (gnutls_utf8_password_normalize((const unsigned char *)pw, (unsigned)len, out, 0) < 0)
        return -1;
    if (out->size == 0) {
        gnutls_free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

int sasl_client_account_init_salted(sasl_client_account *a, const char *username,
                                    const char *password, const unsigned char *salt,
                                    size_t salt_len, unsigned iterations)
{
    memset(a, 0, sizeof *a);
    size_t ulen = strlen(username);
    if (ulen == 0 || ulen > SASL_CLIENT_NAME_MAX || salt_len == 0 ||
        salt_len > SASL_CLIENT_SALT_MAX || iterations == 0)
        return -1;
    gnutls_datum_t pw;
    if (normalise_password(password, strlen(password), &pw) < 0)
        return -1;
    memcpy(a->username, username, ulen + 1);
    memcpy(a->salt, salt, salt_len);
    a->salt_len = salt_len;
    a->iterations = iterations;
    int rc = 0;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, pw.data, pw.size, a->plain_digest) < 0 ||
        sasl_client__scram_derive(SASL_CLIENT_SCRAM_SHA1, pw.data, pw.size, salt, salt_len,
                                  iterations, &a->sha1) < 0 ||
        sasl_client__scram_derive(SASL_CLIENT_SCRAM_SHA256, pw.data, pw.size, salt, salt_len,
                                  iterations, &a->sha256) < 0)
        rc = -1;
    gnutls_memset(pw.data, 0, pw.size);
    gnutls_free(pw.data);
    return rc;
}

int sasl_client_account_init(sasl_client_account *a, const char *username, const char *password)
{
    unsigned char salt[SALT_LEN];
    if (gnutls_rnd(GNUTLS_RND_RANDOM, salt, sizeof salt) < 0)
        return -1;
    return sasl_client_account_init_salted(a, username, password, salt, sizeof salt,
                                           SASL_CLIENT_ITERATIONS);
}

rs_sasl_client *sasl_client_new(const sasl_client_account *a, sasl_client_mech m,
                                const char *domain, bool encrypted)
{
    if ((unsigned)m >= SASL_CLIENT_MECH_COUNT)
        return NULL;
    rs_sasl_client *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->account = a;
    s->mech = m;
    s->encrypted = encrypted;
    s->state = SASL_CLIENT_AWAIT_AUTH;
    /* A domain too long for a JID just never matches an authzid. */
    if (domain && strlen(domain) <= SASL_CLIENT_NAME_MAX)
        strcpy(s->domain, domain);
    return s;
}

void sasl_client_free(rs_sasl_client *s)
{
    if (!s)
        return;
    free(s->auth_message);
    free(s);
}

int sasl_client_fix_nonce(rs_sasl_client *s, const char *server_nonce)
{
    size_t n = strlen(server_nonce);
    if (!sasl_client__scram_nonce_ok(server_nonce, n))
        return -1;
    memcpy(s->fixed_nonce, server_nonce, n + 1);
    return 0;
}

const char *sasl_client_username(const rs_sasl_client *s)
{
    return s->authenticated ? s->account->username : NULL;
}

const char *sasl_client_authzid(const rs_sasl_client *s)
{
    return s->authenticated ? s->authzid : NULL;
}

sasl_client_step_result sasl_client__refuse(sasl_client_reply *r, const char *condition,
                                            const char *text)
{
    free(r->raw);
    r->raw = NULL;
    r->raw_len = 0;
    r->condition = condition;
    r->text = text;
    return SASL_CLIENT_FAILURE;
}

bool sasl_client__authzid_allowed(const rs_sasl_client *s, const char *authzid)
{
    const char *user = s->account->username;
    size_t ulen = strlen(user);
    if (authzid[0] == '\0' || strcmp(authzid, user) == 0)
        return true;
    /* username@domain: the bare JID of the account on this stream. */
    return s->domain[0] && strncmp(authzid, user, ulen) == 0 && authzid[ulen] == '@' &&
           strcmp(authzid + ulen + 1, s->domain) == 0;
}

/* PLAIN (RFC 4616): authzid NUL authcid NUL password. */
static sasl_client_step_result plain_step(rs_sasl_client *s, const char *msg, size_t len,
                                          sasl_client_reply *r)
{
    const char *nul1 = memchr(msg, '\0', len);
    const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg)) : NULL;
    if (!nul2 || memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - msg)))
        return sasl_client__refuse(r, "malformed-request",
                                   "PLAIN is authzid, NUL, username, NUL, password");
    const char *authcid = nul1 + 1, *password = nul2 + 1;
    size_t authzid_len = (size_t)(nul1 - msg), password_len = len - (size_t)(password - msg);
    if (authcid[0] == '\0' || password_len == 0)
        return sasl_client__refuse(r, "malformed-request", "PLAIN without username or password");
    if (authzid_len > SASL_CLIENT_NAME_MAX)
        return sasl_client__refuse(r, "invalid-authzid", "authzid too long");
    memcpy(s->authzid, msg, authzid_len);
    s->authzid[authzid_len] = '\0';

    /* Both checks run whatever the first one says; the password compares
     * as digests, in constant time. */
    bool user_ok = strcmp(authcid, s->account->username) == 0;
    bool password_ok = false;
    gnutls_datum_t pw;
    if (normalise_password(password, password_len, &pw) == 0) {
        unsigned char digest[SASL_CLIENT_HASH_MAX];
        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, pw.data, pw.size, digest) == 0)
            password_ok = gnutls_memcmp(digest, s->account->plain_digest, 32) == 0;
        gnutls_memset(pw.data, 0, pw.size);
        gnutls_free(pw.data);
    }
    if (!user_ok || !password_ok)
        return sasl_client__refuse(r, "not-authorized", bad_credentials);
    if (!sasl_client__authzid_allowed(s, s->authzid))
        return sasl_client__refuse(r, "invalid-authzid",
                                   "authzid must be empty, the username or username@domain");
    return SASL_CLIENT_SUCCESS;
}

/* Decode b64 into a malloc'd, NUL-terminated *msg of *len bytes. NULL on
 * success, else the failure's condition (and *text). */
static const char *decode_input(const char *b64, char **msg, size_t *len, const char **text)
{
    *msg = NULL;
    *len = 0;
    size_t n = strnlen(b64, B64_IN_MAX + 1);
    if (n > B64_IN_MAX) {
        *text = "payload too long";
        return "malformed-request";
    }
    gnutls_datum_t raw = {NULL, 0};
    if (n > 0 && strcmp(b64, "=") != 0) {
        gnutls_datum_t in = {(unsigned char *)b64, (unsigned)n};
        if (gnutls_base64_decode2(&in, &raw) < 0) {
            *text = "payload is not base64";
            return "incorrect-encoding";
        }
    }
    if (raw.size > SASL_CLIENT_PAYLOAD_MAX) {
        gnutls_free(raw.data);
        *text = "payload too long";
        return "malformed-request";
    }
    *msg = malloc(raw.size + 1);
    if (!*msg) {
        gnutls_free(raw.data);
        *text = "out of memory";
        return "temporary-auth-failure";
    }
    if (raw.size)
        memcpy(*msg, raw.data, raw.size);
    (*msg)[raw.size] = '\0';
    *len = raw.size;
    gnutls_free(raw.data);
    return NULL;
}

/* *out = base64 of raw (malloc'd). 0, or -1 without memory. */
static int encode_output(const char *raw, size_t len, char **out)
{
    gnutls_datum_t in = {(unsigned char *)raw, (unsigned)len};
    gnutls_datum_t b64 = {NULL, 0};
    if (gnutls_base64_encode2(&in, &b64) < 0)
        return -1;
    *out = malloc(b64.size + 1);
    if (*out) {
        memcpy(*out, b64.data, b64.size);
        (*out)[b64.size] = '\0';
    }
    gnutls_free(b64.data);
    return *out ? 0 : -1;
}

/* The mechanism's step on a decoded payload, by state. */
static sasl_client_step_result dispatch(rs_sasl_client *s, const char *msg, size_t len,
                                        sasl_client_reply *r)
{
    if (s->mech == SASL_CLIENT_PLAIN)
        return plain_step(s, msg, len, r);
    if (memchr(msg, '\0', len))
        return sasl_client__refuse(r, "malformed-request", "NUL in a SCRAM message");
    if (s->state == SASL_CLIENT_AWAIT_FINAL)
        return sasl_client__scram_final(s, msg, len, r);
    return sasl_client__scram_first(s, msg, len, r);
}

sasl_client_step_result sasl_client_step(rs_sasl_client *s, const char *b64_in, char **b64_out,
                                         const char **condition, const char **text)
{
    *b64_out = NULL;
    *condition = NULL;
    *text = NULL;
    sasl_client_reply r = {NULL, 0, NULL, NULL};
    sasl_client_step_result res;
    char *msg = NULL;
    size_t len = 0;
    const char *bad;

    if (s->state == SASL_CLIENT_DONE) {
        /* Nothing changes after the end, a success included. */
        *condition = "malformed-request";
        *text = "the exchange is over";
        return SASL_CLIENT_FAILURE;
    }
    if (s->mech == SASL_CLIENT_PLAIN && !s->encrypted) {
        res = sasl_client__refuse(&r, "encryption-required", "PLAIN only over TLS");
    } else if (s->state == SASL_CLIENT_AWAIT_AUTH && (!b64_in || b64_in[0] == '\0')) {
        /* <auth/> without initial response: an empty challenge asks for it. */
        s->state = SASL_CLIENT_AWAIT_FIRST;
        *b64_out = strdup("");
        if (*b64_out)
            return SASL_CLIENT_CHALLENGE;
        res = sasl_client__refuse(&r, "temporary-auth-failure", "out of memory");
    } else if ((bad = decode_input(b64_in ? b64_in : "", &msg, &len, &r.text))) {
        res = sasl_client__refuse(&r, bad, r.text);
    } else if (len == 0) {
        res = sasl_client__refuse(&r, "malformed-request", "empty message");
    } else {
        res = dispatch(s, msg, len, &r);
    }
    if (msg) {
        gnutls_memset(msg, 0, len); /* a PLAIN password */
        free(msg);
    }

    if (res != SASL_CLIENT_FAILURE && r.raw && encode_output(r.raw, r.raw_len, b64_out) < 0)
        res = sasl_client__refuse(&r, "temporary-auth-failure", "out of memory");
    free(r.raw);
    if (res == SASL_CLIENT_CHALLENGE) {
        s->state = SASL_CLIENT_AWAIT_FINAL;
    } else {
        s->state = SASL_CLIENT_DONE;
        s->authenticated = res == SASL_CLIENT_SUCCESS;
        free(s->auth_message);
        s->auth_message = NULL;
    }
    if (res == SASL_CLIENT_FAILURE) {
        *condition = r.condition;
        *text = r.text;
    }
    return res;
}
