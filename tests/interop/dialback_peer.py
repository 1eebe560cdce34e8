#!/usr/bin/python3
"""dialback_peer.py -- a small XMPP server that authenticates by dialback only.

The fifth peer of the interop matrix: an independent server for --domain
(staging.example) of the kind still found on the network, which neither
Prosody nor ejabberd models:

- it offers no SASL at all and never uses it: server dialback (XEP-0220,
  keys as in XEP-0185: HMAC-SHA256 under a secret made for this run) is its
  only authentication, in both directions;
- it does STARTTLS whenever the other side offers it and refuses to talk in
  plaintext, but never checks the certificate it gets (dialback is its
  authentication, so a bad certificate does not matter to it) and sends no
  SNI;
- it looks up only `_xmpp-server._tcp` SRV records (never `_xmpps-server`),
  falling back to the domain's A/AAAA on port 5269 when there is none; an
  SRV target "." means no service.

Its listener on --ip:5269 presents --cert/--key after STARTTLS (required),
then offers only <dialback/>. It answers <db:verify/> honestly (valid only
for keys it issued itself) and checks a <db:result/> for real: it opens its
own stream to the sending domain's server (found by the same DNS) and asks
there with <db:verify/>. Stanzas on an inbound stream are taken only from
domains authenticated on that stream.

It replaces pinger.py for this peer: for every target, at once (one thread
each), it dials the target's server, does STARTTLS, sends <db:result/>,
waits for type='valid', sends an XEP-0199 ping from --domain and waits for
the pong, which comes back on the target's own stream to our listener. It
prints pinger.py's lines, in the order given:

    RESULT <jid> <pong|error|timeout> <condition|-> <text|-> <rtt seconds>

and logs what happened per target ("SECONDS<TAB>DOMAIN<TAB>what") to --log;
each target's last line starts with "verdict:". Exit 0.
"""
import argparse
import asyncio
import hashlib
import hmac
import secrets
import socket
import ssl
import sys
import threading
import time
import uuid

import aiodns

from s2sconn import NS_DB, NS_SERVER, NS_STREAMS, PROLOG, XmlConn, header, stream_error

NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_DB_FEATURE = "urn:xmpp:features:dialback"
NS_PING = "urn:xmpp:ping"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MAX_STREAM_BYTES = 1 << 20   # what one stream may send us in all
MAX_INBOUND = 256            # inbound streams served at the same time
STEP_SECONDS = 10            # one step of a stream (header, TLS, an answer)


class Refused(Exception):
    """A stream that ended before doing its job; the text says why."""


class Expired(Exception):
    """The deadline passed while we waited for the other side."""


class Run:
    """What the threads share: options, secret, log, pending pings, sockets."""

    def __init__(self, args):
        self.args = args
        self.secret = secrets.token_bytes(32)
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.log_file = open(args.log, "a") if args.log else sys.stderr
        self.pending = {}      # ping id -> [threading.Event, answer element]
        self.socks = set()     # every socket open, closed at exit
        self.stopping = threading.Event()
        self.inbound = threading.BoundedSemaphore(MAX_INBOUND)

    def log(self, domain, text):
        with self.lock:
            self.log_file.write("%.2f\t%s\t%s\n" % (time.monotonic() - self.start, domain,
                                                    " ".join(str(text).split())))
            self.log_file.flush()

    def key(self, receiving, originating, sid):
        """The dialback key (XEP-0185): HMAC-SHA256 keyed by SHA-256 of the secret."""
        k = hashlib.sha256(self.secret).hexdigest().encode()
        msg = ("%s %s %s" % (receiving, originating, sid)).encode()
        return hmac.new(k, msg, hashlib.sha256).hexdigest()

    def track(self, sock):
        with self.lock:
            self.socks.add(sock)
        return sock

    def close(self, sock):
        with self.lock:
            self.socks.discard(sock)
        try:
            sock.close()
        except OSError:
            pass

    def close_all(self):
        with self.lock:
            socks, self.socks = list(self.socks), set()
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


def tag(ns, name):
    return "{%s}%s" % (ns, name)


def domain_of(jid):
    return (jid or "").split("@")[-1].split("/")[0]


