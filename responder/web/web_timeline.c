/* web_timeline.c -- the history as periods of the same result (see
 * web_timeline.h). */
#include "web_timeline.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"

#define PERIODS_MAX 64 /* periods shown; the history holds no more outcomes */

static web_timeline_result result_of(const report_outcome *o)
{
    if (o->auth == REPORT_AUTH_OK)
        return WEB_TIMELINE_ACCEPTED;
    if (o->refused_by == REPORT_BY_PEER)
        return WEB_TIMELINE_REFUSED;
    return WEB_TIMELINE_NO_RESULT;
}

static bool same_track(const report_outcome *a, const report_outcome *b)
{
    return a->leg == b->leg && strcmp(a->local, b->local) == 0;
}

size_t web_timeline_periods(const report_outcome *const *hist, size_t n,
                            web_timeline_period *out, size_t max)
{
    size_t count = 0;
    /* oldest first, so that a run grows forward in time; each outcome
     * extends the newest period of its track or opens a new one */
    for (size_t k = n; k-- > 0;) {
        const report_outcome *o = hist[k];
        if (o->evidence == REPORT_EVIDENCE_CLAIMED)
            continue;
        web_timeline_result r = result_of(o);
        web_timeline_period *open = NULL;
        for (size_t i = count; i-- > 0;)
            if (out[i].current && same_track(out[i].last, o)) {
                open = &out[i];
                break;
            }
        if (open && open->result == r) {
            open->last = o;
            open->streams++;
            continue;
        }
        if (open)
            open->current = false;
        if (count == max)
            continue; /* keep extending the ones we have */
        out[count++] = (web_timeline_period){.first = o, .last = o, .result = r,
                                             .streams = 1, .current = true};
    }
    /* newest first by last outcome (insertion sort: at most max periods) */
    for (size_t i = 1; i < count; i++) {
        web_timeline_period p = out[i];
        size_t j = i;
        while (j > 0 && out[j - 1].last->time < p.last->time) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = p;
    }
    return count;
}

report_verdict web_timeline_verdict(const char *profile, web_timeline_result r)
{
    const catalog_profile *p = catalog_find(profile);
    if (!p || r == WEB_TIMELINE_NO_RESULT)
        return REPORT_VERDICT_UNKNOWN;
    bool accepted = r == WEB_TIMELINE_ACCEPTED;
    if (accepted == (p->strict == CATALOG_EXPECT_ACCEPT))
        return REPORT_VERDICT_OK;
    return p->advisory ? REPORT_VERDICT_ADVISORY : REPORT_VERDICT_WRONG;
}

void web_timeline_render(rs_web_page *pg, xmlNodePtr parent,
                         const report_outcome *const *hist, size_t n)
{
    static const char *const words[] = {"accepted", "refused",
                                        "got no result from"};
    web_timeline_period periods[PERIODS_MAX];
    size_t np = web_timeline_periods(hist, n, periods, PERIODS_MAX);
    if (np == 0) {
        web_html_el(pg, parent, "p", "No verified or address-matched stream yet: "
                                     "the timeline starts with the first one.");
        return;
    }
    xmlNodePtr ol = web_html_elc(pg, parent, "ol", "timeline", NULL);
    web_html_attr(pg, ol, "id", "timeline");
    char minute[32] = "";
    for (size_t i = 0; i < np; i++) {
        const web_timeline_period *p = &periods[i];
        const char *label = p->last->profile[0] ? p->last->profile : p->last->local;
        report_verdict v = web_timeline_verdict(p->last->profile, p->result);
        char cls[40], from[32], until[32];
        web_html_utc(p->first->time, from, sizeof from);
        web_html_utc(p->last->time, until, sizeof until);
        /* a heading per minute: a probe's periods share one */
        if (strncmp(until, minute, 16) != 0) {
            snprintf(minute, sizeof minute, "%.16s", until);
            xmlNodePtr h = web_html_elc(pg, ol, "li", "stamp", NULL);
            web_html_txtf(pg, h, "%s UTC", minute);
        }
        snprintf(cls, sizeof cls, "period v-%s", report_verdict_name(v));
        xmlNodePtr li = web_html_elc(pg, ol, "li", cls, NULL);
        web_html_attr(pg, li, "data-profile", label);
        web_html_attr(pg, li, "data-result", words[p->result]);
        web_html_badge(pg, li, v);
        web_html_txtf(pg, li, " %s ", words[p->result]);
        web_html_el(pg, li, "b", label);
        web_html_txt(pg, li, p->last->leg == REPORT_LEG_IN
                                 ? " (your server dialled us)"
                                 : " (we dialled your server)");
        xmlNodePtr when = web_html_elc(pg, li, "span", "when", NULL);
        if (p->streams == 1)
            web_html_txtf(pg, when, "at %s", until + 11);
        else
            web_html_txtf(pg, when, "from %s until %s, %u streams%s", from, until,
                          p->streams, p->current ? "" : ", then it changed");
    }
}
