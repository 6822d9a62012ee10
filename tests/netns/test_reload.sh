#!/usr/bin/env bash
# Reloading a running interface without dropping sessions. A server S on a
# bridge with clients A, B and C (underlay 192.0.2.0/24):
#   - `sluice syncconf` with a file that adds C, removes B and changes A's
#     keepalive, an Address and an AllowedIPs, while A sends a checksummed
#     transfer (slowed to last through it) and pings: the transfer arrives
#     whole, no ping is lost, A makes no new handshake; C works after, B no
#     longer does; routes and addresses follow the file;
#   - SIGHUP, after the file the daemon started from was edited (B back, C
#     gone, A's keepalive again): the same, read by the sandboxed daemon;
#   - a bad file changes nothing; SIGHUP to a daemon with no file is logged;
#   - a TCP server and client with AES-256-GCM: `sluice showconf` prints
#     Transport, Cipher and the tcp:// endpoint, goes back through `sluice
#     syncconf` unchanged, and brings the client back up after `sluice down`;
#     `wg showconf` still works on both (what wg knows of them).
# keypair and ns_new set variables by name (ks_pub, S...); shellcheck can't see it.
# shellcheck disable=SC2154
# The helpers below run through `check`, which shellcheck does not follow.
# shellcheck disable=SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
# Not cannot_run: under CI=true that fails, and wireguard-go has no syncconf of its own.
if [ "$SLUICE_IMPL" = wggo ]; then echo "skipped: sluice syncconf and SIGHUP are sluice's"; exit 77; fi
command -v tc >/dev/null || cannot_run "'tc' not installed (iproute2)"
test_init

section "underlay: a bridge in S, clients A, B and C on it"
ns_new S srv
ns_new A a
ns_new B b
ns_new C c
ip -n "$S" link add br0 type bridge
ip -n "$S" link set br0 up
addr "$S" br0 192.0.2.1/24
n=2
for p in A B C; do
	veth "$S" "port$p" "${!p}" eth0
	ip -n "$S" link set "port$p" master br0
	addr "${!p}" eth0 "192.0.2.$n/24"
	n=$((n + 1))
done
check "underlay works (S pings 192.0.2.2-4)" sh -c \
	"for i in 2 3 4; do ip netns exec $S ping -n -c1 -W2 192.0.2.\$i || exit 1; done"

keypair ks
keypair ka
keypair kb
keypair kc
psk_a=$(wg genpsk)
ifname IS s
ifname IA a
ifname IB b
ifname IC c

peer_a() { # KEEPALIVE [EXTRA ALLOWED IPS]
	printf '[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 198.18.0.2/32%s\n%s\n' \
		"$ka_pub" "$psk_a" "${2:+, $2}" "${1:+PersistentKeepalive = $1}"
}
peer_b() { printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.0.3/32\n' "$kb_pub"; }
peer_c() { printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.0.4/32\n' "$kc_pub"; }
server_conf() { # ADDRESSES PEERS...
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = %s\n\n' "$ks_priv" "$1"
	shift
	for p in "$@"; do "$p" ""; echo; done
}

CS=$(server_conf "198.18.0.1/24, 198.18.9.1/24" peer_a peer_b | conf_write "$IS")
for p in a b c; do
	case $p in a) n=2 ifc=$IA psk="PresharedKey = $psk_a" ;; b) n=3 ifc=$IB psk= ;; c) n=4 ifc=$IC psk= ;; esac
	priv=k${p}_priv
	conf_write "$ifc" >/dev/null <<-EOF
		[Interface]
		PrivateKey = ${!priv}
		Address = 198.18.0.$n/24

		[Peer]
		PublicKey = $ks_pub
		$psk
		AllowedIPs = 198.18.0.0/24
		Endpoint = 192.0.2.1:51820
		EOF
done

section "S with A and B; A and B up"
start_sluice "$S" "$CS"
SPID=$LAST_PID
start_sluice "$A" "$TMPD/$IA.conf"
start_sluice "$B" "$TMPD/$IB.conf"
check "A -> S" ping_ok "$A" 198.18.0.1
check "B -> S" ping_ok "$B" 198.18.0.1
check "S has its second Address, 198.18.9.1/24" \
	sh -c "ip -n $S -4 addr show $IS | grep -q 198.18.9.1/24"

