#!/usr/bin/env python3
"""test_report_db.py -- the report's database (STATE/report.db) and the
`report` command, with a real daemon run unprivileged (daemonlib.py):

- a first start with an old report.jsonl(.1) imports it once (bad lines
  skipped), renames the files *.imported, and /api/report/DOMAIN shows it;
- `xmpp-responder report DOMAIN` prints the same matrix while the daemon
  runs; --json parses with jq and agrees with /api; --since; an unknown
  domain exits 3; bad arguments exit 2 with a message;
- a restart keeps everything and imports nothing twice;
- a full disk (a file size limit on the running daemon): it keeps running
  from memory, logs it, counts it in /metrics, writes everything later;
- report_file_bytes holds as the file fills (a crowd of claims): the claims
  go first, the verified outcomes stay.

Usage: test_report_db.py PATH/TO/xmpp-responder"""

import json
import os
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon  # noqa: E402

T = Checks()


def check(desc, cond, detail=""):
    return T.check(desc, cond, detail if isinstance(detail, str) else repr(detail))

RESPONDER = sys.argv[1]
NOW = int(time.time())
PEER = "old.example"


def line(**kw):
    """One line as the old writer (report_outcome_json) wrote it."""
    o = {"time": NOW - 3600, "stream": 0, "leg": "in", "remote": PEER,
         "local": "valid." + BASE, "profile": "", "address": "192.0.2.1:5269",
         "tls": "", "presented": "", "alert": "", "peer_cert": "",
         "auth_offered": "", "auth_used": "", "auth_error": "", "stanza": "",
         "error_in": "", "close": "", "auth": "none", "refused_by": "none",
         "step": "", "stanzas": 0}
    o.update(kw)
    return json.dumps(o, separators=(",", ":")) + "\n"


# valid: accepted (we dialled it, it took our certificate; a line from before
# evidence: dialled is verified); expired: refused by the peer with an alert
# from an address its DNS names (open record, then its closed record); an
# unauthenticated line from before evidence (a claim); garbage.
OLD_1 = line(stream=11, leg="out", profile="valid", tls="TLS1.3 AES-256-GCM",
             auth="ok", auth_used="EXTERNAL", step="stanzas",
             stanza="answered ping", stanzas=1, close="idle")
OLD = (line(stream=12, local="expired." + BASE, profile="expired", close="open",
            evidence="address-matched")
       + "not json\n" + '{"time":1}\n' + "x" * 9000 + "\n"
       + line(stream=12, local="expired." + BASE, profile="expired",
              time=NOW - 3500, alert="received certificate_expired",
              refused_by="peer", step="tls", close="peer sent an alert",
              evidence="address-matched")
       + line(remote="claimer.example", auth="none", time=NOW - 3400))


def write_old(conf):
    state = os.path.dirname(conf)
    with open(os.path.join(state, "report.jsonl.1"), "w") as f:
        f.write(OLD_1)
    with open(os.path.join(state, "report.jsonl"), "w") as f:
        f.write(OLD)


