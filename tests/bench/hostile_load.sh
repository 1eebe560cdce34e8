#!/bin/bash
# hostile_load.sh -- benchmark: the responder under each attack of issues 8
# and 21, alone and all together, from one attacker holding 64 IPv4
# addresses and an IPv6 /48, while the honest side keeps working: a real
# Prosody pings valid.responder.example, an honest client logs in to the test
# account, honest probes of the Prosody run and an ACME challenge is fetched.
# Not part of the test suite (tests/interop/test_load.sh is the CI-sized
# test); it prints figures and the targets met or not, and exits 0 when the
# run itself worked. See README.md here.
#
# Usage: sudo bash tests/bench/hostile_load.sh [PATH/TO/xmpp-responder]
# QUICK=1 for a try-out (8 + 8 addresses, shorter phases, smaller crowds);
# sizes (environment; default, quick): ATTACKER4 (127.0.64.1-64, -8),
# ATTACKER6 (2001:db8:bad:1::1-40, -8; "" for none), PHASES (baseline
# clients web report s2s probe together after), PHASE_SECONDS (30, 25) per
# attack alone, LOAD_SECONDS (90, 30) all together, AFTER_SECONDS (20, 10),
# CLIENTS_PER_SOURCE (16), WEB_PER_SOURCE (4) at WEB_INTERVAL (4 s),
# REPORT_PER_SOURCE (64, 40), PROBE_FLOOD (512, 80), SLOWLORIS (5000, 500)
# from SOURCES (the attacker's), MALFORMED (10000, 1000) at MALFORMED_RATE
# (100/s), FLOOD_PINGS (2000, 200), PING_INTERVAL (0.2 s), SHAPES_MIB (8, 1;
# 0: none, SHAPES_ONLY=1: nothing else).

. "$(dirname "$0")/../interop/lib.sh"
. "$HERE/../load/load_lib.sh"
. "$HERE/../bench/hostile_attacks.sh"

if [ "${QUICK:-0}" = 1 ]; then
    : "${ATTACKER4=127.0.64.1-8}" "${ATTACKER6=2001:db8:bad:1::1-8}" "${PHASE_SECONDS:=25}"
    : "${LOAD_SECONDS:=30}" "${AFTER_SECONDS:=10}" "${REPORT_PER_SOURCE:=40}"
    : "${PROBE_FLOOD:=80}" "${SLOWLORIS:=500}" "${MALFORMED:=1000}" "${FLOOD_PINGS:=200}"
    : "${SHAPES_MIB:=1}"
fi
ATTACKER4=${ATTACKER4-127.0.64.1-64}
ATTACKER6=${ATTACKER6-2001:db8:bad:1::1-40}
PHASES=${PHASES:-baseline clients web report s2s probe together after}
PHASE_SECONDS=${PHASE_SECONDS:-30}
LOAD_SECONDS=${LOAD_SECONDS:-90}
AFTER_SECONDS=${AFTER_SECONDS:-20}
CLIENTS_PER_SOURCE=${CLIENTS_PER_SOURCE:-16}
WEB_PER_SOURCE=${WEB_PER_SOURCE:-4}
WEB_INTERVAL=${WEB_INTERVAL:-4}
REPORT_PER_SOURCE=${REPORT_PER_SOURCE:-64}
PROBE_FLOOD=${PROBE_FLOOD:-512}
SLOWLORIS=${SLOWLORIS:-5000}
MALFORMED=${MALFORMED:-10000}
MALFORMED_RATE=${MALFORMED_RATE:-100}
FLOOD_PINGS=${FLOOD_PINGS:-2000}
PING_INTERVAL=${PING_INTERVAL:-0.2}
SHAPES_MIB=${SHAPES_MIB:-8}
NOFILE_MIN=8192          # 5,000 sockets reach the daemon

load_prepare "${1:-$HERE/../../build/responder/cli/xmpp-responder}"
attacker_prepare
SOURCES=${SOURCES:-$ATTACKER}
load_start
prosody_ping "valid.$BASE" || die "baseline ping valid.$BASE failed: $PING_OUT"
wait_for 10 eval 'responder_api "/api/report/$PEER" | grep -q "\"evidence\":\"verified\""' ||
    die "no verified outcome of $PEER in the report"
