#!/usr/bin/env bash
# The daemon's side of the systemd unit (Type=notify): `sluice up -f`, with
# NOTIFY_SOCKET naming a datagram socket that stands in for systemd, says
# READY=1 only once its interface has its address and its control socket
# exists, then STOPPING=1 and exit 0 on SIGTERM, as `systemctl stop` does.
# Runs in a network namespace of its own (unshare -n): nothing touches the
# machine's network. Needs root and /dev/net/tun: exit 77 (skip; a failure
# with CI=true) without them.
set -u
cd "$(dirname "$0")/../.." || exit 1
SLUICE=${SLUICE:-$PWD/build/sluice}

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
	echo "needs root and /dev/net/tun"
	exit 77
fi
for tool in nc unshare ip; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)"; exit 1; }
done
[ -x "$SLUICE" ] || { echo "FAIL: $SLUICE is missing: build it first (make)"; exit 1; }

tmp=$(mktemp -d)
listener=""
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; rm -rf "$tmp"' EXIT
umask 077
iface=sn$(printf '%x' $$)
"$SLUICE" genkey >"$tmp/a.key"
peer=$("$SLUICE" genkey | "$SLUICE" pubkey)
cat >"$tmp/$iface.conf" <<EOF
[Interface]
PrivateKey = $(cat "$tmp/a.key")
Address = 198.18.77.1/24

[Peer]
PublicKey = $peer
AllowedIPs = 198.18.77.2/32
EOF

# The stand-in for systemd: every datagram on $tmp/notify, in order, to a file.
nc -U -u -l -k "$tmp/notify" >"$tmp/received" 2>"$tmp/nc.log" &
listener=$!
for _ in $(seq 50); do [ -S "$tmp/notify" ] && break; sleep 0.1; done

export SLUICE UAPI_DIR="$tmp/run" NOTIFY="$tmp/notify" CONF="$tmp/$iface.conf" RECEIVED="$tmp/received" IFACE=$iface
# shellcheck disable=SC2016 # the inner shell expands them
unshare -n bash -c '
	fail() { echo "FAIL: $*"; exit 1; }
	pid=""
	trap '\''[ -n "$pid" ] && kill "$pid" 2>/dev/null'\'' EXIT
	ip link set lo up
	SLUICE_UAPI_DIR=$UAPI_DIR NOTIFY_SOCKET=$NOTIFY "$SLUICE" up -f "$CONF" 2>"$UAPI_DIR.log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q READY=1 "$RECEIVED" && break
		kill -0 $pid 2>/dev/null || fail "sluice exited before READY=1: $(cat "$UAPI_DIR.log")"
		sleep 0.1
	done
	grep -q READY=1 "$RECEIVED" || fail "no READY=1 within 10 s"
	# By then the interface is up, with its address, and answers.
	ip -br addr show dev "$IFACE" | grep -q "198.18.77.1/24" || fail "READY=1 came before the address: $(ip -br addr)"
	[ -S "$UAPI_DIR/$IFACE.sock" ] || fail "READY=1 came before the control socket"
	SLUICE_UAPI_DIR=$UAPI_DIR "$SLUICE" show "$IFACE" >/dev/null || fail "sluice show $IFACE failed after READY=1"
	echo "READY=1 with $IFACE up, addressed and answering"
	kill -TERM $pid
	wait $pid
	rc=$?
	pid=""
	[ $rc -eq 0 ] || fail "sluice exited $rc on SIGTERM: $(cat "$UAPI_DIR.log")"
	ip link show dev "$IFACE" >/dev/null 2>&1 && fail "$IFACE is still there after SIGTERM"
	[ -e "$UAPI_DIR/$IFACE.sock" ] && fail "the control socket is still there after SIGTERM"
	echo "SIGTERM: exit 0, $IFACE and its control socket gone"
	exit 0
' || exit 1

for _ in $(seq 20); do grep -q STOPPING=1 "$tmp/received" && break; sleep 0.1; done
got=$(cat "$tmp/received")
if [ "$got" != "READY=1STOPPING=1" ]; then
	echo "FAIL: the service manager heard '$got', not READY=1 then STOPPING=1"
	exit 1
fi
echo "the service manager heard READY=1, then STOPPING=1, and nothing else"
