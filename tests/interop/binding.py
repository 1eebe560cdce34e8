#!/usr/bin/python3
"""binding.py -- a scripted peer that tries to carry an authentication over to
another test domain of the responder (issue 8, item 4).

The peer speaks for victim.example (lib.sh's zone points it at 127.0.0.9),
and `authoritative` plays that domain's own server there: it says "valid" to
every dialback check and records every iq the responder delivers to it, so a
test can tell whether a ping it sent was answered. Each other case opens
streams to the responder, breaks one binding rule, prints one PASS/FAIL line
with what it received and exits 0 or 1.

Cases (BASE is --base):
  tls-restart-to     after STARTTLS for valid.BASE, the new header names
                     dialback-only.BASE: <not-authorized/> and close
  tls-restart-sni    STARTTLS for valid.BASE with SNI no-dialback.BASE, then
                     a header for valid.BASE: <policy-violation/> and close
  tls-restart-from   after STARTTLS the header says another 'from':
                     <invalid-from/> and close
  direct-tls-sni     direct TLS without SNI (direct-tls.BASE's certificate),
                     header for valid.BASE: <policy-violation/> and close
  direct-tls-priority  direct TLS with SNI legacy-tls.BASE: its certificate
                     and its TLS versions (1.0/1.1 only): a TLS 1.2+ client is
                     refused in the handshake, a TLS 1.0/1.1 one gets features
  sasl-control       SASL EXTERNAL for valid.BASE, restart, ping --ping-id
                     (answered: the shell checks the authoritative's record)
  sasl-restart-to    SASL EXTERNAL for valid.BASE, then a header for
                     dialback-only.BASE and a ping to it: <not-authorized/>
  sasl-restart-from  SASL EXTERNAL, then a header from another domain:
                     <invalid-from/> and close
  dialback-plain     plaintext stream to no-tls.BASE: dialback for no-tls
                     (valid, ping --ping-id), then dialback for valid.BASE:
                     db:result error <policy-violation/>, and a ping to
                     valid.BASE (--ping-id2) ends the stream unanswered
  dialback-tls       STARTTLS stream to valid.BASE: dialback for valid is
                     valid; for dialback-only (another certificate), no-tls
                     (a plaintext test) and direct-tls (direct port only)
                     each gets db:result error <policy-violation/>
  verify-invalid     a db:verify with a garbage key, from forged.example:
                     answered invalid (the shell checks the report)
"""
import argparse
import re
import socket
import ssl
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from hostile import PROLOG, Stream

PEER = "victim.example"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_DB = "jabber:server:dialback"


def header(to, frm=PEER):
    return ("<stream:stream xmlns='jabber:server' xmlns:stream='%s' xmlns:db='%s'%s"
            " to='%s' version='1.0'>" % (NS_STREAMS, NS_DB,
                                         " from='%s'" % frm if frm else "", to))


def ping(to, ping_id):
    return ("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
            % (ping_id, PEER, to))


def wait_for(s, pattern, seconds=5):
    """Read until pattern shows up in what came since the last TLS marker."""
    end = time.monotonic() + seconds
    while True:
        m = re.search(pattern, s.data.split(b"--- TLS ---")[-1], re.S)
        if m or s.closed or time.monotonic() >= end:
            return m
        s.pump(0.1)


def tls_upgrade(s, sni, cert=None, key=None, legacy=False):
    """TLS over the stream's socket (certificate not checked: we test the
    responder's bindings, not its certificate), optionally with a client
    certificate for SASL EXTERNAL; sni None sends no SNI; legacy offers TLS
    1.0 and 1.1 only (instead of 1.2 and later)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if legacy:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if cert:
        ctx.load_cert_chain(cert, key)
    s.sock.setblocking(True)
    s.sock.settimeout(5)
    s.sock = ctx.wrap_socket(s.sock, server_hostname=sni)
    s.sock.setblocking(False)
    s.data += b"\n--- TLS ---\n"


def step(s, text, pattern, failure):
    """Send text and wait for pattern; a RuntimeError(failure) if it never comes."""
    s.send(text)
    if not wait_for(s, pattern):
        raise RuntimeError(failure)


def starttls_stream(args, to, sni, cert=None):
    """A STARTTLS stream to `to`, TLS done; the restart header is the caller's."""
    s = Stream(args.host, args.port)
    step(s, PROLOG + header(to), rb"<starttls", "no STARTTLS offered")
    step(s, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", rb"<proceed",
         "no <proceed/>")
    tls_upgrade(s, sni, cert, args.key if cert else None)
    return s


def sasl_stream(args):
    """STARTTLS and SASL EXTERNAL for valid.BASE as victim.example; returns
    the stream waiting for the header that restarts it after <success/>."""
    valid = "valid." + args.base
    s = starttls_stream(args, valid, valid, args.cert)
    step(s, PROLOG + header(valid), rb"<mechanism>EXTERNAL</mechanism>",
         "SASL EXTERNAL not offered (client certificate?)")
    step(s, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>",
         rb"<success", "SASL EXTERNAL did not succeed")
    return s


