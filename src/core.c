// SPDX-License-Identifier: MIT
/*
 * The engine's packet paths: packets from the tun (send path) and datagrams
 * from the network (data; handshake messages go to core_handshake.c's queue).
 * What the timers set off is in core_timers.c, peers and the engine's state
 * in core_peer.c; which keypair sends and how sessions rotate is session.c's.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <inttypes.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core_internal.h"
#include "crypto.h"
#include "datamsg.h"
#include "encoding.h"
#include "icmp.h"
#include "session.h"
#include "timers.h"

static uint64_t jitter(struct core *c)
{
	if (!c->jitter_left) {
		if (!crypto_random(c->jitter_pool, sizeof(c->jitter_pool)))
			memset(c->jitter_pool, 0, sizeof(c->jitter_pool));
		c->jitter_left = sizeof(c->jitter_pool) / sizeof(c->jitter_pool[0]);
	}
	uint32_t r = c->jitter_pool[--c->jitter_left];
	return (uint64_t)(r % (REKEY_TIMEOUT_JITTER_MAX_MS * 1000U)) * 1000U;
}

/* "198.18.0.9" or "2001:db8::9", for log lines. */
static const char *ip_string(char out[INET6_ADDRSTRLEN], int family, const uint8_t *addr)
{
	if (!inet_ntop(family, addr, out, INET6_ADDRSTRLEN))
		snprintf(out, INET6_ADDRSTRLEN, "?");
	return out;
}

/* ---- output batches ---- */

void core_flush_net(struct core *c)
{
	if (c->n_out_net) {
		c->hooks.send_net(c->hooks.ctx, c->out_net, c->n_out_net);
		c->n_out_net = 0;
	}
}

static void flush_tun(struct core *c)
{
	if (c->n_out_tun) {
		c->hooks.send_tun(c->hooks.ctx, c->out_tun, c->n_out_tun);
		c->n_out_tun = 0;
	}
}

static void out_net(struct core *c, struct pkt *k)
{
	if (c->n_out_net == CORE_BATCH)
		core_flush_net(c);
	c->out_net[c->n_out_net++] = k;
}

void core_out_tun(struct core *c, struct pkt *k)
{
	if (c->n_out_tun == CORE_BATCH)
		flush_tun(c);
	c->out_tun[c->n_out_tun++] = k;
}

void core_drop(struct core *c, struct pkt *k, enum drop_cause why)
{
	c->drops[why]++;
	pool_put(&c->pool, k);
}

bool core_send_handshake_message(struct core *c, struct peer *p, const struct endpoint *ep, const void *msg, size_t len)
{
	struct pkt *k = pool_get_len(&c->pool, len);
	if (!k) {
		c->drops[DROP_NO_BUFFER]++;
		return false;
	}
	memcpy(k->data, msg, len);
	k->len = (uint32_t)len;
	k->ep = *ep;
	k->peer = p;
	out_net(c, k);
	return true;
}

/* ---- handshake initiation ---- */

void core_keylog(struct core *c, const struct peer *p)
{
	if (c->hooks.keylog)
		c->hooks.keylog(c->hooks.ctx, c->identity.private_key, p->public_key, p->handshake.ephemeral_private,
				p->preshared_key);
}

void core_send_initiation(struct core *c, struct peer *p, uint64_t now, bool is_retry)
{
	struct message_handshake_initiation msg;
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	if (!is_retry)
		p->handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT. */
	if (p->last_sent_handshake && !timers_passed(p->last_sent_handshake, now, REKEY_TIMEOUT))
		return;
	if (!c->identity.has_key) {
		core_log(c, CORE_LOG_INITIATION_SENT, "No handshake with %s: the interface has no private key",
			 PEER(p));
		return;
	}
	session_handshake_release(p);
	uint32_t idx = index_table_insert(&c->index, INDEX_HANDSHAKE, p, NULL);
	handshake_tai64n(ts, (uint64_t)((int64_t)now + c->wall_offset_ns));
	const uint8_t *ss = core_peer_static_static(c, p);
	if (!ss ||
	    !handshake_create_initiation(&p->handshake, &msg, &c->identity, p->public_key, ss, p->suite, idx, ts)) {
		index_table_remove(&c->index, idx);
		goto out;
	}
	cookie_add_macs(&p->cookie, &msg, sizeof(msg), now);
	core_keylog(c, p);
	p->last_sent_handshake = now;
	if (!p->handshake_unanswered_since)
		p->handshake_unanswered_since = now;
	p->retried_for_cookie = false;
	if (p->endpoint.addr.sa.sa_family != AF_UNSPEC) {
		core_log(c, CORE_LOG_INITIATION_SENT, "Sending handshake initiation to %s", PEER(p));
		core_send_handshake_message(c, p, &p->endpoint, &msg, sizeof(msg));
	} else {
		core_log(c, CORE_LOG_INITIATION_SENT, "No handshake initiation sent to %s: it has no endpoint",
			 PEER(p));
	}
	timers_any_authenticated_packet_traversal(p, now);
	timers_any_authenticated_packet_sent(p);
	timers_handshake_initiated(p, now, jitter(c));
	core_schedule(c, p);
out:
	crypto_wipe(&msg, sizeof(msg));
}

