#!/usr/bin/env bash
# Every way of stopping sluice leaves no interface, no control socket and no
# process: `sluice down IFACE`, `sluice down FILE`, SIGTERM, SIGINT, and
# deleting the TUN. `sluice up` without -f returns 0 only once the interface
# exists, and refuses a config file that is not mode 0600.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

ns_new N n
keypair k
keypair kp

# conf SHORT: a config with one peer, for interface s<ID>SHORT; sets IFC, CONF.
conf() {
	ifname IFC "$1"
	CONF=$(conf_write "$IFC" <<-EOF
		[Interface]
		PrivateKey = $k_priv
		Address = 198.18.0.1/24, 2001:db8:77::1/64

		[Peer]
		PublicKey = $kp_pub
		AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
		EOF
	)
}

# wait_exit PID: waits (5 s at most) for a daemon this shell started; sets
# EXIT_RC to its exit status, or to "running". In this shell, not in a
# check's subshell, because only the parent can collect the status.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		EXIT_RC=running
		return 0
	fi
	EXIT_RC=0
	wait "$pid" || EXIT_RC=$?
}

# all_gone IFACE PID: gone within 5 s, or say what is left.
# shellcheck disable=SC2317 # called through check
all_gone() {
	wait_until 5 gone "$N" "$1" "${2:-}" || { explain_gone "$N" "$1" "${2:-}"; return 1; }
}

section "sluice down IFACE"
conf d1
start_sluice "$N" "$CONF"
pid=$LAST_PID
check "control socket exists while running" test -S "$WG_RUN/$IFC.sock"
check "sluice down $IFC returns 0" sluice_cli "$N" down "$IFC"
wait_exit "$pid"
check "the daemon exits with status 0 (got: $EXIT_RC)" test "$EXIT_RC" = 0
check "no interface, socket or process left" all_gone "$IFC" "$pid"

section "SIGTERM"
conf t1
start_sluice "$N" "$CONF"
pid=$LAST_PID
kill -TERM "$pid"
wait_exit "$pid"
check "the daemon exits with status 0 (got: $EXIT_RC)" test "$EXIT_RC" = 0
check "no interface, socket or process left" all_gone "$IFC" "$pid"

section "SIGINT"
conf i1
start_sluice "$N" "$CONF"
pid=$LAST_PID
kill -INT "$pid"
wait_exit "$pid"
check "the daemon exits with status 0 (got: $EXIT_RC)" test "$EXIT_RC" = 0
check "no interface, socket or process left" all_gone "$IFC" "$pid"

section "the TUN is deleted under the daemon (ip link del)"
conf l1
start_sluice "$N" "$CONF"
pid=$LAST_PID
ip -n "$N" link del "$IFC"
wait_exit "$pid"
check "the daemon exits within 5 s (got: $EXIT_RC)" test "$EXIT_RC" != running
check "no interface, socket or process left" all_gone "$IFC" "$pid"

section "sluice up (daemon mode) and sluice down FILE"
conf b1
rc=0
sluice_cli "$N" up "$CONF" >"$TMPD/up.out" 2>&1 || rc=$?
# Checked at once: `up` must not return before the interface exists.
if iface_exists "$N" "$IFC"; then present=yes; else present=no; fi
check "sluice up $IFC.conf returns 0" test $rc -eq 0
check "the interface exists as soon as sluice up has returned" test $present = yes
check "the daemon runs in the namespace" sh -c "ip netns pids $N | grep -q ."
check "its control socket appears" wait_until 5 test -S "$WG_RUN/$IFC.sock"
check "its addresses are assigned" wait_until 5 \
	sh -c "ip -n $N addr show $IFC | grep -q 198.18.0.1/24 && ip -n $N addr show $IFC | grep -q 2001:db8:77::1/64"
check "sluice down $CONF (by file) returns 0" sluice_cli "$N" down "$CONF"
check "no interface, socket or process left" all_gone "$IFC"
check "no process left in the namespace" wait_until 5 sh -c "! ip netns pids $N | grep -q ."

section "a config that others can read is refused"
conf m1
chmod 644 "$CONF"
rc=0
sluice_cli "$N" up "$CONF" >"$TMPD/refused.out" 2>&1 || rc=$?
check "sluice up on a mode 0644 file fails at once (status $rc)" sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ]"
check "it created no interface" test "$(iface_exists "$N" "$IFC" && echo yes)" != yes
check "it left no socket" test ! -e "$WG_RUN/$IFC.sock"
check "it said why (mentions the file or its mode)" grep -Eqi "$IFC|mode|permission|0600|readable" "$TMPD/refused.out"

finish
