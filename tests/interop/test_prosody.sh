#!/bin/bash
# test_prosody.sh -- the responder against a real Prosody 0.12.
#
# Prosody hosts staging.example and pings LABEL.responder.example; whether a
# pong arrives is what an operator reads; the echo contact's "report" command
# tells the same from our side. Strict (s2s_secure_auth = true):
# only correctly certified domains answer, and the responder logs why the
# others failed. Lenient (secure auth off, dialback on): a self-signed domain
# answers too. Then a real client (slixmpp) talks to the echo contact. Last,
# the queries of responder/report/README.md run with sqlite3 on
# STATE/report.db, `xmpp-responder report` prints the matrix (and --json
# through jq), and a restart keeps it.
#
# Usage: test_prosody.sh PATH/TO/xmpp-responder   (meson passes it)

. "$(dirname "$0")/lib.sh"

# Expectations per label: strict result, lenient result ("-" = not pinged).
EXPECT="
valid         pong   pong
le-tlsserver  pong   -
expired       error  -
self-signed   error  pong
wrong-name    error  -
"

need_env
need_responder "${1:-}"
netns_up
pki_up
responder_init
responder_limit echo_per_minute 5
unbound_up "$RZONE"
responder_up
LABELS=" $(zone_labels | tr '\n' ' ') "
note "labels in the zone:$LABELS"

# expect_ping LABEL WANT: one ping, judged against WANT (pong or error).
expect_ping() {
    local dom=$1.$BASE
    if prosody_ping "$dom"; then got=pong; else got=error; fi
    if [ "$got" = "$2" ]; then pass "ping $dom: $got ($PING_OUT)"
    else fail "ping $dom: want $2, got $got ($PING_OUT)"; fi
    if [ "$2" = error ]; then
        # The log line may be written just after Prosody gives up.
        if wait_for 5 log_has_failure "$dom"; then pass "responder logged why $dom failed"
        else fail "no event=close/stream-error/tls-fail/auth-fail line with reason naming $dom"; fi
    fi
}

# scenario COLUMN: ping every label that has an expectation in that column.
scenario() {
    local label strict lenient want
    while read -r label strict lenient; do
        [ -n "$label" ] || continue
        [ "$1" = strict ] && want=$strict || want=$lenient
        [ "$want" = - ] && continue
        case "$LABELS" in
            *" $label "*) expect_ping "$label" "$want" ;;
            *) fail "zone $RZONE has no SRV record for $label" ;;
        esac
    done <<<"$EXPECT"
}

note "scenario strict: s2s_secure_auth = true, no dialback"
prosody_up true no
scenario strict

# a second apart at least: the "since when" query of responder/report/README.md
# orders the lenient acceptance after the strict refusal by their unix seconds
sleep 1
note "scenario lenient: s2s_secure_auth = false, dialback enabled"
prosody_up false yes
scenario lenient

note "echo: slixmpp as user@$PEER writes to echo@valid.$BASE"
if echo_client "echo@valid.$BASE"; then pass "echo@valid.$BASE echoed the message"
else fail "echo@valid.$BASE did not echo within 5 s"; fi

note "echo commands: help, report, and the per-domain rate limit (5 a minute)"
if out=$(echo_client "echo@valid.$BASE" --body help --expect "Commands:"); then
    pass "'help' lists the commands"
else fail "'help': $out"; fi
# After both scenarios: expired was refused by the strict Prosody (correct),
# self-signed last accepted by the lenient one (wrong for a strict server).
if out=$(echo_client "echo@valid.$BASE" --body report \
    --expect "Report for $PEER:"); then
    pass "'report' answers with the matrix of $PEER"
    check "report: expired refused, correct" grep -q "^\[ok\] expired: refused" <<<"$out"
    check "report: self-signed accepted, wrong" grep -q "^\[wrong\] self-signed: accepted" <<<"$out"
    check "report: le-tlsserver accepted over SASL EXTERNAL" \
        grep -Eq "^\[ok\] le-tlsserver: accepted .*EXTERNAL ok" <<<"$out"
else fail "'report': $out"; fi
out=$(echo_client "echo@valid.$BASE" --count 8 --timeout 4)
n=$(sed -nE 's/.*ECHOES ([0-9]+) of 8.*/\1/p' <<<"$out")
# 3 replies went out already; a minute may turn during the burst, so the
# bound is the budget itself.
check "rate limit: ${n:-no} echoes of a burst of 8 (at most 5 a minute)" \
    test -n "$n" -a "${n:-9}" -le 5
check "rate limit logged" grep -q "event=rate-limited" "$WORK/responder.log"

for label in $LABELS; do
    grep -q "^$label " <<<"$EXPECT" || note "no expectation yet for $label (not tested)"
done