void core_peer_initiate(struct core *c, struct peer *p, uint64_t now)
{
	core_clock(c, now);
	core_send_initiation(c, p, now, false);
	core_flush_net(c);
}

uint64_t core_state_generation(const struct core *c)
{
	return c->state_generation;
}

bool core_peer_restore(struct core *c, struct peer *p, const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
		       const struct endpoint *ep, bool initiate, uint64_t now)
{
	if (memcmp(timestamp, p->latest_timestamp, NOISE_TIMESTAMP_LEN) > 0) {
		memcpy(p->latest_timestamp, timestamp, NOISE_TIMESTAMP_LEN);
		c->state_generation++;
	}
	if (ep && ep->addr.sa.sa_family != AF_UNSPEC && !ep->conn && p->endpoint.addr.sa.sa_family == AF_UNSPEC) {
		p->endpoint = *ep;
		p->endpoint.has_src = false;
		c->state_generation++;
	}
	if (!initiate || p->endpoint.addr.sa.sa_family == AF_UNSPEC || p->endpoint.conn == ENDPOINT_TCP_DOWN)
		return true;
	if (!c->identity.has_key)
		return false;
	core_log(c, CORE_LOG_ENDPOINT_CHANGED, "Peer %" PRIu64 " known from before the restart: initiating to %s",
		 p->id, FROM(&p->endpoint));
	core_peer_initiate(c, p, now);
	return true;
}

void core_transport_up(struct core *c, struct peer *p, const struct endpoint *ep, uint64_t now)
{
	core_peer_set_endpoint(c, p, ep);
	p->last_sent_handshake = 0;
	core_peer_initiate(c, p, now);
}

/* ---- the send path ---- */

/* Queues a packet until the peer has a session: at most CORE_MAX_STAGED per
 * peer as in WireGuard, and a fair share of a quarter of the pool, so peers
 * that never answer cannot starve the others or the receive path. */
void core_stage(struct core *c, struct peer *p, struct pkt *k)
{
	uint32_t share = c->n_peers ? c->max_staged / (uint32_t)c->n_peers : c->max_staged;
	uint32_t limit = share < 1 ? 1 : share > CORE_MAX_STAGED ? CORE_MAX_STAGED : share;

	if (p->staged.len >= limit) {
		core_drop(c, pkt_queue_pop(&p->staged), DROP_NO_BUFFER);
		c->n_staged--;
	} else if (c->n_staged >= c->max_staged) {
		core_drop(c, k, DROP_NO_BUFFER);
		return;
	}
	k->peer = p;
	pkt_queue_push(&p->staged, k);
	c->n_staged++;
}

struct pkt *core_unstage(struct core *c, struct peer *p)
{
	struct pkt *k = pkt_queue_pop(&p->staged);
	if (k)
		c->n_staged--;
	return k;
}

/* Pads to a multiple of 16 (not past the MTU), prepends the data header and
 * encrypts in place. */
