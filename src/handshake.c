// SPDX-License-Identifier: MIT
#include "handshake.h"

#include <string.h>

#include "clock.h"

/* The construction and identifier of each suite. The AES-GCM suite has its
 * own of both, so that a handshake of one suite can never be taken for one
 * of the other. */
static void suite_names(enum cipher_suite suite, const char **construction, const char **identifier)
{
	if (suite == SUITE_AESGCM) {
		*construction = SLUICE_AESGCM_CONSTRUCTION;
		*identifier = SLUICE_AESGCM_IDENTIFIER;
	} else {
		*construction = WG_CONSTRUCTION;
		*identifier = WG_IDENTIFIER;
	}
}

/* WireGuard always runs the psk variant; "no psk" is the all-zero key. In
 * message 1 only the pattern matters (the psk enters with message 2). */
static const uint8_t zero_psk[KEY_LEN];

/* h and ck before the first message: the protocol name, the identifier as
 * prologue, and the responder's static key as IK's pre-message. */
static void handshake_init(struct noise_symmetric *s, enum cipher_suite suite, bool ethernet,
			   const uint8_t responder_public[KEY_LEN])
{
	const char *construction, *identifier;

	suite_names(suite, &construction, &identifier);
	noise_symmetric_init(s, construction, suite);
	noise_mix_hash(s, identifier, strlen(identifier));
	/* A TAP interface's handshakes are bound to frames: one with an
	 * interface in TUN mode (or with WireGuard) cannot complete. */
	if (ethernet)
		noise_mix_hash(s, SLUICE_ETHERNET_LABEL, strlen(SLUICE_ETHERNET_LABEL));
	noise_mix_hash(s, responder_public, KEY_LEN);
}

static uint8_t header_mode(bool ethernet)
{
	return ethernet ? MESSAGE_MODE_ETHERNET : MESSAGE_MODE_IP;
}

