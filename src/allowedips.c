// SPDX-License-Identifier: MIT
/*
 * A path-compressed binary trie per address family.
 *
 * Every node holds a prefix (key, cidr). A node's children hold longer
 * prefixes that extend it, child[b] being the one whose bit at position
 * node->cidr is b. A node without a peer exists only to branch, so it always
 * has two children; insert creates such nodes where two prefixes diverge and
 * removal frees them as soon as they stop branching.
 *
 * Addresses are kept as two host-order 64-bit words, most significant bit
 * first (IPv4 in the top half of the first word), with each node's netmask
 * stored beside its key: testing a prefix on the packet path is then two
 * XORs, two ANDs and no byte loop.
 */
#include "allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct allowedips_node {
	/* Fields lookup reads come first, within one cache line. */
	uint64_t key[2];  /* the prefix; bits past cidr are zero */
	uint64_t mask[2]; /* cidr leading one bits */
	struct allowedips_node *child[2];
	void *peer; /* NULL for a node that only branches */
	uint8_t cidr;
	bool v6;
	struct allowedips_node *parent;
	/* The peer's other prefixes (nodes with a peer only). */
	struct allowedips_node *peer_prev, *peer_next;
};

struct allowedips_owner {
	void *peer; /* NULL: a free slot */
	struct allowedips_node *first;
};

static unsigned int family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

static struct allowedips_node **family_root(struct allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static void load_key(uint64_t key[2], int family, const void *addr)
{
	if (family == AF_INET) {
		uint32_t v4;

		memcpy(&v4, addr, sizeof(v4));
		key[0] = (uint64_t)be32toh(v4) << 32;
		key[1] = 0;
	} else {
		uint64_t v6[2];

		memcpy(v6, addr, sizeof(v6));
		key[0] = be64toh(v6[0]);
		key[1] = be64toh(v6[1]);
	}
}

static void store_key(uint8_t out[16], int family, const uint64_t key[2])
{
	if (family == AF_INET) {
		uint32_t v4 = htobe32((uint32_t)(key[0] >> 32));

		memcpy(out, &v4, sizeof(v4));
	} else {
		uint64_t v6[2] = { htobe64(key[0]), htobe64(key[1]) };

		memcpy(out, v6, sizeof(v6));
	}
}

static void prefix_mask(uint64_t mask[2], unsigned int cidr)
{
	/* Shifting a 64-bit value by 64 is undefined, hence the cases. */
	mask[0] = cidr == 0 ? 0 : cidr >= 64 ? UINT64_MAX : UINT64_MAX << (64 - cidr);
	mask[1] = cidr <= 64 ? 0 : UINT64_MAX << (128 - cidr);
}

/* Bit i of the address, counting from the most significant; i < 128. */
static unsigned int bit_at(const uint64_t key[2], unsigned int i)
{
	return (unsigned int)(key[i >> 6] >> (63 - (i & 63))) & 1;
}

static bool node_covers(const struct allowedips_node *n, const uint64_t key[2])
{
	return !(((key[0] ^ n->key[0]) & n->mask[0]) | ((key[1] ^ n->key[1]) & n->mask[1]));
}

/* Number of leading bits a and b share. */
static unsigned int common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned int)__builtin_clzll(x);
	x = a[1] ^ b[1];
	return x ? 64 + (unsigned int)__builtin_clzll(x) : 128;
}

static struct allowedips_node *node_new(const uint64_t key[2], unsigned int cidr, void *peer)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	prefix_mask(n->mask, cidr);
	n->key[0] = key[0] & n->mask[0];
	n->key[1] = key[1] & n->mask[1];
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

/* The pointer that points at n: its parent's child slot or the root. */
static struct allowedips_node **link_of(struct allowedips_node **root, struct allowedips_node *n)
{
	if (!n->parent)
		return root;
	return &n->parent->child[n->parent->child[1] == n];
}

static void free_subtree(struct allowedips_node *n)
{
	/* Recursion depth is bounded: cidr grows by at least one per level. */
	if (!n)
		return;
	free_subtree(n->child[0]);
	free_subtree(n->child[1]);
	free(n);
}

