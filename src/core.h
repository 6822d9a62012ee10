/* SPDX-License-Identifier: MIT */
/*
 * The protocol engine of one interface, without I/O: packets in, packets
 * out, time as an argument. device.c feeds it from the tun and the sockets;
 * the unit tests run two engines against each other in memory.
 *
 * Packets are vectors of pool buffers. The engine takes ownership of every
 * packet handed to it, and hands packets out through two hooks that must
 * return each buffer to core->pool once done with it.
 *
 * `now` is a monotonic time in ns and must be > 0.
 */
#ifndef SLUICE_CORE_H
#define SLUICE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowedips.h"
#include "cookie.h"
#include "core_log.h"
#include "handshake.h"
#include "peer.h"
#include "pool.h"
#include "ratelimit.h"
#include "timerq.h"

#define CORE_BATCH 64
#define CORE_MAX_STAGED 128

/* Handshake messages wait in a queue between core_net_rx and core_tick, so
 * that data never waits behind their public-key work: at most
 * CORE_HANDSHAKE_QUEUE (more are dropped). core_tick works off a budget of
 * CORE_HANDSHAKE_BUDGET messages that end at a check, a cookie reply or a
 * drop, of which one that needs a DH takes CORE_HANDSHAKE_DH_COST (~50 us
 * against ~1): one such message per call, and the daemon reads its sockets
 * again between two, so that a flood piles up here, where it is counted
 * and answered with cookies, not in the socket, where it would push data
 * out. The engine is under load while the queue holds an eighth of its
 * size or more, and for a second after (as the Linux module). */
#define CORE_HANDSHAKE_QUEUE 4096 /* power of two */
#define CORE_UNDER_LOAD_QUEUE (CORE_HANDSHAKE_QUEUE / 8)
#define CORE_HANDSHAKE_BUDGET 8
#define CORE_HANDSHAKE_DH_COST CORE_HANDSHAKE_BUDGET
/* Cookie replies, in total (per source: ratelimit.h): each costs a random
 * nonce and an AEAD, and may go to a forged address. */
#define CORE_COOKIE_REPLIES_PER_SECOND 4096
#define CORE_COOKIE_REPLIES_BURST 512

/* A handshake message in the queue: a copy, so its pool buffer goes back at
 * once and a flood holds none. */
struct core_handshake_msg {
	struct endpoint ep;
	uint32_t len;
	uint8_t data[sizeof(struct message_handshake_initiation)]; /* the largest */
};

struct core_hooks {
	void *ctx;
	/* Datagrams for the network, each with its destination in pkt->ep. */
	void (*send_net)(void *ctx, struct pkt **pkts, int n);
	/* Decrypted IP packets for the tun. */
	void (*send_tun)(void *ctx, struct pkt **pkts, int n);
	/* Optional: an authenticated packet moved the peer's endpoint (roaming,
	 * or a TCP connection the peer now uses). Called only on a change. */
	void (*endpoint_changed)(void *ctx, struct peer *p, const struct endpoint *old_ep,
				 const struct endpoint *new_ep);
	/* Optional (SLUICE_KEYLOG): the secrets of each handshake message we make,
	 * in the terms of Wireshark's WireGuard key log. */
	void (*keylog)(void *ctx, const uint8_t local_static_private[KEY_LEN],
		       const uint8_t remote_static_public[KEY_LEN], const uint8_t local_ephemeral_private[KEY_LEN],
		       const uint8_t preshared_key[KEY_LEN]);
	/* Optional: one line of what happens ("Sending handshake initiation to
	 * peer 3 (192.0.2.2:51820)"), level as in log.h, rate limited per kind
	 * of line by the engine (core_log.h). msg is gone after the call. */
	void (*log)(void *ctx, int level, const char *msg);
};

