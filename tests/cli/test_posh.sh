#!/bin/bash
# test_posh.sh -- POSH (RFC 7711/7712) for the posh profile: with `https`
# configured, https://posh.BASE/.well-known/posh/xmpp-server.json is served
# over a certificate from the test CA, and its sha-256 fingerprint is the one
# of the certificate the XMPP service of posh.BASE presents; other domains
# and paths get 404; bad https settings are FILE:LINE errors.
# Usage: test_posh.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
PY=/usr/bin/python3
T=$(mktemp -d)
PID=""
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT


BASE=posh.test
S2S=$(free_port); DIRECT=$(free_port); HTTPS=$(free_port)
"$RS" init --base-domain $BASE --dir "$T/s" --port "$S2S" --direct-port "$DIRECT" \
    --http-port 0 --client-port 0 >"$T/init.out" 2>&1
check "init writes the HTTPS certificate of posh.$BASE" test -s "$T/s/certs/posh.$BASE.https.pem"
check "init writes no HTTPS certificate for other profiles" test ! -e "$T/s/certs/valid.$BASE.https.pem"
check "the default config has https commented out" grep -q "^# https = { address" "$T/s/responder.conf"
CONF=$T/s/responder.conf
sed -i -E "s/^# https = \\{ address = \"127.0.0.1\"; port = 443; \\};/https = { address = \"127.0.0.1\"; port = $HTTPS; };/" "$CONF"
check "https enabled in the config" grep -q "^https = { address = \"127.0.0.1\"; port = $HTTPS; };" "$CONF"
check "check accepts it" "$RS" check -c "$CONF"

# bad settings: FILE:LINE and exit 1
cp "$CONF" "$T/bad.conf"
sed -i -E "s/^https = .*/https = { address = \"127.0.0.1\"; port = $S2S; };/" "$T/bad.conf"
"$RS" check -c "$T/bad.conf" >"$T/bad.out" 2>&1
check "https on an s2s port is refused with FILE:LINE" grep -Eq "bad\.conf:[0-9]+: https listener 127.0.0.1 port $S2S is also an s2s listener" "$T/bad.out"

"$RS" run -c "$CONF" >"$T/run.log" 2>&1 &
PID=$!
for _ in $(seq 50); do ss -ltnH "sport = :$HTTPS" | grep -q . && break; sleep 0.1; done
check "the daemon listens on the https port" ss -ltnH "sport = :$HTTPS"

URL=https://posh.$BASE:$HTTPS/.well-known/posh/xmpp-server.json
curl -sS --max-time 10 --cacert "$T/s/certs/ca.pem" --resolve "posh.$BASE:$HTTPS:127.0.0.1" \
    -o "$T/posh.json" -w '%{http_code} %{content_type}\n' "$URL" >"$T/code" 2>"$T/curl.err"
check "GET $URL: 200 application/json over a certificate the test CA vouches for ($(cat "$T/code" "$T/curl.err"))" \
    grep -q "^200 application/json" "$T/code"
"$PY" - "$T/posh.json" "$T/s/certs/posh.$BASE.pem" >"$T/fp.out" 2>&1 <<'PYEOF'
import base64, hashlib, json, ssl, sys
doc = json.load(open(sys.argv[1]))
pem = open(sys.argv[2]).read()
first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
want = base64.b64encode(hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).digest()).decode()
got = doc["fingerprints"][0]["sha-256"]
print("want", want, "got", got, "expires", doc["expires"])
sys.exit(0 if got == want and doc["expires"] > 0 else 1)
PYEOF
check "the fingerprint is the SHA-256 of the XMPP certificate of posh.$BASE ($(cat "$T/fp.out"))" \
    test "$(tail -n 1 "$T/fp.out" | cut -d' ' -f2)" = "$(tail -n 1 "$T/fp.out" | cut -d' ' -f4)"
