#!/usr/bin/env python3
"""test_probe_budget.py -- probes are budgeted per requester (probe_budget.h)
on a real daemon run unprivileged (daemonlib.py: ephemeral loopback ports,
DNS to a dead loopback port, so every probe ends within milliseconds). Small
limits: probe_per_requester 2, probe_per_network 3, probe_per_hour 8.

  the attack   one address (127.0.0.1) asks for 10 probes of 10 targets
               (tests/load/attack_probe.py): 2 start, the rest get 429 with
               Retry-After and a text saying which budget and when
  others       a requester of another network (127.0.1.1) still starts one;
               a neighbour in 127.0.0.0/24 one more, then the network's
               budget says no; four newcomers use the total up, and the
               next gets 429 (JSON too)
  asking       GET /api/probe says when the requester's next probe may start
  operator     `xmpp-responder probe` (the control socket) is one requester
               with probe_per_hour of its own: it starts although the web
               used the total up, and its ninth is refused saying when
  metrics      probes_refused_total by limit
Each line of the issue's attack fails on 85b991b (one bucket for everyone).
Needs no root.

Usage: test_probe_budget.py PATH/TO/xmpp-responder"""

import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "load"))
from daemonlib import Checks, Daemon, read_all, set_limit  # noqa: E402
from attack_probe import flood, get, post_probe  # noqa: E402

T = Checks()
WHEN = re.compile(r"try again in (\d+) s \(at \d\d:\d\d:\d\d UTC\)")
PER_HOUR = 8
LIMITS = {"probe_per_hour": PER_HOUR, "probe_target_interval": 600,
          "probe_timeout": 2, "probe_concurrency": 64}
BUDGETS = {"probe_per_requester": 2, "probe_per_network": 3}


def set_budgets(conf):
    """The budgets per requester, where the build knows them (a build from
    before them runs the same test with the one bucket it has)."""
    for name, value in BUDGETS.items():
        try:
            set_limit(conf, name, value)
        except RuntimeError:
            print("# limits.%s: unknown to this build" % name)


def metric(port, name, label):
    _, _, body = get("127.0.0.1", port, "/metrics")
    m = re.search(r'(?m)^xmpp_responder_%s\{limit="%s"\} (\d+)$' % (name, label),
                  body.decode())
    return int(m.group(1)) if m else -1


def refusal_ok(st, h, body, budget):
    """A 429 with Retry-After whose text names budget and when to retry."""
    text = body.decode("utf-8", "replace")
    m = WHEN.search(text)
    return (st == 429 and h.get("retry-after", "").isdigit()
            and int(h["retry-after"]) > 0 and budget in text and m is not None
            and int(m.group(1)) == int(h["retry-after"])
            and "Your next probe may start in" in text)


