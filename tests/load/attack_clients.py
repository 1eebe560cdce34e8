#!/usr/bin/python3
"""attack_clients.py -- a crowd of client streams logged in as the public test
account (test/test), from many source addresses: what issue 21 calls "the
test account holds the stream table". Only connects to --host; binds only the
source addresses given (on Linux all of 127.0.0.0/8 is loopback). Bounded in
count (--sources x --per-source) and time (--login-timeout, --hold).

  attack_clients.py --port C2S_PORT --domain valid.BASE --sources 127.0.2.1-17
                    [--host6 ADDR] [--per-source 64] [--bind] [--tls starttls|direct]
                    [--concurrency 64] [--hold SECONDS] [--keepalive SECONDS]
                    [--ping SECONDS] [--relogin] [--json FILE]

IPv6 sources (2001:db8:bad:1::1-40, one address per /64) reach the daemon
at --host6. Each stream: the client header to --domain, TLS (STARTTLS, or direct TLS on a
XEP-0368 port with --tls direct), SASL PLAIN as test/test, the restart, and
with --bind a resource bound. At most --concurrency logins run at once, in the
order of the sources, one stream of each source in turn.

Prints one line once every login was tried (or SIGTERM came first: then
tried < attempted, a crowd that evicts its own logins may never finish):
  READY attempted=N tried=N logged_in=N bound=N refused=N failed=N seconds=S
        conditions=COND:N,...   (the stream errors that refused logins)
then holds the streams for --hold seconds (0: until stdin closes), sending a
whitespace keepalive every --keepalive seconds and an XMPP ping every --ping
seconds (bound streams only), and with --relogin logging in again from the
same address in place of a stream the daemon closed. SIGTERM and SIGINT end
the hold. At the end:
  SUMMARY held=N closed_by_daemon=N relogins=N closed_conditions=COND:N,...
          texts=TEXT|...        (the distinct texts of those stream errors)
and the same as JSON to --json. Exit status 0 when the run completed, 2 on a
setup error. Usable as a module: run(args) returns the figures.
"""
import argparse
import asyncio
import base64
import json
import os
import signal
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streamlib import (NS_STREAMS, NS_TLS, PROLOG, XmlStream, address_range, close_writer,  # noqa: E402
                       connect, count, daemon_for, stream_error_text, tag)

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_PING = "urn:xmpp:ping"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
PLAIN = base64.b64encode(b"\0test\0test").decode()


class Refused(Exception):
    """The daemon ended the stream: a stream error (condition, text) or EOF."""

    def __init__(self, condition, text=""):
        super().__init__(condition)
        self.condition = condition
        self.text = text


def client_header(domain):
    return (PROLOG + ("<stream:stream xmlns='jabber:client' xmlns:stream='%s' to='%s' "
                      "version='1.0'>" % (NS_STREAMS, domain)).encode())


def refusal(el):
    """Refused for a <stream:error/> element."""
    text = ""
    for child in el:
        if child.tag == tag(NS_STREAM_ERRORS, "text"):
            text = child.text or ""
    return Refused(stream_error_text(el), text)


async def expect(xs, want, seconds):
    """The next top-level element, which must be `want` (a tag); Refused on
    a stream error or EOF, ValueError on anything else."""
    while True:
        ev = await xs.next(seconds)
        if ev is None:
            raise Refused("closed")
        if ev[0] == "header":
            continue
        el = ev[1]
        if el.tag == tag(NS_STREAMS, "error"):
            raise refusal(el)
        if el.tag != want:
            raise ValueError("expected %s, got %s" % (want, el.tag))
        return el


