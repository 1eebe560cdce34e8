/* web_pages_internal.h -- what the page builders of web_pages.c and
 * web_pages_report.c share. */
#ifndef RS_WEB_PAGES_INTERNAL_H
#define RS_WEB_PAGES_INTERNAL_H

#include "catalog.h"
#include "config.h"
#include "web_html.h"

/* A <td> (data-label label): "accept" / "refuse", and "(advisory)" when
 * the specs leave room. Returns the cell. */
xmlNodePtr web_pages__strict_cell(rs_web_page *pg, xmlNodePtr tr, const char *label,
                                  const catalog_profile *p);

/* The probe form, prefilled with target when not NULL. */
void web_pages__probe_form(rs_web_page *pg, const rs_config *cfg, const char *target);

#endif
