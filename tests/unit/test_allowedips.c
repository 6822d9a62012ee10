// SPDX-License-Identifier: MIT
/* The cryptokey routing trie: fixed cases, then a randomized comparison with a
 * brute-force longest-prefix list. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "allowedips.h"

/* Peers are opaque pointers to the trie; any distinct addresses will do. */
static char peers[8];
#define PEER_A ((void *)&peers[0])
#define PEER_B ((void *)&peers[1])
#define PEER_C ((void *)&peers[2])
#define PEER_D ((void *)&peers[3])

static int family_of(const char *s)
{
	return strchr(s, ':') ? AF_INET6 : AF_INET;
}

static void parse(const char *s, int *family, uint8_t addr[16])
{
	*family = family_of(s);
	assert_int_equal(inet_pton(*family, s, addr), 1);
}

static int insert(struct allowedips *t, const char *s, uint8_t cidr, void *peer)
{
	uint8_t addr[16];
	int family;

	parse(s, &family, addr);
	return allowedips_insert(t, family, addr, cidr, peer);
}

static int remove_prefix(struct allowedips *t, const char *s, uint8_t cidr, void *peer)
{
	uint8_t addr[16];
	int family;

	parse(s, &family, addr);
	return allowedips_remove(t, family, addr, cidr, peer);
}

static void *lookup(const struct allowedips *t, const char *s)
{
	uint8_t addr[16];
	int family;

	parse(s, &family, addr);
	return allowedips_lookup(t, family, addr);
}

/* Collects a walk as "addr/cidr addr/cidr ..." for assert_string_equal. */
struct walk_text {
	char buf[4096];
	size_t len;
};

static void walk_to_text(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_text *w = ctx;
	char ip[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(family, addr, ip, sizeof(ip)));
	w->len += (size_t)snprintf(w->buf + w->len, sizeof(w->buf) - w->len, "%s%s/%u", w->len ? " " : "", ip, cidr);
	assert_true(w->len < sizeof(w->buf));
}

static const char *walk(const struct allowedips *t, void *peer, struct walk_text *w)
{
	w->len = 0;
	w->buf[0] = '\0';
	allowedips_walk_by_peer(t, peer, walk_to_text, w);
	return w->buf;
}

static void test_overlapping_v4(void **state)
{
	struct allowedips t;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.1.0.0", 16, PEER_B), 0);
	assert_int_equal(insert(&t, "10.1.2.0", 24, PEER_C), 0);
	assert_int_equal(insert(&t, "10.1.2.128", 25, PEER_D), 0);
	assert_int_equal(insert(&t, "10.128.0.0", 9, PEER_B), 0);
	assert_int_equal(t.count, 5);

	assert_ptr_equal(lookup(&t, "10.0.0.1"), PEER_A);
	assert_ptr_equal(lookup(&t, "10.255.255.255"), PEER_B);
	assert_ptr_equal(lookup(&t, "10.127.255.255"), PEER_A);
	assert_ptr_equal(lookup(&t, "10.1.0.0"), PEER_B);
	assert_ptr_equal(lookup(&t, "10.1.3.1"), PEER_B);
	assert_ptr_equal(lookup(&t, "10.1.2.0"), PEER_C);
	assert_ptr_equal(lookup(&t, "10.1.2.127"), PEER_C);
	assert_ptr_equal(lookup(&t, "10.1.2.128"), PEER_D);
	assert_ptr_equal(lookup(&t, "10.1.2.255"), PEER_D);
	assert_null(lookup(&t, "11.0.0.0"));
	assert_null(lookup(&t, "9.255.255.255"));
	assert_null(lookup(&t, "0.0.0.0"));
	/* An IPv4 table says nothing about IPv6. */
	assert_null(lookup(&t, "::a01:203"));
	assert_null(lookup(&t, "::ffff:10.1.2.3"));
	allowedips_free(&t);
}

