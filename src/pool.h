/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers, all made at start-up. The packet path takes and returns
 * buffers here and never calls malloc.
 */
#ifndef SLUICE_POOL_H
#define SLUICE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* Room in front of a packet for the data message header and a transport
 * frame prefix, so encryption works in place. */
#define PKT_HEADROOM 32

struct pkt {
	struct pkt *next;                           /* free list, or a queue the owner keeps */
	uint8_t *data;                              /* first valid byte, inside buf */
	uint32_t len;                               /* valid bytes */
	uint32_t cap;                               /* bytes from buf to the end of the buffer */
	struct endpoint ep;                         /* where it came from / goes to */
	void *peer;                                 /* set by the core while it routes the packet */
	bool send_failed;                           /* set by the transport that could not send it */
	bool src_stale;                             /* ep's sticky source is no longer ours: sent without it */
	uint8_t buf[] __attribute__((aligned(16))); /* headers inside are read in place */
};

struct pool {
	uint8_t *mem;
	struct pkt *free;
	size_t count, stride, available;
};

/* count buffers of buf_size bytes each (headroom included). 0 or -ENOMEM. */
int pool_init(struct pool *p, size_t count, size_t buf_size);
void pool_destroy(struct pool *p);
/* NULL when empty (the caller drops and counts). data = buf + PKT_HEADROOM. */
struct pkt *pool_get(struct pool *p);
void pool_put(struct pool *p, struct pkt *k);

/* A FIFO of packets linked through pkt->next. */
struct pkt_queue {
	struct pkt *head, *tail;
	uint32_t len;
};
void pkt_queue_push(struct pkt_queue *q, struct pkt *k);
struct pkt *pkt_queue_pop(struct pkt_queue *q);

#endif
