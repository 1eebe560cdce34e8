/* metrics.h -- the daemon's counters and gauges in the Prometheus text
 * exposition format 0.0.4 (served at /metrics by web.c).
 *
 * Every family has # HELP and # TYPE, names start with xmpp_responder_,
 * counters end in _total, and label values are escaped as the format says
 * (backslash, double quote, newline). Stream gauges list every known state
 * of both state machines, so the set of series is stable (zeros included).
 */
#ifndef RS_METRICS_H
#define RS_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

/* The exposition of snap: malloc'd NUL-terminated text, its length in
 * *len. NULL on allocation failure. */
char *metrics_render(const stats_snapshot *snap, size_t *len);

/* Append v to out as a label value: \ " and newline escaped. Exposed for
 * tests; returns false when out (size n) is too small. */
bool metrics_escape_label(const char *v, char *out, size_t n);

#endif
