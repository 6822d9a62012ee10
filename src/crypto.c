// SPDX-License-Identifier: MIT
/*
 * The primitives of sluice over OpenSSL libcrypto 3 (EVP), plus HChaCha20.
 *
 * The algorithms are fetched once and kept in statics; every function works
 * before crypto_init() by initialising lazily. libcrypto 3 has no contexts
 * that live on the stack, so the one-shot functions create a short-lived EVP
 * context per call; the data path uses struct crypto_aead_ctx instead, whose
 * seal and open allocate nothing.
 */
#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "log.h"

enum { AEAD_IV_LEN = 12 };

static struct {
	EVP_MD *blake2s;
	EVP_MAC *blake2smac;
	EVP_MAC *hmac;
	/* An HMAC-BLAKE2s context already bound to its digest (under a dummy key).
	 * Duplicating it gives a ready HMAC without naming the digest again,
	 * which would make libcrypto look the digest up on every call. */
	EVP_MAC_CTX *hmac_blake2s;
	EVP_CIPHER *chachapoly;
	EVP_CIPHER *aesgcm;
} alg;
static atomic_bool alg_ready;
static pthread_mutex_t alg_lock = PTHREAD_MUTEX_INITIALIZER;

static void alg_free(void)
{
	EVP_MAC_CTX_free(alg.hmac_blake2s);
	EVP_MD_free(alg.blake2s);
	EVP_MAC_free(alg.blake2smac);
	EVP_MAC_free(alg.hmac);
	EVP_CIPHER_free(alg.chachapoly);
	EVP_CIPHER_free(alg.aesgcm);
	memset(&alg, 0, sizeof(alg));
}

static bool alg_fetch(void)
{
	static const uint8_t dummy_key[KEY_LEN];
	char digest[] = "BLAKE2S-256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};

	alg.blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	alg.blake2smac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	alg.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	alg.chachapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	alg.aesgcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!alg.blake2s || !alg.blake2smac || !alg.hmac || !alg.chachapoly || !alg.aesgcm)
		return false;
	alg.hmac_blake2s = EVP_MAC_CTX_new(alg.hmac);
	return alg.hmac_blake2s && EVP_MAC_init(alg.hmac_blake2s, dummy_key, sizeof(dummy_key), params) == 1;
}

bool crypto_init(void)
{
	bool ok;

	if (atomic_load_explicit(&alg_ready, memory_order_acquire))
		return true;
	pthread_mutex_lock(&alg_lock);
	ok = atomic_load_explicit(&alg_ready, memory_order_relaxed);
	if (!ok) {
		ok = alg_fetch();
		if (ok)
			atomic_store_explicit(&alg_ready, true, memory_order_release);
		else
			alg_free();
	}
	pthread_mutex_unlock(&alg_lock);
	return ok;
}

/* Must not race with any other crypto_ call. */
void crypto_cleanup(void)
{
	pthread_mutex_lock(&alg_lock);
	atomic_store_explicit(&alg_ready, false, memory_order_release);
	alg_free();
	pthread_mutex_unlock(&alg_lock);
}

/* The functions declared void cannot report a failure, and a hash or MAC that
 * silently produced garbage (or zeros) could make a forged message verify. They
 * fail only when libcrypto is out of memory or lacks BLAKE2s (or is handed
 * lengths the API rules out, a bug), so they stop the process instead. */
__attribute__((noreturn)) static void crypto_fatal(const char *what)
{
	log_err("libcrypto failed computing %s: out of memory, or an OpenSSL 3 without BLAKE2s in its "
		"default provider; stopping rather than use a wrong value",
		what);
	abort();
}

bool crypto_random(void *buf, size_t len)
{
	if (len > INT_MAX)
		return false;
	return RAND_bytes(buf, (int)len) == 1;
}

/* ---- X25519 ---------------------------------------------------------- */

void crypto_x25519_clamp(uint8_t priv[KEY_LEN])
{
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

bool crypto_x25519_keygen(uint8_t priv[KEY_LEN])
{
	if (!crypto_random(priv, KEY_LEN)) {
		crypto_wipe(priv, KEY_LEN);
		return false;
	}
	crypto_x25519_clamp(priv);
	return true;
}

bool crypto_x25519_key_init(struct crypto_x25519_key *k, const uint8_t priv[KEY_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, KEY_LEN);
	EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
	size_t len = KEY_LEN;

	memset(k, 0, sizeof(*k));
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 ||
	    len != KEY_LEN) {
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pkey); /* libcrypto wipes the private key it held */
		memset(k, 0, sizeof(*k));
		return false;
	}
	k->pkey = pkey;
	k->derive = ctx;
	return true;
}

