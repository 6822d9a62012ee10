// SPDX-License-Identifier: MIT
/*
 * Known answers for every primitive in crypto.c, and checks that the AEAD
 * nonces, the keyed context and the one-shot calls agree with each other and
 * with libcrypto driven directly.
 *
 * Sources of the expected values: RFC 7693 appendix B and the BLAKE2
 * reference KAT (blake2s-kat.txt, keyed); RFC 7748 sections 5.2 and 6.1;
 * draft-irtf-cfrg-xchacha-03 sections 2.2.1 and A.3.1; SipHash: the paper's
 * appendix A (Aumasson and Bernstein, "SipHash: a fast short-input PRF") and
 * the first entry of its reference vectors.h. The HMAC-BLAKE2s, KDF
 * and 16-byte keyed BLAKE2s values were computed once with Python's hashlib
 * and hmac modules (an implementation independent of OpenSSL's).
 */
#include "unit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"

/* Decodes hex that the test itself wrote; a typo fails the test. */
static size_t hex(uint8_t *out, size_t cap, const char *h)
{
	int n = unit_hex(out, cap, h);

	assert_true(n >= 0);
	return (size_t)n;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];

	assert_int_equal(hex(want, sizeof(want), want_hex), len);
	assert_memory_equal(got, want, len);
}

/* ---- BLAKE2s --------------------------------------------------------- */

