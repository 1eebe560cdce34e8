#!/usr/bin/python3
"""test_pools.py -- the two pools of stream slots (responder/net/admission.h),
issue 21's "the test account takes no scarce slot", against the real daemon
on loopback with small limits: servers (max_streams 24) and clients
(max_client_streams 12, client_streams_per_ip 4) each have their own.

  a. The attack: a crowd of client streams logged in as test/test and not
     bound, from six loopback addresses (tests/load/attack_clients.py), then
     a server stream from another address gets its features (on 85b991b the
     crowd held the one stream table: policy-violation, too many streams).
  b. The converse: a crowd of unauthenticated server streams filling
     max_streams, each from its own address, neither evicts a client that
     was logging in nor refuses one that comes after.
  c. A full client pool: a newcomer logs in; the oldest unbound session of
     the address holding the most client streams gives way, never a bound one.
  d. A full pool of bound sessions: the longest-idle one gives way; idle
     means no stanza (a whitespace keepalive does not count).
  e. client_streams_per_ip: the address's own excess is refused, nobody
     else's stream closed for it.
  f. A crowd whose bound sessions fill the pool logs in again and again
     while an honest client logs in: the honest login never gives way (the
     address holding the most does).

Usage: test_pools.py XMPP-RESPONDER"""
import os
import re
import subprocess
import sys
import urllib.request

from netlib import NS_STREAMS, PROLOG, Stream, dom, header, run, wait_until
from test_c2s import Client, cl, logged_in

VALID = dom("valid")
LIMITS = {"max_streams": 24, "reserved_authenticated": 25, "unauth_timeout": 20,
          "idle_timeout": 60,
          # unknown to 85b991b, where these tests show what it did before
          "?max_client_streams": 12, "?client_streams_per_ip": 4}
ATTACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load",
                      "attack_clients.py")
UNBOUND_GIVES_WAY = "the client pool is full: the oldest unbound session gives way"
IDLE_GIVES_WAY = "the client pool is full: the longest-idle bound session gives way"


# ---- helpers -------------------------------------------------------------------