void crypto_x25519_key_free(struct crypto_x25519_key *k)
{
	EVP_PKEY_CTX_free(k->derive);
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

bool crypto_x25519_key_dh(uint8_t out[KEY_LEN], const struct crypto_x25519_key *k, const uint8_t pub[KEY_LEN])
{
	EVP_PKEY *theirs = NULL;
	size_t len = KEY_LEN;
	bool ok = false;

	if (!k->derive)
		goto out;
	/* A low-order key is an expected failure, reported by the result: keep
	 * the errors libcrypto raises for it off the thread's error queue. */
	ERR_set_mark();
	theirs = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pub, KEY_LEN);
	/* No peer validation: an X25519 public key is any 32 bytes, and the
	 * low-order ones are caught by the zero check below. The context keeps
	 * a reference to `theirs` until the next call replaces it. */
	ok = theirs && EVP_PKEY_derive_set_peer_ex(k->derive, theirs, 0) == 1 &&
	     EVP_PKEY_derive(k->derive, out, &len) == 1 && len == KEY_LEN &&
	     /* A low-order public key gives the all-zero secret (RFC 7748 section 6.1). */
	     !crypto_is_zero(out, KEY_LEN);
	EVP_PKEY_free(theirs);
	ERR_pop_to_mark();
out:
	if (!ok)
		crypto_wipe(out, KEY_LEN);
	return ok;
}

bool crypto_x25519_public(uint8_t pub[KEY_LEN], const uint8_t priv[KEY_LEN])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, KEY_LEN);
	size_t len = KEY_LEN;
	bool ok;

	ok = key && EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == KEY_LEN;
	EVP_PKEY_free(key); /* libcrypto wipes the private key it held */
	return ok;
}

bool crypto_x25519(uint8_t out[KEY_LEN], const uint8_t priv[KEY_LEN], const uint8_t pub[KEY_LEN])
{
	struct crypto_x25519_key k;
	bool ok;

	ERR_set_mark();
	ok = crypto_x25519_key_init(&k, priv) && crypto_x25519_key_dh(out, &k, pub);
	ERR_pop_to_mark();
	crypto_x25519_key_free(&k);
	if (!ok)
		crypto_wipe(out, KEY_LEN);
	return ok;
}

/* ---- BLAKE2s, keyed BLAKE2s, HMAC-BLAKE2s, KDF ------------------------- */

void crypto_hash(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
	EVP_MD_CTX *ctx;
	unsigned int len;
	bool ok;

	if (!crypto_init())
		crypto_fatal("BLAKE2s");
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex2(ctx, alg.blake2s, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
	     EVP_DigestUpdate(ctx, b, blen) == 1 && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == CRYPTO_HASH_LEN;
	EVP_MD_CTX_free(ctx); /* the provider wipes its state */
	if (!ok)
		crypto_fatal("BLAKE2s");
}

void crypto_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in, size_t inlen)
{
	EVP_MAC_CTX *ctx;
	size_t size = outlen, len = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};
	bool ok;

	if (!crypto_init())
		crypto_fatal("keyed BLAKE2s");
	ctx = EVP_MAC_CTX_new(alg.blake2smac);
	ok = ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 && EVP_MAC_update(ctx, in, inlen) == 1 &&
	     EVP_MAC_final(ctx, out, &len, outlen) == 1 && len == outlen;
	EVP_MAC_CTX_free(ctx);
	if (!ok)
		crypto_fatal("keyed BLAKE2s");
}

static EVP_MAC_CTX *hmac_new(void)
{
	EVP_MAC_CTX *ctx;

	if (!crypto_init() || !(ctx = EVP_MAC_CTX_dup(alg.hmac_blake2s)))
		crypto_fatal("HMAC-BLAKE2s");
	return ctx;
}

/* out = HMAC(key, a || b); the context is re-keyed, so one serves a whole KDF. */
static void hmac_run(EVP_MAC_CTX *ctx, uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen, const void *a,
		     size_t alen, const void *b, size_t blen)
{
	static const uint8_t empty_key;
	size_t len = 0;

	/* A NULL key would mean "keep the previous one" to libcrypto. */
	if (EVP_MAC_init(ctx, key ? key : &empty_key, keylen, NULL) != 1 || EVP_MAC_update(ctx, a, alen) != 1 ||
	    EVP_MAC_update(ctx, b, blen) != 1 || EVP_MAC_final(ctx, out, &len, CRYPTO_HASH_LEN) != 1 ||
	    len != CRYPTO_HASH_LEN)
		crypto_fatal("HMAC-BLAKE2s");
}

