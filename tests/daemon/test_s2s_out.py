#!/usr/bin/python3
"""test_s2s_out.py -- the outbound stream machine (responder/xmpp/s2s_out.c,
s2s_out_dial.c): the daemon dials our scripted Authority (found by SRV
through unbound) to answer a peer that authenticated by SASL EXTERNAL. Its
header, STARTTLS, SASL EXTERNAL or dialback as initiator as the profile
says, the queue while the stream is set up, and every failure path, as the
report (GET /api/report/PEER) and the log show them.
Usage: test_s2s_out.py XMPP-RESPONDER."""
import base64
import re
import sys
import time

from netlib import (NS_PING, NS_SERVER, S2S_OUT_FAILED_PUBLIC, dom, fresh_peer,
                    report_cell, run, sasl_session, tag)

VALID, EXTONLY, NOTLS = dom("valid"), dom("le-tlsserver"), dom("no-tls")
QUEUE_MAX = 4
LIMITS = {"queue_max": QUEUE_MAX, "connect_timeout": 1}


def pings(s, peer, local, ids):
    s.send("".join("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='%s'/></iq>"
                   % (i, peer, local, NS_PING) for i in ids))


def pongs(env, peer, prefix, n=1, seconds=5):
    got = env.authority.stanzas_to(
        peer, lambda e: e.get("id", "").startswith(prefix) and e.get("type") == "result"
        and e.tag == tag(NS_SERVER, "iq"), seconds)
    return got if got and len(got) >= n else got


def t_tls_sasl_external(env):
    """valid: header, STARTTLS, header again in TLS, EXTERNAL with our
    domain as authzid, restart, then the pong."""
    env.authority.set(sasl="success")
    peer = fresh_peer()
    s = sasl_session(env, peer, VALID)
    pings(s, peer, VALID, ["x1"])
    assert pongs(env, peer, "x1"), env.r.log()[-2000:]
    p = env.authority.for_domain(peer)
    first = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
             "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
             "version='1.0' from='%s' to='%s'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
             % (VALID, peer))
    assert p.s.all.startswith(first.encode()), p.s.all[:400]
    assert [h.get("from") for h in p.headers] == [VALID] * 3, p.headers
    assert all("id" not in h for h in p.headers), p.headers
    authzid = base64.b64encode(VALID.encode()).decode()
    assert p.log[:2] == ["tls", "sasl EXTERNAL %s" % authzid], p.log
    rec = report_cell(env, peer, VALID, "out", lambda r: r["stanzas"] >= 1)["out"]
    assert (rec["auth_used"], rec["auth"], rec["peer_cert"]) == ("EXTERNAL", "ok", "valid"), rec
    assert rec["tls"].startswith("TLS"), rec


def t_sasl_refused_falls_back_to_dialback(env):
    env.authority.set(sasl="failure")
    peer = fresh_peer()
    s = sasl_session(env, peer, VALID)
    pings(s, peer, VALID, ["fb1"])
    assert pongs(env, peer, "fb1")
    p = env.authority.for_domain(peer)
    assert p.log[0] == "tls" and p.log[1].startswith("sasl EXTERNAL") \
        and p.log[2].startswith("db:result "), p.log
    rec = report_cell(env, peer, VALID, "out", lambda r: r["auth"] == "ok")["out"]
    assert rec["auth_used"] == "dialback", rec
    assert "SASL EXTERNAL refused: not-authorized" in rec["auth_error"], rec


def t_external_only_no_fallback(env):
    """le-tlsserver authenticates by EXTERNAL only: refused means failed,
    the queued pong is dropped, and the report says why."""
    env.authority.set(sasl="failure")
    peer = fresh_peer()
    s = sasl_session(env, peer, EXTONLY)
    pings(s, peer, EXTONLY, ["eo1"])
    rec = report_cell(env, peer, EXTONLY, "out", lambda r: r["auth"] == "failed")["out"]
    assert rec["refused_by"] == "peer", rec
    assert "SASL EXTERNAL refused: not-authorized" in rec["auth_error"], rec
    p = env.authority.for_domain(peer)
    assert not any(l.startswith("db:result") for l in p.log), p.log
    assert not pongs(env, peer, "eo1", seconds=0.3)
    assert env.r.wait_log(r"remote=%s event=bounce 1 stanza\(s\) undeliverable" % re.escape(peer))


