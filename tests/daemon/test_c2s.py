#!/usr/bin/python3
"""test_c2s.py -- the client ports (responder/xmpp/c2s.c, c2s_session.c) driven by
a scripted client over loopback: STARTTLS and direct TLS with the test
domain's certificate (by 'to' or SNI), the published account test/test
(PLAIN only under TLS), binding, what a session may reach (its domain, its
echo contact, its own account) and what it may not (anything else: an
error, never a dial), the session bound, and gnutls-cli's view of the
certificates. Usage: test_c2s.py XMPP-RESPONDER."""
import base64
import os
import re
import shutil
import ssl
import subprocess
import sys
import time

from netlib import (NS_PING, NS_SASL, NS_STANZAS, NS_TLS, PROLOG, Stream, dom, run,
                    tag)

NS_CLIENT = "jabber:client"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_ROSTER = "jabber:iq:roster"
VALID, NOTLS, EXPIRED = dom("valid"), dom("no-tls"), dom("expired")
NOSASL = dom("no-sasl")
# every client here comes from 127.0.0.1: the per-address cap of the client
# pool is test_pools.py's subject, not this file's
LIMITS = {"client_streams_per_ip": 64, "unauth_timeout": 5, "idle_timeout": 4}


def client_header(to):
    return ("%s<stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>"
            % (PROLOG, to))


class Client(Stream):
    """A client stream: jabber:client headers, TLS, PLAIN, bind."""

    @classmethod
    def to(cls, env, direct=False, source=None):
        return cls.connect(env.r.c2s_direct_port if direct else env.r.c2s_port,
                           source=source)

    def open_c(self, to):
        self.send(client_header(to))
        return self.wait_header()

    def features(self):
        return self.expect("http://etherx.jabber.org/streams", "features")

    def tls(self, sni, ca=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock.settimeout(5)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=sni)
        self.sock.settimeout(None)
        self.restart()

    def starttls(self, sni, cert=None):
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        self.expect(NS_TLS, "proceed")
        self.tls(sni)

    def plain(self, user="test", password="test", authzid=""):
        payload = base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode())
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, payload.decode()))
        return self.next()

    def to_auth(self, domain):
        """Header, STARTTLS, header again: returns the auth features."""
        self.open_c(domain)
        self.features()
        self.starttls(domain)
        self.open_c(domain)
        return self.features()

    def bind(self, resource="r1"):
        self.send("<iq type='set' id='b1'><bind xmlns='%s'>%s</bind></iq>"
                  % (NS_BIND, "<resource>%s</resource>" % resource if resource else ""))
        return self.next()


def mechanisms(f):
    m = f.find(tag(NS_SASL, "mechanisms"))
    return [e.text for e in m] if m is not None else None


def logged_in(env, domain=VALID, resource="r1", source=None, bind=True):
    """A bound session of test@domain over STARTTLS (from source); with bind
    False authenticated only. Returns (client, jid or None)."""
    c = Client.to(env, source=source)
    c.to_auth(domain)
    el = c.plain()
    assert el.tag == tag(NS_SASL, "success"), c.all[-300:]
    c.restart()
    c.open_c(domain)
    f = c.features()
    assert f.find(tag(NS_BIND, "bind")) is not None, c.all[-300:]
    if not bind:
        return c, None
    res = c.bind(resource)
    assert res.get("type") == "result", c.all[-400:]
    jid = res.find(tag(NS_BIND, "bind")).find(tag(NS_BIND, "jid")).text
    return c, jid


def cl(name):
    return "{%s}%s" % (NS_CLIENT, name)


# ---- streams, TLS, SASL ----------------------------------------------------------

