/* SPDX-License-Identifier: MIT */
/*
 * Peers, their keypair slots (previous / current / next; session.c rotates
 * them), the table that finds a peer by its public key, and the index table
 * that maps the 32-bit session indices on the wire to a peer's handshake or
 * keypair. Every keypair's AEAD contexts are made when the peer is made, so
 * installing a new session allocates nothing.
 */
#ifndef SLUICE_PEER_H
#define SLUICE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"
#include "crypto.h"
#include "drop.h"
#include "handshake.h"
#include "netaddr.h"
#include "pool.h"
#include "replay.h"
#include "timerq.h"

struct core;

struct keypair {
	struct crypto_aead_ctx send, recv;
	struct replay_window replay;
	uint64_t send_counter;
	uint64_t birth; /* ns */
	uint64_t id;    /* 1, 2, 3... per engine, for log lines */
	uint32_t local_index;
	uint32_t remote_index;
	bool valid;
	bool we_initiated;
};

struct peer {
	struct core *core;
	struct peer *next, *prev; /* in the core's list, in the order added */
	uint64_t id;              /* 1, 2, 3... in the order added: log lines name it */
	uint64_t public_key_hash; /* in the core's peer_table */
	uint8_t public_key[KEY_LEN];
	uint8_t preshared_key[KEY_LEN];
	enum cipher_suite suite;
	/* DH(our static key, public_key): the same in every handshake, so made
	 * the first time one needs it and kept until our key changes
	 * (core_peer_static_static). NONE: no key, or a low-order peer key,
	 * with which no handshake can succeed. */
	uint8_t static_static[KEY_LEN];
	enum { STATIC_STATIC_UNKNOWN = 0, STATIC_STATIC_KNOWN, STATIC_STATIC_NONE } static_static_state;

	struct handshake handshake;
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumed; /* ns, flood protection */
	struct cookie_maker cookie;

	struct keypair keypairs[3];
	struct keypair *previous, *current, *next_keypair;

	struct endpoint endpoint;
	uint16_t persistent_keepalive; /* s, 0 = off */

	/* Timers: absolute deadlines in ns, 0 = not armed. */
	uint64_t timer_retransmit_handshake;
	uint64_t timer_send_keepalive;
	uint64_t timer_new_handshake;
	uint64_t timer_zero_key_material;
	uint64_t timer_persistent_keepalive;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	unsigned handshake_attempts;
	uint64_t last_sent_handshake; /* ns, 0 = never */
	/* ns: the first initiation sent since the last handshake completed
	 * (new ones restart the retries but not this), 0 = none pending. */
	uint64_t handshake_unanswered_since;
	bool retried_for_cookie;   /* the latest initiation was sent again for a cookie */
	struct timerq_entry timer; /* the earliest deadline above */

	uint64_t last_handshake_unix_ns; /* wall clock, for show */
	uint64_t rx_bytes, tx_bytes;
	struct pkt_queue staged; /* waiting for a session */
	uint32_t n_allowed_macs; /* TAP mode: its AllowedMACs, pinned in the core's l2 table */
};

/* Peers by public key: open addressing with linear probing over SipHash-2-4
 * with a random key (initiations name their sender by a key an attacker
 * chooses, so the buckets must not be predictable), at most half full. */
struct peer_table {
	struct peer **slots;
	uint32_t mask; /* size - 1 */
	uint32_t used;
	uint8_t key[CRYPTO_SIPHASH_KEY_LEN];
};

/* 0, -ENOMEM, or -EIO when there is no randomness for the key. */
int peer_table_init(struct peer_table *t);
void peer_table_free(struct peer_table *t);
/* Grows (doubling) to hold at least n peers at a load of 1/2 or less. */
int peer_table_reserve(struct peer_table *t, uint32_t n);
uint64_t peer_table_hash(const struct peer_table *t, const uint8_t public_key[KEY_LEN]);
/* Stores p under p->public_key_hash (set it with peer_table_hash). Never
 * allocates: reserve first. */
void peer_table_insert(struct peer_table *t, struct peer *p);
struct peer *peer_table_lookup(const struct peer_table *t, const uint8_t public_key[KEY_LEN]);
void peer_table_remove(struct peer_table *t, struct peer *p);

/* Index table: open addressing with linear probing, power-of-two size. */
enum index_kind { INDEX_FREE = 0, INDEX_HANDSHAKE, INDEX_KEYPAIR };

struct index_slot {
	uint32_t index;
	uint8_t kind;
	struct peer *peer;
	struct keypair *keypair;
};

struct index_table {
	struct index_slot *slots;
	uint32_t mask; /* size - 1 */
	uint32_t used;
};

int index_table_init(struct index_table *t, uint32_t min_entries);
void index_table_free(struct index_table *t);
/* Grows to hold at least min_entries at a load of 1/2 or less (config time). */
int index_table_reserve(struct index_table *t, uint32_t min_entries);
/* Picks a fresh random index and stores the entry. Returns the index (never 0). */
uint32_t index_table_insert(struct index_table *t, enum index_kind kind, struct peer *peer, struct keypair *kp);
const struct index_slot *index_table_lookup(const struct index_table *t, uint32_t index);
void index_table_remove(struct index_table *t, uint32_t index);

#endif