/* ---- each peer's list of prefixes ---- */

static size_t owner_hash(const void *peer)
{
	/* Peer pointers come from us, not from the network: a mix will do. */
	uint64_t x = (uint64_t)(uintptr_t)peer;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct allowedips_owner *owner_find(const struct allowedips *t, const void *peer)
{
	if (!t->owners)
		return NULL;
	for (size_t i = owner_hash(peer) & t->owners_mask; t->owners[i].peer; i = (i + 1) & t->owners_mask)
		if (t->owners[i].peer == peer)
			return &t->owners[i];
	return NULL;
}

static void owner_place(struct allowedips_owner *slots, size_t mask, const struct allowedips_owner *o)
{
	size_t i = owner_hash(o->peer) & mask;
	while (slots[i].peer)
		i = (i + 1) & mask;
	slots[i] = *o;
}

/* Room for one more owner, so that linking a node cannot fail later. */
static int owners_reserve_one(struct allowedips *t)
{
	size_t size = t->owners ? t->owners_mask + 1 : 8;
	while (2 * (t->owners_used + 1) > size)
		size *= 2;
	if (t->owners && size == t->owners_mask + 1)
		return 0;
	struct allowedips_owner *slots = calloc(size, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; t->owners && i <= t->owners_mask; i++)
		if (t->owners[i].peer)
			owner_place(slots, size - 1, &t->owners[i]);
	free(t->owners);
	t->owners = slots;
	t->owners_mask = size - 1;
	return 0;
}

static void owner_delete(struct allowedips *t, struct allowedips_owner *o)
{
	size_t hole = (size_t)(o - t->owners);

	t->owners[hole].peer = NULL;
	t->owners[hole].first = NULL;
	t->owners_used--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (size_t j = (hole + 1) & t->owners_mask; t->owners[j].peer; j = (j + 1) & t->owners_mask) {
		size_t home = owner_hash(t->owners[j].peer) & t->owners_mask;
		bool stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->owners[hole] = t->owners[j];
			t->owners[j].peer = NULL;
			t->owners[j].first = NULL;
			hole = j;
		}
	}
}

/* Puts n (whose peer is set) at the head of its peer's list. The owner
 * table has room (owners_reserve_one). */
static void list_link(struct allowedips *t, struct allowedips_node *n)
{
	struct allowedips_owner *o = owner_find(t, n->peer);

	if (!o) {
		struct allowedips_owner fresh = { .peer = n->peer };
		owner_place(t->owners, t->owners_mask, &fresh);
		t->owners_used++;
		o = owner_find(t, n->peer);
	}
	n->peer_prev = NULL;
	n->peer_next = o->first;
	if (o->first)
		o->first->peer_prev = n;
	o->first = n;
}

/* Takes n out of its peer's list (before n->peer changes). */
static void list_unlink(struct allowedips *t, struct allowedips_node *n)
{
	if (n->peer_next)
		n->peer_next->peer_prev = n->peer_prev;
	if (n->peer_prev) {
		n->peer_prev->peer_next = n->peer_next;
	} else {
		struct allowedips_owner *o = owner_find(t, n->peer);
		o->first = n->peer_next;
		if (!o->first)
			owner_delete(t, o);
	}
	n->peer_prev = n->peer_next = NULL;
}

