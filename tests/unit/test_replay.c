// SPDX-License-Identifier: MIT
/* The replay window, against the WireGuard rule: a counter is accepted once,
 * if it is below REJECT_AFTER_MESSAGES and at most COUNTER_WINDOW_SIZE behind
 * the greatest accepted. */
#include "unit.h"

#include "replay.h"

/* update, after checking that check agrees and does not modify the window. */
static bool accept(struct replay_window *w, uint64_t counter)
{
	struct replay_window before = *w;
	bool checked = replay_check(w, counter);
	bool updated;

	assert_memory_equal(&before, w, sizeof(*w));
	updated = replay_update(w, counter);
	assert_int_equal(checked, updated);
	if (!updated)
		assert_memory_equal(&before, w, sizeof(*w));
	return updated;
}

static void test_in_order(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	for (uint64_t c = 0; c < 3 * COUNTER_BITS_TOTAL; c++)
		assert_true(accept(&w, c));
	assert_int_equal(w.greatest, 3 * COUNTER_BITS_TOTAL - 1);
	/* Everything in the window is now a duplicate. */
	for (uint64_t c = 3 * COUNTER_BITS_TOTAL - 1 - COUNTER_WINDOW_SIZE; c < 3 * COUNTER_BITS_TOTAL; c++)
		assert_false(accept(&w, c));
}

static void test_counter_zero_first(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	assert_true(replay_check(&w, 0));
	assert_true(accept(&w, 0));
	assert_true(w.any);
	assert_int_equal(w.greatest, 0);
	/* greatest == 0 with any set: 0 is now a duplicate. */
	assert_false(accept(&w, 0));
	assert_true(accept(&w, 1));
	assert_false(accept(&w, 0));
	assert_false(accept(&w, 1));
}

static void test_first_counter_anywhere(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	assert_true(accept(&w, 100000));
	assert_false(accept(&w, 100000));
	/* Nothing below it was seen, so the whole window behind it is open. */
	assert_true(accept(&w, 100000 - COUNTER_WINDOW_SIZE));
	assert_true(accept(&w, 99999));
	assert_false(accept(&w, 100000 - COUNTER_WINDOW_SIZE - 1));
}

/* Until a counter is accepted the bitmap means nothing: a window may be
 * reused by clearing `any` alone. */
static void test_stale_bitmap_ignored(void **state)
{
	struct replay_window w;

	(void)state;
	memset(&w, 0xff, sizeof(w));
	w.any = false;
	assert_true(accept(&w, 0));
	assert_true(accept(&w, 2));
	assert_true(accept(&w, 1));
	assert_false(accept(&w, 1));

	memset(&w, 0xff, sizeof(w));
	w.any = false;
	w.greatest = 0;
	assert_true(accept(&w, 7000));
	assert_true(accept(&w, 6999));
	assert_true(accept(&w, 0));
}

static void test_duplicates(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	for (uint64_t c = 0; c < 200; c += 2)
		assert_true(accept(&w, c));
	for (uint64_t c = 0; c < 200; c += 2)
		assert_false(accept(&w, c));
	for (uint64_t c = 1; c < 200; c += 2)
		assert_true(accept(&w, c));
	for (uint64_t c = 0; c < 200; c++)
		assert_false(accept(&w, c));
}

