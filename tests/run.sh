#!/usr/bin/env bash
# Runs the whole suite and prints "N passed, N failed" last.
# Unit tests (plain and ASan+UBSan), each fuzz harness for FUZZ_SECONDS
# (default 10), the packaging checks in tests/packaging/ (man pages, make
# install/uninstall, the systemd unit, bash completion), then every
# network-namespace test in tests/netns/, and last, under ThreadSanitizer
# (tests/tsan/run.sh), the namespace tests whose daemons run threads.
# With CI=true a test that cannot run (no root, no /dev/net/tun) fails.
set -u
cd "$(dirname "$0")/.."
B=build
passed=0 failed=0 skipped=0
failures=()

run() { # name, command...
	local name=$1; shift
	local log; log=$(mktemp)
	local t0=$SECONDS
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1)); printf 'PASS  %-40s %3ss\n' "$name" $((SECONDS - t0))
	else
		local rc=$?
		if [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
			skipped=$((skipped + 1)); printf 'SKIP  %-40s (%s)\n' "$name" "$(tail -n1 "$log")"
		else
			failed=$((failed + 1)); failures+=("$name")
			printf 'FAIL  %-40s (exit %d)\n' "$name" $rc
			sed 's/^/    | /' "$log" | tail -n 60
		fi
	fi
	rm -f "$log"
}

is_bin() { [ -f "$1" ] && [ -x "$1" ] && [ "${1%.d}" = "$1" ]; }
for t in $B/tests/test_*; do is_bin "$t" && run "unit/${t##*/}" "$t"; done
for t in $B/asan/test_*; do is_bin "$t" && run "asan/${t##*/}" "$t"; done
for f in $B/fuzz/fuzz_*; do
	is_bin "$f" && run "fuzz/${f##*/}" tests/fuzz/run.sh "$f"
done
for s in tests/packaging/*.sh; do
	run "packaging/${s##*/}" bash "$s"
done
for s in tests/netns/*.sh; do
	[ "${s##*/}" = lib.sh ] && continue
	run "netns/${s##*/}" timeout -k 5 "${NETNS_TIMEOUT:-240}" bash "$s"
done
# The daemon's threads: TSAN_TESTS lists every namespace test that makes a
# daemon start one (the endpoint resolver's, device_resolve.c).
TSAN_TESTS=(test_reresolve.sh)
for s in "${TSAN_TESTS[@]}"; do
	run "tsan/$s" timeout -k 5 "${NETNS_TIMEOUT:-240}" tests/tsan/run.sh "tests/netns/$s"
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
