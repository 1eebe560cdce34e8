#!/usr/bin/python3
"""test_probe_reach.py -- a probe that cannot reach its target says so
(responder/service/probe.c, cli/cmd_probe.c): every row is `unknown`, never
`refused`, the command says why in one line and exits 2, so that a CI job
reading the exit status does not take a network fault for a regression.
Against a real unbound (netlib.py):
  nothing.nx.example   the name does not exist (NXDOMAIN, no SRV, no A)
  x.refused.example    its SRV points at a loopback port where nothing listens
The daemon's own resolver down is test_control_socket.py's case (its DNS is
a dead port). The report of the same outcomes says `network`, as the probe.
Usage: test_probe_reach.py XMPP-RESPONDER."""
import json
import subprocess
import sys

from netlib import dom, report_cell, run

LIMITS = {"connect_timeout": 2}


def probe(env, target, *args):
    r = subprocess.run([env.r.binary, "probe", "-c", env.r.conf, *args, target],
                       capture_output=True, text=True, timeout=90)
    return r.returncode, r.stdout, r.stderr


def domains(env):
    out = subprocess.run([env.r.binary, "catalog", "--format", "tsv"],
                         capture_output=True, text=True, check=True).stdout
    return len([ln for ln in out.splitlines()[1:] if ln.strip()])


def unreached_json(env, target, why):
    rc, out, err = probe(env, target, "--json")
    assert rc == 2, "exit %d, want 2 (nothing was tested)\n%s\n%s" % (rc, out[-800:], err[-800:])
    doc = json.loads(out)
    rows = doc["domains"]
    assert len(rows) == domains(env), (len(rows), domains(env))
    assert all(x["result"] == "unknown" and x["mark"] == "unknown"
               and not x["accepted"] for x in rows), [x for x in rows if x["result"] != "unknown"][:2]
    assert doc["reached"] is False and why in doc["unreached"], doc["unreached"]
    assert doc["passed"] is False and doc["differences"] == [], doc["differences"]
    s = doc["summary"]
    assert s["unknown"] == len(rows) and s["refused"] == 0 and s["differences"] == 0, s
    assert doc["milliseconds"] >= 0
    return rows


def t_a_name_that_does_not_exist(env):
    """NXDOMAIN: every row unknown with the reason, exit 2 in text and JSON."""
    target = "nothing.nx.example"
    why = "nothing.nx.example does not exist in DNS"
    rows = unreached_json(env, target, why)
    assert all(why in x["detail"] for x in rows), rows[0]["detail"]
    # the report agrees: nobody refused anything
    cell = report_cell(env, target, dom("valid"), "out",
                       lambda rec: rec.get("refused_by") == "network")
    assert cell["out"]["refused_by"] == "network", cell


def t_b_the_text_says_why_in_one_line(env):
    target = "again.nx.example"
    rc, out, err = probe(env, target)
    assert rc == 2, (rc, out[-600:], err[-600:])
    lines = out.splitlines()
    rows = [ln for ln in lines if ln.startswith("unknown ")]
    assert len(rows) == domains(env), (len(rows), out[:600])
    assert not any(ln.startswith(("DIFF", "OK ")) for ln in lines), out[:800]
    result = [ln for ln in lines if ln.startswith("result: ")]
    assert result == ["result: no stream reached again.nx.example, so nothing was tested: "
                      "again.nx.example does not exist in DNS: no _xmpp-server SRV "
                      "record and no address"], result
    assert any(ln.startswith("time: ") and ln.endswith(" s") for ln in lines), lines[-3:]
    assert "unknown)" in err or "unknown" in err, err[-300:]


def t_c_nothing_listens_where_its_srv_points(env):
    """connect refused at the only address: unknown, the public reason only
    (what listens there is not told: S2S_OUT_FAILED_PUBLIC)."""
    target = "x.refused.example"
    rows = unreached_json(env, target, "nothing answered where x.refused.example's DNS points")
    assert not any("refused" in x["detail"].replace("x.refused.example", "")
                   for x in rows), rows[0]["detail"]
    assert env.r.wait_log(r"probe target=x\.refused\.example event=end domains=\d+ pong=0 "
                          r"error=0 refused=0 timeout=0 unknown=\d+")


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
