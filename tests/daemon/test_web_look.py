#!/usr/bin/env python3
"""test_web_look.py -- how the pages look and the badge, with real outcomes.

A real daemon, a real unbound and a scripted authoritative server
(netlib.py): the daemon probes web-peer (its dials are verified and
accepted by the script), then the peer dials in twice with SASL EXTERNAL
(verified, accepted) and twice more ending the stream with a stream error
after TLS (address-matched, refused), so the report has verdicts of every
colour, a history with changes and evidence of two levels. Then:

- /style.css: text/css, cache headers and ETag (304 on If-None-Match); the
  CSP allows styles from 'self' and no script; every page links it and
  carries no inline style; every text/background pair in it has a contrast
  ratio of at least 4.5:1.
- A scripted client logs in (valid: ok; expired without checking: wrong)
  and refuses two certificates by verifying them (ok), for /clients.
- One headless Chromium (DevTools over a pipe, browser.py) opens
  every page at 1280 and 390 px: no CSP violation, the stylesheet applied,
  the page no wider than the window (no sideways scroll on a phone), badges
  with a symbol and a word, the summary bar's counts equal to /api's, the
  timeline showing the accepted-then-refused change; a full-page screenshot
  of each into $WEB_SCREENSHOT_DIR.
- /badge/DOMAIN.svg: image/svg+xml, cache headers, ETag and 304, xmllint
  accepts it, its numbers are /api's verdicts that rest on verified outcomes
  only, a long domain cut in its title, 404 for unknown and malformed names.

Usage: test_web_look.py PATH/TO/xmpp-responder"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netlib  # noqa: E402
from browser import CHROMIUM, Browser  # noqa: E402
from daemonlib import Checks  # noqa: E402

T = Checks()
SYMBOLS = {"ok": "\u2713", "advisory": "!", "wrong": "\u2717", "unknown": "?"}


def get(env, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", env.r.http_port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def post_probe(env, target):
    c = http.client.HTTPConnection("127.0.0.1", env.r.http_port, timeout=10)
    try:
        c.request("POST", "/probe", "target=" + target,
                  {"Content-Type": "application/x-www-form-urlencoded"})
        return c.getresponse().status
    finally:
        c.close()


# ---- contrast ------------------------------------------------------------------

def luminance(hexcolour):
    h = hexcolour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def check_contrast(css):
    """Every rule with both a text colour and a background (hex) and the
    badge's own colour on the SVG's backgrounds: 4.5:1 or more."""
    pairs = []
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        fg = re.search(r"(?:^|;)color:(#[0-9a-fA-F]{3,6})", body)
        bg = re.search(r"background:(#[0-9a-fA-F]{3,6})", body)
        if fg and bg:
            pairs.append((sel.strip(), fg.group(1), bg.group(1)))
    badges = [p for p in pairs if p[0].startswith(".badge.v-")]
    T.check("style.css: a text and background colour for each of the 4 badges "
            "(%d)" % len(badges), len(badges) == 4)
    low = [(s, f, b, round(contrast(f, b), 2)) for s, f, b in pairs
           if contrast(f, b) < 4.5]
    T.check("style.css: %d colour pairs, each with contrast >= 4.5:1" % len(pairs),
            not low and len(pairs) >= 8, "below: %s" % low)


# ---- driving real outcomes -----------------------------------------------------------

def drive_client(env):
    """A client at 127.0.0.1: logs in to valid and pings (ok), refuses
    untrusted-root and self-signed by verifying (ok), logs in to expired
    without checking (wrong)."""
    import test_c2s as c2s
    c, _ = c2s.logged_in(env, resource="look")
    c.send("<iq type='get' id='p' to='%s'><ping xmlns='%s'/></iq>"
           % (netlib.dom("valid"), netlib.NS_PING))
    c.next()
    c.close()
    for profile in ("untrusted-root", "self-signed"):
        T.check("client: a verifying client refuses %s" % profile,
                c2s.verifying_tls(env, netlib.dom(profile)) is not None)
    c, _ = c2s.logged_in(env, netlib.dom("expired"), resource="look")
    c.close()
    c2s.client_cell(env, "expired", lambda d: d["verdict"] == "wrong")
    c2s.client_cell(env, "valid", lambda d: d["verdict"] == "ok")


def drive(env, peer, n):
    st = post_probe(env, peer)
    T.check("POST /probe %s: 303 (got %d)" % (peer, st), st == 303)

    def outs_done():
        s, j = env.r.report(peer)
        return s == 200 and sum(1 for d in j["domains"] if d["out"]) >= n - 4 and j
    T.check("the probe's verified dials fill the out legs", netlib.wait_until(outs_done, 20, 0.2))
    # the peer dials in: accepted twice (SASL EXTERNAL), then refuses twice
    for profile in ("expired", "self-signed"):
        s = netlib.sasl_session(env, peer, netlib.dom(profile))
        s.close()
        netlib.report_cell(env, peer, netlib.dom(profile), "in",
                           lambda r: r["auth"] == "ok")
    time.sleep(1.1)  # a later second for the change
    for profile in ("expired", "self-signed"):
        s, _ = netlib.tls_open(env, peer, netlib.dom(profile), env.peer_cert)
        s.send("<stream:error><not-authorized xmlns='%s'/><text xmlns='%s'>"
               "certificate expired</text></stream:error></stream:stream>"
               % (netlib.NS_STREAM_ERRORS, netlib.NS_STREAM_ERRORS))
        s.wait_closed(3)
        netlib.report_cell(env, peer, netlib.dom(profile), "in",
                           lambda r: r["refused_by"] == "peer")


# ---- the stylesheet and headers ------------------------------------------------------

def check_style(env):
    st, h, css = get(env, "/style.css")
    T.check("GET /style.css: 200 text/css (got %d %s)" % (st, h.get("content-type")),
            st == 200 and h.get("content-type") == "text/css; charset=utf-8")
    T.check("GET /style.css: Cache-Control public with a max-age (%s)" % h.get("cache-control"),
            re.match(r"public, max-age=\d{3,}$", h.get("cache-control", "")) is not None)
    etag = h.get("etag", "")
    T.check("GET /style.css: a strong ETag (%s)" % etag, re.match(r'^"[^"]+"$', etag) is not None)
    st2, h2, body2 = get(env, "/style.css", {"If-None-Match": etag})
    T.check("GET /style.css with If-None-Match: 304, no body, same ETag (got %d)" % st2,
            st2 == 304 and body2 == b"" and h2.get("etag") == etag)
    csp = h.get("content-security-policy", "")
    T.check("CSP: style-src 'self', no inline style, no script (%s)" % csp,
            "style-src 'self'" in csp and "unsafe-inline" not in csp
            and "script-src" not in csp and "default-src 'none'" in csp)
    check_contrast(css.decode())
    return css.decode()


def check_markup(env, paths):
    for path in paths:
        st, h, body = get(env, path)
        text = body.decode("utf-8", "replace")
        T.check("%s (%d): links /style.css, no <style>, no style=, no <script>" % (path, st),
                '<link rel="stylesheet" href="/style.css">' in text
                and "<style" not in text and " style=" not in text
                and "<script" not in text
                and "style-src 'self'" in h.get("content-security-policy", ""))


# ---- the badge --------------------------------------------------------------------------

def verified_counts(api):
    """The badge's numbers from /api: verdicts whose legs are all verified."""
    counts = {"ok": 0, "advisory": 0, "wrong": 0, "unknown": 0}
    for d in api["domains"]:
        legs = [x for x in (d["in"], d["out"]) if x]
        v = d["verdict"] if all(x["evidence"] == "verified" for x in legs) else "unknown"
        counts[v] += 1
    return counts