note "attacker: $ATTACKER4${ATTACKER6:+ and $ATTACKER6 (in $ATTACKER_NET6)}; the daemon also on $RESPONDER_IP6"

# The input shapes first, alone: the daemon's CPU per MiB of each.
if [ "$SHAPES_MIB" != 0 ]; then
    note "input shapes: $SHAPES_MIB MiB each, before authenticating and as $SHAPES_DOMAIN"
    shapes_run "$SHAPES_MIB" >"$WORK/shapes.out" 2>&1 ||
        die "attack_parse.py failed: $(tail -n 3 "$WORK/shapes.out")"
    grep '^SHAPE' "$WORK/shapes.out"
    check "the responder survived the shapes" alive "$RESPONDER_PID"
    [ "${SHAPES_ONLY:-0}" = 1 ] && { summary; exit; }
fi

# phase NAME: the attack of that name (none for baseline and after) set up,
# the honest side measured for the phase's seconds, the attack ended, what
# the daemon holds noted.
phase() {
    local name=$1 secs=$PHASE_SECONDS cpu0 t0=$SECONDS
    case $name in together) secs=$LOAD_SECONDS ;; after) secs=$AFTER_SECONDS ;; esac
    cpu0=$(cpu_seconds "$RESPONDER_PID")
    echo "$name" >"$PHASE"
    note "phase $name: ${secs}s"
    CLIENTS_PID="" WEB_PID="" REPORT_PID="" S2S_PID=""
    # what takes a while to set up first, then the crowds that last a given time
    case $name in
        clients) clients_start "$name" ;;
        web) web_start "$name" $((secs + 30)) ;;
        report) report_start "$name" "$secs" ;;
        s2s) s2s_start "$name" $((secs + 5)) ;;
        probe) probe_flood "$name" ;;
        together)
            clients_start "$name"
            probe_flood "$name"
            web_start "$name" $((secs + 30))
            report_start "$name" "$secs"
            s2s_start "$name" $((secs + 5)) ;;
        baseline | after) ;;
        *) die "unknown phase $name (PHASES: baseline clients web report s2s probe together after)" ;;
    esac
    honest_window "$name" "$secs"
    attack_end "$CLIENTS_PID" 0
    attack_end "$WEB_PID" 0
    attack_end "$REPORT_PID" 30
    attack_end "$S2S_PID" 60
    snapshot "$name" $((SECONDS - t0)) "$cpu0"
    check "the responder survived phase $name" alive "$RESPONDER_PID"
    PHASE_INDEX=$((PHASE_INDEX + 1))
}

PHASE=$WORK/phase
PHASE_INDEX=0
echo start >"$PHASE"
rss_sampler_start "$RESPONDER_PID"
HONEST_LOG=$WORK/honest.out
honest_start "$HONEST_LOG" 3600 "$PING_INTERVAL" 0 "$PHASE"
wait_for 20 grep -q '^LOGIN ok' "$HONEST_LOG" || die "honest pinger: $(head -n 1 "$HONEST_LOG")"
rss_before=$(proc_kb "$RESPONDER_PID" VmRSS)
for p in $PHASES; do
    alive "$RESPONDER_PID" || break
    phase "$p"
done
echo stop >"$PHASE"
wait_for 30 absent alive "$HONEST_PID" || note "honest pinger still running"

echo
echo "== xmpp-responder under hostile load ($(date -u +%FT%TZ), $(nproc) CPUs," \
     "$("$RESPONDER" --version 2>/dev/null | head -n 1)) =="
"$PY" "$HERE/../bench/hostile_table.py" "$WORK" --phases "$PHASES" \
    --attacker "$ATTACKER4${ATTACKER6:+ + $ATTACKER6}" \
    --rss "$rss_before,$(rss_peak_kb "$RESPONDER_PID"),$(proc_kb "$RESPONDER_PID" VmRSS)" ||
    fail "hostile_table.py could not read the run's figures"
check "the responder survived" alive "$RESPONDER_PID"
summary