static void test_blake2s_known_answers(void **state)
{
	uint8_t out[CRYPTO_HASH_LEN], split[CRYPTO_HASH_LEN];
	(void)state;

	/* RFC 7693 appendix B. */
	crypto_hash(out, "abc", 3, NULL, 0);
	assert_hex_equal(out, sizeof(out), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	crypto_hash(out, NULL, 0, NULL, 0);
	assert_hex_equal(out, sizeof(out), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	/* a || b is one message, however it is cut. */
	crypto_hash(split, "a", 1, "bc", 2);
	crypto_hash(out, "abc", 3, NULL, 0);
	assert_memory_equal(out, split, sizeof(out));
}

static void test_keyed_blake2s(void **state)
{
	uint8_t key[32], out[32];
	const uint8_t zero = 0;
	(void)state;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	/* The first two keyed entries of the BLAKE2 reference KAT. */
	crypto_mac(out, 32, key, sizeof(key), NULL, 0);
	assert_hex_equal(out, 32, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
	crypto_mac(out, 32, key, sizeof(key), &zero, 1);
	assert_hex_equal(out, 32, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1");
	/* The 16-byte outputs WireGuard uses are a different parameter block,
	 * not a truncation (hashlib.blake2s(key=..., digest_size=16)). */
	memset(out, 0xee, sizeof(out));
	crypto_mac(out, 16, key, sizeof(key), NULL, 0);
	assert_hex_equal(out, 16, "9536f9b267655743dee97b8a670f9f53");
	crypto_mac(out, 16, key, sizeof(key), &zero, 1);
	assert_hex_equal(out, 16, "13bacfb85b48a1223c595f8c1e7e82cb");
	for (int i = 16; i < 32; i++)
		assert_int_equal(out[i], 0xee); /* nothing written past outlen */
}

static void test_hmac_blake2s(void **state)
{
	uint8_t key[100], out[32];
	(void)state;

	/* Expected values: Python's hmac.new(key, msg, hashlib.blake2s). */
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	crypto_hmac(out, key, 32, "abc", 3);
	assert_hex_equal(out, 32, "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f");
	/* A key of exactly one BLAKE2s block (64 bytes) is used as it is... */
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	crypto_hmac(out, key, 64, NULL, 0);
	assert_hex_equal(out, 32, "4a4f8f181c931253202b2d7a77e2a612f65580f4b0d56108f7f275f22b63ae00");
	/* ...a longer one is hashed first. */
	memset(key, 0xaa, sizeof(key));
	crypto_hmac(out, key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First", 54);
	assert_hex_equal(out, 32, "6d5406353ca2d942cdc577ddbaaf90883f43b999eb3878979e68deb5d2e09563");
}

static void test_kdf(void **state)
{
	static const char input[] = "WireGuard";
	uint8_t key[32], t0[32], one[33], want1[32], want2[32], want3[32];
	uint8_t a1[32], b1[32], b2[32], c1[32], c2[32], c3[32], ck[32], k[32];
	(void)state;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	/* The whitepaper's definition, spelled out with crypto_hmac. */
	crypto_hmac(t0, key, 32, input, strlen(input));
	one[0] = 1;
	crypto_hmac(want1, t0, 32, one, 1);
	memcpy(one, want1, 32);
	one[32] = 2;
	crypto_hmac(want2, t0, 32, one, 33);
	memcpy(one, want2, 32);
	one[32] = 3;
	crypto_hmac(want3, t0, 32, one, 33);

	crypto_kdf(a1, NULL, NULL, key, input, strlen(input));
	crypto_kdf(b1, b2, NULL, key, input, strlen(input));
	crypto_kdf(c1, c2, c3, key, input, strlen(input));
	assert_memory_equal(a1, want1, 32);
	assert_memory_equal(b1, want1, 32);
	assert_memory_equal(b2, want2, 32);
	assert_memory_equal(c1, want1, 32);
	assert_memory_equal(c2, want2, 32);
	assert_memory_equal(c3, want3, 32);
	/* And against Python's hmac, so both sides above are not wrong alike. */
	assert_hex_equal(c1, 32, "7e615ce2573f4139b960d562ec463daf7164bd86a0a64c0adc374ff2655769f3");
	assert_hex_equal(c2, 32, "42dbbd4438e101cd2c2ea8d05ed6716bf87489aea47ece2f06358835670130bf");
	assert_hex_equal(c3, 32, "5c58c1d9808a5bfdf8f38f6487248985c04f4b6d0fe427516935a0f6903b0157");

	/* MixKey's shape: the first output overwrites the key. */
	memcpy(ck, key, 32);
	crypto_kdf(ck, k, NULL, ck, input, strlen(input));
	assert_memory_equal(ck, want1, 32);
	assert_memory_equal(k, want2, 32);
}

/* ---- X25519 ---------------------------------------------------------- */

static void test_x25519_rfc7748(void **state)
{
	uint8_t scalar[32], u[32], out[32], a[32], b[32], a_pub[32], b_pub[32];
	(void)state;

	/* Section 5.2. The second u has its top bit set, which X25519 ignores. */
	hex(scalar, 32, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	hex(u, 32, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
	assert_true(crypto_x25519(out, scalar, u));
	assert_hex_equal(out, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	hex(scalar, 32, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
	hex(u, 32, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
	assert_true(crypto_x25519(out, scalar, u));
	assert_hex_equal(out, 32, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");

	/* Section 6.1. */
	hex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	hex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_true(crypto_x25519_public(a_pub, a));
	assert_hex_equal(a_pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_true(crypto_x25519_public(b_pub, b));
	assert_hex_equal(b_pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_true(crypto_x25519(out, a, b_pub));
	assert_hex_equal(out, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_true(crypto_x25519(out, b, a_pub));
	assert_hex_equal(out, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

static void test_x25519_rejects_low_order(void **state)
{
	/* Points of small order: u = 0 (order 2), u = 1 (order 4) and two of
	 * order 8. Each makes the shared secret all zeros. */
	static const char *const low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	};
	uint8_t priv[32], pub[32], out[32];
	(void)state;

	hex(priv, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		hex(pub, 32, low_order[i]);
		memset(out, 0xaa, sizeof(out));
		assert_false(crypto_x25519(out, priv, pub));
		assert_true(crypto_is_zero(out, sizeof(out)));
	}
}

static void test_x25519_keygen(void **state)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], ab[32], ba[32];
	(void)state;

	assert_true(crypto_x25519_keygen(a));
	assert_true(crypto_x25519_keygen(b));
	assert_memory_not_equal(a, b, 32);
	/* Clamped as RFC 7748 section 5 decodes scalars. */
	assert_int_equal(a[0] & 7, 0);
	assert_int_equal(a[31] & 0xc0, 0x40);
	assert_true(crypto_x25519_public(a_pub, a));
	assert_true(crypto_x25519_public(b_pub, b));
	assert_true(crypto_x25519(ab, a, b_pub));
	assert_true(crypto_x25519(ba, b, a_pub));
	assert_memory_equal(ab, ba, 32);
}

/* A key made once serves many DH, each with another public key, and gives
 * what the one-shot function gives; low-order keys fail with it too. */
static void test_x25519_key_object(void **state)
{
	uint8_t a[32], b[32], c[32], b_pub[32], c_pub[32], want[32], got[32], zero[32] = { 0 };
	struct crypto_x25519_key k, none;
	(void)state;

	hex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	hex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_true(crypto_x25519_keygen(c));
	assert_true(crypto_x25519_public(b_pub, b));
	assert_true(crypto_x25519_public(c_pub, c));
	assert_true(crypto_x25519_key_init(&k, a));
	assert_hex_equal(k.pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	for (int round = 0; round < 3; round++) {
		assert_true(crypto_x25519_key_dh(got, &k, b_pub));
		assert_hex_equal(got, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
		assert_true(crypto_x25519(want, a, c_pub));
		assert_true(crypto_x25519_key_dh(got, &k, c_pub));
		assert_memory_equal(got, want, 32);
		memset(got, 0xaa, sizeof(got));
		assert_false(crypto_x25519_key_dh(got, &k, zero));
		assert_true(crypto_is_zero(got, sizeof(got)));
	}
	crypto_x25519_key_free(&k);
	assert_null(k.pkey);
	/* A zeroed key is no key. */
	memset(&none, 0, sizeof(none));
	assert_false(crypto_x25519_key_dh(got, &none, b_pub));
	crypto_x25519_key_free(&none);
}

/* Clamping changes only the bits X25519 ignores or sets itself. */
static void test_x25519_clamp(void **state)
{
	uint8_t raw[32], clamped[32], pub_raw[32], pub_clamped[32];
	(void)state;

	memset(raw, 0xff, sizeof(raw));
	memcpy(clamped, raw, sizeof(clamped));
	crypto_x25519_clamp(clamped);
	assert_int_equal(clamped[0], 0xf8);
	assert_int_equal(clamped[31], 0x7f);
	assert_memory_equal(clamped + 1, raw + 1, 30);
	assert_true(crypto_x25519_public(pub_raw, raw));
	assert_true(crypto_x25519_public(pub_clamped, clamped));
	assert_memory_equal(pub_raw, pub_clamped, 32);
	memset(raw, 0, sizeof(raw));
	crypto_x25519_clamp(raw);
	assert_int_equal(raw[0], 0);
	assert_int_equal(raw[31], 0x40);
}

/* ---- HChaCha20, XChaCha20-Poly1305 ------------------------------------ */

static void test_hchacha20(void **state)
{
	uint8_t key[32], nonce[16], out[32];
	(void)state;

	/* draft-irtf-cfrg-xchacha-03 section 2.2.1. */
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	hex(nonce, 16, "000000090000004a0000000031415927");
	crypto_hchacha20(out, key, nonce);
	assert_hex_equal(out, 32, "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
}

static void test_xchacha20_poly1305(void **state)
{
	static const char plaintext[] =
		"Ladies and Gentlemen of the class of '99: If I could offer you only one "
		"tip for the future, sunscreen would be it.";
	static const char ciphertext_hex[] =
		"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
		"ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
		"21f9664c97637da9768812f615c68b13b52e"
		"c0875924c1c7987947deafd8780acf49"; /* tag */
	const size_t len = sizeof(plaintext) - 1;
	uint8_t key[32], nonce[24], ad[12], sealed[256], opened[256], bad[256];
	(void)state;

	/* draft-irtf-cfrg-xchacha-03 appendix A.3.1. */
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	hex(ad, sizeof(ad), "50515253c0c1c2c3c4c5c6c7");
	assert_int_equal(len, 114);

	assert_true(crypto_xaead_seal(sealed, (const uint8_t *)plaintext, len, ad, sizeof(ad), nonce, key));
	assert_hex_equal(sealed, len + 16, ciphertext_hex);
	assert_true(crypto_xaead_open(opened, sealed, len + 16, ad, sizeof(ad), nonce, key));
	assert_memory_equal(opened, plaintext, len);

	/* A changed tag, ciphertext, associated data or nonce is refused. */
	memcpy(bad, sealed, len + 16);
	bad[len + 15] ^= 1;
	assert_false(crypto_xaead_open(opened, bad, len + 16, ad, sizeof(ad), nonce, key));
	memcpy(bad, sealed, len + 16);
	bad[0] ^= 0x80;
	assert_false(crypto_xaead_open(opened, bad, len + 16, ad, sizeof(ad), nonce, key));
	ad[0] ^= 1;
	assert_false(crypto_xaead_open(opened, sealed, len + 16, ad, sizeof(ad), nonce, key));
	ad[0] ^= 1;
	nonce[23] ^= 1; /* the part that is not fed to HChaCha20 */
	assert_false(crypto_xaead_open(opened, sealed, len + 16, ad, sizeof(ad), nonce, key));
	nonce[23] ^= 1;
	nonce[0] ^= 1; /* the part that is */
	assert_false(crypto_xaead_open(opened, sealed, len + 16, ad, sizeof(ad), nonce, key));
	nonce[0] ^= 1;
	assert_false(crypto_xaead_open(opened, sealed, 15, ad, sizeof(ad), nonce, key));
	assert_true(crypto_xaead_open(opened, sealed, len + 16, ad, sizeof(ad), nonce, key));
}

/* ---- The counter-nonce AEADs -------------------------------------------- */

/* The same AEAD through EVP directly, with an explicit 12-byte nonce. */
static void evp_seal(const char *name, uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		     const uint8_t iv[12], const uint8_t key[32])
{
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	assert_non_null(cipher);
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex2(ctx, cipher, key, iv, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, ad, (int)adlen), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, dst, &n, src, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, dst + len, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, dst + len), 1);
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
}

static void check_nonce_layout(enum cipher_suite suite, const char *evp_name, bool big_endian)
{
	static const uint8_t msg[] = "a packet's worth of plaintext";
	const uint64_t counter = 0x0102030405060708ULL;
	uint8_t key[32], iv[12] = { 0 }, ours[64], direct[64], opened[64];
	const size_t len = sizeof(msg);

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(7 * i + 1);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(counter >> (big_endian ? 8 * (7 - i) : 8 * i));
	assert_int_equal(iv[4], big_endian ? 0x01 : 0x08);

	assert_true(crypto_aead_seal(suite, ours, msg, len, (const uint8_t *)"ad", 2, counter, key));
	evp_seal(evp_name, direct, msg, len, (const uint8_t *)"ad", 2, iv, key);
	assert_memory_equal(ours, direct, len + 16);
	assert_true(crypto_aead_open(suite, opened, ours, len + 16, (const uint8_t *)"ad", 2, counter, key));
	assert_memory_equal(opened, msg, len);

	/* The other byte order is a different nonce, so it must not match. */
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(counter >> (big_endian ? 8 * i : 8 * (7 - i)));
	evp_seal(evp_name, direct, msg, len, (const uint8_t *)"ad", 2, iv, key);
	assert_memory_not_equal(ours, direct, len + 16);
	/* Nor does the next counter. */
	assert_false(crypto_aead_open(suite, opened, ours, len + 16, (const uint8_t *)"ad", 2, counter + 1, key));
}

static void test_aesgcm_nonce_is_big_endian(void **state)
{
	(void)state;
	check_nonce_layout(SUITE_AESGCM, "AES-256-GCM", true);
}

static void test_chachapoly_nonce_is_little_endian(void **state)
{
	(void)state;
	check_nonce_layout(SUITE_CHACHAPOLY, "ChaCha20-Poly1305", false);
}

static void test_aead_rejects_tampering(void **state)
{
	static const enum cipher_suite suites[] = { SUITE_CHACHAPOLY, SUITE_AESGCM };
	uint8_t key[32], msg[40], sealed[56], opened[40];
	(void)state;

	memset(key, 0x42, sizeof(key));
	memset(msg, 0x17, sizeof(msg));
	for (size_t s = 0; s < 2; s++) {
		assert_true(crypto_aead_seal(suites[s], sealed, msg, sizeof(msg), NULL, 0, 9, key));
		for (size_t bit = 0; bit < 8 * sizeof(sealed); bit += 7) {
			sealed[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			memset(opened, 0x55, sizeof(opened));
			assert_false(crypto_aead_open(suites[s], opened, sealed, sizeof(sealed), NULL, 0, 9, key));
			/* No unauthenticated plaintext is left behind. */
			assert_true(crypto_is_zero(opened, sizeof(opened)));
			sealed[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
		key[0] ^= 1;
		assert_false(crypto_aead_open(suites[s], opened, sealed, sizeof(sealed), NULL, 0, 9, key));
		key[0] ^= 1;
		assert_false(crypto_aead_open(suites[s], opened, sealed, 15, NULL, 0, 9, key));
		assert_true(crypto_aead_open(suites[s], opened, sealed, sizeof(sealed), NULL, 0, 9, key));
		assert_memory_equal(opened, msg, sizeof(msg));
	}
	assert_false(crypto_aead_seal((enum cipher_suite)7, sealed, msg, sizeof(msg), NULL, 0, 0, key));
}

static void test_aead_ctx_matches_oneshot(void **state)
{
	static const enum cipher_suite suites[] = { SUITE_CHACHAPOLY, SUITE_AESGCM };
	static const size_t lens[] = { 0, 1, 15, 16, 17, 64, 1420 };
	static const uint64_t counters[] = { 0, 1, 255, 256, 0x0102030405060708ULL, UINT64_MAX - 1 };
	struct crypto_aead_ctx ctx;
	uint8_t key[32], msg[1420], ctx_out[1436], one_out[1436], buf[1436];
	(void)state;

	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(msg, sizeof(msg)));
	assert_true(crypto_aead_ctx_init(&ctx));
	assert_false(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 1, 0)); /* no key yet */
	for (size_t s = 0; s < 2; s++) {
		assert_true(crypto_aead_ctx_setkey(&ctx, suites[s], key));
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
				size_t len = lens[l];
				uint64_t n = counters[c];

				assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, len, n));
				assert_true(crypto_aead_seal(suites[s], one_out, msg, len, NULL, 0, n, key));
				assert_memory_equal(ctx_out, one_out, len + 16);
				/* The same context opens, in place, then seals again. */
				memcpy(buf, one_out, len + 16);
				assert_true(crypto_aead_ctx_open(&ctx, buf, buf, len + 16, n));
				assert_memory_equal(buf, msg, len);
				memcpy(buf, ctx_out, len + 16);
				buf[len] ^= 1; /* the tag's first byte */
				assert_false(crypto_aead_ctx_open(&ctx, buf, buf, len + 16, n));
				assert_false(crypto_aead_ctx_open(&ctx, buf, ctx_out, len + 16, n + 1));
				/* A failed open leaves the context usable. */
				memcpy(buf, msg, len);
				assert_true(crypto_aead_ctx_seal(&ctx, buf, buf, len, n));
				assert_memory_equal(buf, one_out, len + 16);
				assert_true(crypto_aead_open(suites[s], buf, ctx_out, len + 16, NULL, 0, n, key));
				assert_memory_equal(buf, msg, len);
			}
		}
		/* Re-keying in place changes the output. */
		key[31] ^= 1;
		assert_true(crypto_aead_ctx_setkey(&ctx, suites[s], key));
		assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 64, 3));
		assert_memory_not_equal(ctx_out, one_out, 64 + 16);
		assert_true(crypto_aead_seal(suites[s], one_out, msg, 64, NULL, 0, 3, key));
		assert_memory_equal(ctx_out, one_out, 64 + 16);
	}
	crypto_aead_ctx_clear(&ctx);
	assert_false(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 1, 0));
	assert_false(crypto_aead_ctx_open(&ctx, ctx_out, one_out, 17, 0));
	assert_false(crypto_aead_ctx_setkey(&ctx, (enum cipher_suite)7, key));
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_CHACHAPOLY, key));
	assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 100, 5));
	assert_true(crypto_aead_seal(SUITE_CHACHAPOLY, one_out, msg, 100, NULL, 0, 5, key));
	assert_memory_equal(ctx_out, one_out, 116);
	crypto_aead_ctx_free(&ctx);
	crypto_aead_ctx_free(&ctx); /* harmless twice */
}

/* Every libcrypto allocation goes through these once main() installs them. */
static size_t allocations;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocations++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocations++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static bool counting_allocations;

static void test_aead_ctx_does_not_allocate(void **state)
{
	static const enum cipher_suite suites[] = { SUITE_CHACHAPOLY, SUITE_AESGCM };
	struct crypto_aead_ctx ctx;
	uint8_t key[32], pkt[1436];
	(void)state;

	assert_true(counting_allocations);
	memset(key, 3, sizeof(key));
	memset(pkt, 0, sizeof(pkt));
	assert_true(crypto_aead_ctx_init(&ctx));
	for (size_t s = 0; s < 2; s++) {
		assert_true(crypto_aead_ctx_setkey(&ctx, suites[s], key));
		allocations = 0;
		for (uint64_t n = 0; n < 100; n++) {
			assert_true(crypto_aead_ctx_seal(&ctx, pkt, pkt, 1420, n));
			assert_true(crypto_aead_ctx_open(&ctx, pkt, pkt, 1436, n));
		}
		key[0]++;
		assert_true(crypto_aead_ctx_setkey(&ctx, suites[s], key)); /* same suite: in place */
		assert_true(crypto_aead_ctx_seal(&ctx, pkt, pkt, 1420, 0));
		assert_int_equal(allocations, 0);
	}
	/* The counter does see libcrypto's allocations: a one-shot call makes some. */
	assert_true(crypto_aead_seal(SUITE_CHACHAPOLY, pkt, pkt, 16, NULL, 0, 0, key));
	assert_true(allocations > 0);
	crypto_aead_ctx_free(&ctx);
}

/* The data path's ChaCha20-Poly1305 (chachapoly.c, built from ChaCha20 and
 * Poly1305) gives libcrypto's AEAD byte for byte at every length up to past
 * CHACHAPOLY_MAX, where the context hands over to libcrypto's AEAD; opening
 * a message with any byte changed fails and writes nothing. */
static void test_chachapoly_matches_aead(void **state)
{
	static uint8_t key[32], msg[CHACHAPOLY_MAX + 80], ctx_out[sizeof(msg) + 16], one_out[sizeof(msg) + 16],
		buf[sizeof(msg) + 16];
	struct crypto_aead_ctx ctx;
	struct chachapoly bare = { 0 };
	(void)state;

	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(msg, sizeof(msg)));
	assert_false(chachapoly_seal(&bare, ctx_out, msg, 16, 0)); /* no key yet */
	assert_true(chachapoly_setkey(&bare, key));
	assert_false(chachapoly_seal(&bare, ctx_out, msg, CHACHAPOLY_MAX + 1, 0));
	assert_false(chachapoly_open(&bare, buf, ctx_out, 15, 0));
	chachapoly_free(&bare);
	chachapoly_free(&bare); /* harmless twice */
	assert_true(crypto_aead_ctx_init(&ctx));
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_CHACHAPOLY, key));
	for (size_t len = 0; len <= sizeof(msg); len++) {
		uint64_t n = (uint64_t)len * 0x9e3779b97f4a7c15ULL;
		size_t flip = (len * 7919) % (len + 16);

		assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, len, n));
		assert_true(crypto_aead_seal(SUITE_CHACHAPOLY, one_out, msg, len, NULL, 0, n, key));
		assert_memory_equal(ctx_out, one_out, len + 16);
		memset(buf, 0xa5, len + 16);
		assert_true(crypto_aead_ctx_open(&ctx, buf, ctx_out, len + 16, n));
		assert_memory_equal(buf, msg, len);
		/* One bit of ciphertext or tag changed: refused, nothing out. */
		ctx_out[flip] ^= 0x20;
		memset(buf, 0xa5, len + 16);
		assert_false(crypto_aead_ctx_open(&ctx, buf, ctx_out, len + 16, n));
		if (len + 16 <= CHACHAPOLY_MAX)
			for (size_t i = 0; i < len + 16; i++)
				assert_int_equal(buf[i], 0xa5);
		ctx_out[flip] ^= 0x20;
		assert_false(crypto_aead_ctx_open(&ctx, buf, ctx_out, len + 16, n + 1));
		/* In place, both ways. */
		memcpy(buf, msg, len);
		assert_true(crypto_aead_ctx_seal(&ctx, buf, buf, len, n));
		assert_memory_equal(buf, one_out, len + 16);
		assert_true(crypto_aead_ctx_open(&ctx, buf, buf, len + 16, n));
		assert_memory_equal(buf, msg, len);
	}
	/* Switching the context to AES-256-GCM and back keeps both right. */
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_AESGCM, key));
	assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 1420, 9));
	assert_true(crypto_aead_seal(SUITE_AESGCM, one_out, msg, 1420, NULL, 0, 9, key));
	assert_memory_equal(ctx_out, one_out, 1436);
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_CHACHAPOLY, key));
	assert_true(crypto_aead_ctx_seal(&ctx, ctx_out, msg, 1420, 9));
	assert_true(crypto_aead_seal(SUITE_CHACHAPOLY, one_out, msg, 1420, NULL, 0, 9, key));
	assert_memory_equal(ctx_out, one_out, 1436);
	crypto_aead_ctx_free(&ctx);
}