def t_starttls_then_mechanisms(env):
    """valid: STARTTLS required first; under TLS the three mechanisms, with
    the domain's certificate chosen by the header's 'to'."""
    c = Client.to(env)
    h = c.open_c(VALID)
    assert h["from"] == VALID and re.fullmatch("[0-9a-f]{32}", h["id"]), h
    assert b"xmlns='jabber:client'" in c.all and b"jabber:server" not in c.all, c.all
    f = c.features()
    assert f.find(tag(NS_TLS, "starttls")).find(tag(NS_TLS, "required")) is not None
    assert mechanisms(f) is None, f
    c.starttls(VALID)
    der = c.sock.getpeercert(binary_form=True)
    assert der and VALID.encode() in der, "not the certificate of valid"
    c.open_c(VALID)
    assert mechanisms(c.features()) == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
    assert env.r.wait_log(r"c2s#\d+ .* event=tls-ok TLS1\.3 .* presented=%s" % re.escape(VALID))


def t_plaintext_profile_keeps_the_password(env):
    """no-tls speaks no TLS to clients: SCRAM only, never PLAIN; a PLAIN
    attempt anyway is refused with encryption-required and logged."""
    c = Client.to(env)
    c.open_c(NOTLS)
    f = c.features()
    assert f.find(tag(NS_TLS, "starttls")) is None
    assert mechanisms(f) == ["SCRAM-SHA-256", "SCRAM-SHA-1"], f
    el = c.plain()
    assert el.tag == tag(NS_SASL, "failure") and \
        el.find(tag(NS_SASL, "encryption-required")) is not None, c.all[-300:]
    assert env.r.wait_log(r"local=%s .*event=password-in-clear" % re.escape(NOTLS))


def t_no_sasl_offers_no_mechanisms(env):
    """no-sasl: under TLS an empty <mechanisms/> (SASL still required, so
    the features do not read as 'negotiation complete'), no bind; an <auth/>
    anyway is refused with invalid-mechanism, the right password too, and
    after three tries the stream ends: one clear failure, no loop."""
    c = Client.to(env)
    c.open_c(NOSASL)
    assert c.features().find(tag(NS_TLS, "starttls")) is not None
    c.starttls(NOSASL)
    assert NOSASL.encode() in c.sock.getpeercert(binary_form=True)
    c.open_c(NOSASL)
    f = c.features()
    assert mechanisms(f) == [], c.all[-300:]
    assert f.find(tag(NS_BIND, "bind")) is None, c.all[-300:]
    for _ in range(3):
        el = c.plain()
        assert el.tag == tag(NS_SASL, "failure") and \
            el.find(tag(NS_SASL, "invalid-mechanism")) is not None, c.all[-300:]
    assert c.stream_error()[0] == "policy-violation"
    assert c.wait_closed()
    assert env.r.wait_log(r"local=%s .*event=auth-fail condition=invalid-mechanism"
                          % re.escape(NOSASL))
    assert not re.search(r"local=%s .*event=auth-ok" % re.escape(NOSASL), env.r.log())


def t_wrong_password_three_times(env):
    c = Client.to(env)
    c.to_auth(VALID)
    for _ in range(3):
        el = c.plain(password="nope")
        assert el.tag == tag(NS_SASL, "failure") and \
            el.find(tag(NS_SASL, "not-authorized")) is not None, c.all[-300:]
    assert c.stream_error()[0] == "policy-violation"
    assert c.wait_closed()


def t_direct_tls_by_sni(env):
    """5223: TLS first, the certificate by SNI; then the mechanisms."""
    c = Client.to(env, direct=True)
    c.tls(VALID)
    assert VALID.encode() in c.sock.getpeercert(binary_form=True)
    c.open_c(VALID)
    assert mechanisms(c.features())[0] == "SCRAM-SHA-256"


def t_by_address_then_sni(env):
    """A client that puts the address in 'to' (gnutls-cli does) gets
    STARTTLS, and SNI chooses the certificate; the restarted header must
    then name that domain."""
    c = Client.to(env)
    c.open_c("127.0.0.1")
    c.features()
    c.starttls(EXPIRED)
    assert EXPIRED.encode() in c.sock.getpeercert(binary_form=True)
    c.open_c(VALID)
    assert c.stream_error()[0] == "policy-violation"
    c = Client.to(env)
    c.open_c("nothere.example")
    assert c.stream_error()[0] == "host-unknown"


