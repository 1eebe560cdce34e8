#!/bin/bash
# test_hostile.sh -- the responder under unauthenticated, misbehaving streams.
#
# (a) a stream claiming to be victim.example sends an iq ping without
#     authenticating: no iq comes back, and the responder never resolves or
#     dials victim.example (a listener on its address records any attempt);
# (b)-(e) malformed XML, a DTD, an oversized stanza and an idle stream each
#     end in the right stream error and a close, while at the same time a
#     real Prosody still gets a pong from valid.responder.example.
#
# Usage: test_hostile.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

UNAUTH_TIMEOUT=3
SLACK=3

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
responder_limit unauth_timeout "$UNAUTH_TIMEOUT"
unbound_up "$RZONE"

# The victim listens for the whole run, before the responder exists.
start_bg "$WORK/victim.log" "$PY" "$HERE/hostile.py" listen \
    --host "$VICTIM_IP" --out "$WORK/victim.out" --max 600
wait_for 5 listening "$VICTIM_IP" 5269 || die "victim listener did not start"
: >>"$WORK/victim.out"

responder_up
prosody_up true no

# hostile CASE: run one hostile.py case against the responder.
hostile() {
    ns timeout 60 "$PY" "$HERE/hostile.py" "$1" --host "$RESPONDER_IP" \
        --to "valid.$BASE" --max "${2:-5}"
}

if prosody_ping "valid.$BASE"; then pass "baseline ping valid.$BASE: $PING_OUT"
else fail "baseline ping valid.$BASE failed: $PING_OUT"; fi

note "(a) an iq ping from a stream claiming to be victim.example, never authenticated"
out=$(hostile unauth-ping); rc=$?
echo "# $out"
check "(a) no iq answer to an unauthenticated stream" test $rc -eq 0
out=$(hostile unauth-ping-tls); rc=$?
echo "# $out"
check "(a) no iq answer to an unauthenticated stream after STARTTLS" test $rc -eq 0

note "(b)-(e) in parallel, with a Prosody ping in the middle"
declare -A CASE_PID
for c in malformed dtd oversized idle; do
    max=5
    [ "$c" = idle ] && max=$((UNAUTH_TIMEOUT + SLACK))
    hostile "$c" "$max" >"$WORK/hostile-$c.out" 2>&1 &
    CASE_PID[$c]=$!
done
sleep 0.5
if prosody_ping "valid.$BASE"; then pass "ping valid.$BASE during the hostile streams: $PING_OUT"
else fail "ping valid.$BASE during the hostile streams failed: $PING_OUT"; fi
for c in malformed dtd oversized idle; do
    wait "${CASE_PID[$c]}"; rc=$?
    echo "# $(cat "$WORK/hostile-$c.out")"
    check "($c) stream error and close" test $rc -eq 0
done

check "responder survived the hostile streams" alive "$RESPONDER_PID"
sleep 1   # let a late dial or log line land before judging
check "nothing connected to victim.example ($VICTIM_IP:5269)" test ! -s "$WORK/victim.out"
check "no event=connect naming victim.example in the log" absent log_names connect victim.example
check "no event=dns naming victim.example in the log" absent log_names dns victim.example
[ -s "$WORK/victim.out" ] && cat "$WORK/victim.out"

stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
