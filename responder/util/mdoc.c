/* mdoc.c -- running text for the generated parts of the manual pages. */
#include "mdoc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void mdoc_text(FILE *out, const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ");
        if (col > 0 && col + 1 + n > MDOC_LINE_BYTES) {
            fputc('\n', out);
            col = 0;
        } else if (col > 0) {
            fputc(' ', out);
            col++;
        }
        if (col == 0 && (*p == '.' || *p == '\'')) {
            fputs("\\&", out);
            col += 2;
        }
        fwrite(p, 1, n, out);
        col += n;
        p += n + strspn(p + n, " ");
    }
    fputc('\n', out);
}

int mdoc_sentence(FILE *out, const char *text)
{
    char *s = malloc(2 * strlen(text) + 2);
    if (!s)
        return -1;
    char *o = s;
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            *o++ = '\\', *o++ = 'e';
        else
            *o++ = p == text ? (char)toupper((unsigned char)*p) : *p;
    }
    strcpy(o, ".");
    mdoc_text(out, s);
    free(s);
    return 0;
}
