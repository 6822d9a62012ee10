#!/usr/bin/env bash
# What `sluice up` does around the interface, as wg-quick does:
# - PreUp, PostUp, PreDown, PostDown run in order with %i replaced, PostUp
#   and PreDown while the interface exists, PostDown once it is gone; by
#   `sluice down` (which returns after PostDown) and on SIGTERM;
# - a failing PreUp aborts `up` (exit status not 0, no interface, no socket);
#   a failing PostUp too, taking the interface away, with no down hooks;
# - MTU unset: the underlay route's MTU less 80 (veth at 1400 -> 1320), the
#   default route's without an endpoint, 1420 with neither; MTU = wins;
# - DNS = through resolvconf: a stand-in first in PATH records its arguments
#   and input (the host's resolver is never touched): -a IFACE -m 0 -x with
#   nameserver and search lines at up, -d IFACE -f at down; with neither
#   resolvconf nor resolvectl in PATH, `up` fails and leaves nothing.
# ns_new, keypair and ifname set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "hooks and DNS are sluice up's (wg-quick's), not wireguard-go's"
test_init

ns_new A a
ns_new B b
veth "$A" eth0 "$B" eth0
ip -n "$A" link set eth0 mtu 1400
ip -n "$B" link set eth0 mtu 1400
addr "$A" eth0 192.0.2.1/24
addr "$B" eth0 192.0.2.2/24
keypair ka
keypair kb
LOG="$TMPD/hooks.log"
: >"$LOG"

# conf IFACE EXTRA_INTERFACE_LINES: A's file, B as its peer at 192.0.2.2.
conf() {
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $ka_priv
		Address = 198.18.0.1/24
		$2

		[Peer]
		PublicKey = $kb_pub
		AllowedIPs = 198.18.0.2/32
		Endpoint = 192.0.2.2:51820
		EOF
}

