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
 * an initiation before trying it and a dissector can tell the suites apart.
 *
 * An interface in TAP mode (Mode = tap: Ethernet frames, not IP packets)
 * sets the second to MESSAGE_MODE_ETHERNET on every message it sends, the
 * handshake's included, and takes only messages that carry it; an interface
 * in TUN mode takes only messages without it. A mismatch is dropped before
 * any other work and counted (drop cause "mode_mismatch"). WireGuard
 * (wireguard-go, the kernel) reads the first four bytes as one
 * little-endian type, so to it such a message has an unknown type and is
 * dropped too. The mark alone is not what keeps the modes apart: a TAP
 * interface also mixes SLUICE_ETHERNET_LABEL into the handshake's hash
 * (after the identifier), so no handshake between the two modes can
 * complete even if someone rewrote the byte, and no session of one mode
 * can ever carry the other's payload. */
struct message_header {
	uint8_t type;
	uint8_t suite; /* 0 = WireGuard's ChaCha20-Poly1305 suite */
	uint8_t mode;  /* 0 = IP packets (TUN), MESSAGE_MODE_ETHERNET = frames */
	uint8_t reserved_zero;
} __attribute__((packed));

#define MESSAGE_SUITE_CHACHAPOLY 0
#define MESSAGE_SUITE_AESGCM 1
#define MESSAGE_MODE_IP 0
#define MESSAGE_MODE_ETHERNET 1
#define SLUICE_ETHERNET_LABEL "sluice v1 Ethernet frames"

/* A data message of an Ethernet interface carries, encrypted, the frame's
 * length (2 bytes, big-endian), the frame (destination MAC, source MAC,
 * EtherType..., no FCS), then the zero padding every data message has: IP
 * says its own length, a frame does not. Frames hold at least the 14-byte
 * Ethernet header. */
#define MESSAGE_FRAME_LENGTH_LEN 2
#define ETHERNET_HEADER_LEN 14
#define ETHERNET_ADDR_LEN 6
/* What a frame adds to the interface's MTU inside a data message: its
 * length, the Ethernet header and one VLAN tag (which the bridge may keep). */
#define ETHERNET_OVERHEAD (MESSAGE_FRAME_LENGTH_LEN + ETHERNET_HEADER_LEN + 4)

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
/* A TAP interface's: the same datagrams, less the frame length and the
 * Ethernet header each frame carries (1500 - 40 - 8 - 32 - 2 - 14). */
#define DEFAULT_TAP_MTU (DEFAULT_MTU - MESSAGE_FRAME_LENGTH_LEN - ETHERNET_HEADER_LEN)
#define MAX_MTU 65535
#define PACKET_BUFFER_SIZE (MESSAGE_DATA_HEADER_LEN + MAX_MTU + MESSAGE_PADDING_MULTIPLE + NOISE_AUTHTAG_LEN)

/* Offset of the mac1 field inside a handshake message of total length len. */
#define MESSAGE_MAC1_OFFSET(len) ((len) - sizeof(struct message_macs))
#define MESSAGE_MAC2_OFFSET(len) ((len)-COOKIE_LEN)

#endif
