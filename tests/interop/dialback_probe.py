#!/usr/bin/python3
"""dialback_probe.py -- is dialback_peer.py's listener the server it claims to be?

While the dialback-only peer runs in the matrix, this connects to its
listener like a stranger and checks that it: requires STARTTLS (a plaintext
<db:result/> ends in policy-violation); offers dialback and no SASL after
TLS; answers a <db:verify/> with a key it never issued 'invalid' (so its
'valid' answers to the responder mean something); refuses a stanza from a
domain not authenticated on the stream (not-authorized). One PASS/FAIL line
per check; exit 0 when all pass.
"""
import argparse
import socket
import ssl
import sys

from s2sconn import NS_STREAMS, PROLOG, XmlConn, header, stream_error

NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
STRANGER = "stranger.example"


def opened(args):
    c = XmlConn(socket.create_connection((args.ip, args.port), timeout=5), 1 << 20)
    c.send(PROLOG + header(STRANGER, args.domain))
    return c, c.wait_for(lambda e: e.tag == "{%s}features" % NS_STREAMS, 5)


def over_tls(args):
    c, _ = opened(args)
    c.send("<starttls xmlns='%s'/>" % NS_TLS)
    if c.wait_for(lambda e: e.tag == "{%s}proceed" % NS_TLS, 5) is None:
        raise RuntimeError("no <proceed/>")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c.starttls(ctx.wrap_socket(c.sock, server_hostname=args.domain))
    c.send(PROLOG + header(STRANGER, args.domain))
    return c, c.wait_for(lambda e: e.tag == "{%s}features" % NS_STREAMS, 5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--domain", default="staging.example")
    args = ap.parse_args()
    results = []

    def check(ok, text):
        results.append(ok)
        print("%s %s" % ("PASS" if ok else "FAIL", text))

    c, feats = opened(args)
    required = feats is not None and feats.find("{%s}starttls/{%s}required"
                                                % (NS_TLS, NS_TLS)) is not None
    c.send("<db:result from='%s' to='%s'>%s</db:result>" % (STRANGER, args.domain, "0" * 64))
    c.pump(3)
    check(required and stream_error(c) == "policy-violation" and c.closed,
          "STARTTLS required; a plaintext db:result ends in %s (closed: %s)"
          % (stream_error(c), c.closed))
    c.sock.close()

    c, feats = over_tls(args)
    names = [el.tag for el in feats] if feats is not None else []
    check(names == ["{urn:xmpp:features:dialback}dialback"],
          "after TLS it offers dialback only, no SASL: %s" % names)
    c.send("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
           % (STRANGER, args.domain, c.header.get("id", "x"), "0" * 64))
    el = c.wait_for(lambda e: e.tag == "{jabber:server:dialback}verify", 5)
    check(el is not None and el.get("type") == "invalid",
          "a key it never issued is invalid: %s" % (None if el is None else el.attrib))
    c.send("<iq type='get' id='p1' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
           % (STRANGER, args.domain))
    c.pump(3)
    check(stream_error(c) == "not-authorized" and c.closed,
          "an unauthenticated stanza ends in %s (closed: %s)" % (stream_error(c), c.closed))
    c.sock.close()
    return 0 if all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError) as e:
        print("FAIL could not probe the listener: %s" % e)
        sys.exit(1)
