#!/usr/bin/env bash
# UDP roaming, as WireGuard does it: a client whose underlay address changes
# under a running tunnel (192.0.2.2 -> 192.0.2.3, then 2001:db8:1::2 ->
# 2001:db8:1::3) keeps it: its next authenticated packet moves the server's
# endpoint for it, and traffic flows both ways again within 2 s (the
# figures are printed).
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

ns_new S s
ns_new C c
veth "$S" us "$C" uc
addr "$S" us 192.0.2.1/24
addr "$C" uc 192.0.2.2/24
ip -n "$S" addr add 2001:db8:1::1/64 dev us nodad
ip -n "$C" addr add 2001:db8:1::2/64 dev uc nodad
keypair KS
keypair KC
ifname IS s
ifname IC c

server_conf() {
	conf_write "$IS" <<-EOF
		[Interface]
		PrivateKey = $KS_priv
		ListenPort = 51820
		Address = 198.18.0.1/24
		[Peer]
		PublicKey = $KC_pub
		AllowedIPs = 198.18.0.2/32
	EOF
}
client_conf() { # ENDPOINT
	conf_write "$IC" <<-EOF
		[Interface]
		PrivateKey = $KC_priv
		Address = 198.18.0.2/24
		[Peer]
		PublicKey = $KS_pub
		AllowedIPs = 198.18.0.1/32
		Endpoint = $1
	EOF
}

# server_sees ADDR: the server's endpoint for the client is at ADDR.
server_sees() {
	local got
	got=$(ip netns exec "$S" wg show "$IS" endpoints | awk '{ print $2 }')
	echo "the server's endpoint for the client: $got (want $1:*)"
	case $got in "$1":* | "[$1]":*) return 0 ;; *) return 1 ;; esac
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
FIGURES=()

# roam FAMILY OLD NEW PREFIXLEN: moves the client from OLD to NEW and checks
# the tunnel follows, both ways.
roam() {
	local fam=$1 old=$2 new=$3 plen=$4 t0 ms
	local nodad=()
	[ "$fam" = 6 ] && nodad=(nodad)
	check "before: the tunnel works and the server sees the client at $old" \
		sh -c "ip netns exec $C ping -n -c 1 -W 2 198.18.0.1 >/dev/null && ip netns exec $S wg show $IS endpoints | grep -qF '$old'"
	# As a DHCP lease or a new network does it: the old address goes, then
	# the new one comes (the other order would take the new one with the
	# old: deleting a primary IPv4 address deletes its secondaries).
	t0=$(date +%s%N)
	ip -n "$C" addr del "$old/$plen" dev uc
	ip -n "$C" addr add "$new/$plen" dev uc "${nodad[@]}"
	check "the client, moved to $new, is answered through the tunnel within 2 s" \
		wait_until 2 ip netns exec "$C" ping -n -c 1 -W 0.3 198.18.0.1
	ms=$(ms_since "$t0")
	FIGURES+=("IPv$fam, $old -> $new: first reply $ms ms after the move")
	check "the server's endpoint for the client moved to $new" server_sees "$new"
	check "the server reaches the client at its new address (server -> client ping)" \
		ip netns exec "$S" ping -n -c 1 -W 2 198.18.0.2
}

section "a tunnel over IPv4"
start_sluice "$S" "$(server_conf)"
start_sluice "$C" "$(client_conf 192.0.2.1:51820)"
roam 4 192.0.2.2 192.0.2.3 24
section "... and back"
roam 4 192.0.2.3 192.0.2.2 24

section "a tunnel over IPv6"
stop_daemon "$IC"
start_sluice "$C" "$(client_conf '[2001:db8:1::1]:51820')"
roam 6 2001:db8:1::2 2001:db8:1::3 64

section "figures"
for f in "${FIGURES[@]}"; do info "$f"; done
finish
