/* web.h -- the HTTP side (libmicrohttpd driven by the libuv loop): the index
 * generated from the catalog, per-peer report pages, the JSON API, /metrics
 * in Prometheus text format and the probe form.
 *
 *   GET  /                      every test domain: what it breaks, what a
 *                               strict server does, how to test it
 *   GET  /report/DOMAIN         the matrix for one remote domain, explained
 *   GET  /api/domains           the catalog and domains as JSON
 *   GET  /api/report/DOMAIN     the matrix of DOMAIN as JSON
 *   GET  /metrics               counters and gauges (text format 0.0.4)
 *   GET  /crl/intermediate.crl  the test intermediate's CRL, DER (crl.h): what
 *                               the CRL Distribution Point of its leaves names
 *   GET  /crl/ca.crl            the test root's, which the intermediate names
 *   GET  /style.css             the one stylesheet (web_style.h), cacheable
 *   GET  /badge/DOMAIN.svg      the badge of DOMAIN's verified verdicts
 *                               (web_badge.h), cacheable, ETag
 *   GET  /.well-known/acme-challenge/TOKEN
 *                               an ACME http-01 answer the renewal left in
 *                               STATE/acme/challenges (acme.h)
 *   POST /probe                 form field target=DOMAIN: start a probe
 *   POST /api/probe             the same, answered in JSON
 *   GET  /api/probe             the requester's budget: when its next probe
 *                               may start (probe_budget.h)
 *
 * Who holds the connections: http_guard.h; who the client is (behind a
 * trusted reverse proxy, X-Forwarded-For): web_client.c.
 *
 * HTML is built as libxml2 HTML trees and serialized by libxml2, so every
 * string that came from the network is escaped by construction.
 */
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
