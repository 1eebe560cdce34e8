#!/bin/bash
# test_cli.sh -- the command line as an operator uses it: init's files (the
# zone passes named-checkzone, certtool shows the EKU the catalog claims),
# rerunning init keeps keys unless --force, check's FILE:LINE messages, bad
# arguments exit 2, and the daemon: embedded default, SIGHUP reload keeping
# established streams, SIGTERM exit 0.
# Usage: test_cli.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
PY=/usr/bin/python3
T=$(mktemp -d)
PIDS=()
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    [ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# exit_code WANT CMD...: the command exits with WANT.
exit_code() { local want=$1; shift; "$@" >"$T/out" 2>&1; [ "$?" -eq "$want" ]; }

# --- arguments ---------------------------------------------------------------
check "--help exits 0" exit_code 0 "$RS" --help
check "--version names the program" grep -q xmpp-responder <("$RS" --version)
for cmd in init run check; do
    check "$cmd --help exits 0" exit_code 0 "$RS" $cmd --help
done
check "unknown command exits 2" exit_code 2 "$RS" frobnicate
check "init without --base-domain exits 2" exit_code 2 "$RS" init --dir "$T/x"
check "init with a bad address exits 2" exit_code 2 "$RS" init --base-domain a.example --dir "$T/x" --address 300.1.1.1
check "init with a bad port exits 2" exit_code 2 "$RS" init --base-domain a.example --dir "$T/x" --port 70000
check "run with an unknown option exits 2" exit_code 2 "$RS" run --bogus
check "check without -c exits 2" exit_code 2 "$RS" check

# --- init ----------------------------------------------------------------------
D=$T/state
"$RS" init --base-domain responder.example --dir "$D" --address 127.0.0.1 --port 25269 >"$T/init.out" 2>&1
check "init succeeds" test -s "$D/responder.conf"
check "init prints the table with every profile" grep -q "le-tlsserver.responder.example" "$T/init.out"
check "zone passes named-checkzone" named-checkzone responder.example "$D/zones/responder.example.zone"
certtool -i --infile "$D/certs/le-tlsserver.responder.example.pem" >"$T/le.txt" 2>&1
purposes=$(sed -n '/Key Purpose/,/^\t\t[A-Z]/p' "$T/le.txt" | grep -c "TLS WWW" || true)
check "certtool: le-tlsserver has TLS WWW Server" grep -q "TLS WWW Server" "$T/le.txt"
check "certtool: le-tlsserver has no TLS WWW Client" test "$(grep -c 'TLS WWW Client' "$T/le.txt")" -eq 0
check "certtool: le-tlsserver lists one key purpose" test "$purposes" -eq 1
certtool -i --infile "$D/certs/valid.responder.example.pem" >"$T/valid.txt" 2>&1
check "certtool: valid has both TLS WWW purposes" test "$(grep -c 'TLS WWW' "$T/valid.txt")" -eq 2
check "key files are mode 0600" test "$(stat -c %a "$D/certs/valid.responder.example.key")" = 600
check "check accepts the written config" exit_code 0 "$RS" check -c "$D/responder.conf"

sum_before=$(sha256sum "$D/certs/valid.responder.example.key")
"$RS" init --base-domain responder.example --dir "$D" --address 127.0.0.1 --port 25269 >/dev/null 2>&1
check "rerunning init keeps keys" test "$sum_before" = "$(sha256sum "$D/certs/valid.responder.example.key")"
"$RS" init --base-domain responder.example --dir "$D" --address 127.0.0.1 --port 25269 --force >/dev/null 2>&1
check "init --force makes new keys" test "$sum_before" != "$(sha256sum "$D/certs/valid.responder.example.key")"

# --- check: every problem with FILE:LINE ---------------------------------------------
cat >"$T/bad.conf" <<'CONF'
base_domain = "responder.example";
listen = ( { address = "127.0.0.1"; port = 5269; } );
colour = "blue";
domains = (
  { name = "valid.responder.example"; profile = "valid"; },
  { name = "x.responder.example"; profile = "no-such-profile"; },
  { name = "valid.responder.example"; profile = "expired"; }
);
CONF
"$RS" check -c "$T/bad.conf" >"$T/check.out" 2>&1
rc=$?
check "check exits 1 on a bad config" test "$rc" -eq 1
check "check names the unknown key with its line" grep -q "bad.conf:3:.*colour" "$T/check.out"
check "check names the unknown profile with its line" grep -q "bad.conf:6:.*no-such-profile" "$T/check.out"
check "check names the duplicate domain with its line" grep -q "bad.conf:7:.*duplicate" "$T/check.out"
# the client pool's keys (issue 21) in the config init wrote: a bad value of
# each with its line; the key they replaced is still accepted, with a note
# saying what replaced it
P=$D/pool.conf
sed -e 's/^\( *max_client_streams = \)512;/\10;/' \
    -e 's/^\( *client_streams_per_ip = \)8;/\12000000;/' "$D/responder.conf" >"$P"
l1=$(grep -n '^ *max_client_streams = 0;' "$P" | cut -d: -f1)
l2=$(grep -n '^ *client_streams_per_ip = 2000000;' "$P" | cut -d: -f1)
"$RS" check -c "$P" >"$T/pool.out" 2>&1
rc=$?
check "check refuses max_client_streams = 0 (exit 1)" test "$rc" -eq 1
check "check names max_client_streams with its line and range" \
    grep -q "pool.conf:${l1:-x}:.*max_client_streams.*1\.\.1048576" "$T/pool.out"
check "check names client_streams_per_ip with its line and range" \
    grep -q "pool.conf:${l2:-x}:.*client_streams_per_ip.*1\.\.1048576" "$T/pool.out"
sed -i -e 's/^\( *max_client_streams = \)0;/\1512; client_sessions = 256;/' \
    -e 's/^\( *client_streams_per_ip = \)2000000;/\18;/' "$P"
"$RS" check -c "$P" >"$T/pool.out" 2>&1
rc=$?
check "check accepts an older config with client_sessions (exit 0)" test "$rc" -eq 0
check "check notes what replaced client_sessions, with its line" \
    grep -q "pool.conf:${l1:-x}: note: .*client_sessions.*max_client_streams" "$T/pool.out"
rm -f "$P"
printf 'base_domain = "a.example"\nlisten = (\n' >"$T/syntax.conf"
"$RS" check -c "$T/syntax.conf" >"$T/syntax.out" 2>&1
check "check reports a syntax error with FILE:LINE" grep -q "syntax.conf:[0-9]*:" "$T/syntax.out"
check "run refuses a bad config with exit 1" exit_code 1 "$RS" run -c "$T/bad.conf"
# the report's caps on address-matched domains (issue 21)
cat >"$T/caps.conf" <<'CONF'
base_domain = "responder.example";
listen = ( { address = "127.0.0.1"; port = 5269; } );
limits = {
  report_matched_per_ip = 0;
  report_matched_per_site = 2097152;
};
domains = ( { name = "valid.responder.example"; profile = "valid"; } );
CONF
check "check exits 1 on bad report caps" exit_code 1 "$RS" check -c "$T/caps.conf"
"$RS" check -c "$T/caps.conf" >"$T/caps.out" 2>&1
check "check names report_matched_per_ip = 0 with its line and bounds" \
    grep -q "caps.conf:4:.*report_matched_per_ip.*1\.\.1048576" "$T/caps.out"
check "check names report_matched_per_site = 2097152 with its line and bounds" \
    grep -q "caps.conf:5:.*report_matched_per_site.*1\.\.1048576" "$T/caps.out"

# --- the daemon --------------------------------------------------------------------------
# In a private network namespace when we may make one (root), else on the
# host's loopback with ports the kernel reports free: the daemon part runs
# either way. The embedded default needs its fixed ports (5269, 5270, 5280);
# on the host's loopback, when one is taken, only that run is skipped.
if [ "$(id -u)" -eq 0 ] && ip netns add "rs-cli-$$" 2>/dev/null; then
    NS=rs-cli-$$
    ip netns exec "$NS" ip link set lo up
    IN="ip netns exec $NS"
    echo "# mode: private network namespace $NS"
else
    IN=""
    echo "# mode: host loopback with free ports (no network namespace for uid $(id -u))"
fi

# port_busy PORT: something listens on it where the daemon will run.
port_busy() { $IN ss -ltnH "sport = :$1" | grep -q .; }

# A peer opening a stream to valid.responder.example, printing what it got.
# It names no 'from': a claimed domain would make the daemon look it up in
# DNS, and on the host's loopback that lookup would leave the machine.
cat >"$T/probe.py" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='valid.responder.example' "
          b"version='1.0'>")
