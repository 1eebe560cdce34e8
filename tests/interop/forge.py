#!/usr/bin/python3
"""forge.py -- streams that claim another server's name and never authenticate.

The two forging streams of issue 8: one claims --claim to a plaintext test
domain and sends a db:verify with a garbage key; the other claims it to a
test domain and hangs up before authenticating. Neither may produce a
verdict about --claim. Sent from --source, an address of our choosing (not
one that the claimed domain's DNS names). Prints one PASS/FAIL line.

Cases:
  verify   header to --to, then <db:verify> with a garbage key; the answer
           must be type='invalid'; then close
  hangup   header to --to, read the features, close without authenticating
"""
import argparse
import sys

from hostile import PROLOG, Stream


def header(claim, to):
    return ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
            " xmlns:db='jabber:server:dialback' from='%s' to='%s' version='1.0'>" % (claim, to))


def case_verify(s, args):
    s.send(PROLOG + header(args.claim, args.to))
    s.pump(1)
    s.send("<db:verify from='%s' to='%s' id='forged-id'>%s</db:verify>"
           % (args.claim, args.to, "0" * 64))
    s.pump(2)
    if b"type='invalid'" not in s.data and b'type="invalid"' not in s.data:
        return False, "no type='invalid' answer to a garbage key"
    return True, "garbage key answered invalid"


def case_hangup(s, args):
    s.send(PROLOG + header(args.claim, args.to))
    s.pump(1)
    if b"features" not in s.data:
        return False, "no stream features before hanging up"
    return True, "features read, hanging up unauthenticated"


CASES = {"verify": case_verify, "hangup": case_hangup}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--host", default="127.0.0.2", help="the responder")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--source", default="127.0.0.7", help="local address to send from")
    ap.add_argument("--claim", default="jabber.org", help="the name claimed in 'from'")
    ap.add_argument("--to", required=True, help="the test domain addressed")
    args = ap.parse_args()
    try:
        s = Stream(args.host, args.port, args.source)
    except OSError as e:
        print("FAIL %s: cannot connect: %s" % (args.case, e))
        return 1
    ok, text = CASES[args.case](s, args)
    s.sock.close()
    print("%s %s as %s: %s | received: %s" % ("PASS" if ok else "FAIL", args.case,
                                              args.claim, text, s.shown()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
