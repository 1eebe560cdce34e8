#!/bin/bash
# test_no_dial.sh -- no dialling on command (issue 8, item 2).
#
# The responder is initialised with --address 127.0.0.2 --allow-target
# 127.0.0.1/32: outbound streams may reach the staging Prosody at 127.0.0.1
# and no other loopback address. victim.example's SRV/A point at 127.0.0.9,
# where a listener records every connection for the whole run.
#   (a) a db:result claiming victim.example opens no connection to 127.0.0.9,
#       the log says why ("target 127.0.0.9 of victim.example is a loopback
#       address; outbound.allow does not include it"), and the error sent
#       back is the same text as for a dial to a closed port (no oracle);
#   (b) dialback verification dials are limited per claimed domain and in
#       all (resource-constraint), counted in /metrics;
#   (c) `probe victim.example` opens no connection to 127.0.0.9 either;
#   (d) the staging Prosody at 127.0.0.1 is still reached (ping -> pong);
#   (e) POST /probe: a foreign Origin / Referer / Sec-Fetch-Site gets 403;
#       the web form has the command's rate limits (per target and per hour).
#
# Usage: test_no_dial.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

CLOSED=closed.example  # A 127.0.0.1, SRV port 5999: allowed, nothing listens
                       # (not under $BASE: claims of our own names are never dialled)
WEB=http://$RESPONDER_IP:5280

need_env
need_responder "${1:-}"
RESPONDER=$(cd "$(dirname "$RESPONDER")" && pwd)/$(basename "$RESPONDER")
netns_up
pki_up
responder_init --allow-target 127.0.0.1/32
check "init wrote outbound.allow with only the given range" \
    grep -qx 'outbound = { allow = ( "127.0.0.1/32" ); };' "$RCONF"
responder_limit verify_dials_per_domain 2
responder_limit verify_dials_total 5
responder_limit probe_per_hour 2
responder_limit max_streams_per_ip 512
extra_zone "$CLOSED" 127.0.0.1
sed -i "s/ 5269 $CLOSED\.\$/ 5999 $CLOSED./" "$WORK/$CLOSED.zone"
grep -q " 5999 $CLOSED\.\$" "$WORK/$CLOSED.zone" || die "no SRV to port 5999 in $CLOSED's zone"
unbound_up "$RZONE"
wait_for 10 dns_answers A "$CLOSED" || die "unbound does not answer for $CLOSED"

start_bg "$WORK/victim.log" "$PY" "$HERE/hostile.py" listen \
    --host "$VICTIM_IP" --out "$WORK/victim.out" --max 900
wait_for 5 listening "$VICTIM_IP" 5269 || die "victim listener did not start"
: >>"$WORK/victim.out"

responder_up
wait_for 5 test -S "$RDIR/control.sock" || die "no control socket at $RDIR/control.sock"
prosody_up true no

# --- (a), (b): dialback claims on one plaintext stream to no-tls ------------
note "(a)(b) db:result claims: victim, closed port, victim, victim, then NXDOMAIN names"
ns timeout 90 "$PY" "$HERE/dialback_claim.py" --host "$RESPONDER_IP" --to "no-tls.$BASE" \
    --claim victim.example --claim "$CLOSED" --claim victim.example \
    --claim victim.example --claim a1.victim.example --claim a2.victim.example \
    --claim a3.victim.example >"$WORK/claims.out" 2>&1
CLAIM_RC=$?
sed 's/^/#   /' "$WORK/claims.out"
check "every claim was answered (exit $CLAIM_RC)" test "$CLAIM_RC" -eq 0
# answer N: line N of the claims output (CLAIM TYPE CONDITION TEXT)
answer() { sed -n "${1}p" "$WORK/claims.out"; }
check "(a) victim.example: type=error remote-connection-failed" \
    grep -q "^victim.example error remote-connection-failed " <(answer 1)
check "(a) the closed port: type=error remote-connection-failed" \
    grep -q "^$CLOSED error remote-connection-failed " <(answer 2)
check "(a) refused by the allow-list and connection refused: the same text" \
    test "$(answer 1 | cut -d' ' -f3-)" = "$(answer 2 | cut -d' ' -f3-)"
check "(a) the text names neither the address nor the reason" \
    absent grep -Eiq "127\.0\.0|loopback|allow|refused|timed out|time" <(answer 1 | cut -d' ' -f4-)
check "(a) the log says why 127.0.0.9 was not dialled" \
    grep -q "target 127.0.0.9 of victim.example is a loopback address; outbound.allow does not include it" "$WORK/responder.log"
check "(a) the log keeps the closed port's detail (connection refused)" \
    grep -Eq "event=connect-fail .*127\.0\.0\.1.*connection refused" "$WORK/responder.log"
check "(b) victim.example a second time: still dialled (2 per minute)" \
    grep -q "^victim.example error remote-connection-failed " <(answer 3)
check "(b) victim.example a third time: resource-constraint" \
    grep -q "^victim.example error resource-constraint " <(answer 4)
check "(b) a1, a2: within the total of 5" \
    bash -c "grep -q '^a1.victim.example error remote-connection-failed ' <(sed -n 5p '$WORK/claims.out') &&
             grep -q '^a2.victim.example error remote-connection-failed ' <(sed -n 6p '$WORK/claims.out')"
