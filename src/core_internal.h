/* SPDX-License-Identifier: MIT */
/*
 * Between the engine's own files only (core.c: the packet paths;
 * core_handshake.c: handshake messages received, and their queue;
 * core_timers.c: what the timers set off; core_peer.c: the engine's state
 * and its peers; session.c: keypair slots). The daemon uses core.h.
 */
#ifndef SLUICE_CORE_INTERNAL_H
#define SLUICE_CORE_INTERNAL_H

#include "core.h"

/* Every entry point that is given the time records it: log lines that are
 * made where no time is given (a peer removed) are rate limited by it. */
static inline void core_clock(struct core *c, uint64_t now)
{
	if (now > c->log.now)
		c->log.now = now;
}

/* For core_log's arguments: "peer 3 (192.0.2.2:51820)" and "192.0.2.9:51820",
 * in a buffer that lives as long as the enclosing block (the log call). */
#define PEER(p) core_peer_label(&(struct peer_label){ { 0 } }, (p))
#define FROM(ep) core_endpoint_label(&(struct endpoint_label){ { 0 } }, (ep))

/* Counts the packet lost for `why` and returns its buffer. */
void core_drop(struct core *c, struct pkt *k, enum drop_cause why);
/* Batches a handshake message (with its macs) for ep, on behalf of p (NULL
 * for a cookie reply, which belongs to no peer). False: no buffer. */
bool core_send_handshake_message(struct core *c, struct peer *p, const struct endpoint *ep, const void *msg,
				 size_t len);
/* Hands the secrets of the peer's latest handshake message to the keylog hook. */
void core_keylog(struct core *c, const struct peer *p);
/* An authenticated packet came from ep: the peer's endpoint moves there. */
void core_update_endpoint(struct peer *p, const struct endpoint *ep);
/* Hands the batched datagrams to the send_net hook. */
void core_flush_net(struct core *c);
/* Sends what waits for the peer, or a keepalive (batched: flush after). */
void core_send_keepalive(struct core *c, struct peer *p, uint64_t now);
/* Takes the peer's next staged packet, or NULL. */
struct pkt *core_unstage(struct core *c, struct peer *p);
/* Starts a handshake with the peer unless one went out less than
 * REKEY_TIMEOUT ago (batched: flush after). A retry keeps the attempt count. */
void core_send_initiation(struct core *c, struct peer *p, uint64_t now, bool is_retry);
/* Keeps the peer's heap entry no later than its earliest deadline. */
void core_schedule(struct core *c, struct peer *p);
/* The peer's ss, made now if not yet; NULL when no handshake with it can
 * work (no key of ours, or a low-order key of its). */
const uint8_t *core_peer_static_static(struct core *c, struct peer *p);

/* The send path's steps, shared with core_l2.c: queue a packet for a peer
 * until it has a session; encrypt and send what waits (or start a
 * handshake); hand a decrypted packet to the tun. */
void core_stage(struct core *c, struct peer *p, struct pkt *k);
void core_send_staged(struct core *c, struct peer *p, uint64_t now);
void core_out_tun(struct core *c, struct pkt *k);
/* Adds p to a list of at most CORE_BATCH peers to core_send_staged once
 * the batch is done (sending for the oldest at once when it is full). */
void core_touch(struct core *c, struct peer **list, int *n, struct peer *p, uint64_t now);

/* core_l2.c: TAP mode. Frames read from the TAP; and a frame decrypted
 * from peer p (payload: frame length, frame, padding), after which the
 * peers it was relayed to are added to touched. */
void core_l2_tap_rx(struct core *c, uint64_t now, struct pkt **pkts, int n);
void core_l2_rx(struct core *c, struct peer *p, struct pkt *k, uint8_t *payload, uint32_t plen, uint64_t now,
		struct peer **touched, int *n_touched);

/* core_handshake.c: the queue, made and freed with the engine (0 or
 * -ENOMEM), and what core_net_rx hands it: a handshake message of the
 * right size, whose buffer it takes. */
int core_handshake_queue_init(struct core *c);
void core_handshake_queue_free(struct core *c);
void core_handshake_enqueue(struct core *c, struct pkt *k, uint64_t now);

#endif
