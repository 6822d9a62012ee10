/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers over OpenSSL libcrypto 3: X25519, the two AEADs, BLAKE2s,
 * keyed BLAKE2s, HMAC-BLAKE2s, WireGuard's KDF and XChaCha20-Poly1305.
 * HChaCha20 is the one primitive written here, because libcrypto lacks it.
 *
 * Every function that can fail returns bool (true = success) and must be
 * checked. The functions returning void fail only if libcrypto runs out of
 * memory or lacks BLAKE2s; they then abort the process rather than hand back
 * a hash or MAC that is not one.
 *
 * The algorithms are fetched once, by crypto_init() or by the first call that
 * needs them; nothing fetches per call after that, except that X25519's
 * EVP_PKEY calls look X25519 up in libcrypto's method cache themselves (the
 * public API offers no way to hold that fetch). libcrypto 3 has no contexts
 * that live on the stack, so the one-shot functions (hashes, MACs, X25519, the
 * one-shot AEADs) create and free a libcrypto context per call; they belong on
 * the handshake path, where a private key used for many DH is a struct
 * crypto_x25519_key, taken in once. The data path uses struct crypto_aead_ctx,
 * whose seal and open never allocate.
 */
#ifndef SLUICE_CRYPTO_H
#define SLUICE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chachapoly.h"

#include "messages.h"

#define WUR __attribute__((warn_unused_result))

/* The primitives' sizes, as messages.h names them for the protocol. */
enum {
	CRYPTO_HASH_LEN = NOISE_HASH_LEN,
	CRYPTO_TAG_LEN = NOISE_AUTHTAG_LEN,
	CRYPTO_XNONCE_LEN = COOKIE_NONCE_LEN, /* XChaCha20-Poly1305 */
};

/* The AEAD of a suite. CHACHAPOLY is WireGuard's; AESGCM is sluice's second suite.
 * Nonces: ChaChaPoly is 32 zero bits then the counter little-endian;
 * AESGCM is 32 zero bits then the counter big-endian (Noise's conventions). */
enum cipher_suite {
	SUITE_CHACHAPOLY = 0,
	SUITE_AESGCM = 1,
};

/* Fetches the algorithms once. Returns false if libcrypto lacks one. */
bool crypto_init(void) WUR;
void crypto_cleanup(void);

bool crypto_random(void *buf, size_t len) WUR;

/* X25519. keygen writes a random clamped private key. crypto_x25519 fails
 * when the shared secret is all zeros (a low-order public key). */
bool crypto_x25519_keygen(uint8_t priv[KEY_LEN]) WUR;
/* Clamps a private key in place as RFC 7748 section 5 decodes scalars (the
 * form WireGuard stores and shows): X25519 gives the same results either way. */
void crypto_x25519_clamp(uint8_t priv[KEY_LEN]);
bool crypto_x25519_public(uint8_t pub[KEY_LEN], const uint8_t priv[KEY_LEN]) WUR;
bool crypto_x25519(uint8_t out[KEY_LEN], const uint8_t priv[KEY_LEN], const uint8_t pub[KEY_LEN]) WUR;

/* A private key held by libcrypto, for many DH with it. libcrypto derives the
 * public key whenever it takes a private key in, a scalar multiplication as
 * costly as the DH itself, so crypto_x25519 pays for two; with a key made
 * once each DH is one. init does that derivation; dh allocates only the
 * other side's key; pub is the public key. One thread at a time (the
 * derivation context is kept). A zeroed struct is "no key"; free wipes. */
struct crypto_x25519_key {
	void *pkey;   /* EVP_PKEY * */
	void *derive; /* EVP_PKEY_CTX *, ready to derive */
	uint8_t pub[KEY_LEN];
};
bool crypto_x25519_key_init(struct crypto_x25519_key *k, const uint8_t priv[KEY_LEN]) WUR;
bool crypto_x25519_key_dh(uint8_t out[KEY_LEN], const struct crypto_x25519_key *k, const uint8_t pub[KEY_LEN]) WUR;
void crypto_x25519_key_free(struct crypto_x25519_key *k);

/* BLAKE2s-256 of a || b (b may be NULL with blen 0). */
void crypto_hash(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen);

/* Keyed BLAKE2s with outlen bytes of output (16 for mac1/mac2/cookies).
 * keylen and outlen are each 1 to 32. */
void crypto_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in, size_t inlen);

/* HMAC-BLAKE2s. */
void crypto_hmac(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen, const void *in, size_t inlen);

