#!/usr/bin/env bash
# make install / make uninstall:
#  - with DESTDIR, the default PREFIX (/usr/local) and PREFIX=/usr, install
#    puts exactly the expected files, with their modes, and the unit names
#    the installed binary; uninstall then leaves no file behind;
#  - installed for real under a temporary PREFIX, the binary runs, and
#    `systemd-analyze verify` accepts the unit: every directive known and
#    well-formed, ExecStart executable, the man pages of Documentation=
#    found by man(1) under that prefix.
# Exit 77 (skip; a failure with CI=true) without systemd-analyze:
# scripts/deps.sh installs it (package systemd).
set -u
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# A make of our own, not a sub-make of `make check` (no jobserver to share).
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s "$@"
}

# Regular files and symlinks under $1, relative, sorted.
files_under() {
	(cd "$1" && find . \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort)
}

check_tree() { # root prefix
	local root=$1 prefix=${2#/} want got
	want=$(LC_ALL=C sort <<EOF
$prefix/bin/sluice
$prefix/lib/systemd/system/sluice@.service
$prefix/share/bash-completion/completions/sluice
$prefix/share/man/man5/sluice.conf.5
$prefix/share/man/man8/sluice.8
EOF
)
	got=$(files_under "$root")
	if [ "$got" != "$want" ]; then
		fail "install under $root put (< expected, > installed):"
		diff <(echo "$want") <(echo "$got")
	fi
	[ "$(stat -c %a "$root/$prefix/bin/sluice")" = 755 ] || fail "bin/sluice is not mode 755"
	for f in lib/systemd/system/sluice@.service share/bash-completion/completions/sluice \
		share/man/man5/sluice.conf.5 share/man/man8/sluice.8; do
		[ "$(stat -c %a "$root/$prefix/$f" 2>/dev/null)" = 644 ] || fail "$f is not mode 644"
	done
	cmp -s "$root/$prefix/share/man/man8/sluice.8" docs/sluice.8 || fail "sluice.8 differs from docs/sluice.8"
	local exec
	exec=$(grep '^ExecStart=' "$root/$prefix/lib/systemd/system/sluice@.service")
	[ "$exec" = "ExecStart=/$prefix/bin/sluice up -f /etc/sluice/%i.conf" ] ||
		fail "the installed unit says '$exec', not /$prefix/bin/sluice"
	exec=$(grep '^ExecReload=' "$root/$prefix/lib/systemd/system/sluice@.service")
	[ "$exec" = "ExecReload=/$prefix/bin/sluice syncconf %i /etc/sluice/%i.conf" ] ||
		fail "the installed unit's reload says '$exec', not /$prefix/bin/sluice syncconf"
}

check_empty() {
	local left
	left=$(files_under "$1")
	[ -z "$left" ] || fail "uninstall left behind in $1: $left"
}

umask 022
for prefix in /usr/local /usr; do
	stage=$tmp/stage$(tr / _ <<<"$prefix")
	if [ "$prefix" = /usr/local ]; then
		mk install DESTDIR="$stage" || fail "make install DESTDIR=$stage"
	else
		mk install DESTDIR="$stage" PREFIX="$prefix" || fail "make install DESTDIR=$stage PREFIX=$prefix"
	fi
	check_tree "$stage" "$prefix"
	echo "install DESTDIR PREFIX=$prefix: $(files_under "$stage" | wc -l) files, as expected"
	if [ "$prefix" = /usr/local ]; then
		mk uninstall DESTDIR="$stage" || fail "make uninstall DESTDIR=$stage"
	else
		mk uninstall DESTDIR="$stage" PREFIX="$prefix" || fail "make uninstall DESTDIR=$stage PREFIX=$prefix"
	fi
	check_empty "$stage"
	echo "uninstall DESTDIR PREFIX=$prefix: no file left"
done

# For real, under a prefix that exists on this machine: the unit's paths
# then point at files that are there.
root=$tmp/root
mk install PREFIX="$root" || fail "make install PREFIX=$root"
version=$("$root/bin/sluice" --version) || fail "the installed sluice does not run"
echo "installed binary: $version"

if ! command -v systemd-analyze >/dev/null; then
	echo "systemd-analyze is not installed (scripts/deps.sh installs the systemd package)"
	mk uninstall PREFIX="$root"
	exit 77
fi
out=$(MANPATH="$root/share/man" systemd-analyze verify "$root/lib/systemd/system/sluice@.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	fail "systemd-analyze verify (exit $rc):"
	printf '%s\n' "$out"
else
	echo "systemd-analyze verify: clean"
fi
# Type=notify needs the binary to send READY=1: it must be built with it.
grep -q '^Type=notify$' "$root/lib/systemd/system/sluice@.service" || fail "the unit is not Type=notify"
grep -aq 'NOTIFY_SOCKET' "$root/bin/sluice" || fail "the installed binary knows no NOTIFY_SOCKET"

mk uninstall PREFIX="$root" || fail "make uninstall PREFIX=$root"
check_empty "$root"
exit $failed
