#!/usr/bin/env bash
# make bench-peers: how long a daemon takes to load 10,000 configured peers.
# One generated configuration (python3): random keys, AllowedIPs a /32 each
# from 198.18.0.0/15. In a namespace of its own, each case starts a daemon
# and times it until `wg show IFACE peers` lists them all:
#   sluice up -f FILE          sluice's own loader (also adds a route a peer)
#   sluice -f IFACE + wg setconf
#   wireguard-go -f IFACE + wg setconf (Debian's, and the modern one if there)
# Every wait is bounded (BENCH_PEERS_TIMEOUT, default 60 s): a case that does
# not get there is reported as "fail" with the count it reached.
# Environment: BENCH_PEERS=N (default 10000), BENCH_PEERS_TIMEOUT=S,
# WIREGUARD_GO=PATH, BENCH_OUT=DIR. Writes bench/peers.json.
# keypair and ns_new set variables by name (ka_pub, na...); shellcheck can't see it.
# shellcheck disable=SC2154,SC2031 # (TMPD is set per case in run_row's subshell, on purpose)
set -euo pipefail
# shellcheck source=tests/bench/common.sh
source "$(dirname "$0")/common.sh"
command -v python3 >/dev/null || cannot_run "python3 not installed (run scripts/deps.sh bench)"
bench_init

say() { info "$@" >&2; }
N=${BENCH_PEERS:-10000}
LIMIT=${BENCH_PEERS_TIMEOUT:-60}
{ [ "$N" -ge 1 ] && [ "$N" -le 100000 ]; } || die "BENCH_PEERS must be 1 to 100000"

# The configuration: FILE.conf for sluice up, FILE.setconf for wg setconf.
gen_conf() {
	python3 - "$1" "$N" "$(wg genkey)" <<-'EOF'
	import base64, os, sys
	out, n, priv = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	peers = []
	for i in range(1, n + 1):  # 198.18.0.1 onwards: 198.18.0.0/15 holds 131072
	    key = base64.b64encode(os.urandom(32)).decode()
	    ip = "198.%d.%d.%d" % (18 + (i >> 16), (i >> 8) & 255, i & 255)
	    peers.append("[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n" % (key, ip))
	body = "".join(peers)
	old = os.umask(0o077)
	with open(out + ".conf", "w") as f:
	    f.write("[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 198.19.255.254/32\n%s" % (priv, body))
	with open(out + ".setconf", "w") as f:
	    f.write("[Interface]\nPrivateKey = %s\nListenPort = 51820\n%s" % (priv, body))
	os.umask(old)
	EOF
}

# peers_now NS IFACE [LIMIT_S]: how many peers `wg show` lists (0 while it
# cannot say), waiting LIMIT_S (default 10) at most for the answer.
peers_now() {
	local n
	n=$(ip netns exec "$1" timeout -k 2 "${3:-10}" wg show "$2" peers 2>/dev/null | wc -l) || n=0
	echo "${n:-0}"
}

# wait_peers NS IFACE PID T0_MS: polls until all N are listed, the daemon
# died, or LIMIT s passed since T0_MS; sets GOT and MS (ms since T0_MS when it got there).
wait_peers() {
	local ns=$1 ifc=$2 pid=$3 t0=$4 left deadline
	deadline=$((SECONDS + LIMIT - ($(now_ms) - t0) / 1000))
	GOT=0 MS=""
	while :; do
		# A slow answer is still an answer: wait for it up to the deadline.
		left=$((deadline - SECONDS)); [ $left -ge 1 ] || left=1
		GOT=$(peers_now "$ns" "$ifc" "$left")
		[ "$GOT" -ge "$N" ] && { MS=$(($(now_ms) - t0)); return 0; }
		kill -0 "$pid" 2>/dev/null || { echo "the daemon exited"; return 1; }
		[ $SECONDS -ge $deadline ] && { echo "not all $N peers after $LIMIT s"; return 1; }
		sleep 0.2
	done
}

