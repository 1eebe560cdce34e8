/* xmlstream.c -- the XML layer of an XMPP stream on top of libxml2's SAX2 push
 * parser. libxml2 tokenizes; this file only keeps the stream-level state
 * (depth, the stanza tree being built, byte accounting) and says no to the
 * parts of XML that XMPP forbids (RFC 6120 section 11.1).
 *
 * Why no DTD handling at all: the SAX handler has no entity store (entityDecl
 * only reports), getEntity refuses every non-predefined entity, and the
 * internal subset callback stops the parser before any declaration is read.
 * So an entity can never be defined, let alone expanded (billion laughs).
 */
#include "xmlstream.h"
#include "xmlstream_guard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#define XS_STREAMS_NS "http://etherx.jabber.org/streams"
#define XS_DIALBACK_NS "jabber:server:dialback"
#define XS_DEFAULT_STANZA_BYTES (256u * 1024u)
#define XS_DEFAULT_DEPTH 32u
#define XS_DEFAULT_ATTRIBUTES 64u
#define XS_DEFAULT_NAMESPACES 32u
#define XS_INPUT_BUFFER 512       /* libxml2 buffer start, bytes (x2) */
/* Longest stream header (XML declaration included) kept to re-create a
 * released parser; a longer one keeps its parser. */
#define XS_HEAD_MAX 2048u
/* Largest slice handed to xmlParseChunk at once (its size is an int). */
#define XS_SLICE (64u * 1024u)

#define XS_NO_TEXT "malformed input" /* a reason when memory ran out */

struct rs_xmlstream {
    xmlstream_limits limits;        /* effective limits, defaults filled in */
    xmlstream_callbacks cb;         /* the owner's callbacks */
    void *ud;                /* the owner's pointer */
    xmlParserCtxtPtr ctxt;   /* the current parser; rebuilt on restart */
    unsigned depth;          /* open elements, the stream root included */
    xmlDocPtr doc;           /* stanza being built, NULL between stanzas */
    xmlNodePtr cur;          /* innermost open element of that stanza */
    xmlNodePtr text;         /* cur's last child while it is text that
                                more text may extend, else NULL */
    size_t text_len;         /* bytes in text's content */
    size_t text_cap;         /* bytes its allocation holds */
    unsigned ns_in_scope;    /* namespace declarations of the open elements
                                of the stanza (each keeps its own count in
                                node->extra) */
    rs_xmlstream_guard guard;          /* counts each start tag's values first */
    xmlstream_limit broken;  /* the limit the reported error broke */
    uint64_t fed;            /* bytes given to this parser instance */
    uint64_t boundary;       /* input offset where the current item began */
    bool in_feed;            /* inside xmlstream_feed: restart must be deferred */
    bool restart_pending;    /* xmlstream_restart was called inside xmlstream_feed */
    bool closed;             /* </stream:stream> seen */
    bool refused;            /* on_open said no: nothing more is read */
    bool branches;           /* the current stanza may hold children despite
                                leaf_stanzas: a stream-level element
                                (stream:error) */
    bool reported;           /* on_error has been called */
    char *head;              /* the stream's first bytes as fed, up to the
                                header's '>' once it is parsed: replayed to
                                re-create a released parser */
    size_t head_len;         /* bytes in head */
    size_t header_end;       /* the header's length in head, 0: not known
                                (not parsed yet, or longer than XS_HEAD_MAX) */
    bool header_done;        /* the header was parsed: stop capturing */
    bool dormant;            /* parser released between stanzas (ctxt NULL) */
    bool replaying;          /* feeding head to a re-created parser */
    bool release_soon;       /* xmlstream_release_soon: when this feed ends */
    char root_qname[48];     /* the root's name as written ("stream:stream"),
                                "" if longer: a released stream's end tag is
                                recognised from it without a parser */
    xmlstream_error error;          /* first error, XMLSTREAM_ERR_NONE while usable */
    char *error_text;        /* its reason (malloc'd when it happens; NULL
                                without memory: XS_NO_TEXT is given) */
};

/* ---- failure bookkeeping ---- */

/* Record the first failure only: later ones are consequences of it. */
static void xs_fail(rs_xmlstream *xs, xmlstream_error error, const char *text)
{
    if (xs->error != XMLSTREAM_ERR_NONE)
        return;
    xs->error = error;
    /* libxml2 messages end in a newline; a reason is one line. */
    size_t n = strnlen(text, 159);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    free(xs->error_text);
    xs->error_text = strndup(text, n);
}

