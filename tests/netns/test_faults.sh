#!/usr/bin/env bash
# A bad network between two peers. Client C, relay R, server S, each in its
# own namespace; R has a veth to each and runs build/tools/faultrelay, and
# C's Endpoint is R, so every datagram (or TCP byte) between C and S passes
# through R's faults:
#   - UDP, 7% of datagrams lost both ways: a checksummed transfer completes;
#   - UDP, 5% duplicated, 10% reordered, 1% corrupted: the transfer
#     completes intact, and C and S count the duplicates as replays and the
#     corrupted ones as failing authentication (or malformed), in numbers
#     tied to what R says it did;
#   - UDP, 3% truncated: the transfer completes, the cut datagrams counted;
#   - UDP, every datagram duplicated: pings are answered once (no DUP!);
#   - kill -9 of C and a restart: the tunnel is back within a few seconds;
#   - TCP (Transport = tcp on S, Endpoint = tcp://R): a transfer through
#     20 ms of delay each way; R resets the connection: C redials and pings
#     are answered within 6 s; through stalls (1 s in 3) and a reset after
#     8 s a transfer completes and pings come back; with 1% of reads
#     corrupted the tunnel keeps working (the frame or the connection
#     dropped, the connection redialed).
# keypair and ns_new set variables by name (ks_pub, S...); shellcheck can't see it.
# Helpers run through check (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
RELAY=${RELAY:-$ROOT/build/tools/faultrelay}
[ "$SLUICE_IMPL" = wggo ] && cannot_run "reads sluice's own drop counters (sluice show --json)"
[ -x "$RELAY" ] || cannot_run "$RELAY not built (make build/tools/faultrelay)"
command -v jq >/dev/null || cannot_run "'jq' not installed (run scripts/deps.sh)"
test_init

SEED=${FAULT_SEED:-$RANDOM}
info "faultrelay seed $SEED (FAULT_SEED=$SEED repeats the relay's decisions)"

section "underlay: C -- R -- S"
ns_new C c
ns_new R r
ns_new S s
veth "$C" cr "$R" rc
veth "$R" rs "$S" sr
addr "$C" cr 192.0.2.2/24
addr "$R" rc 192.0.2.1/24
addr "$R" rs 198.51.100.1/24
addr "$S" sr 198.51.100.2/24
check "underlay works (C reaches R, R reaches S; C cannot reach S)" sh -c "
	ip netns exec $C ping -n -c1 -W2 192.0.2.1 && ip netns exec $R ping -n -c1 -W2 198.51.100.2 &&
	! ip netns exec $C ping -n -c1 -W1 198.51.100.2"

keypair ks
keypair kc
ifname IS s
ifname IC c
ifname JS t
ifname JC d
# server IFACE TRANSPORT TUNNEL_NET / client IFACE ENDPOINT TUNNEL_NET
server_conf() {
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $ks_priv
		ListenPort = 51820
		Transport = $2
		Address = $3.1/24

		[Peer]
		PublicKey = $kc_pub
		AllowedIPs = $3.2/32
		EOF
}
client_conf() {
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $kc_priv
		Address = $3.2/24

		[Peer]
		PublicKey = $ks_pub
		AllowedIPs = $3.1/32
		Endpoint = $2
		EOF
}
CS=$(server_conf "$IS" udp 198.18.0)
CC=$(client_conf "$IC" 192.0.2.1:51820 198.18.0)

# relay udp|tcp PORT OPTIONS...: faultrelay in R from PORT to S's 51820, in
# the background (RELAY_PID: the relay itself, which stops by itself after
# 120 s), its summary line in TMPD/relay.out.
relay() {
	local kind=$1 port=$2; shift 2
	ip netns exec "$R" "$RELAY" "$kind" -l "192.0.2.1:$port" -t 198.51.100.2:51820 --seconds 120 \
		--seed "$SEED" "$@" >"$TMPD/relay.out" 2>&1 &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
	wait_until 5 _relay_up "$kind" "$port" || { echo "faultrelay did not start:"; cat "$TMPD/relay.out"; return 1; }
}
_relay_up() { ip netns exec "$R" ss -Hn"${1:0:1}"l "sport = :$2" | grep . >/dev/null; }
# relay_stop: SIGTERM; the relay prints its counts (RELAY_OUT) and exits 0.
relay_stop() {
	local rc=0
	kill -TERM "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" || rc=$?
	RELAY_OUT=$(cat "$TMPD/relay.out")
	info "$RELAY_OUT"
	return "$rc"
}
# relay_count KEY: a number from the relay's summary.
relay_count() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$RELAY_OUT"; }