static void test_out_of_order(void **state)
{
	/* A shuffle inside the window: each accepted exactly once. */
	enum { N = 4000 };
	static uint64_t order[N];
	struct replay_window w;
	uint64_t x = 12345;

	(void)state;
	for (uint64_t i = 0; i < N; i++)
		order[i] = i;
	for (size_t i = N - 1; i > 0; i--) {
		size_t j;
		uint64_t tmp;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (size_t)((x >> 33) % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	replay_init(&w);
	for (size_t i = 0; i < N; i++)
		assert_true(accept(&w, order[i]));
	for (size_t i = 0; i < N; i++)
		assert_false(accept(&w, order[i]));
	assert_int_equal(w.greatest, N - 1);
}

/* With the greatest at g, g - COUNTER_WINDOW_SIZE is the oldest accepted and
 * one older is rejected, wherever g falls within its bitmap word. */
static void test_window_edge(void **state)
{
	static const uint64_t greatest[] = {
		COUNTER_WINDOW_SIZE,                             /* the edge is counter 0 */
		COUNTER_WINDOW_SIZE + 1,     COUNTER_BITS_TOTAL, /* first bit of a word */
		COUNTER_BITS_TOTAL - 1,                          /* last bit of a word */
		5 * COUNTER_BITS_TOTAL + 63, 5 * COUNTER_BITS_TOTAL + 64, 123456789,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(greatest) / sizeof(greatest[0]); i++) {
		uint64_t g = greatest[i];
		struct replay_window w;

		replay_init(&w);
		assert_true(accept(&w, g));
		if (g > COUNTER_WINDOW_SIZE)
			assert_false(accept(&w, g - COUNTER_WINDOW_SIZE - 1));
		assert_true(accept(&w, g - COUNTER_WINDOW_SIZE));
		assert_false(accept(&w, g - COUNTER_WINDOW_SIZE));
		/* The edge's bit shares the ring with the greatest's word; they
		 * must not alias. */
		assert_false(accept(&w, g));
		assert_true(accept(&w, g - 1));

		/* One step ahead moves the edge by one. */
		assert_true(accept(&w, g + 1));
		assert_false(accept(&w, g - COUNTER_WINDOW_SIZE));
		if (g > COUNTER_WINDOW_SIZE)
			assert_false(accept(&w, g - COUNTER_WINDOW_SIZE - 1));
		assert_true(accept(&w, g + 1 - COUNTER_WINDOW_SIZE));
	}
}

static void test_far_jump_clears(void **state)
{
	const uint64_t far = 10000 + 3 * COUNTER_BITS_TOTAL;
	struct replay_window w;

	(void)state;
	replay_init(&w);
	/* Set every bit of the ring. */
	for (uint64_t c = 0; c < 10000; c++)
		assert_true(accept(&w, c));
	/* A jump far enough to clear the whole ring: every counter in the new
	 * window is fresh once, although its bit was set before. */
	assert_true(accept(&w, far));
	for (uint64_t c = far - COUNTER_WINDOW_SIZE; c < far; c++)
		assert_true(accept(&w, c));
	for (uint64_t c = far - COUNTER_WINDOW_SIZE; c <= far; c++)
		assert_false(accept(&w, c));
	assert_false(accept(&w, far - COUNTER_WINDOW_SIZE - 1));
	assert_false(accept(&w, 9999));
}

static void test_partial_jump(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	for (uint64_t c = 0; c < 1000; c++)
		assert_true(accept(&w, c));
	/* Still inside the window: the old ones stay remembered. */
	assert_true(accept(&w, 5000));
	for (uint64_t c = 0; c < 1000; c++)
		assert_false(accept(&w, c));
	for (uint64_t c = 1000; c < 5000; c++)
		assert_true(accept(&w, c));
	/* Now 0..999 fall out of the window one word at a time. */
	assert_true(accept(&w, 999 + COUNTER_WINDOW_SIZE));
	assert_false(accept(&w, 998));
	assert_false(accept(&w, 999));
	assert_true(accept(&w, 1000 + COUNTER_WINDOW_SIZE));
	assert_false(accept(&w, 999));
	assert_false(accept(&w, 1000));
	assert_true(accept(&w, 5000 + COUNTER_WINDOW_SIZE - 1));
	assert_true(accept(&w, 5000 + COUNTER_WINDOW_SIZE - 2));
}

static void test_too_old(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	assert_true(accept(&w, 1000000));
	assert_false(accept(&w, 0));
	assert_false(accept(&w, 1000000 - COUNTER_WINDOW_SIZE - 1));
	assert_false(accept(&w, 1000000 - COUNTER_BITS_TOTAL));
	assert_false(accept(&w, 1000000 - 2 * COUNTER_BITS_TOTAL));
}

static void test_reject_after_messages(void **state)
{
	const uint64_t last = REJECT_AFTER_MESSAGES - 1;
	struct replay_window w;

	(void)state;
	replay_init(&w);
	assert_false(accept(&w, REJECT_AFTER_MESSAGES));
	assert_false(accept(&w, UINT64_MAX));
	assert_false(w.any);
	assert_true(accept(&w, last));
	assert_false(accept(&w, last));
	assert_false(accept(&w, REJECT_AFTER_MESSAGES));
	assert_false(accept(&w, REJECT_AFTER_MESSAGES + 1));
	assert_false(accept(&w, UINT64_MAX - 1));
	assert_false(accept(&w, UINT64_MAX));
	/* The window behind the last counter still works. */
	assert_true(accept(&w, last - 1));
	assert_true(accept(&w, last - COUNTER_WINDOW_SIZE));
	assert_false(accept(&w, last - COUNTER_WINDOW_SIZE - 1));
	assert_int_equal(w.greatest, last);
}

static void test_check_does_not_modify(void **state)
{
	struct replay_window w, before;

	(void)state;
	replay_init(&w);
	before = w;
	assert_true(replay_check(&w, 5));
	assert_true(replay_check(&w, 5));
	assert_memory_equal(&before, &w, sizeof(w));
	assert_true(replay_update(&w, 5));
	before = w;
	assert_true(replay_check(&w, 1u << 20));
	assert_true(replay_check(&w, 4));
	assert_false(replay_check(&w, 5));
	assert_false(replay_check(&w, REJECT_AFTER_MESSAGES));
	assert_memory_equal(&before, &w, sizeof(w));
	/* The far-ahead check above did not slide the window. */
	assert_true(replay_update(&w, 4));
	assert_int_equal(w.greatest, 5);
}

/* A reference with unbounded memory: the exact rule, a flag per counter. */
static void test_random_against_reference(void **state)
{
	enum { SPAN = 1 << 24, ROUNDS = 100000 };
	uint8_t *seen = calloc(SPAN, 1);
	uint64_t greatest = 0, x = 0x243f6a8885a308d3ULL, recent[256] = { 0 };
	unsigned int accepted = 0, jumps = 0;
	struct replay_window w;
	bool any = false;

	(void)state;
	assert_non_null(seen);
	replay_init(&w);
	for (unsigned int i = 0; i < ROUNDS; i++) {
		uint64_t r, c;
		bool want;

		/* xorshift64: fixed seed, same sequence everywhere. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = x >> 16;
		if ((x & 255) == 0) {
			/* Now and then a jump, sometimes past the whole ring. */
			c = greatest + r % (3 * COUNTER_BITS_TOTAL);
			jumps++;
		} else if ((x & 7) == 1) {
			c = greatest + 1 + r % 64;
		} else if ((x & 7) == 3 || (x & 7) == 4) {
			/* A replay of something accepted lately, in or out of the window. */
			c = recent[r % 256];
		} else if ((x & 7) == 2) {
			/* Around the window's edge. */
			c = greatest - COUNTER_WINDOW_SIZE - 2 + r % 5;
		} else {
			/* Anywhere in the ring and a little ahead. */
			c = greatest + 64 - r % (COUNTER_BITS_TOTAL + 256);
		}
		if (c >= SPAN) /* wrapped below zero */
			c = r % 16;
		want = !seen[c] && (!any || c + COUNTER_WINDOW_SIZE >= greatest);
		assert_int_equal(accept(&w, c), want);
		if (want) {
			seen[c] = 1;
			recent[accepted % 256] = c;
			if (!any || c > greatest)
				greatest = c;
			any = true;
			accepted++;
		}
	}
	assert_int_equal(w.greatest, greatest);
	/* Both outcomes and the jumps happened often enough to mean something. */
	assert_true(accepted > ROUNDS / 5 && accepted < ROUNDS * 4 / 5);
	assert_true(jumps > 100);
	assert_true(greatest < SPAN - 4 * COUNTER_BITS_TOTAL);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_counter_zero_first),
		cmocka_unit_test(test_first_counter_anywhere),
		cmocka_unit_test(test_stale_bitmap_ignored),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_far_jump_clears),
		cmocka_unit_test(test_partial_jump),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_reject_after_messages),
		cmocka_unit_test(test_check_does_not_modify),
		cmocka_unit_test(test_random_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
