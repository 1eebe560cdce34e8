#!/usr/bin/python3
"""hostile_table.py -- the figures of one hostile_load.sh run, read from its
work directory, as the tables the benchmark prints, and issue 21's targets
met or not.

    hostile_table.py WORK --phases "baseline clients ..." [--attacker TEXT]
                     [--rss BEFORE,PEAK,AFTER]   (KiB)

Reads WORK/shapes.json and shapes-small.json (attack_parse.py),
honest.out (honest_pinger.py: PING lines), honest-side.log (CHALLENGE,
LOGIN and PROBE lines of hostile_attacks.sh), phases.log (SNAP lines) and
each phase's attack output (PHASE-clients.out, -web.out, -report.out,
-probe.json, -s2s.json). Whatever a run did not make is shown as "-"."""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load"))
from streamlib import percentile  # noqa: E402

SHAPE_X_MAX = 3.0       # every shape within 3x of plain text's CPU per MiB
PING_P99_MS = 50.0


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def load_json(path):
    text = read(path).strip()
    if not text:
        return None
    for candidate in (text, text.splitlines()[-1]):   # a document, or one last line
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    return None


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def spread(values, spec="%.0f"):
    """p50/max of a list, '-' when empty."""
    if not values:
        return "-"
    return "%s/%s" % (spec % percentile(values, 50), spec % max(values))


class Run:
    def __init__(self, work, phases):
        self.work = work
        self.phases = phases
        self.pings = {}      # phase -> [(ok, ms)]
        for m in re.finditer(r"(?m)^PING \d+ (\S+) \S+ (\S+) \S+ ([\d.]+)$",
                             read(os.path.join(work, "honest.out"))):
            self.pings.setdefault(m.group(1), []).append((m.group(2) == "pong",
                                                          float(m.group(3))))
        self.side = {}       # (kind, phase) -> [fields]
        for line in read(os.path.join(work, "honest-side.log")).splitlines():
            f = line.split()
            if len(f) >= 3:
                self.side.setdefault((f[0], f[1]), []).append(f[2:])
        self.snap = {}
        for line in read(os.path.join(work, "phases.log")).splitlines():
            kv = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
            self.snap[kv.get("phase")] = kv

    # --- the honest side, per phase ------------------------------------
    def ping(self, phase):
        rec = self.pings.get(phase, [])
        ms = [m for ok, m in rec if ok]
        return {"sent": len(rec), "ok": len(ms),
                "p50": percentile(ms, 50) if ms else None,
                "p99": percentile(ms, 99) if ms else None,
                "max": max(ms) if ms else None}

    def probes(self, phase):
        return self.side.get(("PROBE", phase), [])

    def probe_reference(self):
        """The pongs a probe gets without an attack (baseline's first)."""
        for phase in ["baseline"] + self.phases:
            for p in self.probes(phase):
                if p[0] == "ended" and p[3].isdigit():
                    return int(p[3])
        return None

    def probe_ok(self, p, ref):
        return p[0] == "ended" and p[3].isdigit() and (ref is None or int(p[3]) >= ref)

    def logins(self, phase):
        rec = self.side.get(("LOGIN", phase), [])
        ok = [float(r[1]) for r in rec if r[0] == "connected" and r[1] != "-"]
        return len(rec), ok

    def echoes(self, phase):
        return sum(1 for r in self.side.get(("LOGIN", phase), []) if len(r) > 2 and r[2] != "-")

    def challenges(self, phase):
        rec = self.side.get(("CHALLENGE", phase), [])
        ok = [float(r[2]) * 1000 for r in rec if r[0] == "ok"]
        return len(rec), ok

    # --- the attacks ---------------------------------------------------
    def attack_lines(self, phase):
        w = self.work
        out = []
        clients = read(os.path.join(w, phase + "-clients.out"))
        for kind in ("READY", "SUMMARY"):
            m = re.search(r"(?m)^%s (.*)$" % kind, clients)
            if m:
                out.append("clients %s: %s" % (kind.lower(), m.group(1)))
        web = load_json(os.path.join(w, phase + "-web.out"))
        if web:
            out.append("web slowloris: %s" % ", ".join(
                "%s %s" % kv for kv in web["crowd"].items()))
        m = re.search(r"(?m)^SUMMARY (.*)$", read(os.path.join(w, phase + "-report.out")))
        if m:
            out.append("report crowd: %s" % m.group(1))
        probe = load_json(os.path.join(w, phase + "-probe.json"))
        if probe:
            first = probe.get("first_refusal") or {}
            out.append("probe flood: %d requests from %d addresses: %d started, %d refused"
                       " (the first after %s), %d other, %d errors"
                       % (sum(probe.get(k, 0) for k in ("started", "refused", "other",
                                                        "errors")),
                          probe.get("sources", 1), probe["started"], probe["refused"],
                          first.get("after", "-"), probe["other"], probe.get("errors", 0)))
        s2s = load_json(os.path.join(w, phase + "-s2s.json"))
        if s2s:
            sl, mf, fl, ho = s2s["slowloris"], s2s["malformed"], s2s["flood"], s2s["honest"]
            out.append("s2s slowloris: %s connects, %s closed by the daemon, peak %s open"
                       % (sl.get("connects"), sl.get("closed_by_daemon"), sl.get("open_peak")))
            out.append("s2s malformed: %s sent, %s without a stream error"
                       % (mf.get("started"), mf.get("xml_without_error")))
            out.append("s2s non-reading peer: authenticated=%s pings=%s cut=%s %s"
                       % (fl.get("authenticated"), fl.get("pings_sent"),
                          fl.get("inbound_closed"), fl.get("inbound_condition") or ""))
            lat = ho.get("latency_ms", {})
            out.append("honest s2s stream opens: %s/%s got features; p50 %s, p99 %s, max %s ms"
                       % (ho.get("ok"), ho.get("opens"), lat.get("p50"), lat.get("p99"),
                          lat.get("max")))
        return out


