// SPDX-License-Identifier: MIT
/*
 * TAP mode's packet paths: the engine as a learning switch whose ports are
 * the TAP (the local side) and every peer. A frame goes to the port its
 * destination was learned on; broadcast, multicast and unknown unicast go
 * to every port but the one it came in on (a hub that never echoes). Peers
 * relay to each other here, in the engine, as a switch does, whatever the
 * TAP's bridge does. The table and its rules are l2.c's; the wire format
 * of a frame is in messages.h.
 */
#include <inttypes.h>
#include <string.h>

#include "core_internal.h"
#include "timers.h"

/* A copy of k in a fresh buffer that holds it (a peer's frame can be longer
 * than our MTU's buffers), or NULL (counted) when there is none. */
static struct pkt *copy_frame(struct core *c, const struct pkt *k)
{
	struct pkt *dup = pool_get_len(&c->pool, k->len);

	if (!dup) {
		c->drops[DROP_NO_BUFFER]++;
		return NULL;
	}
	memcpy(dup->data, k->data, k->len);
	dup->len = k->len;
	dup->peer = k->peer;
	return dup;
}

/* Queues a copy of k for p (counted when there is no buffer for it). */
static void stage_copy(struct core *c, const struct pkt *k, struct peer *p, struct peer **touched, int *n_touched,
		       uint64_t now)
{
	struct pkt *dup = copy_frame(c, k);

	if (!dup)
		return;
	core_stage(c, p, dup);
	core_touch(c, touched, n_touched, p, now);
}

/* To every peer that has somewhere to send but `except`. When the caller
 * keeps k (it goes to the TAP as well) each gets a copy; else the last
 * takes k itself, or it goes back to the pool when there is nobody. Peers
 * without an endpoint are left out: a broadcast must not start handshakes
 * nobody can answer. */
static void flood(struct core *c, struct pkt *k, bool keep, struct peer *except, struct peer **touched, int *n_touched,
		  uint64_t now)
{
	struct peer *last = NULL;

	for (struct peer *p = c->peers; p; p = p->next) {
		if (p == except || p->endpoint.addr.sa.sa_family == AF_UNSPEC)
			continue;
		if (last)
			stage_copy(c, k, last, touched, n_touched, now);
		last = p;
	}
	if (keep) {
		if (last)
			stage_copy(c, k, last, touched, n_touched, now);
	} else if (!last) {
		pool_put(&c->pool, k);
	} else {
		core_stage(c, last, k);
		core_touch(c, touched, n_touched, last, now);
	}
}

/* What the table said about the addresses of the frame before, kept while
 * the frames that follow carry the same ones: a TSO super-frame from the
 * TAP arrives as a run of segments that share one Ethernet header, and its
 * run costs one learn and one lookup instead of two SipHashes a segment.
 * The table has no VLANs: the two addresses are all it is asked about.
 * Exact, because within one batch `now` does not move and nothing but
 * l2_learn changes the table: learning a source again that was learned
 * (or moved to the local side) just now changes nothing, so the owner of
 * the destination stays what it was. A source that was refused (pinned to
 * a peer) or found no room is offered again each frame, as before, so the
 * table's counters still count frames. */
struct tap_run {
	uint8_t addrs[2 * ETHERNET_ADDR_LEN]; /* destination, source */
	bool valid;                           /* addrs holds a frame's */
	bool learned;                         /* the source needs no learning again */
	bool known;                           /* l2_lookup's answer for the destination */
	struct peer *to;
};

static void tap_run_update(struct core *c, struct tap_run *run, const uint8_t *frame, uint64_t now)
{
	bool same = run->valid && !memcmp(run->addrs, frame, sizeof(run->addrs));

	/* The local side is the administrator's network: what it sends from
	 * is learned there (a pinned address stays put). */
	if (!same || !run->learned) {
		enum l2_learn r = l2_learn(&c->l2, frame + ETHERNET_ADDR_LEN, NULL, now);
		run->learned = r != L2_REFUSED && r != L2_NOT_ROOM;
	}
	if (same)
		return;
	run->to = l2_lookup(&c->l2, frame, now, &run->known);
	memcpy(run->addrs, frame, sizeof(run->addrs));
	run->valid = true;
}

