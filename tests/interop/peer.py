#!/usr/bin/python3
"""peer.py -- a scripted XMPP server that authenticates to the responder by
dialback (plaintext, for the no-tls profile), or a crowd of raw streams.

The scripted server owns --domain, whose DNS points at --ip: it listens there
as its own authoritative server (answers every <db:verify/> and <db:result/>
of the responder with type='valid') and receives the responder's replies on
that connection. Its stream to the responder sends <db:result/> and waits
for type='valid'. Then each case does its part and prints one PASS/FAIL line
with figures; exit 0 or 1.

Cases:
  noread    authenticate, stop reading the responder's replies, and keep
            sending pings with --id-bytes ids: the responder must stop
            reading us and end our streams with policy-violation
  noread-idle  the same, paced by --gap, judged by the caller (our stream
            to the peer must go idle: its timer counts what the peer read)
  rates     authenticate and send --count pings, disco#info and version
            queries, echo messages and presence probes each; print how many
            of each were answered
  bigping   authenticate and ping with a --id-bytes id: the pong carries it
  crowd     --count raw streams from --sources that send a header and hold
            for --hold seconds; print how many the responder closed with
            policy-violation (evicted)
  hello     open one raw stream (retrying for --max seconds); PASS when
            <stream:features> comes back
  verify-flood  unauthenticated: send --count <db:verify/> without reading;
            PASS when the responder closes the stream within --max seconds
  bigverify  unauthenticated: one <db:verify/> whose id is --id-bytes long;
            PASS when the answer (type='invalid') carries the whole id
"""
import argparse
import select
import socket
import sys
import threading
import time

from s2sconn import NS_DB, NS_SERVER, NS_STREAMS, PROLOG, XmlConn, header, stream_error


