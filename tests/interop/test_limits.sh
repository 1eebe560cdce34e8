#!/bin/bash
# test_limits.sh -- bounded resources per peer (issue 8, item 3).
#
# Scripted peers (peer.py) authenticate by dialback as domains of their own
# (evil.example, rate.example, big.example: unbound points them at
# 127.0.0.10-12, where peer.py answers the responder's dialback) to the
# plaintext no-tls test domain; a real Prosody is the honest peer.
#  (1) eviction: a crowd of 200 unauthenticated streams from 8 addresses
#      fills a table of 40; the oldest give way and Prosody still gets its
#      pong;
#  (2) per-IP caps by IPv6 /64: a third stream from the same /64 is refused,
#      one from another /64 is not;
#  (3) replies of any size: a db:verify with a 5,000-byte id is answered,
#      a ping with a 100,000-byte id gets its pong;
#  (4) per-service rate limits, counted in /metrics;
#  (5) a peer that pings with 100 KB ids and never reads is cut off at
#      send_buffer_bytes with policy-violation, RSS stays flat, /metrics
#      counts it, Prosody still gets its pong;
#  (5b) a peer that pings (paced, under the bound) and never reads: our
#      stream to it goes idle, since only what it reads re-arms the timer;
#  (6) an unauthenticated stream sending db:verify without reading is
#      closed, and its log lines are capped by log_per_minute;
#  (7) under `ulimit -n 64`, a crowd exhausting file descriptors does not
#      stop the listener: a new stream still gets its features.
#
# Usage: test_limits.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

V6_LISTEN=fd00:0:0:9::1

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
extra_zone evil.example 127.0.0.10
extra_zone rate.example 127.0.0.11
extra_zone big.example 127.0.0.12
extra_zone idle.example 127.0.0.13
for a in fd00:0:0:1::1 fd00:0:0:1::2 fd00:0:0:2::1 $V6_LISTEN; do
    ns ip -6 addr add "$a/64" dev lo nodad || die "cannot add $a to lo"
done
# an IPv6 listener too (listeners only change on restart)
sed -i "s/^listen = (/listen = (\n  { address = \"$V6_LISTEN\"; port = 5269; },/" "$RCONF"
grep -q "$V6_LISTEN" "$RCONF" || die "could not add the IPv6 listener"
responder_limit unauth_timeout 60
responder_limit max_streams 40
responder_limit reserved_authenticated 25     # 10 slots reserved, 30 unauthenticated
unbound_up "$RZONE"
responder_up
prosody_up true no

# peer CASE ARGS...: run peer.py in the namespace.
peer() { ns timeout 90 "$PY" "$HERE/peer.py" "$@" --to "no-tls.$BASE"; }

# metric NAME_WITH_LABELS: its value from /metrics (empty when absent).
metric() {
    responder_api /metrics | awk -v m="xmpp_responder_$1" '$1 == m {print $2}'
}

# reloaded_since N: the log has more than N "reloaded" lines.
reloaded_since() { [ "$(grep -c "reloaded: " "$WORK/responder.log")" -gt "$1" ]; }

