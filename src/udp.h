/* SPDX-License-Identifier: MIT */
/*
 * The UDP transport: one dual-stack socket (IPv6 with IPV6_V6ONLY off),
 * non-blocking, batched with recvmmsg/sendmmsg. IPv4-mapped source addresses
 * are reported as AF_INET endpoints, and AF_INET destinations are mapped.
 */
#ifndef SLUICE_UDP_H
#define SLUICE_UDP_H

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
 * gets send_failed set. */
int udp_send_batch(int fd, struct pkt *const *pkts, int n);

#endif
