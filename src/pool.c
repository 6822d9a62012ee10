// SPDX-License-Identifier: MIT
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pool_init(struct pool *p, size_t count, size_t buf_size)
{
	memset(p, 0, sizeof(*p));
	/* Keep every buffer 64-byte aligned for the AEAD's sake. */
	p->stride = (sizeof(struct pkt) + buf_size + 63) & ~(size_t)63;
	if (posix_memalign((void **)&p->mem, 64, p->stride * count))
		return -ENOMEM;
	for (size_t i = count; i-- > 0;) {
		struct pkt *k = (struct pkt *)(p->mem + i * p->stride);
		k->cap = (uint32_t)(p->stride - sizeof(struct pkt));
		k->next = p->free;
		p->free = k;
	}
	p->count = p->available = count;
	return 0;
}

void pool_destroy(struct pool *p)
{
	free(p->mem);
	memset(p, 0, sizeof(*p));
}

struct pkt *pool_get(struct pool *p)
{
	struct pkt *k = p->free;
	if (!k)
		return NULL;
	p->free = k->next;
	p->available--;
	k->next = NULL;
	k->data = k->buf + PKT_HEADROOM;
	k->len = 0;
	k->peer = NULL;
	k->send_failed = false;
	k->src_stale = false;
	k->ep.addr.sa.sa_family = AF_UNSPEC;
	k->ep.has_src = false;
	return k;
}

void pool_put(struct pool *p, struct pkt *k)
{
	k->next = p->free;
	p->free = k;
	p->available++;
}

void pkt_queue_push(struct pkt_queue *q, struct pkt *k)
{
	k->next = NULL;
	if (q->tail)
		q->tail->next = k;
	else
		q->head = k;
	q->tail = k;
	q->len++;
}

struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *k = q->head;
	if (!k)
		return NULL;
	q->head = k->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	k->next = NULL;
	return k;
}
