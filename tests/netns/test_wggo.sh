#!/usr/bin/env bash
# Interoperability with Debian's wireguard-go, configured with wg: sluice as
# the initiator (only sluice knows an Endpoint), then as the responder (only
# wireguard-go does). Pings both ways and a checksummed 10 MB each way.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

section "underlay: two namespaces, one veth"
ns_new S sl   # sluice
ns_new G go   # wireguard-go
veth "$S" us "$G" ug
addr "$S" us 192.0.2.1/24
addr "$S" us 2001:db8:1::1/64
addr "$G" ug 192.0.2.2/24
addr "$G" ug 2001:db8:1::2/64

keypair ks
keypair kg
psk=$(wg genpsk)

# confs SUFFIX SLUICE_ENDPOINT_LINE WGGO_ENDPOINT_LINE: sets IS IG CS CG.
confs() {
	ifname IS "s$1"
	ifname IG "g$1"
	CS=$(conf_write "$IS" <<-EOF
		[Interface]
		PrivateKey = $ks_priv
		ListenPort = 51820
		Address = 198.18.0.1/24, 2001:db8:77::1/64
		MTU = 1420

		[Peer]
		PublicKey = $kg_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
		$2
		EOF
	)
	CG=$(conf_write "$IG" <<-EOF
		[Interface]
		PrivateKey = $kg_priv
		ListenPort = 51821
		Address = 198.18.0.2/24, 2001:db8:77::2/64
		MTU = 1420

		[Peer]
		PublicKey = $ks_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
		$3
		EOF
	)
}

# both_ways FIRST_NS PORT: pings (FIRST_NS's side first: it must initiate), then
# 10 MB each way.
both_ways() {
	local first=$1 port=$2
	if [ "$first" = "$S" ]; then
		check "sluice -> wireguard-go, v4 (sluice initiates)" ping_ok "$S" 198.18.0.2
		check "sluice -> wireguard-go, v6" ping_ok "$S" 2001:db8:77::2
		check "wireguard-go -> sluice, v4" ping_ok "$G" 198.18.0.1
		check "wireguard-go -> sluice, v6" ping_ok "$G" 2001:db8:77::1
	else
		check "wireguard-go -> sluice, v4 (wireguard-go initiates)" ping_ok "$G" 198.18.0.1
		check "wireguard-go -> sluice, v6" ping_ok "$G" 2001:db8:77::1
		check "sluice -> wireguard-go, v4" ping_ok "$S" 198.18.0.2
		check "sluice -> wireguard-go, v6" ping_ok "$S" 2001:db8:77::2
	fi
	check "10 MB sluice -> wireguard-go, sha256 matches" \
		transfer "$S" "$G" 198.18.0.2 10 "$port"
	check "10 MB wireguard-go -> sluice, sha256 matches" \
		transfer "$G" "$S" 2001:db8:77::1 10 $((port + 1))
}

# uapi_set_then_show: wg adds an allowed IP on sluice's side; sluice shows it.
# shellcheck disable=SC2317 # called through check
uapi_set_then_show() {
	ip netns exec "$S" wg set "$IS" peer "$kg_pub" \
		allowed-ips 198.18.0.2/32,2001:db8:77::2/128,198.18.5.0/24 &&
		sluice_cli "$S" show "$IS" | grep -F 'allowed ips' | grep -q 198.18.5.0/24
}

section "sluice initiates (Endpoint only in sluice's config)"
confs 1 "Endpoint = 192.0.2.2:51821" ""
start_sluice "$S" "$CS"
start_wggo "$G" "$CG"
both_ways "$S" 5001
check "wireguard-go learnt sluice's endpoint 192.0.2.1:51820 from the handshake" \
	peer_live "$G" "$IG" "$ks_pub" 192.0.2.1:51820
check "sluice's show: wireguard-go's peer with a handshake and traffic" \
	peer_live "$S" "$IS" "$kg_pub" 192.0.2.2:51821
check "wg (wireguard-tools) reads sluice's UAPI socket: dump lists wireguard-go's key and endpoint" \
	sh -c "ip netns exec $S wg show $IS dump | grep -F '$kg_pub' | grep -qF 192.0.2.2:51821"
check "wg set through sluice's UAPI socket takes effect (198.18.5.0/24 in sluice show)" \
	uapi_set_then_show
check "sluice stops on SIGTERM" stop_daemon "$IS"
check "wireguard-go stops on SIGTERM" stop_daemon "$IG"

section "sluice responds (Endpoint only in wireguard-go's config, over IPv6)"
confs 2 "" "Endpoint = [2001:db8:1::1]:51820"
start_sluice "$S" "$CS"
start_wggo "$G" "$CG"
both_ways "$G" 5003
check "sluice learnt wireguard-go's endpoint [2001:db8:1::2]:51821 from the handshake" \
	peer_live "$S" "$IS" "$kg_pub" "[2001:db8:1::2]:51821"
check "wireguard-go's show: sluice's peer with a handshake and traffic" \
	peer_live "$G" "$IG" "$ks_pub" "[2001:db8:1::1]:51820"

finish
