#!/usr/bin/env bash
# The TCP transport on a hostile network. A server namespace S (Transport =
# tcp), a client C (Endpoint = tcp://192.0.2.1:51820), a flooder X:
#   - the client moves: while it pings through the tunnel, its underlay
#     address 192.0.2.2 is replaced by 192.0.2.3, and nftables in C drops
#     whatever still carries the old one, so the old connection is dead
#     both ways. The client gives up on it and dials again: pings answered
#     again within 8 s (the figure is printed), where the kernel's own TCP
#     timeout used to take 31;
#   - a connection flood: from 20 IPv4 and 300 IPv6 (/64) source addresses,
#     X keeps six connections each open to the server (more than the four a
#     source may have waiting), silent but for every eighth, which sends
#     garbage, and opens again whatever the server closes. Meanwhile the
#     real client is restarted three times: each time it must be pinging
#     through the tunnel within 5 s. The server's RSS is printed before,
#     during and after, and must stay within 32 MiB of where it started.
# keypair and ns_new set variables by name (ks_pub, S...); shellcheck can't see it.
# shellcheck disable=SC2154
# The helpers below run through `check`, which shellcheck does not follow.
# shellcheck disable=SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
# Not cannot_run: under CI=true that fails, and no wireguard-go will ever pass this.
if [ "$SLUICE_IMPL" = wggo ]; then echo "skipped: wireguard-go has no TCP transport"; exit 77; fi
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
command -v python3 >/dev/null || cannot_run "'python3' not installed"
test_init

FLOOD="$ROOT/tests/tools/tcp_flood.py"

section "underlay: server S, client C, flooder X"
ns_new S srv
ns_new C cli
ns_new X fld
veth "$S" us "$C" uc
addr "$S" us 192.0.2.1/24
addr "$C" uc 192.0.2.2/24
veth "$S" ux "$X" xs
addr "$S" ux 198.51.100.1/24
addr "$S" ux 2001:db8:f0::1/48
# X's sources: 198.51.100.10-29 and 2001:db8:f0:N::2/64, N = 1..300.
: >"$TMPD/sources"
{
	for i in $(seq 10 29); do
		echo "address add 198.51.100.$i/24 dev xs"
		echo "198.51.100.$i" >>"$TMPD/sources"
	done
	for i in $(seq 1 300); do
		printf 'address add 2001:db8:f0:%x::2/64 dev xs nodad\n' "$i"
		printf '2001:db8:f0:%x::2\n' "$i" >>"$TMPD/sources"
	done
	echo "route add 2001:db8:f0::/48 dev xs"
} | ip -n "$X" -b -
check "underlay works (C and X reach S, from X's first and last sources)" \
	sh -c "ip netns exec $C ping -n -c1 -W2 192.0.2.1 &&
	       ip netns exec $X ping -n -c1 -W2 -I 198.51.100.29 198.51.100.1 &&
	       ip netns exec $X ping -n -c1 -W2 -I 2001:db8:f0:12c::2 2001:db8:f0::1"

keypair ks
keypair kc
ifname IS s
ifname IC c
CS=$(conf_write "$IS" <<EOF
[Interface]
PrivateKey = $ks_priv
ListenPort = 51820
Transport = tcp
Address = 198.18.0.1/24

[Peer]
PublicKey = $kc_pub
AllowedIPs = 198.18.0.2/32
EOF
)
CC=$(conf_write "$IC" <<EOF
[Interface]
PrivateKey = $kc_priv
Address = 198.18.0.2/24

[Peer]
PublicKey = $ks_pub
AllowedIPs = 198.18.0.1/32
Endpoint = tcp://192.0.2.1:51820
EOF
)

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }


# drops NS IFACE CAUSE: the daemon's counter of drops for CAUSE (get=2).
drops() {
	printf 'get=2\n\n' | ip netns exec "$1" timeout 5 nc -N -U "$WG_RUN/$2.sock" |
		sed -n "s/^sluice_drop_$3=//p"
}

# first_reply_after LOG T: the time (s, as `ping -D` prints it) of the first
# reply in LOG to a request sent after T (its time less its round trip);
# fails if there is none yet.
first_reply_after() {
	awk -v t="$2" '/bytes from/ && match($0, /time=[0-9.]+/) {
			s = substr($1, 2, length($1) - 2)
			if (s - substr($0, RSTART + 5, RLENGTH - 5) / 1000 > t + 0) { print s; found = 1; exit }
		}
		END { exit !found }' "$1"
}

# rss_kib PID [VmRSS|VmHWM]
rss_kib() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }

section "the client moves: 192.0.2.2 -> 192.0.2.3 while it pings through the tunnel"
start_sluice "$S" "$CS"
SERVER_PID=$LAST_PID
start_sluice "$C" "$CC"
CLIENT_PID=$LAST_PID
check "C -> S over the tunnel" ping_ok "$C" 198.18.0.1
check "C's connection comes from 192.0.2.2" \
	sh -c "ip netns exec $C ss -Htn state established 'src 192.0.2.2 dst 192.0.2.1:51820' | grep -q ."
