#!/usr/bin/python3
"""hostile_load.py -- a bounded hostile crowd against xmpp-responder's s2s port.

Run it inside a network namespace the caller made (tests/interop/test_load.sh,
tests/bench/hostile_load.sh); it only connects to --host and binds only
loopback source addresses. Roles, all at once and all bounded in count and
time (everything stops after --duration seconds, by itself):

  slowloris   --slowloris N sockets spread over --sources addresses (a range
              such as 127.0.1.1-40; IPv6 ones, 2001:db8:bad:1::1-40, reach the
              daemon at --host6), each sending a stream header one byte
              every --slow-interval seconds; when the daemon closes one it
              comes back after about --reconnect seconds, as a real crowd would.
  malformed   --malformed K streams at --malformed-rate per second (at most
              --malformed-concurrency open), cycling through random bytes, a
              DTD, billion laughs, deep nesting, a huge attribute, invalid
              UTF-8 and TLS garbage on the direct-TLS port (--tls-port).
  flood       one peer that authenticates by dialback as --flood-domain (this
              process is also that domain's server, --flood-listen, answering
              the daemon's db:verify and db:result), then sends up to
              --flood-pings pings whose ids are --flood-id-bytes long, and
              never reads the daemon's replies (the daemon sends them on its
              own outbound stream to --flood-listen, which stops reading).
  honest      --honest H stream opens from --honest-source, one every
              --honest-interval seconds: a correct header from --honest-from;
              success = <stream:features/> arrives within 10 s.

The flood peer is flood.py; what the roles share is streamlib.py. Each role
runs in a process of its own (the slowloris sockets shared by
--workers processes), the crowd's niced by --crowd-nice, so the crowd's work
neither delays the honest side's measurements nor starves the daemon of CPU
on a small machine.

Prints one SUMMARY line per role (key=value), failures of honest opens one per
line (HONEST-FAIL), and writes the same as JSON to --json. Exit status: 0 when
the run completed, 1 when --require-honest is given and an honest open failed,
2 on a setup error.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import ssl
import sys
import time

from flood import FloodServer, flood
from streamlib import (PROLOG, address_range, close_writer, condition_of, connect, count,
                       daemon_for, header, percentile, read_all)

OPEN_TIMEOUT = 10.0     # honest open: seconds to get <stream:features/>
MALFORMED_WAIT = 5.0    # malformed: seconds to wait for the daemon's close


class Run:
    """Shared clock and counters."""

    def __init__(self, args, t0, crowd_t0):
        self.args = args
        self.t0 = t0                     # CLOCK_MONOTONIC is the same in every process
        self.stop_at = t0 + args.duration
        self.crowd_t0 = crowd_t0         # when the crowd set off
        self.stats = {"slowloris": {"sockets": args.slowloris, "sources": 0, "connects": 0,
                                    "connect_errors": 0, "closed_by_daemon": 0, "bytes_sent": 0,
                                    "open_now": 0, "open_peak": 0, "close_conditions": {}},
                      "malformed": {"planned": args.malformed, "started": 0, "connect_errors": 0,
                                    "kinds": {}, "outcomes": {}, "xml_without_error": 0},
                      "flood": {"enabled": bool(args.flood_domain), "authenticated": False,
                                "auth_error": "", "pings_sent": 0, "bytes_sent": 0,
                                "listener_reading_stopped": False, "inbound_closed": False,
                                "inbound_condition": "", "outbound_closed": False,
                                "outbound_condition": "", "send_stalled_s": 0.0},
                      "honest": {"planned": args.honest, "opens": 0, "ok": 0, "failed": 0,
                                 "failures": {}, "latency_ms": {}, "first_failures": []}}

    def left(self):
        return self.stop_at - time.monotonic()

    def stopping(self):
        return time.monotonic() >= self.stop_at


# ---- slowloris ------------------------------------------------------------------


async def slowloris_one(run, source):
    a, st = run.args, run.stats["slowloris"]
    text = PROLOG + header("crowd.example", a.to)
    # spread the first connects over --ramp seconds
    await asyncio.sleep(random.uniform(0, a.ramp))
    while not run.stopping():
        try:
            reader, writer = await connect(daemon_for(source, a.host, a.host6), a.port, source)
        except (OSError, asyncio.TimeoutError):
            st["connect_errors"] += 1
            await asyncio.sleep(a.reconnect * random.uniform(0.5, 1.5))
            continue
        st["connects"] += 1
        st["open_now"] += 1
        st["open_peak"] = max(st["open_peak"], st["open_now"])
        data = bytearray()
        reading = asyncio.ensure_future(read_all(reader, data, max(0.0, run.left())))
        sent = 0
        try:
            while not reading.done() and not run.stopping() and sent < len(text):
                writer.write(text[sent:sent + 1])
                sent += 1
                st["bytes_sent"] += 1
                await asyncio.wait([reading], timeout=a.slow_interval * random.uniform(0.8, 1.2))
            if not reading.done():
                await asyncio.wait([reading], timeout=max(0.0, run.left()))
        except (OSError, ssl.SSLError):
            pass
        closed = reading.done() and reading.result()
        if not reading.done():
            reading.cancel()
        st["open_now"] -= 1
        await close_writer(writer)
        if closed and not run.stopping():
            st["closed_by_daemon"] += 1
            count(st["close_conditions"], condition_of(bytes(data)) or "none")
            await asyncio.sleep(a.reconnect * random.uniform(0.5, 1.5))


# ---- malformed streams -------------------------------------------------------------


def kind_random(a, rng):
    return [rng.randbytes(rng.randint(64, 4096))], a.port


def kind_dtd(a, rng):
    return [PROLOG + b"<!DOCTYPE stream:stream [<!ENTITY x 'x'>]>" + header("junk.example", a.to)], a.port


def kind_laughs(a, rng):
    ents = b"<!ENTITY lol0 'lol'>" + b"".join(
        b"<!ENTITY lol%d '%s'>" % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
    return [PROLOG + b"<!DOCTYPE lolz [" + ents + b"]>" + header("junk.example", a.to)
            + b"<message><body>&lol9;</body></message>"], a.port


def kind_deep(a, rng):
    return [PROLOG + header("junk.example", a.to), b"<message>" + b"<a>" * 20000], a.port


def kind_huge_attribute(a, rng):
    return [PROLOG + header("junk.example", a.to, " x='%s'" % ("A" * 300000))], a.port


def kind_bad_utf8(a, rng):
    return [PROLOG + header("junk.example", a.to),
            b"<message to='echo@" + a.to.encode() + b"'><body>\xff\xfe\xc3\x28\xed\xa0\x80</body></message>"], a.port


def kind_tls_garbage(a, rng):
    # a TLS handshake record header claiming 16 KiB, then noise
    return [b"\x16\x03\x01\x40\x00\x01" + rng.randbytes(rng.randint(256, 16384))], a.tls_port


KINDS = [("random", kind_random), ("dtd", kind_dtd), ("billion-laughs", kind_laughs),
         ("deep-nesting", kind_deep), ("huge-attribute", kind_huge_attribute),
         ("invalid-utf8", kind_bad_utf8), ("tls-garbage", kind_tls_garbage)]


async def malformed_one(run, i, source, gate):
    a, st = run.args, run.stats["malformed"]
    name, make = KINDS[i % len(KINDS)]
    count(st["kinds"], name)
    # payloads depend on the seed and the stream number only
    parts, port = make(a, random.Random(a.seed * 100003 + i))
    try:
        try:
            reader, writer = await connect(daemon_for(source, a.host, a.host6), port, source)
        except (OSError, asyncio.TimeoutError):
            st["connect_errors"] += 1
            count(st["outcomes"], "connect-failed")
            return
        data = bytearray()
        reading = asyncio.ensure_future(read_all(reader, data, MALFORMED_WAIT))
        try:
            for part in parts:
                writer.write(part)
                await asyncio.wait_for(writer.drain(), MALFORMED_WAIT)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
        closed = await reading
        await close_writer(writer)
        cond = condition_of(bytes(data))
        if cond:
            outcome = "stream-error:" + cond
        elif closed:
            outcome = "closed"
        else:
            outcome = "left-open-%gs" % MALFORMED_WAIT
        count(st["outcomes"], "%s %s" % (name, outcome))
        if not cond and name != "tls-garbage":
            # XML the daemon must refuse with a stream error (a partial TLS
            # record, by contrast, may wait for the rest of its bytes)
            st["xml_without_error"] += 1
    finally:
        gate.release()


async def malformed_all(run, sources):
    a, st = run.args, run.stats["malformed"]
    gate = asyncio.Semaphore(a.malformed_concurrency)
    tasks = []
    for i in range(a.malformed):
        due = run.crowd_t0 + a.ramp + i / a.malformed_rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        if run.stopping():
            gate.release()
            break
        st["started"] += 1
        tasks.append(asyncio.ensure_future(malformed_one(run, i, sources[i % len(sources)], gate)))
    if tasks:
        await asyncio.wait(tasks)


# ---- honest opens ---------------------------------------------------------------


async def honest_one(run, seq):
    a, st = run.args, run.stats["honest"]
    began = time.monotonic()
    outcome = None
    data = bytearray()
    try:
        reader, writer = await connect(a.host, a.port, a.honest_source)
    except (OSError, asyncio.TimeoutError) as e:
        outcome = "connect-failed (%s)" % (e.__class__.__name__)
    if outcome is None:
        writer.write(PROLOG + header(a.honest_from, a.to))
        end = began + OPEN_TIMEOUT
        while outcome is None:
            left = end - time.monotonic()
            if left <= 0:
                outcome = "no features within %gs" % OPEN_TIMEOUT
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except asyncio.TimeoutError:
                continue
            except OSError as e:
                chunk = b""
                outcome = "reset (%s)" % e.__class__.__name__
            data += chunk
            if b"<stream:features" in data or b":features" in data:
                outcome = "ok"
            elif condition_of(bytes(data)):
                outcome = "stream-error " + condition_of(bytes(data))
            elif not chunk and outcome is None:
                outcome = "closed without features"
        if outcome == "ok":
            try:
                writer.write(b"</stream:stream>")
            except OSError:
                pass
        await close_writer(writer)
    ms = (time.monotonic() - began) * 1000.0
    st["opens"] += 1
    st.setdefault("_ms", []).append(ms)
    if outcome == "ok":
        st["ok"] += 1
    else:
        st["failed"] += 1
        count(st["failures"], outcome)
        if len(st["first_failures"]) < 10:
            st["first_failures"].append("open %d at %.1fs: %s (%.0f ms)"
                                        % (seq, time.monotonic() - run.t0, outcome, ms))


async def honest_all(run):
    a = run.args
    tasks = []
    for seq in range(a.honest):
        due = run.crowd_t0 + a.honest_delay + seq * a.honest_interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if run.left() < OPEN_TIMEOUT:
            break
        tasks.append(asyncio.ensure_future(honest_one(run, seq)))
    if tasks:
        await asyncio.wait(tasks)


# ---- one process per role ---------------------------------------------------------


async def supervise(run, role, tasks, label):
    """Wait for the role's tasks (bounded by --duration + --grace), printing
    its counters every --progress seconds; then cancel what is left."""
    a = run.args
    keys = {"slowloris": ("open_now", "connects", "closed_by_daemon"),
            "malformed": ("started", "xml_without_error"),
            "honest": ("opens", "ok", "failed"),
            "flood": ("authenticated", "pings_sent", "inbound_closed")}[role]
    last = time.monotonic()
    while not all(t.done() for t in tasks) and run.left() > -a.grace:
        await asyncio.sleep(0.5)
        if a.progress and time.monotonic() - last >= a.progress:
            last = time.monotonic()
            # one write per line: several processes share the output
            sys.stdout.write("PROGRESS %s t=%.0fs %s\n" % (label, last - run.t0, " ".join(
                "%s=%s" % (k, run.stats[role][k]) for k in keys)))
            sys.stdout.flush()
    for t in tasks:
        if not t.done():
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for t in tasks:
        if not t.cancelled() and t.exception():
            print("INTERNAL %s: %r" % (label, t.exception()), file=sys.stderr)


async def run_flood(run, flood_ready):
    a = run.args
    tls_ctx = None
    if a.flood_cert:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(a.flood_cert, a.flood_key)
    server = FloodServer(run, tls_ctx)
    host, _, port = a.flood_listen.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # a small receive buffer: the daemon's replies stay on its side
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.bind((host, int(port)))
    listener = await asyncio.start_server(server.handle, sock=sock)
    task = asyncio.ensure_future(flood(run, server))
    authenticated = asyncio.ensure_future(server.flood_authenticated.wait())
    await asyncio.wait([authenticated, task], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    authenticated.cancel()
    flood_ready.set()
    await supervise(run, "flood", [task], "flood")
    listener.close()


async def run_role(run, role, worker, flood_ready):
    a = run.args
    if role == "flood":
        await run_flood(run, flood_ready)
        return
    if role == "slowloris":
        crowd = address_range(a.sources)
        tasks = [asyncio.ensure_future(slowloris_one(run, crowd[i % len(crowd)]))
                 for i in range(worker, a.slowloris, a.workers)]
        label = "slowloris[%d]" % worker
    elif role == "malformed":
        tasks = [asyncio.ensure_future(malformed_all(run, address_range(a.malformed_sources)))]
        label = role
    else:
        tasks = [asyncio.ensure_future(honest_all(run))]
        label = role
    await supervise(run, role, tasks, label)


def role_main(role, worker, args, t0, crowd_t0, queue, flood_ready):
    """One role in a process of its own: the crowd's work never delays the
    honest side's event loop, and the crowd runs niced so the responder and
    Prosody come first on a small machine."""
    if role != "honest":
        os.nice(args.crowd_nice)
    random.seed(args.seed * 1009 + worker * 17 + ROLES.index(role))
    run = Run(args, t0, crowd_t0)
    try:
        asyncio.run(run_role(run, role, worker, flood_ready))
    except OSError as e:
        run.stats[role]["setup_error"] = str(e)
    finally:
        flood_ready.set()
    st = run.stats[role]
    if role == "honest":
        ms = st.pop("_ms", [])
        st["latency_ms"] = {"p50": round(percentile(ms, 50), 1),
                            "p99": round(percentile(ms, 99), 1),
                            "max": round(max(ms) if ms else 0.0, 1)}
    queue.put((role, st))


def merge(total, part):
    """Add one slowloris worker's counters to the total."""
    for k, v in part.items():
        if isinstance(v, dict):
            for x, y in v.items():
                count(total.setdefault(k, {}), x, y)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            total[k] = total.get(k, 0) + v
        else:
            total[k] = v


