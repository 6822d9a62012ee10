#!/usr/bin/env bash
# wg-quick with sluice as its userspace implementation, as a WireGuard user
# would run it where the kernel has no WireGuard:
#   WG_QUICK_USERSPACE_IMPLEMENTATION=sluice wg-quick up CONF
# wg-quick runs `sluice IFACE` (wireguard-go's command line), then
# `wg setconf`, `ip address add`, `ip link set mtu ... up` and the routes;
# `wg-quick down` deletes the interface and the daemon must go with it.
# Two namespaces, each brought up by wg-quick from a standard file; pings
# across; `wg-quick save`; then a full tunnel (AllowedIPs = 0.0.0.0/0, ::/0),
# where wg-quick marks sluice's packets with `wg set fwmark` and routes
# everything else into the tunnel.
# keypair and ns_new set variables by name; shellcheck can't see it.
# Helpers run through check, pipes and command substitutions (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init
command -v nft >/dev/null || cannot_run "'nft' not installed (wg-quick's full tunnel needs it; run scripts/deps.sh)"

# wg-quick finds the implementation on PATH by the name it is given.
BIN="$TMPD/bin"
mkdir "$BIN"
if [ "$SLUICE_IMPL" = wggo ]; then
	IMPL=wireguard-go
else
	IMPL=sluice
	ln -s "$SLUICE" "$BIN/sluice"
fi

section "underlay: two namespaces, one veth (MTU 1500)"
ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$A" ua 2001:db8:1::1/64
addr "$B" ub 192.0.2.2/24
addr "$B" ub 2001:db8:1::2/64
keypair ka
keypair kb
psk=$(wg genpsk)

# wgq NS up|down|save CONF: wg-quick in NS with the implementation on PATH,
# bounded to 30 s. Its output goes through a file: a daemon that kept
# wg-quick's stdout open would otherwise hang whoever reads it.
wgq() {
	local ns=$1 rc=0 out="$TMPD/wg-quick.out"; shift
	ip netns exec "$ns" env PATH="$BIN:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION="$IMPL" \
		timeout -k 5 30 wg-quick "$@" >"$out" 2>&1 </dev/null || rc=$?
	cat "$out"
	return "$rc"
}