class Authority(threading.Thread):
    """The scripted server's listener: answers dialback, collects replies."""

    def __init__(self, args):
        super().__init__(daemon=True)
        self.args = args
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if args.case.startswith("noread"):
            # a small receive window, inherited by accepted sockets
            self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.srv.bind((args.ip, 5269))
        self.srv.listen(16)
        self.ready = threading.Event()   # our outbound stream is authenticated
        self.stop_reading = threading.Event()
        self.replies = []
        self.lock = threading.Lock()
        self.conns = []

    def run(self):
        while True:
            try:
                sock, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(sock,), daemon=True).start()

    def serve(self, sock):
        conn = XmlConn(sock)
        self.conns.append(conn)
        sent_header = False
        while not conn.closed:
            if self.stop_reading.is_set():
                time.sleep(0.2)   # the peer that stops reading
                continue
            conn.pump(0.2)
            if conn.header is not None and not sent_header:
                conn.send(header(self.args.domain, conn.header.get("from", ""), "authority-1") +
                          "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>"
                          "</stream:features>")
                sent_header = True
            while conn.elements:
                el = conn.elements.pop(0)
                if el.tag == "{%s}verify" % NS_DB:
                    conn.send("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                              % (el.get("to"), el.get("from"), el.get("id")))
                elif el.tag == "{%s}result" % NS_DB:
                    conn.send("<db:result from='%s' to='%s' type='valid'/>"
                              % (el.get("to"), el.get("from")))
                    self.ready.set()
                    if self.args.case.startswith("noread"):
                        self.stop_reading.set()
                else:
                    with self.lock:
                        self.replies.append(el)

    def count(self, pred):
        with self.lock:
            return sum(1 for el in self.replies if pred(el))


def connect(args, source=None, host=None, rcvbuf=0):
    host = host or args.host
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:   # a small window: what we do not read backs up at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(5)
    s.connect((host, args.port))
    s.settimeout(None)
    return s


def authenticate(args):
    """Our stream to the responder, authenticated by dialback; and the
    authority. Returns (conn, authority) or raises SystemExit with FAIL."""
    auth = Authority(args)
    auth.start()
    conn = XmlConn(connect(args))
    conn.send(PROLOG + header(args.domain, args.to))
    conn.wait_for(lambda el: el.tag == "{%s}features" % NS_STREAMS, 10)
    conn.send("<db:result from='%s' to='%s'>0123456789abcdef</db:result>"
              % (args.domain, args.to))
    res = conn.wait_for(lambda el: el.tag == "{%s}result" % NS_DB, 15)
    if res is None or res.get("type") != "valid":
        finish(False, "dialback as %s not accepted: %s (error %s)"
               % (args.domain, None if res is None else res.attrib, stream_error(conn)))
    return conn, auth


def finish(ok, text):
    print("%s %s" % ("PASS" if ok else "FAIL", text))
    sys.stdout.flush()
    sys.exit(0 if ok else 1)


def iq(args, i, payload, id_prefix="q"):
    return ("<iq type='get' id='%s-%d' from='%s' to='%s'>%s</iq>"
            % (id_prefix, i, args.domain, args.to, payload))


PING = "<ping xmlns='urn:xmpp:ping'/>"
DISCO = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
VERSION = "<query xmlns='jabber:iq:version'/>"


def case_noread(args):
    conn, auth = authenticate(args)
    if not auth.ready.wait(10):
        finish(False, "our outbound stream never authenticated")
    conn.sock.setblocking(False)
    pad = "x" * args.id_bytes
    sent = 0
    blocked_since = None
    end = time.monotonic() + args.max
    buf = b""
    while time.monotonic() < end and not conn.closed:
        if not buf and sent < args.count:
            buf = iq(args, sent, PING, pad).encode()
            sent += 1
            if args.gap:
                time.sleep(args.gap)
        if buf:
            _, w, _ = select.select([], [conn.sock], [], 0.1)
            if w:
                try:
                    buf = buf[conn.sock.send(buf):]
                    blocked_since = None
                except BlockingIOError:
                    pass
                except OSError:
                    conn.closed = True
            elif blocked_since is None:
                blocked_since = time.monotonic()
        conn.pump(0)
        if not buf and sent >= args.count:
            conn.pump(0.2)
    conn.pump(3)
    err = stream_error(conn)
    # noread-idle: the shell judges from the responder's log
    ok = args.case == "noread-idle" or (conn.closed and err == "policy-violation")
    finish(ok, "noread: sent %d pings of %d-byte ids (%d MB); our stream %s, "
           "stream error %s; writes blocked: %s"
           % (sent, args.id_bytes, sent * args.id_bytes // 1000000,
              "closed" if conn.closed else "still open", err,
              "yes" if blocked_since else "no"))


def case_rates(args):
    conn, auth = authenticate(args)
    for name, payload in (("ping", PING), ("disco", DISCO), ("version", VERSION)):
        for i in range(args.count):
            conn.send(iq(args, i, payload, name))
    for i in range(args.count):
        conn.send("<message type='chat' id='echo-%d' from='u@%s' to='echo@%s'><body>hi %d</body>"
                  "</message><presence type='probe' from='u@%s' to='echo@%s'/>"
                  % (i, args.domain, args.to, i, args.domain, args.to))
    end = time.monotonic() + args.max
    while time.monotonic() < end:
        conn.pump(0.2)
    counts = {}
    for name in ("ping", "disco", "version"):
        counts[name] = auth.count(lambda el, n=name: el.get("id", "").startswith(n + "-")
                                  and el.get("type") == "result")
    counts["echo"] = auth.count(lambda el: el.tag == "{%s}message" % NS_SERVER)
    counts["presence"] = auth.count(lambda el: el.tag == "{%s}presence" % NS_SERVER)
    print("answered " + " ".join("%s=%d" % kv for kv in sorted(counts.items())))
    finish(True, "rates: %s" % counts)


def case_bigping(args):
    conn, auth = authenticate(args)
    pad = "b" * args.id_bytes
    conn.send(iq(args, 1, PING, pad))
    end = time.monotonic() + args.max
    while time.monotonic() < end and not auth.count(lambda el: el.get("id") == pad + "-1"):
        conn.pump(0.2)
    got = auth.count(lambda el: el.get("id") == pad + "-1" and el.get("type") == "result")
    finish(got == 1, "bigping: pong with the %d-byte id: %s" % (args.id_bytes, "yes" if got else "no"))


def case_crowd(args):
    sources = args.sources.split(",") if args.sources else [None]
    conns = []
    for i in range(args.count):
        try:
            c = XmlConn(connect(args, sources[i % len(sources)]))
            c.send(PROLOG + header("crowd%d.example" % i, args.to))
            conns.append(c)
        except OSError:
            pass
        if args.gap:
            time.sleep(args.gap)
    print("crowd: %d of %d streams open" % (len(conns), args.count))
    sys.stdout.flush()
    end = time.monotonic() + args.hold
    while time.monotonic() < end:
        for c in conns:
            c.pump(0)
        time.sleep(0.2)
    evicted = sum(1 for c in conns if stream_error(c) == "policy-violation")
    print("evicted=%d opened=%d" % (evicted, len(conns)))
    finish(True, "crowd: %d opened, %d closed with policy-violation" % (len(conns), evicted))


def case_hello(args):
    end = time.monotonic() + args.max
    last = ""
    while time.monotonic() < end:
        try:
            c = XmlConn(connect(args, args.sources or None))
            c.send(PROLOG + header("hello.example", args.to))
            if c.wait_for(lambda el: el.tag == "{%s}features" % NS_STREAMS, 3) is not None:
                finish(True, "hello: features received")
            last = "no features (error %s)" % stream_error(c)
        except OSError as e:
            last = str(e)
        time.sleep(0.3)
    finish(False, "hello: %s" % last)


def case_verify_flood(args):
    c = XmlConn(connect(args, args.sources or None, rcvbuf=4096))
    c.send(PROLOG + header(args.domain, args.to))
    c.sock.setblocking(False)
    one = ("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
           % (args.domain, args.to, "i" * 40, "k" * 64)).encode()
    buf = one * 50
    sent = 0
    end = time.monotonic() + args.max
    closed = False
    while sent < args.count and time.monotonic() < end:
        _, w, _ = select.select([], [c.sock], [], 0.2)
        if not w:
            continue
        try:
            n = c.sock.send(buf)
        except BlockingIOError:
            continue
        except OSError:
            closed = True
            break
        if n < len(buf):
            buf = buf[n:]
        else:
            buf = one * 50
            sent += 50
    # then wait for the close without reading what we asked for
    while not closed and time.monotonic() < end:
        try:
            c.sock.send(one)
            time.sleep(0.2)
        except BlockingIOError:
            time.sleep(0.2)
        except OSError:
            closed = True
    finish(closed, "verify-flood: %d db:verify sent; stream %s"
           % (sent, "closed by the responder" if closed else "still open"))


def case_bigverify(args):
    c = XmlConn(connect(args))
    c.send(PROLOG + header(args.domain, args.to))
    long_id = "v" * args.id_bytes
    c.send("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
           % (args.domain, args.to, long_id, "k" * 64))
    el = c.wait_for(lambda el: el.tag == "{%s}verify" % NS_DB, args.max)
    ok = el is not None and el.get("id") == long_id and el.get("type") == "invalid"
    finish(ok, "bigverify: answer to a db:verify with a %d-byte id: %s"
           % (args.id_bytes, "none" if el is None else "type=%s id of %d bytes"
              % (el.get("type"), len(el.get("id", "")))))


CASES = {"noread": case_noread, "noread-idle": case_noread, "rates": case_rates, "bigping": case_bigping,
         "crowd": case_crowd, "hello": case_hello, "verify-flood": case_verify_flood,
         "bigverify": case_bigverify}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--host", default="127.0.0.2", help="the responder")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--to", default="no-tls.responder.example")
    ap.add_argument("--domain", default="evil.example", help="our domain")
    ap.add_argument("--ip", default="127.0.0.10", help="our domain's address")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--id-bytes", type=int, default=100000)
    ap.add_argument("--max", type=float, default=20, help="seconds for the verdict")
    ap.add_argument("--sources", default="", help="crowd/hello: source addresses")
    ap.add_argument("--hold", type=float, default=10, help="crowd: seconds to hold")
    ap.add_argument("--gap", type=float, default=0.0, help="crowd: seconds between opens")
    args = ap.parse_args()
    CASES[args.case](args)


if __name__ == "__main__":
    main()