static bool encrypt_packet(struct core *c, struct keypair *kp, struct pkt *k)
{
	/* A frame says its length first (messages.h); a keepalive stays empty. */
	if (c->ethernet && k->len) {
		if (k->data - k->buf < MESSAGE_DATA_HEADER_LEN + MESSAGE_FRAME_LENGTH_LEN)
			return false;
		k->data -= MESSAGE_FRAME_LENGTH_LEN;
		k->data[0] = (uint8_t)(k->len >> 8);
		k->data[1] = (uint8_t)k->len;
		k->len += MESSAGE_FRAME_LENGTH_LEN;
	}
	return datamsg_seal(&kp->send, k, c->mtu + c->frame_overhead, c->wire_mode, kp->remote_index,
			    &kp->send_counter);
}

/* Encrypts and sends every staged packet of the peer, or starts a handshake
 * when there is no usable session. */
void core_send_staged(struct core *c, struct peer *p, uint64_t now)
{
	struct keypair *kp;
	bool sent_data = false, sent_any = false;
	struct pkt *k;

	/* No session: start one, even if nothing could be queued for it. */
	if (session_sending(p, now, &kp) == SESSION_NONE || p->endpoint.addr.sa.sa_family == AF_UNSPEC) {
		core_send_initiation(c, p, now, false);
		return;
	}
	if (!p->staged.len)
		return;
	while ((k = core_unstage(c, p))) {
		bool is_keepalive = k->len == 0;
		if (!session_can_send(kp, now) || !encrypt_packet(c, kp, k)) {
			core_drop(c, k, DROP_NO_KEYPAIR);
			continue;
		}
		if (is_keepalive)
			core_log(c, CORE_LOG_KEEPALIVE_SENT, "Sending keepalive packet to %s", PEER(p));
		k->ep = p->endpoint;
		k->peer = p;
		sent_any = true;
		sent_data |= !is_keepalive;
		out_net(c, k);
	}
	if (sent_any) {
		timers_any_authenticated_packet_traversal(p, now);
		timers_any_authenticated_packet_sent(p);
		if (sent_data)
			timers_data_sent(p, now, jitter(c));
	}
	if (session_sent(kp, now) == SESSION_REKEY)
		core_send_initiation(c, p, now, false);
	core_schedule(c, p);
}

void core_send_keepalive(struct core *c, struct peer *p, uint64_t now)
{
	if (!p->staged.len) {
		struct pkt *k = pool_get_len(&c->pool, 0);
		if (!k) {
			c->drops[DROP_NO_BUFFER]++;
			return;
		}
		core_stage(c, p, k);
	}
	core_send_staged(c, p, now);
}

void core_touch(struct core *c, struct peer **list, int *n, struct peer *p, uint64_t now)
{
	for (int j = 0; j < *n; j++)
		if (list[j] == p)
			return;
	if (*n == CORE_BATCH) {
		core_send_staged(c, list[0], now);
		list[0] = list[--*n];
	}
	list[(*n)++] = p;
}

