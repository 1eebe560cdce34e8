#!/bin/bash
# tests/run.sh -- install what is missing, build with -Werror, run every test
# (the suites unit, daemon, cli, interop against real Prosody/unbound in
# network namespaces, and bench: tests/README.md), then build again with
# AddressSanitizer + UndefinedBehaviorSanitizer and run them once more, but
# the catalog matrix, then (when clang is there) build every tests/fuzz target
# with libFuzzer and run each for a few seconds (tests/fuzz/README.md).
# Prints "tests: N passed, N failed" and exits non-zero on any failure, a
# process the suite started and left running included. Run as root on
# Debian 12 (interop tests need root for netns).
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(meson ninja-build gcc pkg-config
          libgnutls28-dev libxml2-dev libuv1-dev libconfig-dev libc-ares-dev libmicrohttpd-dev
          gnutls-bin bind9-utils knot knot-dnsutils unbound prosody ejabberd
          python3-slixmpp iproute2 procps curl chromium prometheus
          clang libclang-rt-14-dev
          libstrophe-dev go-sendxmpp sendxmpp python3-aiodns systemd
          pebble uacme libxml2-utils libsqlite3-dev libpsl-dev sqlite3 jq mandoc man-db)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: missing packages (${missing[*]}); run as root to install them" >&2
        exit 1
    fi
    echo "run.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || {
        echo "run.sh: apt-get install failed" >&2; exit 1; }
fi

passed=0
failed=0
status=0

# Every process the suite starts carries this in its environment, so that
# what a test leaves running is found at the end, whoever its parent became.
export RS_TEST_RUN="$$.$(date +%s%N)"

# leftovers: the processes of this run still alive (not this shell), as
# "PID COMMAND" lines, after giving the last ones a few seconds to exit.
leftovers() {
    python3 - "$RS_TEST_RUN" "$$" <<'EOF'
import os, sys, time
mark = ("RS_TEST_RUN=" + sys.argv[1]).encode()
spare = {os.getpid(), os.getppid(), int(sys.argv[2])}  # this, $(...), run.sh
def alive():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if mark not in f.read().split(b"\0") or int(pid) in spare:
                    continue
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            if cmd:                       # a zombie has none
                found.append("%s %s" % (pid, cmd[:200]))
        except OSError:
            pass                          # gone meanwhile, or not ours to read
    return found
end = time.monotonic() + 10
while alive() and time.monotonic() < end:
    time.sleep(0.5)
print("\n".join(alive()))
EOF
}

# run_suite DIR [meson setup options...]
run_suite() {
    local dir=$1; shift
    echo "=== build $dir ($*)"
    if [ ! -d "$dir" ]; then
        meson setup "$dir" --werror "$@" >/dev/null || { status=1; return; }
    elif meson introspect "$dir" --buildoptions |
            grep -q '"name": "werror", "value": false'; then
        # e.g. build/ made by the README's first command without --werror:
        # a warning must fail here as it fails in CI
        echo "=== $dir was configured without --werror: turning it on"
        meson configure "$dir" -Dwerror=true >/dev/null || { status=1; return; }
    fi
    if ! ninja -C "$dir"; then
        status=1; failed=$((failed + 1)); return
    fi
    echo "=== test $dir"
    # shellcheck disable=SC2086 # TEST_ARGS is a word list
    meson test -C "$dir" --print-errorlogs --num-processes 2 ${TEST_ARGS:-} || status=1
    local log="$dir/meson-logs/testlog.json"
    if [ -f "$log" ]; then
        local p f
        p=$(grep -c '"result": "OK"' "$log" || true)
        f=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
        passed=$((passed + p)); failed=$((failed + f))
    fi
}

# show_figures DIR: what the benchmarks' quick runs printed (figures, never a
# timed assertion), so that every CI log carries them.
show_figures() {
    local log=$1/meson-logs/testlog.json
    [ -f "$log" ] || return 0
    python3 - "$log" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("name", "").split(" / ")[-1] in ("bench-quick", "report_bench_quick"):
        print("=== figures: %s (%s)" % (t["name"], t["result"]))
        print((t.get("stdout") or "").rstrip())
EOF
}

run_suite build
show_figures build
# Under the sanitizers everything runs but the catalog matrix (the interop
# tests tagged with suite 'matrix': real peers and clients against every
# profile; what they prove is the catalog, which the first pass checked;
# their code paths run under ASan in the other interop tests), to keep a
# whole run well under 20 minutes.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TEST_ARGS="--no-suite matrix" \
    run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false

# Fuzzing: every tests/fuzz/fuzz_*.c is built and run for a short fixed time
# (the 'fuzz' suite; seconds per target in tests/fuzz/meson.build).
if command -v clang >/dev/null; then
    CC=clang run_suite build-fuzz -Dfuzz=true
    for src in tests/fuzz/fuzz_*.c; do
        exe=build-fuzz/tests/fuzz/$(basename "$src" .c)
        if [ ! -x "$exe" ]; then
            echo "run.sh: $src has no fuzz target in tests/fuzz/meson.build" >&2
            failed=$((failed + 1))
        fi
    done
else
    echo "=== clang not found: fuzz targets not built"
fi

# A test that leaves a process running failed, whatever it printed: the
# processes go now, and the run fails.
left=$(leftovers)
if [ -n "$left" ]; then
    echo "=== processes the suite left running (a test did not stop what it started):"
    echo "$left"
    while read -r pid _; do kill -KILL "$pid" 2>/dev/null; done <<<"$left"
    failed=$((failed + 1))
    status=1
else
    echo "=== no process of the suite is left running"
fi

echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
