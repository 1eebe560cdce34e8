# lib.sh -- shared pieces of the interop tests, sourced by test_*.sh.
#
# Each test run gets its own network namespace with its own resolver
# (unbound on 127.0.0.53 serving our zones), a staging PKI made with
# certtool, a Prosody for staging.example and the responder. Everything it
# starts is recorded and torn down by the EXIT trap, so a failed or
# interrupted run leaves no namespace, no /etc/netns entry and no process.

# Variables set here (RESPONDER_PID, PING_OUT, STOP_RC, ...) are read by the
# scripts that source this file.
# shellcheck disable=SC2034

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3          # Debian's python, which has slixmpp
BASE=responder.example       # not .test: libunbound answers NXDOMAIN for it
PEER=staging.example
PEER_IP=127.0.0.1            # Prosody
RESPONDER_IP=127.0.0.2       # xmpp-responder
VICTIM_IP=127.0.0.9          # must never be dialled
NS=rs-interop-$$-$RANDOM
WORK=""
PIDS=()
PASSED=0
FAILED=0

# --- results --------------------------------------------------------------

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }

# check DESC CMD...: one assertion; the command's own output is kept quiet.
check() {
    local desc=$1; shift
    if "$@" >/dev/null 2>&1; then pass "$desc"; else fail "$desc"; fi
}

# absent CMD...: succeeds when CMD fails (for check).
absent() { ! "$@"; }

# tail_log NAME FILE: show the end of a log, for diagnosing a failure.
tail_log() {
    [ -f "$2" ] || return 0
    echo "----- last 60 lines of $1 ($2) -----"
    tail -n 60 "$2"
}