def control(path, line):
    """One request on the control socket; the whole answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(line.encode())
    return read_all(s).decode("utf-8", "replace")


def test_web(d):
    port = d.http_port
    out = flood("127.0.0.1", port, "127.0.0.1", 10, "attack%d.example")
    T.check("one address asks for 10 probes: its 2 start, 8 get 429 (got %d, %d, "
            "%d other)" % (out["started"], out["refused"], out["other"]),
            out["started"] == 2 and out["refused"] == 8 and out["other"] == 0)
    first = out["first_refusal"] or {}
    text = first.get("text", "")
    T.check("the refusal: Retry-After, the requester's budget and when",
            first.get("retry_after", "").isdigit()
            and "127.0.0.1 has started its 2 probes of the hour (probe_per_requester)"
            in text and WHEN.search(text) is not None
            and "Your next probe may start in" in text, repr(first))

    st, h, body = post_probe("127.0.0.1", port, "honest.example", "127.0.1.1")
    T.check("a requester of another network still starts a probe: 303 (got %d)" % st,
            st == 303 and h.get("location") == "/report/honest.example")
    T.check("... and the page says when its next may start",
            b"Your next probe may start" in body, repr(body[-300:]))

    st, _, _ = post_probe("127.0.0.1", port, "neighbour.example", "127.0.0.2")
    T.check("a neighbour in 127.0.0.0/24 starts the network's third (got %d)" % st,
            st == 303)
    st, h, body = post_probe("127.0.0.1", port, "neighbour2.example", "127.0.0.3")
    T.check("the next neighbour: 429, the network's budget (got %d)" % st,
            refusal_ok(st, h, body, "the network 127.0.0.0/24 has started its 3 "
                       "probes of the hour (probe_per_network)"), repr(body[-400:]))

    sts = [post_probe("127.0.0.1", port, "new%d.example" % i, "127.0.%d.1" % i)[0]
           for i in range(2, 6)]
    T.check("four newcomers of four networks take what is left (got %s)" % sts,
            sts == [303] * 4)
    st, h, body = post_probe("127.0.0.1", port, "late.example", "127.0.6.1")
    T.check("the total (%d) is used up: 429 for a newcomer too (got %d)"
            % (PER_HOUR, st), refusal_ok(st, h, body, "probe_per_hour"), repr(body[-400:]))
    st, h, body = post_probe("127.0.0.1", port, "late.example", "127.0.6.1",
                             json_api=True)
    try:
        doc = json.loads(body)
        ok = (st == 429 and doc["started"] is False and doc["limit"] == "total"
              and doc["retry_after"] == int(h.get("retry-after", "-1")) > 0
              and WHEN.search(doc["error"]) is not None
              and doc["requester"] == "127.0.6.1"
              and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", doc["next_probe_at"]))
    except (ValueError, KeyError, TypeError):
        ok = False
    T.check("POST /api/probe: 429 JSON with the limit, retry_after = Retry-After, "
            "next_probe_at", ok, "%d %r" % (st, body[:300]))
    st, _, body = get("127.0.0.1", port, "/api/probe", "127.0.0.1")
    try:
        doc = json.loads(body)
        ok = (st == 200 and doc["requester"] == "127.0.0.1"
              and doc["network"] == "127.0.0.0/24" and doc["next_probe_in"] > 0
              and doc["limits"]["probe_per_requester"] == 2)
    except (ValueError, KeyError, TypeError):
        ok = False
    T.check("GET /api/probe: the requester, its network, when its next probe "
            "may start", ok, repr(body[:300]))


def test_operator(d):
    path = os.path.join(d.state, "control.sock")
    r = subprocess.run([d.responder, "probe", "-c", d.conf, "--json", "op1.example"],
                       capture_output=True, text=True, timeout=60)
    T.check("`xmpp-responder probe` starts although the web used the total up "
            "(exit 2: its DNS is a dead port, no row reached the target)",
            r.returncode == 2 and '"target":"op1.example"' in r.stdout.replace(" ", ""),
            "rc=%d %s" % (r.returncode, r.stderr[-300:]))
    T.check("... and says when the operator's next probe may start",
            "the operator's next probe may start now" in r.stderr, r.stderr[-300:])
    got = [control(path, "probe op%d.example\n" % i) for i in range(2, PER_HOUR + 1)]
    T.check("the operator's probes up to its own probe_per_hour start",
            all(g.startswith("start\top") and g.endswith("end\n") for g in got),
            repr([g[:60] for g in got]))
    r = subprocess.run([d.responder, "probe", "-c", d.conf, "op99.example"],
                       capture_output=True, text=True, timeout=60)
    T.check("the next: exit 2, its own budget used up and when to try again",
            r.returncode == 2 and "local operator's own %d probes of the hour"
            % PER_HOUR in r.stderr and WHEN.search(r.stderr) is not None,
            "rc=%d %s" % (r.returncode, r.stderr[-300:]))
    got = control(path, "probe honest.example\n")
    T.check("the per-target interval holds for the operator too",
            got.startswith("error\trate limited: honest.example was probed")
            and WHEN.search(got) is not None, repr(got))


def test_counts(d):
    counts = {k: metric(d.http_port, "probes_refused_total", k)
              for k in ("requester", "network", "total", "local", "target")}
    T.check("/metrics counts the refusals by budget (%s)" % counts,
            counts["requester"] == 8 and counts["network"] == 1
            and counts["total"] == 2 and counts["local"] == 1
            and counts["target"] == 1)
    T.check("the log names the refused requester and the budget",
            "event=refused requester=127.0.0.1 network=127.0.0.0/24 "
            "limit=requester" in d.log())


def main():
    d = Daemon(sys.argv[1], limits=LIMITS, edit=set_budgets)
    return d.run_checks(T, test_web, test_operator, test_counts)


if __name__ == "__main__":
    sys.exit(main())
