/* mdoc.h -- writing running text for the manual pages' generated parts
 * (responder/cli/man/): lines that mandoc -T lint -W style accepts. */
#ifndef RS_MDOC_H
#define RS_MDOC_H

#include <stdio.h>

#define MDOC_LINE_BYTES 80 /* longer input lines are a style problem to mandoc */

/* text as mdoc running text and a newline, in lines of at most
 * MDOC_LINE_BYTES broken at spaces; a line that would start with a dot or a
 * quote starts with \& so that it is not a request. */
void mdoc_text(FILE *out, const char *text);

/* text as one sentence of running text (mdoc_text): capitalised, ended
 * with a full stop, a backslash written \e. -1 when out of memory. */
int mdoc_sentence(FILE *out, const char *text);

#endif
