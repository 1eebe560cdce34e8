#!/bin/bash
# test_acme_install.sh -- `xmpp-responder acme plan|install` and the daemon's
# http-01 route, without an ACME server: uacme's confdir is laid out by hand
# with certtool (a "Fake ACME" root and intermediate; several generations of
# certificates, as renewals and revocations leave them), so that the choices
# that take months to happen for real are tested now: the newest expired
# certificate for `expired`, the newest revoked one still valid for
# `revoked`, the leaf alone for `missing-chain`, valid's for `wrong-name`; a
# key that does not match is refused and the installed files are kept.
# Runs unprivileged, loopback only.
# Usage: test_acme_install.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
T=$(mktemp -d)
PID=""
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
command -v certtool >/dev/null || { echo "SKIP: certtool is not installed (gnutls-bin)"; exit 77; }
BASE=acme.test
S=$T/state
U=$S/acme/uacme
CA=$T/ca
mkdir -p "$CA"

# cert NAME FILE FROM TO: a leaf for NAME valid FROM..TO (certtool dates),
# chained with the intermediate into FILE, keyed with private/NAME/key.pem.
cert() {
    local name=$1 file=$2 key=$U/private/$1/key.pem
    mkdir -p "$(dirname "$file")" "$(dirname "$key")"
    [ -s "$key" ] || certtool --generate-privkey --key-type=ecdsa --outfile "$key" 2>/dev/null
    printf 'dns_name = "%s"\ntls_www_server\ntls_www_client\nsigning_key\nactivation_date = "%s"\nexpiration_date = "%s"\n' \
        "$name" "$3" "$4" >"$CA/leaf.tmpl"
    certtool --generate-certificate --load-privkey "$key" --load-ca-certificate "$CA/int.pem" \
        --load-ca-privkey "$CA/int.key" --template "$CA/leaf.tmpl" --outfile "$CA/leaf.pem" 2>/dev/null &&
        cat "$CA/leaf.pem" "$CA/int.pem" >"$file"
}
not_after() { certtool -i --infile "$1" | sed -n 's/^\t\tNot After: //p' | head -n 1; }
count() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }

fake_acme_ca() {
    printf 'cn = "Fake ACME Root"\nca\ncert_signing_key\nexpiration_days = 3650\n' >"$CA/root.tmpl"
    printf 'cn = "Fake ACME Intermediate"\nca\ncert_signing_key\nexpiration_days = 3650\n' >"$CA/int.tmpl"
    certtool --generate-privkey --key-type=ecdsa --outfile "$CA/root.key" 2>/dev/null &&
    certtool --generate-self-signed --load-privkey "$CA/root.key" --template "$CA/root.tmpl" \
        --outfile "$CA/root.pem" 2>/dev/null &&
    certtool --generate-privkey --key-type=ecdsa --outfile "$CA/int.key" 2>/dev/null &&
    certtool --generate-certificate --load-privkey "$CA/int.key" --load-ca-certificate "$CA/root.pem" \
        --load-ca-privkey "$CA/root.key" --template "$CA/int.tmpl" --outfile "$CA/int.pem" 2>/dev/null
}

# What uacme leaves after months of renewals and one revocation per run.
lay_out_uacme() {
    local now past
    now=$(date -u +%Y-%m-%d)
    past() { date -u -d "$1 days ago" '+%Y-%m-%d %H:%M:%S'; }
    ahead() { date -u -d "$1 days" '+%Y-%m-%d %H:%M:%S'; }
    cert "valid.$BASE" "$U/valid.$BASE/cert.pem" "$(past 1)" "$(ahead 80)" &&
    cert "missing-chain.$BASE" "$U/missing-chain.$BASE/cert.pem" "$(past 1)" "$(ahead 80)" &&
    cert "expired.$BASE" "$U/expired.$BASE/cert-100.pem" "$(past 200)" "$(past 110)" &&
    cert "expired.$BASE" "$U/expired.$BASE/cert-200.pem" "$(past 120)" "$(past 30)" &&
    cert "expired.$BASE" "$U/expired.$BASE/cert.pem" "$(past 60)" "$(ahead 30)" &&
    cert "revoked.$BASE" "$U/revoked.$BASE/revoked-100.pem" "$(past 200)" "$(past 110)" &&
    cert "revoked.$BASE" "$U/revoked.$BASE/revoked-200.pem" "$(past 10)" "$(ahead 80)" &&
    cert "revoked.$BASE" "$U/revoked.$BASE/revoked-150.pem" "$(past 100)" "$(ahead 10)"
}

absent_grep() { ! grep -q "$1" "$2"; }
ready() { curl -fsS -o /dev/null "http://127.0.0.1:$HTTP/" 2>/dev/null; }

# ---- plan and install before the daemon runs ----------------------------------------------

"$RS" init --base-domain "$BASE" --dir "$T/staging" --client-port 0 >/dev/null 2>&1
"$RS" acme plan -c "$T/staging/responder.conf" >"$T/plan.staging" 2>&1
check "plan on a staging config: nothing to do, exit 0, and says why" \
    grep -q "not a public instance" "$T/plan.staging"

"$RS" init --base-domain "$BASE" --dir "$S" --client-port 0 --public >/dev/null 2>&1 ||
    { fail "init --public"; summary; exit; }
