#!/usr/bin/python3
"""test_s2s_in.py -- the inbound stream machine (responder/xmpp/s2s_in.c) driven
by scripted peers over loopback: every state (header, starttls, tls,
header-tls, auth, header-sasl, ready), every stream error it sends, the
restart rules and the rules that keep it from answering unauthenticated
senders. Usage: test_s2s_in.py XMPP-RESPONDER."""
import re
import sys
import time

from netlib import (NS_DB, NS_SASL, NS_TLS, PROLOG, dialback_plain,
                    dom, features, fresh_peer, header, report_cell, run, sasl_session, tag,
                    tls_open)

NOTLS, VALID = dom("no-tls"), dom("valid")
HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns:db='jabber:server:dialback' version='1.0' from='%s' to='%s' id='")


def header_re(frm, to):
    """Our exact header as a regex (the id is 32 random hex digits)."""
    return re.escape((HDR % (frm, to)).encode()) + b"[0-9a-f]{32}'>"
DB_FEATURES = ("<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/>"
               "</dialback></stream:features>")
LIMITS = {"unauth_timeout": 3, "idle_timeout": 3, "max_stanza_bytes": 4096, "max_depth": 8}


def error_of(env, text, to=NOTLS, frm=None, expect=None, raw=False):
    """Open a stream (raw: text is the whole first bytes), send text, return
    (condition, text) of the stream error and assert the daemon closed."""
    s = env.stream()
    if raw:
        s.send(text)
    else:
        s.open(frm or fresh_peer(), to)
        features(s)
        s.send(text)
    cond, why = s.stream_error()
    assert s.wait_closed(), "daemon did not close after the stream error"
    assert s.all.endswith(b"</stream:stream>"), s.all[-200:]
    if expect:
        assert cond == expect[0], (cond, why, s.all[-400:])
        if len(expect) > 1:
            assert expect[1] in why, (cond, why)
    return cond, why


def ping(frm, to, pid="p1"):
    return "<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (pid, frm, to)


# ---- header -> features ------------------------------------------------------------

def t_plain_header_features(env):
    """no-tls: our header names us and the peer; features offer dialback only."""
    peer = fresh_peer()
    s = env.stream()
    h = s.open(peer, NOTLS)
    assert h["from"] == NOTLS and h["to"] == peer and re.fullmatch("[0-9a-f]{32}", h["id"])
    s.pump(0.3, whole=True)
    assert re.fullmatch(header_re(NOTLS, peer) + re.escape(DB_FEATURES.encode()),
                        s.all), s.all


def t_tls_required_features(env):
    s = env.stream()
    s.open(fresh_peer(), VALID)
    s.pump(0.3, whole=True)
    assert s.all.endswith(b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                          b"<required/></starttls></stream:features>"), s.all


def t_no_from_header(env):
    """A header without 'from' is answered without 'to'."""
    s = env.stream()
    h = s.open(None, NOTLS)
    assert h["from"] == NOTLS and "to" not in h, h


# ---- the whole path: starttls -> tls -> header-tls -> auth -> header-sasl -> ready -> close

def t_full_sasl_path(env):
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, VALID)
    assert tag(NS_TLS, "starttls") in features(s)
    s.starttls(VALID, env.peer_cert)
    h = s.open(peer, VALID)
    assert h["from"] == VALID and h["to"] == peer
    f = features(s)
    mechs = [m.text for m in f[tag(NS_SASL, "mechanisms")]]
    assert mechs == ["EXTERNAL"], mechs
    assert "{urn:xmpp:features:dialback}dialback" in f
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    s.expect(NS_SASL, "success")
    s.restart()
    h = s.open(peer, VALID)
    assert h["to"] == peer
    s.pump(0.3, whole=True)
    assert s.all.endswith(b"<stream:features/>"), s.all[-100:]
    s.send(ping(peer, VALID))
    assert env.authority.stanzas_to(peer, lambda el: el.get("id") == "p1"), "no pong"
    assert env.r.wait_log(r"auth-ok method=EXTERNAL identity=%s" % re.escape(peer))
    # close: our end tag is answered with the daemon's, then the connection ends
    s.send("</stream:stream>")
    assert s.wait_closed()
    assert s.all.endswith(b"</stream:stream>"), s.all[-60:]


