#!/usr/bin/env bash
# make bench: TCP throughput, latency and cost of sluice next to plain veth,
# wireguard-go (Debian's and, when there, the modern one) and OpenVPN 2.6,
# each between two network namespaces joined by a veth pair, in one run.
#
# Per row, always in this order: ping idle (10 x 0.1 s); BENCH_REPEAT times
# (default 3), alternating, one TCP stream A->B (iperf3 -c) for BENCH_SECONDS
# (default 5), the CPU time of both daemons (/proc/PID/stat utime + stime)
# read before and after it and ping running through the tunnel during the
# first, and four streams A->B (-P 4); one stream B->A (iperf3 -R); then the
# daemons' peak RSS (VmHWM). Prints a markdown table on stdout and
# writes bench/results.json and bench/results.png (gnuplot). Asserts nothing;
# a row that cannot run is reported as such and the run goes on.
#
# Environment: BENCH_SECONDS=N; WIREGUARD_GO=PATH a modern wireguard-go
# (default: ../shared/anchors/wireguard-go-0.0.20250522 next to the repo, or
# next to the main checkout when this is a git worktree);
# BENCH_OUT=DIR instead of bench/; BENCH_ROWS="veth sluice ceiling wggo ovpn"
# to run only some kinds of rows (ceiling: build/tools/fwdbare, sluice's data
# path with no engine, see row_bare); BENCH_SLUICE="udp-chacha udp-aes tcp-chacha
# tcp-aes" to run only some of sluice's rows; BENCH_SLUICE_ALT="NAME=PATH..."
# runs each of sluice's rows again right after it with each of these
# binaries, so that two builds compare side by side in one run (the machine
# varies between runs); BENCH_PROFILE=1: after a sluice or ceiling row's runs, one more
# A->B run under `perf record -g` of both daemons and one under `strace -c`,
# reports in OUT/profile-N.txt (not counted in the table; BENCH_PERF_ARGS
# replaces perf record's -g, e.g. "--call-graph dwarf -F 999");
# BENCH_REPEAT=N (3): N runs of one stream A->B and N of four streams,
# alternating, each row reporting the medians (and every run in
# results.json), for ratios steadier than one run of each gives;
# BENCH_MAX_SECONDS (600 x BENCH_REPEAT): no row starts after that.
# keypair and ns_new set variables by name (ka_pub, na...); shellcheck can't see it.
# shellcheck disable=SC2154,SC2031 # (TMPD is set per case in run_row's subshell, on purpose)
set -euo pipefail
# shellcheck source=tests/bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init

say() { info "$@" >&2; }
ROWS=${BENCH_ROWS:-veth sluice ceiling wggo ovpn}
want() { [[ " ${ROWS//,/ } " == *" $1 "* ]]; }
MODERN_WGGO=$(modern_wggo)
UNDER_A=192.0.2.1 UNDER_B=192.0.2.2
TUN_A=198.18.0.1 TUN_B=198.18.0.2

# --- the measurement every row makes ------------------------------------------

# iperf_run NS DST PORT OUT ARGS...: one iperf3 client run, JSON to OUT.
iperf_run() {
	local ns=$1 dst=$2 port=$3 out=$4; shift 4
	ip netns exec "$ns" timeout -k 5 $((SECS + 20)) \
		iperf3 -c "$dst" -p "$port" -t "$SECS" --connect-timeout 5000 -J "$@" >"$out" 2>&1 || true
}
# gbps FILE: received Gbit/s of an iperf3 -J run ("" if it failed).
gbps() { jq -r '(.end.sum_received.bits_per_second // empty) / 1e9 | . * 1000 | round / 1000' "$1" 2>/dev/null || true; }
rx_bytes() { jq -r '.end.sum_received.bytes // empty' "$1" 2>/dev/null || true; }
iperf_error() { jq -r '.error // empty' "$1" 2>/dev/null || tail -n 1 "$1"; }

