// SPDX-License-Identifier: MIT
/*
 * The Internet checksum (csum.c): the published examples of RFC 1071 and
 * RFC 1624, an IPv4 header with its known checksum, and the fast sum held
 * against a byte-at-a-time one for every length and alignment.
 */
#include "unit.h"

#include "csum.h"

/* RFC 1071 summed one byte at a time into 64 bits, folded at the end. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

/* RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	assert_int_equal(csum_partial(b, sizeof(b), 0), 0xddf2);
	assert_int_equal(csum_finish(csum_partial(b, sizeof(b), 0)), 0x220d);
	/* In two pieces, the first even: the same. */
	assert_int_equal(csum_partial(b + 4, 4, csum_partial(b, 4, 0)), 0xddf2);
}

/* A well-known IPv4 header (UDP, 115 bytes) whose checksum is b861. */
static void test_ipv4_header(void **state)
{
	uint8_t h[20];

	assert_int_equal(unit_hex(h, sizeof(h), "450000730000400040110000c0a80001c0a800c7"), 20);
	assert_int_equal(csum_finish(csum_partial(h, 20, 0)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(csum_partial(h, 20, 0), 0xffff); /* a valid header sums to -0 */
}

static void test_odd_and_carry(void **state)
{
	static const uint8_t odd[] = { 0x01, 0x02, 0x03 };
	static const uint8_t carry[] = { 0xff, 0xff, 0x00, 0x01 };
	uint8_t ones[1000];

	assert_int_equal(csum_partial(odd, 3, 0), 0x0402);   /* 0102 + 0300 */
	assert_int_equal(csum_partial(carry, 4, 0), 0x0001); /* end-around carry */
	assert_int_equal(csum_partial(odd, 0, 0x1234), 0x1234);
	static uint8_t big[65535];
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(csum_partial(ones, sizeof(ones), 0), 0xffff);
	/* A super-packet's worth of carries, every length near the top. */
	memset(big, 0xff, sizeof(big));
	big[7] = 0xfe;
	for (size_t len = sizeof(big) - 40; len <= sizeof(big); len++) {
		assert_int_equal(csum_partial(big, len, 0xffff), csum_fold(ref_sum(big, len) + 0xffffu));
		assert_int_equal(csum_partial_portable(big, len, 0xffff), csum_fold(ref_sum(big, len) + 0xffffu));
	}
	assert_int_equal(csum_fold(0xffffffff), 0xffff);
	assert_int_equal(csum_fold(0x1fffe), 0xffff);
	assert_int_equal(csum_fold(0x10000), 0x0001);
}

/* Every length up to 600 at every alignment, against the reference, by
 * both paths (the vector one from 128 bytes where the CPU has AVX2). */
static void test_against_reference(void **state)
{
	uint8_t buf[700];
	uint32_t x = 0x12345678;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t align = 0; align < 8; align++)
		for (size_t len = 0; len <= 600; len++) {
			assert_int_equal(csum_partial(buf + align, len, 0), ref_sum(buf + align, len));
			assert_int_equal(csum_partial_portable(buf + align, len, 0), ref_sum(buf + align, len));
		}
	/* Pieces chain when every piece but the last is even. */
	for (size_t cut = 0; cut <= 600; cut += 2)
		assert_int_equal(csum_partial(buf + cut, 600 - cut, csum_partial(buf, cut, 0)), ref_sum(buf, 600));
}

/* The TCP pseudo-header of 192.0.2.1 -> 198.51.100.2, length 1000, against
 * the same twelve bytes summed by the reference. */
static void test_pseudo(void **state)
{
	static const uint8_t src4[4] = { 192, 0, 2, 1 }, dst4[4] = { 198, 51, 100, 2 };
	uint8_t ph[40];

	assert_int_equal(unit_hex(ph, sizeof(ph),
				  "c0000201"
				  "c6336402"
				  "0006"
				  "03e8"),
			 12);
	assert_int_equal(csum_pseudo(src4, dst4, 4, 6, 1000), ref_sum(ph, 12));

	/* IPv6 (RFC 8200 8.1): 32-bit length, three zero bytes, next header. */
	uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8 }, dst6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	src6[15] = 1;
	dst6[15] = 2;
	memcpy(ph, src6, 16);
	memcpy(ph + 16, dst6, 16);
	assert_int_equal(unit_hex(ph + 32, 8, "0001000400000011"), 8);
	assert_int_equal(csum_pseudo(src6, dst6, 16, 17, 0x10004), ref_sum(ph, 40));
}

/* RFC 1624 section 4: HC = dd2f, m = 5555 becomes m' = 3285. Equation 3
 * gives 0000, the right answer; the older equation 2 gave ffff. */
static void test_rfc1624_example(void **state)
{
	assert_int_equal(csum_replace16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

/* Incremental updates agree with summing the data again. */
static void test_replace_matches_recompute(void **state)
{
	uint8_t buf[64];
	uint32_t x = 99;

	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245 + 12345;
			buf[i] = (uint8_t)(x >> 16);
		}
		buf[10] = buf[11] = 0;
		uint16_t check = csum_finish(csum_partial(buf, sizeof(buf), 0));
		buf[10] = (uint8_t)(check >> 8);
		buf[11] = (uint8_t)check;

		size_t at = 2 * ((x >> 8) % 15) + 12; /* a word, never the checksum */
		uint16_t old16 = (uint16_t)(buf[at] << 8 | buf[at + 1]), new16 = (uint16_t)(x >> 3);
		buf[at] = (uint8_t)(new16 >> 8);
		buf[at + 1] = (uint8_t)new16;
		check = csum_replace16(check, old16, new16);
		buf[10] = (uint8_t)(check >> 8);
		buf[11] = (uint8_t)check;
		assert_int_equal(csum_partial(buf, sizeof(buf), 0), 0xffff);

		uint32_t old32 = (uint32_t)buf[40] << 24 | (uint32_t)buf[41] << 16 | (uint32_t)buf[42] << 8 | buf[43];
		uint32_t new32 = x * 7;
		buf[40] = (uint8_t)(new32 >> 24);
		buf[41] = (uint8_t)(new32 >> 16);
		buf[42] = (uint8_t)(new32 >> 8);
		buf[43] = (uint8_t)new32;
		check = csum_replace32(check, old32, new32);
		buf[10] = (uint8_t)(check >> 8);
		buf[11] = (uint8_t)check;
		assert_int_equal(csum_partial(buf, sizeof(buf), 0), 0xffff);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_odd_and_carry),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_pseudo),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_replace_matches_recompute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
