/* dialback.h -- server dialback keys (XEP-0220 with XEP-0185 keys) and
 * unpredictable stream ids. */
#ifndef RS_DIALBACK_H
#define RS_DIALBACK_H

#include <stdbool.h>

#define DIALBACK_SECRET_LEN 32
#define DIALBACK_KEY_HEX 65     /* 64 hex digits + NUL */
#define DIALBACK_STREAM_ID 33   /* 32 hex digits + NUL */

/* Fill secret with random bytes (once per daemon start). 0 or -1. */
int dialback_secret_init(unsigned char secret[DIALBACK_SECRET_LEN]);

/* key = hex(HMAC-SHA256(hex(SHA256(secret)), "receiving originating id")).
 * 0 or -1. */
int dialback_key(const unsigned char secret[DIALBACK_SECRET_LEN], const char *receiving,
           const char *originating, const char *stream_id,
           char out[DIALBACK_KEY_HEX]);

/* Constant-time check of a key a peer asks us to verify. */
bool dialback_key_valid(const unsigned char secret[DIALBACK_SECRET_LEN],
                  const char *receiving, const char *originating,
                  const char *stream_id, const char *key);

/* A fresh random stream id (hex). 0 or -1. */
int dialback_stream_id(char out[DIALBACK_STREAM_ID]);

#endif
