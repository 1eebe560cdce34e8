/* report_internal.h -- what the report's files share: the outcome <-> JSON
 * line format (report_format.c) and the latest-outcome lookup used by the
 * views (report_view.c). */
#ifndef RS_REPORT_INTERNAL_H
#define RS_REPORT_INTERNAL_H

#include "report.h"

/* Parse one line written by report_outcome_json back. 0, or -1 when the
 * line is not a complete outcome (o is then unspecified). */
int report_outcome_parse(const char *line, report_outcome *o);

/* The latest outcome of remote on (local, leg), or NULL. */
const report_outcome *report_latest(const rs_report *r, const char *remote,
                                    const char *local, report_leg leg);

#endif
