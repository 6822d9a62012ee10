/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: IFF_TUN | IFF_NO_PI, non-blocking.
 */
#ifndef SLUICE_TUN_H
#define SLUICE_TUN_H

#include <net/if.h>

#include "pool.h"

/* Creates (or attaches to) the TUN named `name` (at most IFNAMSIZ - 1
 * characters). Returns the fd, or -errno; *ifindex receives its index. */
int tun_open(const char *name, int *ifindex);
/* True while an interface of that index still exists (used to notice that
 * someone deleted our TUN). */
int tun_exists(int ifindex);
/* Where the TUN behind fd is, judged from the descriptor itself (never by
 * name or index, which another interface may have taken): deleted, in this
 * process's network namespace, or moved to another one (`ip link set IFACE
 * netns NS`, as WireGuard's users do to keep the socket outside). */
enum tun_state { TUN_GONE, TUN_HERE, TUN_ELSEWHERE };
enum tun_state tun_state(int fd);
/* Reads up to n packets (one read() each) into pkts[i]->data, setting len.
 * Returns how many (0 when none is waiting) or -errno. */
int tun_read_batch(int fd, struct pkt **pkts, int n);
/* Writes one IP packet. Returns 0 or -errno (-EAGAIN when the queue is full). */
int tun_write(int fd, const struct pkt *k);

#endif