def t_bad_namespace(env):
    c = Client.to(env)
    c.send(PROLOG + "<stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>" % VALID)
    assert c.stream_error()[0] == "invalid-namespace"


# ---- the session ---------------------------------------------------------------

def t_session_reaches_its_domain_and_echo(env):
    """Bound: the roster holds the echo contact; the server and the domain
    answer pings; echo@ echoes; initial presence brings echo's presence;
    replies are jabber:client stanzas to the full JID."""
    c, jid = logged_in(env)
    assert jid == "test@%s/r1" % VALID, jid
    c.send("<iq type='get' id='ro'><query xmlns='%s'/></iq>" % NS_ROSTER)
    ro = c.next()
    items = ro.find("{%s}query" % NS_ROSTER)
    assert [(i.get("jid"), i.get("subscription")) for i in items] == \
        [("echo@" + VALID, "both")], c.all[-400:]
    c.send("<iq type='get' id='p0'><ping xmlns='%s'/></iq>" % NS_PING)
    el = c.next()
    assert (el.tag, el.get("type"), el.get("id"), el.get("to")) == \
        (cl("iq"), "result", "p0", jid), c.all[-300:]
    c.send("<iq type='get' id='p1' to='%s'><ping xmlns='%s'/></iq>" % (VALID, NS_PING))
    el = c.next()
    assert (el.get("type"), el.get("from"), el.get("to")) == ("result", VALID, jid)
    c.send("<message type='chat' id='m1' to='echo@%s'><body>hello c2s</body></message>" % VALID)
    el = c.next()
    assert el.tag == cl("message") and el.get("from") == "echo@" + VALID
    assert el.find(cl("body")).text == "hello c2s", c.all[-300:]
    c.send("<presence/>")
    el = c.next()
    assert el.tag == cl("presence") and el.get("from") == "echo@" + VALID, c.all[-300:]
    assert b"jabber:server" not in c.all, c.all[-600:]


def t_no_relay(env):
    """Anything addressed outside the own domain and echo contact gets
    service-unavailable from us and nothing is dialled for it."""
    c, jid = logged_in(env, resource="relay")
    other = "victim%d.peer.example" % time.monotonic_ns()
    for stanza in ("<message type='chat' id='x1' to='someone@%s'><body>hi</body></message>",
                   "<iq type='get' id='x2' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
                   "<message id='x3' to='other@" + VALID + "'><body>hi</body></message>"):
        c.send(stanza % other if "%s" in stanza else stanza)
        el = c.next()
        assert el.get("type") == "error", c.all[-300:]
        err = el.find(cl("error"))
        assert err.find("{%s}service-unavailable" % NS_STANZAS) is not None, c.all[-300:]
    c.send("<presence to='someone@%s' type='subscribe'/>" % other)
    time.sleep(0.5)
    assert env.authority.for_domain(other, 0.2) is None, "a client made the daemon dial"
    assert not re.search(r"remote=%s event=(connect|dns)" % re.escape(other), env.r.log())
    assert env.r.wait_log(r"event=refused stanza to someone@%s: not routed" % re.escape(other))


def t_sessions_conflict(env):
    """The same resource again replaces the old session (conflict). Binding
    has no cap of its own: a bound session keeps the slot its stream holds in
    the client pool (limits.max_client_streams; test_pools.py)."""
    sessions = [logged_in(env, resource="s%d" % i) for i in range(2)]
    again, _ = logged_in(env, resource="s0")
    assert sessions[0][0].stream_error()[0] == "conflict"
    more = [logged_in(env, resource="s%d" % i)[0] for i in range(2, 6)]
    for s in [again, sessions[1][0]] + more:
        s.close()


