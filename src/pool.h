/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers, all made at start-up. The packet path takes and returns
 * buffers here and never calls malloc.
 *
 * Two sizes: many normal buffers, for packets of an Ethernet-sized MTU, all
 * made at start; and a few large ones, for packets up to 64 KiB (an MTU of
 * 9000 or 34736, as WireGuard allows), whose memory is only reserved at
 * start and used a buffer at a time as packets need them, so that a large
 * MTU costs memory only once it is used and a normal one costs nothing.
 * The MTU may change at any time: pool_get_len picks by the packet's
 * length, pool_get by the size pool_set_default_len last set.
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
/* Room behind a packet for its padding to 16 bytes and the AEAD tag. */
#define PKT_TAILROOM 32

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

/* One size of buffers in one block of memory; large ones are carved from
 * it in order as they are first needed. */
struct pool_class {
	uint8_t *mem;
	struct pkt *free;
	size_t stride;   /* bytes per buffer, struct pkt included */
	size_t reserved; /* buffers the block has room for */
	size_t carved;   /* buffers made so far */
	bool mapped;     /* mem is an mmap'ed reservation */
};

struct pool {
	struct pool_class normal, large;
	size_t count;       /* buffers made, of both sizes */
	size_t available;   /* of them, free */
	size_t default_len; /* what pool_get's buffers carry */
};

/* count normal buffers of buf_size bytes each (headroom included), all made
 * now. 0 or -ENOMEM. */
int pool_init(struct pool *p, size_t count, size_t buf_size);
/* Reserves room for count large buffers of buf_size bytes each, made as
 * needed. 0 or -ENOMEM. */
int pool_reserve_large(struct pool *p, size_t count, size_t buf_size);
/* Wipes every buffer made (they may hold plaintext) and frees them. */
void pool_destroy(struct pool *p);
/* The longest packet a buffer of p can carry (PKT_TAILROOM left behind it). */
size_t pool_max_len(const struct pool *p);
/* What pool_get's buffers carry from now on (an MTU-sized packet, or a
 * datagram from a peer with that MTU): at most pool_max_len. */
void pool_set_default_len(struct pool *p, size_t len);
/* A buffer that carries a packet of len bytes plus PKT_TAILROOM behind it:
 * a normal one if it fits (a large one when none is left), else a large
 * one. NULL when there is none (the caller drops and counts).
 * data = buf + PKT_HEADROOM. */
struct pkt *pool_get_len(struct pool *p, size_t len);
/* pool_get_len for the default length, where the length is not known
 * before reading into the buffer. */
struct pkt *pool_get(struct pool *p);
void pool_put(struct pool *p, struct pkt *k);
/* The bytes from k->data to the end of its buffer. */
static inline size_t pkt_room(const struct pkt *k)
{
	return k->cap - (size_t)(k->data - k->buf);
}

/* What a reader hands its packets on to, a batch at a time: n packets,
 * the callee's from then on (it sends them, or returns them to the pool). */
typedef void (*pkt_batch_fn)(void *ctx, struct pkt **pkts, int n);

/* A FIFO of packets linked through pkt->next. */
struct pkt_queue {
	struct pkt *head, *tail;
	uint32_t len;
};
void pkt_queue_push(struct pkt_queue *q, struct pkt *k);
struct pkt *pkt_queue_pop(struct pkt_queue *q);

#endif