data = b""
while b"</stream:features>" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode())
if len(sys.argv) > 2:
    # keep the stream open across a reload, then show it is still served
    open(sys.argv[2], "w").write("open\n")
    import time
    deadline = time.time() + 10
    import os
    while not os.path.exists(sys.argv[2] + ".go") and time.time() < deadline:
        time.sleep(0.1)
    s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    print(s.recv(4096).decode())
PYEOF

# The embedded default: no flags, state in ./responder-state, 127.0.0.1:5269.
# stdout through a pipe, as `xmpp-responder | tee` or a service manager
# gives it: the one-line init summary must arrive while the daemon runs.
busy=""
for p in 5269 5270 5280; do port_busy "$p" && busy="$busy $p"; done
if [ -n "$busy" ]; then
    echo "# SKIP embedded-default run: 127.0.0.1 port(s)$busy already in use on this host"
else
    mkdir -p "$T/default" && cd "$T/default"
    mkfifo "$T/default.fifo"
    cat "$T/default.fifo" >"$T/default.out" &
    PIDS+=($!)
    $IN "$RS" >"$T/default.fifo" 2>"$T/default.log" &
    pid=$!; PIDS+=($pid)
    for _ in $(seq 50); do grep -q "running" "$T/default.log" && break; sleep 0.1; done
    for _ in $(seq 20); do grep -q "initialised" "$T/default.out" && break; sleep 0.1; done
    if [ -z "$IN" ] && ! kill -0 "$pid" 2>/dev/null && grep -q "in use" "$T/default.log"; then
        # taken between our look and its bind
        echo "# SKIP embedded-default run: $(grep -m1 'in use' "$T/default.log")"
    else
        check "default run: init's summary reaches a piped stdout while the daemon runs" \
            grep -q "^initialised responder-state for responder.example" "$T/default.out"
        check "default run starts the web report" grep -q "port 5280" "$T/default.log"
        check "no libmicrohttpd complaint about the order of its options" \
            sh -c "! grep -q 'EXTERNAL_LOGGER' '$T/default.log'"
        check "default run initialises ./responder-state" test -s "$T/default/responder-state/responder.conf"
        check "default run listens on 127.0.0.1:5269" grep -q "listening on 127.0.0.1 port 5269" "$T/default.log"
        $IN $PY "$T/probe.py" 5269 >"$T/probe.out" 2>&1
        check "default daemon offers STARTTLS to a peer" grep -q "starttls" "$T/probe.out"
        kill -TERM "$pid"; wait "$pid"; rc=$?
        check "SIGTERM: exit status 0 (got $rc)" test "$rc" -eq 0
    fi
    cd "$T"
