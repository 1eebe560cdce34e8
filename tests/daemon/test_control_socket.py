#!/usr/bin/env python3
"""test_control_socket.py -- the control socket (control.c) of a real daemon
run unprivileged (daemonlib.py: ephemeral loopback ports, DNS to a dead
loopback port, so no probe reaches its target: every row ends 'unknown'
within milliseconds, never 'refused', and the probe says why):

  the socket file       a socket, mode 0600, ours; removed on SIGTERM; a
                        regular file in its place stops the start
  probe TARGET          start (normalised target, total, bound, when the
                        operator's next probe may start), one
                        progress line per domain numbered 1..N, one cell
                        per domain with 8 sane fields, end, then EOF;
                        `xmpp-responder probe --json` reads the same answer
  refusals              rate limit (same target again), own domain, under
                        the base domain, IP address, non-ASCII, bad name,
                        too long a name
  hostile clients       no newline within 10 s, line too long, unknown
                        request, NUL byte, two targets, a half-closed
                        request without newline, a flood after the request,
                        a client gone mid-probe, nine clients at once
The daemon must answer each and survive. Needs no root.

Usage: test_control_socket.py PATH/TO/xmpp-responder"""

import json
import os
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon, read_all  # noqa: E402

T = Checks()
LINE_MAX = 1024  # CONTROL_LINE_MAX


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    return s


def answer(s):
    """Everything until the daemon closes (bounded by the timeout)."""
    return read_all(s).decode("utf-8", "replace")


def ask(path, raw, byte_by_byte=False, half_close=False):
    """Send raw (one write, or one byte per write), optionally end our side,
    and return the whole answer."""
    s = connect(path)
    try:
        for piece in ([raw[i:i + 1] for i in range(len(raw))] if byte_by_byte
                      else [raw]):
            s.sendall(piece)
            if byte_by_byte:
                time.sleep(0.002)
        if half_close:
            s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return answer(s)


def whole(got, target):
    """got is a finished probe's answer for target."""
    return got.startswith("start\t%s\t" % target) and got.endswith("\nend\n")


def lines(text):
    return [ln.split("\t") for ln in text.split("\n") if ln]


def check_probe_answer(text, target, domains):
    """The full answer to a probe whose every domain fails to resolve."""
    ls = lines(text)
    n = len(domains)
    T.check("probe: the first line is start", ls and ls[0][0] == "start", repr(text[:200]))
    if not ls:
        return
    st = ls[0]
    T.check("start: TARGET TOTAL MAX_SECONDS NEXT, target normalised to %s" % target,
            len(st) == 5 and st[1] == target and st[2] == str(n)
            and st[3].isdigit() and int(st[3]) > 0 and st[4].isdigit(), repr(st))
    prog = [ln for ln in ls if ln[0] == "progress"]
    T.check("one progress line per domain (%d)" % n, len(prog) == n, str(len(prog)))
    T.check("progress counts 1..N of N, each naming a domain and 'unknown'",
            [p[1] for p in prog] == [str(i) for i in range(1, n + 1)]
            and all(len(p) == 5 and p[2] == str(n) and p[3] in domains
                    and p[4] == "unknown" for p in prog), repr(prog[:2]))
    cells = [ln for ln in ls if ln[0] == "cell"]
    T.check("one cell per domain, in config order",
            [c[1] for c in cells] == domains, repr([c[1] for c in cells][:3]))
    T.check("cells: 8 fields, profile = the domain's label, result unknown, "
            "a detail naming the target",
            all(len(c) == 8 and c[2] == c[1].split(".")[0] and c[3] == "unknown"
                and target in c[4] for c in cells), repr(cells[:1]))
    unreached = [ln for ln in ls if ln[0] == "unreached"]
    T.check("one unreached line after the cells: our resolver did not answer",
            len(unreached) == 1 and len(unreached[0]) == 2
            and unreached[0][1].startswith("our resolver did not answer for " + target)
            and ls.index(unreached[0]) == len(ls) - 2, repr(unreached))
    T.check("cells: the report's view is named (SEEN)",
            all(c[5] for c in cells), repr(cells[:1]))
    T.check("the last line is end, after the cells",
            ls[-1] == ["end"] and ls.index(["end"]) == len(ls) - 1, repr(ls[-1]))
    T.check("no control characters inside fields",
            all(ch >= " " for ln in ls for f in ln for ch in f))