def t_tls_without_cert(env):
    """No client certificate: after TLS only dialback is offered, and an
    EXTERNAL attempt is refused with invalid-mechanism (stream stays)."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, VALID)
    features(s)
    s.starttls(VALID)
    s.open(peer, VALID)
    f = features(s)
    assert tag(NS_SASL, "mechanisms") not in f, f
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    fail = s.expect(NS_SASL, "failure")
    assert fail.find(tag(NS_SASL, "invalid-mechanism")) is not None
    s.send(ping(peer, VALID))   # still unauthenticated
    assert s.stream_error()[0] == "not-authorized"


def t_no_sasl_offers_servers_dialback_only(env):
    """no-sasl: even with a valid client certificate a server is offered no
    SASL mechanism, only dialback; EXTERNAL anyway gets invalid-mechanism."""
    peer, nosasl = fresh_peer(), dom("no-sasl")
    s = env.stream()
    s.open(peer, nosasl)
    features(s)
    s.starttls(nosasl, env.peer_cert)
    s.open(peer, nosasl)
    f = features(s)
    assert tag(NS_SASL, "mechanisms") not in f, f
    assert "{urn:xmpp:features:dialback}dialback" in f, f
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    fail = s.expect(NS_SASL, "failure")
    assert fail.find(tag(NS_SASL, "invalid-mechanism")) is not None


# ---- restart rules --------------------------------------------------------------------

def tls_stream(env, peer, sni=VALID):
    s = env.stream()
    s.open(peer, VALID)
    features(s)
    s.starttls(sni, env.peer_cert)
    return s


def t_restart_other_to(env):
    s = tls_stream(env, fresh_peer())
    s.send(PROLOG + header(fresh_peer(), dom("no-eku")))
    # the 'from' changed too: that check comes first
    assert s.stream_error()[0] == "invalid-from"
    peer = fresh_peer()
    s = tls_stream(env, peer)
    s.send(PROLOG + header(peer, dom("no-eku")))
    cond, why = s.stream_error()
    assert cond == "not-authorized" and "same 'to'" in why, (cond, why)


def t_restart_sni_other_domain(env):
    """SNI chose another domain's certificate than the restarted 'to'."""
    peer = fresh_peer()
    s = tls_stream(env, peer, sni=dom("no-eku"))
    s.send(PROLOG + header(peer, VALID))
    cond, why = s.stream_error()
    assert cond == "policy-violation" and "no-eku" in why, (cond, why)


def t_restart_after_sasl_other_from(env):
    peer = fresh_peer()
    s = tls_stream(env, peer)
    s.open(peer, VALID)
    features(s)
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    s.expect(NS_SASL, "success")
    s.restart()
    s.send(PROLOG + header(fresh_peer(), VALID))
    cond, why = s.stream_error()
    assert cond == "invalid-from" and "authenticated by SASL" in why, (cond, why)


def t_no_second_starttls_or_sasl(env):
    """After TLS a second <starttls/>, and after SASL another <auth/>, are
    no restarts: refused as unexpected elements."""
    peer = fresh_peer()
    s = tls_stream(env, peer)
    s.open(peer, VALID)
    features(s)
    s.send("<starttls xmlns='%s'/>" % NS_TLS)
    assert s.stream_error() == ("unsupported-stanza-type", "unexpected element on this stream")
    s = sasl_session(env, peer, VALID)
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    assert s.stream_error() == ("unsupported-stanza-type", "unexpected element on this stream")


