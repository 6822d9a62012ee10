// SPDX-License-Identifier: MIT
#include "chachapoly.h"

#include "crypto.h"

#include <string.h>

#include <openssl/evp.h>

enum {
	BLOCK = 64, /* one ChaCha20 block: the first gives the Poly1305 key */
	POLY_KEY = 32,
	TAG = NOISE_AUTHTAG_LEN,
	/* libcrypto's ChaCha20 computes 16 blocks at a time above 512 bytes
	 * and is slower below: a shorter run is stretched to this. */
	FAST_MIN = 576,
	STREAM = BLOCK + CHACHAPOLY_MAX,
};

/* The keystream of one message, its first block the one-time Poly1305 key
 * (wiped after each use). Per thread, so that data threads never share it. */
static _Thread_local uint8_t keystream[STREAM];
static const uint8_t zeros[STREAM];

bool chachapoly_setkey(struct chachapoly *c, const uint8_t key[KEY_LEN])
{
	if (!c->stream) {
		EVP_CIPHER *chacha = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);

		c->stream = EVP_CIPHER_CTX_new();
		/* The context keeps its own reference to the algorithm. */
		if (!chacha || !c->stream || EVP_CipherInit_ex2(c->stream, chacha, NULL, NULL, 1, NULL) != 1) {
			EVP_CIPHER_free(chacha);
			chachapoly_free(c);
			return false;
		}
		EVP_CIPHER_free(chacha);
	}
	if (!c->poly) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);

		c->poly = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac);
		if (!c->poly) {
			chachapoly_free(c);
			return false;
		}
	}
	if (EVP_CipherInit_ex2(c->stream, NULL, key, NULL, 1, NULL) != 1) {
		chachapoly_free(c);
		return false;
	}
	return true;
}

void chachapoly_free(struct chachapoly *c)
{
	/* libcrypto wipes the key schedule and the Poly1305 state it frees. */
	EVP_CIPHER_CTX_free(c->stream);
	EVP_MAC_CTX_free(c->poly);
	c->stream = NULL;
	c->poly = NULL;
}

/* The key block and len bytes of keystream after it, into keystream[]. */
static bool stream_make(struct chachapoly *c, size_t len, uint64_t counter)
{
	/* libcrypto's ChaCha20 IV: the 32-bit block counter (0: the key
	 * block comes first), then the 96-bit nonce. */
	uint8_t iv[16] = { 0 };
	int n;
	/* Whole blocks: libcrypto makes a part block's keystream with a
	 * second, one-block run, on its slow path. */
	size_t run = (BLOCK + len + BLOCK - 1) / BLOCK * BLOCK;

	if (run < FAST_MIN)
		run = FAST_MIN;

	for (int i = 0; i < 8; i++)
		iv[8 + i] = (uint8_t)(counter >> (8 * i));
	bool ok = EVP_CipherInit_ex2(c->stream, NULL, NULL, iv, 1, NULL) == 1 &&
		  EVP_CipherUpdate(c->stream, keystream, &n, zeros, (int)run) == 1 && (size_t)n == run;
	crypto_simd_done();
	if (ok)
		return true;
	crypto_wipe(keystream, POLY_KEY);
	return false;
}

/* Poly1305 over the ciphertext as RFC 8439 section 2.8 lays it out with no
 * associated data: the text, zeros to 16 bytes, then the two lengths. */
static bool tag_make(struct chachapoly *c, uint8_t tag[TAG], const uint8_t *text, size_t len)
{
	uint8_t tail[15 + 16] = { 0 };
	size_t pad = (TAG - len % TAG) % TAG, out = 0;
	bool ok;

	for (int i = 0; i < 8; i++) /* the associated data's length, 0, then the text's */
		tail[pad + 8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
	ok = EVP_MAC_init(c->poly, keystream, POLY_KEY, NULL) == 1 && EVP_MAC_update(c->poly, text, len) == 1 &&
	     EVP_MAC_update(c->poly, tail, pad + 16) == 1 && EVP_MAC_final(c->poly, tag, &out, TAG) == 1 && out == TAG;
	crypto_simd_done();
	crypto_wipe(keystream, POLY_KEY);
	return ok;
}

/* dst = src ^ keystream, 64 bytes a step in vectors of V bytes: 16 (SSE2
 * at the least; the compiler's generic vectors, so no intrinsics to port),
 * or 32 where the CPU has AVX2. */
#define XOR_STREAM(NAME, V, ATTR)                                           \
	ATTR static void NAME(uint8_t *dst, const uint8_t *src, size_t len) \
	{                                                                   \
		typedef uint8_t vec __attribute__((vector_size(V)));        \
		const uint8_t *ks = keystream + BLOCK;                      \
		size_t i = 0;                                               \
                                                                            \
		for (; i + 64 <= len; i += 64) {                            \
			for (size_t j = i; j < i + 64; j += V) {            \
				vec a, b;                                   \
                                                                            \
				memcpy(&a, src + j, V);                     \
				memcpy(&b, ks + j, V);                      \
				a ^= b;                                     \
				memcpy(dst + j, &a, V);                     \
			}                                                   \
		}                                                           \
		for (; i + 8 <= len; i += 8) {                              \
			uint64_t a, b;                                      \
                                                                            \
			memcpy(&a, src + i, 8);                             \
			memcpy(&b, ks + i, 8);                              \
			a ^= b;                                             \
			memcpy(dst + i, &a, 8);                             \
		}                                                           \
		for (; i < len; i++)                                        \
			dst[i] = src[i] ^ ks[i];                            \
	}

XOR_STREAM(xor_stream16, 16, )
#if defined(__x86_64__) || defined(__i386__)
XOR_STREAM(xor_stream32, 32, __attribute__((target("avx2"))))
#endif

static void xor_stream(uint8_t *dst, const uint8_t *src, size_t len)
{
#if defined(__x86_64__) || defined(__i386__)
	/* The compiler's runtime reads the CPU's features once, before main. */
	if (__builtin_cpu_supports("avx2")) {
		xor_stream32(dst, src, len);
		return;
	}
#endif
	xor_stream16(dst, src, len);
}

bool chachapoly_seal(struct chachapoly *c, uint8_t *dst, const uint8_t *src, size_t len, uint64_t counter)
{
	if (!c->stream || !c->poly || len > CHACHAPOLY_MAX || !stream_make(c, len, counter))
		return false;
	xor_stream(dst, src, len);
	return tag_make(c, dst + len, dst, len);
}

bool chachapoly_open(struct chachapoly *c, uint8_t *dst, const uint8_t *src, size_t len, uint64_t counter)
{
	uint8_t tag[TAG];
	size_t plen = len - TAG;
	bool ok;

	if (!c->stream || !c->poly || len < TAG || plen > CHACHAPOLY_MAX || !stream_make(c, plen, counter))
		return false;
	/* The tag first: nothing unauthenticated is ever written out. */
	ok = tag_make(c, tag, src, plen) && crypto_equal(tag, src + plen, TAG);
	crypto_wipe(tag, TAG);
	if (ok)
		xor_stream(dst, src, plen);
	return ok;
}
