#!/usr/bin/env bash
# Least privilege: once a daemon is up (sluice up, sluice p2p, the
# wireguard-go form), it keeps CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only,
# has no_new_privs, a seccomp filter, is not dumpable and locks its memory;
# and everything it does after set-up still works under those limits: the
# tunnel over UDP and TCP, `wg show`, `wg set` rebinding to a low port,
# fwmark, MTU changes, and a clean exit that removes the interface. With
# `User = nobody` the daemon runs as that user with the same two
# capabilities, and the tunnel, `wg show`, `sluice show`, its state file,
# syncconf and `sluice down` still work; SIGHUP, which would read a file
# only root may read, fails with a message saying so.
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "wireguard-go has no sandbox to test"
test_init

ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
keypair KA
keypair KB
ifname IA a
ifname IB b

CA=$(conf_write "$IA" <<EOF
[Interface]
PrivateKey = $KA_priv
ListenPort = 51820
Address = 198.18.0.1/24
Transport = udp,tcp
[Peer]
PublicKey = $KB_pub
AllowedIPs = 198.18.0.2/32
EOF
)
CB=$(conf_write "$IB" <<EOF
[Interface]
PrivateKey = $KB_priv
Address = 198.18.0.2/24
[Peer]
PublicKey = $KA_pub
AllowedIPs = 198.18.0.1/32
Endpoint = 192.0.2.1:51820
EOF
)

# status_of PID FIELD: a field of /proc/PID/status.
status_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# sandboxed PID: the privilege state every daemon must have once up.
sandboxed() {
	local pid=$1 capeff capbnd
	capeff=$(status_of "$pid" CapEff)
	capbnd=$(status_of "$pid" CapBnd)
	[ "$capeff" = 0000000000001400 ] || { echo "CapEff $capeff, want 0000000000001400"; return 1; }
	[ "$capbnd" = 0000000000001400 ] || { echo "CapBnd $capbnd, want 0000000000001400"; return 1; }
	[ "$(status_of "$pid" NoNewPrivs)" = 1 ] || { echo "NoNewPrivs $(status_of "$pid" NoNewPrivs)"; return 1; }
	[ "$(status_of "$pid" Seccomp)" = 2 ] || { echo "Seccomp $(status_of "$pid" Seccomp), want 2 (filter)"; return 1; }
	# Not dumpable: its /proc files belong to root:root whatever its uid;
	# the core limit says it too.
	grep -q '^Max core file size *0 *0 ' "/proc/$pid/limits" || { grep core "/proc/$pid/limits"; return 1; }
}

section "sluice up: a daemon with two capabilities"
start_sluice "$A" "$CA"
PA=$LAST_PID
start_sluice "$B" "$CB"
PB=$LAST_PID
info "$(grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp|VmLck)' "/proc/$PA/status" | tr -s '\t ' ' ' | paste -sd' ')"
check "$IA: CapEff/CapBnd = NET_ADMIN+NET_BIND_SERVICE, no_new_privs, seccomp filter, no core" sandboxed "$PA"
check "$IB: the same" sandboxed "$PB"
check "the tunnel works under the sandbox" ping_ok "$B" 198.18.0.1
check "wg show answers" sh -c "ip netns exec $A wg show $IA | grep -q 'latest handshake'"
check "a 5 MB transfer arrives intact" transfer "$B" "$A" 198.18.0.1 5 5001

section "what the daemon does after set-up still works"
check "wg set listen-port 443 (a low port: CAP_NET_BIND_SERVICE)" ip netns exec "$A" wg set "$IA" listen-port 443
check "... it listens there" sh -c "ip netns exec $A ss -Hlun 'sport = :443' | grep -q ."
check "wg set fwmark 7 (SO_MARK: CAP_NET_ADMIN)" ip netns exec "$A" wg set "$IA" fwmark 7
check "... shown by wg" sh -c "ip netns exec $A wg show $IA fwmark | grep -qx '0x7'"
ip netns exec "$B" wg set "$IB" peer "$KA_pub" endpoint 192.0.2.1:443
check "the tunnel follows to port 443" ping_ok "$B" 198.18.0.1
ip -n "$A" link set "$IA" mtu 1300
check "an MTU change is followed (netlink under the filter)" \
	wait_until 5 grep -q "MTU of $IA changed [0-9]* -> 1300 (link watch)" "$TMPD/$IA.log"
check "$IA is still alive" kill -0 "$PA"

section "TCP transport under the sandbox"
ifname IC c
CC=$(conf_write "$IC" <<EOF
[Interface]
PrivateKey = $KB_priv
Address = 198.18.0.2/24
[Peer]
PublicKey = $KA_pub
AllowedIPs = 198.18.0.1/32
Endpoint = tcp://192.0.2.1:443
EOF
)
check "sluice down $IB" sluice_cli "$B" down "$IB"
start_sluice "$B" "$CC"
check "$IC dials TCP and the tunnel works" ping_ok "$B" 198.18.0.1

section "clean exit under the sandbox"
check "SIGTERM: $IA exits" stop_daemon "$IA"
check "... removing its interface" sh -c "! ip -n $A link show $IA"
check "... and its control socket" test ! -e "$WG_RUN/$IA.sock"

