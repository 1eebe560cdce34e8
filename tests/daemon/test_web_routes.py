#!/usr/bin/env python3
"""test_web_routes.py -- every route of the web listener (web.c,
web_pages.c) of a real daemon run unprivileged (daemonlib.py: ephemeral
loopback ports, DNS to a dead loopback port), over plain HTTP with
http.client. Complements test_web.sh (suite cli: pages in Chromium, promtool,
a hostile peer's text): here the status, content type and the security
headers of every response, errors included; the probe form's same-origin
rules (Sec-Fetch-Site, Origin, Referer) and that a refused post starts no
probe; every method; percent-encoding, hostile and long paths; raw garbage
on the socket. Needs no root.

Usage: test_web_routes.py PATH/TO/xmpp-responder"""

import http.client
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon, read_all  # noqa: E402

T = Checks()
FORM = "application/x-www-form-urlencoded"
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
METRICS = "text/plain; version=0.0.4; charset=utf-8"
# Headers every response carries (web.c respond()).
SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Web:
    def __init__(self, port):
        self.port = port
        self.host = "127.0.0.1:%d" % port

    def req(self, method, path, body=None, headers=None):
        """(status, headers dict with lower-case names, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            c.request(method, path, body, headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def raw(self, data):
        """Send raw bytes; what comes back before the server closes."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_all(s)


def expect(w, desc, method, path, status, ctype, body=None, headers=None,
           allow=None):
    """One request: status, content type, the security headers, Allow."""
    st, h, data = w.req(method, path, body, headers)
    T.check("%s %s: %d %s (got %d %s)" % (method, path[:60], status, ctype, st,
                                        h.get("content-type")) + desc,
            st == status and h.get("content-type") == ctype)
    missing = [k for k, v in SECURITY.items() if h.get(k.lower()) != v]
    T.check("%s %s: every security header" % (method, path[:60]), not missing,
            "missing or wrong: %s" % missing)
    if allow is not None:
        T.check("%s %s: Allow: %s (got %s)" % (method, path[:60], allow,
                                              h.get("allow")),
                h.get("allow") == allow)
    return st, h, data


def metric(w, name):
    st, _, data = w.req("GET", "/metrics")
    m = re.search(r"(?m)^%s (\d+)$" % re.escape(name), data.decode())
    return int(m.group(1)) if st == 200 and m else -1


def test_pages(w, domains):
    _, _, index = expect(w, "", "GET", "/", 200, HTML)
    text = index.decode()
    T.check("index: names every test domain (%d)" % len(domains),
            all(d in text for d in domains))
    T.check("index: the probe form posts to /probe",
            '<form method="post" action="/probe"' in text)
    _, _, again = expect(w, "", "GET", "/index.html", 200, HTML)
    T.check("/index.html is the index", again == index)
    st, h, body = w.req("HEAD", "/")
    T.check("HEAD /: 200, no body, the index's length",
            st == 200 and body == b"" and h.get("content-length") == str(len(index)))

    _, _, page = expect(w, "", "GET", "/report/peer.example", 200, HTML)
    page = page.decode()
    T.check("report page: names the peer and every domain",
            "peer.example" in page and all(d in page for d in domains))
    for alias in ("/report/Peer.Example.", "/report/peer%2Eexample",
                  "/report/PEER%2eEXAMPLE"):
        _, _, p = expect(w, "", "GET", alias, 200, HTML)
        T.check("%s is the report of peer.example (case, dot, %%-escape)" % alias,
                p.decode() == page)
    _, _, q = expect(w, "", "GET", "/report/peer.example?x=%3Cscript%3E<b>", 200, HTML)
    T.check("the query string is ignored, not reflected",
            q.decode() == page and "<script" not in q.decode())

    _, _, api = expect(w, "", "GET", "/api/report/peer.example", 200, JSON)
    try:
        doc = json.loads(api)
        ok = doc["remote"] == "peer.example" and doc["known"] is False and \
            [x["domain"] for x in doc["domains"]] == domains and \
            all(x["seen"] and x["verdict"] for x in doc["domains"]) and \
            set(doc["summary"]) >= {"ok", "advisory", "wrong", "unknown"}
    except (ValueError, KeyError, TypeError) as e:
        ok = False
        print("# " + repr(e))
    T.check("/api/report/peer.example: the remote, unknown, one cell per domain "
            "in config order, a summary", ok)
    _, _, dj = expect(w, "", "GET", "/api/domains", 200, JSON)
    T.check("/api/domains: the base and every domain",
            json.loads(dj)["base_domain"] == BASE
            and [x["domain"] for x in json.loads(dj)["domains"]] == domains)
    for path in ("/api", "/api/", "/api/nope", "/api/report"):
        _, _, e = expect(w, "", "GET", path, 404, JSON)
        T.check("%s: a JSON error naming the APIs" % path,
                "/api/report/DOMAIN" in json.loads(e)["error"])

    _, _, m = expect(w, "", "GET", "/metrics", 200, METRICS)
    T.check("/metrics: %d test domains" % len(domains),
            re.search(r"(?m)^xmpp_responder_test_domains %d$" % len(domains),
                      m.decode()) is not None)
    T.check("/metrics: HELP and TYPE before the samples",
            m.decode().startswith("# HELP xmpp_responder_"))