void crypto_hmac(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen, const void *in, size_t inlen)
{
	EVP_MAC_CTX *ctx = hmac_new();

	hmac_run(ctx, out, key, keylen, in, inlen, NULL, 0);
	EVP_MAC_CTX_free(ctx); /* libcrypto wipes the key copy and the pads */
}

void crypto_kdf(uint8_t t1[KEY_LEN], uint8_t t2[KEY_LEN], uint8_t t3[KEY_LEN], const uint8_t key[KEY_LEN],
		const void *in, size_t inlen)
{
	uint8_t *const outs[3] = { t1, t2, t3 };
	uint8_t t0[CRYPTO_HASH_LEN], t[3][CRYPTO_HASH_LEN];
	EVP_MAC_CTX *ctx = hmac_new();
	int n = t3 ? 3 : t2 ? 2 : 1;

	/* The outputs may alias key or in (MixKey writes ck over itself), so
	 * everything is computed into locals first. */
	hmac_run(ctx, t0, key, KEY_LEN, in, inlen, NULL, 0);
	for (int i = 0; i < n; i++) {
		const uint8_t counter = (uint8_t)(i + 1);

		if (i == 0)
			hmac_run(ctx, t[i], t0, sizeof(t0), &counter, 1, NULL, 0);
		else
			hmac_run(ctx, t[i], t0, sizeof(t0), t[i - 1], CRYPTO_HASH_LEN, &counter, 1);
	}
	for (int i = 0; i < n; i++)
		if (outs[i])
			memcpy(outs[i], t[i], KEY_LEN);
	EVP_MAC_CTX_free(ctx);
	crypto_wipe(t0, sizeof(t0));
	crypto_wipe(t, sizeof(t));
}

/* ---- AEAD ------------------------------------------------------------ */

static const EVP_CIPHER *suite_cipher(enum cipher_suite suite)
{
	if (!crypto_init())
		return NULL;
	switch (suite) {
	case SUITE_CHACHAPOLY:
		return alg.chachapoly;
	case SUITE_AESGCM:
		return alg.aesgcm;
	}
	return NULL;
}

/* Noise's nonces: 32 zero bits, then the counter little-endian (ChaChaPoly)
 * or big-endian (AESGCM). */
static void counter_iv(uint8_t iv[AEAD_IV_LEN], enum cipher_suite suite, uint64_t counter)
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++) {
		int shift = suite == SUITE_AESGCM ? 8 * (7 - i) : 8 * i;

		iv[4 + i] = (uint8_t)(counter >> shift);
	}
}

/* Runs one AEAD operation on a context whose key and IV are set. Seal: len
 * bytes in, len + 16 out. Open: len bytes (with the tag) in, len - 16 out;
 * on a bad tag dst is wiped so that unauthenticated plaintext never escapes. */
static bool aead_run(EVP_CIPHER_CTX *ctx, bool seal, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		     size_t adlen)
{
	uint8_t tag[CRYPTO_TAG_LEN];
	size_t plen;
	int n;
	bool ok = false;

	if (!seal && len < CRYPTO_TAG_LEN)
		return false;
	plen = seal ? len : len - CRYPTO_TAG_LEN;
	if (plen > INT_MAX - CRYPTO_TAG_LEN || adlen > INT_MAX)
		return false;
	/* The tag goes in and out as a parameter: EVP_CIPHER_CTX_ctrl
	 * would build the same parameter list and cost twice as much. */
	OSSL_PARAM tag_param[] = { OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, CRYPTO_TAG_LEN),
				   OSSL_PARAM_construct_end() };
	if (!seal) {
		memcpy(tag, src + plen, CRYPTO_TAG_LEN);
		if (EVP_CIPHER_CTX_set_params(ctx, tag_param) != 1)
			goto out;
	}
	if (adlen && EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen) != 1)
		goto out;
	if (plen && (EVP_CipherUpdate(ctx, dst, &n, src, (int)plen) != 1 || (size_t)n != plen))
		goto out;
	/* Stream-like AEADs emit nothing at the end; the tag is checked here. */
	if (EVP_CipherFinal_ex(ctx, tag, &n) != 1 || n != 0)
		goto out;
	if (seal) {
		tag_param[0].data = dst + plen;
		if (EVP_CIPHER_CTX_get_params(ctx, tag_param) != 1)
			goto out;
	}
	ok = true;