ROLES = ("slowloris", "malformed", "flood", "honest")


def run_all(args):
    """Start every role, collect their figures (bounded), return the stats."""
    mp = multiprocessing.get_context("fork")
    queue = mp.Queue()
    flood_ready = mp.Event()
    t0 = time.monotonic()
    procs = []

    def start(role, worker, crowd_t0):
        p = mp.Process(target=role_main, args=(role, worker, args, t0, crowd_t0, queue,
                                               flood_ready), daemon=True)
        p.start()
        procs.append(p)

    if args.flood_domain:
        # the flood peer authenticates first, as an established peer would
        # have; the crowd follows once it has (or after 10 s without)
        start("flood", 0, t0)
        flood_ready.wait(12)
    crowd_t0 = time.monotonic()
    for w in range(args.workers):
        start("slowloris", w, crowd_t0)
    start("malformed", 0, crowd_t0)
    start("honest", 0, crowd_t0)

    stats = Run(args, t0, crowd_t0).stats
    stats["slowloris"] = {"sockets": args.slowloris, "sources": len(address_range(args.sources)),
                          "workers": args.workers}
    deadline = t0 + args.duration + args.grace + 20
    missing = len(procs)
    while missing:
        try:
            role, st = queue.get(timeout=max(1.0, deadline - time.monotonic()))
        except Exception:  # queue.Empty: a role did not report in time
            print("INTERNAL %d role process(es) did not report" % missing, file=sys.stderr)
            break
        missing -= 1
        if role == "slowloris":
            st.pop("sockets", None)
            st.pop("sources", None)
            merge(stats["slowloris"], st)
        else:
            stats[role] = st
    for p in procs:
        p.join(max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.terminate()
    stats["elapsed_s"] = round(time.monotonic() - t0, 1)
    return stats


def kv(d):
    out = []
    for k, v in d.items():
        if k.startswith("_") or k == "first_failures":
            continue
        if isinstance(v, dict):
            v = ",".join("%s:%s" % (x, y) for x, y in sorted(v.items())) or "-"
        elif isinstance(v, str):
            v = v.replace(" ", "_") or "-"
        out.append("%s=%s" % (k, v))
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.2")
    ap.add_argument("--host6", default="", help="the daemon's IPv6 address, for IPv6 sources")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--tls-port", type=int, default=5270, help="the direct-TLS listener")
    ap.add_argument("--to", default="valid.responder.example")
    ap.add_argument("--duration", type=float, default=60, help="seconds; every role stops by then")
    ap.add_argument("--grace", type=float, default=10, help="seconds past --duration to wind down")
    ap.add_argument("--ramp", type=float, default=5, help="seconds over which the crowd arrives")
    ap.add_argument("--slowloris", type=int, default=2000)
    ap.add_argument("--sources", default="127.0.1.1-40", help="crowd source addresses")
    ap.add_argument("--slow-interval", type=float, default=2.0)
    ap.add_argument("--reconnect", type=float, default=1.0)
    ap.add_argument("--malformed", type=int, default=1000)
    ap.add_argument("--malformed-rate", type=float, default=50)
    ap.add_argument("--malformed-concurrency", type=int, default=64)
    ap.add_argument("--malformed-sources", default="127.0.2.1-40")
    ap.add_argument("--flood-domain", default="", help="empty: no flood peer")
    ap.add_argument("--flood-listen", default="127.0.0.8:5269", help="the flood domain's server")
    ap.add_argument("--flood-source", default="127.0.0.8")
    ap.add_argument("--flood-cert", default="", help="PEM: the flood server offers STARTTLS")
    ap.add_argument("--flood-key", default="")
    ap.add_argument("--flood-pings", type=int, default=1000)
    ap.add_argument("--flood-id-bytes", type=int, default=200000)
    ap.add_argument("--honest", type=int, default=200)
    ap.add_argument("--honest-interval", type=float, default=0.25)
    ap.add_argument("--honest-delay", type=float, default=None,
                    help="seconds before the first honest open (default: --ramp + 2)")
    ap.add_argument("--honest-source", default="127.0.0.3")
    ap.add_argument("--honest-from", default="staging.example")
    ap.add_argument("--require-honest", action="store_true")
    ap.add_argument("--progress", type=float, default=10, help="seconds between PROGRESS lines")
    ap.add_argument("--workers", type=int, default=2, help="processes sharing the slowloris sockets")
    ap.add_argument("--crowd-nice", type=int, default=10, help="nice value of the crowd's processes")
    ap.add_argument("--seed", type=int, default=8, help="of the random payloads and timings")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.honest_delay is None:
        args.honest_delay = args.ramp + 2
    if args.malformed_rate <= 0 or args.duration <= 0 or args.workers < 1:
        ap.error("--malformed-rate, --duration and --workers must be positive")
    try:
        for src in address_range(args.sources) + address_range(args.malformed_sources):
            daemon_for(src, args.host, args.host6)
    except ValueError as e:
        ap.error(str(e))

    stats = run_all(args)
    for role in ROLES:
        print("SUMMARY %s %s" % (role, kv(stats[role])))
    h = stats["honest"]
    for line in h["first_failures"]:
        print("HONEST-FAIL %s" % line)
    broken = ["%s: %s" % (r, stats[r]["setup_error"]) for r in ROLES if "setup_error" in stats[r]]
    for line in broken:
        print("SETUP failed: %s" % line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(stats, f, indent=1, sort_keys=True)
    if broken:
        return 2
    return 1 if args.require_honest and h["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
