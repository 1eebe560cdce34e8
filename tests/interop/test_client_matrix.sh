#!/bin/bash
# test_client_matrix.sh -- every catalog profile against real XMPP clients.
#
# One responder in a namespace whose unbound serves the zone `init` made
# (with its _xmpp-client/_xmpps-client SRV records). Each client logs in as
# test@LABEL.BASE (password "test") knowing nothing but the JID: the SRV
# lookup of the domain finds the server, the certificate is checked against
# the test CA (STATE/certs/ca.pem) and the domain. When it can, it then sends
# a message to echo@LABEL.BASE and waits for it back. Clients (client_*.sh
# wrappers in this script, one process per label, all labels of one client at
# once, each bounded by `timeout`):
#   slixmpp      slix_login.py (python3-slixmpp, aiodns for the SRV lookup)
#   libstrophe   strophe_client.c, compiled here against libstrophe-dev
#   go-sendxmpp  Debian's go-sendxmpp (trusts SSL_CERT_FILE; send-only)
#   sendxmpp     Debian's sendxmpp (Perl, Net::XMPP; -t STARTTLS, -a CA;
#                send-only)
# A cell is "connected" (login succeeded; echo round trip where the client
# can) or "refused" with the client's own error and the responder's c2s log
# line for the domain. Each cell is compared with the catalog's client
# column; where a real client is known to differ, KNOWN below says why (a
# finding, shown in the matrix). Any other difference fails, as does a
# broken harness: a client that cannot log in to `valid`, a missing RESULT
# line, a responder that does not exit 0 on SIGTERM.
#
# Usage: test_client_matrix.sh PATH/TO/xmpp-responder   (meson passes it)
# Environment: MATRIX_OUT=FILE  where the Markdown matrix goes (default: the
#              work directory, removed after a clean run);
#              LOGIN_TIMEOUT=S  seconds per client run (default 20);
#              MATRIX_CLIENTS="NAME ..."  only these clients.

. "$(dirname "$0")/lib.sh"

ALL_CLIENTS="slixmpp libstrophe go-sendxmpp sendxmpp"
ECHO_CLIENTS="slixmpp libstrophe"   # the others only send
CLIENT_NAMES=${MATRIX_CLIENTS:-$ALL_CLIENTS}
for name in $CLIENT_NAMES; do
    case " $ALL_CLIENTS " in *" $name "*) ;; *) echo "MATRIX_CLIENTS: unknown client '$name' (known: $ALL_CLIENTS)" >&2; exit 2 ;; esac
done
LOGIN_TIMEOUT=${LOGIN_TIMEOUT:-20}

# Known findings: (client,label) -> why this real client differs from what a
# strict client does. Only cells listed here may differ from the catalog.
FALLBACK="falls back to the domain's A record on port 5222 when the _xmpp-client SRV target is '.', missing or without address (RFC 6120 3.2.1 says not to)"
NO_CRL="checks no revocation (no CRL, no OCSP)"
NO_0368="stricter: no XEP-0368, dials STARTTLS on 5222 (host-unknown there) instead of the _xmpps-client target"
declare -A KNOWN=(
    [slixmpp,cn-only]="Python's ssl matches the CN when there is no subjectAltName (hostname_checks_common_name)"
    [slixmpp,revoked]=$NO_CRL
    [slixmpp,no-tls]="logs in without TLS when STARTTLS is not offered (SCRAM over plaintext, session bound): force_starttls does not refuse"
    [slixmpp,direct-tls]=$NO_0368
    [slixmpp,no-service]=$FALLBACK
    [slixmpp,no-target]=$FALLBACK
    [slixmpp,no-address]=$FALLBACK
    [libstrophe,cn-only]="OpenSSL's host check matches the CN when there is no subjectAltName"
    [libstrophe,revoked]=$NO_CRL
    [libstrophe,direct-tls]=$NO_0368
    [go-sendxmpp,rsa1024]="Go's crypto/tls accepts a 1024-bit RSA key"
    [go-sendxmpp,revoked]=$NO_CRL
    [go-sendxmpp,direct-tls]="stricter: ends up on the STARTTLS port 5222 (host-unknown there), not on the _xmpps-client target 5223"
    [go-sendxmpp,no-service]=$FALLBACK
    [go-sendxmpp,no-target]=$FALLBACK
    [go-sendxmpp,no-address]=$FALLBACK
    [sendxmpp,cn-only]="IO::Socket::SSL matches the CN when there is no subjectAltName"
    [sendxmpp,revoked]=$NO_CRL
    [sendxmpp,direct-tls]="stricter: no XEP-0368 (-j DOMAIN dials STARTTLS on 5222, host-unknown there)"
    [sendxmpp,no-service]="no SRV lookup in the only mode that logs in (-j DOMAIN): the domain's A record answers"
    [sendxmpp,no-target]="no SRV lookup in the only mode that logs in (-j DOMAIN): the domain's A record answers"
    [sendxmpp,no-address]="no SRV lookup in the only mode that logs in (-j DOMAIN): the domain's A record answers"
)

