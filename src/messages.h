/* SPDX-License-Identifier: MIT */
/*
 * Every wire format and protocol constant of sluice, and nothing else.
 * Layouts and values follow the WireGuard whitepaper (sections 5.4 and 6).
 */
#ifndef SLUICE_MESSAGES_H
#define SLUICE_MESSAGES_H

#include <stdint.h>

/* Sizes of the Noise primitives (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s).
 * KEY_LEN is every key's: Curve25519 private and public keys, symmetric
 * and preshared keys, the only name 32 has as a key length. */
enum {
	KEY_LEN = 32,
	NOISE_TIMESTAMP_LEN = 12, /* TAI64N */
	NOISE_AUTHTAG_LEN = 16,
	NOISE_HASH_LEN = 32,
};

#define NOISE_ENCRYPTED_LEN(plain) ((plain) + NOISE_AUTHTAG_LEN)

/* The construction and identifier strings of WireGuard's handshake. */
#define WG_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
/* sluice's second suite (between sluice peers only): its own construction
 * and identifier, so it can never be confused with WireGuard's. */
#define SLUICE_AESGCM_CONSTRUCTION "Noise_IKpsk2_25519_AESGCM_BLAKE2s"
#define SLUICE_AESGCM_IDENTIFIER "sluice v1 AES-256-GCM"
#define WG_LABEL_MAC1 "mac1----"
#define WG_LABEL_COOKIE "cookie--"

/* Cookie machinery. */
enum {
	COOKIE_SECRET_MAX_AGE = 120, /* seconds */
	COOKIE_SECRET_LATENCY = 5,   /* seconds */
	COOKIE_NONCE_LEN = 24,       /* XChaCha20-Poly1305 */
	COOKIE_LEN = 16,
	COOKIE_KEY_LEN = 32,
};

/* Timers and limits (whitepaper section 6.1). Times in seconds. */
#define REKEY_AFTER_MESSAGES (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - COUNTER_WINDOW_SIZE - 1)
#define REKEY_TIMEOUT 5
#define REKEY_TIMEOUT_JITTER_MAX_MS 333
#define REKEY_AFTER_TIME 120
#define REJECT_AFTER_TIME 180
#define REKEY_ATTEMPT_TIME 90
#define KEEPALIVE_TIMEOUT 10
#define MAX_TIMER_HANDSHAKES (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)
#define INITIATIONS_PER_SECOND 50
#define MAX_PEERS_PER_DEVICE (1U << 20)

/* The replay window: a bitmap of 8192 bits of which one word is in flux. */
#define COUNTER_BITS_TOTAL 8192
#define COUNTER_WINDOW_SIZE (COUNTER_BITS_TOTAL - 64)

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* All multi-byte integers on the wire are little-endian.
 * WireGuard sends three zero bytes after the type. sluice's AES-256-GCM
 * suite, spoken only between sluice peers, sets the first of them to
 * MESSAGE_SUITE_AESGCM on every message, so a receiver knows the suite of
 * an initiation before trying it and a dissector can tell the suites apart. */
struct message_header {
	uint8_t type;
	uint8_t suite; /* 0 = WireGuard's ChaCha20-Poly1305 suite */
	uint8_t reserved_zero[2];
} __attribute__((packed));

#define MESSAGE_SUITE_CHACHAPOLY 0
#define MESSAGE_SUITE_AESGCM 1

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
} __attribute__((packed));

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[KEY_LEN];
	uint8_t encrypted_static[NOISE_ENCRYPTED_LEN(KEY_LEN)];
	uint8_t encrypted_timestamp[NOISE_ENCRYPTED_LEN(NOISE_TIMESTAMP_LEN)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[KEY_LEN];
	uint8_t encrypted_nothing[NOISE_ENCRYPTED_LEN(0)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[NOISE_ENCRYPTED_LEN(COOKIE_LEN)];
} __attribute__((packed));

struct message_data {
	struct message_header header;
	uint32_t key_idx;
	uint64_t counter;
	uint8_t encrypted_data[];
} __attribute__((packed));

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response size");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie size");
_Static_assert(sizeof(struct message_data) == 16, "data header size");

#define MESSAGE_DATA_HEADER_LEN ((int)sizeof(struct message_data))
#define MESSAGE_MINIMUM_LENGTH (MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN)
#define MESSAGE_PADDING_MULTIPLE 16

/* Packet sizes. The largest IP packet a tun hands us, and the buffer that holds
 * it once encrypted: header + packet padded to 16 + tag. */
#define DEFAULT_MTU 1420
#define MAX_MTU 65535
#define PACKET_BUFFER_SIZE (MESSAGE_DATA_HEADER_LEN + MAX_MTU + MESSAGE_PADDING_MULTIPLE + NOISE_AUTHTAG_LEN)

/* Offset of the mac1 field inside a handshake message of total length len. */
#define MESSAGE_MAC1_OFFSET(len) ((len) - sizeof(struct message_macs))
#define MESSAGE_MAC2_OFFSET(len) ((len)-COOKIE_LEN)

#endif
