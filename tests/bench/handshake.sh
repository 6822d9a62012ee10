#!/usr/bin/env bash
# make bench-handshake: handshakes per second one responder completes.
# build/tools/hsload (tests/tools/hsload.c, over the project's noise and
# handshake code) plays BENCH_HS_PEERS (default 2048) initiators, each
# configured as a peer on the responder, from as many source addresses: a
# local route for 198.19.128.0/17 in the load namespace makes each of them
# ours. It sends initiations over UDP across a veth pair for 1 s of warm-up
# (BENCH_HS_WARMUP) plus BENCH_SECONDS (default 5), answers the responder's cookie replies
# (when it is under load; sluice is once its handshake queue is long), and counts the responses of the measured
# seconds; every 8th is checked in full. Responders: sluice (both suites),
# Debian's wireguard-go, and the modern one when it is there, configured
# through wg setconf. Also the responder's CPU time per handshake.
# Writes bench/handshake.json; prints a markdown table.
# keypair and ns_new set variables by name (ka_pub, na...); shellcheck can't see it.
# shellcheck disable=SC2154,SC2031 # (TMPD is set per case in run_row's subshell, on purpose)
set -euo pipefail
# shellcheck source=tests/bench/common.sh
source "$(dirname "$0")/common.sh"
HSLOAD=${HSLOAD:-$ROOT/build/tools/hsload}
[ -x "$HSLOAD" ] || cannot_run "$HSLOAD not built (make build/tools/hsload)"
bench_init

say() { info "$@" >&2; }
NPEERS=${BENCH_HS_PEERS:-2048}
{ [ "$NPEERS" -ge 1 ] && [ "$NPEERS" -le 32768 ]; } || die "BENCH_HS_PEERS must be 1 to 32768"
SRC_NET=198.19.128.0/17 SRC_BASE=198.19.128.1
WARMUP=${BENCH_HS_WARMUP:-1}
SEED="sluice-bench-$ID"
"$HSLOAD" selftest >&2 || die "hsload selftest failed"

# case_hs NAME IMPL CIPHER [BINARY]
case_hs() {
	local name=$1 impl=$2 cipher=$3 bin=${4:-} nl nr ifc conf pid
	ns_new nl "h${ROW_N}l"; ns_new nr "h${ROW_N}r"
	veth "$nl" ul "$nr" ur
	addr "$nl" ul 192.0.2.1/24; addr "$nr" ur 192.0.2.2/24
	ip -n "$nl" route add local "$SRC_NET" dev lo
	ip -n "$nr" route add "$SRC_NET" via 192.0.2.1
	ifname ifc "h${ROW_N}"
	keypair kr
	conf="$TMPD/$ifc.conf"
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n' "$kr_priv"
		if [ "$cipher" = aes-256-gcm ]; then
			"$HSLOAD" peers "$SEED" "$NPEERS" | sed '/^PublicKey/a Cipher = aes-256-gcm'
		else
			"$HSLOAD" peers "$SEED" "$NPEERS"
		fi
	} >"$conf"
	chmod 600 "$conf"
	if [ "$impl" = sluice ]; then
		# Without -v (start_sluice's), as wireguard-go runs without LOG_LEVEL:
		# neither logs a line per handshake.
		ip netns exec "$nr" env --default-signal=INT,QUIT "$SLUICE" up -f "$conf" \
			>"$TMPD/$ifc.log" 2>&1 </dev/null &
		pid=$!; PIDS+=("$pid"); DAEMONS+=("$nr $ifc $pid $TMPD/$ifc.log sluice")
		_wait_daemon "$nr" "$ifc" "$pid" "$TMPD/$ifc.log" sluice
	else
		ip netns exec "$nr" env --default-signal=INT,QUIT WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
			"$bin" -f "$ifc" >"$TMPD/$ifc.log" 2>&1 </dev/null &
		pid=$!; PIDS+=("$pid"); DAEMONS+=("$nr $ifc $pid $TMPD/$ifc.log $name")
		wait_until 10 test -S "$WG_RUN/$ifc.sock" || { echo "no $WG_RUN/$ifc.sock within 10 s"; return 1; }
		ip netns exec "$nr" timeout -k 5 60 wg setconf "$ifc" "$conf"
		ip -n "$nr" link set "$ifc" up
	fi
	wait_until 30 _udp_bound "$nr" 51820 || { echo "nothing listens on UDP 51820"; return 1; }
	[ "$(ip netns exec "$nr" timeout -k 5 60 wg show "$ifc" peers | wc -l)" -eq "$NPEERS" ] ||
		{ echo "the responder does not list $NPEERS peers"; return 1; }

	local c0 c1 out rc=0
	c0=$(cpu_ticks "$pid")
	out=$(ip netns exec "$nl" timeout -k 5 $((SECS + 30)) "$HSLOAD" run -k "$SEED" -n "$NPEERS" \
		-r "$kr_pub" -t 192.0.2.2:51820 -s "$SRC_BASE" -a "$NPEERS" -d "$SECS" -W "$WARMUP" -c "$cipher") || rc=$?
	c1=$(cpu_ticks "$pid")
	echo "hsload: $out (exit $rc)"
	local kv args=() hs total cpu per=""
	for kv in $out; do args+=("$kv"); done
	hs=$(sed -n 's/.*handshakes_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
	total=$(sed -n 's/.*total_responses=\([0-9]*\).*/\1/p' <<<"$out")
	# The responder's CPU time over the whole run (warm-up too) per response
	# it sent in that time.
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
	[ -n "$total" ] && [ "$total" -gt 0 ] &&
		per=$(awk -v c="$cpu" -v n="$total" 'BEGIN { printf "%.0f", c / n * 1e6 }')
	local status=ok note=""
	[ $rc -eq 0 ] || { status=fail; note="hsload exit $rc: no verified response, or a bad one"; }
	row_json name="$name" cipher="$cipher" status="$status" note="$note" cpu_s="$cpu" \
		cpu_us_per_handshake="$per" rss_mib="$(mib "$(status_kib "$pid" VmHWM)")" "${args[@]}"
	say "$name: ${hs:-?} handshakes/s, responder CPU $cpu s (${per:-?} us a handshake)"
}
_udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

