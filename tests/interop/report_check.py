#!/usr/bin/python3
"""report_check.py -- the responder's /api/report/PEER against what really happened.

Usage: report_check.py REPORT.json PINGS.txt PEER-NAME [RESTARTED.json]

REPORT.json is /api/report/staging.example fetched right after a peer pinged
every test domain; PINGS.txt holds the pinger's RESULT lines (ground truth:
did the pong arrive). Every cell must agree with it: a pong means the report
says "accepted" with both legs authenticated; no pong means it does not say
"accepted". On top, the facts the issue names for particular peers. With
RESTARTED.json (the same report after a daemon restart), the cells must be
unchanged. Prints "PASS text" / "FAIL text" lines for the shell harness.
"""
import json
import sys


def main():
    report = json.load(open(sys.argv[1]))
    pings = {}
    for line in open(sys.argv[2]):
        f = line.rstrip("\n").split("\t")
        if f[0] == "RESULT":
            pings[f[1]] = f[2]
    peer = sys.argv[3]
    cells = {c["profile"]: c for c in report["domains"]}
    out = []

    def check(ok, text):
        out.append(("PASS " if ok else "FAIL ") + text)

    bad = []
    for c in report["domains"]:
        got = pings.get(c["domain"])
        if got == "pong":
            legs_ok = all(c[leg] and c[leg]["auth"] == "ok" for leg in ("in", "out"))
            if c["seen"] != "accepted" or not legs_ok:
                bad.append("%s: pong, report says %s (%s)" % (c["profile"], c["seen"], c["explanation"]))
        elif got is not None and c["seen"] == "accepted":
            bad.append("%s: no pong (%s), report says accepted (%s)" % (c["profile"], got, c["explanation"]))
        if c["seen"] != "nothing seen" and not c["explanation"]:
            bad.append("%s: no explanation" % c["profile"])
    check(not bad, "%s: every report cell agrees with the pings (%d cells)%s" %
          (peer, len(cells), "".join("\n    " + b for b in bad)))
    s = report["summary"]
    check(sum(s.values()) == len(cells), "%s: summary %s covers every cell" % (peer, s))

    def cell_has(label, seen, verdict, *words):
        c = cells[label]
        text = json.dumps(c)
        missing = [w for w in words if w not in text]
        check(c["seen"] == seen and c["verdict"] == verdict and not missing,
              "%s: %s is %s/%s, mentions %s (got %s/%s: %s)" %
              (peer, label, seen, verdict, words, c["seen"], c["verdict"], c["explanation"]))

    if peer == "prosody-strict":
        cell_has("expired", "refused", "ok", "certificate has expired")
        cell_has("self-signed", "refused", "ok")
        le = cells["le-tlsserver"]
        check(le["seen"] == "accepted" and le["verdict"] == "ok" and
              le["in"]["auth_used"] == "EXTERNAL" and le["out"]["auth_used"] == "EXTERNAL" and
              le["in"]["stanza"].startswith("received iq") and le["out"]["stanza"].startswith("sent"),
              "%s: le-tlsserver: pong over SASL EXTERNAL both ways (%s)" % (peer, le["explanation"]))
        check(s["wrong"] == 0, "%s: a strict Prosody is never wrong (%s)" % (peer, s))
    elif peer == "prosody-lenient":
        cell_has("expired", "accepted", "wrong")
        cell_has("self-signed", "accepted", "wrong")
    elif peer == "ejabberd-strict":
        cell_has("le-tlsserver", "refused", "wrong", "unsupported certificate purpose")
    elif peer == "ejabberd-dialback":
        cell_has("le-tlsserver-dialback", "accepted", "ok", "accepted our dialback (after SASL EXTERNAL refused")
    elif peer == "dialback-only":
        # Its dialback is verified (our verification stream must not fail on
        # le-tlsserver's "SASL EXTERNAL only" rule); our reply leg is what
        # cannot authenticate, by our rule, and the report says so.
        le = cells["le-tlsserver"]
        lin, lout = le["in"] or {}, le["out"] or {}
        why = (lout.get("auth_error") or "") + " " + le["explanation"]
        check(lin.get("auth") == "ok" and lin.get("auth_used") == "dialback" and
              lout.get("refused_by") == "us" and "EXTERNAL" in why and "offer" in why and
              "invalid-id" not in json.dumps(le),
              "%s: le-tlsserver: in leg by dialback, out leg refused by us for want of SASL "
              "EXTERNAL, no invalid-id blame (in %s/%s, out refused_by %s: %s)"
              % (peer, lin.get("auth"), lin.get("auth_used"), lout.get("refused_by"),
                 le["explanation"]))
        nd = cells["no-dialback"]["in"] or {}
        check(nd.get("refused_by") == "us" and nd.get("auth_used") == "dialback",
              "%s: no-dialback: we refused its dialback (in leg refused_by %s, auth_used %s: %s)"
              % (peer, nd.get("refused_by"), nd.get("auth_used"), cells["no-dialback"]["explanation"]))
        # It ignores _xmpps-server and dials direct-tls on 5269: refused at
        # the header with host-unknown, and the cell shows that it tried.
        dt = cells["direct-tls"]
        din = dt["in"] or {}
        check(din.get("refused_by") == "us" and din.get("step") == "stream" and
              "host-unknown" in din.get("close", "") and
              "we refused your server at the stream header" in dt["explanation"],
              "%s: direct-tls: its try on the STARTTLS port shows in the cell (in leg "
              "refused_by %s at %s: %s)" % (peer, din.get("refused_by"), din.get("step"),
                                            dt["explanation"]))

    if len(sys.argv) > 4:
        again = json.load(open(sys.argv[4]))
        before = [(c["domain"], c["seen"], c["verdict"]) for c in report["domains"]]
        after = [(c["domain"], c["seen"], c["verdict"]) for c in again["domains"]]
        check(before == after and len(again["history"]) > 0,
              "%s: after a restart the report is the same (%d cells, %d history entries)" %
              (peer, len(after), len(again["history"])))
    print("\n".join(out))


if __name__ == "__main__":
    main()