section "the wireguard-go form and SLUICE_NO_SANDBOX"
ifname IW w
ip netns exec "$A" env WG_PROCESS_FOREGROUND=1 "$SLUICE" "$IW" >"$TMPD/$IW.log" 2>&1 </dev/null &
PW=$!
PIDS+=("$PW")
DAEMONS+=("$A $IW $PW $TMPD/$IW.log sluice")
check "sluice $IW is up" wait_until 10 test -S "$WG_RUN/$IW.sock"
check "sluice $IW is sandboxed" sandboxed "$PW"
ifname IX x
ip netns exec "$A" env WG_PROCESS_FOREGROUND=1 SLUICE_NO_SANDBOX=1 "$SLUICE" "$IX" >"$TMPD/$IX.log" 2>&1 </dev/null &
PX=$!
PIDS+=("$PX")
DAEMONS+=("$A $IX $PX $TMPD/$IX.log sluice")
check "with SLUICE_NO_SANDBOX=1 it is up" wait_until 10 test -S "$WG_RUN/$IX.sock"
check "... keeps its capabilities (for debugging)" sh -c "[ \"\$(awk '\$1 == \"CapEff:\" { print \$2 }' /proc/$PX/status)\" != 0000000000001400 ]"
check "... and says so in its log" grep -q SLUICE_NO_SANDBOX "$TMPD/$IX.log"

section "User = nobody"
id nobody >/dev/null 2>&1 || cannot_run "no user nobody on this machine"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
check "sluice down $IC" sluice_cli "$B" down "$IC"
ifname IU u
ifname IV v
# A's and B's files again, A's as nobody (and over UDP only).
CU=$(sed 's/^Transport = .*/User = nobody/' "$CA" | conf_write "$IU")
CV=$(conf_write "$IV" <"$CB")
start_sluice "$A" "$CU"
PU=$LAST_PID
start_sluice "$B" "$CV"
# ids_are PID FIELD VALUE: the four ids of Uid: or Gid: are all VALUE.
ids_are() {
	local got
	got=$(awk -v f="$2:" '$1 == f { print $2, $3, $4, $5 }' "/proc/$1/status")
	echo "$2 $got, want $3 (4 times)"
	[ "$got" = "$3 $3 $3 $3" ]
}
info "$(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd)' "/proc/$PU/status" | tr -s '\t ' ' ' | paste -sd' ')"
check "Uid: nobody's ($NOBODY_UID) real, effective, saved and fs" ids_are "$PU" Uid "$NOBODY_UID"
check "Gid: nobody's group ($NOBODY_GID)" ids_are "$PU" Gid "$NOBODY_GID"
check "... and no other group" test "$(status_of "$PU" Groups)" = "$NOBODY_GID"
check "CapEff/CapBnd NET_ADMIN+NET_BIND_SERVICE, no_new_privs, seccomp, no core" sandboxed "$PU"
check "... CapPrm too" test "$(status_of "$PU" CapPrm)" = 0000000000001400
check "the log says who it runs as" grep -q "sandbox: running as nobody, only CAP_NET_ADMIN" "$TMPD/$IU.log"
check "the tunnel works" ping_ok "$B" 198.18.0.1
check "wg show answers" sh -c "ip netns exec $A wg show $IU | grep -q 'latest handshake'"
check "sluice show answers" sh -c "ip netns exec $A $SLUICE show $IU | grep -q 'latest handshake'"
state_owned() { stat -c '%U %a' "$SLUICE_STATE_DIR/$IU/state" 2>&1 | tee /dev/stderr | grep -qx 'nobody 600'; }
check "the state file is written, nobody's, mode 0600" wait_until 3 state_owned
(umask 077 && sed 's|^AllowedIPs = 198.18.0.2/32$|&\nPersistentKeepalive = 7|' "$CU" >"$TMPD/$IU.sync")
check "syncconf works (PersistentKeepalive = 7 added)" ip netns exec "$A" "$SLUICE" syncconf "$IU" "$TMPD/$IU.sync"
check "... wg show has it" sh -c "ip netns exec $A wg show $IU persistent-keepalive | grep -q '7\$'"
kill -HUP "$PU"
check "SIGHUP: the file cannot be read as nobody, and the log says what to do" \
	wait_until 3 grep -q "reload: .*Permission denied.*runs as its User now.*sluice syncconf" "$TMPD/$IU.log"
check "... the daemon runs on" kill -0 "$PU"
check "... and the tunnel with it" ping_ok "$B" 198.18.0.1
check "sluice down $IU (the daemon, as nobody, cannot remove its socket: down does)" sluice_cli "$A" down "$IU"
check "... the daemon is gone" wait_until 3 sh -c "! kill -0 $PU"
check "... and its socket" test ! -e "$WG_RUN/$IU.sock"

ifname IN n
CN=$(conf_write "$IN" <<EOF
[Interface]
PrivateKey = $KA_priv
User = sluice-no-such-user
EOF
)
no_such_user() {
	local out rc=0
	out=$(ip netns exec "$A" timeout 10 "$SLUICE" up -f "$CN" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 1 ] && grep -qF "$CN:3: User = sluice-no-such-user: no such user" <<<"$out"
}
check "User = a user that does not exist: refused at once (exit 1), naming the line" no_such_user
check "... and no interface made" sh -c "! ip -n $A link show $IN"


ifname IF f
CF=$(sed '/^Transport = /d' "$CA" | conf_write "$IF")
start_sluice "$A" "$CF" --user nobody
PF=$LAST_PID
check "sluice up --user nobody: the same as User = nobody" ids_are "$PF" Uid "$NOBODY_UID"
check "... sandboxed" sandboxed "$PF"
check "... SIGTERM: it exits" stop_pid "$PF"
check "sluice up --user with a user that does not exist: refused, saying so" \
	sh -c "ip netns exec $A timeout 10 $SLUICE up -f --user sluice-no-such-user '$CF' 2>&1 | grep -q 'up: --user sluice-no-such-user: no such user'"

finish
