#!/bin/bash
# test_harness.sh -- proves the interop harness itself, without the daemon:
# the namespace resolver answers for our zones, Prosody starts and answers,
# slixmpp logs in and messages itself, a ping to a name that does not exist
# fails quickly, and cleanup leaves no namespace and no process behind.
# The responder.example zone here is hand-written in the shape `init` makes.

. "$(dirname "$0")/lib.sh"

need_env
netns_up

# Stand-ins for what `xmpp-responder init` writes.
RDIR=$WORK/responder
mkdir -p "$RDIR/zones" "$RDIR/certs"
RZONE=$RDIR/zones/$BASE.zone
cat >"$RZONE" <<EOF
\$ORIGIN $BASE.
\$TTL 60
@ IN SOA ns.$BASE. hostmaster.$BASE. 1 3600 600 86400 60
@ IN NS ns.$BASE.
ns IN A 127.0.0.53
valid IN A $RESPONDER_IP
_xmpp-server._tcp.valid IN SRV 0 5 5269 valid.$BASE.
expired IN A $RESPONDER_IP
_xmpp-server._tcp.expired IN SRV 0 5 5269 expired.$BASE.
EOF

unbound_up "$RZONE"
pki_up
cp "$STAGING_CA" "$RDIR/certs/ca.pem"

check "SRV _xmpp-server._tcp.$PEER" \
    sh -c "ip netns exec $NS kdig +short @127.0.0.53 SRV _xmpp-server._tcp.$PEER | grep -qx '0 5 5269 $PEER.'"
check "A valid.$BASE is $RESPONDER_IP" \
    sh -c "ip netns exec $NS kdig +short @127.0.0.53 A valid.$BASE | grep -qx $RESPONDER_IP"
check "SRV for valid.$BASE" \
    sh -c "ip netns exec $NS kdig +short @127.0.0.53 SRV _xmpp-server._tcp.valid.$BASE | grep -qx '0 5 5269 valid.$BASE.'"
check "A victim.example is $VICTIM_IP" \
    sh -c "ip netns exec $NS kdig +short @127.0.0.53 A victim.example | grep -qx $VICTIM_IP"
check "NXDOMAIN for missing.$BASE" \
    sh -c "ip netns exec $NS kdig @127.0.0.53 A missing.$BASE | grep -q 'status: NXDOMAIN'"
check "resolv.conf in the namespace points at 127.0.0.53" \
    sh -c "ip netns exec $NS cat /etc/resolv.conf | grep -qx 'nameserver 127.0.0.53'"
check "labels read from the zone" test "$(zone_labels | tr '\n' ' ')" = "expired valid "

prosody_up true no
pass "Prosody started in the namespace"
if echo_client "user@$PEER"; then pass "slixmpp logs in and gets its own message back"
else fail "slixmpp logs in and gets its own message back"; fi

start=$SECONDS
if prosody_ping "missing.$BASE"; then
    fail "ping to missing.$BASE must fail: $PING_OUT"
else
    elapsed=$((SECONDS - start))
    note "ping missing.$BASE: $PING_OUT"
    check "ping to a domain that does not exist fails within 10 s ($elapsed s)" test "$elapsed" -le 10
fi

# Tear down now, by hand, and prove nothing is left.
ns_pids=$(ip netns pids "$NS" | tr '\n' ' ')
pids="${PIDS[*]} $ns_pids"
cleanup
trap - EXIT
left=""
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
check "no process left (was: $pids)" test -z "$left"
check "namespace $NS deleted" sh -c "! ip netns list | grep -qw $NS"
check "/etc/netns/$NS removed" test ! -e "/etc/netns/$NS"
summary
