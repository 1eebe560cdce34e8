/* xmlstream.h -- the XML layer of an XMPP stream: a libxml2 SAX2 push parser
 * that reports the stream header, each complete top-level element (stanza or
 * nonza) as a small libxml2 tree, the stream close, and errors, while
 * enforcing size and depth limits and forbidding DTDs, entities, processing
 * instructions and network access.
 */
#ifndef RS_XMLSTREAM_H
#define RS_XMLSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

/* Why the stream became unusable. Each maps to an RFC 6120 stream error. */
typedef enum {
    XS_ERR_NONE = 0,
    XS_ERR_NOT_WELL_FORMED,  /* not-well-formed */
    XS_ERR_RESTRICTED_XML,   /* restricted-xml: DTD, entity, PI, comment */
    XS_ERR_POLICY_VIOLATION, /* policy-violation: stanza too big or too deep */
    XS_ERR_INVALID_NAMESPACE,/* invalid-namespace: root not stream:stream */
    XS_ERR_BAD_FORMAT        /* bad-format: anything else malformed */
} xs_error;

/* Limits enforced on the peer's input. */
typedef struct xs_limits {
    size_t max_stanza_bytes; /* bytes of one top-level element, default 256 KiB */
    unsigned max_depth;      /* element nesting inside a stanza, default 32 */
} xs_limits;

/* The opening <stream:stream> tag. Strings empty when absent. */
typedef struct xs_header {
    char to[1024];            /* 'to' attribute */
    char from[1024];          /* 'from' attribute */
    char id[128];             /* 'id' attribute */
    char version[16];         /* 'version' attribute */
    char default_ns[64];      /* default namespace, e.g. jabber:server */
    bool has_dialback_ns;     /* declares xmlns:db='jabber:server:dialback' */
} xs_header;

/* What the owner is told. ud is the pointer given to xs_new. */
typedef struct xs_callbacks {
    /* The stream header arrived (also after each xs_restart). */
    void (*on_header)(void *ud, const xs_header *header);
    /* A complete depth-1 element. The tree belongs to the parser and is freed
     * after the call returns; copy what you keep (xmlCopyNode / xs_serialize).
     * Element and attribute namespaces are resolved (node->ns->href). */
    void (*on_element)(void *ud, xmlNodePtr element);
    /* The peer sent </stream:stream>. */
    void (*on_close)(void *ud);
    /* The input broke a rule; text is a short human-readable reason. No more
     * callbacks follow until xs_restart. */
    void (*on_error)(void *ud, xs_error error, const char *text);
} xs_callbacks;

typedef struct xs_stream xs_stream;

/* New parser. NULL on allocation failure. limits are copied. */
xs_stream *xs_new(const xs_limits *limits, const xs_callbacks *cb, void *ud);

/* Feed bytes read from the peer. Callbacks run inside this call. Returns 0 while
 * the stream is usable, -1 once an error was reported (further calls do
 * nothing and return -1). A callback may call xs_restart: the parser is
 * rebuilt after the current callback returns and the rest of this chunk is
 * discarded (peers must wait for our answer before restarting). */
int xs_feed(xs_stream *xs, const char *data, size_t len);

/* Expect a new stream header (after STARTTLS or SASL success). */
void xs_restart(xs_stream *xs);

/* Free the parser. Safe from outside callbacks only. */
void xs_free(xs_stream *xs);

/* RFC 6120 condition name for an error, e.g. "not-well-formed". */
const char *xs_error_condition(xs_error error);

/* Serialize an element (with its namespace declarations, so the result is a
 * self-contained fragment) to a NUL-terminated malloc'd string; *len gets the
 * length if len is non-NULL. NULL on allocation failure. */
char *xs_serialize(xmlNodePtr element, size_t *len);

/* Escape s for use in XML text or attribute values ('&<>"\''), into a
 * malloc'd string. NULL on allocation failure. */
char *xs_escape(const char *s);

#endif
