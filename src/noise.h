/* SPDX-License-Identifier: MIT */
/*
 * The Noise machinery under WireGuard's handshake: the symmetric state
 * (MixHash, MixKey, MixKeyAndHash, EncryptAndHash, Split) and the two
 * messages of the IK / IKpsk2 pattern, as pure functions over bytes.
 * No I/O, no clock, no peer: handshake.c builds WireGuard's messages on top,
 * and the known-answer tests drive the same functions with the published
 * Noise vectors (other prologue, non-empty payloads).
 *
 * Every function returns false on failure (bad tag, low-order point); the
 * caller must then throw its copy of the state away. (The message functions
 * in fact leave *s untouched when they fail: they work on a copy.)
 *
 * Static private keys come as crypto_x25519_key (made once: see crypto.h);
 * an ephemeral one as bytes, taken into libcrypto once per message for
 * both its public key and its DH.
 */
#ifndef SLUICE_NOISE_H
#define SLUICE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

struct noise_symmetric {
	uint8_t ck[CRYPTO_HASH_LEN]; /* chaining key */
	uint8_t h[CRYPTO_HASH_LEN];  /* handshake hash */
	uint8_t k[KEY_LEN];          /* cipher key, valid when has_key */
	uint64_t n;                  /* cipher nonce, reset by every MixKey */
	bool has_key;
	enum cipher_suite suite;
};

/* InitializeSymmetric(protocol_name): h = name padded, or HASH(name) when longer
 * than 32 bytes; ck = h. */
void noise_symmetric_init(struct noise_symmetric *s, const char *protocol_name, enum cipher_suite suite);
void noise_mix_hash(struct noise_symmetric *s, const void *data, size_t len);
void noise_mix_key(struct noise_symmetric *s, const uint8_t *ikm, size_t len);
void noise_mix_key_and_hash(struct noise_symmetric *s, const uint8_t *ikm, size_t len);
/* dst gets len + 16 bytes. Without a key it copies (Noise's rule), no tag. */
bool noise_encrypt_and_hash(struct noise_symmetric *s, uint8_t *dst, const uint8_t *src, size_t len)
	__attribute__((warn_unused_result));
/* src is len bytes including the tag; dst gets len - 16. */
bool noise_decrypt_and_hash(struct noise_symmetric *s, uint8_t *dst, const uint8_t *src, size_t len)
	__attribute__((warn_unused_result));
/* Split(): k1 (initiator to responder), k2 (responder to initiator). */
void noise_split(const struct noise_symmetric *s, uint8_t k1[KEY_LEN], uint8_t k2[KEY_LEN]);
void noise_symmetric_wipe(struct noise_symmetric *s);

/*
 * IK / IKpsk2, message 1 (initiator -> responder): e, es, s, ss, payload.
 *   <- s           (the caller has already mixed the prologue and rs)
 *   -> e, es, s, ss
 * e_priv is the caller's (random in WireGuard, fixed in the vectors).
 * ss is DH(s, rs), which depends only on the two static keys: the caller
 * computes it once per peer (noise_static_static) instead of per message.
 * psk != NULL selects IKpsk2, whose e also does MixKey(e.pub).
 * Output: e_pub[KEY_LEN], enc_static[48], enc_payload[plen + 16].
 */
bool noise_ik_write1(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		     const uint8_t ss[KEY_LEN], const uint8_t s_pub[KEY_LEN], const uint8_t rs_pub[KEY_LEN],
		     const uint8_t *payload, size_t plen, uint8_t e_pub[KEY_LEN], uint8_t enc_static[48],
		     uint8_t *enc_payload) __attribute__((warn_unused_result));

/* ss = DH(s, rs) of a pair of static keys (fails on a low-order rs). */
bool noise_static_static(uint8_t ss[KEY_LEN], const struct crypto_x25519_key *s, const uint8_t rs_pub[KEY_LEN])
	__attribute__((warn_unused_result));

/* Responder side of message 1, in two steps so that the cheap one decides
 * whether the costly one runs: read1_static does e, es and s (one DH) and
 * learns rs, the initiator's static key, by which the caller finds its
 * peer and that peer's precomputed ss; read1_payload then does ss and
 * decrypts the payload. Each works on a copy of *s as the others do.
 * enc_payload is plen + 16 bytes; payload receives plen bytes. */
bool noise_ik_read1_static(struct noise_symmetric *s, const uint8_t *psk, const struct crypto_x25519_key *s_priv,
			   const uint8_t re_pub[KEY_LEN], const uint8_t enc_static[48], uint8_t rs_pub[KEY_LEN])
	__attribute__((warn_unused_result));
bool noise_ik_read1_payload(struct noise_symmetric *s, const uint8_t ss[KEY_LEN], const uint8_t *enc_payload,
			    size_t plen, uint8_t *payload) __attribute__((warn_unused_result));

/* Message 2 (responder -> initiator): e, ee, se, [psk], payload.
 * psk == NULL is plain IK; otherwise MixKeyAndHash(psk) after se. */
bool noise_ik_write2(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		     const uint8_t re_pub[KEY_LEN], const uint8_t rs_pub[KEY_LEN], const uint8_t *payload, size_t plen,
		     uint8_t e_pub[KEY_LEN], uint8_t *enc_payload) __attribute__((warn_unused_result));

/* Initiator side of message 2. e_priv and s_priv are the initiator's own keys;
 * re_pub is the responder's ephemeral from the message. */
bool noise_ik_read2(struct noise_symmetric *s, const uint8_t *psk, const uint8_t e_priv[KEY_LEN],
		    const struct crypto_x25519_key *s_priv, const uint8_t re_pub[KEY_LEN], const uint8_t *enc_payload,
		    size_t plen, uint8_t *payload) __attribute__((warn_unused_result));

#endif
