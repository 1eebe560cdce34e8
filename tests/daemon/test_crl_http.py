#!/usr/bin/env python3
"""test_crl_http.py -- the test CA's CRL as a checking server finds it
(crl.h): the CRL Distribution Point of a test-CA leaf names the daemon's own
web listener; GET there gives the DER CRL, signed by the intermediate,
listing revoked's serial, with a future nextUpdate that the cache headers
repeat; certtool with that CRL refuses the revoked leaf and accepts the
valid one; a stale crl.pem is re-signed when the daemon starts, keeping its
serials. Real daemon, unprivileged, ephemeral loopback ports (daemonlib.py),
real certtool. Needs no root.

Usage: test_crl_http.py PATH/TO/xmpp-responder"""

import calendar
import email.utils
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import BASE, Checks, Daemon  # noqa: E402

T = Checks()
WEEK = 7 * 24 * 3600


def certtool(*args):
    """certtool's stdout+stderr and exit status."""
    p = subprocess.run(["certtool", *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.stdout.decode(errors="replace"), p.returncode


def leaf_info(path):
    """certtool -i of the first certificate of path."""
    return certtool("-i", "--infile", path)[0]


def serial_of(info):
    m = re.search(r"Serial Number \(hex\): ([0-9a-f]+)", info)
    return m.group(1) if m else None


def crl_dates(info):
    """(thisUpdate, nextUpdate) as unix times from certtool --crl-info."""
    def when(label):
        m = re.search(label + r": (\w{3} \w{3} +\d+ [\d:]+ UTC \d{4})", info)
        return calendar.timegm(time.strptime(m.group(1), "%a %b %d %H:%M:%S UTC %Y")) \
            if m else None
    return when("Issued"), when("Next at")


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def fetch_crl(d, path, tag):
    """GET the CRL; (DER file, PEM file, certtool --crl-info text)."""
    status, headers, body = get(d.http_port, path)
    T.check("%s: GET %s is 200 application/pkix-crl" % (tag, path),
            status == 200 and headers.get("content-type") == "application/pkix-crl",
            "%s %s" % (status, headers.get("content-type")))
    der = os.path.join(d.dir, tag + ".crl")
    pem = os.path.join(d.dir, tag + ".crl.pem")
    with open(der, "wb") as f:
        f.write(body)
    info, rc = certtool("--crl-info", "--inder", "--infile", der, "--outfile", pem)
    info = open(pem).read() if rc == 0 else info
    T.check("%s: the body is a DER CRL certtool reads" % tag,
            rc == 0 and "Revocation List" in info, info[-300:])
    return der, pem, info, headers


def check_served(d):
    certs = os.path.join(d.state, "certs")
    revoked = os.path.join(certs, "revoked.%s.pem" % BASE)
    valid = os.path.join(certs, "valid.%s.pem" % BASE)
    rinfo = leaf_info(revoked)
    url = "http://%s:%d/crl/intermediate.crl" % (BASE, d.http_port)
    T.check("revoked's leaf names the daemon's listener as CRL Distribution Point",
            "URI: " + url in rinfo, rinfo[:1500])
    T.check("valid's leaf names it too", "URI: " + url in leaf_info(valid))
    T.check("a self-signed leaf names none",
            "Distribution" not in leaf_info(
                os.path.join(certs, "self-signed.%s.pem" % BASE)))

    der, pem, info, headers = fetch_crl(d, urllib.parse.urlparse(url).path, "served")
    serial = serial_of(rinfo)
    T.check("the CRL is the intermediate's",
            "Issuer: CN=xmpp-responder test intermediate" in info, info[:400])
    T.check("it lists revoked's serial %s" % serial,
            serial is not None and ("Serial Number (hex): " + serial) in info)
    this_update, next_update = crl_dates(info)
    now = time.time()
    T.check("nextUpdate is in the future, thisUpdate + 7 days",
            this_update and next_update and next_update > now + 6 * 24 * 3600
            and next_update - this_update == WEEK, "%s %s" % (this_update, next_update))
    expires = email.utils.parsedate_to_datetime(headers.get("expires", "x, 1 Jan 1970"))
    T.check("Expires is nextUpdate", int(expires.timestamp()) == next_update,
            headers.get("expires"))
    m = re.fullmatch(r"public, max-age=(\d+)", headers.get("cache-control", ""))
    T.check("Cache-Control lets caches keep it until nextUpdate",
            m and abs(int(m.group(1)) - (next_update - now)) < 30,
            headers.get("cache-control"))
    intermediate = os.path.join(certs, "intermediate.pem")
    out, rc = certtool("--verify-crl", "--load-ca-certificate", intermediate,
                       "--infile", pem)
    T.check("the intermediate's signature on it verifies",
            rc == 0 and "Verification output: Verified" in out, out[-300:])
    ca = os.path.join(certs, "ca.pem")
    out, rc = certtool("--verify", "--load-ca-certificate", ca, "--load-crl", pem,
                       "--infile", revoked)
    T.check("certtool with the served CRL refuses revoked's chain as revoked",
            rc != 0 and "The certificate chain is revoked" in out, out[-300:])
    out, rc = certtool("--verify", "--load-ca-certificate", ca, "--load-crl", pem,
                       "--infile", valid)
    T.check("and still accepts valid's chain",
            rc == 0 and "Chain verification output: Verified" in out, out[-300:])
    status, headers, _ = get(d.http_port, "/crl/other.crl")
    T.check("another name under /crl/ is 404", status == 404, str(status))
    check_root_crl(d, certs, pem, revoked, valid)
    return serial


def check_root_crl(d, certs, inter_pem, revoked, valid):
    """The intermediate names the root's CRL, served too: with both CRLs a
    verifier that checks every link of the chain has what it needs."""
    intermediate = os.path.join(certs, "intermediate.pem")
    url = "http://%s:%d/crl/ca.crl" % (BASE, d.http_port)
    T.check("the intermediate names the root's CRL as its CDP",
            "URI: " + url in leaf_info(intermediate))
    T.check("the root names none",
            "Distribution" not in leaf_info(os.path.join(certs, "ca.pem")))
    _, pem, info, _ = fetch_crl(d, "/crl/ca.crl", "root")
    ca = os.path.join(certs, "ca.pem")
    out, rc = certtool("--verify-crl", "--load-ca-certificate", ca, "--infile", pem)
    T.check("the root's CRL is signed by the root and lists nothing",
            rc == 0 and "Verification output: Verified" in out
            and "Revoked certificates" not in info, out[-300:])
    both = os.path.join(d.dir, "both.crl.pem")
    with open(both, "w") as f:
        f.write(open(inter_pem).read() + open(pem).read())
    out, rc = certtool("--verify", "--load-ca-certificate", ca, "--load-crl", both,
                       "--infile", valid)
    T.check("with both CRLs valid's chain verifies",
            rc == 0 and "Chain verification output: Verified" in out, out[-300:])
    out, rc = certtool("--verify", "--load-ca-certificate", ca, "--load-crl", both,
                       "--infile", revoked)
    T.check("and revoked's is refused as revoked",
            rc != 0 and "The certificate chain is revoked" in out, out[-300:])


def stale_crl(d, serial):
    """A CRL signed three days ago (certtool), listing revoked only."""
    certs = os.path.join(d.state, "certs")
    leaf = os.path.join(d.dir, "revoked-leaf.pem")
    with open(os.path.join(certs, "revoked.%s.pem" % BASE)) as f:
        text = f.read()
    with open(leaf, "w") as f:
        f.write(text[:text.index("-----END CERTIFICATE-----") + 26])
    tmpl = os.path.join(d.dir, "crl.tmpl")
    then = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 3 * 86400))
    with open(tmpl, "w") as f:
        f.write('crl_this_update_date = "%s"\ncrl_next_update = 7\ncrl_number = 5\n'
                % then)
    out, rc = certtool("--generate-crl", "--load-ca-privkey",
                       os.path.join(certs, "intermediate.key"),
                       "--load-ca-certificate", os.path.join(certs, "intermediate.pem"),
                       "--load-certificate", leaf, "--template", tmpl,
                       "--outfile", os.path.join(certs, "crl.pem"))
    T.check("certtool wrote a three-day-old crl.pem", rc == 0 and serial in out,
            out[-300:])