void allowedips_init(struct allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

void allowedips_free(struct allowedips *t)
{
	free_subtree(t->root4);
	free_subtree(t->root6);
	free(t->owners);
	memset(t, 0, sizeof(*t));
}

int allowedips_insert(struct allowedips *t, int family, const void *addr, uint8_t cidr, void *peer)
{
	unsigned int maxbits = family_bits(family), common = 0;
	struct allowedips_node **link, *parent = NULL, *n, *fresh, *branch = NULL;
	uint64_t key[2], mask[2];

	if (!maxbits)
		return -EAFNOSUPPORT;
	/* A NULL peer would read as a branching node. */
	if (cidr > maxbits || !peer)
		return -EINVAL;
	load_key(key, family, addr);
	prefix_mask(mask, cidr);
	key[0] &= mask[0];
	key[1] &= mask[1];
	if (owners_reserve_one(t) < 0)
		return -ENOMEM;

	/* Descend while the node's prefix covers the new one. */
	link = family_root(t, family);
	while ((n = *link)) {
		common = common_bits(n->key, key);
		if (common > cidr)
			common = cidr;
		if (common < n->cidr)
			break;
		if (n->cidr == cidr) {
			if (n->peer == peer)
				return 0;
			if (n->peer)
				list_unlink(t, n);
			else
				t->count++;
			n->peer = peer;
			list_link(t, n);
			return 0;
		}
		parent = n;
		link = &n->child[bit_at(key, n->cidr)];
	}

	/* Allocate everything before touching the trie so -ENOMEM leaves it whole. */
	fresh = node_new(key, cidr, peer);
	if (!fresh)
		return -ENOMEM;
	fresh->v6 = family == AF_INET6;
	if (n && common < cidr) {
		branch = node_new(key, common, NULL);
		if (!branch) {
			free(fresh);
			return -ENOMEM;
		}
		branch->v6 = fresh->v6;
	}

	if (!n) {
		/* An empty slot: the new prefix is a leaf. */
		fresh->parent = parent;
		*link = fresh;
	} else if (!branch) {
		/* The new prefix covers n: it goes between parent and n. */
		fresh->child[bit_at(n->key, cidr)] = n;
		fresh->parent = parent;
		n->parent = fresh;
		*link = fresh;
	} else {
		/* n and the new prefix part at bit `common`: join them under a branch. */
		branch->child[bit_at(key, common)] = fresh;
		branch->child[bit_at(n->key, common)] = n;
		branch->parent = parent;
		fresh->parent = branch;
		n->parent = branch;
		*link = branch;
	}
	list_link(t, fresh);
	t->count++;
	return 0;
}

/* Frees n if it has no peer and no longer branches, then its parent if that
 * in turn stops branching. */
static void prune(struct allowedips_node **root, struct allowedips_node *n)
{
	while (n && !n->peer && !(n->child[0] && n->child[1])) {
		struct allowedips_node *child = n->child[0] ? n->child[0] : n->child[1];
		struct allowedips_node *parent = n->parent;

		*link_of(root, n) = child;
		if (child)
			child->parent = parent;
		free(n);
		/* Splicing a child in keeps the parent's child count; dropping a
		 * leaf lowers it, so only then can the parent become useless. */
		n = child ? NULL : parent;
	}
}

int allowedips_remove(struct allowedips *t, int family, const void *addr, uint8_t cidr, void *peer)
{
	unsigned int maxbits = family_bits(family);
	struct allowedips_node **root, *n;
	uint64_t key[2], mask[2];

	if (!maxbits || cidr > maxbits || !peer)
		return -ENOENT;
	load_key(key, family, addr);
	prefix_mask(mask, cidr);
	key[0] &= mask[0];
	key[1] &= mask[1];

	root = family_root(t, family);
	n = *root;
	while (n && n->cidr < cidr && node_covers(n, key))
		n = n->child[bit_at(key, n->cidr)];
	/* key is masked, so covering at equal length means equal. */
	if (!n || n->cidr != cidr || !node_covers(n, key) || n->peer != peer)
		return -ENOENT;
	list_unlink(t, n);
	n->peer = NULL;
	t->count--;
	prune(root, n);
	return 0;
}

void allowedips_remove_by_peer(struct allowedips *t, void *peer)
{
	struct allowedips_owner *o = peer ? owner_find(t, peer) : NULL;

	while (o) {
		/* Pruning frees only nodes without a peer: the list stays whole. */
		struct allowedips_node *n = o->first;
		bool last = !n->peer_next;
		list_unlink(t, n);
		n->peer = NULL;
		t->count--;
		prune(family_root(t, n->v6 ? AF_INET6 : AF_INET), n);
		if (last)
			break;
	}
}

void *allowedips_lookup(const struct allowedips *t, int family, const void *addr)
{
	const struct allowedips_node *n;
	unsigned int maxbits;
	void *best = NULL;
	uint64_t key[2];

	if (family == AF_INET) {
		n = t->root4;
		maxbits = 32;
	} else if (family == AF_INET6) {
		n = t->root6;
		maxbits = 128;
	} else {
		return NULL;
	}
	load_key(key, family, addr);

	/* Deeper nodes are longer prefixes: the last covering one with a peer wins. */
	while (n && node_covers(n, key)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr == maxbits)
			break;
		n = n->child[bit_at(key, n->cidr)];
	}
	return best;
}

