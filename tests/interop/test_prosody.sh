#!/bin/bash
# test_prosody.sh -- the responder against a real Prosody 0.12.
#
# Prosody hosts staging.example and pings LABEL.responder.example; whether a
# pong arrives is what an operator reads. Strict (s2s_secure_auth = true):
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

for label in $LABELS; do
    grep -q "^$label " <<<"$EXPECT" || note "no expectation yet for $label (not tested)"
done

# The daemon must exit cleanly on SIGTERM.
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