def t_no_restart_in_auth(env):
    """A second header where none is allowed is no restart: it is an
    element of the stream, refused."""
    peer = fresh_peer()
    error_of(env, header(peer, NOTLS) + "</stream:stream>", frm=peer,
             expect=("unsupported-stanza-type",))


# ---- stream errors ---------------------------------------------------------------------

def t_errors_header(env):
    p = fresh_peer()
    error_of(env, PROLOG + header(p, NOTLS).replace("xmlns='jabber:server'", "xmlns='jabber:client'"),
             raw=True, expect=("invalid-namespace", "jabber:server"))
    error_of(env, PROLOG + header(p, NOTLS).replace("version='1.0'", "version='0.9'"),
             raw=True, expect=("unsupported-version",))
    cond, why = error_of(env, PROLOG + header(p, "nothere.example"), raw=True,
                         expect=("host-unknown",))
    assert why == "'nothere.example' is not served here", why
    error_of(env, PROLOG + header(p, dom("direct-tls")), raw=True,
             expect=("host-unknown", "direct TLS"))
    error_of(env, PROLOG + header("not a domain", NOTLS), raw=True,
             expect=("invalid-from", "not a domain"))
    error_of(env, PROLOG + "<stream:stream xmlns='jabber:server' xmlns:stream='urn:other' "
             "to='%s' version='1.0'>" % NOTLS, raw=True, expect=("invalid-namespace",))
    error_of(env, PROLOG + "<stream:strom xmlns='jabber:server' xmlns:stream="
             "'http://etherx.jabber.org/streams' to='%s' version='1.0'>" % NOTLS,
             raw=True, expect=("bad-format", "not stream"))


def t_errors_xml(env):
    """Before authentication (a stanza there is refused at its start tag,
    t_stanza_before_auth, so these use other elements)."""
    error_of(env, "<foo></bar>", expect=("not-well-formed",))
    error_of(env, "<!-- hello -->", expect=("restricted-xml", "comment"))
    error_of(env, "<?pi data?>", expect=("restricted-xml", "processing instruction"))
    error_of(env, "<foo>&amp;&custom;</foo>", expect=("restricted-xml",))
    error_of(env, PROLOG + "<!DOCTYPE x []>", raw=True, expect=("restricted-xml", "DTD"))
    error_of(env, "text between stanzas<iq/>", expect=("bad-format",))
    # 4096 (max_stanza_bytes here) is below max_unauth_stanza_bytes: the smaller applies
    error_of(env, "<foo>%s</foo>" % ("x" * 5000),
             expect=("policy-violation", "too large (limits.max_unauth_stanza_bytes)"))
    error_of(env, "<db:result from='x.peer.example' to='%s'><a/></db:result>" % NOTLS,
             expect=("policy-violation", "no child elements before the stream authenticates"))
    error_of(env, "<foo%s/>" % "".join(" a%d='v'" % i for i in range(65)),
             expect=("policy-violation", "too many attributes on one element (limits.max_attributes)"))
    error_of(env, "<foo xmlns='urn:unknown'/>", expect=("unsupported-stanza-type",))


def t_errors_xml_authenticated(env):
    """Once authenticated, stanzas may have children, up to the limits."""
    def refused(text, why):
        s = dialback_plain(env, fresh_peer())
        s.send(text)
        cond, got = s.stream_error()
        assert (cond, why in got) == ("policy-violation", True), (cond, got)
        assert s.wait_closed()
    peer = fresh_peer()
    s = dialback_plain(env, peer)
    s.send("<iq type='get' id='n1' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'>"
           "<a><b><c/></b></a></ping></iq>" % (peer, NOTLS))
    # answered on our own stream to the peer's server (the Authority)
    assert env.authority.stanzas_to(peer, lambda el: el.get("id") == "n1", 10), \
        "a ping with children on an authenticated stream went unanswered"
    refused("<message>" + "<a>" * 20 + "</a>" * 20 + "</message>",
            "too deeply (limits.max_depth)")
    decls = lambda base: "".join(" xmlns:p%d='urn:x:%d'" % (i, i) for i in range(base, base + 12))
    refused("<message><a%s><b%s><c%s/></b></a></message>" % (decls(0), decls(12), decls(24)),
            "namespace declarations in scope (limits.max_namespaces)")
    refused("<message%s/>" % "".join(" a%d='v'" % i for i in range(65)),
            "too many attributes on one element (limits.max_attributes)")


