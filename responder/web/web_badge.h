/* web_badge.h -- GET /badge/DOMAIN.svg: a shields-style badge of what a
 * remote server does with the test domains, for operators to embed
 * ("xmpp strict | 27/34 ok"). Only verified evidence counts: a cell counts
 * when it has a verdict and every outcome it rests on is verified (the
 * stream authenticated as the domain, or we dialled it through its DNS);
 * address-matched outcomes, which the report page does count, are left out
 * here, since a badge travels where nobody reads the evidence note.
 *
 * The SVG is built as a libxml2 tree, so the domain (in the title and the
 * accessible label only, cut to WEB_BADGE_NAME_MAX bytes) is escaped by the
 * serializer. */
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

/* The badge's message, e.g. "27/34 ok". */
void web_badge_message(const web_badge_counts *c, char *out, size_t n);

/* The SVG (xmlFree it) and its length, or NULL on allocation failure. */
xmlChar *web_badge_svg(const char *remote, const web_badge_counts *c, int *len);

#endif
