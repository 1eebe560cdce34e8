#!/bin/bash
# run.sh -- issue 14's benchmark: xmpp-responder, Prosody and ejabberd
# (Debian's) side by side, each driven by xrbench (a real s2s peer: STARTTLS,
# SASL EXTERNAL with a certificate from the staging CA every target trusts),
# all on loopback inside a network namespace made here (tests/interop/lib.sh).
# Each target's CPU (utime+stime from /proc/PID/stat) and RSS (VmRSS) are read
# by xrbench before and after each mode, so figures hold on a busy machine.
# Prints one markdown table with per-unit figures and the ratios.
#
# Usage: sudo bash tests/bench/run.sh [--quick] [XMPP-RESPONDER [XRBENCH [TLS_CEILING]]]
#   (defaults: build/responder/cli/xmpp-responder, build/tests/bench/*)
# --quick: the responder alone with small sizes (meson's bench-quick test):
#   prints the figures, asserts only that every stream authenticated and
#   every ping and echo was answered, never a time.
# Sizes (environment): IDLE_N (2000) streams held open, SESSIONS_N (400) new
# sessions, SESSIONS_AT_ONCE (8), the same again with BUSY_N (IDLE_N) idle
# streams held open meanwhile (0: skip), the responder once more with
# DOMAINS_N (0: skip) more configured domains, PINGS_N (30000) with PING_WINDOW (100)
# outstanding over PING_STREAMS (1), ECHO_N (5000, responder only),
# CEILING_N (400) handshakes, IDLE_HOLD_MS (1500) idle streams settle before
# their RSS is read, IDLE_AT_ONCE (20) of them being set up at once,
# MODE_SECONDS (120) bound per mode,
# TARGETS ("responder prosody ejabberd"), LOG_PER_MINUTE (the responder's
# limits.log_per_minute; default left as init writes it, 1200),
# SCALE_N (50000; 0 with --quick): the responder alone once more holds this
# many idle streams at once (issue 14: 50,000 in at most 1 GiB), fewer when
# the open-file hard limit allows fewer, and the table projects 50,000.
# The open-file limit (soft and, as root, hard) is raised to
# max(2 * (IDLE_N + BUSY_N) + 1024, SCALE_N + 1024, 65536): each idle stream
# is a socket at both ends, and the targets inherit the limit.

# shellcheck source=SCRIPTDIR/../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
# shellcheck source=SCRIPTDIR/../interop/ejabberd.sh
. "$HERE/ejabberd.sh"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$BENCH_DIR/../../build

QUICK=""
if [ "${1:-}" = --quick ]; then QUICK=1; shift; fi
XRBENCH=${2:-$BUILD/tests/bench/xrbench}
TLS_CEILING=${3:-$BUILD/tests/bench/tls_ceiling}
if [ -n "$QUICK" ]; then
    IDLE_N=${IDLE_N:-100} SESSIONS_N=${SESSIONS_N:-60} PINGS_N=${PINGS_N:-3000}
    ECHO_N=${ECHO_N:-500} CEILING_N=${CEILING_N:-100} TARGETS=${TARGETS:-responder}
    BUSY_N=${BUSY_N:-0} SCALE_N=${SCALE_N:-0}
fi
IDLE_N=${IDLE_N:-2000}
SESSIONS_N=${SESSIONS_N:-400}
SESSIONS_AT_ONCE=${SESSIONS_AT_ONCE:-8}
PINGS_N=${PINGS_N:-30000}
PING_WINDOW=${PING_WINDOW:-100}
PING_STREAMS=${PING_STREAMS:-1}
ECHO_N=${ECHO_N:-5000}
BUSY_N=${BUSY_N:-$IDLE_N}
DOMAINS_N=${DOMAINS_N:-0}
CEILING_N=${CEILING_N:-400}
# idle streams settle this long before RSS is read: the responder gives an
# idle stream's XML parser back after a second without input
IDLE_HOLD_MS=${IDLE_HOLD_MS:-1500}
IDLE_AT_ONCE=${IDLE_AT_ONCE:-20}  # idle streams being set up at once
MODE_SECONDS=${MODE_SECONDS:-120}
TARGETS=${TARGETS:-responder prosody ejabberd}
SCALE_N=${SCALE_N:-50000}
BENCH_DOMAIN=bench.example
BENCH_IP=127.0.0.7          # xrbench's listener: the targets' replies come here
SOURCES=127.0.1.1-50        # xrbench's streams come from these