def t_starttls_required_first(env):
    s = env.stream()
    s.open(fresh_peer(), VALID)
    features(s)
    s.send("<db:result from='x.peer.example' to='%s'>k</db:result>" % VALID)
    cond, why = s.stream_error()
    assert (cond, why) == ("policy-violation", "STARTTLS is required before anything else"), (cond, why)


def t_timeouts(env):
    """Unauthenticated past unauth_timeout: connection-timeout. Authenticated
    and idle past idle_timeout: closed without a stream error. (Both at
    once, to keep the test short.)"""
    s = env.stream()
    s.open(fresh_peer(), NOTLS)
    features(s)
    t0 = time.monotonic()
    idle = dialback_plain(env, fresh_peer())
    cond, why = s.stream_error(LIMITS["unauth_timeout"] + 3)
    took = time.monotonic() - t0
    assert (cond, why) == ("connection-timeout", "not authenticated in time"), (cond, why)
    assert LIMITS["unauth_timeout"] - 0.5 < took < LIMITS["unauth_timeout"] + 2.5, took
    assert idle.wait_closed(LIMITS["idle_timeout"] + 3)
    assert LIMITS["idle_timeout"] - 0.5 < time.monotonic() - t0 < LIMITS["idle_timeout"] + 3
    assert idle.all.endswith(b"</stream:stream>") and b"<stream:error>" not in idle.all, idle.all[-200:]


def t_peer_stream_error(env):
    """The peer's own stream error ends the stream; we answer nothing."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)
    s.send("<stream:error><host-gone xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>")
    assert s.wait_closed()
    assert b"<stream:error>" not in s.all
    assert env.r.wait_log(r"peer sent stream error host-gone: bye")


# ---- authorisation: never answer an unauthenticated sender ------------------------------

def t_stanza_before_auth(env):
    peer = fresh_peer()
    cond, why = error_of(env, ping(peer, NOTLS), frm=peer, expect=("not-authorized",))
    time.sleep(0.3)
    assert env.authority.for_domain(peer, 0.1) is None, "daemon dialled an unauthenticated sender"


def t_stanza_other_pair(env):
    """Authenticated as A: a stanza from B, to a domain not served, or
    without 'from' is refused, and B hears nothing."""
    a, b = fresh_peer(), fresh_peer()
    s = dialback_plain(env, a)
    s.send(ping(b, NOTLS))
    assert s.stream_error() == ("invalid-from", "that domain pair is not authenticated on this stream")
    time.sleep(0.3)
    assert env.authority.for_domain(b, 0.1) is None
    s = dialback_plain(env, a)
    s.send(ping(a, dom("no-eku")))   # ours, but not the authenticated pair
    assert s.stream_error()[0] == "invalid-from"
    s = dialback_plain(env, a)
    s.send(ping(a, "nothere.example"))
    assert s.stream_error() == ("host-unknown", "'to' is not a domain served here")
    s = dialback_plain(env, a)
    s.send("<iq type='get' id='x' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % NOTLS)
    assert s.stream_error() == ("invalid-from", "missing or malformed 'from'")


def t_dialback_refusals(env):
    """db:result errors on a plaintext stream to no-tls (type='error', the
    stream stays), and a 'from' that is no domain (stream error)."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)
    for to, cond in (("nothere.example", "item-not-found"),
                     (dom("no-dialback"), "not-authorized"),
                     (VALID, "policy-violation")):
        s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, to, "k" * 64))
        el = s.expect(NS_DB, "result")
        assert (el.get("type"), el.get("from"), el.get("to")) == ("error", to, peer), el.attrib
        err = el.find("{jabber:server}error")
        assert err is not None and err.get("type") == "cancel", el
        assert err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}" + cond) is not None, cond
    s.send("<db:result from='not a domain' to='%s'>k</db:result>" % NOTLS)
    assert s.stream_error()[0] == "invalid-from"