/* Record a failure found in one of our SAX callbacks and stop libxml2 from
 * reading further (xmlStopParser is the documented way to do so from a
 * callback). Not used from the error callback, which runs in the middle of
 * libxml2's own error paths. */
static void xs_fail_stop(rs_xmlstream *xs, xmlstream_error error, const char *text)
{
    xs_fail(xs, error, text);
    xmlStopParser(xs->ctxt);
}

/* A failure that broke one of the limits. */
static void xs_fail_limit(rs_xmlstream *xs, xmlstream_limit limit, const char *text)
{
    if (xs->error == XMLSTREAM_ERR_NONE)
        xs->broken = limit;
    xs_fail(xs, XMLSTREAM_ERR_POLICY_VIOLATION, text);
}

/* Our SAX callbacks ignore everything once the stream is done for. */
static bool xs_idle(const rs_xmlstream *xs)
{
    return xs->error != XMLSTREAM_ERR_NONE || xs->closed || xs->restart_pending ||
           xs->refused;
}

/* Where libxml2 is in the input, in bytes fed to this parser instance. */
static uint64_t xs_consumed(const rs_xmlstream *xs)
{
    long n = xmlByteConsumed(xs->ctxt);
    return n < 0 ? xs->boundary : (uint64_t)n;
}

/* ---- forbidden XML: DTDs, entities, PIs, comments ---- */

static void xs_sax_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                          const xmlChar *sys_id)
{
    (void)name, (void)ext_id, (void)sys_id;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "DTD not allowed");
}

static void xs_sax_entity_decl(void *ctx, const xmlChar *name, int type,
                               const xmlChar *pub_id, const xmlChar *sys_id,
                               xmlChar *content)
{
    (void)name, (void)type, (void)pub_id, (void)sys_id, (void)content;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "entity declaration not allowed");
}

/* Called for every entity reference except the five predefined ones, which
 * libxml2 resolves itself; returning NULL means nothing is ever expanded. */
static xmlEntityPtr xs_sax_get_entity(void *ctx, const xmlChar *name)
{
    (void)name;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "entity reference not allowed");
    return NULL;
}

static void xs_sax_reference(void *ctx, const xmlChar *name)
{
    (void)name;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "entity reference not allowed");
}

static void xs_sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target, (void)data;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "processing instruction not allowed");
}

static void xs_sax_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    xs_fail_stop(ctx, XMLSTREAM_ERR_RESTRICTED_XML, "comment not allowed");
}

/* libxml2's structured errors: warnings are harmless, anything else means the
 * input is not namespace-well-formed XML. */
static void xs_sax_error(void *ctx, xmlErrorPtr err)
{
    if (err == NULL || err->level < XML_ERR_ERROR || xs_idle(ctx))
        return;
    xs_fail(ctx, XMLSTREAM_ERR_NOT_WELL_FORMED,
            err->message ? err->message : "not well-formed");
}

/* ---- attribute values ---- */

/* Without XML_PARSE_NOENT (which we never set, it would expand entities),
 * libxml2 hands SAX2 attribute values with each '&' that came from &amp; or a
 * character reference re-encoded as "&#38;"; every '&' in the value starts
 * such a sequence, so one left-to-right pass restores the text. */
static char *xs_attr_value(const xmlChar *value, const xmlChar *end)
{
    size_t n = (size_t)(end - value);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = (char)value[i];
        if (value[i] == '&' && n - i >= 5 && memcmp(value + i, "&#38;", 5) == 0)
            i += 4;
    }
    out[o] = '\0';
    return out;
}

/* Copy an attribute value into a fixed header field; false if it does not fit. */
static bool xs_copy_field(char *dst, size_t size, const xmlChar *value,
                          const xmlChar *end, bool *oom)
{
    char *v = xs_attr_value(value, end);
    if (v == NULL) {
        *oom = true;
        return false;
    }
    size_t n = strlen(v);
    bool fits = n < size;
    if (fits)
        memcpy(dst, v, n + 1);
    free(v);
    return fits;
}

/* ---- the stream header ---- */

