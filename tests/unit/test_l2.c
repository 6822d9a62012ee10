// SPDX-License-Identifier: MIT
/*
 * The learning table of TAP mode (l2.c): learning and lookups, aging, an
 * address held by one owner and not taken by another, pinned addresses
 * (AllowedMACs), a full table, owners forgotten, MAC addresses parsed.
 */
#include "unit.h"

#include <errno.h>

#include "l2.h"

#define S NS_PER_SEC

static const uint8_t key[CRYPTO_SIPHASH_KEY_LEN] = { 1, 2, 3 };
static int peer_a, peer_b; /* owners: their addresses */

static void mac_of(uint8_t mac[6], unsigned n)
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void *owner_of(const struct l2_table *t, const uint8_t mac[6], uint64_t now, bool *found)
{
	return l2_lookup(t, mac, now, found);
}

static void test_learn_and_lookup(void **state)
{
	struct l2_table t;
	uint8_t m[6], other[6];
	bool found;
	(void)state;

	assert_int_equal(l2_init(&t, 16, key), 0);
	mac_of(m, 1);
	mac_of(other, 2);
	assert_null(owner_of(&t, m, 10 * S, &found));
	assert_false(found);
	assert_int_equal(l2_learn(&t, m, &peer_a, 10 * S), L2_LEARNED);
	assert_ptr_equal(owner_of(&t, m, 11 * S, &found), &peer_a);
	assert_true(found);
	/* The local side is an owner too (NULL), and known. */
	assert_int_equal(l2_learn(&t, other, NULL, 10 * S), L2_LEARNED);
	assert_null(owner_of(&t, other, 11 * S, &found));
	assert_true(found);
	/* A group address is never learned nor found. */
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	assert_int_equal(l2_learn(&t, bcast, &peer_a, 10 * S), L2_NOT_UNICAST);
	assert_int_equal(l2_learn(&t, mcast, &peer_a, 10 * S), L2_NOT_UNICAST);
	owner_of(&t, bcast, 10 * S, &found);
	assert_false(found);
	assert_int_equal(t.stats.learned, 2);
	l2_free(&t);
}

static void test_aging(void **state)
{
	struct l2_table t;
	uint8_t m[6];
	bool found;
	(void)state;

	assert_int_equal(l2_init(&t, 16, key), 0);
	mac_of(m, 1);
	l2_learn(&t, m, &peer_a, 10 * S);
	owner_of(&t, m, 10 * S + L2_AGE_NS - 1, &found);
	assert_true(found);
	owner_of(&t, m, 10 * S + L2_AGE_NS, &found);
	assert_false(found);
	/* Refreshing keeps it. */
	l2_learn(&t, m, &peer_a, 200 * S);
	owner_of(&t, m, 200 * S + L2_AGE_NS - 1, &found);
	assert_true(found);
	l2_expire(&t, 200 * S + L2_AGE_NS);
	assert_int_equal(t.used, 0);
	assert_int_equal(t.stats.expired, 1);
	l2_free(&t);
}

static void test_hold_against_other_peer(void **state)
{
	struct l2_table t;
	uint8_t m[6];
	bool found;
	(void)state;

	assert_int_equal(l2_init(&t, 16, key), 0);
	mac_of(m, 1);
	l2_learn(&t, m, &peer_a, 10 * S);
	/* Peer B cannot take an address A uses. */
	assert_int_equal(l2_learn(&t, m, &peer_b, 10 * S + L2_HOLD_NS - 1), L2_REFUSED);
	assert_ptr_equal(owner_of(&t, m, 11 * S, &found), &peer_a);
	assert_int_equal(t.stats.refused, 1);
	/* Once A has been quiet for L2_HOLD_NS, the host has moved to B. */
	assert_int_equal(l2_learn(&t, m, &peer_b, 10 * S + L2_HOLD_NS), L2_MOVED);
	assert_ptr_equal(owner_of(&t, m, 10 * S + L2_HOLD_NS, &found), &peer_b);
	/* The local side takes an address over at once... */
	assert_int_equal(l2_learn(&t, m, NULL, 10 * S + L2_HOLD_NS + 1), L2_MOVED);
	assert_null(owner_of(&t, m, 10 * S + L2_HOLD_NS + 1, &found));
	assert_true(found);
	/* ...and holds it against peers. */
	assert_int_equal(l2_learn(&t, m, &peer_a, 10 * S + L2_HOLD_NS + 2), L2_REFUSED);
	assert_int_equal(t.stats.moved, 2);
	l2_free(&t);
}

