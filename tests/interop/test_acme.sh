#!/bin/bash
# test_acme.sh -- a public instance's certificates from a real ACME CA.
#
# Debian's pebble is the ACME CA inside the namespace, resolving the test
# domains through our unbound; the responder (init --public) answers its
# http-01 challenges on its own HTTP listener; deploy/acme-renew drives
# Debian's uacme. Then gnutls-cli shows that valid, le-tlsserver, wrong-name
# and missing-chain present what their rows say (issuer = pebble's
# intermediate, wrong-name's names, missing-chain's single certificate), that
# revoked's certificate is revoked at pebble, that `check` and /api/domains
# flag le-tlsserver (pebble adds clientAuth) and expired (no expired ACME
# certificate yet), and a strict Prosody that trusts only pebble's root gets
# the pongs and refusals the catalog says.
#
# Usage: test_acme.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

RENEW=$HERE/../../deploy/acme-renew
PEBBLE_DIR=https://127.0.0.1:14000/dir

KNOT_IP=127.0.0.54            # knotd: the base zone, open to TSIG-signed updates

need_env
need_responder "${1:-}"
for t in pebble uacme gnutls-cli curl unshare knotd knsupdate; do
    command -v "$t" >/dev/null || skip "missing tool: $t"
done
netns_up
pki_up

# knot_up: knotd serving our zone on $KNOT_IP, accepting TXT updates signed
# with the TSIG key in $WORK/knot/tsig.key (the dns-01 setup deploy/README.md
# describes); pebble resolves through it, so it sees the updates at once.
knot_up() {
    local d=$WORK/knot secret
    mkdir -p "$d/db"
    cp "$RZONE" "$d/$BASE.zone"
    secret=$(head -c 32 /dev/urandom | base64)
    echo "hmac-sha256:acme-update:$secret" >"$d/tsig.key"
    cat >"$d/knot.conf" <<EOF
server:
    listen: $KNOT_IP@53
    rundir: "$d"
database:
    storage: "$d/db"
log:
  - target: stderr
    any: info
key:
  - id: acme-update
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: acme
    key: acme-update
    action: update
    update-type: TXT
zone:
  - domain: $BASE
    file: "$d/$BASE.zone"
    zonefile-sync: -1
    acl: acme
EOF
    start_bg "$d/knotd.log" knotd -c "$d/knot.conf"
    wait_for 10 ns kdig +short +time=1 +retry=0 "@$KNOT_IP" SOA "$BASE" ||
        die "knotd did not answer (see $d/knotd.log)"
}

# pebble's own HTTPS certificate (pebble ships none), from the staging CA,
# which acme-renew --ca-bundle then trusts for the ACME connection only.
pebble_up() {
    local d=$WORK/pebble
    mkdir -p "$d"
    pki_leaf localhost 'ip_address = "127.0.0.1"' >"$d/certtool.log" 2>&1 ||
        die "certtool for pebble failed (see $d/certtool.log)"
    # http-01 is validated on the port the responder's web listener has
    cat >"$d/pebble.json" <<EOF
{ "pebble": { "listenAddress": "127.0.0.1:14000",
              "managementListenAddress": "127.0.0.1:15000",
              "certificate": "$WORK/pki/localhost.crt",
              "privateKey": "$WORK/pki/localhost.key",
              "httpPort": 5280, "tlsPort": 5001, "ocspResponderURL": "",
              "externalAccountBindingRequired": false } }
EOF
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
        start_bg "$d/pebble.log" pebble -config "$d/pebble.json" -dnsserver "$KNOT_IP:53"
    wait_for 15 listening 127.0.0.1 14000 || die "pebble did not start (see $d/pebble.log)"
    wait_for 5 listening 127.0.0.1 15000 || die "pebble's management API did not start"
    pebble_get /roots/0 >"$d/root.pem" && pebble_get /intermediates/0 >"$d/intermediate.pem" ||
        die "cannot read pebble's root and intermediate"
    PEBBLE_ROOT=$d/root.pem
    PEBBLE_INTERMEDIATE=$(certtool -i --infile "$d/intermediate.pem" | sed -n 's/^\tSubject: //p' | head -n 1)
    note "pebble's intermediate: $PEBBLE_INTERMEDIATE"
}

# pebble_get PATH: from pebble's management API.
pebble_get() {
    ns curl -sf --max-time 10 --cacert "$STAGING_CA" "https://127.0.0.1:15000$1"
}

# presented LABEL: the chain LABEL.BASE presents on the direct TLS port (SNI
# names the domain), as PEM, in $WORK/LABEL.chain; its leaf's details in
# $WORK/LABEL.leaf.
presented() {
    ns timeout 15 gnutls-cli --port 5270 --print-cert \
        --no-ca-verification "$1.$BASE" </dev/null >"$WORK/$1.cli" 2>&1
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
        "$WORK/$1.cli" >"$WORK/$1.chain"
    certtool -i --infile "$WORK/$1.chain" >"$WORK/$1.leaf" 2>/dev/null
}

