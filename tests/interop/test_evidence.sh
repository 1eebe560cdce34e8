#!/bin/bash
# test_evidence.sh -- verdicts nobody can forge (issue 8, item 1).
#
# A real, strict Prosody for staging.example (127.0.0.1, which its DNS names)
# pings valid.BASE (pong: verified) and expired.BASE (refused before
# authenticating: the refusal counts because it came from staging.example's
# own address). Then streams from 127.0.0.7 claim to be jabber.org and
# staging.example: one sends a db:verify with a garbage key to no-tls.BASE,
# one hangs up on valid.BASE before authenticating. Neither may decide a
# verdict: /api/report/jabber.org stays all "unknown" with the claims listed
# as claims, staging.example keeps its verdicts, and the index lists no
# jabber.org.
#
# Usage: test_evidence.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

FORGER_IP=127.0.0.7

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
unbound_up "$RZONE"
responder_up
prosody_up true no

# cell REPORT PROFILE FIELD: one field of one domain's cell in a report.
cell() {
    "$PY" -c 'import json,sys
r = json.load(open(sys.argv[1]))
c = [d for d in r["domains"] if d["profile"] == sys.argv[2]][0]
v = c
for k in sys.argv[3].split("."):
    v = v[k] if v is not None else None
print(v)' "$@"
}

# report_json PEER FILE: /api/report/PEER into FILE.
report_json() { responder_api "/api/report/$1" >"$2"; }

if prosody_ping "valid.$BASE"; then pass "real peer: pong from valid.$BASE"
else fail "real peer: ping valid.$BASE failed: $PING_OUT"; fi
if prosody_ping "expired.$BASE"; then fail "strict Prosody accepted expired.$BASE"
else pass "real peer: no pong from expired.$BASE (refused)"; fi
sleep 1   # the refusal's address lookup and the final records

report_json "$PEER" "$WORK/before.json" || fail "GET /api/report/$PEER"
check "before: valid accepted, verdict ok" \
    test "$(cell "$WORK/before.json" valid seen)/$(cell "$WORK/before.json" valid verdict)" = "accepted/ok"
check "before: valid's inbound leg is verified" \
    test "$(cell "$WORK/before.json" valid in.evidence)" = verified
check "before: valid's outbound leg (we dialled) is verified" \
    test "$(cell "$WORK/before.json" valid out.evidence)" = verified
check "before: expired refused, verdict ok" \
    test "$(cell "$WORK/before.json" expired seen)/$(cell "$WORK/before.json" expired verdict)" = "refused/ok"
check "before: the unauthenticated refusal is address-matched (staging.example's A is 127.0.0.1)" \
    test "$(cell "$WORK/before.json" expired in.evidence)" = address-matched

forge() {
    local out
    out=$(ns timeout 20 "$PY" "$HERE/forge.py" "$1" --host "$RESPONDER_IP" \
        --source "$FORGER_IP" --claim "$2" --to "$3" 2>&1)
    echo "# $out"
    [[ $out == PASS* ]]
}
for claim in jabber.org "$PEER"; do
    check "forged as $claim: db:verify with a garbage key to no-tls" forge verify "$claim" "no-tls.$BASE"
    check "forged as $claim: hang-up before auth on valid" forge hangup "$claim" "valid.$BASE"
    check "forged as $claim: hang-up before auth on no-tls" forge hangup "$claim" "no-tls.$BASE"
done
sleep 2   # lookups of jabber.org fail (no such zone here), then the records land

report_json jabber.org "$WORK/jabber.json" || fail "GET /api/report/jabber.org"
"$PY" - "$WORK/jabber.json" <<'PYEOF' >"$WORK/jabber.check"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [d["profile"] for d in r["domains"] if d["verdict"] != "unknown" or d["in"] or d["out"]]
claims = [h for h in r["history"] if h["evidence"] == "claimed"]
others = [h for h in r["history"] if h["evidence"] != "claimed"]
print("cells-not-unknown=%d claims=%d non-claims=%d known=%s trusted=%s unknown=%d of %d" % (
    len(bad), len(claims), len(others), r["known"], r["trusted"], r["summary"]["unknown"], len(r["domains"])))
ok = not bad and len(claims) >= 3 and not others and r["known"] and not r["trusted"] \
    and r["summary"]["unknown"] == len(r["domains"])
sys.exit(0 if ok else 1)
PYEOF
rc=$?
note "jabber.org: $(cat "$WORK/jabber.check")"
check "jabber.org: no verdict at all (every domain unknown), the claims listed as claims" test $rc -eq 0

report_json "$PEER" "$WORK/after.json" || fail "GET /api/report/$PEER after forging"
for label in valid no-tls expired; do
    check "after: $label keeps its verdict ($(cell "$WORK/before.json" $label seen)/$(cell "$WORK/before.json" $label verdict))" \
        test "$(cell "$WORK/before.json" $label seen)/$(cell "$WORK/before.json" $label verdict)" = \
             "$(cell "$WORK/after.json" $label seen)/$(cell "$WORK/after.json" $label verdict)"
done
n_claims=$("$PY" -c 'import json,sys; print(sum(h["evidence"]=="claimed" for h in json.load(open(sys.argv[1]))["history"]))' "$WORK/after.json")
check "after: the forged streams show in $PEER's history as claims ($n_claims)" test "$n_claims" -ge 3

responder_api / >"$WORK/index.html" || fail "GET /"
check "the index lists $PEER among recent servers" grep -q "/report/$PEER" "$WORK/index.html"
check "the index does not list jabber.org" absent grep -q "/report/jabber.org" "$WORK/index.html"
responder_api /report/jabber.org >"$WORK/jabber.html" || fail "GET /report/jabber.org"
check "the jabber.org page says it has only claims" grep -q 'id="claims-only"' "$WORK/jabber.html"
responder_api /metrics >"$WORK/metrics.txt" || fail "GET /metrics"
check "metrics count claimed outcomes" grep -Eq '^xmpp_responder_outcomes_total\{evidence="claimed"\} [1-9]' "$WORK/metrics.txt"
check "metrics count address-matched outcomes" grep -Eq '^xmpp_responder_outcomes_total\{evidence="address-matched"\} [1-9]' "$WORK/metrics.txt"

# A restart keeps the split: evidence is in the file.
stop_pid "$RESPONDER_PID" 10
responder_up
report_json jabber.org "$WORK/jabber2.json" || fail "GET /api/report/jabber.org after restart"
check "after a restart jabber.org still has no verdict" \
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["summary"]["unknown"]==len(r["domains"]) and r["history"] else 1)' "$WORK/jabber2.json"
report_json "$PEER" "$WORK/after2.json" || fail "GET /api/report/$PEER after restart"
check "after a restart expired is still refused/ok" \
    test "$(cell "$WORK/after2.json" expired seen)/$(cell "$WORK/after2.json" expired verdict)" = "refused/ok"

stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