static bool xs_header_attrs(rs_xmlstream *xs, xmlstream_header *h, int nb_attributes,
                            const xmlChar **attrs)
{
    bool oom = false;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        const char *name = (const char *)a[0];
        char *dst = NULL;
        size_t size = 0;
        if (a[1] != NULL)
            continue; /* prefixed, e.g. xml:lang: not ours to report */
        if (strcmp(name, "to") == 0)
            dst = h->to, size = sizeof h->to;
        else if (strcmp(name, "from") == 0)
            dst = h->from, size = sizeof h->from;
        else if (strcmp(name, "id") == 0)
            dst = h->id, size = sizeof h->id;
        else if (strcmp(name, "version") == 0)
            dst = h->version, size = sizeof h->version;
        if (dst == NULL)
            continue;
        /* Too long to be valid: refusing beats truncating a name or an id
         * that is later compared or hashed (dialback keys use the id). */
        if (!xs_copy_field(dst, size, a[3], a[4], &oom)) {
            xs_fail_stop(xs, oom ? XMLSTREAM_ERR_POLICY_VIOLATION : XMLSTREAM_ERR_BAD_FORMAT,
                         oom ? "out of memory" : "stream header attribute too long");
            return false;
        }
    }
    return true;
}

static bool xs_header_namespaces(rs_xmlstream *xs, xmlstream_header *h, int nb_namespaces,
                                 const xmlChar **ns)
{
    for (int i = 0; i < nb_namespaces; i++) {
        const xmlChar *prefix = ns[2 * i], *href = ns[2 * i + 1];
        if (prefix == NULL) {
            if (strlen((const char *)href) >= sizeof h->default_ns) {
                xs_fail_stop(xs, XMLSTREAM_ERR_BAD_FORMAT, "default namespace too long");
                return false;
            }
            strcpy(h->default_ns, (const char *)href);
        } else if (xmlStrEqual(href, BAD_CAST XS_DIALBACK_NS)) {
            /* XEP-0220 says xmlns:db; the prefix itself carries no meaning. */
            h->has_dialback_ns = true;
        }
    }
    return true;
}

static void xs_open_stream(rs_xmlstream *xs, const xmlChar *localname,
                           const xmlChar *uri, int nb_namespaces,
                           const xmlChar **namespaces, int nb_attributes,
                           const xmlChar **attributes)
{
    if (uri == NULL || !xmlStrEqual(uri, BAD_CAST XS_STREAMS_NS)) {
        xs_fail_stop(xs, XMLSTREAM_ERR_INVALID_NAMESPACE, "root is not in the streams namespace");
        return;
    }
    if (!xmlStrEqual(localname, BAD_CAST "stream")) {
        xs_fail_stop(xs, XMLSTREAM_ERR_BAD_FORMAT, "root element is not stream");
        return;
    }
    xmlstream_header h;
    memset(&h, 0, sizeof h);
    if (!xs_header_namespaces(xs, &h, nb_namespaces, namespaces) ||
        !xs_header_attrs(xs, &h, nb_attributes, attributes))
        return;
    xs->depth = 1;
    /* libxml2 reports a start tag before it consumes the closing '>'. */
    xmlParserInputPtr in = xs->ctxt->input;
    xs->boundary = xs_consumed(xs) + (in->cur < in->end && *in->cur == '>');
    if (xs->replaying)
        return; /* the owner heard this header when it came */
    xs->header_done = true;
    xs->header_end = xs->boundary <= xs->head_len ? (size_t)xs->boundary : 0;
    /* keep the header's bytes only (usually a few hundred), none if it
     * was longer than the capture */
    char *head = xs->header_end ? realloc(xs->head, xs->header_end) : NULL;
    if (head || !xs->header_end) {
        if (!xs->header_end)
            free(xs->head);
        xs->head = head;
        xs->head_len = xs->header_end;
    }
    if (xs->cb.on_header)
        xs->cb.on_header(xs->ud, &h);
}

/* ---- building a stanza tree ---- */

/* The namespace node for (prefix, uri) in scope at node, declared on node
 * itself when the stanza does not declare it yet (it came from the stream
 * header): this keeps every stanza tree self-contained. */
