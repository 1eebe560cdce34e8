#!/bin/bash
# test_prosody.sh -- the responder against a real Prosody 0.12.
#
# Prosody hosts staging.example and pings LABEL.responder.example; whether a
# pong arrives is what an operator reads; the echo contact's "report" command
# tells the same from our side. Strict (s2s_secure_auth = true):
# only correctly certified domains answer, and the responder logs why the
# others failed. Lenient (secure auth off, dialback on): a self-signed domain
# answers too. Last, a real client (slixmpp) talks to the echo contact.
#
# Usage: test_prosody.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

# Expectations per label: strict result, lenient result ("-" = not pinged).
EXPECT="
valid         pong   pong
le-tlsserver  pong   -
expired       error  -
self-signed   error  pong
wrong-name    error  -
"

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
responder_limit echo_per_minute 5
unbound_up "$RZONE"
responder_up
LABELS=" $(zone_labels | tr '\n' ' ') "
note "labels in the zone:$LABELS"

# expect_ping LABEL WANT: one ping, judged against WANT (pong or error).
expect_ping() {
    local dom=$1.$BASE
    if prosody_ping "$dom"; then got=pong; else got=error; fi
    if [ "$got" = "$2" ]; then pass "ping $dom: $got ($PING_OUT)"
    else fail "ping $dom: want $2, got $got ($PING_OUT)"; fi
    if [ "$2" = error ]; then
        # The log line may be written just after Prosody gives up.
        if wait_for 5 log_has_failure "$dom"; then pass "responder logged why $dom failed"
        else fail "no event=close/stream-error/tls-fail/auth-fail line with reason naming $dom"; fi
    fi
}

# scenario COLUMN: ping every label that has an expectation in that column.
scenario() {
    local label strict lenient want
    while read -r label strict lenient; do
        [ -n "$label" ] || continue
        [ "$1" = strict ] && want=$strict || want=$lenient
        [ "$want" = - ] && continue
        case "$LABELS" in
            *" $label "*) expect_ping "$label" "$want" ;;
            *) fail "zone $RZONE has no SRV record for $label" ;;
        esac
    done <<<"$EXPECT"
}

note "scenario strict: s2s_secure_auth = true, no dialback"
prosody_up true no
scenario strict

note "scenario lenient: s2s_secure_auth = false, dialback enabled"
prosody_up false yes
scenario lenient

note "echo: slixmpp as user@$PEER writes to echo@valid.$BASE"
if echo_client "echo@valid.$BASE"; then pass "echo@valid.$BASE echoed the message"
else fail "echo@valid.$BASE did not echo within 5 s"; fi

note "echo commands: help, report, and the per-domain rate limit (5 a minute)"
if out=$(echo_client "echo@valid.$BASE" --body help --expect "Commands:"); then
    pass "'help' lists the commands"
else fail "'help': $out"; fi
# After both scenarios: expired was refused by the strict Prosody (correct),
# self-signed last accepted by the lenient one (wrong for a strict server).
if out=$(echo_client "echo@valid.$BASE" --body report \
    --expect "Report for $PEER:"); then
    pass "'report' answers with the matrix of $PEER"
    check "report: expired refused, correct" grep -q "^\[ok\] expired: refused" <<<"$out"
    check "report: self-signed accepted, wrong" grep -q "^\[wrong\] self-signed: accepted" <<<"$out"
    check "report: le-tlsserver accepted over SASL EXTERNAL" \
        grep -Eq "^\[ok\] le-tlsserver: accepted .*EXTERNAL ok" <<<"$out"
else fail "'report': $out"; fi
out=$(echo_client "echo@valid.$BASE" --count 8 --timeout 4)
n=$(sed -nE 's/.*ECHOES ([0-9]+) of 8.*/\1/p' <<<"$out")
# 3 replies went out already; a minute may turn during the burst, so the
# bound is the budget itself.
check "rate limit: ${n:-no} echoes of a burst of 8 (at most 5 a minute)" \
    test -n "$n" -a "${n:-9}" -le 5
check "rate limit logged" grep -q "event=rate-limited" "$WORK/responder.log"

for label in $LABELS; do
    grep -q "^$label " <<<"$EXPECT" || note "no expectation yet for $label (not tested)"
done

# The daemon must exit cleanly on SIGTERM.
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
