#!/usr/bin/env bash
# A daemon killed with SIGKILL and started again is back at once, and an old
# initiation replayed at it is refused: each peer's last endpoint and the
# latest initiation timestamp accepted from it live in a state file
# ($SLUICE_STATE_DIR/IFACE/state, mode 0600) that survives the restart.
#
#   - without the file (SaveState = false) a restarted server knows no
#     endpoint for its client, and waits for the client's next handshake
#     (15 s after the client sends on its old session: the figure is printed);
#   - with it, the restarted server initiates at once: pings both ways
#     answered within a few seconds (the time is printed);
#   - a client killed and started again is back as quickly;
#   - so is a server in the wg-quick form, whose peers come over the control
#     socket after it started;
#   - an initiation captured off the link and replayed after the server's
#     restart is refused (dropped as handshake_replay) and the client's
#     endpoint does not move; without the file the same replay moves it (the
#     attack this prevents);
#   - a corrupt or oversized file is named, with its line, in a warning, and
#     the daemon starts without it;
#   - over TCP, a restarted server is reached again as soon as the client
#     redials.
# keypair, ns_new and ifname set variables by name; shellcheck can't see it.
# shellcheck disable=SC2154,SC2317
# shellcheck source=tests/netns/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
[ "$SLUICE_IMPL" = wggo ] && cannot_run "tests sluice's state file"
command -v python3 >/dev/null || cannot_run "python3 not installed (run scripts/deps.sh)"
test_init
TOOL="$ROOT/tests/tools/initiation.py"

ns_new S srv
ns_new C cli
veth "$S" us "$C" uc
addr "$S" us 192.0.2.1/24
addr "$C" uc 192.0.2.2/24
addr "$C" uc 192.0.2.3/24 # the attacker's address
keypair KS
keypair KC
ifname IS s
ifname IC c

server_conf() { # server_conf EXTRA_INTERFACE_LINE TRANSPORT
	cat <<EOT
[Interface]
PrivateKey = $KS_priv
ListenPort = 51820
Address = 198.18.0.1/24
$1
[Peer]
PublicKey = $KC_pub
AllowedIPs = 198.18.0.2/32
EOT
}
CS=$(server_conf "" | conf_write "$IS")
mkdir -m 700 "$TMPD/nostate"
CS_NOSTATE="$TMPD/nostate/$IS.conf"
server_conf "SaveState = false" >"$CS_NOSTATE"
chmod 600 "$CS_NOSTATE"
CC=$(conf_write "$IC" <<EOF
[Interface]
PrivateKey = $KC_priv
ListenPort = 51821
Address = 198.18.0.2/24
[Peer]
PublicKey = $KS_pub
AllowedIPs = 198.18.0.1/32
Endpoint = 192.0.2.1:51820
EOF
)
STATE="$SLUICE_STATE_DIR/$IS/state"

# first_reply NS DST SECONDS: polls with single pings until one is answered;
# prints the milliseconds it took, fails if none was within SECONDS.
first_reply() {
	local t0 deadline=$((SECONDS + $3))
	t0=$(date +%s%N)
	until ip netns exec "$1" ping -n -c 1 -W 1 "$2" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && { echo "no reply from $2 within $3 s"; return 1; }
		sleep 0.05
	done
	echo "$((($(date +%s%N) - t0) / 1000000))"
}
# back_within NS DST SECONDS WHAT: first_reply as a check, with the figure.
back_within() {
	local ms
	ms=$(first_reply "$1" "$2" "$3") || { echo "$ms"; return 1; }
	echo "$4: first reply after $ms ms" | tee -a "$TMPD/figures"
}
replays() { sluice_cli "$S" show --json "$IS" | jq -r '.dropped.handshake_replay // empty'; }
replays_above() { local v; v=$(replays); echo "handshake_replay = ${v:-(absent)} (was $1)"; [ -n "$v" ] && [ "$v" -gt "$1" ]; }
client_endpoint() { ip netns exec "$S" wg show "$IS" endpoints | awk -v k="$KC_pub" '$1 == k { print $2 }'; }
endpoint_is() { local e; e=$(client_endpoint); echo "endpoint: $e (want $1)"; [ "$e" = "$1" ]; }
# state_line: the client's line of the server's state file.
state_line() { grep -F "peer $KC_pub " "$STATE"; }
kill9() { kill -KILL "$1"; wait "$1" 2>/dev/null || true; }

