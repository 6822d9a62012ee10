#!/usr/bin/env bash
# A server on a hostile network. Server S, a client C, and a flooder F, each
# in its own namespace on its own veth to S (and a second client D that
# joins during a flood). F runs build/tools/hsload flood, bounded in count
# and time: (a) junk the size of an initiation, (b) initiations with a right
# mac1 (anyone who knows S's public key can make them) from many source
# addresses. During each: a checksummed transfer C -> S through the tunnel
# completes, pings through it are answered (< 5% lost); during (a) D's first
# ping is answered at once, without a cookie round trip (junk must not put S
# under load); during (b) C restarted gets its handshake through within
# ~2 s; (c) garbage of every length and type byte. S counts what it
# refused, by cause, in `sluice show --json`, and its resident memory ends
# where it started (within 4 MiB).
# Throughput before and during each flood is printed, not asserted.
# Also: a private key set unclamped is shown clamped (wg set / wg show).
# keypair and ns_new set variables by name (ks_pub, S...); shellcheck can't see it.
# Helpers run through check (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
HSLOAD=${HSLOAD:-$ROOT/build/tools/hsload}
[ "$SLUICE_IMPL" = wggo ] && cannot_run "floods sluice's own counters (sluice show --json)"
[ -x "$HSLOAD" ] || cannot_run "$HSLOAD not built (make build/tools/hsload)"
command -v jq >/dev/null || cannot_run "'jq' not installed (run scripts/deps.sh)"
test_init

# The floods: at most this many a second, this many in all, this long.
FLOOD_RATE=${FLOOD_RATE:-50000}
FLOOD_SECONDS=${FLOOD_SECONDS:-12}
FLOOD_COUNT=$((FLOOD_RATE * FLOOD_SECONDS))
FLOOD_SOURCES=250 # (b): 198.19.200.1 and up
XFER_MB=40

section "underlay: S with a veth to each of C, D and F"
ns_new S s
ns_new C c
ns_new D d
ns_new F f
veth "$S" sc "$C" cs
veth "$S" sd "$D" ds
veth "$S" sf "$F" fs
addr "$S" sc 192.0.2.1/26
addr "$C" cs 192.0.2.2/26
addr "$S" sd 192.0.2.65/26
addr "$D" ds 192.0.2.66/26
addr "$S" sf 198.51.100.1/24
addr "$F" fs 198.51.100.2/24
# F may send from any address of 198.19.200.0/24 (hsload sets each
# datagram's source), and S routes replies to them back to F.
ip -n "$F" route add local 198.19.200.0/24 dev lo
ip -n "$S" route add 198.19.200.0/24 via 198.51.100.2
check "underlay works (C, D and F reach S)" sh -c "ip netns exec $C ping -n -c1 -W2 192.0.2.1 &&
	ip netns exec $D ping -n -c1 -W2 192.0.2.65 && ip netns exec $F ping -n -c1 -W2 198.51.100.1"

keypair ks
keypair kc
keypair kd
ifname IS s
ifname IC c
ifname ID d
CS=$(conf_write "$IS" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	ListenPort = 51820
	Address = 198.18.0.1/24

	[Peer]
	PublicKey = $kc_pub
	AllowedIPs = 198.18.0.2/32

	[Peer]
	PublicKey = $kd_pub
	AllowedIPs = 198.18.0.3/32
	EOF
)
client_conf() { # IFACE PRIV ADDRESS ENDPOINT
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $2
		Address = $3/24

		[Peer]
		PublicKey = $ks_pub
		AllowedIPs = 198.18.0.1/32
		Endpoint = $4
		EOF
}
CC=$(client_conf "$IC" "$kc_priv" 198.18.0.2 192.0.2.1:51820)
CD=$(client_conf "$ID" "$kd_priv" 198.18.0.3 192.0.2.65:51820)

# counter NAME: S's counter sluice_drop_NAME or sluice_handshake_NAME, from
# `sluice show --json` (dropped.NAME, else handshakes.NAME); "" if absent.
counter() {
	sluice_cli "$S" show --json "$IS" |
		jq -r --arg n "$1" '(.dropped[$n] // .handshakes[$n]) | if . == null then "" else tostring end'
}
# counter_grew NAME BEFORE: the counter is there and above BEFORE.
counter_grew() {
	local v; v=$(counter "$1")
	echo "$1 = ${v:-(absent)} (was $2)"
	[ -n "$v" ] && [ "$v" -gt "$2" ]
}
counter_same() {
	local v; v=$(counter "$1")
	echo "$1 = ${v:-(absent)} (was $2)"
	[ -n "$v" ] && [ "$v" -eq "$2" ]
}
counter_is() {
	local v; v=$(counter "$1")
	echo "$1 = ${v:-(absent)} (want $2)"
	[ "$v" = "$2" ]
}
# all_counted: show --json has every counter of the handshake queue.
all_counted() {
	local n v
	for n in handshake_mac1 handshake_queue_full handshake_ratelimit handshake_cookie cookie_ratelimit \
		cookie_replies_sent queued under_load; do
		v=$(counter "$n")
		echo "$n = ${v:-(absent)}"
		[ -n "$v" ] || return 1
	done
}
# logged_limited FILE TEXT MAX: TEXT is in FILE, on at most MAX lines.
logged_limited() {
	local n; n=$(grep -c "$2" "$1" || true)
	echo "$n lines with \"$2\" (want 1 to $3)"
	[ "$n" -ge 1 ] && [ "$n" -le "$3" ]
}
counters() { # a line of S's handshake counters, for the log
	sluice_cli "$S" show --json "$IS" | jq -c '{dropped: (.dropped | with_entries(select(.key |
		test("handshake|cookie")))), handshakes}'
}

