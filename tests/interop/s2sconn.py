"""s2sconn.py -- what the scripted s2s peers share (peer.py, dialback_peer.py,
../daemon/netlib.py): the stream header, an incremental reader of the other
side's stream over a plain or TLS socket, and the stream error it sent."""
import re
import select
import time
import xml.etree.ElementTree as ET

NS_STREAMS = "http://etherx.jabber.org/streams"
NS_DB = "jabber:server:dialback"
NS_SERVER = "jabber:server"
PROLOG = "<?xml version='1.0'?>"


def header(frm, to, sid=None):
    return ("<stream:stream xmlns='jabber:server' xmlns:stream='%s' xmlns:db='%s'"
            " from='%s' to='%s'%s version='1.0'>"
            % (NS_STREAMS, NS_DB, frm, to, " id='%s'" % sid if sid else ""))


class XmlConn:
    """A socket with an incremental parser of the peer's stream: the header
    attributes and each complete top-level element. With max_bytes, a peer
    that sends more than that in all counts as closed (a bounded reader)."""

    def __init__(self, sock, max_bytes=None):
        self.sock = sock
        self.max_bytes = max_bytes
        self.received = 0
        self.closed = False
        self.raw = b""
        self.restart()

    def restart(self):
        """A new stream on the same connection (after STARTTLS or SASL): a
        fresh parser, no header yet; elements not yet taken are dropped."""
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.header = None
        self.elements = []

    def starttls(self, tls_sock):
        """Continue over tls_sock (the same connection, wrapped) with a new stream."""
        self.sock = tls_sock
        self.raw += b"\n--- TLS ---\n"
        self.restart()

    def feed(self, data):
        self.raw = (self.raw + data)[-4096:]
        try:
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                    if self.depth == 1:
                        self.header = dict(el.attrib)
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.elements.append(el)
        except ET.ParseError:
            self.closed = True

    def pump(self, seconds):
        """Read for up to seconds (returns early on close)."""
        end = time.monotonic() + seconds
        poller = select.poll()   # not select(): a crowd has fds over 1024
        poller.register(self.sock, select.POLLIN)
        while not self.closed:
            # TLS may hold decrypted bytes the kernel no longer shows
            pending = getattr(self.sock, "pending", lambda: 0)()
            left = max(0.0, end - time.monotonic())
            if not pending and not poller.poll(left * 1000):
                return
            if not self.recv_some():
                return

    def read_some(self, seconds):
        """Wait up to seconds for data and read it once: returns as soon as
        something arrived (pump reads for the whole time)."""
        if self.closed:
            return
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        if getattr(self.sock, "pending", lambda: 0)() or poller.poll(seconds * 1000):
            self.recv_some()

    def recv_some(self):
        """One read into the parser; False when the peer closed."""
        try:
            data = self.sock.recv(65536)
        except OSError:   # also ssl.SSLError and timeouts
            data = b""
        self.received += len(data)
        if not data or (self.max_bytes and self.received > self.max_bytes):
            self.closed = True
            return False
        self.feed(data)
        return True

    def wait_for(self, pred, seconds):
        """Pump until an element satisfies pred; return it (removed) or None."""
        end = time.monotonic() + seconds
        while True:
            for i, el in enumerate(self.elements):
                if pred(el):
                    return self.elements.pop(i)
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.read_some(min(left, 0.2))

    def wait_header(self, seconds):
        """Pump until the other side's stream header arrived; its attributes or None."""
        end = time.monotonic() + seconds
        while self.header is None and not self.closed and time.monotonic() < end:
            self.read_some(min(0.2, max(0.0, end - time.monotonic())))
        return self.header

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)


def stream_error(conn):
    """The condition of a <stream:error/> received, or None."""
    for el in conn.elements:
        if el.tag == "{%s}error" % NS_STREAMS:
            return ",".join(c.tag.split("}")[-1] for c in el if not c.tag.endswith("text"))
    m = re.search(rb"<stream:error><([a-z-]+)", conn.raw)
    return m.group(1).decode() if m else None
