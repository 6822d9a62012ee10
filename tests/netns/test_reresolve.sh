#!/usr/bin/env bash
# An endpoint given by name is resolved again when handshakes go unanswered
# (what wg's reresolve-dns.sh does by hand), without stalling the daemon.
# The client's daemon runs in a mount namespace of its own where files of the
# test are bind-mounted over /etc/hosts, /etc/resolv.conf and
# /etc/nsswitch.conf (the host's are never touched):
# 1. the name resolves to 192.0.2.99, where no server is: no handshake;
# 2. the name is taken out of the hosts file, and the name server
#    (192.0.2.53, on the link, silent) never answers: the re-resolution,
#    logged at -v, takes seconds, and meanwhile `sluice show` answers at once;
# 3. the hosts file says 192.0.2.2, the server: the client gets through,
#    its endpoint is the new address, and the log says so.
# ns_new, keypair and ifname set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "wireguard-go resolves an endpoint once; re-resolving is sluice's"
command -v unshare >/dev/null || cannot_run "'unshare' not installed (util-linux)"
[ -e /etc/resolv.conf ] && [ -e /etc/nsswitch.conf ] && [ -e /etc/hosts ] ||
	cannot_run "/etc/hosts, /etc/resolv.conf or /etc/nsswitch.conf is missing: nothing to bind-mount over"
test_init

ns_new S srv
ns_new C cli
veth "$S" eth0 "$C" eth0
addr "$S" eth0 192.0.2.2/24
addr "$C" eth0 192.0.2.1/24
keypair ks
keypair kc
NAME=sluice-server.test

HOSTS="$TMPD/hosts"
printf '127.0.0.1 localhost\n192.0.2.99 %s\n' "$NAME" >"$HOSTS"
printf 'nameserver 192.0.2.53\noptions timeout:2 attempts:2\n' >"$TMPD/resolv.conf"
printf 'hosts: files dns\n' >"$TMPD/nsswitch.conf"
# set_hosts LINE: the hosts file rewritten in place (the bind mount holds its inode).
set_hosts() { printf '127.0.0.1 localhost\n%s\n' "$1" >"$HOSTS"; }

ifname IS rs
ifname IC rc
start_sluice "$S" "$(conf_write "$IS" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	ListenPort = 51820
	Address = 198.18.0.1/24

	[Peer]
	PublicKey = $kc_pub
	AllowedIPs = 198.18.0.2/32
	EOF
)"
# shellcheck disable=SC2016 # expanded by the inner sh
SLUICE_WRAP=(unshare -m --propagation private sh -c
	'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf &&
	 mount --bind "$3" /etc/nsswitch.conf && shift 3 && exec "$@"'
	sh "$HOSTS" "$TMPD/resolv.conf" "$TMPD/nsswitch.conf")
start_sluice "$C" "$(conf_write "$IC" <<-EOF
	[Interface]
	PrivateKey = $kc_priv
	Address = 198.18.0.2/24

	[Peer]
	PublicKey = $ks_pub
	AllowedIPs = 198.18.0.1/32
	Endpoint = $NAME:51820
	PersistentKeepalive = 1
	EOF
)"
SLUICE_WRAP=()
LOG="$TMPD/$IC.log"
endpoint_is() {
	local got
	got=$(ip netns exec "$C" wg show "$IC" endpoints | awk '{print $2}')
	[ "$got" = "$1" ] || { echo "endpoint is '$got', not $1"; return 1; }
}

section "1. $NAME resolves to 192.0.2.99, where no server is"
check "the host's /etc/hosts does not have $NAME (only the daemon's namespace does)" \
	sh -c "! grep -q '$NAME' /etc/hosts"
check "the client's endpoint is 192.0.2.99:51820" endpoint_is 192.0.2.99:51820
check "no reply through the tunnel" ping_fails "$C" 198.18.0.1

section "2. re-resolving with a silent name server does not stall the daemon"
set_hosts "# $NAME gone"
check "within 30 s, handshakes unanswered, the daemon resolves $NAME again (logged at -v)" \
	wait_until 30 grep -q "resolving $NAME:51820 again" "$LOG"
# The lookup now waits for 192.0.2.53 (2 s a try); the loop must not.
n_before=$(grep -c "cannot resolve $NAME" "$LOG" || true)
check "while it waits, sluice show answers within 1 s" \
	ip netns exec "$C" timeout 1 "$SLUICE" show "$IC"
check "... and the lookup had not finished then (it runs beside the loop)" \
	sh -c "[ \$(grep -c 'cannot resolve $NAME' '$LOG') -eq $n_before ]"
check "the failed lookup is logged (within 20 s), the endpoint kept" \
	wait_until 20 grep -q "cannot resolve $NAME" "$LOG"
check "... still 192.0.2.99:51820" endpoint_is 192.0.2.99:51820

section "3. $NAME moves to 192.0.2.2, the server"
set_hosts "192.0.2.2 $NAME"
check "within 40 s the client reaches the server through the tunnel" \
	wait_until 40 ip netns exec "$C" ping -n -c 1 -W 1 198.18.0.1
check "... its endpoint is now 192.0.2.2:51820" endpoint_is 192.0.2.2:51820
check "... and the log says the name moved" \
	grep -q "$NAME:51820 now resolves to 192.0.2.2:51820 (was 192.0.2.99:51820)" "$LOG"
grep -E "resolv" "$LOG" | sed 's/^/        | /'
check "the server sees the client at 192.0.2.1" \
	sh -c "ip netns exec $S wg show $IS endpoints | grep -q '192.0.2.1:'"
stop_both() { stop_daemon "$IC" && stop_daemon "$IS"; }
check "both stop on SIGTERM" stop_both

finish