static void test_equal_and_zero(void **state)
{
	uint8_t a[33] = { 0 }, b[33] = { 0 };
	(void)state;

	assert_true(crypto_is_zero(a, sizeof(a)));
	assert_true(crypto_equal(a, b, sizeof(a)));
	a[32] = 0x80;
	assert_false(crypto_is_zero(a, sizeof(a)));
	assert_false(crypto_equal(a, b, sizeof(a)));
	assert_true(crypto_equal(a, b, 32));
	crypto_wipe(a, sizeof(a));
	assert_true(crypto_is_zero(a, sizeof(a)));
}

/* ---- SipHash-2-4 ------------------------------------------------------ */

static void test_siphash(void **state)
{
	uint8_t key[16], msg[64], mac[8];
	(void)state;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The paper's appendix A: key 00..0f, the 15-byte message 00..0e. */
	assert_true(crypto_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	/* vectors.h, the empty message: 31 0e 0e dd 47 db 6f 72. */
	assert_true(crypto_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);

	/* Every length from 0 to 64 (each tail length, one and more words)
	 * against libcrypto's SipHash-2-4 with an 8-byte output. */
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	assert_non_null(alg);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(alg);
		size_t size = 8, outlen = 0;
		OSSL_PARAM params[] = { OSSL_PARAM_construct_size_t("size", &size), OSSL_PARAM_construct_end() };
		assert_non_null(ctx);
		assert_int_equal(EVP_MAC_init(ctx, key, sizeof(key), params), 1);
		assert_int_equal(EVP_MAC_update(ctx, msg, len), 1);
		assert_int_equal(EVP_MAC_final(ctx, mac, &outlen, sizeof(mac)), 1);
		assert_int_equal(outlen, 8);
		uint64_t want = 0;
		for (int i = 7; i >= 0; i--)
			want = want << 8 | mac[i];
		assert_true(crypto_siphash(key, msg, len) == want);
		EVP_MAC_CTX_free(ctx);
	}
	EVP_MAC_free(alg);
	/* Another key gives another hash. */
	key[0] ^= 1;
	assert_true(crypto_siphash(key, msg, 15) != 0xa129ca6149be45e5ULL);
}

