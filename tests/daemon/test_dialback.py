#!/usr/bin/python3
"""test_dialback.py -- server dialback (XEP-0220) as the daemon plays it:
as receiving server it asks the claimed domain's authoritative server (our
scripted Authority, found through unbound) and says valid/invalid/error; as
authoritative server it answers <db:verify/> for keys it did or did not
issue. Usage: test_dialback.py XMPP-RESPONDER."""
import re
import sys
import time

from netlib import (NS_DB, S2S_OUT_FAILED_PUBLIC, clear_of_minute_boundary, dialback_plain,
                    dom, features, fresh_peer, report_cell, run, tls_open, wait_until)

NOTLS = dom("no-tls")
LIMITS = {"unauth_timeout": 3, "connect_timeout": 1}
KEY = "0123456789abcdef" * 4


def claim(env, peer, key=KEY):
    """A plaintext stream to no-tls that sent <db:result/> for peer; returns
    (stream, our stream id from the daemon's header)."""
    s = env.stream()
    h = s.open(peer, NOTLS)
    features(s)
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, NOTLS, key))
    return s, h["id"]


def ping(frm, pid):
    return ("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
            % (pid, frm, NOTLS))


def t_valid(env):
    """The daemon dials peer's authority, sends db:verify with our key and
    its stream id; 'valid' -> exact db:result type='valid'; a ping is then
    answered on the daemon's own stream to peer."""
    env.authority.set(verify="valid")
    peer = fresh_peer()
    s, sid = claim(env, peer)
    el = s.expect(NS_DB, "result")
    want = "<db:result from='%s' to='%s' type='valid'/>" % (NOTLS, peer)
    assert s.all.endswith(want.encode()), s.all[-200:]
    p = env.authority.for_domain(peer)
    assert p.headers[0]["from"] == NOTLS, p.headers
    assert "db:verify id=%s key=%s" % (sid, KEY) in p.log, p.log
    assert re.search((r"<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
                      % (re.escape(NOTLS), re.escape(peer), sid, KEY)).encode(), p.s.all), p.s.all
    s.send(ping(peer, "after-valid"))
    got = env.authority.stanzas_to(peer, lambda e: e.get("id") == "after-valid")
    assert got and got[0].get("type") == "result" and got[0].get("from") == NOTLS, got
    assert el.get("type") == "valid"


def t_invalid(env):
    env.authority.set(verify="invalid")
    peer = fresh_peer()
    s, _ = claim(env, peer)
    s.expect(NS_DB, "result")
    want = "<db:result from='%s' to='%s' type='invalid'/>" % (NOTLS, peer)
    assert s.all.endswith(want.encode()), s.all[-200:]
    s.send(ping(peer, "after-invalid"))
    assert s.stream_error()[0] == "not-authorized"
    time.sleep(0.3)
    assert not env.authority.stanzas_to(peer, lambda e: e.get("id") == "after-invalid", 0.1)
    assert env.r.wait_log(r"auth-fail method=dialback remote=%s reason=\"authoritative "
                          r"server said the key is invalid\"" % re.escape(peer))


def expect_public_failure(s, peer):
    """db:result type='error' with the one public text for any failed dial."""
    el = s.expect(NS_DB, "result", 8)
    want = ("<db:result from='%s' to='%s' type='error'><error type='cancel'>"
            "<remote-connection-failed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>%s</text></error></db:result>"
            % (NOTLS, peer, S2S_OUT_FAILED_PUBLIC))
    assert s.all.endswith(want.encode()), (s.all[-400:], want)
    return el


def t_error_answer(env):
    env.authority.set(verify="error")
    peer = fresh_peer()
    s, _ = claim(env, peer)
    expect_public_failure(s, peer)


def t_no_answer_unauthenticated_dial(env):
    """The authority neither answers db:verify nor our db:result: after
    limits.connect_timeout the dial is given up and the claim gets the
    public failure; the stream stays unauthenticated."""
    env.authority.set(verify="silent", result="silent")
    peer = fresh_peer()
    s, _ = claim(env, peer)
    t0 = time.monotonic()
    expect_public_failure(s, peer)
    took = time.monotonic() - t0
    assert LIMITS["connect_timeout"] - 0.3 < took < LIMITS["connect_timeout"] + 2, took
    assert env.r.wait_log(r"reason=\"stream not established in time\"")


def t_no_answer_authenticated_dial(env):
    """Our stream to the authority is authenticated but it never answers
    db:verify: the claim stays pending until the inbound stream's
    unauth_timeout ends it with connection-timeout."""
    env.authority.set(verify="silent", result="valid")
    peer = fresh_peer()
    s, _ = claim(env, peer)
    cond, text = s.stream_error(LIMITS["unauth_timeout"] + 3)
    assert (cond, text) == ("connection-timeout", "not authenticated in time"), (cond, text)
    assert not any(e.tag == "{%s}result" % NS_DB for e in s.elements)


