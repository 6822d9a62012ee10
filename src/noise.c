// SPDX-License-Identifier: MIT
/*
 * The Noise symmetric state and the two messages of IK / IKpsk2
 * (Noise revision 34, sections 5.2, 7 and 9), over crypto.h.
 *
 * The message functions work on a stack copy of the state and write it back
 * only when every step succeeded, so a bad message leaves the caller's state
 * as it was; the copy and every DH output are wiped on the way out.
 */
#include "noise.h"

#include <stdint.h>
#include <string.h>

void noise_symmetric_init(struct noise_symmetric *s, const char *protocol_name, enum cipher_suite suite)
{
	size_t len = strlen(protocol_name);

	memset(s, 0, sizeof(*s));
	if (len <= sizeof(s->h))
		memcpy(s->h, protocol_name, len); /* zero-padded by the memset */
	else
		crypto_hash(s->h, protocol_name, len, NULL, 0);
	memcpy(s->ck, s->h, sizeof(s->ck));
	s->suite = suite;
}

void noise_mix_hash(struct noise_symmetric *s, const void *data, size_t len)
{
	crypto_hash(s->h, s->h, sizeof(s->h), data, len);
}

void noise_mix_key(struct noise_symmetric *s, const uint8_t *ikm, size_t len)
{
	crypto_kdf(s->ck, s->k, NULL, s->ck, ikm, len);
	s->n = 0;
	s->has_key = true;
}

void noise_mix_key_and_hash(struct noise_symmetric *s, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[CRYPTO_HASH_LEN];

	crypto_kdf(s->ck, temp_h, s->k, s->ck, ikm, len);
	noise_mix_hash(s, temp_h, sizeof(temp_h));
	s->n = 0;
	s->has_key = true;
	crypto_wipe(temp_h, sizeof(temp_h));
}

bool noise_encrypt_and_hash(struct noise_symmetric *s, uint8_t *dst, const uint8_t *src, size_t len)
{
	if (!s->has_key) {
		if (len)
			memmove(dst, src, len);
		noise_mix_hash(s, dst, len);
		return true;
	}
	/* Noise reserves the last nonce; a handshake never gets near it. */
	if (s->n == UINT64_MAX)
		return false;
	if (!crypto_aead_seal(s->suite, dst, src, len, s->h, sizeof(s->h), s->n, s->k))
		return false;
	s->n++;
	noise_mix_hash(s, dst, len + CRYPTO_TAG_LEN);
	return true;
}

bool noise_decrypt_and_hash(struct noise_symmetric *s, uint8_t *dst, const uint8_t *src, size_t len)
{
	uint8_t h[CRYPTO_HASH_LEN];

	if (!s->has_key) {
		if (len)
			memmove(dst, src, len);
		noise_mix_hash(s, dst, len);
		return true;
	}
	if (len < CRYPTO_TAG_LEN || s->n == UINT64_MAX)
		return false;
	/* The next h covers the ciphertext, which an in-place open destroys. */
	crypto_hash(h, s->h, sizeof(s->h), src, len);
	if (!crypto_aead_open(s->suite, dst, src, len, s->h, sizeof(s->h), s->n, s->k))
		return false;
	s->n++;
	memcpy(s->h, h, sizeof(s->h));
	return true;
}

void noise_split(const struct noise_symmetric *s, uint8_t k1[KEY_LEN], uint8_t k2[KEY_LEN])
{
	crypto_kdf(k1, k2, NULL, s->ck, NULL, 0);
}

void noise_symmetric_wipe(struct noise_symmetric *s)
{
	crypto_wipe(s, sizeof(*s));
}

/* e: MixHash(e.pub), and in a psk handshake also MixKey(e.pub) (Noise
 * section 9.2; WireGuard's C := KDF1(C, E_pub)). */
static void mix_ephemeral(struct noise_symmetric *s, const uint8_t e_pub[KEY_LEN], bool psk_mode)
{
	noise_mix_hash(s, e_pub, KEY_LEN);
	if (psk_mode)
		noise_mix_key(s, e_pub, KEY_LEN);
}

/* ee, es, se: MixKey(DH(priv, pub)); fails on a low-order pub. */
static bool mix_dh(struct noise_symmetric *s, const struct crypto_x25519_key *priv, const uint8_t pub[KEY_LEN])
{
	uint8_t dh[KEY_LEN];
	bool ok = crypto_x25519_key_dh(dh, priv, pub);

	if (ok)
		noise_mix_key(s, dh, sizeof(dh));
	crypto_wipe(dh, sizeof(dh));
	return ok;
}

bool noise_static_static(uint8_t ss[KEY_LEN], const struct crypto_x25519_key *s, const uint8_t rs_pub[KEY_LEN])
{
	return crypto_x25519_key_dh(ss, s, rs_pub);
}

