/* SPDX-License-Identifier: MIT */
/*
 * The UDP transport: one dual-stack socket (IPv6 with IPV6_V6ONLY off),
 * non-blocking, batched with recvmmsg/sendmmsg. IPv4-mapped source addresses
 * are reported as AF_INET endpoints, and AF_INET destinations are mapped.
 */
#ifndef SLUICE_UDP_H
#define SLUICE_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "pool.h"

/* Opens and binds the socket on *port (0 picks a free one; *port receives
 * the bound port). fwmark 0 = none. Returns the fd or -errno. */
int udp_open(uint16_t *port, uint32_t fwmark);
int udp_set_fwmark(int fd, uint32_t fwmark);
/* Receives up to n datagrams into pkts[i]->data (room: pkts[i]->cap -
 * PKT_HEADROOM), setting len and ep. Returns how many (0 when none is
 * waiting) or -errno. */
int udp_recv_batch(int fd, struct pkt **pkts, int n);
/* Sends pkts[i]->data/len to pkts[i]->ep. Returns how many were dealt with
 * (a full socket buffer stops the batch early) or -errno; a datagram the
 * kernel refused on its own (unreachable, too big) counts as dealt with and
 * gets send_failed set. With o->gso, each run of datagrams to one endpoint
 * of one size (the last of a run may be shorter) leaves in one sendmsg with
 * UDP_SEGMENT: the kernel cuts it, once per run instead of once per
 * datagram. o may be NULL (no offloads). */
struct udp_offloads;
int udp_send_batch(int fd, struct udp_offloads *o, struct pkt *const *pkts, int n);

/* udp_send_batch until all n are dealt with or a call sends none (the
 * socket buffer is full): those left get send_failed set. Returns how many
 * were left. */
int udp_send_all(int fd, struct udp_offloads *o, struct pkt *const *pkts, int n);

/* ---- segmentation offloads (UDP GSO and GRO) ---- */

#define UDP_GRO_BUFS 8
#define UDP_GRO_BUF_LEN 65536
#define UDP_MAX_SEGMENTS 64 /* the kernel's limit per GSO send (UDP_MAX_SEGMENTS) */

/* What the kernel does for us on a socket, found by udp_offloads_enable.
 * A send that the kernel refuses for GSO's sake (EIO: the route's device
 * cannot checksum) turns gso off for good and is retried plainly. */
struct udp_offloads {
	bool gso;              /* UDP_SEGMENT on send */
	uint32_t gso_max_size; /* runs of longer datagrams are sent plainly (0: no limit) */
	bool gro;              /* UDP_GRO on receive: reads return runs of datagrams */
	uint8_t *gro_mem;      /* UDP_GRO_BUFS receive buffers of UDP_GRO_BUF_LEN */
	/* How the datagrams of the last udp_recv_gro came: run_len[i] of
	 * them (those kept) in the i-th of n_runs runs. A run is what one GSO
	 * send made, usually the segments of one super-packet. */
	int run_len[UDP_GRO_BUFS];
	int n_runs;
};

/* Turns GRO on and probes GSO for fd (each off with SLUICE_NO_UDP_GSO /
 * SLUICE_NO_UDP_GRO set, for tests of the plain path). Allocates the
 * receive buffers for GRO; 0 or -ENOMEM (the offloads are then off). */
int udp_offloads_enable(int fd, struct udp_offloads *o);
void udp_offloads_free(struct udp_offloads *o);
/* As udp_recv_batch, for a socket with o->gro: reads up to UDP_GRO_BUFS
 * runs and cuts each into datagrams, copied into buffers from pool, at most
 * max of them (what does not fit is dropped and counted in *dropped).
 * Returns how many datagrams are in out, or -errno. */
int udp_recv_gro(int fd, struct udp_offloads *o, struct pool *pool, struct pkt **out, int max, uint64_t *dropped);

/* Hands the got datagrams of the last udp_recv_gro (in pkts) to fn in
 * batches of at most batch: whole runs per batch, as many as fit, a run
 * longer than batch in pieces of batch. A run is usually one super-packet
 * of the peer's, and whatever ends each batch (the TUN write) then carries
 * it whole, instead of in two pieces. */
void udp_gro_deliver(const struct udp_offloads *o, struct pkt **pkts, int got, int batch, pkt_batch_fn fn, void *ctx);

#endif