static void test_overlapping_v6(void **state)
{
	struct allowedips t;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "2001:db8::", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8:1::", 48, PEER_B), 0);
	assert_int_equal(insert(&t, "2001:db8:1:2::", 64, PEER_C), 0);
	/* Differs from the /64 only past bit 64, in the second word. */
	assert_int_equal(insert(&t, "2001:db8:1:2:8000::", 65, PEER_D), 0);
	assert_int_equal(insert(&t, "2001:db8:8000::", 33, PEER_B), 0);

	assert_ptr_equal(lookup(&t, "2001:db8::1"), PEER_A);
	assert_ptr_equal(lookup(&t, "2001:db8:ffff::1"), PEER_B);
	assert_ptr_equal(lookup(&t, "2001:db8:1::1"), PEER_B);
	assert_ptr_equal(lookup(&t, "2001:db8:1:2::1"), PEER_C);
	assert_ptr_equal(lookup(&t, "2001:db8:1:2:7fff:ffff:ffff:ffff"), PEER_C);
	assert_ptr_equal(lookup(&t, "2001:db8:1:2:8000::"), PEER_D);
	assert_ptr_equal(lookup(&t, "2001:db8:1:2:ffff:ffff:ffff:ffff"), PEER_D);
	assert_ptr_equal(lookup(&t, "2001:db8:1:3::"), PEER_B);
	assert_null(lookup(&t, "2001:db9::"));
	assert_null(lookup(&t, "::"));
	assert_null(lookup(&t, "10.1.2.3"));
	allowedips_free(&t);
}

static void test_default_routes(void **state)
{
	struct allowedips t;

	(void)state;
	allowedips_init(&t);
	assert_null(lookup(&t, "1.2.3.4"));
	assert_int_equal(insert(&t, "0.0.0.0", 0, PEER_A), 0);
	assert_int_equal(insert(&t, "::", 0, PEER_B), 0);
	assert_ptr_equal(lookup(&t, "0.0.0.0"), PEER_A);
	assert_ptr_equal(lookup(&t, "255.255.255.255"), PEER_A);
	assert_ptr_equal(lookup(&t, "::"), PEER_B);
	assert_ptr_equal(lookup(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), PEER_B);

	/* More specific routes win over the default, the default stays. */
	assert_int_equal(insert(&t, "192.168.0.0", 16, PEER_C), 0);
	assert_int_equal(insert(&t, "fd00::", 8, PEER_C), 0);
	assert_ptr_equal(lookup(&t, "192.168.4.4"), PEER_C);
	assert_ptr_equal(lookup(&t, "192.169.4.4"), PEER_A);
	assert_ptr_equal(lookup(&t, "fd12::1"), PEER_C);
	assert_ptr_equal(lookup(&t, "fe80::1"), PEER_B);

	/* Removing the default leaves only the specific routes. */
	assert_int_equal(remove_prefix(&t, "0.0.0.0", 0, PEER_A), 0);
	assert_int_equal(remove_prefix(&t, "::", 0, PEER_B), 0);
	assert_null(lookup(&t, "192.169.4.4"));
	assert_null(lookup(&t, "fe80::1"));
	assert_ptr_equal(lookup(&t, "192.168.4.4"), PEER_C);
	assert_ptr_equal(lookup(&t, "fd12::1"), PEER_C);
	assert_int_equal(t.count, 2);
	allowedips_free(&t);
}

