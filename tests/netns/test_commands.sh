#!/usr/bin/env bash
# The command line as a user meets it: verbs of other tools (status, stop,
# reload, setconf...) and words typed at a terminal are errors that say what
# to type, and create no interface; the wireguard-go form still works where a
# tool calls it. `sluice up NAME` finds NAME.conf as wg-quick does. Under a
# service manager (JOURNAL_STREAM) log lines carry "<N>" priorities; a daemon
# on a host without syslog writes its log to /run/sluice/IFACE.log.
# keypair and ns_new set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "these are sluice's own commands"
command -v script >/dev/null || cannot_run "'script' (util-linux) not installed"
test_init

ns_new A a

# no_link NS: the namespace holds nothing but lo.
no_link() { [ "$(ip -n "$1" -o link show | grep -vc ': lo:')" -eq 0 ]; }

# refused WORD [RUNNER...]: `sluice WORD` exits 1, says it is not a command
# and what to type instead, and leaves no interface behind.
refused() {
	local word=$1 out rc=0; shift
	out=$(ip netns exec "$A" timeout 10 "$@" "$SLUICE" "$word" 2>&1 </dev/null) || rc=$?
	[ $rc -eq 1 ] || { echo "exit $rc, expected 1: $out"; return 1; }
	grep -q "'$word' is not a command" <<<"$out" || { echo "no 'not a command' line: $out"; return 1; }
	no_link "$A" || { ip -n "$A" link; return 1; }
}

section "verbs of other tools are never interface names"
for w in status stop start list restart reload setconf addconf dump keygen; do
	check "sluice $w: exit 1, no interface" refused "$w"
done
check "sluice status suggests 'sluice show'" \
	sh -c "ip netns exec $A $SLUICE status 2>&1 </dev/null | grep -q \"did you mean 'sluice show'\""
check "sluice setconf points at wg(8)" \
	sh -c "ip netns exec $A $SLUICE setconf 2>&1 </dev/null | grep -q \"did you mean 'wg setconf IFACE FILE'\""
check "sluice reload points at sluice syncconf" \
	sh -c "ip netns exec $A $SLUICE reload 2>&1 </dev/null | grep -q \"did you mean 'sluice syncconf IFACE'\""
check "sluice -f status: exit 1, no interface" refused status
check "sluice shwo (one typo from show): exit 1, no interface" refused shwo

section "a bare word typed at a terminal is a mistyped command"
# script(1) gives the command a terminal as its standard input.
at_terminal() { ip netns exec "$A" timeout 10 script -qec "$SLUICE $1" /dev/null; }
rc=0; out=$(at_terminal bogus 2>&1) || rc=$?
check "sluice bogus at a terminal exits 1" test "$rc" -eq 1
check "... says how to create an interface on purpose (sluice -f bogus)" grep -q 'sluice -f bogus' <<<"$out"
check "... and creates nothing" no_link "$A"

section "the wireguard-go form where a tool calls it"
ifname W w
# No terminal: a script or wg-quick. The daemon goes to the background.
check "sluice $W with no terminal returns 0" ip netns exec "$A" timeout 10 "$SLUICE" "$W" </dev/null
check "... and made $W" wait_until 5 iface_exists "$A" "$W"
check "... with its control socket" test -S "$WG_RUN/$W.sock"
ip -n "$A" link del "$W"
check "the daemon exits when $W is deleted" wait_until 5 sh -c "! test -S $WG_RUN/$W.sock"

section "sluice up NAME reads NAME.conf from the search path"
keypair K
ifname U u
mkdir -p "$TMPD/etc1" "$TMPD/etc2"
(umask 077 && printf '[Interface]\nPrivateKey = %s\nAddress = 198.18.0.1/24\n' "$K_priv" >"$TMPD/etc2/$U.conf")
export SLUICE_CONFIG_PATH="$TMPD/etc1:$TMPD/etc2"
log="$TMPD/$U.log"
# JOURNAL_STREAM names the stream the log goes to, as systemd sets it.
touch "$log"
JS=$(stat -c '%d:%i' "$log")
ip netns exec "$A" env --default-signal=INT,QUIT JOURNAL_STREAM="$JS" \
	"$SLUICE" up -f "$U" >>"$log" 2>&1 </dev/null &
pid=$!
PIDS+=("$pid")
DAEMONS+=("$A $U $pid $log sluice")
check "sluice up $U found etc2/$U.conf and brought $U up" wait_until 10 iface_up "$A" "$U"
check "log lines carry sd-daemon priorities (<6> for info) under the journal" grep -q '^<6>' "$log"
check "... and no terminal timestamp" sh -c "! grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}' $log"
check "sluice down $U" sluice_cli "$A" down "$U"
check "$U is gone" wait_until 5 sh -c "! ip -n $A link show $U"
rc=0; out=$(ip netns exec "$A" "$SLUICE" up nosuchname 2>&1) || rc=$?
check "sluice up of an unknown name exits 2" test "$rc" -eq 2
check "... and says where it looked" grep -q "$TMPD/etc1:$TMPD/etc2" <<<"$out"
unset SLUICE_CONFIG_PATH

section "SLUICE_TIMER_SCALE (tests only) is a whole number from 1 to 1000"
ifname T t
conf=$(printf '[Interface]\nPrivateKey = %s\nAddress = 198.18.0.3/24\n' "$K_priv" | conf_write "$T")
# scale_refused VALUE: `sluice up -f` exits non-zero naming the variable and
# what it wants, and leaves no interface behind.
scale_refused() {
	local out rc=0
	out=$(ip netns exec "$A" env SLUICE_TIMER_SCALE="$1" timeout 10 "$SLUICE" up -f "$conf" 2>&1 </dev/null) || rc=$?
	[ "$rc" -ne 0 ] || { echo "exit 0: $out"; return 1; }
	grep -qF "SLUICE_TIMER_SCALE=$1: want a whole number from 1 to 1000" <<<"$out" || { echo "$out"; return 1; }
	! iface_exists "$A" "$T"
}
for v in 0 1001 abc 5x -3 " 5" ""; do
	check "SLUICE_TIMER_SCALE='$v' is refused" scale_refused "$v"
done
SLUICE_TIMER_SCALE=10 start_sluice "$A" "$conf"
check "SLUICE_TIMER_SCALE=10 is taken, and said" \
	grep -qF "SLUICE_TIMER_SCALE=10: the protocol's timers run 10 times faster" "$TMPD/$T.log"
check "sluice down $T" sluice_cli "$A" down "$T"

section "a daemon without syslog logs to a file"
if [ -S /dev/log ]; then
	info "this host has /dev/log: the fallback is not exercised here"
else
	ifname D d
	conf=$(printf '[Interface]\nPrivateKey = %s\nAddress = 198.18.0.2/24\n' "$K_priv" | conf_write "$D")
	rc=0; out=$(ip netns exec "$A" timeout 15 "$SLUICE" up "$conf" 2>&1 </dev/null) || rc=$?
	check "sluice up (daemon) returns 0" test "$rc" -eq 0
	check "... and says where its log is" grep -q "/run/sluice/$D.log" <<<"$out"
	check "... which tells the interface is up" wait_until 5 grep -q "$D up; daemon running" "/run/sluice/$D.log"
	check "... and is private (0600)" test "$(stat -c %a "/run/sluice/$D.log")" = 600
	ip -n "$A" link del "$D" 2>/dev/null
	wait_until 5 sh -c "! test -S $WG_RUN/$D.sock" || true
	rm -f "/run/sluice/$D.log"
fi

finish
