#!/bin/bash
# test_matrix.sh -- every catalog profile against five real servers.
#
# The peers, one after the other, each hosting staging.example on 127.0.0.1
# in the same namespace, with unbound serving the zone `init` generated:
#   prosody-strict     Prosody 0.12, s2s_secure_auth = true, no dialback
#   prosody-lenient    Prosody 0.12, s2s_secure_auth = false, mod_dialback
#   ejabberd-strict    ejabberd 23.01, STARTTLS required, no dialback
#   ejabberd-dialback  ejabberd 23.01, the same plus mod_s2s_dialback
#   dialback-only      dialback_peer.py: dialback only both ways, no SASL,
#                      no SNI, no _xmpps-server lookup, certificates unchecked
# For each peer a fresh responder is started and a slixmpp client logged in
# to the peer as user@staging.example pings every LABEL.BASE at once (the
# dialback-only peer pings them itself). A cell
# is "pong" or "refused", with the reason from both sides: the responder's
# log lines naming the domain and the peer's (the stanza error the client
# got; for ejabberd also the line of its log, for dialback-only its own
# log's verdict). Each cell is compared with the
# catalog's expectation for that peer (`xmpp-responder catalog --format tsv`);
# nothing about the profiles is written here.
#
# Usage: test_matrix.sh PATH/TO/xmpp-responder   (meson passes it)
# Environment: MATRIX_OUT=FILE  where the Markdown matrix goes (default:
#              the work directory, which is removed after a clean run);
#              ROUNDS=N  run every peer N times (fresh peer and responder
#              each time) and report cells that change as flaky;
#              PING_TIMEOUT=S  seconds each ping may take (default 20);
#              MATRIX_PEERS="NAME ..."  run only these peers (default: all
#              five, in the catalog's order).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ejabberd.sh"

ALL_PEERS="prosody-strict prosody-lenient ejabberd-strict ejabberd-dialback dialback-only"
PEER_NAMES=${MATRIX_PEERS:-$ALL_PEERS}
for name in $PEER_NAMES; do
    case " $ALL_PEERS " in *" $name "*) ;; *) echo "MATRIX_PEERS: unknown peer '$name' (known: $ALL_PEERS)" >&2; exit 2 ;; esac
done
ROUNDS=${ROUNDS:-1}
PING_TIMEOUT=${PING_TIMEOUT:-20}

need_env
case " $PEER_NAMES " in *" ejabberd-"*) need_ejabberd ;; esac
need_responder "${1:-}"
netns_up
pki_up
responder_init
# The pinger opens one s2s stream per test domain at the same moment, all
# from the peer's one address: more than the default per-IP cap of 16.
responder_limit max_streams_per_ip 512
# The dialback-only peer claims staging.example on all of them at once, and
# each claim needs its own verification dial: more than the per-domain rate.
responder_limit verify_dials_per_domain 512
responder_limit verify_dials_total 512
unbound_up "$RZONE"

# --- the catalog: labels and per-peer expectations ------------------------

CATALOG=$WORK/catalog.tsv
"$RESPONDER" catalog --format tsv >"$CATALOG" 2>"$WORK/catalog.err" ||
    die "xmpp-responder catalog --format tsv failed: $(cat "$WORK/catalog.err")"
want_header="label	kind	strict	advisory	${ALL_PEERS// /	}	client	breaks	description"
check "catalog tsv header lists the five peers in order, then the client column" test "$(head -n 1 "$CATALOG")" = "$want_header"

declare -A EXPECT KIND
LABELS=()
while IFS=$'\t' read -r label kind _strict _adv ps pl es ed db _rest; do
    [ -n "$label" ] || continue
    LABELS+=("$label")
    KIND[$label]=$kind
    EXPECT[prosody-strict,$label]=$ps
    EXPECT[prosody-lenient,$label]=$pl
    EXPECT[ejabberd-strict,$label]=$es
    EXPECT[ejabberd-dialback,$label]=$ed
    EXPECT[dialback-only,$label]=$db
done < <(tail -n +2 "$CATALOG")
check "catalog has profiles (${#LABELS[@]})" test "${#LABELS[@]}" -gt 0

# zone_names LABEL: does the generated zone have records for the domain?
zone_names() { grep -Eq "(^|[._])$1\.$BASE\.?[[:space:]]" "$RZONE"; }
missing=""
for label in "${LABELS[@]}"; do zone_names "$label" || missing+=" $label"; done
check "the zone has records for every profile${missing:+ (missing:$missing)}" test -z "$missing"

# --- one peer, one round ----------------------------------------------------