out:
	if (!ok && !seal)
		crypto_wipe(dst, plen);
	return ok;
}

static bool aead_oneshot(const EVP_CIPHER *cipher, bool seal, uint8_t *dst, const uint8_t *src, size_t len,
			 const uint8_t *ad, size_t adlen, const uint8_t iv[AEAD_IV_LEN], const uint8_t key[KEY_LEN])
{
	EVP_CIPHER_CTX *ctx;
	bool ok;

	if (!cipher || !(ctx = EVP_CIPHER_CTX_new()))
		return false;
	ok = EVP_CipherInit_ex2(ctx, cipher, key, iv, seal, NULL) == 1 && aead_run(ctx, seal, dst, src, len, ad, adlen);
	EVP_CIPHER_CTX_free(ctx); /* the providers wipe their key schedules */
	return ok;
}

bool crypto_aead_seal(enum cipher_suite suite, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[KEY_LEN])
{
	uint8_t iv[AEAD_IV_LEN];

	counter_iv(iv, suite, counter);
	return aead_oneshot(suite_cipher(suite), true, dst, src, len, ad, adlen, iv, key);
}

bool crypto_aead_open(enum cipher_suite suite, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[KEY_LEN])
{
	uint8_t iv[AEAD_IV_LEN];

	counter_iv(iv, suite, counter);
	return aead_oneshot(suite_cipher(suite), false, dst, src, len, ad, adlen, iv, key);
}

/* ---- HChaCha20 and XChaCha20-Poly1305 --------------------------------- */

static uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t rotl32(uint32_t v, int n)
{
	return v << n | v >> (32 - n);
}

static void quarter_round(uint32_t x[16], int a, int b, int c, int d)
{
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 7);
}

void crypto_hchacha20(uint8_t out[KEY_LEN], const uint8_t key[KEY_LEN], const uint8_t nonce[16])
{
	/* The ChaCha state with the 128-bit nonce where counter and nonce go;
	 * 20 rounds without the final addition; rows 0 and 3 are the subkey. */
	uint32_t x[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }; /* "expand 32-byte k" */

	for (int i = 0; i < 8; i++)
		x[4 + i] = load32_le(key + 4 * i);
	for (int i = 0; i < 4; i++)
		x[12 + i] = load32_le(nonce + 4 * i);
	for (int round = 0; round < 10; round++) {
		quarter_round(x, 0, 4, 8, 12); /* columns */
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15); /* diagonals */
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	for (int i = 0; i < 4; i++) {
		store32_le(out + 4 * i, x[i]);
		store32_le(out + 16 + 4 * i, x[12 + i]);
	}
	crypto_wipe(x, sizeof(x));
}

static bool xaead(bool seal, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[CRYPTO_XNONCE_LEN], const uint8_t key[KEY_LEN])
{
	uint8_t subkey[KEY_LEN], iv[AEAD_IV_LEN] = { 0 };
	bool ok;

	crypto_hchacha20(subkey, key, nonce);
	memcpy(iv + 4, nonce + 16, 8);
	ok = aead_oneshot(suite_cipher(SUITE_CHACHAPOLY), seal, dst, src, len, ad, adlen, iv, subkey);
	crypto_wipe(subkey, sizeof(subkey));
	return ok;
}

bool crypto_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		       const uint8_t nonce[CRYPTO_XNONCE_LEN], const uint8_t key[KEY_LEN])
{
	return xaead(true, dst, src, len, ad, adlen, nonce, key);
}

bool crypto_xaead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		       const uint8_t nonce[CRYPTO_XNONCE_LEN], const uint8_t key[KEY_LEN])
{
	return xaead(false, dst, src, len, ad, adlen, nonce, key);
}

/* ---- The keyed data-path context -------------------------------------- */

bool crypto_aead_ctx_init(struct crypto_aead_ctx *c)
{
	c->evp = EVP_CIPHER_CTX_new();
	memset(&c->chachapoly, 0, sizeof(c->chachapoly));
	c->suite = SUITE_CHACHAPOLY;
	c->keyed = false;
	return c->evp != NULL;
}

