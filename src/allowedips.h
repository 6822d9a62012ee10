/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing: a longest-prefix-match binary trie per address family
 * that maps an IP prefix to an opaque peer pointer. Inserting allocates
 * (configuration time); lookups do not (packet path). Each peer's prefixes
 * are also linked in a list of their own, found through a small table by
 * peer, so removing or listing one peer's prefixes costs what that peer has,
 * not a walk over every peer's.
 */
#ifndef SLUICE_ALLOWEDIPS_H
#define SLUICE_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct allowedips_node;
struct allowedips_owner;

struct allowedips {
	struct allowedips_node *root4;
	struct allowedips_node *root6;
	size_t count; /* number of prefixes stored */
	/* Peers that have prefixes, each with the head of its list: open
	 * addressing, at most half full. */
	struct allowedips_owner *owners;
	size_t owners_mask, owners_used;
};

void allowedips_init(struct allowedips *t);
void allowedips_free(struct allowedips *t);

/* family is AF_INET (addr is 4 bytes) or AF_INET6 (16 bytes). Bits past cidr
 * in addr are ignored (masked off). An existing identical prefix is moved to
 * the new peer. Returns 0 or -errno (-EINVAL for a bad cidr, -ENOMEM). */
int allowedips_insert(struct allowedips *t, int family, const void *addr, uint8_t cidr, void *peer);
/* Removes the exact prefix if it belongs to peer. Returns 0 or -ENOENT. */
int allowedips_remove(struct allowedips *t, int family, const void *addr, uint8_t cidr, void *peer);
void allowedips_remove_by_peer(struct allowedips *t, void *peer);

/* Longest-prefix match of a full address; NULL when nothing matches. */
void *allowedips_lookup(const struct allowedips *t, int family, const void *addr);

/* Calls fn for each prefix of peer (addr is the masked network address),
 * IPv4 first, then IPv6, each in ascending address order. fn must not
 * change the trie. */
typedef void (*allowedips_walk_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
void allowedips_walk_by_peer(const struct allowedips *t, const void *peer, allowedips_walk_fn fn, void *ctx);
/* Calls fn for every prefix with its peer, in the same order (IPv4, then
 * IPv6, ascending): one pass over the trie, where a walk by peer for each of
 * n peers would take n passes (a `get` with 10000 peers). */
typedef void (*allowedips_walk_all_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr, const void *peer);
void allowedips_walk_all(const struct allowedips *t, allowedips_walk_all_fn fn, void *ctx);

#endif
