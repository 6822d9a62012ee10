#!/usr/bin/env bash
# `sudo make demo`: two network namespaces joined by a virtual cable. First the
# system sluice grew from, a server and a client over TCP with AES-256-GCM
# (set up with `sluice quickstart --tcp --cipher aes-256-gcm`), then the same
# pair over UDP with WireGuard's own suite; pings both ways each time, and a
# table of transport, cipher, handshake time and ping RTT at the end.
# Everything is torn down again, also on Ctrl-C; nothing is changed outside
# the two namespaces.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "The demo makes network namespaces and TUN devices, which needs root:" >&2
	echo "    sudo make demo" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
sluice_bin=${SLUICE:-$here/../build/sluice}
if [ ! -x "$sluice_bin" ]; then
	echo "No sluice binary at $sluice_bin: build it with 'make' first (or run 'sudo make demo')." >&2
	exit 1
fi
if [ "${SLUICE_IMPL:-sluice}" != sluice ]; then
	echo "The demo shows sluice's own TCP transport and AES-256-GCM suite: SLUICE_IMPL=$SLUICE_IMPL cannot play it." >&2
	exit 1
fi
for t in ip ping ss nc nft; do
	command -v $t >/dev/null || { echo "'$t' is missing: run scripts/deps.sh" >&2; exit 1; }
done
[ -c /dev/net/tun ] || { echo "/dev/net/tun is missing: sluice needs the TUN driver" >&2; exit 1; }
# shellcheck source=tests/netns/lib.sh
source "$here/../tests/netns/lib.sh"
SLUICE=$sluice_bin
# lib.sh's cleanup uses TMPD.
# shellcheck disable=SC2034
TMPD=$(mktemp -d "/tmp/sluice-demo.XXXXXX")
trap _on_exit EXIT
trap 'echo; echo "Interrupted."; exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' plain=$'\033[0m'; else bold='' red='' plain=''; fi
step() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
loud() { printf '%s   !! %s%s\n' "$red" "$*" "$plain"; }

PORT=55555
failed=0
results=() # "transport cipher handshake rtt", one per pair

step "[1/4] Two namespaces joined by a veth (the 'underlay')"
ns_new SRV server
ns_new CLI client
veth "$SRV" eth0 "$CLI" eth0
addr "$SRV" eth0 192.0.2.1/24
addr "$CLI" eth0 192.0.2.2/24
info "$SRV  eth0 192.0.2.1  <--veth-->  192.0.2.2 eth0  $CLI"

# handshake_ns IFACE: the peer's latest handshake, in ns since the epoch, from
# the control socket (WireGuard's UAPI); empty while there is none.
handshake_ns() {
	local out s ns
	out=$(printf 'get=1\n\n' | timeout 5 nc -NU "$WG_RUN/$1.sock" 2>/dev/null) || return 0
	s=$(sed -n 's/^last_handshake_time_sec=//p' <<<"$out" | head -n1)
	ns=$(sed -n 's/^last_handshake_time_nsec=//p' <<<"$out" | head -n1)
	[ -n "$s" ] && [ "$s" != 0 ] && printf '%d\n' $((s * 1000000000 + ns))
	return 0
}
has_handshake() { [ -n "$(handshake_ns "$1")" ]; }

demo_ping() { # NS FROM-NAME TO-NAME ADDR
	local summary
	wait_until 10 ip netns exec "$1" ping -n -c 1 -W 1 "$4" || true
	if summary=$(ip netns exec "$1" ping -n -q -c 3 -i 0.2 -W 2 "$4"); then
		printf '   %-6s -> %-6s %-12s ok, %s received, rtt avg %s ms\n' "$2" "$3" "$4" \
			"$(sed -n 's/.* \([0-9]*\) received.*/\1\/3/p' <<<"$summary")" \
			"$(sed -n 's|^rtt [^=]*= [^/]*/\([^/]*\)/.*|\1|p' <<<"$summary")"
	else
		printf '   %-6s -> %-6s %-12s FAILED\n' "$2" "$3" "$4"
		return 1
	fi
}

# show_conf FILE: the file with its keys' values hidden.
show_conf() {
	sed -E 's/^((Private|Preshared)Key = ).*/\1(secret)/; s/^/      | /' "$1"
}