# measure NAME NS_A NS_B DST [KEY=VALUE...] -- [DAEMON_PID_A DAEMON_PID_B]:
# the row's numbers, written as its JSON.
measure() {
	local name=$1 na=$2 nb=$3 dst=$4; shift 4
	local extra=() pids=() p port
	while [ $# -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	pids=("$@")
	# One one-off server per run, on its own port: no "server busy" between
	# runs. Ports: A->B runs 5201.., four-stream runs after them, B->A last.
	local ports=() r
	for ((r = 0; r < 2 * REPEAT + 1; r++)); do ports+=($((5201 + r))); done
	for port in "${ports[@]}"; do
		# Long enough for every client run before its own to take its
		# whole timeout (SECS + 20, and 5 to be killed).
		ip netns exec "$nb" timeout -k 5 $(((2 * REPEAT + 1) * (SECS + 25) + 30)) \
			iperf3 -s -1 -B "$dst" -p "$port" >"$TMPD/iperf-s.$port.log" 2>&1 &
		PIDS+=($!)
	done
	for port in "${ports[@]}"; do
		wait_until 5 _listening "$nb" "$port" || { echo "iperf3 -s did not listen on $port"; return 1; }
	done

	ip netns exec "$na" timeout -k 2 10 ping -n -q -c 10 -i 0.1 -W 1 "$dst" >"$TMPD/ping-idle" 2>&1 || true
	# BENCH_REPEAT=N: N runs of one stream A->B and N of four, alternating,
	# the medians reported; CPU per GB over all the one-stream runs.
	local c0 c1 u0 u1 ticks=0 uticks=0 bytes=0 b ab_runs=() p4_runs=() failed_ab=() failed_p4=()
	for ((r = 0; r < REPEAT; r++)); do
		[ ${#pids[@]} -gt 0 ] && { c0=$(cpu_ticks "${pids[@]}"); u0=$(CPU_USER_ONLY=1 cpu_ticks "${pids[@]}"); }
		local ping_pid=""
		if [ "$r" = 0 ]; then
			ip netns exec "$na" timeout -k 2 $((SECS + 5)) ping -n -q -i 0.2 -w "$SECS" -W 1 "$dst" \
				>"$TMPD/ping-load" 2>&1 &
			ping_pid=$!
			PIDS+=("$ping_pid")
		fi
		iperf_run "$na" "$dst" "${ports[r]}" "$TMPD/ab.$r.json"
		[ ${#pids[@]} -gt 0 ] && { c1=$(cpu_ticks "${pids[@]}"); u1=$(CPU_USER_ONLY=1 cpu_ticks "${pids[@]}"); }
		[ -n "$ping_pid" ] && { wait "$ping_pid" || true; }
		b=$(rx_bytes "$TMPD/ab.$r.json")
		if [ -n "$b" ] && [ -n "$(gbps "$TMPD/ab.$r.json")" ]; then
			bytes=$((bytes + b))
			[ ${#pids[@]} -gt 0 ] && { ticks=$((ticks + c1 - c0)); uticks=$((uticks + u1 - u0)); }
			ab_runs+=("$(gbps "$TMPD/ab.$r.json")")
		else
			failed_ab+=("$r")
		fi
		iperf_run "$na" "$dst" "${ports[REPEAT + r]}" "$TMPD/p4.$r.json" -P 4
		b=$(gbps "$TMPD/p4.$r.json")
		if [ -n "$b" ]; then p4_runs+=("$b"); else failed_p4+=("$r"); fi
	done
	iperf_run "$na" "$dst" "${ports[2 * REPEAT]}" "$TMPD/ba.json" -R

	local ab ba p4 bytes cpu_s="" cpu_gb="" user_pct="" hwm_a="" hwm_b="" status=ok note=""
	ab=$(median "${ab_runs[@]}"); ba=$(gbps "$TMPD/ba.json"); p4=$(median "${p4_runs[@]}")
	[ "$bytes" = 0 ] && bytes=""
	if [ ${#pids[@]} -gt 0 ]; then
		cpu_s=$(awk -v t="$ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
		# The daemons' user-space share of it (the rest: the kernel, in their system calls).
		[ "$ticks" -gt 0 ] && user_pct=$((uticks * 100 / ticks))
		[ -n "$bytes" ] &&
			cpu_gb=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v b="$bytes" 'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')
		hwm_a=$(mib "$(status_kib "${pids[0]}" VmHWM)")
		hwm_b=$(mib "$(status_kib "${pids[1]}" VmHWM)")
	fi
	# A run that failed is said, with the first failure's error: the
	# medians are then of fewer runs.
	local what f
	for what in ab p4; do
		local -n failed="failed_$what"
		if [ ${#failed[@]} -gt 0 ]; then
			f=${failed[0]}
			status=partial
			note+="$what: ${#failed[@]} of $REPEAT runs failed ($(iperf_error "$TMPD/$what.$f.json" | head -c 120)); "
		fi
		unset -n failed
	done
	if [ -z "$ba" ]; then
		status=partial
		note+="ba: $(iperf_error "$TMPD/ba.json" | head -c 120); "
	fi
	[ -z "$ab$ba$p4" ] && status=fail
	row_json name="$name" status="$status" note="${note%; }" \
		ab_gbps="$ab" ba_gbps="$ba" p4_gbps="$p4" \
		ping_idle_ms="$(ping_avg "$TMPD/ping-idle")" ping_load_ms="$(ping_avg "$TMPD/ping-load")" \
		ab_runs="$(runs_json "${ab_runs[@]}")" p4_runs="$(runs_json "${p4_runs[@]}")" \
		ab_bytes="$bytes" cpu_s_ab_total="$cpu_s" cpu_s_per_gb="$cpu_gb" cpu_user_pct="$user_pct" rss_a_mib="$hwm_a" rss_b_mib="$hwm_b" \
		"${extra[@]}"
	say "$name: A->B ${ab:-?}  B->A ${ba:-?}  4x ${p4:-?} Gbit/s, ping $(ping_avg "$TMPD/ping-idle") / $(ping_avg "$TMPD/ping-load") ms, CPU ${cpu_gb:--} s/GB${user_pct:+ ($user_pct% in user space)}"
}

# underlay N: namespaces $na, $nb joined by veth, 192.0.2.1 and .2.
underlay() {
	ns_new na "b$1a"; ns_new nb "b$1b"
	veth "$na" ua "$nb" ub
	addr "$na" ua "$UNDER_A/24"; addr "$nb" ub "$UNDER_B/24"
}

# --- the rows -----------------------------------------------------------------

row_veth() {
	local na nb
	underlay "$ROW_N"
	measure "veth, no tunnel" "$na" "$nb" "$UNDER_B" kind=veth
}

# row_wg NAME IMPL TRANSPORT CIPHER [BINARY [MODE]]: sluice (up -f from a
# file), or a wireguard-go configured the way wg-quick would (wg setconf,
# ip). MODE tap: sluice's TAP mode (Ethernet frames; the hosts find each
# other by ARP on the TAP's /24).
row_wg() {
	local name=$1 impl=$2 transport=$3 cipher=$4 bin=${5:-} mode=${6:-tun} na nb ia ib ca cb pa pb
	local scheme="" listen="" suite="" tap=""
	[ "$transport" = tcp ] && { scheme="tcp://"; listen="Transport = tcp"; }
	[ "$cipher" = aes-256-gcm ] && suite="Cipher = aes-256-gcm"
	[ "$mode" = tap ] && tap="Mode = tap"
	underlay "$ROW_N"
	ifname ia "${ROW_N}a"; ifname ib "${ROW_N}b"
	keypair ka; keypair kb
	ca=$(conf_write "$ia" <<-EOC
	[Interface]
	PrivateKey = $ka_priv
	ListenPort = 51820
	Address = $TUN_A/24
	$tap
	[Peer]
	PublicKey = $kb_pub
	AllowedIPs = $TUN_B/32
	Endpoint = ${scheme}$UNDER_B:51820
	$suite
	EOC
	)
	cb=$(conf_write "$ib" <<-EOC
	[Interface]
	PrivateKey = $kb_priv
	ListenPort = 51820
	Address = $TUN_B/24
	$listen
	$tap
	[Peer]
	PublicKey = $ka_pub
	AllowedIPs = $TUN_A/32
	$suite
	EOC
	)
	if [ "$impl" = sluice ]; then
		SLUICE_IMPL=sluice start_sluice "$na" "$ca"; pa=$LAST_PID
		SLUICE_IMPL=sluice start_sluice "$nb" "$cb"; pb=$LAST_PID
	else
		# start_wggo runs `wireguard-go`: put the one wanted first in PATH.
		mkdir -p "$TMPD/bin"
		ln -sf "$bin" "$TMPD/bin/wireguard-go"
		PATH="$TMPD/bin:$PATH" start_wggo "$na" "$ca"; pa=$LAST_PID
		PATH="$TMPD/bin:$PATH" start_wggo "$nb" "$cb"; pb=$LAST_PID
	fi
	wait_until 15 ip netns exec "$na" ping -n -c 1 -W 1 "$TUN_B" ||
		{ echo "no ping through the tunnel within 15 s"; return 1; }
	measure "$name" "$na" "$nb" "$TUN_B" kind="$impl" transport="$transport" cipher="$cipher" mode="$mode" \
		-- "$pa" "$pb"
	if [ "$impl" = sluice ] && [ -n "${BENCH_PROFILE:-}" ] && [ "$BENCH_PROFILE" != 0 ]; then
		profile "$name" "$na" "$nb" "$TUN_B" "$pa" "$pb"
	fi
}

# profile NAME NS_A NS_B DST PID_A PID_B: one A->B run under perf record -g
# of both daemons, one under strace -c of each; the reports in OUT/profile-N.txt.
profile() {
	local name=$1 na=$2 nb=$3 dst=$4 pa=$5 pb=$6 out port
	out="$OUT_DIR/profile-$ROW_N.txt"
	echo "# $name, $SECS s A->B, $(date -u +%FT%TZ), commit $(git -C "$ROOT" describe --always --dirty)" >"$out"
	# Ports past those measure's servers took (one may still be listening).
	local p_perf=$((5201 + 2 * REPEAT + 1)) p_strace=$((5201 + 2 * REPEAT + 2))
	for port in "$p_perf" "$p_strace"; do
		ip netns exec "$nb" timeout -k 5 $((SECS + 60)) iperf3 -s -1 -B "$dst" -p "$port" \
			>"$TMPD/iperf-s.$port.log" 2>&1 &
		PIDS+=($!)
		wait_until 5 _listening "$nb" "$port" || return 1
	done
	local who perfs=() pargs
	read -ra pargs <<<"${BENCH_PERF_ARGS:--g}"
	for who in a b; do
		local pid=$pa; [ $who = b ] && pid=$pb
		perf record -q "${pargs[@]}" -o "$TMPD/perf.$who" -p "$pid" -- sleep "$SECS" >/dev/null 2>&1 &
		perfs+=($!); PIDS+=($!)
	done
	iperf_run "$na" "$dst" "$p_perf" "$TMPD/prof.json"
	wait "${perfs[@]}" || true
	echo "perf run: $(gbps "$TMPD/prof.json") Gbit/s (data kept in $OUT_DIR/perf-$ROW_N.a/.b)" >>"$out"
	cp "$TMPD/perf.a" "$OUT_DIR/perf-$ROW_N.a"; cp "$TMPD/perf.b" "$OUT_DIR/perf-$ROW_N.b"
	for who in a b; do
		echo; echo "## perf report --no-children, daemon $who"
		perf report -i "$TMPD/perf.$who" --no-children --percent-limit 0.7 --stdio 2>/dev/null |
			grep -vE '^$|^#' | grep -E '^ +[0-9]' | head -40
	done >>"$out"
	local spids=()
	for who in a b; do
		local pid=$pa; [ $who = b ] && pid=$pb
		timeout -k 2 $((SECS + 10)) strace -c -f -p "$pid" -o "$TMPD/strace.$who" &
		spids+=($!); PIDS+=($!)
	done
	sleep 0.5
	iperf_run "$na" "$dst" "$p_strace" "$TMPD/strace.json"
	kill -INT "${spids[@]}" 2>/dev/null || true
	wait "${spids[@]}" 2>/dev/null || true
	for who in a b; do
		echo; echo "## strace -c -f, daemon $who (A sends the data), one $SECS s run ($(gbps "$TMPD/strace.json") Gbit/s under strace)"
		echo "bytes received by iperf3: $(rx_bytes "$TMPD/strace.json")"
		cat "$TMPD/strace.$who"
	done >>"$out"
	say "$name: profile in $out"
}

# row_bare NAME CIPHER: the ceiling, build/tools/fwdbare (tests/tools/
# fwdbare.c) at both ends, in the namespaces and with the addresses, ports,
# MTU and endpoints of sluice's UDP rows: the same offloaded TUN, GSO/GRO
# socket, packet pool, AEAD, batches and sandbox, with no engine (no
# handshake, sessions, timers, replay window, allowed-IPs lookup). What the
# pipeline costs on this machine with nothing of sluice's own on top; not a
# tunnel anyone could use (one fixed key, no replay check), so never the
# "best peer". One random key per row, given on the command line.
row_bare() {
	local name=$1 cipher=$2 na nb ia ib pa pb key
	underlay "$ROW_N"
	ifname ia "${ROW_N}a"; ifname ib "${ROW_N}b"
	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	start_fwdbare "$na" "$ia" "$TUN_A/24" "$UNDER_B" "$key" "$cipher"; pa=$LAST_PID
	start_fwdbare "$nb" "$ib" "$TUN_B/24" "$UNDER_A" "$key" "$cipher"; pb=$LAST_PID
	wait_until 15 ip netns exec "$na" ping -n -c 1 -W 1 "$TUN_B" ||
		{ echo "no ping through the bare forwarder within 15 s"; return 1; }
	measure "$name" "$na" "$nb" "$TUN_B" kind=ceiling transport=udp cipher="$cipher" mode=tun -- "$pa" "$pb"
	if [ -n "${BENCH_PROFILE:-}" ] && [ "$BENCH_PROFILE" != 0 ]; then
		profile "$name" "$na" "$nb" "$TUN_B" "$pa" "$pb"
	fi
	local p
	for p in "$pa" "$pb"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	say "$name: $(grep -h 'tx_packets=' "$TMPD/$ia.log" | sed 's/^fwdbare: //') (A)"
	say "$name: $(grep -h 'tx_packets=' "$TMPD/$ib.log" | sed 's/^fwdbare: //') (B)"
}

# A CA, a server and a client certificate (EC P-256), made for this run.
make_pki() {
	local d=$1 who eku
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=sluice-bench-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>"$d/err" || return 1
	for who in server client; do
		eku=serverAuth; [ "$who" = client ] && eku=clientAuth
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj "/CN=sluice-bench-$who" -keyout "$d/$who.key" -out "$d/$who.csr" 2>"$d/err" || return 1
		printf 'keyUsage=digitalSignature\nextendedKeyUsage=%s\n' "$eku" >"$d/$who.ext"
		openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile "$d/$who.ext" -out "$d/$who.crt" 2>"$d/err" || return 1
	done
	chmod 600 "$d"/*.key
}

# row_ovpn PROTO: OpenVPN 2.6 peer to peer in TLS mode (static-key mode
# allows no AEAD cipher), tun, AES-256-GCM, no DCO (a user-space daemon as
# the others are). B is the TLS server.
row_ovpn() {
	local proto=$1 name na nb ia ib pa pb pki="$RUN_TMP/pki" sp=udp cp=udp
	[ "$proto" = tcp ] && { sp=tcp-server; cp=tcp-client; }
	name="OpenVPN $OVPN_VERSION ${proto^^} AES-256-GCM"
	underlay "$ROW_N"
	ifname ia "${ROW_N}a"; ifname ib "${ROW_N}b"
	local common=(--dev-type tun --data-ciphers AES-256-GCM --disable-dco --ca "$pki/ca.crt"
		--verb 3 --script-security 1 --auth-nocache)
	ip netns exec "$nb" env --default-signal=INT,QUIT openvpn "${common[@]}" --dev "$ib" \
		--proto "$sp" --local "$UNDER_B" --lport 1194 --ifconfig "$TUN_B" "$TUN_A" \
		--tls-server --dh none --cert "$pki/server.crt" --key "$pki/server.key" \
		--remote-cert-tls client >"$TMPD/ovpn-b.log" 2>&1 </dev/null &
	pb=$!; PIDS+=("$pb"); DAEMONS+=("$nb $ib $pb $TMPD/ovpn-b.log openvpn")
	[ "$proto" = tcp ] && wait_until 5 _listening "$nb" 1194
	ip netns exec "$na" env --default-signal=INT,QUIT openvpn "${common[@]}" --dev "$ia" \
		--proto "$cp" --remote "$UNDER_B" 1194 --nobind --ifconfig "$TUN_A" "$TUN_B" \
		--tls-client --cert "$pki/client.crt" --key "$pki/client.key" \
		--remote-cert-tls server >"$TMPD/ovpn-a.log" 2>&1 </dev/null &
	pa=$!; PIDS+=("$pa"); DAEMONS+=("$na $ia $pa $TMPD/ovpn-a.log openvpn")
	wait_until 20 ip netns exec "$na" ping -n -c 1 -W 1 "$TUN_B" ||
		{ echo "no ping through OpenVPN within 20 s"; return 1; }
	local data
	data=$(grep -o "Data Channel: cipher '[^']*'" "$TMPD/ovpn-a.log" | tail -n 1 || true)
	[[ $data == *AES-256-GCM* ]] || { echo "OpenVPN did not negotiate AES-256-GCM: ${data:-(no Data Channel line)}"; return 1; }
	measure "$name" "$na" "$nb" "$TUN_B" kind=openvpn transport="$proto" cipher=aes-256-gcm -- "$pa" "$pb"
}

# row NAME FUNCTION ARGS...: runs a row, records a failure if it failed.
# Rows that would start after BENCH_MAX_SECONDS (default 600 per
# BENCH_REPEAT) are skipped.
MAX_SECS=${BENCH_MAX_SECONDS:-$((600 * REPEAT))}
row() {
	local name=$1; shift
	if [ $SECONDS -ge "$MAX_SECS" ]; then
		row_skipped "$name" "time budget used up (BENCH_MAX_SECONDS=$MAX_SECS)"
		return 0
	fi
	section "$name" >&2
	run_row "$@" || row_failed "$name" "could not run (see the log above)"
}

# --- the run ----------------------------------------------------------------

T0=$(now_ms)
say "BENCH_SECONDS=$SECS, $(nproc) cores, $(uname -r), results in $OUT_DIR"
want veth && row "veth, no tunnel" row_veth
# sluice_row KEY TRANSPORT CIPHER LABEL: the row, then the same with each
# BENCH_SLUICE_ALT binary.
SLUICE_ROWS=${BENCH_SLUICE:-udp-chacha udp-aes tcp-chacha tcp-aes tap-chacha}
sluice_row() {
	local key=$1 transport=$2 cipher=$3 label=$4 mode=${5:-tun} alt
	[[ " $SLUICE_ROWS " == *" $key "* ]] || return 0
	row "$label" row_wg "$label" sluice "$transport" "$cipher" "" "$mode"
	for alt in ${BENCH_SLUICE_ALT:-}; do
		[ -x "${alt#*=}" ] || die "BENCH_SLUICE_ALT: ${alt#*=} is not an executable"
		SLUICE=${alt#*=} row "$label [${alt%%=*}]" row_wg "$label [${alt%%=*}]" sluice "$transport" "$cipher" "" "$mode"
	done
}
if want sluice; then
	sluice_row udp-chacha udp chacha20-poly1305 "sluice UDP ChaCha20-Poly1305"
	sluice_row udp-aes udp aes-256-gcm "sluice UDP AES-256-GCM"
	sluice_row tcp-chacha tcp chacha20-poly1305 "sluice TCP ChaCha20-Poly1305"
	sluice_row tcp-aes tcp aes-256-gcm "sluice TCP AES-256-GCM"
	sluice_row tap-chacha udp chacha20-poly1305 "sluice TAP UDP ChaCha20-Poly1305" tap
fi
if want ceiling; then
	for c in chacha20-poly1305:ChaCha20-Poly1305 aes-256-gcm:AES-256-GCM; do
		label="bare forwarder, ${c#*:} (sluice's parts, no engine)"
		if [ -x "$FWDBARE" ]; then
			row "$label" row_bare "$label" "${c%%:*}"
		else
			row_skipped "$label" "no $FWDBARE (make build/tools/fwdbare)" kind=ceiling
		fi
	done
fi
if want wggo; then
	v=$(version_of wireguard-go)
	row "wireguard-go $v (Debian)" row_wg "wireguard-go $v (Debian)" wggo udp chacha20-poly1305 "$(command -v wireguard-go)"
	if [ -x "$MODERN_WGGO" ]; then
		v=$(version_of "$MODERN_WGGO")
		row "wireguard-go $v" row_wg "wireguard-go $v" wggo udp chacha20-poly1305 "$(realpath "$MODERN_WGGO")"
	else
		row_skipped "wireguard-go (modern)" "no $MODERN_WGGO (WIREGUARD_GO=PATH names one)" kind=wggo
	fi
fi
if want ovpn; then
	if ! command -v openvpn >/dev/null || ! command -v openssl >/dev/null; then
		row_skipped "OpenVPN" "openvpn or openssl not installed (scripts/deps.sh bench)" kind=openvpn
	elif ! OVPN_VERSION=$(openvpn --version 2>/dev/null | awk 'NR == 1 { print $2 }') ||
		! make_pki "$RUN_TMP/pki"; then
		row_skipped "OpenVPN" "could not make the test CA: $(tail -n 1 "$RUN_TMP/pki/err" 2>/dev/null)" kind=openvpn
	else
		row "OpenVPN $OVPN_VERSION UDP AES-256-GCM" row_ovpn udp
		row "OpenVPN $OVPN_VERSION TCP AES-256-GCM" row_ovpn tcp
	fi
fi

# --- results: JSON, table, plot ----------------------------------------------

# Ratios: to veth, and to the fastest non-sluice tunnel (A->B): neither
# sluice's rows nor the ceiling (fwdbare, no tunnel at all) can be that.
jq -s --arg secs "$SECS" --arg repeat "$REPEAT" --arg cores "$(nproc)" --arg kernel "$(uname -r)" \
	--arg commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
	def r3: if . == null then null else . * 1000 | round / 1000 end;
	(map(select(.kind == "veth" and .ab_gbps != null)) | first | .ab_gbps) as $veth
	| (map(select(.kind != "veth" and .kind != "sluice" and .kind != "ceiling" and .ab_gbps != null)) | max_by(.ab_gbps)) as $best
	| { date: $date, commit: $commit, seconds: ($secs | tonumber), repeat: ($repeat | tonumber), cores: ($cores | tonumber),
	    kernel: $kernel, reference_peer: $best.name,
	    rows: map(. + {
		ratio_veth: (if .ab_gbps != null and $veth then .ab_gbps / $veth | r3 else null end),
		ratio_best_peer: (if .ab_gbps != null and $best then .ab_gbps / $best.ab_gbps | r3 else null end),
		ratio_p4: (if .ab_gbps != null and .p4_gbps != null and .ab_gbps > 0 then .p4_gbps / .ab_gbps | r3 else null end),
		cpu_ratio_best_peer: (if .cpu_s_per_gb != null and $best and $best.cpu_s_per_gb != null
			then .cpu_s_per_gb / $best.cpu_s_per_gb | r3 else null end) }) }
' "$ROW_DIR"/*.json >"$OUT_DIR/results.json"

{
	echo
	echo "TCP through each tunnel between two namespaces, $SECS s per run, $(nproc) cores, $(uname -r)$(
		[ "$REPEAT" -gt 1 ] && echo ", one and four streams A→B $REPEAT times each, alternating: medians")"
	echo
	jq -r '
		def f: if . == null then "-" else tostring end;
		def rss: if .rss_a_mib == null then "-" else "\(.rss_a_mib) / \(.rss_b_mib)" end;
		"| row | A→B Gbit/s | B→A Gbit/s | 4×A→B Gbit/s | 4× / 1 | ping idle ms | ping loaded ms | CPU s/GB | CPU ×best peer | RSS MiB A / B | ×veth | ×best peer |",
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
		(.rows[] | if .status == "skipped" or .status == "fail" then
			"| \(.name) | \(.status): \(.note) | | | | | | | | | | |"
		else
			"| \(.name) | \(.ab_gbps | f) | \(.ba_gbps | f) | \(.p4_gbps | f) | \(.ratio_p4 | f) | \(.ping_idle_ms | f) | \(.ping_load_ms | f) | \(.cpu_s_per_gb | f) | \(.cpu_ratio_best_peer | f) | \(rss) | \(.ratio_veth | f) | \(.ratio_best_peer | f) |"
		end),
		"",
		"CPU s/GB: user + system time of both daemons during the A→B runs per GB iperf3 received. RSS: peak (VmHWM).",
		"×best peer: A→B relative to the fastest non-sluice tunnel, \(.reference_peer // "none"); CPU ×best peer: CPU s/GB relative to that peer.",
		"4× / 1: four streams A→B relative to one.",
		(if any(.rows[]; .kind == "ceiling") then
		"bare forwarder: build/tools/fwdbare at both ends: the same TUN, UDP socket, buffers and AEAD as sluice, with no engine (no handshake, sessions, timers, replay check, allowed-IPs lookup; one fixed key), the floor of what this pipeline costs here."
		else empty end)
	' "$OUT_DIR/results.json"
	jq -r '.rows[] | select(.status == "partial") | "\(.name): \(.note)"' "$OUT_DIR/results.json"
}

if command -v gnuplot >/dev/null; then
	# shellcheck disable=SC2016
	colour='(if .kind == "sluice" then 3898840 elif .kind == "ceiling" then 9291226 elif .kind == "veth" then 10066329 else 14186043 end)'
	jq -r ".rows[] | select(.ab_gbps != null) | [.name, .ab_gbps, $colour] | @tsv" \
		"$OUT_DIR/results.json" >"$RUN_TMP/plot.tsv"
	jq -r ".rows[] | select(.cpu_s_per_gb != null) | [.name, .cpu_s_per_gb, $colour] | @tsv" \
		"$OUT_DIR/results.json" >"$RUN_TMP/cpu.tsv"
	if [ -s "$RUN_TMP/plot.tsv" ] && [ -s "$RUN_TMP/cpu.tsv" ] &&
		gnuplot -e "datafile='$RUN_TMP/plot.tsv'; cpufile='$RUN_TMP/cpu.tsv'; outfile='$OUT_DIR/results.png'; secs='$SECS'" \
			"$(dirname "$0")/plot.gp" 2>"$RUN_TMP/gnuplot.err"; then
		echo; echo "wrote $OUT_DIR/results.json and $OUT_DIR/results.png"
	else
		echo; echo "wrote $OUT_DIR/results.json; no results.png: $(head -n 3 "$RUN_TMP/gnuplot.err" 2>/dev/null || echo 'nothing to plot')"
	fi
else
	echo; echo "wrote $OUT_DIR/results.json (no gnuplot: no results.png; scripts/deps.sh bench installs it)"
fi
say "whole run: $((($(now_ms) - T0) / 1000)) s"