/* The destination of an IP packet: 4 or 16 bytes at *addr. */
static int ip_destination(const struct pkt *k, const uint8_t **addr)
{
	if (k->len >= sizeof(struct iphdr) && (k->data[0] >> 4) == 4) {
		*addr = k->data + offsetof(struct iphdr, daddr);
		return AF_INET;
	}
	if (k->len >= sizeof(struct ip6_hdr) && (k->data[0] >> 4) == 6) {
		*addr = k->data + offsetof(struct ip6_hdr, ip6_dst);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

void core_tun_rx(struct core *c, uint64_t now, struct pkt **pkts, int n)
{
	struct peer *touched[CORE_BATCH];
	int n_touched = 0;

	if (c->ethernet) {
		core_l2_tap_rx(c, now, pkts, n);
		return;
	}
	core_clock(c, now);
	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		const uint8_t *dst;
		int family = ip_destination(k, &dst);
		if (family == AF_UNSPEC) {
			core_drop(c, k, DROP_MALFORMED);
			continue;
		}
		struct peer *p = allowedips_lookup(&c->allowedips, family, dst);
		if (!p) {
			/* Multicast (the kernel's router solicitations) is no mistake to report. */
			bool multicast = family == AF_INET ? (dst[0] & 0xf0) == 224 : dst[0] == 0xff;
			char ip[INET6_ADDRSTRLEN];
			if (!multicast)
				core_log(c, CORE_LOG_NO_PEER_FOR_DST, "No peer has allowed IPs matching %s",
					 ip_string(ip, family, dst));
			core_drop(c, k, DROP_NO_PEER);
			continue;
		}
		core_stage(c, p, k);
		core_touch(c, touched, &n_touched, p, now);
	}
	for (int j = 0; j < n_touched; j++)
		core_send_staged(c, touched[j], now);
	core_flush_net(c);
}

/* ---- the receive path ---- */

void core_update_endpoint(struct peer *p, const struct endpoint *ep)
{
	struct core *c = p->core;
	struct endpoint old;

	if (endpoint_equal(&p->endpoint, ep))
		return;
	old = p->endpoint;
	p->endpoint = *ep;
	c->state_generation++;
	if (old.addr.sa.sa_family == AF_UNSPEC)
		core_log(c, CORE_LOG_ENDPOINT_CHANGED, "Peer %" PRIu64 " endpoint changed to %s", p->id, FROM(ep));
	else
		core_log(c, CORE_LOG_ENDPOINT_CHANGED, "Peer %" PRIu64 " endpoint changed to %s (was %s)", p->id,
			 FROM(ep), FROM(&old));
	if (c->hooks.endpoint_changed)
		c->hooks.endpoint_changed(c->hooks.ctx, p, &old, &p->endpoint);
}

/* Length of the IP packet at the start of a decrypted payload (padding
 * follows it), or 0 when it is not a well-formed IPv4/IPv6 header. */
static uint32_t inner_length(const uint8_t *p, uint32_t len, int *family, const uint8_t **src)
{
	if (len >= sizeof(struct iphdr) && (p[0] >> 4) == 4) {
		uint32_t tot = (uint32_t)p[2] << 8 | p[3];
		if (tot < sizeof(struct iphdr) || tot > len)
			return 0;
		*family = AF_INET;
		*src = p + offsetof(struct iphdr, saddr);
		return tot;
	}
	if (len >= sizeof(struct ip6_hdr) && (p[0] >> 4) == 6) {
		uint32_t tot = sizeof(struct ip6_hdr) + ((uint32_t)p[4] << 8 | p[5]);
		if (tot > len)
			return 0;
		*family = AF_INET6;
		*src = p + offsetof(struct ip6_hdr, ip6_src);
		return tot;
	}
	return 0;
}

static void consume_data(struct core *c, struct pkt *k, uint64_t now, struct peer **confirmed, int *n_confirmed)
{
	struct message_data *hdr = (struct message_data *)k->data;
	const struct index_slot *slot = index_table_lookup(&c->index, hdr->key_idx);
	struct keypair *kp;
	struct peer *p;

	if (!slot || slot->kind != INDEX_KEYPAIR) {
		core_drop(c, k, DROP_NO_KEYPAIR);
		return;
	}
	kp = slot->keypair;
	p = slot->peer;
	uint64_t counter = le64toh(hdr->counter);
	enum cipher_suite suite = hdr->header.suite == MESSAGE_SUITE_AESGCM ? SUITE_AESGCM : SUITE_CHACHAPOLY;
	if (session_receivable(kp, suite, now) == SESSION_REJECTED) {
		core_drop(c, k, DROP_NO_KEYPAIR);
		return;
	}
	if (!replay_check(&kp->replay, counter)) {
		core_drop(c, k, DROP_REPLAY);
		return;
	}
	uint32_t clen = k->len - MESSAGE_DATA_HEADER_LEN;
	if (!crypto_aead_ctx_open(&kp->recv, hdr->encrypted_data, hdr->encrypted_data, clen, counter)) {
		core_drop(c, k, DROP_DECRYPT);
		return;
	}
	if (!replay_update(&kp->replay, counter)) {
		core_drop(c, k, DROP_REPLAY);
		return;
	}
	/* Authenticated: this is the peer, wherever it now is. */
	p->rx_bytes += k->len;
	core_update_endpoint(p, &k->ep);
	enum session_outcome rx = session_received(p, kp, now);
	if (rx == SESSION_CONFIRMED) {
		p->last_handshake_unix_ns = (uint64_t)((int64_t)now + c->wall_offset_ns);
		timers_handshake_complete(p);
		if (*n_confirmed < CORE_BATCH)
			confirmed[(*n_confirmed)++] = p;
	}
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);
	if (rx == SESSION_REKEY)
		core_send_initiation(c, p, now, false);

	uint32_t plen = clen - NOISE_AUTHTAG_LEN;
	if (plen == 0) {
		core_log(c, CORE_LOG_KEEPALIVE_RECEIVED, "Receiving keepalive packet from %s", PEER(p));
		core_schedule(c, p);
		pool_put(&c->pool, k);
		return;
	}
	if (c->ethernet) {
		core_l2_rx(c, p, k, hdr->encrypted_data, plen, now, confirmed, n_confirmed);
		return;
	}
	int family;
	const uint8_t *src;
	uint32_t ip_len = inner_length(hdr->encrypted_data, plen, &family, &src);
	if (!ip_len) {
		core_log(c, CORE_LOG_BAD_INNER_PACKET, "Packet is neither well-formed IPv4 nor IPv6 from %s", PEER(p));
		core_schedule(c, p);
		core_drop(c, k, DROP_MALFORMED);
		return;
	}
	if (allowedips_lookup(&c->allowedips, family, src) != p) {
		char ip[INET6_ADDRSTRLEN];
		core_log(c, CORE_LOG_UNALLOWED_SRC, "Packet has unallowed src IP (%s) from %s",
			 ip_string(ip, family, src), PEER(p));
		core_schedule(c, p);
		core_drop(c, k, DROP_ALLOWEDIPS);
		return;
	}
	timers_data_received(p, now);
	core_schedule(c, p);
	k->data = hdr->encrypted_data;
	k->len = ip_len;
	k->peer = p;
	/* ReplyPing: an echo request for us goes straight back, never to the kernel. */
	if (c->reply_ping && icmp_echo_reply(k->data, k->len, c->own_addresses, c->n_own_addresses)) {
		core_stage(c, p, k);
		if (*n_confirmed < CORE_BATCH && (!*n_confirmed || confirmed[*n_confirmed - 1] != p))
			confirmed[(*n_confirmed)++] = p;
		return;
	}
	core_out_tun(c, k);
}