# up NS CONF [ENV...]: `sluice up CONF` (the daemon, not -f) in NS; output in
# TMPD/up.out, exit status returned.
up() {
	local ns=$1 conf=$2; shift 2
	[ $# -gt 0 ] || set -- PATH="$PATH"
	ip netns exec "$ns" timeout -k 5 30 env "$@" "$SLUICE" up "$conf" >"$TMPD/up.out" 2>&1
}
down() { ip netns exec "$1" timeout -k 5 40 "$SLUICE" down "$2" >"$TMPD/down.out" 2>&1; }
log_is() {
	local want=$1
	[ "$(cat "$LOG")" = "$want" ] || { printf 'hooks.log holds:\n%s\nexpected:\n%s\n' "$(cat "$LOG")" "$want"; return 1; }
}
left_nothing() {
	! iface_exists "$1" "$2" && [ ! -e "$WG_RUN/$2.sock" ] ||
		{ echo "left: $(ip -n "$1" -br link show "$2" 2>&1) $(ls "$WG_RUN/$2.sock" 2>&1)"; return 1; }
}
mtu_is() {
	local got
	got=$(ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	[ "$got" = "$3" ] || { echo "$2 has MTU '$got', not $3"; return 1; }
}

section "PreUp, PostUp, PreDown, PostDown: order, %i, and when they run"
ifname IH hk
CONF=$(conf "$IH" "PreUp = echo pre-up %i >> $LOG
PostUp = ip link show %i > /dev/null && echo post-up %i, the interface exists >> $LOG
PostUp = echo second post-up >> $LOG
PreDown = ip link show %i > /dev/null && echo pre-down %i, the interface exists >> $LOG
PostDown = ip link show %i > /dev/null 2>&1 || echo post-down %i, the interface is gone >> $LOG")
check "sluice up (a daemon) returns 0" up "$A" "$CONF"
check "PreUp and both PostUp ran, in order, %i replaced" log_is "pre-up $IH
post-up $IH, the interface exists
second post-up"
check "sluice down $IH returns 0" down "$A" "$IH"
check "... PreDown ran while $IH existed, PostDown once it was gone, before down returned" log_is "pre-up $IH
post-up $IH, the interface exists
second post-up
pre-down $IH, the interface exists
post-down $IH, the interface is gone"
check "... nothing is left (interface, socket)" left_nothing "$A" "$IH"
check "... and no process of it (daemon, keeper of the down hooks)" sh -c "! pgrep -f '^$SLUICE up $CONF'"

: >"$LOG"
start_sluice "$A" "$CONF"
check "under -f, SIGTERM: the daemon stops" stop_daemon "$IH"
check "... and PreDown and PostDown ran" sh -c "grep -q '^pre-down $IH' '$LOG' && grep -q '^post-down $IH' '$LOG'"

section "a failing PreUp aborts up"
ifname IF1 pf
: >"$LOG"
CONF=$(conf "$IF1" "PreUp = echo tried >> $LOG; exit 3
PostUp = echo post-up >> $LOG")
check_fails "sluice up fails" up "$A" "$CONF"
sed 's/^/        | /' "$TMPD/up.out"
check "... saying which command failed and how" grep -q "PreUp command 'echo tried >> .*; exit 3' failed: exit status 3" "$TMPD/up.out"
check "... no interface, no control socket" left_nothing "$A" "$IF1"
check "... PreUp ran, PostUp did not" log_is "tried"

section "a failing PostUp aborts up and removes the interface"
ifname IF2 qf
: >"$LOG"
CONF=$(conf "$IF2" "PostUp = ip link show %i > /dev/null && echo post-up >> $LOG && false
PostDown = echo post-down >> $LOG")
check_fails "sluice up fails" up "$A" "$CONF"
sed 's/^/        | /' "$TMPD/up.out"
check "... saying PostUp failed" grep -q "PostUp command .* failed: exit status 1" "$TMPD/up.out"
check "... the interface existed when PostUp ran" log_is "post-up"
check "... no interface, no control socket left" wait_until 5 left_nothing "$A" "$IF2"
check "... and no PostDown ran (as wg-quick: up failed)" sh -c "sleep 0.5; ! grep -q post-down '$LOG'"

section "MTU unset: from the route to the endpoint, as wg-quick"
ifname IM1 mt1
start_sluice "$A" "$(conf "$IM1" "")"
check "$IM1's MTU is 1320 (the veth's 1400 less 80)" mtu_is "$A" "$IM1" 1320
check "... the log says why" grep -q "MTU 1320: the route to the endpoint 192.0.2.2 has MTU 1400" "$TMPD/$IM1.log"
stop_daemon "$IM1"
ifname IM2 mt2
start_sluice "$A" "$(conf "$IM2" "MTU = 1380")"
check "MTU = 1380 in the file wins" mtu_is "$A" "$IM2" 1380
stop_daemon "$IM2"
# B: no endpoint. Without a default route, the default; with one, its MTU.
bconf() {
	conf_write "$1" <<-EOF
		[Interface]
		PrivateKey = $kb_priv
		ListenPort = 51820
		Address = 198.18.0.2/24

		[Peer]
		PublicKey = $ka_pub
		AllowedIPs = 198.18.0.1/32
		EOF
}
ifname IM3 mt3
start_sluice "$B" "$(bconf "$IM3")"
check "no endpoint, no default route: 1420" mtu_is "$B" "$IM3" 1420
stop_daemon "$IM3"
ip -n "$B" route add default via 192.0.2.1 dev eth0
ifname IM4 mt4
start_sluice "$B" "$(bconf "$IM4")"
check "no endpoint, a default route over the 1400 veth: 1320" mtu_is "$B" "$IM4" 1320
stop_daemon "$IM4"

section "DNS = through resolvconf (a stand-in first in PATH)"
mkdir -p "$TMPD/bin" "$TMPD/empty"
RLOG="$TMPD/resolvconf.log"
cat >"$TMPD/bin/resolvconf" <<EOF
#!/bin/sh
{ echo "args: \$*"; if [ "\$1" = -a ]; then sed 's/^/stdin: /'; fi; } >>"$RLOG"
EOF
chmod 755 "$TMPD/bin/resolvconf"
ifname ID dn
CONF=$(conf "$ID" "DNS = 192.0.2.53, 2001:db8::53, example.com
DNS = corp.example")
check "sluice up with DNS returns 0" up "$A" "$CONF" PATH="$TMPD/bin:$PATH"
check "resolvconf was given the interface and the name servers" sh -c "grep -Eqx 'args: -a (tun\\.)?$ID -m 0 -x' '$RLOG' &&
	[ \"\$(grep '^stdin:' '$RLOG')\" = 'stdin: nameserver 192.0.2.53
stdin: nameserver 2001:db8::53
stdin: search example.com corp.example' ]"
sed 's/^/        | /' "$RLOG"
check "sluice down $ID" down "$A" "$ID"
check "... resolvconf -d $ID -f was run" grep -Eqx "args: -d (tun\\.)?$ID -f" "$RLOG"
check "... nothing left" left_nothing "$A" "$ID"
ifname ID2 dn2
CONF=$(conf "$ID2" "DNS = 192.0.2.53")
check_fails "neither resolvconf nor resolvectl in PATH: up fails" up "$A" "$CONF" PATH="$TMPD/empty"
check "... saying so" grep -q "neither resolvconf nor resolvectl is in PATH" "$TMPD/up.out"
check "... and leaves nothing" left_nothing "$A" "$ID2"

finish
