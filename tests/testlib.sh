# testlib.sh -- what the shell tests outside tests/interop share: TAP-like
# "ok -" / "not ok -" lines with counters, and a free loopback port.
# Source it after `set -u`; end the test with `summary`.

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
# check DESC CMD...: one assertion; the command's own output is kept quiet.
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }

# free_port: a TCP port nothing listens on (0 when none was found).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }
    done
    echo 0
}

# summary: the counts, and the exit status of the test.
summary() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
