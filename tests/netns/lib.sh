# shellcheck shell=bash
# Helpers shared by the network-namespace tests (and scripts/demo.sh).
# Source it, call require_root, then test_init.
#
# Everything that sends a packet runs in namespaces made here; nothing is
# added to the machine's own namespace. Underlay addresses come from
# 192.0.2.0/24 and 2001:db8::/32 only, tunnel addresses from 198.18.0.0/15
# and 2001:db8:77::/64 only.
#
# Environment:
#   SLUICE=PATH         the binary under test (default: build/sluice)
#   SLUICE_IMPL=wggo    stand wireguard-go + wg + ip in for sluice, configured
#                       from the same wg-quick file: validates the tests
#                       themselves, and tells a sluice bug from a test bug
#   SLUICE_KEEP_TMP=1   keep the per-test temp dir (configs, logs)
#   CI=true             a test that cannot run fails instead of skipping

# Some globals (LAST_PID) are only read by the scripts that source this.
# shellcheck disable=SC2034
set -euo pipefail

NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$NETNS_DIR/../.." && pwd)
SLUICE=${SLUICE:-$ROOT/build/sluice}
SLUICE_IMPL=${SLUICE_IMPL:-sluice}
WG_RUN=/var/run/wireguard

# /var/run/wireguard and /var/run/netns are shared by every namespace, so all
# names carry this run's id: pid plus a random byte, in hex.
ID=$(printf '%x%02x' $$ $((RANDOM % 256)))
TMPD=""
NAMESPACES=()   # namespaces this run made
PIDS=()         # processes this run started
IFACES=()       # interface names this run handed out (for their sockets)
DAEMONS=()      # "ns iface pid log kind" per started daemon
LAST_PID=""     # pid of the daemon start_sluice / start_wggo last started
SLUICE_WRAP=()  # a command start_sluice runs the daemon under (e.g. unshare -m ...)
CHECKS=0
FAILED=0
_CLEANED=0

# --- output -----------------------------------------------------------------

section() { printf '\n== %s\n' "$*"; }
info()    { printf '   %s\n' "$*"; }
die()     { printf 'FATAL: %s\n' "$*" >&2; exit 1; }

# check DESCRIPTION CMD...: runs CMD, counts a failure if it fails, carries on.
check() {
	local desc=$1 out rc=0; shift
	CHECKS=$((CHECKS + 1))
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		printf '  ok    %s\n' "$desc"
	else
		FAILED=$((FAILED + 1))
		printf '  FAIL  %s\n        (exit %d) $ %s\n' "$desc" $rc "$*"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 25 | sed 's/^/        | /'
	fi
	return 0
}

# check_fails DESCRIPTION CMD...: the check passes if CMD fails.
check_fails() {
	local desc=$1; shift
	check "$desc" _negate "$@"
}
_negate() { if "$@"; then echo "(unexpectedly succeeded)"; return 1; fi; return 0; }

# finish: the last line of every test; exit status says whether all passed.
finish() {
	echo
	if [ $FAILED -gt 0 ]; then
		echo "$FAILED of $CHECKS checks failed"
		exit 1
	fi
	echo "all $CHECKS checks passed"
	exit 0
}

# --- preconditions ------------------------------------------------------------

# cannot_run REASON: exit 77 (skipped), or 1 under CI where skipping hides a gap.
cannot_run() {
	if [ "${CI:-}" = true ]; then
		echo "cannot run (CI=true, so this fails): $*"
		exit 1
	fi
	echo "skipped: $*"
	exit 77
}

require_root() {
	[ "$(id -u)" -eq 0 ] || cannot_run "needs root (network namespaces, TUN)"
	[ -c /dev/net/tun ] || cannot_run "/dev/net/tun is missing"
	local t
	for t in ip wg wg-quick wireguard-go ping nc ss sha256sum timeout sysctl; do
		command -v "$t" >/dev/null || cannot_run "'$t' not installed (run scripts/deps.sh)"
	done
	if [ "$SLUICE_IMPL" != wggo ] && [ ! -x "$SLUICE" ]; then
		cannot_run "$SLUICE not built (run make, or SLUICE_IMPL=wggo to test the tests)"
	fi
}