bool noise_ik_write1(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		     const uint8_t ss[KEY_LEN], const uint8_t s_pub[KEY_LEN], const uint8_t rs_pub[KEY_LEN],
		     const uint8_t *payload, size_t plen, uint8_t e_pub[KEY_LEN], uint8_t enc_static[48],
		     uint8_t *enc_payload)
{
	struct noise_symmetric st = *s;
	struct crypto_x25519_key e = { 0 };
	bool ok = false;

	/* e */
	if (!crypto_x25519_key_init(&e, e_priv))
		goto out;
	memcpy(e_pub, e.pub, KEY_LEN);
	mix_ephemeral(&st, e_pub, psk != NULL);
	/* es */
	if (!mix_dh(&st, &e, rs_pub))
		goto out;
	/* s */
	if (!noise_encrypt_and_hash(&st, enc_static, s_pub, KEY_LEN))
		goto out;
	/* ss */
	noise_mix_key(&st, ss, KEY_LEN);
	/* payload */
	if (!noise_encrypt_and_hash(&st, enc_payload, payload, plen))
		goto out;
	*s = st;
	ok = true;
out:
	crypto_x25519_key_free(&e);
	noise_symmetric_wipe(&st);
	return ok;
}

bool noise_ik_read1_static(struct noise_symmetric *s, const uint8_t *psk, const struct crypto_x25519_key *s_priv,
			   const uint8_t re_pub[KEY_LEN], const uint8_t enc_static[48], uint8_t rs_pub[KEY_LEN])
{
	struct noise_symmetric st = *s;
	uint8_t rs[KEY_LEN];
	bool ok = false;

	/* e */
	mix_ephemeral(&st, re_pub, psk != NULL);
	/* es */
	if (!mix_dh(&st, s_priv, re_pub))
		goto out;
	/* s */
	if (!noise_decrypt_and_hash(&st, rs, enc_static, KEY_LEN + CRYPTO_TAG_LEN))
		goto out;
	memcpy(rs_pub, rs, KEY_LEN);
	*s = st;
	ok = true;
out:
	noise_symmetric_wipe(&st);
	crypto_wipe(rs, sizeof(rs));
	return ok;
}

bool noise_ik_read1_payload(struct noise_symmetric *s, const uint8_t ss[KEY_LEN], const uint8_t *enc_payload,
			    size_t plen, uint8_t *payload)
{
	struct noise_symmetric st = *s;
	bool ok = false;

	if (plen > SIZE_MAX - CRYPTO_TAG_LEN)
		goto out;
	/* ss */
	noise_mix_key(&st, ss, KEY_LEN);
	/* payload */
	if (!noise_decrypt_and_hash(&st, payload, enc_payload, plen + CRYPTO_TAG_LEN))
		goto out;
	*s = st;
	ok = true;
out:
	noise_symmetric_wipe(&st);
	return ok;
}

bool noise_ik_write2(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		     const uint8_t re_pub[KEY_LEN], const uint8_t rs_pub[KEY_LEN], const uint8_t *payload, size_t plen,
		     uint8_t e_pub[KEY_LEN], uint8_t *enc_payload)
{
	struct noise_symmetric st = *s;
	struct crypto_x25519_key e = { 0 };
	bool ok = false;

	/* e */
	if (!crypto_x25519_key_init(&e, e_priv))
		goto out;
	memcpy(e_pub, e.pub, KEY_LEN);
	mix_ephemeral(&st, e_pub, psk != NULL);
	/* ee */
	if (!mix_dh(&st, &e, re_pub))
		goto out;
	/* se */
	if (!mix_dh(&st, &e, rs_pub))
		goto out;
	/* psk */
	if (psk)
		noise_mix_key_and_hash(&st, psk, KEY_LEN);
	/* payload */
	if (!noise_encrypt_and_hash(&st, enc_payload, payload, plen))
		goto out;
	*s = st;
	ok = true;
out:
	crypto_x25519_key_free(&e);
	noise_symmetric_wipe(&st);
	return ok;
}

bool noise_ik_read2(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		    const struct crypto_x25519_key *s_priv, const uint8_t re_pub[KEY_LEN], const uint8_t *enc_payload,
		    size_t plen, uint8_t *payload)
{
	struct noise_symmetric st = *s;
	struct crypto_x25519_key e = { 0 };
	bool ok = false;

	if (plen > SIZE_MAX - CRYPTO_TAG_LEN)
		goto out;
	/* e */
	mix_ephemeral(&st, re_pub, psk != NULL);
	/* ee */
	if (!crypto_x25519_key_init(&e, e_priv) || !mix_dh(&st, &e, re_pub))
		goto out;
	/* se */
	if (!mix_dh(&st, s_priv, re_pub))
		goto out;
	/* psk */
	if (psk)
		noise_mix_key_and_hash(&st, psk, KEY_LEN);
	/* payload */
	if (!noise_decrypt_and_hash(&st, payload, enc_payload, plen + CRYPTO_TAG_LEN))
		goto out;
	*s = st;
	ok = true;
out:
	crypto_x25519_key_free(&e);
	noise_symmetric_wipe(&st);
	return ok;
}
