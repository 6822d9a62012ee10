/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's handshake messages over the Noise machinery of noise.c:
 * initiation (type 1) and response (type 2), TAI64N timestamps, and the
 * derivation of a session's keys. Pure functions over bytes: no I/O, no
 * clock, no peer table. Consumers work on a copy of the state and the
 * caller commits it only when every check passed.
 */
#ifndef SLUICE_HANDSHAKE_H
#define SLUICE_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "messages.h"
#include "noise.h"

enum handshake_state {
	HANDSHAKE_ZEROED = 0,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

/* Our static key pair: the private key as stored and shown (clamped), its
 * public key, and libcrypto's form of it for the DH (handshake_identity_set). */
struct static_identity {
	uint8_t private_key[KEY_LEN];
	uint8_t public_key[KEY_LEN];
	struct crypto_x25519_key key;
	bool has_key;
	bool ethernet; /* a TAP interface's: its handshakes are marked and bound to it (messages.h) */
};

struct handshake {
	enum handshake_state state;
	enum cipher_suite suite;
	bool ethernet; /* the identity's, when this handshake began */
	struct noise_symmetric sym;
	uint8_t ephemeral_private[KEY_LEN];
	uint8_t remote_ephemeral[KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
};

/* Sets the identity to a private key, clamped (WireGuard stores and shows
 * the clamped form). False (and no key) when libcrypto refuses it. The
 * `ethernet` flag is kept. */
bool handshake_identity_set(struct static_identity *id, const uint8_t private_key[KEY_LEN])
	__attribute__((warn_unused_result));
/* Forgets the key and frees what libcrypto held; the identity has no key. */
void handshake_identity_clear(struct static_identity *id);

/* TAI64N of a wall-clock time in ns since the Unix epoch, its nanoseconds
 * rounded down to a multiple of 2^24 so that the value leaks little timing. */
void handshake_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t unix_ns);

/* DH(our static, the peer's static): the same for every handshake with the
 * peer, so computed once per peer and key (false: a low-order peer key). */
bool handshake_static_static(uint8_t ss[KEY_LEN], const struct static_identity *me, const uint8_t peer_public[KEY_LEN])
	__attribute__((warn_unused_result));

/* Initiator: writes everything of msg but the macs. hs becomes
 * CREATED_INITIATION with local_index. ss: handshake_static_static's. */
bool handshake_create_initiation(struct handshake *hs, struct message_handshake_initiation *msg,
				 const struct static_identity *me, const uint8_t peer_public[KEY_LEN],
				 const uint8_t ss[KEY_LEN], enum cipher_suite suite, uint32_t local_index,
				 const uint8_t timestamp[NOISE_TIMESTAMP_LEN]) __attribute__((warn_unused_result));

/* Responder, in the order that makes an initiation from a stranger cheapest:
 * handshake_initiation_sender decrypts who sent it (one DH) into a fresh
 * state `out` and initiator_public; the caller finds the peer by that key
 * (and refuses a stranger there); handshake_initiation_finish then mixes in
 * that peer's precomputed ss and decrypts the timestamp, and `out` becomes
 * CONSUMED_INITIATION. The caller checks the timestamp, then copies `out`
 * into the peer. */
bool handshake_initiation_sender(struct handshake *out, uint8_t initiator_public[KEY_LEN],
				 const struct message_handshake_initiation *msg, const struct static_identity *me,
				 enum cipher_suite suite) __attribute__((warn_unused_result));
bool handshake_initiation_finish(struct handshake *hs, uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				 const struct message_handshake_initiation *msg, const uint8_t ss[KEY_LEN])
	__attribute__((warn_unused_result));

/* Responder: from CONSUMED_INITIATION, writes the response (no macs) and
 * becomes CREATED_RESPONSE with local_index. */
bool handshake_create_response(struct handshake *hs, struct message_handshake_response *msg,
			       const uint8_t peer_public[KEY_LEN], const uint8_t psk[KEY_LEN], uint32_t local_index)
	__attribute__((warn_unused_result));

/* Initiator: consumes a response for hs (CREATED_INITIATION) into `out`
 * (CONSUMED_RESPONSE); hs itself is not changed. */
bool handshake_consume_response(struct handshake *out, const struct handshake *hs,
				const struct message_handshake_response *msg, const struct static_identity *me,
				const uint8_t psk[KEY_LEN]) __attribute__((warn_unused_result));

/* From CREATED_RESPONSE (responder) or CONSUMED_RESPONSE (initiator): the two
 * transport keys as seen by this side. The handshake is wiped. */
bool handshake_derive_keys(struct handshake *hs, uint8_t send_key[KEY_LEN], uint8_t recv_key[KEY_LEN],
			   bool *we_initiated) __attribute__((warn_unused_result));

void handshake_wipe(struct handshake *hs);

#endif