def t_nxdomain_and_refused_look_alike(env):
    """NXDOMAIN and connection refused give the same public answer (no
    port-scan oracle); the log keeps the difference."""
    nx = "nx%d.example" % time.monotonic_ns()
    s, _ = claim(env, nx)
    expect_public_failure(s, nx)
    refused = "r%d.refused.example" % time.monotonic_ns()
    s, _ = claim(env, refused)
    expect_public_failure(s, refused)
    assert env.r.wait_log(r"remote=%s event=out-fail .*reason=\"%s: not found\""
                          % (re.escape(nx), re.escape(nx)))
    assert env.r.wait_log(r"remote=%s event=out-fail .*reason=\"127\.0\.0\.1: connection refused\""
                          % re.escape(refused))


def t_verify_as_authority(env):
    """db:verify sent to us: valid for a key we issued (the one our stream
    to the authority carried in its db:result), invalid otherwise."""
    env.authority.set(verify="valid")
    peer = fresh_peer()
    dialback_plain(env, peer)    # makes the daemon dial peer and send its own key
    p = env.authority.for_domain(peer)
    # our db:result may come after the verification was answered
    keys = wait_until(lambda: [l for l in p.log if l.startswith("db:result ")], 5)
    assert keys, p.log
    key = keys[0].split(" ", 1)[1]
    assert re.fullmatch("[0-9a-f]{64}", key), key
    sid = "auth-%d" % id(p)   # the id our Authority gave that stream
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)

    def ask(frm, to, vid, k):
        s.send("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>" % (frm, to, vid, k))
        el = s.expect(NS_DB, "verify")
        assert s.all.endswith(("<db:verify from='%s' to='%s' id='%s' type='%s'/>"
                               % (to, frm, vid, el.get("type"))).encode()), s.all[-200:]
        return el.get("type")
    assert ask(peer, NOTLS, sid, key) == "valid"
    flipped = ("1" if key[0] == "0" else "0") + key[1:]
    assert ask(peer, NOTLS, sid, flipped) == "invalid"
    assert ask(peer, NOTLS, sid + "x", key) == "invalid"
    assert ask(fresh_peer(), NOTLS, sid, key) == "invalid"
    assert ask(peer, dom("no-eku"), sid, key) == "invalid"
    assert ask(peer, "nothere.example", sid, key) == "invalid"
    # answering verifications does not authenticate the asker for stanzas
    s.send(ping(peer, "verify-only"))
    assert s.stream_error()[0] == "not-authorized"


def t_pending_bounded(env):
    """At most 8 verifications in flight per stream: the 9th claim gets
    resource-constraint at once."""
    env.authority.set(verify="silent", result="valid")
    peer = fresh_peer()
    s, _ = claim(env, peer)
    for _ in range(8):
        s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, NOTLS, KEY))
    el = s.expect(NS_DB, "result")
    err = el.find("{jabber:server}error")
    assert el.get("type") == "error" and err.find(
        "{urn:ietf:params:xml:ns:xmpp-stanzas}resource-constraint") is not None, el.attrib
    text = err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text").text
    assert text == "too many verifications in flight", text


def t_verify_rate_limit(env):
    """verify_dials_per_domain: claims for one domain past the limit get
    resource-constraint without a dial."""
    peer = fresh_peer()
    env.authority.set(verify="silent", close_at="accept")
    clear_of_minute_boundary()
    seen = []
    for i in range(LIMITS_DIALS + 2):
        s, _ = claim(env, peer)
        el = s.expect(NS_DB, "result", 8)
        err = el.find("{jabber:server}error")
        seen.append(err[0].tag.split("}")[1] if err is not None and len(err) else el.get("type"))
        s.close()
    assert seen[:LIMITS_DIALS] == ["remote-connection-failed"] * LIMITS_DIALS, seen
    assert seen[LIMITS_DIALS:] == ["resource-constraint"] * 2, seen


LIMITS_DIALS = 2
LIMITS["verify_dials_per_domain"] = LIMITS_DIALS
def t_verification_needs_no_auth_of_ours(env):
    """le-tlsserver authenticates its own streams by SASL EXTERNAL only. A
    peer whose server offers only dialback still gets its key verified: our
    verification stream waits for the answer instead of failing on our auth
    rule (XEP-0220 asks no authentication of the verifier). Our reply leg
    cannot authenticate, and the report says that was our rule (refused by
    us, because the peer offers no SASL EXTERNAL), not the peer's refusal."""
    env.authority.set(verify="valid", sasl=None)
    peer = fresh_peer()
    local = dom("le-tlsserver")
    s, _ = tls_open(env, peer, local, None)
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, local, KEY))
    el = s.expect(NS_DB, "result", 10)
    assert el.get("type") == "valid", s.all[-300:]
    assert env.r.wait_log(r"remote=%s event=verify-only 1 verification\(s\) wait"
                          % re.escape(peer))
    assert env.r.wait_log(r"remote=%s event=close reason=\"dialback verifications answered\""
                          % re.escape(peer))
    s.send("<iq type='get' id='vo' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
           % (peer, local))
    cell = report_cell(env, peer, local, "out", lambda r: r["auth"] == "failed", 10)
    out = cell["out"]
    assert out["refused_by"] == "us", out
    assert "allows SASL EXTERNAL only; remote offered SASL EXTERNAL: no" in out["auth_error"], out
    assert cell["in"]["auth"] == "ok", cell["in"]


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
