# shellcheck shell=bash
# hostile_attacks.sh -- the attacker and the honest side of hostile_load.sh
# (issue 21): one attacker holding $ATTACKER4 (64 IPv4 addresses) and
# $ATTACKER6 (one address in each of 64 /64s of 2001:db8:bad::/48), each
# attack of tests/load/ started from them and stopped again, and what the
# honest side measures meanwhile. Sourced after tests/interop/lib.sh and
# tests/load/load_lib.sh.

# Read by hostile_load.sh.
# shellcheck disable=SC2034

ATTACKER_NET6=2001:db8:bad::/48
RESPONDER_IP6=2001:db8::2       # the daemon's IPv6 listeners (s2s and c2s)
HONEST_WEB_IP=127.0.0.4         # the ACME challenge fetches come from here
ACME_TOKEN=bench-TOKEN_1
ACME_KEYAUTH=bench-TOKEN_1.thumbprint
HONEST_SIDE=""                  # CHALLENGE, LOGIN and PROBE lines, one per try

# sources SPEC: the addresses of a range (streamlib.address_range), one a line.
sources() {
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1])
from streamlib import address_range
print("\n".join(address_range(sys.argv[2])))' "$LOAD_DIR" "$1"
}

# attacker_prepare: after load_prepare, before load_start. The /48 routed
# to loopback (every address of it can be a source), the daemon also on
# $RESPONDER_IP6, evil.example's wildcard naming every attacker address, the
# ACME token the honest side fetches. Without IPv6 in the namespace the
# attacker keeps its IPv4 addresses only (said so).
attacker_prepare() {
    HONEST_SIDE=$WORK/honest-side.log
    : >"$HONEST_SIDE"
    if [ -n "$ATTACKER6" ] && ! { ns sysctl -qw net.ipv6.ip_nonlocal_bind=1 &&
        ns ip -6 addr add "$RESPONDER_IP6/128" dev lo nodad &&
        ns ip -6 route add local "$ATTACKER_NET6" dev lo; } 2>/dev/null; then
        note "no IPv6 in the namespace: the attacker has its IPv4 addresses only"
        ATTACKER6=""
    fi
    ATTACKER=$ATTACKER4${ATTACKER6:+,$ATTACKER6}
    local a records=()
    for a in $(sources "$ATTACKER"); do
        case $a in *:*) records+=("* IN AAAA $a") ;; *) records+=("* IN A $a") ;; esac
    done
    extra_zone evil.example "$(sources "$ATTACKER4" | head -n 1)" "${records[@]}"
    if [ -n "$ATTACKER6" ]; then
        # the same listeners on the IPv6 address (the zone keeps IPv4 only)
        local last="  { address = \"$RESPONDER_IP\"; port = 5223; clients = true; direct_tls = true; }"
        grep -qxF "$last" "$RCONF" || die "init no longer writes '$last' in $RCONF"
        sed -i "s|^$last\$|&,\\
  { address = \"$RESPONDER_IP6\"; port = 5269; },\\
  { address = \"$RESPONDER_IP6\"; port = 5270; direct_tls = true; },\\
  { address = \"$RESPONDER_IP6\"; port = 5222; clients = true; },\\
  { address = \"$RESPONDER_IP6\"; port = 5223; clients = true; direct_tls = true; }|" "$RCONF"
    fi
    # every phase's honest probe targets the one Prosody, sooner than 60 s apart
    responder_limit probe_target_interval 0
    "$RESPONDER" check -c "$RCONF" >"$WORK/check.log" 2>&1 ||
        die "the edited config does not check: $(tail -n 3 "$WORK/check.log")"
    mkdir -p "$RDIR/acme/challenges"
    printf '%s\n' "$ACME_KEYAUTH" >"$RDIR/acme/challenges/$ACME_TOKEN"
}

# forget_pid PID: drop a reaped process from the cleanup list (its number
# may be reused by then).
forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=(${keep[@]+"${keep[@]}"})
}

# attack_end PID SECONDS: wait up to SECONDS for the attack to end by itself,
# then SIGTERM (which each of them answers with its figures).
attack_end() {
    [ -n "$1" ] || return 0
    wait_for "$2" absent alive "$1" || stop_pid "$1" 15
    wait "$1" 2>/dev/null
    forget_pid "$1"
}

# --- the attacks (each TAG names the phase; output in $WORK/TAG-KIND.out) --

# clients_start TAG: test-account logins from every attacker address, more
# than the per-address cap, bound, kept alive and logged in again when cut;
# returns once every first login was tried, or after 30 s (a crowd larger
# than the pool evicts its own logins as they start, and keeps on trying).
clients_start() {
    start_bg "$WORK/$1-clients.out" nice -n 10 "$PY" "$LOAD_DIR/attack_clients.py" \
        --host "$RESPONDER_IP" --host6 "$RESPONDER_IP6" --port 5222 --domain "valid.$BASE" \
        --sources "$ATTACKER" --per-source "$CLIENTS_PER_SOURCE" --bind --keepalive 5 \
        --relogin --hold 900 --json "$WORK/$1-clients.json"
    CLIENTS_PID=$LAST_PID
    wait_for 30 grep -q '^READY' "$WORK/$1-clients.out" ||
        note "the client crowd has not tried all its first logins after 30 s"
}

# web_start TAG SECONDS: slowloris on the web listener from the IPv4
# addresses (the web listens on one IPv4 address); returns once it holds
# connections.
web_start() {
    start_bg "$WORK/$1-web.out" nice -n 10 "$PY" "$LOAD_DIR/attack_web.py" \
        --host "$RESPONDER_IP" --port 5280 --sources "$ATTACKER4" \
        --per-source "$WEB_PER_SOURCE" --interval "$WEB_INTERVAL" --seconds "$2" \
        --reconnects 100000
    WEB_PID=$LAST_PID
    local want=$(( $(sources "$ATTACKER4" | wc -l) * WEB_PER_SOURCE / 2 ))
    [ "$want" -le 32 ] || want=32
    wait_for 30 web_held "$want" || note "the web crowd holds fewer than $want connections"
}

# web_held N: at least N established connections to the web listener.
web_held() {
    [ "$(ns ss -Htn state established "( sport = :5280 )" | wc -l)" -ge "$1" ]
}

# report_start TAG SECONDS: plaintext streams from every attacker address,
# each claiming its own name under evil.example, one stanza each.
report_start() {
    local n
    n=$(( $(sources "$ATTACKER" | wc -l) * REPORT_PER_SOURCE ))
    start_bg "$WORK/$1-report.out" nice -n 10 "$PY" "$LOAD_DIR/attack_report.py" \
        --host "$RESPONDER_IP" --host6 "$RESPONDER_IP6" --source "$ATTACKER" \
        --to "no-tls.$BASE" --suffix evil.example --label "${1}x" --count "$n" \
        --concurrency 32 --duration "$2" --json "$WORK/$1-report.json"
    REPORT_PID=$LAST_PID
}

# s2s_start TAG SECONDS: issue 8's crowd (slowloris, malformed, a
# non-reading dialback peer, honest raw opens) from the attacker's addresses.
s2s_start() {
    crowd_start "$WORK/$1-s2s.json" "$WORK/$1-s2s.out" --host6 "$RESPONDER_IP6" \
        --duration "$2" --slowloris "$SLOWLORIS" --sources "$SOURCES" \
        --malformed "$MALFORMED" --malformed-rate "$MALFORMED_RATE" \
        --malformed-sources "$ATTACKER" --flood-pings "$FLOOD_PINGS" \
        --honest 100000 --honest-interval 0.25 --progress 0
    S2S_PID=$CROWD_PID
}

# probe_flood TAG: POST /probe for other targets from the IPv4 addresses in
# turn (the web listens on IPv4 only), in the foreground, at most 60 s.
probe_flood() {
    ns nice -n 10 timeout 90 "$PY" "$LOAD_DIR/attack_probe.py" --host "$RESPONDER_IP" \
        --port 5280 --source "$ATTACKER4" --count "$PROBE_FLOOD" --seconds 60 \
        --targets "$1-%d.example" >"$WORK/$1-probe.json" 2>&1
}

# --- the honest side -------------------------------------------------------

# honest_window PHASE SECONDS: for SECONDS (longer while a probe runs): the
# ACME challenge fetched every second, the test account logged in (and its
# echo contact written to) 4 s after the last login, probes of $PEER one after another, each from an
# address and a /24 of its own (127.0.N.4).
honest_window() {
    local end=$((SECONDS + $2)) p pids=()
    challenge_loop "$1" "$end" &
    pids+=("$!")
    login_loop "$1" "$end" &
    pids+=("$!")
    probe_loop "$1" "$end" &
    pids+=("$!")
    PIDS+=("${pids[@]}")
    for p in "${pids[@]}"; do
        wait "$p"
        forget_pid "$p"
    done
}

challenge_loop() {
    local body=$WORK/challenge.body out ok
    while [ "$SECONDS" -lt "$2" ]; do
        out=$(ns curl -s -o "$body" -w '%{http_code} %{time_total}' --max-time 5 \
            --interface "$HONEST_WEB_IP" \
            "http://$RESPONDER_IP:5280/.well-known/acme-challenge/$ACME_TOKEN")
        ok=fail
        [ "${out%% *}" = 200 ] && [ "$(cat "$body")" = "$ACME_KEYAUTH" ] && ok=ok
        echo "CHALLENGE $1 $ok ${out:-000 5}" >>"$HONEST_SIDE"
        sleep 1
    done
}

login_loop() {
    local out result login echo_s
    while [ "$SECONDS" -lt "$2" ]; do
        out=$(ns timeout 25 "$PY" "$HERE/slix_login.py" --jid "test@valid.$BASE" \
            --password test --ca "$RDIR/certs/ca.pem" --echo "echo@valid.$BASE" \
            --timeout 15 --timing 2>/dev/null)
        result=$(grep '^RESULT' <<<"$out" | cut -f2)
        login=$(grep '^TIMING' <<<"$out" | tr '\t' '\n' | sed -n 's/^login=//p')
        echo_s=$(grep '^TIMING' <<<"$out" | tr '\t' '\n' | sed -n 's/^echo=//p')
        echo "LOGIN $1 ${result:-none} ${login:--} ${echo_s:--}" >>"$HONEST_SIDE"
        sleep 4     # the echo answers 20 a minute per domain (echo_per_minute)
    done
}

# probe_ends: how many probes of $PEER have ended (the daemon's log).
probe_ends() {
    grep -c "probe target=$PEER event=end" "$WORK/responder.log"
}

# probe_ended_after N: more than N have.
probe_ended_after() {
    [ "$(probe_ends)" -gt "$1" ]
}

probe_loop() {
    local n=0 src code before t0 wall line
    while :; do
        src=127.0.$((100 + PHASE_INDEX * 10 + n)).4
        before=$(probe_ends)
        t0=$(date +%s.%N)
        code=$(ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 --interface "$src" \
            -d "target=$PEER" "http://$RESPONDER_IP:5280/probe")
        if [ "$code" != 303 ]; then
            echo "PROBE $1 refused ${code:-000} - - - $src" >>"$HONEST_SIDE"
        elif wait_for 60 probe_ended_after "$before"; then
            wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
            line=$(grep "probe target=$PEER event=end" "$WORK/responder.log" | tail -n 1)
            echo "PROBE $1 ended $code $wall $(sed -n 's/.* pong=\([0-9]*\).*/\1/p' <<<"$line")" \
                "$(sed -n 's/.* domains=\([0-9]*\).*/\1/p' <<<"$line") $src" >>"$HONEST_SIDE"
        else
            echo "PROBE $1 no-end $code - - - $src" >>"$HONEST_SIDE"
        fi
        n=$((n + 1))
        [ $(($2 - SECONDS)) -ge 25 ] && [ "$n" -lt 10 ] || break
    done
}

# --- what the daemon holds -------------------------------------------------

# metric NAME: one sample of /metrics ("-" when absent).
metric() {
    responder_api /metrics | awk -v n="xmpp_responder_$1" '$1 == n { print $2; f = 1 }
        END { if (!f) print "-" }'
}

# snapshot PHASE SECONDS CPU_BEFORE: one SNAP line for the table.
snapshot() {
    local verified=no evil db wal
    responder_api "/api/report/$PEER" | grep -q '"evidence":"verified"' && verified=yes
    evil=$(responder_api / | grep -o '/report/[^"]*\.evil\.example"' | sort -u | wc -l)
    db=$(stat -c %s "$RDIR/report.db" 2>/dev/null || echo 0)
    wal=$(stat -c %s "$RDIR/report.db-wal" 2>/dev/null || echo 0)
    echo "SNAP phase=$1 seconds=$2" \
        "cpu_s=$(awk -v a="$(cpu_seconds "$RESPONDER_PID")" -v b="$3" 'BEGIN { printf "%.1f", a - b }')" \
        "rss_kb=$(proc_kb "$RESPONDER_PID" VmRSS) verified=$verified peers=$(metric report_peers)" \
        "evil_listed=$evil db_file=$db db_wal=$wal db_metric=$(metric report_db_bytes)" \
        >>"$WORK/phases.log"
}
