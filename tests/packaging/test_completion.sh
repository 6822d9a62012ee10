#!/usr/bin/env bash
# contrib/bash-completion/sluice, driven as bash drives it (COMP_WORDS,
# COMP_CWORD, then the function `complete` registered): commands, each
# command's options, interface names from the control-socket directory for
# show, showconf, syncconf and down, .conf files for up and syncconf, key
# files and cipher names for p2p.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=contrib/bash-completion/sluice
source contrib/bash-completion/sluice
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# The control sockets of two interfaces, a file that is no socket, and two
# names that must stay text: neither run nor globbed.
export SLUICE_UAPI_DIR=$tmp/run
mkdir -p "$SLUICE_UAPI_DIR" "$tmp/etc/sub"
touch "$SLUICE_UAPI_DIR/wg0.sock" "$SLUICE_UAPI_DIR/wg1.sock" "$SLUICE_UAPI_DIR/notes.txt" \
	"$SLUICE_UAPI_DIR/\$(id).sock" "$SLUICE_UAPI_DIR/w*.sock"
touch "$tmp/etc/wg0.conf" "$tmp/etc/office.conf" "$tmp/etc/README" "$tmp/etc/a.key"

fn=$(complete -p sluice 2>/dev/null | sed -n 's/.*-F \([^ ]*\) sluice$/\1/p')
if [ "$fn" != _sluice ]; then
	echo "FAIL: 'complete -p sluice' does not name _sluice"
	exit 1
fi

# expect "WORDS..." "EXPECTED..." : completes the last word of WORDS.
expect() {
	local line=$1 want=$2 got
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	"$fn" sluice "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ')
	got=${got% }
	want=$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort | tr '\n' ' ')
	want=${want% }
	if [ "$got" = "$want" ]; then
		echo "ok   '$line' -> $got"
	else
		echo "FAIL '$line': got '$got', want '$want'"
		failed=1
	fi
}

expect "sluice " "up down show showconf syncconf metrics genkey genpsk pubkey quickstart p2p --version --help"
expect "sluice g" "genkey genpsk"
expect "sluice q" "quickstart"
expect "sluice up -" "-f --foreground -v --verbose -u --user --help"
expect "sluice up -u nobod" "nobody"
expect "sluice up --user nobody $tmp/etc/w" "$tmp/etc/wg0.conf"
expect "sluice up $tmp/etc/" "$tmp/etc/wg0.conf $tmp/etc/office.conf $tmp/etc/sub"
expect "sluice up -f $tmp/etc/w" "$tmp/etc/wg0.conf"
expect "sluice up $tmp/etc/wg0.conf " ""
expect "sluice show " "wg0 wg1 \$(id) w* all interfaces"
expect "sluice show w" "wg0 wg1 w*"
expect "sluice show \$" "\$(id)"
expect "sluice show --" "--json --prometheus --help"
expect "sluice show --json wg1" "wg1"
expect "sluice show wg0 " "public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips latest-handshakes persistent-keepalive transfer dump"
expect "sluice show wg0 peers " ""
expect "sluice down wg" "wg0 wg1"
expect "sluice showconf " "wg0 wg1 \$(id) w*"
expect "sluice showconf wg0 " ""
expect "sluice syncconf wg" "wg0 wg1"
expect "sluice syncconf wg0 $tmp/etc/" "$tmp/etc/wg0.conf $tmp/etc/office.conf $tmp/etc/sub"
expect "sluice syncconf $tmp/etc/o" "$tmp/etc/office.conf"
expect "sluice syncconf wg0 $tmp/etc/wg0.conf " ""
expect "sluice syncconf -" "--help"
expect "sluice down $tmp/etc/o" "$tmp/etc/office.conf"
expect "sluice genkey " "--help"
expect "sluice quickstart --" "--endpoint --clients --subnet --tcp --cipher --tap --dns --qr --add-client --revoke --interface --help"
expect "sluice quickstart --add-client laptop --qr --interface wg0 $tmp/etc/s" "$tmp/etc/sub"
expect "sluice quickstart --cipher " "chacha20-poly1305 aes-256-gcm"
expect "sluice quickstart --clients 3 $tmp/etc/s" "$tmp/etc/sub"
expect "sluice p2p --k" "--key --keepalive"
expect "sluice p2p -k $tmp/etc/a" "$tmp/etc/a.key"
expect "sluice p2p --psk $tmp/etc/a" "$tmp/etc/a.key"
expect "sluice p2p --cipher a" "aes-256-gcm"
expect "sluice p2p --cipher = a" "aes-256-gcm"
expect "sluice p2p --peer " ""
expect "sluice p2p -k a.key --peer KEY 198.18.0.1 " ""

# Every command and long option the program lists is offered, so the
# completion cannot fall behind a new one.
SLUICE=${SLUICE:-build/sluice}
if [ -x "$SLUICE" ]; then
	offer() { # words...: what completing the last one offers
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		"$fn" sluice "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf ' %s ' "${COMPREPLY[@]}"
	}
	commands=$("$SLUICE" --help | awk '/^  [a-z][a-z0-9]* / { print $1 }')
	offered=$(offer sluice '')
	for cmd in $commands; do
		[[ $offered == *" $cmd "* ]] || { echo "FAIL: 'sluice <TAB>' does not offer $cmd"; failed=1; }
		opts=$(offer sluice "$cmd" -)
		for opt in $("$SLUICE" "$cmd" --help | grep -oE -- '(^|[^a-z0-9-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			[[ $opts == *" $opt "* ]] || { echo "FAIL: 'sluice $cmd -<TAB>' does not offer $opt"; failed=1; }
		done
	done
	echo "ok   every command and long option of $SLUICE --help is offered"
else
	echo "FAIL: $SLUICE is missing: build it first (make)"
	failed=1
fi

# No interfaces at all: only the words, and no error.
rm -rf "$SLUICE_UAPI_DIR"
expect "sluice show " "all interfaces"
exit $failed
