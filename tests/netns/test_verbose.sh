#!/usr/bin/env bash
# What `sluice up -v` says: one server and four clients, each client with a
# mistake of its own or none, and the debug lines that tell them apart.
#   client 1 has the wrong public key for the server: the server logs
#            "Invalid MAC of handshake", the client retries;
#   client 2 has the wrong port: it retries, and the server hears nothing;
#   client 3 is right: send/receive lines on both sides, keypairs made;
#            then it sends from an address the server does not allow
#            for it: "Packet has unallowed src IP";
#   client 4 is not a peer of the server: "Invalid handshake initiation",
#            naming the public key it is not configured with.
# Then a pair with timers 30 times faster rotates keypairs twice: "Keypair
# 3 created", "Keypair 1 destroyed" on both sides.
# Peers are named by their id (1, 2, 3... in the order added), which the
# "Peer N created, public key ..." line ties to a key.
# keypair and ns_new set variables by name, and check calls the helpers
# below; shellcheck can't see either.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "these are sluice's own log lines; wireguard-go has its own"
test_init

ns_new C c
ns_new S s
veth "$C" uc "$S" us
addr "$C" uc 192.0.2.1/24
addr "$S" us 192.0.2.2/24
keypair ks
keypair k1
keypair k2
keypair k3
keypair k4
keypair kwrong

ifname IS s
CS=$(conf_write "$IS" <<-EOF
	[Interface]
	PrivateKey = $ks_priv
	ListenPort = 51820
	Address = 198.18.1.254/24, 198.18.2.254/24, 198.18.3.254/24, 198.18.4.254/24
	[Peer]
	PublicKey = $k1_pub
	AllowedIPs = 198.18.1.1/32
	[Peer]
	PublicKey = $k2_pub
	AllowedIPs = 198.18.2.1/32
	[Peer]
	PublicKey = $k3_pub
	AllowedIPs = 198.18.3.1/32
	EOF
)

# client N PRIV SERVER_PUB ENDPOINT: writes client N's config, sets CN and IN.
client() {
	local n=$1 priv=$2 pub=$3 ep=$4 ifc conf
	ifname ifc "c$n"
	conf=$(conf_write "$ifc" <<-EOF
		[Interface]
		PrivateKey = $priv
		ListenPort = 5183$n
		Address = 198.18.$n.1/24
		[Peer]
		PublicKey = $pub
		AllowedIPs = 198.18.$n.254/32
		Endpoint = $ep
		EOF
	)
	printf -v "I$n" %s "$ifc"
	printf -v "C$n" %s "$conf"
}
client 1 "$k1_priv" "$kwrong_pub" 192.0.2.2:51820
client 2 "$k2_priv" "$ks_pub" 192.0.2.2:51829
client 3 "$k3_priv" "$ks_pub" 192.0.2.2:51820
client 4 "$k4_priv" "$ks_pub" 192.0.2.2:51820

log_of() { printf '%s\n' "$TMPD/$1.log"; }

# logged IFACE TEXT: a line of IFACE's log contains TEXT (shows the log if not).
logged() {
	grep -qF -- "$2" "$(log_of "$1")" && return 0
	echo "no line with: $2"
	sed 's/^/  | /' "$(log_of "$1")" | tail -n 30
	return 1
}

# not_logged IFACE TEXT: no line of IFACE's log contains TEXT.
not_logged() {
	! grep -F -- "$2" "$(log_of "$1")"
}

section "one server, four clients (sluice up -v)"
start_sluice "$S" "$CS"
for n in 1 2 3 4; do
	conf=C$n
	start_sluice "$C" "${!conf}"
done
check "server: peers numbered in the order added, tied to their keys" \
	sh -c "grep -qF 'Peer 1 created, public key $k1_pub' $(log_of "$IS") &&
	       grep -qF 'Peer 3 created, public key $k3_pub' $(log_of "$IS")"

section "client 3, configured right: a handshake, told by both sides"
check "client 3 reaches the server through the tunnel" ping_ok "$C" 198.18.3.254
check "client 3: Sending handshake initiation to peer 1 (192.0.2.2:51820)" \
	logged "$I3" "Sending handshake initiation to peer 1 (192.0.2.2:51820)"
check "server: Receiving handshake initiation from peer 3 (192.0.2.1:51833)" \
	logged "$IS" "Receiving handshake initiation from peer 3 (192.0.2.1:51833)"
check "server: Sending handshake response to peer 3 (192.0.2.1:51833)" \
	logged "$IS" "Sending handshake response to peer 3 (192.0.2.1:51833)"
check "client 3: Receiving handshake response from peer 1 (192.0.2.2:51820)" \
	logged "$I3" "Receiving handshake response from peer 1 (192.0.2.2:51820)"