# xfer LABEL PORT: XFER_MB C -> S through the tunnel, sha256 checked; prints
# the throughput (lib.sh's transfer says how long it took).
XFER_LOG="$TMPD/xfer.log"
xfer() {
	local out rc=0
	out=$(transfer "$C" "$S" 198.18.0.1 "$XFER_MB" "$2" 2>&1) || rc=$?
	printf '%s\n' "$out"
	local ms
	ms=$(sed -n 's/.* in \([0-9]*\) ms.*/\1/p' <<<"$out")
	[ -n "$ms" ] && [ "$ms" -gt 0 ] &&
		echo "$1: $XFER_MB MB in $ms ms, $(awk -v mb="$XFER_MB" -v ms="$ms" 'BEGIN { printf "%.0f", mb * 8 * 1.048576 * 1000 / ms }') Mbit/s" >>"$XFER_LOG"
	return "$rc"
}
# pings_answered LABEL NS DST N: N pings 0.1 s apart, fewer than 5% lost.
pings_answered() {
	local out loss rtt
	out=$(ip netns exec "$2" ping -n -q -c "$4" -i 0.1 -W 1 "$3" 2>&1) || true
	printf '%s\n' "$out"
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
	rtt=$(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$out")
	echo "$1: $4 pings, ${loss:-?}% lost, average ${rtt:-?} ms" >>"$XFER_LOG"
	[ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l < 5) }'
}

# flood MODE [ARGS]: hsload flood from F in the background; FLOOD_PID.
flood() {
	local mode=$1; shift
	ip netns exec "$F" timeout -k 5 $((FLOOD_SECONDS + 10)) "$HSLOAD" flood -m "$mode" -r "$ks_pub" \
		-t 198.51.100.1:51820 -n "$FLOOD_COUNT" -d "$FLOOD_SECONDS" -p "$FLOOD_RATE" "$@" \
		>"$TMPD/flood.$mode.out" 2>&1 &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
	sleep 1 # under way
}
# flood_done MODE: waits for the flooder (it stops by itself; in this
# shell, whose child it is) and checks it ended well.
flood_done() {
	local rc=0
	wait "$FLOOD_PID" || rc=$?
	check "the $1 flooder stopped by itself (exit 0): $(cat "$TMPD/flood.$1.out")" test "$rc" -eq 0
}

# rss_kib PID [VmRSS|VmHWM]
rss_kib() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }

section "S and C, no flood"
start_sluice "$S" "$CS"
S_PID=$(daemon_pid "$IS")
start_sluice "$C" "$CC"
check "C -> S over the tunnel" ping_ok "$C" 198.18.0.1
check "$XFER_MB MB C -> S, sha256 matches (no flood)" xfer "no flood" 5101
check "pings C -> S: < 5% lost (no flood)" pings_answered "no flood" "$C" 198.18.0.1 10
check "S's show --json counts handshake drops by cause, and cookie replies" all_counted
info "$(counters)"
rss_0=$(rss_kib "$S_PID")

section "(a) junk the size of an initiation, up to $FLOOD_RATE a second for ${FLOOD_SECONDS} s"
mac1_0=$(counter handshake_mac1)
cookies_0=$(counter cookie_replies_sent)
answered_0=$(counter handshake_cookie)
flood junk
check "$XFER_MB MB C -> S during the junk flood, sha256 matches" xfer "junk flood" 5102
check "pings C -> S during the junk flood: < 5% lost" pings_answered "junk flood" "$C" 198.18.0.1 30
# D has never had a handshake with S: its first ping starts one. A cookie
# round trip would cost it REKEY_TIMEOUT (5 s) with WireGuard's initiators.
start_sluice "$D" "$CD"
check "D's very first ping is answered within 1 s (no cookie round trip)" \
	ip netns exec "$D" ping -n -c 1 -W 1 198.18.0.1
