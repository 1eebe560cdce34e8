#!/usr/bin/python3
"""test_verify.py -- certificate verification of remote servers
(responder/pki/verify.c) as the daemon applies it: on inbound streams it
decides whether SASL EXTERNAL is offered, on its own outbound streams it is
recorded; both show in the report's peer_cert. Trusted, expired, wrong
name, self-signed, none. Usage: test_verify.py XMPP-RESPONDER."""
import re
import ssl
import sys
import time

from netlib import (NS_PING, NS_SASL, NS_TLS, dom, features, fresh_peer, report_cell, run,
                    sasl_session, tag, tls_open)

VALID = dom("valid")
# GnuTLS's words for the verification status, as the report shows them
EXPIRED = r"^The certificate is NOT trusted\. The certificate chain uses expired certificate\."
UNKNOWN_ISSUER = r"^The certificate is NOT trusted\. The certificate issuer is unknown\."
CERTS = {}


def certs(env):
    """Leaves for *.peer.example that fail one check each (made once)."""
    if not CERTS:
        names = ["peer.example", "*.peer.example"]
        CERTS["expired"] = env.pki.leaf("expired", names, ("2020-01-01 00:00:00 UTC",
                                                           "2020-02-01 00:00:00 UTC"))
        CERTS["wrong-name"] = env.pki.leaf("wrongname", ["other.example"])
        CERTS["self-signed"] = env.pki.leaf("selfsigned", names, self_signed=True)
    return CERTS


def inbound(env, cert):
    """TLS stream to valid presenting cert; returns (peer, features)."""
    peer = fresh_peer()
    return (peer,) + tls_open(env, peer, VALID, cert)


def check_in(env, cert, reason_re):
    peer, s, f = inbound(env, cert)
    offered = tag(NS_SASL, "mechanisms") in f
    s.send("</stream:stream>")   # an unauthenticated stream reports at its end
    assert s.wait_closed()
    rec = report_cell(env, peer, VALID, "in", lambda r: r["peer_cert"])["in"]
    if reason_re is None:
        assert offered, f
        assert rec["peer_cert"] == "valid" and rec["auth_offered"] == "EXTERNAL dialback", rec
    else:
        assert not offered, f
        assert re.search(reason_re, rec["peer_cert"]), rec
        assert rec["auth_offered"] == "dialback", rec
    return peer, rec


def t_handshake_abandoned_after_our_certificate(env):
    """A peer that hangs up in the middle of the TLS handshake, once our
    certificate has reached it and without an alert (how strict servers that
    send no alert refuse one): the record counts it as the peer refusing
    what we presented, and the explanation says so."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, VALID)
    features(s)
    s.send("<starttls xmlns='%s'/>" % NS_TLS)
    s.expect(NS_TLS, "proceed")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=VALID)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s.sock.sendall(outgoing.read())      # the ClientHello
    flight = b""
    end = time.monotonic() + 5
    s.sock.settimeout(0.5)
    while time.monotonic() < end and len(flight) < 600:   # the server's flight
        try:
            got = s.sock.recv(65536)
        except OSError:
            continue
        if not got:
            break
        flight += got
    assert len(flight) >= 600, flight   # ServerHello .. Certificate ..
    s.sock.close()                       # no alert, no Finished
    cell = report_cell(env, peer, VALID, "in", lambda r: r["close"] != "open")
    rec = cell["in"]
    assert rec["refused_by"] == "peer" and rec["tls"] == "", rec
    assert rec["presented"] == VALID and rec["alert"] == "", rec
    assert ("closed the TLS handshake after receiving our certificate (no alert"
            in cell["explanation"]), cell["explanation"]


def t_in_trusted(env):
    check_in(env, env.peer_cert, None)
    assert env.r.wait_log(r"event=peer-cert valid eku=serverAuth\+clientAuth")


def t_in_expired(env):
    check_in(env, certs(env)["expired"], EXPIRED)


def t_in_wrong_name(env):
    peer, _ = check_in(env, certs(env)["wrong-name"],
                       r"^certificate does not name \S+ \(names: other\.example\)$")


def t_in_self_signed(env):
    check_in(env, certs(env)["self-signed"], UNKNOWN_ISSUER)


def t_in_no_certificate(env):
    peer, s, f = inbound(env, None)
    assert tag(NS_SASL, "mechanisms") not in f
    s.send("</stream:stream>")
    assert s.wait_closed()
    rec = report_cell(env, peer, VALID, "in", lambda r: r["peer_cert"])["in"]
    assert rec["peer_cert"] == "no certificate presented", rec


def check_out(env, cert, reason_re):
    """The daemon dials our Authority, which presents cert: the outcome's
    peer_cert is the verdict (the stream goes on by dialback)."""
    env.authority.set(sasl=None, cert=cert)
    peer = fresh_peer()
    s = sasl_session(env, peer, VALID)
    s.send("<iq type='get' id='v1' from='%s' to='%s'><ping xmlns='%s'/></iq>" % (peer, VALID, NS_PING))
    rec = report_cell(env, peer, VALID, "out", lambda r: r["peer_cert"])["out"]
    assert re.search(reason_re, rec["peer_cert"]), rec
    return rec


def t_out_trusted(env):
    check_out(env, env.peer_cert, "^valid$")


def t_out_expired(env):
    check_out(env, certs(env)["expired"], EXPIRED)


def t_out_wrong_name(env):
    check_out(env, certs(env)["wrong-name"], r"^certificate does not name p\S+\.peer\.example "
                                             r"\(names: other\.example\)$")


def t_out_self_signed(env):
    check_out(env, certs(env)["self-signed"], UNKNOWN_ISSUER)


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, {}, TESTS)
