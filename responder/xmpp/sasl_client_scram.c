/* sasl_client_scram.c -- SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677)
 * without channel binding: the keys, client-first to server-first, and
 * client-final to server-final. Messages are comma-separated "x=value"
 * attributes in a fixed order; each is read here in that order. */
#include "sasl_client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define SERVER_NONCE_BYTES 18 /* random bytes of a server nonce: 24 base64 chars */

typedef struct scram_hash {
    gnutls_mac_algorithm_t mac;    /* HMAC(H) */
    gnutls_digest_algorithm_t dig; /* H */
    size_t len;                    /* digest length */
} scram_hash;

static scram_hash hash_of(sasl_client_mech mech)
{
    if (mech == SASL_CLIENT_SCRAM_SHA1)
        return (scram_hash){GNUTLS_MAC_SHA1, GNUTLS_DIG_SHA1, 20};
    return (scram_hash){GNUTLS_MAC_SHA256, GNUTLS_DIG_SHA256, 32};
}

static const sasl_client_scram_keys *keys_of(const rs_sasl_client *s)
{
    return s->mech == SASL_CLIENT_SCRAM_SHA1 ? &s->account->sha1 : &s->account->sha256;
}

int sasl_client__scram_derive(sasl_client_mech mech, const unsigned char *pw, size_t pw_len,
                              const unsigned char *salt, size_t salt_len, unsigned iterations,
                              sasl_client_scram_keys *out)
{
    scram_hash h = hash_of(mech);
    unsigned char salted[SASL_CLIENT_HASH_MAX], client_key[SASL_CLIENT_HASH_MAX];
    gnutls_datum_t key = {(unsigned char *)pw, (unsigned)pw_len};
    gnutls_datum_t salt_d = {(unsigned char *)salt, (unsigned)salt_len};
    int rc = -1;
    if (gnutls_pbkdf2(h.mac, &key, &salt_d, iterations, salted, h.len) == 0 &&
        gnutls_hmac_fast(h.mac, salted, h.len, "Client Key", 10, client_key) == 0 &&
        gnutls_hash_fast(h.dig, client_key, h.len, out->stored_key) == 0 &&
        gnutls_hmac_fast(h.mac, salted, h.len, "Server Key", 10, out->server_key) == 0)
        rc = 0;
    gnutls_memset(salted, 0, sizeof salted);
    gnutls_memset(client_key, 0, sizeof client_key);
    return rc;
}

/* If *p starts with "x=", the value up to the next ',' (or the end): its
 * start is returned, its length in *n, and *p moves past it and its ','. */
static const char *attribute(const char **p, char x, size_t *n)
{
    if ((*p)[0] != x || (*p)[1] != '=')
        return NULL;
    const char *v = *p + 2;
    const char *comma = strchr(v, ',');
    *n = comma ? (size_t)(comma - v) : strlen(v);
    *p = comma ? comma + 1 : v + *n;
    return v;
}

/* A saslname (RFC 5802: "=2C" for ',', "=3D" for '=') of n bytes into out
 * (SASL_CLIENT_NAME_MAX + 1). 0, or -1 when badly escaped or too long. */
static int unescape_saslname(const char *v, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '=') {
            if (n - i < 3)
                return -1;
            if (v[i + 1] == '2' && v[i + 2] == 'C')
                c = ',';
            else if (v[i + 1] == '3' && v[i + 2] == 'D')
                c = '=';
            else
                return -1;
            i += 2;
        }
        if (o == SASL_CLIENT_NAME_MAX)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

bool sasl_client__scram_nonce_ok(const char *v, size_t n)
{
    if (n == 0 || n > SASL_CLIENT_NONCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',')
            return false;
    return true;
}

/* The server's half of the nonce: the test hook's, or random in base64. */
static int server_nonce(const rs_sasl_client *s, char *out, size_t size)
{
    if (s->fixed_nonce[0]) {
        snprintf(out, size, "%s", s->fixed_nonce);
        return 0;
    }
    unsigned char rnd[SERVER_NONCE_BYTES];
    gnutls_datum_t in = {rnd, sizeof rnd}, b64 = {NULL, 0};
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) < 0 ||
        gnutls_base64_encode2(&in, &b64) < 0)
        return -1;
    snprintf(out, size, "%.*s", (int)b64.size, (const char *)b64.data);
    gnutls_free(b64.data);
    return 0;
}

