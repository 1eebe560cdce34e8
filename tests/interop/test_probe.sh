#!/bin/bash
# test_probe.sh -- `xmpp-responder probe`: the daemon pings a real Prosody
# from every test domain through its control socket, and the command judges
# the result against a policy.
#
# First, checks that need no daemon and no root (they run everywhere): a
# missing control socket, usage errors and a bad policy file all exit 2 with
# a clear message. Then, in a network namespace (root):
#   Prosody strict   probe --policy strict            exit 0
#                    the same target again at once    exit 2, rate limited
#   Prosody lenient  probe --policy strict            exit 1, naming expired,
#                                                     self-signed, wrong-name
#                    probe --json                     one entry per domain
#                    probe --policy lenient           exit 0, and a second
#                                                     probe meanwhile: exit 2
#   daemon stopped   probe                            exit 2, socket removed
# A fresh responder for each probe (the per-target interval is in memory).
#
# Usage: test_probe.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

need_responder "${1:-}"
RESPONDER=$(cd "$(dirname "$RESPONDER")" && pwd)/$(basename "$RESPONDER")

# --- without a daemon ---------------------------------------------------------

NOD=$(mktemp -d /tmp/rs-probe.XXXXXX)
cat >"$NOD/r.conf" <<EOF
base_domain = "$BASE";
state_dir = ".";
listen = ( { address = "127.0.0.1"; port = 5269; } );
domains = ( { name = "valid.$BASE"; profile = "valid"; } );
EOF
# nodaemon NAME ARGS...: run probe there; rc in NRC, stderr in $NOD/NAME.err
nodaemon() {
    local name=$1; shift
    (cd "$NOD" && timeout 20 "$RESPONDER" probe "$@" >"$NOD/$name.out" 2>"$NOD/$name.err")
    NRC=$?
}
nodaemon nosock -c "$NOD/r.conf" "$PEER"
check "no daemon: exit 2 (got $NRC)" test "$NRC" -eq 2
check "no daemon: says it cannot reach $NOD/control.sock and asks whether run is running" \
    grep -q "cannot reach the daemon at $NOD/control.sock: .*is \`xmpp-responder run\` running?" "$NOD/nosock.err"
nodaemon noconf "$PEER"
check "no -c and no ./responder-state/responder.conf: exit 2 (got $NRC)" test "$NRC" -eq 2
check "no config: the message asks for -c" grep -q -- "-c" "$NOD/noconf.err"
for args in "" "$PEER extra.example" "--bogus $PEER" "--timeout 0 $PEER" \
            "--timeout x $PEER" "--policy" "-c"; do
    # shellcheck disable=SC2086 # word splitting is the point
    nodaemon usage -c "$NOD/r.conf" $args
    check "usage error 'probe $args': exit 2 (got $NRC)" test "$NRC" -eq 2
done
nodaemon help --help
check "--help: exit 0 and a usage line" grep -q "usage: xmpp-responder probe TARGET" "$NOD/help.out"
printf '# my policy\nvalid accept\nbogus refuse\nexpired maybe\nvalid refuse\n' >"$NOD/bad.policy"
nodaemon badpolicy -c "$NOD/r.conf" --policy "$NOD/bad.policy" "$PEER"
check "bad policy file: exit 2 (got $NRC)" test "$NRC" -eq 2
check "bad policy file: FILE:3: unknown profile" grep -q "^$NOD/bad.policy:3: unknown profile 'bogus'" "$NOD/badpolicy.err"
check "bad policy file: FILE:4: bad word" grep -q "^$NOD/bad.policy:4: expected 'accept' or 'refuse'" "$NOD/badpolicy.err"
check "bad policy file: FILE:5: duplicate" grep -q "^$NOD/bad.policy:5: 'valid' is already listed on line 2" "$NOD/badpolicy.err"
nodaemon nopolicy -c "$NOD/r.conf" --policy "$NOD/missing.policy" "$PEER"
check "missing policy file: exit 2 with the path (got $NRC)" \
    grep -q "$NOD/missing.policy: No such file" "$NOD/nopolicy.err"
