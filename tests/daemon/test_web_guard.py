#!/usr/bin/env python3
"""test_web_guard.py -- the web listener against a slowloris crowd
(http_guard.h), and who the client is behind a reverse proxy
(web_client.c), on a real daemon run unprivileged (daemonlib.py). Its
listener is on 127.0.0.1, so any 127/8 source is another address without a
namespace. http_header_timeout 3, the other http_* limits at their defaults
(64 connections, 8 per address, 8 reserved); http.trusted_proxies names
127.0.0.1 and 127.0.0.5.

  crowd        5 addresses x 16 connections that send a header line every
               second and never end their headers (tests/load/attack_web.py),
               then 20 addresses x 5: GET /.well-known/acme-challenge/TOKEN,
               /crl/ca.crl and / from another address are answered within
               2 s, three times over; no crowd connection lives past the
               header deadline (plus the sweep's slack); /metrics counts the
               cuts and refusals
  proxy        X-Forwarded-For names the client only when the peer is a
               trusted proxy: /api/clients, /api/probe and the probe budget
               follow it; from anyone else it is ignored; a forged left part
               and a garbage entry do not move it
  check        a bad trusted_proxies entry and a bad value of each new limit:
               FILE:LINE and exit 1
On 85b991b the crowd holds every slot (the honest GETs time out), nothing
is cut, and the header is never read. Needs no root; bounded in time and
count; every crowd thread is joined.

Usage: test_web_guard.py PATH/TO/xmpp-responder"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "load"))
from daemonlib import Checks, Daemon, read_all, set_limit  # noqa: E402
from attack_web import Crowd, honest_get, source_range  # noqa: E402
from attack_probe import get, post_probe  # noqa: E402

T = Checks()
DEADLINE = 3          # http_header_timeout for the test
SLACK = 1.5           # the sweep's timer and the crowd's own polling
TOKEN = "tok-EN_1"
KEYAUTH = b"tok-EN_1.thumbprint"
PROXIES = '( "127.0.0.1", "127.0.0.5" )'


def edit(responder):
    """The test's config: the deadline and the trusted proxies, where the
    build knows them (a build from before them runs the same test)."""
    def apply(conf):
        try:
            set_limit(conf, "http_header_timeout", DEADLINE)
            set_limit(conf, "probe_per_requester", 1)
        except RuntimeError:
            print("# the http_* and probe_per_* limits: unknown to this build")
        with open(conf) as f:
            before = f.read()
        after = re.sub(r"(?m)^http = \{ (address = \"127\.0\.0\.1\"; port = \d+;) \};",
                       r"http = { \1 trusted_proxies = %s; };" % PROXIES, before)
        with open(conf, "w") as f:
            f.write(after)
        r = subprocess.run([responder, "check", "-c", conf], capture_output=True,
                           timeout=60)
        if r.returncode != 0:
            print("# http.trusted_proxies: unknown to this build")
            with open(conf, "w") as f:
                f.write(before)
    return apply


def honest_round(port, source, tag):
    """The three honest GETs from source; each must be 200 within 2 s."""
    for path, want in (("/.well-known/acme-challenge/" + TOKEN, KEYAUTH),
                       ("/crl/ca.crl", None), ("/", b"<!DOCTYPE html>")):
        st, took, body = honest_get("127.0.0.1", port, path, source, timeout=4)
        ok = st == 200 and took < 2.0 and (want is None or body.startswith(want))
        T.check("%s: GET %s from %s: 200 in %.2f s (got %s)"
                % (tag, path, source, took, st), ok,
                body if isinstance(body, str) else "")


def metric(port, name, reason):
    _, _, body = get("127.0.0.1", port, "/metrics")
    m = re.search(r'(?m)^xmpp_responder_%s\{reason="%s"\} (\d+)$' % (name, reason),
                  body.decode())
    return int(m.group(1)) if m else -1


def test_crowd(d):
    port = d.http_port
    os.makedirs(os.path.join(d.state, "acme", "challenges"), exist_ok=True)
    with open(os.path.join(d.state, "acme", "challenges", TOKEN), "wb") as f:
        f.write(KEYAUTH + b"\n")
    honest_round(port, "127.0.0.20", "before the crowd")

    crowd = Crowd("127.0.0.1", port, source_range("127.0.0.11-15"), 16,
                  interval=1.0, seconds=3 * DEADLINE + 1, reconnects=400).start()
    try:
        T.check("the crowd holds 40 connections (5 addresses x 8)",
                crowd.wait_holding(40, 10), str(crowd.figures()))
        t0 = time.time()
        for i in range(3):  # spread over the crowd's life: across its cuts
            honest_round(port, "127.0.0.20", "5x16 crowd, round %d" % (i + 1))
            time.sleep(max(0.0, t0 + (i + 1) * DEADLINE - time.time()))
    finally:
        crowd.stop()
    fig = crowd.figures()
    print("# 5x16 crowd: %s" % fig)
    T.check("trickling connections are cut at the header deadline: %d cut, the "
            "longest lived %s s (deadline %d s)" % (fig["cut"], fig["longest_life_s"],
                                                   DEADLINE),
            fig["cut"] >= 40 and fig["longest_life_s"] is not None
            and fig["longest_life_s"] <= DEADLINE + SLACK)

    crowd = Crowd("127.0.0.1", port, source_range("127.0.1.1-20"), 5,
                  interval=1.0, seconds=2 * DEADLINE, reconnects=400).start()
    try:
        T.check("the wider crowd holds 60 connections (20 addresses x 5)",
                crowd.wait_holding(60, 10), str(crowd.figures()))
        honest_round(port, "127.0.0.21", "20x5 crowd")
        honest_round(port, "127.0.0.20", "20x5 crowd")
        crowd.wait_cut(50, DEADLINE + 5)
    finally:
        crowd.stop()
    fig = crowd.figures()
    print("# 20x5 crowd: %s" % fig)
    T.check("the wider crowd too: %d cut, the longest lived %s s"
            % (fig["cut"], fig["longest_life_s"]),
            fig["cut"] >= 50 and fig["longest_life_s"] is not None
            and fig["longest_life_s"] <= DEADLINE + SLACK)
    cut_deadline = metric(port, "http_connections_cut_total", "header_timeout")
    cut_room = metric(port, "http_connections_cut_total", "room")
    T.check("/metrics: cuts past the deadline (%d) and to make room (%d)"
            % (cut_deadline, cut_room), cut_deadline > 0 and cut_room > 0)
    T.check("the log says who was cut and why",
            re.search(r"http address=127\.0\.\d+\.\d+ event=cut "
                      r"reason=header-timeout", d.log()) is not None)
    honest_round(port, "127.0.0.20", "after the crowd")


def raw_get(port, path, source, header_lines):
    """GET path from source with the given header lines (repeats allowed);
    the JSON body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(source, 0))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
               % (path, "".join(h + "\r\n" for h in header_lines))).encode())
    data = read_all(s)
    try:
        return json.loads(data.partition(b"\r\n\r\n")[2])
    except ValueError:
        return {}


