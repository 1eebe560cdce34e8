/* stanza.c -- libxml2 tree helpers. */
#include "stanza.h"

#include <stdlib.h>
#include <string.h>

static bool ns_is(xmlNsPtr ns, const char *uri)
{
    return ns && ns->href && strcmp((const char *)ns->href, uri) == 0;
}

bool stanza_is(xmlNodePtr el, const char *ns, const char *name)
{
    return el && el->type == XML_ELEMENT_NODE &&
           strcmp((const char *)el->name, name) == 0 && ns_is(el->ns, ns);
}

bool stanza_name_is_stanza(const char *ns, const char *name, const char *content_ns)
{
    return ns && strcmp(ns, content_ns) == 0 &&
           (strcmp(name, "iq") == 0 || strcmp(name, "message") == 0 ||
            strcmp(name, "presence") == 0);
}

xmlNodePtr stanza_child(xmlNodePtr el, const char *ns, const char *name)
{
    for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0 && (!ns || ns_is(c->ns, ns)))
            return c;
    return NULL;
}

xmlNodePtr stanza_first_child(xmlNodePtr el)
{
    for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

const char *stanza_attr(xmlNodePtr el, const char *name)
{
    for (xmlAttrPtr a = el ? el->properties : NULL; a; a = a->next) {
        if (a->ns || strcmp((const char *)a->name, name) != 0)
            continue;
        if (a->children && a->children->type == XML_TEXT_NODE &&
            a->children->content && !a->children->next)
            return (const char *)a->children->content;
        return "";
    }
    return "";
}

char *stanza_text(xmlNodePtr el)
{
    xmlChar *t = xmlNodeGetContent(el);
    if (!t)
        return strdup("");
    char *s = strdup((const char *)t);
    xmlFree(t);
    return s;
}

xmlNodePtr stanza_new(const char *ns, const char *name)
{
    xmlNodePtr el = xmlNewNode(NULL, (const xmlChar *)name);
    if (!el)
        return NULL;
    xmlNsPtr n = xmlNewNs(el, (const xmlChar *)ns, NULL);
    if (!n) {
        xmlFreeNode(el);
        return NULL;
    }
    xmlSetNs(el, n);
    return el;
}

xmlNodePtr stanza_add(xmlNodePtr parent, const char *ns, const char *name)
{
    if (!parent)
        return NULL;
    xmlNodePtr el;
    if (ns) {
        el = stanza_new(ns, name);
        if (el && !xmlAddChild(parent, el)) {
            xmlFreeNode(el);
            el = NULL;
        }
    } else {
        el = xmlNewChild(parent, parent->ns, (const xmlChar *)name, NULL);
    }
    return el;
}

void stanza_set(xmlNodePtr el, const char *name, const char *value)
{
    if (el && value && value[0])
        xmlSetProp(el, (const xmlChar *)name, (const xmlChar *)value);
}

void stanza_add_text(xmlNodePtr el, const char *text)
{
    if (el && text)
        xmlNodeAddContent(el, (const xmlChar *)text); /* escaped on output */
}

const char *stanza_condition(xmlNodePtr el, const char *ns)
{
    for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && ns_is(c->ns, ns) &&
            strcmp((const char *)c->name, "text") != 0)
            return (const char *)c->name;
    return "";
}

bool stanza_rename_ns(xmlNodePtr el, const char *from, const char *to)
{
    for (xmlNodePtr n = el; n; ) {
        if (n->type == XML_ELEMENT_NODE)
            for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
                if (!ns->href || strcmp((const char *)ns->href, from) != 0)
                    continue;
                xmlChar *href = xmlStrdup((const xmlChar *)to);
                if (!href)
                    return false;
                xmlFree((xmlChar *)ns->href);
                ns->href = href;
            }
        /* depth first, without recursion: a stanza's depth is bounded, but
         * not by this function */
        if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            continue;
        }
        while (n != el && !n->next)
            n = n->parent;
        if (n == el)
            break;
        n = n->next;
    }
    return true;
}