def t_gnutls_cli_sees_the_certificates(env):
    """The acceptance view: gnutls-cli's XMPP STARTTLS on the client port
    and plain TLS on the direct port, SNI naming the domain."""
    if not shutil.which("gnutls-cli"):
        print("skip: gnutls-cli not installed")
        return

    def cli(port, sni, starttls):
        args = ["gnutls-cli", "--sni-hostname", sni, "--verify-hostname", sni,
                "--x509cafile", env.r.ca, "-p", str(port), "127.0.0.1"]
        if starttls:
            args[1:1] = ["--starttls-proto=xmpp"]
        p = subprocess.run(args, input=b"", capture_output=True, timeout=20)
        return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    for port, starttls in ((env.r.c2s_port, True), (env.r.c2s_direct_port, False)):
        out = cli(port, EXPIRED, starttls)
        assert "certificate chain uses expired certificate" in out, out[-800:]
        out = cli(port, VALID, starttls)
        assert "The certificate is trusted." in out, out[-800:]


def http_get(env, path):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", env.r.http_port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def client_cell(env, profile, pred, seconds=5):
    """The /api/clients/127.0.0.1 cell of profile once pred accepts it."""
    import json
    from netlib import wait_until
    last = []

    def find():
        status, body = http_get(env, "/api/clients/127.0.0.1")
        assert status == 200, (status, body)
        cell = [d for d in json.loads(body)["domains"] if d["profile"] == profile][0]
        last[:] = [cell]
        return cell if pred(cell) else None
    cell = wait_until(find, seconds, 0.1)
    assert cell, "client cell %s: %s" % (profile, last)
    return cell


def verifying_tls(env, domain):
    """A client that checks the certificate against the test CA, as a
    strict client does: the handshake fails with its alert when it refuses."""
    c = Client.to(env)
    c.open_c(domain)
    c.features()
    c.send("<starttls xmlns='%s'/>" % NS_TLS)
    c.expect(NS_TLS, "proceed")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(env.r.ca)
    c.sock.settimeout(5)
    try:
        c.sock = ctx.wrap_socket(c.sock, server_hostname=domain)
    except ssl.SSLError as e:
        c.close()
        return str(e)
    c.close()
    return None


def t_client_report(env):
    """/api/clients/ADDRESS and /clients: a login that pinged is connected
    (ok on valid); a verifying client's alert on untrusted-root is its
    refusal (ok); PLAIN without TLS on no-tls is a client sending its
    password in the clear (wrong); three refusals of one domain within a
    minute are a reconnect loop (wrong)."""
    c, _ = logged_in(env, resource="report")
    c.send("<iq type='get' id='rp' to='%s'><ping xmlns='%s'/></iq>" % (VALID, NS_PING))
    c.next()
    c.close()
    cell = client_cell(env, "valid", lambda d: d["latest"] and d["latest"]["pings"] >= 1)
    assert (cell["seen"], cell["verdict"], cell["client_should"]) == \
        ("connected", "ok", "connect"), cell
    latest = cell["latest"]
    assert latest["auth"] == "PLAIN" and latest["auth_ok"] and latest["bound"], latest
    assert latest["tls"].startswith("TLS1.3") and latest["sni"] == VALID, latest

    why = verifying_tls(env, dom("untrusted-root"))
    assert why and "CERTIFICATE_VERIFY_FAILED" in why, why
    cell = client_cell(env, "untrusted-root", lambda d: d["latest"])
    assert (cell["seen"], cell["verdict"]) == ("refused", "ok"), cell
    # OpenSSL sends this TLS 1.3 alert in the clear; tls.c still reads it
    assert cell["latest"]["alert"] == "received unknown_ca", cell
    assert cell["latest"]["step"] == "tls" and cell["latest"]["refused_by"] == "peer", cell

    plain = Client.to(env)
    plain.open_c(NOTLS)
    plain.features()
    plain.plain()
    plain.close()
    cell = client_cell(env, "no-tls", lambda d: d["latest"] and d["latest"]["password_in_clear"])
    assert (cell["seen"], cell["verdict"]) == ("connected", "wrong"), cell
    assert "password in the clear" in cell["explanation"], cell

    for _ in range(3):
        verifying_tls(env, dom("self-signed"))
    cell = client_cell(env, "self-signed", lambda d: "not loop" in d["explanation"])
    assert cell["verdict"] == "wrong" and cell["seen"] == "refused", cell

    status, page = http_get(env, "/clients")
    assert status == 200 and "127.0.0.1" in page, page[:500]
    assert re.search(r'<tr class="ok" data-profile="valid">', page), page[:2000]
    status, page = http_get(env, "/clients/not-an-address")
    assert status == 400, status
    status, body = http_get(env, "/api/clients/::1")
    assert status == 200 and '"known":false' in body, body[:300]


