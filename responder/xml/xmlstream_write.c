/* xmlstream_write.c -- what a stream's owner writes back (xmlstream.h): the
 * name of a stream error's condition, an element serialized as a
 * self-contained fragment, text escaped for an attribute or a body. Apart
 * from the parser in xmlstream.c: these keep no stream state. */
#include "xmlstream.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

const char *xmlstream_error_condition(xmlstream_error error)
{
    switch (error) {
    case XMLSTREAM_ERR_NONE:
        return "none";
    case XMLSTREAM_ERR_NOT_WELL_FORMED:
        return "not-well-formed";
    case XMLSTREAM_ERR_RESTRICTED_XML:
        return "restricted-xml";
    case XMLSTREAM_ERR_POLICY_VIOLATION:
        return "policy-violation";
    case XMLSTREAM_ERR_INVALID_NAMESPACE:
        return "invalid-namespace";
    case XMLSTREAM_ERR_BAD_FORMAT:
        return "bad-format";
    }
    return "undefined-condition";
}

static char *xs_dump(xmlDocPtr doc, xmlNodePtr node, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (buf == NULL)
        return NULL;
    char *out = NULL;
    if (xmlNodeDump(buf, doc, node, 0, 0) >= 0) {
        size_t n = (size_t)xmlBufferLength(buf);
        out = malloc(n + 1);
        if (out != NULL) {
            memcpy(out, xmlBufferContent(buf), n);
            out[n] = '\0';
            if (len != NULL)
                *len = n;
        }
    }
    xmlBufferFree(buf);
    return out;
}

char *xmlstream_serialize(xmlNodePtr element, size_t *len)
{
    if (element == NULL)
        return NULL;
    /* Copying into a fresh document makes libxml2 declare every namespace
     * the subtree uses but inherits from outside, so any element (a stanza
     * or one of its children) serializes as a self-contained fragment. */
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    if (doc == NULL)
        return NULL;
    char *out = NULL;
    xmlNodePtr copy = xmlDocCopyNode(element, doc, 1);
    if (copy != NULL) {
        out = xs_dump(doc, copy, len);
        xmlFreeNode(copy);
    }
    xmlFreeDoc(doc);
    return out;
}

char *xmlstream_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += (*p == '&') ? 5 : (*p == '<' || *p == '>') ? 4
           : (*p == '"' || *p == '\'') ? 6 : 1;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default: *o++ = *p; continue;
        }
        size_t r = strlen(rep);
        memcpy(o, rep, r);
        o += r;
    }
    *o = '\0';
    return out;
}
