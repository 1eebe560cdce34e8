/* test_utf8.c -- the one UTF-8 helper: what it accepts is exactly RFC 3629
 * (no overlong forms, no surrogates, nothing past U+10FFFF, no cut
 * sequences), cutting never splits a character, encoding round-trips. */
#include <string.h>

#include "check.h"
#include "utf8.h"

#define LEN(s) utf8_char_len((const unsigned char *)(s), sizeof(s) - 1)

int main(void)
{
    CHECK(LEN("a") == 1);
    CHECK(LEN("\xc3\xa9") == 2);            /* é */
    CHECK(LEN("\xe2\x82\xac") == 3);        /* € */
    CHECK(LEN("\xf0\x9f\x98\x80") == 4);    /* U+1F600 */
    CHECK(LEN("\xf4\x8f\xbf\xbf") == 4);    /* U+10FFFF */
    CHECK(LEN("\xc0\xaf") == 0);            /* overlong '/' */
    CHECK(LEN("\xe0\x80\xaf") == 0);        /* overlong, 3 bytes */
    CHECK(LEN("\xf0\x80\x80\xaf") == 0);    /* overlong, 4 bytes */
    CHECK(LEN("\xed\xa0\x80") == 0);        /* surrogate U+D800 */
    CHECK(LEN("\xf4\x90\x80\x80") == 0);    /* U+110000 */
    CHECK(LEN("\xf5\x80\x80\x80") == 0);    /* lead byte never valid */
    CHECK(LEN("\x80") == 0);                /* lone continuation */
    CHECK(LEN("\xc3") == 0);                /* cut at the end of input */
    CHECK(LEN("\xe2\x82") == 0);
    CHECK(LEN("\xc3\x41") == 0);            /* not a continuation */
    CHECK(utf8_char_len((const unsigned char *)"\xc3\xa9", 1) == 0);
    CHECK(utf8_char_len((const unsigned char *)"", 0) == 0);

    CHECK(utf8_valid("h\xc3\xa9llo \xe2\x82\xac", 11));
    CHECK(utf8_valid("", 0));
    CHECK(!utf8_valid("ab\xff", 3));
    CHECK(!utf8_valid("ab\xc3", 3));        /* cut last character */
    CHECK(utf8_valid("ab\xc3", 2));         /* the length bounds the check */

    CHECK(utf8_cut("h\xc3\xa9llo", 2) == 1);
    CHECK(utf8_cut("h\xc3\xa9llo", 3) == 3);
    CHECK(utf8_cut("abc", 10) == 3);
    CHECK(utf8_cut("\xf0\x9f\x98\x80!", 3) == 0);
    CHECK(utf8_cut("\xf0\x9f\x98\x80!", 4) == 4);

    char b[4];
    CHECK(utf8_put_bmp(b, 'A') == 1 && b[0] == 'A');
    CHECK(utf8_put_bmp(b, 0xe9) == 2 && memcmp(b, "\xc3\xa9", 2) == 0);
    CHECK(utf8_put_bmp(b, 0x20ac) == 3 && memcmp(b, "\xe2\x82\xac", 3) == 0);
    CHECK(utf8_put_bmp(b, 0xd800) == 0);
    CHECK(utf8_put_bmp(b, 0x10000) == 0);
    /* every BMP code point it encodes, it reads back at the same length */
    unsigned bad = 0;
    for (unsigned cp = 1; cp < 0x10000; cp++) {
        size_t k = utf8_put_bmp(b, cp);
        if ((cp >= 0xd800 && cp <= 0xdfff) != (k == 0) ||
            (k && utf8_char_len((unsigned char *)b, k) != k))
            bad++;
    }
    CHECK(bad == 0);
    return check_done();
}
