/* utf8.h -- the one place that knows UTF-8 (RFC 3629): how long a valid
 * sequence is, whether a string is valid, where to cut without splitting a
 * character, and how to encode a code point. Overlong forms, surrogates and
 * code points above U+10FFFF are invalid. */
#ifndef RS_UTF8_H
#define RS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid sequence at s (1..4), or 0 when it is invalid or
 * would run past left bytes. */
size_t utf8_char_len(const unsigned char *s, size_t left);

/* Whether the n bytes at s are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

/* The length of NUL-terminated s cut to at most max bytes without splitting
 * a UTF-8 sequence. */
size_t utf8_cut(const char *s, size_t max);

/* Encode cp (below U+10000, no surrogate) into out (at least 3 bytes): the
 * byte count, or 0 when cp cannot be encoded so. */
size_t utf8_put_bmp(char *out, unsigned cp);

#endif
