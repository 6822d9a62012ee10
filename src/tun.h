/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: IFF_TUN | IFF_NO_PI, non-blocking; optionally with
 * IFF_VNET_HDR and offloads (see offload.h).
 */
#ifndef SLUICE_TUN_H
#define SLUICE_TUN_H

#include <net/if.h>
#include <stdbool.h>

#include "pool.h"

/* Creates (or attaches to) the TUN named `name` (at most IFNAMSIZ - 1
 * characters). Returns the fd, or -errno; *ifindex receives its index. */
int tun_open(const char *name, int *ifindex);
/* The same with IFF_VNET_HDR and the TSO offloads (TUN_F_CSUM, TSO4, TSO6,
 * TSO_ECN), plus USO4/USO6 where the kernel has them (*uso says so): every
 * read and write then carries a struct virtio_net_hdr, and reads may be
 * super-packets of up to 64 KiB. offload.h says how to read and write
 * such a TUN. Returns the fd or -errno (TUNSETOFFLOAD's, if refused). */
int tun_open_offload(const char *name, int *ifindex, bool *uso);
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