row() {
	local name=$1; shift
	section "$name" >&2
	run_row "$@" || row_failed "$name" "could not run (see the log above)"
}

T0=$(now_ms)
say "$NPEERS initiators from $NPEERS addresses, $WARMUP s warm-up + $SECS s each"
row "sluice ChaCha20-Poly1305" case_hs "sluice ChaCha20-Poly1305" sluice chacha20-poly1305
row "sluice AES-256-GCM" case_hs "sluice AES-256-GCM" sluice aes-256-gcm
v=$(version_of wireguard-go)
row "wireguard-go $v (Debian)" case_hs "wireguard-go $v (Debian)" wggo chacha20-poly1305 "$(command -v wireguard-go)"
MODERN_WGGO=$(modern_wggo)
if [ -x "$MODERN_WGGO" ]; then
	v=$(version_of "$MODERN_WGGO")
	row "wireguard-go $v" case_hs "wireguard-go $v" wggo chacha20-poly1305 "$(realpath "$MODERN_WGGO")"
else
	row_skipped "wireguard-go (modern)" "no $MODERN_WGGO (WIREGUARD_GO=PATH names one)"
fi

jq -s --arg secs "$SECS" --arg n "$NPEERS" \
	--arg commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
	{ date: $date, commit: $commit, seconds: ($secs | tonumber), initiators: ($n | tonumber), rows: . }
' "$ROW_DIR"/*.json >"$OUT_DIR/handshake.json"
echo
echo "Handshakes a responder completes, $NPEERS initiators (one address each), $SECS s after $WARMUP s warm-up, $(nproc) cores"
echo
jq -r '
	def f: if . == null then "-" else tostring end;
	"| responder | handshakes/s | responder CPU µs/handshake | responder CPU s | load tool CPU s | peak RSS MiB | initiations sent | cookie replies | given up (1 s) | checked in full | status |",
	"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
	(.rows[] | "| \(.name) | \(.handshakes_per_s | f) | \(.cpu_us_per_handshake | f) | \(.cpu_s | f) | \(.tool_cpu_s | f) | \(.rss_mib | f) | \(.sent | f) | \(.cookies | f) | \(.gave_up | f) | \(.verified | f) | \(.status)\(if .note then ": " + .note else "" end) |")
' "$OUT_DIR/handshake.json"
echo
echo "Counts of the measured seconds; CPU over warm-up and measurement (µs/handshake: per response sent in that time)."
echo "The load tool shares the machine's cores with the responder. wrote $OUT_DIR/handshake.json"
say "whole run: $((($(now_ms) - T0) / 1000)) s"
