/* web_style.c -- the embedded stylesheet (see web_style.h).
 *
 * Colours: verdict badges carry a symbol and a word as well (colour-blind
 * safe), and every text/background pair has a contrast ratio of at least
 * 4.5:1 (tests/daemon/test_web_look.py computes them from this text):
 *   ok        #ffffff on #1a7f37  5.1      chip #116329 on #dafbe1  6.6
 *   advisory  #1f2328 on #e3b341  8.1      chip #7d4e00 on #fff8c5  6.6
 *   wrong     #ffffff on #cf222e  5.4      chip #82071e on #ffebe9  9.2
 *   unknown   #ffffff on #57606a  6.4      chip #424a53 on #eaeef2  7.7
 * Narrow screens (phones): tables marked "cards" turn each row into a card
 * whose cells show their column's name (data-label); wide tables without
 * that scroll inside their own box (div.scroll), never the page. */
#include "web_style.h"

#include <stdio.h>
#include <string.h>

static const char css[] =
    ":root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;"
    "--card:#fff;--link:#0969da}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Noto Sans\",\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
    "a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}\n"
    "code{font:.88em/1.4 ui-monospace,\"DejaVu Sans Mono\",monospace;"
    "overflow-wrap:anywhere}\n"
    "header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;"
    "padding:.6rem 1.25rem;background:#24292f;color:#fff}\n"
    "header.top a{color:#fff}\n"
    ".brand{font-weight:700;letter-spacing:.01em}\n"
    ".nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.9rem}\n"
    ".nav a{color:#c9d1d9}\n"
    "main{max-width:1240px;margin:0 auto;padding:1rem 1.25rem 2.5rem}\n"
    "h1{font-size:1.55rem;line-height:1.25;margin:.6rem 0 .8rem;"
    "overflow-wrap:anywhere}\n"
    "h2{font-size:1.15rem;margin:1.8rem 0 .6rem}\n"
    "p{margin:.5rem 0 .8rem;max-width:75em}\n"
    /* long names from the network break anywhere rather than widen the page */
    "p,li,h1,h2,summary{overflow-wrap:anywhere}\n"
    ".muted,small{color:var(--muted)}\n"
    ".lead{font-size:1rem}\n"
    /* tables */
    "table{border-collapse:collapse;width:100%;background:var(--card);"
    "border:1px solid var(--line);font-size:.86rem}\n"
    "th,td{padding:.4rem .55rem;text-align:left;vertical-align:top;"
    "border-bottom:1px solid var(--line)}\n"
    "th{background:#eaeef2;font-size:.74rem;text-transform:uppercase;"
    "letter-spacing:.03em;color:#424a53;white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fafbfc}\n"
    "td.name{white-space:nowrap}\n"
    "td small{display:block;font-size:.8rem;white-space:normal}\n"
    "small.how{margin-top:.15rem}\n"
    "td.details{font-size:.8rem;line-height:1.4;min-width:22rem}\n"
    "td.details .legs{color:var(--muted);margin-top:.15rem}\n"
    "td.details details{margin:0}td.details summary{font-weight:400}\n"
    "tr.verdict-wrong td:first-child{box-shadow:inset 4px 0 #cf222e}\n"
    "tr.verdict-advisory td:first-child{box-shadow:inset 4px 0 #e3b341}\n"
    "tr.verdict-ok td:first-child{box-shadow:inset 4px 0 #1a7f37}\n"
    ".scroll{overflow-x:auto;max-width:100%;border:1px solid var(--line)}\n"
    ".scroll table{border:0;min-width:60rem}\n"
    /* badges */
    ".badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;"
    "font-size:.78rem;font-weight:650;white-space:nowrap;line-height:1.5}\n"
    ".badge.v-ok{background:#1a7f37;color:#fff}\n"
    ".badge.v-advisory{background:#e3b341;color:#1f2328}\n"
    ".badge.v-wrong{background:#cf222e;color:#fff}\n"
    ".badge.v-unknown{background:#57606a;color:#fff}\n"
    /* a server's grade: the verdict colours, a bigger letter */
    ".grade{display:inline-block;padding:.05rem .6rem;border-radius:.4rem;"
    "font-weight:700;font-size:1.2rem}\n"
    ".grade.v-ok{background:#1a7f37;color:#fff}\n"
    ".grade.v-advisory{background:#e3b341;color:#1f2328}\n"
    ".grade.v-wrong{background:#cf222e;color:#fff}\n"
    ".grade.v-unknown{background:#57606a;color:#fff}\n"
    ".advisory{font-style:italic;color:var(--muted)}\n"
    ".notseen{color:var(--muted)}\n"
    /* the summary bar */
    ".summary{display:flex;flex-wrap:wrap;gap:.5rem;margin:.8rem 0 1.2rem}\n"
    ".summary .count{flex:1 1 9rem;padding:.5rem .8rem;border-radius:.5rem;"
    "border:1px solid transparent;font-size:.9rem}\n"
    ".summary .n{font-size:1.5rem;margin:0 .15rem}\n"
    ".summary .sym{font-weight:700}\n"
    ".count.v-ok{background:#dafbe1;color:#116329;border-color:#aceebb}\n"
    ".count.v-advisory{background:#fff8c5;color:#7d4e00;border-color:#f2d870}\n"
    ".count.v-wrong{background:#ffebe9;color:#82071e;border-color:#ffcecb}\n"
    ".count.v-unknown{background:#eaeef2;color:#424a53;border-color:#d0d7de}\n"
    /* notices and the form */
    ".probe,.notice{background:#ddf4ff;border:1px solid #54aeff;"
    "border-radius:.5rem;padding:.6rem .9rem;max-width:none}\n"
    "form p{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}\n"
    "input[type=text]{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);"
    "border-radius:.4rem;flex:1 1 14rem;max-width:28rem;min-width:0}\n"
    "button{font:inherit;font-weight:600;padding:.35rem 1rem;border-radius:.4rem;"
    "border:1px solid #1a7f37;background:#1f883d;color:#fff}\n"
    /* the timeline of changes */
    "ol.timeline{list-style:none;margin:0 0 1rem;padding:0 0 0 1rem;"
    "border-left:2px solid var(--line)}\n"
    "ol.timeline li{position:relative;margin:0 0 .3rem;padding-left:.4rem}\n"
    "ol.timeline li::before{content:\"\";position:absolute;left:-1.42rem;top:.45rem;"
    "width:.7rem;height:.7rem;border-radius:50%;background:#8c959f;"
    "border:2px solid var(--bg)}\n"
    "ol.timeline li.v-ok::before{background:#1a7f37}\n"
    "ol.timeline li.v-advisory::before{background:#e3b341}\n"
    "ol.timeline li.v-wrong::before{background:#cf222e}\n"
    "ol.timeline li.stamp{margin:.8rem 0 .35rem;font-size:.8rem;font-weight:650;"
    "color:var(--muted)}\n"
    "ol.timeline li.stamp::before{background:var(--bg);border:2px solid #8c959f;"
    "width:.55rem;height:.55rem;left:-1.35rem;top:.35rem}\n"
    "ol.timeline .when{color:var(--muted);font-size:.8rem;margin-left:.4rem}\n"
    ".message{max-width:40rem;margin:2.5rem auto;background:var(--card);"
    "border:1px solid var(--line);border-radius:.6rem;padding:1.2rem 1.5rem}\n"
    ".message h1{margin-top:0}\n"
    ".message .status{display:inline-block;margin-right:.3rem;padding:0 .55rem;"
    "border-radius:.4rem;background:#57606a;color:#fff}\n"
    ".message.error .status{background:#cf222e}\n"
    "details{margin:.8rem 0}summary{cursor:pointer;font-weight:600}\n"
    "pre{background:var(--card);border:1px solid var(--line);padding:.6rem;"
    "overflow-x:auto;font-size:.82rem}\n"
    /* phones: rows become cards */
    "@media (max-width:760px){"
    "main{padding:.75rem .75rem 2rem}"
    "h1{font-size:1.3rem}"
    "table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}"
    "table.cards{border:0;background:none}"
    "table.cards thead{display:none}"
    "table.cards tr{background:var(--card)!important;border:1px solid var(--line);"
    "border-radius:.5rem;margin:0 0 .7rem;padding:.35rem .2rem}"
    "table.cards td{border:0;padding:.2rem .6rem}"
    /* short cells side by side, the name and the long text across */
    "table.cards tr td{display:inline-block;width:auto;max-width:100%;vertical-align:top}"
    "table.cards tr td.name,table.cards tr td.details{display:block;width:100%}"
    "table.cards.stack tr td{display:block;width:100%}"
    "table.cards td::before{content:attr(data-label);display:block;"
    "font-size:.7rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}"
    "table.cards td.name{white-space:normal;font-size:1rem}"
    "table.cards td:first-child{box-shadow:none}"
    "tr.verdict-wrong{border-left:4px solid #cf222e!important}"
    "tr.verdict-advisory{border-left:4px solid #e3b341!important}"
    "tr.verdict-ok{border-left:4px solid #1a7f37!important}"
    ".summary .count{flex-basis:40%}"
    "}\n";

uint64_t web_style_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

const char *web_style_css(size_t *len)
{
    *len = sizeof css - 1;
    return css;
}

const char *web_style_etag(void)
{
    static char etag[32];
    if (!etag[0])
        snprintf(etag, sizeof etag, "\"css-%016llx\"",
                 (unsigned long long)web_style_hash(css, sizeof css - 1));
    return etag;
}