peer_up() {
    case $1 in
        prosody-strict) prosody_up true no ;;
        prosody-lenient) prosody_up false yes ;;
        ejabberd-strict) ejabberd_up strict ;;
        ejabberd-dialback) ejabberd_up dialback ;;
        dialback-only) ;;   # dialback_peer.py is the server and the pinger
    esac
}

# peer_down NAME TAG: stop it and keep its log under a per-round name.
peer_down() {
    case $1 in
        prosody-*)
            stop_pid "$PROSODY_PID"; PROSODY_PID=""
            mv "$WORK/prosody/prosody.log" "$WORK/prosody-$2.log" 2>/dev/null ;;
        ejabberd-*)
            ejabberd_down
            cp "$EDIR/logs/ejabberd.log" "$WORK/ejabberd-$2.log" 2>/dev/null ;;
        dialback-only) ;;   # gone when its pings are done
    esac
    wait_for 10 absent listening "$PEER_IP" 5269
}

# short TEXT: one line, at most 120 characters, safe in a Markdown cell.
short() {
    local t=${1//|/\\|}
    t=${t//$'\t'/ }
    [ "${#t}" -gt 120 ] && t="${t:0:117}..."
    printf '%s' "$t"
}

# responder_why LOG DOMAIN: the responder's side of a failure: the first
# tls-fail/auth-fail/out-fail/stream-error line naming DOMAIN (the root
# cause), else the first close with a reason; as 'event: reason'.
responder_why() {
    local d=${2//./\\.} lines line
    lines=$(grep -E "(local|remote)=$d( |$)" "$1")
    line=$(grep -E 'event=(tls-fail|auth-fail|out-fail|stream-error) ' <<<"$lines" | head -n 1)
    [ -n "$line" ] || line=$(grep -E 'event=close ' <<<"$lines" | grep -v 'reason="peer closed the connection"' | head -n 1)
    [ -n "$line" ] || line=$(grep -E 'event=close ' <<<"$lines" | head -n 1)
    if [ -z "$line" ]; then
        [ -n "$lines" ] && echo "no failure logged" || echo "never contacted"
        return
    fi
    sed -E 's/.* event=([a-z-]+) .*reason="([^"]*)".*/\1: \2/' <<<"$line"
}

# responder_how LOG DOMAIN: how both legs authenticated, for a pong.
responder_how() {
    local d=${2//./\\.} in out
    in=$(grep -E "^[^ ]+ +[A-Z]+ +s2s-in.* local=$d .*event=auth-ok method=[A-Za-z]+" "$1" |
        head -n 1 | sed -E 's/.*event=auth-ok method=([A-Za-z]+).*/\1/')
    out=$(grep -E "^[^ ]+ +[A-Z]+ +s2s-out.* local=$d .*event=auth-ok method=[A-Za-z]+" "$1" |
        head -n 1 | sed -E 's/.*event=auth-ok method=([A-Za-z]+).*/\1/')
    echo "responder in ${in:-?}, out ${out:-?}"
}

# prosody_why LOG DOMAIN: Prosody's own words about DOMAIN, if any: its
# first warn/info/error line about a failure (session id and level cut off).
prosody_why() {
    grep -F "$2" "$1" 2>/dev/null | grep -Ev $'\tdebug\t' |
        grep -Ei 'error|fail|invalid|not trusted|closed|forbid' | head -n 1 |
        sed -E 's/^[A-Za-z]{3} [0-9]+ [0-9:]+[[:space:]]+[^[:space:]]+[[:space:]]+[a-z]+[[:space:]]+//'
}

# dbpeer_why LOG DOMAIN: dialback_peer.py's own words about DOMAIN: the
# first thing its listener saw go wrong on the domain's streams (how our
# reply leg failed), else its verdict on its own stream (also in the ping's
# text).
dbpeer_why() {
    local lines
    lines=$(grep -P "^[0-9.]+\t\Q$2\E\t" "$1" 2>/dev/null | cut -f 3-)
    grep -E '^inbound: .*(closed|refused|invalid|not-authorized|could not|error)' <<<"$lines" |
        head -n 1 | grep . || grep '^verdict: ' <<<"$lines" | tail -n 1
}

# run_peer NAME ROUND: peer and a fresh responder up, ping everything, judge.
run_peer() {
    local name=$1 round=$2 tag=$1-$2 out=$WORK/ping-$1-$2.txt label dom line
    local outcome cond text rtt got rlog=$WORK/responder-$1-$2.log
    note "peer $name (round $round)"
    peer_up "$name"
    rm -f "$RDIR"/report.db*   # each peer's report stands alone
    responder_up
    local targets=()
    for label in "${LABELS[@]}"; do targets+=("$label.$BASE"); done
    if [ "$name" = dialback-only ]; then
        start_bg "$out" timeout $((PING_TIMEOUT + 60)) "$PY" "$HERE/dialback_peer.py" \
            --domain "$PEER" --ip "$PEER_IP" --cert "$WORK/pki/$PEER.crt" \
            --key "$WORK/pki/$PEER.key" --timeout "$PING_TIMEOUT" \
            --log "$WORK/dbpeer-$tag.log" "${targets[@]}"
        local dbpid=$LAST_PID probe
        # While it pings: is its listener the dialback-only server it claims?
        wait_for 10 listening "$PEER_IP" 5269 || fail "$name: dialback_peer.py is not listening"
        while IFS= read -r probe; do
            case $probe in
                "PASS "*) pass "$name: ${probe#PASS }" ;;
                *) fail "$name: ${probe#FAIL }" ;;
            esac
        done < <(ns timeout 30 "$PY" "$HERE/dialback_probe.py" --ip "$PEER_IP" --domain "$PEER" 2>&1)
        wait "$dbpid"
        check "$name: dialback_peer.py reported every domain" \
            test "$(grep -c '^RESULT' "$out")" -eq "${#LABELS[@]}"
    else
        ns timeout $((PING_TIMEOUT + 60)) "$PY" "$HERE/pinger.py" --jid "user@$PEER" \
            --password secret --host "$PEER_IP" --ca "$STAGING_CA" \
            --timeout "$PING_TIMEOUT" "${targets[@]}" >"$out" 2>"$WORK/pinger-$tag.err"
        check "$name: pinger logged in as user@$PEER and reported every domain" \
            test "$(grep -c '^RESULT' "$out")" -eq "${#LABELS[@]}"
    fi
    # Both servers write their logs a moment after the fact.
    sleep 2
    local report=$WORK/report-$tag.json again=""
    responder_api "/api/report/$PEER" >"$report" ||
        fail "$name: GET /api/report/$PEER failed"
    stop_pid "$RESPONDER_PID" 10
    check "$name: responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0
    cp "$WORK/responder.log" "$rlog"
    if [ "$name" = dialback-only ]; then
        # its TLS client sends no SNI: every inbound TLS stream says sni=-
        check "$name: its streams sent no SNI ($(grep -c ' s2s-in.* event=tls-ok ' "$rlog") TLS streams)" \
            test "$(grep ' s2s-in.* event=tls-ok ' "$rlog" | grep -cv ' sni=-')" -eq 0 -a \
            "$(grep -c ' s2s-in.* event=tls-ok ' "$rlog")" -gt 0
    fi
    if [ "$round" -eq 1 ] && [ "$name" = prosody-strict ]; then
        # the history is in the state dir: a restarted daemon reports the same
        responder_up
        again=$WORK/report-$tag-restarted.json
        responder_api "/api/report/$PEER" >"$again" || fail "$name: GET after restart failed"
        stop_pid "$RESPONDER_PID" 10
    fi
    judge_report "$name" "$report" "$out" $again
    peer_down "$name" "$tag"
    for label in "${LABELS[@]}"; do
        dom=$label.$BASE
        line=$(grep -P "^RESULT\t\Q$dom\E\t" "$out" | head -n 1)
        IFS=$'\t' read -r _ _ outcome cond text rtt <<<"$line"
        [ "$cond" = - ] && cond=""
        [ "$text" = - ] && text=""
        # Each side in its own field: the Markdown cell shows them short,
        # the ok/not ok line in full.
        local peer_side="" resp_side="" log_side=""
        if [ "$outcome" = pong ]; then
            got=accept
            resp_side=$(responder_how "$rlog" "$dom")
            peer_side="pong in ${rtt}s"
        else
            got=refuse
            case $outcome in
                error) peer_side="${cond:-error}${text:+ \"$text\"}" ;;
                timeout) peer_side="no answer in ${PING_TIMEOUT}s" ;;
                *) peer_side="no result from the pinger" ;;
            esac
            resp_side=$(responder_why "$rlog" "$dom")
            case $name in
                ejabberd-*) log_side=$(ejabberd_log_line "$dom" "$WORK/ejabberd-$tag.log") ;;
                prosody-*) log_side=$(prosody_why "$WORK/prosody-$tag.log" "$dom") ;;
                dialback-only) log_side=$(dbpeer_why "$WORK/dbpeer-$tag.log" "$dom") ;;
            esac
            log_side=$(compact "$dom" "$log_side")
        fi
        if [ "$round" -eq 1 ]; then
            GOT[$name,$label]=$got
            PEER_SIDE[$name,$label]=$peer_side
            RESP_SIDE[$name,$label]=$resp_side
            LOG_SIDE[$name,$label]=$log_side
        elif [ "${GOT[$name,$label]}" != "$got" ]; then
            FLAKY[$name,$label]="round 1 $(word "${GOT[$name,$label]}"), round $round $(word "$got")"
        fi
    done
}

