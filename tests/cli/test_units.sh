#!/bin/bash
# test_units.sh -- the systemd units in deploy/ stay sandboxed: systemd-analyze
# rates both services 2.0 or lower (--threshold=20 fails above it; a bare unit
# shows the threshold bites), `systemd-analyze verify` finds nothing wrong, and,
# as root, the daemon still starts and serves under an approximation of the
# unit's sandbox without systemd (PID 1 here is not systemd): every mount
# read-only but the state directory, private /tmp, empty /home and /root,
# UMask 0077, another user, no capabilities, no_new_privs. The seccomp filters
# (SystemCallFilter, RestrictAddressFamilies, MemoryDenyWriteExecute) and
# PrivateUsers need systemd itself and are not tried here.
# Usage: test_units.sh PATH/TO/xmpp-responder
set -u
RS=$(realpath "$1")
DEPLOY=$(realpath "$(dirname "$(realpath "$0")")/../../deploy")
T=$(mktemp -d)
PID=""
. "$(dirname "$(realpath "$0")")/testlib.sh"
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze is not installed (package systemd)"
    exit 77
fi

# security: the score of each unit, and the threshold's verdict
for unit in xmpp-responder.service xmpp-responder-renew.service; do
    out=$(systemd-analyze security --offline=yes --threshold=20 "$DEPLOY/$unit" 2>&1)
    status=$?
    grep "Overall exposure level" <<<"$out" | sed 's/^/# /'
    if [ $status -eq 0 ]; then pass "$unit: exposure 2.0 or lower"
    else fail "$unit: exposure above 2.0"; grep "^✗" <<<"$out" | sed 's/^/#   /'; fi
done
printf '[Service]\nExecStart=/bin/true\n' >"$T/bare.service"
check "a bare unit fails the same threshold (the check can fail)" \
    bash -c "! systemd-analyze security --offline=yes --threshold=20 '$T/bare.service'"

# verify: the units as installed, the binaries faked where they are not installed
mkdir "$T/units"
cp "$DEPLOY"/xmpp-responder.service "$DEPLOY"/xmpp-responder-renew.service \
    "$DEPLOY"/xmpp-responder-renew.timer "$T/units/"
sed -i "s#/usr/local/bin/xmpp-responder-acme-renew#/bin/true#; s#/usr/local/bin/xmpp-responder#$RS#" \
    "$T"/units/*.service
(cd "$T/units" && systemd-analyze verify --man=no ./xmpp-responder.service \
    ./xmpp-responder-renew.service ./xmpp-responder-renew.timer) >"$T/verify.out" 2>&1
status=$?
sed 's/^/#   /' "$T/verify.out"
check "systemd-analyze verify accepts the three units" \
    test $status -eq 0 -a ! -s "$T/verify.out"
check "the renewal timer starts the renewal service daily" \
    grep -qx "OnCalendar=daily" "$DEPLOY/xmpp-responder-renew.timer"

# sandboxed start, without systemd: needs root for the mount namespace
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null; then
    echo "# skipped the sandboxed start: needs root, unshare and setpriv"
    summary; exit
fi
# sandbox.sh STATE CMD...: CMD in a mount namespace with STATE at /mnt/state
# (the only writable mount) and the daemon at /mnt/bin (a copy: the build
# directory may be under the /tmp the sandbox hides), as nobody, without
# capabilities; it execs all the way down, so its PID is CMD's
mkdir -p "$T/bin" && cp "$RS" "$T/bin/xmpp-responder"
export SANDBOX_BIN=$T/bin
SRS=/mnt/bin/xmpp-responder
cat >"$T/sandbox.sh" <<'EOF'
exec unshare -m --propagation private -- bash -c '
    set -e
    mount -t tmpfs -o mode=0755 tmpfs /mnt
    mkdir /mnt/state /mnt/bin
    mount --bind "$1" /mnt/state
    mount --bind "$SANDBOX_BIN" /mnt/bin
    shift
    chown -R nobody:nogroup /mnt/state
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs -o mode=0755 tmpfs /home
    mount -t tmpfs -o mode=0700 tmpfs /root
    awk "{print \$5}" /proc/self/mountinfo | sort -u | while read -r mp; do
        case "$mp" in /mnt/state|/proc*|/sys*|/dev*|/tmp) continue;; esac
        mount -o remount,bind,ro "$mp" 2>/dev/null || true
    done
    cd /mnt/state
    umask 0077
    exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
        --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"' sandbox "$@"
EOF
sandboxed() { bash "$T/sandbox.sh" "$@"; }
conf=/mnt/state/responder.conf
ready() { curl -fsS -o /dev/null "http://127.0.0.1:$HTTP/"; }
run_sandboxed() { if [ "$1" = run ]; then exec bash "$T/sandbox.sh" "$T/state" "$SRS" run -c $conf; else "$RS" "$@"; fi; }
if ! daemon_start run_sandboxed units.test "$T/state" "$T/run.log" ready; then
    fail "the daemon starts in the sandbox"; sed 's/^/#   /' "$T/run.log"; summary; exit
fi
pass "the daemon starts in the sandbox and serves its web report"
check "check passes in the sandbox" sandboxed "$T/state" "$SRS" check -c $conf
check "it runs as nobody" test "$(awk '/^Uid:/{print $2}' "/proc/$PID/status")" = 65534
check "it has no capabilities (bounding set empty)" grep -qx "CapBnd:.0000000000000000" "/proc/$PID/status"
check "it runs with no_new_privs" grep -qx "NoNewPrivs:.1" "/proc/$PID/status"
check "its root is read-only" awk '$5 == "/" && $6 ~ /^ro/ {found = 1} END {exit !found}' "/proc/$PID/mountinfo"
check "report.db is private (UMask 0077)" test "$(stat -c %a "$T/state/report.db")" = 600
check "control.sock is private" test "$(stat -c %a "$T/state/control.sock")" = 600
check "the direct TLS port presents the certificate of valid.units.test" bash -c \
    "gnutls-cli --insecure -p $DIRECT --sni-hostname valid.units.test 127.0.0.1 </dev/null 2>&1 | grep -q \"subject .CN=valid.units.test\""
# the renewal script under the same sandbox: on this staging config it finds
# nothing to renew and says so (a public one needs an ACME CA: interop-acme)
cp "$DEPLOY/acme-renew" "$T/bin/acme-renew"
if command -v uacme >/dev/null; then
    sandboxed "$T/state" /mnt/bin/acme-renew -c $conf --responder "$SRS" --no-reload \
        >"$T/renew.out" 2>&1
    check "acme-renew runs in the sandbox: exit 0, nothing to do on staging" \
        grep -q "not a public instance" "$T/renew.out"
else
    echo "# skipped acme-renew in the sandbox: uacme is not installed"
fi
kill -HUP "$PID"
for _ in $(seq 50); do grep -q "reloaded" "$T/run.log" && break; sleep 0.1; done
check "SIGHUP (ExecReload) reloads in the sandbox" grep -q "reloaded" "$T/run.log"
kill -TERM "$PID"; wait "$PID"; status=$?; PID=""
check "SIGTERM stops it with status 0" test $status -eq 0
summary