# drops NS IFACE CAUSE...: the sum of these drop counters of IFACE in NS.
drops() {
	local ns=$1 ifc=$2; shift 2
	sluice_cli "$ns" show --json "$ifc" | jq --args '[.dropped[$ARGS.positional[]] // 0] | add' "$@"
}
# drops_both CAUSE...: the sum over C and S.
# over DC and DS, the interfaces of the section.
drops_both() { echo $(($(drops "$C" "$DC" "$@") + $(drops "$S" "$DS" "$@"))); }
DC=$IC DS=$IS
# xfer LABEL ARGS...: lib.sh's transfer, its "N MB in T ms" kept for the end.
xfer() {
	local label=$1 out rc=0; shift
	out=$(transfer "$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	printf '%s: %s\n' "$label" "$(grep ' MB in ' <<<"$out")" >>"$TMPD/xfer.log"
	return "$rc"
}
# at_least WHAT GOT WANT: GOT >= WANT, said either way.
at_least() {
	echo "$1: $2 (want at least $3)"
	[ "$2" -ge "$3" ]
}

section "UDP through R: lossless first"
start_sluice "$S" "$CS"
SPID=$LAST_PID
start_sluice "$C" "$CC"
CPID=$LAST_PID
relay udp 51820
check "C -> S through R" ping_ok "$C" 198.18.0.1
check "5 MB C -> S through R, sha256 matches" xfer "UDP, no faults" "$C" "$S" 198.18.0.1 5 5001
relay_stop
check "R relayed and did nothing else" test "$(relay_count dropped)$(relay_count duplicated)" = 00

section "UDP, 7% of datagrams lost each way"
relay udp 51820 --drop 7
check "20 MB C -> S, sha256 matches" xfer "UDP, 7% loss" "$C" "$S" 198.18.0.1 20 5002
relay_stop
check "R dropped datagrams" test "$(relay_count dropped)" -gt 0

section "UDP, 5% duplicated, 10% reordered, 1% corrupted"
replay_0=$(drops_both replay)
bad_0=$(drops_both decrypt malformed no_session)
relay udp 51820 --dup 5 --reorder 10 --reorder-after 3 --reorder-ms 20 --corrupt 1
check "20 MB C -> S, sha256 matches" xfer "UDP, dup 5% reorder 10% corrupt 1%" "$C" "$S" 198.18.0.1 20 5003
check "C -> S after it" ping_ok "$C" 198.18.0.1
relay_stop
dup=$(relay_count duplicated)
cor=$(relay_count corrupted)
# Every duplicate is a replay, unless the copy was corrupted (then it fails
# authentication) or a socket buffer lost it: at least half is generous.
check "C and S count replays: at least half the $dup duplicates R sent" \
	at_least "replay drops" $(($(drops_both replay) - replay_0)) $((dup / 2))
check "C and S count the $cor corrupted datagrams (decrypt, malformed or no_session): at least half" \
	at_least "decrypt+malformed+no_session drops" $(($(drops_both decrypt malformed no_session) - bad_0)) \
	$(((cor + 1) / 2))

section "UDP, 3% truncated"
bad_0=$(drops_both decrypt malformed no_session)
relay udp 51820 --truncate 3
check "10 MB C -> S, sha256 matches" xfer "UDP, truncate 3%" "$C" "$S" 198.18.0.1 10 5004
relay_stop
cut=$(relay_count truncated)
check "R truncated datagrams" test "$cut" -gt 0
check "C and S count the $cut truncated datagrams (malformed, decrypt or no_session): at least half" \
	at_least "decrypt+malformed+no_session drops" $(($(drops_both decrypt malformed no_session) - bad_0)) \
	$(((cut + 1) / 2))

section "UDP, every datagram duplicated: nothing delivered twice"
replay_0=$(drops_both replay)
relay udp 51820 --dup 100
ip netns exec "$C" ping -n -c 20 -i 0.05 -W 1 198.18.0.1 >"$TMPD/ping.dup" 2>&1 || true
relay_stop
check "20 pings answered" grep -q '20 received' "$TMPD/ping.dup"
check "no reply delivered twice (no DUP! from ping)" sh -c "! grep -q 'DUP!' $TMPD/ping.dup"
check "at least 40 replays counted (each ping and each reply once)" \
	at_least "replay drops" $(($(drops_both replay) - replay_0)) 40

section "kill -9 of C, and a restart"
relay udp 51820 --drop 1
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null || true
check "C's interface went with it" wait_until 5 sh -c "! ip -n $C link show $IC"
t0=$(date +%s%N)
start_sluice "$C" "$CC"
CPID=$LAST_PID
check "C restarted: a ping answered within 5 s" wait_until 5 ip netns exec "$C" ping -n -c 1 -W 1 198.18.0.1
info "first reply $((($(date +%s%N) - t0) / 1000000)) ms after the restart"
check "5 MB C -> S, sha256 matches" xfer "UDP, 1% loss, after kill -9" "$C" "$S" 198.18.0.1 5 5005
relay_stop
check "C stops" stop_pid "$CPID"
check "S stops" stop_pid "$SPID"

section "TCP through R: 20 ms each way"
TS=$(server_conf "$JS" tcp 198.18.2)
TC=$(client_conf "$JC" tcp://192.0.2.1:51821 198.18.2)
DC=$JC DS=$JS
relay tcp 51821 --delay 20
start_sluice "$S" "$TS"
start_sluice "$C" "$TC"
check "C -> S over TCP through R" ping_ok "$C" 198.18.2.1
check "5 MB C -> S, sha256 matches" xfer "TCP, 20 ms delay" "$C" "$S" 198.18.2.1 5 5006
kill -USR1 "$RELAY_PID"
t0=$(date +%s%N)
check "R reset the connection: C redials, a ping answered within 6 s" \
	wait_until 6 ip netns exec "$C" ping -n -c 1 -W 1 198.18.2.1
info "first reply $((($(date +%s%N) - t0) / 1000000)) ms after the reset"
relay_stop
check "R accepted a second connection, after the reset" sh -c "[ $(relay_count accepted) -ge 2 ] && [ $(relay_count resets) -ge 1 ]"

section "TCP, the relay stalls 1 s in every 3 s, and resets the connection after 8 s"
relay tcp 51821 --stall-every 3000 --stall-ms 1000 --reset-after 8000
check "5 MB C -> S through the stalls, sha256 matches" xfer "TCP, stalls" "$C" "$S" 198.18.2.1 5 5008
check "C -> S after it (a ping within 6 s)" wait_until 6 ip netns exec "$C" ping -n -c 1 -W 1 198.18.2.1
sleep 9 # past the reset: at least one came and went
check "C -> S after the reset (a ping within 6 s)" wait_until 6 ip netns exec "$C" ping -n -c 1 -W 1 198.18.2.1
relay_stop
check "R stalled and reset" sh -c "[ $(relay_count stalls) -ge 1 ] && [ $(relay_count resets) -ge 1 ]"

section "TCP, 1% of reads with a byte flipped"
bad_0=$(drops_both decrypt malformed no_session tcp_framing tcp_truncated)
relay tcp 51821 --corrupt 1
ip netns exec "$C" ping -n -q -c 100 -i 0.05 -s 1200 -W 1 198.18.2.1 >/dev/null 2>&1 || true
check "5 MB C -> S, sha256 matches" xfer "TCP, corrupt 1% of reads" "$C" "$S" 198.18.2.1 5 5007
check "the tunnel works after it (a ping within 6 s)" wait_until 6 ip netns exec "$C" ping -n -c 1 -W 1 198.18.2.1
relay_stop
cor=$(relay_count corrupted)
info "C and S dropped $(($(drops_both decrypt malformed no_session tcp_framing tcp_truncated) - bad_0)) (decrypt, malformed, no_session, tcp_framing, tcp_truncated) for $cor corrupted reads"
check "R corrupted reads" test "$cor" -gt 0
check "C and S counted a drop for them" \
	at_least "drops" $(($(drops_both decrypt malformed no_session tcp_framing tcp_truncated) - bad_0)) 1

section "transfers (printed, not asserted)"
while read -r line; do info "$line"; done <"$TMPD/xfer.log"

finish