# judge_report NAME REPORT.json PINGS [RESTARTED.json]: the responder's own
# report of the round against the pinger's results (report_check.py).
judge_report() {
    local line
    while IFS= read -r line; do
        case $line in
            "PASS "*) pass "report: ${line#PASS }" ;;
            "FAIL "*) fail "report: ${line#FAIL }" ;;
            *) echo "$line" ;;
        esac
    done < <("$PY" "$HERE/report_check.py" "$2" "$3" "$1" ${4:+"$4"} 2>&1 ||
             echo "FAIL $1: report_check.py could not read $2 ($(head -c 200 "$2"))")
}

# compact DOMAIN TEXT: drop what the row already says (the two domains,
# the peer's address) and ejabberd's retry timer from a log line.
compact() {
    local t=$2
    t=${t// $PEER -> $1/}
    t=${t// $1 -> $PEER/}
    t=$(sed -E 's/ \(127\.[0-9.]+\)//; s/; bouncing for [0-9]+ seconds//' <<<"$t")
    printf '%s' "$t"
}

# why PEER LABEL: both sides in one line, for the terminal.
why() {
    local t="peer: ${PEER_SIDE[$1,$2]}; responder: ${RESP_SIDE[$1,$2]}"
    local src="${1%%-*}.log"
    [ "$1" = dialback-only ] && src="peer log"
    [ -n "${LOG_SIDE[$1,$2]}" ] && t+="; $src: ${LOG_SIDE[$1,$2]}"
    printf '%s' "$t"
}

word() { [ "$1" = accept ] && echo pong || echo refused; }

declare -A GOT PEER_SIDE RESP_SIDE LOG_SIDE FLAKY
T_START=$SECONDS
for round in $(seq 1 "$ROUNDS"); do
    for name in $PEER_NAMES; do run_peer "$name" "$round"; done
done
note "pinging took $((SECONDS - T_START))s for ${#LABELS[@]} profiles x $(wc -w <<<"$PEER_NAMES") peers x $ROUNDS round(s)"

# --- judge and report -------------------------------------------------------

MISMATCHES=()
for label in "${LABELS[@]}"; do
    for name in $PEER_NAMES; do
        want=${EXPECT[$name,$label]} got=${GOT[$name,$label]}
        if [ -n "${FLAKY[$name,$label]:-}" ]; then
            fail "$label @ $name: flaky (${FLAKY[$name,$label]}); catalog says $(word "$want")"
            MISMATCHES+=("$label @ $name: flaky: ${FLAKY[$name,$label]}")
        elif [ "$want" = "$got" ]; then
            pass "$label @ $name: $(word "$got") ($(why "$name" "$label"))"
        else
            fail "$label @ $name: catalog says $(word "$want"), got $(word "$got") ($(why "$name" "$label"))"
            MISMATCHES+=("$label @ $name: catalog says $(word "$want"), got $(word "$got"): $(why "$name" "$label")")
        fi
    done
done

# version PACKAGE: the installed Debian version, or "not installed".
version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"; }

# cell LABEL PEER: one Markdown cell: the outcome, its mark, then one short
# line per side.
cell() {
    local want=${EXPECT[$2,$1]} got=${GOT[$2,$1]} mark=""
    [ "$want" != "$got" ] && mark=" ✗ (catalog: $(word "$want"))"
    [ -n "${FLAKY[$2,$1]:-}" ] && mark+=" ⚠ flaky: ${FLAKY[$2,$1]}"
    if [ "$got" = accept ]; then
        printf '**pong**%s<br>%s' "$mark" "$(short "${RESP_SIDE[$2,$1]}; ${PEER_SIDE[$2,$1]#pong in }")"
        return
    fi
    printf '**refused**%s<br>peer: %s<br>responder: %s' "$mark" \
        "$(short "${PEER_SIDE[$2,$1]}")" "$(short "${RESP_SIDE[$2,$1]}")"
    # Prosody's own line repeats the stanza text; ejabberd's adds to it.
    case $2 in
        ejabberd-*) [ -n "${LOG_SIDE[$2,$1]}" ] && printf '<br>ejabberd.log: %s' "$(short "${LOG_SIDE[$2,$1]}")" ;;
        dialback-only) [ -n "${LOG_SIDE[$2,$1]}" ] && printf '<br>peer log: %s' "$(short "${LOG_SIDE[$2,$1]}")" ;;
    esac
    return 0
}

write_markdown() {
    local label name
    echo "# Interop matrix: xmpp-responder against Prosody, ejabberd and a dialback-only server"
    echo
    echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') by \`tests/interop/test_matrix.sh\`" \
        "($ROUNDS round(s), ping timeout ${PING_TIMEOUT}s)."
    echo
    echo "Debian packages: prosody $(version prosody), ejabberd $(version ejabberd)," \
        "unbound $(version unbound), libgnutls30 $(version libgnutls30)."
    echo
    echo "Peers, each hosting \`$PEER\` and pinging \`LABEL.$BASE\` from"
    echo "\`user@$PEER\` (slixmpp): **prosody-strict** = Prosody, \`s2s_secure_auth = true\`,"
    echo "no dialback; **prosody-lenient** = Prosody, \`mod_dialback\`, \`s2s_secure_auth = false\`;"
    echo "**ejabberd-strict** = ejabberd, \`s2s_use_starttls: required\`, no \`mod_s2s_dialback\`;"
    echo "**ejabberd-dialback** = ejabberd with \`mod_s2s_dialback: {}\`;"
    echo "**dialback-only** = \`dialback_peer.py\`, a small server of its own that"
    echo "authenticates by dialback only both ways (no SASL), requires STARTTLS but"
    echo "checks no certificate, sends no SNI, looks up \`_xmpp-server\` only (not"
    echo "\`_xmpps-server\`) and pings every domain itself from \`$PEER\`."
    [ "$PEER_NAMES" != "$ALL_PEERS" ] && echo "This run: only $PEER_NAMES (\`MATRIX_PEERS\`)."
    echo
    echo "A cell is **pong** (the reply arrived: how the responder authenticated the"
    echo "peer's inbound stream and its own reply stream; round trip) or **refused**"
    echo "(peer: the stanza error the client got, or no answer; responder: its first"
    echo "failure line naming the domain; ejabberd.log: ejabberd's own line; peer log:"
    echo "the first failure dialback_peer.py's listener saw on the domain's streams, else"
    echo "its verdict on its own stream). ✗ marks"
    echo "a cell that differs from the catalog (\`xmpp-responder catalog --format tsv\`)."
    echo
    # shellcheck disable=SC2086 # one column per peer name
    echo "| profile | kind |$(printf ' %s |' $PEER_NAMES)"
    # shellcheck disable=SC2086
    echo "|---|---|$(printf -- '---|%.0s' $PEER_NAMES)"
    for label in "${LABELS[@]}"; do
        # shellcheck disable=SC2016 # the backquotes are Markdown
        printf '| `%s` | %s ' "$label" "${KIND[$label]}"
        for name in $PEER_NAMES; do printf '| %s ' "$(cell "$label" "$name")"; done
        echo "|"
    done
    echo
    if [ "${#MISMATCHES[@]}" -eq 0 ]; then
        echo "Every cell agrees with the catalog."
    else
        echo "## Cells that differ from the catalog"
        echo
        local m
        for m in "${MISMATCHES[@]}"; do echo "- $(short "$m")"; done
    fi
}

# print_matrix: the plain-text matrix for the terminal / meson log.
print_matrix() {
    local label name w
    printf '%-22s' PROFILE
    for name in $PEER_NAMES; do printf ' %-18s' "$name"; done
    echo
    for label in "${LABELS[@]}"; do
        printf '%-22s' "$label"
        for name in $PEER_NAMES; do
            w=$(word "${GOT[$name,$label]}")
            [ "${EXPECT[$name,$label]}" != "${GOT[$name,$label]}" ] && w+=" !="
            [ -n "${FLAKY[$name,$label]:-}" ] && w+=" ~"
            printf ' %-18s' "$w"
        done
        echo
    done
}

MD=${MATRIX_OUT:-$WORK/MATRIX.md}
write_markdown >"$MD" || fail "could not write $MD"
echo
print_matrix
echo
note "Markdown matrix written to $MD${MATRIX_OUT:+}"
[ -z "${MATRIX_OUT:-}" ] && note "(the work directory is removed after a clean run; set MATRIX_OUT or KEEP_WORK to keep it)"
if [ "${#MISMATCHES[@]}" -gt 0 ]; then
    echo "Cells that differ from the catalog:"
    for m in "${MISMATCHES[@]}"; do echo "  $m"; done
fi
summary
