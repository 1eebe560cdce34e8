/* web_badge.h -- GET /badge/DOMAIN.svg: a shields-style badge of what a
 * remote server does with the test domains ("xmpp strict | 27/34 ok"), for
 * operators to embed; only verdicts resting on verified outcomes count
 * (README.md). Built as a libxml2 tree, so the domain (cut to
 * WEB_BADGE_NAME_MAX bytes) is escaped by the serializer. */
#ifndef RS_WEB_BADGE_H
#define RS_WEB_BADGE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlstring.h>

#include "config.h"
#include "report.h"

#define WEB_BADGE_NAME_MAX 64 /* bytes of the domain shown in the title */

/* The verified verdicts of remote's matrix. */
typedef struct web_badge_counts {
    report_summary verified; /* verdicts resting on verified outcomes only;
                                everything else counts as unknown */
    unsigned total;          /* test domains */
} web_badge_counts;

/* Count remote's verified verdicts. false on allocation failure. */
bool web_badge_count(const rs_report *r, const char *remote, const rs_config *cfg,
                     web_badge_counts *out);

/* What one badge says: its two halves and the message's colour. */
typedef struct web_badge {
    const char *label;  /* left half: "xmpp strict", "xmpp grade" */
    char message[48];   /* right half: "27/34 ok", "B (partial)" */
    const char *colour; /* the right half's fill, white text on it >= 4.5:1 */
} web_badge;

/* The badge's message, e.g. "27/34 ok". */
void web_badge_message(const web_badge_counts *c, char *out, size_t n);

/* The verdicts' badge (GET /badge/DOMAIN.svg). */
void web_badge_of_counts(const web_badge_counts *c, web_badge *b);

/* The grade's badge (GET /badge/grade/DOMAIN.svg): "xmpp grade | B". */
void web_badge_of_grade(const grade_result *g, web_badge *b);

/* The SVG (xmlFree it) and its length, or NULL on allocation failure. */
xmlChar *web_badge_svg(const char *remote, const web_badge *b, int *len);

#endif
