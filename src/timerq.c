// SPDX-License-Identifier: MIT
/*
 * Binary min-heap over deadlines: heap[0] is the earliest, heap[i]'s children
 * are heap[2i + 1] and heap[2i + 2]. Entries are moved by carrying a hole
 * along the path and dropping the entry in once, writing each slot's
 * back-pointer (entry->pos) as it goes.
 */
#include "timerq.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void timerq_init(struct timerq *q)
{
	memset(q, 0, sizeof(*q));
}

void timerq_free(struct timerq *q)
{
	for (size_t i = 0; i < q->n; i++)
		timerq_entry_init(q->heap[i]);
	free(q->heap);
	memset(q, 0, sizeof(*q));
}

int timerq_reserve(struct timerq *q, size_t cap)
{
	struct timerq_entry **heap;

	if (cap <= q->cap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*heap))
		return -ENOMEM;
	heap = realloc(q->heap, cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	q->heap = heap;
	q->cap = cap;
	return 0;
}

void timerq_entry_init(struct timerq_entry *e)
{
	e->deadline = UINT64_MAX;
	e->pos = SIZE_MAX;
}

static void place(struct timerq *q, size_t i, struct timerq_entry *e)
{
	q->heap[i] = e;
	e->pos = i;
}

/* Puts e into the hole at i, moving it towards the root as far as it goes. */
static void sift_up(struct timerq *q, size_t i, struct timerq_entry *e)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (q->heap[parent]->deadline <= e->deadline)
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, e);
}

/* Puts e into the hole at i, moving it towards the leaves as far as it goes. */
static void sift_down(struct timerq *q, size_t i, struct timerq_entry *e)
{
	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= q->n)
			break;
		if (child + 1 < q->n && q->heap[child + 1]->deadline < q->heap[child]->deadline)
			child++;
		if (e->deadline <= q->heap[child]->deadline)
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, e);
}

/* Puts e into the hole at i, whichever way the heap order needs. */
static void sift(struct timerq *q, size_t i, struct timerq_entry *e)
{
	if (i > 0 && e->deadline < q->heap[(i - 1) / 2]->deadline)
		sift_up(q, i, e);
	else
		sift_down(q, i, e);
}

void timerq_set(struct timerq *q, struct timerq_entry *e, uint64_t deadline)
{
	if (deadline == UINT64_MAX) {
		timerq_remove(q, e);
		return;
	}
	if (e->pos == SIZE_MAX) {
		/* Reserve capacity at configuration time; see timerq.h. */
		assert(q->n < q->cap);
		e->deadline = deadline;
		sift_up(q, q->n++, e);
		return;
	}
	assert(e->pos < q->n && q->heap[e->pos] == e);
	e->deadline = deadline;
	sift(q, e->pos, e);
}

void timerq_remove(struct timerq *q, struct timerq_entry *e)
{
	struct timerq_entry *last;
	size_t i = e->pos;

	if (i == SIZE_MAX)
		return;
	assert(i < q->n && q->heap[i] == e);
	last = q->heap[--q->n];
	q->heap[q->n] = NULL;
	timerq_entry_init(e);
	/* The last entry fills the hole, unless e was the last. */
	if (last != e)
		sift(q, i, last);
}

struct timerq_entry *timerq_peek(const struct timerq *q)
{
	return q->n ? q->heap[0] : NULL;
}