INTEROP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop")


def slixmpp_script(env, script, domain, *args):
    """Run an interop slixmpp helper as test@domain against our client port
    (the test CA trusted); (exit status, output)."""
    p = subprocess.run([sys.executable, os.path.join(INTEROP, script),
                        "--jid", "test@" + domain, "--password", "test",
                        "--host", "127.0.0.1", "--port", str(env.r.c2s_port),
                        "--ca", env.r.ca] + list(args),
                       capture_output=True, timeout=60, text=True)
    return p.returncode, p.stdout + p.stderr


def t_slixmpp_logs_in_pings_and_gets_its_echo(env):
    """A real client (slixmpp: STARTTLS, SCRAM-SHA-256 or whatever it
    prefers, bind, roster, presence): test@valid pings its server and gets
    its message back from the echo contact; expired is refused by its
    certificate check. (Given an address instead of DNS, slixmpp 1.8 sends
    no SNI and checks no name, so wrong-name is for the client matrix, which
    dials by DNS.)"""
    try:
        import slixmpp  # noqa: F401
    except ImportError:
        print("skip: python3-slixmpp not installed")
        return
    rc, out = slixmpp_script(env, "client.py", VALID, "--to", "echo@" + VALID,
                             "--timeout", "10")
    assert rc == 0, out[-1500:]
    rc, out = slixmpp_script(env, "pinger.py", VALID, "--timeout", "10", VALID)
    assert rc == 0 and re.search(r"RESULT\t%s\tpong" % re.escape(VALID), out), out[-1500:]
    assert env.r.wait_log(r"local=%s .*event=auth-ok method=SCRAM-SHA-(256|1) "
                          % re.escape(VALID)), env.r.log()[-2000:]
    for bad in (EXPIRED,):
        rc, out = slixmpp_script(env, "client.py", bad, "--to", "echo@" + bad,
                                 "--timeout", "10")
        assert rc == 2, (bad, out[-1500:])
        assert env.r.wait_log(r"c2s#\d+ .* event=tls-fail presented=%s" % re.escape(bad)), bad


def t_keepalives_keep_a_session(env):
    """A bound session that sends only whitespace keepalives (as clients
    do) lives past idle_timeout; once they stop it is closed after
    idle_timeout. Before authentication bytes do not feed the clock."""
    idle = LIMITS["idle_timeout"]
    c, jid = logged_in(env)
    t0 = time.monotonic()
    while time.monotonic() - t0 < idle + 2.5:
        time.sleep(1)
        c.send(" ")
    c.send("<iq type='get' id='k1' to='%s'><ping xmlns='%s'/></iq>" % (VALID, NS_PING))
    el = c.next()
    assert el is not None and el.get("id") == "k1" and el.get("type") == "result", c.all[-300:]
    t1 = time.monotonic()
    assert c.wait_closed(idle + 3), "a silent session outlived idle_timeout"
    assert idle - 0.5 < time.monotonic() - t1 < idle + 3, time.monotonic() - t1
    # unauthenticated: a trickle does not stop unauth_timeout
    u = Client.to(env)
    u.open_c(VALID)
    u.features()
    t2 = time.monotonic()
    while not u.closed and time.monotonic() - t2 < LIMITS["unauth_timeout"] + 3:
        u.send(" ")
        u.pump(0.5)
    assert u.closed and time.monotonic() - t2 < LIMITS["unauth_timeout"] + 2.5, u.all[-200:]


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    os.environ.setdefault("LANG", "C")
    run(sys.argv, LIMITS, TESTS)