def t_our_refusal_stays_ours(env):
    """no-dialback refuses the peer's dialback by design; the peer then
    ends the stream with invalid-id. The report keeps the refusal as ours
    (refused_by us, our reason) and the peer's error only as context."""
    peer = fresh_peer()
    local = dom("no-dialback")
    s, _ = tls_open(env, peer, local, None)
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, local, "k" * 64))
    el = s.expect(NS_DB, "result")
    assert el.get("type") == "error", el.attrib
    s.send("<stream:error><invalid-id xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "</stream:error></stream:stream>")
    assert s.wait_closed()
    cell = report_cell(env, peer, local, "in", lambda r: r["close"] != "open")
    rec = cell["in"]
    assert (rec["refused_by"], rec["step"]) == ("us", "auth"), rec
    assert "does not accept dialback" in rec["auth_error"], rec
    assert "we refused your server at authentication: " in cell["explanation"], cell
    assert rec["error_in"].startswith("invalid-id"), rec


def t_dialback_refusals_tls(env):
    """On a TLS stream to valid, dialback pairs for domains whose test needs
    a stream of their own are refused with policy-violation."""
    peer = fresh_peer()
    s = tls_stream(env, peer)
    s.open(peer, VALID)
    features(s)
    for to, why in ((dom("no-eku"), "presented valid.responder.example's certificate"),
                    (NOTLS, "is a plaintext test")):
        s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, to, "k" * 64))
        el = s.expect(NS_DB, "result")
        assert el.get("type") == "error", el.attrib
        text = el.find("{jabber:server}error").find("{urn:ietf:params:xml:ns:xmpp-stanzas}text").text
        assert why in text, text


