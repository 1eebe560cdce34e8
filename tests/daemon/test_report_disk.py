#!/usr/bin/env python3
"""test_report_disk.py -- the report's database on a small disk that fills
up (issue 21, part 3). Root only: the daemon's state directory is a tmpfs of
2 MiB (mount -t tmpfs -o size=2m); without root or when the mount fails it
prints why and exits 77 (meson: SKIP).

1. Its own outcomes do not fill it: a crowd of 3,000 claims
   (tests/load/attack_report.py; report_claims raised so that only the size
   bounds them) with report_file_bytes = 256 KiB. On 85b991b the claims
   stayed until the hourly retention, the WAL filled the disk, every write
   failed from then on and not even a restart recovered. Now: every outcome
   written, none failed, the outcomes within the bound, room left on the
   disk.
2. Something else fills it (a filler file): writes fail; the daemon keeps
   serving the newest outcomes from memory, logs the failure once (not per
   retry), shows it in /metrics (report_db_failing 1, failures counted);
   once the filler is removed, writing resumes by itself: the gauge goes
   back to 0, the outcomes kept in memory are in the file.

Usage: test_report_disk.py PATH/TO/xmpp-responder"""

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon  # noqa: E402

T = Checks()
RESPONDER = sys.argv[1]
ATTACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load",
                      "attack_report.py")
BOUND = 256 * 1024
SIZE = "2m"
mounted = []


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def check(desc, cond, detail=""):
    return T.check(desc, cond, detail if isinstance(detail, str) else repr(detail))


def on_tmpfs(conf):
    """Move the state directory init wrote onto a tmpfs of SIZE."""
    state = os.path.dirname(conf)
    copy = state + ".copy"
    shutil.copytree(state, copy)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + SIZE, "tmpfs", state],
                      capture_output=True).returncode != 0:
        shutil.rmtree(copy)
        raise OSError("mount -t tmpfs failed")
    mounted.append(state)
    for name in os.listdir(copy):
        src = os.path.join(copy, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, os.path.join(state, name))
    shutil.rmtree(copy)


def metrics(d):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.http_port, timeout=5) as r:
        return r.read().decode()


def metric(d, name):
    m = re.search(r"^xmpp_responder_%s (\S+)$" % re.escape(name), metrics(d), re.M)
    return float(m.group(1)) if m else None


def wait_until(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def crowd(d, label, count):
    p = subprocess.run([sys.executable, ATTACK, "--host", "127.0.0.1", "--port", str(d.s2s_port),
                        "--source", "127.0.0.1", "--to", "no-tls." + BASE, "--suffix",
                        "crowd.example", "--label", label, "--count", str(count),
                        "--concurrency", "32", "--duration", "60"],
                       capture_output=True, text=True, timeout=90)
    print("# " + p.stdout.strip())
    return "not-authorized:%d" % count in p.stdout


def rows(state, sql):
    p = subprocess.run(["sqlite3", "-readonly", os.path.join(state, "report.db"), sql],
                       capture_output=True, text=True, timeout=10)
    return p.stdout.strip()


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path):
    """A filler file that takes every byte left; its size."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for block in (65536, 4096, 1):
            while True:
                try:
                    written += os.write(fd, b"\0" * block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


if os.geteuid() != 0:
    skip("needs root to mount a tmpfs")
if not shutil.which("sqlite3"):
    skip("needs the sqlite3 command")
try:
    d = Daemon(RESPONDER, limits={"report_file_bytes": BOUND, "report_claims": 100000},
               attempts=1, edit=on_tmpfs)
except (OSError, RuntimeError) as e:
    for m in mounted:
        subprocess.run(["umount", m])
    skip("cannot run the daemon on a tmpfs: %s" % e)

try:
    print("# state directory %s on a %s tmpfs, %d bytes free" % (d.state, SIZE, free_bytes(d.state)))
    # 1. its own outcomes
    check("a crowd of 3000 claims ran", crowd(d, "a", 3000))
    written = wait_until(lambda: (metric(d, "report_db_written_total") or 0) >= 3000, 30)
    check("its own outcomes fit: all 3000 written (%s), none failed (%s)"
          % (metric(d, "report_db_written_total"), metric(d, "report_db_failures_total")),
          written and metric(d, "report_db_failures_total") == 0)
    used = metric(d, "report_db_bytes")
    check("the outcomes take no more than report_file_bytes (%s <= %d)" % (used, BOUND),
          used is not None and 0 < used <= BOUND)
    left = free_bytes(d.state)
    check("room left on the disk (%d bytes)" % left, left > 256 * 1024)
    check("no write error logged", "report: cannot write" not in d.log(), d.log()[-1500:])

    # 2. a filler takes the rest of the disk
    filler = os.path.join(d.state, "filler")
    print("# filler: %d bytes" % fill(filler))
    check("a crowd of 600 more claims ran", crowd(d, "b", 600))
    failing = wait_until(lambda: metric(d, "report_db_failing") == 1, 20)
    m = metrics(d)
    print("# " + " | ".join(x for x in m.splitlines() if x.startswith("xmpp_responder_report_db")))
    check("disk full: /metrics report_db_failing 1", failing)
    failures = metric(d, "report_db_failures_total") or 0
    check("disk full: /metrics counts the failed writes (%d)" % failures, failures >= 1)
    check("disk full: the daemon keeps running", d.alive(), d.log()[-1500:])
    with urllib.request.urlopen("http://127.0.0.1:%d/api/report/b599.crowd.example"
                                % d.http_port, timeout=5) as r:
        doc = json.load(r)
    check("disk full: /api still shows the newest outcome (from memory)",
          doc.get("known") and len(doc.get("history", [])) == 1, doc.get("history"))
    wait_until(lambda: (metric(d, "report_db_failures_total") or 0) >= failures + 2, 5)
    log = d.log()
    errors = log.count("report: cannot write")
    check("disk full: the error is logged once, not per retry (%d line(s), %s failures)"
          % (errors, metric(d, "report_db_failures_total")),
          errors == 1 and (metric(d, "report_db_failures_total") or 0) >= 2,
          "\n".join(x for x in log.splitlines() if "report" in x)[-2000:])
    check("disk full: the log says why (disk full)",
          re.search(r"report: cannot write: .*(full|No space)", log) is not None,
          "\n".join(x for x in log.splitlines() if "report" in x)[-2000:])

    # room again
    os.unlink(filler)
    resumed = wait_until(lambda: metric(d, "report_db_failing") == 0, 20)
    check("room again: report_db_failing back to 0 by itself", resumed)
    check("room again: the log says writing resumed", "report: writing again" in d.log(),
          d.log()[-1500:])
    stored = wait_until(lambda: rows(d.state, "SELECT count(*) FROM outcomes WHERE remote = "
                                              "'b599.crowd.example'") == "1", 10)
    check("room again: the outcomes kept in memory are in the file", stored,
          rows(d.state, "SELECT count(*) FROM outcomes WHERE remote LIKE 'b%'"))
    check("room again: within the bound (%s)" % metric(d, "report_db_bytes"),
          0 < (metric(d, "report_db_bytes") or 0) <= BOUND)
    check("SIGTERM: exit 0", d.stop() == 0)
finally:
    d.stop()
    for m in mounted:
        if subprocess.run(["umount", m]).returncode != 0:
            subprocess.run(["umount", "-l", m])  # busy: detach it now
    d.cleanup()

sys.exit(T.done())