need_env
need_responder "${1:-$BUILD/responder/cli/xmpp-responder}"
[ -x "$XRBENCH" ] || die "xrbench not built: $XRBENCH"
[ -x "$TLS_CEILING" ] || die "tls_ceiling not built: $TLS_CEILING"
case " $TARGETS " in *" ejabberd "*) need_ejabberd ;; esac

# Every stream is a descriptor in xrbench and in the target.
nofile=$((2 * (IDLE_N + BUSY_N) + 1024)); [ "$nofile" -lt 65536 ] && nofile=65536
[ "$nofile" -lt $((SCALE_N + 1024)) ] && nofile=$((SCALE_N + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ]; then
    ulimit -Hn "$nofile" 2>/dev/null   # root may raise the hard limit
    hard=$(ulimit -Hn)
fi
[ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] && nofile=$hard
ulimit -n "$nofile" || die "cannot raise the open-file limit to $nofile"
note "open-file limit raised to $(ulimit -n) for xrbench and the targets"
# Each process needs a descriptor per stream (the limit is per process).
SCALE_WANTED=""
if [ "$SCALE_N" -gt $((nofile - 1024)) ]; then
    SCALE_WANTED=$SCALE_N SCALE_N=$((nofile - 1024))
    note "SCALE_N capped at $SCALE_N by the open-file hard limit ($hard; root without CAP_SYS_RESOURCE cannot raise it)"
fi

netns_up
pki_up
pki_leaf "$BENCH_DOMAIN" >>"$WORK/pki/certtool.log" 2>&1 || die "certtool failed for $BENCH_DOMAIN"
extra_zone "$BENCH_DOMAIN" "$BENCH_IP"
# shellcheck disable=SC2119 # init's own defaults
responder_init
# Limits out of the way: one peer opening thousands of streams and sending
# tens of thousands of pings is the point here, not an attack.
for lim in max_streams_per_ip max_streams ping_per_minute echo_per_minute; do
    responder_limit "$lim" 1048576
done
# The daemon logs a line per ping and echo, up to log_per_minute (1200) per
# peer, then counts them; LOG_PER_MINUTE=1048576 makes it write every one.
[ -n "${LOG_PER_MINUTE:-}" ] && responder_limit log_per_minute "$LOG_PER_MINUTE"
unbound_up "$RZONE"
wait_for 10 dns_answers SRV "_xmpp-server._tcp.$BENCH_DOMAIN" || die "no SRV for $BENCH_DOMAIN"
# Prosody and ejabberd trust both test roots; the responder trusts the staging CA.
cat "$RDIR/certs/ca.pem" "$STAGING_CA" >"$WORK/pki/both-cas.pem"
# shellcheck disable=SC2034 # read by lib.sh's prosody_config
PROSODY_CAFILE=$WORK/pki/both-cas.pem

# xrb TARGET-NAME LABEL MODE ARGS...: one xrbench run against the current
# target; its RESULT line goes to $WORK/results as "TARGET LABEL key=value...".
xrb() {
    local name=$1 label=$2 mode=$3; shift 3
    ns timeout $((MODE_SECONDS + 30)) "$XRBENCH" --mode "$mode" --target "$T_ADDR:5269" \
        --to "$T_DOMAIN" --from "$BENCH_DOMAIN" --cert "$WORK/pki/$BENCH_DOMAIN.crt" \
        --key "$WORK/pki/$BENCH_DOMAIN.key" --ca "$STAGING_CA" --ca "$RDIR/certs/ca.pem" \
        --listen "$BENCH_IP:5269" --source "$SOURCES" --target-pid "$T_PID" \
        --seconds "$MODE_SECONDS" "$@" >"$WORK/xrb-$name-$label.out" 2>&1
    local rc=$?
    grep -v '^RESULT' "$WORK/xrb-$name-$label.out" | sed "s/^/# $name $label: /" | head -n 8
    local line
    line=$(grep '^RESULT' "$WORK/xrb-$name-$label.out")
    echo "$name $label ${line#RESULT }" >>"$WORK/results"
    note "$name $label: ${line#RESULT }"
    check "$name $label: every stream authenticated, every stanza answered" test "$rc" -eq 0
}

# bench_target NAME: every mode against the target in T_* (already running).
bench_target() {
    local name=$1
    echo "$name start rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$T_PID/status")" >>"$WORK/results"
    xrb "$name" idle idle --count "$IDLE_N" --concurrency "$IDLE_AT_ONCE" --hold-ms "$IDLE_HOLD_MS"
    xrb "$name" sessions sessions --count "$SESSIONS_N" --concurrency "$SESSIONS_AT_ONCE"
    [ "$BUSY_N" -gt 0 ] &&
        xrb "$name" sessions-busy sessions --count "$SESSIONS_N" \
            --concurrency "$SESSIONS_AT_ONCE" --background "$BUSY_N"
    xrb "$name" ping ping --count "$PINGS_N" --window "$PING_WINDOW" --streams "$PING_STREAMS"
    [ "$name" = responder ] &&
        xrb "$name" echo echo --count "$ECHO_N" --window "$PING_WINDOW" --streams "$PING_STREAMS"
    return 0
}

