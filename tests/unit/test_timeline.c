/* test_timeline.c -- web_timeline.c's periods (runs of one result per test
 * domain and leg, newest first, claims left out, the verdict a result
 * earns) and web_badge.c's SVG (parsed back by libxml2: the message, a
 * long domain cut at a UTF-8 boundary in the title, the colour). */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "check.h"
#include "web_badge.h"
#include "web_timeline.h"

static report_outcome mk(int64_t t, report_leg leg, const char *local,
                         const char *profile, bool accepted, report_evidence ev)
{
    report_outcome o;
    memset(&o, 0, sizeof o);
    o.time = t;
    o.leg = leg;
    snprintf(o.local, sizeof o.local, "%s.t.example", local);
    snprintf(o.profile, sizeof o.profile, "%s", profile);
    o.auth = accepted ? REPORT_AUTH_OK : REPORT_AUTH_FAILED;
    o.refused_by = accepted ? REPORT_BY_NONE : REPORT_BY_PEER;
    o.evidence = ev;
    return o;
}

static void test_periods(void)
{
    /* expired in: accepted at 10, 20, 30, refused at 40, 50; out: accepted
     * at 25; a claim at 45 (left out); valid in: accepted at 35 */
    report_outcome o[] = {
        mk(50, REPORT_LEG_IN, "expired", "expired", false, REPORT_EVIDENCE_ADDRESS),
        mk(45, REPORT_LEG_IN, "expired", "expired", true, REPORT_EVIDENCE_CLAIMED),
        mk(40, REPORT_LEG_IN, "expired", "expired", false, REPORT_EVIDENCE_VERIFIED),
        mk(35, REPORT_LEG_IN, "valid", "valid", true, REPORT_EVIDENCE_VERIFIED),
        mk(30, REPORT_LEG_IN, "expired", "expired", true, REPORT_EVIDENCE_VERIFIED),
        mk(25, REPORT_LEG_OUT, "expired", "expired", true, REPORT_EVIDENCE_VERIFIED),
        mk(20, REPORT_LEG_IN, "expired", "expired", true, REPORT_EVIDENCE_VERIFIED),
        mk(10, REPORT_LEG_IN, "expired", "expired", true, REPORT_EVIDENCE_VERIFIED),
    };
    const report_outcome *hist[8];
    for (size_t i = 0; i < 8; i++)
        hist[i] = &o[i];
    web_timeline_period p[8];
    size_t n = web_timeline_periods(hist, 8, p, 8);
    CHECK(n == 4);
    /* newest first: expired in refused 40..50 (current), valid 35,
     * expired in accepted 10..30 (ended), expired out 25 */
    CHECK(p[0].result == WEB_TIMELINE_REFUSED && p[0].first->time == 40 &&
          p[0].last->time == 50 && p[0].streams == 2 && p[0].current);
    CHECK(p[1].result == WEB_TIMELINE_ACCEPTED && strcmp(p[1].last->profile, "valid") == 0);
    CHECK(p[2].result == WEB_TIMELINE_ACCEPTED && p[2].first->time == 10 &&
          p[2].last->time == 30 && p[2].streams == 3 && !p[2].current &&
          p[2].last->leg == REPORT_LEG_IN);
    CHECK(p[3].last->leg == REPORT_LEG_OUT && p[3].streams == 1 && p[3].current);
    /* a bound on the periods keeps the oldest ones and extends them */
    n = web_timeline_periods(hist, 8, p, 2);
    CHECK(n == 2);
    CHECK(web_timeline_periods(hist, 0, p, 8) == 0);

    CHECK(web_timeline_verdict("expired", WEB_TIMELINE_ACCEPTED) == REPORT_VERDICT_WRONG);
    CHECK(web_timeline_verdict("expired", WEB_TIMELINE_REFUSED) == REPORT_VERDICT_OK);
    CHECK(web_timeline_verdict("valid", WEB_TIMELINE_ACCEPTED) == REPORT_VERDICT_OK);
    CHECK(web_timeline_verdict("rsa1024", WEB_TIMELINE_ACCEPTED) == REPORT_VERDICT_ADVISORY);
    CHECK(web_timeline_verdict("valid", WEB_TIMELINE_NO_RESULT) == REPORT_VERDICT_UNKNOWN);
    CHECK(web_timeline_verdict("no-such-profile", WEB_TIMELINE_ACCEPTED) ==
          REPORT_VERDICT_UNKNOWN);
}