static xmlNsPtr xs_bind_ns(xmlNodePtr node, const xmlChar *prefix, const xmlChar *uri)
{
    xmlNsPtr ns = xmlSearchNs(node->doc, node, prefix);
    if (ns != NULL && xmlStrEqual(ns->href, uri))
        return ns;
    return xmlNewNs(node, uri, prefix);
}

static bool xs_copy_ns_decls(xmlNodePtr node, int nb_namespaces, const xmlChar **ns)
{
    for (int i = 0; i < nb_namespaces; i++) {
        const xmlChar *prefix = ns[2 * i], *href = ns[2 * i + 1];
        /* xmlns:xml is legal and redundant; libxml2 refuses to store it. */
        if (prefix != NULL && xmlStrEqual(prefix, BAD_CAST "xml"))
            continue;
        if (xmlNewNs(node, href, prefix) == NULL)
            return false;
    }
    return true;
}

static bool xs_set_element_ns(xmlNodePtr node, const xmlChar *prefix, const xmlChar *uri)
{
    if (uri != NULL) {
        xmlNsPtr ns = xs_bind_ns(node, prefix, uri);
        if (ns == NULL)
            return false;
        xmlSetNs(node, ns);
        return true;
    }
    /* No namespace: undeclare an inherited default one so that the tree
     * (and its serialization) keeps meaning the same thing. */
    xmlNsPtr def = xmlSearchNs(node->doc, node, NULL);
    if (def != NULL && def->href != NULL && def->href[0] != '\0')
        return xmlNewNs(node, BAD_CAST "", NULL) != NULL;
    return true;
}

static bool xs_copy_attrs(xmlNodePtr node, int nb_attributes, const xmlChar **attrs)
{
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        xmlNsPtr ns = NULL;
        if (a[2] != NULL && (ns = xs_bind_ns(node, a[1], a[2])) == NULL)
            return false;
        char *value = xs_attr_value(a[3], a[4]);
        if (value == NULL)
            return false;
        xmlAttrPtr attr = xmlNewNsPropEatName(node, ns, (xmlChar *)a[0], BAD_CAST value);
        free(value);
        if (attr == NULL)
            return false;
    }
    return true;
}

static bool xs_add_element(rs_xmlstream *xs, const xmlChar *localname,
                           const xmlChar *prefix, const xmlChar *uri,
                           int nb_namespaces, const xmlChar **namespaces,
                           int nb_attributes, const xmlChar **attributes)
{
    if (xs->doc == NULL) {
        xs->doc = xmlNewDoc(BAD_CAST "1.0");
        if (xs->doc == NULL)
            return false;
        /* names stay in the parser's dictionary, where libxml2 put them,
         * rather than one copy per element and attribute */
        xs->doc->dict = xs->ctxt->dict;
        xmlDictReference(xs->doc->dict);
    }
    xmlNodePtr node = xmlNewDocNodeEatName(xs->doc, NULL, (xmlChar *)localname, NULL);
    if (node == NULL)
        return false;
    node->extra = (unsigned short)nb_namespaces; /* <= max_attributes */
    xs->text = NULL;
    if (xs->cur == NULL)
        xmlDocSetRootElement(xs->doc, node);
    else
        xmlAddChild(xs->cur, node);
    xs->cur = node;
    return xs_copy_ns_decls(node, nb_namespaces, namespaces) &&
           xs_set_element_ns(node, prefix, uri) &&
           xs_copy_attrs(node, nb_attributes, attributes);
}

static void xs_drop_stanza(rs_xmlstream *xs)
{
    xmlFreeDoc(xs->doc);
    xs->doc = NULL;
    xs->cur = xs->text = NULL;
    xs->ns_in_scope = 0;
}

/* ---- element and text callbacks ---- */

