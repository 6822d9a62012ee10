#!/usr/bin/env bash
# A hub and three peers on one bridge (underlay 192.0.2.0/24). Each peer and
# the hub reach each other; with forwarding on in the hub only, peer A
# reaches peer B through it (routing by AllowedIPs); a packet whose source is
# outside a peer's AllowedIPs is dropped by the hub.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

section "underlay: a bridge in the hub namespace, three peers on it"
ns_new H hub
ns_new A a
ns_new B b
ns_new C c
ip -n "$H" link add br0 type bridge
ip -n "$H" link set br0 up
addr "$H" br0 192.0.2.1/24
n=2
for p in A B C; do
	veth "$H" "port$p" "${!p}" eth0
	ip -n "$H" link set "port$p" master br0
	addr "${!p}" eth0 "192.0.2.$n/24"
	n=$((n + 1))
done
check "underlay works (hub pings 192.0.2.2-4)" sh -c \
	"for i in 2 3 4; do ip netns exec $H ping -n -c1 -W2 192.0.2.\$i || exit 1; done"

keypair kh
keypair ka
keypair kb
keypair kc
ifname IH h
ifname IA a
ifname IB b
ifname IC c

CH=$(conf_write "$IH" <<-EOF
	[Interface]
	PrivateKey = $kh_priv
	ListenPort = 51820
	Address = 198.18.0.1/24, 2001:db8:77::1/64

	[Peer]
	# A
	PublicKey = $ka_pub
	AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128

	[Peer]
	# B
	PublicKey = $kb_pub
	AllowedIPs = 198.18.0.3/32, 2001:db8:77::3/128

	[Peer]
	# C
	PublicKey = $kc_pub
	AllowedIPs = 198.18.0.4/32, 2001:db8:77::4/128
	EOF
)
# A and B send the whole tunnel subnet to the hub (and accept it from it).
for p in a b; do
	case $p in a) n=2 ifc=$IA ;; b) n=3 ifc=$IB ;; esac
	priv=k${p}_priv
	conf_write "$ifc" >/dev/null <<-EOF
		[Interface]
		PrivateKey = ${!priv}
		Address = 198.18.0.$n/24, 2001:db8:77::$n/64

		[Peer]
		PublicKey = $kh_pub
		AllowedIPs = 198.18.0.0/24, 2001:db8:77::/64
		Endpoint = 192.0.2.1:51820
		PersistentKeepalive = 25
		EOF
done
# C has host addresses and only the hub's: it can reach the hub only through
# the routes sluice adds per AllowedIPs.
conf_write "$IC" >/dev/null <<-EOF
	[Interface]
	PrivateKey = $kc_priv
	Address = 198.18.0.4/32, 2001:db8:77::4/128

	[Peer]
	PublicKey = $kh_pub
	AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
	Endpoint = 192.0.2.1:51820
	EOF

section "hub and three peers up"
start_sluice "$H" "$CH"
start_sluice "$A" "$TMPD/$IA.conf"
start_sluice "$B" "$TMPD/$IB.conf"
start_sluice "$C" "$TMPD/$IC.conf"
check "C has a route to 198.18.0.1 on its tunnel (from AllowedIPs)" \
	sh -c "ip -n $C route get 198.18.0.1 | grep -q 'dev $IC'"
check "C has a route to 2001:db8:77::1 on its tunnel (from AllowedIPs)" \
	sh -c "ip -n $C -6 route get 2001:db8:77::1 | grep -q 'dev $IC'"

section "each peer pings the hub"
check "A -> hub, v4" ping_ok "$A" 198.18.0.1
check "A -> hub, v6" ping_ok "$A" 2001:db8:77::1
check "B -> hub, v4" ping_ok "$B" 198.18.0.1
check "B -> hub, v6" ping_ok "$B" 2001:db8:77::1
check "C -> hub, v4" ping_ok "$C" 198.18.0.1
check "C -> hub, v6" ping_ok "$C" 2001:db8:77::1

section "the hub pings each peer"
check "hub -> A, v4" ping_ok "$H" 198.18.0.2
check "hub -> A, v6" ping_ok "$H" 2001:db8:77::2
check "hub -> B, v4" ping_ok "$H" 198.18.0.3
check "hub -> B, v6" ping_ok "$H" 2001:db8:77::3
check "hub -> C, v4" ping_ok "$H" 198.18.0.4
check "hub -> C, v6" ping_ok "$H" 2001:db8:77::4
check "hub's show lists A with a handshake and traffic" peer_live "$H" "$IH" "$ka_pub" 192.0.2.2:
check "hub's show lists B with a handshake and traffic" peer_live "$H" "$IH" "$kb_pub" 192.0.2.3:
check "hub's show lists C with a handshake and traffic" peer_live "$H" "$IH" "$kc_pub" 192.0.2.4:

section "A -> B through the hub (routing by AllowedIPs)"
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=0
check "with forwarding off in the hub, A cannot reach B" ping_fails "$A" 198.18.0.3
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
# Same in and out interface: the hub would also send ICMP redirects; mute them.
ip netns exec "$H" sysctl -qw net.ipv4.conf.all.send_redirects=0
ip netns exec "$H" sysctl -qw "net.ipv4.conf.$IH.send_redirects=0"
check "with net.ipv4.ip_forward=1 in the hub, A -> B (198.18.0.3)" ping_ok "$A" 198.18.0.3
check "... and B -> A (198.18.0.2)" ping_ok "$B" 198.18.0.2

section "a source outside the peer's AllowedIPs is dropped by the hub"
ip -n "$A" addr add 198.18.9.1/32 dev "$IA"
# 198.18.0.1 is routed into the tunnel by the /24; pin it with the spoofed
# source as well, so the packet surely leaves A through the tunnel.
ip -n "$A" route add 198.18.0.1/32 dev "$IA" src 198.18.9.1
echos0=$(snmp_of "$H" Icmp InEchos)
rx0=$(stat_of "$H" "$IH" rx_packets)
tx0=$(stat_of "$A" "$IA" tx_packets)
check "ping -I 198.18.9.1 from A to the hub gets no reply" \
	ping_fails "$A" 198.18.0.1 -I 198.18.9.1
sleep 0.5
echos1=$(snmp_of "$H" Icmp InEchos)
rx1=$(stat_of "$H" "$IH" rx_packets)
tx1=$(stat_of "$A" "$IA" tx_packets)
check "the 3 spoofed pings left A through its tunnel (tx packets +$((tx1 - tx0)))" \
	test $((tx1 - tx0)) -ge 3
check "the hub's tunnel delivered none of them (rx packets +$((rx1 - rx0)))" \
	test $((rx1 - rx0)) -eq 0
check "the hub's stack saw no echo request (Icmp InEchos +$((echos1 - echos0)))" \
	test $((echos1 - echos0)) -eq 0
# Control: the same counters move for A's legitimate address.
ip -n "$A" route del 198.18.0.1/32 dev "$IA"
check "control: ping -I 198.18.0.2 from A to the hub is answered" \
	ping_ok "$A" 198.18.0.1 -I 198.18.0.2
echos2=$(snmp_of "$H" Icmp InEchos)
check "control: the hub counted those echo requests (Icmp InEchos +$((echos2 - echos1)))" \
	test $((echos2 - echos1)) -ge 4

finish
