#!/usr/bin/python3
"""test_presented.py -- what a remote server presents, graded from the
streams alone (responder/report/report_shown.c, grade.c, pki/peercert.c):
a scripted peer authenticates to valid by SASL EXTERNAL and pings it; the
daemon dials the peer's scripted server (netlib's Authority) to answer, sees
its certificate, its TLS and its features, and the report then holds a
partial grade with the findings, in /api/report, on the report page and in
`xmpp-responder report` (read from report.db):
  a. a correct server: both purposes, STARTTLS required, EXTERNAL: A, partial
  b. a serverAuth-only certificate: the readiness line names it, B
  c. no STARTTLS at all: no certificate, F
and the grade's badge, /badge/grade/DOMAIN.svg.
Usage: test_presented.py XMPP-RESPONDER."""
import http.client
import subprocess
import sys

from netlib import (NS_PING, NS_SERVER, dom, fresh_peer, run, sasl_session, tag,
                    wait_until)

VALID = dom("valid")
LIMITS = {"connect_timeout": 2}


def ping_and_wait(env, peer, ident, cert=None):
    """Authenticate as peer to valid (with cert), ping, and wait for the
    pong the daemon sends over its own stream to peer's server."""
    s = sasl_session(env, peer, VALID, cert)
    s.send("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='%s'/></iq>"
           % (ident, peer, VALID, NS_PING))
    got = env.authority.stanzas_to(
        peer, lambda e: e.get("id") == ident and e.tag == tag(NS_SERVER, "iq"), 10)
    assert got, "no pong reached %s's server" % peer
    return s


def presented(env, peer, pred=lambda p: True):
    last = []

    def find():
        status, j = env.r.report(peer)
        assert status == 200, (status, j)
        last[:] = [j.get("presented")]
        p = j.get("presented")
        return p if p and pred(p) else None
    p = wait_until(find, 10, 0.1)
    assert p, "presented for %s: %r" % (peer, last)
    return p


def page(env, path):
    c = http.client.HTTPConnection("127.0.0.1", env.r.http_port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, body


def t_a_a_correct_server(env):
    env.authority.set(sasl="success", tls_required=True)
    peer = fresh_peer("good")
    s = ping_and_wait(env, peer, "g1")
    p = presented(env, peer, lambda p: p["findings"]["server_cert"]["present"])
    f = p["findings"]
    sc = f["server_cert"]
    assert sc["chain"] == "ok" and sc["name_ok"], sc
    assert f["tls_required"] == "yes" and f["sasl_external"] == "yes", f
    assert "TLS1.3" in f["tls_seen"] or "TLS1.2" in f["tls_seen"], f["tls_seen"]
    assert p["grade"] == "A" and p["partial"] is True, (p["grade"], p["rules"])
    assert p["seen_server"] > 0, p
    assert [h["grade"] for h in p["history"]] == ["A"], p["history"]
    # the client side: its stream to us authenticated with a certificate
    assert f["client_cert"]["present"] and f["client_cert"]["chain"] == "ok", f["client_cert"]
    status, body = page(env, "/report/" + peer)
    assert status == 200 and "What it presents" in body and "How grades are given" in body, \
        body[:300]
    assert "partial" in body, "the page does not mark the grade partial"
    status, svg = page(env, "/badge/grade/%s.svg" % peer)
    assert status == 200 and "<title>xmpp grade: A (partial) for %s</title>" % peer in svg, \
        (status, svg[:300])
    status, _ = page(env, "/badge/grade/nobody.peer.example.svg")
    assert status == 404, status
    # the command reads the same from report.db (once the outcomes' batch
    # is written: they come on a timer)
    last = []

    def cli():
        r = subprocess.run([env.r.binary, "report", "-c", env.r.conf, peer],
                           capture_output=True, text=True, timeout=30)
        last[:] = [r.stdout[-800:] + r.stderr[-400:]]
        return "what %s presents:" % peer in r.stdout and r.stdout
    out = wait_until(cli, 15, 0.5)
    assert out, last
    assert "grade: A" in out, out[-800:]
    s.close()


def t_b_a_server_only_certificate(env):
    names = ["sonly.peer.example", "*.peer.example"]
    cert = env.pki.leaf("sonly", names, server_only=True)
    peer = fresh_peer("sonly")
    env.authority.set(sasl="success", tls_required=True, cert=cert)
    s = ping_and_wait(env, peer, "s1", cert)
    p = presented(env, peer, lambda p: p["findings"]["server_cert"]["present"])
    assert "server" in p["findings"]["server_cert"]["eku"].lower() and \
        "client" not in p["findings"]["server_cert"]["eku"].lower().replace("no client", ""), \
        p["findings"]["server_cert"]["eku"]
    assert p["grade"] == "B", (p["grade"], p["rules"])
    assert p["readiness"]["ready"] is False, p["readiness"]
    assert "server authentication only" in p["readiness"]["text"] and \
        "refuse it when it dials them" in p["readiness"]["text"], p["readiness"]["text"]
    s.close()


def t_c_no_starttls(env):
    env.authority.set(tls=False, sasl="success", dialback=True)
    peer = fresh_peer("plain")
    s = sasl_session(env, peer, VALID)
    s.send("<iq type='get' id='p1' from='%s' to='%s'><ping xmlns='%s'/></iq>"
           % (peer, VALID, NS_PING))
    p = presented(env, peer, lambda p: p["findings"]["tls_required"] == "no")
    assert not p["findings"]["server_cert"]["present"], p["findings"]["server_cert"]
    assert p["grade"] == "F", (p["grade"], p["rules"])
    s.close()


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
