#!/usr/bin/env bash
# `sluice quickstart`: the files it writes bring up a server and two clients
# unchanged (only copied to per-run names, since the interface is named after
# the file), and they ping each other through the tunnel; a second run into
# the same directory refuses and writes nothing. Then the same with
# --cipher aes-256-gcm, and with --tcp while UDP is dropped in the underlay, so
# only the TCP transport can carry it; and --tap (with --tcp): one Ethernet
# segment, client to client through the server's switch.
# Underlay: the server namespace bridges a veth to each client namespace.
# ns_new and ifname set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "sluice quickstart has no wireguard-go equivalent"
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
test_init

section "underlay: a server namespace bridging two client namespaces"
ns_new S srv
ns_new C1 c1
ns_new C2 c2
ip -n "$S" link add br0 type bridge
ip -n "$S" link set br0 up
veth "$S" v1 "$C1" eth0
veth "$S" v2 "$C2" eth0
ip -n "$S" link set v1 master br0
ip -n "$S" link set v2 master br0
addr "$S" br0 192.0.2.1/24
addr "$C1" eth0 192.0.2.11/24
addr "$C2" eth0 192.0.2.12/24
check "underlay works (both clients ping the server)" \
	sh -c "ip netns exec $C1 ping -n -c1 -W2 192.0.2.1 && ip netns exec $C2 ping -n -c1 -W2 192.0.2.1"

# quickstart DIR ARGS...: runs sluice quickstart ARGS DIR, output in TMPD/qs.out.
quickstart() {
	local dir=$1; shift
	"$SLUICE" quickstart "$@" "$dir" >"$TMPD/qs.out" 2>&1
}

# bring_up DIR SUFFIX: copies DIR's server.conf, client1.conf and client2.conf
# to unique names (content untouched), starts the three, sets IS IC1 IC2.
bring_up() {
	local dir=$1 f
	ifname IS "s$2"
	ifname IC1 "c$2"
	ifname IC2 "d$2"
	for f in "server $IS" "client1 $IC1" "client2 $IC2"; do
		# shellcheck disable=SC2086 # "NAME IFACE": split on purpose
		set -- $f
		cp --preserve=mode "$dir/$1.conf" "$TMPD/$2.conf"
		cmp -s "$dir/$1.conf" "$TMPD/$2.conf" || die "copy of $1.conf differs"
	done
	start_sluice "$S" "$TMPD/$IS.conf"
	start_sluice "$C1" "$TMPD/$IC1.conf"
	start_sluice "$C2" "$TMPD/$IC2.conf"
}

pings() {
	check "client1 -> server over the tunnel (198.18.0.1)" ping_ok "$C1" 198.18.0.1
	check "client2 -> server over the tunnel (198.18.0.1)" ping_ok "$C2" 198.18.0.1
	check "server -> client1 over the tunnel (198.18.0.2)" ping_ok "$S" 198.18.0.2
	check "server -> client2 over the tunnel (198.18.0.3)" ping_ok "$S" 198.18.0.3
}

stop_all() {
	check "the server and both clients stop on SIGTERM" stop_three
}
stop_three() { stop_daemon "$IS" && stop_daemon "$IC1" && stop_daemon "$IC2"; }

# exits_with STATUS CMD...: CMD fails with exactly STATUS.
exits_with() {
	local want=$1 rc=0; shift
	"$@" || rc=$?
	[ "$rc" -eq "$want" ] || { echo "exit status $rc, expected $want"; return 1; }
}

mode_of() { stat -c %a "$1"; }
has_mode() { [ "$(mode_of "$1")" = "$2" ] || { echo "$1 has mode $(mode_of "$1"), not $2"; return 1; }; }

section "sluice quickstart --endpoint 192.0.2.1 --clients 2 --subnet 198.18.0.0/24 DIR"
Q="$TMPD/qs-udp"
check "quickstart writes the files" quickstart "$Q" --endpoint 192.0.2.1 --clients 2 --subnet 198.18.0.0/24
sed 's/^/        | /' "$TMPD/qs.out"
check "DIR was created with mode 0700" has_mode "$Q" 700
for f in server client1 client2; do
	check "$f.conf has mode 0600" has_mode "$Q/$f.conf" 600
done
check "exactly three files" test "$(find "$Q" -mindepth 1 | wc -l)" -eq 3
check "client1 reaches the server at 192.0.2.1:55555" grep -qx 'Endpoint = 192.0.2.1:55555' "$Q/client1.conf"
check "the server listens on 55555" grep -qx 'ListenPort = 55555' "$Q/server.conf"