static void test_host_routes(void **state)
{
	struct allowedips t;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "192.0.2.1", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "192.0.2.0", 32, PEER_B), 0);
	assert_int_equal(insert(&t, "192.0.2.0", 24, PEER_C), 0);
	assert_int_equal(insert(&t, "2001:db8::1", 128, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8::", 128, PEER_B), 0);
	assert_int_equal(insert(&t, "2001:db8::", 64, PEER_C), 0);

	assert_ptr_equal(lookup(&t, "192.0.2.1"), PEER_A);
	assert_ptr_equal(lookup(&t, "192.0.2.0"), PEER_B);
	assert_ptr_equal(lookup(&t, "192.0.2.2"), PEER_C);
	assert_ptr_equal(lookup(&t, "2001:db8::1"), PEER_A);
	assert_ptr_equal(lookup(&t, "2001:db8::"), PEER_B);
	assert_ptr_equal(lookup(&t, "2001:db8::2"), PEER_C);
	assert_ptr_equal(lookup(&t, "2001:db8::8000:0:0:1"), PEER_C);
	assert_null(lookup(&t, "192.0.3.1"));
	assert_null(lookup(&t, "2001:db8:0:1::1"));
	allowedips_free(&t);
}

static void test_reinsert_moves(void **state)
{
	struct allowedips t;
	struct walk_text w;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.0", 16, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_B), 0);
	assert_int_equal(insert(&t, "fd00::", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "fd00::", 8, PEER_B), 0);
	assert_int_equal(t.count, 3);
	assert_ptr_equal(lookup(&t, "10.1.0.0"), PEER_B);
	assert_ptr_equal(lookup(&t, "10.0.1.0"), PEER_A);
	assert_ptr_equal(lookup(&t, "fd00::1"), PEER_B);
	assert_string_equal(walk(&t, PEER_A, &w), "10.0.0.0/16");
	assert_string_equal(walk(&t, PEER_B, &w), "10.0.0.0/8 fd00::/8");
	/* The old owner can no longer remove it. */
	assert_int_equal(remove_prefix(&t, "10.0.0.0", 8, PEER_A), -ENOENT);
	assert_int_equal(remove_prefix(&t, "10.0.0.0", 8, PEER_B), 0);
	assert_int_equal(t.count, 2);
	allowedips_free(&t);
}

static void test_noncanonical_masked(void **state)
{
	struct allowedips t;
	struct walk_text w;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "10.1.2.3", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_B), 0); /* same prefix: moves */
	assert_int_equal(insert(&t, "2001:db8::dead:beef", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "192.0.2.255", 0, PEER_C), 0);
	assert_int_equal(t.count, 3);
	assert_ptr_equal(lookup(&t, "10.200.0.1"), PEER_B);
	assert_ptr_equal(lookup(&t, "2001:db8:1::"), PEER_A);
	assert_ptr_equal(lookup(&t, "1.1.1.1"), PEER_C);
	assert_string_equal(walk(&t, PEER_A, &w), "2001:db8::/32");
	assert_string_equal(walk(&t, PEER_C, &w), "0.0.0.0/0");
	/* Removal masks the same way. */
	assert_int_equal(remove_prefix(&t, "2001:db8:ffff::1", 32, PEER_A), 0);
	assert_int_equal(remove_prefix(&t, "10.255.255.255", 8, PEER_B), 0);
	assert_int_equal(t.count, 1);
	allowedips_free(&t);
}