struct core {
	struct static_identity identity;
	struct cookie_checker cookie_checker;
	struct peer *peers, *peers_tail; /* in the order added */
	size_t n_peers;
	struct peer_table peer_table;   /* by public key */
	uint64_t peer_ids, keypair_ids; /* the last id given out */
	struct allowedips allowedips;
	struct index_table index;
	struct timerq timers;
	struct pool pool;
	uint32_t n_staged;                 /* buffers waiting in all peers' staged queues */
	uint32_t max_staged;               /* at most a quarter of the pool */
	struct ratelimit ratelimit;        /* handshake messages per source, under load */
	struct ratelimit cookie_ratelimit; /* cookie replies per source */
	struct core_hooks hooks;
	uint32_t mtu;           /* the tun's: padding stops here */
	uint32_t max_mtu;       /* the largest MTU the buffers carry */
	int64_t wall_offset_ns; /* unix time = now + wall_offset_ns */

	/* Handshake messages waiting (a ring), and the load they make. */
	struct core_handshake_msg *hs_queue;
	uint32_t hs_head, hs_len;
	uint64_t last_under_load;               /* ns the queue last held CORE_UNDER_LOAD_QUEUE; 0 = never */
	bool force_under_load;                  /* tests */
	struct ratelimit_bucket cookie_replies; /* in total; per source: ratelimit */
	uint64_t cookie_replies_sent;

	/* ReplyPing: echo requests for these addresses are answered here. */
	bool reply_ping;
	struct cidr *own_addresses;
	size_t n_own_addresses;

	uint64_t drops[DROP_CAUSE_COUNT];
	struct core_log log;

	/* Random bytes for timer jitter, drawn from libcrypto a block at a
	 * time: each draw costs a system call (its fork check). */
	uint32_t jitter_pool[32];
	uint32_t jitter_left;

	/* Output batches, flushed at the end of each call. */
	struct pkt *out_net[CORE_BATCH];
	int n_out_net;
	struct pkt *out_tun[CORE_BATCH];
	int n_out_tun;
};

/* Every call that can fail returns 0 or a negative errno. */

/* pool_count buffers, each big enough for an MTU-sized packet once encrypted.
 * 0, -ENOMEM, or -EIO (no randomness). */
int core_init(struct core *c, const struct core_hooks *hooks, uint32_t mtu, size_t pool_count);
void core_destroy(struct core *c);

/* NULL removes the key. Handshakes in flight are dropped; a peer whose key
 * equals our own public key is removed. */
void core_set_private_key(struct core *c, const uint8_t *private_key);

/* Whether public_key is the one of our own private key (WireGuard ignores
 * a peer with it). */
bool core_is_own_public_key(const struct core *c, const uint8_t public_key[KEY_LEN]);

/* Peers are found by a keyed hash of their public key, and added and
 * removed in O(1) (amortized): ten thousand peers load in moments. */
struct peer *core_peer_find(struct core *c, const uint8_t public_key[KEY_LEN]);
/* A new peer, listed last, with the next id (1, 2, 3...). NULL: no memory,
 * or MAX_PEERS_PER_DEVICE reached. */
struct peer *core_peer_add(struct core *c, const uint8_t public_key[KEY_LEN]);
void core_peer_remove(struct core *c, struct peer *p);
void core_peer_remove_all(struct core *c);
void core_peer_set_psk(struct core *c, struct peer *p, const uint8_t *psk);
/* Another suite voids the peer's handshake and sessions. */
void core_peer_set_suite(struct core *c, struct peer *p, enum cipher_suite suite);
void core_peer_set_endpoint(struct core *c, struct peer *p, const struct endpoint *ep);
/* Sets the interval and, when it is on and the peer has an endpoint, sends a
 * keepalive at once (as WireGuard does). */
void core_peer_set_keepalive(struct core *c, struct peer *p, uint16_t seconds, uint64_t now);
/* 0, -EINVAL (a bad prefix) or -ENOMEM. */
int core_peer_add_allowed_ip(struct core *c, struct peer *p, const struct cidr *ip);
void core_peer_clear_allowed_ips(struct core *c, struct peer *p);