static void xs_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                         const xmlChar *uri, int nb_namespaces,
                         const xmlChar **namespaces, int nb_attributes,
                         int nb_defaulted, const xmlChar **attributes)
{
    rs_xmlstream *xs = ctx;
    (void)nb_defaulted; /* always 0: there is no DTD to default from */
    if (xs_idle(xs))
        return;
    if (xs->depth == 0) {
        int n = snprintf(xs->root_qname, sizeof xs->root_qname, "%s%s%s",
                         prefix ? (const char *)prefix : "", prefix ? ":" : "",
                         (const char *)localname);
        if (n < 0 || (size_t)n >= sizeof xs->root_qname)
            xs->root_qname[0] = '\0';
        xs_open_stream(xs, localname, uri, nb_namespaces, namespaces,
                       nb_attributes, attributes);
        return;
    }
    if (xs->depth == 1 && xs->cb.on_open && !xs->cb.on_open(xs->ud, localname, uri)) {
        xs->refused = true;
        xmlStopParser(xs->ctxt);
        return;
    }
    if (xs->depth == 1)
        xs->branches = uri && xmlStrEqual(uri, BAD_CAST XS_STREAMS_NS);
    if (xs->depth > 1 && xs->limits.leaf_stanzas && !xs->branches) {
        xs_fail_limit(xs, XMLSTREAM_LIMIT_LEAF,
                      "no child elements before the stream authenticates");
        xmlStopParser(xs->ctxt);
        return;
    }
    /* depth 1 is the stream; the stanza itself is nesting level 1. */
    if (xs->depth > xs->limits.max_depth) {
        xs_fail_limit(xs, XMLSTREAM_LIMIT_DEPTH, "stanza nested too deeply");
        xmlStopParser(xs->ctxt);
        return;
    }
    /* libxml2 looks each prefix up through every declaration in scope */
    xs->ns_in_scope += (unsigned)nb_namespaces;
    if (xs->ns_in_scope > xs->limits.max_namespaces) {
        xs_fail_limit(xs, XMLSTREAM_LIMIT_NAMESPACES,
                      "too many namespace declarations in scope");
        xmlStopParser(xs->ctxt);
        return;
    }
    xs->depth++;
    if (!xs_add_element(xs, localname, prefix, uri, nb_namespaces, namespaces,
                        nb_attributes, attributes))
        xs_fail_stop(xs, XMLSTREAM_ERR_POLICY_VIOLATION, "out of memory");
}

static void xs_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                       const xmlChar *uri)
{
    rs_xmlstream *xs = ctx;
    (void)localname, (void)prefix, (void)uri; /* libxml2 checks the match */
    if (xs_idle(xs))
        return;
    if (xs->depth == 1) {
        xs->depth = 0;
        xs->closed = true;
        xmlStopParser(xs->ctxt); /* whatever follows the close is not read */
        if (xs->cb.on_close)
            xs->cb.on_close(xs->ud);
        return;
    }
    xs->depth--;
    xs->ns_in_scope -= xs->cur->extra;
    xs->text = NULL;
    if (xs->depth > 1) {
        xs->cur = xs->cur->parent;
        return;
    }
    xs->boundary = xs_consumed(xs);
    if (xs->cb.on_element)
        xs->cb.on_element(xs->ud, xs->cur);
    xs_drop_stanza(xs);
}

static bool xs_all_space(const xmlChar *ch, int len)
{
    for (int i = 0; i < len; i++)
        if (ch[i] != ' ' && ch[i] != '\t' && ch[i] != '\r' && ch[i] != '\n')
            return false;
    return true;
}

/* Append text to the open element. libxml2 hands text over in pieces (each
 * entity and character reference is one): they extend one text node whose
 * allocation grows geometrically, so many pieces cost what one would
 * (xmlNodeAddContentLen measures and copies the whole text each time). */
static bool xs_add_text(rs_xmlstream *xs, const xmlChar *ch, int len)
{
    size_t n = (size_t)len;
    if (xs->text == NULL) {
        xmlNodePtr text = xmlNewDocTextLen(xs->doc, ch, len);
        if (text == NULL)
            return false;
        xmlAddChild(xs->cur, text); /* the last child is an element or none */
        xs->text = text;
        xs->text_len = n;
        xs->text_cap = n + 1;
        return true;
    }
    if (n >= xs->text_cap - xs->text_len) {
        size_t cap = xs->text_cap * 2 > xs->text_len + n + 1 ? xs->text_cap * 2
                                                              : xs->text_len + n + 1;
        xmlChar *grown = xmlRealloc(xs->text->content, cap);
        if (grown == NULL)
            return false;
        xs->text->content = grown;
        xs->text_cap = cap;
    }
    memcpy(xs->text->content + xs->text_len, ch, n);
    xs->text_len += n;
    xs->text->content[xs->text_len] = '\0';
    return true;
}

