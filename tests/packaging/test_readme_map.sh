#!/usr/bin/env bash
# README.md's "How it is built" maps the source tree: its first code block
# names every file in src/ with its concern ("device.[ch]" names device.c and
# device.h), and names no file src/ does not hold. A file added, split,
# renamed or removed without the map following fails here, saying which.
set -u
cd "$(dirname "$0")/../.." || exit 1
failed=0

section=$(awk '/^## How it is built/ { on = 1; next } on && /^## / { exit } on' README.md)
block=$(printf '%s\n' "$section" | awk '/^```/ { n++; next } n == 1')
if [ -z "$block" ]; then
	echo "FAIL: README.md has no code block under '## How it is built'"
	exit 1
fi

# Words like name.c, name.h and name.[ch], not part of a path (tests/x.c)
# or of a longer name.
named=$(printf '%s\n' "$block" | perl -ne 'print "$1\n" while /(?<![\w.\/])(\w+\.(?:\[ch\]|c|h))(?!\w)/g' |
	sed -E 's/^(.*)\.\[ch\]$/\1.c\n\1.h/' | sort -u)
have=$(cd src && printf '%s\n' *.c *.h | sort -u)

missing=$(comm -23 <(printf '%s\n' "$have") <(printf '%s\n' "$named"))
stale=$(comm -13 <(printf '%s\n' "$have") <(printf '%s\n' "$named"))
for f in $missing; do
	echo "FAIL: src/$f is not in README.md's 'How it is built' (add it, with its concern)"
	failed=1
done
for f in $stale; do
	echo "FAIL: README.md's 'How it is built' names $f, which src/ does not hold"
	failed=1
done
[ $failed -eq 0 ] && echo "README.md's 'How it is built' names the $(printf '%s\n' "$have" | wc -l) files of src/, and only those"
exit $failed