def t_dialback_only_when_no_external(env):
    """The remote offers no EXTERNAL: valid falls to dialback at once."""
    env.authority.set(sasl=None)
    peer = fresh_peer()
    s = sasl_session(env, peer, VALID)
    pings(s, peer, VALID, ["de1"])
    assert pongs(env, peer, "de1")
    p = env.authority.for_domain(peer)
    assert p.log[0] == "tls" and p.log[1].startswith("db:result "), p.log


def t_queue_in_order_and_bounded(env):
    """Pings sent before our stream is up are queued (queue_max) and
    answered in order once it is; the rest are dropped and logged."""
    env.authority.set(sasl="success")
    peer = fresh_peer()
    s = sasl_session(env, peer, VALID)
    ids = ["q%d" % i for i in range(QUEUE_MAX + 2)]
    pings(s, peer, VALID, ids)
    got = pongs(env, peer, "q", QUEUE_MAX)
    time.sleep(0.3)
    got = pongs(env, peer, "q", seconds=0)
    assert [e.get("id") for e in got] == ids[:QUEUE_MAX], [e.get("id") for e in got]
    assert env.r.wait_log(r"remote=%s event=dropped queue full \(%d stanzas"
                          % (re.escape(peer), QUEUE_MAX))


def failed_out(env, peer, local=VALID, pred=lambda r: True):
    s = sasl_session(env, peer, local)
    pings(s, peer, local, ["f1"])
    return report_cell(env, peer, local, "out", pred)["out"]


# The remote closing before its header: the record says the stream failed
# unauthenticated with nothing sent, in the same words and with the same
# 'refused_by' as a refused connection (s2s_out.h: no port-scan oracle).
def closed_early(env, close_at):
    env.authority.set(close_at=close_at)
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert (rec["auth"], rec["stanzas"], rec["tls"]) == ("none", 0, ""), rec
    assert rec["close"] == S2S_OUT_FAILED_PUBLIC, rec
    assert rec["refused_by"] == "network", rec
    assert rec["address"] == "127.0.0.1:%d" % env.peer_port, rec
    assert env.r.wait_log(r"remote=%s event=out-fail state=header condition=remote-server-not-found"
                          % re.escape(peer))
    assert env.r.wait_log(r"remote=%s event=bounce 1 stanza\(s\) undeliverable" % re.escape(peer))


def t_peer_closes_at_accept(env):
    closed_early(env, "accept")


def t_peer_closes_after_header(env):
    closed_early(env, "header")


def t_peer_stream_error(env):
    env.authority.set(error="policy-violation")
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["error_in"])
    assert rec["error_in"] == "policy-violation: scripted", rec
    assert rec["refused_by"] == "peer", rec
    assert env.r.wait_log(r"remote=%s event=out-fail state=features condition=remote-server-not-found "
                          r"reason=\"remote sent stream error policy-violation: scripted\""
                          % re.escape(peer))


def t_peer_shutting_down_is_no_refusal(env):
    """A remote that answers with system-shutdown refuses nothing: the log
    says the stream closed (no out-fail), the report that the network, not
    the peer, ended it."""
    env.authority.set(error="system-shutdown")
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["error_in"])
    assert rec["error_in"] == "system-shutdown: scripted", rec
    assert rec["refused_by"] == "network", rec
    assert env.r.wait_log(r"remote=%s event=out-closed state=features reason=\"remote sent "
                          r"stream error system-shutdown: scripted\"" % re.escape(peer))
    assert not re.search(r"remote=%s event=out-fail" % re.escape(peer), env.r.log())


def t_client_certificate_refused_after_handshake(env):
    """A TLS 1.3 server that does not trust our client certificate says so
    with an alert after our side of the handshake is over: the log and the
    report name the alert and blame the peer at the TLS step, not a
    'broken pipe' at the header."""
    env.authority.set(sasl="success", client_ca=env.pki.ca)  # not our CA
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert (rec["refused_by"], rec["step"], rec["presented"]) == ("peer", "tls", VALID), rec
    cell = report_cell(env, peer, VALID, "out", lambda r: r["close"] != "open")
    if not rec["alert"]:
        # the server's RST can overtake its alert (it closes with our header
        # unread): then it reads as the hang-up below, still the peer's refusal
        assert env.r.wait_log(r"remote=%s event=out-fail state=header .*reason=\"the remote "
                              r"ended the connection right after the TLS handshake"
                              % re.escape(peer)), rec
        return
    assert rec["alert"] == "received unknown_ca", rec
    assert env.r.wait_log(r"remote=%s event=out-fail state=header condition=remote-server-not-found "
                          r"reason=\"the remote refused our client certificate \(%s\) after the "
                          r"TLS handshake: received unknown_ca\"" % (re.escape(peer), re.escape(VALID)))
    assert "your server refused at the TLS handshake: received unknown_ca" in cell["explanation"], cell


