#!/usr/bin/env bash
# The real wg(8) against sluice, compared with wireguard-go configured the
# same way. Each runs as wireguard-go's command line (`sluice -f IFACE`,
# `wireguard-go -f IFACE`) in its own namespace; the same wg commands, with
# the same keys, go to both, and every form of `wg show`, `wg showconf` and
# raw UAPI replies must come out the same once interface names are
# normalised. Then the two are set up as each other's peer (mirrored keys)
# and compared again after a handshake, where handshake times and byte
# counts are compared for presence and form, not value. Last, the command
# line as wg-quick runs it (`sluice IFACE`: a daemon, returning once the
# interface and socket exist), each way the daemon ends, a stale socket
# replaced, and sluice's own commands still taken for commands.
#
# Differences that are deliberate and therefore normalised:
#   - the order of peers (wireguard-go lists them in Go map order, which is
#     random) and of a peer's allowed IPs (wireguard-go: insertion order;
#     sluice: IPv4 then IPv6, ascending): both are sets;
#   - a set request with a bad line: wireguard-go has applied the lines
#     before it, sluice applies nothing; only the errno is compared there.
# keypair and ns_new set variables by name; shellcheck can't see it.
# Helpers run through check, pipes and command substitutions (SC2317).
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
test_init

# The side under test runs sluice, or wireguard-go under SLUICE_IMPL=wggo
# (which checks that this test holds for wireguard-go against itself).
if [ "$SLUICE_IMPL" = wggo ]; then
	IMPL=(wireguard-go)
else
	IMPL=("$SLUICE")
fi

section "underlay: two namespaces, one veth"
ns_new S sl   # sluice
ns_new G go   # wireguard-go
veth "$S" us "$G" ug
addr "$S" us 192.0.2.1/24
addr "$G" ug 192.0.2.2/24
ifname IS t
ifname IG g

