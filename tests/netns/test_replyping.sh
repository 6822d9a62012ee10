#!/usr/bin/env bash
# ReplyPing: sluice answers echo requests for its own tunnel addresses itself.
# In the responder's namespace nftables drops every ICMP and ICMPv6 echo
# request in the kernel's input hook, so the kernel cannot answer. With
# `ReplyPing = true` pings to the responder's v4 and v6 tunnel addresses are
# answered anyway (and the kernel never sees them: the drop counters stay
# still); restarted with `ReplyPing = false`, the same pings go unanswered
# (and the counters show the kernel dropping them), while the tunnel itself
# still works in the other direction.
# keypair and ns_new set variables by name; shellcheck can't see it.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "ReplyPing is sluice's own; wireguard-go has no equivalent"
command -v nft >/dev/null || cannot_run "'nft' not installed (run scripts/deps.sh)"
test_init

section "underlay: the pinger A and the responder B, one veth"
ns_new A ping
ns_new B resp
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
check "underlay works (A pings B)" ip netns exec "$A" ping -n -c1 -W2 192.0.2.2

section "nftables in B only: echo requests dropped in the input hook"
ip netns exec "$B" nft -f - <<-'EOF'
	table inet sluice_replyping {
		chain input {
			type filter hook input priority 0; policy accept;
			icmp type echo-request counter drop
			icmpv6 type echo-request counter drop
		}
	}
	EOF
# dropped v4|v6: packets the rule for that family has dropped so far.
dropped() {
	local proto=icmp
	[ "$1" = v6 ] && proto=icmpv6
	ip netns exec "$B" nft list chain inet sluice_replyping input |
		sed -n "s/.*$proto type echo-request counter packets \([0-9]*\) .*/\1/p"
}
check "B's kernel no longer answers a ping to its underlay address" ping_fails "$A" 192.0.2.2
check "... and the v4 rule counted the drops" test "$(dropped v4)" -ge 3
check "A's own kernel still answers (the rule is B's only)" ip netns exec "$B" ping -n -c1 -W2 192.0.2.1

keypair ka
keypair kb

# confs REPLY_PING SUFFIX: a pair of configs; sets IA IB CA CB.
confs() {
	ifname IA "a$2"
	ifname IB "b$2"
	CA=$(conf_write "$IA" <<-EOF
		[Interface]
		PrivateKey = $ka_priv
		ListenPort = 51820
		Address = 198.18.0.1/24, 2001:db8:77::1/64

		[Peer]
		PublicKey = $kb_pub
		AllowedIPs = 198.18.0.2/32, 2001:db8:77::2/128
		Endpoint = 192.0.2.2:51821
		EOF
	)
	CB=$(conf_write "$IB" <<-EOF
		[Interface]
		PrivateKey = $kb_priv
		ListenPort = 51821
		Address = 198.18.0.2/24, 2001:db8:77::2/64
		ReplyPing = $1

		[Peer]
		PublicKey = $ka_pub
		AllowedIPs = 198.18.0.1/32, 2001:db8:77::1/128
		Endpoint = 192.0.2.1:51820
		EOF
	)
}

# unchanged_since V4 V6: neither drop counter has moved.
unchanged_since() {
	local v4 v6
	v4=$(dropped v4) v6=$(dropped v6)
	[ "$v4" = "$1" ] && [ "$v6" = "$2" ] && return 0
	echo "drop counters moved: v4 $1 -> $v4, v6 $2 -> $v6"
	return 1
}
grew_since() {
	local v4 v6
	v4=$(dropped v4) v6=$(dropped v6)
	[ "$v4" -gt "$1" ] && [ "$v6" -gt "$2" ] && return 0
	echo "drop counters did not both grow: v4 $1 -> $v4, v6 $2 -> $v6"
	return 1
}

section "ReplyPing = true: sluice in B answers"
confs true on
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
d4=$(dropped v4) d6=$(dropped v6)
check "A -> B's tunnel address, v4 (198.18.0.2): answered" ping_ok "$A" 198.18.0.2
check "A -> B's tunnel address, v6 (2001:db8:77::2): answered" ping_ok "$A" 2001:db8:77::2
check "a 1392-byte ping is answered whole" ping_ok "$A" 198.18.0.2 -s 1392
check "B's kernel saw none of them (drop counters unchanged)" unchanged_since "$d4" "$d6"
check "B stops on SIGTERM" stop_daemon "$IB"
check "A stops on SIGTERM" stop_daemon "$IA"

section "ReplyPing = false (B restarted): the kernel drops them, nobody answers"
confs false off
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"
check "the tunnel works: B -> A, v4 (A's kernel answers)" ping_ok "$B" 198.18.0.1
check "the tunnel works: B -> A, v6" ping_ok "$B" 2001:db8:77::1
d4=$(dropped v4) d6=$(dropped v6)
check "A -> B's tunnel address, v4: no reply" ping_fails "$A" 198.18.0.2
check "A -> B's tunnel address, v6: no reply" ping_fails "$A" 2001:db8:77::2
check "the requests reached B's kernel through the tunnel and were dropped there" grew_since "$d4" "$d6"

finish