ping_log="$TMPD/ping-move.log"
ip netns exec "$C" env --default-signal=INT ping -n -D -i 0.2 -W 1 198.18.0.1 >"$ping_log" 2>&1 &
PING=$!
PIDS+=("$PING")
sleep 1
# The old 4-tuple is dead both ways: nothing leaves with the old address,
# nothing addressed to it is taken in (whatever the kernel would make of a
# packet to an address it no longer has).
ip netns exec "$C" nft -f - <<'EOF'
table inet sluice_hostile {
	chain output {
		type filter hook output priority 0;
		ip saddr 192.0.2.2 counter drop
	}
	chain input {
		type filter hook input priority 0;
		ip daddr 192.0.2.2 counter drop
	}
}
EOF
ip -n "$C" addr del 192.0.2.2/24 dev uc
ip -n "$C" addr add 192.0.2.3/24 dev uc
# From here on, a request can only be answered over a new connection.
moved_at=$(date +%s.%N)
if wait_until 20 first_reply_after "$ping_log" "$moved_at"; then
	back=$(first_reply_after "$ping_log" "$moved_at")
	back_ms=$(awk -v a="$back" -v b="$moved_at" 'BEGIN { printf "%d", (a - b) * 1000 }')
else
	back_ms=""
fi
kill -INT "$PING" 2>/dev/null; wait "$PING" 2>/dev/null || true
info "pings through the tunnel answered again ${back_ms:-(never)} ms after the client's address changed"
check "the tunnel is back within 8 s of the move" sh -c "[ -n '$back_ms' ] && [ '$back_ms' -lt 8000 ]"
check "C's new connection comes from 192.0.2.3" \
	wait_until 5 sh -c "ip netns exec $C ss -Htn state established 'src 192.0.2.3 dst 192.0.2.1:51820' | grep -q ."
check "C's log: the old connection was given up and a new one made" \
	wait_until 5 sh -c "grep -q 'tcp: connection to 192.0.2.1:51820 lost: Connection timed out' $TMPD/$IC.log &&
	       [ \$(grep -c 'tcp: connected to 192.0.2.1:51820' $TMPD/$IC.log) -ge 2 ]"
check "S closed the old connection once the client came back on the new one" \
	wait_until 5 sh -c "! ip netns exec $S ss -Htn state established 'dst 192.0.2.2' | grep -q ."
check "S -> C over the tunnel" ping_ok "$S" 198.18.0.2
ip netns exec "$C" nft delete table inet sluice_hostile

section "a connection flood from 320 sources while the real client reconnects"
rss_before=$(rss_kib "$SERVER_PID")
info "server RSS before the flood: $rss_before KiB"
flood_out="$TMPD/flood.out"
ip netns exec "$X" timeout -k 5 40 python3 "$FLOOD" 198.51.100.1 2001:db8:f0::1 51820 "$TMPD/sources" \
	6 8 25 30000 >"$flood_out" 2>&1 &
FLOODER=$!
PIDS+=("$FLOODER")
# established_from_x: connections from X that S's kernel holds (accepted or not).
established_from_x() {
	ip netns exec "$S" ss -Htn state established "( dst 198.51.100.0/24 or dst 2001:db8:f0::/48 )" | wc -l
}
flood_on() { [ "$(established_from_x)" -ge 500 ]; }
check "the flood is on: S holds at least 500 connections from X" wait_until 15 flood_on
info "S holds $(established_from_x) connections from X"
worst=0
for round in 1 2 3; do
	stop_pid "$CLIENT_PID" || true
	start_sluice "$C" "$CC"
	CLIENT_PID=$LAST_PID
	t0=$(date +%s%N)
	if wait_until 10 ip netns exec "$C" ping -n -c 1 -W 1 198.18.0.1; then
		took=$(ms_since "$t0")
	else
		took=99999
	fi
	info "round $round: the restarted client pinged through the tunnel after $took ms" \
		"(S holds $(established_from_x) connections from X, RSS $(rss_kib "$SERVER_PID") KiB)"
	[ "$took" -gt "$worst" ] && worst=$took
done
# Within one handshake retry (REKEY_TIMEOUT, 5 s): once in about six runs
# the first initiation of a round is lost under the flood and the retry
# carries it (seen: 5.8 s); usually it takes tens of milliseconds.
check "each time, the client was through within one handshake retry, 8 s (worst: $worst ms)" sh -c "[ $worst -lt 8000 ]"
rss_during=$(rss_kib "$SERVER_PID")
wait "$FLOODER" 2>/dev/null || true
info "$(cat "$flood_out")"
check "the flooder ran (and said how)" grep -q '^flood: attempts=' "$flood_out"
check "S is still running" kill -0 "$SERVER_PID"
check "C -> S still pings after the flood" ping_ok "$C" 198.18.0.1
rss_after=$(rss_kib "$SERVER_PID")
rss_peak=$(rss_kib "$SERVER_PID" VmHWM)
info "server RSS: before $rss_before KiB, during $rss_during KiB, after $rss_after KiB, peak $rss_peak KiB"
check "the server's RSS stayed within 32 MiB of where it started" \
	sh -c "[ $((rss_peak - rss_before)) -lt 32768 ]"
info "S's kernel: $(ip netns exec "$S" nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpExtSyncookiesSent |
	awk 'NR > 1 { printf "%s %s  ", $1, $2 }')"
info "S's drops: conn_limit $(drops "$S" "$IS" tcp_conn_limit), framing $(drops "$S" "$IS" tcp_framing)," \
	"auth_timeout $(drops "$S" "$IS" tcp_auth_timeout)"
over_limits() { [ "$(drops "$S" "$IS" tcp_conn_limit)" -gt 100 ]; }
check "S refused or evicted connections over its limits" over_limits
check "S stops on SIGTERM" stop_pid "$SERVER_PID"
check "C stops on SIGTERM" stop_pid "$CLIENT_PID"

finish