# start_fg NS IFACE CMD...: CMD -f IFACE in the background in NS; returns
# once the interface and its control socket exist.
start_fg() {
	local ns=$1 ifc=$2 pid log="$TMPD/$2.log"; shift 2
	ip netns exec "$ns" env --default-signal=INT,QUIT LOG_LEVEL=verbose \
		"$@" -f "$ifc" >"$log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	DAEMONS+=("$ns $ifc $pid $log ${1##*/}")
	LAST_PID=$pid
	wait_until 10 iface_exists "$ns" "$ifc" || { echo "$1 made no $ifc in $ns within 10 s" >&2; return 1; }
	wait_until 10 test -S "$WG_RUN/$ifc.sock" || { echo "$1 made no $WG_RUN/$ifc.sock" >&2; return 1; }
}

# --- keys and files -----------------------------------------------------------

keypair a      # the interface's own key (both sides), later sluice's
keypair b      # wireguard-go's own key in the mirrored part
keypair p1
keypair p2
keypair p3
psk=$(wg genpsk)
K="$TMPD/keys"
mkdir -m 700 "$K"
printf '%s\n' "$a_priv" >"$K/a"
printf '%s\n' "$b_priv" >"$K/b"
printf '%s\n' "$psk" >"$K/psk"
: >"$K/empty"
chmod 600 "$K"/*

# --- running a wg command on both sides and comparing -------------------------

# The substitutions that make one side's output comparable with the other's:
# "from to" pairs, applied in order, set per part of the test (norm reads
# them by name, which shellcheck cannot follow).
# shellcheck disable=SC2034
SUBST_S=() SUBST_G=()

# norm IFACE SIDE: stdin normalised: the interface name, then the side's
# substitutions; peer blocks of `wg show` / `wg showconf` sorted, the lines
# of tab-separated listings sorted, comma-separated allowed IPs sorted.
norm() {
	local ifc=$1 side=$2 pair from to
	local -n subst="SUBST_$side"
	local text rc=""
	text=$(cat)
	if [[ $text == rc=* ]]; then
		rc=${text%%$'\n'*}
		text=${text#*$'\n'}
		printf '%s\n' "$rc"
	fi
	text=${text//"$ifc"/IFACE}
	for pair in "${subst[@]}"; do
		from=${pair%% *} to=${pair#* }
		text=${text//"$from"/"$to"}
	done
	printf '%s\n' "$text" | awk '
		function sortlist(s,   n, a, i, out) {
			n = split(s, a, /, /)
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			out = a[1]; for (i = 2; i <= n; i++) out = out ", " a[i]
			return out
		}
		/^  allowed ips: / { sub(/^  allowed ips: /, ""); print "  allowed ips: " sortlist($0); next }
		/^AllowedIPs = / { sub(/^AllowedIPs = /, ""); gsub(/,/, ", "); print "AllowedIPs = " sortlist($0); next }
		# a raw reply: a peer'"'"'s allowed_ip lines, sorted
		/^allowed_ip=/ { run[++nrun] = $0; next }
		nrun { flushrun() }
		{ print }
		END { flushrun() }
		function flushrun(   i, j, t) {
			for (i = 1; i <= nrun; i++) for (j = i + 1; j <= nrun; j++) if (run[j] < run[i]) { t = run[i]; run[i] = run[j]; run[j] = t }
			for (i = 1; i <= nrun; i++) print run[i]
			nrun = 0
		}' | _sort_blocks
}

# _sort_blocks: keeps the first block ("interface:" or "[Interface]") first
# and sorts the rest ("peer:" / "[Peer]" blocks, separated by blank lines or
# starting at a header); a tab-separated listing has its lines sorted, each
# line's allowed IPs (space-separated) too.
_sort_blocks() {
	awk '
		function flush() { if (cur != "") { blocks[++n] = cur; cur = "" } }
		/\t/ { tabbed = 1 }
		!/^[A-Za-z0-9+\/]+=?$/ { notkeys = 1 }
		/^(peer: |\[Peer\]|public_key=)/ { flush() }
		/^errno=/ { flush(); blocks[++n] = $0 "\n"; next }
		/^$/ { flush(); next }
		{ cur = cur $0 "\n" }
		END {
			flush()
			if (!notkeys) # a list of public keys (wg show IFACE peers)
				tabbed = 1
			if (tabbed) {
				for (i = 1; i <= n; i++) {
					m = split(blocks[i], lines, "\n")
					for (k = 1; k < m; k++) {
						f = split(lines[k], col, "\t")
						out = ""
						for (x = 1; x <= f; x++) {
							c = col[x]
							# a list of allowed IPs: "a, b" or "a,b" or "a b"
							if (c ~ /\// && c ~ /[ ,]/) {
								sep = c ~ /,/ ? "," : " "
								g = split(c, ips, sep)
								for (p = 1; p <= g; p++) for (q = p + 1; q <= g; q++) if (ips[q] < ips[p]) { t = ips[p]; ips[p] = ips[q]; ips[q] = t }
								c = ips[1]; for (p = 2; p <= g; p++) c = c sep ips[p]
							}
							out = out (x > 1 ? "\t" : "") c
						}
						all[++na] = out
					}
				}
				for (i = 1; i <= na; i++) for (j = i + 1; j <= na; j++) if (all[j] < all[i]) { t = all[i]; all[i] = all[j]; all[j] = t }
				for (i = 1; i <= na; i++) print all[i]
				exit
			}
			first = 1
			if (n && blocks[1] !~ /^(interface: |\[Interface\])/) first = 0
			for (i = first + 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (blocks[j] < blocks[i]) { t = blocks[i]; blocks[i] = blocks[j]; blocks[j] = t }
			for (i = 1; i <= n; i++) { printf "%s", blocks[i]; if (i < n) print "" }
		}'
}

# on SIDE ARGS...: `wg ARGS` on SIDE (S or G) with @IF replaced by its
# interface; prints "rc=N" then stdout and stderr.
on() {
	local side=$1 ns ifc rc=0 out arg args=(); shift
	if [ "$side" = S ]; then ns=$S ifc=$IS; else ns=$G ifc=$IG; fi
	for arg in "$@"; do args+=("${arg//@IF/$ifc}"); done
	out=$(ip netns exec "$ns" timeout -k 2 10 wg "${args[@]}" 2>&1) || rc=$?
	printf 'rc=%d\n%s\n' "$rc" "$out"
}

# same ARGS...: `wg ARGS` on both sides gives the same exit code and the same
# normalised output; shows both and the difference otherwise.
same() {
	local s g
	s=$(on S "$@" | norm "$IS" S)
	g=$(on G "$@" | norm "$IG" G)
	[ "$s" = "$g" ] && return 0
	echo "sluice and wireguard-go differ for: wg $*"
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}

# both ARGS...: `wg ARGS` on each side; both must succeed (a set must not
# fail on one side only).
both() {
	local s g
	s=$(on S "$@")
	g=$(on G "$@")
	[ "${s%%$'\n'*}" = rc=0 ] && [ "${g%%$'\n'*}" = rc=0 ] && return 0
	printf 'wg %s\nsluice: %s\nwireguard-go: %s\n' "$*" "$s" "$g"
	return 1
}

SHOW_FORMS=(
	"show @IF"
	"show @IF dump"
	"showconf @IF"
	"show @IF public-key"
	"show @IF private-key"
	"show @IF listen-port"
	"show @IF fwmark"
	"show @IF peers"
	"show @IF endpoints"
	"show @IF allowed-ips"
	"show @IF latest-handshakes"
	"show @IF transfer"
	"show @IF preshared-keys"
	"show @IF persistent-keepalive"
)

# compare_all WHAT: every form of wg show and wg showconf, on both sides.
compare_all() {
	local f
	for f in "${SHOW_FORMS[@]}"; do
		# shellcheck disable=SC2086 # the forms are words
		check "$1: wg $f" same $f
	done
	check "$1: wg show (every interface) lists the interface the same" same_in_all
	check "$1: wg show all dump lists the interface the same" same_in_all_dump
}

# The part about our interface in `wg show` (all) and `wg show all dump`:
# every daemon on the machine shares /var/run/wireguard.
same_in_all() {
	local s g
	s=$(on S show | awk -v i="interface: $IS" '/^interface: /{ on = ($0 == i) } on' | norm "$IS" S)
	g=$(on G show | awk -v i="interface: $IG" '/^interface: /{ on = ($0 == i) } on' | norm "$IG" G)
	[ -n "$s" ] && [ "$s" = "$g" ] && return 0
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}
same_in_all_dump() {
	local s g
	s=$(on S show all dump | awk -F'\t' -v i="$IS" '$1 == i' | norm "$IS" S)
	g=$(on G show all dump | awk -F'\t' -v i="$IG" '$1 == i' | norm "$IG" G)
	[ -n "$s" ] && [ "$s" = "$g" ] && return 0
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}

# uapi SIDE REQUEST: the raw reply of the control socket to REQUEST (printf
# escapes), up to the daemon hanging up; "(closed)" when it sent nothing.
uapi() {
	local ns ifc out
	if [ "$1" = S ]; then ns=$S ifc=$IS; else ns=$G ifc=$IG; fi
	# shellcheck disable=SC2059 # the request is a format on purpose
	out=$(printf "$2" | ip netns exec "$ns" timeout -k 2 5 nc -N -U "$WG_RUN/$ifc.sock" 2>&1) || true
	printf '%s\n' "${out:-(closed)}"
}

# same_uapi REQUEST: both daemons reply the same (lines normalised).
same_uapi() {
	local s g
	s=$(uapi S "$1" | norm "$IS" S)
	g=$(uapi G "$1" | norm "$IG" G)
	[ "$s" = "$g" ] && return 0
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}

# same_set_get REQUEST: both reply the same to REQUEST, then to a get=1 on a
# new connection.
same_set_get() {
	same_uapi "$1" && same_uapi 'get=1\n\n'
}

# same_errno REQUEST: both reply to a set with the same errno line (the state
# after it may differ: wireguard-go applies a request's lines up to the bad
# one, sluice none of them).
same_errno() {
	local s g
	s=$(uapi S "$1" | grep '^errno=' || echo "(no errno line)")
	g=$(uapi G "$1" | grep '^errno=' || echo "(no errno line)")
	[ "$s" = "$g" ] && return 0
	printf 'request %q\nwireguard-go: %s\nsluice:       %s\n' "$1" "$g" "$s"
	return 1
}

hex() { printf '%s' "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }

# --- the daemons ----------------------------------------------------------------

section "both started as wireguard-go's command line, -f, no configuration"
start_fg "$S" "$IS" "${IMPL[@]}"
PID_S=$LAST_PID
start_fg "$G" "$IG" wireguard-go

# link_of NS IFACE: flags, MTU, state and queue length of the link.
link_of() { ip -n "$1" -o link show "$2" | sed -E "s/^[0-9]+: $2: //; s/ +link\/none.*//; s/qdisc [a-z_]+ //"; }
same_link() {
	local s g
	s=$(link_of "$S" "$IS") g=$(link_of "$G" "$IG")
	[ "$s" = "$g" ] && { echo "$s"; return 0; }
	printf 'wireguard-go: %s\nsluice:       %s\n' "$g" "$s"
	return 1
}
check "the new link: same flags, MTU 1420, down" same_link
check "the new link is down with MTU 1420" sh -c "ip -n $S -o link show $IS | grep -q 'mtu 1420 .*state DOWN'"

# A fresh interface listens on a random port: the one thing normalised here.
port_s=$(ip netns exec "$S" wg show "$IS" listen-port)
port_g=$(ip netns exec "$G" wg show "$IG" listen-port)
check "a fresh interface listens on some port (sluice: $port_s)" test "${port_s:-0}" -gt 0
# shellcheck disable=SC2034 # read by norm
SUBST_S=("$port_s PORT") SUBST_G=("$port_g PORT")
compare_all "fresh"
# shellcheck disable=SC2034 # read by norm
SUBST_S=() SUBST_G=()

section "interface settings"
check "wg set listen-port 51820 private-key" both set @IF listen-port 51820 private-key "$K/a"
compare_all "key and port"
check "wg set fwmark 0x1234" both set @IF fwmark 0x1234
check "fwmark 0x1234: wg show fwmark" same show @IF fwmark
check "fwmark 0x1234: wg show dump" same show @IF dump
check "fwmark 0x1234: wg showconf" same showconf @IF
check "wg set fwmark 0 (off)" both set @IF fwmark 0
check "fwmark 0: wg show fwmark" same show @IF fwmark
check "fwmark 0: wg show dump" same show @IF dump
check "wg set listen-port 51821, then 51820 again" both set @IF listen-port 51821
check "listen-port after a rebind" same show @IF listen-port
check "wg set listen-port 0 (a random port)" both set @IF listen-port 0
port_s=$(ip netns exec "$S" wg show "$IS" listen-port)
check "listen-port 0: sluice now listens on some other port ($port_s)" \
	sh -c "[ '${port_s:-0}' -gt 0 ] && [ '$port_s' != 51821 ]"
check "wg set listen-port 51820 again" both set @IF listen-port 51820

section "peers"
check "wg set peer P1 with preshared-key, endpoint, allowed-ips, persistent-keepalive" \
	both set @IF peer "$p1_pub" preshared-key "$K/psk" endpoint 198.51.100.1:51820 \
	allowed-ips 198.18.1.0/24,2001:db8:1::/64 persistent-keepalive 25
check "wg set peer P2 with an IPv6 endpoint" \
	both set @IF peer "$p2_pub" endpoint "[2001:db8:ffff::2]:51000" allowed-ips 198.18.2.1/32
check "wg set peer P3, nothing else" both set @IF peer "$p3_pub"
check "wg set peer P3: default routes, a prefix given twice" \
	both set @IF peer "$p3_pub" allowed-ips 0.0.0.0/0,::/0,198.18.3.0/24,198.18.3.0/24
compare_all "three peers"
check "allowed-ips replaced (P1: 198.18.1.0/25 only; host bits masked)" \
	both set @IF peer "$p1_pub" allowed-ips 198.18.1.7/25
check "an allowed IP moves to the peer that is given it (198.18.2.1/32 to P3)" \
	both set @IF peer "$p3_pub" allowed-ips 198.18.2.1/32,2001:db8:3::/48
check "P2's allowed IPs emptied (allowed-ips '')" both set @IF peer "$p2_pub" allowed-ips ""
check "persistent-keepalive off, preshared key removed (empty file)" \
	both set @IF peer "$p1_pub" persistent-keepalive off preshared-key "$K/empty"
check "a peer with the interface's own public key is ignored" both set @IF peer "$a_pub" allowed-ips 198.18.9.0/24
compare_all "peers changed"
check "wg set peer P3 remove" both set @IF peer "$p3_pub" remove
check "removing a peer that does not exist is no error" both set @IF peer "$p3_pub" remove
compare_all "P3 removed"

section "private key removed and set again"
check "wg set private-key (empty file)" both set @IF private-key "$K/empty"
compare_all "no private key"
check "wg set private-key again" both set @IF private-key "$K/a"
printf '%s\n' "$p2_priv" >"$K/p2"
chmod 600 "$K/p2"
check "wg set private-key to P2's: P2, now our own key, is removed" both set @IF private-key "$K/p2"
check "P2's key as ours: wg show dump" same show @IF dump
check "wg set private-key back" both set @IF private-key "$K/a"
check "private key back: wg show" same show @IF
check "private key back: wg show private-key" same show @IF private-key

section "wg setconf, addconf, syncconf"
conf1="$TMPD/c1.conf" conf2="$TMPD/c2.conf" conf3="$TMPD/c3.conf"
cat >"$conf1" <<-EOF
	[Interface]
	PrivateKey = $a_priv
	ListenPort = 51830
	FwMark = 51820

	[Peer]
	PublicKey = $p2_pub
	PresharedKey = $psk
	AllowedIPs = 198.18.4.0/24, 2001:db8:4::/64
	Endpoint = 198.51.100.4:4

	[Peer]
	PublicKey = $p3_pub
	AllowedIPs = 198.18.5.5/32
	PersistentKeepalive = 0
	EOF
cat >"$conf2" <<-EOF
	[Peer]
	PublicKey = $p1_pub
	AllowedIPs = 198.18.6.0/24
	Endpoint = [2001:db8:ffff::6]:6

	[Peer]
	PublicKey = $p3_pub
	AllowedIPs = 198.18.7.0/24
	EOF
cat >"$conf3" <<-EOF
	[Interface]
	ListenPort = 51820

	[Peer]
	PublicKey = $p1_pub
	AllowedIPs = 198.18.8.0/24
	PersistentKeepalive = 15
	EOF
chmod 600 "$conf1" "$conf2" "$conf3"
check "wg setconf (replaces every peer; P1 goes)" both setconf @IF "$conf1"
compare_all "after setconf"
check "wg addconf (a new peer, and P3's allowed IPs added to)" both addconf @IF "$conf2"
compare_all "after addconf"
check "wg syncconf (only P1 is left, its keepalive on)" both syncconf @IF "$conf3"
compare_all "after syncconf"
check "wg setconf with the first file again" both setconf @IF "$conf1"

section "errors: what wg says, and the errno in the reply"
ip netns exec "$S" timeout 60 nc -u -l 192.0.2.1 51890 </dev/null >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$G" timeout 60 nc -u -l 192.0.2.2 51890 </dev/null >/dev/null 2>&1 &
PIDS+=($!)
wait_until 5 sh -c "ip netns exec $S ss -Huln 'sport = :51890' | grep -q . && ip netns exec $G ss -Huln 'sport = :51890' | grep -q ."
check "wg set listen-port on a port in use: same message, exit code" same set @IF listen-port 51890
check "wg set listen-port 70000 (wg refuses it itself)" same set @IF listen-port 70000
check "wg set peer with a bad key (wg refuses it itself)" same set @IF peer not-a-key
check "wg show of a missing interface" same show nosuchiface0
# wireguard-go closed its socket when the rebind failed; both get a port back.
check "listen-port 51820 after the failure" both set @IF listen-port 51820
check "after the failed rebind: wg show" same show @IF
P1HEX=$(hex "$p1_pub")
for req in \
	'set=1\nbogus=1\n\n' \
	'set=1\nlisten_port=65536\n\n' \
	'set=1\nlisten_port=-1\n\n' \
	'set=1\nfwmark=4294967296\n\n' \
	'set=1\nreplace_peers=false\n\n' \
	'set=1\nprivate_key=00\n\n' \
	'set=1\nnot a line\n\n' \
	'set=1\nallowed_ip=198.18.0.0/24\n\n' \
	"set=1\npublic_key=$P1HEX\nallowed_ip=198.18.0.0/33\n\n" \
	"set=1\npublic_key=$P1HEX\nallowed_ip=nonsense\n\n" \
	"set=1\npublic_key=$P1HEX\nendpoint=nonsense\n\n" \
	"set=1\npublic_key=$P1HEX\npersistent_keepalive_interval=65536\n\n" \
	"set=1\npublic_key=$P1HEX\nprotocol_version=2\n\n" \
	"set=1\npublic_key=$P1HEX\nremove=false\n\n" \
	"set=1\npublic_key=$P1HEX\nupdate_only=yes\n\n" \
	"set=1\npublic_key=$P1HEX\nreplace_allowed_ips=1\n\n" \
	"set=1\npublic_key=$P1HEX\npreshared_key=zz\n\n" \
	"set=1\npublic_key=$P1HEX\nbogus=1\n\n" \
	'set=1\npublic_key=zz\n\n'; do
	check "errno for $(printf '%q' "$req")" same_errno "$req"
done
check "wg setconf with the first file (after the requests above)" both setconf @IF "$conf1"
check "get=1 with a trailing key: errno=-22" same_uapi 'get=1\nx=1\n\n'
check "an unknown operation: the daemon hangs up" same_uapi 'bogus=1\n\n'
check "the raw get=1 reply" same_uapi 'get=1\n\n'
# (Not two requests on one connection: wireguard-go's set reads ahead and
# loses what follows it; wg sends one request per connection.)
check "a set request, then get" same_set_get "set=1\nfwmark=7\n\n"
P4=$(wg genkey | wg pubkey)
P4HEX=$(hex "$P4")
check "update_only on an unknown peer creates nothing" \
	same_set_get "set=1\npublic_key=$P4HEX\nupdate_only=true\nallowed_ip=198.18.10.0/24\n\n"
P2HEX=$(hex "$p2_pub")
check "update_only on a known peer changes it" \
	same_set_get "set=1\npublic_key=$P2HEX\nupdate_only=true\nallowed_ip=198.18.10.0/24\n\n"
check "replace_peers=true with no peers after it removes all" \
	same_set_get "set=1\nreplace_peers=true\n\n"
check "protocol_version=1 is accepted" \
	same_set_get "set=1\npublic_key=$P4HEX\nprotocol_version=1\nallowed_ip=198.18.11.0/24\n\n"
check "fwmark=0 in a request: no fwmark line" same_set_get "set=1\nfwmark=0\n\n"
check "a set ended by the end of the stream, not an empty line" same_set_get "set=1\nfwmark=9\n"
check "fwmark=0 again" same_set_get "set=1\nfwmark=0\n\n"
compare_all "after the raw requests"

section "after a handshake between them (mirrored keys: sluice has A, wireguard-go B)"
# No PrivateKey in the files: it comes last, with wg set, as a PostUp of
# `wg set %i private-key FILE` would give it; until then there is no
# handshake, and nothing breaks.
cat >"$TMPD/ms.conf" <<-EOF
	[Interface]
	ListenPort = 51820

	[Peer]
	PublicKey = $b_pub
	PresharedKey = $psk
	AllowedIPs = 198.18.0.0/24
	Endpoint = 192.0.2.2:51820
	PersistentKeepalive = 25
	EOF
cat >"$TMPD/mg.conf" <<-EOF
	[Interface]
	ListenPort = 51820

	[Peer]
	PublicKey = $a_pub
	PresharedKey = $psk
	AllowedIPs = 198.18.0.0/24
	Endpoint = 192.0.2.1:51820
	PersistentKeepalive = 25
	EOF
chmod 600 "$TMPD/ms.conf" "$TMPD/mg.conf"
check "sluice: wg setconf with its mirrored file" sh -c "ip netns exec $S wg setconf $IS $TMPD/ms.conf"
check "wireguard-go: wg setconf with its mirrored file" sh -c "ip netns exec $G wg setconf $IG $TMPD/mg.conf"
ip -n "$S" addr add 198.18.0.1/24 dev "$IS"
ip -n "$G" addr add 198.18.0.2/24 dev "$IG"
ip -n "$S" link set "$IS" up
ip -n "$G" link set "$IG" up
check "no private key yet: no reply" ping_fails "$S" 198.18.0.2
check "no private key yet: wg show lists no handshake" \
	sh -c "ip netns exec $S wg show $IS latest-handshakes | grep -q '	0\$'"
check "sluice: wg set private-key" sh -c "ip netns exec $S wg set $IS private-key $K/a"
check "wireguard-go: wg set private-key" sh -c "ip netns exec $G wg set $IG private-key $K/b"
check "ping sluice -> wireguard-go" ping_ok "$S" 198.18.0.2
check "ping wireguard-go -> sluice" ping_ok "$G" 198.18.0.1
# Each side's own key is SELF and its peer's PEER; each sees the other's
# address as its endpoint. Handshake times and byte counts: their form.
a_hex=$(hex "$a_pub") b_hex=$(hex "$b_pub") a_phex=$(hex "$a_priv") b_phex=$(hex "$b_priv")
# shellcheck disable=SC2034 # read by norm
SUBST_S=("$a_priv SELF_PRIV" "$a_pub SELF" "$b_pub PEER" "$a_phex SELF_PRIV" "$a_hex SELF" "$b_hex PEER" "192.0.2.2: ADDR:")
# shellcheck disable=SC2034 # read by norm
SUBST_G=("$b_priv SELF_PRIV" "$b_pub SELF" "$a_pub PEER" "$b_phex SELF_PRIV" "$b_hex SELF" "$a_hex PEER" "192.0.2.1: ADDR:")
now=$(date +%s)
# dynamic: latest handshake and transfer, by their form.
dyn() {
	sed -E \
		-e 's/^(  latest handshake: ).*ago$/\1(some time) ago/' \
		-e 's/^(  latest handshake: )Now$/\1(some time) ago/' \
		-e 's/^(  transfer: ).* received, .* sent$/\1(bytes) received, (bytes) sent/' \
		-e "s/^last_handshake_time_sec=1[0-9]{9}\$/last_handshake_time_sec=(recent)/" \
		-e 's/^last_handshake_time_nsec=[0-9]+$/last_handshake_time_nsec=(ns)/' \
		-e 's/^(rx|tx)_bytes=[1-9][0-9]*$/\1_bytes=(nonzero)/' |
		awk -F'\t' -v OFS='\t' -v now="$now" '
			NF == 2 && $2 ~ /^1[0-9]{9}$/ && $2 >= now - 300 && $2 <= now + 300 { $2 = "(recent)" }
			NF == 3 && $2 ~ /^[1-9][0-9]*$/ && $3 ~ /^[1-9][0-9]*$/ { $2 = "(nonzero)"; $3 = "(nonzero)" }
			NF == 8 && $5 ~ /^1[0-9]{9}$/ && $5 >= now - 300 && $5 <= now + 300 { $5 = "(recent)" }
			NF == 8 && $6 ~ /^[1-9][0-9]*$/ && $7 ~ /^[1-9][0-9]*$/ { $6 = "(nonzero)"; $7 = "(nonzero)" }
			NF == 9 && $6 ~ /^1[0-9]{9}$/ && $6 >= now - 300 && $6 <= now + 300 { $6 = "(recent)" }
			NF == 9 && $7 ~ /^[1-9][0-9]*$/ && $8 ~ /^[1-9][0-9]*$/ { $7 = "(nonzero)"; $8 = "(nonzero)" }
			{ print }'
}
same_dyn() {
	local s g
	s=$(on S "$@" | norm "$IS" S | dyn)
	g=$(on G "$@" | norm "$IG" G | dyn)
	[ "$s" = "$g" ] && { printf '%s\n' "$s"; return 0; }
	echo "sluice and wireguard-go differ for: wg $*"
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}
same_dyn_uapi() {
	local s g
	s=$(uapi S 'get=1\n\n' | norm "$IS" S | dyn)
	g=$(uapi G 'get=1\n\n' | norm "$IG" G | dyn)
	[ "$s" = "$g" ] && return 0
	diff -u --label wireguard-go --label sluice <(printf '%s\n' "$g") <(printf '%s\n' "$s")
	return 1
}
for f in "${SHOW_FORMS[@]}"; do
	# shellcheck disable=SC2086 # the forms are words
	check "after the handshake: wg $f" same_dyn $f
done
check "after the handshake: the raw get=1 reply (times and counts by form)" same_dyn_uapi
check "after the handshake: the latest handshake is set and recent" \
	sh -c "ip netns exec $S wg show $IS latest-handshakes | awk -v now=$now '{ exit !(\$2 >= now - 300 && \$2 <= now + 300) }'"
check "after the handshake: bytes both ways" \
	sh -c "ip netns exec $S wg show $IS transfer | awk '{ exit !(\$2 > 0 && \$3 > 0) }'"

if [ "$SLUICE_IMPL" != wggo ]; then
	section "sluice follows the MTU it is given, large ones too (as WireGuard)"
	ip -n "$S" link set "$IS" mtu 1380
	check "MTU 1380 is kept" sh -c "sleep 1.5; ip -n $S -o link show $IS | grep -q 'mtu 1380 '"
	check "ping with MTU 1380" ping_ok "$S" 198.18.0.2
	ip -n "$S" link set "$IS" mtu 9000
	check "MTU 9000 is kept" sh -c "sleep 1.5; ip -n $S -o link show $IS | grep -q 'mtu 9000 '"
	check "ping with MTU 9000" ping_ok "$S" 198.18.0.2
fi

section "stopping: the socket file removed (sluice), SIGTERM (wireguard-go)"
rm -f "$WG_RUN/$IS.sock"
check "sluice exits within 3 s once its socket file is removed" wait_until 3 sh -c "! kill -0 $PID_S"
check "... and its interface is gone" wait_until 3 sh -c "! ip -n $S link show $IS"
check "wireguard-go stops on SIGTERM" stop_daemon "$IG"

section "wireguard-go's command line: the daemon, and how it ends"
# daemon_in NS IFACE: the pid of the daemon for IFACE in NS.
daemon_in() {
	local p
	for p in $(ip netns pids "$1"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -Eq "(^|/)(sluice|wireguard-go) $2 \$" &&
			{ echo "$p"; return 0; }
	done
	return 1
}
# run_bare NS IFACE CMD...: `CMD IFACE` as wg-quick runs it (no -f); prints
# its exit status, and whether the interface and the socket existed the
# moment it returned.
run_bare() {
	local ns=$1 ifc=$2 rc=0; shift 2
	ip netns exec "$ns" timeout -k 2 10 "$@" "$ifc" >"$TMPD/bare.out" 2>&1 </dev/null || rc=$?
	printf 'rc=%d link=%s socket=%s\n' "$rc" "$(iface_exists "$ns" "$ifc" && echo yes || echo no)" \
		"$(test -S "$WG_RUN/$ifc.sock" && echo yes || echo no)"
}
# bare_ok NS IFACE: run_bare with the implementation under test succeeds.
bare_ok() {
	local r
	r=$(run_bare "$1" "$2" "${IMPL[@]}")
	[ "$r" = "rc=0 link=yes socket=yes" ] || { echo "$r"; cat "$TMPD/bare.out"; return 1; }
}
# stop_fg PID: SIGTERM, and it must be gone in 3 s.
stop_fg() {
	kill -TERM "$1" 2>/dev/null
	wait_until 3 sh -c "! kill -0 $1" || return 1
}
ifname ID d
ifname IE e
bare_s=$(run_bare "$S" "$ID" "${IMPL[@]}")
bare_g=$(run_bare "$G" "$IE" wireguard-go)
check "without -f: returns 0 with the interface and the socket already there ($bare_s)" \
	test "$bare_s" = "rc=0 link=yes socket=yes"
check "... as wireguard-go does ($bare_g)" test "$bare_g" = "rc=0 link=yes socket=yes"
PD=$(daemon_in "$S" "$ID") || PD=""
check "a daemon runs for $ID (pid ${PD:-none})" test -n "$PD"
# stderr: /dev/null, or the daemon's log where no syslog listens (/dev/log).
check "the daemon's stdout is /dev/null, its stderr /dev/null or its log" sh -c "
	[ \"\$(readlink /proc/$PD/fd/1)\" = /dev/null ] &&
	case \"\$(readlink /proc/$PD/fd/2)\" in /dev/null | /run/sluice/*.log) ;; *) exit 1 ;; esac"
# (wireguard-go's daemon stays in its caller's session; sluice's leaves it.)
[ "$SLUICE_IMPL" = wggo ] ||
	check "the daemon leads its own session" sh -c "[ \"\$(awk '{ print \$6 }' /proc/$PD/stat)\" = $PD ]"
check "the new link is down with MTU 1420" sh -c "ip -n $S -o link show $ID | grep -q 'mtu 1420 .*state DOWN'"
again_s=$(run_bare "$S" "$ID" "${IMPL[@]}")
again_g=$(run_bare "$G" "$IE" wireguard-go)
check "a second daemon for the same interface fails ($again_s), as wireguard-go's ($again_g)" \
	sh -c "case '$again_s' in rc=0*) exit 1 ;; esac; case '$again_g' in rc=0*) exit 1 ;; esac"
check "... and the first one still answers" sh -c "ip netns exec $S wg show $ID listen-port | grep -q '^[1-9]'"
ip -n "$S" link del "$ID"
check "deleting the interface ends the daemon, which removes its socket" \
	wait_until 3 gone "$S" "$ID" "$PD"
ip -n "$G" link del "$IE"
check "(wireguard-go's too)" wait_until 3 sh -c "! test -e $WG_RUN/$IE.sock"

check "a daemon again" bare_ok "$S" "$ID"
PD=$(daemon_in "$S" "$ID") || PD=""
kill -KILL "$PD" 2>/dev/null || true
# (Gone from the process table, it has closed every descriptor: the tun
# may go a moment before the listening socket does.)
check "killed with SIGKILL: its tun goes, its socket file stays (stale)" \
	wait_until 3 sh -c "! kill -0 $PD && ! ip -n $S link show $ID && test -S $WG_RUN/$ID.sock"
check "a new daemon replaces the stale socket" bare_ok "$S" "$ID"
check "the new daemon answers on it" sh -c "ip netns exec $S wg show $ID listen-port | grep -q '^[1-9]'"
PD=$(daemon_in "$S" "$ID") || PD=""
kill -INT "$PD" 2>/dev/null || true
check "SIGINT ends the daemon: no interface, no socket, no process" wait_until 3 gone "$S" "$ID" "$PD"
check "a daemon again" bare_ok "$S" "$ID"
PD=$(daemon_in "$S" "$ID") || PD=""
kill -TERM "$PD" 2>/dev/null || true
check "SIGTERM ends the daemon: no interface, no socket, no process" wait_until 3 gone "$S" "$ID" "$PD"

ip netns exec "$S" env --default-signal=INT,QUIT WG_PROCESS_FOREGROUND=1 "${IMPL[@]}" "$ID" \
	>"$TMPD/fg.log" 2>&1 </dev/null &
PF=$!
PIDS+=("$PF")
check "WG_PROCESS_FOREGROUND=1: stays in front, interface and socket made" \
	wait_until 5 sh -c "test -S $WG_RUN/$ID.sock && ip -n $S link show $ID && kill -0 $PF"
check "SIGTERM stops it in front too" stop_fg "$PF"

if [ "$SLUICE_IMPL" != wggo ]; then
	section "sluice's own commands are still commands"
		says() { local want=$1 out; shift; out=$("$@" 2>&1) && return 1; grep -qF -- "$want" <<<"$out" || { echo "$out"; return 1; }; }
	check "sluice --help" sh -c "'$SLUICE' --help | grep -q 'Usage: sluice COMMAND'"
	check "sluice --version" sh -c "'$SLUICE' --version | grep -q '^sluice '"
	check "sluice genkey is still a command" sh -c "'$SLUICE' genkey | wg pubkey >/dev/null"
	check "a typo of a command is not taken for a name" says "'shwo' is not a command; did you mean 'sluice show'?" "$SLUICE" shwo
	check "a word that is no interface name is not a command" says "'a/b' is not a command" "$SLUICE" a/b
	check "nor is a name of 16 characters" says "is not a command" "$SLUICE" abcdefghijklmnop
	check "an unknown option is not a command" says "'--bogus' is not a command" "$SLUICE" --bogus
	check "sluice -f with a bad name says so" says "is not a valid interface name" "$SLUICE" -f a/b
	check "sluice -f with two names is a usage error" says "Usage: sluice [-f|--foreground] IFACE" "$SLUICE" -f a b
fi

finish
