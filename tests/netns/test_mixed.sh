#!/usr/bin/env bash
# One sluice server, three peers at once, each a different kind:
#   W: wireguard-go (Debian's), over UDP, WireGuard's suite;
#   T: sluice over TCP with AES-256-GCM;
#   U: sluice over UDP with ChaCha20-Poly1305.
# The server listens on UDP and TCP on one port. Every peer reaches the
# server and back, v4 and v6, with a checksummed transfer; `sluice show
# --json` on the server reports each peer's transport and cipher.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
command -v jq >/dev/null || cannot_run "'jq' not installed (run scripts/deps.sh)"
[ "$SLUICE_IMPL" = wggo ] && cannot_run "mixes transports and suites only sluice has"
test_init

section "underlay: a bridge in the server's namespace, three peers on it"
ns_new S srv
ns_new W w
ns_new T t
ns_new U u
ip -n "$S" link add br0 type bridge
ip -n "$S" link set br0 up
addr "$S" br0 192.0.2.1/24
addr "$S" br0 2001:db8:1::1/64
n=2
for p in W T U; do
	veth "$S" "port$p" "${!p}" eth0
	ip -n "$S" link set "port$p" master br0
	addr "${!p}" eth0 "192.0.2.$n/24"
	addr "${!p}" eth0 "2001:db8:1::$n/64"
	n=$((n + 1))
done
check "underlay works" sh -c "for i in 2 3 4; do ip netns exec $S ping -n -c1 -W2 192.0.2.\$i || exit 1; done"

keypair ks
keypair kw
keypair kt
keypair ku
ifname IS s
ifname IW w
ifname IT t
ifname IU u

CS=$(conf_write "$IS" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	ListenPort = 51820
	Transport = udp,tcp
	Address = 198.18.0.1/24, 2001:db8:77::1/64

	[Peer]
	# W: wireguard-go, UDP
	PublicKey = $kw_pub
	AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128

	[Peer]
	# T: sluice, TCP, AES-256-GCM
	PublicKey = $kt_pub
	AllowedIPs = 198.18.0.3/32, 2001:db8:77::3/128
	Cipher = aes-256-gcm

	[Peer]
	# U: sluice, UDP, ChaCha20-Poly1305
	PublicKey = $ku_pub
	AllowedIPs = 198.18.0.4/32, 2001:db8:77::4/128
	EOF
)
client() { # IFACE N PRIV SCHEME [EXTRA LINE]
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $3
		Address = 198.18.0.$2/24, 2001:db8:77::$2/64

		[Peer]
		PublicKey = $ks_pub
		AllowedIPs = 198.18.0.0/24, 2001:db8:77::/64
		Endpoint = ${4}192.0.2.1:51820
		PersistentKeepalive = 25
		${5:-}
		EOF
}
CW=$(client "$IW" 2 "$kw_priv" "")
CT=$(client "$IT" 3 "$kt_priv" "tcp://" "Cipher = aes-256-gcm")
CU=$(client "$IU" 4 "$ku_priv" "")

start_sluice "$S" "$CS"
start_wggo "$W" "$CW"
start_sluice "$T" "$CT"
start_sluice "$U" "$CU"

for p in W:2 T:3 U:4; do
	ns=${p%%:*} n=${p##*:}
	section "peer $ns ($(case $ns in W) echo 'wireguard-go, UDP' ;; T) echo 'sluice, TCP, AES-256-GCM' ;; U) echo 'sluice, UDP, ChaCha20-Poly1305' ;; esac))"
	check "$ns -> server, v4" ping_ok "${!ns}" 198.18.0.1
	check "$ns -> server, v6" ping_ok "${!ns}" 2001:db8:77::1
	check "server -> $ns, v4" ping_ok "$S" "198.18.0.$n"
	check "server -> $ns, v6" ping_ok "$S" "2001:db8:77::$n"
	check "5 MB $ns -> server, sha256 matches" transfer "${!ns}" "$S" 198.18.0.1 5 $((5100 + n))
done

section "all three at once"
check "the three peers ping the server at the same time" sh -c \
	"ip netns exec $W ping -n -q -c 5 -i 0.2 198.18.0.1 & a=\$!;
	 ip netns exec $T ping -n -q -c 5 -i 0.2 198.18.0.1 & b=\$!;
	 ip netns exec $U ping -n -q -c 5 -i 0.2 198.18.0.1 & c=\$!;
	 wait \$a && wait \$b && wait \$c"
json=$(sluice_cli "$S" show --json "$IS")
peer_is() { # PUB TRANSPORT CIPHER
	printf '%s' "$json" | jq -e --arg k "$1" --arg t "$2" --arg c "$3" \
		'.peers[] | select(.public_key == $k) | .transport == $t and .cipher == $c and .latest_handshake > 0' >/dev/null
}
check "server's show --json: W over udp with chacha20-poly1305" peer_is "$kw_pub" udp chacha20-poly1305
check "server's show --json: T over tcp with aes-256-gcm" peer_is "$kt_pub" tcp aes-256-gcm
check "server's show --json: U over udp with chacha20-poly1305" peer_is "$ku_pub" udp chacha20-poly1305
check "T's traffic really is on TCP (an established connection to port 51820)" \
	sh -c "ip netns exec $T ss -Htn state established 'dport = :51820' | grep -q ."

finish
