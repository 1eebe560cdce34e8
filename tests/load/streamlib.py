"""streamlib.py -- what the load scripts share: raw s2s stream text, a
bounded connect/read/close, the stream error a daemon sent, and a minimal XML
stream reader (stanzas at depth 1, restart after TLS)."""
import asyncio
import ipaddress
import re
import ssl
import time
import xml.etree.ElementTree as ET

NS_STREAMS = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_DIALBACK = "jabber:server:dialback"
PROLOG = b"<?xml version='1.0'?>"
CONDITION = re.compile(rb"<([a-z-]+)\s+xmlns=['\"]urn:ietf:params:xml:ns:xmpp-streams['\"]\s*/>")


def header(frm, to, extra=""):
    return ("<stream:stream xmlns='jabber:server' xmlns:stream='%s' xmlns:db='%s'"
            " from='%s' to='%s' version='1.0'%s>" % (NS_STREAMS, NS_DIALBACK, frm, to, extra)).encode()


def address_range(spec):
    """Source addresses from a spec: '127.0.1.1-40' -> 127.0.1.1 .. 127.0.1.40
    (the last octet runs); '2001:db8:bad:1::1-40' -> 2001:db8:bad:1::1 ..
    2001:db8:bad:40::1 (the fourth group runs, in hex as written: one address
    in each /64 of a /48, which the daemon counts as that many addresses);
    'A' -> [A]; several such, comma-separated, one after the other."""
    out = []
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        start = ipaddress.ip_address(first)
        if start.version == 4:
            shift, low = 0, int(start) & 0xff
            high = int(last) if last else low
            top = 0xff
        else:
            shift, low = 64, (int(start) >> 64) & 0xffff
            high = int(last, 16) if last else low
            top = 0xffff
        if not low <= high <= top:
            raise ValueError("bad address range %r" % part)
        base = int(start) - (low << shift)
        out += [str(ipaddress.ip_address(base + (i << shift))) for i in range(low, high + 1)]
    return out


def daemon_for(source, host, host6):
    """The daemon's address to reach from source: host6 for an IPv6 source
    (ValueError when there is none), else host."""
    if source and ":" in source:
        if not host6:
            raise ValueError("IPv6 source %s but no IPv6 address of the daemon (--host6)" % source)
        return host6
    return host


def condition_of(data):
    """The stream error condition the daemon sent, or None."""
    m = CONDITION.search(data)
    return m.group(1).decode() if m else None


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def count(table, key, n=1):
    table[key] = table.get(key, 0) + n


async def connect(host, port, source):
    return await asyncio.wait_for(
        asyncio.open_connection(host, port, local_addr=(source, 0) if source else None), 5)


async def close_writer(writer):
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1)
    except (OSError, asyncio.TimeoutError, ssl.SSLError):
        pass


async def read_all(reader, data, seconds):
    """Read into the bytearray `data` until EOF (True) or `seconds` (False)."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            return False
        except (OSError, ssl.SSLError):
            return True
        if not chunk:
            return True
        if len(data) < 65536:
            data += chunk[:65536 - len(data)]


# ---- a minimal XML stream reader --------------------------------------------------


class XmlStream:
    """Stanzas (depth-1 elements) from a byte stream; restart() after TLS."""

    def __init__(self, reader):
        self.reader = reader
        self.restart()

    def restart(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.root = None
        self.header = None

    def set_reader(self, reader):
        self.reader = reader

    async def next(self, seconds):
        """The next event: ('header', attrs) or ('stanza', element); None on EOF."""
        end = time.monotonic() + seconds
        while True:
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                    if self.depth == 1:
                        self.root = el
                        return ("header", dict(el.attrib))
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.root.remove(el)
                        return ("stanza", el)
            left = end - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError()
            chunk = await asyncio.wait_for(self.reader.read(65536), left)
            if not chunk:
                return None
            self.parser.feed(chunk)

    async def stanza(self, seconds):
        while True:
            ev = await self.next(seconds)
            if ev is None:
                return None
            if ev[0] == "stanza":
                return ev[1]


def tag(ns, name):
    return "{%s}%s" % (ns, name)


def stream_error_text(el):
    for child in el:
        if child.tag.endswith("}text"):
            continue
        return child.tag.split("}")[-1]
    return "unknown"