def t_direct_tls(env):
    """The XEP-0368 port: TLS first (certificate by SNI), then the header
    goes straight to the auth features; SASL EXTERNAL works there."""
    import ssl
    peer = fresh_peer()
    s = env.stream(direct=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(*env.peer_cert)
    s.sock = ctx.wrap_socket(s.sock, server_hostname=dom("direct-tls"))
    s.open(peer, dom("direct-tls"))
    f = features(s)
    assert tag(NS_TLS, "starttls") not in f and tag(NS_SASL, "mechanisms") in f, f
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    s.expect(NS_SASL, "success")
    assert env.r.wait_log(r"port=%d direct-tls" % env.r.direct_port)


def t_refused_at_header_is_attributed(env):
    """A peer that ignores _xmpps-server dials direct-tls on the STARTTLS
    port: host-unknown, and the try shows in direct-tls's cell as our
    refusal at the stream header (the peer's 'from' matched by address)."""
    peer, local = fresh_peer(), dom("direct-tls")
    s = env.stream()
    s.open(peer, local)
    cond, why = s.stream_error()
    assert cond == "host-unknown" and "direct TLS" in why, (cond, why)
    cell = report_cell(env, peer, local, "in", lambda r: r["close"] != "open")
    rec = cell["in"]
    assert (rec["refused_by"], rec["step"], rec["evidence"]) == \
        ("us", "stream", "address-matched"), rec
    assert rec["close"].startswith("stream error sent: host-unknown"), rec
    assert "we refused your server at the stream header: stream error sent: " \
           "host-unknown" in cell["explanation"], cell
    assert cell["seen"] == "seen, no verdict", cell


def t_refused_by_sni_is_attributed(env):
    """Direct TLS with SNI for valid and a header to a name not served: the
    refusal belongs to valid, the domain SNI asked for."""
    import ssl
    peer = fresh_peer()
    s = env.stream(direct=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.sock = ctx.wrap_socket(s.sock, server_hostname=VALID)
    s.open(peer, "nothere.example")
    assert s.stream_error()[0] == "host-unknown"
    rec = report_cell(env, peer, VALID, "in", lambda r: r["close"] != "open")["in"]
    assert (rec["refused_by"], rec["step"]) == ("us", "stream"), rec
    assert rec["tls"].startswith("TLS"), rec


def t_steps_of_refusals(env):
    """Where each refusal happened: the peer's stream error after our
    features (features), our refusal of its dialback (auth), and a stanza
    before authentication (ours, at the features)."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)
    s.send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "</stream:error>")
    assert s.wait_closed()
    rec = report_cell(env, peer, NOTLS, "in", lambda r: r["close"] != "open")["in"]
    assert (rec["refused_by"], rec["step"]) == ("peer", "features"), rec
    peer = fresh_peer()
    error_of(env, ping(peer, NOTLS), frm=peer, expect=("not-authorized",))
    rec = report_cell(env, peer, NOTLS, "in", lambda r: r["close"] != "open")["in"]
    assert (rec["refused_by"], rec["step"]) == ("us", "features"), rec


def t_peer_shutting_down_is_no_refusal(env):
    """system-shutdown from a peer that has not authenticated: the network
    ended it, not a judgement of our test domain."""
    peer = fresh_peer()
    s = env.stream()
    s.open(peer, NOTLS)
    features(s)
    s.send("<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "</stream:error>")
    assert s.wait_closed()
    rec = report_cell(env, peer, NOTLS, "in", lambda r: r["close"] != "open")["in"]
    assert rec["refused_by"] == "network", rec


def t_tls_handshake_failure(env):
    """Garbage instead of a ClientHello after <proceed/>: the daemon logs
    tls-fail and closes; nothing more is sent in the clear."""
    s = env.stream()
    s.open(fresh_peer(), VALID)
    features(s)
    s.send("<starttls xmlns='%s'/>" % NS_TLS)
    s.expect(NS_TLS, "proceed")
    n = len(s.all)
    s.send(b"this is not TLS at all\r\n" * 4)
    assert s.wait_closed()
    assert b"<" not in s.all[n:], s.all[n:]
    assert env.r.wait_log(r"event=tls-fail presented=")


def t_claim_own_domain(env):
    """A db:result claiming one of our own names (a test domain, or any name
    under the base): refused at once with not-authorized, no dial to
    ourselves; stanzas after it are still refused."""
    for claimed in (NOTLS, "elsewhere." + NOTLS.split(".", 1)[1]):
        s = env.stream()
        s.open(fresh_peer(), NOTLS)
        features(s)
        s.send("<db:result from='%s' to='%s'>%s</db:result>" % (claimed, NOTLS, "0" * 64))
        el = s.expect(NS_DB, "result", 10)
        assert el.get("type") == "error", el.attrib
        assert el.get("from") == NOTLS and el.get("to") == claimed, el.attrib
        err = el.find("{jabber:server}error")
        assert err is not None, el
        assert err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}not-authorized") is not None, err
        assert err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text").text == \
            "that name is this responder's own", err
        s.send(ping(NOTLS, NOTLS))
        assert s.stream_error()[0] == "not-authorized"
    assert not re.search(r"verifying %s -> " % re.escape(NOTLS), env.r.log())


def shutdown_last(env):
    """SIGTERM: open streams, authenticated or not, end with
    system-shutdown. (Runs last: the daemon is gone after it.)"""
    ready = dialback_plain(env, fresh_peer())
    waiting = env.stream()
    waiting.open(fresh_peer(), NOTLS)
    features(waiting)
    env.r.proc.terminate()
    for s in (ready, waiting):
        assert s.stream_error() == ("system-shutdown", "the responder is stopping")
        assert s.wait_closed()
    assert env.r.proc.wait(10) == 0   # (env.stop() then finds it gone)


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]
TESTS.append(("shutdown_last", shutdown_last))

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