/* The text of the first element named name under n. */
static xmlChar *first_text(xmlNodePtr n, const char *name)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return xmlNodeGetContent(n);
        xmlChar *in = first_text(n->children, name);
        if (in)
            return in;
    }
    return NULL;
}

static void test_badge(void)
{
    web_badge_counts c = {.verified = {.ok = 27, .advisory = 1, .wrong = 3, .unknown = 3},
                          .total = 34};
    char msg[32];
    web_badge_message(&c, msg, sizeof msg);
    CHECK_STR(msg, "27/34 ok");
    /* a 70-byte name whose 64th byte is inside a two-byte character */
    char name[128];
    memset(name, 'a', 63);
    memcpy(name + 63, "\xC3\xBC", 2); /* ü at bytes 63..64 */
    snprintf(name + 65, sizeof name - 65, ".example");
    int len = 0;
    web_badge b;
    web_badge_of_counts(&c, &b);
    xmlChar *svg = web_badge_svg(name, &b, &len);
    CHECK(svg && len > 100);
    xmlDocPtr doc = svg ? xmlReadMemory((const char *)svg, len, "badge.svg", NULL,
                                        XML_PARSE_NONET) : NULL;
    CHECK(doc != NULL);
    if (doc) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        CHECK(strcmp((const char *)root->name, "svg") == 0 && root->ns &&
              strcmp((const char *)root->ns->href, "http://www.w3.org/2000/svg") == 0);
        xmlChar *title = first_text(root, "title");
        char want[160];
        snprintf(want, sizeof want, "xmpp strict: 27/34 ok for %.63s\xE2\x80\xA6", name);
        CHECK_STR((const char *)title, want);
        xmlFree(title);
        CHECK(strstr((const char *)svg, "#cf222e") != NULL); /* a wrong: red */
        xmlFreeDoc(doc);
    }
    xmlFree(svg);
    c.verified = (report_summary){.ok = 30, .advisory = 2, .unknown = 2};
    web_badge_of_counts(&c, &b);
    svg = web_badge_svg("x.example", &b, &len);
    CHECK(svg && strstr((const char *)svg, "#9a6700") && !strstr((const char *)svg, "#cf222e"));
    xmlFree(svg);
    c.verified = (report_summary){.unknown = 34};
    web_badge_of_counts(&c, &b);
    svg = web_badge_svg("x.example", &b, &len);
    CHECK(svg && strstr((const char *)svg, ">0/34 ok<") && strstr((const char *)svg, "#57606a"));
    xmlFree(svg);
    /* the grade's badge: its letter, partial, the colour of its band */
    grade_result g = {.letter = GRADE_B, .partial = true};
    web_badge_of_grade(&g, &b);
    CHECK_STR(b.message, "B (partial)");
    svg = web_badge_svg("x.example", &b, &len);
    CHECK(svg && strstr((const char *)svg, "<title>xmpp grade: B (partial) for x.example</title>")
          && strstr((const char *)svg, "#9a6700"));
    xmlFree(svg);
    g = (grade_result){.letter = GRADE_F};
    web_badge_of_grade(&g, &b);
    CHECK_STR(b.message, "F");
    CHECK_STR(b.colour, "#cf222e");
    g.letter = GRADE_A_PLUS;
    web_badge_of_grade(&g, &b);
    CHECK_STR(b.message, "A+");
    CHECK_STR(b.colour, "#1a7f37");
}

int main(void)
{
    test_periods();
    test_badge();
    xmlCleanupParser();
    return check_done();
}
