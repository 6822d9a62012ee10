#!/usr/bin/env bash
# TAP mode (Mode = tap): three "LANs" joined into one broadcast domain
# through a server. Each LAN is a namespace with a bridge, sluice's TAP
# enslaved to it (Bridge = lan0), and a host namespace behind it on a veth.
# The hosts share 198.18.5.0/24 with no route anywhere: ARP resolves
# across, IPv6 link-local pings work, a broadcast ping is answered from the
# far LANs, frames of a custom EtherType arrive intact; UDP and TCP
# transports and both suites carry 50 MB checksummed; AllowedMACs and MAC
# poisoning are refused and counted. On the same server host a TUN-mode
# interface serves a TUN sluice peer and a wireguard-go peer, which work
# and receive none of the L2 traffic; pointed at the TAP interface, their
# handshakes are refused as a mode mismatch and counted.
# keypair and ns_new set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init
[ "$SLUICE_IMPL" = wggo ] && cannot_run "TAP mode is sluice's own (wireguard-go has none)"
command -v python3 >/dev/null || cannot_run "'python3' not installed (run scripts/deps.sh)"
command -v jq >/dev/null || cannot_run "'jq' not installed (run scripts/deps.sh)"
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
for t in tshark dumpcap; do
	command -v "$t" >/dev/null || cannot_run "'$t' not installed (run scripts/deps.sh)"
done
RAW="$ROOT/tests/tools/rawframe.py"
ETHERTYPE=0x88b5 # IEEE 802 local experimental

section "underlay: a bridge in the server namespace; LANs and TUN peers on it"
ns_new S srv
ip -n "$S" link add ubr type bridge
ip -n "$S" link set ubr up
addr "$S" ubr 192.0.2.1/24
# The LAN namespaces carry frames only: no IPv6 of their own, so nothing
# but the hosts' frames crosses (the counters below see only what we send).
for i in 1 2 3; do
	ns_new "L$i" "l$i"
	ns_new "H$i" "h$i"
	l="L$i" h="H$i"
	ip netns exec "${!l}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	veth "$S" "portl$i" "${!l}" eth0
	ip -n "$S" link set "portl$i" master ubr
	addr "${!l}" eth0 "192.0.2.1$i/24"
	ip -n "${!l}" link add lan0 type bridge
	ip -n "${!l}" link set lan0 up
	ip netns exec "${!h}" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.icmp_echo_ignore_broadcasts=0
	ip -n "${!l}" link add "hport" type veth peer name eth0 netns "${!h}"
	ip -n "${!l}" link set hport master lan0 up
	ip -n "${!h}" link set eth0 address "02:00:00:00:05:0$i" mtu 1404 up
	addr "${!h}" eth0 "198.18.5.$i/24"
done
for p in T W; do
	ns_new "$p" "$(echo "$p" | tr TW tw)"
	veth "$S" "port$p" "${!p}" eth0
	ip -n "$S" link set "port$p" master ubr
done
addr "$T" eth0 192.0.2.21/24
addr "$W" eth0 192.0.2.22/24
check "underlay works (server pings every LAN and TUN peer)" sh -c \
	"for i in 11 12 13 21 22; do ip netns exec $S ping -n -c1 -W2 192.0.2.\$i || exit 1; done"

keypair ks # the server's TAP interface
keypair ku # the server's TUN interface
keypair k1
keypair k2
keypair k3
keypair kt
keypair kw
ifname IS s
ifname IU u
ifname I1 1
ifname I2 2
ifname I3 3
ifname IT t
ifname IW w

CS=$(conf_write "$IS" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	Mode = tap
	ListenPort = 51820
	Transport = udp,tcp
	Address = 198.18.5.100/24

	[Peer]
	# LAN 1: UDP, ChaCha20-Poly1305
	PublicKey = $k1_pub

	[Peer]
	# LAN 2: UDP, AES-256-GCM, only its host's address
	PublicKey = $k2_pub
	Cipher = aes-256-gcm
	AllowedMACs = 02:00:00:00:05:02

	[Peer]
	# LAN 3: TCP, AES-256-GCM
	PublicKey = $k3_pub
	Cipher = aes-256-gcm

	[Peer]
	# the TUN-mode sluice, mistakenly pointed here too
	PublicKey = $kt_pub

	[Peer]
	# the wireguard-go peer, mistakenly pointed here too
	PublicKey = $kw_pub
	EOF
)
for i in 1 2 3; do
	priv=k${i}_priv
	case $i in
	1) extra="" ep=192.0.2.1:51820 ;;
	2) extra="Cipher = aes-256-gcm" ep=192.0.2.1:51820 ;;
	3) extra="Cipher = aes-256-gcm" ep=tcp://192.0.2.1:51820 ;;
	esac
	ifc=I$i
	conf_write "${!ifc}" >/dev/null <<-EOF
		[Interface]
		PrivateKey = ${!priv}
		Mode = tap
		Bridge = lan0

		[Peer]
		PublicKey = $ks_pub
		Endpoint = $ep
		PersistentKeepalive = 25
		$extra
		EOF