check "client 3: Keypair 1 created for peer 1" logged "$I3" "Keypair 1 created for peer 1"
check "server: a keypair created for peer 3" \
	grep -Eq 'Keypair [0-9]+ created for peer 3$' "$(log_of "$IS")"
check "the lines are debug lines" grep -q "$IS debug: Receiving handshake initiation" "$(log_of "$IS")"

section "client 3 sends from an address outside its AllowedIPs on the server"
# A second address on client 3's interface, not in the server's AllowedIPs
# for it (198.18.3.1/32): a ping from it is encrypted and sent, and the
# server drops it after decrypting.
addr "$C" "$I3" 198.18.9.1/32
ip netns exec "$C" ping -n -c 1 -W 1 -I 198.18.9.1 198.18.3.254 >/dev/null 2>&1 || true
check "server: Packet has unallowed src IP (198.18.9.1) from peer 3 (192.0.2.1:51833)" \
	wait_until 5 logged "$IS" "Packet has unallowed src IP (198.18.9.1) from peer 3 (192.0.2.1:51833)"
check "client 3 still reaches the server from its own address" ping_ok "$C" 198.18.3.254

section "clients 1 (wrong server key), 2 (wrong port), 4 (unknown to the server)"
for n in 1 2 4; do
	ip netns exec "$C" ping -n -c 1 -W 1 "198.18.$n.254" >/dev/null 2>&1 || true
done
check "server: Invalid MAC of handshake, dropping packet from 192.0.2.1:51831 (client 1)" \
	wait_until 5 logged "$IS" "Invalid MAC of handshake, dropping packet from 192.0.2.1:51831"
check "server: Invalid handshake initiation from 192.0.2.1:51834, naming client 4's key" \
	wait_until 5 logged "$IS" "Invalid handshake initiation from 192.0.2.1:51834: no peer has its public key $k4_pub"
check "client 1: handshake did not complete after 5 seconds, retrying (try 2)" \
	wait_until 10 logged "$I1" "Handshake for peer 1 (192.0.2.2:51820) did not complete after 5 seconds, retrying (try 2)"
check "client 2: handshake did not complete after 5 seconds, retrying (try 2)" \
	wait_until 10 logged "$I2" "Handshake for peer 1 (192.0.2.2:51829) did not complete after 5 seconds, retrying (try 2)"
check "client 2: nothing ever came back" not_logged "$I2" "Receiving"
check "server: nothing from client 2's port 51832" not_logged "$IS" "192.0.2.1:51832"
check "server: client 1's initiations got no further than the MAC" not_logged "$IS" "from peer 1"
check "client 1 and 4 made no keypair" \
	sh -c "! grep -q 'Keypair' $(log_of "$I1") && ! grep -q 'Keypair' $(log_of "$I4")"

section "keypair rotation, timers 30 times faster (SLUICE_TIMER_SCALE=30: rekey after 4 s)"
keypair kr1
keypair kr2
ifname IR1 r1
ifname IR2 r2
CR1=$(conf_write "$IR1" <<-EOF
	[Interface]
	PrivateKey = $kr1_priv
	ListenPort = 51841
	Address = 198.18.5.1/24
	[Peer]
	PublicKey = $kr2_pub
	AllowedIPs = 198.18.5.2/32
	Endpoint = 192.0.2.2:51842
	EOF
)
CR2=$(conf_write "$IR2" <<-EOF
	[Interface]
	PrivateKey = $kr2_priv
	ListenPort = 51842
	Address = 198.18.5.2/24
	[Peer]
	PublicKey = $kr1_pub
	AllowedIPs = 198.18.5.1/32
	EOF
)
SLUICE_TIMER_SCALE=30 start_sluice "$S" "$CR2"
SLUICE_TIMER_SCALE=30 start_sluice "$C" "$CR1"
check "the pair reaches each other" ping_ok "$C" 198.18.5.2
# Traffic for two rekeys (REKEY_AFTER_TIME is 4 s at this scale), bounded.
ip netns exec "$C" ping -n -q -c 60 -i 0.2 -W 1 198.18.5.2 >/dev/null 2>&1 &
PING=$!
PIDS+=("$PING")
check "initiator: Keypair 3 created for peer 1 (a second rotation)" \
	wait_until 20 logged "$IR1" "Keypair 3 created for peer 1"
check "initiator: Keypair 1 destroyed for peer 1" logged "$IR1" "Keypair 1 destroyed for peer 1"
check "responder: Keypair 2 created for peer 1" logged "$IR2" "Keypair 2 created for peer 1"
check "responder: Keypair 1 destroyed for peer 1" wait_until 5 logged "$IR2" "Keypair 1 destroyed for peer 1"
wait "$PING" 2>/dev/null || true

finish