# reload NAME=VALUE...: set limits and SIGHUP; wait for the reload line.
reload() {
    local kv n
    for kv in "$@"; do responder_limit "${kv%%=*}" "${kv#*=}"; done
    n=$(grep -c "reloaded: " "$WORK/responder.log")
    kill -HUP "$RESPONDER_PID"
    wait_for 10 reloaded_since "$n" || die "no reload"
    sleep 0.3
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

note "(1) a crowd of 200 unauthenticated streams from 8 addresses, table of 40, 25% reserved"
start_bg "$WORK/crowd1.out" "$PY" "$HERE/peer.py" crowd --to "valid.$BASE" --count 200 \
    --sources 127.0.0.20,127.0.0.21,127.0.0.22,127.0.0.23,127.0.0.24,127.0.0.25,127.0.0.26,127.0.0.27 \
    --gap 0.005 --hold 6
CROWD1=$LAST_PID
wait_for 10 grep -q "streams open" "$WORK/crowd1.out" || die "crowd did not start"
if prosody_ping "valid.$BASE"; then pass "(1) Prosody gets a pong past the crowd: $PING_OUT"
else fail "(1) Prosody gets no pong past the crowd: $PING_OUT"; fi
check "(1) the crowd was still there during the ping" alive "$CROWD1"
wait "$CROWD1"
cat "$WORK/crowd1.out" | sed 's/^/# /'
evicted=$(sed -n 's/^evicted=\([0-9]*\).*/\1/p' "$WORK/crowd1.out")
opened=$(sed -n 's/^evicted=[0-9]* opened=\([0-9]*\).*/\1/p' "$WORK/crowd1.out")
# 30 unauthenticated slots: every crowd stream beyond them pushed one out
check "(1) $((${opened:-0} - 30)) or more of ${opened:-0} crowd streams gave way (got ${evicted:-none})" \
    test "${evicted:-0}" -ge $((${opened:-0} - 30)) -a "${opened:-0}" -ge 150
ev=$(metric streams_evicted_total)
check "(1) /metrics counts evictions (streams_evicted_total=$ev)" test "${ev:-0}" -ge "${evicted:-1}"

note "(2) IPv6: max_streams_per_ip = 2 counts a /64 as one address"
reload max_streams=1024 max_streams_per_ip=2
start_bg "$WORK/crowd2.out" "$PY" "$HERE/peer.py" crowd --host "$V6_LISTEN" --to "valid.$BASE" \
    --count 2 --sources fd00:0:0:1::1 --hold 6
CROWD2=$LAST_PID
wait_for 10 grep -q "streams open" "$WORK/crowd2.out" || die "IPv6 crowd did not start"
out=$(peer hello --host "$V6_LISTEN" --sources fd00:0:0:1::2 --max 1); echo "# $out"
check "(2) a third stream from the same /64 is refused with policy-violation" \
    grep -q "policy-violation" <<<"$out"
out=$(peer hello --host "$V6_LISTEN" --sources fd00:0:0:2::1 --max 5); echo "# $out"
check "(2) a stream from another /64 gets its features" grep -q "^PASS" <<<"$out"
wait "$CROWD2"
reload max_streams_per_ip=64

note "(3) replies of any legal size"
out=$(peer bigverify --domain big.example --id-bytes 5000 --max 5); echo "# $out"
check "(3) a db:verify with a 5,000-byte id is answered" grep -q "^PASS" <<<"$out"
out=$(peer bigping --domain big.example --ip 127.0.0.12 --id-bytes 100000 --max 10); echo "# $out"
check "(3) a ping with a 100,000-byte id gets its pong" grep -q "^PASS" <<<"$out"

note "(4) per-service rate limits: 10 pings, 5 disco, 3 version, 4 echo, 2 presence a minute"
reload ping_per_minute=10 disco_per_minute=5 version_per_minute=3 echo_per_minute=4 \
    presence_per_minute=2
# the limits count per clock minute: keep the burst inside one
while [ $(($(date +%s) % 60)) -ge 54 ]; do sleep 1; done
out=$(peer rates --domain rate.example --ip 127.0.0.11 --count 20 --max 5); echo "# $out"
check "(4) answered: 10 pings, 5 disco#info, 3 versions, 4 echoes, 2 presences out of 20 each" \
    grep -q "^answered disco=5 echo=4 ping=10 presence=2 version=3$" <<<"$out"
for s in ping:10 disco:15 version:17 echo:16 presence:18; do
    v=$(metric "rate_limited_total{service=\"${s%%:*}\"}")
    check "(4) /metrics rate_limited_total{service=\"${s%%:*}\"} >= ${s#*:} (got ${v:-none})" \
        test "${v:-0}" -ge "${s#*:}"
done
check "(4) the log says event=rate-limited for rate.example" log_names rate-limited rate.example

note "(5) a peer that pings with 100 KB ids and never reads"
reload ping_per_minute=100000 send_buffer_bytes=262144 send_stall_timeout=3
rss0=$(rss_kb "$RESPONDER_PID")
peak=$rss0
peer noread --domain evil.example --ip 127.0.0.10 --id-bytes 100000 --count 1000 --max 40 \
    >"$WORK/noread.out" 2>&1 &
NOREAD=$!
while kill -0 "$NOREAD" 2>/dev/null; do
    r=$(rss_kb "$RESPONDER_PID"); [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.2
done
wait "$NOREAD"
echo "# $(cat "$WORK/noread.out")"
check "(5) cut off with policy-violation" grep -q "^PASS" "$WORK/noread.out"
rss1=$(rss_kb "$RESPONDER_PID")
note "(5) RSS before ${rss0} kB, peak ${peak} kB, after ${rss1} kB"
if sanitized "$RESPONDER"; then
    note "(5) AddressSanitizer build: freed memory waits in its quarantine, the RSS bound is not checked"
else
    check "(5) RSS stayed flat: peak $(((peak - rss0) / 1024)) MB over the start (limit 40 MB)" \
        test $((peak - rss0)) -lt 40960
fi
cut=$(metric send_cutoffs_total)
check "(5) /metrics send_cutoffs_total >= 1 (got ${cut:-none})" test "${cut:-0}" -ge 1
check "(5) the log says event=send-stalled for evil.example" log_names send-stalled evil.example
if prosody_ping "valid.$BASE"; then pass "(5) Prosody still gets a pong: $PING_OUT"
else fail "(5) Prosody gets no pong afterwards: $PING_OUT"; fi

note "(5b) the idle timer counts what the peer read, not what we sent"
reload send_buffer_bytes=268435456 send_stall_timeout=600 idle_timeout=3
peer noread-idle --domain idle.example --ip 127.0.0.13 --id-bytes 100000 --count 400 \
    --gap 0.05 --max 25 >"$WORK/idle.out" 2>&1 &
IDLE=$!
# about 3 s to fill the socket buffers, then 3 s idle; the peer goes on for 20 s
check "(5b) our stream to idle.example closed as idle" \
    wait_for 15 grep -qE 'remote=idle\.example event=close reason="idle"' "$WORK/responder.log"
check "(5b) while the peer was still sending pings" kill -0 "$IDLE"
kill "$IDLE" 2>/dev/null; wait "$IDLE" 2>/dev/null
reload send_buffer_bytes=262144 send_stall_timeout=3 idle_timeout=300

note "(6) an unauthenticated stream sends db:verify without reading"
reload log_per_minute=50
before=$(grep -c "127\.0\.0\.30" "$WORK/responder.log")
out=$(ns timeout 60 "$PY" "$HERE/peer.py" verify-flood --to "no-tls.$BASE" --sources 127.0.0.30 \
    --count 150000 --max 30); echo "# $out"
check "(6) the stream is closed before 30 s" grep -q "^PASS" <<<"$out"
sleep 1
lines=$(($(grep -c "127\.0\.0\.30" "$WORK/responder.log") - before))
note "(6) log lines naming 127.0.0.30 during the flood: $lines"
# one minute window, or two when the flood straddles a minute boundary
check "(6) at most 2 x 50 + 10 log lines for the flood (got $lines)" test "$lines" -le 110
check "(6) the log says event=log-suppressed" grep -q "event=log-suppressed" "$WORK/responder.log"
sup=$(metric log_lines_suppressed_total)
check "(6) /metrics log_lines_suppressed_total > 0 (got ${sup:-none})" test "${sup:-0}" -gt 0

note "(7) under ulimit -n 64: 100 held streams, then a new one"
stop_pid "$RESPONDER_PID" 10
responder_limit log_per_minute 1200
start_bg "$WORK/responder.log" bash -c "ulimit -n 64 && exec \"$RESPONDER\" run -c \"$RCONF\""
RESPONDER_PID=$LAST_PID
wait_for 15 listening "$RESPONDER_IP" 5269 || die "responder under ulimit -n 64 did not start"
start_bg "$WORK/crowd7.out" "$PY" "$HERE/peer.py" crowd --to "valid.$BASE" --count 100 \
    --sources 127.0.0.40,127.0.0.41,127.0.0.42,127.0.0.43 --hold 8
CROWD7=$LAST_PID
wait_for 30 grep -q "streams open" "$WORK/crowd7.out" || die "crowd did not start"
out=$(peer hello --max 7); echo "# $out"
check "(7) a new stream gets its features while the crowd holds its sockets" grep -q "^PASS" <<<"$out"
check "(7) the crowd was still there" alive "$CROWD7"
wait "$CROWD7"
cat "$WORK/crowd7.out" | sed 's/^/# /'
out=$(peer hello --max 10); echo "# $out"
check "(7) and after the crowd left" grep -q "^PASS" <<<"$out"
ev=$(metric streams_evicted_total)
check "(7) /metrics streams_evicted_total > 0 (got ${ev:-none})" test "${ev:-0}" -gt 0
check "(7) the log says how many streams the descriptors allow" \
    grep -q "file descriptors (ulimit -n) allow" "$WORK/responder.log"
check "(7) responder alive" alive "$RESPONDER_PID"

stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
