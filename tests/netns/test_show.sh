#!/usr/bin/env bash
# `sluice show` for people and `sluice show --json` for programs: two sluice
# peers, one pair over TCP with AES-256-GCM; after pings, the JSON carries
# every UAPI field plus sluice's own (transport, cipher, drops by cause), and
# the human output shows wg's layout, units and times. --prometheus gives the
# counters in Prometheus' text format, and `sluice metrics` serves them over
# HTTP (scraped with curl, over IPv4 and IPv6; 404, 405, a silent client).
# shellcheck disable=SC2154
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
command -v jq >/dev/null || cannot_run "'jq' not installed (run scripts/deps.sh)"
command -v curl >/dev/null || cannot_run "'curl' not installed (run scripts/deps.sh)"
test_init

ns_new A a
ns_new B b
veth "$A" ua "$B" ub
addr "$A" ua 192.0.2.1/24
addr "$B" ub 192.0.2.2/24
keypair ka
keypair kb
ifname IA a
ifname IB b
CA=$(conf_write "$IA" <<-EOF
	[Interface]
	PrivateKey = $ka_priv
	ListenPort = 51820
	Address = 198.18.0.1/24
	[Peer]
	PublicKey = $kb_pub
	AllowedIPs = 198.18.0.2/32
	Endpoint = tcp://192.0.2.2:51821
	Cipher = aes-256-gcm
	PersistentKeepalive = 25
	EOF
)
CB=$(conf_write "$IB" <<-EOF
	[Interface]
	PrivateKey = $kb_priv
	ListenPort = 51821
	Transport = tcp
	Address = 198.18.0.2/24
	[Peer]
	PublicKey = $ka_pub
	AllowedIPs = 198.18.0.1/32
	Cipher = aes-256-gcm
	EOF
)
start_sluice "$A" "$CA"
start_sluice "$B" "$CB"

section "traffic"
check "A pings B over TCP with AES-256-GCM" ping_ok "$A" 198.18.0.2

section "sluice show --json"
json=$(sluice_cli "$A" show --json "$IA")
info "$json"
jq_ok() { printf '%s' "$json" | jq -e "$1" >/dev/null; }
check "it is valid JSON" jq_ok 'type == "object"'
check "interface name, public key, listening port" \
	jq_ok ".interface == \"$IA\" and .public_key == \"$ka_pub\" and .listen_port == 51820 and .private_key == \"(hidden)\""
check "one peer: B's key, endpoint, allowed ips" \
	jq_ok ".peers | length == 1 and .[0].public_key == \"$kb_pub\" and .[0].endpoint == \"192.0.2.2:51821\" and .[0].allowed_ips == [\"198.18.0.2/32\"]"
check "sluice's own fields: transport tcp, cipher aes-256-gcm" \
	jq_ok '.peers[0].transport == "tcp" and .peers[0].cipher == "aes-256-gcm"'
check "the UAPI fields: handshake time, transfer, keepalive, protocol version" \
	jq_ok '.peers[0].latest_handshake > 1600000000 and .peers[0].transfer_rx > 0 and .peers[0].transfer_tx > 0 and .peers[0].persistent_keepalive == 25 and .peers[0].protocol_version == 1 and .peers[0].preshared_key == null'
check "drops by cause, every cause a number" \
	jq_ok '.dropped | (has("replay") and has("decrypt") and has("allowed_ips") and has("tcp_framing")) and (to_entries | all(.value | type == "number"))'
# Through a file: the array holds every interface on the machine, other
# tests' too, and may be larger than a command line takes.
sluice_cli "$A" show --json >"$TMPD/all.json"
check "without IFACE: a JSON array that holds A" \
	jq -e "type == \"array\" and any(.[]; .interface == \"$IA\")" "$TMPD/all.json"

section "sluice show (wg's layout)"
human=$(sluice_cli "$A" show "$IA")
printf '%s\n' "$human" | sed 's/^/   | /'
has() { grep -Eq "$1" <<<"$human"; } # no pipe: under pipefail, grep -q quitting early fails printf
check "interface and public key lines" has "^interface: $IA\$"
check "private key hidden" has '^  private key: \(hidden\)$'
check "peer line with B's key" has "^peer: ${kb_pub//+/\\+}\$"
check "endpoint shows the transport" has '^  endpoint: tcp://192\.0\.2\.2:51821$'
check "latest handshake in wg's words" has '^  latest handshake: (Now|[0-9]+ seconds? ago)$'
check "transfer in B/KiB units" has '^  transfer: [0-9.]+ (B|KiB|MiB) received, [0-9.]+ (B|KiB|MiB) sent$'
check "persistent keepalive" has '^  persistent keepalive: every 25 seconds$'
check "a cipher line for the non-default suite" has '^  cipher: aes-256-gcm$'
check_fails "no interface: exit 2 and a message" sluice_cli "$A" show nosuchif0

section "sluice show IFACE FIELD, as wg show prints it (for scripts)"
# same_as_wg FIELD: sluice's output equals wg's for the interface; a TCP
# endpoint is shown with its tcp:// by sluice only.
same_as_wg() {
	local mine theirs
	mine=$(sluice_cli "$A" show "$IA" "$1" | sed 's|tcp://||')
	theirs=$(ip netns exec "$A" wg show "$IA" "$1")
	[ "$mine" = "$theirs" ] || { printf 'sluice:\n%s\nwg:\n%s\n' "$mine" "$theirs"; return 1; }
}
for f in public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips \
	latest-handshakes persistent-keepalive transfer dump; do
	check "show $IA $f is what wg show prints" same_as_wg "$f"