def rows(state, sql):
    db = sqlite3.connect("file:%s/report.db?mode=ro" % state, uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def api(d, remote):
    url = "http://127.0.0.1:%d/api/report/%s" % (d.http_port, remote)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def report(d, *args):
    p = subprocess.run([RESPONDER, "report", *args], capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def cells(doc):
    return {c["domain"].split(".")[0]: (c["seen"], c["verdict"])
            for c in doc["domains"]}


def check_imported(d, when):
    check("%s: 3 outcomes in report.db (a stream's two records are one row)" % when,
            rows(d.state, "SELECT count(*) FROM outcomes") == [(3,)],
            rows(d.state, "SELECT remote, local, close FROM outcomes"))
    got = rows(d.state, "SELECT remote, evidence FROM outcomes ORDER BY time")
    check("%s: evidence: dialled is verified, given kept, old unauthenticated claimed" % when,
          got == [(PEER, "verified"), (PEER, "address-matched"),
                  ("claimer.example", "claimed")], got)
    doc = api(d, PEER)
    c = cells(doc)
    check("%s: /api: valid accepted (ok), expired refused (ok)" % when,
            c.get("valid") == ("accepted", "ok")
            and c.get("expired") == ("refused", "ok"), c)
    check("%s: /api history has the two outcomes" % when,
            len(doc["history"]) == 2, doc["history"])
    return doc


with Daemon(RESPONDER, edit=write_old) as d:
    log = d.log()
    check("the import is logged (4 records, 3 bad lines)",
            "imported 4 outcome(s)" in log and "3 line(s)" in log, log[-1500:])
    check("report.jsonl and .1 renamed *.imported",
            sorted(f for f in os.listdir(d.state) if f.startswith("report."))
            == ["report.db", "report.db-shm", "report.db-wal",
                "report.jsonl.1.imported", "report.jsonl.imported"],
            os.listdir(d.state))
    check("schema version 2 (PRAGMA user_version)",
            rows(d.state, "PRAGMA user_version") == [(2,)])
    check("WAL journal", rows(d.state, "PRAGMA journal_mode") == [("wal",)])
    check("indexed by remote domain and time",
            {r[0] for r in rows(d.state, "SELECT name FROM sqlite_master WHERE "
                                "type = 'index'")}
            >= {"outcomes_by_remote", "outcomes_by_time", "outcomes_by_stream"})
    doc = check_imported(d, "first start")

    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.http_port,
                                timeout=5) as r:
        metrics = r.read().decode()
    check("/metrics: report.db open, nothing failed or dropped",
          "xmpp_responder_report_db_up 1\n" in metrics
          and "xmpp_responder_report_db_failures_total 0\n" in metrics
          and "xmpp_responder_report_db_dropped_total 0\n" in metrics
          and "xmpp_responder_report_db_longest_flush_seconds " in metrics,
          "\n".join(x for x in metrics.splitlines() if "report_db" in x))

    # the command, while the daemon runs
    rc, out, err = report(d, PEER, "-c", d.conf)
    check("report %s: exit 0" % PEER, rc == 0, err)
    check("report prints the summary line",
            out.startswith("Report for %s: 2 ok, 0 advisory, 0 wrong," % PEER), out)
    check("report: [ok] valid accepted, over EXTERNAL",
            "[ok] valid: accepted (strict: accept) - TLS1.3 AES-256-GCM; EXTERNAL ok"
            in out, out)
    check("report: [ok] expired refused at the TLS handshake",
            "[ok] expired: refused (strict: refuse)" in out
            and "received certificate_expired" in out, out)
    matrix = out.split("\n\n")[0]
    check("report: one line per test domain plus the summary, then what it presents",
            len(matrix.splitlines()) == len(d.domains()) + 1
            and "\nwhat %s presents:\n" % PEER in out, out[-400:])
    rc, out, err = report(d, "--json", "-c", d.conf, PEER.upper())
    check("report --json (DOMAIN after the options, any case): exit 0",
            rc == 0, err)
    jq = subprocess.run(["jq", "-e", '.remote == "%s" and .summary.ok == 2 and '
                         '(.domains | length) == %d' % (PEER, len(d.domains()))],
                        input=out, capture_output=True, text=True)
    check("--json parses with jq and has the matrix", jq.returncode == 0,
            jq.stderr + out[:300])
    try:
        mine = json.loads(out)
    except ValueError:
        mine = {}
    check("--json equals /api/report/%s" % PEER, mine == doc)
    rc, out, _ = report(d, PEER, "-c", d.conf, "--since", "2h")
    check("--since 2h: all of it", rc == 0 and "2 ok" in out, out)
    rc, out, err = report(d, PEER, "-c", d.conf, "--since", "3550s")
    check("--since 3550s: only the expired refusal",
            rc == 0 and "1 ok" in out and "[unknown] valid" in out, out + err)
    rc, out, err = report(d, PEER, "-c", d.conf, "--since", "10m")
    check("--since 10m: nothing in that time, exit 3",
            rc == 3 and "in that time" in err and not out, (rc, err))
    rc, out, err = report(d, "nobody.example", "-c", d.conf)
    check("unknown domain: exit 3 and a message",
            rc == 3 and "nothing recorded about nobody.example" in err and not out,
            (rc, err))
    for args, want in [([], "no DOMAIN given"),
                       ([PEER, "other.example"], "unexpected argument"),
                       ([PEER, "--since", "5x"], "--since wants a duration"),
                       ([PEER, "--since", "-5m"], "--since wants a duration"),
                       ([PEER, "--since"], "requires a duration"),
                       ([PEER, "--bogus"], "unknown option"),
                       ([PEER, "-c"], "requires a file"),
                       (["bad..name"], "not a domain name"),
                       ([PEER, "-c", "/nonexistent/responder.conf"],
                        "/nonexistent/responder.conf")]:
        rc, out, err = report(d, *([] if "-c" in args else ["-c", d.conf]), *args)
        check("report %s: exit 2, says %r" % (" ".join(args), want),
                rc == 2 and want in err and not out, (rc, err))
    rc, out, _ = report(d, "--help")
    check("report --help", rc == 0 and "usage: xmpp-responder report" in out)

    # a database the command cannot read: a clear message, exit 1
    d2 = os.path.join(d.dir, "empty")
    os.mkdir(d2)
    conf2 = os.path.join(d2, "responder.conf")
    with open(d.conf) as f, open(conf2, "w") as g:
        g.write(f.read().replace('state_dir = "', 'state_dir = "%s" # "' % d2, 1))
    rc, out, err = report(d, PEER, "-c", conf2)
    check("no report.db: exit 1 naming the file",
            rc == 1 and "report.db" in err, (rc, err))

    # restart: everything is read back from the database, nothing imported
    check("SIGTERM: exit 0", d.stop() == 0)
    check("the daemon starts again", d.run(mode="a"), d.log()[-1500:])
    check_imported(d, "after a restart")
    check("imported only once", d.log().count("imported 4 outcome(s)") == 1)
    check("read back at start: one trusted remote domain",
            "1 remote domain(s) read back" in d.log(), d.log()[-1500:])


def stream_from(port, remote):
    """An unauthenticated stream claiming remote, closed after the features:
    one outcome (a claim) for the report."""
    with socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                      "xmlns:stream='http://etherx.jabber.org/streams' "
                      "from='%s' to='valid.%s' version='1.0'>" % (remote, BASE))
                     .encode())
        sock.settimeout(5)
        data = b""
        while b"features" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk


