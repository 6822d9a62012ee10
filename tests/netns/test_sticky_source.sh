#!/usr/bin/env bash
# Replies leave from the address the peer contacted (sticky source, as
# WireGuard keeps it): a server with 198.51.100.1 on lo and 192.0.2.1 on its
# link, reached at 198.51.100.1, answers from 198.51.100.1, so the client's
# endpoint stays there (it roams to wherever authenticated replies come
# from). When that address goes away, the server's packets leave from an
# address the kernel picks, the client roams there and the tunnel carries
# on. Over IPv6 the same.
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
addr "$S" us 2001:db8:1::1/64
addr "$C" uc 2001:db8:1::2/64
# The service addresses, on lo: reached through the link address.
ip -n "$S" addr add 198.51.100.1/32 dev lo
ip -n "$S" addr add 2001:db8:5::1/128 dev lo nodad
ip -n "$C" route add 198.51.100.1/32 via 192.0.2.1
ip -n "$C" -6 route add 2001:db8:5::1/128 via 2001:db8:1::1
keypair KS
keypair KC
ifname IS s
ifname IC c

CS=$(conf_write "$IS" <<EOF
[Interface]
PrivateKey = $KS_priv
ListenPort = 51820
Address = 198.18.0.1/24
[Peer]
PublicKey = $KC_pub
AllowedIPs = 198.18.0.2/32
PersistentKeepalive = 1
EOF
)
CC=$(conf_write "$IC" <<EOF
[Interface]
PrivateKey = $KC_priv
Address = 198.18.0.2/24
[Peer]
PublicKey = $KS_pub
AllowedIPs = 198.18.0.1/32
Endpoint = 198.51.100.1:51820
PersistentKeepalive = 1
EOF
)
start_sluice "$S" "$CS"
start_sluice "$C" "$CC"

# endpoint_is WANT: the client's endpoint for the server, as wg shows it.
endpoint_is() {
	local got
	got=$(ip netns exec "$C" wg show "$IC" endpoints | awk '{ print $2 }')
	[ "$got" = "$1" ] || { echo "endpoint $got, want $1"; return 1; }
}

section "IPv4: reached at 198.51.100.1, answering from it"
check "the tunnel works" ping_ok "$C" 198.18.0.1
sleep 1.5 # keepalives both ways
check "the client's endpoint is still 198.51.100.1:51820 (replies came from it)" endpoint_is 198.51.100.1:51820
check "the server saw the client at 192.0.2.2" \
	sh -c "ip netns exec $S wg show $IS endpoints | grep -q '192.0.2.2:'"

section "the sticky address goes away"
# The server's keepalives then leave from an address the kernel picks
# (192.0.2.1), and the client roams there: the tunnel carries on.
ip -n "$S" addr del 198.51.100.1/32 dev lo
if [ "$SLUICE_IMPL" = wggo ]; then
	info "skipped for wireguard-go 0.0.20220316: it keeps sending from the lost address"
else
	check "the client followed the server to 192.0.2.1:51820" wait_until 5 endpoint_is 192.0.2.1:51820
	check "the tunnel still works" ping_ok "$C" 198.18.0.1
fi

section "IPv6: reached at 2001:db8:5::1, answering from it"
ip netns exec "$C" wg set "$IC" peer "$KS_pub" endpoint "[2001:db8:5::1]:51820"
check "the tunnel works over IPv6" ping_ok "$C" 198.18.0.1
sleep 1.5
check "the client's endpoint is still [2001:db8:5::1]:51820" endpoint_is "[2001:db8:5::1]:51820"

finish
