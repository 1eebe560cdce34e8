#!/bin/bash
# test_web.sh -- the web side: the index generated from the catalog and a
# report page, rendered by headless Chromium (rows counted in the DOM,
# screenshots saved), the JSON API, /metrics through promtool, a hostile
# peer's stream error text and a hostile domain name shown escaped in HTML
# and JSON, the probe form and its bounds, 404/400/405, and SIGTERM.
# Usage: test_web.sh PATH/TO/xmpp-responder
# Screenshots go to $WEB_SCREENSHOT_DIR (tests/cli/meson.build points it
# into the build dir), else to a temporary directory removed at the end.
# Without chromium the test fails unless ALLOW_SKIP=1.
set -u
RS=$(realpath "$1")
PY=/usr/bin/python3
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d)
SHOTS=${WEB_SCREENSHOT_DIR:-$T/screenshots}
mkdir -p "$SHOTS"
PID=""
. "$(dirname "$(realpath "$0")")/testlib.sh"
# check_out DESC CMD...: like check, but the command's output goes in the
# description (a number, a parser's summary).
check_out() {
    local d=$1 out; shift
    if out=$("$@" 2>&1); then pass "$d ($(echo "$out" | tail -n 1))"; else
        fail "$d"; echo "$out" | sed 's/^/#   /'; fi
}
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT


