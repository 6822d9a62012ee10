#!/usr/bin/env bash
# The fast data path, checked byte for byte: TCP over IPv4 and IPv6 inside
# the tunnel (TSO super-packets read from the TUN, split, encrypted, sent
# with UDP GSO, received with UDP GRO, decrypted, coalesced into TUN
# writes) and UDP inside (USO super-packets from a UDP_SEGMENT sender), for
# both suites and both transports; then with each offload turned off in
# turn (SLUICE_NO_TUN_OFFLOAD, SLUICE_NO_UDP_GSO, SLUICE_NO_UDP_GRO) and all
# of them off, as on a kernel that refuses them; and against the modern
# wireguard-go (its own TSO/USO and GSO/GRO) both ways.
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "tests sluice's own offload switches"
command -v python3 >/dev/null || cannot_run "'python3' not installed (run scripts/deps.sh)"
test_init
UDPCHECK="$ROOT/tests/tools/udpcheck.py"

ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
keypair KA
keypair KB

# pair NAME TRANSPORT CIPHER: configs for A and B; sets CA, CB, IA, IB.
N=0
pair() {
	local transport=$2 cipher=$3 scheme="" listen="" suite=""
	N=$((N + 1))
	[ "$transport" = tcp ] && { scheme="tcp://"; listen="Transport = tcp"; }
	[ "$cipher" = aes ] && suite="Cipher = aes-256-gcm"
	ifname IA "a$N"
	ifname IB "b$N"
	CA=$(conf_write "$IA" <<EOF
[Interface]
PrivateKey = $KA_priv
ListenPort = 51820
Address = 198.18.0.1/24, 2001:db8:77::1/64
$listen
[Peer]
PublicKey = $KB_pub
AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
$suite
EOF
)
	CB=$(conf_write "$IB" <<EOF
[Interface]
PrivateKey = $KB_priv
Address = 198.18.0.2/24, 2001:db8:77::2/64
[Peer]
PublicKey = $KA_pub
AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
Endpoint = ${scheme}192.0.2.1:51820
$suite
EOF
)
}

# udp_ok SRC DST_NS DST_ADDR PORT [gso]: 2000 datagrams of 1200 bytes, 99%
# arrive and every one that arrives is intact.
udp_ok() {
	local src=$1 dst=$2 to=$3 port=$4 gso=${5:-} out
	out="$TMPD/udp.$port"
	ip netns exec "$dst" timeout 20 python3 "$UDPCHECK" recv "$to" "$port" 2000 8 >"$out" &
	local rpid=$!
	wait_until 5 sh -c "ip netns exec $dst ss -Hlun 'sport = :$port' | grep . >/dev/null" ||
		{ echo "the receiver is not listening"; return 1; }
	ip netns exec "$src" timeout 20 python3 "$UDPCHECK" send "$to" "$port" 2000 1200 $gso
	wait "$rpid" || { echo "receiver failed"; return 1; }
	read -r _ got _ intact <"$out"
	echo "received $got of 2000, $intact intact"
	[ "$got" -ge 1980 ] && [ "$got" = "$intact" ]
}

# offload_state NS IFACE: what the daemon's log says about its offloads.
offload_state() { grep -hE 'TUN offloads|UDP offloads' "$TMPD/$2.log" | sed 's/^.*debug: //' | paste -sd';'; }

# run_case LABEL TRANSPORT CIPHER [ENV...]: a pair with ENV, then the transfers.
PORT=5000
run_case() {
	local label=$1 transport=$2 cipher=$3; shift 3
	section "$label"
	pair "$label" "$transport" "$cipher"
	local kv
	for kv in "$@"; do export "${kv?}"; done
	start_sluice "$A" "$CA"
	start_sluice "$B" "$CB"
	for kv in "$@"; do unset "${kv%%=*}"; done
	info "$IA: $(offload_state "$A" "$IA")"
	check "$label: the tunnel comes up" ping_ok "$B" 198.18.0.1
	PORT=$((PORT + 1)); check "$label: 30 MB B->A over TCP/IPv4, sha256 intact" transfer "$B" "$A" 198.18.0.1 30 $PORT
	PORT=$((PORT + 1)); check "$label: 30 MB A->B over TCP/IPv4, sha256 intact" transfer "$A" "$B" 198.18.0.2 30 $PORT
	PORT=$((PORT + 1)); check "$label: 20 MB B->A over TCP/IPv6, sha256 intact" transfer "$B" "$A" 2001:db8:77::1 20 $PORT
	PORT=$((PORT + 1)); check "$label: UDP/IPv4 B->A with UDP_SEGMENT (USO), every datagram intact" \
		udp_ok "$B" "$A" 198.18.0.1 $PORT gso
	PORT=$((PORT + 1)); check "$label: UDP/IPv6 A->B, every datagram intact" udp_ok "$A" "$B" 2001:db8:77::2 $PORT
	check "$label: nothing dropped as malformed on A" \
		sh -c "ip netns exec $A $SLUICE show --json $IA | jq -e '.dropped.malformed == 0' >/dev/null"
	stop_daemon "$IA" || true
	stop_daemon "$IB" || true
}

run_case "all offloads, UDP, ChaCha20-Poly1305" udp chacha
check "the offloads were on" grep -q 'TUN offloads: TSO' "$TMPD/$IA.log"
run_case "all offloads, UDP, AES-256-GCM" udp aes
run_case "all offloads, TCP transport" tcp chacha
run_case "no TUN offloads" udp chacha SLUICE_NO_TUN_OFFLOAD=1
check "the TUN offloads were off" grep -q 'TUN offloads: off' "$TMPD/$IA.log"
run_case "no UDP GSO" udp chacha SLUICE_NO_UDP_GSO=1
check "GSO was off" grep -q 'GSO off' "$TMPD/$IA.log"
run_case "no UDP GRO" udp chacha SLUICE_NO_UDP_GRO=1
check "GRO was off" grep -q 'GRO off' "$TMPD/$IA.log"
run_case "every offload off" udp chacha SLUICE_NO_TUN_OFFLOAD=1 SLUICE_NO_UDP_GSO=1 SLUICE_NO_UDP_GRO=1

section "against the modern wireguard-go (TSO/USO, GSO/GRO of its own)"
MODERN=${WIREGUARD_GO:-$ROOT/../shared/anchors/wireguard-go-0.0.20250522}
if [ ! -x "$MODERN" ]; then
	# Outside CI this may be missing; under CI the anchors are beside the clone.
	[ "${CI:-}" = true ] && check "the modern wireguard-go is at $MODERN" false
	info "no modern wireguard-go at $MODERN: section skipped"
else
	pair "wggo" udp chacha
	start_sluice "$A" "$CA"
	WGGO_BIN=$MODERN start_wggo "$B" "$CB"
	check "sluice <-> wireguard-go 0.0.20250522: the tunnel comes up" ping_ok "$B" 198.18.0.1
	PORT=$((PORT + 1)); check "30 MB wireguard-go -> sluice, TCP/IPv4, intact" transfer "$B" "$A" 198.18.0.1 30 $PORT
	PORT=$((PORT + 1)); check "30 MB sluice -> wireguard-go, TCP/IPv4, intact" transfer "$A" "$B" 198.18.0.2 30 $PORT
	PORT=$((PORT + 1)); check "20 MB sluice -> wireguard-go, TCP/IPv6, intact" transfer "$A" "$B" 2001:db8:77::2 20 $PORT
	PORT=$((PORT + 1)); check "UDP with USO, wireguard-go -> sluice, intact" udp_ok "$B" "$A" 198.18.0.1 $PORT gso
fi

finish