def test_errors(w):
    for path in ("/nonexistent", "/metrics/", "//", "/%", "/x?y=1", "/favicon.ico",
                 "/report", "/REPORT/peer.example"):
        _, _, body = expect(w, "", "GET", path, 404, HTML)
        T.check("%s: the 404 page points to the index" % path, b"index" in body)
    bad = ["/report/", "/report/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/report/a/b",
           "/report/a%zz", "/report/x%22%3E%3Cb%3E.example",
           "/report/" + "a" * 300, "/report/a%20b.example",
           "/report/%0d%0aSet-Cookie:%20x=1"]
    for path in bad:
        st, h, body = expect(w, "", "GET", path, 400, HTML)
        text = body.decode("utf-8", "replace")
        T.check("%s: nothing reflected as markup or header" % path[:50],
                "<b>" not in text and "set-cookie" not in h)
    for path in ("/api/report/", "/api/report/a%2fb", "/api/report/%3Cx%3E"):
        _, _, body = expect(w, "", "GET", path, 400, JSON)
        T.check("%s: JSON error without '<'" % path,
                json.loads(body)["error"] == "not a domain name" and b"<" not in body)
    # a domain with UTF-8 in it is a name: served, escaped as text
    _, _, body = expect(w, "", "GET", "/report/b%C3%BCcher.example", 200, HTML)
    T.check("a UTF-8 domain name is shown as UTF-8 text",
            "b\u00fccher.example" in body.decode())
    # a NUL ends the name where libmicrohttpd decodes it: no 500, no NUL out
    st, _, body = w.req("GET", "/report/a%00b.example")
    T.check("a %%00 in the path: no server error and no NUL in the page (got %d)" % st,
            st < 500 and b"\x00" not in body)
    expect(w, "", "GET", "/report/" + "a" * 1100, 414, HTML)
    out = w.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 40000 + b"\r\n\r\n")
    T.check("a 40 kB header: 431 (got %r)" % out[:40],
            out.startswith(b"HTTP/1.1 431 "))
    out = w.raw(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    T.check("TLS or garbage on the HTTP port: no HTTP 200 (got %r)" % out[:40],
            not out.startswith(b"HTTP/1.1 200"))
    out = w.raw(b"GET /../../etc/passwd HTTP/1.0\r\n\r\n")
    T.check("a raw /../ path: 404, no file served (got %r)" % out[:40],
            out.startswith(b"HTTP/1.0 404") or out.startswith(b"HTTP/1.1 404")
            or out.startswith(b"HTTP/1.1 400"))


def test_methods(w):
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "FOO"):
        expect(w, "", method, "/", 405, HTML, allow="GET, HEAD")
        expect(w, "", method, "/probe", 405, HTML, allow="POST")
        expect(w, "", method, "/report/peer.example", 405, HTML, allow="GET, HEAD")
    expect(w, "", "GET", "/probe", 405, HTML, allow="POST")
    for path in ("/", "/metrics", "/report/peer.example", "/api/domains",
                 "/style.css", "/badge/peer.example.svg"):
        expect(w, "", "POST", path, 405, HTML, body="x=1",
               headers={"Content-Type": FORM}, allow="GET, HEAD")
    expect(w, "", "POST", "/nowhere", 404, HTML, body="x=1",
           headers={"Content-Type": FORM})


def post_probe(w, target, headers=None, ctype=FORM):
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return w.req("POST", "/probe", "target=" + target, h)