# test_init: temp dir and the cleanup traps. Call once, after require_root.
test_init() {
	TMPD=$(mktemp -d "/tmp/sluice-netns.$ID.XXXXXX")
	# Daemons keep their state (statefile.h) here, not in /var/lib/sluice.
	export SLUICE_STATE_DIR="$TMPD/state"
	trap _on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	info "run id $ID, implementation: $SLUICE_IMPL, temp dir $TMPD"
}

# --- cleanup ----------------------------------------------------------------

_on_exit() {
	local rc=$?
	cleanup "$rc"
	exit "$rc"
}

# _reap SIGNAL PID...: signal each, wait up to 3 s for all to be gone.
_reap() {
	local sig=$1 p i; shift
	[ $# -gt 0 ] || return 0
	kill "-$sig" "$@" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		for p in "$@"; do kill -0 "$p" 2>/dev/null && break; p=; done
		[ -z "$p" ] && return 0
		sleep 0.1
	done
	return 1
}

# cleanup [RC]: idempotent; kills what this run started, deletes its
# namespaces and sockets, and says so if anything survived.
cleanup() {
	local rc=${1:-0} p ns ifc left pids=()
	[ "$_CLEANED" = 1 ] && return 0
	_CLEANED=1
	local errexit=$-
	set +e
	trap '' INT TERM
	# Not after Ctrl-C: the user knows why it stopped.
	[ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && dump_debug

	# Daemons first, politely, so they remove their own interfaces.
	if [ ${#PIDS[@]} -gt 0 ]; then
		if ! _reap TERM "${PIDS[@]}"; then
			echo "cleanup: still running 3 s after SIGTERM, killed:$(for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && printf ' %s' "$p"; done)" >&2
			_reap KILL "${PIDS[@]}"
		fi
		for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	fi
	# Then anything else in our namespaces (e.g. daemons that forked).
	for ns in "${NAMESPACES[@]}"; do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		if [ ${#pids[@]} -gt 0 ]; then
			_reap TERM "${pids[@]}" || _reap KILL "${pids[@]}"
		fi
		ip netns del "$ns" 2>/dev/null
	done
	# The socket, and the log a daemon keeps where no syslog listens.
	for ifc in "${IFACES[@]}"; do rm -f "$WG_RUN/$ifc.sock" "/run/sluice/$ifc.log"; done
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ "${SLUICE_KEEP_TMP:-}" = 1 ]; then
			echo "kept $TMPD"
		else
			rm -rf "$TMPD"
		fi
	fi

	# Leave nothing behind, and say so loudly if we did.
	left=""
	for ns in "${NAMESPACES[@]}"; do
		[ -e "/var/run/netns/$ns" ] && left+=" netns:$ns"
	done
	for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && left+=" pid:$p"; done
	for ifc in "${IFACES[@]}"; do
		[ -e "$WG_RUN/$ifc.sock" ] && left+=" sock:$ifc"
		ip link show "$ifc" >/dev/null 2>&1 && left+=" link:$ifc"
	done
	[ -n "$left" ] && echo "cleanup: LEFT BEHIND:$left" >&2
	NAMESPACES=() PIDS=() IFACES=() DAEMONS=()
	[[ $errexit == *e* ]] && set -e
	return 0
}

# dump_debug: everything a daemon author needs after a failure.
dump_debug() {
	local d ns ifc pid log kind
	echo
	echo "==================== debug dump (run $ID) ===================="
	for d in "${DAEMONS[@]}"; do
		read -r ns ifc pid log kind <<<"$d"
		echo "--- $kind $ifc in $ns (pid $pid, $(kill -0 "$pid" 2>/dev/null && echo running || echo exited)): last lines of $log"
		tail -n 40 "$log" 2>/dev/null | sed 's/^/  | /'
		echo "--- show $ifc"
		sluice_cli "$ns" show "$ifc" 2>&1 | sed 's/^/  | /'
	done
	for ns in "${NAMESPACES[@]}"; do
		echo "--- $ns: addresses, routes"
		ip -n "$ns" -br addr 2>&1 | sed 's/^/  | /'
		ip -n "$ns" route 2>&1 | sed 's/^/  | /'
		ip -n "$ns" -6 route 2>&1 | sed 's/^/  | /'
	done
	echo "==================== end of debug dump ===================="
}

# --- small helpers ------------------------------------------------------------

# wait_until TIMEOUT_S CMD...: polls CMD every 0.1 s; 0 once it succeeds,
# 1 if it never did. CMD should bound itself (ping -W, timeout ...).
wait_until() {
	local deadline=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# ns_new VAR SHORT: makes namespace "sluice-ID-SHORT" with lo up, sets $VAR.
ns_new() {
	local name="sluice-$ID-$2"
	ip netns add "$name"
	NAMESPACES+=("$name")
	ip -n "$name" link set lo up
	printf -v "$1" %s "$name"
}

# ifname VAR SHORT: a unique interface name (<= 15 chars), sets $VAR.
ifname() {
	local name="s$ID$2"
	[ ${#name} -le 15 ] || die "interface name $name is longer than 15 characters"
	IFACES+=("$name")
	printf -v "$1" %s "$name"
}

# veth NS1 IF1 NS2 IF2: a veth pair made inside NS1, one end moved to NS2.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addr NS IFACE CIDR: IPv6 addresses without DAD so they are usable at once.
addr() {
	case $3 in
	*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

# keypair VAR: sets ${VAR}_priv and ${VAR}_pub (Debian's wg).
keypair() {
	local priv
	priv=$(wg genkey)
	printf -v "${1}_priv" %s "$priv"
	printf -v "${1}_pub" %s "$(printf '%s\n' "$priv" | wg pubkey)"
}

# conf_write IFACE < text: writes TMPD/IFACE.conf mode 0600, prints its path.
conf_write() {
	local f="$TMPD/$1.conf"
	(umask 077 && cat >"$f")
	chmod 600 "$f"
	printf '%s\n' "$f"
}

# conf_get FILE SECTION KEY: every value of KEY in SECTION, one a line.
conf_get() {
	awk -v sec_want="$2" -v key_want="$3" '
		{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t\r]+$/, "") }
		/^\[.*\]$/ { sec = substr($0, 2, length($0) - 2); next }
		sec == sec_want && (i = index($0, "=")) {
			k = substr($0, 1, i - 1); v = substr($0, i + 1)
			gsub(/[ \t]/, "", k); gsub(/^[ \t]+/, "", v)
			if (tolower(k) == tolower(key_want)) print v
		}' "$1"
}

iface_of() { local b; b=$(basename "$1"); printf '%s\n' "${b%.conf}"; }

# iface_up NS IFACE: the interface exists and is administratively up.
iface_up() { ip -n "$1" -o link show "$2" 2>/dev/null | grep '[<,]UP[,>]' >/dev/null; }
iface_exists() { ip -n "$1" link show "$2" >/dev/null 2>&1; }

# --- the daemons ------------------------------------------------------------

# _wait_daemon NS IFACE PID LOG WHAT: the daemon's interface is up within 10 s,
# or we fail at once if the daemon died first.
_wait_daemon() {
	local ns=$1 ifc=$2 pid=$3 log=$4 what=$5 deadline=$((SECONDS + 10)) rc
	until iface_up "$ns" "$ifc"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null && rc=0 || rc=$?
			echo "$what exited (status $rc) before $ifc was up in $ns; its log:" >&2
			sed 's/^/  | /' "$log" >&2
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "$what did not bring $ifc up in $ns within 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# start_sluice NS CONF [ARGS...]: `sluice up -f -v CONF` in NS, in the
# background, logging to TMPD/IFACE.log; returns once the interface is up.
start_sluice() {
	local ns=$1 conf=$2; shift 2
	if [ "$SLUICE_IMPL" = wggo ]; then
		start_wggo "$ns" "$conf"
		return
	fi
	local ifc log pid
	ifc=$(iface_of "$conf")
	log="$TMPD/$ifc.log"
	# Background jobs of a script ignore SIGINT; give the daemon the defaults.
	ip netns exec "$ns" "${SLUICE_WRAP[@]}" env --default-signal=INT,QUIT \
		"$SLUICE" up -f -v "$@" "$conf" >"$log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	DAEMONS+=("$ns $ifc $pid $log sluice")
	LAST_PID=$pid
	_wait_daemon "$ns" "$ifc" "$pid" "$log" "sluice"
}

# start_fwdbare NS IFACE ADDRESS PEER KEY CIPHER [ARGS...]: build/tools/fwdbare
# (tests/tools/fwdbare.c, make bench's bare forwarder) in NS on UDP 51820,
# to PEER:51820, logging to TMPD/IFACE.log; once its TUN is there, sets it
# up as sluice sets its own (MTU 1420, ADDRESS, up).
FWDBARE=${FWDBARE:-$ROOT/build/tools/fwdbare}
start_fwdbare() {
	local ns=$1 ifc=$2 address=$3 peer=$4 key=$5 cipher=$6 log="$TMPD/$2.log" pid
	shift 6
	ip netns exec "$ns" env --default-signal=INT,QUIT "$FWDBARE" --tun "$ifc" --listen 51820 \
		--peer "$peer:51820" --key "$key" --cipher "$cipher" --mtu 1420 "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	DAEMONS+=("$ns $ifc $pid $log fwdbare")
	LAST_PID=$pid
	wait_until 10 iface_exists "$ns" "$ifc" || {
		echo "fwdbare made no $ifc in $ns within 10 s; its log:"
		sed 's/^/  | /' "$log"
		return 1
	}
	ip -n "$ns" link set "$ifc" mtu 1420 up
	addr "$ns" "$ifc" "$address"
}

# start_wggo NS CONF: Debian's wireguard-go (or $WGGO_BIN) in the foreground in NS, set up
# from a wg-quick file the way wg-quick would: `wg setconf` with the stripped
# file, then addresses, MTU, link up and a route per AllowedIPs with ip.
# No environment variable is needed: this wireguard-go (0.0.20220316) only
# prints a banner where a kernel module exists; releases before 2020 refused
# to start there unless WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1, which
# we set so that an older one works too.
start_wggo() {
	local ns=$1 conf=$2 ifc log pid
	ifc=$(iface_of "$conf")
	log="$TMPD/$ifc.log"
	ip netns exec "$ns" env --default-signal=INT,QUIT LOG_LEVEL=verbose \
		WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		"${WGGO_BIN:-wireguard-go}" -f "$ifc" >"$log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	DAEMONS+=("$ns $ifc $pid $log wireguard-go")
	LAST_PID=$pid
	wait_until 10 iface_exists "$ns" "$ifc" || {
		echo "wireguard-go did not create $ifc in $ns within 10 s" >&2
		return 1
	}
	wait_until 10 test -S "$WG_RUN/$ifc.sock" || {
		echo "wireguard-go made no $WG_RUN/$ifc.sock within 10 s" >&2
		return 1
	}
	wg_quick_apply "$ns" "$conf"
}

# wg_quick_apply NS CONF: configures an existing interface from a wg-quick file.
wg_quick_apply() {
	local ns=$1 conf=$2 ifc a mtu table cidr fam
	ifc=$(iface_of "$conf")
	wg-quick strip "$conf" >"$TMPD/$ifc.stripped" 2>/dev/null
	ip netns exec "$ns" wg setconf "$ifc" "$TMPD/$ifc.stripped"
	for a in $(conf_get "$conf" Interface Address | tr ',' ' '); do addr "$ns" "$ifc" "$a"; done
	mtu=$(conf_get "$conf" Interface MTU | tail -n1)
	[ -n "$mtu" ] && ip -n "$ns" link set "$ifc" mtu "$mtu"
	ip -n "$ns" link set "$ifc" up
	table=$(conf_get "$conf" Interface Table | tail -n1)
	[ "$table" = off ] && return 0
	for cidr in $(conf_get "$conf" Peer AllowedIPs | tr ',' ' '); do
		case $cidr in *:*) fam=-6 ;; *) fam=-4 ;; esac
		# As wg-quick: no route where one on this interface already covers it.
		[ -n "$(ip -n "$ns" $fam route show dev "$ifc" match "$cidr")" ] ||
			ip -n "$ns" $fam route add "$cidr" dev "$ifc"
	done
}

# daemon_pid IFACE: pid of the daemon this run started for IFACE.
daemon_pid() {
	local d ns ifc pid rest
	for d in "${DAEMONS[@]}"; do
		read -r ns ifc pid rest <<<"$d"
		[ "$ifc" = "$1" ] && { echo "$pid"; return 0; }
	done
	return 1
}

# stop_daemon IFACE: SIGTERM, and wait (5 s at most) for a clean exit.
stop_daemon() {
	local pid i
	pid=$(daemon_pid "$1") || return 1
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "daemon for $1 (pid $pid) still running 5 s after SIGTERM" >&2
		return 1
	fi
	wait "$pid" 2>/dev/null || true
}

# stop_pid PID: as stop_daemon, by pid, for a daemon started again under the
# same interface name (stop_daemon would pick the first, dead, one).
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || return 1
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	echo "daemon $1 still running 5 s after SIGTERM"
	return 1
}

# sluice_cli NS ARGS...: the sluice command line in NS, bounded to 15 s.
# Under SLUICE_IMPL=wggo the same commands are played by wg, wireguard-go
# and ip, so the tests that use them can be checked.
sluice_cli() {
	local ns=$1; shift
	if [ "$SLUICE_IMPL" != wggo ]; then
		ip netns exec "$ns" timeout -k 5 15 "$SLUICE" "$@"
		return
	fi
	local cmd=$1; shift
	case $cmd in
	genkey | genpsk) wg "$cmd" ;;
	pubkey) wg pubkey ;;
	show) ip netns exec "$ns" timeout -k 5 15 wg show "$@" ;;
	down)
		local ifc
		ifc=$(iface_of "$1")
		[ -S "$WG_RUN/$ifc.sock" ] || { echo "no such interface: $ifc" >&2; return 1; }
		rm -f "$WG_RUN/$ifc.sock" # wireguard-go exits when its socket goes
		;;
	up)
		[ "$1" != -f ] || { echo "sluice_cli: use start_sluice for -f" >&2; return 2; }
		local conf=$1 ifc
		ifc=$(iface_of "$conf")
		[ "$(stat -c %a "$conf")" = 600 ] || { echo "$conf: mode must be 0600" >&2; return 1; }
		ip netns exec "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
			timeout -k 5 15 wireguard-go "$ifc" >"$TMPD/$ifc.log" 2>&1 || return 1
		wait_until 10 test -S "$WG_RUN/$ifc.sock" || return 1
		wg_quick_apply "$ns" "$conf"
		;;
	*) echo "sluice_cli: $cmd not emulated" >&2; return 2 ;;
	esac
}