sasl_client_step_result sasl_client__scram_first(rs_sasl_client *s, const char *msg, size_t len,
                                                 sasl_client_reply *r)
{
    (void)len;
    /* gs2 header: "n," or "y," (we never offer -PLUS, so the client that
     * could bind has no downgrade to fear), optional "a=authzid", ','. */
    if (msg[0] == 'p')
        return sasl_client__refuse(r, "malformed-request",
                                   "channel binding was not offered (no -PLUS mechanism)");
    if ((msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
        return sasl_client__refuse(r, "malformed-request", "bad gs2 header");
    const char *p = msg + 2, *v;
    size_t n;
    if (*p == ',') {
        s->authzid[0] = '\0';
        p++;
    } else if (!(v = attribute(&p, 'a', &n)) || p[-1] != ',' ||
               unescape_saslname(v, n, s->authzid) < 0 || !s->authzid[0]) {
        return sasl_client__refuse(r, "malformed-request", "bad authzid in the gs2 header");
    }
    size_t gs2_len = (size_t)(p - msg);
    if (gs2_len > SASL_CLIENT_GS2_MAX)
        return sasl_client__refuse(r, "malformed-request", "gs2 header too long");
    memcpy(s->gs2_header, msg, gs2_len);
    s->gs2_header[gs2_len] = '\0';

    const char *bare = p;
    if (p[0] == 'm' && p[1] == '=')
        return sasl_client__refuse(r, "malformed-request", "mandatory extension not supported");
    char username[SASL_CLIENT_NAME_MAX + 1];
    if (!(v = attribute(&p, 'n', &n)) || n == 0 || unescape_saslname(v, n, username) < 0)
        return sasl_client__refuse(r, "malformed-request", "bad username");
    if (!(v = attribute(&p, 'r', &n)) || !sasl_client__scram_nonce_ok(v, n))
        return sasl_client__refuse(r, "malformed-request", "bad client nonce");
    /* Extensions after the nonce are allowed and ignored. */

    /* An unknown username goes on with the account's salt and fails at the
     * proof, as a wrong password does. */
    s->known_user = strcmp(username, s->account->username) == 0;
    char snonce[SASL_CLIENT_NONCE_MAX + 1];
    if (server_nonce(s, snonce, sizeof snonce) < 0)
        return sasl_client__refuse(r, "temporary-auth-failure", "no random nonce");
    snprintf(s->nonce, sizeof s->nonce, "%.*s%s", (int)n, v, snonce);

    gnutls_datum_t salt = {(unsigned char *)s->account->salt, (unsigned)s->account->salt_len};
    gnutls_datum_t salt_b64 = {NULL, 0};
    if (gnutls_base64_encode2(&salt, &salt_b64) < 0)
        return sasl_client__refuse(r, "temporary-auth-failure", "out of memory");
    size_t bare_len = strlen(bare);
    size_t first_len = strlen(s->nonce) + salt_b64.size + 32;
    r->raw = malloc(first_len);
    s->auth_message = malloc(bare_len + 1 + first_len);
    if (!r->raw || !s->auth_message) {
        gnutls_free(salt_b64.data);
        return sasl_client__refuse(r, "temporary-auth-failure", "out of memory");
    }
    int w = snprintf(r->raw, first_len, "r=%s,s=%.*s,i=%u", s->nonce, (int)salt_b64.size,
                     (const char *)salt_b64.data, s->account->iterations);
    gnutls_free(salt_b64.data);
    r->raw_len = (size_t)w;
    sprintf(s->auth_message, "%s,%s", bare, r->raw);
    return SASL_CLIENT_CHALLENGE;
}

sasl_client_step_result sasl_client__scram_final(rs_sasl_client *s, const char *msg, size_t len,
                                                 sasl_client_reply *r)
{
    scram_hash h = hash_of(s->mech);
    const char *p = msg, *v;
    size_t n;

    /* c=: base64 of the gs2 header the client sent first ("biws" for "n,,"). */
    if (!(v = attribute(&p, 'c', &n)) || n == 0)
        return sasl_client__refuse(r, "malformed-request", "client-final without c=");
    gnutls_datum_t cb_b64 = {(unsigned char *)v, (unsigned)n}, cb = {NULL, 0};
    if (gnutls_base64_decode2(&cb_b64, &cb) < 0)
        return sasl_client__refuse(r, "incorrect-encoding", "c= is not base64");
    bool cb_ok = cb.size == strlen(s->gs2_header) && memcmp(cb.data, s->gs2_header, cb.size) == 0;
    gnutls_free(cb.data);
    if (!cb_ok)
        return sasl_client__refuse(r, "not-authorized",
                                   "channel binding (c=) does not match the gs2 header");
    if (!(v = attribute(&p, 'r', &n)) || n != strlen(s->nonce) || memcmp(v, s->nonce, n) != 0)
        return sasl_client__refuse(r, "not-authorized", "nonce does not match");

    /* The proof is the last attribute; extensions before it are ignored. */
    const char *proof_at = strstr(p - 1, ",p=");
    if (!proof_at || strchr(proof_at + 3, ','))
        return sasl_client__refuse(r, "malformed-request", "client-final without p= last");
    gnutls_datum_t proof_b64 = {(unsigned char *)proof_at + 3, (unsigned)strlen(proof_at + 3)};
    gnutls_datum_t proof = {NULL, 0};
    if (proof_b64.size == 0 || gnutls_base64_decode2(&proof_b64, &proof) < 0)
        return sasl_client__refuse(r, "incorrect-encoding", "p= is not base64");
    if (proof.size != h.len) {
        gnutls_free(proof.data);
        return sasl_client__refuse(r, "malformed-request", "p= has the wrong length");
    }

    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    size_t head = strlen(s->auth_message), without_proof = (size_t)(proof_at - msg);
    char *auth = realloc(s->auth_message, head + 1 + without_proof + 1);
    if (!auth) {
        gnutls_free(proof.data);
        return sasl_client__refuse(r, "temporary-auth-failure", "out of memory");
    }
    s->auth_message = auth;
    auth[head] = ',';
    memcpy(auth + head + 1, msg, without_proof);
    auth[head + 1 + without_proof] = '\0';
    size_t auth_len = head + 1 + without_proof;

    /* ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof
     * holds when H(ClientKey) is StoredKey (compared in constant time). */
    const sasl_client_scram_keys *k = keys_of(s);
    unsigned char sig[SASL_CLIENT_HASH_MAX], client_key[SASL_CLIENT_HASH_MAX];
    unsigned char stored[SASL_CLIENT_HASH_MAX], server_sig[SASL_CLIENT_HASH_MAX];
    bool proof_ok = false;
    if (gnutls_hmac_fast(h.mac, k->stored_key, h.len, auth, auth_len, sig) == 0) {
        for (size_t i = 0; i < h.len; i++)
            client_key[i] = proof.data[i] ^ sig[i];
        proof_ok = gnutls_hash_fast(h.dig, client_key, h.len, stored) == 0 &&
                   gnutls_memcmp(stored, k->stored_key, h.len) == 0;
    }
    gnutls_free(proof.data);
    (void)len;
    if (!proof_ok || !s->known_user)
        return sasl_client__refuse(r, "not-authorized", "wrong username or password");
    if (!sasl_client__authzid_allowed(s, s->authzid))
        return sasl_client__refuse(r, "invalid-authzid",
                                   "authzid must be empty, the username or username@domain");

    /* server-final: v=base64(HMAC(ServerKey, AuthMessage)). */
    if (gnutls_hmac_fast(h.mac, k->server_key, h.len, auth, auth_len, server_sig) < 0)
        return sasl_client__refuse(r, "temporary-auth-failure", "HMAC failed");
    gnutls_datum_t sig_d = {server_sig, (unsigned)h.len}, sig_b64 = {NULL, 0};
    if (gnutls_base64_encode2(&sig_d, &sig_b64) < 0)
        return sasl_client__refuse(r, "temporary-auth-failure", "out of memory");
    r->raw = malloc(sig_b64.size + 3);
    if (r->raw) {
        r->raw_len = (size_t)sprintf(r->raw, "v=%.*s", (int)sig_b64.size,
                                     (const char *)sig_b64.data);
    }
    gnutls_free(sig_b64.data);
    if (!r->raw)
        return sasl_client__refuse(r, "temporary-auth-failure", "out of memory");
    return SASL_CLIENT_SUCCESS;
}