void handshake_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t unix_ns)
{
	uint64_t sec = 0x400000000000000aULL + unix_ns / NS_PER_SEC;
	uint32_t nsec = (uint32_t)(unix_ns % NS_PER_SEC);

	nsec &= ~((1U << 24) - 1);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

void handshake_wipe(struct handshake *hs)
{
	crypto_wipe(hs, sizeof(*hs));
}

bool handshake_identity_set(struct static_identity *id, const uint8_t private_key[KEY_LEN])
{
	bool ethernet = id->ethernet;

	handshake_identity_clear(id);
	id->ethernet = ethernet;
	memcpy(id->private_key, private_key, KEY_LEN);
	crypto_x25519_clamp(id->private_key);
	if (!crypto_x25519_key_init(&id->key, id->private_key)) {
		handshake_identity_clear(id);
		return false;
	}
	memcpy(id->public_key, id->key.pub, KEY_LEN);
	id->has_key = true;
	return true;
}

void handshake_identity_clear(struct static_identity *id)
{
	bool ethernet = id->ethernet;

	crypto_x25519_key_free(&id->key);
	crypto_wipe(id, sizeof(*id));
	id->ethernet = ethernet;
}

bool handshake_static_static(uint8_t ss[KEY_LEN], const struct static_identity *me, const uint8_t peer_public[KEY_LEN])
{
	if (!me->has_key) {
		crypto_wipe(ss, KEY_LEN);
		return false;
	}
	return noise_static_static(ss, &me->key, peer_public);
}

bool handshake_create_initiation(struct handshake *hs, struct message_handshake_initiation *msg,
				 const struct static_identity *me, const uint8_t peer_public[KEY_LEN],
				 const uint8_t ss[KEY_LEN], enum cipher_suite suite, uint32_t local_index,
				 const uint8_t timestamp[NOISE_TIMESTAMP_LEN])
{
	struct handshake st;
	bool ok = false;

	memset(&st, 0, sizeof(st));
	if (!me->has_key)
		goto out;
	st.suite = suite;
	st.ethernet = me->ethernet;
	handshake_init(&st.sym, suite, st.ethernet, peer_public);
	if (!crypto_x25519_keygen(st.ephemeral_private))
		goto out;
	memset(msg, 0, sizeof(*msg));
	msg->header.type = MESSAGE_HANDSHAKE_INITIATION;
	msg->header.suite = suite == SUITE_AESGCM ? MESSAGE_SUITE_AESGCM : MESSAGE_SUITE_CHACHAPOLY;
	msg->header.mode = header_mode(st.ethernet);
	msg->sender_index = local_index;
	/* e, es, s, ss, {timestamp} */
	if (!noise_ik_write1(&st.sym, zero_psk, st.ephemeral_private, ss, me->public_key, peer_public, timestamp,
			     NOISE_TIMESTAMP_LEN, msg->unencrypted_ephemeral, msg->encrypted_static,
			     msg->encrypted_timestamp))
		goto out;
	st.local_index = local_index;
	st.state = HANDSHAKE_CREATED_INITIATION;
	*hs = st;
	ok = true;
out:
	handshake_wipe(&st);
	return ok;
}

bool handshake_initiation_sender(struct handshake *out, uint8_t initiator_public[KEY_LEN],
				 const struct message_handshake_initiation *msg, const struct static_identity *me,
				 enum cipher_suite suite)
{
	struct handshake st;
	bool ok = false;

	memset(&st, 0, sizeof(st));
	if (!me->has_key)
		goto out;
	st.suite = suite;
	st.ethernet = me->ethernet;
	handshake_init(&st.sym, suite, st.ethernet, me->public_key);
	/* e, es, s */
	if (!noise_ik_read1_static(&st.sym, zero_psk, &me->key, msg->unencrypted_ephemeral, msg->encrypted_static,
				   initiator_public))
		goto out;
	*out = st;
	ok = true;
out:
	handshake_wipe(&st);
	return ok;
}

bool handshake_initiation_finish(struct handshake *hs, uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				 const struct message_handshake_initiation *msg, const uint8_t ss[KEY_LEN])
{
	struct handshake st = *hs;
	bool ok = false;

	/* ss, {timestamp} */
	if (!noise_ik_read1_payload(&st.sym, ss, msg->encrypted_timestamp, NOISE_TIMESTAMP_LEN, timestamp))
		goto out;
	memcpy(st.remote_ephemeral, msg->unencrypted_ephemeral, KEY_LEN);
	st.remote_index = msg->sender_index;
	st.state = HANDSHAKE_CONSUMED_INITIATION;
	*hs = st;
	ok = true;
out:
	handshake_wipe(&st);
	return ok;
}

bool handshake_create_response(struct handshake *hs, struct message_handshake_response *msg,
			       const uint8_t peer_public[KEY_LEN], const uint8_t psk[KEY_LEN], uint32_t local_index)
{
	struct handshake st = *hs;
	bool ok = false;

	if (st.state != HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	if (!crypto_x25519_keygen(st.ephemeral_private))
		goto out;
	memset(msg, 0, sizeof(*msg));
	msg->header.type = MESSAGE_HANDSHAKE_RESPONSE;
	msg->header.suite = st.suite == SUITE_AESGCM ? MESSAGE_SUITE_AESGCM : MESSAGE_SUITE_CHACHAPOLY;
	msg->header.mode = header_mode(st.ethernet);
	msg->sender_index = local_index;
	msg->receiver_index = st.remote_index;
	/* e, ee, se, psk, {} */
	if (!noise_ik_write2(&st.sym, psk, st.ephemeral_private, st.remote_ephemeral, peer_public, NULL, 0,
			     msg->unencrypted_ephemeral, msg->encrypted_nothing))
		goto out;
	st.local_index = local_index;
	st.state = HANDSHAKE_CREATED_RESPONSE;
	*hs = st;
	ok = true;
out:
	handshake_wipe(&st);
	return ok;
}

bool handshake_consume_response(struct handshake *out, const struct handshake *hs,
				const struct message_handshake_response *msg, const struct static_identity *me,
				const uint8_t psk[KEY_LEN])
{
	struct handshake st = *hs;
	bool ok = false;

	if (st.state != HANDSHAKE_CREATED_INITIATION || !me->has_key)
		goto out;
	if (!noise_ik_read2(&st.sym, psk, st.ephemeral_private, &me->key, msg->unencrypted_ephemeral,
			    msg->encrypted_nothing, 0, NULL))
		goto out;
	memcpy(st.remote_ephemeral, msg->unencrypted_ephemeral, KEY_LEN);
	st.remote_index = msg->sender_index;
	st.state = HANDSHAKE_CONSUMED_RESPONSE;
	*out = st;
	ok = true;
out:
	handshake_wipe(&st);
	return ok;
}

bool handshake_derive_keys(struct handshake *hs, uint8_t send_key[KEY_LEN], uint8_t recv_key[KEY_LEN],
			   bool *we_initiated)
{
	uint8_t k1[KEY_LEN], k2[KEY_LEN];
	bool ok = true;

	if (hs->state == HANDSHAKE_CONSUMED_RESPONSE) {
		noise_split(&hs->sym, k1, k2);
		memcpy(send_key, k1, sizeof(k1));
		memcpy(recv_key, k2, sizeof(k2));
		*we_initiated = true;
	} else if (hs->state == HANDSHAKE_CREATED_RESPONSE) {
		noise_split(&hs->sym, k1, k2);
		memcpy(send_key, k2, sizeof(k2));
		memcpy(recv_key, k1, sizeof(k1));
		*we_initiated = false;
	} else {
		ok = false;
	}
	crypto_wipe(k1, sizeof(k1));
	crypto_wipe(k2, sizeof(k2));
	if (ok)
		handshake_wipe(hs);
	return ok;
}
