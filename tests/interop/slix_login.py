#!/usr/bin/python3
"""slix_login.py -- slixmpp as a person's client, for the client matrix.

Logs in as --jid with nothing but the JID: no host or port is given, so
slixmpp looks up _xmpp-client SRV of the JID's domain (with aiodns) and
checks the certificate against that domain (given an address it would send
no SNI and check no name). --ca is the only trust anchor. After login it
sends one message to --echo and waits for the same body back.

Prints "RESULT<TAB>connected|refused<TAB>detail"; exit 0 echo received,
1 logged in without echo, 2 refused. With --timing, first a line
"TIMING<TAB>login=S<TAB>echo=S": seconds from the start to the session
(DNS, TCP, TLS, SASL, bind) and from there to the echo ("-": none).
"""
import argparse
import asyncio
import logging
import ssl
import sys
import time
import uuid

import slixmpp

from clientlib import disconnect


class Login(slixmpp.ClientXMPP):
    """One login by DNS, one echo; the outcome in self.verdict."""

    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.echo = slixmpp.JID(args.echo).bare
        self.body = "slix-" + uuid.uuid4().hex
        self.logged_in = False
        self.t0 = time.monotonic()
        self.t_login = self.t_echo = None
        self.why = None
        self.verdict = asyncio.get_event_loop().create_future()
        self.ca_certs = args.ca
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("ssl_invalid_chain", self.on_bad_chain)
        self.add_event_handler("failed_all_auth", lambda _: self.finish("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self.finish("connection failed: %s" % e))
        self.add_event_handler("stream_error", lambda e: self.remember("stream error: %s" % e["condition"]))
        self.add_event_handler("disconnected", lambda _: self.finish("disconnected"))

    def remember(self, why):
        self.why = self.why or why

    def finish(self, why):
        self.remember(why)
        if not self.verdict.done():
            self.verdict.set_result(None)

    def on_bad_chain(self, exc):
        # slixmpp only reports a failed STARTTLS handshake here
        self.remember("TLS: %s" % exc)
        self.disconnect()

    async def on_start(self, _event):
        self.logged_in = True
        self.t_login = time.monotonic()
        self.send_presence()
        self.send_message(mto=self.echo, mbody=self.body, mtype="chat")

    def on_message(self, msg):
        if msg["from"].bare == self.echo and msg["body"] == self.body:
            self.t_echo = time.monotonic()
            self.finish("login ok, echo received")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--echo", required=True)
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--timing", action="store_true", help="print the TIMING line")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    client = Login(args)
    client.connect()  # no address: SRV of the JID's domain
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(client.verdict, args.timeout))
    except asyncio.TimeoutError:
        client.remember("no echo within %gs" % args.timeout if client.logged_in
                        else "no session within %gs" % args.timeout)
    echoed = client.why == "login ok, echo received"
    outcome = "connected" if client.logged_in else "refused"
    if args.timing:
        def since(t, t0):
            return "%.3f" % (t - t0) if t is not None else "-"
        print("TIMING\tlogin=%s\techo=%s" % (since(client.t_login, client.t0),
                                            since(client.t_echo, client.t_login)))
    print("RESULT\t%s\t%s" % (outcome, " ".join((client.why or "?").split())), flush=True)
    disconnect(loop, client)
    return 0 if echoed else 1 if client.logged_in else 2


if __name__ == "__main__":
    sys.exit(main())
