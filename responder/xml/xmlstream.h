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
    XMLSTREAM_ERR_NONE = 0,
    XMLSTREAM_ERR_NOT_WELL_FORMED,  /* not-well-formed */
    XMLSTREAM_ERR_RESTRICTED_XML,   /* restricted-xml: DTD, entity, PI, comment */
    XMLSTREAM_ERR_POLICY_VIOLATION, /* policy-violation: stanza too big or too deep */
    XMLSTREAM_ERR_INVALID_NAMESPACE,/* invalid-namespace: root not stream:stream */
    XMLSTREAM_ERR_BAD_FORMAT        /* bad-format: anything else malformed */
} xmlstream_error;

/* Which limit a policy-violation broke (xmlstream_limit_broken). */
typedef enum {
    XMLSTREAM_LIMIT_NONE = 0,
    XMLSTREAM_LIMIT_STANZA_BYTES, /* max_stanza_bytes */
    XMLSTREAM_LIMIT_DEPTH,        /* max_depth */
    XMLSTREAM_LIMIT_ATTRIBUTES,   /* max_attributes */
    XMLSTREAM_LIMIT_NAMESPACES,   /* max_namespaces */
    XMLSTREAM_LIMIT_LEAF,         /* leaf_stanzas */
    XMLSTREAM_LIMIT_COUNT
} xmlstream_limit;

/* Limits enforced on the peer's input. */
typedef struct xmlstream_limits {
    size_t max_stanza_bytes; /* bytes of one top-level element, default 256 KiB */
    unsigned max_depth;      /* element nesting inside a stanza, default 32 */
    unsigned max_attributes; /* attributes and namespace declarations of one
                                element, the stream header's too, default 64 */
    unsigned max_namespaces; /* namespace declarations in scope at once inside
                                one stanza, default 32 */
    bool leaf_stanzas;       /* top-level elements may hold no child element:
                                all an initiating peer sends before it
                                authenticates (starttls, auth, db:result) */
} xmlstream_limits;

/* The opening <stream:stream> tag. Strings empty when absent. */
typedef struct xmlstream_header {
    char to[1024];            /* 'to' attribute */
    char from[1024];          /* 'from' attribute */
    char id[128];             /* 'id' attribute */
    char version[16];         /* 'version' attribute */
    char default_ns[64];      /* default namespace, e.g. jabber:server */
    bool has_dialback_ns;     /* declares xmlns:db='jabber:server:dialback' */
} xmlstream_header;

/* What the owner is told. ud is the pointer given to xmlstream_new. */
typedef struct xmlstream_callbacks {
    /* The stream header arrived (also after each xmlstream_restart). */
    void (*on_header)(void *ud, const xmlstream_header *header);
    /* A depth-1 element starts (ns NULL when it has none): false stops the
     * stream here, unread (the owner ends it, e.g. a stanza before
     * authentication), and no more callbacks follow. May be NULL. */
    bool (*on_open)(void *ud, const xmlChar *localname, const xmlChar *ns);
    /* A complete depth-1 element. The tree belongs to the parser and is freed
     * after the call returns; copy what you keep (xmlCopyNode / xmlstream_serialize).
     * Element and attribute namespaces are resolved (node->ns->href). */
    void (*on_element)(void *ud, xmlNodePtr element);
    /* The peer sent </stream:stream>. */
    void (*on_close)(void *ud);
    /* The input broke a rule; text is a short human-readable reason. No more
     * callbacks follow until xmlstream_restart. */
    void (*on_error)(void *ud, xmlstream_error error, const char *text);
} xmlstream_callbacks;

typedef struct rs_xmlstream rs_xmlstream;

/* Fill the fields of limits that are 0 with their defaults. */
void xmlstream_limits_default(xmlstream_limits *limits);

/* New parser. NULL on allocation failure. limits are copied. */
rs_xmlstream *xmlstream_new(const xmlstream_limits *limits, const xmlstream_callbacks *cb, void *ud);

/* Feed bytes read from the peer. Callbacks run inside this call. Returns 0 while
 * the stream is usable, -1 once an error was reported (further calls do
 * nothing and return -1). A callback may call xmlstream_restart: the parser is
 * rebuilt after the current callback returns and the rest of this chunk is
 * discarded (peers must wait for our answer before restarting). */
int xmlstream_feed(rs_xmlstream *xs, const char *data, size_t len);

/* Release the parser of an idle stream: between stanzas, with nothing held
 * inside libxml2, the stream keeps only its header's bytes, and the next
 * bytes fed re-create the parser from them (the owner hears nothing of it).
 * Its context, dictionary and input buffer are most of what an idle stream
 * costs. true when released (now or before); false mid-stanza, before the
 * header, after an error or close, or inside a callback. */
bool xmlstream_release(rs_xmlstream *xs);

/* Release the parser as soon as the current xmlstream_feed returns (now,
 * outside one), if it ends between stanzas: for a stream that has just
 * authenticated, after which most peers send nothing for a while. Parsers
 * that live only while streams are set up leave no holes between what the
 * streams keep (the heap's pages go back). */
void xmlstream_release_soon(rs_xmlstream *xs);

/* Whether the parser is released (xmlstream_release): for tests. */
bool xmlstream_dormant(const rs_xmlstream *xs);

/* New limits for what follows (and the item being read), e.g. larger once
 * the peer authenticated; 0 fields get their defaults. */
void xmlstream_set_limits(rs_xmlstream *xs, const xmlstream_limits *limits);

/* The limit the reported error broke, XMLSTREAM_LIMIT_NONE when it broke
 * none (not well-formed, out of memory, ...). */
xmlstream_limit xmlstream_limit_broken(const rs_xmlstream *xs);

/* The limit's field name in xmlstream_limits, e.g. "max_attributes". */
const char *xmlstream_limit_name(xmlstream_limit limit);

/* Expect a new stream header (after STARTTLS or SASL success). */
void xmlstream_restart(rs_xmlstream *xs);

/* Free the parser. Safe from outside callbacks only. */
void xmlstream_free(rs_xmlstream *xs);

/* RFC 6120 condition name for an error, e.g. "not-well-formed". */
const char *xmlstream_error_condition(xmlstream_error error);

/* Serialize an element (with its namespace declarations, so the result is a
 * self-contained fragment) to a NUL-terminated malloc'd string; *len gets the
 * length if len is non-NULL. NULL on allocation failure. */
char *xmlstream_serialize(xmlNodePtr element, size_t *len);

/* Escape s for use in XML text or attribute values ('&<>"\''), into a
 * malloc'd string. NULL on allocation failure. */
char *xmlstream_escape(const char *s);

#endif