need_env
for t in cc pkg-config go-sendxmpp sendxmpp; do
    command -v "$t" >/dev/null || skip "missing tool: $t"
done
pkg-config --exists libstrophe || skip "missing libstrophe-dev"
"$PY" -c 'import aiodns' 2>/dev/null || skip "$PY has no aiodns (slixmpp's SRV lookup)"
need_responder "${1:-}"
netns_up
pki_up
responder_init
# Every label of one client logs in at once from one address (client streams
# count against client_streams_per_ip, their own pool's cap).
responder_limit client_streams_per_ip 512
responder_limit echo_per_minute 1000
responder_limit log_per_minute 100000
CA=$RDIR/certs/ca.pem
unbound_up "$RZONE"

# --- the catalog: labels and the client column ----------------------------

CATALOG=$WORK/catalog.tsv
"$RESPONDER" catalog --format tsv >"$CATALOG" 2>"$WORK/catalog.err" ||
    die "xmpp-responder catalog --format tsv failed: $(cat "$WORK/catalog.err")"
client_col=$(head -n 1 "$CATALOG" | tr '\t' '\n' | grep -nx client | cut -d: -f1)
check "catalog tsv has a client column" test -n "$client_col"
[ -n "$client_col" ] || die "no client column in the catalog"
declare -A EXPECT KIND
LABELS=()
while IFS=$'\t' read -r -a row; do
    [ -n "${row[0]:-}" ] || continue
    LABELS+=("${row[0]}")
    KIND[${row[0]}]=${row[1]}
    EXPECT[${row[0]}]=${row[$((client_col - 1))]}
done < <(tail -n +2 "$CATALOG")
check "catalog has profiles (${#LABELS[@]})" test "${#LABELS[@]}" -gt 0
bad=""
for label in "${LABELS[@]}"; do
    case ${EXPECT[$label]} in connect | refuse) ;; *) bad+=" $label=${EXPECT[$label]}" ;; esac
done
check "every client cell of the catalog is connect or refuse${bad:+ (not:$bad)}" test -z "$bad"
for key in "${!KNOWN[@]}"; do
    [ -n "${EXPECT[${key#*,}]:-}" ] || fail "KNOWN names a label the catalog lacks: $key"
done

# --- the clients ------------------------------------------------------------

STROPHE=$WORK/strophe_client
# shellcheck disable=SC2046 # pkg-config prints several flags
cc -std=c11 -Wall -Wextra -Werror -o "$STROPHE" "$HERE/strophe_client.c" \
    $(pkg-config --cflags --libs libstrophe) >"$WORK/strophe-cc.log" 2>&1 ||
    die "strophe_client.c does not compile: $(head -c 400 "$WORK/strophe-cc.log")"
mkdir -p "$WORK/home" "$WORK/out"
# what the client_* functions read in the namespace's shell
export HERE PY CA WORK STROPHE LOGIN_TIMEOUT