/* Text, CDATA and whitespace all arrive here. */
static void xs_sax_text(void *ctx, const xmlChar *ch, int len)
{
    rs_xmlstream *xs = ctx;
    if (xs_idle(xs) || xs->depth == 0)
        return;
    if (xs->depth == 1) {
        /* Between stanzas only whitespace (keepalives) is allowed; it closes
         * the accounting of the previous item so keepalives never add up. */
        if (!xs_all_space(ch, len))
            xs_fail_stop(xs, XMLSTREAM_ERR_BAD_FORMAT, "text outside a stanza");
        else
            xs->boundary = xs_consumed(xs);
        return;
    }
    if (!xs_add_text(xs, ch, len))
        xs_fail_stop(xs, XMLSTREAM_ERR_POLICY_VIOLATION, "out of memory");
}

/* ---- parser lifecycle ---- */

static xmlParserCtxtPtr xs_make_parser(rs_xmlstream *xs)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = xs_sax_start;
    sax.endElementNs = xs_sax_end;
    sax.characters = xs_sax_text;
    sax.ignorableWhitespace = xs_sax_text;
    sax.cdataBlock = xs_sax_text;
    sax.internalSubset = xs_sax_subset;
    sax.externalSubset = xs_sax_subset;
    sax.entityDecl = xs_sax_entity_decl;
    sax.getEntity = xs_sax_get_entity;
    sax.getParameterEntity = xs_sax_get_entity;
    sax.reference = xs_sax_reference;
    sax.processingInstruction = xs_sax_pi;
    sax.comment = xs_sax_comment;
    sax.serror = xs_sax_error;
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, xs, NULL, 0, NULL);
    if (ctxt == NULL)
        return NULL;
    /* XMPP is UTF-8 only (RFC 6120 section 11.6). Declaring it up front stops
     * libxml2 from guessing UTF-16 or UCS-4 from the first bytes, and
     * IGNORE_ENC stops an encoding declaration from switching later; so
     * input offsets are always raw byte counts. */
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    /* Never NOENT, DTDLOAD or HUGE: libxml2's own size limits stay on. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
    return ctxt;
}

/* Throw the parser and any half-built stanza away and start a new stream. */
static void xs_reset(rs_xmlstream *xs)
{
    xs_drop_stanza(xs);
    if (xs->ctxt != NULL)
        xmlFreeParserCtxt(xs->ctxt);
    free(xs->head);
    xs->head = NULL;
    xs->head_len = xs->header_end = 0;
    xs->header_done = xs->dormant = xs->replaying = false;
    xs->depth = 0;
    xs->fed = 0;
    xs->boundary = 0;
    xs->restart_pending = false;
    xs->closed = false;
    xs->refused = false;
    xs->reported = false;
    xs->error = XMLSTREAM_ERR_NONE;
    xs->broken = XMLSTREAM_LIMIT_NONE;
    free(xs->error_text);
    xs->error_text = NULL;
    xmlstream_guard_reset(&xs->guard);
    xs->ctxt = xs_make_parser(xs);
    if (xs->ctxt == NULL)
        xs_fail(xs, XMLSTREAM_ERR_POLICY_VIOLATION, "out of memory");
}

void xmlstream_limits_default(xmlstream_limits *l)
{
    if (l->max_stanza_bytes == 0)
        l->max_stanza_bytes = XS_DEFAULT_STANZA_BYTES;
    if (l->max_depth == 0)
        l->max_depth = XS_DEFAULT_DEPTH;
    if (l->max_attributes == 0)
        l->max_attributes = XS_DEFAULT_ATTRIBUTES;
    if (l->max_namespaces == 0)
        l->max_namespaces = XS_DEFAULT_NAMESPACES;
}

rs_xmlstream *xmlstream_new(const xmlstream_limits *limits, const xmlstream_callbacks *cb, void *ud)
{
    xmlInitParser(); /* idempotent: libxml2 guards its own one-time setup */
    /* A push parser's input buffer starts at twice this (8 KiB by default)
     * and grows with the stanza: idle streams keep the small start. */
    xmlDefaultBufferSize = XS_INPUT_BUFFER;
    rs_xmlstream *xs = calloc(1, sizeof *xs);
    if (xs == NULL)
        return NULL;
    if (limits != NULL)
        xs->limits = *limits;
    xmlstream_limits_default(&xs->limits);
    if (cb != NULL)
        xs->cb = *cb;
    xs->ud = ud;
    xs_reset(xs);
    if (xs->ctxt == NULL) {
        free(xs);
        return NULL;
    }
    return xs;
}