def check_badge(env, peer, api, long_peer):
    st, h, svg = get(env, "/badge/%s.svg" % peer)
    T.check("GET /badge/%s.svg: 200 image/svg+xml (got %d %s)" % (peer, st, h.get("content-type")),
            st == 200 and h.get("content-type", "").startswith("image/svg+xml"))
    T.check("badge: Cache-Control max-age and an ETag (%s; %s)"
            % (h.get("cache-control"), h.get("etag")),
            re.search(r"max-age=\d+", h.get("cache-control", "")) is not None
            and h.get("etag", "").startswith('"'))
    st2, _, body2 = get(env, "/badge/%s.svg" % peer, {"If-None-Match": h.get("etag", "x")})
    T.check("badge with If-None-Match: 304, no body (got %d)" % st2, st2 == 304 and body2 == b"")
    with tempfile.NamedTemporaryFile(suffix=".svg") as f:
        f.write(svg)
        f.flush()
        r = subprocess.run(["xmllint", "--noout", f.name], capture_output=True, text=True)
    T.check("badge: xmllint --noout accepts it (%s)" % r.stderr.strip()[:200], r.returncode == 0)
    want = verified_counts(api)
    message = "%d/%d ok" % (want["ok"], len(api["domains"]))
    text = svg.decode()
    T.check("badge: says '%s' (the verified verdicts of /api: %s)" % (message, want),
            ">%s<" % message in text and "xmpp strict" in text)
    T.check("badge: fewer ok than the page when address-matched verdicts exist "
            "(page %d, badge %d)" % (api["summary"]["ok"], want["ok"]),
            want["ok"] <= api["summary"]["ok"])
    colour = "#cf222e" if want["wrong"] else "#9a6700" if want["advisory"] else "#1a7f37"
    T.check("badge: the colour of its worst verdict (%s)" % colour, colour in text)
    T.check("badge: names the domain in its title", "for %s</title>" % peer in text)
    st, _, svg = get(env, "/badge/%s.svg" % long_peer)
    m = re.search(r"<title>[^<]* for ([^<]*)</title>", svg.decode())
    T.check("badge of a %d-character domain: 200, its title cut to 64 bytes + ellipsis (%s)"
            % (len(long_peer), m and len(m.group(1).encode())),
            st == 200 and m is not None and m.group(1) == long_peer[:64] + "\u2026")
    for path, why in (("/badge/nobody.example.svg", "unknown domain"),
                      ("/badge/%s" % peer, "no .svg"),
                      ("/badge/x%22%3E%3Cb%3E.svg", "malformed domain"),
                      ("/badge/.svg", "empty name"),
                      ("/badge/" + "a" * 400 + ".svg", "too long")):
        st, h, body = get(env, path)
        T.check("GET %s (%s): 404, nothing reflected (got %d)" % (path[:40], why, st),
                st == 404 and b"<b>" not in body)