# daemon_in NS IFACE: the pid of the implementation's process for IFACE in NS.
daemon_in() {
	local p
	for p in $(ip netns pids "$1"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -Eq "(^|/)$IMPL $2 \$" && { echo "$p"; return 0; }
	done
	return 1
}

mtu_is() { ip -n "$1" -o link show "$2" | grep -q "mtu $3 "; }
# grep reads all (no -q): under pipefail, ip writing after grep -q quit
# would fail the pipe with SIGPIPE (141) though the line was found.
has_addr() { ip -n "$1" -o addr show dev "$2" | grep -F " $3 " >/dev/null; }
has_route() { ip -n "$1" "${@:4}" route show dev "$2" | grep "^$3 " >/dev/null; }

# peer_live_wg NS IFACE PUB: wg show's latest handshake and transfer.
peer_live_wg() {
	local out
	out=$(ip netns exec "$1" wg show "$2")
	printf '%s\n' "$out"
	grep -q "peer: $3" <<<"$out" && grep -q 'latest handshake:' <<<"$out" &&
		grep -q 'transfer: .* received, .* sent' <<<"$out"
}

# gone_all NS IFACE PID: interface, control socket and process gone in 5 s.
gone_all() {
	wait_until 5 gone "$1" "$2" "$3" || { explain_gone "$1" "$2" "$3"; return 1; }
}

section "split tunnel: both sides brought up by wg-quick"
ifname IA a
ifname IB b
CA=$(conf_write "$IA" <<-EOF
	[Interface]
	Address = 198.18.0.1/24, 2001:db8:77::1/64
	ListenPort = 51820
	PrivateKey = $ka_priv
	MTU = 1400

	[Peer]
	PublicKey = $kb_pub
	PresharedKey = $psk
	AllowedIPs = 198.18.0.2/32, 198.19.0.0/24, 2001:db8:77::2/128
	Endpoint = 192.0.2.2:51821
	EOF
)
# No MTU: wg-quick takes the underlay's (1500) less 80.
CB=$(conf_write "$IB" <<-EOF
	[Interface]
	Address = 198.18.0.2/24, 198.19.0.1/32, 2001:db8:77::2/64
	ListenPort = 51821
	PrivateKey = $kb_priv

	[Peer]
	PublicKey = $ka_pub
	PresharedKey = $psk
	AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
	Endpoint = [2001:db8:1::1]:51820
	EOF
)
t0=$SECONDS
check "wg-quick up $IA (with $IMPL)" wgq "$A" up "$CA"
check "wg-quick up $IB (with $IMPL)" wgq "$B" up "$CB"
info "both up in $((SECONDS - t0)) s"
PA=$(daemon_in "$A" "$IA") || PA=""
PB=$(daemon_in "$B" "$IB") || PB=""
check "$IMPL runs for $IA as a daemon (pid ${PA:-none})" test -n "$PA"
check "$IMPL runs for $IB as a daemon (pid ${PB:-none})" test -n "$PB"
# Its stderr is /dev/null, or its log file where no syslog listens (/dev/log).
check "the daemon holds none of wg-quick's output (stdout /dev/null, stderr /dev/null or its log)" \
	sh -c "[ \"\$(readlink /proc/$PA/fd/1)\" = /dev/null ] && case \"\$(readlink /proc/$PA/fd/2)\" in /dev/null | /run/sluice/$IA.log) ;; *) exit 1 ;; esac"
check "$IA is up" iface_up "$A" "$IA"
check "$IA has MTU 1400 (MTU =)" mtu_is "$A" "$IA" 1400
check "$IB has MTU 1420 (wg-quick's default over a 1500 link)" mtu_is "$B" "$IB" 1420
check "$IA has 198.18.0.1/24" has_addr "$A" "$IA" 198.18.0.1/24
check "$IA has 2001:db8:77::1/64" has_addr "$A" "$IA" 2001:db8:77::1/64
check "$IB has 198.19.0.1/32" has_addr "$B" "$IB" 198.19.0.1/32
check "wg-quick routed 198.19.0.0/24 into $IA" has_route "$A" "$IA" 198.19.0.0/24 -4
check "the control socket of $IA exists" test -S "$WG_RUN/$IA.sock"
check "wg show $IA: listening port 51820, the peer, its endpoint" \
	sh -c "ip netns exec $A wg show $IA | grep -q 'listening port: 51820' &&
		ip netns exec $A wg show $IA endpoints | grep -qF '$kb_pub	192.0.2.2:51821'"
check "wg showconf $IA has the preshared key" \
	sh -c "ip netns exec $A wg showconf $IA | grep -qF 'PresharedKey = $psk'"
check "ping $IA -> $IB, IPv4" ping_ok "$A" 198.18.0.2
check "ping $IA -> $IB, IPv6" ping_ok "$A" 2001:db8:77::2
check "ping $IB -> $IA, IPv4" ping_ok "$B" 198.18.0.1
check "ping a network behind $IB (198.19.0.1, routed by wg-quick)" ping_ok "$A" 198.19.0.1
check "1420-byte packets fit $IB's MTU (ping -s 1392 -M do from $IB)" \
	ping_ok "$B" 198.18.0.1 -s 1392 -M 'do'
check "both see a handshake and traffic" peer_live_wg "$A" "$IA" "$kb_pub"


section "wg-quick save: the file rewritten from the running interface"
cp "$CA" "$TMPD/before.conf"
check "wg-quick save $IA" wgq "$A" save "$CA"
check "the saved file keeps Address, MTU, ListenPort, the peer and its AllowedIPs" sh -c "
	grep -q '^Address = 198.18.0.1/24' '$CA' && grep -q '^Address = 2001:db8:77::1/64' '$CA' &&
	grep -q '^MTU = 1400' '$CA' && grep -q '^ListenPort = 51820' '$CA' &&
	grep -qF 'PublicKey = $kb_pub' '$CA' && grep -qF 'PresharedKey = $psk' '$CA' &&
	grep -q '^AllowedIPs = .*198.19.0.0/24' '$CA'"

section "wg-quick down: the interface, the socket and the daemon go"
check "wg-quick down $IA" wgq "$A" down "$CA"
check "$IA: no interface, no socket, no process" gone_all "$A" "$IA" "$PA"
check "wg-quick down $IB" wgq "$B" down "$CB"
check "$IB: no interface, no socket, no process" gone_all "$B" "$IB" "$PB"
check "wg-quick up again after down" wgq "$A" up "$CA"
check "wg-quick up while up is refused" _negate wgq "$A" up "$CA"
PA=$(daemon_in "$A" "$IA") || PA=""
check "wg-quick down again" wgq "$A" down "$CA"
check "$IA gone again" gone_all "$A" "$IA" "$PA"

section "full tunnel: AllowedIPs = 0.0.0.0/0, ::/0 (wg-quick's fwmark and policy routing)"
ifname IF f
CF=$(conf_write "$IF" <<-EOF
	[Interface]
	Address = 198.18.0.1/24, 2001:db8:77::1/64
	PrivateKey = $ka_priv

	[Peer]
	PublicKey = $kb_pub
	PresharedKey = $psk
	AllowedIPs = 0.0.0.0/0, ::/0
	Endpoint = 192.0.2.2:51821
	PersistentKeepalive = 25
	EOF
)
check "wg-quick up $IB again (the far side)" wgq "$B" up "$CB"
PB=$(daemon_in "$B" "$IB") || PB=""
check "wg-quick up $IF (full tunnel)" wgq "$A" up "$CF"
PF=$(daemon_in "$A" "$IF") || PF=""
check "wg-quick set a fwmark on $IF (wg show fwmark)" \
	sh -c "[ \"\$(ip netns exec $A wg show $IF fwmark)\" != off ]"
check "a random listening port (none configured)" \
	sh -c "[ \"\$(ip netns exec $A wg show $IF listen-port)\" -gt 0 ]"
check "ping through the full tunnel, IPv4" ping_ok "$A" 198.18.0.2
check "ping through the full tunnel, IPv6" ping_ok "$A" 2001:db8:77::2
check "B's underlay address is now reached through the tunnel too" ping_ok "$A" 192.0.2.2
check "$IF's handshake came over the marked socket, not through itself" peer_live_wg "$A" "$IF" "$kb_pub"
check "wg-quick down $IF" wgq "$A" down "$CF"
check "$IF: no interface, no socket, no process" gone_all "$A" "$IF" "$PF"
check "wg-quick's policy rules are gone" sh -c "! ip -n $A -4 rule | grep -q suppress_prefixlength"
check "wg-quick's nft table is gone" sh -c "! ip netns exec $A nft list tables | grep -q wg-quick"
check "the underlay works as before" ping_ok "$A" 192.0.2.2
check "wg-quick down $IB" wgq "$B" down "$CB"
check "$IB: no interface, no socket, no process" gone_all "$B" "$IB" "$PB"

finish