def client_of(port, source, xff=None, lines=None):
    """(address /api/clients shows, requester /api/probe names)."""
    hl = lines if lines is not None else (["X-Forwarded-For: " + xff] if xff else [])
    return (raw_get(port, "/api/clients", source, hl).get("address"),
            raw_get(port, "/api/probe", source, hl).get("requester"))


def test_proxy(d):
    port = d.http_port
    cases = [
        ("the proxy names a client", "127.0.0.1", "198.51.100.7", None,
         ("198.51.100.7", "198.51.100.7")),
        ("a trusted hop is skipped", "127.0.0.1", "203.0.113.9, 127.0.0.5", None,
         ("203.0.113.9", "203.0.113.9")),
        ("what the client wrote to the left is not reached", "127.0.0.1",
         "6.6.6.6, 198.51.100.8", None, ("198.51.100.8", "198.51.100.8")),
        ("IPv6 with brackets and a port", "127.0.0.1", "[2001:db8:1:2::5]:4711", None,
         ("2001:db8:1:2::5", "2001:db8:1:2::/64")),
        ("a garbage entry ends at the proxy", "127.0.0.1", "not-an-address", None,
         ("127.0.0.1", "127.0.0.1")),
        ("no header: the proxy itself", "127.0.0.1", None, None,
         ("127.0.0.1", "127.0.0.1")),
        ("two header lines: the last one's last entry", "127.0.0.1", None,
         ["X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 198.51.100.9"],
         ("198.51.100.9", "198.51.100.9")),
        ("from an untrusted peer the header is ignored", "127.0.0.2",
         "198.51.100.7", None, ("127.0.0.2", "127.0.0.2")),
    ]
    for desc, source, xff, lines, want in cases:
        got = client_of(port, source, xff, lines)
        T.check("X-Forwarded-For, %s: %s (got %s)" % (desc, want, got), got == want)
    # the probe budget follows the resolved client (probe_per_requester 1)
    a = {"X-Forwarded-For": "198.51.100.30"}
    st1, _, _ = post_probe("127.0.0.1", port, "xff1.example", "127.0.0.1", headers=a)
    st2, _, body = post_probe("127.0.0.1", port, "xff2.example", "127.0.0.1", headers=a)
    st3, _, _ = post_probe("127.0.0.1", port, "xff3.example", "127.0.0.1",
                           headers={"X-Forwarded-For": "198.51.100.31"})
    st4, _, _ = post_probe("127.0.0.1", port, "xff4.example", "127.0.0.3", headers=a)
    T.check("probes behind the proxy: the client's first 303, its second 429, "
            "another client's 303, a direct peer naming it in the header 303 "
            "(got %d %d %d %d)" % (st1, st2, st3, st4),
            (st1, st2, st3, st4) == (303, 429, 303, 303)
            and b"198.51.100.30 has started its 1 probes" in body)
    T.check("the log names the client behind the proxy",
            "started from the web form by 198.51.100.30" in d.log())


