// SPDX-License-Identifier: MIT
/* The packet pool: normal buffers made at start, large ones made as packets
 * need them and never more than reserved; each packet gets the smallest
 * buffer that carries it, with the head and tail room core needs. */
#include "unit.h"

#include "pool.h"

static void fits(const struct pkt *k, size_t len)
{
	assert_non_null(k);
	assert_ptr_equal(k->data, k->buf + PKT_HEADROOM);
	assert_true(pkt_room(k) >= len + PKT_TAILROOM);
	assert_int_equal((uintptr_t)k->buf % 16, 0);
}

static void test_normal_and_large(void **state)
{
	struct pool p;
	struct pkt *small, *big, *zero;

	(void)state;
	assert_int_equal(pool_init(&p, 4, PKT_HEADROOM + 1600), 0);
	assert_int_equal(p.count, 4);
	size_t normal = pool_max_len(&p);
	assert_true(normal >= 1600 - PKT_TAILROOM);
	/* No large buffers: a longer packet has none. */
	assert_null(pool_get_len(&p, normal + 1));

	assert_int_equal(pool_reserve_large(&p, 2, PKT_HEADROOM + 65535 + PKT_TAILROOM), 0);
	assert_true(pool_max_len(&p) >= 65535);
	assert_int_equal(p.count, 4); /* reserved, not made */
	small = pool_get_len(&p, 1400);
	fits(small, 1400);
	assert_true(small->cap < 4096);
	big = pool_get_len(&p, 34736);
	fits(big, 34736);
	assert_int_equal(p.count, 5);
	zero = pool_get_len(&p, 0);
	fits(zero, 0);
	assert_true(zero->cap < 4096);
	assert_int_equal(p.available, 2);
	pool_put(&p, big);
	/* The large buffer comes back, not a new one. */
	struct pkt *again = pool_get_len(&p, 9000);
	assert_ptr_equal(again, big);
	assert_int_equal(p.count, 5);
	struct pkt *second = pool_get_len(&p, 65535);
	fits(second, 65535);
	assert_null(pool_get_len(&p, 9000)); /* both large ones in use */
	assert_null(pool_get_len(&p, 65536 + PKT_TAILROOM));
	pool_put(&p, again);
	pool_put(&p, second);
	pool_put(&p, small);
	pool_put(&p, zero);
	assert_int_equal(p.available, p.count);
	pool_destroy(&p);
}

static void test_default_len_follows_mtu(void **state)
{
	struct pool p;
	struct pkt *k[4];

	(void)state;
	assert_int_equal(pool_init(&p, 2, PKT_HEADROOM + 1600), 0);
	assert_int_equal(pool_reserve_large(&p, 8, PKT_HEADROOM + 65535 + PKT_TAILROOM), 0);
	k[0] = pool_get(&p);
	fits(k[0], 1500);
	assert_true(k[0]->cap < 4096);
	pool_set_default_len(&p, 9032);
	k[1] = pool_get(&p);
	fits(k[1], 9032);
	/* More than any buffer carries: the largest. */
	pool_set_default_len(&p, 1 << 20);
	assert_int_equal(p.default_len, pool_max_len(&p));
	pool_set_default_len(&p, 1400);
	k[2] = pool_get(&p);
	fits(k[2], 1400);
	assert_true(k[2]->cap < 4096);
	/* Normal buffers gone: a short packet takes a large one. */
	k[3] = pool_get_len(&p, 100);
	fits(k[3], 100);
	assert_true(k[3]->cap > 4096);
	for (int i = 0; i < 4; i++)
		pool_put(&p, k[i]);
	assert_int_equal(p.available, p.count);
	pool_destroy(&p);
}

/* Fresh, the buffers go out in address order; given back, the last one
 * returned is the next taken (LIFO keeps a small working set warm). */
static void test_free_order(void **state)
{
	struct pool p;
	struct pkt *k[4];

	(void)state;
	assert_int_equal(pool_init(&p, 4, PKT_HEADROOM + 1600), 0);
	for (int i = 0; i < 4; i++) {
		k[i] = pool_get(&p);
		assert_ptr_equal(k[i], p.normal.mem + (size_t)i * p.normal.stride);
	}
	assert_null(pool_get_len(&p, 100)); /* no large ones reserved */
	pool_put(&p, k[2]);
	pool_put(&p, k[0]);
	assert_ptr_equal(pool_get(&p), k[0]);
	assert_ptr_equal(pool_get(&p), k[2]);
	for (int i = 0; i < 4; i++)
		pool_put(&p, k[i]);
	assert_int_equal(p.available, p.count);
	pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_and_large),
		cmocka_unit_test(test_default_len_follows_mtu),
		cmocka_unit_test(test_free_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
