/* SPDX-License-Identifier: MIT */
/*
 * A device's packet pumps, between the TUN (or TAP), the sockets and the
 * engine: the loop's reads of the TUN and the UDP socket, in batches from
 * the engine's pool (with offloads: super-packets split, GRO runs whole),
 * and the engine's send hooks, which hand each packet to the transport its
 * endpoint names and give the buffers back. device.c owns the loop and the
 * set-up; nothing here allocates.
 */
#ifndef SLUICE_DEVICE_IO_H
#define SLUICE_DEVICE_IO_H

#include <stdint.h>

#include "device.h"

/* The data path's sizes (fwdbare, make bench's bare forwarder, uses them
 * too): buffers in a device's pool, and super-packets read from the TUN
 * per event (its backlog is drained in a few turns, the sockets get theirs
 * in between). */
#define DEVICE_POOL_BUFFERS 4096
#define TUN_READS_PER_TURN 8

/* The engine's hooks (struct core_hooks): ctx is the device. */
void device_send_net(void *ctx, struct pkt **pkts, int n);
void device_send_tun(void *ctx, struct pkt **pkts, int n);
/* The TUN or the UDP socket is readable. */
void device_read_tun(struct device *d, uint64_t now);
void device_read_udp(struct device *d, uint64_t now);

#endif
