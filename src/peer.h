/* SPDX-License-Identifier: MIT */
/*
 * Peers, their keypair slots (previous / current / next) and the index
 * table that maps the 32-bit session indices on the wire to a peer's
 * handshake or keypair. Every keypair's AEAD contexts are made when the peer
 * is made, so installing a new session allocates nothing.
 */
#ifndef SLUICE_PEER_H
#define SLUICE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"
#include "crypto.h"
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
	uint64_t birth;          /* ns */
	uint32_t local_index;
	uint32_t remote_index;
	bool valid;
	bool we_initiated;
};

/* Why packets were dropped; shown by `sluice show`. */
enum drop_cause {
	DROP_NO_KEYPAIR = 0,     /* data for an unknown or expired session */
	DROP_REPLAY,             /* counter seen before or too old */
	DROP_DECRYPT,            /* authentication failed */
	DROP_ALLOWEDIPS,         /* inner source not in the peer's AllowedIPs */
	DROP_MALFORMED,          /* not a valid message or inner packet */
	DROP_NO_PEER,            /* no peer for the destination */
	DROP_NO_BUFFER,          /* pool empty / staged queue full */
	DROP_SEND_FAILED,        /* the socket refused it */
	DROP_HANDSHAKE,          /* a handshake message that failed a check */
	/* The TCP transport (tcp.c). The first two count packets; the others
	 * count connections closed, each holding whatever it had sent. */
	DROP_TCP_NO_CONN,        /* for a TCP endpoint whose connection is not up */
	DROP_TCP_TX_FULL,        /* the connection's send buffer was full */
	DROP_TCP_FRAMING,        /* a zero or oversized frame length: closed */
	DROP_TCP_TRUNCATED,      /* the peer closed in the middle of a frame */
	DROP_TCP_CONN_LIMIT,     /* too many unauthenticated connections: refused */
	DROP_TCP_AUTH_TIMEOUT,   /* no authenticated message in time: closed */
	DROP_CAUSE_COUNT
};

/* A short name of each cause ("replay", "decrypt", ...) for show and logs. */
const char *drop_cause_name(enum drop_cause cause);

struct peer {
	struct core *core;
	struct peer *next;              /* in the core's list */
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	enum cipher_suite suite;

	struct handshake handshake;
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumed;   /* ns, flood protection */
	struct cookie_maker cookie;

	struct keypair keypairs[3];
	struct keypair *previous, *current, *next_keypair;

	struct endpoint endpoint;
	uint16_t persistent_keepalive;       /* s, 0 = off */

	/* Timers: absolute deadlines in ns, 0 = not armed. */
	uint64_t timer_retransmit_handshake;
	uint64_t timer_send_keepalive;
	uint64_t timer_new_handshake;
	uint64_t timer_zero_key_material;
	uint64_t timer_persistent_keepalive;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	unsigned handshake_attempts;
	uint64_t last_sent_handshake;        /* ns, 0 = never */
	struct timerq_entry timer;           /* the earliest deadline above */

	uint64_t last_handshake_unix_ns;     /* wall clock, for show */
	uint64_t rx_bytes, tx_bytes;
	struct pkt_queue staged;             /* waiting for a session */
};

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
	uint32_t mask;   /* size - 1 */
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
