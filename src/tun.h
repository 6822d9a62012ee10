/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: IFF_TUN | IFF_NO_PI, non-blocking; optionally with
 * IFF_VNET_HDR and offloads (see offload.h).
 */
#ifndef SLUICE_TUN_H
#define SLUICE_TUN_H

#include <net/if.h>
#include <stdbool.h>

#include "messages.h"
#include "offload.h"
#include "pool.h"

/* Creates (or attaches to) the TUN named `name` (at most IFNAMSIZ - 1
 * characters). Returns the fd, or -errno; *ifindex receives its index. */
int tun_open(const char *name, int *ifindex);
/* A TAP (IFF_TAP | IFF_NO_PI): Ethernet frames, one per read and write
 * (no offloads). Returns the fd or -errno. */
int tun_open_tap(const char *name, int *ifindex);
/* The same with IFF_VNET_HDR and the TSO offloads: reads may be Ethernet
 * super-frames (an Ethernet header, then an IPv4 or IPv6 super-packet),
 * which tun_vnet_read cuts into frames; writes are one frame each
 * (tun_vnet_write_frames). Returns the fd or -errno. */
int tun_open_tap_offload(const char *name, int *ifindex);
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

/* ---- a TUN with IFF_VNET_HDR (tun_open_offload) ---- */

/* What the data path keeps for such a TUN: the buffer one read of a
 * super-packet needs, the split of the last one read (so that a caller
 * with less room than its segments takes the rest next time), and the
 * coalescer of writes. About 78 KiB, made once. */
struct tun_vnet {
	uint8_t *rbuf;              /* OFFLOAD_READ_SIZE bytes */
	struct offload_split split; /* segments of rbuf still to hand out */
	struct offload_gro gro;
	bool uso;           /* the TUN took USO: UDP is coalesced too */
	uint64_t malformed; /* reads the split refused */
	/* A TAP's: the Ethernet header of the super-frame being cut, put in
	 * front of each of its segments (split_l2 bytes: 0 for a frame the
	 * kernel left whole, which is handed on as it is). */
	bool tap;
	uint8_t split_l2;
	uint8_t l2_hdr[ETHERNET_HEADER_LEN];
};

/* tap: the descriptor is tun_open_tap_offload's. */
int tun_vnet_init(struct tun_vnet *v, bool uso, bool tap);
void tun_vnet_free(struct tun_vnet *v);
/* Reads super-packets and cuts them into packets, each in a buffer from
 * pool (picked by its length, PKT_TAILROOM left behind it) at pkt->data,
 * until max packets are in out (the free slots of a batch of batch), the
 * TUN has nothing more, or reads super-packets have been read. A
 * super-packet whose segments do not fit in what is left of the batch but
 * would fit an empty one is left whole (offload_split_remaining says so):
 * the caller hands out its batch, and the next call starts with it. What a
 * full pool leaves behind is counted in *dropped. Returns the number of
 * packets in out, or -errno of a read that failed (-EBADFD, -EIO: the
 * TUN is gone) when nothing was read. */
int tun_vnet_read(int fd, struct tun_vnet *v, struct pool *pool, struct pkt **out, int max, int batch, int reads,
		  uint64_t *dropped);
/* One turn of reading such a TUN (or TAP): up to reads super-packets, cut
 * by tun_vnet_read into batches of at most batch packets in pkts (room for
 * batch), each handed to fn as soon as it is full or a super-packet waits
 * whole for the next one. Small packets of several reads (an ACK stream)
 * share one batch; segments a batch had no room for are handed out before
 * returning, since no event of the TUN comes back for them. Returns 0, or
 * -EBADFD, -EIO or -ENXIO when the TUN is gone (what was read before is
 * handed on first). */
int tun_vnet_read_turn(int fd, struct tun_vnet *v, struct pool *pool, struct pkt **pkts, int batch, int reads,
		       pkt_batch_fn fn, void *ctx, uint64_t *dropped);
/* A TAP's writes: the IP packets of a run of frames with one Ethernet
 * header coalesced as tun_vnet_write does, each write with that header in
 * front; any other frame whole, behind a virtio_net_hdr that asks for
 * nothing. The frames stay the caller's. Returns how many failed. */
int tun_vnet_write_frames(int fd, struct tun_vnet *v, struct pkt *const *pkts, int n);
/* Writes decrypted packets, coalesced into as few super-packets as their
 * flows allow, one writev each. The packets stay the caller's (it returns
 * them to the pool after). Returns how many writes failed. */
int tun_vnet_write(int fd, struct tun_vnet *v, struct pkt *const *pkts, int n);

#endif
