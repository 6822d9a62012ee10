#!/usr/bin/env bash
# Two namespaces joined by a veth, sluice in each. Over an IPv4 underlay,
# then (restarted) over an IPv6 one: pings both ways to the v4 and v6 tunnel
# addresses, a checksummed bulk transfer, and `sluice show` on both sides.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

section "underlay: two namespaces, one veth"
ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$A" ua 2001:db8:1::1/64
addr "$B" ub 192.0.2.2/24
addr "$B" ub 2001:db8:1::2/64
check "underlay works (A pings B over the veth, v4 and v6)" \
	sh -c "ip netns exec $A ping -n -c1 -W2 192.0.2.2 && ip netns exec $A ping -n -c1 -W2 2001:db8:1::2"

keypair ka
keypair kb
psk=$(wg genpsk)

# confs SUFFIX A_ENDPOINT B_ENDPOINT: writes a pair of configs, sets IA IB CA CB.
confs() {
	ifname IA "a$1"
	ifname IB "b$1"
	CA=$(conf_write "$IA" <<-EOF
		[Interface]
		PrivateKey = $ka_priv
		ListenPort = 51820
		Address = 198.18.0.1/24, 2001:db8:77::1/64
		MTU = 1420

		[Peer]
		PublicKey = $kb_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
		Endpoint = $2
		EOF
	)
	CB=$(conf_write "$IB" <<-EOF
		[Interface]
		PrivateKey = $kb_priv
		ListenPort = 51821
		Address = 198.18.0.2/24,2001:db8:77::2/64
		MTU = 1420

		[Peer]
		PublicKey = $ka_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.1/32,2001:db8:77::1/128
		Endpoint = $3
		EOF
	)
}

# tunnel_checks: pings both ways, v4 and v6 tunnel addresses.
tunnel_checks() {
	check "A -> B over the tunnel, v4 (198.18.0.2)" ping_ok "$A" 198.18.0.2
	check "A -> B over the tunnel, v6 (2001:db8:77::2)" ping_ok "$A" 2001:db8:77::2
	check "B -> A over the tunnel, v4 (198.18.0.1)" ping_ok "$B" 198.18.0.1
	check "B -> A over the tunnel, v6 (2001:db8:77::1)" ping_ok "$B" 2001:db8:77::1
	check "full-size packets pass (1392-byte ping payload, MTU 1420, DF set)" \
		ping_ok "$A" 198.18.0.2 -s 1392 -M "do"
}

section "sluice <-> sluice over an IPv4 underlay (Endpoint 192.0.2.x)"
confs 4 192.0.2.2:51821 192.0.2.1:51820
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "control socket $WG_RUN/$IA.sock exists" test -S "$WG_RUN/$IA.sock"
check "control socket $WG_RUN/$IB.sock exists" test -S "$WG_RUN/$IB.sock"
check "A's tunnel has MTU 1420" sh -c "ip -n $A link show $IA | grep -q 'mtu 1420'"
tunnel_checks
check "50 MB of random data A -> B through the tunnel, sha256 matches" \
	transfer "$A" "$B" 198.18.0.2 50 5001
check "A's show: peer B with a handshake, traffic, endpoint 192.0.2.2:51821" \
	peer_live "$A" "$IA" "$kb_pub" 192.0.2.2:51821
check "B's show: peer A with a handshake, traffic, endpoint 192.0.2.1:51820" \
	peer_live "$B" "$IB" "$ka_pub" 192.0.2.1:51820

section "restart over an IPv6 underlay (Endpoint [2001:db8:1::x])"
check "A stops on SIGTERM" stop_daemon "$IA"
check "B stops on SIGTERM" stop_daemon "$IB"
check "A's interface and socket are gone" gone "$A" "$IA"
check "B's interface and socket are gone" gone "$B" "$IB"
confs 6 "[2001:db8:1::2]:51821" "[2001:db8:1::1]:51820"
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
tunnel_checks
check "5 MB of random data B -> A to the v6 tunnel address, sha256 matches" \
	transfer "$B" "$A" 2001:db8:77::1 5 5002
check "A's show: peer B with a handshake, traffic, endpoint [2001:db8:1::2]:51821" \
	peer_live "$A" "$IA" "$kb_pub" "[2001:db8:1::2]:51821"
check "B's show: peer A with a handshake, traffic, endpoint [2001:db8:1::1]:51820" \
	peer_live "$B" "$IB" "$ka_pub" "[2001:db8:1::1]:51820"

finish
