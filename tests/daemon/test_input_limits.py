#!/usr/bin/python3
"""test_input_limits.py -- what one stream may make the parser do, with the
default limits (issue 21): an element of 24,000 attributes (253 kB, under
max_stanza_bytes) sent before authenticating cost the daemon 0.6 to 1.8 s of
CPU, quadratic in the attributes, with every other peer waiting. Now such an
element ends the stream at its 65th attribute, unread; what precedes
authentication is at most max_unauth_stanza_bytes and holds no child
element; authenticated peers keep the large limits. Each refusal names its
limit and is counted in /metrics. The CPU each attack cost is printed (a
figure, not asserted: tests/bench/hostile_load.sh measures).
Usage: test_input_limits.py XMPP-RESPONDER."""
import http.client
import os
import re
import sys

from netlib import dialback_plain, dom, features, fresh_peer, run

NOTLS = dom("no-tls")
LIMITS = {}        # the defaults: the attack was made against them
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def metric(env, name, label):
    c = http.client.HTTPConnection("127.0.0.1", env.r.http_port, timeout=5)
    c.request("GET", "/metrics")
    body = c.getresponse().read().decode()
    c.close()
    m = re.search(r"(?m)^xmpp_responder_%s\{limit=\"%s\"\} (\d+)$" % (name, label), body)
    return int(m.group(1)) if m else None


def attack(env, text, expect_why, label):
    """One plaintext stream to no-tls that sends text before authenticating:
    refused with policy-violation naming the limit, counted once, and the
    daemon stopped reading before the end of it (its close line's in=)."""
    before = metric(env, "input_limit_total", label) or 0
    cpu = cpu_seconds(env.r.proc.pid)
    s = env.stream()
    peer = fresh_peer()
    s.open(peer, NOTLS)
    features(s)
    s.sock.settimeout(10)
    try:
        s.sock.sendall(text.encode())
    except OSError:
        pass            # the daemon may close before it all went out
    s.sock.settimeout(None)
    cond, why = s.stream_error(10)
    assert s.wait_closed()
    spent = cpu_seconds(env.r.proc.pid) - cpu
    print("# %s: %d bytes sent, refused with %s (%s); daemon CPU %.3f s"
          % (label, len(text), cond, why, spent))
    assert (cond, expect_why in why) == ("policy-violation", True), (cond, why)
    assert metric(env, "input_limit_total", label) == before + 1
    line = env.r.wait_log(r"remote=%s event=close [^\n]* in=(\d+)" % re.escape(peer), 5)
    assert line, "no close line for %s" % peer
    if len(text) > 3 * 65536:   # more than a few reads: the rest went unread
        assert int(line.group(1)) < len(text), "the daemon read all of it: %s" % line.group(0)


def t_many_attributes(env):
    """The attack of issue 21: 24,000 attributes on one element (253 kB)."""
    attrs = "".join(" a%d='v'" % i for i in range(24000))
    attack(env, "<message to='%s' from='x.peer.example'%s/>" % (NOTLS, attrs),
           "too many attributes on one element (limits.max_attributes)", "max_attributes")


def t_many_namespaces(env):
    """10,000 namespace declarations on one element."""
    decls = "".join(" xmlns:p%d='urn:x:%d'" % (i, i) for i in range(10000))
    attack(env, "<foo%s/>" % decls,
           "too many attributes on one element (limits.max_attributes)", "max_attributes")


def t_large_before_auth(env):
    """Before authentication an element may be max_unauth_stanza_bytes
    (16 KiB), not max_stanza_bytes (256 KiB)."""
    attack(env, "<foo>%s</foo>" % ("x" * 250000),
           "stanza too large (limits.max_unauth_stanza_bytes)", "max_unauth_stanza_bytes")


def t_children_before_auth(env):
    attack(env, "<db:result from='x.peer.example' to='%s'>%s</db:result>" % (NOTLS, "<a/>" * 3000),
           "no child elements before the stream authenticates", "children_before_auth")


def t_authenticated_keeps_large_limits(env):
    """A peer that authenticated may send what it could before: a 200 kB
    message with children, then a ping, answered."""
    peer = fresh_peer()
    s = dialback_plain(env, peer)
    s.send("<message type='headline' from='%s' to='%s'><body>%s</body><x xmlns='urn:x'>"
           "<y/></x></message>" % (peer, NOTLS, "w" * 200000))
    s.send("<iq type='get' id='after' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
           % (peer, NOTLS))
    assert env.authority.stanzas_to(peer, lambda el: el.get("id") == "after", 10), \
        "the ping after a large stanza went unanswered"
    assert b"<stream:error>" not in s.all, s.all[-300:]


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