# ---- Chromium -------------------------------------------------------------------------------

PROBE = """({
 bar: getComputedStyle(document.querySelector('header.top')).backgroundColor,
 badges: Array.from(document.querySelectorAll('.badge')).map(function (b) { return b.textContent; }),
 summary: Array.from(document.querySelectorAll('#summary .count')).map(function (c) {
   return [c.dataset.verdict, c.querySelector('.n').textContent]; }),
 grid: (function () { var t = document.getElementById('domains') || document.getElementById('clients');
   return t ? Math.ceil(t.getBoundingClientRect().right) : 0; })(),
 timeline: Array.from(document.querySelectorAll('#timeline li.period')).map(function (l) {
   return [l.dataset.profile, l.dataset.result, l.textContent]; }),
 stamps: document.querySelectorAll('#timeline li.stamp').length
})"""


def check_pages(env, peer, api, shots):
    pages = [("index", "/"), ("report", "/report/" + peer),
             ("report-unknown", "/report/nobody.example"),
             ("clients", "/clients"), ("clients-addr", "/clients/127.0.0.1"),
             ("error-404", "/nonexistent"), ("error-400", "/report/a%20b.example")]
    tmp = tempfile.mkdtemp(prefix="web_look.")
    t0 = time.time()
    try:
        with Browser(tmp) as b:
            for name, path in pages:
                for width in (1280, 390):
                    png = os.path.join(shots, "%s-%d.png" % (name, width))
                    if os.path.exists(png):
                        os.unlink(png)
                    r = b.visit("http://127.0.0.1:%d%s" % (env.r.http_port, path), width,
                                png, PROBE)
                    check_visit(name, width, r, api)
                    if name == "report":
                        check_history_box(b, width)
            # the badge as a browser draws it, magnified
            r = b.visit("http://127.0.0.1:%d/badge/%s.svg" % (env.r.http_port, peer), 400,
                        None, "document.documentElement.getAttribute('width')")
            png = os.path.join(shots, "badge.png")
            b.capture(png, int(r["eval"]) + 2, 22, 3)
            T.check("badge drawn by Chromium, %s px wide: %s (%d bytes)"
                    % (r["eval"], png, os.path.getsize(png)),
                    not r["csp_violations"] and os.path.getsize(png) > 1000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# chromium: %d pages x 2 widths in %.1f s" % (len(pages), time.time() - t0))


def check_history_box(b, width):
    """Every stream's table, opened: it scrolls inside its own box on a
    phone, never the page."""
    sw, box, inner = b.evaluate(
        "document.querySelector('details').open = true;"
        "var s = document.querySelector('details .scroll');"
        "[document.scrollingElement.scrollWidth, s.scrollWidth, s.clientWidth]")
    T.check("report at %d px, every stream shown: the page stays %d px wide, the "
            "table box scrolls (%d in %d px)" % (width, sw, box, inner),
            sw <= width and (width > 1000 or box > inner))


def check_visit(name, width, r, api):
    p = r["eval"]
    where = "%s at %d px" % (name, width)
    T.check("%s: no CSP violation (%s)" % (where, r["csp_violations"][:2]),
            not r["csp_violations"])
    T.check("%s: the stylesheet applied (%d rules; top bar %s)" % (where, r["css_rules"], p["bar"]),
            r["stylesheets"] == 1 and r["css_rules"] > 20 and p["bar"] == "rgb(36, 41, 47)")
    T.check("%s: no sideways scroll (page %d px, window %d px)"
            % (where, r["scroll_width"], r["inner_width"]),
            r["scroll_width"] <= width and r["scroll_width"] <= r["inner_width"])
    T.check("%s: the table fits the window (right edge %d px)" % (where, p["grid"]),
            p["grid"] <= width)
    size = os.path.getsize(r["png"]) if r["png"] and os.path.exists(r["png"]) else 0
    T.check("%s: screenshot %s (%d bytes, %d px tall)" % (where, r["png"], size, r["height"]),
            size > 8000)
    bad = [t for t in p["badges"]
           if not re.match(r"^[\u2713\u2717!?] (ok|advisory|wrong|unknown)$", t)
           or SYMBOLS[t.split(" ")[1]] != t[0]]
    T.check("%s: %d badges, each a symbol and a word" % (where, len(p["badges"])), not bad,
            "bad: %s" % bad[:3])
    if name == "report":
        got = {k: int(v) for k, v in p["summary"]}
        T.check("%s: the summary bar's counts are /api's (%s)" % (where, got),
                got == api["summary"])
        T.check("%s: one badge per test domain, counted as in the summary" % where,
                sorted(x.split(" ")[1] for x in p["badges"][:len(api["domains"])])
                == sorted(d["verdict"] for d in api["domains"]))
        tl = p["timeline"]
        expired = [x for x in tl if x[0] == "expired" and "dialled us" in x[2]]
        T.check("%s: the timeline shows expired refused after it was accepted (%s)"
                % (where, [x[1] for x in expired]),
                [x[1] for x in expired] == ["refused", "accepted"]
                and "accepted expired" in expired[1][2])
        T.check("%s: the timeline has a period per test domain dialled (%d), "
                "under minute headings (%d)" % (where, len(tl), p["stamps"]),
                len(tl) >= len(api["domains"]) - 4 and 1 <= p["stamps"] <= 3)
    if name.startswith("clients"):
        T.check("%s: a badge per test domain" % where, len(p["badges"]) >= len(api["domains"]))
        got = dict((k, int(v)) for k, v in p["summary"])
        T.check("%s: the summary bar counts the client's verdicts (%s)" % (where, got),
                got["ok"] >= 2 and got["wrong"] >= 1
                and sum(got.values()) == len(api["domains"]))


def main():
    if not os.path.exists(CHROMIUM):
        print("SKIP: chromium not installed")
        return 77
    shots = os.environ.get("WEB_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="shots.")
    os.makedirs(shots, exist_ok=True)
    t0 = time.time()
    env = netlib.Env(sys.argv[1], {"report_history": 64, "probe_timeout": 2,
                                   "probe_concurrency": 34})
    ok = False
    try:
        n = len(re.findall(r'name = "([^"]+)"', open(env.r.conf).read()))
        peer = netlib.fresh_peer("web")
        drive(env, peer, n)
        drive_client(env)
        long_peer = "a" * 63 + "." + "b" * 63 + "." + "c" * 40 + ".peer.example"
        netlib.dialback_plain(env, long_peer).close()
        netlib.report_cell(env, long_peer, netlib.dom("no-tls"), "in",
                           lambda r: r["evidence"] == "verified")
        st, api = env.r.report(peer)
        T.check("/api/report: verdicts of at least three colours (%s)" % api["summary"],
                sum(1 for v in api["summary"].values() if v) >= 3)
        check_style(env)
        check_markup(env, ["/", "/report/" + peer, "/clients", "/nonexistent",
                           "/report/a%20b.example"])
        check_badge(env, peer, api, long_peer)
        check_pages(env, peer, api, shots)
        ok = True
    finally:
        problems = env.stop(keep=not ok)
        for p in problems:
            T.check(p, False)
    print("# screenshots in %s; %.1f s" % (shots, time.time() - t0))
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