void core_l2_tap_rx(struct core *c, uint64_t now, struct pkt **pkts, int n)
{
	struct peer *touched[CORE_BATCH];
	struct tap_run run = { .valid = false };
	int n_touched = 0;

	core_clock(c, now);
	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		if (k->len < ETHERNET_HEADER_LEN) {
			core_drop(c, k, DROP_MALFORMED);
			continue;
		}
		tap_run_update(c, &run, k->data, now);
		if (run.known && !run.to) {
			/* For the local side itself: a bridge flooding. */
			pool_put(&c->pool, k);
			continue;
		}
		k->peer = NULL;
		if (run.known) {
			core_stage(c, run.to, k);
			core_touch(c, touched, &n_touched, run.to, now);
		} else {
			flood(c, k, false, NULL, touched, &n_touched, now);
		}
	}
	for (int j = 0; j < n_touched; j++)
		core_send_staged(c, touched[j], now);
	core_flush_net(c);
}

void core_l2_rx(struct core *c, struct peer *p, struct pkt *k, uint8_t *payload, uint32_t plen, uint64_t now,
		struct peer **touched, int *n_touched)
{
	uint32_t flen = plen >= MESSAGE_FRAME_LENGTH_LEN ? (uint32_t)payload[0] << 8 | payload[1] : 0;
	uint8_t *frame = payload + MESSAGE_FRAME_LENGTH_LEN;
	const uint8_t *src = frame + ETHERNET_ADDR_LEN;
	char mac[L2_MAC_STRLEN];
	bool known;

	if (flen < ETHERNET_HEADER_LEN || flen > plen - MESSAGE_FRAME_LENGTH_LEN || l2_is_group(src)) {
		core_log(c, CORE_LOG_BAD_INNER_PACKET, "Packet is not a well-formed Ethernet frame from %s", PEER(p));
		core_schedule(c, p);
		core_drop(c, k, DROP_MALFORMED);
		return;
	}
	if (p->n_allowed_macs) {
		const struct l2_entry *e = l2_find(&c->l2, src);
		if (!e || !e->pinned || e->owner != p) {
			core_log(c, CORE_LOG_UNALLOWED_MAC, "Frame has unallowed src MAC (%s) from %s",
				 (l2_mac_string(mac, src), mac), PEER(p));
			core_schedule(c, p);
			core_drop(c, k, DROP_ALLOWEDMACS);
			return;
		}
	} else if (l2_learn(&c->l2, src, p, now) == L2_REFUSED) {
		/* Pinned to another peer, or in use behind one: not poisoned. */
		core_log(c, CORE_LOG_UNALLOWED_MAC, "Frame has src MAC (%s) that another peer holds, from %s",
			 (l2_mac_string(mac, src), mac), PEER(p));
		core_schedule(c, p);
		core_drop(c, k, DROP_MAC_HELD);
		return;
	}
	timers_data_received(p, now);
	core_schedule(c, p);
	k->data = frame;
	k->len = flen;
	k->peer = p;
	struct peer *to = l2_lookup(&c->l2, frame, now, &known);
	if (known) {
		if (to == p) /* behind its own sender: nowhere to go */
			pool_put(&c->pool, k);
		else if (!to)
			core_out_tun(c, k);
		else {
			core_stage(c, to, k);
			core_touch(c, touched, n_touched, to, now);
		}
		return;
	}
	/* Flooded: every other peer gets a copy (none made when there is
	 * none to send to), and the TAP the frame itself. */
	flood(c, k, true, p, touched, n_touched, now);
	core_out_tun(c, k);
}
