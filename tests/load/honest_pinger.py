#!/usr/bin/python3
"""honest_pinger.py -- the honest peer of the load test: one slixmpp login to
the peer server (Prosody), then XEP-0199 pings to --target, one at a time,
one every --interval seconds, for --duration seconds (at most --max-pings).

Every --reopen-every pings it first runs --reopen-cmd (e.g. prosodyctl shell
"s2s:closeall('valid.responder.example')"), so the next ping needs fresh s2s
streams both ways: a new inbound stream the responder must accept, and a new
outbound stream it must open for the pong. Such pings are marked fresh.

--phase-file names a file whose first word labels each ping (before, load,
after...), so a benchmark can ask for the latency under load only; the word
"stop" there ends the run before --duration.

Output, one line per ping, then one summary line per phase and for all:

    PING <seq> <phase> <fresh|kept> <pong|error|timeout> <condition|-> <ms>
    HONEST phase=<p> pings=N pong=N failed=N fresh=N fresh_failed=N p50_ms= p99_ms= max_ms=

Exit status: 0 the run completed, 2 could not log in.
"""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from clientlib import add_login_args, disconnect, wait_login  # noqa: E402
from pinger import Pinger  # noqa: E402
from streamlib import percentile  # noqa: E402


class Honest(Pinger):
    """pinger.py's login and single ping, repeated over time."""

    def phase(self):
        if not self.args.phase_file:
            return "all"
        try:
            with open(self.args.phase_file) as f:
                return (f.read().split() or ["-"])[0]
        except OSError:
            return "-"

    async def reopen(self):
        """Run --reopen-cmd, bounded; its failure is reported, not fatal."""
        proc = await asyncio.create_subprocess_shell(
            self.args.reopen_cmd, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            print("REOPEN timed out: %s" % self.args.reopen_cmd, flush=True)

    async def run_pings(self):
        a = self.args
        records = []
        t0 = time.monotonic()
        seq = 0
        while seq < a.max_pings and time.monotonic() - t0 < a.duration:
            due = t0 + seq * a.interval
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            fresh = a.reopen_every > 0 and seq > 0 and seq % a.reopen_every == 0
            if fresh:
                await self.reopen()
            phase = self.phase()
            if phase == "stop":
                break
            outcome, cond, _text, rtt = await self.ping_one(a.target)
            records.append((phase, fresh, outcome, rtt))
            print("PING %d %s %s %s %s %.1f" % (seq, phase, "fresh" if fresh else "kept",
                                                outcome, cond, rtt * 1000), flush=True)
            seq += 1
        return records


def summary(phase, records):
    ms = [r[3] * 1000 for r in records if r[2] == "pong"]
    fresh = [r for r in records if r[1]]
    print("HONEST phase=%s pings=%d pong=%d failed=%d fresh=%d fresh_failed=%d "
          "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f"
          % (phase, len(records), len(ms), len(records) - len(ms), len(fresh),
             sum(1 for r in fresh if r[2] != "pong"), percentile(ms, 50), percentile(ms, 99),
             max(ms) if ms else 0.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_login_args(ap)
    ap.add_argument("--target", required=True, help="the JID pinged")
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--max-pings", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each pong")
    ap.add_argument("--reopen-every", type=int, default=0)
    ap.add_argument("--reopen-cmd", default="")
    ap.add_argument("--phase-file", default="")
    ap.add_argument("--login-timeout", type=float, default=20.0)
    args = ap.parse_args()
    if args.reopen_every and not args.reopen_cmd:
        ap.error("--reopen-every needs --reopen-cmd")

    client = Honest(args)
    client.connect((args.host, args.port))
    loop = asyncio.get_event_loop()
    if not wait_login(loop, client, args.login_timeout):
        return 2
    records = loop.run_until_complete(client.run_pings())
    phases = sorted({r[0] for r in records} - {"all"})
    for phase in phases:
        summary(phase, [r for r in records if r[0] == phase])
    summary("all", records)
    sys.stdout.flush()
    disconnect(loop, client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