# last_words FILE: the client's own error: its last stderr line that says
# something (not Perl's "Use of uninitialized" warnings nor the " at FILE
# line N." tails of a die; Go's log timestamp cut).
last_words() {
    grep -Ev '^[[:space:]]*$|^Use of uninitialized value|^ at .* line [0-9]+\.$' "$1" | tail -n 1 |
        sed -E 's,^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} ,,'
}

# send_only_result RC ERRFILE: the RESULT line of a send-only tool.
send_only_result() {
    if [ "$1" -eq 0 ]; then
        printf 'RESULT\tconnected\tlogin ok, message sent (send-only, no echo)\n'
    elif [ "$1" -eq 124 ]; then
        printf 'RESULT\trefused\tno exit within %ss, stopped%s\n' "$LOGIN_TIMEOUT" "$(last_words "$2" | sed 's/^./: &/')"
    else
        printf 'RESULT\trefused\t%s\n' "$(last_words "$2")"
    fi
}

# client_NAME DOMAIN: one login (+ echo) by DNS; prints
# "RESULT<TAB>connected|refused<TAB>detail".
client_slixmpp() {
    "$PY" "$HERE/slix_login.py" --jid "test@$1" --password test --ca "$CA" \
        --echo "echo@$1" --timeout "$LOGIN_TIMEOUT"
}
client_libstrophe() {
    "$STROPHE" "test@$1" test "$CA" "echo@$1" "$LOGIN_TIMEOUT"
}
# go-sendxmpp has no CA option: Go's crypto/x509 reads SSL_CERT_FILE. Without
# -j it finds the server by _xmpp-client/_xmpps-client SRV. Exit 0 means it
# logged in and sent the message; it cannot wait for the echo.
client_go-sendxmpp() {
    local err=$WORK/out/go-sendxmpp-$1.err
    echo "go-sendxmpp interop" | HOME=$WORK/home SSL_CERT_FILE=$CA timeout "$LOGIN_TIMEOUT" \
        go-sendxmpp -u "test@$1" -p test --timeout "$((LOGIN_TIMEOUT - 5))" "echo@$1" 2>"$err"
    send_only_result $? "$err"
}
# sendxmpp: -t STARTTLS, -a the CA file. Its SRV mode (-u test@DOMAIN, no
# -j) cannot log in anywhere: after the lookup it authenticates as
# "test@DOMAIN" (SASL authzid test@DOMAIN@TARGET), see sendxmpp_srv_mode.
# So it gets the bare user and -j DOMAIN: the domain's A record, port 5222,
# the certificate checked against DOMAIN; no SRV. Send-only too.
client_sendxmpp() {
    local err=$WORK/out/sendxmpp-$1.err
    echo "sendxmpp interop" | HOME=$WORK/home timeout "$LOGIN_TIMEOUT" \
        sendxmpp -t -a "$CA" -u test -j "$1" -p test "echo@$1" 2>"$err"
    send_only_result $? "$err"
}
# sendxmpp_srv_mode DOMAIN: the same by SRV, as a person would first try it.
sendxmpp_srv_mode() {
    local err=$WORK/out/sendxmpp-srv-$1.err
    echo "sendxmpp interop" | HOME=$WORK/home timeout "$LOGIN_TIMEOUT" \
        sendxmpp -t -a "$CA" -u "test@$1" -p test "echo@$1" 2>"$err"
    send_only_result $? "$err"
}

