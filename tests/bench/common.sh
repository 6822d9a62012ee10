# shellcheck shell=bash
# Helpers of the benchmarks (bench.sh, peers.sh, handshake.sh), on top of
# tests/netns/lib.sh. Source it, then bench_init.
#
# Each measured case ("row") runs in a subshell of its own (run_row), with
# its own namespaces, processes and temp dir and its own EXIT trap (lib.sh's
# cleanup), so a case that fails is cleaned up at once, reported as failed,
# and the run goes on with the next. The parent's EXIT trap also removes any
# namespace of this run that a killed subshell could not (bench_sweep).
# Progress goes to stderr; the results table to stdout.

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"

SECS=${BENCH_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
OUT_DIR=${BENCH_OUT:-$ROOT/bench}
# shellcheck disable=SC2034 # used by the scripts that source this
CLK_TCK=$(getconf CLK_TCK)
RUN_TMP=""
ROW_DIR=""      # one JSON file per row, named in run order
ROW_N=0

bench_init() {
	require_root
	local t
	for t in iperf3 jq awk; do
		command -v "$t" >/dev/null || cannot_run "'$t' not installed (run scripts/deps.sh bench)"
	done
	case $SECS in '' | *[!0-9]* | 0) die "BENCH_SECONDS must be a whole number of seconds > 0" ;; esac
	case $REPEAT in '' | *[!0-9]* | 0) die "BENCH_REPEAT must be a whole number > 0" ;; esac
	test_init >&2
	RUN_TMP=$TMPD
	ROW_DIR="$RUN_TMP/rows"
	mkdir -p "$ROW_DIR" "$OUT_DIR"
	trap _bench_exit EXIT
}

_bench_exit() {
	local rc=$?
	bench_sweep
	cleanup "$rc" >&2
	exit "$rc"
}

# bench_sweep: every namespace named for this run, and what runs in it.
bench_sweep() {
	local ns pids=()
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^sluice-$ID-" || true); do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		if [ ${#pids[@]} -gt 0 ]; then
			_reap TERM "${pids[@]}" || _reap KILL "${pids[@]}"
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
}

# run_row FUNCTION ARGS...: FUNCTION in a subshell that cleans up after
# itself; its output goes to stderr. 0 if it succeeded. A failed row has
# written no result: the caller records one (row_failed).
run_row() {
	local rc=0
	ROW_N=$((ROW_N + 1))
	set +e
	(
		set -e
		# shellcheck disable=SC2030 # this case's own temp dir, on purpose
		TMPD="$RUN_TMP/row$ROW_N"
		mkdir -p "$TMPD"
		trap _on_exit EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		"$@"
	) >&2
	rc=$?
	set -e
	[ $rc -eq 130 ] && exit 130
	return $rc
}

# row_file: where the current row writes its JSON.
row_file() { printf '%s/%03d.json\n' "$ROW_DIR" "$ROW_N"; }

# row_json KEY=VALUE...: writes the row's JSON object; values that look like
# numbers become numbers, lists of numbers ([1.5,2]) arrays, "" becomes null,
# anything else a string.
row_json() {
	local kv args=()
	for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
	jq -n "${args[@]}" '$ARGS.named | map_values(
		if . == "" then null
		elif test("^\\[[-0-9.,eE+]*\\]$") then fromjson
		elif test("^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$") then tonumber
		else . end)' >"$(row_file)"
}

# median X...: the middle one of numbers (the mean of the two middle ones
# for an even count), "" for none.
median() {
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f\n", m }'
}
# runs_json X...: the numbers of each run as a JSON array, for results.json.
runs_json() {
	local IFS=,
	echo "[$*]"
}

# row_failed NAME WHY [KEY=VALUE...]: a row that could not be measured.
row_failed() {
	local name=$1 why=$2; shift 2
	[ -s "$(row_file)" ] || row_json name="$name" status=fail note="$why" "$@"
}
row_skipped() {
	local name=$1 why=$2; shift 2
	ROW_N=$((ROW_N + 1))
	row_json name="$name" status=skipped note="$why" "$@"
	info "skipped: $name: $why" >&2
}

# cpu_ticks PID...: utime + stime of the processes (all their threads), in
# clock ticks. The fields after the command name, which may hold spaces.
# CPU_USER_ONLY=1 cpu_ticks PID...: utime alone.
cpu_ticks() {
	local p s total=0 f
	for p in "$@"; do
		s=$(cat "/proc/$p/stat") || return 1
		read -r -a f <<<"${s##*) }"
		total=$((total + f[11]))
		[ "${CPU_USER_ONLY:-}" = 1 ] || total=$((total + f[12]))
	done
	echo "$total"
}

# status_kib PID FIELD: a /proc/PID/status value (VmHWM, VmRSS) in KiB.
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# mib KIB: KiB as MiB with one decimal.
mib() { awk -v k="$1" 'BEGIN { if (k == "") print ""; else printf "%.1f", k / 1024 }'; }

# ping_avg FILE: the average of ping's "rtt min/avg/max/mdev" line.
ping_avg() { awk -F/ '/^rtt|^round-trip/ { print $5 }' "$1"; }

# The modern wireguard-go: WIREGUARD_GO, or ../shared/anchors/ next to the
# repository, which from a git worktree means next to its main checkout.
modern_wggo() {
	local anchor=shared/anchors/wireguard-go-0.0.20250522 common
	if [ -n "${WIREGUARD_GO:-}" ]; then echo "$WIREGUARD_GO"; return; fi
	if [ -e "$ROOT/../$anchor" ]; then echo "$ROOT/../$anchor"; return; fi
	common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) &&
		[ -e "$(dirname "$common")/../$anchor" ] && { echo "$(dirname "$common")/../$anchor"; return; }
	echo "$ROOT/../$anchor"
}

# version_of BINARY: wireguard-go's version without the v.
version_of() {
	local v
	v=$({ "$1" --version 2>/dev/null || true; } | awk 'NR == 1 && $1 == "wireguard-go" { sub(/^v/, "", $2); print $2 }')
	echo "${v:-(unknown version)}"
}

# now_ms: a monotonic enough clock for durations.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
