#!/usr/bin/env bash
# A full tunnel that cannot leak: AllowedIPs = 0.0.0.0/0, ::/0 on a client
# whose namespace has default routes of its own (through a router). sluice
# must set up the policy routing wg-quick does, over netlink:
#   - the /0 routes in a table of their own (51820, or FwMark's), rules
#     "not fwmark T lookup main suppress_prefixlength 0" and "not fwmark T
#     lookup T" in both families, the tunnel's sockets marked T;
#   - so any destination leaves by the tunnel (ip route get 203.0.113.9, a
#     lookup target only), and packets to "outside" addresses (198.51.100.77,
#     2001:db8:ff::77, served by the server) really do: the router counts
#     none of them, the server answers them through the tunnel;
#   - while the tunnel's own packets leave by the physical link, over UDP
#     and over TCP (the dialed connection carries the mark);
#   - `sluice down` and SIGTERM remove the rules (the routes go with the
#     interface); after SIGKILL the next `up` replaces the rules left
#     behind instead of doubling them;
#   - a prefix another route holds already gets a warning naming that route;
#     so does strict reverse-path filtering, which would drop the replies to
#     the tunnel's own packets (the test runs with loose filtering otherwise).
# Client C -- router R -- server S; R forwards, C and S route through it.
# keypair, ns_new and ifname set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154
# The helpers below run through `check`, which shellcheck does not follow.
# shellcheck disable=SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
# Not cannot_run: under CI=true that fails, and wireguard-go sets up no routes.
if [ "$SLUICE_IMPL" = wggo ]; then echo "skipped: wireguard-go sets up no routing (wg-quick does)"; exit 77; fi
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
test_init

HOST_SRC_VALID_MARK=$(cat /proc/sys/net/ipv4/conf/all/src_valid_mark)

