#!/usr/bin/env bash
# make soak (never part of `make check`): two sluice daemons, A and B, in
# network namespaces joined by a veth, with the protocol's timers scaled
# down (SLUICE_TIMER_SCALE, default 20: a new session every 6 s instead of
# 2 minutes, sessions rejected after 9 s instead of 3 minutes), carrying
# traffic for SOAK_SECONDS (default 600):
#   - a ping A -> B and one B -> A, 10 a second each (ping -D -O: each
#     unanswered one is named with its time), and an iperf3 TCP stream
#     A -> B held at SOAK_RATE (default 50M);
#   - asserts: no ping lost within 1 s of a new session (a loss
#     attributable to a rekey), at most 0.1% lost in all, at least half
#     the rekeys REKEY_AFTER_TIME makes; each daemon's RSS (VmRSS) at the end within
#     1 MiB (or 5%) of its RSS after a 15 s warm-up; the same count of open
#     descriptors (/proc/PID/fd) at the end as then.
# Then both daemons again under valgrind (--leak-check=full) for
# SOAK_VALGRIND_SECONDS (default 60) of pings and a slower stream, stopped
# with SIGTERM: no error, nothing lost (definitely, indirectly or
# possibly). The sandbox stays on under valgrind, but valgrind refuses to
# install a seccomp filter (EINVAL): the daemon warns "cannot install the
# system call filter" and runs without one. SOAK_VALGRIND=0 skips that part.
# Prints the figures (RSS, descriptors, rekeys, pings lost, valgrind's
# summaries) and, last, "all N checks passed" or what failed.
# keypair and ns_new set variables by name (ka_pub, A...); shellcheck can't see it.
# Helpers run through check (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/../netns/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "soaks sluice (SLUICE_TIMER_SCALE)"
for t in iperf3 python3 valgrind; do
	command -v "$t" >/dev/null || cannot_run "'$t' not installed (run scripts/deps.sh soak)"
done
test_init

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_VALGRIND_SECONDS=${SOAK_VALGRIND_SECONDS:-60}
SOAK_SCALE=${SOAK_SCALE:-20}
SOAK_RATE=${SOAK_RATE:-50M}
WARMUP=15
export SLUICE_TIMER_SCALE=$SOAK_SCALE
info "SOAK_SECONDS=$SOAK_SECONDS SOAK_VALGRIND_SECONDS=$SOAK_VALGRIND_SECONDS SLUICE_TIMER_SCALE=$SOAK_SCALE" \
	"(rekey after $((120 / SOAK_SCALE)) s) SOAK_RATE=$SOAK_RATE"

section "underlay: A -- B"
ns_new A a
ns_new B b
veth "$A" ab "$B" ba
addr "$A" ab 192.0.2.1/24
addr "$B" ba 192.0.2.2/24
keypair ka
keypair kb
ifname IA a
ifname IB b
CA=$(conf_write "$IA" <<-EOF
	[Interface]
	PrivateKey = $ka_priv
	ListenPort = 51820
	Address = 198.18.0.1/24

	[Peer]
	PublicKey = $kb_pub
	AllowedIPs = 198.18.0.2/32
	EOF
)
CB=$(conf_write "$IB" <<-EOF
	[Interface]
	PrivateKey = $kb_priv
	Address = 198.18.0.2/24

	[Peer]
	PublicKey = $ka_pub
	AllowedIPs = 198.18.0.1/32
	Endpoint = 192.0.2.1:51820
	EOF
)

# proc_figure PID: "RSS_KB FDS" of a running process.
proc_figure() {
	echo "$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status") $(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)"
}
# flat WHAT START END MARGIN: END <= START + MARGIN, said either way.
flat() {
	echo "$1: $2 at the start, $3 at the end (allowed: up to $(($2 + $4)))"
	[ "$3" -le $(($2 + $4)) ]
}