chain_length() { grep -c -- '-----BEGIN CERTIFICATE-----' "$WORK/$1.chain"; }
leaf_issuer() { sed -n 's/^\tIssuer: //p' "$WORK/$1.leaf" | head -n 1; }
leaf_names() { sed -n 's/^[[:space:]]*DNSname: //p' "$WORK/$1.leaf" | tr '\n' ' '; }

# verifies LABEL NAME: does the presented chain verify to pebble's root for
# NAME, with nothing else to help (gnutls-cli's own path building)?
verifies() {
    ns timeout 15 gnutls-cli --port 5270 --x509cafile "$PEBBLE_ROOT" \
        --verify-hostname "$2" "$1.$BASE" </dev/null >"$WORK/$1.verify" 2>&1
}

responder_init --public
unbound_up "$RZONE"
knot_up
pebble_up
responder_up

# ---- acme-renew against pebble ------------------------------------------------------------

note "first renewal"
if ns "$RENEW" -c "$RCONF" --server "$PEBBLE_DIR" --ca-bundle "$STAGING_CA" \
        --responder "$RESPONDER" >"$WORK/renew1.log" 2>&1; then
    pass "acme-renew obtained the certificates ($(tail -n 1 "$WORK/renew1.log"))"
else
    fail "acme-renew failed: $(tail -n 15 "$WORK/renew1.log")"
fi
check "the daemon answered pebble's http-01 challenges itself" grep -q 'acme-challenge .* answered' "$WORK/responder.log"
check "acme-renew reloaded the running daemon (found by its -c)" grep -q "reloaded xmpp-responder (pid $RESPONDER_PID)" "$WORK/renew1.log"
check "the daemon reloaded" wait_for 10 grep -q 'reloaded: ' "$WORK/responder.log"
check "no challenge file is left behind" test -z "$(find "$RDIR/acme/challenges" -type f)"
check "wildcard without --dns-update is skipped and says why" grep -q 'needs a dns-01 challenge' "$WORK/renew1.log"

note "second renewal: nothing due"
if ns "$RENEW" -c "$RCONF" --server "$PEBBLE_DIR" --ca-bundle "$STAGING_CA" \
        --responder "$RESPONDER" --no-reload >"$WORK/renew2.log" 2>&1; then
    pass "a second run succeeds with nothing due ($(tail -n 1 "$WORK/renew2.log"))"
else
    fail "second acme-renew run failed: $(tail -n 15 "$WORK/renew2.log")"
fi
check "second run obtained nothing new" grep -q ': 0 obtained, .* 0 revoked' "$WORK/renew2.log"
check "second run did not reload (--no-reload)" absent grep -q 'reloaded' "$WORK/renew2.log"

note "third renewal: the wildcard by dns-01 (RFC 2136 updates to knot)"
if ns env ACME_RENEW_DNS_WAIT=0 "$RENEW" -c "$RCONF" --server "$PEBBLE_DIR" --ca-bundle "$STAGING_CA" \
        --responder "$RESPONDER" --dns-update "$KNOT_IP" --tsig-key "$WORK/knot/tsig.key" \
        >"$WORK/renew3.log" 2>&1; then
    pass "acme-renew --dns-update obtained the wildcard ($(tail -n 1 "$WORK/renew3.log"))"
else
    fail "acme-renew --dns-update failed: $(tail -n 15 "$WORK/renew3.log")"
fi
check "the challenge record is gone afterwards" \
    test -z "$(ns kdig +short +time=2 +retry=0 "@$KNOT_IP" TXT "_acme-challenge.$BASE")"
printf 'server %s 53\nzone %s.\nupdate add _acme-challenge.%s. 60 TXT "forged"\nsend\n' \
    "$KNOT_IP" "$BASE" "$BASE" >"$WORK/forged.update"
ns knsupdate "$WORK/forged.update" >"$WORK/forged.out" 2>&1
status=$?
check "an unsigned update is refused by knot" test $status -ne 0 -a -n "$(grep -iE 'refused|notauth' "$WORK/forged.out")"

# ---- what the domains present ---------------------------------------------------------------

for label in valid le-tlsserver wrong-name missing-chain revoked wildcard; do presented "$label"; done

issuer=$(leaf_issuer valid)
if [ -n "$issuer" ] && [ "$issuer" = "$PEBBLE_INTERMEDIATE" ]; then
    pass "valid: issued by pebble's intermediate ($issuer)"
else
    fail "valid: issuer '$issuer', want '$PEBBLE_INTERMEDIATE'"