# summary: the final line every test prints; non-zero exit on any failure.
summary() {
    if [ "$FAILED" -gt 0 ]; then
        tail_log responder "$WORK/responder.log"
        tail_log prosody "$WORK/prosody/prosody.log"
    fi
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

skip() { echo "SKIP: $*"; exit 77; }
die() { fail "$*"; summary; exit 1; }

# --- prerequisites ----------------------------------------------------------

# need_env: skip (exit 77) unless we are root with netns and every tool.
need_env() {
    [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
    local t
    for t in ip unbound prosody prosodyctl certtool kdig ss timeout; do
        command -v "$t" >/dev/null || skip "missing tool: $t"
    done
    "$PY" -c 'import slixmpp' 2>/dev/null || skip "$PY has no slixmpp"
    ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
    ip netns del "$NS"
}

# need_responder PATH: the daemon binary given by meson, or $XMPP_RESPONDER.
need_responder() {
    RESPONDER=${1:-${XMPP_RESPONDER:-}}
    [ -n "$RESPONDER" ] || skip "no xmpp-responder binary given"
    [ -x "$RESPONDER" ] || die "xmpp-responder not executable: $RESPONDER"
}

# --- process and namespace lifetime -------------------------------------

ns() { ip netns exec "$NS" "$@"; }

# start_bg LOG CMD...: run CMD inside the namespace in the background.
# `ip netns exec` execs the command, so $! is the command itself (calling the
# ns function here instead would leave a subshell in between).
start_bg() {
    local log=$1; shift
    ip netns exec "$NS" "$@" >"$log" 2>&1 &
    PIDS+=("$!")
    LAST_PID=$!
}

# alive PID: running and not a zombie (kill -0 succeeds on zombies too).
alive() {
    local st
    st=$(ps -o stat= -p "$1") && [ "${st#Z}" = "$st" ]
}

# stop_pid PID [SECONDS]: SIGTERM, up to SECONDS (5) for a clean exit, then
# SIGKILL. Sets STOP_RC to the exit status (137 or 143 when killed).
stop_pid() {
    local pid=$1 end=$((SECONDS + ${2:-5}))
    STOP_RC=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    STOP_RC=$?
    return 0
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    # Anything still inside our own namespace was started by this run.
    if ip netns list | grep -qw "$NS"; then
        for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$NS" 2>/dev/null
    fi
    rm -rf "/etc/netns/$NS"
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$FAILED" -gt 0 ] || [ -n "${KEEP_WORK:-}" ]; then
            note "work directory kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# listening IP PORT: is a TCP socket listening there inside the namespace?
listening() {
    ns ss -Hltn | awk '{print $4}' | grep -qx "$1:$2"
}

# netns_up: the namespace, loopback up, and its resolv.conf.
netns_up() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/rs-interop.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add "$NS" || die "ip netns add $NS"
    ns ip link set lo up || die "lo up in $NS"
    mkdir -p "/etc/netns/$NS"
    echo "nameserver 127.0.0.53" >"/etc/netns/$NS/resolv.conf"
    note "namespace $NS, work directory $WORK"
}

# --- DNS ------------------------------------------------------------------

# peer_zones: staging.example (Prosody) and victim.example (never dialled).
peer_zones() {
    cat >"$WORK/$PEER.zone" <<EOF
\$ORIGIN $PEER.
\$TTL 60
@ IN SOA ns.$PEER. hostmaster.$PEER. 1 3600 600 86400 60
@ IN NS ns.$PEER.
@ IN A $PEER_IP
ns IN A 127.0.0.53
_xmpp-server._tcp IN SRV 0 5 5269 $PEER.
_xmpp-client._tcp IN SRV 0 5 5222 $PEER.
EOF
    cat >"$WORK/victim.example.zone" <<EOF
\$ORIGIN victim.example.
\$TTL 60
@ IN SOA ns.victim.example. hostmaster.victim.example. 1 3600 600 86400 60
@ IN NS ns.victim.example.
@ IN A $VICTIM_IP
ns IN A 127.0.0.53
_xmpp-server._tcp IN SRV 0 5 5269 victim.example.
EOF
}

# extra_zone NAME IP [RECORD...]: one more zone for unbound_up (call before
# it): NAME and its _xmpp-server SRV point at IP, port 5269 (scripted
# peers); each RECORD is one more line of the zone ("* IN A 127.0.0.66").
EXTRA_ZONES=()
extra_zone() {
    local name=$1 ip=$2; shift 2
    cat >"$WORK/$name.zone" <<EOF
\$ORIGIN $name.
\$TTL 60
@ IN SOA ns.$name. hostmaster.$name. 1 3600 600 86400 60
@ IN NS ns.$name.
@ IN A $ip
ns IN A 127.0.0.53
_xmpp-server._tcp IN SRV 0 5 5269 $name.
EOF
    printf '%s\n' "$@" >>"$WORK/$name.zone"
    EXTRA_ZONES+=("$name:$WORK/$name.zone")
}

# unbound_up BASE_ZONE_FILE: resolver on 127.0.0.53 serving the three zones and extra_zone's.
unbound_up() {
    local z conf=$WORK/unbound.conf
    peer_zones
    cat >"$conf" <<EOF
server:
    interface: 127.0.0.53
    port: 53
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
remote-control:
    control-enable: no
EOF
    for z in "$BASE:$1" "$PEER:$WORK/$PEER.zone" "victim.example:$WORK/victim.example.zone" \
        ${EXTRA_ZONES[@]+"${EXTRA_ZONES[@]}"}; do
        printf 'auth-zone:\n    name: "%s"\n    zonefile: "%s"\n    for-downstream: yes\n    for-upstream: yes\n    fallback-enabled: no\n' \
            "${z%%:*}" "${z#*:}" >>"$conf"
    done
    start_bg "$WORK/unbound.log" unbound -d -c "$conf"
    wait_for 10 dns_answers SRV "_xmpp-server._tcp.$PEER" || die "unbound did not answer (see $WORK/unbound.log)"
}

# dns_answers TYPE NAME: does our resolver give a non-empty answer?
dns_answers() {
    ns kdig +short +time=2 +retry=0 @127.0.0.53 "$1" "$2" | grep -q .
}

# --- staging PKI (certtool) ---------------------------------------------

# pki_leaf NAME [TEMPLATE-LINE]: a key and a leaf certificate for NAME from
# the staging CA, with both EKUs: $WORK/pki/NAME.key and NAME.crt (the line,
# e.g. ip_address = "127.0.0.1", is added to certtool's template).
pki_leaf() {
    local d=$WORK/pki
    cat >"$d/$1.tmpl" <<EOF
cn = "$1"
dns_name = "$1"
${2:-}
tls_www_server
tls_www_client
signing_key
encryption_key
expiration_days = 30
EOF
    certtool --generate-privkey --key-type=ecdsa --outfile "$d/$1.key" &&
    certtool --generate-certificate --load-privkey "$d/$1.key" \
        --load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
        --template "$d/$1.tmpl" --outfile "$d/$1.crt"
}

# pki_up: a CA of its own and a leaf for staging.example with both EKUs.
pki_up() {
    local d=$WORK/pki
    mkdir -p "$d"
    cat >"$d/ca.tmpl" <<EOF
cn = "Staging Test CA"
ca
cert_signing_key
crl_signing_key
expiration_days = 30
EOF
    {
        certtool --generate-privkey --key-type=ecdsa --outfile "$d/ca.key" &&
        certtool --generate-self-signed --load-privkey "$d/ca.key" \
            --template "$d/ca.tmpl" --outfile "$d/ca.pem" &&
        pki_leaf "$PEER"
    } >"$d/certtool.log" 2>&1 || die "certtool failed (see $d/certtool.log)"
    STAGING_CA=$d/ca.pem
}

# --- the responder ------------------------------------------------------

# responder_init [INIT-ARGS...]: `init` into $WORK/responder, trusting the
# staging CA (extra arguments go to init). Without --allow-target, init lets
# outbound streams reach 127.0.0.0/8 because RESPONDER_IP is loopback.
responder_init() {
    RDIR=$WORK/responder
    "$RESPONDER" init --base-domain "$BASE" --dir "$RDIR" --address "$RESPONDER_IP" \
        --trust "$STAGING_CA" "$@" >"$WORK/init.log" 2>&1 || die "xmpp-responder init failed: $(tail -n 5 "$WORK/init.log")"
    RCONF=$RDIR/responder.conf
    RZONE=$RDIR/zones/$BASE.zone
    local f
    for f in "$RCONF" "$RZONE" "$RDIR/certs/ca.pem"; do
        [ -s "$f" ] || die "init did not write $f"
    done
}

# responder_limit NAME VALUE: rewrite one `limits` entry in the config.
responder_limit() {
    sed -i -E "s/^([[:space:]]*$1[[:space:]]*=[[:space:]]*)[0-9]+/\\1$2/" "$RCONF"
    grep -Eq "^[[:space:]]*$1[[:space:]]*=[[:space:]]*$2;" "$RCONF" || die "could not set $1 = $2 in $RCONF"
}

responder_up() {
    start_bg "$WORK/responder.log" "$RESPONDER" run -c "$RCONF" ${RESPONDER_DEBUG:+--debug}
    RESPONDER_PID=$LAST_PID
    wait_for 15 listening "$RESPONDER_IP" 5269 || die "responder is not listening on $RESPONDER_IP:5269"
}

# responder_api PATH: GET from the responder's web listener (init puts it on
# the first address, port 5280), body on stdout.
responder_api() {
    ns curl -sf --max-time 10 "http://$RESPONDER_IP:5280$1"
}

# zone_labels: the test labels, read from the SRV records of the zone.
zone_labels() {
    grep -Eo "_xmpp-server\._tcp\.[a-z0-9-]+(\.$BASE\.?)?" "$RZONE" |
        sed -E "s/^_xmpp-server\._tcp\.//; s/\.$BASE\.?$//" | sort -u
}

# log_has_failure DOMAIN: a responder log line naming DOMAIN that records a
# failed stream with its reason.
log_has_failure() {
    local d=${1//./\\.}
    grep -E "(local|remote)=$d( |$)" "$WORK/responder.log" |
        grep -E 'event=(close|stream-error|tls-fail|auth-fail)( |$)' | grep -q 'reason="'
}

# log_names EVENT DOMAIN: any responder log line with that event naming DOMAIN.
log_names() {
    grep -E "event=$1( |$)" "$WORK/responder.log" | grep -qF "$2"
}

# --- Prosody --------------------------------------------------------------

# prosody_config SECURE DIALBACK: write $PCONF for staging.example.
# SECURE is s2s_secure_auth (true/false); DIALBACK yes adds mod_dialback.
prosody_config() {
    local p=$WORK/prosody dialback=""
    [ "$2" = yes ] && dialback='"dialback";'
    mkdir -p "$p/data" "$p/certs"
    cp "$WORK/pki/$PEER.crt" "$WORK/pki/$PEER.key" "$p/certs/"
    PCONF=$p/prosody.cfg.lua
    cat >"$PCONF" <<EOF
-- Generated by tests/interop/lib.sh: Prosody 0.12 for $PEER in a netns.
daemonize = false
run_as_root = true
pidfile = "$p/prosody.pid"
data_path = "$p/data"
admin_socket = "$p/admin.sock"
interfaces = { "$PEER_IP" }
log = { debug = "$p/prosody.log" }
certificates = "$p/certs"
ssl = { cafile = "${PROSODY_CAFILE:-$RDIR/certs/ca.pem}" }
s2s_secure_auth = $1
s2s_require_encryption = true
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
modules_enabled = {
    "admin_shell"; "roster"; "saslauth"; "tls"; "disco"; "ping"; $dialback
}
VirtualHost "$PEER"
EOF
}

# prosody_up SECURE DIALBACK: (re)start Prosody with that policy.
prosody_up() {
    [ -n "${PROSODY_PID:-}" ] && stop_pid "$PROSODY_PID"
    prosody_config "$1" "$2"
    prosodyctl --config "$PCONF" register user "$PEER" secret >"$WORK/prosody/register.log" 2>&1 ||
        die "prosodyctl register failed: $(cat "$WORK/prosody/register.log")"
    start_bg "$WORK/prosody/stdout.log" prosody --config "$PCONF"
    PROSODY_PID=$LAST_PID
    if ! { wait_for 15 listening "$PEER_IP" 5269 && wait_for 5 listening "$PEER_IP" 5222 &&
        wait_for 5 test -S "$WORK/prosody/admin.sock"; }; then
        die "Prosody did not start (see $WORK/prosody)"
    fi
}

# prosody_ping DOMAIN: one XEP-0199 ping from staging.example; the output
# goes to $WORK/ping.out, success = "pong from" (the shell exits with the
# number of errors, so also the exit status).
prosody_ping() {
    timeout 30 ip netns exec "$NS" prosodyctl --config "$PCONF" shell \
        "xmpp:ping('$PEER', '$1', 5)" >"$WORK/ping.out" 2>&1
    local rc=$?
    PING_OUT=$(tr '\n' ' ' <"$WORK/ping.out")
    [ $rc -eq 0 ] && grep -q "pong from" "$WORK/ping.out"
}

# echo_client TO: slixmpp logs in as user@staging.example, sends to TO and
# waits 5 s for the same body back from TO.
echo_client() {
    local to=$1; shift
    ns timeout 30 "$PY" "$HERE/client.py" --jid "user@$PEER" --password secret \
        --host "$PEER_IP" --ca "$STAGING_CA" --to "$to" --timeout 5 "$@"
}

# sanitized BINARY: built with AddressSanitizer (its shadow memory and
# quarantine make RSS meaningless as a figure).
sanitized() {
    ldd "$1" 2>/dev/null | grep -q 'libasan'
}
