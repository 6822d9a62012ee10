// SPDX-License-Identifier: MIT
#include "peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- peers by public key ---- */

int peer_table_init(struct peer_table *t)
{
	memset(t, 0, sizeof(*t));
	if (!crypto_random(t->key, sizeof(t->key)))
		return -EIO;
	return peer_table_reserve(t, 8);
}

void peer_table_free(struct peer_table *t)
{
	free(t->slots);
	crypto_wipe(t, sizeof(*t));
}

uint64_t peer_table_hash(const struct peer_table *t, const uint8_t public_key[KEY_LEN])
{
	return crypto_siphash(t->key, public_key, KEY_LEN);
}

static void peer_place(struct peer **slots, uint32_t mask, struct peer *p)
{
	uint32_t i = (uint32_t)p->public_key_hash & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = p;
}

int peer_table_reserve(struct peer_table *t, uint32_t n)
{
	uint32_t size = t->slots ? t->mask + 1 : 16;
	while (size < 2 * n && size < (1U << 30))
		size <<= 1;
	if (t->slots && size == t->mask + 1)
		return 0;
	struct peer **slots = calloc(size, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (t->slots) {
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->slots[i])
				peer_place(slots, size - 1, t->slots[i]);
		free(t->slots);
	}
	t->slots = slots;
	t->mask = size - 1;
	return 0;
}

void peer_table_insert(struct peer_table *t, struct peer *p)
{
	peer_place(t->slots, t->mask, p);
	t->used++;
}

struct peer *peer_table_lookup(const struct peer_table *t, const uint8_t public_key[KEY_LEN])
{
	uint64_t h = peer_table_hash(t, public_key);

	for (uint32_t i = (uint32_t)h & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
		/* Public keys are not secret: a plain comparison will do. */
		if (t->slots[i]->public_key_hash == h && !memcmp(t->slots[i]->public_key, public_key, KEY_LEN))
			return t->slots[i];
	}
	return NULL;
}

void peer_table_remove(struct peer_table *t, struct peer *p)
{
	uint32_t i = (uint32_t)p->public_key_hash & t->mask;

	while (t->slots[i] && t->slots[i] != p)
		i = (i + 1) & t->mask;
	if (!t->slots[i])
		return;
	t->slots[i] = NULL;
	t->used--;
	/* Backward-shift deletion, as in the index table below. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
		uint32_t home = (uint32_t)t->slots[j]->public_key_hash & t->mask;
		bool stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->slots[hole] = t->slots[j];
			t->slots[j] = NULL;
			hole = j;
		}
	}
}

/* ---- sessions by index ---- */

static uint32_t hash32(uint32_t x)
{
	/* Indices are random already; mix anyway so a peer cannot aim at a bucket. */
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

int index_table_init(struct index_table *t, uint32_t min_entries)
{
	memset(t, 0, sizeof(*t));
	return index_table_reserve(t, min_entries);
}

void index_table_free(struct index_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static void place(struct index_slot *slots, uint32_t mask, const struct index_slot *s)
{
	uint32_t i = hash32(s->index) & mask;
	while (slots[i].kind != INDEX_FREE)
		i = (i + 1) & mask;
	slots[i] = *s;
}

int index_table_reserve(struct index_table *t, uint32_t min_entries)
{
	uint32_t size = 16;
	while (size < 2 * min_entries && size < (1U << 30))
		size <<= 1;
	if (t->slots && size <= t->mask + 1)
		return 0;
	struct index_slot *slots = calloc(size, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (t->slots) {
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->slots[i].kind != INDEX_FREE)
				place(slots, size - 1, &t->slots[i]);
		free(t->slots);
	}
	t->slots = slots;
	t->mask = size - 1;
	return 0;
}

const struct index_slot *index_table_lookup(const struct index_table *t, uint32_t index)
{
	uint32_t i = hash32(index) & t->mask;
	while (t->slots[i].kind != INDEX_FREE) {
		if (t->slots[i].index == index)
			return &t->slots[i];
		i = (i + 1) & t->mask;
	}
	return NULL;
}

uint32_t index_table_insert(struct index_table *t, enum index_kind kind, struct peer *peer, struct keypair *kp)
{
	struct index_slot s = { .kind = (uint8_t)kind, .peer = peer, .keypair = kp };

	/* The table is kept at most half full (index_table_reserve), so a free
	 * slot always exists and fresh random indices are found quickly. */
	do {
		if (!crypto_random(&s.index, sizeof(s.index)))
			abort(); /* no randomness: nothing safe to do */
	} while (s.index == 0 || index_table_lookup(t, s.index));
	place(t->slots, t->mask, &s);
	t->used++;
	return s.index;
}

void index_table_remove(struct index_table *t, uint32_t index)
{
	uint32_t i = hash32(index) & t->mask;

	while (t->slots[i].kind != INDEX_FREE && t->slots[i].index != index)
		i = (i + 1) & t->mask;
	if (t->slots[i].kind == INDEX_FREE)
		return;
	t->slots[i].kind = INDEX_FREE;
	t->used--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & t->mask; t->slots[j].kind != INDEX_FREE; j = (j + 1) & t->mask) {
		uint32_t home = hash32(t->slots[j].index) & t->mask;
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->slots[hole] = t->slots[j];
			t->slots[j].kind = INDEX_FREE;
			hole = j;
		}
	}
}
