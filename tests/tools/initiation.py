#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Captures a WireGuard handshake initiation off a link, and sends one again.

  initiation.py capture IFACE PORT OUT SECONDS
      the first UDP datagram to PORT on IFACE that is an initiation (type 1,
      148 bytes) is written to OUT, with its source "ADDR PORT" to OUT.src;
      OUT.ready appears once it listens; exits 1 if none came within SECONDS
  initiation.py send FILE SRC_ADDR SRC_PORT DST_ADDR DST_PORT
      sends FILE's bytes as one datagram from SRC_ADDR:SRC_PORT

Run it inside the test's namespaces (ip netns exec); IPv4 only.
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
INITIATION_LEN = 148


def capture(iface, port, out, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    open(out + ".ready", "w").close()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame, meta = s.recvfrom(65535)
        except socket.timeout:
            continue
        if meta[2] == socket.PACKET_OUTGOING or len(frame) < 14 + 20 + 8:
            continue
        if struct.unpack("!H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        sport, dport = struct.unpack("!HH", udp[:4])
        payload = udp[8:]
        if dport != port or len(payload) != INITIATION_LEN or payload[0] != 1:
            continue
        with open(out, "wb") as f:
            f.write(payload)
        with open(out + ".src", "w") as f:
            f.write("%s %d\n" % (socket.inet_ntoa(ip[12:16]), sport))
        return 0
    print("no initiation to port %d on %s within %s s" % (port, iface, seconds), file=sys.stderr)
    return 1


def send(path, src, sport, dst, dport):
    with open(path, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    s.sendto(data, (dst, dport))
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "capture":
        return capture(argv[2], int(argv[3]), argv[4], float(argv[5]))
    if len(argv) == 7 and argv[1] == "send":
        return send(argv[2], argv[3], int(argv[4]), argv[5], int(argv[6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
