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
#include "l2.h"
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
/* Handshake messages a second, under load, from all the sources that find
 * the per-source table full (ratelimit.h): the queue's worth, 16 times. */
#define CORE_OVERFLOW_PER_SECOND (CORE_HANDSHAKE_QUEUE * 16)
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
	/* Decrypted IP packets for the tun (Ethernet frames in TAP mode). */
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

	/* TAP mode (core_set_ethernet): frames, not IP packets; a learning
	 * switch between the TAP and the peers (core_l2.c). */
	bool ethernet;
	uint8_t wire_mode;       /* MESSAGE_MODE_*: every message must carry it */
	uint32_t frame_overhead; /* ETHERNET_OVERHEAD in TAP mode, else 0: padding stops at mtu + it */
	struct l2_table l2;

	uint64_t drops[DROP_CAUSE_COUNT];
	struct core_log log;
	uint64_t state_generation; /* core_state_generation */

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

/* Makes the engine a TAP interface's, before any peer or key: Ethernet
 * frames in and out, marked and bound handshakes (messages.h), forwarding
 * by learned MAC addresses (l2.h). 0, -ENOMEM or -EIO (no randomness). */
int core_set_ethernet(struct core *c);
/* A peer's AllowedMACs (TAP mode): pinned to it; with any, it may send
 * only from those. 0, -EINVAL (a group address, or not TAP mode), -EEXIST
 * (another peer's) or -ENOSPC. */
int core_peer_add_allowed_mac(struct core *c, struct peer *p, const uint8_t mac[ETHERNET_ADDR_LEN]);
void core_peer_clear_allowed_macs(struct core *c, struct peer *p);
/* The learning table, read-only (show); NULL in TUN mode. */
const struct l2_table *core_l2_table(const struct core *c);

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
	uint64_t ratelimit_overflow; /* messages whose source found the rate table's set full */
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

/* What a restart must not forget (the daemon keeps it in a file,
 * statefile.h): each peer's latest accepted initiation timestamp
 * (p->latest_timestamp) and its endpoint. The generation grows each time
 * either changes, or a peer comes or goes: the daemon saves when it moved. */
uint64_t core_state_generation(const struct core *c);
/* After a restart: an initiation from the peer with a timestamp at or below
 * `timestamp` is refused as a replay (DROP_HANDSHAKE_REPLAY); ep (may be
 * NULL; UDP only) becomes the peer's endpoint if it has none; with initiate,
 * a handshake starts at once if the peer then has an endpoint, so that
 * traffic flows again without waiting for the peer's next handshake.
 * False when that handshake could not start for want of our private key
 * (ask again once it is set). */
bool core_peer_restore(struct core *c, struct peer *p, const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
		       const struct endpoint *ep, bool initiate, uint64_t now);

/* Starts a handshake with the peer now (tests and `wg set` use it). */
void core_peer_initiate(struct core *c, struct peer *p, uint64_t now);
/* Whether p's handshake initiations have gone unanswered for `for_ns` or
 * more (since the first one after the last completed handshake), while
 * the engine still retries (not given up for want of traffic). */
bool core_peer_handshake_unanswered(const struct peer *p, uint64_t now, uint64_t for_ns);

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
/* Our private key, read-only, for the control socket's `get` (which
 * answers its owner with it); NULL while none is set. A copy made of it
 * is the caller's to wipe. */
const uint8_t *core_private_key(const struct core *c);
/* Every allowed-IP prefix with its peer, in one walk of the trie, and how
 * many there are (the walk's length, to size a buffer before it). */
size_t core_allowed_ip_count(const struct core *c);
void core_allowed_ips_walk(const struct core *c, allowedips_walk_all_fn fn, void *ctx);
/* A transport came up for the peer at ep (a TCP connection the dialer just
 * made): the endpoint moves there and a handshake starts at once, not held
 * back by the one-initiation-per-REKEY_TIMEOUT rule, since whatever went out
 * while it was down was lost. */
void core_transport_up(struct core *c, struct peer *p, const struct endpoint *ep, uint64_t now);

#endif