# responder_c2s LOG DOMAIN: the responder's c2s line for a refusal: the
# first tls-fail/auth-fail/stream-error line with local=DOMAIN, else the
# first close, as 'event: reason'; "never contacted" when none names it.
responder_c2s() {
    local d=${2//./\\.} lines line
    # local=DOMAIN, or the domain in the reason of a refused stream header
    lines=$(grep -E " c2s#.*[=' ]$d([ ')]|$)" "$1")
    line=$(grep -E 'event=(tls-fail|auth-fail|stream-error) ' <<<"$lines" | head -n 1)
    [ -n "$line" ] || line=$(grep -E 'event=close ' <<<"$lines" | head -n 1)
    if [ -z "$line" ]; then
        [ -n "$lines" ] && echo "no failure logged" || echo "never contacted"
        return
    fi
    sed -E 's/.* event=([a-z-]+) .*reason="([^"]*)".*/\1: \2/; s/.* event=([a-z-]+).*/\1/' <<<"$line"
}

# run_client NAME: all labels at once against the running responder; the
# responder's log lines of this run go to responder-NAME.log.
run_client() {
    local name=$1 label pids=() from t0=$SECONDS
    from=$(($(wc -l <"$WORK/responder.log") + 1))
    for label in "${LABELS[@]}"; do
        timeout -k 2 $((LOGIN_TIMEOUT + 10)) ip netns exec "$NS" \
            bash -c "$(declare -f "client_$name" last_words send_only_result); client_$name $label.$BASE" \
            >"$WORK/out/$name-$label.txt" 2>"$WORK/out/$name-$label.stderr" &
        pids+=("$!")
    done
    wait "${pids[@]}"
    note "client $name: $((SECONDS - t0))s for ${#LABELS[@]} profiles"
    sleep 1   # the responder logs the closes a moment later
    tail -n "+$from" "$WORK/responder.log" >"$WORK/responder-$name.log"
    local missing="" line outcome detail
    for label in "${LABELS[@]}"; do
        line=$(grep -P '^RESULT\t' "$WORK/out/$name-$label.txt" | head -n 1)
        if [ -z "$line" ]; then
            missing+=" $label"
            outcome=missing
            detail="no RESULT line: $(last_words "$WORK/out/$name-$label.stderr")"
        else
            IFS=$'\t' read -r _ outcome detail <<<"$line"
        fi
        case $outcome in connected) GOT[$name,$label]=connect ;; *) GOT[$name,$label]=refuse ;; esac
        CLIENT_SIDE[$name,$label]=$detail
        RESP_SIDE[$name,$label]=$(responder_c2s "$WORK/responder-$name.log" "$label.$BASE")
    done
    check "$name: a RESULT line for every profile${missing:+ (missing:$missing)}" test -z "$missing"
    check "$name: logs in to valid (${CLIENT_SIDE[$name,valid]})" test "${GOT[$name,valid]}" = connect
}

declare -A GOT CLIENT_SIDE RESP_SIDE
responder_up
wait_for 10 listening "$RESPONDER_IP" 5222 || die "responder is not listening on $RESPONDER_IP:5222"
wait_for 10 listening "$RESPONDER_IP" 5223 || die "responder is not listening on $RESPONDER_IP:5223"
T_START=$SECONDS
for name in $CLIENT_NAMES; do run_client "$name"; done
SENDXMPP_SRV=""
if [[ " $CLIENT_NAMES " == *" sendxmpp "* ]]; then
    SENDXMPP_SRV=$(ns bash -c "$(declare -f sendxmpp_srv_mode last_words send_only_result); sendxmpp_srv_mode valid.$BASE" | cut -f 2-)
    note "sendxmpp in SRV mode on valid: $SENDXMPP_SRV"
fi
DURATION=$((SECONDS - T_START))
note "clients took ${DURATION}s for ${#LABELS[@]} profiles x $(wc -w <<<"$CLIENT_NAMES") clients"
stop_pid "$RESPONDER_PID" 10
check "responder exits with status 0 on SIGTERM (got $STOP_RC)" test "$STOP_RC" -eq 0

# --- judge ------------------------------------------------------------------

word() { [ "$1" = connect ] && echo connected || echo refused; }

# A connected cell must also be a bound session in the responder's log:
# the client's word alone could hide a harness error.
bound_in_log() { grep -Eq " c2s.* local=${2//./\\.} .*event=bound " "$WORK/responder-$1.log"; }

