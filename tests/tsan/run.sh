#!/usr/bin/env bash
# ThreadSanitizer over a test whose daemons run threads: runs the given
# network-namespace test with the daemon built with -fsanitize=thread
# (build/tsan/sluice) and fails on any report, as well as when the test
# itself fails. Reports go to files (TSAN_OPTIONS log_path), since the
# daemons' standard error is gone once they detach. The seccomp sandbox is
# off (SLUICE_NO_SANDBOX=1): TSan's runtime makes calls the filter refuses
# (sched_getaffinity for each new thread, the report file); the sandbox
# has tests of its own (test_privileges.sh).
# Usage: tests/tsan/run.sh tests/netns/test_X.sh
set -u
cd "$(dirname "$0")/../.."
test=${1:?usage: $0 tests/netns/test_X.sh}
TSAN_SLUICE=${TSAN_SLUICE:-$PWD/build/tsan/sluice}
if [ ! -x "$TSAN_SLUICE" ]; then
	echo "$TSAN_SLUICE not built (make build/tsan/sluice)"
	exit 1
fi
dir=$(mktemp -d /tmp/sluice-tsan.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 0755 "$dir"
export SLUICE=$TSAN_SLUICE SLUICE_NO_SANDBOX=1
export TSAN_OPTIONS="log_path=$dir/report halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
rc=0
bash "$test" || rc=$?
shopt -s nullglob
reports=("$dir"/report.*)
if [ ${#reports[@]} -gt 0 ]; then
	echo "ThreadSanitizer reported (${#reports[@]} process(es)):"
	cat "${reports[@]}" | head -n 120
	exit 1
fi
echo "ThreadSanitizer: no report from the daemons of ${test##*/} (exit $rc)"
exit $rc
