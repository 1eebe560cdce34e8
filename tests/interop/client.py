#!/usr/bin/python3
"""client.py -- a real XMPP client (slixmpp) checking an echo contact.

Logs in (STARTTLS, certificate checked against --ca), sends one chat message
with a unique body to --to and waits up to --timeout seconds for a message
with the same body from that bare JID. This is what a person does when they
add echo@LABEL.BASE to their roster and write to it.

With --body, that body is sent instead and the reply must contain --expect
(an echo command such as "help" or "report"). With --count N, N messages go
out at once and the number of echoes received within --timeout is printed as
"ECHOES n" (the rate limit is what is tested then; exit 0).

Exit status: 0 echo received, 1 no or wrong reply, 2 could not log in.
"""
import argparse
import asyncio
import sys
import uuid

import slixmpp

from clientlib import add_login_args, disconnect


class EchoCheck(slixmpp.ClientXMPP):
    """One login, one message, one verdict in self.verdict."""

    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.peer = slixmpp.JID(args.to).bare
        self.body = args.body or "interop-" + uuid.uuid4().hex
        self.bodies = set()
        self.echoes = 0
        self.verdict = asyncio.get_event_loop().create_future()
        self.ca_certs = args.ca
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message)
        self.add_event_handler("failed_auth", lambda _: self.finish(2, "authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self.finish(2, "connection failed: %s" % e))
        self.add_event_handler("disconnected", lambda _: self.finish(2, "disconnected"))

    def finish(self, code, text):
        if not self.verdict.done():
            self.verdict.set_result((code, text))

    async def on_start(self, _event):
        self.send_presence()
        await self.get_roster()
        if self.args.count:
            for i in range(self.args.count):
                body = "burst-%d-%s" % (i, uuid.uuid4().hex)
                self.bodies.add(body)
                self.send_message(mto=self.args.to, mbody=body, mtype="chat")
            self.loop.call_later(self.args.timeout, lambda: self.finish(
                0, "ECHOES %d of %d" % (self.echoes, self.args.count)))
            return
        print("logged in as %s, sending %s to %s" % (self.boundjid, self.body, self.peer))
        self.send_message(mto=self.args.to, mbody=self.body, mtype="chat")
        self.loop.call_later(self.args.timeout, self.finish, 1,
                             "no echo from %s within %gs" % (self.peer, self.args.timeout))

    def on_message(self, msg):
        if msg["from"].bare != self.peer:
            print("ignoring message from %s" % msg["from"])
        elif msg["type"] == "error":
            self.finish(1, "error reply: %s %s" % (msg["error"]["condition"], msg["error"]["text"]))
        elif self.args.count:
            self.echoes += msg["body"] in self.bodies
        elif self.args.expect is not None:
            if self.args.expect in msg["body"]:
                self.finish(0, "reply from %s contains %r:\n%s" % (msg["from"], self.args.expect, msg["body"]))
            else:
                self.finish(1, "reply from %s lacks %r:\n%s" % (msg["from"], self.args.expect, msg["body"]))
        elif msg["body"] == self.body:
            self.finish(0, "echo received from %s" % msg["from"])
        else:
            self.finish(1, "unexpected body from %s: %r" % (msg["from"], msg["body"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_login_args(ap)
    ap.add_argument("--to", required=True, help="the echo contact")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the echo")
    ap.add_argument("--body", help="send this instead of a unique body (a command)")
    ap.add_argument("--expect", help="the reply must contain this (with --body)")
    ap.add_argument("--count", type=int, default=0, help="send this many at once, count echoes")
    args = ap.parse_args()

    client = EchoCheck(args)
    client.connect((args.host, args.port))
    loop = asyncio.get_event_loop()
    try:
        # Login gets its own allowance on top of the echo timeout.
        code, text = loop.run_until_complete(asyncio.wait_for(client.verdict, args.timeout + 15))
    except asyncio.TimeoutError:
        code, text = 2, "no session within %gs" % (args.timeout + 15)
    print(("PASS: " if code == 0 else "FAIL: ") + text)
    disconnect(loop, client)
    return code


if __name__ == "__main__":
    sys.exit(main())
