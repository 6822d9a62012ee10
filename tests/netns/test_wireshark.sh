#!/usr/bin/env bash
# tshark against real sluice traffic, captured by dumpcap inside the test's
# namespaces (capture filter: the tunnel's port only):
#  1. UDP, WireGuard's suite, SLUICE_KEYLOG set on A: tshark's own wg
#     dissector verifies the handshake (wg.handshake_ok) and decrypts the
#     pings both ways, with and without contrib/wireshark/sluice.lua loaded;
#  2. UDP, the AES-256-GCM suite (Cipher = aes-256-gcm): sluice.lua shows
#     every message as sluice.suite 1 with the right type, indices and lengths,
#     through its UDP port and through its heuristic;
#  3. the TCP transport over a 576-byte MTU, offloads off, so that frames span
#     segments: sluice.lua finds every length-prefixed frame (the same list of
#     frames as an independent parse of the raw TCP streams), reassembles the
#     ones split across segments, and wg decrypts their pings with the key log.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
# Most functions here run only through check, which shellcheck cannot follow.
# shellcheck disable=SC2317
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] &&
	cannot_run "wireguard-go has no key log, no AES-256-GCM suite and no TCP transport"
for t in tshark dumpcap; do
	command -v "$t" >/dev/null || cannot_run "'$t' not installed (run scripts/deps.sh)"
done
test_init

LUA=$ROOT/contrib/wireshark/sluice.lua
PORT=51820
N=5        # small pings each way
M=3        # large pings through the TCP transport
BIG=1200   # their payload: 1228-byte packets, frames of 1266 bytes
BURST=10   # pings sent back to back through the TCP transport

# values FIELD FILTER PCAP [TSHARK ARGS...]: every value of FIELD in the
# packets FILTER matches, one a line (a packet can hold several).
values() {
	local field=$1 filter=$2 pcap=$3; shift 3
	tsh -r "$pcap" "$@" -Y "$filter" -T fields -E occurrence=a -E aggregator=, -e "$field" |
		tr ',' '\n' | grep . || true
}

# at_least WHAT WANT GOT: says what was found; fails if GOT < WANT.
at_least() {
	echo "$1: $3 (want at least $2)"
	[ "$3" -ge "$2" ]
}
_fail() { printf '%s\n' "$@"; return 1; }

# pings NS DST COUNT [PING ARGS]: COUNT echo requests, every one answered.
pings() {
	local ns=$1 dst=$2 n=$3; shift 3
	ip netns exec "$ns" ping -n -q -c "$n" -i 0.2 -W 3 "$@" "$dst"
}

# decrypted_pings PCAP SRC DST COUNT IPLEN [TSHARK ARGS...]: the decrypted
# data of the wg dissector holds IPLEN-byte echo requests SRC -> DST with
# sequence numbers 1..COUNT and a reply to each. A packet holds one outer IP
# header and, after it, one inner IP header per decrypted ping (a TCP
# segment can carry several): the last ones are the inner ones.
decrypted_pings() {
	local pcap=$1 src=$2 dst=$3 n=$4 len=$5 seen seq bad=0; shift 5
	seen=$(tsh -r "$pcap" "$@" -Y "wg.type == 4 && icmp" -T fields -E occurrence=a -E aggregator=' ' \
		-e ip.src -e ip.dst -e ip.len -e icmp.type -e icmp.seq |
		awk -F'\t' '{
			n = split($1, s, " "); split($2, d, " "); split($3, l, " ")
			k = split($4, t, " "); split($5, q, " ")
			for (i = 1; i <= k; i++)
				print s[n - k + i], d[n - k + i], t[i], q[i], l[n - k + i]
		}')
	for ((seq = 1; seq <= n; seq++)); do
		grep -qx "$src $dst 8 $seq $len" <<<"$seen" ||
			{ echo "no decrypted $len-byte echo request $src -> $dst seq $seq"; bad=1; }
		grep -qx "$dst $src 0 $seq $len" <<<"$seen" ||
			{ echo "no decrypted $len-byte echo reply $dst -> $src seq $seq"; bad=1; }
	done
	if [ "$bad" -ne 0 ]; then
		echo "decrypted ICMP seen (src dst type seq length):"
		printf '%s\n' "$seen" | head -n 40
		return 1
	fi
	echo "$len-byte echo requests and replies $src <-> $dst, seq 1..$n, all decrypted"
}