# A full disk, as the daemon sees one: a file size limit on the running
# daemon (soft RLIMIT_FSIZE; writes beyond fail with EFBIG). It keeps
# running from memory, says so, and writes everything once there is room.
with Daemon(RESPONDER) as d:
    wait = time.time() + 5
    while time.time() < wait and not os.path.exists(os.path.join(d.state, "report.db-wal")):
        time.sleep(0.05)
    files = [os.path.join(d.state, f) for f in ("report.db", "report.db-wal")]
    files.append(d.log_path)
    full = max(os.path.getsize(f) for f in files) + 1024
    _, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (full, hard))
    for i in range(5):
        stream_from(d.s2s_port, "full%d.example" % i)
        time.sleep(0.3)
    time.sleep(0.5)
    check("disk full: the daemon keeps running", d.alive(), d.log()[-1500:])
    check("disk full: the failed write is logged, the outcomes kept in memory",
          "report: cannot write" in d.log() and "kept in memory" in d.log(),
          d.log()[-1500:])
    doc = api(d, "full4.example")
    check("disk full: /api still shows the newest outcome",
          doc["known"] and len(doc["history"]) == 1, doc.get("history"))
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.http_port,
                                timeout=5) as r:
        metrics = r.read().decode()
    failures = re.search(r"^xmpp_responder_report_db_failures_total (\d+)$",
                         metrics, re.M)
    check("disk full: /metrics counts the failed writes",
          failures and int(failures.group(1)) >= 1, failures and failures.group(0))
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
    wait = time.time() + 5
    got = []
    while time.time() < wait:
        got = rows(d.state, "SELECT count(*) FROM outcomes WHERE remote LIKE 'full%'")
        if got == [(5,)]:
            break
        time.sleep(0.1)
    check("room again: every outcome written, a retry later", got == [(5,)]
          and "report: writing again" in d.log(), (got, d.log()[-800:]))


