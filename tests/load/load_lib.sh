# shellcheck shell=bash
# load_lib.sh -- what the hostile-load test (tests/interop/test_load.sh) and
# the benchmark (tests/bench/hostile_load.sh) share. Sourced after
# tests/interop/lib.sh, which provides the namespace, unbound, Prosody and the
# responder.
#
# The flood peer of hostile_load.py claims $FLOOD_DOMAIN; this process is also
# that domain's server at $FLOOD_IP:5269 (its zone says so), so the daemon's
# dialback check reaches it and its replies go there, never read.

# Read by the scripts that source this file.
# shellcheck disable=SC2034

LOAD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FLOOD_DOMAIN=flood.example
FLOOD_IP=127.0.0.8
SHAPES_DOMAIN=shapes.example   # attack_parse.py authenticates as it (its server too)
SHAPES_IP=127.0.0.9
HONEST_IP=127.0.0.3      # raw honest stream opens come from here
NOFILE=16384             # the crowd needs thousands of descriptors, both ends
NOFILE_MIN=4096          # the CI crowd (2,000 sockets) fits, with room
CLK_TCK=$(getconf CLK_TCK)

# need_nofile: raise the open-file limit for everything started from here
# (the responder, Prosody, the crowd) to $NOFILE or the hard limit, or skip
# when that is below $NOFILE_MIN.
need_nofile() {
    local want=$NOFILE hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || want=$hard
    [ "$want" -ge "$NOFILE_MIN" ] ||
        skip "the open-file hard limit ($hard) is below $NOFILE_MIN"
    ulimit -n "$want" || skip "cannot raise the open-file limit to $want"
}

# flood_setup: the flood domain's zone (for unbound_up, so call it before)
# and a self-signed certificate for its STARTTLS ($FLOOD_CERT, $FLOOD_KEY).
flood_setup() {
    extra_zone "$FLOOD_DOMAIN" "$FLOOD_IP"
    local d=$WORK/flood
    mkdir -p "$d"
    printf 'cn = "%s"\ndns_name = "%s"\ntls_www_server\nexpiration_days = 30\n' \
        "$FLOOD_DOMAIN" "$FLOOD_DOMAIN" >"$d/cert.tmpl"
    {
        certtool --generate-privkey --key-type=ecdsa --outfile "$d/key.pem" &&
        certtool --generate-self-signed --load-privkey "$d/key.pem" \
            --template "$d/cert.tmpl" --outfile "$d/cert.pem"
    } >"$d/certtool.log" 2>&1 || die "certtool failed for $FLOOD_DOMAIN (see $d/certtool.log)"
    FLOOD_CERT=$d/cert.pem
    FLOOD_KEY=$d/key.pem
}

# load_setup BINARY: namespace, PKI, the flood domain, the responder with the
# configuration `init` writes (default limits), unbound, strict Prosody.
# load_prepare and load_start are its two halves, for a caller that adds
# zones or edits the config in between.
load_setup() {
    load_prepare "$1"
    load_start
}

load_prepare() {
    need_env
    need_responder "$1"
    need_nofile
    netns_up
    pki_up
    flood_setup
    extra_zone "$SHAPES_DOMAIN" "$SHAPES_IP"
    responder_init
}

load_start() {
    unbound_up "$RZONE"
    wait_for 10 dns_answers SRV "_xmpp-server._tcp.$FLOOD_DOMAIN" || die "no SRV for $FLOOD_DOMAIN"
    responder_up
    prosody_up true no
}

# --- the daemon's resources, from /proc ------------------------------------

# proc_kb PID FIELD: VmRSS or VmHWM in KiB.
proc_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# cpu_seconds PID: user + system CPU time so far.
cpu_seconds() {
    awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' \
        "/proc/$1/stat" 2>/dev/null
}

mib() { echo $(( ($1 + 1023) / 1024 )); }

# rss_sampler_start PID: VmRSS every 0.2 s into $WORK/rss.kb until stopped.
rss_sampler_start() {
    local pid=$1
    ( while [ -r "/proc/$pid/status" ]; do proc_kb "$pid" VmRSS; sleep 0.2; done ) \
        >"$WORK/rss.kb" 2>/dev/null &
    PIDS+=("$!")
    RSS_SAMPLER=$!
}