# ---- DNS: _xmpp-server only ----------------------------------------------

def resolve(domain, seconds):
    """[(address, port)] to try for domain's s2s service, in order; raises
    Refused when DNS says there is none."""
    async def lookup():
        res = aiodns.DNSResolver(timeout=min(seconds, 5), tries=2)
        try:
            srv = await res.query("_xmpp-server._tcp." + domain, "SRV")
        except aiodns.error.DNSError as e:
            if e.args[0] not in (aiodns.error.ARES_ENOTFOUND, aiodns.error.ARES_ENODATA):
                raise Refused("SRV lookup for %s failed: %s" % (domain, e.args[-1]))
            srv = []
        if any(r.host in ("", ".") for r in srv):
            raise Refused("_xmpp-server SRV of %s has target '.': no service" % domain)
        hosts = [(r.host, r.port) for r in sorted(srv, key=lambda r: (r.priority, -r.weight))]
        hosts = hosts or [(domain, 5269)]   # no SRV: the domain itself
        found = []
        for host, port in hosts:
            for qtype in ("A", "AAAA"):
                try:
                    found += [(a.host, port) for a in await res.query(host, qtype)]
                except aiodns.error.DNSError:
                    pass
        if not found:
            raise Refused("no address for %s (tried %s)" % (
                domain, ", ".join("%s:%d" % h for h in hosts)))
        return found
    try:
        return asyncio.run(asyncio.wait_for(lookup(), seconds))
    except asyncio.TimeoutError:
        raise Refused("DNS lookup for %s timed out" % domain)


# ---- outbound streams ------------------------------------------------------

def left(deadline):
    """Seconds until deadline, at most one step; Expired when none are left."""
    t = deadline - time.monotonic()
    if t <= 0:
        raise Expired()
    return min(t, STEP_SECONDS)


def features(conn, deadline, what):
    """The <stream:features/> after a header; Refused on a stream error or close."""
    el = conn.wait_for(lambda e: e.tag in (tag(NS_STREAMS, "features"), tag(NS_STREAMS, "error")),
                       left(deadline))
    if el is None and not conn.closed:
        raise Expired()
    if el is None or el.tag != tag(NS_STREAMS, "features"):
        if el is not None:
            conn.elements.append(el)   # where stream_error() looks
        err = stream_error(conn)
        raise Refused("%s: %s" % (what, "stream error " + err if err
                                  else "stream closed without a stream error"))
    return el


