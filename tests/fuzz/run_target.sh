#!/bin/bash
# run_target.sh EXE NAME SECONDS MAX_LEN SRCDIR WORKDIR -- one fuzz test:
# replay every input in SRCDIR/regress/NAME/ (crashes found and fixed), then
# fuzz for SECONDS from the seeds in SRCDIR/corpus/NAME/, keeping what it
# finds in WORKDIR/corpus/NAME/ (never in the source tree). A crash, leak,
# timeout or sanitizer report fails; its input lands in WORKDIR/artifacts/NAME/.
set -euo pipefail
exe=$1 name=$2 seconds=$3 max_len=$4 src=$5 work=$6
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/lsan.supp:print_suppressions=0}
mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
if [ -d "$src/regress/$name" ]; then
    shopt -s nullglob
    regress=("$src/regress/$name"/*)
    if [ ${#regress[@]} -gt 0 ]; then
        echo "replaying ${#regress[@]} regression input(s)"
        "$exe" -error_exitcode=1 -timeout_exitcode=1 -runs=1 "${regress[@]}"
    fi
fi
dict=()
case $name in xmlstream|conversation) dict=(-dict="$src/xmpp.dict") ;; esac
[ -d "$src/corpus/$name" ] || { echo "run_target.sh: no seed corpus $src/corpus/$name" >&2; exit 1; }
# libFuzzer's default error exit code is 77, which meson reads as "skipped":
# a crash must fail. 77 stays for a target that cannot run here.
exec "$exe" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$work/artifacts/$name/" \
    "$work/corpus/$name" "$src/corpus/$name"
