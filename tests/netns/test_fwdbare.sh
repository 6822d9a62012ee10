#!/usr/bin/env bash
# build/tools/fwdbare, make bench's bare forwarder (tests/tools/fwdbare.c),
# between two namespaces joined by veth, as bench.sh's ceiling rows run it:
#   - with either cipher, pings and a checksummed transfer cross it, IPv4
#     and IPv6 inside, and each side's counts (printed on SIGTERM, after
#     which it exits 0) say the packets went through;
#   - without UDP GRO (SLUICE_NO_UDP_GRO=1) it still carries a transfer;
#   - two different keys: nothing crosses, the failures are counted;
#   - its TUN deleted: it stops by itself;
#   - --help exits 0; bad arguments exit 2 naming the option.
# This keeps the tool working, since make bench asserts nothing.
# ns_new sets variables by name (A, B); shellcheck can't see it.
# Helpers run through check (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ -x "$FWDBARE" ] || cannot_run "$FWDBARE not built (make build/tools/fwdbare)"
test_init

KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
OTHER=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

section "arguments"
check "--help prints the usage and exits 0" sh -c "'$FWDBARE' --help | grep -q 'usage: fwdbare'"
bad_arg() {
	local want=$1 out rc=0; shift
	out=$("$FWDBARE" "$@" 2>&1) && rc=0 || rc=$?
	echo "exit $rc: $out"
	[ "$rc" -eq 2 ] && [[ $out == *"$want"* ]]
}
full=(--tun x --listen 51820 --peer 192.0.2.2:51820 --key "$KEY" --cipher aes-256-gcm)
check "a bad --cipher exits 2, naming it" bad_arg "--cipher 'rot13'" "${full[@]}" --cipher rot13
check "a short --key exits 2, naming it (and not echoing it)" bad_arg "--key '...'" "${full[@]}" --key abcd
check "a bad --peer exits 2, naming it" bad_arg "--peer '192.0.2.2'" "${full[@]}" --peer 192.0.2.2
check "port 0 exits 2" bad_arg "--listen '0'" "${full[@]}" --listen 0
check "a missing option exits 2" bad_arg "are all needed" --tun x --listen 51820

ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
ifname IA a
ifname IB b

# stop PID: SIGTERM, then up to 5 s for it to exit (SIGKILL after);
# STOPPED is its exit status, or "running" if it had to be killed. In this
# shell, not under check: only the parent can wait for it.
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	STOPPED=running
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; wait "$1"; return 0; }
	wait "$1" && STOPPED=0 || STOPPED=$?
}
# stopped IFACE: it exited 0 on SIGTERM and left its counts in its log.
stopped() {
	echo "exit status $STOPPED"
	grep -h 'tx_packets=' "$TMPD/$1.log" && [ "$STOPPED" = 0 ]
}
# count IFACE NAME: a count from the line it printed on stopping.
count() { grep -ho " $2=[0-9]*" "$TMPD/$1.log" | tail -n 1 | cut -d= -f2; }

for cipher in chacha20-poly1305 aes-256-gcm; do
	section "$cipher"
	start_fwdbare "$A" "$IA" 198.18.0.1/24 192.0.2.2 "$KEY" "$cipher"
	PA=$LAST_PID
	start_fwdbare "$B" "$IB" 198.18.0.2/24 192.0.2.1 "$KEY" "$cipher"
	PB=$LAST_PID
	addr "$A" "$IA" 2001:db8:1::1/64
	addr "$B" "$IB" 2001:db8:1::2/64
	check "A pings B through it" ping_ok "$A" 198.18.0.2
	check "A pings B through it over IPv6" ping_ok "$A" 2001:db8:1::2
	check "4 MB cross it intact (TSO and GSO/GRO on)" transfer "$A" "$B" 198.18.0.2 4 5001
	check "4 MB cross it intact the other way" transfer "$B" "$A" 198.18.0.1 4 5002
	stop "$PA"
	check "A stops on SIGTERM, exit 0, and prints its counts" stopped "$IA"
	stop "$PB"
	check "B stops on SIGTERM, exit 0, and prints its counts" stopped "$IB"
	check "B received what A sent, less any in flight at the stop, with no failure" sh -c "
		tx=$(count "$IA" tx_packets) rx=$(count "$IB" rx_packets)
		echo \"A sent \$tx, B received \$rx\"
		[ \$tx -gt 2000 ] && [ \$rx -le \$tx ] && [ \$rx -ge \$((tx - 64)) ] &&
		[ $(count "$IB" decrypt_failed) = 0 ] && [ $(count "$IB" malformed) = 0 ]"
	PIDS=()
done

section "without UDP GRO"
SLUICE_NO_UDP_GRO=1 start_fwdbare "$A" "$IA" 198.18.0.1/24 192.0.2.2 "$KEY" aes-256-gcm
PA=$LAST_PID
SLUICE_NO_UDP_GRO=1 start_fwdbare "$B" "$IB" 198.18.0.2/24 192.0.2.1 "$KEY" aes-256-gcm
PB=$LAST_PID
check "it says GRO is off" grep -q "GRO off" "$TMPD/$IB.log"
check "4 MB cross it intact" transfer "$A" "$B" 198.18.0.2 4 5003
stop "$PA"
check "A stops on SIGTERM" stopped "$IA"
stop "$PB"
check "B stops on SIGTERM" stopped "$IB"
PIDS=()

section "two different keys"
start_fwdbare "$A" "$IA" 198.18.0.1/24 192.0.2.2 "$KEY" chacha20-poly1305
PA=$LAST_PID
start_fwdbare "$B" "$IB" 198.18.0.2/24 192.0.2.1 "$OTHER" chacha20-poly1305
PB=$LAST_PID
check "no ping crosses" ping_fails "$A" 198.18.0.2
stop "$PB"
check "B stops on SIGTERM" stopped "$IB"
check "B counted the pings as failing authentication, and wrote nothing" sh -c "
	echo \"decrypt_failed $(count "$IB" decrypt_failed), rx_packets $(count "$IB" rx_packets)\"
	[ $(count "$IB" decrypt_failed) -ge 3 ] && [ $(count "$IB" rx_packets) = 0 ]"

section "its TUN deleted"
ip -n "$A" link del "$IA"
gone() { ! kill -0 "$PA" 2>/dev/null; }
check "A stops by itself within 5 s" wait_until 5 gone
check "and says why" grep -q "TUN was deleted" "$TMPD/$IA.log"
PIDS=()

finish