# handshake_of NS IFACE PUB: the peer's latest handshake, in seconds since 1970.
handshake_of() {
	ip netns exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}
# same_handshake NS IFACE PUB BEFORE: no handshake since BEFORE.
same_handshake() {
	local now
	now=$(handshake_of "$1" "$2" "$3")
	echo "latest handshake before: $4, now: $now"
	[ -n "$4" ] && [ "$4" != 0 ] && [ "$now" = "$4" ]
}
# slow NS DEV RATE: the egress of DEV in NS limited to RATE (tc tbf), so a
# transfer lasts through a reload.
slow() { ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst 32kbit latency 400ms; }
fast() { ip netns exec "$1" tc qdisc del dev "$2" root 2>/dev/null || true; }

# during_transfer WHAT CMD...: a 16 MB transfer A -> S (about 4 s at
# 32 Mbit/s) and 100 pings A -> S, 50 ms apart, with CMD run in the middle;
# the transfer must arrive whole, no ping may be lost, and A's session on S
# must be the one it had.
during_transfer() {
	local what=$1 hs xpid ppid rc=0; shift
	hs=$(handshake_of "$S" "$IS" "$ka_pub")
	slow "$A" eth0 32mbit
	transfer "$A" "$S" 198.18.0.1 16 "${PORT:-5001}" >"$TMPD/xfer.out" 2>&1 &
	xpid=$!
	ip netns exec "$A" ping -n -q -c 100 -i 0.05 -W 2 198.18.0.1 >"$TMPD/ping.out" 2>&1 &
	ppid=$!
	sleep 1.5
	check "$what: the transfer is still running when it starts" kill -0 "$xpid"
	check "$what" "$@"
	wait "$xpid" || rc=$?
	wait "$ppid" || true
	fast "$A" eth0
	check "the transfer A -> S ran through it, sha256 intact" sh -c "cat $TMPD/xfer.out; exit $rc"
	check "no ping A -> S lost" grep -q ' 0% packet loss' "$TMPD/ping.out"
	check "A made no new handshake with S (its session was kept)" same_handshake "$S" "$IS" "$ka_pub" "$hs"
}

# grep reads to the end (no -q): with pipefail, a grep that quits at the
# first match can fail the check through the writer's SIGPIPE (exit 141).
listed() { ip netns exec "$1" wg show "$2" peers | grep -F "$3" >/dev/null; }
keepalive_of() { ip netns exec "$1" wg show "$2" persistent-keepalive | awk -v k="$3" '$1 == k { print $2 }'; }
has_route() { ip -n "$1" -4 route show dev "$2" | grep "^$3 " >/dev/null; }
has_addr() { ip -n "$1" addr show dev "$2" | grep -F " $3 " >/dev/null; }

section "sluice syncconf: C added, B removed, A's keepalive on, during a transfer from A"
peer_a_17() { peer_a 17 198.19.1.0/24; }
NEW=$(server_conf "198.18.0.1/24, 2001:db8:77::1/64" peer_a_17 peer_c | conf_write "$IS-new")
# As wg-quick does for a full tunnel: a file without FwMark leaves it.
ip netns exec "$S" wg set "$IS" fwmark 0x77
during_transfer "sluice syncconf $IS $NEW" sluice_cli "$S" syncconf "$IS" "$NEW"
check "S lists C" listed "$S" "$IS" "$kc_pub"
check "S no longer lists B" _negate listed "$S" "$IS" "$kb_pub"
check "A's keepalive on S is 17" sh -c "[ \"\$(ip netns exec $S wg show $IS persistent-keepalive | grep -F '$ka_pub' | cut -f2)\" = 17 ]"
start_sluice "$C" "$TMPD/$IC.conf"
check "C -> S (C was added)" ping_ok "$C" 198.18.0.1
check "B -> S fails (B was removed)" ping_fails "$B" 198.18.0.1
check "S routes 198.18.0.4 (C's AllowedIPs) through $IS" has_route "$S" "$IS" 198.18.0.4
check "S routes 198.19.1.0/24 (A's new AllowedIPs) through $IS" has_route "$S" "$IS" 198.19.1.0/24
check "S no longer routes 198.18.0.3 (B's)" _negate has_route "$S" "$IS" 198.18.0.3
check "S has the new Address 2001:db8:77::1/64" has_addr "$S" "$IS" 2001:db8:77::1/64
check "S no longer has the Address 198.18.9.1/24" _negate has_addr "$S" "$IS" 198.18.9.1/24
check "the fwmark set by wg stays (the file has no FwMark)" \
	sh -c "[ \"\$(ip netns exec $S wg show $IS fwmark)\" = 0x77 ]"
