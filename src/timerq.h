/* SPDX-License-Identifier: MIT */
/*
 * The event loop's deadlines: an intrusive binary min-heap. Each timer embeds
 * a struct timerq_entry that remembers its slot in the heap, so moving or
 * removing a timer is O(log n) without a search, and nothing on the packet
 * path allocates: capacity is reserved at configuration time.
 */
#ifndef SLUICE_TIMERQ_H
#define SLUICE_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timerq_entry {
	uint64_t deadline; /* UINT64_MAX when not queued */
	size_t pos;        /* slot in the heap; SIZE_MAX when not queued */
};

struct timerq {
	struct timerq_entry **heap;
	size_t n, cap;
};

void timerq_init(struct timerq *q);
/* Frees the heap. Entries still queued must be alive: they are marked not
 * queued, so a later timerq_remove on them is harmless. */
void timerq_free(struct timerq *q);
/* Makes room for cap queued entries in all (configuration time: reserve one
 * slot per timer that can be queued at once). Never shrinks. 0 or -ENOMEM. */
int timerq_reserve(struct timerq *q, size_t cap);

void timerq_entry_init(struct timerq_entry *e);
static inline bool timerq_entry_queued(const struct timerq_entry *e)
{
	return e->pos != SIZE_MAX;
}

/* Queues e at deadline, or moves it there if already queued. deadline
 * UINT64_MAX removes it instead. Never allocates: queuing an entry that is
 * not yet queued needs a free reserved slot (n < cap), which is asserted;
 * calling this beyond the reserved capacity is a bug in the caller. */
void timerq_set(struct timerq *q, struct timerq_entry *e, uint64_t deadline);
/* Dequeues e (deadline becomes UINT64_MAX); nothing if e is not queued. */
void timerq_remove(struct timerq *q, struct timerq_entry *e);
/* The entry with the earliest deadline, or NULL when empty. Among equal
 * deadlines the order is unspecified. */
struct timerq_entry *timerq_peek(const struct timerq *q);

#endif