# traffic LABEL SECONDS RATE: pings both ways and an iperf3 stream for
# SECONDS, in the background; traffic_wait waits for them. ping -w: it
# stops by itself after SECONDS and prints its summary (with -c, 10 a
# second being a minimum gap, it can run past any timeout on a busy machine).
traffic() {
	local label=$1 secs=$2 rate=$3
	ip netns exec "$B" timeout -k 5 $((secs + 30)) iperf3 -s -1 -B 198.18.0.2 -p 5201 \
		>"$TMPD/iperf-s.$label" 2>&1 &
	TRAFFIC=($!)
	wait_until 5 _listening "$B" 5201 || { echo "iperf3 server did not start"; return 1; }
	ip netns exec "$A" timeout -k 5 $((secs + 20)) iperf3 -c 198.18.0.2 -p 5201 -t "$secs" -b "$rate" \
		--connect-timeout 5000 >"$TMPD/iperf-c.$label" 2>&1 &
	TRAFFIC+=($!)
	ip netns exec "$A" timeout -k 5 $((secs + 30)) ping -D -O -n -i 0.1 -W 1 -w "$secs" 198.18.0.2 \
		>"$TMPD/ping-ab.$label" 2>&1 &
	TRAFFIC+=($!)
	ip netns exec "$B" timeout -k 5 $((secs + 30)) ping -D -O -n -i 0.1 -W 1 -w "$secs" -s 1000 198.18.0.1 \
		>"$TMPD/ping-ba.$label" 2>&1 &
	TRAFFIC+=($!)
	PIDS+=("${TRAFFIC[@]}")
}
traffic_wait() {
	local p
	for p in "${TRAFFIC[@]}"; do wait "$p" || true; done
}

# analyse LABEL: from the pings and A's and B's logs: the sessions made
# (lines "Keypair N created" in A's log), pings lost, and those lost
# within 1 s of a new session. Prints key=value lines.
analyse() {
	python3 - "$TMPD/ping-ab.$1" "$TMPD/ping-ba.$1" "$TMPD/$IA.log" "$TMPD/$IB.log" <<-'EOF'
		import re, sys, time
		def day_s(ts):  # seconds since local midnight of an epoch time
		    t = time.localtime(ts)
		    return t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec + (ts % 1)
		rekeys = {}
		for name, log in (("a", sys.argv[3]), ("b", sys.argv[4])):
		    rekeys[name] = []
		    for line in open(log, errors="replace"):
		        m = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) \S+ \w+: Keypair \d+ created", line)
		        if m:
		            rekeys[name].append(int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]))
		times = rekeys["a"] + rekeys["b"]
		sent = received = lost = near = 0
		for f in sys.argv[1:3]:
		    answered, unanswered = set(), {}
		    for line in open(f, errors="replace"):
		        m = re.match(r"\[(\d+\.\d+)\] (?:no answer yet for )?.*icmp_seq=(\d+)", line)
		        if not m:
		            m2 = re.match(r"(\d+) packets transmitted, (\d+) received", line)
		            if m2:
		                sent += int(m2[1]); received += int(m2[2])
		            continue
		        seq = int(m[2])
		        if "no answer yet" in line:
		            unanswered.setdefault(seq, float(m[1]))
		        else:
		            answered.add(seq)
		    for seq, ts in unanswered.items():
		        if seq in answered:
		            continue
		        lost += 1
		        when = day_s(ts - 0.1)  # sent 0.1 s before ping said so
		        if any(abs(when - r) <= 1.0 or abs(when - r) >= 86399 for r in times):
		            near += 1
		print(f"rekeys={max(len(rekeys['a']) - 1, 0)} keypairs_a={len(rekeys['a'])} keypairs_b={len(rekeys['b'])}")
		print(f"pings_sent={sent} pings_received={received} lost={sent - received} lost_named={lost} lost_near_rekey={near}")
	EOF
}
# fig KEY: a value from the analysis.
fig() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$ANALYSIS"; }

section "soak: $SOAK_SECONDS s of traffic, timers $SOAK_SCALE times faster"
start_sluice "$A" "$CA"
PA=$LAST_PID
start_sluice "$B" "$CB"
PB=$LAST_PID
check "B -> A over the tunnel" ping_ok "$B" 198.18.0.1
traffic soak "$SOAK_SECONDS" "$SOAK_RATE"
sleep "$WARMUP"
read -r rss_a0 fd_a0 <<<"$(proc_figure "$PA")"
read -r rss_b0 fd_b0 <<<"$(proc_figure "$PB")"
info "after ${WARMUP} s: A RSS $rss_a0 kB, $fd_a0 fds; B RSS $rss_b0 kB, $fd_b0 fds"
t=$WARMUP
while [ $t -lt $((SOAK_SECONDS - 5)) ]; do
	step=$((SOAK_SECONDS - 5 - t < 60 ? SOAK_SECONDS - 5 - t : 60))
	sleep "$step"
	t=$((t + step))
	info "at ${t} s: A RSS/fds $(proc_figure "$PA"), B $(proc_figure "$PB"), A's sessions so far $(grep -c 'Keypair .* created' "$TMPD/$IA.log")"