def restart(d):
    rc = d.stop()
    T.check("SIGTERM: exit status 0 (got %s)" % rc, rc == 0, d.log()[-500:])
    d.log_path = os.path.join(d.dir, "run2.log")
    d.proc = subprocess.Popen([d.responder, "run", "-c", d.conf],
                              stdout=open(d.log_path, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 15
    while time.time() < deadline and d.alive() and not d.serving():
        time.sleep(0.05)
    T.check("the daemon restarts on the same state", d.serving(), d.log()[-500:])


def main():
    with Daemon(sys.argv[1]) as d:
        serial = check_served(d)
        if serial:
            stale_crl(d, serial)
            restart(d)
            _, _, info, _ = fetch_crl(d, "/crl/intermediate.crl", "resigned")
            this_update, next_update = crl_dates(info)
            T.check("a three-day-old CRL is re-signed at start (thisUpdate now)",
                    this_update and abs(this_update - time.time()) < 60,
                    str(this_update))
            T.check("keeping revoked's serial",
                    ("Serial Number (hex): " + serial) in info)
            T.check("the log says it re-signed", "crl: re-signed" in d.log(),
                    d.log()[-500:])
        rc = d.stop()
        T.check("SIGTERM after the restart: exit status 0 (got %s)" % rc, rc == 0,
                d.log()[-500:])
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
