#!/bin/bash
# test_tls_versions.sh -- a profile's TLS versions hold on both inbound
# listeners (issue 9): `init` into a temporary directory with free loopback
# ports, `run`, then tls_versions.py offers each TLS version alone to
# tls13-only, legacy-tls and valid over STARTTLS (domain from 'to') and over
# direct TLS (domain from SNI only). Needs no root and no network namespace.
# Usage: test_tls_versions.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d)
PID=""
. "$HERE/testlib.sh"
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# listening PORT: something accepts on 127.0.0.1:PORT.
listening() { ss -ltnH "sport = :$1" | grep -q .; }
tls_listeners() { listening "$S2S" && listening "$DIRECT"; }

BASE=tlsversions.example
started=""
daemon_start "$RS" $BASE "$T/s" "$T/run.log" tls_listeners && started=1
if [ -z "$started" ]; then
    fail "the daemon listens on 127.0.0.1 ports $S2S (STARTTLS) and $DIRECT (direct TLS)"
    summary
    exit 1
fi
pass "the daemon listens on 127.0.0.1 ports $S2S (STARTTLS) and $DIRECT (direct TLS)"

# One line per handshake; each "ok"/"not ok" line counts.
while IFS= read -r line; do
    case $line in
        "ok - "*) pass "${line#ok - }" ;;
        "not ok - "*) fail "${line#not ok - }" ;;
        *) echo "# $line" ;;
    esac
done < <(/usr/bin/python3 "$HERE/tls_versions.py" --host 127.0.0.1 --port "$S2S" \
             --direct-port "$DIRECT" --base "$BASE" 2>&1)
check "24 handshakes judged" test $((PASSED + FAILED)) -eq 25

check "the daemon survived" kill -0 "$PID"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=""
check "the daemon exits with status 0 on SIGTERM (got $rc)" test "$rc" -eq 0
if [ "$FAILED" -ne 0 ]; then
    echo "# daemon log (tail):"
    tail -n 30 "$T/run.log" | sed 's/^/#   /'
fi
summary