# untrusted_refused: xrbench's "every stream authenticated" means something:
# with a self-signed certificate for bench.example, the same sessions fail.
untrusted_refused() {
    local d=$WORK/pki out=$WORK/xrb-untrusted.out
    printf 'cn = "%s"\ndns_name = "%s"\ntls_www_client\ntls_www_server\nexpiration_days = 30\n' \
        "$BENCH_DOMAIN" "$BENCH_DOMAIN" >"$d/rogue.tmpl"
    { certtool --generate-privkey --key-type=ecdsa --outfile "$d/rogue.key" &&
      certtool --generate-self-signed --load-privkey "$d/rogue.key" --template "$d/rogue.tmpl" \
        --outfile "$d/rogue.crt"; } >>"$d/certtool.log" 2>&1 || die "certtool failed for rogue.crt"
    ns timeout 60 "$XRBENCH" --mode sessions --count 3 --concurrency 1 --seconds 20 \
        --target "$T_ADDR:5269" --to "$T_DOMAIN" --from "$BENCH_DOMAIN" --cert "$d/rogue.crt" \
        --key "$d/rogue.key" --ca "$STAGING_CA" --ca "$RDIR/certs/ca.pem" >"$out" 2>&1
    local rc=$?
    note "untrusted certificate: $(grep -m1 'stream 0 failed' "$out")"
    check "a self-signed certificate authenticates no session (xrbench exits non-zero)" test "$rc" -ne 0
    check "... and all 3 sessions are counted as failed" grep -q ' failed=3 ' "$out"
}

# domains_bench: the responder again with DOMAINS_N more domains (d0 ..
# d<N-1>.BASE, the wrong-name row's certificate, which names none of them):
# the CPU it takes to start (utime+stime once it listens), its RSS then, and
# a session's CPU to the first and to the last of them.
domains_bench() {
    local conf=$RDIR/responder-domains.conf
    awk -v n="$DOMAINS_N" -v base="$BASE" '
        { print }
        /^domains = \($/ {
            for (i = 0; i < n; i++)
                printf "  { name = \"d%d.%s\"; profile = \"wrong-name\"; cert = \"certs/wrong-name.%s.pem\"; key = \"certs/wrong-name.%s.key\"; },\n", i, base, base, base
        }' "$RCONF" >"$conf"
    start_bg "$WORK/responder-domains.log" "$RESPONDER" run -c "$conf"
    T_PID=$LAST_PID
    wait_for 60 listening "$RESPONDER_IP" 5269 || die "the responder with $DOMAINS_N more domains did not start"
    echo "responder domains start_cpu_s=$(awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$T_PID/stat") rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$T_PID/status")" >>"$WORK/results"
    T_DOMAIN=d0.$BASE xrb responder sessions-first-domain sessions --count "$SESSIONS_N" --concurrency "$SESSIONS_AT_ONCE"
    T_DOMAIN=d$((DOMAINS_N - 1)).$BASE xrb responder sessions-last-domain sessions --count "$SESSIONS_N" --concurrency "$SESSIONS_AT_ONCE"
    stop_pid "$T_PID"
}