lua_loads() {
	local p
	p=$(tsh -G protocols -X "lua_script:$LUA") || return 1
	grep -P '\tsluice$' <<<"$p" && grep -P '\tsluice_tcp$' <<<"$p"
}

# sh_all CMD1 ARGS -- CMD2 ARGS -- ...: runs each command; fails if any did.
sh_all() {
	local cmd=() rc=0 a
	for a in "$@" --; do
		if [ "$a" = -- ]; then
			[ ${#cmd[@]} -gt 0 ] && { "${cmd[@]}" || rc=1; }
			cmd=()
		else
			cmd+=("$a")
		fi
	done
	return "$rc"
}

handshake_seen() {
	local i r
	i=$(count 'wg.type == 1' "$1")
	r=$(count 'wg.type == 2' "$1")
	echo "initiations: $i, responses: $r"
	[ "$i" -ge 1 ] && [ "$r" -ge 1 ]
}

# handshake_ok PCAP [TSHARK ARGS...]: every response carries wg.handshake_ok 1.
handshake_ok() {
	local pcap=$1 v; shift
	v=$(values wg.handshake_ok 'wg.type == 2' "$pcap" "$@")
	echo "wg.handshake_ok of the responses: $(tr '\n' ' ' <<<"$v")"
	[ -n "$v" ] && ! grep -qvx 1 <<<"$v"
}

# all_wireguard PCAP: with sluice.lua, every UDP packet is still shown as
# WireGuard, and none has sluice fields.
all_wireguard() {
	local u w s
	u=$(count udp "$1")
	w=$(count wg "$1" -X "lua_script:$LUA")
	s=$(count sluice "$1" -X "lua_script:$LUA")
	echo "udp packets: $u, of which wg: $w, sluice: $s"
	[ "$u" -gt 0 ] && [ "$w" -eq "$u" ] && [ "$s" -eq 0 ]
}

# aesgcm_messages PCAP DATA [TSHARK ARGS...]: with sluice.lua, every UDP
# packet is one sluice message of suite 1, none is taken for WireGuard; at
# least one initiation and one response, whose indices match, and DATA data
# messages addressed to those indices, of which those carrying a ping (an
# 84-byte packet padded to 96) show payload_len 96.
aesgcm_messages() {
	local pcap=$1 want_data=$2 u s1 wg t1 t2 t4 fields init resp bad; shift 2
	local L=(-X "lua_script:$LUA" "$@")
	u=$(count udp "$pcap")
	s1=$(count 'sluice.suite == 1' "$pcap" "${L[@]}")
	wg=$(count wg "$pcap" "${L[@]}")
	t1=$(count 'sluice.type == 1' "$pcap" "${L[@]}")
	t2=$(count 'sluice.type == 2' "$pcap" "${L[@]}")
	t4=$(count 'sluice.type == 4' "$pcap" "${L[@]}")
	echo "udp packets: $u; sluice.suite == 1: $s1; wg: $wg; initiations $t1, responses $t2, data $t4"
	if [ "$u" -eq 0 ] || [ "$s1" -ne "$u" ]; then
		echo "=> not every packet is a suite-1 sluice message"
		return 1
	fi
	[ "$wg" -eq 0 ] || { echo "=> some were taken for WireGuard"; return 1; }
	if [ "$t1" -eq 0 ] || [ "$t2" -eq 0 ]; then
		echo "=> no handshake"
		return 1
	fi
	[ "$t4" -ge "$want_data" ] || { echo "=> fewer than $want_data data messages"; return 1; }
	fields=$(tsh -r "$pcap" "${L[@]}" -Y sluice -T fields \
		-e sluice.type -e sluice.sender -e sluice.receiver -e sluice.payload_len -e sluice.counter)
	init=$(awk -F'\t' '$1 == 1 { print $2; exit }' <<<"$fields")
	resp=$(awk -F'\t' -v i="$init" '$1 == 2 && $3 == i { print $2; exit }' <<<"$fields")
	echo "initiation sender $init, response sender ${resp:-?} (receiver $init)"
	if [ -z "$init" ] || [ -z "$resp" ]; then
		echo "=> no response addressed to the initiation's index"
		printf '%s\n' "$fields" | head
		return 1
	fi
	bad=$(awk -F'\t' -v i="$init" -v r="$resp" '$1 == 4 && $3 != i && $3 != r' <<<"$fields")
	[ -z "$bad" ] || { echo "=> data messages to other indices:"; printf '%s\n' "$bad" | head; return 1; }
	t4=$(awk -F'\t' '$1 == 4 && $4 == 96' <<<"$fields" | grep -c . || true)
	echo "data messages with payload_len 96 (pings): $t4"
	[ "$t4" -ge "$want_data" ] || { echo "=> fewer than $want_data"; return 1; }
	# Counters of each receiver index count up from 0.
	bad=$(awk -F'\t' '$1 == 4 { if ($5 != next_ctr[$3] + 0) print "receiver " $3 ": counter " $5 ", expected " next_ctr[$3] + 0; next_ctr[$3] = $5 + 1 }' <<<"$fields")
	[ -z "$bad" ] || { echo "=> counters out of order:"; printf '%s\n' "$bad" | head; return 1; }
	echo "each session's counters count up from 0"
}

# raw_frames PCAP: every frame of every TCP stream, parsed from the raw
# stream bytes (`-z follow,tcp,raw`) with no dissector involved, one
# "SRCPORT LENGTH TYPE SUITE" a line; a "PARTIAL" line for bytes at the end
# of a stream that are not a whole frame.
raw_frames() {
	local pcap=$1 s
	for s in $(tsh -r "$pcap" -Y 'tcp.len > 0' -T fields -e tcp.stream | sort -un); do
		tsh -r "$pcap" -q -z "follow,tcp,raw,$s" | awk '
			function num(h,   i, n) {
				n = 0
				for (i = 1; i <= length(h); i++)
					n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
				return n
			}
			/^Node 0: / { sub(/.*:/, ""); port[0] = $0; next }
			/^Node 1: / { sub(/.*:/, ""); port[1] = $0; body = 1; next }
			/^=+$/ { body = 0; next }
			body && /^\t/ { sub(/^\t/, ""); buf[1] = buf[1] $0; next }
			body && NF { buf[0] = buf[0] $0 }
			END {
				for (d = 0; d <= 1; d++) {
					b = buf[d]; i = 1
					while (i + 3 <= length(b)) {
						len = num(substr(b, i, 4))
						if (i + 3 + 2 * len > length(b)) break
						print port[d], len, num(substr(b, i + 4, 2)), num(substr(b, i + 6, 2))
						i += 4 + 2 * len
					}
					if (i <= length(b)) print "PARTIAL", port[d], (length(b) - i + 1) / 2, "bytes"
				}
			}'
	done
}

# lua_frames PCAP: every frame sluice.lua reports, "SRCPORT LENGTH" a line.
lua_frames() {
	tsh -r "$1" -X "lua_script:$LUA" -Y sluice.frame_len -T fields -E occurrence=a -E aggregator=' ' \
		-e tcp.srcport -e sluice.frame_len |
		awk -F'\t' '{ k = split($2, l, " "); for (i = 1; i <= k; i++) print $1, l[i] }'
}

tcp_data() {
	local n
	n=$(count 'tcp.len > 0' "$1")
	at_least "TCP segments with data" 1 "$n"
}

# frames_match PCAP: the dissector's frames are the raw streams' frames.
frames_match() {
	local raw lua
	raw=$(raw_frames "$1")
	lua=$(lua_frames "$1")
	grep PARTIAL <<<"$raw" || true
	raw=$(grep -v PARTIAL <<<"$raw" | cut -d' ' -f1,2 | sort)
	lua=$(sort <<<"$lua")
	echo "frames in the raw streams: $(grep -c . <<<"$raw"), found by sluice.lua: $(grep -c . <<<"$lua")"
	[ -n "$raw" ] || { echo "=> no frame in the raw streams"; return 1; }
	if [ "$raw" != "$lua" ]; then
		echo "=> they differ (< raw streams, > sluice.lua):"
		diff <(printf '%s\n' "$raw") <(printf '%s\n' "$lua") | head -n 30
		return 1
	fi
}

# tcp_messages PCAP DATA: every frame sluice.lua found was handed to wg and
# taken as a message of the type its raw bytes say: >= 1 initiation, >= 1
# response, >= DATA data messages; every suite byte 0.
tcp_messages() {
	local pcap=$1 want=$2 raw_types wg_types suites t
	raw_types=$(raw_frames "$pcap" | grep -v PARTIAL | cut -d' ' -f3 | sort | uniq -c)
	suites=$(raw_frames "$pcap" | grep -v PARTIAL | cut -d' ' -f4 | sort -u | tr '\n' ' ')
	wg_types=$(values wg.type wg "$pcap" -X "lua_script:$LUA" | sort | uniq -c)
	echo "raw frames by type:"; printf '%s\n' "$raw_types"
	echo "wg messages by type (through sluice.lua):"; printf '%s\n' "$wg_types"
	echo "suite bytes: $suites"
	[ "$raw_types" = "$wg_types" ] || { echo "=> they differ"; return 1; }
	[ "$suites" = "0 " ] || { echo "=> not all of WireGuard's suite"; return 1; }
	for t in 1 2; do
		grep -Eq "^ *[0-9]+ $t\$" <<<"$wg_types" || { echo "=> no message of type $t"; return 1; }
	done
	t=$(awk '$2 == 4 { print $1 }' <<<"$wg_types")
	at_least "data messages" "$want" "${t:-0}"
}

# frames_span PCAP WANT: at least WANT frames are longer than the longest
# TCP segment, so sluice.lua found them by reassembling segments.
frames_span() {
	local mss n
	mss=$(values tcp.len 'tcp.len > 0' "$1" | sort -n | tail -n1)
	n=$(lua_frames "$1" | awk -v m="$mss" '$2 + 2 > m' | grep -c . || true)
	echo "longest TCP segment: $mss bytes"
	at_least "frames longer than that, reassembled" "$2" "$n"
}

no_wg_without_lua() {
	local n
	n=$(count wg "$1")
	echo "packets tshark alone takes for WireGuard: $n"
	[ "$n" -eq 0 ]
}

section "underlay: two namespaces, one veth"
ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
check "underlay works (A pings B over the veth)" ip netns exec "$A" ping -n -c1 -W2 192.0.2.2
check "tshark with sluice.lua lists the protocols sluice and sluice_tcp" lua_loads

keypair ka
keypair kb
psk=$(wg genpsk)

# confs SUFFIX A_PEER_LINES B_INTERFACE_LINES B_PEER_LINES: a pair of configs;
# sets IA IB CA CB. A is 198.18.0.1 on port A_PORT, B 198.18.0.2 on B_PORT.
A_PORT=$PORT
B_PORT=$((PORT + 1))
confs() {
	ifname IA "a$1"
	ifname IB "b$1"
	CA=$(conf_write "$IA" <<-EOF
		[Interface]
		PrivateKey = $ka_priv
		ListenPort = $A_PORT
		Address = 198.18.0.1/24

		[Peer]
		PublicKey = $kb_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.2/32
		$2
		EOF
	)
	CB=$(conf_write "$IB" <<-EOF
		[Interface]
		PrivateKey = $kb_priv
		ListenPort = $B_PORT
		Address = 198.18.0.2/24
		$3

		[Peer]
		PublicKey = $ka_pub
		PresharedKey = $psk
		AllowedIPs = 198.18.0.1/32
		$4
		EOF
	)
}

# stop_pair: both daemons of this part stop cleanly.
stop_pair() {
	check "A stops on SIGTERM" stop_daemon "$IA"
	check "B stops on SIGTERM" stop_daemon "$IB"
}

# --- 1. UDP, WireGuard's suite ----------------------------------------------
section "UDP, WireGuard's suite, SLUICE_KEYLOG on A: tshark's wg dissector decrypts"
confs 1 "Endpoint = 192.0.2.2:$B_PORT" "" "Endpoint = 192.0.2.1:$A_PORT"
P1="$TMPD/udp.pcap"
K1="$TMPD/a1.keys"
capture_start "$A" ua "udp port $PORT" "$P1"
SLUICE_KEYLOG=$K1 start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "$N pings A -> B through the tunnel (A initiates)" pings "$A" 198.18.0.2 "$N"
check "$N pings B -> A through the tunnel" pings "$B" 198.18.0.1 "$N"
check "capture of udp port $PORT" capture_stop "$P1"
stop_pair
check "A wrote a key log with its handshake's ephemeral key" grep -q '^LOCAL_EPHEMERAL_PRIVATE_KEY = ' "$K1"

WG1=(-o "wg.keylog_file:$K1" -o wg.dissect_packet:TRUE)
check "tshark sees a handshake initiation and a response as WireGuard" handshake_seen "$P1"
check "with the key log, every handshake response decrypts (wg.handshake_ok == 1)" \
	handshake_ok "$P1" "${WG1[@]}"
check "decrypted data: pings A -> B and their replies" decrypted_pings "$P1" 198.18.0.1 198.18.0.2 "$N" 84 "${WG1[@]}"
check "decrypted data: pings B -> A and their replies" decrypted_pings "$P1" 198.18.0.2 198.18.0.1 "$N" 84 "${WG1[@]}"
check "with sluice.lua loaded: still wg.handshake_ok == 1" \
	handshake_ok "$P1" -X "lua_script:$LUA" "${WG1[@]}"
check "with sluice.lua loaded: still every ping decrypted, both ways" \
	sh_all decrypted_pings "$P1" 198.18.0.1 198.18.0.2 "$N" 84 -X "lua_script:$LUA" "${WG1[@]}" \
	-- decrypted_pings "$P1" 198.18.0.2 198.18.0.1 "$N" 84 -X "lua_script:$LUA" "${WG1[@]}"
check "with sluice.lua loaded: every packet is still WireGuard, none claimed as sluice" \
	all_wireguard "$P1"

# --- 2. UDP, the AES-256-GCM suite ------------------------------------------
section "UDP, the AES-256-GCM suite: sluice.lua shows sluice.suite 1 messages"
confs 2 "Endpoint = 192.0.2.2:$B_PORT
		Cipher = aes-256-gcm" "" "Endpoint = 192.0.2.1:$A_PORT
		Cipher = aes-256-gcm"
P2="$TMPD/aesgcm.pcap"
capture_start "$A" ua "udp port $PORT" "$P2"
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "$N pings A -> B through the tunnel (A initiates)" pings "$A" 198.18.0.2 "$N"
check "$N pings B -> A through the tunnel" pings "$B" 198.18.0.1 "$N"
check "capture of udp port $PORT" capture_stop "$P2"
stop_pair
check "the AES-256-GCM messages: suite, types, indices, lengths (via sluice.lua's UDP port)" \
	aesgcm_messages "$P2" "$((4 * N))"
check "the same via sluice.lua's heuristic alone (-o sluice.udp_port:0)" \
	aesgcm_messages "$P2" "$((4 * N))" -o sluice.udp_port:0

# --- 3. the TCP transport ---------------------------------------------------
section "TCP transport, 576-byte MTU underlay: sluice.lua finds and reassembles every frame"
# Small segments: MTU 576 (MSS 536), and no GSO, or the capture would show
# the stack's 64 KB super-segments instead of what crosses the wire.
check "underlay MTU 576 and one segment per GSO packet on both ends" \
	sh -c "ip -n $A link set ua mtu 576 gso_max_segs 1 && ip -n $B link set ub mtu 576 gso_max_segs 1"
# B is the TCP server on $PORT, A the client.
A_PORT=$((PORT + 1)) B_PORT=$PORT
confs 3 "Endpoint = tcp://192.0.2.2:$PORT" "Transport = tcp" ""
P3="$TMPD/tcp.pcap"
K3="$TMPD/a3.keys"
capture_start "$A" ua "tcp port $PORT" "$P3"
tcp_up=1
if ! start_sluice "$B" "$CB"; then
	check "B comes up as a TCP server ([Interface] Transport = tcp)" _fail \
		"sluice refused Transport = tcp or died: the TCP transport (src/tcp.c) is missing or broken (log in the dump below)"
	tcp_up=0
elif ! SLUICE_KEYLOG=$K3 start_sluice "$A" "$CA"; then
	check "A comes up as a TCP client (Endpoint = tcp://192.0.2.2:$PORT)" _fail \
		"sluice refused a tcp:// Endpoint or died: the TCP transport (src/tcp.c) is missing or broken (log in the dump below)"
	tcp_up=0
fi
if [ $tcp_up = 1 ] && ! wait_until 5 _listening "$B" "$PORT"; then
	check "B listens on TCP port $PORT ([Interface] Transport = tcp)" _fail \
		"nothing listens on TCP port $PORT in B: sluice ignored Transport = tcp (is the TCP transport, src/tcp.c, built in?) (log in the dump below)"
	tcp_up=0
fi
if [ $tcp_up = 1 ]; then
	check "$N pings A -> B through the TCP transport (A initiates)" pings "$A" 198.18.0.2 "$N"
	check "$M pings A -> B of $BIG bytes (frames of $((BIG + 28 + 32 + 2 + 4)) bytes, over several segments)" \
		pings "$A" 198.18.0.2 "$M" -s "$BIG"
	check "$N pings B -> A through the TCP transport" pings "$B" 198.18.0.1 "$N"
	check "a burst of $BURST pings B -> A sent at once (frames share segments)" \
		pings "$B" 198.18.0.1 "$BURST" -l "$BURST" -s 36
fi
check "capture of tcp port $PORT" capture_stop "$P3"
if [ $tcp_up = 1 ]; then
	stop_pair
	check "the capture holds a TCP connection with data on port $PORT" tcp_data "$P3"
	check "sluice.lua finds every frame: the same (port, length) list as the raw TCP streams" \
		frames_match "$P3"
	check "every frame is a WireGuard message: >= 1 initiation, >= 1 response, >= $((4 * N + 2 * M)) data" \
		tcp_messages "$P3" "$((4 * N + 2 * M))"
	check "frames longer than a segment are reassembled: >= $((2 * M)) of them" \
		frames_span "$P3" "$((2 * M))"
	WG3=(-X "lua_script:$LUA" -o "wg.keylog_file:$K3" -o wg.dissect_packet:TRUE)
	check "with the key log, the handshake over TCP decrypts (wg.handshake_ok == 1)" \
		handshake_ok "$P3" "${WG3[@]}"
	check "decrypted: small pings A -> B and replies" decrypted_pings "$P3" 198.18.0.1 198.18.0.2 "$N" 84 "${WG3[@]}"
	check "decrypted: small pings B -> A and replies" decrypted_pings "$P3" 198.18.0.2 198.18.0.1 "$N" 84 "${WG3[@]}"
	check "decrypted: the $BIG-byte pings, reassembled from several segments" \
		decrypted_pings "$P3" 198.18.0.1 198.18.0.2 "$M" "$((BIG + 28))" "${WG3[@]}"
	check "decrypted: the burst of pings B -> A and replies" \
		decrypted_pings "$P3" 198.18.0.2 198.18.0.1 "$BURST" 64 "${WG3[@]}"
	check "without sluice.lua tshark finds no WireGuard message on TCP (the above is sluice.lua's work)" \
		no_wg_without_lua "$P3"
fi

finish
