#!/usr/bin/python3
"""test_sasl.py -- SASL EXTERNAL (XEP-0178, responder/xmpp/sasl.c and its use in
s2s_in.c) as the daemon receives it: success with a trusted certificate
naming the peer, the exact <failure/> for an untrusted or wrongly named one
and for bad payloads, and what follows a failure (the stream stays; dialback
may still authenticate it). The daemon as SASL client is in test_s2s_out.py.
Usage: test_sasl.py XMPP-RESPONDER."""
import base64
import re
import sys

from netlib import (NS_DB, NS_PING, NS_SASL, dom, features, fresh_peer, report_cell,
                    run, tag, tls_open)

VALID = dom("valid")
FAILURE = ("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><%s/><text>%s</text></failure>")
NOT_OFFERED = "only EXTERNAL is offered, and only to a peer with a valid certificate"


def tls(env, cert):
    peer = fresh_peer()
    return (peer,) + tls_open(env, peer, VALID, cert)


def auth(s, payload="="):
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>%s</auth>" % (NS_SASL, payload))
    return s.next()


def t_success(env):
    peer, s, f = tls(env, env.peer_cert)
    assert [m.text for m in f[tag(NS_SASL, "mechanisms")]] == ["EXTERNAL"]
    el = auth(s, base64.b64encode(peer.encode()).decode())
    assert el.tag == tag(NS_SASL, "success"), el
    assert s.all.endswith(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"), s.all[-100:]
    rec = report_cell(env, peer, VALID, "in", lambda r: r["auth"] == "ok")["in"]
    assert (rec["auth_used"], rec["peer_cert"]) == ("EXTERNAL", "valid"), rec


def failure_then_dialback(env, cert):
    """EXTERNAL refused (not offered), then dialback on the same stream."""
    env.authority.set(verify="valid")
    peer, s, f = tls(env, cert)
    assert tag(NS_SASL, "mechanisms") not in f, f
    el = auth(s)
    assert el.tag == tag(NS_SASL, "failure"), el
    assert s.all.endswith((FAILURE % ("invalid-mechanism", NOT_OFFERED)).encode()), s.all[-200:]
    # no restart, no close: the stream is still in its auth state
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, VALID, "k" * 64))
    res = s.expect(NS_DB, "result")
    assert res.get("type") == "valid", res.attrib
    s.send("<iq type='get' id='after' from='%s' to='%s'><ping xmlns='%s'/></iq>" % (peer, VALID, NS_PING))
    assert env.authority.stanzas_to(peer, lambda e: e.get("id") == "after")
    rec = report_cell(env, peer, VALID, "in", lambda r: r["auth"] == "ok")["in"]
    assert rec["auth_used"] == "dialback", rec
    return rec


def t_untrusted_certificate(env):
    crt = env.pki.leaf("untrusted", ["peer.example", "*.peer.example"], self_signed=True)
    failure_then_dialback(env, crt)


def t_wrong_name(env):
    rec = failure_then_dialback(env, env.pki.leaf("other", ["other.example"]))
    assert re.match(r"certificate does not name p\S+ \(names: other\.example\)", rec["peer_cert"]), rec


def t_other_mechanism(env):
    _, s, _ = tls(env, env.peer_cert)
    s.send("<auth xmlns='%s' mechanism='PLAIN'>AGEAYg==</auth>" % NS_SASL)
    s.expect(NS_SASL, "failure")
    assert s.all.endswith((FAILURE % ("invalid-mechanism", NOT_OFFERED)).encode())


def t_bad_payloads(env):
    peer, s, _ = tls(env, env.peer_cert)
    assert auth(s, "%%%").tag == tag(NS_SASL, "failure")
    assert s.all.endswith((FAILURE % ("incorrect-encoding", "authzid is not valid base64")).encode())
    assert auth(s, base64.b64encode(b"x" * 300).decode()).tag == tag(NS_SASL, "failure")
    assert s.all.endswith((FAILURE % ("incorrect-encoding", "authzid is not valid base64")).encode())
    assert auth(s, base64.b64encode(b"a\0b").decode()).tag == tag(NS_SASL, "failure")
    wrong = base64.b64encode(b"someone.peer.example").decode()
    assert auth(s, wrong).tag == tag(NS_SASL, "failure")
    differs = "authzid differs from the stream&apos;s &apos;from&apos;"
    assert s.all.endswith((FAILURE % ("invalid-authzid", differs)).encode()), s.all[-200:]
    # after the failures the right identity still succeeds
    assert auth(s, "").tag == tag(NS_SASL, "success")


def t_auth_outside_auth_state(env):
    """<auth/> before TLS (state starttls) is a policy violation."""
    s = env.stream()
    s.open(fresh_peer(), VALID)
    features(s)
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    assert s.stream_error() == ("policy-violation", "STARTTLS is required before anything else")


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, {}, TESTS)