def metric(env, name, labels=""):
    """The value of xmpp_responder_NAME{LABELS} in /metrics, or None."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % env.r.http_port,
                                timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"(?m)^xmpp_responder_%s%s (\S+)$"
                  % (re.escape(name), re.escape("{%s}" % labels) if labels else ""), text)
    return float(m.group(1)) if m else None


def clients_held(env):
    return metric(env, "pool_streams", 'pool="clients"')


def empty_client_pool(env, streams):
    """Close streams; wait until the daemon counts no client stream."""
    for s in streams:
        s.close()
    wait_until(lambda: clients_held(env) == 0, 5)


def server_stream(env, source):
    """A plain s2s stream header from source to the s2s port: the Stream and
    'features', or what came instead ('CONDITION: TEXT' of a stream error)."""
    s = Stream.connect(env.r.port, source=source)
    s.send(PROLOG + header("", VALID).replace(" from=''", ""))
    el = s.next(5)
    if el is None:
        return s, "nothing"
    if el.tag == "{%s}features" % NS_STREAMS:
        return s, "features"
    if el.tag != "{%s}error" % NS_STREAMS:
        return s, el.tag
    cond = [c.tag.split("}")[1] for c in el if not c.tag.endswith("}text")]
    text = [c.text or "" for c in el if c.tag.endswith("}text")]
    return s, "%s: %s" % (",".join(cond), "".join(text))


def sessions(env, source, n, bind):
    """n client streams of test@valid from source, bound (resources
    SOURCE-i) or authenticated only."""
    return [logged_in(env, resource="%s-%d" % (source, i), source=source, bind=bind)[0]
            for i in range(n)]


def alive(s):
    """The stream has no error and is open (what arrived was read first:
    evictions happen when the newcomer is accepted, before it logs in)."""
    s.pump(0.05)
    return not s.closed and b"stream:error" not in s.all


def gave_way(s, text):
    cond, got = s.stream_error(5)
    assert (cond, got) == ("policy-violation", text), (cond, got, s.all[-300:])
    assert s.wait_closed(5)


def ping(c, ident):
    c.send("<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (ident, VALID))
    el = c.next()
    assert el is not None and el.tag == cl("iq") and el.get("type") == "result", c.all[-300:]


class Crowd:
    """attack_clients.py holding its streams while the block runs; .ready is
    its READY line as a dict, .summary its SUMMARY line after."""

    def __init__(self, env, sources, per_source, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, ATTACK, "--port", str(env.r.c2s_port), "--domain", VALID,
             "--sources", sources, "--per-source", str(per_source), "--hold", "120",
             "--login-timeout", "5"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.ready = self._line("READY")
        self.summary = None

    def _line(self, kind):
        for line in self.proc.stdout:
            if line.startswith(kind + " "):
                head, _, texts = line.strip().partition(" texts=")  # texts: last, spaced
                d = dict(kv.split("=", 1) for kv in head.split()[1:])
                d["texts"] = texts
                return d
        raise AssertionError("attack_clients.py printed no %s line" % kind)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.summary = self._line("SUMMARY")
        finally:
            self.proc.wait(10)


# ---- the tests -------------------------------------------------------------------

def t_a_client_logins_never_refuse_a_server(env):
    """24 client streams logged in and not bound, 4 from each of 6 addresses
    (as many as max_streams), then a server stream from another address."""
    with Crowd(env, "127.0.2.1-6", 4, "--concurrency", "1") as crowd:
        assert int(crowd.ready["logged_in"]) == 24, crowd.ready
        s, got = server_stream(env, "127.0.0.1")
        assert got == "features", "a server was refused: " + got
        s.close()
        # the crowd holds the whole client pool; the server pool is its own
        assert clients_held(env) == 12, clients_held(env)
        assert metric(env, "pool_streams", 'pool="servers"') <= 1
    assert int(crowd.summary["held"]) == 12, crowd.summary
    wait_until(lambda: clients_held(env) == 0, 5)


def t_b_server_crowd_never_refuses_a_client(env):
    """A client opens its stream; 25 unauthenticated server streams, one per
    address, fill max_streams (24) and evict one another; the client still
    logs in and binds, and so does one that comes after the crowd."""
    c = Client.to(env)
    c.open_c(VALID)
    c.features()
    crowd = []
    for i in range(1, 26):
        s, got = server_stream(env, "127.0.3.%d" % i)
        assert got == "features", got
        crowd.append(s)
    evicted = sum(not alive(s) for s in crowd)
    assert evicted >= 1, "the server pool never filled"
    c.starttls(VALID)
    c.open_c(VALID)
    c.features()
    assert c.plain().tag.endswith("}success"), c.all[-300:]
    c.restart()
    c.open_c(VALID)
    c.features()
    assert c.bind("after-crowd").get("type") == "result", c.all[-300:]
    late, _ = logged_in(env, resource="late", source="127.0.0.2")
    for s in crowd + [c, late]:
        s.close()
    empty_client_pool(env, [])


def t_c_full_pool_the_oldest_unbound_gives_way(env):
    """12 = 4 bound (A) + 4 authenticated unbound (B) + 4 (C): a newcomer
    from D logs in and binds; B's oldest gives way (B and C hold 4 each, B's
    is older), then for the next newcomer C's oldest (C now holds the most);
    the bound sessions stay."""
    a = sessions(env, "127.0.4.1", 4, bind=True)
    b = sessions(env, "127.0.4.2", 4, bind=False)
    c = sessions(env, "127.0.4.3", 4, bind=False)
    before = metric(env, "client_streams_evicted_total", 'session="unbound"')
    d, _ = logged_in(env, resource="d", source="127.0.4.4")
    gave_way(b[0], UNBOUND_GIVES_WAY)
    assert clients_held(env) == 12, clients_held(env)
    assert all(alive(s) for s in a + b[1:] + c), "another stream went"
    e, _ = logged_in(env, resource="e", source="127.0.4.5")
    gave_way(c[0], UNBOUND_GIVES_WAY)
    assert all(alive(s) for s in a + b[1:] + c[1:] + [d]), "another stream went"
    for i, s in enumerate(a):
        ping(s, "a%d" % i)
    after = metric(env, "client_streams_evicted_total", 'session="unbound"')
    assert after == before + 2, (before, after)
    assert env.r.wait_log(r"c2s#\d+ 127\.0\.4\.2:\d+ .*event=evicted reason=\"%s\""
                          % re.escape(UNBOUND_GIVES_WAY))
    empty_client_pool(env, a + b + c + [d, e])


def t_d_full_pool_the_longest_idle_bound_gives_way(env):
    """12 bound sessions, 4 from each of A, B, C bound in that order; A's
    then send a stanza each and B's first only whitespace: B's first is the
    longest idle and gives way to a newcomer."""
    a = sessions(env, "127.0.4.1", 4, bind=True)
    b = sessions(env, "127.0.4.2", 4, bind=True)
    c = sessions(env, "127.0.4.3", 4, bind=True)
    for i, s in enumerate(a):
        ping(s, "a%d" % i)
    b[0].send("  ")
    before = metric(env, "client_streams_evicted_total", 'session="bound"')
    d, jid = logged_in(env, resource="d", source="127.0.4.4")
    assert jid, d.all[-300:]
    gave_way(b[0], IDLE_GIVES_WAY)
    assert clients_held(env) == 12, clients_held(env)
    assert all(alive(s) for s in a + b[1:] + c), "another session went"
    assert metric(env, "client_streams_evicted_total", 'session="bound"') == before + 1
    empty_client_pool(env, a + b + c + [d])


def t_f_a_crowd_relogging_in_never_evicts_a_login(env):
    """The hostile benchmark's case: a crowd's bound sessions fill the pool
    at the per-address cap (3 x 4), an honest client from another address
    logs in (a crowd session gives way) and, before it binds, the crowd logs
    in again and again: the address holding the most gives way each time,
    never the honest login, which then binds (on the rule before, the
    oldest unbound stream went, and the only unbound one was the honest
    client's: the crowd evicted every login)."""
    crowd = [sessions(env, "127.0.6.%d" % i, 4, bind=True) for i in (1, 2, 3)]
    honest = Client.to(env, source="127.0.0.5")
    honest.open_c(VALID)
    honest.features()
    honest.starttls(VALID)
    honest.open_c(VALID)
    honest.features()
    assert honest.plain().tag.endswith("}success"), honest.all[-300:]
    relogins = []
    for i in range(6):                  # more than the pool has to give
        # from whichever crowd address lost a session (the others are at
        # their cap, and refused)
        for source in ("127.0.6.1", "127.0.6.2", "127.0.6.3"):
            try:
                s, _ = logged_in(env, resource="again-%d" % i, source=source)
                break
            except AssertionError as e:
                assert "too many client streams from your address" in str(e), e
        else:
            raise AssertionError("no crowd address could log in again")
        relogins.append(s)
        assert alive(honest), "the honest login gave way: " + honest.all[-300:].decode(
            errors="replace")
    honest.restart()
    honest.open_c(VALID)
    honest.features()
    assert honest.bind("honest").get("type") == "result", honest.all[-300:]
    empty_client_pool(env, [honest] + relogins + [x for group in crowd for x in group])


def t_e_per_address_cap_refuses_the_excess(env):
    """client_streams_per_ip = 4: the fifth stream from one address is
    refused at once; its four stay, and nobody else's stream is closed."""
    other, _ = logged_in(env, resource="other", source="127.0.4.8")
    mine = sessions(env, "127.0.4.9", 4, bind=False)
    before = metric(env, "client_streams_refused_total")
    fifth = Client.to(env, source="127.0.4.9")
    cond, text = fifth.stream_error(5)
    assert (cond, text) == ("policy-violation", "too many client streams from your address"), \
        (cond, text, fifth.all[-300:])
    assert all(alive(s) for s in mine + [other])
    assert metric(env, "client_streams_refused_total") == before + 1
    empty_client_pool(env, mine + [other, fifth])


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    os.environ.setdefault("LANG", "C")
    run(sys.argv, LIMITS, TESTS)
