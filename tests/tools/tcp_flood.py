#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A bounded flood of TCP connections, for test_tcp_hostile.sh.

    tcp_flood.py DST4 DST6 PORT SOURCES_FILE PER_SOURCE GARBAGE_EVERY SECONDS MAX_ATTEMPTS

From each source address in SOURCES_FILE (one a line, IPv4 to DST4, IPv6
to DST6), keeps PER_SOURCE connections open to PORT for SECONDS: each says
nothing, except every GARBAGE_EVERY-th, which sends 64 random bytes once it
is connected. A connection the server closes or refuses is opened again
(after 50 ms), until MAX_ATTEMPTS connections were tried in all. At the end
every socket is reset, and one line of figures is printed.
"""
import errno
import os
import resource
import selectors
import socket
import sys
import time


def main():
    dst4, dst6, port, sources_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    per_source, garbage_every = int(sys.argv[5]), int(sys.argv[6])
    seconds, max_attempts = min(float(sys.argv[7]), 60.0), min(int(sys.argv[8]), 100000)
    with open(sources_file) as f:
        sources = [line.strip() for line in f if line.strip()]

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sel = selectors.DefaultSelector()
    stats = dict(attempts=0, connected=0, closed_by_server=0, refused=0, garbage=0, peak_open=0)
    slots = [(src, i) for src in sources for i in range(per_source)]
    pending = [(0.0, n) for n in range(len(slots))]  # (not before, slot) to (re)open
    conns = {}  # socket -> [slot, connected]
    n_open = 0

    def start(n):
        src = slots[n][0]
        six = ":" in src
        s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        stats["attempts"] += 1
        r = s.connect_ex((dst6 if six else dst4, port))
        if r not in (0, errno.EINPROGRESS):
            s.close()
            stats["refused"] += 1
            pending.append((time.monotonic() + 0.05, n))
            return
        conns[s] = [n, False]
        sel.register(s, selectors.EVENT_WRITE)

    def drop(s, again):
        nonlocal n_open
        n, connected = conns.pop(s)
        sel.unregister(s)
        s.close()
        if connected:
            n_open -= 1
        if again:
            pending.append((time.monotonic() + 0.05, n))

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        now = time.monotonic()
        later = []
        for t, n in pending:
            if t <= now and stats["attempts"] < max_attempts:
                start(n)
            else:
                later.append((t, n))
        pending[:] = later
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            n, connected = conns[s]
            if not connected:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    stats["refused"] += 1
                    drop(s, True)
                    continue
                conns[s][1] = True
                n_open += 1
                stats["connected"] += 1
                stats["peak_open"] = max(stats["peak_open"], n_open)
                sel.modify(s, selectors.EVENT_READ)
                if garbage_every and n % garbage_every == 0:
                    try:
                        s.send(os.urandom(64))
                        stats["garbage"] += 1
                    except OSError:
                        pass
                continue
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                stats["closed_by_server"] += 1
                drop(s, True)

    for s in list(conns):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        drop(s, False)
    print("flood: " + " ".join("%s=%d" % kv for kv in stats.items()), flush=True)


if __name__ == "__main__":
    main()