fake_acme_ca && lay_out_uacme || { fail "certtool could not lay out uacme's files"; summary; exit; }
"$RS" acme plan -c "$S/responder.conf" >"$T/plan" 2>&1
check "plan: state directory first" grep -qx "state	$S" <(head -n 1 "$T/plan")
check "plan: valid by http-01 with an EC key" grep -qx "issue	valid.$BASE	EC	256	valid.$BASE" "$T/plan"
check "plan: rsa2048 with an RSA key" grep -qx "issue	rsa2048.$BASE	RSA	2048	rsa2048.$BASE" "$T/plan"
check "plan: the wildcard by dns-01 for *.BASE" grep -qx "dns01	wildcard.$BASE	EC	256	\*.$BASE" "$T/plan"
check "plan: wrong-name issues nothing of its own" grep -q "^# wrong-name.$BASE: " "$T/plan"
check "plan: revoked needs nothing while a revoked one is valid for 30 more days" \
    grep -q "^# revoked.$BASE: revoked certificate .*revoked-200.pem" "$T/plan"
"$RS" acme plan -c "$S/responder.conf" --days 90 >"$T/plan90" 2>&1
check "plan --days 90: revoked needs a fresh revoked certificate" \
    grep -qx "revoke	revoked.$BASE	EC	256	revoked.$BASE" "$T/plan90"
for bad in "--days x" "--days 400" "frobnicate -c $S/responder.conf" "plan" "plan -c $S/responder.conf extra"; do
    # shellcheck disable=SC2086 # word lists on purpose
    "$RS" acme $bad >/dev/null 2>"$T/bad.err"
    check "bad usage 'acme $bad': exit 2 with a message" test $? -eq 2 -a -s "$T/bad.err"
done

"$RS" acme install -c "$S/responder.conf" >"$T/install" 2>&1
status=$?
check "install: exit 1, naming the rows uacme has nothing for (ecdsa, ...)" \
    test $status -eq 1 -a -n "$(grep "^ecdsa.$BASE: no acme certificate" "$T/install")"
L=$S/acme/live
check "install: valid = its own chain (2 certificates)" cmp -s "$L/valid.$BASE.pem" "$U/valid.$BASE/cert.pem"
check "install: valid's key is its uacme key" cmp -s "$L/valid.$BASE.key" "$U/private/valid.$BASE/key.pem"
check "install: keys are private (0600)" test "$(stat -c %a "$L/valid.$BASE.key")" = 600
check "install: wrong-name = valid's certificate" cmp -s "$L/wrong-name.$BASE.pem" "$U/valid.$BASE/cert.pem"
check "install: missing-chain = the leaf alone" test "$(count "$L/missing-chain.$BASE.pem")" = 1
check "install: expired = the newest expired (cert-200), not the current one" \
    test "$(not_after "$L/expired.$BASE.pem")" = "$(not_after "$U/expired.$BASE/cert-200.pem")"
check "install: revoked = the newest revoked still valid (revoked-200)" \
    test "$(not_after "$L/revoked.$BASE.pem")" = "$(not_after "$U/revoked.$BASE/revoked-200.pem")"
check "install: the wildcard waits for dns-01 without failing" \
    grep -q "^wildcard.$BASE: no acme certificate yet (a wildcard needs dns-01)" "$T/install"

# a key that does not belong to the certificate: refused, the old files kept
cp "$L/valid.$BASE.pem" "$T/valid.before"
certtool --generate-privkey --key-type=ecdsa --outfile "$U/private/valid.$BASE/key.pem" 2>/dev/null
"$RS" acme install -c "$S/responder.conf" >"$T/install2" 2>&1
check "install: a mismatched key is refused with GnuTLS's reason" \
    grep -q "^valid.$BASE: cannot install .*: .*key" "$T/install2"
check "install: the installed certificate is kept" cmp -s "$L/valid.$BASE.pem" "$T/valid.before"
"$RS" check -c "$S/responder.conf" >"$T/check" 2>&1
check "check: valid's certificate is the acme one (no warning)" absent_grep "valid.$BASE (valid):" "$T/check"
check "check: ecdsa still presents the test CA's and is flagged" grep -q "ecdsa.$BASE (ecdsa): source:" "$T/check"
check "check: expired now presents an expired acme certificate (no source warning)" \
    absent_grep "expired.$BASE (expired): source" "$T/check"

# ---- the daemon: live certificates and the http-01 route ----------------------------------

# daemon_start's init, on a public config, with the ACME files made above
mv "$S/acme" "$T/acme.saved"
rs_public() {
    case $1 in
    init) "$RS" "$@" --public && cp -a "$T/acme.saved" "$S/acme" ;;
    run) exec "$RS" "$@" ;; # $! must be the daemon itself
    esac
}
if ! daemon_start rs_public "$BASE" "$S" "$T/run.log" ready; then
    fail "the daemon starts on the public config"; sed 's/^/#   /' "$T/run.log"; summary; exit
fi
check "the direct TLS port presents valid's acme certificate" bash -c \
    "gnutls-cli --insecure -p $DIRECT --sni-hostname valid.$BASE 127.0.0.1 </dev/null 2>&1 | grep -q 'issuer .CN=Fake ACME Intermediate'"
mkdir -p "$S/acme/challenges"
printf 'tok-EN_1.key-auth\n' >"$S/acme/challenges/tok-EN_1"
URL=http://127.0.0.1:$HTTP/.well-known/acme-challenge
check "a challenge is served as written, without the newline" \
    test "$(curl -fsS "$URL/tok-EN_1")" = "tok-EN_1.key-auth"
check "it is served for any of our names (Host header)" \
    test "$(curl -fsS -H "Host: wrong-name.$BASE" "$URL/tok-EN_1")" = "tok-EN_1.key-auth"
check "an unknown token is 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" = 404
check "a path is never a token (..%2F)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/..%2Fresponder.conf")" = 404
ln -s "$S/responder.conf" "$S/acme/challenges/link"
check "a symlink is not followed" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/link")" = 404
head -c 4096 /dev/zero >"$S/acme/challenges/big"
check "an oversized answer is not served" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/big")" = 404
kill -TERM "$PID"; wait "$PID"; PID=""
summary
