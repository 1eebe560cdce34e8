#!/bin/bash
# tests/run.sh -- install what is missing, build with -Werror, run every test
# (unit + interop against real Prosody/unbound in network namespaces), then
# build again with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# suite once more. Prints "tests: N passed, N failed" and exits non-zero on any
# failure. Run as root on Debian 12 (interop tests need root for netns).
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(meson ninja-build gcc pkg-config
          libgnutls28-dev libxml2-dev libuv1-dev libconfig-dev libc-ares-dev libmicrohttpd-dev
          gnutls-bin bind9-utils knot knot-dnsutils unbound prosody ejabberd
          python3-slixmpp iproute2 procps curl chromium prometheus)

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

# run_suite DIR [meson setup options...]
run_suite() {
    local dir=$1; shift
    echo "=== build $dir ($*)"
    if [ ! -d "$dir" ]; then
        meson setup "$dir" --werror "$@" >/dev/null || { status=1; return; }
    fi
    if ! ninja -C "$dir"; then
        status=1; failed=$((failed + 1)); return
    fi
    echo "=== test $dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
    local log="$dir/meson-logs/testlog.json"
    if [ -f "$log" ]; then
        local p f
        p=$(grep -c '"result": "OK"' "$log" || true)
        f=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
        passed=$((passed + p)); failed=$((failed + f))
    fi
}

run_suite build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false

echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
