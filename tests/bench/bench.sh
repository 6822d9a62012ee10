#!/usr/bin/env bash
# make bench: TCP throughput through a tunnel between two namespaces, with
# iperf3, for sluice and for Debian's wireguard-go configured the same way.
# Bounded: BENCH_SECONDS per run (default 5), one stream and four streams.
# Prints a table; asserts nothing (performance goals live here, not in tests).
source "$(dirname "$0")/../netns/lib.sh"
require_root
command -v iperf3 >/dev/null || cannot_run "iperf3 not installed (run scripts/deps.sh)"
test_init
SECS=${BENCH_SECONDS:-5}
results=()

run_pair() { # NAME IMPL TRANSPORT CIPHER
	local name=$1 impl=$2 transport=$3 cipher=$4 na nb ia ib ca cb n=$((${#results[@]} + 1))
	local scheme="" listen="" suite=""
	[ "$transport" = tcp ] && { scheme="tcp://"; listen="Transport = tcp"; }
	[ "$cipher" = aes-256-gcm ] && suite="Cipher = aes-256-gcm"
	ns_new na "b${n}a"; ns_new nb "b${n}b"
	veth "$na" ua "$nb" ub
	addr "$na" ua 192.0.2.1/24; addr "$nb" ub 192.0.2.2/24
	ifname ia "${n}a"; ifname ib "${n}b"
	keypair ka; keypair kb
	ca=$(conf_write "$ia" <<-EOC
	[Interface]
	PrivateKey = $ka_priv
	ListenPort = 51820
	Address = 198.18.0.1/24
	[Peer]
	PublicKey = $kb_pub
	AllowedIPs = 198.18.0.2/32
	Endpoint = ${scheme}192.0.2.2:51820
	$suite
	EOC
	)
	cb=$(conf_write "$ib" <<-EOC
	[Interface]
	PrivateKey = $kb_priv
	ListenPort = 51820
	Address = 198.18.0.2/24
	$listen
	[Peer]
	PublicKey = $ka_pub
	AllowedIPs = 198.18.0.1/32
	$suite
	EOC
	)
	if [ "$impl" = sluice ]; then
		start_sluice "$na" "$ca"; start_sluice "$nb" "$cb"
	else
		start_wggo "$na" "$ca"; start_wggo "$nb" "$cb"
	fi
	ip netns exec "$na" ping -c 2 -W 2 198.18.0.2 >/dev/null
	ip netns exec "$nb" timeout $((SECS * 3 + 20)) iperf3 -s -1 -B 198.18.0.2 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_until 5 _listening "$nb" 5201
	local one four
	one=$(ip netns exec "$na" timeout $((SECS + 15)) iperf3 -c 198.18.0.2 -t "$SECS" -f g | gbits)
	ip netns exec "$nb" timeout $((SECS * 3 + 20)) iperf3 -s -1 -B 198.18.0.2 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_until 5 _listening "$nb" 5201
	four=$(ip netns exec "$na" timeout $((SECS + 15)) iperf3 -c 198.18.0.2 -t "$SECS" -P 4 -f g | gbits)
	results+=("$(printf '%-14s %-10s %-18s %9s %9s' "$name" "$transport" "$cipher" "$one" "$four")")
	stop_pair "$na" "$nb"
}

# The receiver's total of `iperf3 -f g` output (the [SUM] line with -P).
gbits() { awk '/receiver/ { v = $(NF - 2) } END { print (v == "" ? "?" : v) }'; }

# Frees the pair's namespaces (and so its daemons) before the next run.
stop_pair() {
	local ns p
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	done
	sleep 0.5
}

section "sluice, UDP, ChaCha20-Poly1305 (WireGuard's suite)"
run_pair sluice sluice udp chacha20-poly1305
section "sluice, UDP, AES-256-GCM"
run_pair sluice sluice udp aes-256-gcm
section "sluice, TCP, ChaCha20-Poly1305"
run_pair sluice sluice tcp chacha20-poly1305
section "wireguard-go (Debian), UDP"
run_pair wireguard-go wggo udp chacha20-poly1305

section "TCP throughput through the tunnel, Gbit/s ($SECS s each, $(nproc) cores)"
printf '%-14s %-10s %-18s %9s %9s\n' implementation transport cipher "1 stream" "4 streams"
printf '%s\n' "${results[@]}"