def expect_error(s, condition, seconds=5):
    s.pump(seconds)
    tail = s.data.split(b"--- TLS ---")[-1]
    if not re.search(rb"<" + condition.encode() + rb"[\s/>]", tail):
        return False, "no <%s/> stream error" % condition
    if not s.closed:
        return False, "<%s/> received but the stream stayed open" % condition
    return True, "<%s/> then close" % condition


def case_tls_restart_to(args):
    valid = "valid." + args.base
    s = starttls_stream(args, valid, valid)
    s.send(PROLOG + header("dialback-only." + args.base))
    return s, expect_error(s, "not-authorized")


def case_tls_restart_sni(args):
    s = starttls_stream(args, "valid." + args.base, "no-dialback." + args.base)
    s.send(PROLOG + header("valid." + args.base))
    return s, expect_error(s, "policy-violation")


def case_tls_restart_from(args):
    valid = "valid." + args.base
    s = starttls_stream(args, valid, valid)
    s.send(PROLOG + header(valid, frm="staging.example"))
    return s, expect_error(s, "invalid-from")


def direct_stream(args, sni, legacy=False):
    s = Stream(args.host, args.direct_port)
    tls_upgrade(s, sni, legacy=legacy)
    return s


def case_direct_tls_sni(args):
    s = direct_stream(args, None)
    s.send(PROLOG + header("valid." + args.base))
    return s, expect_error(s, "policy-violation")


def case_direct_tls_priority(args):
    legacy = "legacy-tls." + args.base
    s = Stream(args.host, args.direct_port)
    try:
        tls_upgrade(s, legacy)
        return s, (False, "a TLS 1.2+ handshake with SNI %s completed (%s)"
                   % (legacy, s.sock.version()))
    except ssl.SSLError as e:
        refused = str(e)
    s = direct_stream(args, legacy, legacy=True)
    version = s.sock.version()
    s.send(PROLOG + header(legacy))
    if not wait_for(s, rb"<stream:features"):
        return s, (False, "TLS 1.2+ refused, but no features over %s" % version)
    return s, (True, "TLS 1.2+ refused (%s); %s over %s gets features"
               % (refused, legacy, version))


def case_sasl_control(args):
    s = sasl_stream(args)
    s.send(PROLOG + header("valid." + args.base))
    if not wait_for(s, rb"<stream:features"):
        return s, (False, "no features after the SASL restart")
    s.send(ping("valid." + args.base, args.ping_id))
    s.pump(1)
    if s.closed:
        return s, (False, "the stream closed after the ping")
    return s, (True, "restart accepted, ping %s sent" % args.ping_id)


def case_sasl_restart_to(args):
    s = sasl_stream(args)
    other = "dialback-only." + args.base
    s.send(PROLOG + header(other))
    s.pump(0.5)
    s.send(ping(other, args.ping_id))
    return s, expect_error(s, "not-authorized")


def case_sasl_restart_from(args):
    s = sasl_stream(args)
    s.send(PROLOG + header("valid." + args.base, frm="staging.example"))
    return s, expect_error(s, "invalid-from")


def db_result(s, local, key):
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (PEER, local, key))


def db_answer(s, local, seconds=10):
    """The responder's answer to our db:result for local: (type, element text)."""
    m = wait_for(s, rb"<db:result from='" + re.escape(local.encode()) +
                 rb"' to='[^']*' type='(\w+)'(/>|>.*?</db:result>)", seconds)
    return (m.group(1).decode(), m.group(0).decode()) if m else (None, "")


def case_dialback_plain(args):
    plain, valid = "no-tls." + args.base, "valid." + args.base
    s = Stream(args.host, args.port)
    s.send(PROLOG + header(plain))
    if not wait_for(s, rb"urn:xmpp:features:dialback"):
        return s, (False, "no dialback offered by %s" % plain)
    db_result(s, plain, "k1")
    kind, _ = db_answer(s, plain)
    if kind != "valid":
        return s, (False, "dialback for %s itself: %s (control)" % (plain, kind))
    s.send(ping(plain, args.ping_id))
    db_result(s, valid, "k2")
    kind, el = db_answer(s, valid)
    # the ping goes out whatever the answer: the shell checks it stays unanswered
    s.send(ping(valid, args.ping_id2))
    if kind != "error" or "policy-violation" not in el or "requires TLS" not in el:
        s.pump(1)
        return s, (False, "dialback for %s on a plaintext stream: %s %s" % (valid, kind, el))
    ok, text = expect_error(s, "invalid-from")
    return s, (ok, "no-tls valid; valid.BASE refused (policy-violation); " + text)