section "a handshake is kept in the server's state file"
start_sluice "$S" "$CS"
PS=$LAST_PID
start_sluice "$C" "$CC"
PC=$LAST_PID
check "the tunnel works" ping_ok "$C" 198.18.0.1
check "within a second the state file holds the client's endpoint" \
	wait_until 3 sh -c "grep -F 'peer $KC_pub ' '$STATE' | grep -q ' 192.0.2.2:51821\$'"
check "the state file is mode 0600" test "$(stat -c %a "$STATE")" = 600
check "its directory is mode 0700" test "$(stat -c %a "$SLUICE_STATE_DIR/$IS")" = 700
info "$(state_line)"

section "without the state file (SaveState = false): the figure to beat"
kill9 "$PS"
start_sluice "$S" "$CS_NOSTATE"
PS=$LAST_PID
check "server to client: nothing (the server knows no endpoint)" ping_fails "$S" 198.18.0.2
# The client sends on its old session, unanswered, until it gives up on it
# (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) and initiates.
if ms=$(first_reply "$C" 198.18.0.1 25); then
	info "client to server: first reply $ms ms after the restart (the client's next handshake)"
	echo "without the state file, client to server: first reply after $ms ms" >>"$TMPD/figures"
else
	info "client to server: $ms"
fi
check "the state file was left alone" state_line

section "kill -9 of the server, started again with its state file"
kill9 "$PS"
start_sluice "$S" "$CS"
PS=$LAST_PID
check "server to client answered within 3 s" back_within "$S" 198.18.0.2 3 "server restarted, server to client"
check "client to server answered within 3 s" back_within "$C" 198.18.0.1 3 "server restarted, client to server"
check "the log says it initiated to the known endpoint" \
	grep -q "known from before the restart: initiating to 192.0.2.2:51821" "$TMPD/$IS.log"

section "kill -9 of the client, started again (its initiation is captured)"
before=$(state_line)
ip netns exec "$S" python3 "$TOOL" capture us 51820 "$TMPD/init.bin" 15 &
CAP=$!
PIDS+=("$CAP")
check "the capture listens" wait_until 5 test -e "$TMPD/init.bin.ready"
kill9 "$PC"
start_sluice "$C" "$CC"
PC=$LAST_PID
check "client to server answered within 3 s" back_within "$C" 198.18.0.1 3 "client restarted, client to server"
check "server to client answered within 3 s" back_within "$S" 198.18.0.2 3 "client restarted, server to client"
wait "$CAP" && cap=0 || cap=$?
check "an initiation from the client was captured" test "$cap" = 0 -a -s "$TMPD/init.bin"
check "the server saved the newer timestamp" wait_until 3 sh -c "! grep -qxF '$before' '$STATE'"
info "captured from $(cat "$TMPD/init.bin.src" 2>/dev/null)"

section "the captured initiation replayed after a restart of the server"
kill9 "$PS"
start_sluice "$S" "$CS"
PS=$LAST_PID
check "the server is back with the client" back_within "$S" 198.18.0.2 3 "server restarted again, server to client"
replay0=$(replays)
ip netns exec "$C" python3 "$TOOL" send "$TMPD/init.bin" 192.0.2.3 40000 192.0.2.1 51820
check "the replay is refused and counted (handshake_replay)" wait_until 3 replays_above "${replay0:-0}"
check "the log says so (-v)" grep -q "replayed timestamp" "$TMPD/$IS.log"
sleep 0.5
check "the client's endpoint did not move" endpoint_is 192.0.2.2:51821
check "the tunnel still works" ping_ok "$S" 198.18.0.2

