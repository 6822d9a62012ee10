// SPDX-License-Identifier: MIT
/*
 * The data path's ChaCha20-Poly1305 (chachapoly.c) against libcrypto's own
 * AEAD, on fuzzed keys, counters and messages. Input: 32 bytes of key, 8 of
 * counter, 2 of a position to corrupt, then the message. Checks: sealing
 * gives what libcrypto's AEAD gives; opening gives the message back; opening
 * anything libcrypto refuses (the message itself read as a sealed one, the
 * sealed one with one byte changed) is refused and writes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypto_aead_ctx ctx;
static uint8_t sealed[CHACHAPOLY_MAX + 16], ref[CHACHAPOLY_MAX + 16], out[CHACHAPOLY_MAX + 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[KEY_LEN];
	uint64_t counter = 0;
	size_t len, pos;

	if (size < KEY_LEN + 10)
		return 0;
	if (!ctx.evp && !crypto_aead_ctx_init(&ctx))
		abort();
	memcpy(key, data, KEY_LEN);
	if (!crypto_aead_ctx_setkey(&ctx, SUITE_CHACHAPOLY, key))
		abort();
	for (int i = 0; i < 8; i++)
		counter |= (uint64_t)data[KEY_LEN + i] << (8 * i);
	pos = (size_t)data[KEY_LEN + 8] << 8 | data[KEY_LEN + 9];
	data += KEY_LEN + 10;
	size -= KEY_LEN + 10;
	len = size > CHACHAPOLY_MAX ? CHACHAPOLY_MAX : size;

	if (!crypto_aead_ctx_seal(&ctx, sealed, data, len, counter) ||
	    !crypto_aead_seal(SUITE_CHACHAPOLY, ref, data, len, NULL, 0, counter, key))
		abort();
	if (memcmp(sealed, ref, len + 16))
		abort();
	if (!crypto_aead_ctx_open(&ctx, out, sealed, len + 16, counter) || memcmp(out, data, len))
		abort();
	/* The message read as a sealed one: whatever libcrypto says, the
	 * same, and a refusal writes nothing. */
	if (len >= 16) {
		bool want = crypto_aead_open(SUITE_CHACHAPOLY, ref, data, len, NULL, 0, counter, key);
		memset(out, 0x5a, len);
		bool got = crypto_aead_ctx_open(&ctx, out, data, len, counter);
		if (got != want || (got && memcmp(out, ref, len - 16)))
			abort();
		for (size_t i = 0; !got && i < len - 16; i++)
			if (out[i] != 0x5a)
				abort();
	}
	sealed[pos % (len + 16)] ^= 1;
	if (crypto_aead_ctx_open(&ctx, out, sealed, len + 16, counter))
		abort();
	return 0;
}