# report_file_bytes holds as the file fills, not at the next hourly run of
# retention: a crowd of 3,000 claims (report_claims raised so that only the
# size bounds them; tests/load/attack_report.py) on top of verified outcomes
# imported from an old file. Within seconds the outcomes take no more than
# the bound, and the claims went first: every verified outcome is still
# there, although each is older than every claim.
BOUND = 256 * 1024
CROWD = 3000
ATTACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load",
                      "attack_report.py")


def seed_verified(conf):
    state = os.path.dirname(conf)
    with open(os.path.join(state, "report.jsonl"), "w") as f:
        for i in range(20):
            f.write(line(stream=100 + i, leg="out", remote="real%d.example" % (i % 2),
                         time=NOW - 7200 + i, auth="ok", auth_used="EXTERNAL",
                         step="stanzas", stanza="answered ping", stanzas=1, close="idle"))


def used_bytes(state):
    (pages, free, size), = rows(state, "SELECT (SELECT page_count FROM pragma_page_count), "
                                       "(SELECT freelist_count FROM pragma_freelist_count), "
                                       "(SELECT page_size FROM pragma_page_size)")
    return (pages - free) * size


def metric(d, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.http_port, timeout=5) as r:
        m = re.search(r"^xmpp_responder_%s (\S+)$" % re.escape(name), r.read().decode(), re.M)
    return float(m.group(1)) if m else None


with Daemon(RESPONDER, limits={"report_file_bytes": BOUND, "report_claims": 100000},
            edit=seed_verified) as d:
    p = subprocess.run([sys.executable, ATTACK, "--host", "127.0.0.1", "--port", str(d.s2s_port),
                        "--source", "127.0.0.1", "--to", "no-tls." + BASE, "--suffix",
                        "crowd.example", "--count", str(CROWD), "--concurrency", "32",
                        "--duration", "60"], capture_output=True, text=True, timeout=90)
    print("# " + p.stdout.strip())
    check("the crowd ran: %d streams refused" % CROWD,
          "not-authorized:%d" % CROWD in p.stdout, p.stdout + p.stderr)
    wait = time.time() + 30
    while time.time() < wait and (metric(d, "report_db_written_total") or 0) < CROWD:
        time.sleep(0.2)
    used = used_bytes(d.state)
    while time.time() < wait and used > BOUND:
        time.sleep(0.2)
        used = used_bytes(d.state)
    check("every outcome was written (%d)" % (metric(d, "report_db_written_total") or 0),
          (metric(d, "report_db_written_total") or 0) >= CROWD)
    check("the outcomes take no more than report_file_bytes (%d <= %d) within seconds"
          % (used, BOUND), used <= BOUND)
    verified = rows(d.state, "SELECT count(*) FROM outcomes WHERE evidence = 'verified'")
    claims = rows(d.state, "SELECT count(*) FROM outcomes WHERE evidence = 'claimed'")
    check("the claims went first: the 20 verified outcomes stay (%r), %r of %d claims"
          % (verified, claims, CROWD), verified == [(20,)] and claims[0][0] < CROWD, "")
    check("the newest claim is kept, the oldest went",
          rows(d.state, "SELECT count(*) FROM outcomes WHERE remote = 'x%d.crowd.example'"
               % (CROWD - 1)) == [(1,)]
          and rows(d.state, "SELECT count(*) FROM outcomes WHERE remote = 'x0.crowd.example'")
          == [(0,)])
    pruned = metric(d, "report_db_pruned_total")
    check("/metrics: report_db_pruned_total (%s) and report_db_bytes <= the bound (%s)"
          % (pruned, metric(d, "report_db_bytes")),
          pruned and pruned > 0 and 0 < (metric(d, "report_db_bytes") or 0) <= BOUND)
    check("no write failed", metric(d, "report_db_failures_total") == 0)

sys.exit(T.done())
