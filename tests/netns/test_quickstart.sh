#!/usr/bin/env bash
# `sluice quickstart`: the files it writes bring up a server and two clients
# unchanged (only copied to per-run names, since the interface is named after
# the file), and they ping each other through the tunnel; a second run into
# the same directory refuses and writes nothing. Then the same with
# --cipher aes-256-gcm, and with --tcp while UDP is dropped in the underlay, so
# only the TCP transport can carry it; --tap (with --tcp): one Ethernet
# segment, client to client through the server's switch. Then clients added to
# and revoked from a running server (--add-client, --revoke: applied live,
# other sessions kept), --dns in the client files, and --qr's code decoded back
# with zbarimg.
# Underlay: the server namespace bridges a veth to each client namespace.
# ns_new and ifname set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "sluice quickstart has no wireguard-go equivalent"
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
command -v qrencode >/dev/null || cannot_run "'qrencode' not installed (run scripts/deps.sh)"
command -v zbarimg >/dev/null || cannot_run "'zbarimg' not installed (zbar-tools; run scripts/deps.sh)"
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
stop_added() { stop_daemon "$IS" && stop_pid "$IA1_PID" && stop_daemon "$IA2"; }

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

section "clients added to and revoked from a running server"
# The server runs from a copy named $IS; --interface names it, and
# DIR/server.conf stays the record that --add-client and --revoke edit.
Q="$TMPD/qs-add"
check "quickstart --clients 1 --dns writes the files" \
	quickstart "$Q" --endpoint 192.0.2.1 --clients 1 --subnet 198.18.0.0/24 --dns 192.0.2.53,example.com
check "client1.conf says DNS = 192.0.2.53, example.com" grep -qx 'DNS = 192.0.2.53, example.com' "$Q/client1.conf"
ifname IS sadd
ifname IA1 anew1
ifname IA2 anew2
cp --preserve=mode "$Q/server.conf" "$TMPD/$IS.conf"
start_sluice "$S" "$TMPD/$IS.conf"
# add NAME [ARGS]: quickstart --add-client NAME ARGS --interface $IS $Q.
add() { local n=$1; shift; quickstart "$Q" --add-client "$n" --interface "$IS" "$@"; }
check "--add-client $IA1 succeeds" add "$IA1"
sed 's/^/        | /' "$TMPD/qs.out"
check "... it was applied to the running $IS" grep -q "Applied to the running interface $IS" "$TMPD/qs.out"
check "... the output names the firewall port and forwarding" \
	sh -c "grep -q 'firewall must let UDP port 55555 in' '$TMPD/qs.out' && grep -q 'ip_forward' '$TMPD/qs.out'"
check "--add-client $IA2 --dns 192.0.2.53 succeeds" add "$IA2" --dns 192.0.2.53
check "... $IA2.conf says DNS = 192.0.2.53" grep -qx 'DNS = 192.0.2.53' "$Q/$IA2.conf"
check "--add-client $IA1 again refuses (exit 2) and writes nothing" exits_with 2 add "$IA1"
check "--add-client server refuses (exit 1)" exits_with 1 add server
for f in server "$IA1" "$IA2"; do
	check "$f.conf has mode 0600" has_mode "$Q/$f.conf" 600
done
check "no temporary file is left in DIR" test "$(find "$Q" -mindepth 1 | wc -l)" -eq 4
check "the new clients took the next free addresses (198.18.0.3, .4)" \
	sh -c "grep -qx 'Address = 198.18.0.3/24' '$Q/$IA1.conf' && grep -qx 'Address = 198.18.0.4/24' '$Q/$IA2.conf'"
check "no address is given twice in server.conf" \
	sh -c "[ -z \"\$(grep '^AllowedIPs' '$Q/server.conf' | sort | uniq -d)\" ] && [ \$(grep -c '^AllowedIPs' '$Q/server.conf') -eq 3 ]"
# DNS = in the client files goes to resolvconf: a stand-in, first in PATH,
# records what it is given (the host's resolver is never touched).
mkdir -p "$TMPD/bin"
cat >"$TMPD/bin/resolvconf" <<EOF
#!/bin/sh
{ echo "args: \$*"; if [ "\$1" = -a ]; then cat; fi; } >>"$TMPD/resolvconf.log"
EOF
chmod 755 "$TMPD/bin/resolvconf"
PATH="$TMPD/bin:$PATH" start_sluice "$C1" "$Q/$IA1.conf"
PATH="$TMPD/bin:$PATH" start_sluice "$C2" "$Q/$IA2.conf"
check "$IA2's DNS went to resolvconf (-a $IA2, nameserver 192.0.2.53)" \
	sh -c "grep -Eqx 'args: -a (tun\\.)?$IA2 -m 0 -x' '$TMPD/resolvconf.log' && grep -qx 'nameserver 192.0.2.53' '$TMPD/resolvconf.log'"
