/* limits_mdoc.c -- the keys of `limits` as mdoc list items, from the table
 * the configuration is read with (config_limit_at): the part of
 * xmpp-responder.conf.5 between its "limits:begin" and "limits:end" marks.
 * tests/cli/test_man.py compares the page with this output and, with
 * --update, writes it in; nobody edits that part by hand. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define LINE_BYTES 80 /* longer input lines are a style problem to mandoc */

/* text, mdoc running text without a newline, in lines of at most LINE_BYTES
 * broken at spaces; a line that would start with a dot or a quote starts
 * with \& so that it is not a request. */
static void put_wrapped(const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ");
        if (col > 0 && col + 1 + n > LINE_BYTES) {
            putchar('\n');
            col = 0;
        } else if (col > 0) {
            putchar(' ');
            col++;
        }
        if (col == 0 && (*p == '.' || *p == '\'')) {
            fputs("\\&", stdout);
            col += 2;
        }
        fwrite(p, 1, n, stdout);
        col += n;
        p += n + strspn(p + n, " ");
    }
    putchar('\n');
}

/* why as one sentence: capitalised, ended with a full stop, a backslash
 * written \e. NULL when out of memory. */
static char *sentence(const char *why)
{
    char *out = malloc(2 * strlen(why) + 2);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = why; *p; p++) {
        if (*p == '\\')
            *o++ = '\\', *o++ = 'e';
        else
            *o++ = p == why ? (char)toupper((unsigned char)*p) : *p;
    }
    strcpy(o, ".");
    return out;
}

/* v into out, and for a size that is a whole number of KiB, MiB, ... that
 * too, joined by \~ so that no line break splits it. */
static void limits_value_text(long long v, int is_size, char *out, size_t len)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    int n = snprintf(out, len, "%lld", v);
    if (!is_size || v < 1024 || v % 1024)
        return;
    size_t u = 0;
    v /= 1024;
    while (u + 1 < sizeof units / sizeof units[0] && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(out + n, len - (size_t)n, " (%lld\\~%s)", v, units[u]);
}

int main(void)
{
    config_limit_doc d;
    for (size_t i = 0; config_limit_at(i, &d); i++) {
        char *why = sentence(d.why);
        if (!why)
            return 1;
        char def[64], min[64], max[64], range[256];
        limits_value_text(d.def, d.is_size, def, sizeof def);
        limits_value_text(d.min, d.is_size, min, sizeof min);
        limits_value_text(d.max, d.is_size, max, sizeof max);
        snprintf(range, sizeof range, "Default %s, accepted from %s to %s.", def, min,
                 max);
        printf(".It Ic %s\n", d.key);
        put_wrapped(why);
        put_wrapped(range);
        free(why);
    }
    return ferror(stdout) ? 1 : 0;
}