# --- captures (tshark and dumpcap; the caller checks they are installed) -----

# tsh ARGS...: tshark, bounded, with an empty home so that no personal
# preference or plugin plays a part. Its warning about running as root is
# dropped; anything else it says goes to stderr.
tsh() {
	local rc=0 err="$TMPD/tshark.err"
	mkdir -p "$TMPD/home"
	HOME="$TMPD/home" XDG_CONFIG_HOME="$TMPD/home/.config" \
		timeout -k 5 60 tshark "$@" 2>"$err" || rc=$?
	grep -v '^Running as user' "$err" >&2 || true
	return "$rc"
}

# count FILTER PCAP [TSHARK ARGS...]: the number of packets FILTER matches.
count() {
	local filter=$1 pcap=$2; shift 2
	tsh -r "$pcap" "$@" -Y "$filter" -T fields -e frame.number | grep -c . || true
}

# capture_start NS IFACE FILTER PCAP: dumpcap in NS in the background (120 s
# at most); returns once it captures.
CAP_PID=""
capture_start() {
	local ns=$1 ifc=$2 filter=$3 pcap=$4
	ip netns exec "$ns" env --default-signal=INT \
		timeout -k 5 120 dumpcap -i "$ifc" -f "$filter" -w "$pcap" >"$pcap.log" 2>&1 </dev/null &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	wait_until 10 grep -q 'Capturing on' "$pcap.log" || {
		echo "dumpcap did not start capturing on $ifc in $ns:"
		cat "$pcap.log"
		return 1
	}
}
# capture_stop PCAP: lets the last packets arrive, stops dumpcap, checks the file.
capture_stop() {
	sleep 0.5
	kill -TERM "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	[ -s "$1" ] || { echo "no capture file $1:"; cat "$1.log"; return 1; }
}