class Crowd:
    """The streams, their counters and the shared clock."""

    def __init__(self, args):
        self.a = args
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.gate = asyncio.Semaphore(args.concurrency)
        self.stop = asyncio.Event()
        self.held = {}          # stream number -> writer, while logged in
        self.stats = {"attempted": 0, "logged_in": 0, "bound": 0, "refused": 0, "failed": 0,
                      "conditions": {}, "closed_by_daemon": 0, "closed_conditions": {},
                      "texts": {}, "relogins": 0, "errors": {}}

    async def login(self, source):
        """One stream logged in (and bound): (reader stream, writer)."""
        a = self.a
        reader, writer = await connect(daemon_for(source, a.host, a.host6), a.port, source)
        try:
            xs = XmlStream(reader)
            if a.tls == "direct":
                await asyncio.wait_for(writer.start_tls(self.ctx, server_hostname=a.domain),
                                       a.login_timeout)
            writer.write(client_header(a.domain))
            await expect(xs, tag(NS_STREAMS, "features"), a.login_timeout)
            if a.tls == "starttls":
                writer.write(("<starttls xmlns='%s'/>" % NS_TLS).encode())
                await expect(xs, tag(NS_TLS, "proceed"), a.login_timeout)
                await asyncio.wait_for(writer.start_tls(self.ctx, server_hostname=a.domain),
                                       a.login_timeout)
                xs.restart()
                writer.write(client_header(a.domain))
                await expect(xs, tag(NS_STREAMS, "features"), a.login_timeout)
            writer.write(("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                          % (NS_SASL, PLAIN)).encode())
            await expect(xs, tag(NS_SASL, "success"), a.login_timeout)
            xs.restart()
            writer.write(client_header(a.domain))
            await expect(xs, tag(NS_STREAMS, "features"), a.login_timeout)
            if a.bind:
                writer.write(("<iq type='set' id='b'><bind xmlns='%s'/></iq>"
                              % NS_BIND).encode())
                res = await expect(xs, "{jabber:client}iq", a.login_timeout)
                if res.get("type") != "result":
                    raise Refused("bind-" + res.get("type", "?"))
            return xs, writer
        except BaseException:
            await close_writer(writer)
            raise

    async def hold(self, xs, writer, n):
        """Keep stream n until the hold ends; False when the daemon closed it."""
        a, st = self.a, self.stats
        self.held[n] = writer
        period = min(p for p in (a.keepalive, a.ping, 1.0) if p > 0)
        last_keepalive = last_ping = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    ev = await xs.next(period)
                except asyncio.TimeoutError:
                    ev = ()
                if ev is None:
                    raise Refused("closed")
                if ev and ev[0] == "stanza" and ev[1].tag == tag(NS_STREAMS, "error"):
                    raise refusal(ev[1])
                now = time.monotonic()
                if a.keepalive > 0 and now - last_keepalive >= a.keepalive:
                    writer.write(b" ")
                    last_keepalive = now
                if a.bind and a.ping > 0 and now - last_ping >= a.ping:
                    writer.write(("<iq type='get' id='p%d'><ping xmlns='%s'/></iq>"
                                  % (n, NS_PING)).encode())
                    last_ping = now
            return True
        except (Refused, OSError, ssl.SSLError) as e:
            st["closed_by_daemon"] += 1
            cond = e.condition if isinstance(e, Refused) else "reset"
            count(st["closed_conditions"], cond)
            if isinstance(e, Refused) and e.text:
                count(st["texts"], e.text)
            return False
        finally:
            self.held.pop(n, None)
            await close_writer(writer)

    async def one(self, source, n, ready):
        """Stream n from source: logged in, held, perhaps logged in again."""
        a, st = self.a, self.stats
        first = True
        while first or (a.relogin and not self.stop.is_set()):
            try:
                async with self.gate:
                    if not first:
                        st["relogins"] += 1
                    else:
                        st["attempted"] += 1
                    xs, writer = await self.login(source)
            except Refused as e:
                if first:
                    st["refused"] += 1
                    count(st["conditions"], e.condition)
                    if e.text:
                        count(st["texts"], e.text)
                xs = None
            except (OSError, ssl.SSLError, ValueError, asyncio.TimeoutError) as e:
                if first:
                    st["failed"] += 1
                    count(st["errors"], type(e).__name__)
                xs = None
            if first:
                if xs:
                    st["logged_in"] += 1
                    st["bound"] += 1 if a.bind else 0
                ready.release()
            first = False
            if xs:
                await self.hold(xs, writer, n)
            elif a.relogin:
                await asyncio.sleep(0.5)   # refused: not a tight loop


def line(kind, d, keys):
    out = [kind]
    for k in keys:
        v = d[k]
        if isinstance(v, dict):
            v = ",".join("%s:%s" % (c, m) for c, m in sorted(v.items())) or "-"
        out.append("%s=%s" % (k, v))
    return " ".join(out)


async def run_async(a):
    crowd = Crowd(a)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, crowd.stop.set)
    sources = address_range(a.sources)
    ready = asyncio.Semaphore(0)
    t0 = time.monotonic()
    tasks, n = [], 0
    for _ in range(a.per_source):
        for src in sources:
            tasks.append(asyncio.ensure_future(crowd.one(src, n, ready)))
            n += 1
    async def all_tried():
        for _ in range(n):
            await ready.acquire()
    tried = asyncio.ensure_future(all_tried())
    stopped = asyncio.ensure_future(crowd.stop.wait())
    await asyncio.wait([tried, stopped], return_when=asyncio.FIRST_COMPLETED)
    tried.cancel()
    stopped.cancel()
    st = crowd.stats
    st["seconds"] = round(time.monotonic() - t0, 2)
    st["tried"] = st["logged_in"] + st["refused"] + st["failed"]
    print(line("READY", st, ("attempted", "tried", "logged_in", "bound", "refused", "failed",
                             "seconds", "conditions", "errors")), flush=True)
    if a.hold > 0:
        try:
            await asyncio.wait_for(crowd.stop.wait(), a.hold)
        except asyncio.TimeoutError:
            pass
    else:
        await loop.run_in_executor(None, sys.stdin.read)
    st["held"] = len(crowd.held)
    crowd.stop.set()
    await asyncio.wait(tasks, timeout=5)
    for t in tasks:
        t.cancel()
    print(line("SUMMARY", st, ("held", "closed_by_daemon", "relogins", "closed_conditions")) +
          " texts=" + ("|".join(sorted(st["texts"])) or "-"), flush=True)
    return st


def run(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--host6", default="", help="the daemon's IPv6 address, for IPv6 sources")
    p.add_argument("--port", type=int, required=True, help="the client port")
    p.add_argument("--domain", required=True, help="the test domain to log in to")
    p.add_argument("--sources", required=True, help="source addresses: 127.0.2.1-17[,...]")
    p.add_argument("--per-source", type=int, default=64)
    p.add_argument("--tls", choices=("starttls", "direct"), default="starttls")
    p.add_argument("--bind", action="store_true", help="bind a resource too")
    p.add_argument("--concurrency", type=int, default=64, help="logins at once")
    p.add_argument("--login-timeout", type=float, default=10.0, help="seconds per step")
    p.add_argument("--hold", type=float, default=30.0,
                   help="seconds to hold the streams (0: until stdin closes)")
    p.add_argument("--keepalive", type=float, default=0.0,
                   help="seconds between whitespace keepalives (0: none)")
    p.add_argument("--ping", type=float, default=0.0,
                   help="seconds between pings on bound streams (0: none)")
    p.add_argument("--relogin", action="store_true",
                   help="log in again in place of a stream the daemon closed")
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args(argv)
    try:
        if a.per_source < 1 or a.concurrency < 1 or a.per_source * len(address_range(a.sources)) > 100000:
            raise ValueError("between 1 and 100,000 streams, concurrency at least 1")
        for src in address_range(a.sources):
            daemon_for(src, a.host, a.host6)
    except ValueError as e:
        print("attack_clients.py: %s" % e, file=sys.stderr)
        sys.exit(2)
    st = asyncio.run(run_async(a))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(st, f, indent=1)
    return st


if __name__ == "__main__":
    run()