/* Handshake messages have one exact size each. */
static const uint32_t handshake_sizes[] = {
	[MESSAGE_HANDSHAKE_INITIATION] = sizeof(struct message_handshake_initiation),
	[MESSAGE_HANDSHAKE_RESPONSE] = sizeof(struct message_handshake_response),
	[MESSAGE_HANDSHAKE_COOKIE] = sizeof(struct message_handshake_cookie),
};

void core_net_rx(struct core *c, uint64_t now, struct pkt **pkts, int n)
{
	struct peer *confirmed[CORE_BATCH];
	int n_confirmed = 0;

	core_clock(c, now);
	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		uint8_t type = k->len >= sizeof(struct message_header) ? k->data[0] : 0;
		/* The reserved bytes must be zero, as the other implementations
		 * require, but for the suite byte of sluice's second suite. */
		if (k->len >= 4 &&
		    ((k->data[1] & ~MESSAGE_SUITE_AESGCM) | (k->data[2] & ~MESSAGE_MODE_ETHERNET) | k->data[3]))
			type = MESSAGE_INVALID;
		else if (k->len >= 4 && k->data[2] != c->wire_mode) {
			core_log(c, CORE_LOG_MODE_MISMATCH,
				 "Message from %s is for an interface in %s mode, and this one is in %s mode: dropped",
				 FROM(&k->ep), c->ethernet ? "TUN" : "TAP", c->ethernet ? "TAP" : "TUN");
			core_drop(c, k, DROP_MODE_MISMATCH);
			continue;
		}
		if (type == MESSAGE_DATA && k->len >= MESSAGE_MINIMUM_LENGTH) {
			consume_data(c, k, now, confirmed, &n_confirmed);
			continue;
		}
		if (type >= MESSAGE_HANDSHAKE_INITIATION && type <= MESSAGE_HANDSHAKE_COOKIE &&
		    k->len == handshake_sizes[type]) {
			core_handshake_enqueue(c, k, now);
			continue;
		}
		core_drop(c, k, DROP_MALFORMED);
	}
	flush_tun(c);
	/* A confirmed session releases what waited for it (and echo replies go out). */
	for (int i = 0; i < n_confirmed; i++)
		core_send_staged(c, confirmed[i], now);
	core_flush_net(c);
}
