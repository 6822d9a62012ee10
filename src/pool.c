// SPDX-License-Identifier: MIT
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "crypto.h"

/* Every buffer 64-byte aligned for the AEAD's sake. */
static size_t stride_for(size_t buf_size)
{
	return (sizeof(struct pkt) + buf_size + 63) & ~(size_t)63;
}

/* Makes the next buffer of the class and puts it on its free list. */
static struct pkt *carve(struct pool *p, struct pool_class *c)
{
	struct pkt *k = (struct pkt *)(c->mem + c->carved++ * c->stride);
	k->cap = (uint32_t)(c->stride - sizeof(struct pkt));
	p->count++;
	p->available++;
	return k;
}

static size_t class_len(const struct pool_class *c)
{
	return c->reserved ? c->stride - sizeof(struct pkt) - PKT_HEADROOM - PKT_TAILROOM : 0;
}

int pool_init(struct pool *p, size_t count, size_t buf_size)
{
	struct pool_class *c = &p->normal;

	memset(p, 0, sizeof(*p));
	c->stride = stride_for(buf_size);
	if (posix_memalign((void **)&c->mem, 64, c->stride * count))
		return -ENOMEM;
	c->reserved = count;
	/* The free list in address order, so the first buffers go out first:
	 * under light traffic the few that pool_put hands back (LIFO) are taken
	 * again, and the working set stays small and warm in the cache. */
	struct pkt **tail = &c->free;
	for (size_t i = 0; i < count; i++) {
		struct pkt *k = carve(p, c);
		*tail = k;
		tail = &k->next;
	}
	*tail = NULL;
	p->default_len = class_len(c);
	return 0;
}

int pool_reserve_large(struct pool *p, size_t count, size_t buf_size)
{
	struct pool_class *c = &p->large;
	size_t stride = stride_for(buf_size);

	if (c->reserved || !count)
		return -EINVAL;
	/* Address space only: a page is memory once a packet touches it. */
	void *m = mmap(NULL, stride * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		       0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	c->mem = m;
	c->mapped = true;
	c->stride = stride;
	c->reserved = count;
	return 0;
}

static void class_destroy(struct pool_class *c)
{
	if (!c->mem)
		return;
	crypto_wipe(c->mem, c->carved * c->stride);
	if (c->mapped)
		munmap(c->mem, c->reserved * c->stride);
	else
		free(c->mem);
}

void pool_destroy(struct pool *p)
{
	class_destroy(&p->normal);
	class_destroy(&p->large);
	memset(p, 0, sizeof(*p));
}

size_t pool_max_len(const struct pool *p)
{
	size_t n = class_len(&p->normal), l = class_len(&p->large);
	return l > n ? l : n;
}

void pool_set_default_len(struct pool *p, size_t len)
{
	size_t max = pool_max_len(p);
	p->default_len = len < max ? len : max;
}

static struct pkt *take(struct pool *p, struct pool_class *c)
{
	struct pkt *k = c->free;
	if (k)
		c->free = k->next;
	else if (c->carved < c->reserved)
		k = carve(p, c);
	else
		return NULL;
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

struct pkt *pool_get_len(struct pool *p, size_t len)
{
	if (len <= class_len(&p->normal)) {
		struct pkt *k = take(p, &p->normal);
		if (k)
			return k;
	}
	return len <= class_len(&p->large) ? take(p, &p->large) : NULL;
}

struct pkt *pool_get(struct pool *p)
{
	return pool_get_len(p, p->default_len);
}

void pool_put(struct pool *p, struct pkt *k)
{
	struct pool_class *c = (uint8_t *)k >= p->large.mem && p->large.mem &&
					       (uint8_t *)k < p->large.mem + p->large.reserved * p->large.stride
				       ? &p->large
				       : &p->normal;
	k->next = c->free;
	c->free = k;
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