def case_dialback_tls(args):
    valid = "valid." + args.base
    s = starttls_stream(args, valid, valid)
    s.send(PROLOG + header(valid))
    if not wait_for(s, rb"urn:xmpp:features:dialback"):
        return s, (False, "no dialback offered after TLS")
    db_result(s, valid, "k0")
    kind, _ = db_answer(s, valid)
    if kind != "valid":
        return s, (False, "dialback for %s itself: %s (control)" % (valid, kind))
    why = {"dialback-only": "certificate", "no-tls": "plaintext test",
           "direct-tls": "direct TLS only"}
    for label, words in why.items():
        local = "%s.%s" % (label, args.base)
        db_result(s, local, "k-" + label)
        kind, el = db_answer(s, local)
        if kind != "error" or "policy-violation" not in el or words not in el:
            return s, (False, "dialback for %s on valid's TLS stream: %s %s"
                       % (local, kind, el))
    return s, (True, "valid accepted; %s refused (policy-violation)" % ", ".join(why))


def case_verify_invalid(args):
    plain = "no-tls." + args.base
    s = Stream(args.host, args.port)
    s.send(PROLOG + header(plain, frm="forged.example"))
    if not wait_for(s, rb"<stream:features"):
        return s, (False, "no features")
    s.send("<db:verify from='forged.example' to='%s' id='0123456789abcdef'>%s</db:verify>"
           % (plain, "0" * 64))
    if not wait_for(s, rb"<db:verify[^>]*type='invalid'"):
        return s, (False, "the garbage key was not answered invalid")
    s.send("</stream:stream>")
    s.pump(3)
    return s, (True, "answered invalid (closed=%s)" % s.closed)


CASES = {"tls-restart-to": case_tls_restart_to, "tls-restart-sni": case_tls_restart_sni,
         "tls-restart-from": case_tls_restart_from, "direct-tls-sni": case_direct_tls_sni,
         "direct-tls-priority": case_direct_tls_priority,
         "sasl-control": case_sasl_control, "sasl-restart-to": case_sasl_restart_to,
         "sasl-restart-from": case_sasl_restart_from, "dialback-plain": case_dialback_plain,
         "dialback-tls": case_dialback_tls, "verify-invalid": case_verify_invalid}


# ---- the peer's authoritative server ------------------------------------

def serve_stream(conn, out, lock):
    """One stream from the responder: header, dialback-only features, "valid"
    to every db:verify and db:result, and a line in `out` per iq."""
    parser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    conn.settimeout(60)

    def record(line):
        with lock:
            out.write(line + "\n")
            out.flush()

    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            parser.feed(chunk)
            for event, el in parser.read_events():
                if event == "start":
                    depth += 1
                    if depth == 1 and el.tag == "{%s}stream" % NS_STREAMS:
                        conn.sendall((PROLOG + "<stream:stream xmlns='jabber:server'"
                                      " xmlns:stream='%s' xmlns:db='%s' from='%s' to='%s'"
                                      " id='%s' version='1.0'><stream:features><dialback"
                                      " xmlns='urn:xmpp:features:dialback'><errors/>"
                                      "</dialback></stream:features>"
                                      % (NS_STREAMS, NS_DB, PEER, el.get("from", ""),
                                         uuid.uuid4().hex)).encode())
                    continue
                depth -= 1
                if depth != 1:
                    continue
                frm, to = el.get("from", ""), el.get("to", "")
                if el.tag == "{%s}verify" % NS_DB:
                    conn.sendall(("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                                  % (to, frm, el.get("id", ""))).encode())
                    record("verify %s -> %s" % (frm, to))
                elif el.tag == "{%s}result" % NS_DB:
                    conn.sendall(("<db:result from='%s' to='%s' type='valid'/>"
                                  % (to, frm)).encode())
                elif el.tag == "{jabber:server}iq":
                    record("iq %s id=%s from=%s" % (el.get("type"), el.get("id"), frm))
    except (OSError, ET.ParseError):
        return
    finally:
        conn.close()


def authoritative(args):
    srv = socket.create_server((args.host, args.port))
    srv.settimeout(1)
    lock = threading.Lock()
    end = time.monotonic() + args.max
    with open(args.out, "a") as out:
        while time.monotonic() < end:
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve_stream, args=(conn, out, lock),
                             daemon=True).start()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES) + ["authoritative"])
    ap.add_argument("--host", default="127.0.0.2",
                    help="responder (for authoritative: where to listen)")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--direct-port", type=int, default=5270)
    ap.add_argument("--base", default="responder.example")
    ap.add_argument("--cert", help="client certificate for victim.example (PEM)")
    ap.add_argument("--key", help="its key")
    ap.add_argument("--ping-id", default="binding-1")
    ap.add_argument("--ping-id2", default="binding-2")
    ap.add_argument("--max", type=float, default=120, help="authoritative: seconds to run")
    ap.add_argument("--out", help="authoritative: file recording what arrived")
    args = ap.parse_args()
    if args.case == "authoritative":
        return authoritative(args)
    try:
        s, (ok, text) = CASES[args.case](args)
    except (OSError, RuntimeError) as e:
        print("FAIL %s: %s" % (args.case, e))
        return 1
    print("%s %s: %s | received: %s" % ("PASS" if ok else "FAIL", args.case, text, s.shown()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
