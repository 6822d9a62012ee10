#!/usr/bin/env bash
# `sudo make demo`: two network namespaces joined by a virtual cable, a sluice
# tunnel between them, pings both ways, then everything is torn down again
# (also on Ctrl-C). Nothing is changed outside the two namespaces.
# SLUICE_IMPL=wggo plays the demo with wireguard-go standing in for sluice.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "The demo makes network namespaces and TUN devices, which needs root:" >&2
	echo "    sudo make demo" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
sluice_bin=${SLUICE:-$here/../build/sluice}
if [ "${SLUICE_IMPL:-}" != wggo ] && [ ! -x "$sluice_bin" ]; then
	echo "No sluice binary at $sluice_bin: build it with 'make' first (or run 'sudo make demo')." >&2
	exit 1
fi
for t in ip ping; do
	command -v $t >/dev/null || { echo "'$t' is missing: run scripts/deps.sh" >&2; exit 1; }
done
[ -c /dev/net/tun ] || { echo "/dev/net/tun is missing: sluice needs the TUN driver" >&2; exit 1; }
# shellcheck source=tests/netns/lib.sh
source "$here/../tests/netns/lib.sh"
# lib.sh's conf_write and cleanup use TMPD.
# shellcheck disable=SC2034
TMPD=$(mktemp -d "/tmp/sluice-demo.XXXXXX")
trap _on_exit EXIT
trap 'echo; echo "Interrupted."; exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }

step "[1/5] Two namespaces joined by a veth (the 'underlay')"
ns_new L left
ns_new R right
veth "$L" eth0 "$R" eth0
addr "$L" eth0 192.0.2.1/24
addr "$R" eth0 192.0.2.2/24
info "$L  eth0 192.0.2.1  <--veth-->  192.0.2.2 eth0  $R"

step "[2/5] Keys, made with sluice genkey / sluice pubkey"
l_priv=$(sluice_cli "$L" genkey)
r_priv=$(sluice_cli "$R" genkey)
l_pub=$(printf '%s\n' "$l_priv" | sluice_cli "$L" pubkey)
r_pub=$(printf '%s\n' "$r_priv" | sluice_cli "$R" pubkey)
info "left  public key $l_pub"
info "right public key $r_pub"

step "[3/5] Configs (wg-quick format, mode 0600) and sluice up"
ifname IL l
ifname IR r
CL=$(conf_write "$IL" <<-EOF
	[Interface]
	PrivateKey = $l_priv
	ListenPort = 51820
	Address = 198.18.0.1/24, 2001:db8:77::1/64

	[Peer]
	PublicKey = $r_pub
	AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
	Endpoint = 192.0.2.2:51820
	EOF
)
CR=$(conf_write "$IR" <<-EOF
	[Interface]
	PrivateKey = $r_priv
	ListenPort = 51820
	Address = 198.18.0.2/24, 2001:db8:77::2/64

	[Peer]
	PublicKey = $l_pub
	AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
	Endpoint = 192.0.2.1:51820
	EOF
)
sluice_cli "$L" up "$CL"
sluice_cli "$R" up "$CR"
info "left:  interface $IL, tunnel 198.18.0.1 and 2001:db8:77::1"
info "right: interface $IR, tunnel 198.18.0.2 and 2001:db8:77::2"

step "[4/5] Pings through the tunnel"
failed=0
demo_ping() { # NS FROM-NAME TO-NAME ADDR
	local summary
	wait_until 10 ip netns exec "$1" ping -n -c 1 -W 1 "$4" || true
	if summary=$(ip netns exec "$1" ping -n -q -c 3 -i 0.2 -W 2 "$4"); then
		printf '   %-6s -> %-6s %-16s ok, %s received, rtt avg %s ms\n' "$2" "$3" "$4" \
			"$(sed -n 's/.* \([0-9]*\) received.*/\1\/3/p' <<<"$summary")" \
			"$(sed -n 's|^rtt [^=]*= [^/]*/\([^/]*\)/.*|\1|p' <<<"$summary")"
	else
		printf '   %-6s -> %-6s %-16s FAILED\n' "$2" "$3" "$4"
		failed=1
	fi
}
demo_ping "$L" left right 198.18.0.2
demo_ping "$L" left right 2001:db8:77::2
demo_ping "$R" right left 198.18.0.1
demo_ping "$R" right left 2001:db8:77::1

step "[5/5] sluice show, on each side"
for side in "$L $IL" "$R $IR"; do
	read -r ns ifc <<<"$side"
	sluice_cli "$ns" show "$ifc" | sed 's/^/   /'
	echo
done

step "Tearing down"
sluice_cli "$L" down "$IL" || true
sluice_cli "$R" down "$IR" || true
cleanup 0
info "namespaces, interfaces and daemons removed"
if [ $failed -ne 0 ]; then
	echo "Some pings failed: see above." >&2
	exit 1
fi
printf '\nDone: the tunnel carried IPv4 and IPv6 both ways.\n'