/* WireGuard's KDF_n(key, input): t0 = HMAC(key, input); t1 = HMAC(t0, 0x1);
 * t2 = HMAC(t0, t1 || 0x2); t3 = HMAC(t0, t2 || 0x3). Any of t2 and t3 may be
 * NULL to stop early (KDF1 / KDF2). Intermediates are wiped. The outputs may
 * alias key or in (MixKey writes the chaining key over itself). */
void crypto_kdf(uint8_t t1[KEY_LEN], uint8_t t2[KEY_LEN], uint8_t t3[KEY_LEN], const uint8_t key[KEY_LEN],
		const void *in, size_t inlen);

/* One-shot AEAD of a suite with a 64-bit counter nonce. dst receives len + 16
 * bytes (seal) or len - 16 bytes (open); dst may equal src. open returns false
 * on a bad tag, in which case dst is undefined. */
bool crypto_aead_seal(enum cipher_suite suite, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[KEY_LEN]) WUR;
bool crypto_aead_open(enum cipher_suite suite, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[KEY_LEN]) WUR;

/* HChaCha20 (draft-irtf-cfrg-xchacha section 2.2). */
void crypto_hchacha20(uint8_t out[KEY_LEN], const uint8_t key[KEY_LEN], const uint8_t nonce[16]);

/* XChaCha20-Poly1305 (cookie replies). Same length rules as above. */
bool crypto_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		       const uint8_t nonce[CRYPTO_XNONCE_LEN], const uint8_t key[KEY_LEN]) WUR;
bool crypto_xaead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		       const uint8_t nonce[CRYPTO_XNONCE_LEN], const uint8_t key[KEY_LEN]) WUR;

/* A keyed AEAD context for the data path: set the key once per keypair, then
 * seal/open many packets with no allocation. crypto_aead_ctx_init allocates
 * (call it at peer creation). setkey re-keys in place without allocating,
 * except the first time after init or clear, or when the suite changes, when
 * libcrypto builds its cipher context. clear wipes (and frees) that context.
 * seal and open never allocate; the tag follows the data and there is no
 * associated data (WireGuard's transport messages). One thread at a time. */
struct crypto_aead_ctx {
	void *evp;                    /* EVP_CIPHER_CTX * */
	struct chachapoly chachapoly; /* ChaCha20-Poly1305 up to CHACHAPOLY_MAX bytes */
	enum cipher_suite suite;
	bool keyed;
};
bool crypto_aead_ctx_init(struct crypto_aead_ctx *c) WUR;
bool crypto_aead_ctx_setkey(struct crypto_aead_ctx *c, enum cipher_suite suite, const uint8_t key[KEY_LEN]) WUR;
void crypto_aead_ctx_clear(struct crypto_aead_ctx *c); /* forget the key */
void crypto_aead_ctx_free(struct crypto_aead_ctx *c);
bool crypto_aead_ctx_seal(struct crypto_aead_ctx *c, uint8_t *dst, const uint8_t *src, size_t len,
			  uint64_t counter) WUR;
bool crypto_aead_ctx_open(struct crypto_aead_ctx *c, uint8_t *dst, const uint8_t *src, size_t len,
			  uint64_t counter) WUR;

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of in with a 128-bit key: a
 * keyed hash for hash tables whose keys come from outside (public keys), so
 * nobody who lacks the key can aim many keys at one bucket. Written here
 * because libcrypto's EVP_MAC "SIPHASH" costs a context per call. */
#define CRYPTO_SIPHASH_KEY_LEN 16
uint64_t crypto_siphash(const uint8_t key[CRYPTO_SIPHASH_KEY_LEN], const void *in, size_t len);

/* Constant-time equality (CRYPTO_memcmp) and wiping (OPENSSL_cleanse). */
bool crypto_equal(const void *a, const void *b, size_t len);
bool crypto_is_zero(const void *a, size_t len);
void crypto_wipe(void *p, size_t len);

/* After libcrypto's vector code: clears the upper halves of the AVX
 * registers (vzeroupper) where the CPU has them. libcrypto's AVX-512
 * ChaCha20 and Poly1305 return with them dirty, and until they are cleared
 * every SSE instruction after (our checksums, the keystream XOR) runs
 * about three times slower: measured 200 against 66 ns for the checksum of
 * a 1,380-byte segment. A no-op elsewhere, and when built with AVX: every
 * vector instruction is then VEX-encoded, and those pay nothing for dirty
 * upper halves. */
void crypto_simd_done(void);

#endif
