/* xmlstream_guard.c -- the start-tag counter in front of libxml2
 * (xmlstream_guard.h). One pass, constant work per byte: memchr skips text,
 * values and skipped markup to the next byte that matters. */
#include "xmlstream_guard.h"

#include <stdbool.h>
#include <string.h>

void xmlstream_guard_reset(rs_xmlstream_guard *g)
{
    memset(g, 0, sizeof *g);
    g->state = GUARD_TEXT;
}

static void skip_until(rs_xmlstream_guard *g, const char *until)
{
    g->state = GUARD_SKIP;
    g->until = until;
    g->matched = 0;
}

/* How much of until is matched after c follows the matched part: the
 * longest prefix of until that ends the text seen ("--->" ends a comment). */
static unsigned next_match(const char *until, unsigned matched, char c)
{
    char seen[4];
    size_t n = strlen(until);
    memcpy(seen, until, matched);
    seen[matched] = c;
    for (unsigned k = matched + 1 < n ? matched + 1 : (unsigned)n; k > 0; k--)
        if (memcmp(seen + matched + 1 - k, until, k) == 0)
            return k;
    return 0;
}

/* After "<!": "--" opens a comment, "[CDATA[" a CDATA section, anything
 * else a declaration (a DTD, which libxml2 then refuses). */
static void bang(rs_xmlstream_guard *g, char c)
{
    if (g->matched == 0) {
        g->until = c == '-' ? "--" : c == '[' ? "[CDATA[" : NULL;
        if (!g->until) {
            if (c == '>')
                g->state = GUARD_TEXT;
            else
                skip_until(g, ">");
            return;
        }
    }
    if (c != g->until[g->matched]) {
        skip_until(g, ">");
        if (c == '>')
            g->state = GUARD_TEXT;
        return;
    }
    if (g->until[++g->matched] == '\0')
        skip_until(g, g->until[0] == '-' ? "-->" : "]]>");
}

size_t xmlstream_guard_scan(rs_xmlstream_guard *g, const char *p, size_t len, unsigned max_values)
{
    size_t i = 0;
    while (i < len) {
        char c = p[i];
        switch (g->state) {
        case GUARD_TEXT: {
            const char *lt = memchr(p + i, '<', len - i);
            if (!lt)
                return len;
            g->state = GUARD_LT;
            i = (size_t)(lt - p) + 1;
            continue;
        }
        case GUARD_LT:
            if (c == '!') {
                g->state = GUARD_BANG;
                g->matched = 0;
            } else if (c == '?') {
                skip_until(g, "?>");
            } else if (c == '/') {
                skip_until(g, ">"); /* end tags hold no values */
            } else {
                g->state = GUARD_TAG;
                g->values = 0;
                continue; /* c is the name's first byte, or '>' */
            }
            break;
        case GUARD_TAG:
            if (c == '>') {
                g->state = GUARD_TEXT;
            } else if (c == '"' || c == '\'') {
                if (g->values >= max_values)
                    return i;
                g->values++;
                g->state = GUARD_VALUE;
                g->quote = c;
            }
            break;
        case GUARD_VALUE: {
            const char *q = memchr(p + i, g->quote, len - i);
            if (!q)
                return len;
            g->state = GUARD_TAG;
            i = (size_t)(q - p) + 1;
            continue;
        }
        case GUARD_BANG:
            bang(g, c);
            break;
        case GUARD_SKIP:
            if (g->matched == 0) {
                const char *f = memchr(p + i, g->until[0], len - i);
                if (!f)
                    return len;
                i = (size_t)(f - p);
                c = p[i];
            }
            g->matched = next_match(g->until, g->matched, c);
            if (g->until[g->matched] == '\0')
                g->state = GUARD_TEXT;
            break;
        }
        i++;
    }
    return len;
}
