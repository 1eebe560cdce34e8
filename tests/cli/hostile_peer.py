#!/usr/bin/python3
"""hostile_peer.py -- a peer that puts markup where the responder shows it.

Connects with plain TCP to an s2s port, opens a stream from FROM to TO,
reads the features, then sends a stream error whose text is HTML markup
(escaped once for XML, so the responder decodes it to the raw markup) and
closes. The responder records an IN outcome for FROM whose error_in holds
that text; the web report must show it escaped.

Usage: hostile_peer.py PORT FROM TO
Prints the server's answer to stdout; exit 0 when the stream got that far.
"""
import socket
import sys
from xml.sax.saxutils import quoteattr

port, from_, to = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TEXT = ("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"quoted\" "
        "&lt;img src=x onerror=alert(2)&gt;")

s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' "
           "from=%s to=%s version='1.0'>" % (quoteattr(from_), quoteattr(to)))
          .encode())
data = b""
while b"</stream:features>" not in data and b"</stream:stream>" not in data:
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace"))
if b"</stream:features>" not in data:
    sys.exit(1)
s.sendall(("<stream:error><undefined-condition "
           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + TEXT +
           "</text></stream:error></stream:stream>").encode())
# wait for the responder to close its side, so the outcome is recorded
try:
    while s.recv(4096):
        pass
except (socket.timeout, ConnectionError):
    pass
s.close()