section "underlay: client C -- router R -- server S"
ns_new C cli
ns_new R rtr
ns_new S srv
veth "$C" cr "$R" rc
veth "$R" rs "$S" sr
addr "$C" cr 192.0.2.2/26
addr "$C" cr 2001:db8:a::2/64
addr "$R" rc 192.0.2.1/26
addr "$R" rc 2001:db8:a::1/64
addr "$R" rs 192.0.2.65/26
addr "$R" rs 2001:db8:b::1/64
addr "$S" sr 192.0.2.66/26
addr "$S" sr 2001:db8:b::66/64
ip -n "$C" route add default via 192.0.2.1
ip -n "$C" -6 route add default via 2001:db8:a::1
ip -n "$S" route add default via 192.0.2.65
ip -n "$S" -6 route add default via 2001:db8:b::1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Loose reverse-path filtering on C, whatever the host's default: with
# strict filtering the replies to the tunnel's own packets need a firewall
# that marks them (wg-quick's nftables rules), which sluice does not add.
ip netns exec "$C" sysctl -qw net.ipv4.conf.all.rp_filter=2
# The "outside" addresses: S's own, so S answers what reaches it through
# the tunnel; R has no route to them, and counts every packet for them.
addr "$S" lo 198.51.100.77/32
addr "$S" lo 2001:db8:ff::77/128
ip netns exec "$R" nft -f - <<'EOF'
table inet leak {
	counter v4 {}
	counter v6 {}
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		ip daddr 198.51.100.0/24 counter name v4
		ip6 daddr 2001:db8:ff::/48 counter name v6
	}
}
EOF
# leaked FAMILY: packets for the outside addresses that reached R.
leaked() { ip netns exec "$R" nft list counter inet leak "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

check "C reaches S through R (v4)" wait_until 5 ip netns exec "$C" ping -n -c1 -W1 192.0.2.66
check "C reaches S through R (v6)" wait_until 5 ip netns exec "$C" ping -n -c1 -W1 2001:db8:b::66
check "without a tunnel, C's packets for 198.51.100.77 go to R (and no further)" \
	sh -c "! ip netns exec $C ping -n -c1 -W1 198.51.100.77 && [ \$(ip netns exec $R nft list counter inet leak v4 | sed -n 's/.*packets \([0-9]*\).*/\1/p') -ge 1 ]"

# Routes C has already for prefixes the tunnel will claim too.
ip -n "$C" route add 198.51.100.128/25 via 192.0.2.1
ip -n "$C" -6 route add 2001:db8:ff:1::/64 via 2001:db8:a::1
ip -n "$C" -6 route add 2001:db8:ff:2::/64 via 2001:db8:a::1 metric 100

keypair ks
keypair kc
ifname IS s
ifname IC c
CS=$(conf_write "$IS" <<EOF
[Interface]
PrivateKey = $ks_priv
ListenPort = 51820
Transport = udp,tcp
Address = 198.18.0.1/24, 2001:db8:77::1/64

[Peer]
PublicKey = $kc_pub
AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
EOF
)
# client_conf ENDPOINT [INTERFACE LINES]: C's file, a full tunnel to S.
# 198.18.0.0/24 is also the on-link route of C's Address: no warning.
client_conf() {
	conf_write "$IC" <<EOF
[Interface]
PrivateKey = $kc_priv
Address = 198.18.0.2/24, 2001:db8:77::2/64
${2:-}

[Peer]
PublicKey = $ks_pub
AllowedIPs = 0.0.0.0/0, ::/0, 198.18.0.0/24
AllowedIPs = 198.51.100.128/25, 2001:db8:ff:1::/64, 2001:db8:ff:2::/64
Endpoint = $1
EOF
}

# rules_count NS FAMILY TABLE MARK: how many of our two rules of that family
# are in place; both once each gives "1 1".
rules_count() {
	local out
	out=$(ip -n "$1" "$2" rule show)
	printf '%s %s\n' \
		"$(grep -cE "^32764:[[:space:]]+not from all fwmark $4 lookup main suppress_prefixlength 0" <<<"$out")" \
		"$(grep -cE "^32765:[[:space:]]+not from all fwmark $4 lookup $3\b" <<<"$out")"
}
# rules_are NS TABLE MARK WANT: both families show WANT ("1 1" or "0 0").
rules_are() {
	local v4 v6
	v4=$(rules_count "$1" -4 "$2" "$3")
	v6=$(rules_count "$1" -6 "$2" "$3")
	echo "IPv4: $v4, IPv6: $v6 (want $4 for both)"
	ip -n "$1" -4 rule show
	ip -n "$1" -6 rule show
	[ "$v4" = "$4" ] && [ "$v6" = "$4" ]
}
# no_rule_mentions NS MARK TABLE: no rule of either family names them.
no_rule_mentions() {
	! ip -n "$1" -4 rule show | grep -E "$2|lookup $3\b" && ! ip -n "$1" -6 rule show | grep -E "$2|lookup $3\b"
}
# table_routes NS TABLE: the routes of a table, both families ("" if none).
table_routes() { ip -n "$1" -4 route show table "$2" 2>/dev/null; ip -n "$1" -6 route show table "$2" 2>/dev/null; }
# table_defaults NS TABLE IFACE: the table has a /0 through IFACE in each family.
table_defaults() {
	local t
	t=$(table_routes "$1" "$2")
	echo "$t"
	grep -q "^default dev $3 .*scope link" <<<"$t" && grep -q "^default dev $3 .*metric 1024" <<<"$t"
}
table_empty() { local t; t=$(table_routes "$1" "$2"); echo "$t"; [ -z "$t" ]; }
# leaves_by NS DEV ADDR [ip route get ARGS]: the lookup's result names DEV.
leaves_by() {
	local ns=$1 dev=$2; shift 2
	local out
	out=$(ip -n "$ns" route get "$@") || return 1
	echo "$out"
	grep -qE "\bdev $dev\b" <<<"$out"
}
# no_leak FAMILY BEFORE: R's counter did not move.
no_leak() { local now; now=$(leaked "$1"); echo "R counted $2 before, $now now"; [ "$now" = "$2" ]; }
# full_tunnel_checks IFACE TABLE MARK: what must hold while C's tunnel is up.
full_tunnel_checks() {
	local ifc=$1 table=$2 mark=$3 l4 l6
	check "rules: not fwmark $mark lookup main suppress_prefixlength 0 (32764), not fwmark $mark lookup $table (32765), once each, v4 and v6" \
		rules_are "$C" "$table" "$mark" "1 1"
	check "table $table holds the two default routes through $ifc" table_defaults "$C" "$table" "$ifc"
	check "ip route get 203.0.113.9 (mark 0): dev $ifc" leaves_by "$C" "$ifc" 203.0.113.9
	check "ip route get 203.0.113.9 mark $mark: dev cr, the physical link" leaves_by "$C" cr 203.0.113.9 mark "$mark"
	check "ip -6 route get 2001:db8:ffff::9 (mark 0): dev $ifc" leaves_by "$C" "$ifc" 2001:db8:ffff::9
	check "ip -6 route get 2001:db8:ffff::9 mark $mark: dev cr" leaves_by "$C" cr 2001:db8:ffff::9 mark "$mark"
	check "the way to S's underlay address is the tunnel for unmarked packets too (only the mark keeps the tunnel's own out)" \
		leaves_by "$C" "$ifc" 192.0.2.66
	check "sluice show: fwmark $mark" sh -c "$SLUICE_CMD show $ifc | grep -qx '  fwmark: $mark'"
	check "net.ipv4.conf.all.src_valid_mark = 1 in C" \
		test "$(ip netns exec "$C" cat /proc/sys/net/ipv4/conf/all/src_valid_mark)" = 1
	check "... and still $HOST_SRC_VALID_MARK outside the test's namespaces" \
		test "$(cat /proc/sys/net/ipv4/conf/all/src_valid_mark)" = "$HOST_SRC_VALID_MARK"
	check "C -> S over the tunnel (198.18.0.1)" ping_ok "$C" 198.18.0.1
	check "C -> S over the tunnel (2001:db8:77::1)" ping_ok "$C" 2001:db8:77::1
	l4=$(leaked v4)
	l6=$(leaked v6)
	check "C -> 198.51.100.77 answered, through the tunnel" ping_ok "$C" 198.51.100.77
	check "C -> 2001:db8:ff::77 answered, through the tunnel" ping_ok "$C" 2001:db8:ff::77
	check "R saw none of them (IPv4)" no_leak v4 "$l4"
	check "R saw none of them (IPv6)" no_leak v6 "$l6"
}

SLUICE_CMD="ip netns exec $C $SLUICE"

section "over UDP: Endpoint = 192.0.2.66:51820, FwMark unset (table 51820)"
start_sluice "$S" "$CS"
CC=$(client_conf 192.0.2.66:51820)
start_sluice "$C" "$CC"
full_tunnel_checks "$IC" 51820 0xca6c
check "S sees C at 192.0.2.2, its physical address: the tunnel's UDP left by cr" \
	peer_live "$S" "$IS" "$kc_pub" 192.0.2.2:
check "C's log: 198.51.100.128/25 is held by C's route through R" \
	grep -F "route 198.51.100.128/25 already exists (via 192.0.2.1 dev cr): traffic to it will not enter the tunnel" "$TMPD/$IC.log"
check "... and it is so: ip route get 198.51.100.130 says dev cr" leaves_by "$C" cr 198.51.100.130
check "C's log: 2001:db8:ff:1::/64 is held by C's route through R" \
	grep -F "route 2001:db8:ff:1::/64 already exists (via 2001:db8:a::1 dev cr metric 1024): traffic to it will not enter the tunnel" "$TMPD/$IC.log"
check "C's log: 2001:db8:ff:2::/64 loses to C's metric-100 route through R" \
	grep -F "route 2001:db8:ff:2::/64 is taken by a route with a lower metric (via 2001:db8:a::1 dev cr metric 100)" "$TMPD/$IC.log"
check "C's log: no warning for 198.18.0.0/24, the on-link route of C's own Address" \
	sh -c "! grep -F 198.18.0.0/24 $TMPD/$IC.log"
check "C's log says it is a full tunnel" grep -F "full tunnel: the IPv4 and IPv6 default routes in table 51820" "$TMPD/$IC.log"
check "C's log: no word of reverse-path filtering (it is loose here)" sh -c "! grep -F reverse-path $TMPD/$IC.log"

section "sluice down: rules gone, table empty, traffic back on the physical link"
check "sluice down $IC" sluice_cli "$C" down "$IC"
check "no rule names 0xca6c or table 51820" no_rule_mentions "$C" 0xca6c 51820
check "table 51820 is empty" table_empty "$C" 51820
check "ip route get 203.0.113.9: dev cr again" leaves_by "$C" cr 203.0.113.9
check "ip -6 route get 2001:db8:ffff::9: dev cr again" leaves_by "$C" cr 2001:db8:ffff::9

section "SIGKILL, then up again: the rules left behind are replaced, not doubled"
start_sluice "$C" "$CC"
KILLED=$LAST_PID
check "rules in place" rules_are "$C" 51820 0xca6c "1 1"
kill -KILL "$KILLED"
wait "$KILLED" 2>/dev/null || true
check "the interface went with the daemon" wait_until 5 sh -c "! ip -n $C link show $IC"
check "its rules are left behind (nothing could remove them)" rules_are "$C" 51820 0xca6c "1 1"
check "its routes went with the interface" table_empty "$C" 51820
start_sluice "$C" "$CC"
check "C's log: the rules left behind were removed" \
	grep -F "removed 4 rules for table 51820 left behind by an earlier run" "$TMPD/$IC.log"
full_tunnel_checks "$IC" 51820 0xca6c
check "SIGTERM: the daemon exits" stop_pid "$LAST_PID"
check "no rule names 0xca6c or table 51820 (removed under the sandbox)" no_rule_mentions "$C" 0xca6c 51820
check "table 51820 is empty" table_empty "$C" 51820

section "over TCP and an IPv6 underlay: Endpoint = tcp://[2001:db8:b::66]:51820, FwMark = 0x1234 (table 4660)"
CC=$(client_conf "tcp://[2001:db8:b::66]:51820" "FwMark = 0x1234")
start_sluice "$C" "$CC"
full_tunnel_checks "$IC" 4660 0x1234
check "C's TCP connection to S leaves from its physical address, carrying fwmark 0x1234" \
	sh -c "ip netns exec $C ss -Htne state established 'dst [2001:db8:b::66]:51820' | tee /dev/stderr |
	       grep -F '[2001:db8:a::2]' | grep -q 'fwmark:0x1234'"
check "sluice down $IC" sluice_cli "$C" down "$IC"
check "no rule names 0x1234 or table 4660" no_rule_mentions "$C" 0x1234 4660
check "table 4660 is empty" table_empty "$C" 4660

section "strict reverse-path filtering, which drops the replies to the tunnel's own packets, is warned about"
ip netns exec "$C" sysctl -qw net.ipv4.conf.all.rp_filter=1
CC=$(client_conf 192.0.2.66:51820)
start_sluice "$C" "$CC"
check "C's log: strict filtering on cr will drop the replies from 192.0.2.66" \
	grep -F "strict reverse-path filtering on cr (net.ipv4.conf.all.rp_filter = 1) will drop the replies from peer 192.0.2.66: set it to 2 (loose)" "$TMPD/$IC.log"
check "sluice down $IC" sluice_cli "$C" down "$IC"
ip netns exec "$C" sysctl -qw net.ipv4.conf.all.rp_filter=2

finish
