#!/usr/bin/env bash
# An interface moved to another network namespace (`ip link set IFACE netns
# NS`, WireGuard's way of keeping the encrypted socket outside a container)
# keeps working: the daemon follows the TUN by its descriptor, serves it in
# its new namespace with the socket left behind, and on the way out deletes
# nothing by name: an unrelated link of the same name where the TUN used to
# be is left alone. A moved TUN deleted in its new home stops the daemon.
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "tests sluice's own liveness checks"
test_init

ns_new A a
ns_new B b
ns_new C c
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
keypair KA
keypair KB
ifname IA a
ifname IB b

CA=$(conf_write "$IA" <<EOF
[Interface]
PrivateKey = $KA_priv
ListenPort = 51820
Address = 198.18.0.1/24
[Peer]
PublicKey = $KB_pub
AllowedIPs = 198.18.0.2/32
Endpoint = 192.0.2.2:51820
EOF
)
CB=$(conf_write "$IB" <<EOF
[Interface]
PrivateKey = $KB_priv
ListenPort = 51820
Address = 198.18.0.2/24
[Peer]
PublicKey = $KA_pub
AllowedIPs = 198.18.0.1/32
Endpoint = 192.0.2.1:51820
EOF
)
start_sluice "$A" "$CA"
PA=$LAST_PID
start_sluice "$B" "$CB"
check "the tunnel works before the move" ping_ok "$A" 198.18.0.2

section "ip link set $IA netns C"
ip -n "$A" link set "$IA" netns "$C"
ip -n "$C" addr add 198.18.0.1/24 dev "$IA"
ip -n "$C" link set "$IA" up
check "the daemon says it serves $IA in another namespace" \
	wait_until 5 grep -q "$IA moved to another network namespace" "$TMPD/$IA.log"
sleep 1.5 # more than one liveness check after the move
check "the daemon is still running" kill -0 "$PA"
check "C reaches B through the moved $IA (the socket stayed in A)" ping_ok "$C" 198.18.0.2
check "B reaches C" ping_ok "$B" 198.18.0.1
check "wg show still answers for $IA" sh -c "ip netns exec $A wg show $IA | grep -q 'latest handshake'"

section "on the way out, nothing is deleted by name"
ip -n "$A" link add "$IA" type veth peer name "${IA}p"
check "an unrelated link named $IA now exists in A" iface_exists "$A" "$IA"
check "SIGTERM: the daemon exits" stop_daemon "$IA"
check "the unrelated $IA in A is still there" iface_exists "$A" "$IA"
check "the moved TUN is gone from C" sh -c "! ip -n $C link show $IA"
ip -n "$A" link del "$IA"

section "a moved TUN deleted in its new namespace stops the daemon"
start_sluice "$A" "$CA"
PA=$LAST_PID
ip -n "$A" link set "$IA" netns "$C"
check "moved: still running" sh -c "sleep 1.5; kill -0 $PA"
ip -n "$C" link del "$IA"
check "deleted in C: the daemon exits within 3 s" wait_until 3 sh -c "! kill -0 $PA"
check "... and says why" grep -q "$IA was deleted" "$TMPD/$IA.log"

finish
