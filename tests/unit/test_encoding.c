// SPDX-License-Identifier: MIT
/*
 * Key encodings: known values (checked against Python's base64 module and
 * `wg genkey`'s format), round trips against a plain table-driven reference
 * written here, every byte value as every kind of character, and the
 * refusals: wrong length, bad characters, padding, non-canonical last
 * character. A refused key must come back wiped.
 */
#include "unit.h"

#include "crypto.h"
#include "encoding.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A straightforward (branching, table) encoder to hold the branch-free one against. */
static void reference_base64(char out[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN])
{
	char *o = out;

	for (int i = 0; i < KEY_LEN; i += 3) {
		uint32_t v = (uint32_t)key[i] << 16;

		if (i + 1 < KEY_LEN)
			v |= (uint32_t)key[i + 1] << 8;
		if (i + 2 < KEY_LEN)
			v |= key[i + 2];
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = i + 1 < KEY_LEN ? b64_alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < KEY_LEN ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
}

static void assert_rejected_b64(const char *b64)
{
	uint8_t key[KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	assert_false(key_from_base64(key, b64));
	assert_true(crypto_is_zero(key, sizeof(key)));
}

static void assert_rejected_hex(const char *hex)
{
	uint8_t key[KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	assert_false(key_from_hex(key, hex));
	assert_true(crypto_is_zero(key, sizeof(key)));
}

static void test_base64_known_values(void **state)
{
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	(void)state;

	memset(key, 0, sizeof(key));
	key_to_base64(b64, key);
	assert_string_equal(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_int_equal(strlen(b64), 44);

	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)i;
	key_to_base64(b64, key);
	assert_string_equal(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_true(key_from_base64(back, b64));
	assert_memory_equal(back, key, sizeof(key));

	memset(key, 0xff, sizeof(key));
	key_to_base64(b64, key);
	assert_string_equal(b64, "//////////////////////////////////////////8=");
	assert_true(key_from_base64(back, b64));
	assert_memory_equal(back, key, sizeof(key));

	/* The last character holds the low four bits of the last byte. */
	assert_true(key_from_base64(back, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE="));
	for (int i = 0; i < KEY_LEN - 1; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(back[31], 0x01);
}

static void test_base64_round_trip(void **state)
{
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char b64[KEY_B64_LEN + 1], ref[KEY_B64_LEN + 1];
	(void)state;

	for (int n = 0; n < 2000; n++) {
		assert_true(crypto_random(key, sizeof(key)));
		key_to_base64(b64, key);
		reference_base64(ref, key);
		assert_string_equal(b64, ref);
		assert_true(key_from_base64(back, b64));
		assert_memory_equal(back, key, sizeof(key));
	}
}

/* Every one of the 255 possible characters in each position of a group:
 * accepted exactly when it is in the alphabet, with the right value. */
static void test_base64_every_character(void **state)
{
	char b64[KEY_B64_LEN + 1];
	uint8_t key[KEY_LEN];
	(void)state;

	for (int pos = 0; pos < 4; pos++) {
		for (int c = 1; c < 256; c++) {
			const char *hit = strchr(b64_alphabet, c);

			memcpy(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", sizeof(b64));
			b64[pos] = (char)c;
			if (!hit) {
				assert_rejected_b64(b64);
				continue;
			}
			assert_true(key_from_base64(key, b64));
			/* Put the 6 bits where character pos of a group lands. */
			uint32_t want = (uint32_t)(hit - b64_alphabet) << (18 - 6 * pos);
			uint32_t got = (uint32_t)key[0] << 16 | (uint32_t)key[1] << 8 | key[2];

			assert_int_equal(got, want);
		}
	}
}

static void test_base64_rejects(void **state)
{
	char b64[64];
	(void)state;

	/* Wrong lengths. */
	assert_rejected_b64("");
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");    /* 43 */
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");  /* 45 */
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"); /* trailing newline */
	assert_rejected_b64(" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");   /* 44, leading space */
	/* Padding: missing, doubled, in the middle. */
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
	assert_rejected_b64("AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	/* URL-safe alphabet and other strangers. */
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=");
	assert_rejected_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_A=");
	assert_rejected_b64(
		"AAAAAAAAAAAAAAAAAAAAAAAA\xc3\xa9"
		"AAAAAAAAAAAAAAAAA=");
	/* Non-canonical: the last character's two low bits lie past the key. */
	for (int v = 0; v < 64; v++) {
		memcpy(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 45);
		b64[42] = b64_alphabet[v];
		if (v & 3) {
			assert_rejected_b64(b64);
		} else {
			uint8_t key[KEY_LEN];

			assert_true(key_from_base64(key, b64));
			assert_int_equal(key[31], v >> 2);
		}
	}
	/* A real key with one bad character anywhere is refused and wiped. */
	memcpy(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 45);
	for (int pos = 0; pos < 43; pos++) {
		char saved = b64[pos];

		b64[pos] = '*';
		assert_rejected_b64(b64);
		b64[pos] = saved;
	}
}

static void test_hex(void **state)
{
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char hex[KEY_HEX_LEN + 1], ref[KEY_HEX_LEN + 1];
	(void)state;

	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)(0xf0 - 7 * i);
	key_to_hex(hex, key);
	for (int i = 0; i < KEY_LEN; i++)
		snprintf(ref + 2 * i, 3, "%02x", key[i]);
	assert_string_equal(hex, ref);
	assert_int_equal(strlen(hex), 64);
	assert_true(key_from_hex(back, hex));
	assert_memory_equal(back, key, sizeof(key));

	for (int n = 0; n < 2000; n++) {
		assert_true(crypto_random(key, sizeof(key)));
		key_to_hex(hex, key);
		for (int i = 0; i < KEY_LEN; i++)
			snprintf(ref + 2 * i, 3, "%02x", key[i]);
		assert_string_equal(hex, ref);
		assert_true(key_from_hex(back, hex));
		assert_memory_equal(back, key, sizeof(key));
	}

	/* Either case, even mixed. */
	assert_true(key_from_hex(back, "0123456789ABCDEFabcdefAbCdEf0000000000000000000000000000000000ff"));
	assert_int_equal(back[0], 0x01);
	assert_int_equal(back[4], 0x89);
	assert_int_equal(back[5], 0xab);
	assert_int_equal(back[7], 0xef);
	assert_int_equal(back[8], 0xab);
	assert_int_equal(back[11], 0xab);
	assert_int_equal(back[13], 0xef);
	assert_int_equal(back[31], 0xff);
}

static void test_hex_rejects(void **state)
{
	char hex[KEY_HEX_LEN + 1];
	uint8_t key[KEY_LEN];
	(void)state;

	assert_rejected_hex("");
	assert_rejected_hex("000000000000000000000000000000000000000000000000000000000000000");   /* 63 */
	assert_rejected_hex("00000000000000000000000000000000000000000000000000000000000000000"); /* 65 */
	/* Every character in both positions of a byte. */
	for (int pos = 0; pos < 2; pos++) {
		for (int c = 1; c < 256; c++) {
			const char *hit = strchr("0123456789abcdefABCDEF", c);

			memset(hex, '0', KEY_HEX_LEN);
			hex[KEY_HEX_LEN] = '\0';
			hex[40 + pos] = (char)c;
			if (!hit) {
				assert_rejected_hex(hex);
				continue;
			}
			assert_true(key_from_hex(key, hex));
			unsigned v = (unsigned)strtoul((char[]){ (char)c, 0 }, NULL, 16);

			assert_int_equal(key[20], pos ? v : v << 4);
		}
	}
}

/* The one integer parser: digits only, hex after 0x when asked, the limit
 * and 64-bit overflow refused. */
static void test_parse_uint(void **state)
{
	uint64_t v;
	uint32_t w;

	assert_true(parse_u64("0", 1, false, 10, &v) && v == 0);
	assert_true(parse_u64("65535", 5, false, 65535, &v) && v == 65535);
	assert_false(parse_u64("65536", 5, false, 65535, &v));
	assert_true(parse_u64("18446744073709551615", 20, false, UINT64_MAX, &v) && v == UINT64_MAX);
	assert_false(parse_u64("18446744073709551616", 20, false, UINT64_MAX, &v));
	assert_false(parse_u64("99999999999999999999", 20, false, UINT64_MAX, &v));
	assert_false(parse_u64("", 0, false, 10, &v));
	assert_false(parse_u64("-1", 2, false, 10, &v));
	assert_false(parse_u64("+1", 2, false, 10, &v));
	assert_false(parse_u64(" 1", 2, false, 10, &v));
	assert_false(parse_u64("1 ", 2, false, 10, &v));
	assert_false(parse_u64("0x10", 4, false, 100, &v));
	assert_true(parse_u64("0x10", 4, true, 100, &v) && v == 16);
	assert_true(parse_u64("0XfF", 4, true, 255, &v) && v == 255);
	assert_false(parse_u64("0x", 2, true, 100, &v));
	assert_false(parse_u64("0xg", 3, true, 100, &v));
	assert_true(parse_u64("123abc", 3, false, 1000, &v) && v == 123); /* len bounds it */
	assert_true(parse_u32("4294967295", false, UINT32_MAX, &w) && w == UINT32_MAX);
	assert_false(parse_u32("4294967296", false, UINT32_MAX, &w));
	assert_true(parse_u32("0xca6c", true, UINT32_MAX, &w) && w == 0xca6c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_uint),        cmocka_unit_test(test_base64_known_values),
		cmocka_unit_test(test_base64_round_trip), cmocka_unit_test(test_base64_every_character),
		cmocka_unit_test(test_base64_rejects),    cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