# prosody_bench_up: a strict Prosody (SASL EXTERNAL only) logging at info,
# as a deployment would (lib.sh's debug log would cost it a line per stanza).
prosody_bench_up() {
    prosody_config true no
    sed -i -E 's/^log = \{ debug = /log = { info = /' "$PCONF"
    start_bg "$WORK/prosody/stdout.log" prosody --config "$PCONF"
    PROSODY_PID=$LAST_PID
    wait_for 15 listening "$PEER_IP" 5269 || die "Prosody did not start (see $WORK/prosody)"
}

# beam_pid: ejabberd's Erlang VM inside our namespace (ejabberdctl is a shell).
beam_pid() {
    local p
    for p in $(ip netns pids "$NS"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = beam.smp ] && { echo "$p"; return 0; }
    done
    return 1
}

: >"$WORK/results"
"$TLS_CEILING" "$CEILING_N" >"$WORK/ceiling.out" 2>&1 || die "tls_ceiling: $(cat "$WORK/ceiling.out")"
CEILING_US=$(sed -n 's/^RESULT .*server_us=\([0-9.]*\).*/\1/p' "$WORK/ceiling.out")
note "GnuTLS alone: $(grep '^server side' "$WORK/ceiling.out")"

for target in $TARGETS; do
    case $target in
    responder)
        responder_up
        T_PID=$RESPONDER_PID T_ADDR=$RESPONDER_IP T_DOMAIN=valid.$BASE
        sleep 1
        bench_target responder
        untrusted_refused
        [ "$SCALE_N" -gt 0 ] &&
            xrb responder scale idle --count "$SCALE_N" --concurrency "$IDLE_AT_ONCE" --hold-ms "$IDLE_HOLD_MS"
        stop_pid "$RESPONDER_PID"
        [ "$DOMAINS_N" -gt 0 ] && domains_bench
        ;;
    prosody)
        prosody_bench_up
        T_PID=$PROSODY_PID T_ADDR=$PEER_IP T_DOMAIN=$PEER
        sleep 1
        bench_target prosody
        stop_pid "$PROSODY_PID"
        wait_for 10 absent listening "$PEER_IP" 5269
        ;;
    ejabberd)
        ejabberd_up strict
        T_PID=$(beam_pid) || die "no beam.smp for ejabberd in $NS"
        T_ADDR=$PEER_IP T_DOMAIN=$PEER
        sleep 1
        bench_target ejabberd
        ejabberd_down
        ;;
    esac
done

# --- the table ---------------------------------------------------------------

# get TARGET LABEL KEY: one figure from $WORK/results ("" when absent).
get() {
    awk -v t="$1" -v m="$2" -v k="$3" '
        $1 == t && $2 == m {
            for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit }
        }' "$WORK/results"
}
# ratio A B: A / B to two decimals, or "-".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
row() {
    local label=$1 mode=$2 key=$3 r p e
    r=$(get responder "$mode" "$key"); p=$(get prosody "$mode" "$key"); e=$(get ejabberd "$mode" "$key")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "${r:--}" "${p:--}" "${e:--}" \
        "$(ratio "$r" "$p")" "$(ratio "$r" "$e")"
}
rss_mib() { awk -v k="$1" 'BEGIN { if (k == "") print ""; else printf "%.1f\n", k / 1024 }'; }

echo
echo "== issue 14 benchmark ($(date -u +%FT%TZ), $(nproc) CPUs${QUICK:+, quick}) =="
sanitized "$RESPONDER" && echo "the responder is built with AddressSanitizer: its RSS and CPU are not the daemon's"
echo "responder: limits.max_streams(_per_ip), ping_per_minute, echo_per_minute = 1048576;" \
     "log_per_minute = $(sed -nE 's/^[[:space:]]*log_per_minute[[:space:]]*=[[:space:]]*([0-9]+);.*/\1/p' "$RCONF")"
