#!/bin/bash
# test_outbound_allow.sh -- outbound.allow as an operator meets it: what init
# writes for loopback, private and public --address values and for
# --allow-target, bad ranges refused by init (exit 2) and by check
# (FILE:LINE), and the embedded default allowing its own loopback range.
# Usage: test_outbound_allow.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
T=$(mktemp -d)
PIDS=()
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
absent() { ! "$@"; }

# init_allow NAME ARGS...: init into $T/NAME; prints the outbound line.
init_allow() {
    local name=$1; shift
    "$RS" init --base-domain r.example --dir "$T/$name" "$@" >"$T/$name.out" 2>&1 || return 1
    grep '^outbound = ' "$T/$name/responder.conf"
}
# allow_is NAME WANT ARGS...: init writes exactly `outbound = { allow = ( WANT ); };`.
allow_is() {
    local name=$1 want=$2; shift 2
    [ "$(init_allow "$name" "$@")" = "outbound = { allow = ( ${want:+$want }); };" ] &&
        "$RS" check -c "$T/$name/responder.conf" >/dev/null 2>&1
}

# --- what init writes -------------------------------------------------------------
check "init --address 127.0.0.2: allows 127.0.0.0/8" \
    allow_is lo '"127.0.0.0/8"' --address 127.0.0.2
check "init --address 127.0.0.2: the comment says why" \
    grep -q "^# 127.0.0.0/8: the listen address 127.0.0.2 is a loopback address" "$T/lo/responder.conf"
check "init --address 10.1.2.3: allows 10.0.0.0/8" \
    allow_is ten '"10.0.0.0/8"' --address 10.1.2.3
check "init --address 172.20.0.5: allows 172.16.0.0/12" \
    allow_is oneseventwo '"172.16.0.0/12"' --address 172.20.0.5
check "init --address 192.168.1.10: allows 192.168.0.0/16" \
    allow_is onenine '"192.168.0.0/16"' --address 192.168.1.10
check "init --address ::1: allows ::1/128" \
    allow_is v6lo '"::1/128"' --address ::1
check "init --address fd00::5: allows fc00::/7" \
    allow_is ula '"fc00::/7"' --address fd00::5
check "init with two loopback addresses: the range once" \
    allow_is twolo '"127.0.0.0/8"' --address 127.0.0.2 --address 127.0.0.3
check "init with a public and a private address: only the private range" \
    allow_is mixed '"10.0.0.0/8"' --address 192.0.1.1 --address 10.9.9.9 --port 25269
check "init --address 192.0.1.1 (public): allows nothing" \
    allow_is public '' --address 192.0.1.1
check "init --allow-target replaces the derived range" \
    allow_is given '"127.0.0.1/32", "fd00::/8"' --address 127.0.0.2 \
    --allow-target 127.0.0.1/32 --allow-target fd00::/8
check "init --allow-target: no derived range written" \
    absent grep -q "127.0.0.0/8" "$T/given/responder.conf"
check "init without --address (127.0.0.1): allows 127.0.0.0/8" \
    allow_is default '"127.0.0.0/8"'
check "init --help names --allow-target" bash -c "'$RS' init --help | grep -q -- '--allow-target CIDR'"

# --- bad ranges to init: exit 2 with the reason -------------------------------------
exit_code() { local want=$1; shift; "$@" >"$T/out" 2>&1; [ "$?" -eq "$want" ]; }
check "init --allow-target 10.1.2.3/8: exit 2" \
    exit_code 2 "$RS" init --base-domain r.example --dir "$T/bad1" --allow-target 10.1.2.3/8
check "init --allow-target 10.1.2.3/8: says the bits beyond the prefix" \
    grep -q "allow-target '10.1.2.3/8': the address has bits set beyond the prefix" "$T/out"
check "init --allow-target example.org: exit 2" \
    exit_code 2 "$RS" init --base-domain r.example --dir "$T/bad2" --allow-target example.org
check "init --allow-target ::/129: exit 2" \
    exit_code 2 "$RS" init --base-domain r.example --dir "$T/bad3" --allow-target ::/129
check "init --allow-target without a value: exit 2" \
    exit_code 2 "$RS" init --base-domain r.example --dir "$T/bad4" --allow-target
check "a refused init wrote no config" test ! -e "$T/bad1/responder.conf"

# --- bad ranges in a config: FILE:LINE ------------------------------------------------
C=$T/lo/responder.conf
sed -i 's|^outbound = .*|outbound = {\n  allow = ( "127.0.0.1/32",\n    "10.1.2.3/8",\n    "fe80::/200",\n    42,\n    "" );\n  deny = ( );\n};|' "$C"
L=$(grep -n '^outbound = {' "$C" | cut -d: -f1)
"$RS" check -c "$C" >"$T/check.out" 2>&1
RC=$?
sed 's/^/#   /' "$T/check.out"
check "check with bad outbound.allow entries exits 1 (got $RC)" test "$RC" -eq 1
check "FILE:LINE for host bits set" \
    grep -q "^$C:$((L + 2)): outbound.allow entry '10.1.2.3/8' is not a valid CIDR: the address has bits set" "$T/check.out"
check "FILE:LINE for a prefix too long" \
    grep -q "^$C:$((L + 3)): outbound.allow entry 'fe80::/200' is not a valid CIDR: .*at most 128" "$T/check.out"
check "FILE:LINE for a number" \
    grep -q "^$C:$((L + 4)): outbound.allow entries must be strings" "$T/check.out"
check "FILE:LINE for an empty string" \
    grep -q "^$C:$((L + 5)): outbound.allow entry '' is not a valid CIDR: it is empty" "$T/check.out"
check "FILE:LINE for an unknown key in outbound" \
    grep -q "^$C:$((L + 6)): unknown setting 'deny' in outbound (allowed: allow)" "$T/check.out"
check "the good entry raised nothing" absent grep -q "127.0.0.1/32" "$T/check.out"
printf 'outbound = "127.0.0.0/8";\n' >>"$T/given/responder.conf"
sed -i '/^outbound = { allow/d' "$T/given/responder.conf"
check "outbound that is not a group: exit 1" exit_code 1 "$RS" check -c "$T/given/responder.conf"
check "outbound that is not a group: FILE:LINE" \
    grep -q "responder.conf:[0-9]*: 'outbound' at top level must be a group" "$T/out"

# --- the limits init writes --------------------------------------------------------------
check "init writes verify_dials_per_domain" grep -Eq "^ *verify_dials_per_domain = 6; +# " "$T/ten/responder.conf"
check "init writes verify_dials_total" grep -Eq "^ *verify_dials_total = 60; +# " "$T/ten/responder.conf"

# --- the embedded default -----------------------------------------------------------------
# `run` without -c initialises ./responder-state first; the daemon itself is
# not needed here (the default ports may be taken), only what it wrote.
mkdir -p "$T/embedded"
(cd "$T/embedded" && exec "$RS" run) >"$T/embedded.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do
    [ -s "$T/embedded/responder-state/responder.conf" ] && grep -q '^domains' "$T/embedded/responder-state/responder.conf" && break
    sleep 0.1
done
kill -TERM "${PIDS[-1]}" 2>/dev/null
wait "${PIDS[-1]}" 2>/dev/null
check "embedded default allows its own loopback range" \
    grep -qx 'outbound = { allow = ( "127.0.0.0/8" ); };' "$T/embedded/responder-state/responder.conf"

summary