check "the command list names probe" bash -c "'$RESPONDER' --help | grep -q '^  probe '"
if [ "$FAILED" -gt 0 ]; then
    for f in "$NOD"/*.err; do echo "----- $f"; cat "$f"; done
    rm -rf "$NOD"
    summary
    exit 1
fi
rm -rf "$NOD"

# --- against Prosody ------------------------------------------------------------

need_env
netns_up
pki_up
responder_init
# Every probe opens one stream per domain each way, all from Prosody's one
# address: more than the default per-IP cap.
responder_limit max_streams_per_ip 512
# probe_timeout stays at its default (20 s): the rows a correct server never
# answers (the DNS rows) wait a few times its slowest answer instead.
responder_limit probe_concurrency 32
responder_limit probe_target_interval 600
unbound_up "$RZONE"

N_DOMAINS=$("$RESPONDER" catalog --format tsv | tail -n +2 | grep -c .)
note "$N_DOMAINS test domains"

# probe TAG ARGS...: the command, outside the namespace (the socket is a
# file); stdout in $WORK/probe-TAG.out, stderr in .err, status in PRC.
probe() {
    local tag=$1; shift
    timeout 120 "$RESPONDER" probe -c "$RCONF" "$@" >"$WORK/probe-$tag.out" 2>"$WORK/probe-$tag.err"
    PRC=$?
    note "probe $* -> exit $PRC ($WORK/probe-$tag.out)"
}

# show TAG: the verdict part of a probe's output, into the test log.
show() { sed -n '/^summary:/,$p' "$WORK/probe-$1.out" | sed 's/^/#   /'; }

# fresh_responder: a new daemon (fresh streams, fresh rate limits).
fresh_responder() {
    [ -n "${RESPONDER_PID:-}" ] && alive "$RESPONDER_PID" && {
        stop_pid "$RESPONDER_PID" 10
        check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
        cat "$WORK/responder.log" >>"$WORK/responder-all.log"
    }
    rm -f "$RDIR"/report.db*
    responder_up
    wait_for 5 test -S "$RDIR/control.sock" || fail "no control socket at $RDIR/control.sock"
}

# listed_diff TAG LABEL: the differences section names LABEL.BASE.
listed_diff() {
    sed -n '/^differences (/,/^$/p' "$WORK/probe-$1.out" | grep -q "^  $2\.$BASE ($2): accepted"
}

T0=$SECONDS
note "Prosody strict (s2s_secure_auth = true, no dialback)"
prosody_up true no
fresh_responder
check "control socket is mode 0600" test "$(stat -c %a "$RDIR/control.sock")" = 600
probe strict --policy strict "$PEER"
show strict
check "strict Prosody, strict policy: exit 0 (got $PRC)" test "$PRC" -eq 0
check "strict Prosody: the verdict line says it behaves as the policy says" \
    grep -q "^result: $PEER behaves as the strict policy says" "$WORK/probe-strict.out"
check "strict Prosody: valid was accepted" grep -Eq "^OK +valid\.$BASE +valid +accepted +accept +pong" "$WORK/probe-strict.out"
check "strict Prosody: expired was refused" grep -Eq "^OK +expired\.$BASE +expired +refused +refuse " "$WORK/probe-strict.out"
for label in no-service no-target no-address; do
    check "strict Prosody: $label waited a few times the slowest answer, not 20 s" \
        grep -Eq "^OK +$label\.$BASE +$label +refused +refuse +timeout: no answer within [0-9.]+ s: 4 times the target's slowest answer" "$WORK/probe-strict.out"
done
check "strict Prosody: the probe says what it presents: grade A (partial)" \
    grep -Eq "^  grade: A " "$WORK/probe-strict.out"
note "strict Prosody: $(grep -E '^  (grade|2026 readiness):' "$WORK/probe-strict.out" | tr '\n' ' ')"
note "strict Prosody: the whole probe took $(sed -n 's/^time: //p' "$WORK/probe-strict.out") (figure for the README; under 10 s expected)"
check "strict Prosody: one row per domain ($N_DOMAINS)" \
    test "$(grep -Ec "^(OK|DIFF|advisory|-) +[a-z0-9.-]+\.$BASE " "$WORK/probe-strict.out")" -eq "$N_DOMAINS"
check "strict Prosody: both legs shown for valid (in and out with TLS)" \
    bash -c "grep -A2 -E '^OK +valid\.$BASE ' '$WORK/probe-strict.out' | grep -q '^ *in: *TLS' &&
             grep -A2 -E '^OK +valid\.$BASE ' '$WORK/probe-strict.out' | grep -q '^ *out: *TLS'"
check "progress lines on stderr" grep -q "^probing $PEER: $N_DOMAINS/$N_DOMAINS done (" "$WORK/probe-strict.err"
check "daemon logged the probe's start and end" \
    bash -c "grep -q 'probe target=$PEER event=start' '$WORK/responder.log' && grep -q 'probe target=$PEER event=end' '$WORK/responder.log'"
probe again "$PEER"
check "the same target again at once: exit 2 (got $PRC)" test "$PRC" -eq 2
check "rate limit message says how long to wait" grep -Eq "rate limited: .*try again in [0-9]+ s" "$WORK/probe-again.err"
probe own "valid.$BASE"
check "probing one of our own domains: exit 2 (got $PRC)" test "$PRC" -eq 2
check "probing one of our own domains: says why" grep -q "one of our own test domains" "$WORK/probe-own.err"

# Hostile control clients (nine at once, an idle one, long, unknown, NUL
# and two-target lines, bad names, a flood, a client gone mid-probe) need
# no peer and no root: tests/daemon/test_control_socket.py (suite daemon)
# runs them.

note "Prosody lenient (s2s_secure_auth = false, dialback)"
prosody_up false yes
fresh_responder
probe lenient-strict --policy strict "$PEER"
show lenient-strict
check "lenient Prosody, strict policy: exit 1 (got $PRC)" test "$PRC" -eq 1
for label in expired self-signed wrong-name; do
    check "lenient Prosody, strict policy: the differences name $label" listed_diff lenient-strict "$label"
done
check "lenient Prosody: the verdict line counts the differences" \
    grep -Eq "^result: $PEER differs from the strict policy on [0-9]+ domains" "$WORK/probe-lenient-strict.out"

fresh_responder
probe json --policy strict --json "$PEER"
check "--json against lenient Prosody: exit 1 (got $PRC)" test "$PRC" -eq 1
if "$PY" - "$WORK/probe-json.out" "$N_DOMAINS" "$PEER" >"$WORK/json-check.txt" 2>&1 <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert doc["target"] == sys.argv[3], doc["target"]
assert doc["policy"] == "strict"
assert doc["passed"] is False
assert len(doc["domains"]) == n, (len(doc["domains"]), n)
assert len({d["domain"] for d in doc["domains"]}) == n
for d in doc["domains"]:
    for k in ("domain", "profile", "result", "accepted", "detail", "expected",
              "mark", "why", "in", "out"):
        assert k in d, (k, d)
    assert d["result"] in ("pong", "error", "refused", "timeout"), d  # never unknown here
base = sys.argv[3]
diffs = set(doc["differences"])
for label in ("expired", "self-signed", "wrong-name"):
    assert any(x.startswith(label + ".") for x in diffs), (label, diffs)
assert doc["summary"]["differences"] == len(diffs)
print("json ok:", len(doc["domains"]), "domains,", len(diffs), "differences")
EOF
then pass "--json parses, one entry per domain, differences name expired, self-signed, wrong-name ($(cat "$WORK/json-check.txt"))"
else fail "--json output: $(tail -n 3 "$WORK/json-check.txt")"; fi

fresh_responder
timeout 120 "$RESPONDER" probe -c "$RCONF" --policy lenient "$PEER" \
    >"$WORK/probe-lenient.out" 2>"$WORK/probe-lenient.err" &
BG=$!
sleep 1
probe concurrent "$PEER"
check "a second probe while one runs: exit 2 (got $PRC)" test "$PRC" -eq 2
check "a second probe while one runs: says one is running" grep -q "already running" "$WORK/probe-concurrent.err"
wait "$BG"
PRC=$?
note "probe --policy lenient $PEER -> exit $PRC"
show lenient
check "lenient Prosody, lenient policy: exit 0 (got $PRC)" test "$PRC" -eq 0

note "daemon stopped in the middle of a probe"
fresh_responder
timeout 60 "$RESPONDER" probe -c "$RCONF" "$PEER" >"$WORK/probe-stopped.out" 2>"$WORK/probe-stopped.err" &
BG=$!
# the DNS rows keep it running for at least PROBE_WAIT_FLOOR_S (5 s)
wait_for 5 grep -q "^probing $PEER: [0-9]" "$WORK/probe-stopped.err"
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
check "the control socket is removed at exit" test ! -e "$RDIR/control.sock"
wait "$BG"
PRC=$?
check "a probe cut short by the daemon stopping: exit 2 (got $PRC)" test "$PRC" -eq 2
check "a probe cut short: says the responder is stopping" grep -q "xmpp-responder probe: the responder is stopping" "$WORK/probe-stopped.err"
probe down "$PEER"
check "daemon down: exit 2 (got $PRC)" test "$PRC" -eq 2
check "daemon down: says it cannot reach the daemon" grep -q "cannot reach the daemon" "$WORK/probe-down.err"
note "probing took $((SECONDS - T0)) s"
cat "$WORK/responder.log" >>"$WORK/responder-all.log"
summary
