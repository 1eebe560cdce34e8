# testlib.sh -- what the shell tests of tests/cli share: TAP-like
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

# daemon_start RS BASE DIR LOG READY: `init` RS for BASE into DIR with free
# loopback ports (S2S, DIRECT, HTTP, set for the caller), `run` it in the
# background (PID; stderr in LOG), and wait up to 10 s for the command READY
# to succeed; three tries with other ports. Status 1 if it never got ready.
daemon_start() {
    local rs=$1 base=$2 dir=$3 log=$4 ready=$5 attempt
    for attempt in 1 2 3; do
        S2S=$(free_port); DIRECT=$(free_port); HTTP=$(free_port)
        rm -rf "$dir"
        "$rs" init --base-domain "$base" --dir "$dir" --port "$S2S" --direct-port "$DIRECT" \
            --http-port "$HTTP" --client-port 0 >"$log.init" 2>&1 || { sed 's/^/#   /' "$log.init"; continue; }
        "$rs" run -c "$dir/responder.conf" >"$log" 2>&1 &
        PID=$!
        for _ in $(seq 100); do
            "$ready" && return 0
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
        echo "# attempt $attempt: the daemon did not get ready; retrying with other ports"
        sed 's/^/#   /' "$log" | tail -n 5
    done
    return 1
}