def main():
    rs = sys.argv[1]
    d = Daemon(rs, limits={"probe_timeout": 3, "probe_concurrency": 64})
    path = os.path.join(d.state, "control.sock")
    domains = d.domains()
    t_start = time.time()
    try:
        # --- the socket file --------------------------------------------------
        st = os.lstat(path)
        T.check("control.sock is a socket", stat.S_ISSOCK(st.st_mode))
        T.check("control.sock is mode 0600 (got %o)" % stat.S_IMODE(st.st_mode),
                stat.S_IMODE(st.st_mode) == 0o600)
        T.check("control.sock belongs to the daemon's user",
                st.st_uid == os.getuid())

        # --- nine clients: eight idle fit, the ninth is refused; one idle
        # client stays to see the 10 s request timeout at the end ------------
        idle = [connect(path) for _ in range(8)]
        t_idle = time.time()
        time.sleep(0.2)
        ninth = answer(connect(path))
        T.check("a ninth client is refused at once",
                ninth == "error\ttoo many control clients; try again later\n",
                repr(ninth))
        for s in idle[1:]:
            s.close()
        time.sleep(0.2)

        # --- a probe, whole --------------------------------------------------------
        text = ask(path, b"probe Target.Example.\n")
        check_probe_answer(text, "target.example", domains)
        again = ask(path, b"probe target.example\n")
        T.check("the same target again: rate limited, with the seconds to wait",
                again.startswith("error\t") and "rate limited" in again
                and "try again in" in again and again.endswith("\n")
                and again.count("\n") == 1, repr(again))
        # a CRLF line is a line
        crlf = ask(path, b"probe crlf.example\r\n")
        T.check("a CRLF request line is accepted", whole(crlf, "crlf.example"),
                repr(crlf[:100]))

        # --- refused targets ---------------------------------------------------------
        refusals = [
            (b"probe valid.%s\n" % BASE.encode(), "one of our own test domains"),
            (b"probe x.valid.%s\n" % BASE.encode(), "under our own base domain"),
            (b"probe 127.0.0.1\n", "looks like an IP address"),
            ("probe b\u00fccher.example\n".encode(), "A-label"),
            (b"probe bad..example\n", "is not a domain name"),
            (b"probe localhost\n", "not a fully qualified domain name"),
            (b"probe " + b"a" * 300 + b".example\n", "longer than 253 bytes"),
            (b"probe \x1b[31m.example\n", "is not a domain name"),
        ]
        for raw, want in refusals:
            got = ask(path, raw)
            T.check("refused %r: one error line with %r" % (raw[:40], want),
                    got.startswith("error\t") and want in got
                    and got.count("\n") == 1 and "\x1b" not in got, repr(got))

        # --- hostile requests ----------------------------------------------------------
        hostile = [
            ("4000 bytes without a newline", b"probe " + b"a" * 4000,
             "error\trequest line too long\n"),
            ("a long line with its newline", b"probe " + b"a" * 2000 + b"\n",
             "error\trequest line too long\n"),
            ("unknown request", b"status\n",
             "error\tunknown request; expected 'probe TARGET'\n"),
            ("upper case", b"PROBE x.example\n",
             "error\tunknown request; expected 'probe TARGET'\n"),
            ("binary garbage", b"\xff\xfe\x01\x02garbage\n",
             "error\tunknown request; expected 'probe TARGET'\n"),
            ("NUL byte", b"probe a\x00b.example\n", "error\tNUL byte in the request\n"),
            ("two targets", b"probe a.example b.example\n",
             "error\texpected 'probe TARGET' with one domain name\n"),
            ("an empty line", b"\n",
             "error\tunknown request; expected 'probe TARGET'\n"),
        ]
        for name, raw, want in hostile:
            got = ask(path, raw)
            T.check("hostile: %s -> %r" % (name, want.strip()), got == want, repr(got[:200]))
        # the longest line that is not too long reaches the target check
        got = ask(path, b"probe " + b"a" * (LINE_MAX - 7) + b"\n")
        T.check("a line of %d bytes is read (the target is then refused)" % LINE_MAX,
                "longer than 253 bytes" in got, repr(got[:120]))
        got = ask(path, b"probe split.example\n", byte_by_byte=True)
        T.check("a request sent one byte at a time is answered",
                whole(got, "split.example"), repr(got[:80]))
        got = ask(path, b"probe halfclosed.example", half_close=True)
        T.check("an unterminated request then EOF: closed without an answer",
                got == "", repr(got))
        got = ask(path, b"probe flood.example\n" + b"\xff" * 100000)
        T.check("a flood after the request (read and ignored): the probe "
                "answers to the end", whole(got, "flood.example"), repr(got[:80]))
        # a client that asks and goes away: the probe runs on, detached
        s = connect(path)
        s.sendall(b"probe gone.example\n")
        s.close()
        time.sleep(0.3)
        got = ask(path, b"probe gone.example\n")
        T.check("the target of a detached probe is not probed again at once",
                got.startswith("error\t"), repr(got))
        T.check("the daemon survived the hostile clients", d.alive())

        # --- the command line reads the same answer ---------------------------------------
        r = subprocess.run([d.responder, "probe", "-c", d.conf, "--json",
                            "cli.example"], capture_output=True, text=True,
                           timeout=60)
        ok = r.returncode == 2
        try:
            doc = json.loads(r.stdout)
            ok = ok and doc["target"] == "cli.example" and \
                [x["domain"] for x in doc["domains"]] == domains and \
                all(x["result"] == "unknown" for x in doc["domains"]) and \
                doc["differences"] == [] and doc["reached"] is False and \
                doc["unreached"].startswith("our resolver did not answer")
        except (ValueError, KeyError, TypeError):
            ok = False
        T.check("`probe --json` with our resolver down: exit 2, every domain "
                "unknown, no difference, the reason", ok,
                "rc=%d %s %s" % (r.returncode, r.stdout[:200], r.stderr[:200]))

        # --- the idle client's 10 s request timeout -------------------------------------
        got = answer(idle[0])
        took = time.time() - t_idle
        T.check("an idle client gets an error after 10 s (%.1f s)" % took,
                got == "error\tno request within 10 s\n" and 9 <= took <= 13,
                repr(got))
        T.check("the daemon logged the refusals and probes",
                "probe target=target.example event=end" in d.log()
                and "control: too many clients" in d.log())
    finally:
        rc = d.stop()
    T.check("SIGTERM: exit status 0 (got %s)" % rc, rc == 0, d.log()[-500:])
    T.check("SIGTERM removes control.sock", not os.path.lexists(path))

    # a regular file where the socket goes: the daemon does not replace it
    with open(path, "w") as f:
        f.write("not a socket\n")
    r = subprocess.run([d.responder, "run", "-c", d.conf], capture_output=True,
                       text=True, timeout=20)
    T.check("a regular file at control.sock: run exits non-zero, naming it",
            r.returncode != 0 and "exists and is not a socket" in r.stderr + r.stdout,
            "rc=%d %s" % (r.returncode, (r.stderr + r.stdout)[-300:]))
    with open(path) as f:
        T.check("... and leaves the file alone", f.read() == "not a socket\n")
    d.cleanup()
    print("# %.1f s" % (time.time() - t_start))
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