void xmlstream_free(rs_xmlstream *xs)
{
    if (xs == NULL)
        return;
    xs_drop_stanza(xs);
    if (xs->ctxt != NULL)
        xmlFreeParserCtxt(xs->ctxt);
    free(xs->head);
    free(xs->error_text);
    free(xs);
}

bool xmlstream_dormant(const rs_xmlstream *xs)
{
    return xs->dormant;
}

void xmlstream_restart(rs_xmlstream *xs)
{
    if (xs->in_feed) {
        /* Inside a callback libxml2 is still on the stack: stop it now,
         * rebuild once xmlParseChunk has returned. */
        xs->restart_pending = true;
        if (xs->ctxt != NULL)
            xmlStopParser(xs->ctxt);
        return;
    }
    xs_reset(xs);
}

/* ---- feeding ---- */

/* How many more bytes may be fed before the current item (header, stanza, or
 * whitespace between them) exceeds max_stanza_bytes. An item's size runs from
 * the end of the previous one to its own closing '>', so the check happens
 * before libxml2 ever buffers an oversized attribute or text node. */
static size_t xs_room(const rs_xmlstream *xs)
{
    uint64_t used = xs->fed > xs->boundary ? xs->fed - xs->boundary : 0;
    uint64_t max = xs->limits.max_stanza_bytes;
    return used >= max ? 0 : (size_t)(max - used);
}

/* Keep the stream's first bytes until its header is parsed (bounded). */
static void xs_capture_head(rs_xmlstream *xs, const char *data, size_t n)
{
    if (xs->header_done || xs->head_len >= XS_HEAD_MAX)
        return;
    if (n > XS_HEAD_MAX - xs->head_len)
        n = XS_HEAD_MAX - xs->head_len;
    if (!xs->head && !(xs->head = malloc(XS_HEAD_MAX)))
        return; /* without it the parser is simply never released */
    memcpy(xs->head + xs->head_len, data, n);
    xs->head_len += n;
}

bool xmlstream_release(rs_xmlstream *xs)
{
    if (xs->dormant)
        return true;
    if (xs->in_feed || !xs->header_end || xs->depth != 1 || xs->doc || !xs->ctxt ||
        xs_idle(xs))
        return false;
    /* what libxml2 holds unparsed may only be whitespace between stanzas
     * (a keepalive it has not judged yet): dropped with the parser */
    long used = xmlByteConsumed(xs->ctxt);
    xmlParserInputPtr in = xs->ctxt->input;
    if (used < 0 || !in || !in->cur || in->end < in->cur ||
        (uint64_t)used + (uint64_t)(in->end - in->cur) != xs->fed ||
        !xs_all_space(in->cur, (int)(in->end - in->cur)))
        return false;
    xmlFreeParserCtxt(xs->ctxt);
    xs->ctxt = NULL;
    xs->dormant = true;
    return true;
}

void xmlstream_release_soon(rs_xmlstream *xs)
{
    if (xs->in_feed)
        xs->release_soon = true;
    else
        xmlstream_release(xs);
}

/* A new parser for the same stream: the header's bytes again, silently. */
static void xs_wake(rs_xmlstream *xs)
{
    xs->dormant = false;
    xs->ctxt = xs_make_parser(xs);
    if (xs->ctxt == NULL) {
        xs_fail(xs, XMLSTREAM_ERR_POLICY_VIOLATION, "out of memory");
        return;
    }
    xs->depth = 0;
    xs->replaying = true;
    int rc = xmlParseChunk(xs->ctxt, xs->head, (int)xs->header_end, 0);
    xs->replaying = false;
    xs->fed = xs->boundary = xs->header_end;
    if (rc != 0 || xs->depth != 1)
        xs_fail(xs, XMLSTREAM_ERR_POLICY_VIOLATION, "cannot resume the stream");
}

/* Whether data is the root's end tag (whitespace around it; what follows
 * the end is never read). Peers end idle streams with nothing else: a
 * crowd leaving at once would otherwise re-create a parser per stream in
 * one loop turn, only to read that. */
