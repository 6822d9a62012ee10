#!/usr/bin/env bash
# The man pages, docs/sluice.8 and docs/sluice.conf.5:
#  - mandoc -T lint reports nothing, style included (but for references to
#    other projects' pages this machine may lack; our own must resolve);
#  - man(1), where installed, renders them without a groff warning;
#  - they name every command and option that `sluice ... --help` lists, and
#    every key the configuration parser knows (src/config.c), so neither can
#    drift from the program.
# Exit 77 (skip; a failure with CI=true) without mandoc: scripts/deps.sh
# installs it.
set -u
cd "$(dirname "$0")/../.." || exit 1
SLUICE=${SLUICE:-build/sluice}
pages=(docs/sluice.8 docs/sluice.conf.5)
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

if ! command -v mandoc >/dev/null; then
	echo "mandoc is not installed (scripts/deps.sh installs it)"
	exit 77
fi

for page in "${pages[@]}"; do
	# -W warning: its exit status says whether anything at that level came up.
	if ! out=$(mandoc -T lint -W warning "$page" 2>&1); then
		fail "mandoc -T lint -W warning $page:"
		printf '%s\n' "$out"
	fi
	# Style too, without the cross-references to pages of other packages
	# (which depend on what this machine has installed) and without
	# mandoc's notes about its own database.
	out=$(mandoc -T lint -W style "$page" 2>&1 | grep -F "mandoc: $page:" | grep -v 'referenced manual not found')
	if [ -n "$out" ]; then
		fail "mandoc -T lint -W style $page:"
		printf '%s\n' "$out"
	fi
	# Our own cross-references point at pages we ship.
	while read -r _ name section _; do
		case $name in
		sluice*) [ -f "docs/$name.$section" ] || fail "$page refers to $name($section), which docs/ lacks" ;;
		esac
	done < <(grep -E '^\.Xr ' "$page")
	if command -v man >/dev/null; then
		if ! out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || [ -n "$out" ]; then
			fail "man --warnings -l $page:"
			printf '%s\n' "$out"
		fi
	else
		echo "note: man(1) is not installed; mandoc's lint only"
	fi
	echo "lint clean: $page"
done

# Every command, and every option its --help shows, appears in sluice(8).
if [ ! -x "$SLUICE" ]; then
	fail "$SLUICE is missing: build it first (make)"
	exit 1
fi
page=docs/sluice.8
commands=$("$SLUICE" --help | awk '/^  [a-z][a-z0-9]* / { print $1 }')
[ -n "$commands" ] || fail "sluice --help lists no command"
for cmd in $commands; do
	grep -qE "^\.(It )?Cm $cmd( |$)" "$page" || fail "$page does not document the command '$cmd'"
	help=$("$SLUICE" "$cmd" --help) || fail "sluice $cmd --help failed"
	# Long options anywhere in the text; short ones where an option list
	# names them ("  -k, --key FILE", "[-f] [-v]").
	for opt in $(grep -oE -- '(^|[^a-z0-9-])--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qE -- "Fl -${opt#--}( |$)" "$page" || fail "$page does not document 'sluice $cmd $opt'"
	done
	for opt in $(grep -oE -- '(^ +|\[)-[a-zA-Z](,|\]| )' <<<"$help" | grep -oE -- '-[a-zA-Z]' | sort -u); do
		grep -qE -- "Fl ([a-zA-Z]*${opt#-}[a-zA-Z]*)( |$)" "$page" || fail "$page does not document 'sluice $cmd $opt'"
	done
done
"$SLUICE" --help | grep -qF -- '--version' && ! grep -qE '^\.Fl -version$' "$page" &&
	fail "$page does not document --version"

# Every key of the configuration file appears in sluice.conf(5).
page=docs/sluice.conf.5
keys=$(grep -oE '^\s*\[K_[A-Z_]+\] = \{ "[A-Za-z]+"' src/config.c | grep -oE '"[A-Za-z]+"' | tr -d '"')
[ -n "$keys" ] || fail "found no key table in src/config.c"
for key in $keys; do
	grep -qE "Cm $key( |$)" "$page" || fail "$page does not document the key '$key'"
done
echo "documented: $(wc -w <<<"$commands") commands and their options, $(wc -w <<<"$keys") configuration keys"

exit $failed
