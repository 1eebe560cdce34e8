#!/usr/bin/python3
"""dialback_claim.py -- claim domains with <db:result/> on one plaintext stream.

Opens an unauthenticated s2s stream to the responder, then for each --claim
sends <db:result from=CLAIM to=TO>key</db:result> and waits for the answer
before sending the next. Prints one line per claim:
    CLAIM TYPE CONDITION TEXT
(TYPE "none" when nothing came back within --wait seconds). Exits 0 when
every claim got an answer, 1 otherwise.
"""
import argparse
import re
import select
import socket
import sys
import time


def header(claim, to):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            "xmlns:db='jabber:server:dialback' from='%s' to='%s' version='1.0'>"
            % (claim, to))


RESULT = re.compile(r"<db:result\b([^>]*?)(/>|>(.*?)</db:result>)", re.S)


def attr(attrs, name):
    m = re.search(r"\b%s=['\"]([^'\"]*)['\"]" % name, attrs)
    return m.group(1) if m else ""


def answer(data, claim):
    """The first db:result answer about claim in data, or None."""
    for m in RESULT.finditer(data):
        if attr(m.group(1), "to").lower() != claim.lower():
            continue
        body = m.group(3) or ""
        cond = re.search(r"<([a-z-]+) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-stanzas", body)
        text = re.search(r"<text[^>]*>(.*?)</text>", body, re.S)
        return (attr(m.group(1), "type") or "?", cond.group(1) if cond else "-",
                text.group(1) if text else "-", m.end())
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--to", required=True, help="our test domain addressed")
    ap.add_argument("--claim", action="append", required=True,
                    help="a domain to claim; repeatable, sent in order")
    ap.add_argument("--wait", type=float, default=10, help="seconds per answer")
    args = ap.parse_args()

    sock = socket.create_connection((args.host, args.port), timeout=5)
    sock.sendall(header(args.claim[0], args.to).encode())
    data, ok = "", True
    for claim in args.claim:
        sock.sendall(("<db:result from='%s' to='%s'>%s</db:result>"
                      % (claim, args.to, "ab" * 32)).encode())
        end = time.monotonic() + args.wait
        got = None
        while got is None and time.monotonic() < end:
            ready, _, _ = select.select([sock], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk.decode("utf-8", "replace")
            got = answer(data, claim)
        if got is None:
            print("%s none - -" % claim)
            ok = False
            break
        print("%s %s %s %s" % (claim, got[0], got[1], got[2]))
        data = data[got[3]:]
        sys.stdout.flush()
    sock.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