check "$IA1 -> server over the tunnel" ping_ok "$C1" 198.18.0.1
check "$IA2 -> server over the tunnel" ping_ok "$C2" 198.18.0.1
check "$IA1 -> $IA2 through the server" ping_ok "$C1" 198.18.0.4
pub1=$(ip netns exec "$C1" "$SLUICE" show "$IA1" | sed -n 's/^  public key: //p')
pub2=$(ip netns exec "$C2" "$SLUICE" show "$IA2" | sed -n 's/^  public key: //p')
hs_of() { ip netns exec "$S" wg show "$IS" latest-handshakes | awk -v k="$1" '$1 == k { print $2 }'; }
hs2=$(hs_of "$pub2")
info "$IA2's latest handshake with the server: $hs2"

cp --preserve=mode "$Q/$IA1.conf" "$TMPD/$IA1.conf"
check "--revoke $IA1 succeeds" quickstart "$Q" --revoke "$IA1" --interface "$IS"
sed 's/^/        | /' "$TMPD/qs.out"
check "... applied to the running $IS" grep -q "Applied to the running interface $IS" "$TMPD/qs.out"
check "... $IA1 is gone from server.conf, $IA2 is still there" \
	sh -c "! grep -q '^# $IA1\$' '$Q/server.conf' && grep -q '^# $IA2\$' '$Q/server.conf' && [ \$(grep -c '^\[Peer\]' '$Q/server.conf') -eq 2 ]"
check "... $IA1.conf was deleted, server.conf is still 0600" \
	sh -c "[ ! -e '$Q/$IA1.conf' ] && [ \$(stat -c %a '$Q/server.conf') = 600 ]"
check "... the server no longer lists $IA1" sh -c "! ip netns exec $S wg show $IS peers | grep -qxF '$pub1'"
check "--revoke $IA1 again fails (exit 2)" exits_with 2 quickstart "$Q" --revoke "$IA1" --interface "$IS"
# A fresh start of $IA1 (from a copy made before) tries a new handshake at
# once; the server no longer knows its key.
check "$IA1 stops" stop_daemon "$IA1"
PATH="$TMPD/bin:$PATH" start_sluice "$C1" "$TMPD/$IA1.conf"
IA1_PID=$LAST_PID
check "$IA1, started again, gets no reply" ping_fails "$C1" 198.18.0.1
hs_none() { [ "$(ip netns exec "$C1" wg show "$IA1" latest-handshakes | awk '{print $2}')" = 0 ]; }
check "... and has no handshake after 5 s of trying" sh -c "sleep 5; $(declare -f hs_none); C1=$C1 IA1=$IA1 hs_none"
check "$IA2 still reaches the server" ping_ok "$C2" 198.18.0.1
check "... on the same session (no handshake since before the revoke)" test "$(hs_of "$pub2")" = "$hs2"
check "the server and both clients stop on SIGTERM" stop_added


section "--qr: the client's file as a QR code"
check "--add-client phone --qr succeeds" add phone --qr
check "... its output holds QR block characters" grep -q '█' "$TMPD/qs.out"
# ansiutf8 draws two rows of modules per line: '█' both light, '▀' the top
# one, '▄' the bottom one, ' ' both dark. Redrawn as a bitmap for zbarimg.
qr_decode() {
	python3 - "$TMPD/qs.out" "$TMPD/qr.pbm" <<-'EOF'
	import re, sys
	rows = []
	for line in open(sys.argv[1], encoding="utf-8"):
	    line = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\n"))
	    if not line or not set(line) <= set("█▀▄ "):
	        continue
	    rows.append([0 if c in "█▀" else 1 for c in line])
	    rows.append([0 if c in "█▄" else 1 for c in line])
	s, w = 4, max(len(r) for r in rows)
	with open(sys.argv[2], "w") as out:
	    out.write("P1\n%d %d\n" % (w * s, len(rows) * s))
	    for r in rows:
	        bits = " ".join(str(v) for v in r + [0] * (w - len(r)) for _ in range(s))
	        out.write((bits + "\n") * s)
	EOF
	zbarimg --raw -q "$TMPD/qr.pbm" 2>/dev/null | sed '$d' >"$TMPD/qr.txt"
	cmp "$TMPD/qr.txt" "$Q/phone.conf"
}
check "... zbarimg decodes it to phone.conf, byte for byte" qr_decode
check "--qr without qrencode in PATH: exit 1, says so, writes nothing" \
	sh -c "! PATH=/nonexistent '$SLUICE' quickstart --add-client tablet --qr '$Q' 2>'$TMPD/qr.err' &&
		grep -q 'needs the program qrencode' '$TMPD/qr.err' && [ ! -e '$Q/tablet.conf' ]"

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