done
read -r rss_a1 fd_a1 <<<"$(proc_figure "$PA")"
read -r rss_b1 fd_b1 <<<"$(proc_figure "$PB")"
traffic_wait
ANALYSIS=$(analyse soak)
info "$(tr '\n' ' ' <<<"$ANALYSIS")"
info "iperf3: $(grep -E 'receiver|sender' "$TMPD/iperf-c.soak" | tr -s ' ' | tr '\n' ';')"
check "both daemons still running" kill -0 "$PA" "$PB"
# A new session every 120 / SOAK_SCALE s (REKEY_AFTER_TIME): at least half that many.
min_rekeys=$((SOAK_SECONDS * SOAK_SCALE / 240))
check "at least $min_rekeys rekeys in $SOAK_SECONDS s" test "$(fig rekeys)" -ge "$min_rekeys"
check "pings were sent, both ways ($(fig pings_sent); at most $((SOAK_SECONDS * 20)))" \
	test "$(fig pings_sent)" -ge $((SOAK_SECONDS * 18))
check "no ping lost within 1 s of a rekey ($(fig lost_near_rekey) of $(fig lost) lost, $(fig rekeys) rekeys)" \
	test "$(fig lost_near_rekey)" -eq 0
check "at most 0.1% of pings lost ($(fig lost) of $(fig pings_sent))" \
	test $(($(fig lost) * 1000)) -le "$(fig pings_sent)"
check "the iperf3 stream ran to the end" grep -q receiver "$TMPD/iperf-c.soak"
margin() { local m=$(($1 / 20)); echo $((m > 1024 ? m : 1024)); }
check "A's RSS flat" flat "A RSS kB" "$rss_a0" "$rss_a1" "$(margin "$rss_a0")"
check "B's RSS flat" flat "B RSS kB" "$rss_b0" "$rss_b1" "$(margin "$rss_b0")"
check "A's descriptors flat" flat "A fds" "$fd_a0" "$fd_a1" 0
check "B's descriptors flat" flat "B fds" "$fd_b0" "$fd_b1" 0
check "A stops" stop_pid "$PA"
check "B stops" stop_pid "$PB"

if [ "${SOAK_VALGRIND:-1}" = 0 ]; then
	info "valgrind part skipped (SOAK_VALGRIND=0)"
	finish
fi

section "valgrind: both daemons for $SOAK_VALGRIND_SECONDS s of traffic"
# `sluice up` runs under valgrind, every other command (show) as it is.
REAL_SLUICE=$SLUICE
SLUICE=$TMPD/sluice-valgrind
cat >"$SLUICE" <<-EOF
	#!/bin/sh
	[ "\$1" = up ] || exec "$REAL_SLUICE" "\$@"
	exec valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \\
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \\
		--log-file="$TMPD/valgrind.%p.log" "$REAL_SLUICE" "\$@"
EOF
chmod +x "$SLUICE"
: >"$TMPD/$IA.log"
: >"$TMPD/$IB.log"
start_sluice "$A" "$CA"
PA=$LAST_PID
start_sluice "$B" "$CB"
PB=$LAST_PID
check "B -> A over the tunnel (under valgrind)" ping_ok "$B" 198.18.0.1
traffic valgrind "$SOAK_VALGRIND_SECONDS" 10M
traffic_wait
ANALYSIS=$(analyse valgrind)
info "$(tr '\n' ' ' <<<"$ANALYSIS")"
check "at least 3 rekeys under valgrind" test "$(fig rekeys)" -ge 3
# vg_stop PID: SIGTERM, and its exit status in VG_RC (valgrind's leak check at exit
# takes a while: up to 60 s). Not through check: only this shell can wait.
vg_stop() {
	local i rc=0
	kill -TERM "$1"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" || rc=$?
	VG_RC=$rc
}
vg_stop "$PA"
rc_a=$VG_RC
vg_stop "$PB"
rc_b=$VG_RC
check "A stopped, valgrind found nothing (exit $rc_a; 99 would be valgrind's)" test "$rc_a" -eq 0
check "B stopped, valgrind found nothing (exit $rc_b; 99 would be valgrind's)" test "$rc_b" -eq 0
for f in "$TMPD"/valgrind.*.log; do
	info "$f:"
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit|All heap blocks' "$f" |
		sed 's/^==[0-9]*== */     /'
	check "valgrind: 0 errors ($(basename "$f"))" grep -q 'ERROR SUMMARY: 0 errors' "$f"
	check "valgrind: nothing definitely, indirectly or possibly lost ($(basename "$f"))" \
		sh -c "! grep -Eq '(definitely|indirectly|possibly) lost: [1-9]' '$f'"
done
finish