check "the daemon logged the sync" grep -q "configuration synced: 2 peers (1 added, 1 removed, 1 kept" "$TMPD/$IS.log"

section "SIGHUP: the file the daemon started from, edited (B back, C gone, A's keepalive 23)"
peer_a_23() { peer_a 23; }
server_conf "198.18.0.1/24" peer_a_23 peer_b >"$CS"
sed -i '/^ListenPort/a FwMark = off' "$CS"
PORT=5002 during_transfer "kill -HUP (the daemon reads $(basename "$CS") again)" kill -HUP "$SPID"
check "the daemon is still running" kill -0 "$SPID"
check "the daemon logged the reload" grep -q "SIGHUP: reading .*$(basename "$CS") again" "$TMPD/$IS.log"
check "S lists B again" listed "$S" "$IS" "$kb_pub"
check "S no longer lists C" _negate listed "$S" "$IS" "$kc_pub"
check "FwMark = off cleared the fwmark" sh -c "[ \"\$(ip netns exec $S wg show $IS fwmark)\" = off ]"
check "A's keepalive on S is 23" sh -c "ip netns exec $S wg show $IS persistent-keepalive | grep -F '$ka_pub' | grep -q '	23$'"
# B still holds its old session, which S forgot: B starts a new handshake
# once its data goes unanswered (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT, 15 s).
check "B -> S works again (within 25 s)" wait_until 25 ip netns exec "$B" ping -n -c 1 -W 1 198.18.0.1
check "C -> S fails (C was removed)" ping_fails "$C" 198.18.0.1
check "S no longer routes 198.18.0.4 (C's) nor 198.19.1.0/24" \
	sh -c "! ip -n $S -4 route show dev $IS | grep -qE '^(198.18.0.4|198.19.1.0/24) '"
check "S routes 198.18.0.3 (B's) again" has_route "$S" "$IS" 198.18.0.3

