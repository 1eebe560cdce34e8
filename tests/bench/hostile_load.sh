#!/bin/bash
# hostile_load.sh -- benchmark: the responder under a full-size hostile crowd
# while a real Prosody keeps pinging valid.responder.example. Not part of the
# test suite (see tests/interop/test_load.sh for the CI-sized test); it prints
# figures and exits 0 when the run itself worked. See README.md here.
#
# Usage: sudo bash tests/bench/hostile_load.sh [PATH/TO/xmpp-responder]
# Sizes (environment): SLOWLORIS (5000) from SOURCES (127.0.1.1-100),
# MALFORMED (10000) at MALFORMED_RATE (100/s), FLOOD_PINGS (2000),
# LOAD_SECONDS (120), BEFORE_SECONDS (10) and AFTER_SECONDS (15) of pings
# without the crowd, PING_INTERVAL (0.2 s).

. "$(dirname "$0")/../interop/lib.sh"
. "$HERE/../load/load_lib.sh"

SLOWLORIS=${SLOWLORIS:-5000}
SOURCES=${SOURCES:-127.0.1.1-100}
MALFORMED=${MALFORMED:-10000}
MALFORMED_RATE=${MALFORMED_RATE:-100}
FLOOD_PINGS=${FLOOD_PINGS:-2000}
LOAD_SECONDS=${LOAD_SECONDS:-120}
BEFORE_SECONDS=${BEFORE_SECONDS:-10}
AFTER_SECONDS=${AFTER_SECONDS:-15}
PING_INTERVAL=${PING_INTERVAL:-0.2}
SHAPES_MIB=${SHAPES_MIB:-8}   # per input shape; 0: none (SHAPES_ONLY=1: nothing else)
NOFILE_MIN=8192          # 5,000 sockets reach the daemon

load_setup "${1:-$HERE/../../build/responder/cli/xmpp-responder}"
prosody_ping "valid.$BASE" || die "baseline ping valid.$BASE failed: $PING_OUT"

# The input shapes first, alone: the daemon's CPU per MiB of each.
if [ "$SHAPES_MIB" != 0 ]; then
    note "input shapes: $SHAPES_MIB MiB each, before authenticating and as $SHAPES_DOMAIN"
    shapes_run "$SHAPES_MIB" >"$WORK/shapes.out" 2>&1 ||
        die "attack_parse.py failed: $(tail -n 3 "$WORK/shapes.out")"
    grep '^SHAPE' "$WORK/shapes.out"
    check "the responder survived the shapes" alive "$RESPONDER_PID"
    [ "${SHAPES_ONLY:-0}" = 1 ] && { summary; exit; }
fi

PHASE=$WORK/phase
echo before >"$PHASE"
rss_sampler_start "$RESPONDER_PID"
HONEST_LOG=$WORK/honest.out
honest_start "$HONEST_LOG" $((BEFORE_SECONDS + LOAD_SECONDS + AFTER_SECONDS)) \
    "$PING_INTERVAL" 0 "$PHASE"
wait_for 20 grep -q '^LOGIN ok' "$HONEST_LOG" || die "honest pinger: $(head -n 1 "$HONEST_LOG")"
sleep "$BEFORE_SECONDS"

rss_before=$(proc_kb "$RESPONDER_PID" VmRSS)
cpu_before=$(cpu_seconds "$RESPONDER_PID")
echo load >"$PHASE"
note "crowd: $SLOWLORIS slowloris from $SOURCES, $MALFORMED malformed at $MALFORMED_RATE/s," \
     "a non-reading dialback peer ($FLOOD_PINGS pings of 200 kB ids), ${LOAD_SECONDS}s"
started=$SECONDS
crowd_run "$WORK/load.out" --duration "$LOAD_SECONDS" --slowloris "$SLOWLORIS" \
    --sources "$SOURCES" --malformed "$MALFORMED" --malformed-rate "$MALFORMED_RATE" \
    --flood-pings "$FLOOD_PINGS" --honest 100000 --honest-interval 0.25 --progress 15 |
    grep -v '^SUMMARY'
wall=$((SECONDS - started))
echo after >"$PHASE"
cpu_load=$(cpu_seconds "$RESPONDER_PID")
rss_peak=$(rss_peak_kb "$RESPONDER_PID")
sleep "$AFTER_SECONDS"
rss_after=$(proc_kb "$RESPONDER_PID" VmRSS)
wait_for 60 absent alive "$HONEST_PID" || note "honest pinger still running"
[ -s "$WORK/load.json" ] || die "hostile_load.py wrote no figures (see $WORK/load.out)"

figure() { printf '%-34s %s\n' "$1" "$2"; }
echo
echo "== xmpp-responder under hostile load ($(date -u +%FT%TZ), $(nproc) CPUs) =="
figure "crowd" "$SLOWLORIS slowloris from $SOURCES; $MALFORMED malformed at $MALFORMED_RATE/s; 1 non-reading peer"
for p in before load after; do
    figure "honest pings ($p)" "$(honest_field "$p" pong)/$(honest_field "$p" pings) answered;\
 p50 $(honest_field "$p" p50_ms) ms, p99 $(honest_field "$p" p99_ms) ms, max $(honest_field "$p" max_ms) ms"
done
figure "honest stream opens (load)" "$(load_get honest.ok)/$(load_get honest.opens) got features;\
 p50 $(load_get honest.latency_ms.p50) ms, p99 $(load_get honest.latency_ms.p99) ms,\
 max $(load_get honest.latency_ms.max) ms"
figure "responder RSS" "before $(mib "$rss_before") MiB, peak $(mib "$rss_peak") MiB,\
 after $(mib "${rss_after:-0}") MiB (${AFTER_SECONDS}s after the crowd)"
figure "responder CPU" "$(awk -v a="$cpu_load" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }') s\
 during ${wall}s of load"
figure "slowloris" "$(load_get slowloris.connects) connects, $(load_get slowloris.closed_by_daemon)\
 closed by the daemon ($(load_get slowloris.close_conditions)), peak $(load_get slowloris.open_peak) open"
figure "malformed" "$(load_get malformed.started) sent; $(load_get malformed.outcomes)"
figure "non-reading peer" "authenticated=$(load_get flood.authenticated)\
 $(load_get flood.auth_error) pings=$(load_get flood.pings_sent)\
 closed=$(load_get flood.inbound_closed) $(load_get flood.inbound_condition)"
figure "target" "p99 under load < 50 ms; RSS after near RSS before"
check "the responder survived" alive "$RESPONDER_PID"
summary