done
CU=$(conf_write "$IU" <<-EOF
	[Interface]
	PrivateKey = $ku_priv
	ListenPort = 51821
	Address = 198.18.6.1/24

	[Peer]
	PublicKey = $kt_pub
	AllowedIPs = 198.18.6.2/32

	[Peer]
	PublicKey = $kw_pub
	AllowedIPs = 198.18.6.3/32
	EOF
)
for p in t w; do
	case $p in t) n=2 ifc=$IT ;; w) n=3 ifc=$IW ;; esac
	priv=k${p}_priv
	conf_write "$ifc" >/dev/null <<-EOF
		[Interface]
		PrivateKey = ${!priv}
		Address = 198.18.6.$n/24, 198.18.7.$n/24

		[Peer]
		PublicKey = $ku_pub
		AllowedIPs = 198.18.6.1/32
		Endpoint = 192.0.2.1:51821

		[Peer]
		# the TAP interface: refused
		PublicKey = $ks_pub
		AllowedIPs = 198.18.7.1/32
		Endpoint = 192.0.2.1:51820
		EOF
done

# drops NS IFACE CAUSE: a drop counter of `show --json`.
drops() { sluice_cli "$1" show --json "$2" | jq -r ".dropped.$3"; }
# frames_sent NS_FROM NS_TO COUNT SIZE SECONDS [DST [SRC]]: a receiver in
# NS_TO (listening before anything is sent), COUNT frames sent from
# NS_FROM; prints the receiver's verdict, "received N intact M".
frames_sent() {
	local from=$1 to=$2 count=$3 size=$4 secs=$5 out="$TMPD/raw.$RANDOM" rpid; shift 5
	ip netns exec "$to" timeout 60 python3 "$RAW" recv eth0 "$ETHERTYPE" "$count" "$secs" >"$out" &
	rpid=$!
	wait_until 30 grep -q ready "$out" || { echo "the receiver in $to did not start"; return 1; }
	ip netns exec "$from" python3 "$RAW" send eth0 "$ETHERTYPE" "$count" "$size" "$@"
	wait "$rpid" || true
	tail -n 1 "$out"
}
# frames_ok NS_FROM NS_TO COUNT [DST [SRC]]: COUNT frames sent in NS_FROM
# arrive in NS_TO, every one intact.
frames_ok() {
	local out
	out=$(frames_sent "$1" "$2" "$3" 1000 6 "${@:4}")
	echo "$out"
	[ "$out" = "received $3 intact $3" ]
}
# frames_none NS_FROM NS_TO COUNT [DST [SRC]]: none of them arrive.
frames_none() {
	local out
	out=$(frames_sent "$1" "$2" "$3" 100 3 "${@:4}")
	echo "$out"
	[ "$out" = "received 0 intact 0" ]
}

section "server (TAP and TUN interfaces) and LANs 1 and 2 up"
start_sluice "$S" "$CS"
start_sluice "$S" "$CU"
start_sluice "$L1" "$TMPD/$I1.conf"
start_sluice "$L2" "$TMPD/$I2.conf"
check "LAN 1's TAP is a port of lan0" sh -c "ip -n $L1 -o link show $I1 | grep -q 'master lan0'"
check "show says the server's interface is in TAP mode" \
	sh -c "[ \"\$(ip netns exec $S $SLUICE show --json $IS | jq -r .mode)\" = tap ]"

section "LAN 1 <-> LAN 2: one subnet, no routes"
check "no route anywhere: H1's routes are its own subnet only" \
	sh -c "[ \"\$(ip -n $H1 route | grep -vc '198.18.5.0/24')\" = 0 ]"
check "H1 pings H2 (198.18.5.2)" ping_ok "$H1" 198.18.5.2
check "ARP resolved across: H1 knows H2's MAC" \
	sh -c "ip -n $H1 neigh show 198.18.5.2 | grep -q 02:00:00:00:05:02"