/* Packets read from the tun. */
void core_tun_rx(struct core *c, uint64_t now, struct pkt **pkts, int n);
/* Datagrams read from the network (pkt->ep = source). Data is handled at
 * once; handshake messages only checked (size, mac1; under load, the rate
 * per source) and queued. */
void core_net_rx(struct core *c, uint64_t now, struct pkt **pkts, int n);
/* Works off queued handshake messages for at most `budget` (each message
 * costs 1, or CORE_HANDSHAKE_DH_COST if it needed a DH, and the last may
 * overdraw); returns how many still wait. */
uint32_t core_process_handshakes(struct core *c, uint64_t now, uint32_t budget);
/* Runs every timer that is due, then core_process_handshakes with
 * CORE_HANDSHAKE_BUDGET. */
void core_tick(struct core *c, uint64_t now);
/* When core_tick next has work: 0 while handshake messages wait, else the
 * next timer, or UINT64_MAX. */
uint64_t core_next_deadline(const struct core *c);

/* What the handshake queue has done, for show. */
struct core_handshake_stats {
	uint32_t queued; /* waiting now */
	bool under_load; /* as of the last time the engine was given */
	uint64_t cookie_replies_sent;
};
void core_handshake_stats(const struct core *c, struct core_handshake_stats *out);

/* Sets the interface's own addresses (copied) and whether echo requests to
 * them are answered by the core (ReplyPing). 0 or -ENOMEM. */
int core_set_reply_ping(struct core *c, bool on, const struct cidr *addrs, size_t n);

/* The send_net hook calls this for each packet it handed out: a peer's
 * transfer counts what actually left, handshakes included, as WireGuard's;
 * and a sticky source the transport found no longer ours is forgotten, so
 * the kernel chooses again until the peer's next packet says where. */
static inline void core_account_sent(const struct pkt *k)
{
	struct peer *p = k->peer;

	if (!p)
		return;
	if (!k->send_failed)
		p->tx_bytes += k->len;
	if (k->src_stale)
		p->endpoint.has_src = false;
}

/* Starts a handshake with the peer now (tests and `wg set` use it). */
void core_peer_initiate(struct core *c, struct peer *p, uint64_t now);

/* ---- what the daemon around the engine may ask and tell it ---- */

/* The packet buffers: the I/O layer takes buffers here to read into and
 * returns the ones it did not hand to the engine. */
struct pool *core_pool(struct core *c);
/* The tun's MTU (padding stops at it) and the largest one the buffers carry. */
uint32_t core_mtu(const struct core *c);
uint32_t core_max_mtu(const struct core *c);
/* Sets the tun's MTU, at most core_max_mtu. Returns 0 or -EINVAL. */
int core_set_mtu(struct core *c, uint32_t mtu);
/* Unix time in ns = now + offset: TAI64N timestamps and `latest handshake`
 * follow the wall clock, also when it is set late (NTP). */
void core_set_wall_offset(struct core *c, int64_t offset_ns);
/* Counts n packets (or connections) lost outside the engine, by cause. */
void core_count_drop(struct core *c, enum drop_cause cause, uint64_t n);
uint64_t core_drops(const struct core *c, enum drop_cause cause);
/* Peers in the order they were added, read-only: the daemon reads what it
 * shows, it never writes a peer's fields. */
const struct peer *core_peers_first(const struct core *c);
const struct peer *core_peers_next(const struct peer *p);
size_t core_peer_count(const struct core *c);
/* A transport came up for the peer at ep (a TCP connection the dialer just
 * made): the endpoint moves there and a handshake starts at once, not held
 * back by the one-initiation-per-REKEY_TIMEOUT rule, since whatever went out
 * while it was down was lost. */
void core_transport_up(struct core *c, struct peer *p, const struct endpoint *ep, uint64_t now);

#endif
