#!/usr/bin/env bash
# Runs each given libFuzzer binary for FUZZ_SECONDS (default 10) over its seed
# corpus tests/fuzz/corpus/NAME (copied, so the tree is not written to).
set -eu
cd "$(dirname "$0")/../.."
for bin in "$@"; do
	name=${bin##*/}
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	"$bin" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "$work" 2>&1 | tail -n 25
	test "${PIPESTATUS[0]}" -eq 0
	rm -rf "$work"
done