def shapes_table(run, targets):
    modes = (("unauth", "shapes.json", "unauth", "before auth, 16,000 B a stream"),
             ("unauth-1k", "shapes-small.json", "unauth", "before auth, 1,000 B a stream"),
             ("auth", "shapes.json", "auth", "authenticated, 200 kB stanzas"))
    data = {}
    for key, fname, mode, _ in modes:
        doc = load_json(os.path.join(run.work, fname)) or {}
        data[key] = doc.get(mode, {})
    names = []
    for key in data:
        names += [n for n in data[key] if n not in names]
    if not names:
        print("input shapes: not measured")
        return
    def small(key, n):
        """A shape whose element is under a quarter of plain text's: its
        CPU per MiB is the per-stream cost, compared in the 1,000 B column."""
        plain = data[key].get("plain", {}).get("element_bytes")
        size = data[key].get(n, {}).get("element_bytes")
        return bool(plain and size and size * 4 < plain)

    print("daemon CPU per MiB of each input shape, ms (x plain text):")
    print("  %-16s" % "shape" + "".join("%22s" % k for k, _, _, _ in modes))
    for n in names:
        cells = []
        for key, _, _, _ in modes:
            s = data[key].get(n)
            cells.append("%22s" % ("-" if not s else "%s%.1f (%.2fx)" % (
                "*" if small(key, n) else "", s["ms_per_mib"], s["x_plain"])))
        print("  %-16s" % n + "".join(cells))
    print("  (* one element of the shape is under a quarter of the column's size: before"
          " authentication\n   the limits stop it there, so its figure is a per-stream cost;"
          " the 1,000 B column compares it)")
    for key, _, _, what in modes:
        judged = {n: v for n, v in data[key].items() if not small(key, n)}
        if not judged:
            continue
        worst = max(judged.items(), key=lambda kv: kv[1]["x_plain"])
        targets.append(("every shape within %gx of plain text, %s" % (SHAPE_X_MAX, what),
                        worst[1]["x_plain"] <= SHAPE_X_MAX,
                        "worst %s %.2fx%s" % (worst[0], worst[1]["x_plain"], "".join(
                            "; %s %.2fx" % (n, v["x_plain"]) for n, v in sorted(
                                judged.items(), key=lambda kv: -kv[1]["x_plain"])[1:4]
                            if v["x_plain"] > SHAPE_X_MAX))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work")
    ap.add_argument("--phases", required=True)
    ap.add_argument("--attacker", default="")
    ap.add_argument("--rss", default="")
    a = ap.parse_args()
    phases = a.phases.split()
    run = Run(a.work, phases)
    targets = []
    if a.attacker:
        print("attacker: %s" % a.attacker)
    shapes_table(run, targets)

    print()
    print("the honest side, per phase:")
    hdr = ("phase", "pings ok/sent", "p50/p99/max ms", "probes ok/n", "probe s",
           "logins ok/n", "login p50/max s", "echoes", "challenges ok/n", "fetch p50/max ms")
    row = "  %-9s %13s %17s %11s %11s %11s %15s %6s %15s %16s"
    print(row % hdr)
    ref = run.probe_reference()
    for ph in phases:
        pg = run.ping(ph)
        probes = run.probes(ph)
        walls = [float(p[2]) for p in probes if p[2] != "-"]
        n_login, login_ok = run.logins(ph)
        n_ch, ch_ok = run.challenges(ph)
        print(row % (ph, "%d/%d" % (pg["ok"], pg["sent"]),
                     "%s/%s/%s" % (fmt(pg["p50"]), fmt(pg["p99"]), fmt(pg["max"])),
                     "%d/%d" % (sum(run.probe_ok(p, ref) for p in probes), len(probes)),
                     ",".join("%.0f" % w for w in walls) or "-",
                     "%d/%d" % (len(login_ok), n_login), spread(login_ok, "%.2f"),
                     run.echoes(ph), "%d/%d" % (len(ch_ok), n_ch), spread(ch_ok)))
    print("  (a probe is ok when it started and as many test domains got a pong as "
          "without an attack: %s)" % (ref if ref is not None else "-"))

    print()
    print("what the daemon did and holds, at the end of each phase:")
    row = "  %-9s %7s %7s %8s %9s %10s %10s %14s %12s"
    print(row % ("phase", "seconds", "CPU s", "RSS MiB", "verified", "peers", "evil",
                 "report.db KiB", "metric KiB"))
    for ph in phases:
        s = run.snap.get(ph, {})

        def by1024(k):
            v = s.get(k, "-")
            return "%d" % ((int(v) + 1023) // 1024) if v.isdigit() else "-"
        db = s.get("db_file", "-")
        if db.isdigit() and s.get("db_wal", "0").isdigit():
            db = "%d+%d" % ((int(db) + 1023) // 1024, (int(s["db_wal"]) + 1023) // 1024)
        print(row % (ph, s.get("seconds", "-"), s.get("cpu_s", "-"), by1024("rss_kb"),
                     s.get("verified", "-"), s.get("peers", "-"), s.get("evil_listed", "-"),
                     db, by1024("db_metric")))
    print("  (verified: the Prosody's verified cell in /api/report/; peers: remote domains"
          " the report holds, /metrics report_peers; evil: names under evil.example on"
          " the index, which lists the 100 most recent; report.db: file+WAL)")
    if a.rss:
        before, peak, after = (int(x or 0) for x in a.rss.split(","))
        print("responder RSS: before %d MiB, peak %d MiB, at the end %d MiB"
              % ((before + 1023) // 1024, (peak + 1023) // 1024, (after + 1023) // 1024))

    print()
    print("the attacks:")
    for ph in phases:
        for line in run.attack_lines(ph):
            print("  %-9s %s" % (ph, line))

    # --- targets ---------------------------------------------------------
    attacked = [p for p in phases if p not in ("baseline", "after")]
    worst = max(((run.ping(p)["p99"] or 0.0, p) for p in phases), default=(0.0, "-"))
    lost = sum(run.ping(p)["sent"] - run.ping(p)["ok"] for p in phases)
    targets.append(("honest ping p99 under %g ms in every phase" % PING_P99_MS,
                    worst[0] < PING_P99_MS and lost == 0,
                    "worst %s: %.1f ms; %d unanswered" % (worst[1], worst[0], lost)))
    bad = ["%s %s" % (p, " ".join(x[:4])) for p in phases for x in run.probes(p)
           if not run.probe_ok(x, ref)]
    n = sum(len(run.probes(p)) for p in phases)
    none = [p for p in phases if not run.probes(p)]
    targets.append(("every honest probe starts and ends as without an attack",
                    n > 0 and not bad and not none,
                    "%d of %d%s%s" % (n - len(bad), n, "; failed: " + "; ".join(bad[:4])
                                      if bad else "", "; none in " + ",".join(none)
                                      if none else "")))
    fails = {p: run.logins(p) for p in phases}
    bad = ["%s %d/%d" % (p, len(ok), t) for p, (t, ok) in fails.items() if len(ok) < t or not t]
    targets.append(("every honest login to the test account succeeds", not bad,
                    "all %d" % sum(t for t, _ in fails.values()) if not bad
                    else "short in " + ", ".join(bad)))
    fails = {p: run.challenges(p) for p in phases}
    bad = ["%s %d/%d" % (p, len(ok), t) for p, (t, ok) in fails.items() if len(ok) < t or not t]
    slowest = max((max(ok) for _, ok in fails.values() if ok), default=0)
    targets.append(("every ACME challenge fetch succeeds", not bad,
                    ("all %d, slowest %.0f ms" % (sum(t for t, _ in fails.values()), slowest))
                    if not bad else "short in " + ", ".join(bad)))
    lost = [p for p in phases if run.snap.get(p, {}).get("verified") != "yes"]
    targets.append(("no verified peer evicted (the Prosody's verified cell kept)",
                    not lost and all(p in run.snap for p in phases),
                    "kept after every phase" if not lost else "gone after " + ", ".join(lost)))
    print()
    print("targets (issue 21; attacked phases: %s):" % " ".join(attacked))
    for what, ok, detail in targets:
        print("  %-9s %s: %s" % ("met" if ok else "NOT MET", what, detail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
