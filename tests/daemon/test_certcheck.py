#!/usr/bin/env python3
"""test_certcheck.py -- what each test domain really presents, against its
catalog row (responder/pki/certcheck.c): a fresh `init` matches every row; a
le-tlsserver that presents valid's certificate (both EKUs, another name: what
a public CA's certificate with clientAuth would do to the row) is flagged by
`check` (a warning, exit 0), in the daemon's log, on the index, in
/api/domains, and again after a SIGHUP that repairs it, no more. A daemon run
unprivileged on loopback (daemonlib.py). Usage: test_certcheck.py XMPP-RESPONDER"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon  # noqa: E402

T = Checks()
LE = "le-tlsserver." + BASE
VALID = "valid." + BASE
SWAP = ('{ name = "%s"; profile = "le-tlsserver"; }' % LE,
        '{ name = "%s"; profile = "le-tlsserver"; cert = "certs/%s.pem"; '
        'key = "certs/%s.key"; }' % (LE, VALID, VALID))


def swap(conf, back=False):
    with open(conf) as f:
        text = f.read()
    old, new = (SWAP[1], SWAP[0]) if back else SWAP
    if old not in text:
        raise RuntimeError("no le-tlsserver entry in %s" % conf)
    with open(conf, "w") as f:
        f.write(text.replace(old, new))


def present(text, label, other):
    """The conf text with LABEL's domain presenting OTHER's certificate."""
    dom, src = "%s.%s" % (label, BASE), "%s.%s" % (other, BASE)
    old = '{ name = "%s"; profile = "%s"; }' % (dom, label)
    if old not in text:
        raise RuntimeError("no %s entry" % label)
    return text.replace(old, '{ name = "%s"; profile = "%s"; cert = "certs/%s.pem"; '
                        'key = "certs/%s.key"; }' % (dom, label, src, src))


def check_shapes(rs, conf):
    """The 2026 shapes' own checks: each of no-cn, gen-y and
    expired-cross-sign presenting another row's certificate is flagged for
    what its row adds (`check` on a copy of the config)."""
    with open(conf) as f:
        text = f.read()
    text = present(text, "no-cn", "valid")
    text = present(text, "gen-y", "expired-cross-sign")
    text = present(text, "expired-cross-sign", "gen-y")
    copy = os.path.join(os.path.dirname(conf), "shapes.conf")
    with open(copy, "w") as f:
        f.write(text)
    p = subprocess.run([os.path.abspath(rs), "check", "-c", copy],
                       capture_output=True, text=True, timeout=60)
    out = p.stdout
    line = {l: " | ".join(x for x in out.splitlines() if "%s.%s (%s)" % (l, BASE, l) in x)
            for l in ("no-cn", "gen-y", "expired-cross-sign")}
    T.check("check: three certificates differ from their rows",
            p.returncode == 0 and "3 certificates differ from their row" in out, out)
    T.check("no-cn with a CN and a key id: both flagged",
            "and no subject CN" in line["no-cn"] and "key id:" in line["no-cn"], line["no-cn"])
    T.check("gen-y with clientAuth and an intermediate without EKU: flagged",
            "certificate 1 carries clientAuth" in line["gen-y"] and
            "the intermediate's EKU is none" in line["gen-y"], line["gen-y"])
    T.check("expired-cross-sign whose cross-signature is valid: flagged",
            "has not expired" in line["expired-cross-sign"], line["expired-cross-sign"])


def get(d, path):
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def certs(d):
    status, body = get(d, "/api/domains")
    return {x["domain"]: x["certificate"] for x in json.loads(body)["domains"]}


def main():
    rs = sys.argv[1]
    with Daemon(rs) as fresh:
        cs = certs(fresh)
        bad = {k: v["mismatches"] for k, v in cs.items() if v["mismatches"]}
        T.check("a fresh init: every certificate matches its row (%d domains)" % len(cs),
                not bad and len(cs) > 30, bad)
        T.check("valid: test-ca, serverAuth clientAuth, chain of 2",
                (cs[VALID]["source"], cs[VALID]["ekus"], cs[VALID]["chain"]) ==
                ("test-ca", "serverAuth clientAuth", 2), cs[VALID])
        T.check("gen-y and expired-cross-sign send 3 certificates, no-cn 2",
                [cs["%s.%s" % (l, BASE)]["chain"] for l in
                 ("gen-y", "expired-cross-sign", "no-cn")] == [3, 3, 2], cs)
        check_shapes(rs, fresh.conf)

    with Daemon(rs, edit=swap) as d:
        p = subprocess.run([os.path.abspath(rs), "check", "-c", d.conf],
                           capture_output=True, text=True, timeout=60)
        lines = [l for l in p.stdout.splitlines() if "warning:" in l]
        T.check("check: exit 0, warnings for le-tlsserver only (%d)" % len(lines),
                p.returncode == 0 and lines and all(LE in l for l in lines), p.stdout + p.stderr)
        T.check("check names the EKU and the names",
                any("EKU: serverAuth clientAuth, the row says serverAuth only" in l for l in lines)
                and any("names: no dNSName %s" % LE in l for l in lines), p.stdout)
        T.check("check sums up: 1 certificate differs",
                "1 certificate differs from its row" in p.stdout, p.stdout)
        T.check("the daemon logs the mismatch at start",
                re.search(r"certificate of %s does not match its row \(le-tlsserver\): EKU"
                          % re.escape(LE), d.log()), d.log()[-1500:])
        cs = certs(d)
        T.check("/api/domains: le-tlsserver's mismatches, valid has none",
                any("EKU" in m for m in cs[LE]["mismatches"]) and not cs[VALID]["mismatches"],
                cs[LE])
        status, page = get(d, "/")
        T.check("the index says it beside the domain",
                status == 200 and 'class="mismatch"' in page and
                "certificate differs from the row" in page, page[:300])
        swap(d.conf, back=True)
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and certs(d)[LE]["mismatches"]:
            time.sleep(0.1)
        T.check("after SIGHUP with its own certificate again: no mismatch",
                not certs(d)[LE]["mismatches"], certs(d)[LE])
        status, page = get(d, "/")
        T.check("and the index no longer flags it", 'class="mismatch"' not in page)
    def public(conf):
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("public = false;", "public = true;"))
    with Daemon(rs, edit=public) as d:
        cs = certs(d)
        flagged = sorted(k.split(".")[0] for k, v in cs.items()
                         if any(m.startswith("source:") for m in v["mismatches"]))
        p = subprocess.run([os.path.abspath(rs), "catalog", "--format", "markdown"],
                           capture_output=True, text=True, timeout=30)
        acme = sorted(re.findall(r"^\| `([a-z0-9-]+)\.BASE` .*\| acme[-:]", p.stdout, re.M))
        T.check("public = true before any renewal: exactly the ACME rows are flagged "
                "(%d: %s)" % (len(flagged), " ".join(flagged)),
                flagged == acme and "valid" in flagged and "expired" in flagged, (flagged, acme))
        T.check("their expected source is acme; client-only stays test-ca",
                cs[VALID]["expected_source"] == "acme" and
                cs["client-only." + BASE]["expected_source"] == "test-ca" and
                not cs["client-only." + BASE]["mismatches"], cs["client-only." + BASE])
        status, page = get(d, "/")
        T.check("the index says what each row presents on a public instance",
                'class="source"' in page and "no public CA issues this certificate" in page)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