check "H2 pings H1 (198.18.5.1)" ping_ok "$H2" 198.18.5.1
check "H1 pings the server's own TAP address (198.18.5.100)" ping_ok "$H1" 198.18.5.100
ll2=$(ip -n "$H2" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
check "IPv6 link-local: H1 pings H2 ($ll2%eth0)" ping_ok "$H1" "$ll2%eth0"
check "a broadcast ping from H1 is answered by H2" \
	sh -c "ip netns exec $H1 ping -n -b -c 3 -i 0.3 -W 2 198.18.5.255 2>&1 | grep -q 'from 198.18.5.2'"
check "20 frames of EtherType $ETHERTYPE (broadcast) from H1 arrive intact in H2" \
	frames_ok "$H1" "$H2" 20
check "20 unicast frames of EtherType $ETHERTYPE from H2 to H1's MAC arrive intact" \
	frames_ok "$H2" "$H1" 20 02:00:00:00:05:01

section "on the wire: sluice.lua marks every message of the TAP interface"
LUA=$ROOT/contrib/wireshark/sluice.lua
PCAP=$TMPD/tap.pcap
# Not through check, whose subshell would lose CAP_PID.
capture_start "$S" ubr "udp port 51820" "$PCAP" || die "dumpcap does not capture in $S"
ip netns exec "$H1" ping -n -q -c 5 -i 0.2 -W 2 198.18.5.2 >/dev/null 2>&1 || true
check "the capture ends" capture_stop "$PCAP"
n_all=$(count udp "$PCAP" -X "lua_script:$LUA")
n_eth=$(count "sluice.mode == 1" "$PCAP" -X "lua_script:$LUA")
n_other=$(count "udp && !(sluice.mode == 1)" "$PCAP" -X "lua_script:$LUA")
n_data=$(count "sluice.encrypted_frame" "$PCAP" -X "lua_script:$LUA")
n_wg=$(count wg "$PCAP" -X "lua_script:$LUA")
check "$n_eth of the $n_all datagrams are shown as sluice, mode Ethernet; $n_other are not" \
	sh -c "[ $n_eth -ge 10 ] && [ $n_other -eq 0 ]"
check "... the data among them as encrypted Ethernet frames ($n_data)" test "$n_data" -ge 10
check "... and none as WireGuard's ($n_wg)" test "$n_wg" -eq 0
n_wg_plain=$(count wg "$PCAP")
check "without sluice.lua, Wireshark's wg dissector takes none of them either ($n_wg_plain)" \
	test "$n_wg_plain" -eq 0

section "LAN 3 joins (over TCP)"
start_sluice "$L3" "$TMPD/$I3.conf"
check "H3 pings H1" ping_ok "$H3" 198.18.5.1
check "H3 pings H2" ping_ok "$H3" 198.18.5.2
check "H1 pings H3" ping_ok "$H1" 198.18.5.3
check "a broadcast ping from H2 is answered by H1 and H3" \
	sh -c "out=\$(ip netns exec $H2 ping -n -b -c 4 -i 0.3 -W 2 198.18.5.255 2>&1);
		echo \"\$out\" | grep -q 'from 198.18.5.1' && echo \"\$out\" | grep -q 'from 198.18.5.3'"
check "broadcast frames from H3 arrive intact in H1" frames_ok "$H3" "$H1" 10

section "50 MB checksummed between LAN hosts"
check "H1 -> H2: UDP, ChaCha20-Poly1305 then AES-256-GCM" transfer "$H1" "$H2" 198.18.5.2 50 5001
check "H1 -> H3: UDP ChaCha20-Poly1305 then TCP AES-256-GCM" transfer "$H1" "$H3" 198.18.5.3 50 5002

section "sluice show lists the MACs learned behind each peer"
check "show on the server lists H1's MAC under LAN 1's peer" sh -c \
	"ip netns exec $S $SLUICE show $IS | awk -v p='peer: $k1_pub' 'index(\$0, p) {on=1} on && /^\$/ {exit} on' |
		grep -q 'learned macs:.*02:00:00:00:05:01'"
check "show --json counts the MAC table (entries, learned)" sh -c \
	"ip netns exec $S $SLUICE show --json $IS | jq -e '.macs.entries >= 3 and .macs.learned >= 3 and .macs.capacity == 8192'"
check "show --prometheus has the MAC table" sh -c \
	"ip netns exec $S $SLUICE show --prometheus $IS | grep -Eq '^sluice_mac_table\\{interface=\"$IS\",stat=\"entries\"\\} [1-9]'"
check "show --json: LAN 2's peer has H2's address as AllowedMACs, LAN 3's learned H3's" sh -c \
	"j=\$(ip netns exec $S $SLUICE show --json $IS);
	 echo \"\$j\" | jq -e '.peers[] | select(.public_key == \"$k2_pub\") | .allowed_macs == [\"02:00:00:00:05:02\"]' &&
	 echo \"\$j\" | jq -e '.peers[] | select(.public_key == \"$k3_pub\") | .macs | index(\"02:00:00:00:05:03\")'"

section "showconf and syncconf keep the mode and AllowedMACs"
check "showconf says Mode = tap and LAN 2's AllowedMACs" sh -c \
	"out=\$(ip netns exec $S $SLUICE showconf $IS); echo \"\$out\" | grep -qx 'Mode = tap' &&
	 echo \"\$out\" | grep -qx 'AllowedMACs = 02:00:00:00:05:02'"
check "syncconf with the same file succeeds" ip netns exec "$S" "$SLUICE" syncconf "$IS" "$CS"
grep -Ev '^(Mode|AllowedMACs)' "$CS" >"$TMPD/tun-mode.conf"
chmod 600 "$TMPD/tun-mode.conf"
check_fails "syncconf with a file in TUN mode is refused (a restart changes the mode)" \
	ip netns exec "$S" "$SLUICE" syncconf "$IS" "$TMPD/tun-mode.conf"
check "... and said why" grep -q "Mode changed to tun: it takes a restart" "$TMPD/$IS.log"
check "LAN 2's AllowedMACs are still pinned" sh -c \
	"ip netns exec $S $SLUICE show --json $IS |
		jq -e '.peers[] | select(.public_key == \"$k2_pub\") | .allowed_macs == [\"02:00:00:00:05:02\"]'"
check "H1 still pings H2" ping_ok "$H1" 198.18.5.2

section "AllowedMACs: LAN 2 may send from H2's MAC only"
d0=$(drops "$S" "$IS" allowed_macs)
check "frames from LAN 2 with another source MAC do not reach H1" \
	frames_none "$H2" "$H1" 5 ff:ff:ff:ff:ff:ff 02:00:00:00:05:07
d1=$(drops "$S" "$IS" allowed_macs)
check "... and the server counted them (allowed_macs $d0 -> $d1)" test "$((d1 - d0))" -ge 5
check "H2's own frames still pass" frames_ok "$H2" "$H1" 5

section "a peer cannot take another peer's MAC"
check "H1 talks (its MAC is in use behind LAN 1)" ping_ok "$H1" 198.18.5.2
d0=$(drops "$S" "$IS" mac_held)
check "frames from LAN 3 with H1's source MAC do not reach H2" \
	frames_none "$H3" "$H2" 5 ff:ff:ff:ff:ff:ff 02:00:00:00:05:01
d1=$(drops "$S" "$IS" mac_held)
check "... and the server counted them (mac_held $d0 -> $d1)" test "$((d1 - d0))" -ge 5
check "H2 still reaches H1 (its MAC was not moved)" ping_ok "$H2" 198.18.5.1

section "a TUN sluice peer and a wireguard-go peer on the server's TUN interface"
start_sluice "$T" "$TMPD/$IT.conf"
start_wggo "$W" "$TMPD/$IW.conf"
for p in T W; do
	ip netns exec "${!p}" nft -f - <<-EOF
		table inet taptest {
			chain in {
				type filter hook input priority 0;
				udp sport 51820 counter
			}
		}
		EOF
done
check "the TUN sluice peer pings the server's TUN interface" ping_ok "$T" 198.18.6.1
check "the wireguard-go peer pings the server's TUN interface" ping_ok "$W" 198.18.6.1
d0=$(drops "$S" "$IS" mode_mismatch)
check "the TUN sluice peer, pointed at the TAP interface, gets no answer" ping_fails "$T" 198.18.7.1
check "the wireguard-go peer, pointed at the TAP interface, gets no answer" ping_fails "$W" 198.18.7.1
d1=$(drops "$S" "$IS" mode_mismatch)
check "the TAP interface refused their handshakes as a mode mismatch ($d0 -> $d1)" test "$((d1 - d0))" -ge 2
check "... and said so in its log" grep -q "for an interface in TUN mode" "$TMPD/$IS.log"
# (Not to H3: LAN 3's own sluice saw H1's address on its LAN a moment ago,
# from the spoofing above, and holds it there for L2_HOLD_NS.)
check "L2 traffic goes on meanwhile (broadcast frames H1 -> H2)" frames_ok "$H1" "$H2" 20
ip netns exec "$H1" ping -n -b -c 5 -i 0.2 -W 1 198.18.5.255 >/dev/null 2>&1 || true
for p in T W; do
	n=$(ip netns exec "${!p}" nft list table inet taptest | grep -o 'packets [0-9]*' | awk '{print $2}')
	check "$p received nothing from the TAP interface's port ($n datagrams)" test "$n" = 0
done
check "the TUN sluice peer still pings the server's TUN interface" ping_ok "$T" 198.18.6.1
check "the wireguard-go peer still pings the server's TUN interface" ping_ok "$W" 198.18.6.1

finish
