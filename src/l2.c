// SPDX-License-Identifier: MIT
#include "l2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"

int l2_init(struct l2_table *t, uint32_t capacity, const uint8_t key[CRYPTO_SIPHASH_KEY_LEN])
{
	uint32_t buckets = 1;

	memset(t, 0, sizeof(*t));
	if (!capacity || capacity > (1U << 24))
		return -EINVAL;
	/* Chains of one or two on average. */
	while (buckets < capacity)
		buckets <<= 1;
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->buckets = malloc(buckets * sizeof(*t->buckets));
	if (!t->entries || !t->buckets) {
		l2_free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < buckets; i++)
		t->buckets[i] = L2_NONE;
	for (uint32_t i = 0; i < capacity; i++)
		t->entries[i].next = i + 1 < capacity ? i + 1 : L2_NONE;
	t->capacity = capacity;
	t->mask = buckets - 1;
	t->free_head = 0;
	memcpy(t->key, key, sizeof(t->key));
	return 0;
}

void l2_free(struct l2_table *t)
{
	free(t->entries);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static uint32_t bucket_of(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN])
{
	return (uint32_t)crypto_siphash(t->key, mac, ETHERNET_ADDR_LEN) & t->mask;
}

/* The index of mac's entry and, through *link, the slot that points at it. */
static uint32_t find(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], uint32_t **link)
{
	uint32_t *at = &t->buckets[bucket_of(t, mac)];

	while (*at != L2_NONE) {
		if (!memcmp(t->entries[*at].mac, mac, ETHERNET_ADDR_LEN))
			break;
		at = &t->entries[*at].next;
	}
	if (link)
		*link = at;
	return *at;
}

const struct l2_entry *l2_find(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN])
{
	if (!t->entries)
		return NULL;
	uint32_t i = find(t, mac, NULL);
	return i == L2_NONE ? NULL : &t->entries[i];
}

bool l2_entry_aged(const struct l2_entry *e, uint64_t now)
{
	return !e->pinned && now - e->seen >= L2_AGE_NS && now > e->seen;
}

void *l2_lookup(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], uint64_t now, bool *found)
{
	const struct l2_entry *e = l2_is_group(mac) ? NULL : l2_find(t, mac);

	*found = e && !l2_entry_aged(e, now);
	return *found ? e->owner : NULL;
}

static void unlink_entry(struct l2_table *t, uint32_t *link)
{
	uint32_t i = *link;
	struct l2_entry *e = &t->entries[i];

	*link = e->next;
	memset(e, 0, sizeof(*e));
	e->next = t->free_head;
	t->free_head = i;
	t->used--;
}

static uint32_t add_entry(struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], uint32_t *link)
{
	uint32_t i = t->free_head;

	if (i == L2_NONE)
		return L2_NONE;
	struct l2_entry *e = &t->entries[i];
	t->free_head = e->next;
	memcpy(e->mac, mac, ETHERNET_ADDR_LEN);
	e->in_use = true;
	e->next = L2_NONE;
	*link = i; /* the end of the chain find() stopped at */
	t->used++;
	return i;
}

enum l2_learn l2_learn(struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], void *owner, uint64_t now)
{
	uint32_t *link;

	if (l2_is_group(mac))
		return L2_NOT_UNICAST;
	uint32_t i = find(t, mac, &link);
	if (i != L2_NONE) {
		struct l2_entry *e = &t->entries[i];
		if (e->owner == owner || l2_entry_aged(e, now)) {
			bool moved = e->owner != owner;
			e->owner = owner;
			e->seen = now;
			t->stats.moved += moved;
			return moved ? L2_MOVED : L2_LEARNED;
		}
		/* Another owner has it: never a pinned one; a peer's only once
		 * that peer stopped using it; the local side's own network at
		 * once, but a peer never takes an address from it while held. */
		if (e->pinned || (owner && now - e->seen < L2_HOLD_NS)) {
			t->stats.refused++;
			return L2_REFUSED;
		}
		e->owner = owner;
		e->seen = now;
		t->stats.moved++;
		return L2_MOVED;
	}
	if (t->free_head == L2_NONE) {
		/* Make room from what aged, at most once a second: a flood of
		 * new addresses must not make every frame scan the table. */
		if (now - t->last_expire >= NS_PER_SEC || !t->last_expire) {
			t->last_expire = now;
			l2_expire(t, now);
		}
		if (t->free_head == L2_NONE) {
			t->stats.full++;
			return L2_NOT_ROOM;
		}
		find(t, mac, &link);
	}
	i = add_entry(t, mac, link);
	t->entries[i].owner = owner;
	t->entries[i].seen = now;
	t->stats.learned++;
	return L2_LEARNED;
}

int l2_pin(struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], void *owner)
{
	uint32_t *link;

	if (l2_is_group(mac))
		return -EINVAL;
	uint32_t i = find(t, mac, &link);
	if (i == L2_NONE) {
		i = add_entry(t, mac, link);
		if (i == L2_NONE)
			return -ENOSPC;
	} else if (t->entries[i].pinned) {
		return t->entries[i].owner == owner ? 1 : -EEXIST;
	}
	t->entries[i].owner = owner;
	t->entries[i].pinned = true;
	return 0;
}

void l2_forget_owner(struct l2_table *t, const void *owner, bool learned, bool pinned)
{
	for (uint32_t b = 0; t->buckets && b <= t->mask; b++) {
		uint32_t *link = &t->buckets[b];
		while (*link != L2_NONE) {
			struct l2_entry *e = &t->entries[*link];
			if (e->owner == owner && (e->pinned ? pinned : learned))
				unlink_entry(t, link);
			else
				link = &e->next;
		}
	}
}

void l2_expire(struct l2_table *t, uint64_t now)
{
	for (uint32_t b = 0; t->buckets && b <= t->mask; b++) {
		uint32_t *link = &t->buckets[b];
		while (*link != L2_NONE) {
			struct l2_entry *e = &t->entries[*link];
			if (l2_entry_aged(e, now)) {
				unlink_entry(t, link);
				t->stats.expired++;
			} else {
				link = &e->next;
			}
		}
	}
}

const struct l2_entry *l2_next(const struct l2_table *t, uint32_t *cursor)
{
	while (*cursor < t->capacity) {
		const struct l2_entry *e = &t->entries[(*cursor)++];
		if (e->in_use)
			return e;
	}
	return NULL;
}

void l2_mac_string(char out[L2_MAC_STRLEN], const uint8_t mac[ETHERNET_ADDR_LEN])
{
	snprintf(out, L2_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool l2_mac_parse(uint8_t mac[ETHERNET_ADDR_LEN], const char *s)
{
	char sep = 0;

	for (int i = 0; i < ETHERNET_ADDR_LEN; i++) {
		int hi = hex_value((unsigned char)s[0]), lo = hi < 0 ? -1 : hex_value((unsigned char)s[1]);
		if (lo < 0)
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i == ETHERNET_ADDR_LEN - 1)
			break;
		if (*s != ':' && *s != '-')
			return false;
		if (sep && *s != sep)
			return false;
		sep = *s++;
	}
	return *s == '\0';
}
