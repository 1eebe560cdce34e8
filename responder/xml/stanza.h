/* stanza.h -- small helpers over libxml2 trees for reading received elements
 * and building the ones we send. Namespaces are compared by URI. */
#ifndef RS_STANZA_H
#define RS_STANZA_H

#include <stdbool.h>

#include <libxml/tree.h>

#define NS_SERVER "jabber:server"
#define NS_CLIENT "jabber:client"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_ROSTER "jabber:iq:roster"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_DIALBACK "jabber:server:dialback"
#define NS_DIALBACK_FEATURE "urn:xmpp:features:dialback"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING "urn:xmpp:ping"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_VERSION "jabber:iq:version"
#define NS_DATA "jabber:x:data"

/* el is {ns}name. */
bool stanza_is(xmlNodePtr el, const char *ns, const char *name);

/* {ns}name is a stanza (iq, message, presence) of a stream whose content
 * namespace is content_ns (jabber:server or jabber:client); ns may be NULL. */
bool stanza_name_is_stanza(const char *ns, const char *name, const char *content_ns);

/* First child element {ns}name, or NULL (ns NULL = any). */
xmlNodePtr stanza_child(xmlNodePtr el, const char *ns, const char *name);

/* First child element of any name, or NULL. */
xmlNodePtr stanza_first_child(xmlNodePtr el);

/* Value of the un-namespaced attribute name, or "" (pointer into el). */
const char *stanza_attr(xmlNodePtr el, const char *name);

/* Concatenated text content of el, malloc'd ("" when none); NULL on OOM. */
char *stanza_text(xmlNodePtr el);

/* A new element {ns}name with its own namespace declaration. */
xmlNodePtr stanza_new(const char *ns, const char *name);

/* A child element: {ns}name, or in the parent's namespace when ns is NULL. */
xmlNodePtr stanza_add(xmlNodePtr parent, const char *ns, const char *name);

/* Set an attribute (skipped when value is NULL or empty). */
void stanza_set(xmlNodePtr el, const char *name, const char *value);

/* Append text content. */
void stanza_add_text(xmlNodePtr el, const char *text);

/* Move el and its subtree from namespace from to namespace to (a client's
 * jabber:client stanza to jabber:server for the services, and their replies
 * back): every declaration of from inside el now declares to. false when
 * memory ran out (el may then be half moved: drop it). */
bool stanza_rename_ns(xmlNodePtr el, const char *from, const char *to);

/* Name of the first child in the given namespace (a condition), or "". */
const char *stanza_condition(xmlNodePtr el, const char *ns);

#endif