def test_probe_form(w):
    host = w.host
    n0 = metric(w, "xmpp_responder_probes_started_total")
    T.check("/metrics counts probes (%d so far)" % n0, n0 == 0)
    allowed = [
        ("no origin headers (a script)", {}),
        ("Sec-Fetch-Site: same-origin", {"Sec-Fetch-Site": "same-origin"}),
        ("Origin: this server", {"Origin": "http://" + host}),
        ("Referer: a page of this server", {"Referer": "http://%s/report/x.example" % host}),
        ("Sec-Fetch-Site same-origin beats a foreign Origin",
         {"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"}),
    ]
    for i, (desc, headers) in enumerate(allowed):
        target = "ok%d.example" % i
        st, h, _ = post_probe(w, target, headers)
        T.check("POST /probe, %s: 303 to /report/%s (got %d %s)"
                % (desc, target, st, h.get("location")),
                st == 303 and h.get("location") == "/report/" + target
                and h.get("content-type") == HTML
                and h.get("x-frame-options") == "DENY")
    refused = [
        ("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site"}),
        ("Sec-Fetch-Site: same-site", {"Sec-Fetch-Site": "same-site"}),
        ("Origin: another site", {"Origin": "http://evil.example"}),
        ("Origin: null", {"Origin": "null"}),
        ("Origin: this host as a prefix", {"Origin": "http://%s.evil.example" % host}),
        ("Origin: this host with a path", {"Origin": "http://%s/x" % host}),
        ("Origin: another scheme", {"Origin": "ftp://" + host}),
        ("Referer: another site", {"Referer": "http://evil.example/"}),
        ("Referer: this host as a prefix", {"Referer": "http://%sevil/" % host}),
        ("Origin of this host but another Host header",
         {"Origin": "http://" + host, "Host": "evil.example"}),
    ]
    for i, (desc, headers) in enumerate(refused):
        st, h, body = post_probe(w, "no%d.example" % i, headers)
        T.check("POST /probe, %s: 403 HTML with the security headers (got %d)"
                % (desc, st),
                st == 403 and h.get("content-type") == HTML
                and h.get("content-security-policy") == SECURITY["Content-Security-Policy"]
                and b"cross-origin" in body)
    T.check("the refused posts started no probe; the allowed ones did",
            metric(w, "xmpp_responder_probes_started_total") == n0 + len(allowed))

    st, h, body = post_probe(w, "ok0.example")
    T.check("POST /probe of a target just probed: 429 with Retry-After (got %d)" % st,
            st == 429 and h.get("retry-after", "").isdigit()
            and int(h["retry-after"]) > 0 and b"rate" in body)
    for target, want in (("", b"Give the domain"),
                         ("valid." + BASE, b"one of our own test domains"),
                         ("127.0.0.1", b"looks like an IP address"),
                         ("a" * 600, b"too long"),
                         ("%3Cscript%3Ex", b"not a domain name")):
        st, h, body = post_probe(w, target)
        T.check("POST /probe target=%s: 400 saying why (got %d)" % (target[:20], st),
                st == 400 and want in body and b"<script" not in body
                and h.get("content-type") == HTML)
    st, _, _ = post_probe(w, "text.example", ctype="text/plain")
    T.check("POST /probe as text/plain: 415 (got %d)" % st, st == 415)
    st, _, _ = w.req("POST", "/probe", "target=big.example&pad=" + "a" * 9000,
                     {"Content-Type": FORM})
    T.check("POST /probe with a 9 kB form: 413 (got %d)" % st, st == 413)
    out = w.raw(b"POST /probe HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
                + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(4))
                + b"0\r\n\r\n")
    T.check("POST /probe with a chunked 16 kB body: no 303, no 2xx (got %r)" % out[:30],
            not re.match(rb"HTTP/1\.1 [23]", out))
    T.check("after all that, still %d probes" % (n0 + len(allowed)),
            metric(w, "xmpp_responder_probes_started_total") == n0 + len(allowed))


def main():
    t0 = time.time()
    d = Daemon(sys.argv[1], limits={"probe_timeout": 3, "probe_concurrency": 64})
    try:
        w = Web(d.http_port)
        domains = d.domains()
        test_pages(w, domains)
        test_errors(w)
        test_methods(w)
        test_probe_form(w)
        T.check("the daemon is still running", d.alive())
        T.check("the log has no libmicrohttpd complaint",
                "EXTERNAL_LOGGER" not in d.log())
    finally:
        rc = d.stop()
        d.cleanup()
    T.check("SIGTERM: exit status 0 (got %s)" % rc, rc == 0)
    print("# %.1f s" % (time.time() - t0))
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