/* IPv4 before IPv6, then by address, then shorter prefixes first: the
 * trie's pre-order, in which a prefix precedes everything it covers. */
static int node_order(const void *a, const void *b)
{
	const struct allowedips_node *x = *(const struct allowedips_node *const *)a;
	const struct allowedips_node *y = *(const struct allowedips_node *const *)b;

	if (x->v6 != y->v6)
		return x->v6 ? 1 : -1;
	for (int i = 0; i < 2; i++)
		if (x->key[i] != y->key[i])
			return x->key[i] < y->key[i] ? -1 : 1;
	return (x->cidr > y->cidr) - (x->cidr < y->cidr);
}

/* The peer's list, sorted. Without the memory for that, a walk over the
 * whole trie in pre-order gives the same order. */
static const struct allowedips_node *preorder_next(const struct allowedips_node *n);

static void walk_trie(const struct allowedips_node *n, const void *peer, allowedips_walk_fn fn, void *ctx)
{
	uint8_t addr[16];

	for (; n; n = preorder_next(n)) {
		if (n->peer != peer)
			continue;
		store_key(addr, n->v6 ? AF_INET6 : AF_INET, n->key);
		fn(ctx, n->v6 ? AF_INET6 : AF_INET, addr, n->cidr);
	}
}

void allowedips_walk_by_peer(const struct allowedips *t, const void *peer, allowedips_walk_fn fn, void *ctx)
{
	const struct allowedips_owner *o = peer ? owner_find(t, peer) : NULL;
	const struct allowedips_node **sorted;
	const struct allowedips_node *n;
	uint8_t addr[16];
	size_t count = 0;

	if (!o)
		return;
	for (n = o->first; n; n = n->peer_next)
		count++;
	sorted = malloc(count * sizeof(*sorted));
	if (!sorted) {
		walk_trie(t->root4, peer, fn, ctx);
		walk_trie(t->root6, peer, fn, ctx);
		return;
	}
	count = 0;
	for (n = o->first; n; n = n->peer_next)
		sorted[count++] = n;
	qsort(sorted, count, sizeof(*sorted), node_order);
	for (size_t i = 0; i < count; i++) {
		int family = sorted[i]->v6 ? AF_INET6 : AF_INET;
		store_key(addr, family, sorted[i]->key);
		fn(ctx, family, addr, sorted[i]->cidr);
	}
	free(sorted);
}

/* Pre-order successor: a node's prefix starts at or before everything below
 * it and child[0]'s addresses precede child[1]'s, so this order is ascending
 * by address, then by prefix length. */
static const struct allowedips_node *preorder_next(const struct allowedips_node *n)
{
	if (n->child[0])
		return n->child[0];
	if (n->child[1])
		return n->child[1];
	for (; n->parent; n = n->parent) {
		if (n->parent->child[0] == n && n->parent->child[1])
			return n->parent->child[1];
	}
	return NULL;
}

void allowedips_walk_all(const struct allowedips *t, allowedips_walk_all_fn fn, void *ctx)
{
	const struct allowedips_node *roots[2] = { t->root4, t->root6 };
	const int families[2] = { AF_INET, AF_INET6 };
	uint8_t addr[16];

	/* fn must not change the trie: the walk holds a pointer into it. */
	for (int f = 0; f < 2; f++) {
		for (const struct allowedips_node *n = roots[f]; n; n = preorder_next(n)) {
			if (!n->peer)
				continue;
			store_key(addr, families[f], n->key);
			fn(ctx, families[f], addr, n->cidr, n->peer);
		}
	}
}
