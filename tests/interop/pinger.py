#!/usr/bin/python3
"""pinger.py -- one client login, many XMPP pings (XEP-0199) at once.

Logs in to the peer server under test (STARTTLS, its certificate checked
against --ca) and sends one ping to every JID given, all concurrently, each
with its own timeout. What comes back is what an operator would see when
pinging a test domain from that server: a pong, a stanza error that the
server (or the remote one) generated, or nothing at all.

Prints one tab-separated line per JID, in the order given:

    RESULT <jid> <pong|error|timeout> <condition|-> <text|-> <rtt seconds>

Exit status: 0 every JID has a line, 2 could not log in.
"""
import argparse
import asyncio
import sys
import time

import slixmpp

from clientlib import add_login_args, disconnect, wait_login
from slixmpp.exceptions import IqError, IqTimeout


def clean(text):
    """One field of the output: no tabs or newlines, '-' when empty."""
    text = " ".join(str(text or "").split())
    return text if text else "-"


class Pinger(slixmpp.ClientXMPP):
    """Logs in once; self.ready resolves to None on session, else a reason."""

    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.ca_certs = args.ca
        self.register_plugin("xep_0199")
        self.ready = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", lambda _: self.settle("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self.settle("connection failed: %s" % e))
        self.add_event_handler("disconnected", lambda _: self.settle("disconnected"))

    def settle(self, reason):
        if not self.ready.done():
            self.ready.set_result(reason)

    async def on_start(self, _event):
        self.send_presence()
        self.settle(None)

    async def ping_one(self, jid):
        """One ping; returns the output fields after the JID."""
        start = time.monotonic()
        try:
            await self["xep_0199"].send_ping(slixmpp.JID(jid), timeout=self.args.timeout)
        except IqError as exc:
            err = exc.iq["error"]
            return ("error", clean(err["condition"]), clean(err["text"]),
                    time.monotonic() - start)
        except IqTimeout:
            return ("timeout", "-", "no answer within %gs" % self.args.timeout,
                    time.monotonic() - start)
        return ("pong", "-", "-", time.monotonic() - start)

    async def ping_all(self, jids):
        """Pings every JID, a little staggered so the peer's s2s streams do
        not all start in the same millisecond."""
        async def staggered(i, jid):
            await asyncio.sleep(i * self.args.stagger)
            return await self.ping_one(jid)
        return await asyncio.gather(*(staggered(i, j) for i, j in enumerate(jids)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_login_args(ap)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each pong")
    ap.add_argument("--stagger", type=float, default=0.05, help="seconds between two pings")
    ap.add_argument("--login-timeout", type=float, default=20.0)
    ap.add_argument("targets", nargs="+", help="JIDs to ping")
    args = ap.parse_args()

    client = Pinger(args)
    client.connect((args.host, args.port))
    loop = asyncio.get_event_loop()
    if not wait_login(loop, client, args.login_timeout):
        return 2
    results = loop.run_until_complete(client.ping_all(args.targets))
    for jid, (outcome, cond, text, rtt) in zip(args.targets, results):
        print("RESULT\t%s\t%s\t%s\t%s\t%.2f" % (jid, outcome, cond, text, rtt))
    sys.stdout.flush()
    disconnect(loop, client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