bool crypto_aead_ctx_setkey(struct crypto_aead_ctx *c, enum cipher_suite suite, const uint8_t key[KEY_LEN])
{
	const EVP_CIPHER *cipher = suite_cipher(suite);
	EVP_CIPHER_CTX *ctx = c->evp;
	int ok;

	c->keyed = false;
	if (!ctx || !cipher)
		return false;
	/* Naming the cipher makes libcrypto build a fresh provider context;
	 * re-keying the one already there does not allocate. */
	if (EVP_CIPHER_CTX_get0_cipher(ctx) == cipher)
		ok = EVP_CipherInit_ex2(ctx, NULL, key, NULL, 1, NULL);
	else
		ok = EVP_CipherInit_ex2(ctx, cipher, key, NULL, 1, NULL);
	if (ok != 1 || (suite == SUITE_CHACHAPOLY && !chachapoly_setkey(&c->chachapoly, key))) {
		crypto_aead_ctx_clear(c); /* drop whatever part of the key got in */
		return false;
	}
	if (suite != SUITE_CHACHAPOLY)
		chachapoly_free(&c->chachapoly);
	c->suite = suite;
	c->keyed = true;
	return true;
}

void crypto_aead_ctx_clear(struct crypto_aead_ctx *c)
{
	/* Frees (and libcrypto wipes) the provider context: the key schedule,
	 * the last one-time Poly1305 key or GHASH key. The next setkey builds a
	 * new one, once per keypair, never per packet. */
	if (c->evp)
		EVP_CIPHER_CTX_reset(c->evp);
	chachapoly_free(&c->chachapoly);
	c->keyed = false;
}

void crypto_aead_ctx_free(struct crypto_aead_ctx *c)
{
	EVP_CIPHER_CTX_free(c->evp);
	c->evp = NULL;
	chachapoly_free(&c->chachapoly);
	c->keyed = false;
}

static bool aead_ctx_run(struct crypto_aead_ctx *c, bool seal, uint8_t *dst, const uint8_t *src, size_t len,
			 uint64_t counter)
{
	uint8_t iv[AEAD_IV_LEN];

	if (!c->evp || !c->keyed)
		return false;
	/* Data messages up to CHACHAPOLY_MAX bytes: see chachapoly.h. */
	if (c->suite == SUITE_CHACHAPOLY && (seal ? len : len - CRYPTO_TAG_LEN) <= CHACHAPOLY_MAX)
		return seal ? chachapoly_seal(&c->chachapoly, dst, src, len, counter)
			    : chachapoly_open(&c->chachapoly, dst, src, len, counter);
	counter_iv(iv, c->suite, counter);
	/* Sets the nonce and the direction only: no key schedule, no allocation. */
	if (EVP_CipherInit_ex2(c->evp, NULL, NULL, iv, seal, NULL) != 1)
		return false;
	bool ok = aead_run(c->evp, seal, dst, src, len, NULL, 0);
	crypto_simd_done();
	return ok;
}

bool crypto_aead_ctx_seal(struct crypto_aead_ctx *c, uint8_t *dst, const uint8_t *src, size_t len, uint64_t counter)
{
	return aead_ctx_run(c, true, dst, src, len, counter);
}

bool crypto_aead_ctx_open(struct crypto_aead_ctx *c, uint8_t *dst, const uint8_t *src, size_t len, uint64_t counter)
{
	return aead_ctx_run(c, false, dst, src, len, counter);
}

/* ---- SipHash-2-4 ------------------------------------------------------ */

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One SipRound over the four state words. */
#define SIPROUND(v0, v1, v2, v3)     \
	do {                         \
		v0 += v1;            \
		v1 = rotl64(v1, 13); \
		v1 ^= v0;            \
		v0 = rotl64(v0, 32); \
		v2 += v3;            \
		v3 = rotl64(v3, 16); \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = rotl64(v3, 21); \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = rotl64(v1, 17); \
		v1 ^= v2;            \
		v2 = rotl64(v2, 32); \
	} while (0)

uint64_t crypto_siphash(const uint8_t key[CRYPTO_SIPHASH_KEY_LEN], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	/* "somepseudorandomlygeneratedbytes" */
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m, last = (uint64_t)(len & 0xff) << 56;
	size_t i;

	/* Compression: two SipRounds per 8-byte word. */
	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last word: the 0..7 bytes left, and the length in its top byte. */
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	/* Finalization: four SipRounds. */
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#undef SIPROUND

/* ---- Comparison and wiping -------------------------------------------- */

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool crypto_is_zero(const void *a, size_t len)
{
	const volatile uint8_t *p = a;
	uint8_t acc = 0;

	/* No early exit: the time does not depend on where a non-zero byte is. */
	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

void crypto_simd_done(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX__)
	/* The compiler's runtime reads the CPU's features once, before main. */
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vzeroupper");
#endif
}

void crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}