bring_up "$Q" u
pings
check "server.conf says Forward = yes" grep -qx 'Forward = yes' "$Q/server.conf"
check "the summary names the firewall port and forwarding" grep -q 'firewall must let UDP port 55555 in' "$TMPD/qs.out"
check "client1 -> client2 through the server (198.18.0.3): Forward = yes" ping_ok "$C1" 198.18.0.3
check "... the server's interface forwards (net.ipv4.conf.IFACE.forwarding = 1)" \
	test "$(ip netns exec "$S" cat "/proc/sys/net/ipv4/conf/$IS/forwarding")" = 1
check "... and the namespace's global switch stayed off" \
	test "$(ip netns exec "$S" cat /proc/sys/net/ipv4/ip_forward)" = 0
check "server's show: client1 with a handshake and traffic" \
	peer_live "$S" "$IS" "$(ip netns exec "$C1" "$SLUICE" show "$IC1" | sed -n 's/^  public key: //p')"

section "a second quickstart into the same DIR refuses and writes nothing"
sha256sum "$Q"/* >"$TMPD/before.sum"
check "quickstart --clients 3 into the same DIR fails with exit status 2" \
	exits_with 2 quickstart "$Q" --endpoint 192.0.2.1 --clients 3 --subnet 198.18.0.0/24
check "... the message names the file that exists" grep -q "server.conf already exists" "$TMPD/qs.out"
check "... no client3.conf was written" test ! -e "$Q/client3.conf"
check "... the existing files are unchanged" sha256sum --quiet -c "$TMPD/before.sum"
stop_all

section "quickstart --cipher aes-256-gcm (UDP)"
Q="$TMPD/qs-aes"
check "quickstart --cipher aes-256-gcm writes the files" \
	quickstart "$Q" --endpoint 192.0.2.1 --clients 2 --subnet 198.18.0.0/24 --cipher aes-256-gcm
check "server and client name the cipher" \
	sh -c "grep -qx 'Cipher = aes-256-gcm' '$Q/server.conf' && grep -qx 'Cipher = aes-256-gcm' '$Q/client1.conf'"
bring_up "$Q" a
pings
stop_all

section "quickstart --tcp, with UDP dropped in the underlay"
# Until the daemon has the TCP transport this section fails, and says why.
Q="$TMPD/qs-tcp"
check "quickstart --tcp writes the files" \
	quickstart "$Q" --endpoint 192.0.2.1 --clients 2 --subnet 198.18.0.0/24 --tcp --cipher aes-256-gcm
check "the server says Transport = tcp, the clients tcp://192.0.2.1:55555" \
	sh -c "grep -qx 'Transport = tcp' '$Q/server.conf' && grep -qx 'Endpoint = tcp://192.0.2.1:55555' '$Q/client2.conf'"
ip netns exec "$S" nft -f - <<-'EOF'
	table inet sluice_test {
		chain input {
			type filter hook input priority 0; policy accept;
			iifname "br0" meta l4proto udp counter drop
		}
	}
	EOF
bring_up "$Q" t
tcp_listening() {
	[ -n "$(ip netns exec "$S" ss -Htln 'sport = :55555')" ] && return 0
	echo "the server listens on no TCP port 55555: this sluice ignores Transport = tcp"
	echo "(the TCP transport is not in this build yet: src/device.c)"
	return 1
}
failed_before=$FAILED
check "the server listens on TCP port 55555" tcp_listening
if [ "$FAILED" -eq "$failed_before" ]; then
	pings
	check "both clients hold a TCP connection to the server" \
		sh -c "[ \$(ip netns exec $S ss -Htn state established 'sport = :55555' | wc -l) -eq 2 ]"
	check "no UDP reached the server (the nft drop counter is 0)" \
		sh -c "ip netns exec $S nft list chain inet sluice_test input | grep -q 'counter packets 0 '"
else
	info "(pings over TCP not tried: the failure above says why)"
fi
stop_all

section "quickstart --tap (Ethernet: one broadcast domain), over TCP"
Q=$TMPD/qs-tap
check "quickstart --tap writes the files" \
	quickstart "$Q" --endpoint 192.0.2.1 --clients 2 --subnet 198.18.0.0/24 --tap --tcp
check "server.conf says Mode = tap and has no Forward" \
	sh -c "grep -qx 'Mode = tap' $Q/server.conf && ! grep -q Forward $Q/server.conf"
check "client1.conf says Mode = tap and has no AllowedIPs" \
	sh -c "grep -qx 'Mode = tap' $Q/client1.conf && ! grep -q AllowedIPs $Q/client1.conf"
bring_up "$Q" t
pings
check "client1 -> client2 on the same segment (198.18.0.3), switched by the server" ping_ok "$C1" 198.18.0.3
check "client1 resolved client2's address by ARP across the server" \
	sh -c "ip -n $C1 neigh show 198.18.0.3 | grep -q lladdr"
stop_all

finish