# rss_peak_kb: the largest sample (or VmHWM, which also sees between samples).
rss_peak_kb() {
    local hwm sampled
    hwm=$(proc_kb "$1" VmHWM)
    sampled=$(sort -n "$WORK/rss.kb" | tail -n 1)
    echo $(( ${hwm:-0} > ${sampled:-0} ? ${hwm:-0} : ${sampled:-0} ))
}

# shapes_run MIB: attack_parse.py's CPU per MiB of each input shape, before
# authenticating (16,000 and 1,000 bytes a stream) and after (as
# $SHAPES_DOMAIN); figures in $WORK/shapes.json and shapes-small.json.
shapes_run() {
    ns timeout 600 "$PY" "$LOAD_DIR/attack_parse.py" --host "$RESPONDER_IP" \
        --pid "$RESPONDER_PID" --to "no-tls.$BASE" --source 127.0.0.10 \
        --domain "$SHAPES_DOMAIN" --listen "$SHAPES_IP" --mib "$1" \
        --json "$WORK/shapes.json" &&
    ns timeout 300 "$PY" "$LOAD_DIR/attack_parse.py" --host "$RESPONDER_IP" \
        --pid "$RESPONDER_PID" --to "no-tls.$BASE" --source 127.0.0.10 --mode unauth \
        --unauth-bytes 1000 --mib "$(awk -v m="$1" 'BEGIN { print m / 8 }')" \
        --json "$WORK/shapes-small.json"
}

# --- the two sides ---------------------------------------------------------

# honest_start LOG SECONDS INTERVAL REOPEN_EVERY [PHASE_FILE]: the slixmpp
# pinger logged in to Prosody, pinging valid.BASE; every REOPEN_EVERY pings
# it makes Prosody drop its s2s streams with valid.BASE first (0 = never).
# With PHASE_FILE, "stop" written there ends it before SECONDS.
honest_start() {
    local reopen="prosodyctl --config $PCONF shell \"s2s:closeall('valid.$BASE')\""
    start_bg "$1" "$PY" "$LOAD_DIR/honest_pinger.py" --jid "user@$PEER" --password secret \
        --host "$PEER_IP" --ca "$STAGING_CA" --target "valid.$BASE" \
        --duration "$2" --interval "$3" --reopen-every "$4" --reopen-cmd "$reopen" \
        --max-pings "$(awk -v s="$2" -v i="$3" 'BEGIN { printf "%d", s / i + 10 }')" \
        ${5:+--phase-file "$5"}
    HONEST_PID=$LAST_PID
}

# crowd_run LOG ARGS...: hostile_load.py against the responder (foreground,
# bounded by its own --duration plus a margin); figures in $WORK/load.json.
crowd_run() {
    local log=$1; shift
    crowd_cmd "$WORK/load.json"
    ns timeout 300 "${CROWD_CMD[@]}" "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

# crowd_start JSON LOG ARGS...: the same in the background ($CROWD_PID),
# figures in JSON.
crowd_start() {
    local json=$1 log=$2; shift 2
    crowd_cmd "$json"
    start_bg "$log" timeout 300 "${CROWD_CMD[@]}" "$@"
    CROWD_PID=$LAST_PID
}

# crowd_cmd JSON: hostile_load.py's command line with what both share.
crowd_cmd() {
    CROWD_CMD=("$PY" "$LOAD_DIR/hostile_load.py" --host "$RESPONDER_IP"
        --to "valid.$BASE" --flood-domain "$FLOOD_DOMAIN" --flood-listen "$FLOOD_IP:5269"
        --flood-source "$FLOOD_IP" --flood-cert "$FLOOD_CERT" --flood-key "$FLOOD_KEY"
        --honest-source "$HONEST_IP" --honest-from "$PEER" --json "$1")
}

# load_get PATH [FILE]: one figure from $WORK/load.json (or FILE):
# "honest.ok", "flood.authenticated".
load_get() {
    "$PY" - "${2:-$WORK/load.json}" "$1" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
if isinstance(v, dict):
    v = ", ".join("%s: %s" % kv for kv in sorted(v.items())) or "-"
print(str(v).lower() if isinstance(v, bool) else v)
EOF
}

# honest_field PHASE KEY: from honest_pinger.py's "HONEST phase=..." line.
honest_field() {
    grep -E "^HONEST phase=$1 " "$HONEST_LOG" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
