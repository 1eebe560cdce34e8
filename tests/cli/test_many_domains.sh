#!/bin/bash
# test_many_domains.sh -- a config with more than DOMAINS_EAGER_MAX (1,000)
# domains: the daemon starts without reading their certificates, loads each
# on its first handshake (and judges it against its row then), and a domain
# whose files are missing fails alone, while `check` still reads them all and
# refuses the config. Unprivileged, loopback only.
# Usage: test_many_domains.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
T=$(mktemp -d)
PID=""
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
command -v gnutls-cli >/dev/null || { echo "SKIP: gnutls-cli is not installed (gnutls-bin)"; exit 77; }
BASE=many.test
EXTRA=1200

# init, then EXTRA more domains on valid's files; the last one's are missing
rs_many() {
    case $1 in
    init)
        "$RS" "$@" || return
        local conf=$3/responder.conf
        [ "$2" = --base-domain ] && conf=$5/responder.conf
        python3 - "$conf" "$EXTRA" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
s = open(path).read()
base = s.split('base_domain = "')[1].split('"')[0]
rows = ''.join('  { name = "d%d.%s"; profile = "valid"; cert = "certs/%s.pem"; key = "certs/%s.key"; },\n'
               % (i, base, ("valid." + base) if i < n - 1 else "missing", ("valid." + base) if i < n - 1 else "missing")
               for i in range(n))
i = s.index('(', s.index('domains = (')) + 1
open(path, 'w').write(s[:i] + '\n' + rows + s[i:])
EOF
        ;;
    run) exec "$RS" "$@" ;; # $! must be the daemon itself
    esac
}
ready() { curl -fsS -o /dev/null "http://127.0.0.1:$HTTP/metrics" 2>/dev/null; }
if ! daemon_start rs_many "$BASE" "$T/state" "$T/run.log" ready; then
    fail "the daemon starts with $EXTRA more domains"; sed 's/^/#   /' "$T/run.log" | tail; summary; exit
fi
pass "the daemon starts with $EXTRA more domains, one of them with missing files"
check "it says the certificates load on first use" grep -q "each loads its certificate on first use" "$T/run.log"
check "no certificate of the extra domains was judged at start" \
    bash -c "! grep -q 'certificate of d[0-9]*.$BASE' '$T/run.log'"

handshake() {
    gnutls-cli --insecure -p "$DIRECT" --sni-hostname "$1" 127.0.0.1 </dev/null 2>&1
}
out=$(handshake "d5.$BASE")
check "a handshake for d5 presents valid's certificate, loaded on first use" \
    grep -q "subject .CN=valid.$BASE" <<<"$out"
check "d5's certificate is judged against its row when it loads" \
    grep -q "certificate of d5.$BASE does not match its row (valid): names" "$T/run.log"
out=$(handshake "d$((EXTRA - 1)).$BASE")
check "the domain with missing files presents nothing: the handshake fails" \
    bash -c "! grep -q 'Handshake was completed' <<<'$out'"
check "the log names it" \
    grep -q "d$((EXTRA - 1)).$BASE: its certificate or key cannot be loaded" "$T/run.log"
out=$(handshake "valid.$BASE")
check "other domains still work" grep -q "subject .CN=valid.$BASE" <<<"$out"
curl -fsS "http://127.0.0.1:$HTTP/api/domains" >"$T/domains.json"
check "/api/domains: d5 loaded, d6 not yet" python3 -c '
import json, sys
d = {x["domain"]: x["certificate"] for x in json.load(open(sys.argv[1]))["domains"]}
assert d["d5." + sys.argv[2]]["loaded"] is True, d["d5." + sys.argv[2]]
assert d["d6." + sys.argv[2]] == {"loaded": False, "public_source": d["d6." + sys.argv[2]]["public_source"]}
' "$T/domains.json" "$BASE"
kill -TERM "$PID"; wait "$PID"; PID=""

"$RS" check -c "$T/state/responder.conf" >"$T/check.out" 2>&1
status=$?
check "check reads every certificate and refuses the missing one (exit 1)" \
    test $status -eq 1 -a -n "$(grep 'missing.pem: cannot read' "$T/check.out")"
summary
