// SPDX-License-Identifier: MIT
/*
 * The per-source rate limit of handshake messages (ratelimit.c), above all
 * under a flood from more source addresses than it has slots: it must not
 * fail open (every newcomer given a fresh bucket), must not reset a busy
 * flooder's bucket, must keep a real source that stays within its rate, and
 * must count what found no slot.
 */
#include <arpa/inet.h>

#include "unit.h"

#include "clock.h"
#include "ratelimit.h"

#define T0 (100 * NS_PER_SEC)

static struct endpoint v4(uint32_t addr)
{
	struct endpoint ep = { 0 };
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_addr.s_addr = htonl(addr);
	return ep;
}

static struct endpoint v6(uint64_t prefix, uint64_t host)
{
	struct endpoint ep = { 0 };
	ep.addr.in6.sin6_family = AF_INET6;
	for (int i = 0; i < 8; i++) {
		ep.addr.in6.sin6_addr.s6_addr[i] = (uint8_t)(prefix >> (56 - 8 * i));
		ep.addr.in6.sin6_addr.s6_addr[8 + i] = (uint8_t)(host >> (56 - 8 * i));
	}
	return ep;
}

static int setup(void **state)
{
	struct ratelimit *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(ratelimit_init(r, RATELIMIT_PER_SECOND, RATELIMIT_BURST), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	ratelimit_free(*state);
	free(*state);
	return 0;
}

/* One source: a burst, then its rate; another source is not affected. */
static void test_one_source(void **state)
{
	struct ratelimit *r = *state;
	struct endpoint a = v4(0xc0000201), b = v4(0xc0000202);
	int allowed = 0;

	for (int i = 0; i < 50; i++)
		allowed += ratelimit_allow(r, &a, T0);
	assert_int_equal(allowed, RATELIMIT_BURST);
	assert_true(ratelimit_allow(r, &b, T0));
	assert_false(ratelimit_allow(r, &a, T0 + NS_PER_SEC / RATELIMIT_PER_SECOND / 2));
	assert_true(ratelimit_allow(r, &a, T0 + NS_PER_SEC / RATELIMIT_PER_SECOND + 1));
	/* Over 10 s of trying all the time: about the rate, never a fresh burst. */
	allowed = 0;
	for (uint64_t t = 0; t < 10 * NS_PER_SEC; t += NS_PER_SEC / 1000)
		allowed += ratelimit_allow(r, &a, T0 + NS_PER_SEC + t);
	assert_in_range(allowed, 10 * RATELIMIT_PER_SECOND - 1, 10 * RATELIMIT_PER_SECOND + RATELIMIT_BURST);
	assert_int_equal(r->overflowed, 0);
}

/* A /64 is one sender; other families are refused. */
static void test_v6_prefix(void **state)
{
	struct ratelimit *r = *state;
	int allowed = 0;

	for (uint64_t h = 1; h <= 50; h++) {
		struct endpoint ep = v6(0x20010db800010000ULL, h);
		allowed += ratelimit_allow(r, &ep, T0);
	}
	assert_int_equal(allowed, RATELIMIT_BURST);
	struct endpoint other = v6(0x20010db800020000ULL, 1);
	assert_true(ratelimit_allow(r, &other, T0));
	struct endpoint none = { 0 };
	assert_false(ratelimit_allow(r, &none, T0));
}

/*
 * A flood from four times as many addresses as there are slots, each
 * sending 10 messages within one second, round after round. Fail-open (a
 * newcomer evicting whoever holds its slot, with a fresh bucket) would let
 * all of them through. Here at most every slot's burst and rate plus the
 * overflow bucket's may pass, and what found no slot is counted.
 */
static void test_flood_from_many_sources(void **state)
{
	struct ratelimit *r = *state;
	const uint32_t sources = 4 * RATELIMIT_SLOTS, rounds = 10;
	const uint64_t step = NS_PER_SEC / (sources * rounds);
	uint64_t sent = 0, allowed = 0, t = T0;

	for (uint32_t round = 0; round < rounds; round++)
		for (uint32_t i = 0; i < sources; i++, t += step) {
			struct endpoint ep = v4(0xc6130000 + i);
			allowed += ratelimit_allow(r, &ep, t);
			sent++;
		}
	uint64_t bound = (uint64_t)RATELIMIT_SLOTS * (RATELIMIT_BURST + RATELIMIT_PER_SECOND) +
			 RATELIMIT_OVERFLOW_SHARE * (RATELIMIT_BURST + RATELIMIT_PER_SECOND);
	print_message("flood: %llu sent from %u sources in 1 s, %llu allowed (bound %llu), %llu overflowed\n",
		      (unsigned long long)sent, sources, (unsigned long long)allowed, (unsigned long long)bound,
		      (unsigned long long)r->overflowed);
	assert_true(allowed <= bound);
	assert_true(allowed < sent / 2);
	assert_true(r->overflowed > sent / 2);
}

/*
 * One flooding source F with a slot and one real source L sending once a
 * second, while a flood from many other addresses goes on: F gets no more
 * than its own rate (its bucket is never reset by being evicted), and L,
 * within its rate, keeps getting through.
 */
static void test_flooder_and_real_source_keep_their_slots(void **state)
{
	struct ratelimit *r = *state;
	struct endpoint f = v4(0xc0000201), l = v4(0xc0000202);
	uint64_t f_allowed = 0, l_allowed = 0, l_sent = 0, t = T0;
	const uint32_t sources = 4 * RATELIMIT_SLOTS;

	/* F and L first: each has a slot. */
	assert_true(ratelimit_allow(r, &f, t));
	assert_true(ratelimit_allow(r, &l, t));
	f_allowed = 1;
	/* 5 s: F sends 1000 a second, L every 200 ms (within its 20 a second),
	 * the crowd one each from 4 x slots addresses a second. */
	for (uint32_t i = 0; i < 5 * sources; i++) {
		t += NS_PER_SEC / sources;
		struct endpoint ep = v4(0xc6130000 + (i % sources));
		ratelimit_allow(r, &ep, t);
		if (i % (sources / 1000) == 0)
			f_allowed += ratelimit_allow(r, &f, t);
		if (i % (sources / 5) == 0) {
			l_sent++;
			l_allowed += ratelimit_allow(r, &l, t);
		}
	}
	print_message("F: %llu allowed in 5 s (its share: %d); L: %llu of %llu\n", (unsigned long long)f_allowed,
		      RATELIMIT_BURST + 5 * RATELIMIT_PER_SECOND, (unsigned long long)l_allowed,
		      (unsigned long long)l_sent);
	assert_true(f_allowed <= RATELIMIT_BURST + 5 * RATELIMIT_PER_SECOND + 1);
	assert_int_equal(l_allowed, l_sent);
}

/* A source quiet long enough for its bucket to be full again gives up its
 * slot to a newcomer without the newcomer going to the overflow bucket. */
static void test_quiet_slots_are_reused(void **state)
{
	struct ratelimit *r = *state;
	const uint32_t sources = 2 * RATELIMIT_SLOTS;

	for (uint32_t i = 0; i < sources; i++) {
		struct endpoint ep = v4(0xc6130000 + i);
		ratelimit_allow(r, &ep, T0);
	}
	uint64_t overflowed = r->overflowed;
	assert_true(overflowed > 0);
	/* A second later every bucket is full again: all slots are free to
	 * take. A quarter of the table's worth of newcomers: only the few whose
	 * set draws more than RATELIMIT_WAYS of them (a handful, by chance)
	 * overflow, not all of them as if the crowd still held the slots. */
	const uint32_t newcomers = RATELIMIT_SLOTS / 4;
	uint64_t allowed = 0;
	for (uint32_t i = 0; i < newcomers; i++) {
		struct endpoint ep = v4(0xc6200000 + i);
		allowed += ratelimit_allow(r, &ep, T0 + NS_PER_SEC);
	}
	print_message("%u newcomers after the crowd went quiet: %llu allowed, %llu overflowed\n", newcomers,
		      (unsigned long long)allowed, (unsigned long long)(r->overflowed - overflowed));
	assert_true(r->overflowed - overflowed <= newcomers / 100);
	assert_true(allowed >= newcomers - newcomers / 100);
}

/* With every set busy, newcomers share the overflow bucket the owner sized:
 * its burst at once, then its rate, whatever their number. */
static void test_overflow_bucket(void **state)
{
	struct ratelimit *r = *state;
	uint64_t allowed = 0;

	ratelimit_set_overflow(r, 1000, 100);
	for (uint32_t i = 0; i < 8 * RATELIMIT_SLOTS; i++) { /* every set full, w.h.p. 32 a set */
		struct endpoint ep = v4(0xc6130000 + i);
		ratelimit_allow(r, &ep, T0);
	}
	uint64_t overflowed = r->overflowed;
	for (uint32_t i = 0; i < 10000; i++) {
		struct endpoint ep = v4(0x0a000000 + i);
		allowed += ratelimit_allow(r, &ep, T0);
	}
	assert_int_equal(r->overflowed - overflowed, 10000);
	assert_int_equal(allowed, 0); /* the crowd took the burst already */
	/* 100 ms later (the crowd still busy): 100 more tokens at 1000 a second. */
	for (uint32_t i = 0; i < 10000; i++) {
		struct endpoint ep = v4(0x0a000000 + i);
		allowed += ratelimit_allow(r, &ep, T0 + NS_PER_SEC / 10);
	}
	assert_int_equal(allowed, 100);
}

/* A rate is worked out once, as the bucket always spent it: a token's cost
 * truncated to whole ns, and the burst as that many tokens (not
 * NS_PER_SEC * burst / per_second, which rounds differently). */
static void test_rate(void **state)
{
	struct ratelimit *r = *state;
	struct ratelimit_bucket b = { 0 };
	struct ratelimit_rate rate = ratelimit_rate(7, 3);

	assert_int_equal(rate.cost, 142857142);
	assert_int_equal(rate.max, 3 * 142857142ULL);
	rate = ratelimit_rate(0, 0); /* 0 counts as 1 */
	assert_int_equal(rate.cost, NS_PER_SEC);
	assert_int_equal(rate.max, NS_PER_SEC);
	/* The engine's own: per source, and its overflow RATELIMIT_OVERFLOW_SHARE
	 * sources' worth until the owner sizes it. */
	assert_int_equal(r->rate.cost, NS_PER_SEC / RATELIMIT_PER_SECOND);
	assert_int_equal(r->rate.max, NS_PER_SEC / RATELIMIT_PER_SECOND * RATELIMIT_BURST);
	rate = ratelimit_rate(RATELIMIT_PER_SECOND * RATELIMIT_OVERFLOW_SHARE,
			      RATELIMIT_BURST * RATELIMIT_OVERFLOW_SHARE);
	assert_int_equal(r->overflow_rate.cost, rate.cost);
	assert_int_equal(r->overflow_rate.max, rate.max);
	ratelimit_set_overflow(r, 0, 0);
	assert_int_equal(r->overflow_rate.max, NS_PER_SEC);
	/* A bucket: the burst at once, then a token each cost, to the ns. */
	rate = ratelimit_rate(7, 3);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_bucket_take(&b, T0, rate));
	assert_false(ratelimit_bucket_take(&b, T0, rate));
	assert_false(ratelimit_bucket_take(&b, T0 + rate.cost - 1, rate));
	assert_true(ratelimit_bucket_take(&b, T0 + rate.cost, rate));
	assert_false(ratelimit_bucket_take(&b, T0 + rate.cost, rate));
	/* Quiet for long: full again, never more than the burst. */
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_bucket_take(&b, T0 + 100 * NS_PER_SEC, rate));
	assert_false(ratelimit_bucket_take(&b, T0 + 100 * NS_PER_SEC, rate));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_from_many_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flooder_and_real_source_keep_their_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_slots_are_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