static void test_remove_exposes_shorter(void **state)
{
	struct allowedips t;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.1.0.0", 16, PEER_B), 0);
	assert_int_equal(insert(&t, "10.1.1.0", 24, PEER_C), 0);
	assert_int_equal(insert(&t, "2001:db8::", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8:1::", 48, PEER_B), 0);

	/* Wrong peer, wrong length, absent prefix: nothing changes. */
	assert_int_equal(remove_prefix(&t, "10.1.0.0", 16, PEER_A), -ENOENT);
	assert_int_equal(remove_prefix(&t, "10.1.0.0", 17, PEER_B), -ENOENT);
	assert_int_equal(remove_prefix(&t, "10.1.0.0", 15, PEER_B), -ENOENT);
	assert_int_equal(remove_prefix(&t, "11.0.0.0", 8, PEER_A), -ENOENT);
	assert_int_equal(remove_prefix(&t, "2001:db8:1::", 48, PEER_A), -ENOENT);
	assert_int_equal(t.count, 5);

	/* Remove the middle one: the /24 keeps its addresses, the rest fall to /8. */
	assert_int_equal(remove_prefix(&t, "10.1.0.0", 16, PEER_B), 0);
	assert_ptr_equal(lookup(&t, "10.1.2.3"), PEER_A);
	assert_ptr_equal(lookup(&t, "10.1.1.3"), PEER_C);
	assert_int_equal(remove_prefix(&t, "10.1.0.0", 16, PEER_B), -ENOENT);
	assert_int_equal(remove_prefix(&t, "10.1.1.0", 24, PEER_C), 0);
	assert_ptr_equal(lookup(&t, "10.1.1.3"), PEER_A);
	assert_int_equal(remove_prefix(&t, "2001:db8:1::", 48, PEER_B), 0);
	assert_ptr_equal(lookup(&t, "2001:db8:1::1"), PEER_A);

	/* Removing everything frees every node. */
	assert_int_equal(remove_prefix(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(remove_prefix(&t, "2001:db8::", 32, PEER_A), 0);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	assert_null(t.root6);
	assert_null(lookup(&t, "10.1.1.3"));
	allowedips_free(&t);
}

static void test_remove_by_peer(void **state)
{
	struct allowedips t;
	struct walk_text w;

	(void)state;
	allowedips_init(&t);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.1.0.0", 16, PEER_B), 0);
	assert_int_equal(insert(&t, "10.1.1.0", 24, PEER_A), 0);
	assert_int_equal(insert(&t, "10.2.0.0", 16, PEER_A), 0);
	assert_int_equal(insert(&t, "10.2.0.1", 32, PEER_B), 0);
	assert_int_equal(insert(&t, "172.16.0.0", 12, PEER_A), 0);
	assert_int_equal(insert(&t, "::", 0, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8::", 32, PEER_B), 0);
	assert_int_equal(insert(&t, "2001:db8:1::", 48, PEER_A), 0);
	assert_int_equal(t.count, 9);

	allowedips_remove_by_peer(&t, PEER_A);
	assert_int_equal(t.count, 3);
	assert_string_equal(walk(&t, PEER_A, &w), "");
	assert_string_equal(walk(&t, PEER_B, &w), "10.1.0.0/16 10.2.0.1/32 2001:db8::/32");
	assert_null(lookup(&t, "10.0.0.1"));
	assert_ptr_equal(lookup(&t, "10.1.1.1"), PEER_B);
	assert_null(lookup(&t, "10.2.0.2"));
	assert_ptr_equal(lookup(&t, "10.2.0.1"), PEER_B);
	assert_null(lookup(&t, "172.16.0.1"));
	assert_ptr_equal(lookup(&t, "2001:db8:1::1"), PEER_B);
	assert_null(lookup(&t, "2001:db9::"));

	/* A peer with nothing is a no-op; the last peer leaves an empty trie. */
	allowedips_remove_by_peer(&t, PEER_C);
	assert_int_equal(t.count, 3);
	allowedips_remove_by_peer(&t, PEER_B);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	assert_null(t.root6);
	allowedips_free(&t);
}

static void test_walk_order(void **state)
{
	struct allowedips t;
	struct walk_text w;

	(void)state;
	allowedips_init(&t);
	/* Inserted out of order and mixed with another peer's prefixes. */
	assert_int_equal(insert(&t, "fd00::", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "192.168.1.0", 24, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.0", 16, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.0", 8, PEER_A), 0);
	assert_int_equal(insert(&t, "10.0.0.128", 25, PEER_B), 0);
	assert_int_equal(insert(&t, "10.0.0.7", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "9.255.255.255", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "128.0.0.0", 1, PEER_A), 0);
	assert_int_equal(insert(&t, "0.0.0.0", 0, PEER_B), 0);
	assert_int_equal(insert(&t, "::1", 128, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8::", 32, PEER_A), 0);
	assert_int_equal(insert(&t, "2001:db8::", 64, PEER_B), 0);
	assert_int_equal(insert(&t, "fc00::", 7, PEER_A), 0);

	assert_string_equal(walk(&t, PEER_A, &w),
			    "9.255.255.255/32 10.0.0.0/8 10.0.0.0/16 10.0.0.7/32 128.0.0.0/1 "
			    "192.168.1.0/24 ::1/128 2001:db8::/32 fc00::/7 fd00::/8");
	assert_string_equal(walk(&t, PEER_B, &w), "0.0.0.0/0 10.0.0.128/25 2001:db8::/64");
	assert_string_equal(walk(&t, PEER_C, &w), "");
	allowedips_free(&t);
}

/* The trie's shape depends on insertion order; its answers must not. Every
 * order of a nested set, including a prefix one bit shorter than one already
 * there and prefixes that need a branching node. */
static void check_orders(int family, const char *const prefixes[], const uint8_t cidrs[], size_t n,
			 const char *const probes[], const size_t want[], size_t nprobes)
{
	size_t perm[6], count = 0;
	struct walk_text w;

	assert_true(n <= 6);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (;;) {
		struct allowedips t;
		size_t i, j;

		allowedips_init(&t);
		for (i = 0; i < n; i++) {
			assert_int_equal(family_of(prefixes[perm[i]]), family);
			assert_int_equal(insert(&t, prefixes[perm[i]], cidrs[perm[i]], &peers[perm[i]]), 0);
		}
		for (i = 0; i < nprobes; i++)
			assert_ptr_equal(lookup(&t, probes[i]), want[i] == SIZE_MAX ? NULL : &peers[want[i]]);
		for (i = 0; i < n; i++) {
			char one[INET6_ADDRSTRLEN + 8];

			snprintf(one, sizeof(one), "%s/%u", prefixes[i], cidrs[i]);
			assert_string_equal(walk(&t, &peers[i], &w), one);
		}
		/* Removing in the same order must free every node. */
		for (i = 0; i < n; i++)
			assert_int_equal(remove_prefix(&t, prefixes[perm[i]], cidrs[perm[i]], &peers[perm[i]]), 0);
		assert_null(t.root4);
		assert_null(t.root6);
		allowedips_free(&t);
		count++;

		/* Next permutation in lexicographic order. */
		for (i = n - 1; i > 0 && perm[i - 1] > perm[i]; i--)
			;
		if (i == 0)
			break;
		for (j = n - 1; perm[j] < perm[i - 1]; j--)
			;
		size_t tmp = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = tmp;
		for (j = n - 1; i < j; i++, j--) {
			tmp = perm[i];
			perm[i] = perm[j];
			perm[j] = tmp;
		}
	}
	assert_true(count >= 120);
}

static void test_insertion_orders(void **state)
{
	static const char *const v4[] = { "10.0.0.0", "10.0.0.0", "10.128.0.0", "10.0.0.0", "10.64.0.0" };
	static const uint8_t v4_cidrs[] = { 8, 9, 9, 16, 10 };
	static const char *const v4_probes[] = {
		"10.0.0.1",   "10.1.0.1",  "10.64.0.1", "10.127.255.255", "10.128.0.0",
		"10.255.0.1", "10.32.0.0", "11.0.0.0",  "9.0.0.0",
	};
	static const size_t v4_want[] = { 3, 1, 4, 4, 2, 2, 1, SIZE_MAX, SIZE_MAX };
	static const char *const v6[] = { "2001:db8::", "2001:db8::", "2001:db8:0:0:8000::", "2001:db8::1",
					  "2001:db8::2" };
	static const uint8_t v6_cidrs[] = { 32, 64, 65, 128, 127 };
	static const char *const v6_probes[] = {
		"2001:db8::1", "2001:db8::2",          "2001:db8::3",    "2001:db8::4",
		"2001:db8::",  "2001:db8::8000:0:0:0", "2001:db8:0:1::", "2001:db9::",
	};
	static const size_t v6_want[] = { 3, 4, 4, 1, 1, 2, 0, SIZE_MAX };

	(void)state;
	check_orders(AF_INET, v4, v4_cidrs, 5, v4_probes, v4_want, sizeof(v4_want) / sizeof(v4_want[0]));
	check_orders(AF_INET6, v6, v6_cidrs, 5, v6_probes, v6_want, sizeof(v6_want) / sizeof(v6_want[0]));
}

static void test_invalid(void **state)
{
	struct allowedips t;
	uint8_t addr[16] = { 10 };

	(void)state;
	allowedips_init(&t);
	assert_int_equal(allowedips_insert(&t, AF_INET, addr, 33, PEER_A), -EINVAL);
	assert_int_equal(allowedips_insert(&t, AF_INET, addr, 255, PEER_A), -EINVAL);
	assert_int_equal(allowedips_insert(&t, AF_INET6, addr, 129, PEER_A), -EINVAL);
	assert_int_equal(allowedips_insert(&t, AF_INET, addr, 8, NULL), -EINVAL);
	assert_int_equal(allowedips_insert(&t, AF_UNIX, addr, 8, PEER_A), -EAFNOSUPPORT);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	assert_null(t.root6);
	/* The largest valid ones are fine. */
	assert_int_equal(allowedips_insert(&t, AF_INET, addr, 32, PEER_A), 0);
	assert_int_equal(allowedips_insert(&t, AF_INET6, addr, 128, PEER_A), 0);
	assert_int_equal(allowedips_remove(&t, AF_INET, addr, 33, PEER_A), -ENOENT);
	assert_int_equal(allowedips_remove(&t, AF_UNIX, addr, 8, PEER_A), -ENOENT);
	assert_null(allowedips_lookup(&t, AF_UNIX, addr));
	assert_int_equal(t.count, 2);
	allowedips_free(&t);
}

/*
 * Randomized: a reference list searched linearly for the longest match.
 */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* splitmix64: the same sequence on every libc. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rng_below(unsigned int n)
{
	return (unsigned int)(rng() % n);
}

struct ref_prefix {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	void *peer;
};

struct ref {
	struct ref_prefix *v;
	size_t n;
};

static unsigned int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void mask_bytes(uint8_t *addr, unsigned int len, unsigned int cidr)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int keep = cidr >= 8 * (i + 1) ? 8 : cidr > 8 * i ? cidr - 8 * i : 0;

		addr[i] &= (uint8_t)(0xff00 >> keep);
	}
}

static bool ref_matches(const struct ref_prefix *p, int family, const uint8_t *addr)
{
	uint8_t masked[16];

	if (p->family != family)
		return false;
	memcpy(masked, addr, addr_len(family));
	mask_bytes(masked, addr_len(family), p->cidr);
	return !memcmp(masked, p->addr, addr_len(family));
}

static void *ref_lookup(const struct ref *r, int family, const uint8_t *addr)
{
	const struct ref_prefix *best = NULL;

	for (size_t i = 0; i < r->n; i++) {
		if (ref_matches(&r->v[i], family, addr) && (!best || r->v[i].cidr > best->cidr))
			best = &r->v[i];
	}
	return best ? best->peer : NULL;
}

static struct ref_prefix *ref_find(struct ref *r, const struct ref_prefix *p)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].family == p->family && r->v[i].cidr == p->cidr &&
		    !memcmp(r->v[i].addr, p->addr, addr_len(p->family)))
			return &r->v[i];
	}
	return NULL;
}

static void ref_delete(struct ref *r, size_t i)
{
	r->v[i] = r->v[--r->n];
}

static int ref_order(const void *a, const void *b)
{
	const struct ref_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	c = memcmp(x->addr, y->addr, addr_len(x->family));
	if (c)
		return c;
	return (int)x->cidr - (int)y->cidr;
}

/* A walk compared against the reference's prefixes of the same peer, sorted. */
struct walk_check {
	struct ref_prefix *want;
	size_t n, seen;
};

static void walk_compare(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_check *c = ctx;

	assert_true(c->seen < c->n);
	assert_int_equal(family, c->want[c->seen].family);
	assert_int_equal(cidr, c->want[c->seen].cidr);
	assert_memory_equal(addr, c->want[c->seen].addr, addr_len(family));
	c->seen++;
}

static void walk_all_compare(void *ctx, int family, const uint8_t *addr, uint8_t cidr, const void *peer)
{
	struct walk_check *c = ctx;

	assert_true(c->seen < c->n);
	assert_ptr_equal(peer, c->want[c->seen].peer);
	walk_compare(ctx, family, addr, cidr);
}

/* Addresses near the stored ones, so that nesting and near misses are common. */
static uint8_t seeds[2][16][16];

static void random_address(int family, uint8_t *addr)
{
	unsigned int len = addr_len(family), bits = 8 * len;
	unsigned int from = rng_below(bits + 1);

	if (rng_below(16) == 0) {
		for (unsigned int i = 0; i < len; i++)
			addr[i] = (uint8_t)rng();
		return;
	}
	memcpy(addr, seeds[family == AF_INET6][rng_below(16)], len);
	/* Randomize every bit from `from` on. */
	for (unsigned int b = from; b < bits; b++) {
		if (rng() & 1)
			addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
}

static void check_against_ref(const struct allowedips *t, struct ref *r, unsigned int probes)
{
	uint8_t addr[16];

	assert_int_equal(t->count, r->n);
	for (unsigned int i = 0; i < probes; i++) {
		int family = rng() & 1 ? AF_INET6 : AF_INET;

		if (r->n && rng() & 1) {
			/* Inside a stored prefix, host bits random. */
			const struct ref_prefix *p = &r->v[rng_below((unsigned int)r->n)];

			family = p->family;
			memcpy(addr, p->addr, addr_len(family));
			for (unsigned int b = p->cidr; b < 8 * addr_len(family); b++) {
				if (rng() & 1)
					addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
			}
		} else {
			random_address(family, addr);
		}
		assert_ptr_equal(allowedips_lookup(t, family, addr), ref_lookup(r, family, addr));
	}

	/* Each peer's walk lists exactly its prefixes in ascending order. */
	qsort(r->v, r->n, sizeof(*r->v), ref_order);
	for (size_t p = 0; p < sizeof(peers); p++) {
		struct walk_check c = { .want = calloc(r->n + 1, sizeof(*c.want)) };

		assert_non_null(c.want);
		for (size_t i = 0; i < r->n; i++) {
			if (r->v[i].peer == &peers[p])
				c.want[c.n++] = r->v[i];
		}
		allowedips_walk_by_peer(t, &peers[p], walk_compare, &c);
		assert_int_equal(c.seen, c.n);
		free(c.want);
	}
	/* The walk of all lists every prefix with its peer, in the same order. */
	struct walk_check all = { .want = r->v, .n = r->n };
	allowedips_walk_all(t, walk_all_compare, &all);
	assert_int_equal(all.seen, r->n);
}

static void test_random_against_linear(void **state)
{
	enum { PREFIXES = 3000, PROBES = 6000 };
	struct ref r = { .v = calloc(PREFIXES, sizeof(*r.v)) };
	struct allowedips t;

	(void)state;
	assert_non_null(r.v);
	allowedips_init(&t);
	for (unsigned int f = 0; f < 2; f++) {
		for (unsigned int i = 0; i < 16; i++) {
			for (unsigned int j = 0; j < 16; j++)
				seeds[f][i][j] = (uint8_t)rng();
		}
	}

	for (unsigned int i = 0; i < PREFIXES; i++) {
		struct ref_prefix p = { .family = rng() & 1 ? AF_INET6 : AF_INET };
		struct ref_prefix *old;
		unsigned int bits = 8 * addr_len(p.family);

		random_address(p.family, p.addr);
		/* Mostly long prefixes, a few short ones to nest under; no /0, so
		 * that some probes miss (the default route is tested above). */
		p.cidr = (uint8_t)(rng_below(16) ? bits - rng_below(bits / 4 + 1) : 1 + rng_below(bits));
		p.peer = &peers[rng_below(sizeof(peers))];
		/* Insert unmasked; the reference keeps the masked form. */
		assert_int_equal(allowedips_insert(&t, p.family, p.addr, p.cidr, p.peer), 0);
		mask_bytes(p.addr, addr_len(p.family), p.cidr);
		old = ref_find(&r, &p);
		if (old)
			old->peer = p.peer;
		else
			r.v[r.n++] = p;
	}
	assert_true(r.n > PREFIXES / 2);
	check_against_ref(&t, &r, PROBES);

	/* Remove a third, some first with the wrong peer. */
	for (size_t k = r.n / 3; k > 0; k--) {
		size_t i = rng_below((unsigned int)r.n);
		struct ref_prefix *p = &r.v[i];
		void *other = p->peer == &peers[0] ? &peers[1] : &peers[0];

		assert_int_equal(allowedips_remove(&t, p->family, p->addr, p->cidr, other), -ENOENT);
		assert_int_equal(allowedips_remove(&t, p->family, p->addr, p->cidr, p->peer), 0);
		assert_int_equal(allowedips_remove(&t, p->family, p->addr, p->cidr, p->peer), -ENOENT);
		ref_delete(&r, i);
	}
	check_against_ref(&t, &r, PROBES);

	/* Drop two peers wholesale. */
	for (size_t p = 0; p < 2; p++) {
		allowedips_remove_by_peer(&t, &peers[p]);
		for (size_t i = r.n; i-- > 0;) {
			if (r.v[i].peer == &peers[p])
				ref_delete(&r, i);
		}
	}
	check_against_ref(&t, &r, PROBES);

	/* Remove the rest one by one in random order: nothing must remain. */
	while (r.n) {
		size_t i = rng_below((unsigned int)r.n);

		assert_int_equal(allowedips_remove(&t, r.v[i].family, r.v[i].addr, r.v[i].cidr, r.v[i].peer), 0);
		ref_delete(&r, i);
	}
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	assert_null(t.root6);

	allowedips_free(&t);
	free(r.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlapping_v4),
		cmocka_unit_test(test_overlapping_v6),
		cmocka_unit_test(test_default_routes),
		cmocka_unit_test(test_host_routes),
		cmocka_unit_test(test_reinsert_moves),
		cmocka_unit_test(test_noncanonical_masked),
		cmocka_unit_test(test_remove_exposes_shorter),
		cmocka_unit_test(test_remove_by_peer),
		cmocka_unit_test(test_walk_order),
		cmocka_unit_test(test_insertion_orders),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_random_against_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
