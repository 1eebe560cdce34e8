/* xmlstream_guard.h -- counts what each start tag holds before libxml2
 * reads it, so that a tag with more attributes and namespace declarations
 * than the limit ends the stream before libxml2 compares them pairwise
 * (xmlstream.c's own; not part of the XML layer's contract). It only finds
 * where markup begins and ends; libxml2 still parses and judges it all.
 * Why: README.md. */
#ifndef RS_XMLSTREAM_GUARD_H
#define RS_XMLSTREAM_GUARD_H

#include <stddef.h>

/* Where the guard is in the markup. */
typedef enum {
    GUARD_TEXT,    /* character data, or between stanzas */
    GUARD_LT,      /* just after '<' */
    GUARD_TAG,     /* inside a start tag, outside its quoted values */
    GUARD_VALUE,   /* inside a quoted value of a start tag */
    GUARD_BANG,    /* just after "<!": comment, CDATA or declaration? */
    GUARD_SKIP     /* inside markup that ends with 'until' */
} xmlstream_guard_state;

typedef struct rs_xmlstream_guard {
    xmlstream_guard_state state;
    char quote;            /* the quote ending the value (GUARD_VALUE) */
    const char *until;     /* GUARD_SKIP: its terminator ("-->", "]]>", "?>", ">");
                              GUARD_BANG: the opening being matched */
    unsigned matched;      /* bytes of until matched so far */
    unsigned values;       /* quoted values (attributes and namespace
                              declarations) in the current start tag */
} rs_xmlstream_guard;

/* Back to the start of a document. */
void xmlstream_guard_reset(rs_xmlstream_guard *g);

/* Read len bytes. Returns len when every start tag so far holds at most
 * max_values quoted values; otherwise the offset of the quote that went
 * over, and the guard stays there. Linear in len. */
size_t xmlstream_guard_scan(rs_xmlstream_guard *g, const char *p, size_t len, unsigned max_values);

#endif
