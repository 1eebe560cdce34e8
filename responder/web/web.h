/* web.h -- the HTTP listener of the web report (libmicrohttpd driven by the
 * libuv loop): the index generated from the catalog, per-peer report pages,
 * the JSON API, /metrics, the probe form, the CRLs and the ACME answers;
 * every route is in README.md. HTML is built as libxml2 trees, so network
 * text is escaped by construction. Who holds the connections: http_guard.h;
 * who the client is (X-Forwarded-For of a trusted proxy): web_client.c. */
#ifndef RS_WEB_H
#define RS_WEB_H

#include "config.h"
#include "daemon.h"

typedef struct rs_web rs_web;

/* Listen on conf and serve from srv. NULL after a message on stderr. */
rs_web *web_start(rs_daemon *srv, const config_http *conf);

/* Stop listening and release (handles close through the loop). */
void web_close(rs_web *w);

#endif
