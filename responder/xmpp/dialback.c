/* dialback.c -- XEP-0185 keys with GnuTLS's hash and HMAC. */
#include "dialback.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int dialback_secret_init(unsigned char secret[DIALBACK_SECRET_LEN])
{
    return gnutls_rnd(GNUTLS_RND_KEY, secret, DIALBACK_SECRET_LEN) < 0 ? -1 : 0;
}

int dialback_key(const unsigned char secret[DIALBACK_SECRET_LEN], const char *receiving,
           const char *originating, const char *stream_id, char out[DIALBACK_KEY_HEX])
{
    unsigned char digest[32];
    char hmac_key[65];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, DIALBACK_SECRET_LEN, digest) < 0)
        return -1;
    to_hex(digest, sizeof digest, hmac_key);

    char text[1400];
    int len = snprintf(text, sizeof text, "%s %s %s", receiving, originating,
                       stream_id);
    if (len < 0 || (size_t)len >= sizeof text)
        return -1;
    unsigned char mac[32];
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, hmac_key, 64, text, (size_t)len,
                         mac) < 0)
        return -1;
    to_hex(mac, sizeof mac, out);
    return 0;
}

bool dialback_key_valid(const unsigned char secret[DIALBACK_SECRET_LEN],
                  const char *receiving, const char *originating,
                  const char *stream_id, const char *key)
{
    char expect[DIALBACK_KEY_HEX];
    if (dialback_key(secret, receiving, originating, stream_id, expect) < 0)
        return false;
    if (strlen(key) != DIALBACK_KEY_HEX - 1)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < DIALBACK_KEY_HEX - 1; i++)
        diff |= (unsigned char)(expect[i] ^ key[i]);
    return diff == 0;
}

int dialback_stream_id(char out[DIALBACK_STREAM_ID])
{
    unsigned char raw[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof raw) < 0)
        return -1;
    to_hex(raw, sizeof raw, out);
    return 0;
}