# --- assertions over the tunnel ---------------------------------------------

# ping_ok NS DST [PING ARGS]: a first reply within 10 s (handshake), then
# three replies out of three.
ping_ok() {
	local ns=$1 dst=$2; shift 2
	wait_until 10 ip netns exec "$ns" ping -n -c 1 -W 1 "$@" "$dst" || {
		echo "no reply from $dst within 10 s:"
		ip netns exec "$ns" ping -n -c 1 -W 1 "$@" "$dst"
		return 1
	}
	ip netns exec "$ns" ping -n -q -c 3 -i 0.2 -W 2 "$@" "$dst"
}

# ping_fails NS DST [PING ARGS]: three pings, none answered.
ping_fails() {
	local ns=$1 dst=$2; shift 2
	! ip netns exec "$ns" ping -n -q -c 3 -i 0.2 -W 1 "$@" "$dst"
}

# transfer SRC_NS DST_NS DST_ADDR MEGABYTES PORT: random data over TCP with
# netcat; the sha256 on the far side must match. Bounded to 60 s.
transfer() {
	local src=$1 dst=$2 to=$3 mb=$4 port=$5 in out lpid t0 want got
	in="$TMPD/xfer.$port.in"
	out="$TMPD/xfer.$port.out"
	head -c "${mb}M" /dev/urandom >"$in"
	ip netns exec "$dst" timeout -k 5 60 nc -l "$to" "$port" >"$out" </dev/null &
	lpid=$!
	if ! wait_until 5 _listening "$dst" "$port"; then
		echo "nc is not listening on $to port $port in $dst"
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
		return 1
	fi
	t0=$(date +%s%N)
	if ! ip netns exec "$src" timeout -k 5 60 nc -N "$to" "$port" <"$in"; then
		echo "sending to [$to]:$port failed or timed out"
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
		return 1
	fi
	wait "$lpid" || { echo "receiving nc failed or timed out (status $?)"; return 1; }
	want=$(sha256sum <"$in" | cut -d' ' -f1)
	got=$(sha256sum <"$out" | cut -d' ' -f1)
	echo "$mb MB in $((($(date +%s%N) - t0) / 1000000)) ms; received $(stat -c %s "$out") bytes"
	rm -f "$in" "$out"
	[ "$want" = "$got" ] || { echo "sha256 differs: sent $want, received $got"; return 1; }
}
_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep . >/dev/null; }

