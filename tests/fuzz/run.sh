#!/usr/bin/env bash
# Runs each given libFuzzer binary for FUZZ_SECONDS (default 10) over its seed
# corpus tests/fuzz/corpus/NAME (copied, so the tree is not written to), then
# prints a table: per harness the executions, executions a second, coverage
# (libFuzzer's cov: edges and ft: features at the end), the corpus it ended
# with, and whether it found anything.
#
# A crash, leak or timeout leaves its input in build/fuzz/findings/NAME/
# (libFuzzer's crash-*, leak-*, timeout-* files) and fails the run. Each one
# is a bug to fix; its input then goes into tests/fuzz/corpus/NAME/ as a
# regression input, so every later run replays it first.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
rows=()
failed=0
work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
for bin in "$@"; do
	name=${bin##*/}
	work=$(mktemp -d)
	findings=build/fuzz/findings/$name
	mkdir -p "$findings"
	seeds=0
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -r "tests/fuzz/corpus/$name/." "$work/"
		seeds=$(find "tests/fuzz/corpus/$name" -type f | wc -l)
	fi
	log=$work.log
	rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$findings/" "$work" >"$log" 2>&1 || rc=$?
	tail -n 25 "$log"
	# The last status line (#N DONE / #N pulse ...: cov: X ft: Y corp: Z/...)
	# and the final stats.
	status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAILED (exit $rc; input in $findings/)"
		failed=$((failed + 1))
	fi
	rows+=("$(printf '%-14s %7s %12s %9s %6s %7s %6s/%-5s %s' "$name" "${secs}s" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "$seeds" "${corp:-?}" "$result")")
	rm -rf "$work" "$log"
	work=""
	rmdir "$findings" 2>/dev/null || true
done
echo
printf '%-14s %7s %12s %9s %6s %7s %12s %s\n' harness time executions "execs/s" cov ft "seeds/corp" result
for r in "${rows[@]}"; do echo "$r"; done
[ "$failed" -eq 0 ]
