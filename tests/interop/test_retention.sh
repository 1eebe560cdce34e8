#!/bin/bash
# test_retention.sh -- one address cannot flush a real server out of the
# report (issue 21, part 3).
#
# A real, strict Prosody for staging.example pings valid.BASE: a verified
# peer with one accepted cell. Then an attacker with a wildcard record
# (*.evil.example -> 127.0.0.66 and 127.0.0.67, its own addresses) opens a
# crowd of plaintext streams to no-tls.BASE from those addresses, each
# claiming a different name under evil.example and sending one stanza
# before authenticating (tests/load/attack_report.py): every outcome is
# address-matched, since evil.example's DNS names the source address. With
# the default limits (report_peers 256) the crowd is larger than the whole
# report, and each address alone sends more names than its cap. Asserted:
# staging.example keeps its cell in /api/report/, its place in the index and
# its badge, also after a restart (the database's retention keeps verified
# peers first); the attacker's names were capped per source address and per
# registrable domain (/metrics), and the report holds no more of them than
# the caps allow.
#
# Usage: test_retention.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

ATTACKER_IPS=(127.0.0.66 127.0.0.67)
CROWD=${CROWD:-400}

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
# the attacker's zone: every name under evil.example is its own address
extra_zone evil.example "${ATTACKER_IPS[0]}" "* IN A ${ATTACKER_IPS[0]}" "* IN A ${ATTACKER_IPS[1]}"
unbound_up "$RZONE"
wait_for 10 dns_answers A "x1.evil.example" || die "the wildcard does not answer"
responder_up
prosody_up true no

# cell_of FILE PROFILE: "seen/verdict/evidence-in" of one cell of a report.
cell_of() {
    "$PY" -c 'import json,sys
r = json.load(open(sys.argv[1]))
c = [d for d in r["domains"] if d["profile"] == sys.argv[2]][0]
print("%s/%s/%s" % (c["seen"], c["verdict"], (c["in"] or {}).get("evidence")))' "$@"
}

# metric NAME: the value of one sample of /metrics (0 when absent).
metric() {
    responder_api /metrics | awk -v n="xmpp_responder_$1" '$1 == n {print $2; f=1} END {if (!f) print 0}'
}

# matched_seen: outcomes the attester decided, address-matched or claimed.
matched_seen() {
    local a c
    a=$(metric 'outcomes_total{evidence="address-matched"}')
    c=$(metric 'outcomes_total{evidence="claimed"}')
    [ "$((a + c))" -ge "$CROWD" ]
}

if prosody_ping "valid.$BASE"; then pass "real peer: pong from valid.$BASE"
else die "real peer: ping valid.$BASE failed: $PING_OUT"; fi
wait_for 10 eval 'responder_api "/api/report/$PEER" | grep -q "\"evidence\":\"verified\""' ||
    fail "no verified outcome of $PEER in the report"
responder_api "/api/report/$PEER" >"$WORK/before.json" || die "GET /api/report/$PEER"
before=$(cell_of "$WORK/before.json" valid)
check "before: valid.$BASE accepted, ok, verified ($before)" test "$before" = "accepted/ok/verified"
responder_api "/badge/$PEER.svg" >"$WORK/badge-before.svg" || fail "GET /badge/$PEER.svg"
badge_before=$(grep -o '[0-9]*/[0-9]* ok' "$WORK/badge-before.svg" | head -n 1)
note "badge before: $badge_before"

# the crowd: two addresses, $CROWD names under evil.example, one stanza each
out=$(ns timeout 120 "$PY" "$HERE/../load/attack_report.py" --host "$RESPONDER_IP" \
    --source "${ATTACKER_IPS[0]}-${ATTACKER_IPS[1]##*.}" --to "no-tls.$BASE" --suffix evil.example \
    --count "$CROWD" --concurrency 16 --duration 90 2>&1)
note "$out"
check "the crowd ran: $CROWD streams opened and refused (not-authorized)" \
    grep -q "opened=$CROWD .*not-authorized:$CROWD" <<<"$out"
wait_for 30 matched_seen || fail "the crowd's outcomes did not all reach the report"
matched=$(metric 'outcomes_total{evidence="address-matched"}')
note "address-matched outcomes: $matched"
check "the attack is real: most of the crowd's outcomes are address-matched ($matched)" \
    test "$matched" -ge $((CROWD * 9 / 10))

responder_api "/api/report/$PEER" >"$WORK/after.json" || fail "GET /api/report/$PEER"
after=$(cell_of "$WORK/after.json" valid 2>/dev/null)
check "after the crowd: $PEER keeps its cell ($after)" test "$after" = "$before"
responder_api / >"$WORK/index.html" || fail "GET /"
check "after the crowd: the index lists $PEER" grep -q "/report/$PEER\"" "$WORK/index.html"
evil_listed=$(grep -o '/report/x[0-9]*\.evil\.example"' "$WORK/index.html" | sort -u | wc -l)
peers=$(metric report_peers)
note "index: $evil_listed names under evil.example; report_peers $peers"
responder_api "/badge/$PEER.svg" >"$WORK/badge-after.svg" || fail "GET /badge/$PEER.svg"
badge_after=$(grep -o '[0-9]*/[0-9]* ok' "$WORK/badge-after.svg" | head -n 1)
check "after the crowd: the badge still says $badge_before ($badge_after)" \
    test "$badge_after" = "$badge_before"
capped_ip=$(metric 'report_capped_total{by="address"}')
capped_site=$(metric 'report_capped_total{by="registrable-domain"}')
note "capped: by address $capped_ip, by registrable domain $capped_site"
check "the attacker's names were capped (/metrics report_capped_total: $capped_ip by address, $capped_site by registrable domain)" \
    test "$((capped_ip + capped_site))" -ge $((matched - 16)) -a "$capped_site" -gt 0
check "the report holds at most 16 of the attacker's names ($evil_listed)" \
    test "$evil_listed" -le 16 -a "$evil_listed" -ge 1

check "the log says which name replaced which, and why" \
    grep -Eq "report: x[0-9]+\.evil\.example \(address-matched, from 127\.0\.0\.6[67]\) replaces x[0-9]+\.evil\.example .*report_matched_per_(site|ip)" "$WORK/responder.log"

# A restart reads the database back: the verified peer is still there
stop_pid "$RESPONDER_PID" 10
responder_up
responder_api "/api/report/$PEER" >"$WORK/restart.json" || fail "GET /api/report/$PEER after a restart"
again=$(cell_of "$WORK/restart.json" valid 2>/dev/null)
check "after a restart: $PEER keeps its cell ($again)" test "$again" = "$before"

stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
