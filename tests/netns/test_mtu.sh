#!/usr/bin/env bash
# Large MTUs, as WireGuard carries them: MTU = 9000 in the file, and 34736
# set with `ip link set` while the daemons run, over an underlay of 65535.
# At each, over UDP and over the TCP transport: a checksummed transfer
# (TSO super-packets split into segments of the large MTU) and pings of
# 8000 / 30000 bytes with DF set, which only pass whole if the tunnel
# carries packets of that size unfragmented. Lowering the MTU again at
# run time is followed too. Each change is taken from the kernel's link
# announcements (the link watch, RTNLGRP_LINK) as it happens: 1420 -> 1280
# -> 8000 is logged by both daemons within 2 s, shown by showconf, and
# carried; with the watch turned off the daemon polls the MTU instead.
# Prints each daemon's resident memory at 1420 and at 34736.
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

ns_new A a
ns_new B b
veth "$A" ua "$B" ub
ip -n "$A" link set ua mtu 65535
ip -n "$B" link set ub mtu 65535
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
keypair KA
keypair KB

# pair TRANSPORT MTU: configs for A and B; sets CA, CB, IA, IB.
N=0
pair() {
	local scheme="" listen="" mtu=""
	N=$((N + 1))
	[ "$1" = tcp ] && { scheme="tcp://"; listen="Transport = tcp"; }
	[ -n "$2" ] && mtu="MTU = $2"
	ifname IA "a$N"
	ifname IB "b$N"
	CA=$(conf_write "$IA" <<EOF2
[Interface]
PrivateKey = $KA_priv
ListenPort = 51820
Address = 198.18.0.1/24, 2001:db8:77::1/64
$mtu
$listen
[Peer]
PublicKey = $KB_pub
AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
EOF2
)
	CB=$(conf_write "$IB" <<EOF2
[Interface]
PrivateKey = $KB_priv
Address = 198.18.0.2/24, 2001:db8:77::2/64
$mtu
[Peer]
PublicKey = $KA_pub
AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
Endpoint = ${scheme}192.0.2.1:51820
EOF2
)
}