fi
check "valid: names valid.$BASE" grep -qx "valid.$BASE " <(leaf_names valid)
check "valid: chain of 2 (leaf + intermediate)" test "$(chain_length valid)" = 2
check "valid: verifies against pebble's root" verifies valid "valid.$BASE"
check "le-tlsserver: issued by pebble's intermediate" test "$(leaf_issuer le-tlsserver)" = "$PEBBLE_INTERMEDIATE"
check "le-tlsserver: verifies against pebble's root" verifies le-tlsserver "le-tlsserver.$BASE"
check "wrong-name: issued by pebble's intermediate" test "$(leaf_issuer wrong-name)" = "$PEBBLE_INTERMEDIATE"
names=$(leaf_names wrong-name)
if [ "$names" = "valid.$BASE " ]; then pass "wrong-name: names another acme domain only ($names)"
else fail "wrong-name: names '$names', want valid.$BASE only"; fi
check "wrong-name: refused for its name by a verifier" absent verifies wrong-name "wrong-name.$BASE"
check "wrong-name: the verifier names the name mismatch" grep -qi 'does not match' "$WORK/wrong-name.verify"
check "missing-chain: one certificate sent" test "$(chain_length missing-chain)" = 1
check "missing-chain: names missing-chain.$BASE, from pebble's intermediate" \
    test "$(leaf_names missing-chain)|$(leaf_issuer missing-chain)" = "missing-chain.$BASE |$PEBBLE_INTERMEDIATE"
check "missing-chain: refused without the intermediate" absent verifies missing-chain "missing-chain.$BASE"
check "wildcard: names *.$BASE, from pebble's intermediate" \
    test "$(leaf_names wildcard)|$(leaf_issuer wildcard)" = "*.$BASE |$PEBBLE_INTERMEDIATE"
check "wildcard: verifies for wildcard.$BASE" verifies wildcard "wildcard.$BASE"
serial=$(certtool -i --infile "$WORK/revoked.chain" | sed -n 's/^\tSerial Number (hex): //p' | head -n 1)
if pebble_get "/cert-status-by-serial/$serial" >"$WORK/revoked.status" 2>&1 &&
    grep -q '"Status": *"Revoked"' "$WORK/revoked.status"; then
    pass "revoked: presents a certificate that pebble reports revoked (serial $serial)"
else
    fail "revoked: serial '$serial' status: $(tr -d '\n' <"$WORK/revoked.status")"
fi

# ---- what the daemon says about them --------------------------------------------------------

"$RESPONDER" check -c "$RCONF" >"$WORK/check.out" 2>&1
check "check: le-tlsserver flagged (pebble issues clientAuth too)" \
    grep -q "le-tlsserver.$BASE (le-tlsserver): EKU: .*clientAuth.*the row says serverAuth only" "$WORK/check.out"
check "check: expired flagged (no expired acme certificate yet)" \
    grep -q "expired.$BASE (expired): source: .*test" "$WORK/check.out"
check "check: the wildcard is what its row says" absent grep -q "wildcard.$BASE (wildcard):" "$WORK/check.out"
check "check: valid is what its row says" absent grep -q "valid.$BASE (valid):" "$WORK/check.out"
check "check: wrong-name is what its row says" absent grep -q "wrong-name.$BASE (wrong-name):" "$WORK/check.out"
check "check: missing-chain is what its row says" absent grep -q "missing-chain.$BASE (missing-chain):" "$WORK/check.out"
responder_api /api/domains >"$WORK/domains.json"
check "/api/domains: valid's source is acme, as expected" \
    "$PY" -c 'import json,sys
d={x["domain"]:x for x in json.load(open(sys.argv[1]))["domains"]}
c=d["valid."+sys.argv[2]]["certificate"]
assert c["source"]=="acme" and c["expected_source"]=="acme" and not c["mismatches"], c
c=d["le-tlsserver."+sys.argv[2]]["certificate"]
assert any("EKU" in m for m in c["mismatches"]), c' "$WORK/domains.json" "$BASE"

# ---- a strict Prosody that trusts only pebble's root ----------------------------------------

PROSODY_CAFILE=$PEBBLE_ROOT prosody_up true no
# What the catalog says Prosody strict does (column prosody-strict).
catalog_says() {
    "$RESPONDER" catalog --format tsv | awk -F'\t' -v l="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "prosody-strict") c = i }
        $1 == l { print $c }'
}
for label in valid le-tlsserver wrong-name missing-chain; do
    want=$(catalog_says "$label")
    if prosody_ping "$label.$BASE"; then got=accept; else got=refuse; fi
    if [ "$got" = "$want" ]; then pass "strict Prosody (pebble's root only) and $label: $got, as the catalog says"
    else fail "strict Prosody and $label: $got, the catalog says '$want' ($PING_OUT)"; fi
done

summary