BASE=web.test
mapfile -t DOMAINS < <("$RS" catalog --format tsv | tail -n +2 | cut -f1 | sed "s/\$/.$BASE/")
N=${#DOMAINS[@]}
check "the catalog lists domains ($N)" test "$N" -gt 10

# --- start: init with free ports, run, wait for the HTTP listener -------------
# serving_http: the daemon answers on its web listener.
serving_http() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP/"; }
started=""
daemon_start "$RS" $BASE "$T/s" "$T/run.log" serving_http && started=1
check "init writes the http listener" grep -q "^http = { address = \"127.0.0.1\"; port = $HTTP; };" "$T/s/responder.conf"
if [ -z "$started" ]; then
    fail "the daemon serves HTTP on 127.0.0.1:$HTTP"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
pass "the daemon serves HTTP on 127.0.0.1:$HTTP"
check "the log names the http listener" grep -q "listening on 127.0.0.1 port $HTTP (http" "$T/run.log"
U=http://127.0.0.1:$HTTP

# fetch PATH NAME [curl args]: body in $T/NAME, headers in $T/NAME.h, prints
# "CODE CONTENT-TYPE".
fetch() {
    local path=$1 name=$2; shift 2
    curl -sS --max-time 20 --path-as-is "$@" -D "$T/$name.h" -o "$T/$name" \
        -w '%{http_code} %{content_type}' "$U$path" 2>"$T/$name.err"
}
header() { grep -i "^$2:" "$T/$1.h"; }

# --- 1. the index -------------------------------------------------------------------
r=$(fetch / index)
check "GET /: 200 text/html (got $r)" test "${r%% *}" = 200
check "GET /: content type text/html; charset=utf-8" grep -qi "^content-type: text/html; charset=utf-8" "$T/index.h"
check "GET /: Content-Security-Policy without scripts" grep -qi "^content-security-policy: default-src 'none'" "$T/index.h"
check "GET /: X-Content-Type-Options nosniff" grep -qi "^x-content-type-options: nosniff" "$T/index.h"
missing=0
for d in "${DOMAINS[@]}"; do grep -q "$d" "$T/index" || { missing=$((missing + 1)); echo "# missing $d"; }; done
check "GET /: names every one of the $N domains (missing $missing)" test "$missing" -eq 0
check "GET /: has the probe form" grep -q '<form method="post" action="/probe"' "$T/index"
check "GET /: no script anywhere" test "$(grep -ci '<script' "$T/index")" -eq 0
check_out "GET /: the domain table has $N rows" "$PY" "$HERE/check_dom.py" "$T/index" "$N"
r=$(fetch / head -I)
check "HEAD /: 200 (got $r)" test "${r%% *}" = 200

# --- 3. the JSON API ---------------------------------------------------------------
r=$(fetch /api/domains domains.json)
check "GET /api/domains: 200 application/json (got $r)" test "${r%%;*}" = "200 application/json"
check_out "GET /api/domains: JSON with $N domains and their echo contacts" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
doms = d["domains"]
assert d["base_domain"] == "web.test", d["base_domain"]
assert len(doms) == int(sys.argv[2]), len(doms)
for x in doms:
    assert x["echo"] == "echo@" + x["domain"], x
    assert x["strict"] in ("accept", "refuse") and isinstance(x["advisory"], bool), x
    for k in ("profile", "kind", "breaks", "why", "description"):
        assert isinstance(x[k], str) and x[k], (k, x)
print(len(doms), "domains")' "$T/domains.json" "$N"
r=$(fetch /api/report/staging.example staging.json)
check "GET /api/report/staging.example: 200 application/json (got $r)" test "${r%%;*}" = "200 application/json"
check_out "GET /api/report/staging.example: JSON, $N domains" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["remote"] == "staging.example" and len(d["domains"]) == int(sys.argv[2])
print(d["summary"])' "$T/staging.json" "$N"
r=$(fetch /api/nope nope.json)
check "GET /api/nope: 404 JSON error (got $r)" test "${r%%;*}" = "404 application/json"
check "GET /api/nope: body has an error member" "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]' "$T/nope.json"

# --- 5. hostile input ---------------------------------------------------------------
"$PY" "$HERE/hostile_peer.py" "$S2S" evil.example "valid.$BASE" >"$T/hostile.out" 2>&1
check "hostile peer: opened a stream and sent its stream error" grep -q "</stream:features>" "$T/hostile.out"
for _ in $(seq 50); do
    fetch /api/report/evil.example evil.json >/dev/null
    grep -q '"known":true' "$T/evil.json" && grep -q 'alert(2)' "$T/evil.json" && break
    sleep 0.1
done
RAW='<script>alert(1)</script> & "quoted" <img src=x onerror=alert(2)>'
check "the report recorded the hostile peer's stream error" grep -q 'alert(2)' "$T/evil.json"
check "JSON: no raw '<' in the body" test "$(tr -cd '<' <"$T/evil.json" | wc -c)" -eq 0
check_out "JSON: parses and holds the decoded text" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
# an unauthenticated stream is a claim: in the history, never in a cell
h = [o for o in d["history"] if o["local"] == "valid.web.test"][0]
assert h["evidence"] == "claimed", h
assert all(c["in"] is None and c["verdict"] == "unknown" for c in d["domains"])
assert sys.argv[2] in h["error_in"], h["error_in"]
print("error_in =", h["error_in"])' "$T/evil.json" "$RAW"
r=$(fetch /report/evil.example evil.html)
check "GET /report/evil.example: 200 (got $r)" test "${r%% *}" = 200
check "HTML: the peer's text appears escaped" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &amp; "quoted" &lt;img src=x onerror=alert(2)&gt;' "$T/evil.html"
check "HTML: no raw <script from the peer" test "$(grep -ci '<script' "$T/evil.html")" -eq 0
check "HTML: no raw <img from the peer" test "$(grep -ci '<img' "$T/evil.html")" -eq 0
check_out "HTML: the peer's text is text, not markup; $N rows" "$PY" "$HERE/check_dom.py" "$T/evil.html" "$N" "$RAW"

# a hostile remote domain name: the daemon refuses it at the stream header
"$PY" "$HERE/hostile_peer.py" "$S2S" 'x"><b>bold.example' "valid.$BASE" >"$T/hostile2.out" 2>&1
check "hostile name: the daemon refuses the stream header" grep -q "invalid-from\|improper-addressing" "$T/hostile2.out"
r=$(fetch '/report/x%22%3E%3Cb%3Ebold.example' bold.html)
check "GET /report/<hostile name>: 400 or 404 (got $r)" test "${r%% *}" = 400 -o "${r%% *}" = 404
check "GET /report/<hostile name>: markup not reflected" test "$(grep -c '<b>' "$T/bold.html")" -eq 0
r=$(fetch '/api/report/x%22%3E%3Cb%3Ebold.example' bold.json)
check "GET /api/report/<hostile name>: 400 JSON (got $r)" test "${r%%;*}" = "400 application/json"
check "GET /api/report/<hostile name>: no '<' in the body" test "$(tr -cd '<' <"$T/bold.json" | wc -c)" -eq 0
fetch / index2 >/dev/null
check "GET /: does not list evil.example (a claim: it never authenticated)" \
    test "$(grep -c 'href="/report/evil.example"' "$T/index2")" -eq 0
check "GET /: no hostile markup" test "$(grep -c '<b>' "$T/index2")" -eq 0

# --- 2. headless Chromium: DOM rows and screenshots ------------------------------
CHROME=$(command -v chromium || true)
if [ -z "$CHROME" ]; then
    echo "SKIP: chromium not installed"
    [ "${ALLOW_SKIP:-0}" = 1 ] || fail "chromium is needed (ALLOW_SKIP=1 to skip)"
else
    chrome() {
        timeout 90 "$CHROME" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
            --no-first-run --user-data-dir="$T/chrome" --hide-scrollbars "$@" 2>>"$T/chrome.err"
    }
    for page in "/ index $N" "/report/staging.example report-staging $N" \
                "/report/evil.example report-evil $N"; do
        set -- $page
        chrome --dump-dom "$U$1" >"$T/$2.dom"
        if [ "$2" = report-evil ]; then
            check_out "chromium $1: $3 rows, the peer's text rendered as text, no script/img" \
                "$PY" "$HERE/check_dom.py" "$T/$2.dom" "$3" "$RAW"
        else
            check_out "chromium $1: the domain table has $3 rows" \
                "$PY" "$HERE/check_dom.py" "$T/$2.dom" "$3"
        fi
        rm -f "$SHOTS/$2.png"
        chrome --screenshot="$SHOTS/$2.png" --window-size=1280,2000 "$U$1" >/dev/null
        size=$(stat -c %s "$SHOTS/$2.png" 2>/dev/null || echo 0)
        check "chromium $1: screenshot $SHOTS/$2.png ($size bytes > 10 kB)" test "$size" -gt 10240
    done
fi

# --- 4. /metrics --------------------------------------------------------------------
r=$(fetch /metrics metrics)
check "GET /metrics: 200 text/plain; version=0.0.4 (got $r)" test "$r" = "200 text/plain; version=0.0.4; charset=utf-8"
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/metrics" >"$T/promtool.out" 2>&1
    rc=$?
    sed 's/^/#   promtool: /' "$T/promtool.out"
    check "promtool check metrics: exit 0 (got $rc)" test "$rc" -eq 0
else
    echo "SKIP: promtool not installed"
    [ "${ALLOW_SKIP:-0}" = 1 ] || fail "promtool is needed (ALLOW_SKIP=1 to skip)"
fi
check_out "/metrics: every family, numbers as values" "$PY" "$HERE/check_metrics.py" "$T/metrics"
check "/metrics: $N test domains" grep -qx "xmpp_responder_test_domains $N" "$T/metrics"
check "/metrics: the hostile peer's stream counted" grep -Eq '^xmpp_responder_streams_total\{direction="in"\} [1-9]' "$T/metrics"
check "/metrics: the hostile peer's outcome counted as a claim" grep -Eq '^xmpp_responder_outcomes_total\{evidence="claimed"\} [1-9]' "$T/metrics"
check "/metrics: build info with the version" grep -Eq "^xmpp_responder_build_info\\{version=\"$("$RS" --version | awk '{print $2}')\"\\} 1$" "$T/metrics"

# --- 6. the probe form, bounds, errors --------------------------------------------------
r=$(fetch /probe probe1 --data target=staging.example)
check "POST /probe target=staging.example: 303 or a 4xx page (got $r)" \
    "$PY" -c 'import sys; c = int(sys.argv[1]); assert c == 303 or 400 <= c < 500' "${r%% *}"
if [ "${r%% *}" = 303 ]; then
    check "POST /probe: Location /report/staging.example" grep -qi "^location: /report/staging.example" "$T/probe1.h"
else
    check "POST /probe: the error page is HTML" grep -qi "^content-type: text/html" "$T/probe1.h"
fi
r=$(fetch /probe probe2 --data target=staging.example)
check "POST /probe again: 303 to the running probe, or 429 saying wait (got $r)" \
    sh -c "[ '${r%% *}' = 303 ] || { [ '${r%% *}' = 429 ] && grep -qi wait '$T/probe2'; } || [ '${r%% *}' = 400 ]"
r=$(fetch /probe probe3 --data "target=$(head -c 5000 /dev/zero | tr '\0' a)")
check "POST /probe with a 5000-character target: 4xx (got $r)" \
    "$PY" -c 'import sys; assert 400 <= int(sys.argv[1]) < 500' "${r%% *}"
r=$(fetch /probe probe4 --data 'target=%3Cscript%3Ex')
check "POST /probe target=<script>x: 4xx (got $r)" "$PY" -c 'import sys; assert 400 <= int(sys.argv[1]) < 500' "${r%% *}"
check "POST /probe target=<script>x: not reflected raw" test "$(grep -ci '<script' "$T/probe4")" -eq 0
r=$(fetch /probe probe5 --data-binary @<(head -c 100000 /dev/zero | tr '\0' a))
check "POST /probe with a 100 kB body: refused (got $r)" "$PY" -c 'import sys; assert sys.argv[1] in ("413", "000")' "${r%% *}"
r=$(fetch /nonexistent nx)
check "GET /nonexistent: 404 (got $r)" test "${r%% *}" = 404
r=$(fetch /report/../../etc/passwd pw)
check "GET /report/../../etc/passwd: 400 or 404 (got $r)" test "${r%% *}" = 400 -o "${r%% *}" = 404
r=$(fetch "/report/$(head -c 4000 /dev/zero | tr '\0' a)" long)
check "GET a 4000-character URL: 414 or 404 (got $r)" test "${r%% *}" = 414 -o "${r%% *}" = 404
r=$(fetch / del -X DELETE)
check "DELETE /: 405 (got $r)" test "${r%% *}" = 405
r=$(fetch /metrics postm --data x=1)
check "POST /metrics: 405 (got $r)" test "${r%% *}" = 405
r=$(fetch /report/staging.example staging2.html)
check "GET /report/staging.example still served: 200 (got $r)" test "${r%% *}" = 200
check "the daemon is still running" kill -0 "$PID"

# a second daemon whose HTTP port is taken: a clear message, exit 1
cp -r "$T/s" "$T/s2"
sed -i -E "s/port = $S2S;/port = $(free_port);/; s/port = $DIRECT;/port = $(free_port);/" "$T/s2/responder.conf"
timeout 20 "$RS" run -c "$T/s2/responder.conf" >"$T/busy.log" 2>&1
rc=$?
check "a taken HTTP port: run exits 1 (got $rc)" test "$rc" -eq 1
check "a taken HTTP port: the message names it" grep -q "cannot listen on 127.0.0.1 port $HTTP (http)" "$T/busy.log"

# --- 7. SIGTERM -----------------------------------------------------------------------
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
check "SIGTERM: exit status 0 (got $rc)" test "$rc" -eq 0
if [ "$rc" -ne 0 ]; then tail -n 30 "$T/run.log" | sed 's/^/#   /'; fi
echo "# screenshots in $SHOTS"
summary
