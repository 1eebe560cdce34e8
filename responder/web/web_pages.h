/* web_pages.h -- the HTML pages of the web report, built as libxml2 HTML
 * trees and serialized by libxml2: every string, above all network text, is
 * escaped by the serializer, never by hand (web_html.h cleans it first).
 * No JavaScript; every page links /style.css. Each builder returns the page
 * (xmlFree it) and its length in *len, or NULL when an allocation failed. */
#ifndef RS_WEB_PAGES_H
#define RS_WEB_PAGES_H

#include <libxml/xmlstring.h>

#include "daemon.h"

/* GET /: every configured test domain (table id="domains", one
 * <tr class="domain"> per domain), how to test, the remote domains seen
 * recently (list id="peers") and the probe form. */
xmlChar *web_pages_index(rs_daemon *srv, int *len);

/* GET /report/REMOTE (remote already validated and lower-cased): summary
 * bar (id="summary"), the matrix with verdict badges (table id="domains",
 * one <tr class="domain"> per test domain), the timeline of changes (id="timeline") and the history
 * (table id="history"). Refreshes itself every 5 s while a probe of remote
 * runs. */
xmlChar *web_pages_report(rs_daemon *srv, const char *remote, int *len);

/* What the client at address (an IP literal) did with each test domain,
 * with verdicts from the catalog's client column; own: the address is the
 * requester's own. */
xmlChar *web_pages_clients(rs_daemon *srv, const char *address, bool own, int *len);

/* An error or notice page: status code and title as heading, text as a
 * paragraph, detail (may be NULL; may be network text) in <code>. */
xmlChar *web_pages_message(unsigned status, const char *title,
                          const char *text, const char *detail, int *len);

#endif