def open_stream(run, domain, deadline):
    """A stream from us to domain's server, secured by STARTTLS (certificate
    not checked, no SNI), header exchanged again: (conn, features)."""
    addrs = resolve(domain, left(deadline))
    sock, why = None, []
    for addr in addrs:
        try:
            sock = run.track(socket.create_connection(addr, timeout=left(deadline)))
            break
        except OSError as e:
            why.append("%s:%d %s" % (addr[0], addr[1], e.strerror or e))
    if sock is None:
        raise Refused("could not connect: " + "; ".join(why))
    run.log(domain, "connected to %s:%d" % sock.getpeername()[:2])
    conn = XmlConn(sock, MAX_STREAM_BYTES)
    conn.send(PROLOG + header(run.args.domain, domain))
    feats = features(conn, deadline, "before TLS")
    if feats.find(tag(NS_TLS, "starttls")) is None:
        raise Refused("no STARTTLS offered; we send nothing in plaintext")
    conn.send("<starttls xmlns='%s'/>" % NS_TLS)
    el = conn.wait_for(lambda e: e.tag in (tag(NS_TLS, "proceed"), tag(NS_TLS, "failure")),
                       left(deadline))
    if el is None or el.tag != tag(NS_TLS, "proceed"):
        raise Refused("STARTTLS: %s" % ("failure" if el is not None else "no <proceed/>"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE   # dialback is what authenticates
    sock.settimeout(left(deadline))
    try:
        tls = run.track(ctx.wrap_socket(sock, server_hostname=None))   # no SNI
    except (ssl.SSLError, OSError) as e:
        raise Refused("TLS handshake failed: %s" % e)
    conn.starttls(tls)
    run.log(domain, "TLS %s %s" % (tls.version(), tls.cipher()[0]))
    conn.send(PROLOG + header(run.args.domain, domain))
    return conn, features(conn, deadline, "after TLS")


def shut(run, conn):
    if conn is None:
        return
    try:
        conn.send("</stream:stream>")
    except OSError:
        pass
    run.close(conn.sock)


def dialback_answer(el):
    """'type' of a db:result/db:verify answer, with its error condition."""
    err = el.find(tag("jabber:server", "error"))
    conds = [c.tag.split("}")[-1] for c in err] if err is not None else []
    return el.get("type", "?") + (" (%s)" % ", ".join(conds) if conds else "")


def ping_target(run, n, jid, results):
    """Dialback to jid's server, then one ping; results[n] = RESULT fields."""
    domain = domain_of(jid)
    start = time.monotonic()
    deadline = start + run.args.timeout
    ping_id = "dbping-%d-%s" % (n, uuid.uuid4().hex[:8])
    conn = None
    try:
        conn, feats = open_stream(run, domain, deadline)
        if feats.find(tag(NS_DB_FEATURE, "dialback")) is None:
            run.log(domain, "no dialback feature offered; sending db:result anyway")
        sid = (conn.header or {}).get("id")
        if not sid:
            raise Refused("no stream id after TLS")
        conn.send("<db:result from='%s' to='%s'>%s</db:result>"
                  % (run.args.domain, domain, run.key(domain, run.args.domain, sid)))
        el = conn.wait_for(lambda e: e.tag == tag(NS_DB, "result"), left(deadline))
        if el is None:
            if not conn.closed:
                raise Expired()
            raise Refused("dialback: no answer, stream %s" % (
                "error " + stream_error(conn) if stream_error(conn) else "closed"))
        if el.get("type") != "valid":
            raise Refused("dialback refused: type=%s" % dialback_answer(el))
        run.log(domain, "dialback valid; ping %s sent" % ping_id)
        waiter = [threading.Event(), None]
        with run.lock:
            run.pending[ping_id] = waiter
        conn.send("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='%s'/></iq>"
                  % (ping_id, run.args.domain, jid, NS_PING))
        while not waiter[0].wait(0.2):
            conn.read_some(0)   # keep reading: a stream error closes our side too
            if time.monotonic() >= deadline:
                raise Expired()
        answer = waiter[1]
        rtt = time.monotonic() - start
        if answer.get("type") == "result":
            results[n] = ("pong", "-", "-", rtt)
            run.log(domain, "verdict: pong in %.2fs" % rtt)
            return
        err = answer.find(tag(NS_SERVER, "error"))
        cond = [c.tag.split("}")[-1] for c in err if c.tag.startswith("{" + NS_STANZAS)
                and not c.tag.endswith("}text")] if err is not None else []
        text = err.findtext(tag(NS_STANZAS, "text")) if err is not None else None
        results[n] = ("error", cond[0] if cond else "undefined-condition", clean(text), rtt)
        run.log(domain, "verdict: ping error %s %s" % (results[n][1], results[n][2]))
    except Expired:
        results[n] = ("timeout", "-", "no answer within %gs" % run.args.timeout,
                      time.monotonic() - start)
        run.log(domain, "verdict: timeout after %gs" % run.args.timeout)
    except Refused as e:
        results[n] = ("error", "remote-server-not-found", clean(str(e)), time.monotonic() - start)
        run.log(domain, "verdict: refused: %s" % e)
    except OSError as e:
        results[n] = ("error", "remote-server-not-found", clean("connection: %s" % e),
                      time.monotonic() - start)
        run.log(domain, "verdict: refused: connection: %s" % e)
    finally:
        with run.lock:
            run.pending.pop(ping_id, None)
        shut(run, conn)


def verify_remote(run, sender, key, sid):
    """Ask sender's authoritative server whether key is its key for our
    inbound stream sid: True, False, or Refused."""
    deadline = time.monotonic() + 3 * STEP_SECONDS
    conn = None
    try:
        conn, _ = open_stream(run, sender, deadline)
        conn.send("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
                  % (run.args.domain, sender, sid, key))
        el = conn.wait_for(lambda e: e.tag == tag(NS_DB, "verify") and e.get("id") == sid,
                           left(deadline))
        if el is None:
            raise Refused("no answer to db:verify (stream %s)" % (stream_error(conn) or "closed"))
        run.log(sender, "verification stream: db:verify answered %s" % dialback_answer(el))
        return el.get("type") == "valid"
    except Expired:
        raise Refused("verification timed out")
    except OSError as e:
        raise Refused("verification stream: %s" % e)
    finally:
        shut(run, conn)


def clean(text):
    """One output field: no tabs or newlines, '-' when empty (as pinger.py)."""
    text = " ".join(str(text or "").split())
    return text if text else "-"


# ---- our listener: the authoritative server of --domain --------------------

def stream_error_xml(cond, text):
    return ("<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>%s</text></stream:error>"
            "</stream:stream>" % (cond, text))


def answer_result(run, conn, el, sid, authed):
    """A db:result from the other side: verified at its own server."""
    me, frm, to = run.args.domain, el.get("from", ""), el.get("to", "")
    if to != me:
        conn.send("<db:result from='%s' to='%s' type='error'><error type='cancel'>"
                  "<item-not-found xmlns='%s'/></error></db:result>" % (to, frm, NS_STANZAS))
        run.log(frm, "inbound: db:result to %s, not us: error item-not-found" % to)
        return
    try:
        ok = verify_remote(run, frm, (el.text or "").strip(), sid)
    except Refused as e:
        run.log(frm, "inbound: could not verify its db:result: %s" % e)
        conn.send("<db:result from='%s' to='%s' type='error'><error type='cancel'>"
                  "<remote-server-not-found xmlns='%s'/></error></db:result>"
                  % (me, frm, NS_STANZAS))
        return
    conn.send("<db:result from='%s' to='%s' type='%s'/>" % (me, frm, "valid" if ok else "invalid"))
    if ok:
        authed.add(frm)
    run.log(frm, "inbound: its db:result is %s" % ("valid: authenticated" if ok else "invalid"))


def handle(run, conn, el, sid, authed):
    """One element of an inbound stream after TLS; False ends the stream."""
    me, frm, to = run.args.domain, el.get("from", ""), el.get("to", "")
    if el.tag == tag(NS_DB, "verify"):
        # honest: valid only for a key we issued on one of our streams
        ok = to == me and hmac.compare_digest((el.text or "").strip(),
                                              run.key(frm, me, el.get("id", "")))
        conn.send("<db:verify from='%s' to='%s' id='%s' type='%s'/>"
                  % (to, frm, el.get("id", ""), "valid" if ok else "invalid"))
        run.log(frm, "inbound: answered its db:verify %s" % ("valid" if ok else "invalid"))
    elif el.tag == tag(NS_DB, "result"):
        answer_result(run, conn, el, sid, authed)
    elif el.tag in (tag(NS_SERVER, "iq"), tag(NS_SERVER, "message"), tag(NS_SERVER, "presence")):
        if domain_of(frm) not in authed or domain_of(to) != me:
            conn.send(stream_error_xml("not-authorized", "%s -> %s is not authenticated here"
                                       % (domain_of(frm), domain_of(to))))
            run.log(frm or "-", "inbound: stanza from an unauthenticated pair: not-authorized")
            return False
        with run.lock:
            waiter = run.pending.get(el.get("id", "")) if el.tag == tag(NS_SERVER, "iq") else None
        if waiter and el.get("type") in ("result", "error") and not waiter[0].is_set():
            waiter[1] = el
            waiter[0].set()
            run.log(domain_of(frm), "inbound: iq %s for %s" % (el.get("type"), el.get("id")))
        else:
            run.log(domain_of(frm), "inbound: ignored %s type=%s" % (el.tag.split("}")[-1],
                                                                     el.get("type")))
    else:
        run.log(frm or "-", "inbound: ignored unexpected <%s/>" % el.tag)
    return True


def serve(run, sock, tls_ctx):
    """One stream to our listener: STARTTLS required, then dialback only."""
    me = run.args.domain
    conn = XmlConn(sock, MAX_STREAM_BYTES)
    sock.settimeout(STEP_SECONDS)
    remote = "-"
    try:
        hdr = conn.wait_header(STEP_SECONDS)
        if hdr is None:
            return
        remote = hdr.get("from") or "-"
        if hdr.get("to") != me:
            conn.send(PROLOG + header(me, remote, uuid.uuid4().hex) +
                      stream_error_xml("host-unknown", "we serve %s only" % me))
            run.log(remote, "inbound: to=%s: host-unknown" % hdr.get("to"))
            return
        conn.send(PROLOG + header(me, remote, uuid.uuid4().hex) + "<stream:features>"
                  "<starttls xmlns='%s'><required/></starttls></stream:features>" % NS_TLS)
        el = conn.wait_for(lambda e: True, STEP_SECONDS)
        if el is None or el.tag != tag(NS_TLS, "starttls"):
            if el is not None:
                conn.send(stream_error_xml("policy-violation", "STARTTLS is required"))
            run.log(remote, "inbound: no STARTTLS (%s): refused" %
                    ("sent <%s/>" % el.tag.split("}")[-1] if el is not None else "nothing"))
            return
        conn.send("<proceed xmlns='%s'/>" % NS_TLS)
        conn.starttls(run.track(tls_ctx.wrap_socket(sock, server_side=True)))
        if conn.wait_header(STEP_SECONDS) is None:
            return
        sid = uuid.uuid4().hex
        conn.send(PROLOG + header(me, remote, sid) + "<stream:features><dialback xmlns='%s'>"
                  "<errors/></dialback></stream:features>" % NS_DB_FEATURE)
        authed, handled = set(), 0
        while not conn.closed and not run.stopping.is_set():
            conn.read_some(0.5)
            while conn.elements:
                handled += 1
                if not handle(run, conn, conn.elements.pop(0), sid, authed):
                    return
        if not handled and conn.closed:   # e.g. a sender that needs SASL
            run.log(remote, "inbound: closed after our dialback-only features, nothing sent"
                    " (stream error: %s)" % (stream_error(conn) or "none"))
    except (OSError, ValueError) as e:   # ssl.SSLError is an OSError
        run.log(remote, "inbound: %s" % e)
    finally:
        run.close(conn.sock)
        run.close(sock)
        run.inbound.release()


def listen(run, srv, tls_ctx):
    while not run.stopping.is_set():
        try:
            sock, _ = srv.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        if not run.inbound.acquire(blocking=False):
            sock.close()   # too many at once: bounded
            continue
        run.track(sock)
        threading.Thread(target=serve, args=(run, sock, tls_ctx), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain", default="staging.example", help="the domain we are")
    ap.add_argument("--ip", default="127.0.0.1", help="address our domain's DNS points at")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--cert", required=True, help="certificate for --domain (PEM)")
    ap.add_argument("--key", required=True, help="its key")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds for each pong")
    ap.add_argument("--stagger", type=float, default=0.05, help="seconds between two pings")
    ap.add_argument("--log", help="what happened per target (default: stderr)")
    ap.add_argument("targets", nargs="+", help="JIDs to ping")
    args = ap.parse_args()
    run = Run(args)
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(args.cert, args.key)
    srv = run.track(socket.create_server((args.ip, args.port)))
    srv.settimeout(0.5)
    threading.Thread(target=listen, args=(run, srv, tls_ctx), daemon=True).start()

    results = [None] * len(args.targets)
    pingers = [threading.Thread(target=ping_target, args=(run, i, jid, results), daemon=True)
               for i, jid in enumerate(args.targets)]
    for t in pingers:
        t.start()
        time.sleep(args.stagger)
    end = time.monotonic() + args.timeout + 5
    for t in pingers:
        t.join(max(0.0, end - time.monotonic()))
    for jid, r in zip(args.targets, results):
        r = r or ("timeout", "-", "no result within %gs" % args.timeout, args.timeout)
        print("RESULT\t%s\t%s\t%s\t%s\t%.2f" % (jid, r[0], r[1], r[2], r[3]))
    sys.stdout.flush()
    run.stopping.set()
    run.close_all()
    if run.log_file is not sys.stderr:
        run.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