# RFC 7711 service name xmpp-client: the same document for clients (the c2s
# ports present the same certificate)
CURL_CLIENT=https://posh.$BASE:$HTTPS/.well-known/posh/xmpp-client.json
curl -sS --max-time 10 --cacert "$T/s/certs/ca.pem" --resolve "posh.$BASE:$HTTPS:127.0.0.1" \
    -o "$T/posh-client.json" -w '%{http_code} %{content_type}\n' "$CURL_CLIENT" >"$T/code" 2>"$T/curl.err"
check "GET $CURL_CLIENT: 200 application/json ($(cat "$T/code" "$T/curl.err"))" \
    grep -q "^200 application/json" "$T/code"
check "xmpp-client.json has the same fingerprint as xmpp-server.json" \
    "$PY" -c 'import json,sys; a,b=(json.load(open(f))["fingerprints"] for f in sys.argv[1:]); sys.exit(0 if a==b and a else 1)' \
    "$T/posh.json" "$T/posh-client.json"
code=$(curl -s --max-time 10 --cacert "$T/s/certs/ca.pem" --resolve "posh.$BASE:$HTTPS:127.0.0.1" \
    -o /dev/null -w '%{http_code}' "https://posh.$BASE:$HTTPS/.well-known/posh/xmpp-other.json")
check "another POSH service name gets 404 (got $code)" test "$code" = 404
code=$(curl -s --max-time 10 -k --resolve "valid.$BASE:$HTTPS:127.0.0.1" -o /dev/null -w '%{http_code}' \
    "https://valid.$BASE:$HTTPS/.well-known/posh/xmpp-server.json")
check "a domain without the posh profile gets 404 (got $code)" test "$code" = 404
code=$(curl -s --max-time 10 --cacert "$T/s/certs/ca.pem" --resolve "posh.$BASE:$HTTPS:127.0.0.1" \
    -o /dev/null -w '%{http_code}' "https://posh.$BASE:$HTTPS/index.html")
check "another path gets 404 (got $code)" test "$code" = 404
code=$(curl -s --max-time 10 --cacert "$T/s/certs/ca.pem" --resolve "posh.$BASE:$HTTPS:127.0.0.1" \
    -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL")
check "POST gets 405 (got $code)" test "$code" = 405

# a slowloris crowd on 443 (tests/load/attack_web.py --tls: 8 addresses x 16
# connections trickling a ClientHello) holds every slot it can; the document
# is still served to another address, three times over, within 3 s each
"$PY" - "$HTTPS" "$T/s/certs/ca.pem" "posh.$BASE" "$(dirname "$(realpath "$0")")/../load" \
    >"$T/crowd.out" 2>&1 <<'PYEOF'
import socket, ssl, sys, time
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else ".")
from attack_web import Crowd, source_range
port, ca, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
crowd = Crowd("127.0.0.1", port, source_range("127.0.0.11-18"), 16, interval=1.0,
              seconds=20, reconnects=400, tls=True).start()
ok = crowd.wait_holding(64, 10)
print("crowd holding 64:", ok)
ctx = ssl.create_default_context(cafile=ca)
try:
    for i in range(3):
        t0 = time.time()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3,
                                          source_address=("127.0.0.30", 0)) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as s:
                    s.sendall(b"GET /.well-known/posh/xmpp-server.json HTTP/1.1\r\n"
                              b"Host: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
                    data = s.recv(4096)
        except OSError as e:
            data = repr(e).encode()
        took = time.time() - t0
        print("honest %d: %r in %.2f s" % (i, data[:15], took))
        ok = ok and data.startswith(b"HTTP/1.1 200") and took < 3
finally:
    crowd.stop()
print(crowd.figures())
sys.exit(0 if ok else 1)
PYEOF
CROWD_RC=$?

check "a slowloris crowd on the POSH port: the document still served ($(tr '\n' ' ' <"$T/crowd.out" | cut -c1-300))" \
    test "$CROWD_RC" -eq 0 -a "$(grep -c '^honest .*200' "$T/crowd.out")" -eq 3

kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
check "SIGTERM: exit status 0 (got $rc)" test "$rc" -eq 0
summary