check "(b) a3: resource-constraint (the total)" \
    grep -q "^a3.victim.example error resource-constraint " <(answer 7)
check "(b) the limit is logged once per limit" \
    test "$(grep -c 'event=verify-limited' "$WORK/responder.log")" -eq 2
responder_api /metrics >"$WORK/metrics.txt"
check "(b) /metrics: verify_dials_limited_total 2" \
    grep -qx "xmpp_responder_verify_dials_limited_total 2" "$WORK/metrics.txt"
check "(a) /metrics: outbound_targets_refused_total counts the victim" \
    grep -Eqx "xmpp_responder_outbound_targets_refused_total [1-9][0-9]*" "$WORK/metrics.txt"

# --- (c): a probe of victim.example -----------------------------------------
note "(c) probe victim.example"
timeout 120 "$RESPONDER" probe -c "$RCONF" victim.example >"$WORK/probe.out" 2>"$WORK/probe.err"
NRC=$?
note "probe exit $NRC ($WORK/probe.out)"
check "(c) nothing reached victim.example: exit 2, every row unknown (got $NRC)" \
    bash -c "[ $NRC -eq 2 ] && ! grep -Eq '^(OK|DIFF|advisory) ' '$WORK/probe.out' &&
             grep -q '^result: no stream reached victim.example' '$WORK/probe.out'"
check "(c) the probe ran: refused-target logged for victim.example's domains" \
    test "$(grep 'event=refused-target' "$WORK/responder.log" | grep -c 'remote=victim.example')" -ge 10
check "(c) the probe's DETAIL column is the generic text, not the address" \
    bash -c "grep -E '^(OK|DIFF|advisory|-|unknown) ' '$WORK/probe.out' | grep -q 'no stream could be established' &&
             ! grep -E '^(OK|DIFF|advisory|-|unknown) ' '$WORK/probe.out' | grep -q '127.0.0.9'"
check "(c) the unreached record (out: line) gives the allow-list reason" \
    grep -q "out: .*target 127.0.0.9 of victim.example is a loopback address; outbound.allow does not include it" "$WORK/probe.out"

# --- (d): the staging peer at 127.0.0.1 ---------------------------------------
if prosody_ping "valid.$BASE"; then pass "(d) ping valid.$BASE from Prosody at $PEER_IP: $PING_OUT"
else fail "(d) ping valid.$BASE failed: $PING_OUT"; fi
check "(d) the responder dialled staging.example at $PEER_IP" \
    grep -Eq "event=connect .*target=$PEER:5269" "$WORK/responder.log"

# --- (e): the web form -----------------------------------------------------------
# post NAME TARGET [CURL-ARGS...]: POST /probe from inside the namespace;
# prints the status code.
post() {
    local name=$1 target=$2; shift 2
    ns curl -s --max-time 10 -o "$WORK/post-$name.html" -w '%{http_code}' \
        --data "target=$target" "$@" "$WEB/probe"
}
note "(e) POST /probe"
r=$(post origin a9.victim.example -H "Origin: http://evil.example")
check "(e) foreign Origin: 403 (got $r)" test "$r" = 403
r=$(post null a9.victim.example -H "Origin: null")
check "(e) Origin null: 403 (got $r)" test "$r" = 403
r=$(post referer a9.victim.example -H "Referer: http://evil.example/$RESPONDER_IP:5280/")
check "(e) foreign Referer: 403 (got $r)" test "$r" = 403
r=$(post hostlike a9.victim.example -H "Origin: http://$RESPONDER_IP:5280.evil.example")
check "(e) an Origin that only starts like ours: 403 (got $r)" test "$r" = 403
r=$(post fetchsite a9.victim.example -H "Sec-Fetch-Site: cross-site")
check "(e) Sec-Fetch-Site cross-site: 403 (got $r)" test "$r" = 403
check "(e) the 403 page says why" grep -q "cross-origin" "$WORK/post-fetchsite.html"
r=$(post again victim.example -H "Origin: $WEB" -H "Sec-Fetch-Site: same-origin")
check "(e) same origin, target probed a moment ago: 429 (got $r)" test "$r" = 429
r=$(post ok a9.victim.example -H "Origin: $WEB" -H "Referer: $WEB/")
check "(e) same origin: 303, the refused posts took no probe (got $r)" test "$r" = 303
r=$(post noorigin a8.victim.example)
check "(e) no Origin (curl): allowed, but probe_per_hour = 2 is used up: 429 (got $r)" test "$r" = 429
check "(e) responder log: refused posts logged" \
    test "$(grep -c 'POST /probe refused' "$WORK/responder.log")" -eq 5

check "responder alive" alive "$RESPONDER_PID"
sleep 1   # a late dial would land now
check "nothing connected to victim.example ($VICTIM_IP:5269)" test ! -s "$WORK/victim.out"
check "no connect or connect-fail to $VICTIM_IP in the log" \
    absent bash -c "grep -E 'event=connect(-fail)? ' '$WORK/responder.log' | grep -qF '$VICTIM_IP'"
[ -s "$WORK/victim.out" ] && cat "$WORK/victim.out"

stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