static void test_pinned(void **state)
{
	struct l2_table t;
	uint8_t m[6];
	bool found;
	(void)state;

	assert_int_equal(l2_init(&t, 16, key), 0);
	mac_of(m, 1);
	assert_int_equal(l2_pin(&t, m, &peer_a), 0);
	assert_int_equal(l2_pin(&t, m, &peer_a), 1); /* it was */
	assert_int_equal(l2_pin(&t, m, &peer_b), -EEXIST);
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(l2_pin(&t, bcast, &peer_a), -EINVAL);
	/* Never moves, never ages: not to another peer, not to the local side. */
	assert_int_equal(l2_learn(&t, m, &peer_b, 1000 * S), L2_REFUSED);
	assert_int_equal(l2_learn(&t, m, NULL, 1000 * S), L2_REFUSED);
	assert_ptr_equal(owner_of(&t, m, 100000 * S, &found), &peer_a);
	assert_true(l2_find(&t, m)->pinned);
	/* Learned entries of A go, its pins stay; then the pins go too. */
	uint8_t learned[6];
	mac_of(learned, 2);
	l2_learn(&t, learned, &peer_a, 10 * S);
	l2_forget_owner(&t, &peer_a, true, false);
	assert_null(l2_find(&t, learned));
	assert_non_null(l2_find(&t, m));
	l2_forget_owner(&t, &peer_a, false, true);
	assert_null(l2_find(&t, m));
	assert_int_equal(t.used, 0);
	l2_free(&t);
}

static void test_full_table(void **state)
{
	struct l2_table t;
	uint8_t m[6];
	bool found;
	(void)state;

	assert_int_equal(l2_init(&t, 64, key), 0);
	for (unsigned i = 0; i < 64; i++) {
		mac_of(m, i);
		assert_int_equal(l2_learn(&t, m, &peer_a, 10 * S), L2_LEARNED);
	}
	mac_of(m, 1000);
	assert_int_equal(l2_learn(&t, m, &peer_b, 11 * S), L2_NOT_ROOM);
	assert_int_equal(t.stats.full, 1);
	owner_of(&t, m, 11 * S, &found);
	assert_false(found);
	/* Every old one still there; once they aged, room again. */
	for (unsigned i = 0; i < 64; i++) {
		mac_of(m, i);
		owner_of(&t, m, 11 * S, &found);
		assert_true(found);
	}
	mac_of(m, 1000);
	assert_int_equal(l2_learn(&t, m, &peer_b, 10 * S + L2_AGE_NS), L2_LEARNED);
	assert_int_equal(t.used, 1);
	l2_free(&t);
}

static void test_iterate(void **state)
{
	struct l2_table t;
	uint8_t m[6];
	uint32_t cursor = 0;
	int n = 0;
	(void)state;

	assert_int_equal(l2_init(&t, 100, key), 0);
	for (unsigned i = 0; i < 40; i++) {
		mac_of(m, i);
		l2_learn(&t, m, i % 2 ? &peer_a : &peer_b, 10 * S);
	}
	for (const struct l2_entry *e; (e = l2_next(&t, &cursor));)
		n += e->owner == &peer_a;
	assert_int_equal(n, 20);
	l2_free(&t);
}

static void test_mac_text(void **state)
{
	uint8_t m[6];
	char s[L2_MAC_STRLEN];
	(void)state;

	assert_true(l2_mac_parse(m, "02:00:5E:10:00:0a"));
	l2_mac_string(s, m);
	assert_string_equal(s, "02:00:5e:10:00:0a");
	assert_true(l2_mac_parse(m, "02-00-5e-10-00-0b"));
	assert_int_equal(m[5], 0x0b);
	assert_false(l2_mac_parse(m, "02:00:5e:10:00"));
	assert_false(l2_mac_parse(m, "02:00:5e:10:00:0a:"));
	assert_false(l2_mac_parse(m, "02:00-5e:10:00:0a"));
	assert_false(l2_mac_parse(m, "02:00:5e:10:00:0g"));
	assert_false(l2_mac_parse(m, "2:00:5e:10:00:0a"));
	assert_false(l2_mac_parse(m, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_lookup),
		cmocka_unit_test(test_aging),
		cmocka_unit_test(test_hold_against_other_peer),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_mac_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