# result NAME HOW PID [NOTE]: the case's JSON from GOT, MS, READY_MS and the
# daemon.
result() {
	local name=$1 how=$2 pid=$3 note=${4:-} rss="" cpu="" secs="" ready="" status=ok
	if kill -0 "$pid" 2>/dev/null; then
		rss=$(mib "$(status_kib "$pid" VmRSS)")
		cpu=$(awk -v t="$(cpu_ticks "$pid")" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
	fi
	if [ -n "$MS" ]; then
		secs=$(awk -v ms="$MS" 'BEGIN { printf "%.2f", ms / 1000 }')
	else
		status=fail
	fi
	[ -n "$READY_MS" ] && ready=$(awk -v ms="$READY_MS" 'BEGIN { printf "%.2f", ms / 1000 }')
	row_json name="$name" how="$how" status="$status" peers="$GOT" seconds="$secs" ready_s="$ready" \
		rss_mib="$rss" cpu_s="$cpu" note="$note"
	say "$name, $how: ready ${ready:--} s, listed ${secs:+$secs s}${secs:-fail}, $GOT peers, RSS ${rss:-?} MiB, CPU ${cpu:-?} s ${note:+($note)}"
}

# case_up: sluice up -f FILE, timed from the start of the process. Ready:
# the interface is up (sluice brings it up once every peer is configured).
case_up() {
	local ns ifc pid t0
	READY_MS=""
	ns_new ns "p${ROW_N}"
	ifname ifc "p${ROW_N}"
	cp "$CONF.conf" "$TMPD/$ifc.conf"
	t0=$(now_ms)
	ip netns exec "$ns" env --default-signal=INT,QUIT "$SLUICE" up -f "$TMPD/$ifc.conf" \
		>"$TMPD/$ifc.log" 2>&1 </dev/null &
	pid=$!; PIDS+=("$pid"); DAEMONS+=("$ns $ifc $pid $TMPD/$ifc.log sluice")
	local note=""
	wait_until "$LIMIT" iface_up "$ns" "$ifc" && READY_MS=$(($(now_ms) - t0))
	wait_peers "$ns" "$ifc" "$pid" "$t0" || note="$GOT listed after $LIMIT s"
	result "sluice" "up -f FILE" "$pid" "$note"
}

# case_setconf NAME BINARY: BINARY -f IFACE, then wg setconf, timed from
# the start of wg setconf. Ready: wg setconf returned.
case_setconf() {
	local name=$1 bin=$2 ns ifc pid t0 rc=0 note=""
	READY_MS=""
	ns_new ns "p${ROW_N}"
	ifname ifc "p${ROW_N}"
	ip netns exec "$ns" env --default-signal=INT,QUIT WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		"$bin" -f "$ifc" >"$TMPD/$ifc.log" 2>&1 </dev/null &
	pid=$!; PIDS+=("$pid"); DAEMONS+=("$ns $ifc $pid $TMPD/$ifc.log $name")
	wait_until 10 test -S "$WG_RUN/$ifc.sock" || { echo "$name made no $WG_RUN/$ifc.sock in 10 s"; return 1; }
	t0=$(now_ms)
	ip netns exec "$ns" timeout -k 5 "$LIMIT" wg setconf "$ifc" "$CONF.setconf" \
		>"$TMPD/setconf.out" 2>&1 || rc=$?
	READY_MS=$(($(now_ms) - t0))
	if [ $rc -ne 0 ]; then
		note="wg setconf exit $rc: $(tail -n 1 "$TMPD/setconf.out" | head -c 120)"
		# It may still have taken some: count once, without waiting.
		GOT=$(peers_now "$ns" "$ifc" 10) MS=""
		[ "$GOT" -ge "$N" ] && MS=$(($(now_ms) - t0))
	else
		wait_peers "$ns" "$ifc" "$pid" "$t0" || note="wg setconf succeeded but the peers did not all appear"
	fi
	result "$name" "-f IFACE, wg setconf" "$pid" "$note"
}

row() {
	local name=$1; shift
	section "$name" >&2
	run_row "$@" || row_failed "$name" "could not run (see the log above)"
}

T0=$(now_ms)
say "generating $N peers"
CONF="$RUN_TMP/peers"
gen_conf "$CONF"
say "$(grep -c '^\[Peer\]' "$CONF.conf") peers, $(wc -c <"$CONF.conf") bytes"

row "sluice up -f" case_up
row "sluice + wg setconf" case_setconf sluice "$SLUICE"
v=$(version_of wireguard-go)
row "wireguard-go $v (Debian) + wg setconf" case_setconf "wireguard-go $v (Debian)" "$(command -v wireguard-go)"
MODERN_WGGO=$(modern_wggo)
if [ -x "$MODERN_WGGO" ]; then
	v=$(version_of "$MODERN_WGGO")
	row "wireguard-go $v + wg setconf" case_setconf "wireguard-go $v" "$(realpath "$MODERN_WGGO")"
else
	row_skipped "wireguard-go (modern)" "no $MODERN_WGGO (WIREGUARD_GO=PATH names one)"
fi

jq -s --arg n "$N" --arg limit "$LIMIT" \
	--arg commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
	{ date: $date, commit: $commit, peers: ($n | tonumber), timeout_s: ($limit | tonumber), rows: . }
' "$ROW_DIR"/*.json >"$OUT_DIR/peers.json"
echo
echo "Loading $N peers (random keys, a /32 each), each case in its own namespace, $(nproc) cores"
echo
jq -r '
	def f: if . == null then "-" else tostring end;
	"| daemon | how | ready s | seconds to \(.peers) listed | peers listed | RSS MiB after | daemon CPU s | note |",
	"|---|---|--:|--:|--:|--:|--:|---|",
	(.rows[] | "| \(.name) | \(.how | f) | \(.ready_s | f) | \(if .status == "ok" then .seconds | f else .status end) | \(.peers | f) | \(.rss_mib | f) | \(.cpu_s | f) | \(.note // "") |")
' "$OUT_DIR/peers.json"
echo
echo "Times from the start of the daemon (up -f) or of wg setconf. ready: the interface is up (up -f) or wg setconf"
echo "returned; listed: \`wg show IFACE peers\` lists all $N (one answer may take up to the limit, $LIMIT s)."
echo "wrote $OUT_DIR/peers.json"
say "whole run: $((($(now_ms) - T0) / 1000)) s"
