#!/bin/bash
# test_binding.sh -- authentication is bound to (stream, local domain, remote
# domain) (issue 8, item 4). A scripted peer (binding.py) speaks for
# victim.example, whose own server binding.py also plays on 127.0.0.9 (it
# says "valid" to every dialback check and records the iqs delivered to it):
#
# (1) restarts (RFC 6120 4.3.3): the header after STARTTLS or SASL must name
#     the same 'to' and 'from'; after TLS, the domain whose certificate and
#     TLS versions the session used; otherwise a stream error and a close;
# (2) SASL EXTERNAL for valid.BASE cannot be moved to dialback-only.BASE by a
#     restart: the ping sent there is never answered (control: the same
#     SASL stream restarted for valid.BASE gets its pong);
# (3) dialback for another domain of ours on an existing stream must satisfy
#     that domain's profile: TLS state, direct-TLS port, certificate
#     presented; refused with a db:result error, and the ping to it is never
#     answered (control: dialback for the stream's own domain works);
# (4) a db:verify answered invalid does not make the stream authenticated in
#     the report.
#
# Usage: test_binding.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
unbound_up "$RZONE"

# A client certificate for victim.example from the staging CA the responder
# trusts, for SASL EXTERNAL.
pki_leaf victim.example >"$WORK/pki/victim.log" 2>&1 || die "certtool failed (see $WORK/pki/victim.log)"

AUTH_OUT=$WORK/authoritative.out
: >"$AUTH_OUT"
start_bg "$WORK/authoritative.log" "$PY" "$HERE/binding.py" authoritative \
    --host "$VICTIM_IP" --out "$AUTH_OUT" --max 300
wait_for 5 listening "$VICTIM_IP" 5269 || die "the authoritative server did not start"

responder_up
wait_for 5 listening "$RESPONDER_IP" 5270 || die "no direct TLS listener on $RESPONDER_IP:5270"

# binding CASE [ARGS...]: one binding.py case against the responder.
binding() {
    local c=$1; shift
    ns timeout 60 "$PY" "$HERE/binding.py" "$c" --host "$RESPONDER_IP" --base "$BASE" \
        --cert "$WORK/pki/victim.example.crt" --key "$WORK/pki/victim.example.key" "$@"
}

# run_case DESC CASE [ARGS...]: a case that judges itself (PASS/FAIL line).
run_case() {
    local desc=$1 out rc; shift
    out=$(binding "$@"); rc=$?
    echo "# $out"
    check "$desc" test $rc -eq 0
}

# delivered ID: did the responder deliver an iq with that id to victim.example?
delivered() { grep -q " id=$1 " "$AUTH_OUT"; }

note "(1) restart rules"
run_case "(1) header after STARTTLS naming another 'to' -> not-authorized" tls-restart-to
run_case "(1) STARTTLS whose SNI chose another domain's certificate -> policy-violation" tls-restart-sni
run_case "(1) header after STARTTLS with another 'from' -> invalid-from" tls-restart-from
run_case "(1) direct TLS: header for a domain whose certificate was not presented -> policy-violation" direct-tls-sni
run_case "(1) direct TLS: SNI for legacy-tls applies its TLS versions (1.2+ refused, 1.0/1.1 stream opens)" direct-tls-priority

note "(2) SASL EXTERNAL stays with valid.$BASE"
run_case "(2) control: SASL EXTERNAL, restart for valid.$BASE, ping sent" sasl-control --ping-id sasl-control
run_case "(2) header after SASL naming dialback-only.$BASE -> not-authorized" \
    sasl-restart-to --ping-id sasl-moved
run_case "(2) header after SASL with another 'from' -> invalid-from" sasl-restart-from

note "(3) dialback for another domain on an existing stream"
run_case "(3) plaintext stream to no-tls: dialback for valid.$BASE refused (policy-violation)" \
    dialback-plain --ping-id plain-own --ping-id2 plain-other
run_case "(3) TLS stream to valid: dialback for dialback-only, no-tls, direct-tls refused" dialback-tls

# The pongs travel on the responder's own stream to victim.example; give
# them time to arrive before judging which ones did.
wait_for 15 delivered sasl-control
wait_for 15 delivered plain-own
sleep 2
echo "# delivered to victim.example: $(tr '\n' ';' <"$AUTH_OUT")"
check "(2) control: the ping after the SASL restart for valid.$BASE was answered" delivered sasl-control
check "(2) the ping to dialback-only.$BASE after the moved restart was not answered" absent delivered sasl-moved
check "(3) control: the ping to no-tls.$BASE after its own dialback was answered" delivered plain-own
check "(3) the ping to valid.$BASE from the plaintext stream was not answered" absent delivered plain-other

note "(4) a db:verify answered invalid"
run_case "(4) a garbage db:verify key is answered invalid" verify-invalid
sleep 1
REPORT=$(responder_api /api/report/forged.example)
echo "# report history: $(echo "$REPORT" | "$PY" -c 'import json,sys; print([(h["local"], h["auth"], h["auth_used"]) for h in json.load(sys.stdin)["history"]])' 2>&1)"
report_has() {
    echo "$REPORT" | "$PY" -c "import json,sys; r=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}
check "(4) the report has the db:verify stream" report_has \
    "any(h['local'] == 'no-tls.$BASE' for h in r['history'])"
check "(4) ... and does not show it as authenticated" report_has \
    "all(h['auth'] != 'ok' for h in r['history']) and all(d['seen'] != 'accept' for d in r['domains'])"

check "responder survived" alive "$RESPONDER_PID"
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