fi

# SIGHUP: reload config and certificates, keep established streams. Free
# ports (any port is free in the namespace), DNS to a loopback port where
# nothing answers, so nothing the daemon does leaves the machine.
R=$T/run
S2S=$(free_port); DIRECT=$(free_port); HTTP=$(free_port)
"$RS" init --base-domain responder.example --dir "$R" --address 127.0.0.1 --port "$S2S" \
    --direct-port "$DIRECT" --http-port "$HTTP" --client-port 0 >/dev/null 2>&1
echo "resolver = { servers = ( \"127.0.0.1:$(free_port)\" ); };" >>"$R/responder.conf"
check "check accepts the config with free ports ($S2S, $DIRECT, $HTTP)" exit_code 0 "$RS" check -c "$R/responder.conf"
$IN "$RS" run -c "$R/responder.conf" >"$T/run.log" 2>&1 &
pid=$!; PIDS+=($pid)
for _ in $(seq 50); do grep -q "running" "$T/run.log" && break; sleep 0.1; done
check "run listens on 127.0.0.1:$S2S" grep -q "listening on 127.0.0.1 port $S2S" "$T/run.log"
check "run: no libmicrohttpd complaint about the order of its options" \
    sh -c "grep -q 'port $HTTP (http' '$T/run.log' && ! grep -q 'EXTERNAL_LOGGER' '$T/run.log'"
$IN $PY "$T/probe.py" "$S2S" "$T/flag" >"$T/held.out" 2>&1 &
held=$!
for _ in $(seq 50); do [ -f "$T/flag" ] && break; sleep 0.1; done
sed -i 's/max_depth = 32;/max_depth = 40;/' "$R/responder.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "reloaded" "$T/run.log" && break; sleep 0.1; done
check "SIGHUP reloads the config" grep -q "reloaded: $("$RS" catalog --format tsv | tail -n +2 | wc -l) test domains" "$T/run.log"
touch "$T/flag.go"
wait "$held"
check "a peer's stream is offered STARTTLS" grep -q "starttls" "$T/held.out"
check "a stream opened before SIGHUP is still served after it" grep -q "proceed" "$T/held.out"
check "the daemon still accepts new streams after SIGHUP" \
    sh -c "$IN $PY '$T/probe.py' $S2S | grep -q starttls"
echo 'garbage' >>"$R/responder.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "reload failed" "$T/run.log" && break; sleep 0.1; done
check "a broken config on SIGHUP is refused with FILE:LINE, old one kept" \
    grep -q "responder.conf:[0-9]*:" "$T/run.log"
check "the daemon survives a bad reload" kill -0 "$pid"
kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM after reloads: exit status 0 (got $rc)" test "$rc" -eq 0
[ "$FAILED" -gt 0 ] && sed 's/^/#   /' "$T/run.log" | tail -n 20

summary
