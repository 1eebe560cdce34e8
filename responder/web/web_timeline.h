/* web_timeline.h -- a remote server's history as a timeline of changes:
 * runs of the same result for one test domain and leg collapse into one
 * period ("accepted expired from 2026-11-20 until 2026-11-27, 4 streams"),
 * each with the verdict that result earns against the catalog. Derived from
 * report_history() (report.h); claims are left out, as in the verdicts. */
#ifndef RS_WEB_TIMELINE_H
#define RS_WEB_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "web_html.h"

/* What one stream came to, as far as the timeline tells. */
typedef enum {
    WEB_TIMELINE_ACCEPTED, /* authenticated */
    WEB_TIMELINE_REFUSED,  /* the remote server refused it */
    WEB_TIMELINE_NO_RESULT /* network, our own rule, or ended before auth */
} web_timeline_result;

/* One period: consecutive trusted outcomes of one (test domain, leg) with
 * the same result. */
typedef struct web_timeline_period {
    const report_outcome *first; /* its oldest outcome */
    const report_outcome *last;  /* its newest outcome */
    web_timeline_result result;  /* what they all came to */
    unsigned streams;            /* how many outcomes it spans */
    bool current;                /* the latest period of its domain and leg */
} web_timeline_period;

/* Collapse hist (newest first, as report_history gives it) into periods,
 * newest first by their last outcome; up to max. Returns the count. */
size_t web_timeline_periods(const report_outcome *const *hist, size_t n,
                            web_timeline_period *out, size_t max);

/* The verdict a result earns for a catalog profile label ("expired"):
 * unknown for no result or an unknown label. */
report_verdict web_timeline_verdict(const char *profile, web_timeline_result r);

/* <ol class="timeline" id="timeline"> of hist's periods into parent, or a
 * paragraph saying there is nothing trusted yet. */
void web_timeline_render(rs_web_page *pg, xmlNodePtr parent,
                         const report_outcome *const *hist, size_t n);

#endif