MISMATCHES=() FINDINGS=()
for label in "${LABELS[@]}"; do
    for name in $CLIENT_NAMES; do
        want=${EXPECT[$label]} got=${GOT[$name,$label]} known=${KNOWN[$name,$label]:-}
        why="client: ${CLIENT_SIDE[$name,$label]}; responder: ${RESP_SIDE[$name,$label]}"
        # The client's word and the responder's log must tell the same story.
        if [ "$got" = connect ] && ! bound_in_log "$name" "$label.$BASE"; then
            fail "$label @ $name: the client says connected but the responder logged no bound session ($why)"
        elif [ "$got" = refuse ] && bound_in_log "$name" "$label.$BASE"; then
            fail "$label @ $name: the client says refused but the responder bound its session ($why)"
        fi
        if [ "$got" = connect ] && [[ " $ECHO_CLIENTS " == *" $name "* ]] &&
            [ "${CLIENT_SIDE[$name,$label]}" != "login ok, echo received" ]; then
            fail "$label @ $name: logged in but the echo did not come back ($why)"
        fi
        if [ "$want" = "$got" ] && [ -z "$known" ]; then
            pass "$label @ $name: $(word "$got") ($why)"
        elif [ "$want" != "$got" ] && [ -n "$known" ]; then
            pass "$label @ $name: $(word "$got"), a known finding (catalog: $(word "$want")): $known ($why)"
            FINDINGS+=("\`$label\` @ $name: $(word "$got"), catalog says $(word "$want"): $known")
        elif [ -n "$known" ]; then
            fail "$label @ $name: now agrees with the catalog ($(word "$got")): drop it from KNOWN ($why)"
            MISMATCHES+=("$label @ $name: agrees with the catalog now; KNOWN is stale")
        else
            fail "$label @ $name: catalog says $(word "$want"), got $(word "$got") ($why)"
            MISMATCHES+=("$label @ $name: catalog says $(word "$want"), got $(word "$got"): $why")
        fi
    done
done

# --- report -----------------------------------------------------------------

version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"; }