done
check "show all dump: lines start with the interface" \
	sh -c "ip netns exec $A $SLUICE show all dump | grep -q '^$IA	'"
check "show interfaces lists $IA" sh -c "ip netns exec $A $SLUICE show interfaces | tr ' ' '\n' | grep -qx $IA"
check_fails "an unknown field is refused" sluice_cli "$A" show "$IA" bogus-field
section "sluice show --prometheus"
sluice_cli "$A" show --prometheus "$IA" >"$TMPD/prom.txt"
sed 's/^/   | /' "$TMPD/prom.txt" | head -n 12
# prom_valid: every line a comment or `name{labels} number`, names declared.
prom_valid() {
	awk '/^# (HELP|TYPE) / { next }
	     /^[a-z_]+\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\} [0-9]+$/ { next }
	     { print "not exposition format: " $0; bad = 1 } END { exit bad }' "$1"
}
check "every line is Prometheus' text format" prom_valid "$TMPD/prom.txt"
check "bytes received from B, labelled with its key and transport" \
	sh -c "grep -E '^sluice_peer_receive_bytes_total\\{interface=\"$IA\",public_key=\"${kb_pub//+/\\+}\",transport=\"tcp\"\\} [1-9]' $TMPD/prom.txt"
check "drops by cause and the handshake queue" \
	sh -c "grep -q '^sluice_dropped_packets_total{interface=\"$IA\",cause=\"replay\"} ' $TMPD/prom.txt &&
	       grep -q '^sluice_handshake_queue{interface=\"$IA\",stat=\"queued\"} ' $TMPD/prom.txt"
check "each metric declared once (HELP and TYPE)" \
	sh -c "[ \$(grep -c '^# TYPE sluice_peer_receive_bytes_total counter' $TMPD/prom.txt) = 1 ]"
check "--prometheus for every interface includes $IA" \
	sh -c "ip netns exec $A $SLUICE show --prometheus | grep -q 'sluice_peers{interface=\"$IA\"} 1'"

section "sluice metrics: the same counters over HTTP, scraped with curl"
# http_code NS URL [CURL_ARGS...]: the status code curl gets.
http_code() {
	local ns=$1 url=$2; shift 2
	ip netns exec "$ns" curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "$url"
}
# series FILE: the exposition's lines without their values (values move).
series() { grep -v '^#' "$1" | sed 's/ [0-9]*$//' | sort; }
same_series() { diff <(series "$1") <(series "$2"); }
# (no timeout(1) around it: its exit status is checked; the EXIT trap stops it)
ip netns exec "$A" "$SLUICE" metrics --listen 127.0.0.1:9586 "$IA" 2>"$TMPD/metrics.log" &
METRICS_PID=$!
PIDS+=("$METRICS_PID")
ip netns exec "$A" timeout -k 5 60 "$SLUICE" metrics --listen '[::1]:9587' 2>/dev/null &
PIDS+=("$!")
check "the exporter answers within 5 s" wait_until 5 sh -c "[ \$(ip netns exec $A curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9586/metrics) = 200 ]"
ip netns exec "$A" curl -s -m 5 -D "$TMPD/metrics.head" -o "$TMPD/metrics.txt" http://127.0.0.1:9586/metrics
sluice_cli "$A" show --prometheus "$IA" >"$TMPD/prom2.txt"
check "GET /metrics: Prometheus' text format" prom_valid "$TMPD/metrics.txt"
check "... with the content type Prometheus expects" grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMPD/metrics.head"
check "... the series of show --prometheus" same_series "$TMPD/metrics.txt" "$TMPD/prom2.txt"
check "... bytes received from B counted" grep -qE "^sluice_peer_receive_bytes_total\{interface=\"$IA\",.*\} [1-9]" "$TMPD/metrics.txt"
check "over IPv6 too ([::1]:9587, every interface)" \
	sh -c "ip netns exec $A curl -s -m 5 'http://[::1]:9587/metrics' | grep -q 'sluice_peers{interface=\"$IA\"} 1'"
check "HEAD /metrics: 200" test "$(http_code "$A" http://127.0.0.1:9586/metrics -I)" = 200
check "another path: 404" test "$(http_code "$A" http://127.0.0.1:9586/other)" = 404
check "POST: 405" test "$(http_code "$A" http://127.0.0.1:9586/metrics -d x=1)" = 405
# A client that connects and says nothing holds the exporter 5 s at most.
ip netns exec "$A" timeout 8 nc 127.0.0.1 9586 </dev/null >/dev/null 2>&1 &
PIDS+=("$!")
sleep 0.5
check "a silent client does not stop the next scrape for long (answered within 7 s)" \
	test "$(http_code "$A" http://127.0.0.1:9586/metrics -m 7)" = 200
check_fails "--listen without a port is refused" sluice_cli "$A" metrics --listen 127.0.0.1
kill -TERM "$METRICS_PID"
rc=0
wait "$METRICS_PID" || rc=$?
check "SIGTERM: the exporter exits 0" test "$rc" -eq 0

check "sluice show $IA endpoints keeps tcp://" \
	sh -c "ip netns exec $A $SLUICE show $IA endpoints | grep -q 'tcp://192.0.2.2:51821'"

finish
