#!/usr/bin/env bash
# The C sources are laid out as .clang-format says (run `make format` to
# apply it): a style question never needs a review comment. Lists each file
# that differs and the first lines where. Exit 77 (skip; a failure with
# CI=true) without clang-format: scripts/deps.sh installs it.
set -u
cd "$(dirname "$0")/../.." || exit 1
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
	echo "clang-format not installed (run scripts/deps.sh)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
failed=0
for f in src/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/tools/*.c; do
	[ -f "$f" ] || continue
	if ! "$CLANG_FORMAT" --style=file "$f" | cmp -s - "$f"; then
		echo "FAIL: $f is not formatted (make format):"
		"$CLANG_FORMAT" --style=file "$f" | diff "$f" - | head -n 12 | sed 's/^/    /'
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "every C file is formatted as .clang-format says"
exit $failed
