#!/usr/bin/env python3
"""attack_probe.py -- one requester asks the web form for many probes, each of
another target, to use up what the responder starts in an hour; and the
honest probe that must still start.

    attack_probe.py --port 5280 --source 127.0.0.1 --count 60 \\
        [--targets attack%d.example] [--json] [--honest-from 127.0.1.1]

POSTs target=... to /probe (or /api/probe with --json) COUNT times from
SOURCE, one target each (SOURCE may be a range, 127.0.64.1-64: the requests
take its addresses in turn, one requester holding many), and prints one
JSON line: how many started (303 or 202), how many were refused (429) and
what the first refusal said (Retry-After, text), then, with --honest-from,
the honest probe's status.
Loopback or addresses of a namespace the caller made; bounded in count."""

import argparse
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streamlib import address_range  # noqa: E402


class SourceConnection(http.client.HTTPConnection):
    """An HTTP connection from a chosen local address."""

    def __init__(self, host, port, source, timeout=15):
        super().__init__(host, port, timeout=timeout,
                         source_address=(source, 0) if source else None)


def request(host, port, method, path, source=None, body=None, headers=None):
    """One HTTP request from source; (status, headers with lower-case names,
    body bytes)."""
    c = SourceConnection(host, port, source)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def post_probe(host, port, target, source=None, json_api=False, headers=None):
    """POST target to /probe (/api/probe); what request returns."""
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return request(host, port, "POST", "/api/probe" if json_api else "/probe",
                   source, "target=" + target, h)


def get(host, port, path, source=None, headers=None):
    """GET path; what request returns."""
    return request(host, port, "GET", path, source, None, headers)


def flood(host, port, source, count, targets, json_api=False, seconds=0):
    """count probes of targets % i from source (a range: its addresses in
    turn), for at most seconds (0: no bound but count); the figures. A
    request that fails (timeout, reset) counts as an error."""
    sources = address_range(source) if source else [None]
    out = {"sources": len(sources), "started": 0, "refused": 0, "other": 0,
           "errors": 0, "first_refusal": None}
    end = time.monotonic() + seconds
    for i in range(count):
        if seconds and time.monotonic() >= end:
            break
        try:
            st, h, body = post_probe(host, port, targets % i, sources[i % len(sources)],
                                     json_api)
        except (OSError, http.client.HTTPException):
            out["errors"] += 1
            continue
        if st in (202, 303):
            out["started"] += 1
        elif st == 429:
            out["refused"] += 1
            if out["first_refusal"] is None:
                out["first_refusal"] = {"after": i, "retry_after": h.get("retry-after"),
                                        "text": body.decode("utf-8", "replace")[-600:]}
        else:
            out["other"] += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--targets", default="attack%d.example")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=0,
                    help="stop sending after this long (0: only --count bounds it)")
    ap.add_argument("--honest-from", default=None)
    ap.add_argument("--honest-target", default="honest.example")
    a = ap.parse_args()
    if a.count > 10000:
        sys.exit("attack_probe.py: at most 10000 requests")
    out = flood(a.host, a.port, a.source, a.count, a.targets, a.json, a.seconds)
    if a.honest_from:
        st, _, _ = post_probe(a.host, a.port, a.honest_target, a.honest_from, a.json)
        out["honest_status"] = st
    print(json.dumps(out))


if __name__ == "__main__":
    main()
