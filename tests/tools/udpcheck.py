#!/usr/bin/env python3
"""UDP through the tunnel, checked datagram by datagram.

  udpcheck.py recv ADDR PORT COUNT SECONDS  -> prints "received N intact M"
  udpcheck.py send ADDR PORT COUNT SIZE [gso]

Each datagram carries its sequence number and a payload derived from it, so
the receiver checks every byte. With "gso" the sender uses UDP_SEGMENT (48
datagrams per send), so the kernel hands the tunnel UDP super-packets (USO).
Bounded: the receiver stops after SECONDS or COUNT datagrams.
"""
import socket
import struct
import sys
import time

UDP_SEGMENT = 103


def payload(seq, size):
    head = struct.pack("!I", seq)
    body = bytes((seq * 7 + i) & 0xFF for i in range(size - 4))
    return head + body


def recv(addr, port, count, seconds):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    s.settimeout(0.5)
    seen, intact = set(), 0
    deadline = time.time() + seconds
    while len(seen) < count and time.time() < deadline:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        if len(data) < 4:
            continue
        seq = struct.unpack("!I", data[:4])[0]
        if seq in seen:
            continue
        seen.add(seq)
        if data == payload(seq, len(data)):
            intact += 1
    print(f"received {len(seen)} intact {intact}")


def send(addr, port, count, size, gso):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((addr, port))
    batch = 48 if gso else 1  # 48 x 1200 fits one 64 KiB send
    for first in range(0, count, batch):
        seqs = range(first, min(first + batch, count))
        if gso:
            buf = b"".join(payload(q, size) for q in seqs)
            s.sendmsg([buf], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", size))])
        else:
            s.send(payload(first, size))
        time.sleep(0.002)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), len(sys.argv) > 6)