# pair TAG TRANSPORT CIPHER QUICKSTART-ARGS...: quickstart into TMPD/TAG, a
# server and client1 up, pings both ways, measurements into results.
pair() {
	local tag=$1 transport=$2 cipher=$3 dir is ic t0 hs hs_ms rtt conns ok=1; shift 3
	dir="$TMPD/$tag"
	info "\$ sluice quickstart $* $dir"
	"$SLUICE" quickstart "$@" "$dir" | sed 's/^/      /'
	info "server.conf:"
	show_conf "$dir/server.conf"
	info "client1.conf:"
	show_conf "$dir/client1.conf"

	# The interface is named after the file: copies under names unique to
	# this run, so nothing clashes with the machine's own interfaces.
	ifname is "s$tag"
	ifname ic "c$tag"
	cp --preserve=mode "$dir/server.conf" "$TMPD/$is.conf"
	cp --preserve=mode "$dir/client1.conf" "$TMPD/$ic.conf"
	info "\$ sluice up server.conf   (in $SRV, as interface $is)"
	sluice_cli "$SRV" up "$TMPD/$is.conf"
	if [ "$transport" = tcp ] && [ -z "$(ip netns exec "$SRV" ss -Htln "sport = :$PORT")" ]; then
		loud "the server does not listen on TCP port $PORT: this sluice build ignores 'Transport = tcp'"
		loud "(the TCP transport is not there yet: src/tcp.c, src/device.c)"
		ok=0
	fi
	info "\$ sluice up client1.conf  (in $CLI, as interface $ic)"
	t0=$(date +%s%N)
	sluice_cli "$CLI" up "$TMPD/$ic.conf"
	if ! wait_until 10 has_handshake "$ic"; then
		loud "no handshake between client and server within 10 s"
		ok=0
	fi
	hs=$(handshake_ns "$ic")
	hs_ms=-
	[ -n "$hs" ] && hs_ms=$(awk -v d=$((hs - t0)) 'BEGIN { printf "%.1f ms", d / 1e6 }')

	step "   Pings through the tunnel ($transport, $cipher)"
	demo_ping "$CLI" client server 198.18.0.1 || ok=0
	demo_ping "$SRV" server client 198.18.0.2 || ok=0
	if [ "$transport" = tcp ]; then
		conns=$(ip netns exec "$SRV" ss -Htn state established "sport = :$PORT")
		if [ -n "$conns" ]; then
			info "the server holds the client's TCP connection:"
			printf '      %s\n' "${conns//$'\n'/$'\n'      }"
		else
			loud "no TCP connection on port $PORT: whatever carried these packets, it was not TCP"
			ok=0
		fi
		# UDP on the underlay is dropped, so an answer can only have come over TCP.
		info "UDP packets dropped on the server's underlay meanwhile:" \
			"$(ip netns exec "$SRV" nft list chain inet demo input | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')"
	fi
	rtt=$(ip netns exec "$CLI" ping -n -q -c 10 -i 0.2 -W 2 198.18.0.1 |
		sed -n 's|^rtt [^=]*= [^/]*/\([^/]*\)/.*|\1 ms|p')
	[ -n "$rtt" ] || { rtt=-; ok=0; }

	info "\$ sluice show   (on each side)"
	sluice_cli "$SRV" show "$is" | sed 's/^/      | /'
	echo
	sluice_cli "$CLI" show "$ic" | sed 's/^/      | /'
	sluice_cli "$CLI" down "$ic" || true
	sluice_cli "$SRV" down "$is" || true

	if [ $ok = 1 ]; then
		results+=("$transport|$cipher|$hs_ms|$rtt|ok")
	else
		results+=("$transport|$cipher|$hs_ms|$rtt|FAILED")
		failed=1
	fi
}

step "[2/4] The original system: a server and a client over TCP, AES-256-GCM"
info "As the VPN sluice grew from (TCP port $PORT, AES-GCM), but with a key pair per host,"
info "a preshared key, and the WireGuard handshake. UDP is dropped on the server's"
info "underlay while this pair runs, so only TCP can carry it."
ip netns exec "$SRV" nft -f - <<-'EOF'
	table inet demo {
		chain input {
			type filter hook input priority 0; policy accept;
			iifname "eth0" meta l4proto udp counter drop
		}
	}
	EOF
pair tcp tcp aes-256-gcm --endpoint 192.0.2.1 --tcp --cipher aes-256-gcm --subnet 198.18.0.0/24
ip netns exec "$SRV" nft delete table inet demo

step "[3/4] The same pair over UDP, with WireGuard's suite (ChaCha20-Poly1305)"
pair udp udp chacha20-poly1305 --endpoint 192.0.2.1 --subnet 198.18.0.0/24

step "[4/4] Side by side"
printf '   %-10s %-18s %-11s %-11s %s\n' transport cipher "handshake*" "ping RTT**" ""
for r in "${results[@]}"; do
	IFS='|' read -r tr ci hs rt st <<<"$r"
	printf '   %-10s %-18s %-11s %-11s %s\n' "$tr" "$ci" "$hs" "$rt" "$st"
done
info "*  from starting the client (sluice up) to its first completed handshake"
info "** average of 10 pings, client -> server through the tunnel (namespaces on one host)"

step "Tearing down"
cleanup 0
info "namespaces, interfaces and daemons removed"
if [ $failed -ne 0 ]; then
	echo "${red}The demo FAILED in part: see the lines marked !! and FAILED above.${plain}" >&2
	exit 1
fi
printf '\nDone: the same two hosts, over TCP with AES-256-GCM and over UDP with ChaCha20-Poly1305.\n'