section "a bad file changes nothing"
BAD=$(printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.0.300/32\n' \
	"$ks_priv" "$kc_pub" | conf_write "$IS-bad")
bad_refused() {
	local out rc=0
	out=$(sluice_cli "$S" syncconf "$IS" "$BAD" 2>&1) || rc=$?
	echo "exit $rc: $out"
	[ "$rc" -eq 2 ] && grep -qF "$BAD:6: invalid AllowedIPs: '198.18.0.300/32'" <<<"$out"
}
check "sluice syncconf with a bad file: exit 2, FILE:LINE" bad_refused
check "S still lists A and B" sh -c "ip netns exec $S wg show $IS peers | grep -qF '$ka_pub' &&
	ip netns exec $S wg show $IS peers | grep -qF '$kb_pub'"
check "A -> S still works" ping_ok "$A" 198.18.0.1
check_fails "sluice syncconf to no interface: exit 2" sluice_cli "$S" syncconf nosuchif0 "$NEW"
cp "$BAD" "$CS"
kill -HUP "$SPID"
check "SIGHUP with a bad file: logged, nothing changed" \
	wait_until 5 grep -q "reload: .*invalid AllowedIPs.*$IS stays as it was" "$TMPD/$IS.log"
check "A -> S still works" ping_ok "$A" 198.18.0.1
ifname IU u
ip netns exec "$S" env WG_PROCESS_FOREGROUND=1 "$SLUICE" "$IU" >"$TMPD/$IU.log" 2>&1 </dev/null &
UPID=$!
PIDS+=("$UPID")
wait_until 10 test -S "$WG_RUN/$IU.sock"
kill -HUP "$UPID"
check "SIGHUP to \`sluice IFACE\` (no file): logged, still running" \
	sh -c "sleep 0.5; kill -0 $UPID && grep -q 'was not started from a file' $TMPD/$IU.log"

section "TCP and AES-256-GCM: sluice showconf, sluice syncconf, wg showconf"
ifname IT t
ifname IAT at
CT=$(conf_write "$IT" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	ListenPort = 443
	Transport = tcp
	Address = 198.18.1.1/24

	[Peer]
	PublicKey = $ka_pub
	AllowedIPs = 198.18.1.2/32
	Cipher = aes-256-gcm
	EOF
)
CAT=$(conf_write "$IAT" <<-EOF
	[Interface]
	PrivateKey = $ka_priv
	Address = 198.18.1.2/24

	[Peer]
	PublicKey = $ks_pub
	AllowedIPs = 198.18.1.0/24
	Endpoint = tcp://192.0.2.1:443
	Cipher = aes-256-gcm
	PersistentKeepalive = 25
	EOF
)
start_sluice "$S" "$CT"
start_sluice "$A" "$CAT"
check "A -> S over TCP with AES-256-GCM" ping_ok "$A" 198.18.1.1
showconf() { sluice_cli "$1" showconf "$2"; }
showconf "$A" "$IAT" >"$TMPD/at.shown" 2>&1
showconf "$S" "$IT" >"$TMPD/t.shown" 2>&1
info "sluice showconf $IAT:"
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/; s/^/     | /' "$TMPD/at.shown"
check "client: Endpoint = tcp://192.0.2.1:443" grep -qx 'Endpoint = tcp://192.0.2.1:443' "$TMPD/at.shown"
check "client: Cipher = aes-256-gcm" grep -qx 'Cipher = aes-256-gcm' "$TMPD/at.shown"
check "client: PersistentKeepalive = 25" grep -qx 'PersistentKeepalive = 25' "$TMPD/at.shown"
check "client: Address = 198.18.1.2/24" grep -qx 'Address = 198.18.1.2/24' "$TMPD/at.shown"
check "client: its private key" grep -qxF "PrivateKey = $ka_priv" "$TMPD/at.shown"
check "server: Transport = tcp" grep -qx 'Transport = tcp' "$TMPD/t.shown"
check "server: Cipher = aes-256-gcm" grep -qx 'Cipher = aes-256-gcm' "$TMPD/t.shown"
check "server: no Endpoint for a client that connected to it" _negate grep -q '^Endpoint' "$TMPD/t.shown"
hs=$(handshake_of "$A" "$IAT" "$ks_pub")
chmod 600 "$TMPD/at.shown" "$TMPD/t.shown"
check "sluice syncconf $IAT with its own showconf" sluice_cli "$A" syncconf "$IAT" "$TMPD/at.shown"
check "sluice syncconf $IT with its own showconf" sluice_cli "$S" syncconf "$IT" "$TMPD/t.shown"
showconf_same() { showconf "$1" "$2" | diff - "$3"; }
check "client: showconf the same after" showconf_same "$A" "$IAT" "$TMPD/at.shown"
check "server: showconf the same after" showconf_same "$S" "$IT" "$TMPD/t.shown"
check "A -> S over TCP still" ping_ok "$A" 198.18.1.1
check "no new handshake on A" same_handshake "$A" "$IAT" "$ks_pub" "$hs"
check "wg showconf $IAT works (exit 0, what wg knows)" sh -c "ip netns exec $A wg showconf $IAT | grep -qxF 'PublicKey = $ks_pub'"
check "wg showconf $IT works (exit 0, what wg knows)" sh -c "ip netns exec $S wg showconf $IT | grep -qxF 'PublicKey = $ka_pub'"
check "wg show $IAT works" sh -c "ip netns exec $A wg show $IAT | grep -qF 'peer: $ks_pub'"

section "a backup: showconf, down, then up from what it printed"
check "sluice down $IAT" sluice_cli "$A" down "$IAT"
cp "$TMPD/at.shown" "$TMPD/$IAT.conf"
start_sluice "$A" "$TMPD/$IAT.conf"
check "A -> S over TCP with AES-256-GCM again" ping_ok "$A" 198.18.1.1
on_tcp_aes() {
	sluice_cli "$S" show --json "$IT" | jq -e --arg k "$ka_pub" \
		'.peers[] | select(.public_key == $k) | .transport == "tcp" and .cipher == "aes-256-gcm"' >/dev/null
}
check "S's peer A is on TCP with AES-256-GCM" on_tcp_aes

finish
