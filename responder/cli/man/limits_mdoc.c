/* limits_mdoc.c -- the keys of `limits` as mdoc list items, from the table
 * the configuration is read with (config_limit_at): the part of
 * xmpp-responder.conf.5 between its "limits:begin" and "limits:end" marks.
 * tests/test_man.py compares the page with this output and, with
 * --update, writes it in; nobody edits that part by hand. */
#include <ctype.h>
#include <stdio.h>

#include "config.h"

/* text as one mdoc sentence: capitalised, ended with a full stop, a
 * backslash written \e, a leading dot or quote kept from being a request. */
static void put_sentence(const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        fputs("\\&", stdout);
    for (const char *p = text; *p; p++)
        if (*p == '\\')
            fputs("\\e", stdout);
        else
            putchar(p == text ? toupper((unsigned char)*p) : *p);
    puts(".");
}

/* v, and for a size that is a whole number of KiB, MiB, ... that too. */
static void put_value(long long v, int is_size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    printf("%lld", v);
    if (!is_size || v < 1024 || v % 1024)
        return;
    size_t u = 0;
    v /= 1024;
    while (u + 1 < sizeof units / sizeof units[0] && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    printf(" (%lld\\~%s)", v, units[u]); /* \~: not broken across lines */
}

int main(void)
{
    config_limit_doc d;
    for (size_t i = 0; config_limit_at(i, &d); i++) {
        printf(".It Ic %s\n", d.key);
        put_sentence(d.why);
        fputs("Default ", stdout);
        put_value(d.def, d.is_size);
        fputs(", accepted from ", stdout);
        put_value(d.min, d.is_size);
        fputs(" to ", stdout);
        put_value(d.max, d.is_size);
        puts(".");
    }
    return ferror(stdout) ? 1 : 0;
}
