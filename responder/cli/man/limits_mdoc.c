/* limits_mdoc.c -- the keys of `limits` as mdoc list items, from the table
 * the configuration is read with (config_limit_at): the part of
 * xmpp-responder.conf.5 between its "limits:begin" and "limits:end" marks.
 * tests/cli/test_man.py compares the page with this output and, with
 * --update, writes it in; nobody edits that part by hand. */
#include <stdio.h>

#include "config.h"
#include "mdoc.h"

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
        char def[64], min[64], max[64], range[256];
        limits_value_text(d.def, d.is_size, def, sizeof def);
        limits_value_text(d.min, d.is_size, min, sizeof min);
        limits_value_text(d.max, d.is_size, max, sizeof max);
        snprintf(range, sizeof range, "Default %s, accepted from %s to %s.", def, min,
                 max);
        printf(".It Ic %s\n", d.key);
        if (mdoc_sentence(stdout, d.why) < 0)
            return 1;
        mdoc_text(stdout, range);
    }
    return ferror(stdout) ? 1 : 0;
}
