#!/usr/bin/env python3
"""tls_versions.py -- which TLS versions a responder's domains complete a
handshake with, on both inbound listeners: STARTTLS on the s2s port (the
domain chosen by the stream's 'to', no SNI) and direct TLS (XEP-0368) with
the domain chosen by SNI only. Each handshake offers exactly one version
(Python's OpenSSL at security level 0, so TLS 1.0/1.1 can still be offered).

Expected: tls13-only takes 1.3 only; legacy-tls 1.0 and 1.1 only; valid 1.2
and 1.3 only (RFC 8996). A refusal is any handshake that does not complete
with the version offered. Prints "ok - ..." / "not ok - ..." per handshake
and exits 1 if any line is "not ok".

Usage: tls_versions.py --host H --port S2S --direct-port DIRECT --base BASE
"""
import argparse
import os
import socket
import ssl
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from binding import header, step  # noqa: E402  (the scripted s2s peer)
from hostile import PROLOG, Stream  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLSv1, TLSv1_1

VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
            "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
NAMES = {"TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
EXPECT = {"tls13-only": {"1.3"}, "legacy-tls": {"1.0", "1.1"}, "valid": {"1.2", "1.3"}}


def context(version):
    """A client that offers exactly `version` and does not judge the
    certificate (the profiles' certificates are not what is tested here)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def handshake(sock, version, sni):
    """The version negotiated, or why the handshake did not complete."""
    sock.setblocking(True)
    sock.settimeout(5)
    try:
        with context(version).wrap_socket(sock, server_hostname=sni) as tls:
            return NAMES.get(tls.version(), tls.version()), None
    except (OSError, ssl.SSLError) as e:
        return None, str(e)


def over_starttls(args, domain, version):
    s = Stream(args.host, args.port)
    try:
        step(s, PROLOG + header(domain), rb"<starttls", "no STARTTLS offered")
        step(s, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", rb"<proceed",
             "no <proceed/>")
        return handshake(s.sock, version, None)
    except RuntimeError as e:
        s.sock.close()
        return None, "before TLS: %s" % e


def over_direct_tls(args, domain, version):
    return handshake(socket.create_connection((args.host, args.direct_port), timeout=5),
                     version, domain)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--direct-port", type=int, required=True)
    ap.add_argument("--base", required=True)
    args = ap.parse_args()
    failed = 0
    listeners = [("STARTTLS port %d" % args.port, over_starttls),
                 ("direct TLS port %d, SNI" % args.direct_port, over_direct_tls)]
    for profile, accepted in EXPECT.items():
        domain = "%s.%s" % (profile, args.base)
        for where, connect in listeners:
            for version in VERSIONS:
                got, why = connect(args, domain, version)
                want = version in accepted
                ok = (got == version) if want else (got is None)
                failed += not ok
                print("%s - %s: %s TLS %s %s (%s)" % (
                    "ok" if ok else "not ok", where, domain, version,
                    "accepted" if want else "refused",
                    "got TLS %s" % got if got else why))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