note "report.db: the queries of responder/report/README.md with sqlite3, while the daemon runs"
README=$(dirname "$0")/../../responder/report/README.md
DB=$RDIR/report.db
# readme_sql N: the Nth sql block of that README's section on the database.
readme_sql() {
    awk -v want="$1" '/^## The report database/ { on = 1; next }
        on && /^## / { exit }
        on && /^```sql$/ { n++; inside = n == want; next }
        inside && /^```$/ { inside = 0; next }
        inside' "$README"
}
# sql N REMOTE PROFILE: run README query N with those parameters.
sql() {
    readme_sql "$1" | sqlite3 -readonly -cmd ".parameter set :remote $2" \
        -cmd ".parameter set :profile $3" "$DB"
}
check "responder/report/README.md has four queries" test -n "$(readme_sql 4)" -a -z "$(readme_sql 5)"
wait_for 5 test "$(sqlite3 -readonly "$DB" 'SELECT count(*) FROM outcomes')" -gt 0 ||
    fail "nothing in $DB"
out=$(sql 1 "$PEER" self-signed)
check "refused self-signed this week: $PEER (strict round) [$out]" grep -q "^$PEER|" <<<"$out"
out=$(sql 1 "$PEER" expired)
check "refused expired this week: $PEER [$out]" grep -q "^$PEER|" <<<"$out"
out=$(sql 1 "$PEER" le-tlsserver)
check "refused le-tlsserver this week: nobody (strict Prosody accepts it) [$out]" test -z "$out"
since=$(sql 2 "$PEER" self-signed)
check "accepts self-signed since a time (the lenient round) [$since]" \
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' <<<"$since"
last_refusal=$(sqlite3 -readonly "$DB" "SELECT datetime(max(time), 'unixepoch') FROM outcomes \
    WHERE remote = '$PEER' AND profile = 'self-signed' AND refused_by = 'peer'")
check "... after its last refusal ($last_refusal < $since)" test "$last_refusal" \< "$since"
out=$(sql 2 "$PEER" expired)
check "accepts expired since: never [$out]" test -z "$out"
latest=$(sql 3 "$PEER" -)
note "latest per test domain:"; sed 's/^/#   /' <<<"$latest"
check "latest: expired refused" grep -q "^expired|in|refused|" <<<"$latest"
check "latest: self-signed accepted" grep -q "^self-signed|[a-z]*|accepted|" <<<"$latest"
check "latest: le-tlsserver accepted" grep -q "^le-tlsserver|[a-z]*|accepted|" <<<"$latest"
grades=$(sql 4 "$PEER" -)
note "grades: $grades"
check "grades: $PEER has one, partial (README query 4)" grep -Eq "^$PEER\|[A-F]\+?\|1\|" <<<"$grades"

note "xmpp-responder report $PEER, while the daemon runs"
out=$("$RESPONDER" report "$PEER" -c "$RCONF"); rc=$?
check "report $PEER: exit 0" test "$rc" -eq 0
sed 's/^/#   /' <<<"$out" | head -8
check "report: [ok] expired: refused" grep -q "^\[ok\] expired: refused" <<<"$out"
check "report: [wrong] self-signed: accepted" grep -q "^\[wrong\] self-signed: accepted" <<<"$out"
check "report: [ok] le-tlsserver: accepted over SASL EXTERNAL" \
    grep -Eq "^\[ok\] le-tlsserver: accepted .*EXTERNAL ok" <<<"$out"
json=$WORK/report-cli.json
"$RESPONDER" report "$PEER" -c "$RCONF" --json >"$json"
check "report --json parses with jq: expired ok, self-signed wrong" jq -e \
    '[.domains[] | select(.profile == "expired" or .profile == "self-signed") | .verdict]
     == ["ok", "wrong"]' "$json"
responder_api "/api/report/$PEER" >"$WORK/report-api.json"
check "report --json equals /api/report/$PEER" \
    diff <(jq -S . "$json") <(jq -S . "$WORK/report-api.json")
before=$(sqlite3 -readonly "$DB" "SELECT count(*), max(id) FROM outcomes")

# The daemon must exit cleanly on SIGTERM.
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0

note "a restart keeps everything"
# the streams still open were closed by the stop: their rows changed, no
# row came or went
check "report.db: the same rows after the stop ($before)" \
    test "$(sqlite3 -readonly "$DB" "SELECT count(*), max(id) FROM outcomes")" = "$before"
"$RESPONDER" report "$PEER" -c "$RCONF" --json >"$WORK/report-stopped.json"
check "report --json with the daemon stopped" jq -e '.summary.wrong == 1' "$WORK/report-stopped.json"
responder_up
responder_api "/api/report/$PEER" >"$WORK/report-api-restarted.json"
check "after a restart: /api/report/$PEER is what the database held" \
    diff <(jq -S . "$WORK/report-stopped.json") <(jq -S . "$WORK/report-api-restarted.json")
check "after a restart: accepts self-signed since the same time" test "$(sql 2 "$PEER" self-signed)" = "$since"
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM again (got $STOP_RC)" test "$STOP_RC" -eq 0
summary