# peer_live NS IFACE PEER_PUB [ENDPOINT]: `show` lists the peer with a latest
# handshake and nonzero transfer both ways (and this endpoint, if given).
peer_live() {
	local ns=$1 ifc=$2 pub=$3 ep=${4:-} out block
	out=$(sluice_cli "$ns" show "$ifc") || { echo "show $ifc failed"; return 1; }
	block=$(printf '%s\n' "$out" | awk -v p="peer: $pub" '
		index($0, p) { on = 1; print; next }
		on && /^$/ { exit }
		on { print }')
	printf '%s\n' "$out"
	[ -n "$block" ] || { echo "=> peer $pub not listed"; return 1; }
	grep -q 'latest handshake:' <<<"$block" || { echo "=> no latest handshake"; return 1; }
	grep -Eq 'transfer: .+ received, .+ sent' <<<"$block" || { echo "=> no transfer line"; return 1; }
	grep -Eq 'transfer: 0 B received|received, 0 B sent' <<<"$block" && { echo "=> a transfer counter is zero"; return 1; }
	if [ -n "$ep" ]; then
		grep -qF "endpoint: $ep" <<<"$block" || { echo "=> endpoint is not $ep"; return 1; }
	fi
	return 0
}

# stat_of NS IFACE rx_packets|tx_packets|...: an interface counter.
stat_of() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# snmp_of NS PROTO FIELD: a /proc/net/snmp counter of NS (e.g. Icmp InEchos).
# shellcheck disable=SC2016 # the $i are awk's
snmp_of() {
	ip netns exec "$1" awk -v p="$2:" -v f="$3" '
		$1 == p && !n { for (i = 2; i <= NF; i++) h[i] = $i; n = 1; next }
		$1 == p && n { for (i = 2; i <= NF; i++) if (h[i] == f) print $i; exit }' /proc/net/snmp
}

# gone NS IFACE PID: no interface, no control socket, no process.
gone() {
	local ns=$1 ifc=$2 pid=${3:-}
	! iface_exists "$ns" "$ifc" && [ ! -e "$WG_RUN/$ifc.sock" ] &&
		{ [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; }
}

# explain_gone NS IFACE PID: what is still there.
explain_gone() {
	local ns=$1 ifc=$2 pid=${3:-}
	iface_exists "$ns" "$ifc" && echo "interface $ifc still exists in $ns"
	[ -e "$WG_RUN/$ifc.sock" ] && echo "$WG_RUN/$ifc.sock still exists"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "process $pid still running"
	return 0
}
