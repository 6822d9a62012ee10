#!/usr/bin/env python3
"""Ethernet frames of our own EtherType, sent and checked byte by byte.

  rawframe.py recv IFACE ETHERTYPE COUNT SECONDS
      -> prints "ready" once it listens, then "received N intact M" (M:
         frames whose payload is exactly what send made, length included)
  rawframe.py send IFACE ETHERTYPE COUNT SIZE [DST_MAC [SRC_MAC]]
      (DST_MAC defaults to broadcast, SRC_MAC to the interface's own)

Frame i carries a 4-byte sequence number, a 2-byte length and SIZE bytes
derived from both: nothing but the sender could make them, and a frame
that arrives padded or cut is not intact. Bounded by COUNT and SECONDS.
"""
import socket
import struct
import sys
import time


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.replace("-", ":").split(":"))


def payload(seq, size):
    body = bytes((seq * 13 + i * 7) & 0xFF for i in range(size))
    return struct.pack("!IH", seq, size) + body


def recv(iface, ethertype, count, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
    s.bind((iface, ethertype))
    s.settimeout(0.2)
    print("ready", flush=True)
    got = intact = 0
    end = time.monotonic() + seconds
    while got < count and time.monotonic() < end:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        data = frame[14:]
        got += 1
        if len(data) >= 6:
            seq, size = struct.unpack("!IH", data[:6])
            if data == payload(seq, size):
                intact += 1
    print(f"received {got} intact {intact}")


def send(iface, ethertype, count, size, dst, src):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if src is None:
        src = s.getsockname()[4][:6]
    for seq in range(count):
        s.send(dst + src + struct.pack("!H", ethertype) + payload(seq, size))
        time.sleep(0.01)


def main(argv):
    if len(argv) >= 6 and argv[1] == "recv":
        recv(argv[2], int(argv[3], 0), int(argv[4]), float(argv[5]))
    elif len(argv) >= 6 and argv[1] == "send":
        dst = mac_bytes(argv[6]) if len(argv) > 6 else b"\xff" * 6
        src = mac_bytes(argv[7]) if len(argv) > 7 else None
        send(argv[2], int(argv[3], 0), int(argv[4]), int(argv[5]), dst, src)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
