/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and cookie replies (whitepaper section 5.4.4 and 5.4.7).
 * The checker lives in the device (the responder's side); a maker lives in
 * each peer (the initiator's side). Time is an argument; no I/O.
 */
#ifndef SLUICE_COOKIE_H
#define SLUICE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.h"
#include "netaddr.h"

struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birth;       /* ns; 0 = never made */
	uint8_t mac1_key[KEY_LEN];   /* HASH(LABEL_MAC1 || our public key) */
	uint8_t cookie_key[KEY_LEN]; /* HASH(LABEL_COOKIE || our public key) */
};

struct cookie_maker {
	uint8_t mac1_key[KEY_LEN]; /* of the peer's public key */
	uint8_t cookie_key[KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth; /* ns; 0 = no cookie */
	uint8_t last_mac1_sent[COOKIE_LEN];
	bool have_sent_mac1;
};

void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[KEY_LEN]);
void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[KEY_LEN]);
void cookie_checker_wipe(struct cookie_checker *c);
void cookie_maker_wipe(struct cookie_maker *m);

/* Fills mac1, and mac2 while a cookie is fresh, of the handshake message msg
 * of len bytes (its last 32 bytes are the macs). */
void cookie_add_macs(struct cookie_maker *m, void *msg, size_t len, uint64_t now);

/* Whether mac1 of the handshake message msg of len bytes is right: proof
 * that its sender knows our public key, and all that is checked before a
 * message is queued. */
bool cookie_check_mac1(const struct cookie_checker *c, const void *msg, size_t len);
/* Whether mac2 is right for src: proof that the sender received a cookie
 * reply there, asked for under load. */
bool cookie_check_mac2(struct cookie_checker *c, const void *msg, size_t len, const struct endpoint *src, uint64_t now);

/* Makes the cookie reply to a handshake message from src that the sender
 * will retry with mac2. sender_index is the index of that message. */
bool cookie_create_reply(struct cookie_checker *c, struct message_handshake_cookie *out, const void *msg, size_t len,
			 uint32_t sender_index, const struct endpoint *src, uint64_t now)
	__attribute__((warn_unused_result));

/* Decrypts a cookie reply for a message we sent; stores the cookie. */
bool cookie_consume_reply(struct cookie_maker *m, const struct message_handshake_cookie *msg, uint64_t now)
	__attribute__((warn_unused_result));

#endif