echo "sizes: IDLE_N=$IDLE_N SESSIONS_N=$SESSIONS_N (x$SESSIONS_AT_ONCE at once)" \
     "PINGS_N=$PINGS_N (window $PING_WINDOW, $PING_STREAMS stream) ECHO_N=$ECHO_N" \
     "SCALE_N=$SCALE_N${SCALE_WANTED:+ (asked $SCALE_WANTED)}"
echo
echo "| figure | xmpp-responder | Prosody | ejabberd | responder / Prosody | responder / ejabberd |"
echo "|---|---|---|---|---|---|"
start_responder=$(rss_mib "$(get responder start rss_kb)")
start_prosody=$(rss_mib "$(get prosody start rss_kb)")
start_ejabberd=$(rss_mib "$(get ejabberd start rss_kb)")
printf '| RSS at start (MiB) | %s | %s | %s | %s | %s |\n' "${start_responder:--}" \
    "${start_prosody:--}" "${start_ejabberd:--}" "$(ratio "$start_responder" "$start_prosody")" \
    "$(ratio "$start_responder" "$start_ejabberd")"
row "KiB per idle authenticated stream" idle kib_per_stream
row "of it anonymous memory (RssAnon)" idle anon_kib_per_stream
row "ms CPU per stream opened (idle mode)" idle cpu_ms_per_stream
row "ms CPU per new session (TLS 1.3 + SASL EXTERNAL)" sessions ms_per_session
row "sessions/s (wall, $SESSIONS_AT_ONCE at once)" sessions sessions_per_s
[ "$BUSY_N" -gt 0 ] && row "ms CPU per new session, $BUSY_N idle streams open" sessions-busy ms_per_session
row "µs CPU per ping answered" ping us_per_stanza
row "pings/s (window $PING_WINDOW)" ping per_s
row "ping round trip p50 (ms)" ping p50_ms
row "ping round trip p99 (ms)" ping p99_ms
row "µs CPU per echo answered" echo us_per_stanza
row "echoes/s (window $PING_WINDOW)" echo per_s
if [ "$SCALE_N" -gt 0 ]; then
    # from RSS at start, not from RSS before the mode: memory freed by the
    # earlier modes' streams is still mapped and the crowd reuses it
    scale_n=$(get responder scale streams)
    scale_kib=$(awk -v a="$(get responder scale rss_after_kb)" -v s="$(get responder start rss_kb)" \
        -v n="$scale_n" 'BEGIN { if (a == "" || n + 0 == 0) print ""; else printf "%.1f\n", (a - s) / n }')
    printf '| idle streams held at once (scale mode) | %s | - | - | - | - |\n' "${scale_n:--}"
    printf '| RSS with them (MiB) | %s | - | - | - | - |\n' "$(rss_mib "$(get responder scale rss_after_kb)")"
    printf '| KiB per idle stream at that scale ((RSS with them - RSS at start) / streams) | %s | - | - | - | - |\n' "${scale_kib:--}"
    if [ "$scale_n" != 50000 ]; then
        printf '| 50,000 idle streams, projected: RSS at start + 50,000 x that (MiB) | %s | - | - | - | - |\n' \
            "$(awk -v s="$(get responder start rss_kb)" -v k="$scale_kib" 'BEGIN { if (k == "") print "-"; else printf "%.0f\n", (s + 50000 * k) / 1024 }')"
    fi
fi
if [ "$DOMAINS_N" -gt 0 ]; then
    row "CPU to start with $DOMAINS_N more domains (s)" domains start_cpu_s
    printf '| RSS at start with %s more domains (MiB) | %s | - | - | - | - |\n' "$DOMAINS_N" \
        "$(rss_mib "$(get responder domains rss_kb)")"
    row "ms CPU per session to the first of them" sessions-first-domain ms_per_session
    row "ms CPU per session to the last of them" sessions-last-domain ms_per_session
fi
echo
r=$(get responder sessions ms_per_session)
echo "GnuTLS alone (tls_ceiling, same handshake, server side): ${CEILING_US:-?} µs;" \
     "responder per session / ceiling: $(ratio "$r" "$(awk -v c="${CEILING_US:-0}" 'BEGIN { print c / 1000 }')")"
echo "CPU = target utime+stime from /proc/PID/stat over the mode (ticks of 10 ms);" \
     "ejabberd = its beam.smp (all threads)."
summary
