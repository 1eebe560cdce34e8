#!/usr/bin/python3
"""hostile.py -- raw, unauthenticated s2s streams that a responder must refuse.

Each case opens a plain TCP stream to the responder claiming to come from
victim.example, misbehaves in one way and judges what comes back. It prints
one PASS/FAIL line with what it received, and exits 0 or 1. `listen` is the
victim: it records every connection made to it.

Cases:
  unauth-ping  iq ping without authenticating: no iq may come back
  unauth-ping-tls  the same after STARTTLS (encrypted, still unauthenticated)
  malformed    broken XML: stream error not-well-formed, then close
  dtd          a DOCTYPE: stream error restricted-xml, then close
  oversized    an element over 256 KiB before authenticating: policy-violation, close
  idle         say nothing: stream error connection-timeout, then close
               within --max seconds
"""
import argparse
import re
import select
import socket
import ssl
import sys
import time

VICTIM = "victim.example"
PROLOG = "<?xml version='1.0'?>"
STREAMS_NS = b"urn:ietf:params:xml:ns:xmpp-streams"


def header(to):
    return ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
            " xmlns:db='jabber:server:dialback' from='%s' to='%s' version='1.0'>" % (VICTIM, to))


class Stream:
    """A TCP connection that keeps everything it receives and notes the close."""

    def __init__(self, host, port, source=None):
        self.sock = socket.create_connection((host, port), timeout=5,
                                             source_address=(source, 0) if source else None)
        self.sock.setblocking(False)
        self.data = b""
        self.closed = False
        self.start = time.monotonic()
        self.closed_after = None

    def pump(self, seconds):
        """Read until the peer closes or `seconds` pass; True if closed."""
        end = time.monotonic() + seconds
        while not self.closed:
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                self._read()
        return self.closed

    def _read(self):
        try:
            chunk = self.sock.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError:   # reset: the peer closed with our data unread
            chunk = b""
        if chunk:
            self.data += chunk
        else:
            self.closed = True
            self.closed_after = time.monotonic() - self.start

    def send(self, text):
        """Send all of text while reading; False if the peer went away."""
        buf = text.encode() if isinstance(text, str) else text
        while buf and not self.closed:
            _, writable, _ = select.select([], [self.sock], [], 5)
            if not writable:
                return False
            try:
                buf = buf[self.sock.send(buf[:16384]):]
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except OSError:
                self.pump(1)
                self.closed = True
                self.closed_after = self.closed_after or time.monotonic() - self.start
                return False
            self.pump(0)
        return not buf

    def starttls(self, server_name):
        """Upgrade to TLS without checking the certificate: the point is an
        encrypted stream that never authenticates."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock.setblocking(True)
        self.sock.settimeout(5)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_name)
        self.sock.setblocking(False)
        self.data += b"\n--- TLS ---\n"

    def has_condition(self, name):
        return STREAMS_NS in self.data and re.search(b"<" + name.encode() + b"[\\s/>]", self.data)

    def shown(self):
        text = self.data.decode("utf-8", "replace")
        return text if len(text) < 600 else text[:300] + " ... " + text[-300:]


def expect_error(s, condition, wait):
    """The common verdict: the stream error `condition`, then a close."""
    s.pump(wait)
    if not s.has_condition(condition):
        return False, "no <%s/> stream error" % condition
    if not s.closed:
        return False, "<%s/> received but the connection stayed open %gs" % (condition, wait)
    return True, "<%s/> then close after %.1fs" % (condition, s.closed_after)


def case_unauth_ping(s, args):
    s.send(PROLOG + header(args.to))
    s.pump(1)
    s.send("<iq type='get' id='hostile-1' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
           % (VICTIM, args.to))
    s.pump(args.max)
    if re.search(rb"<(\w+:)?iq[\s/>]", s.data):
        return False, "an iq came back to an unauthenticated stream"
    return True, "no iq answer (closed=%s)" % s.closed


def case_unauth_ping_tls(s, args):
    s.send(PROLOG + header(args.to))
    s.pump(1)
    s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    s.pump(1)
    if b"<proceed" not in s.data:
        return False, "no <proceed/> to STARTTLS"
    try:
        s.starttls(args.to)
    except OSError as e:
        return False, "TLS handshake failed: %s" % e
    s.data = b""   # judge only what comes over TLS
    return case_unauth_ping(s, args)


def case_malformed(s, args):
    s.send(PROLOG + header(args.to))
    s.pump(0.5)
    # not a stanza: before authentication, one is refused at its start tag
    s.send("<unbalanced xmlns='urn:x'>text</message>")
    return expect_error(s, "not-well-formed", args.max)


def case_dtd(s, args):
    s.send(PROLOG + "<!DOCTYPE stream:stream [<!ENTITY boom 'boom'>]>" + header(args.to))
    return expect_error(s, "restricted-xml", args.max)


def case_oversized(s, args):
    s.send(PROLOG + header(args.to))
    s.pump(0.5)
    body = "a" * (300 * 1024)   # over max_stanza_bytes, let alone max_unauth_stanza_bytes
    s.send("<oversized xmlns='urn:x' from='%s'>%s</oversized>" % (VICTIM, body))
    return expect_error(s, "policy-violation", args.max)


def case_idle(s, args):
    s.send(PROLOG + header(args.to))
    ok, text = expect_error(s, "connection-timeout", args.max)
    return ok and s.closed_after <= args.max, text


CASES = {"unauth-ping": case_unauth_ping, "unauth-ping-tls": case_unauth_ping_tls,
         "malformed": case_malformed, "dtd": case_dtd,
         "oversized": case_oversized, "idle": case_idle}


def listen(args):
    """The victim: log every connection to --out, for at most --max seconds."""
    srv = socket.create_server((args.host, args.port), reuse_port=False)
    end = time.monotonic() + args.max
    with open(args.out, "a") as out:
        while time.monotonic() < end:
            ready, _, _ = select.select([srv], [], [], 1)
            if ready:
                conn, peer = srv.accept()
                out.write("connection from %s:%d\n" % peer)
                out.flush()
                conn.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES) + ["listen"])
    ap.add_argument("--host", default="127.0.0.2", help="responder (or, for listen, victim) address")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--to", default="valid.responder.example", help="the domain addressed")
    ap.add_argument("--max", type=float, default=5, help="seconds to wait for the verdict")
    ap.add_argument("--out", help="listen: file recording connections")
    args = ap.parse_args()
    if args.case == "listen":
        return listen(args)
    try:
        s = Stream(args.host, args.port)
    except OSError as e:
        print("FAIL %s: cannot connect: %s" % (args.case, e))
        return 1
    ok, text = CASES[args.case](s, args)
    print("%s %s: %s | received: %s" % ("PASS" if ok else "FAIL", args.case, text, s.shown()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