# short TEXT: one line, at most 110 characters, safe in a Markdown cell.
short() {
    local t=${1//|/\\|}
    t=${t//$'\t'/ }
    [ "${#t}" -gt 110 ] && t="${t:0:107}..."
    printf '%s' "$t"
}

cell() {
    local got=${GOT[$2,$1]} mark=""
    if [ "$got" != "${EXPECT[$1]}" ]; then
        [ -n "${KNOWN[$2,$1]:-}" ] && mark=" ⚑ finding" || mark=" ✗"
    fi
    if [ "$got" = connect ]; then
        printf '**connected**%s<br>%s' "$mark" "$(short "${CLIENT_SIDE[$2,$1]}")"
    else
        printf '**refused**%s<br>client: %s<br>responder: %s' "$mark" \
            "$(short "${CLIENT_SIDE[$2,$1]}")" "$(short "${RESP_SIDE[$2,$1]}")"
    fi
}

write_markdown() {
    local label name f
    echo "# Client matrix: real XMPP clients against every xmpp-responder profile"
    echo
    echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') by \`tests/interop/test_client_matrix.sh\`" \
        "(${LOGIN_TIMEOUT}s per login, ${DURATION}s for all clients)."
    echo
    echo "Debian 12 packages: python3-slixmpp $(version python3-slixmpp)," \
        "python3-aiodns $(version python3-aiodns), libstrophe-dev $(version libstrophe-dev)," \
        "go-sendxmpp $(version go-sendxmpp), sendxmpp $(version sendxmpp)" \
        "(libnet-xmpp-perl $(version libnet-xmpp-perl), libxml-stream-perl $(version libxml-stream-perl))."
    [ "$CLIENT_NAMES" != "$ALL_CLIENTS" ] && echo "This run: only $CLIENT_NAMES (\`MATRIX_CLIENTS\`)."
    echo
    echo "Each client logs in as \`test@LABEL.$BASE\` (password \`test\`) with nothing but"
    echo "the JID: the server is found by the \`_xmpp-client\` SRV record of the domain"
    echo "(sendxmpp: see below), the certificate is checked against the domain and the"
    echo "test CA only. slixmpp and libstrophe then write to"
    echo "\`echo@LABEL.$BASE\` and wait for the message back; go-sendxmpp and sendxmpp"
    echo "are send-only tools (login and one message)."
    if [[ " $CLIENT_NAMES " == *" sendxmpp "* ]]; then
        echo
        echo "**sendxmpp cannot be driven by SRV**: given \`-u test@DOMAIN\` and no server it"
        echo "looks up \`_xmpp-client\` but then authenticates as user \`test@DOMAIN\` (SASL"
        echo "authzid \`test@DOMAIN@TARGET\`), which no server accepts (on \`valid\`:"
        echo "$(short "$SENDXMPP_SRV")). Its column is therefore \`-u test -j DOMAIN\`: the"
        echo "domain's A record on port 5222, no SRV lookup, STARTTLS (\`-t\`), the CA by"
        echo "\`-a\`; it sends no SNI, the server picks the certificate by the stream's \`to\`."
        echo "When its TLS handshake fails it names no TLS error: after about 15 s it says"
        echo "\`Error 'AuthSend': [?]\` (and prints Perl warnings about an undefined stream"
        echo "id); the responder's \`tls-fail\` line is the reason."
    fi
    echo
    echo "A cell is **connected** or **refused** (client: its own error text;"
    echo "responder: its c2s log line for the domain, or \"never contacted\")."
    echo "The *catalog* column is what a strict, correct client does"
    echo "(\`xmpp-responder catalog --format tsv\`, column \`client\`). ⚑ marks a"
    echo "known finding (a real client differing from the catalog, listed below);"
    echo "✗ an unexplained difference (the test fails)."
    echo
    # shellcheck disable=SC2086 # one column per client
    echo "| profile | kind | catalog |$(printf ' %s |' $CLIENT_NAMES)"
    # shellcheck disable=SC2086
    echo "|---|---|---|$(printf -- '---|%.0s' $CLIENT_NAMES)"
    for label in "${LABELS[@]}"; do
        # shellcheck disable=SC2016 # the backquotes are Markdown
        printf '| `%s` | %s | %s ' "$label" "${KIND[$label]}" "${EXPECT[$label]}"
        for name in $CLIENT_NAMES; do printf '| %s ' "$(cell "$label" "$name")"; done
        echo "|"
    done
    echo
    if [ "${#FINDINGS[@]}" -gt 0 ]; then
        echo "## Findings: real clients that differ from a strict client"
        echo
        for f in "${FINDINGS[@]}"; do echo "- $f"; done
        echo
    fi
    if [ "${#MISMATCHES[@]}" -eq 0 ]; then
        echo "Every other cell agrees with the catalog."
    else
        echo "## Unexplained differences"
        echo
        for f in "${MISMATCHES[@]}"; do echo "- $(short "$f")"; done
    fi
}

print_matrix() {
    local label name w
    printf '%-22s %-8s' PROFILE CATALOG
    for name in $CLIENT_NAMES; do printf ' %-13s' "$name"; done
    echo
    for label in "${LABELS[@]}"; do
        printf '%-22s %-8s' "$label" "${EXPECT[$label]}"
        for name in $CLIENT_NAMES; do
            w=$(word "${GOT[$name,$label]}")
            if [ "${GOT[$name,$label]}" != "${EXPECT[$label]}" ]; then
                [ -n "${KNOWN[$name,$label]:-}" ] && w+=" F" || w+=" !="
            fi
            printf ' %-13s' "$w"
        done
        echo
    done
}

MD=${MATRIX_OUT:-$WORK/CLIENT-MATRIX.md}
write_markdown >"$MD" || fail "could not write $MD"
echo
print_matrix
echo
note "Markdown matrix written to $MD (F = known finding, != = unexplained)"
[ -z "${MATRIX_OUT:-}" ] && note "(the work directory is removed after a clean run; set MATRIX_OUT or KEEP_WORK to keep it)"
summary