static bool xs_end_tag_only(const rs_xmlstream *xs, const char *data, size_t len)
{
    size_t n = strlen(xs->root_qname), i = 0;
    while (i < len && xs_all_space((const xmlChar *)data + i, 1))
        i++;
    if (n == 0 || len - i < n + 3 || data[i] != '<' || data[i + 1] != '/' ||
        memcmp(data + i + 2, xs->root_qname, n) != 0)
        return false;
    for (i += n + 2; i < len && xs_all_space((const xmlChar *)data + i, 1);)
        i++;
    return i < len && data[i] == '>';
}

static void xs_parse(rs_xmlstream *xs, const char *data, size_t len)
{
    if (xs->dormant && len > 0 && xs_end_tag_only(xs, data, len)) {
        xs->fed += len;
        xs->depth = 0;
        xs->closed = true;
        if (xs->cb.on_close)
            xs->cb.on_close(xs->ud);
        return;
    }
    if (xs->dormant && len > 0)
        xs_wake(xs);
    while (len > 0 && !xs_idle(xs)) {
        size_t n = xs_room(xs);
        if (n == 0) {
            xs_fail_limit(xs, XMLSTREAM_LIMIT_STANZA_BYTES, "stanza too large");
            return;
        }
        if (n > len)
            n = len;
        if (n > XS_SLICE)
            n = XS_SLICE;
        size_t counted = xmlstream_guard_scan(&xs->guard, data, n, xs->limits.max_attributes);
        if (counted < n) {
            /* what precedes the tag is parsed; the tag never reaches libxml2 */
            if (counted > 0) {
                xs_capture_head(xs, data, counted);
                xmlParseChunk(xs->ctxt, data, (int)counted, 0);
                xs->fed += counted;
            }
            if (!xs_idle(xs))
                xs_fail_limit(xs, XMLSTREAM_LIMIT_ATTRIBUTES,
                              "too many attributes on one element");
            return;
        }
        xs_capture_head(xs, data, n);
        int rc = xmlParseChunk(xs->ctxt, data, (int)n, 0);
        xs->fed += n;
        data += n;
        len -= n;
        if (rc != 0 && !xs_idle(xs))
            xs_fail(xs, XMLSTREAM_ERR_NOT_WELL_FORMED, "not well-formed");
    }
}

int xmlstream_feed(rs_xmlstream *xs, const char *data, size_t len)
{
    if (xs->reported)
        return -1;
    xs->in_feed = true;
    if (xs->error == XMLSTREAM_ERR_NONE && !xs->closed)
        xs_parse(xs, data, len);
    int rc = 0;
    if (xs->error != XMLSTREAM_ERR_NONE && !xs->restart_pending) {
        /* Reported here, after libxml2 returned, so the owner may do
         * anything in on_error and is told exactly once. */
        xs->reported = true;
        rc = -1;
        if (xs->cb.on_error)
            xs->cb.on_error(xs->ud, xs->error, xs->error_text ? xs->error_text
                                                              : XS_NO_TEXT);
    }
    xs->in_feed = false;
    if (xs->restart_pending)
        xs_reset(xs); /* the rest of this chunk is discarded */
    if (xs->release_soon) {
        xs->release_soon = false;
        xmlstream_release(xs); /* refused mid-stanza: the sweep tries later */
    }
    return rc;
}

void xmlstream_set_limits(rs_xmlstream *xs, const xmlstream_limits *limits)
{
    xs->limits = *limits;
    xmlstream_limits_default(&xs->limits);
}

xmlstream_limit xmlstream_limit_broken(const rs_xmlstream *xs)
{
    return xs->broken;
}

const char *xmlstream_limit_name(xmlstream_limit limit)
{
    static const char *const names[XMLSTREAM_LIMIT_COUNT] = {
        [XMLSTREAM_LIMIT_NONE] = "none",
        [XMLSTREAM_LIMIT_STANZA_BYTES] = "max_stanza_bytes",
        [XMLSTREAM_LIMIT_DEPTH] = "max_depth",
        [XMLSTREAM_LIMIT_ATTRIBUTES] = "max_attributes",
        [XMLSTREAM_LIMIT_NAMESPACES] = "max_namespaces",
        [XMLSTREAM_LIMIT_LEAF] = "leaf_stanzas",
    };
    return limit < XMLSTREAM_LIMIT_COUNT ? names[limit] : "none";
}