check "S is not under load from junk" counter_is under_load 0
check "S sent no cookie reply" counter_same cookie_replies_sent "$cookies_0"
check "S answered no handshake with a cookie" counter_same handshake_cookie "$answered_0"
check "S counts the junk (handshake_mac1)" counter_grew handshake_mac1 "$mac1_0"
flood_done junk
check "S logged bad macs at -v, rate limited" \
	logged_limited "$TMPD/$IS.log" "Invalid MAC of handshake" $((FLOOD_SECONDS * 10 + 30))
info "$(counters)"

section "(b) initiations with a right mac1 from $FLOOD_SOURCES addresses, up to $FLOOD_RATE a second for ${FLOOD_SECONDS} s"
cookies_0=$(counter cookie_replies_sent)
limited_0=$(counter handshake_ratelimit)
flood mac1 -s 198.19.200.1 -a "$FLOOD_SOURCES"
# Under load lasts 1 s past the last long queue, and the flood answered with
# cookies lets the queue drain: it may be off for a moment, so wait for it.
check "S is under load" wait_until 5 counter_is under_load 1
check "$XFER_MB MB C -> S during the mac1 flood, sha256 matches" xfer "mac1 flood" 5103
check "pings C -> S during the mac1 flood: < 5% lost" pings_answered "mac1 flood" "$C" 198.18.0.1 30
check "C stops" stop_daemon "$IC"
t0=$(date +%s%N)
start_sluice "$C" "$CC"
# ping -W 1 a try; the first try starts the handshake.
check "C restarted during the flood: its handshake gets through (a ping answered within 5 s)" \
	wait_until 5 ip netns exec "$C" ping -n -c 1 -W 1 198.18.0.1
restart_ms=$((($(date +%s%N) - t0) / 1000000))
echo "mac1 flood: C restarted, its first ping answered $restart_ms ms after it started" >>"$XFER_LOG"
check "... within ~2 s ($restart_ms ms from start to the first reply)" test "$restart_ms" -le 2500
check "S sent cookie replies" counter_grew cookie_replies_sent "$cookies_0"
check "S refused what one source sent above its share (handshake_ratelimit)" counter_grew handshake_ratelimit "$limited_0"
flood_done mac1
info "$(counters)"
check "S is out of load a little after the flood" wait_until 5 counter_is under_load 0

section "(c) garbage: any length up to 1472, any type byte, up to $FLOOD_RATE a second for ${FLOOD_SECONDS} s"
malformed_0=$(counter malformed)
flood garbage -s 198.19.200.1 -a "$FLOOD_SOURCES"
check "$XFER_MB MB C -> S during the garbage flood, sha256 matches" xfer "garbage flood" 5104
check "pings C -> S during the garbage flood: < 5% lost" pings_answered "garbage flood" "$C" 198.18.0.1 30
check "S counts the garbage (malformed)" counter_grew malformed "$malformed_0"
flood_done garbage
info "$(sluice_cli "$S" show --json "$IS" | jq -c .dropped)"
check "C -> S over the tunnel after the floods" ping_ok "$C" 198.18.0.1
rss_1=$(rss_kib "$S_PID")
echo "S's RSS: $rss_0 KiB before the floods, $rss_1 KiB after, peak $(rss_kib "$S_PID" VmHWM) KiB" >>"$XFER_LOG"
check "S's memory is flat across the floods ($rss_0 -> $rss_1 KiB, at most 4 MiB more)" \
	test "$((rss_1 - rss_0))" -le 4096

section "through the tunnel before and during the floods (printed, not asserted)"
while read -r line; do info "$line"; done <"$XFER_LOG"
info "junk: $(cat "$TMPD/flood.junk.out"); mac1: $(cat "$TMPD/flood.mac1.out"); garbage: $(cat "$TMPD/flood.garbage.out")"

section "a private key set unclamped is kept (and shown) clamped"
hex=$(printf '%s' "$ks_priv" | base64 -d | od -An -tx1 -v | tr -d ' \n')
# The three low bits and the top bit set, bit 254 cleared: all ignored by X25519.
hex=$(printf '%02x%s%02x' $((0x${hex:0:2} | 7)) "${hex:2:60}" $(((0x${hex:62:2} | 0x80) & 0xbf)))
# shellcheck disable=SC2001 # (a backreference per byte)
unclamped_b64=$(printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" | base64)
printf '%s\n' "$unclamped_b64" >"$TMPD/unclamped.key"
check "the unclamped form differs from the key" test "$unclamped_b64" != "$ks_priv"
check "wg set private-key with the unclamped form" ip netns exec "$S" timeout 10 wg set "$IS" private-key "$TMPD/unclamped.key"
shown() { ip netns exec "$S" timeout 10 wg show "$IS" "$1"; }
check "wg show private-key prints it clamped" test "$(shown private-key)" = "$ks_priv"
check "wg show public-key is unchanged" test "$(shown public-key)" = "$ks_pub"
check "the tunnel still works (the same key: sessions kept)" ping_ok "$C" 198.18.0.1

finish