/* Every function initialises lazily, also after crypto_cleanup(). */
static void test_lazy_init(void **state)
{
	uint8_t out[32], key[32] = { 1 }, sealed[16];
	struct crypto_aead_ctx ctx;
	(void)state;

	assert_true(crypto_aead_ctx_init(&ctx));
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_AESGCM, key));
	crypto_cleanup();
	crypto_hash(out, "abc", 3, NULL, 0);
	assert_hex_equal(out, sizeof(out), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	crypto_cleanup();
	crypto_hmac(out, key, 32, "abc", 3);
	crypto_cleanup();
	assert_true(crypto_aead_ctx_setkey(&ctx, SUITE_AESGCM, key));
	assert_true(crypto_aead_ctx_seal(&ctx, sealed, NULL, 0, 0));
	assert_true(crypto_init());
	assert_true(crypto_init());
	assert_true(crypto_aead_open(SUITE_AESGCM, out, sealed, sizeof(sealed), NULL, 0, 0, key));
	crypto_aead_ctx_free(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_ctx_does_not_allocate),
		cmocka_unit_test(test_blake2s_known_answers),
		cmocka_unit_test(test_keyed_blake2s),
		cmocka_unit_test(test_hmac_blake2s),
		cmocka_unit_test(test_kdf),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_x25519_rejects_low_order),
		cmocka_unit_test(test_x25519_keygen),
		cmocka_unit_test(test_x25519_key_object),
		cmocka_unit_test(test_x25519_clamp),
		cmocka_unit_test(test_hchacha20),
		cmocka_unit_test(test_xchacha20_poly1305),
		cmocka_unit_test(test_aesgcm_nonce_is_big_endian),
		cmocka_unit_test(test_chachapoly_nonce_is_little_endian),
		cmocka_unit_test(test_aead_rejects_tampering),
		cmocka_unit_test(test_aead_ctx_matches_oneshot),
		cmocka_unit_test(test_chachapoly_matches_aead),
		cmocka_unit_test(test_equal_and_zero),
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_lazy_init),
	};
	int failed;

	/* Must precede libcrypto's first allocation. */
	counting_allocations = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	crypto_cleanup();
	return failed;
}
