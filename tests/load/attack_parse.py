#!/usr/bin/python3
"""attack_parse.py -- the daemon's CPU per MiB of each input shape a hostile
peer may choose, beside plain text (issue 21). Run it where the daemon is
(tests/bench/hostile_load.sh, in its namespace); it only connects to --host,
and every phase is bounded by --mib and --seconds.

  unauth  what anyone can send: one plaintext stream after another to
          --to (a plaintext test domain, no-tls.BASE), each sending, after
          its header, one element of the shape as large as the daemon takes
          before authentication (--unauth-bytes); the daemon refuses each
          (an unknown element, a limit) and closes.
  auth    what a peer that authenticated may send: this process is the
          server of --domain (its DNS must point at --listen), authenticates
          by dialback on one plaintext stream to --to, then sends stanzas of
          the shape of --auth-bytes each (type='error' messages, which are
          parsed whole and never answered; pings, answered), then a
          disco#info query whose answer, on the daemon's own stream to
          --listen, says all was read.

The daemon's CPU (utime+stime of --pid, /proc) is read before and after each
shape. Prints one line per shape and, with --json FILE, the figures:
{"unauth": {"plain": {"bytes":..., "element_bytes":..., "cpu_s":..., "ms_per_mib":..., "x_plain":...,
"refused": "policy-violation: ..."}, ...}, "auth": {...}}."""
import argparse
import json
import os
import re
import socket
import threading
import time

STREAMS = "http://etherx.jabber.org/streams"
DIALBACK = "jabber:server:dialback"