def test_check(d):
    bad = os.path.join(d.dir, "bad.conf")
    shutil.copy(d.conf, bad)
    with open(bad) as f:
        text = f.read()
    text = re.sub(r"(?m)^http = \{ (address = \"127\.0\.0\.1\"; port = \d+;).*\};",
                  r'http = { \1\n  trusted_proxies = ( "127.0.0.1", "proxy.example" ); };',
                  text)
    bad_values = {"probe_per_requester": 0, "probe_per_network": 0,
                  "http_connections": 5000, "http_connections_per_ip": 0,
                  "http_header_timeout": 0, "http_reserved": 2000}
    for name, value in bad_values.items():
        text, n = re.subn(r"(?m)^(\s*%s\s*=\s*)\d+;" % name, r"\g<1>%d;" % value, text)
        if n != 1:
            text = text.replace("limits = {\n", "limits = {\n  %s = %d;\n" % (name, value))
    with open(bad, "w") as f:
        f.write(text)
    lines = text.split("\n")

    def line_of(pattern):
        return next((i + 1 for i, ln in enumerate(lines) if re.search(pattern, ln)), 0)

    r = subprocess.run([d.responder, "check", "-c", bad], capture_output=True,
                       text=True, timeout=60)
    out = r.stdout + r.stderr
    T.check("check: exit 1 on the bad config (got %d)" % r.returncode, r.returncode == 1)
    want = "%s:%d: http.trusted_proxies entry 'proxy.example' is not a valid CIDR" % (
        bad, line_of(r"proxy\.example"))
    T.check("check: the bad proxy entry with FILE:LINE", want in out, out[-600:])
    ranges = {"probe_per_requester": "1..1048576", "probe_per_network": "1..1048576",
              "http_connections": "1..4096", "http_connections_per_ip": "1..4096",
              "http_header_timeout": "1..3600", "http_reserved": "1..1024"}
    for name, value in bad_values.items():
        prefix = "%s:%d: " % (bad, line_of(r"^\s*%s\s*=" % name))
        T.check("check: %s = %d with FILE:LINE and its range %s"
                % (name, value, ranges[name]),
                any(ln.startswith(prefix) and name in ln and ranges[name] in ln
                    for ln in out.split("\n")), out[-600:])


def main():
    d = Daemon(sys.argv[1], limits={"probe_timeout": 2, "probe_concurrency": 64},
               edit=edit(os.path.abspath(sys.argv[1])))
    return d.run_checks(T, test_crowd, test_proxy, test_check)


if __name__ == "__main__":
    sys.exit(main())