section "the same replay without the state file moves the endpoint (what it prevents)"
kill9 "$PS"
start_sluice "$S" "$CS_NOSTATE"
PS=$LAST_PID
ip netns exec "$C" python3 "$TOOL" send "$TMPD/init.bin" 192.0.2.3 40000 192.0.2.1 51820
check "accepted: the endpoint moved to the attacker" wait_until 3 endpoint_is 192.0.2.3:40000
check "SIGTERM: the daemon exits" stop_pid "$PS"

section "the wg-quick form: peers given over the control socket after start get their state"
ip netns exec "$S" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=debug "$SLUICE" "$IS" >"$TMPD/$IS.wgq.log" 2>&1 </dev/null &
PS=$!
PIDS+=("$PS")
DAEMONS+=("$S $IS $PS $TMPD/$IS.wgq.log sluice")
check "sluice $IS is up" wait_until 10 test -S "$WG_RUN/$IS.sock"
wg_quick_apply "$S" "$CS"
check "server to client answered within 3 s" back_within "$S" 198.18.0.2 3 "wg-quick form, server to client"
check "client to server answered within 3 s" back_within "$C" 198.18.0.1 3 "wg-quick form, client to server"
check "the log says it initiated to the known endpoint" \
	grep -q "known from before the restart: initiating to 192.0.2.2:51821" "$TMPD/$IS.wgq.log"
check "SIGTERM: the daemon exits" stop_pid "$PS"

section "a corrupt or oversized state file: a warning naming it, and the daemon starts"
# Without its state the server cannot reach the client first: the client is
# started after it each time, and its first packet brings the handshake.
check "SIGTERM: the client exits" stop_pid "$PC"
start_sluice "$S" "$CS"
PS=$LAST_PID
check "SIGTERM: the daemon exits (and saves)" stop_pid "$PS"
check "the file is there after a clean shutdown" state_line
printf 'peer not-a-key 00 -\n' >>"$STATE"
start_sluice "$S" "$CS"
PS=$LAST_PID
start_sluice "$C" "$CC"
PC=$LAST_PID
check "the warning names the file and the line" \
	grep -q "$STATE:4: invalid public key.*starting without the saved state" "$TMPD/$IS.log"
check "the tunnel works" ping_ok "$C" 198.18.0.1
check "the file is written anew" wait_until 3 sh -c "grep -qF 'peer $KC_pub ' '$STATE' && ! grep -q not-a-key '$STATE'"
check "SIGTERM: the daemon exits" stop_pid "$PS"
check "SIGTERM: the client exits" stop_pid "$PC"
truncate -s 300M "$STATE"
start_sluice "$S" "$CS"
PS=$LAST_PID
start_sluice "$C" "$CC"
PC=$LAST_PID
check "an oversized file: a warning naming it" grep -q "$STATE: too large; starting without" "$TMPD/$IS.log"
check "the tunnel works" ping_ok "$C" 198.18.0.1
check "SIGTERM: the daemon exits" stop_pid "$PS"
check "SIGTERM: the client exits" stop_pid "$PC"

section "over TCP: kill -9 of the server, started again"
server_conf "Transport = tcp" | conf_write "$IS" >/dev/null
sed -i 's|^Endpoint = .*|Endpoint = tcp://192.0.2.1:51820|' "$CC"
start_sluice "$S" "$CS"
PS=$LAST_PID
start_sluice "$C" "$CC"
PC=$LAST_PID
check "the tunnel works over TCP" ping_ok "$C" 198.18.0.1
sleep 1.2 # the state is saved
kill9 "$PS"
start_sluice "$S" "$CS"
PS=$LAST_PID
check "client to server answered within 8 s (the client redials)" back_within "$C" 198.18.0.1 8 "TCP, server restarted, client to server"
check "server to client answered" back_within "$S" 198.18.0.2 3 "TCP, server restarted, server to client"

section "figures"
while read -r f; do info "$f"; done <"$TMPD/figures"
finish