def cpu_seconds(pid):
    """CPU time of all the daemon's threads, in ns steps (schedstat), not
    the 10 ms ticks of /proc/PID/stat."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass        # a worker thread that just ended
    return total / 1e9


def header(frm, to):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='%s' "
            "xmlns:db='%s' from='%s' to='%s' version='1.0'>" % (STREAMS, DIALBACK, frm, to))


def fill(unit, size, opening, closing):
    """opening + unit repeated to about size bytes + closing."""
    n = max(1, (size - len(opening) - len(closing)) // len(unit))
    return opening + unit * n + closing


def fill_numbered(fmt, count, opening, closing):
    return opening + "".join(fmt % (i, i) for i in range(count)) + closing


# Each shape: (name, what anyone may send unauthenticated, what an
# authenticated peer may send); a function of the size, or None.
def shapes(max_attributes, max_namespaces, max_depth):
    x = "<x xmlns='urn:shape'>", "</x>"                # an unknown element
    m = "<message type='error' from='@FROM@' to='@TO@' id='s'><body>", "</body></message>"
    plain = "The quick brown fox jumps over the lazy dog, again and again. "

    def attrs(prefix, suffix, taken):
        # as many as one element may hold, besides the taken ones
        return lambda size: fill_numbered(" a%d='v%d'", max_attributes - taken, prefix, suffix)

    def nested_ns(size):
        per = max(1, max_namespaces // 4)
        opening = "<message type='error' from='@FROM@' to='@TO@'>" + "".join(
            "<n%d%s>" % (k, "".join(" xmlns:p%d='urn:x:%d'" % (k * per + i, i) for i in range(per)))
            for k in range(4))
        closing = "".join("</n%d>" % k for k in reversed(range(4))) + "</message>"
        return fill("<a/><p0:b/>", size, opening, closing)

    def deep(size):
        unit = "<a>" * (max_depth - 1) + "</a>" * (max_depth - 1)
        return fill(unit, size, "<message type='error' from='@FROM@' to='@TO@'>", "</message>")

    return [
        ("plain", lambda s: fill(plain, s, *x), lambda s: fill(plain, s, *m)),
        ("attributes", attrs("<x xmlns='urn:shape'", "/>", 1),
         lambda s: fill(attrs("<a", "/>", 0)(s), s,
                        "<message type='error' from='@FROM@' to='@TO@'>", "</message>")),
        ("attributes-over", lambda s: fill_numbered(" a%d='%d'", s // 12, "<x", "/>"), None),
        ("namespaces", None, nested_ns),
        ("entities", lambda s: fill("&amp;&lt;&gt;&quot;&apos;", s, *x),
         lambda s: fill("&amp;&lt;&gt;&quot;&apos;", s, *m)),
        ("text-pieces", lambda s: fill("a&amp;b&#x41;<![CDATA[c]]>", s, *x),
         lambda s: fill("a&amp;b&#x41;<![CDATA[c]]>", s, *m)),
        ("children", lambda s: fill("<a/>", s, *x), None),
        ("small-elements", None,
         lambda s: fill("<a/>", s, "<message type='error' from='@FROM@' to='@TO@'>", "</message>")),
        ("deep", None, deep),
        ("long-names", lambda s: fill("n", s, "<x", " xmlns='urn:shape'/>"),
         lambda s: fill("<" + "n" * 4096 + " a='v'/>", s,
                        "<message type='error' from='@FROM@' to='@TO@'>", "</message>")),
        ("pings", None,          # ordinary traffic: each answered
         lambda s: fill("<iq type='get' id='p' from='@FROM@' to='@TO@'><ping xmlns="
                        "'urn:xmpp:ping'/></iq>", s, "", "")),
        ("long-value", lambda s: fill("0123456789abcdef", s, "<x xmlns='urn:shape' v='", "'/>"),
         lambda s: fill("0123456789abcdef", s,
                        "<message type='error' from='@FROM@' to='@TO@' id='", "'/>")),
    ]


def read_until_closed(sock, seconds):
    """Everything the daemon sends until it closes (or seconds pass)."""
    data = b""
    end = time.monotonic() + seconds
    sock.settimeout(0.5)
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def condition(data):
    m = re.search(rb"<([a-z-]+) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-streams['\"]/>"
                  rb"(?:<text [^>]*>([^<]*)</text>)?", data)
    if not m:
        return "no stream error"
    return (m.group(1) + (b": " + m.group(2) if m.group(2) else b"")).decode(errors="replace")


def unauth_phase(a, make):
    """Streams one after another, each one element; returns (bytes, condition)."""
    element = make(a.unauth_bytes)
    sent, cond, end = 0, "", time.monotonic() + a.seconds
    while sent < a.mib * 1048576 and time.monotonic() < end:
        with socket.create_connection((a.host, a.port), timeout=10,
                                      source_address=(a.source, 0)) as s:
            s.sendall(header("shape%d.%s" % (sent % 997, a.claim), a.to).encode())
            try:
                s.sendall(element.encode())
            except OSError:
                pass            # refused before all of it went out
            cond = condition(read_until_closed(s, 10))
            sent += len(element)
    return sent, cond


class Authority(threading.Thread):
    """--domain's server: answers the daemon's db:verify and db:result with
    'valid' and notes the ids of the stanzas the daemon sends it."""

    def __init__(self, a):
        super().__init__(daemon=True)
        self.a = a
        self.seen = set()
        self.lock = threading.Condition()
        self.srv = socket.create_server((a.listen, 5269))

    def run(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        data, answered = b"", False
        conn.settimeout(1)
        while True:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            data += chunk
            if not answered and b"<stream:stream" in data:
                conn.sendall(("<stream:stream xmlns='jabber:server' xmlns:stream='%s' "
                              "xmlns:db='%s' from='%s' id='%s' version='1.0'><stream:features>"
                              "<dialback xmlns='urn:xmpp:features:dialback'/></stream:features>"
                              % (STREAMS, DIALBACK, self.a.domain, os.urandom(8).hex())).encode())
                answered = True
            # the daemon's dialback: checking our key, and its own stream to us
            for m in re.finditer(rb"<db:(verify|result) ([^>]*)>", data):
                attrs = dict(re.findall(rb"(\w+)=['\"]([^'\"]*)['\"]", m.group(2)))
                ident = b" id='%s'" % attrs[b"id"] if b"id" in attrs else b""
                conn.sendall(b"<db:%s from='%s' to='%s'%s type='valid'/>"
                             % (m.group(1), attrs.get(b"to", b""), attrs.get(b"from", b""), ident))
            with self.lock:
                for m in re.finditer(rb" id=['\"](sync-\d+)['\"]", data):
                    self.seen.add(m.group(1).decode())
                self.lock.notify_all()
            data = data[data.rfind(b">") + 1:]

    def wait_for(self, ident, seconds):
        with self.lock:
            return self.lock.wait_for(lambda: ident in self.seen, seconds)


def auth_stream(a):
    s = socket.create_connection((a.host, a.port), timeout=10, source_address=(a.source, 0))
    s.sendall(header(a.domain, a.to).encode())
    buf, end = b"", time.monotonic() + 15
    s.settimeout(1)
    while b"</stream:features>" not in buf and time.monotonic() < end:
        try:
            buf += s.recv(65536)
        except socket.timeout:
            pass
    s.sendall(("<db:result from='%s' to='%s'>%s</db:result>"
               % (a.domain, a.to, os.urandom(32).hex())).encode())
    while b"type='valid'" not in buf and b'type="valid"' not in buf and time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
    if b"valid" not in buf.split(b"</stream:features>")[-1]:
        raise SystemExit("attack_parse: dialback as %s failed: %r" % (a.domain, buf[-300:]))
    s.settimeout(None)
    return s


def auth_phase(a, make, sock, authority, serial):
    stanza = make(a.auth_bytes).replace("@FROM@", a.domain).replace("@TO@", a.to)
    sent, end = 0, time.monotonic() + a.seconds
    while sent < a.mib * 1048576 and time.monotonic() < end:
        sock.sendall(stanza.encode())
        sent += len(stanza)
    ident = "sync-%d" % serial
    # a disco#info query: its own rate limit, not the pings' (a shape)
    sock.sendall(("<iq type='get' id='%s' from='%s' to='%s'><query xmlns="
                  "'http://jabber.org/protocol/disco#info'/></iq>"
                  % (ident, a.domain, a.to)).encode())
    if not authority.wait_for(ident, 60):
        raise SystemExit("attack_parse: the daemon did not answer after the %s shape" % ident)
    return sent, "read whole"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5269)
    p.add_argument("--pid", type=int, required=True, help="the daemon's pid (its CPU)")
    p.add_argument("--to", required=True, help="a plaintext test domain (no-tls.BASE)")
    p.add_argument("--source", default="127.0.0.1", help="source address")
    p.add_argument("--claim", default="shapes.example", help="unauth: claimed from is under it")
    p.add_argument("--domain", help="auth: the domain we are the server of")
    p.add_argument("--listen", help="auth: its server's address (port 5269)")
    p.add_argument("--mode", choices=("unauth", "auth", "both"), default="both")
    p.add_argument("--mib", type=float, default=8, help="MiB sent per shape")
    p.add_argument("--seconds", type=float, default=30, help="at most, per shape")
    p.add_argument("--unauth-bytes", type=int, default=16000)
    p.add_argument("--auth-bytes", type=int, default=200000)
    p.add_argument("--max-attributes", type=int, default=64)
    p.add_argument("--max-namespaces", type=int, default=32)
    p.add_argument("--max-depth", type=int, default=32)
    p.add_argument("--json")
    a = p.parse_args()
    table = shapes(a.max_attributes, a.max_namespaces, a.max_depth)
    out = {}
    modes = ("unauth", "auth") if a.mode == "both" else (a.mode,)
    for mode in modes:
        out[mode] = {}
        if mode == "auth":
            if not a.domain or not a.listen:
                p.error("auth needs --domain and --listen")
            authority = Authority(a)
            authority.start()
            sock = auth_stream(a)
        for serial, (name, unauth, auth) in enumerate(table):
            make = unauth if mode == "unauth" else auth
            if make is None:
                continue
            before = cpu_seconds(a.pid)
            if mode == "unauth":
                sent, refused = unauth_phase(a, make)
            else:
                sent, refused = auth_phase(a, make, sock, authority, serial)
            cpu = cpu_seconds(a.pid) - before
            ms = cpu * 1000 / (sent / 1048576.0) if sent else 0.0
            base = out[mode].get("plain", {}).get("ms_per_mib") or ms or 1.0
            # what one element of the shape takes: before authentication an
            # element-dense shape stops at the limits, far under --unauth-bytes
            size = len(make(a.unauth_bytes if mode == "unauth" else a.auth_bytes))
            out[mode][name] = {"bytes": sent, "element_bytes": size, "cpu_s": round(cpu, 3),
                               "ms_per_mib": round(ms, 2), "x_plain": round(ms / base, 2),
                               "refused": refused}
            print("SHAPE mode=%s shape=%s bytes=%d cpu_s=%.2f ms_per_mib=%.2f x_plain=%.2f (%s)"
                  % (mode, name, sent, cpu, ms, ms / base, refused), flush=True)
        if mode == "auth":
            sock.close()
            authority.srv.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