rss_of() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$(daemon_pid "$1")/status"; }
mtu_of() { ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
set_mtu() { ip -n "$A" link set "$IA" mtu "$1" && ip -n "$B" link set "$IB" mtu "$1"; }
# followed OLD NEW HOW: both daemons logged the change of MTU, noticed by HOW
# ("link watch" or "polled").
followed() {
	[ "$SLUICE_IMPL" = wggo ] && return 0 # wireguard-go logs no such line
	grep -qF "MTU of $IA changed $1 -> $2 ($3)" "$TMPD/$IA.log" &&
		grep -qF "MTU of $IB changed $1 -> $2 ($3)" "$TMPD/$IB.log"
}
# showconf_mtu N: `sluice showconf` of both daemons says MTU = N.
showconf_mtu() {
	[ "$SLUICE_IMPL" = wggo ] && return 0
	sluice_cli "$A" showconf "$IA" | grep -qx "MTU = $1" && sluice_cli "$B" showconf "$IB" | grep -qx "MTU = $1"
}
no_malformed() { ip netns exec "$A" "$SLUICE" show --json "$IA" | jq -e '.dropped.malformed == 0' >/dev/null; }

PORT=6000
run_case() {
	local transport=$1
	section "$transport: MTU = 9000 in the file, then 34736 and 1420 with ip link set"
	pair "$transport" 9000
	start_sluice "$A" "$CA"
	start_sluice "$B" "$CB"
	check "$transport: the interface has MTU 9000" test "$(mtu_of "$A" "$IA")" = 9000
	check "$transport: the tunnel comes up" ping_ok "$B" 198.18.0.1
	check "$transport, MTU 9000: ping -s 8000 with DF" ping_ok "$B" 198.18.0.1 -M do -s 8000
	PORT=$((PORT + 1)); check "$transport, MTU 9000: 30 MB B->A, TCP/IPv4, sha256 intact" transfer "$B" "$A" 198.18.0.1 30 $PORT
	PORT=$((PORT + 1)); check "$transport, MTU 9000: 20 MB A->B, TCP/IPv6, sha256 intact" transfer "$A" "$B" 2001:db8:77::2 20 $PORT

	set_mtu 34736
	check "$transport: both daemons follow MTU 34736 (link watch)" wait_until 2 followed 9000 34736 "link watch"
	check "$transport, MTU 34736 set at run time: ping -s 30000 with DF" ping_ok "$B" 198.18.0.1 -M do -s 30000
	check "$transport, MTU 34736: ping6 -s 30000 with DF" ping_ok "$A" 2001:db8:77::2 -M do -s 30000
	PORT=$((PORT + 1)); check "$transport, MTU 34736: 30 MB B->A, TCP/IPv4, sha256 intact" transfer "$B" "$A" 198.18.0.1 30 $PORT
	PORT=$((PORT + 1)); check "$transport, MTU 34736: 30 MB A->B, TCP/IPv4, sha256 intact" transfer "$A" "$B" 198.18.0.2 30 $PORT
	info "RSS at MTU 34736: A $(rss_of "$IA"), B $(rss_of "$IB")"
	check "$transport: nothing dropped as malformed on A" no_malformed

	set_mtu 1420
	check "$transport: both daemons follow MTU 1420 (link watch)" wait_until 2 followed 34736 1420 "link watch"
	check "$transport, back at MTU 1420: ping -s 1392 with DF" ping_ok "$B" 198.18.0.1 -M do -s 1392
	PORT=$((PORT + 1)); check "$transport, MTU 1420: 20 MB B->A, sha256 intact" transfer "$B" "$A" 198.18.0.1 20 $PORT
	stop_daemon "$IA" || true
	stop_daemon "$IB" || true
}

section "resident memory at MTU 1420 under load"
pair udp ""
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "the tunnel comes up at 1420" ping_ok "$B" 198.18.0.1
PORT=$((PORT + 1)); check "MTU 1420: 50 MB B->A, sha256 intact" transfer "$B" "$A" 198.18.0.1 50 $PORT
RA=$(awk '/^VmRSS/ { print $2 }' "/proc/$(daemon_pid "$IA")/status")
RB=$(awk '/^VmRSS/ { print $2 }' "/proc/$(daemon_pid "$IB")/status")
info "RSS at MTU 1420: A $RA kB, B $RB kB"
check "RSS at MTU 1420 under 16 MiB (A $RA kB, B $RB kB)" test "$RA" -lt 16384 -a "$RB" -lt 16384
stop_daemon "$IA" || true
stop_daemon "$IB" || true

section "MTU changes followed as they happen: 1420 -> 1280 -> 8000 (link watch)"
pair udp ""
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "the tunnel comes up at 1420" ping_ok "$B" 198.18.0.1
set_mtu 1280
check "1280: both daemons log the change from the link watch" wait_until 2 followed 1420 1280 "link watch"
check "1280: showconf says MTU = 1280" wait_until 2 showconf_mtu 1280
check "1280: ping -s 1252 with DF" ping_ok "$B" 198.18.0.1 -M do -s 1252
check "1280: ping6 -s 1232 with DF" ping_ok "$A" 2001:db8:77::2 -M do -s 1232
set_mtu 8000
check "8000: both daemons log the change from the link watch" wait_until 2 followed 1280 8000 "link watch"
check "8000: showconf says MTU = 8000" wait_until 2 showconf_mtu 8000
check "8000: ping -s 7972 with DF" ping_ok "$B" 198.18.0.1 -M do -s 7972
check "8000: ping6 -s 7952 with DF" ping_ok "$A" 2001:db8:77::2 -M do -s 7952
check_fails "no MTU was polled while the link watch ran" grep -q "(polled)" "$TMPD/$IA.log" "$TMPD/$IB.log"
stop_daemon "$IA" || true
stop_daemon "$IB" || true

if [ "$SLUICE_IMPL" != wggo ]; then
	section "without the link watch (SLUICE_NO_LINK_WATCH=1) the MTU is polled"
	pair udp ""
	SLUICE_WRAP=(env SLUICE_NO_LINK_WATCH=1)
	start_sluice "$A" "$CA"
	start_sluice "$B" "$CB"
	SLUICE_WRAP=()
	check "the daemon says it polls, and why" grep -q "SLUICE_NO_LINK_WATCH is set" "$TMPD/$IA.log"
	check "the tunnel comes up at 1420" ping_ok "$B" 198.18.0.1
	set_mtu 1280
	check "1280: both daemons follow by polling (within 3 s)" wait_until 3 followed 1420 1280 polled
	check "1280: ping -s 1252 with DF" ping_ok "$B" 198.18.0.1 -M do -s 1252
	stop_daemon "$IA" || true
	stop_daemon "$IB" || true
fi

run_case udp
run_case tcp

# The outer datagrams of a 9000 MTU are larger than this path's: UDP GSO
# refuses such segments, and they go one by one, fragmented by the kernel.
section "MTU 9000 over an underlay of 1500"
ip -n "$A" link set ua mtu 1500
ip -n "$B" link set ub mtu 1500
pair udp 9000
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "9000 over 1500: the tunnel comes up" ping_ok "$B" 198.18.0.1
check "9000 over 1500: ping -s 8000 with DF inside" ping_ok "$B" 198.18.0.1 -M do -s 8000
PORT=$((PORT + 1)); check "9000 over 1500: 20 MB B->A, sha256 intact" transfer "$B" "$A" 198.18.0.1 20 $PORT
PORT=$((PORT + 1)); check "9000 over 1500: 20 MB A->B, sha256 intact" transfer "$A" "$B" 198.18.0.2 20 $PORT
info "$(grep -h 'refused segments' "$TMPD/$IA.log" "$TMPD/$IB.log" | sed 's/^.*udp: //' | sort -u | paste -sd';')"
stop_daemon "$IA" || true
stop_daemon "$IB" || true

finish