def t_hang_up_after_handshake_with_our_certificate(env):
    """The same refusal without an alert: the remote hangs up right after
    the handshake, before its header. The peer refused, at the TLS step."""
    env.authority.set(sasl="success", client_ca=env.r.ca, close_after_tls=True)
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert (rec["refused_by"], rec["step"], rec["alert"]) == ("peer", "tls", ""), rec
    assert env.r.wait_log(r"remote=%s event=out-fail state=header condition=remote-server-not-found "
                          r"reason=\"the remote ended the connection right after the TLS handshake, "
                          r"before its stream header \(" % re.escape(peer))
    cell = report_cell(env, peer, VALID, "out", lambda r: r["close"] != "open")
    assert "ended the connection right after the TLS handshake" in cell["explanation"], cell


def t_starttls_refused(env):
    env.authority.set(starttls="failure")
    peer = fresh_peer()
    failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert env.r.wait_log(r"remote=%s event=out-fail state=starttls condition=remote-server-not-found "
                          r"reason=\"remote refused STARTTLS\"" % re.escape(peer))


def t_tls_handshake_fails(env):
    env.authority.set(starttls="garbage")
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert rec["tls"] == "" and rec["auth"] == "none", rec
    assert env.r.wait_log(r"remote=%s event=out-fail state=tls condition=remote-server-not-found "
                          r"reason=\"TLS handshake failed: " % re.escape(peer))


def t_dialback_refused(env):
    """Our db:result answered invalid: the stream fails, the report says
    the peer refused our dialback."""
    env.authority.set(sasl=None, result="invalid")
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["auth"] == "failed")
    assert rec["auth_used"] == "dialback" and rec["refused_by"] == "peer", rec
    assert rec["auth_error"] == "dialback refused: type=invalid", rec
    assert not pongs(env, peer, "f1", seconds=0.2)


def t_nxdomain(env):
    peer = "o%d.nx.example" % time.monotonic_ns()
    rec = failed_out(env, peer)
    assert rec["refused_by"] == "network", rec
    assert rec["close"] == "%s: not found" % peer, rec
    assert rec["address"] == "", rec


def t_connect_refused(env):
    peer = "o%d.refused.example" % time.monotonic_ns()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert rec["close"] == S2S_OUT_FAILED_PUBLIC, rec
    assert rec["refused_by"] == "network", rec
    assert env.r.wait_log(r"remote=%s event=connect-fail address=127\.0\.0\.1 "
                          r"reason=\"connection refused\""
                          % re.escape(peer))


def t_remote_silent_times_out(env):
    """The remote accepts and never sends a header: connect_timeout."""
    env.authority.set(close_at="never-speak")
    peer = fresh_peer()
    rec = failed_out(env, peer, pred=lambda r: r["close"] != "open")
    assert env.r.wait_log(r"remote=%s event=out-fail state=header condition=remote-server-timeout"
                          % re.escape(peer), LIMITS["connect_timeout"] + 2), rec


def t_plaintext_profile_refuses_required_tls(env):
    """no-tls speaks plaintext only: a remote requiring STARTTLS is given up
    (the dialback verification riding that stream fails with it)."""
    env.authority.set(tls_required=True)
    peer = fresh_peer()
    from netlib import NS_DB, features
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, NOTLS, "k" * 64))
    el = s.expect(NS_DB, "result")
    assert el.get("type") == "error", el.attrib
    assert env.r.wait_log(r"remote=%s event=out-fail state=features condition=remote-server-not-found "
                          r"reason=\"the remote requires STARTTLS; this profile speaks plaintext only\""
                          % re.escape(peer))
    p = env.authority.for_domain(peer)
    assert b"<starttls" not in p.s.all, p.s.all


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
