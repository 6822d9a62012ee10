/* SPDX-License-Identifier: MIT */
/*
 * The learning table of a TAP interface: which Ethernet address is behind
 * which peer, or on the local side (the TAP itself, and whatever bridge it
 * is in). Pure: no I/O, no clock (time passed in), no allocation after
 * l2_init. Owners are opaque pointers (the engine's peers); NULL is the
 * local side.
 *
 * A frame from owner O with source address M teaches "M is behind O". An
 * entry ages out L2_AGE_NS after it was last seen. An entry another peer
 * holds is not taken over by a peer until its holder has not used it for
 * L2_HOLD_NS (so a peer cannot steal the address of one that talks, while
 * a host that really moved is followed within a minute); the local side
 * takes an address over at once (it is the administrator's own network).
 * Pinned entries (a peer's AllowedMACs) never age and never move.
 *
 * The table is bounded (l2_init's capacity): when it is full an address is
 * not learned (counted) and frames to it are flooded, as in any switch.
 * Buckets are found by SipHash-2-4 under a key the caller gives (random),
 * so senders choosing addresses cannot make the chains long.
 */
#ifndef SLUICE_L2_H
#define SLUICE_L2_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "messages.h"

#define L2_AGE_NS (300 * NS_PER_SEC)
#define L2_HOLD_NS (60 * NS_PER_SEC)
#define L2_DEFAULT_CAPACITY 8192

struct l2_entry {
	uint8_t mac[ETHERNET_ADDR_LEN];
	bool in_use;
	bool pinned;
	void *owner;   /* NULL: the local side */
	uint64_t seen; /* ns, when last learned or refreshed */
	uint32_t next; /* in its bucket's chain, or the free list; L2_NONE ends */
};

#define L2_NONE UINT32_MAX

struct l2_stats {
	uint64_t learned; /* new entries */
	uint64_t moved;   /* entries that went to another owner */
	uint64_t expired; /* entries that aged out */
	uint64_t full;    /* addresses not learned: the table was full */
	uint64_t refused; /* moves refused: the address is pinned or held by another peer */
};

struct l2_table {
	struct l2_entry *entries;
	uint32_t *buckets;
	uint32_t capacity, mask; /* mask: buckets - 1 */
	uint32_t used, free_head;
	uint8_t key[CRYPTO_SIPHASH_KEY_LEN];
	uint64_t last_expire; /* ns, the last sweep l2_learn made for room */
	struct l2_stats stats;
};

enum l2_learn {
	L2_LEARNED,    /* a new entry, or an existing one refreshed */
	L2_MOVED,      /* the address now belongs to this owner */
	L2_REFUSED,    /* pinned to another owner, or held by another peer */
	L2_NOT_ROOM,   /* the table is full: not learned */
	L2_NOT_UNICAST /* a group address is never a source */
};

/* 0 or -ENOMEM. capacity >= 1. */
int l2_init(struct l2_table *t, uint32_t capacity, const uint8_t key[CRYPTO_SIPHASH_KEY_LEN]);
void l2_free(struct l2_table *t);

static inline bool l2_is_group(const uint8_t mac[ETHERNET_ADDR_LEN])
{
	return mac[0] & 1; /* broadcast and multicast */
}

/* The owner of mac, or NULL through *found = false when mac is unknown,
 * a group address or aged out. */
void *l2_lookup(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], uint64_t now, bool *found);
/* Whether an entry has aged out (pinned ones never do). */
bool l2_entry_aged(const struct l2_entry *e, uint64_t now);
/* The entry of mac (aged or not), or NULL. */
const struct l2_entry *l2_find(const struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN]);
/* A frame from owner (NULL: local) had source mac. */
enum l2_learn l2_learn(struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], void *owner, uint64_t now);
/* Pins mac to owner (AllowedMACs). 0 (pinned now), 1 (it was, to owner),
 * -EINVAL (a group address), -EEXIST (pinned to another owner) or -ENOSPC
 * (full). */
int l2_pin(struct l2_table *t, const uint8_t mac[ETHERNET_ADDR_LEN], void *owner);
/* Forgets owner's entries: the learned ones, the pinned ones, or both (a
 * peer removed). */
void l2_forget_owner(struct l2_table *t, const void *owner, bool learned, bool pinned);
/* Removes entries older than L2_AGE_NS (pinned ones stay). */
void l2_expire(struct l2_table *t, uint64_t now);
/* Entries in table order: start with *cursor = 0; NULL at the end. */
const struct l2_entry *l2_next(const struct l2_table *t, uint32_t *cursor);

/* "02:00:5e:10:00:01" (18 bytes with the NUL), and its parser (also with '-'). */
#define L2_MAC_STRLEN 18
void l2_mac_string(char out[L2_MAC_STRLEN], const uint8_t mac[ETHERNET_ADDR_LEN]);
bool l2_mac_parse(uint8_t mac[ETHERNET_ADDR_LEN], const char *s);

#endif
