// SPDX-License-Identifier: MIT
/*
 * Base64 and hex for 32-byte keys, in constant time: every character is
 * mapped by arithmetic on range masks, never by a table lookup or a branch
 * on its value, so neither the time nor the memory access pattern depends on
 * the key. A decode looks at every character and decides validity once.
 *
 * The masks rely on >> of a negative int being arithmetic, as it is with gcc
 * and clang: for c in 0..255, ((lo - 1 - c) & (c - hi - 1)) >> 8 is -1 when
 * lo <= c <= hi and 0 otherwise.
 */
#include "encoding.h"

#include <string.h>

#include "crypto.h"

/* -1 when lo <= c <= hi, else 0. */
static int in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* -1 when v > limit, else 0 (for v and limit in 0..255). */
static int above(int v, int limit)
{
	return (limit - v) >> 8;
}

/* 0..63 -> "A-Za-z0-9+/". */
static char base64_char(int v)
{
	return (char)(v + 'A' + (above(v, 25) & ('a' - 26 - 'A')) - (above(v, 51) & ('a' - 26 - ('0' - 52))) -
		      (above(v, 61) & ('0' - 52 - ('+' - 62))) + (above(v, 62) & ('/' - 63 - ('+' - 62))));
}

/* "A-Za-z0-9+/" -> 0..63; anything else -> -1. */
static int base64_value(int c)
{
	return -1 + (in_range(c, 'A', 'Z') & (c - 'A' + 1)) + (in_range(c, 'a', 'z') & (c - 'a' + 26 + 1)) +
	       (in_range(c, '0', '9') & (c - '0' + 52 + 1)) + (in_range(c, '+', '+') & (62 + 1)) +
	       (in_range(c, '/', '/') & (63 + 1));
}

void key_to_base64(char out[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN])
{
	int i;

	/* 30 bytes as ten groups of four characters, then the last two bytes as
	 * three characters and one '='. */
	for (i = 0; i < KEY_LEN / 3; i++) {
		const uint8_t *p = key + 3 * i;

		out[4 * i + 0] = base64_char(p[0] >> 2);
		out[4 * i + 1] = base64_char((p[0] << 4 | p[1] >> 4) & 63);
		out[4 * i + 2] = base64_char((p[1] << 2 | p[2] >> 6) & 63);
		out[4 * i + 3] = base64_char(p[2] & 63);
	}
	out[4 * i + 0] = base64_char(key[3 * i] >> 2);
	out[4 * i + 1] = base64_char((key[3 * i] << 4 | key[3 * i + 1] >> 4) & 63);
	out[4 * i + 2] = base64_char((key[3 * i + 1] << 2) & 63);
	out[4 * i + 3] = '=';
	out[KEY_B64_LEN] = '\0';
}

bool key_from_base64(uint8_t key[KEY_LEN], const char *b64)
{
	const unsigned char *s = (const unsigned char *)b64;
	int bad = 0, i;

	if (strlen(b64) != KEY_B64_LEN) {
		crypto_wipe(key, KEY_LEN);
		return false;
	}
	for (i = 0; i < KEY_LEN / 3; i++) {
		int d0 = base64_value(s[4 * i]), d1 = base64_value(s[4 * i + 1]);
		int d2 = base64_value(s[4 * i + 2]), d3 = base64_value(s[4 * i + 3]);
		/* An invalid character is -1, the one value with bits above the
		 * low six. The bytes are assembled unsigned: shifting -1 left is
		 * undefined. */
		bad |= (d0 | d1 | d2 | d3) & ~63;
		key[3 * i] = (uint8_t)((unsigned)d0 << 2 | (unsigned)d1 >> 4);
		key[3 * i + 1] = (uint8_t)((unsigned)d1 << 4 | (unsigned)d2 >> 2);
		key[3 * i + 2] = (uint8_t)((unsigned)d2 << 6 | (unsigned)d3);
	}
	{
		int d0 = base64_value(s[4 * i]), d1 = base64_value(s[4 * i + 1]);
		int d2 = base64_value(s[4 * i + 2]);

		bad |= (d0 | d1 | d2) & ~63;
		/* The last character carries two bits past the key's end: only the
		 * canonical encoding, with those bits clear, is a valid key. */
		bad |= d2 & 3;
		bad |= s[4 * i + 3] ^ '=';
		key[3 * i] = (uint8_t)((unsigned)d0 << 2 | (unsigned)d1 >> 4);
		key[3 * i + 1] = (uint8_t)((unsigned)d1 << 4 | (unsigned)d2 >> 2);
	}
	if (bad != 0) {
		crypto_wipe(key, KEY_LEN);
		return false;
	}
	return true;
}

void key_to_hex(char out[KEY_HEX_LEN + 1], const uint8_t key[KEY_LEN])
{
	for (int i = 0; i < KEY_LEN; i++) {
		int hi = key[i] >> 4, lo = key[i] & 15;

		out[2 * i] = (char)(hi + '0' + (above(hi, 9) & ('a' - 10 - '0')));
		out[2 * i + 1] = (char)(lo + '0' + (above(lo, 9) & ('a' - 10 - '0')));
	}
	out[KEY_HEX_LEN] = '\0';
}

int hex_value(int c)
{
	return -1 + (in_range(c, '0', '9') & (c - '0' + 1)) + (in_range(c, 'a', 'f') & (c - 'a' + 10 + 1)) +
	       (in_range(c, 'A', 'F') & (c - 'A' + 10 + 1));
}

bool key_from_hex(uint8_t key[KEY_LEN], const char *hex)
{
	const unsigned char *s = (const unsigned char *)hex;
	int bad = 0;

	if (strlen(hex) != KEY_HEX_LEN) {
		crypto_wipe(key, KEY_LEN);
		return false;
	}
	for (int i = 0; i < KEY_LEN; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		bad |= (hi | lo) & ~15; /* -1 for an invalid digit */
		key[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo);
	}
	if (bad != 0) {
		crypto_wipe(key, KEY_LEN);
		return false;
	}
	return true;
}

bool parse_u64(const char *s, size_t len, bool allow_hex, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (allow_hex && len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (v > (max - d) / base)
			return false; /* past max, or past 64 bits */
		v = v * base + d;
	}
	*out = v;
	return true;
}

bool parse_u32(const char *s, bool allow_hex, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(s, strlen(s), allow_hex, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}
