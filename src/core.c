// SPDX-License-Identifier: MIT
#include "core.h"

#include <endian.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "icmp.h"
#include "log.h"
#include "timers.h"

#define UNDER_LOAD_PER_SECOND 128

static uint64_t jitter(void)
{
	uint32_t r = 0;
	if (!crypto_random(&r, sizeof(r)))
		r = 0;
	return (uint64_t)(r % (REKEY_TIMEOUT_JITTER_MAX_MS * 1000U)) * 1000U;
}

static bool expired(uint64_t birth, uint64_t now, uint64_t seconds)
{
	return now - birth >= seconds * NS_PER_SEC;
}

static struct peer *peer_of_timer(struct timerq_entry *e)
{
	return (struct peer *)((char *)e - offsetof(struct peer, timer));
}

/* Keeps the peer's heap entry no later than its earliest deadline. Deadlines
 * that move later are left alone: the entry fires early, finds nothing due
 * and is put back at the right time (cheaper than a heap move per packet). */
static void schedule(struct core *c, struct peer *p)
{
	uint64_t t = timers_next_deadline(p);
	if (t == UINT64_MAX)
		return;
	if (!timerq_entry_queued(&p->timer) || t < p->timer.deadline)
		timerq_set(&c->timers, &p->timer, t);
}

/* ---- output batches ---- */

static void flush_net(struct core *c)
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
		flush_net(c);
	c->out_net[c->n_out_net++] = k;
}

static void out_tun(struct core *c, struct pkt *k)
{
	if (c->n_out_tun == CORE_BATCH)
		flush_tun(c);
	c->out_tun[c->n_out_tun++] = k;
}

static void drop(struct core *c, struct pkt *k, enum drop_cause why)
{
	c->drops[why]++;
	pool_put(&c->pool, k);
}

/* Sends a handshake message (already with macs) to ep, on behalf of p
 * (NULL for a cookie reply, which belongs to no peer yet). */
static void send_handshake_message(struct core *c, struct peer *p, const struct endpoint *ep, const void *msg, size_t len)
{
	struct pkt *k = pool_get(&c->pool);
	if (!k) {
		c->drops[DROP_NO_BUFFER]++;
		return;
	}
	memcpy(k->data, msg, len);
	k->len = (uint32_t)len;
	k->ep = *ep;
	k->peer = p;
	out_net(c, k);
}

/* ---- keypairs ---- */

static void keypair_release(struct core *c, struct keypair *kp)
{
	if (!kp || !kp->valid)
		return;
	index_table_remove(&c->index, kp->local_index);
	crypto_aead_ctx_clear(&kp->send);
	crypto_aead_ctx_clear(&kp->recv);
	kp->valid = false;
	kp->send_counter = 0;
}

static void handshake_release(struct core *c, struct peer *p)
{
	/* A zeroed handshake handed its index over to a keypair (or never had one). */
	if (p->handshake.state != HANDSHAKE_ZEROED && p->handshake.local_index)
		index_table_remove(&c->index, p->handshake.local_index);
	handshake_wipe(&p->handshake);
}

static void keypairs_clear(struct core *c, struct peer *p)
{
	for (int i = 0; i < 3; i++)
		keypair_release(c, &p->keypairs[i]);
	p->previous = p->current = p->next_keypair = NULL;
}

static struct keypair *keypair_free_slot(struct peer *p)
{
	for (int i = 0; i < 3; i++) {
		struct keypair *kp = &p->keypairs[i];
		if (kp != p->previous && kp != p->current && kp != p->next_keypair)
			return kp;
	}
	return NULL;
}

/* Turns the finished handshake into a session (whitepaper 5.4.5 and the
 * keypair rotation of the Linux module): the initiator uses it at once; the
 * responder keeps it as `next` until the initiator's first packet confirms it. */
static bool begin_session(struct core *c, struct peer *p, uint64_t now)
{
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN], recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint32_t local_index = p->handshake.local_index, remote_index = p->handshake.remote_index;
	enum cipher_suite suite = p->handshake.suite;
	bool initiator = false, ok = false;

	if (!handshake_derive_keys(&p->handshake, send_key, recv_key, &initiator))
		goto out;
	if (initiator) {
		if (p->next_keypair) {
			keypair_release(c, p->previous);
			p->previous = p->next_keypair;
			p->next_keypair = NULL;
			keypair_release(c, p->current);
		} else {
			keypair_release(c, p->previous);
			p->previous = p->current;
		}
		p->current = NULL;
	} else {
		keypair_release(c, p->next_keypair);
		p->next_keypair = NULL;
		keypair_release(c, p->previous);
		p->previous = NULL;
	}
	struct keypair *kp = keypair_free_slot(p);
	if (!kp || !crypto_aead_ctx_setkey(&kp->send, suite, send_key) || !crypto_aead_ctx_setkey(&kp->recv, suite, recv_key)) {
		if (kp) {
			crypto_aead_ctx_clear(&kp->send);
			crypto_aead_ctx_clear(&kp->recv);
		}
		index_table_remove(&c->index, local_index);
		goto out;
	}
	replay_init(&kp->replay);
	kp->send_counter = 0;
	kp->birth = now;
	kp->local_index = local_index;
	kp->remote_index = remote_index;
	kp->we_initiated = initiator;
	kp->valid = true;
	/* The handshake's index now names the session. */
	struct index_slot *slot = (struct index_slot *)index_table_lookup(&c->index, local_index);
	if (slot) {
		slot->kind = INDEX_KEYPAIR;
		slot->keypair = kp;
	}
	if (initiator)
		p->current = kp;
	else
		p->next_keypair = kp;
	timers_session_derived(p, now);
	ok = true;
out:
	crypto_wipe(send_key, sizeof(send_key));
	crypto_wipe(recv_key, sizeof(recv_key));
	return ok;
}

/* The responder's `next` keypair is confirmed by the first packet on it. */
static bool received_with_keypair(struct core *c, struct peer *p, struct keypair *kp)
{
	if (kp != p->next_keypair)
		return false;
	keypair_release(c, p->previous);
	p->previous = p->current;
	p->current = kp;
	p->next_keypair = NULL;
	return true;
}

/* ---- handshake initiation ---- */

static void keylog(struct core *c, const struct peer *p)
{
	if (c->hooks.keylog)
		c->hooks.keylog(c->hooks.ctx, c->identity.private_key, p->public_key, p->handshake.ephemeral_private,
				p->preshared_key);
}

static void send_initiation(struct core *c, struct peer *p, uint64_t now, bool is_retry)
{
	struct message_handshake_initiation msg;
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	if (!is_retry)
		p->handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT. */
	if (p->last_sent_handshake && !expired(p->last_sent_handshake, now, REKEY_TIMEOUT))
		return;
	if (!c->identity.has_key)
		return;
	handshake_release(c, p);
	uint32_t idx = index_table_insert(&c->index, INDEX_HANDSHAKE, p, NULL);
	handshake_tai64n(ts, (uint64_t)((int64_t)now + c->wall_offset_ns));
	if (!handshake_create_initiation(&p->handshake, &msg, &c->identity, p->public_key, p->preshared_key,
					 p->suite, idx, ts)) {
		index_table_remove(&c->index, idx);
		goto out;
	}
	cookie_add_macs(&p->cookie, &msg, sizeof(msg), now);
	keylog(c, p);
	p->last_sent_handshake = now;
	if (p->endpoint.addr.sa.sa_family != AF_UNSPEC)
		send_handshake_message(c, p, &p->endpoint, &msg, sizeof(msg));
	timers_any_authenticated_packet_traversal(p, now);
	timers_any_authenticated_packet_sent(p);
	timers_handshake_initiated(p, now, jitter());
	schedule(c, p);
out:
	crypto_wipe(&msg, sizeof(msg));
}

void core_peer_initiate(struct core *c, struct peer *p, uint64_t now)
{
	send_initiation(c, p, now, false);
	flush_net(c);
}

/* ---- the send path ---- */

static bool keypair_can_send(const struct keypair *kp, uint64_t now)
{
	return kp && kp->valid && !expired(kp->birth, now, REJECT_AFTER_TIME) &&
	       kp->send_counter < REJECT_AFTER_MESSAGES;
}

/* Queues a packet until the peer has a session: at most CORE_MAX_STAGED per
 * peer as in WireGuard, and a fair share of a quarter of the pool, so peers
 * that never answer cannot starve the others or the receive path. */
static void stage(struct core *c, struct peer *p, struct pkt *k)
{
	uint32_t share = c->n_peers ? c->max_staged / (uint32_t)c->n_peers : c->max_staged;
	uint32_t limit = share < 1 ? 1 : share > CORE_MAX_STAGED ? CORE_MAX_STAGED : share;

	if (p->staged.len >= limit) {
		drop(c, pkt_queue_pop(&p->staged), DROP_NO_BUFFER);
		c->n_staged--;
	} else if (c->n_staged >= c->max_staged) {
		drop(c, k, DROP_NO_BUFFER);
		return;
	}
	k->peer = p;
	pkt_queue_push(&p->staged, k);
	c->n_staged++;
}

static struct pkt *unstage(struct core *c, struct peer *p)
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
	uint32_t len = k->len;
	uint32_t padded = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(uint32_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (padded > c->mtu)
		padded = len > c->mtu ? len : c->mtu;
	if (k->data - k->buf < MESSAGE_DATA_HEADER_LEN ||
	    (size_t)(k->data - k->buf) + padded + NOISE_AUTHTAG_LEN > k->cap)
		return false;
	memset(k->data + len, 0, padded - len);
	uint64_t counter = kp->send_counter++;
	struct message_data *hdr = (struct message_data *)(k->data - MESSAGE_DATA_HEADER_LEN);
	memset(&hdr->header, 0, sizeof(hdr->header));
	hdr->header.type = MESSAGE_DATA;
	hdr->header.suite = kp->send.suite == SUITE_AESGCM ? MESSAGE_SUITE_AESGCM : MESSAGE_SUITE_CHACHAPOLY;
	hdr->key_idx = kp->remote_index; /* indices are opaque: sent as received */
	hdr->counter = htole64(counter);
	if (!crypto_aead_ctx_seal(&kp->send, hdr->encrypted_data, k->data, padded, counter))
		return false;
	k->data = (uint8_t *)hdr;
	k->len = MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
	return true;
}

/* Encrypts and sends every staged packet of the peer, or starts a handshake
 * when there is no usable session. */
static void send_staged(struct core *c, struct peer *p, uint64_t now)
{
	struct keypair *kp = p->current;
	bool sent_data = false, sent_any = false;
	struct pkt *k;

	/* No session: start one, even if nothing could be queued for it. */
	if (!keypair_can_send(kp, now) || p->endpoint.addr.sa.sa_family == AF_UNSPEC) {
		send_initiation(c, p, now, false);
		return;
	}
	if (!p->staged.len)
		return;
	while ((k = unstage(c, p))) {
		bool is_keepalive = k->len == 0;
		if (!keypair_can_send(kp, now) || !encrypt_packet(c, kp, k)) {
			drop(c, k, DROP_NO_KEYPAIR);
			continue;
		}
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
			timers_data_sent(p, now, jitter());
	}
	/* Rekey when the session is worn (either side) or old (its initiator). */
	if (kp->send_counter > REKEY_AFTER_MESSAGES || (kp->we_initiated && expired(kp->birth, now, REKEY_AFTER_TIME)))
		send_initiation(c, p, now, false);
	schedule(c, p);
}

static void send_keepalive(struct core *c, struct peer *p, uint64_t now)
{
	if (!p->staged.len) {
		struct pkt *k = pool_get(&c->pool);
		if (!k) {
			c->drops[DROP_NO_BUFFER]++;
			return;
		}
		stage(c, p, k);
	}
	send_staged(c, p, now);
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

	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		const uint8_t *dst;
		int family = ip_destination(k, &dst);
		if (family == AF_UNSPEC) {
			drop(c, k, DROP_MALFORMED);
			continue;
		}
		struct peer *p = allowedips_lookup(&c->allowedips, family, dst);
		if (!p) {
			drop(c, k, DROP_NO_PEER);
			continue;
		}
		stage(c, p, k);
		int j;
		for (j = 0; j < n_touched && touched[j] != p; j++)
			;
		if (j == n_touched) {
			if (n_touched == CORE_BATCH) {
				send_staged(c, touched[0], now);
				touched[0] = touched[--n_touched];
			}
			touched[n_touched++] = p;
		}
	}
	for (int j = 0; j < n_touched; j++)
		send_staged(c, touched[j], now);
	flush_net(c);
}

/* ---- the receive path ---- */

static bool under_load(struct core *c, uint64_t now)
{
	if (now - c->load_window_start >= NS_PER_SEC) {
		c->load_window_start = now;
		c->load_count = 0;
	}
	if (++c->load_count > UNDER_LOAD_PER_SECOND)
		c->under_load_until = now + NS_PER_SEC;
	return c->force_under_load || now < c->under_load_until;
}

static void update_endpoint(struct peer *p, const struct endpoint *ep)
{
	struct core *c = p->core;
	struct endpoint old;

	if (endpoint_equal(&p->endpoint, ep))
		return;
	old = p->endpoint;
	p->endpoint = *ep;
	if (c->hooks.endpoint_changed)
		c->hooks.endpoint_changed(c->hooks.ctx, p, &old, &p->endpoint);
}

/* mac1 always; under load also mac2, answering with a cookie when it is
 * missing. Returns false when the message must go no further. */
static bool check_macs(struct core *c, struct pkt *k, uint32_t sender_index, uint64_t now)
{
	bool load = under_load(c, now);
	/* Over TCP the handshake that opened the connection already proved the
	 * sender owns its address, and a cookie (bound to the source port)
	 * would not survive a reconnect: only the rate limit applies. */
	bool over_tcp = k->ep.conn != 0;
	enum cookie_mac_state st = cookie_validate(&c->cookie_checker, k->data, k->len, &k->ep, load && !over_tcp, now);

	if (st == COOKIE_MAC_INVALID)
		return false;
	if (!load)
		return true;
	if (over_tcp)
		return ratelimit_allow(&c->ratelimit, &k->ep, now);
	if (st == COOKIE_MAC_VALID_WITH_COOKIE)
		return ratelimit_allow(&c->ratelimit, &k->ep, now);
	struct message_handshake_cookie reply;
	if (cookie_create_reply(&c->cookie_checker, &reply, k->data, k->len, sender_index, &k->ep, now))
		send_handshake_message(c, NULL, &k->ep, &reply, sizeof(reply));
	return false;
}

static void consume_initiation(struct core *c, struct pkt *k, uint64_t now)
{
	const struct message_handshake_initiation *msg = (const void *)k->data;
	struct handshake st;
	struct handshake_initiation_info info;
	struct message_handshake_response resp;
	struct peer *p;

	memset(&st, 0, sizeof(st));
	memset(&info, 0, sizeof(info));
	if (!check_macs(c, k, msg->sender_index, now))
		goto out;
	enum cipher_suite suite = msg->header.suite == MESSAGE_SUITE_AESGCM ? SUITE_AESGCM : SUITE_CHACHAPOLY;
	if (!handshake_consume_initiation(&st, &info, msg, &c->identity, suite))
		goto bad;
	p = core_peer_find(c, info.initiator_public);
	if (!p || p->suite != st.suite)
		goto bad;
	/* Only a newer timestamp, and not more often than INITIATIONS_PER_SECOND. */
	if (memcmp(info.timestamp, p->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0)
		goto bad;
	if (p->last_initiation_consumed && now - p->last_initiation_consumed < NS_PER_SEC / INITIATIONS_PER_SECOND)
		goto bad;
	/* Every check passed: commit to the peer. */
	handshake_release(c, p);
	p->handshake = st;
	memcpy(p->latest_timestamp, info.timestamp, NOISE_TIMESTAMP_LEN);
	p->last_initiation_consumed = now;
	p->rx_bytes += k->len;
	update_endpoint(p, &k->ep);
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);

	uint32_t idx = index_table_insert(&c->index, INDEX_HANDSHAKE, p, NULL);
	if (!handshake_create_response(&p->handshake, &resp, p->public_key, p->preshared_key, idx)) {
		index_table_remove(&c->index, idx);
		handshake_release(c, p);
		goto out;
	}
	cookie_add_macs(&p->cookie, &resp, sizeof(resp), now);
	keylog(c, p);
	if (begin_session(c, p, now)) {
		send_handshake_message(c, p, &p->endpoint, &resp, sizeof(resp));
		/* Counts as our handshake: no initiation of ours until this one settles. */
		p->last_sent_handshake = now;
		timers_any_authenticated_packet_sent(p);
	}
	schedule(c, p);
	goto out;
bad:
	c->drops[DROP_HANDSHAKE]++;
out:
	handshake_wipe(&st);
	crypto_wipe(&info, sizeof(info));
	crypto_wipe(&resp, sizeof(resp));
}

static void consume_response(struct core *c, struct pkt *k, uint64_t now)
{
	const struct message_handshake_response *msg = (const void *)k->data;
	struct handshake st;

	memset(&st, 0, sizeof(st));
	if (!check_macs(c, k, msg->sender_index, now))
		goto out;
	const struct index_slot *slot = index_table_lookup(&c->index, msg->receiver_index);
	if (!slot || slot->kind != INDEX_HANDSHAKE)
		goto bad;
	struct peer *p = slot->peer;
	if ((msg->header.suite == MESSAGE_SUITE_AESGCM) != (p->handshake.suite == SUITE_AESGCM))
		goto bad;
	if (!handshake_consume_response(&st, &p->handshake, msg, &c->identity, p->preshared_key))
		goto bad;
	p->handshake = st;
	if (!begin_session(c, p, now))
		goto out;
	p->rx_bytes += k->len;
	update_endpoint(p, &k->ep);
	p->last_handshake_unix_ns = (uint64_t)((int64_t)now + c->wall_offset_ns);
	timers_handshake_complete(p);
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);
	/* Confirm the session to the responder: staged data, or a keepalive. */
	send_keepalive(c, p, now);
	schedule(c, p);
	goto out;
bad:
	c->drops[DROP_HANDSHAKE]++;
out:
	handshake_wipe(&st);
}

static void consume_cookie(struct core *c, struct pkt *k, uint64_t now)
{
	const struct message_handshake_cookie *msg = (const void *)k->data;
	const struct index_slot *slot = index_table_lookup(&c->index, msg->receiver_index);

	if (!slot || !cookie_consume_reply(&slot->peer->cookie, msg, now))
		c->drops[DROP_HANDSHAKE]++;
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
		drop(c, k, DROP_NO_KEYPAIR);
		return;
	}
	kp = slot->keypair;
	p = slot->peer;
	uint64_t counter = le64toh(hdr->counter);
	if (!kp->valid || expired(kp->birth, now, REJECT_AFTER_TIME) ||
	    (hdr->header.suite == MESSAGE_SUITE_AESGCM) != (kp->recv.suite == SUITE_AESGCM)) {
		drop(c, k, DROP_NO_KEYPAIR);
		return;
	}
	if (!replay_check(&kp->replay, counter)) {
		drop(c, k, DROP_REPLAY);
		return;
	}
	uint32_t clen = k->len - MESSAGE_DATA_HEADER_LEN;
	if (!crypto_aead_ctx_open(&kp->recv, hdr->encrypted_data, hdr->encrypted_data, clen, counter)) {
		drop(c, k, DROP_DECRYPT);
		return;
	}
	if (!replay_update(&kp->replay, counter)) {
		drop(c, k, DROP_REPLAY);
		return;
	}
	/* Authenticated: this is the peer, wherever it now is. */
	p->rx_bytes += k->len;
	update_endpoint(p, &k->ep);
	if (received_with_keypair(c, p, kp)) {
		p->last_handshake_unix_ns = (uint64_t)((int64_t)now + c->wall_offset_ns);
		timers_handshake_complete(p);
		if (*n_confirmed < CORE_BATCH)
			confirmed[(*n_confirmed)++] = p;
	}
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);
	/* The current session is ours and old: rekey before it is rejected. */
	struct keypair *cur = p->current;
	if (cur && cur->valid && cur->we_initiated && !p->sent_lastminute_handshake &&
	    expired(cur->birth, now, REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT)) {
		p->sent_lastminute_handshake = true;
		send_initiation(c, p, now, false);
	}

	uint32_t plen = clen - NOISE_AUTHTAG_LEN;
	if (plen == 0) { /* keepalive */
		schedule(c, p);
		pool_put(&c->pool, k);
		return;
	}
	int family;
	const uint8_t *src;
	uint32_t ip_len = inner_length(hdr->encrypted_data, plen, &family, &src);
	if (!ip_len) {
		schedule(c, p);
		drop(c, k, DROP_MALFORMED);
		return;
	}
	if (allowedips_lookup(&c->allowedips, family, src) != p) {
		schedule(c, p);
		drop(c, k, DROP_ALLOWEDIPS);
		return;
	}
	timers_data_received(p, now);
	schedule(c, p);
	k->data = hdr->encrypted_data;
	k->len = ip_len;
	k->peer = p;
	/* ReplyPing: an echo request for us goes straight back, never to the kernel. */
	if (c->reply_ping && icmp_echo_reply(k->data, k->len, c->own_addresses, c->n_own_addresses)) {
		stage(c, p, k);
		if (*n_confirmed < CORE_BATCH && (!*n_confirmed || confirmed[*n_confirmed - 1] != p))
			confirmed[(*n_confirmed)++] = p;
		return;
	}
	out_tun(c, k);
}

/* Handshake messages have one exact size each. */
static const struct {
	size_t len;
	void (*consume)(struct core *c, struct pkt *k, uint64_t now);
} handshake_messages[] = {
	[MESSAGE_HANDSHAKE_INITIATION] = { sizeof(struct message_handshake_initiation), consume_initiation },
	[MESSAGE_HANDSHAKE_RESPONSE] = { sizeof(struct message_handshake_response), consume_response },
	[MESSAGE_HANDSHAKE_COOKIE] = { sizeof(struct message_handshake_cookie), consume_cookie },
};

void core_net_rx(struct core *c, uint64_t now, struct pkt **pkts, int n)
{
	struct peer *confirmed[CORE_BATCH];
	int n_confirmed = 0;

	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		uint8_t type = k->len >= sizeof(struct message_header) ? k->data[0] : 0;
		/* The reserved bytes must be zero, as the other implementations
		 * require, but for the suite byte of sluice's second suite. */
		if (k->len >= 4 && ((k->data[1] & ~MESSAGE_SUITE_AESGCM) | k->data[2] | k->data[3]))
			type = MESSAGE_INVALID;
		if (type == MESSAGE_DATA && k->len >= MESSAGE_MINIMUM_LENGTH) {
			consume_data(c, k, now, confirmed, &n_confirmed);
			continue;
		}
		if (type >= MESSAGE_HANDSHAKE_INITIATION && type <= MESSAGE_HANDSHAKE_COOKIE &&
		    k->len == handshake_messages[type].len) {
			handshake_messages[type].consume(c, k, now);
			pool_put(&c->pool, k);
			continue;
		}
		drop(c, k, DROP_MALFORMED);
	}
	flush_tun(c);
	/* A confirmed session releases what waited for it (and echo replies go out). */
	for (int i = 0; i < n_confirmed; i++)
		send_staged(c, confirmed[i], now);
	flush_net(c);
}

/* ---- timers ---- */

static void zero_key_material(struct core *c, struct peer *p)
{
	keypairs_clear(c, p);
	handshake_release(c, p);
}

static void peer_timers_fire(struct core *c, struct peer *p, uint64_t now)
{
	unsigned due = timers_expired(p, now);

	if (due & TIMER_RETRANSMIT_HANDSHAKE) {
		if (p->handshake_attempts > MAX_TIMER_HANDSHAKES) {
			/* Give up: drop what waited and forget the handshake soon. */
			struct pkt *k;
			while ((k = unstage(c, p)))
				drop(c, k, DROP_NO_KEYPAIR);
			p->timer_send_keepalive = 0;
			if (!p->timer_zero_key_material)
				p->timer_zero_key_material = now + 3ULL * REJECT_AFTER_TIME * NS_PER_SEC;
		} else {
			p->handshake_attempts++;
			p->last_sent_handshake = 0; /* a retry is not rate limited again */
			send_initiation(c, p, now, true);
		}
	}
	if (due & TIMER_SEND_KEEPALIVE) {
		send_keepalive(c, p, now);
		if (p->need_another_keepalive) {
			p->need_another_keepalive = false;
			p->timer_send_keepalive = now + KEEPALIVE_TIMEOUT * NS_PER_SEC;
		}
	}
	if (due & TIMER_NEW_HANDSHAKE)
		send_initiation(c, p, now, false);
	if (due & TIMER_ZERO_KEY_MATERIAL)
		zero_key_material(c, p);
	if ((due & TIMER_PERSISTENT_KEEPALIVE) && p->persistent_keepalive)
		send_keepalive(c, p, now);
}

void core_tick(struct core *c, uint64_t now)
{
	struct timerq_entry *e;

	while ((e = timerq_peek(&c->timers)) && e->deadline <= now) {
		struct peer *p = peer_of_timer(e);
		timerq_remove(&c->timers, e);
		peer_timers_fire(c, p, now);
		schedule(c, p);
	}
	flush_net(c);
}

uint64_t core_next_deadline(const struct core *c)
{
	struct timerq_entry *e = timerq_peek(&c->timers);
	return e ? e->deadline : UINT64_MAX;
}

/* ---- configuration ---- */

int core_init(struct core *c, const struct core_hooks *hooks, uint32_t mtu, size_t pool_count)
{
	memset(c, 0, sizeof(*c));
	c->hooks = *hooks;
	c->mtu = mtu ? mtu : DEFAULT_MTU;
	allowedips_init(&c->allowedips);
	timerq_init(&c->timers);
	/* Room for the largest of: an MTU-sized packet encrypted and padded, or
	 * a datagram from a peer whose MTU is the usual Ethernet one. */
	c->max_mtu = c->mtu > 1500 ? c->mtu : 1500;
	size_t room = c->max_mtu + MESSAGE_DATA_HEADER_LEN + MESSAGE_PADDING_MULTIPLE + NOISE_AUTHTAG_LEN + 64;
	if (pool_init(&c->pool, pool_count, PKT_HEADROOM + room) < 0)
		return -ENOMEM;
	c->max_staged = (uint32_t)(pool_count / 4);
	if (index_table_init(&c->index, 64) < 0 || timerq_reserve(&c->timers, 16) < 0 ||
	    ratelimit_init(&c->ratelimit) < 0) {
		core_destroy(c);
		return -ENOMEM;
	}
	return 0;
}

static void peer_free(struct core *c, struct peer *p)
{
	struct pkt *k;

	timerq_remove(&c->timers, &p->timer);
	keypairs_clear(c, p);
	handshake_release(c, p);
	while ((k = unstage(c, p)))
		pool_put(&c->pool, k);
	for (int i = 0; i < 3; i++) {
		crypto_aead_ctx_free(&p->keypairs[i].send);
		crypto_aead_ctx_free(&p->keypairs[i].recv);
	}
	cookie_maker_wipe(&p->cookie);
	crypto_wipe(p, sizeof(*p));
	free(p);
}

void core_destroy(struct core *c)
{
	while (c->peers) {
		struct peer *p = c->peers;
		c->peers = p->next;
		allowedips_remove_by_peer(&c->allowedips, p);
		peer_free(c, p);
	}
	allowedips_free(&c->allowedips);
	index_table_free(&c->index);
	timerq_free(&c->timers);
	ratelimit_free(&c->ratelimit);
	free(c->own_addresses);
	c->own_addresses = NULL;
	/* Buffers may still hold plaintext. */
	if (c->pool.mem)
		crypto_wipe(c->pool.mem, c->pool.count * c->pool.stride);
	pool_destroy(&c->pool);
	cookie_checker_wipe(&c->cookie_checker);
	crypto_wipe(&c->identity, sizeof(c->identity));
}

struct peer *core_peer_find(struct core *c, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	for (struct peer *p = c->peers; p; p = p->next)
		if (crypto_equal(p->public_key, public_key, NOISE_PUBLIC_KEY_LEN))
			return p;
	return NULL;
}

struct peer *core_peer_add(struct core *c, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct peer *p;

	if (c->n_peers >= MAX_PEERS_PER_DEVICE)
		return NULL;
	if (index_table_reserve(&c->index, (uint32_t)(c->n_peers + 1) * 4) < 0 ||
	    timerq_reserve(&c->timers, c->n_peers + 1) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	for (int i = 0; i < 3; i++) {
		if (!crypto_aead_ctx_init(&p->keypairs[i].send) || !crypto_aead_ctx_init(&p->keypairs[i].recv)) {
			for (int j = 0; j <= i; j++) {
				crypto_aead_ctx_free(&p->keypairs[j].send);
				crypto_aead_ctx_free(&p->keypairs[j].recv);
			}
			free(p);
			return NULL;
		}
	}
	p->core = c;
	memcpy(p->public_key, public_key, NOISE_PUBLIC_KEY_LEN);
	p->suite = SUITE_CHACHAPOLY;
	p->endpoint.addr.sa.sa_family = AF_UNSPEC;
	cookie_maker_init(&p->cookie, public_key);
	timerq_entry_init(&p->timer);
	/* Appended: peers are listed in the order they were added, as WireGuard does. */
	struct peer **tail = &c->peers;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	c->n_peers++;
	return p;
}

void core_peer_remove(struct core *c, struct peer *p)
{
	for (struct peer **pp = &c->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			c->n_peers--;
			allowedips_remove_by_peer(&c->allowedips, p);
			peer_free(c, p);
			return;
		}
	}
}

void core_peer_set_psk(struct core *c, struct peer *p, const uint8_t *psk)
{
	(void)c;
	if (psk)
		memcpy(p->preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
	else
		crypto_wipe(p->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
}

void core_peer_set_endpoint(struct core *c, struct peer *p, const struct endpoint *ep)
{
	(void)c;
	p->endpoint = *ep;
}

void core_peer_set_keepalive(struct core *c, struct peer *p, uint16_t seconds, uint64_t now)
{
	bool was_off = !p->persistent_keepalive;
	p->persistent_keepalive = seconds;
	if (!seconds) {
		p->timer_persistent_keepalive = 0;
		return;
	}
	if (was_off && p->endpoint.addr.sa.sa_family != AF_UNSPEC && c->identity.has_key) {
		send_keepalive(c, p, now);
		flush_net(c);
	}
}

int core_peer_add_allowed_ip(struct core *c, struct peer *p, const struct cidr *ip)
{
	return allowedips_insert(&c->allowedips, ip->family, ip->addr.bytes, ip->prefix, p);
}

void core_peer_clear_allowed_ips(struct core *c, struct peer *p)
{
	allowedips_remove_by_peer(&c->allowedips, p);
}

void core_set_private_key(struct core *c, const uint8_t *private_key)
{
	struct static_identity id;

	memset(&id, 0, sizeof(id));
	if (private_key && !crypto_is_zero(private_key, NOISE_PUBLIC_KEY_LEN)) {
		memcpy(id.private_key, private_key, NOISE_PUBLIC_KEY_LEN);
		if (crypto_x25519_public(id.public_key, id.private_key))
			id.has_key = true;
	}
	if (c->identity.has_key == id.has_key &&
	    crypto_equal(c->identity.private_key, id.private_key, NOISE_PUBLIC_KEY_LEN))
		goto out;
	c->identity = id;
	cookie_checker_init(&c->cookie_checker, id.public_key);
	/* Sessions made with the old key are void. */
	struct peer *p = c->peers;
	while (p) {
		struct peer *next = p->next;
		if (id.has_key && crypto_equal(p->public_key, id.public_key, NOISE_PUBLIC_KEY_LEN)) {
			core_peer_remove(c, p);
		} else {
			handshake_release(c, p);
			keypairs_clear(c, p);
		}
		p = next;
	}
out:
	crypto_wipe(&id, sizeof(id));
}

int core_set_reply_ping(struct core *c, bool on, const struct cidr *addrs, size_t n)
{
	struct cidr *copy = NULL;

	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, addrs, n * sizeof(*copy));
	}
	free(c->own_addresses);
	c->own_addresses = copy;
	c->n_own_addresses = n;
	c->reply_ping = on;
	return 0;
}

int core_apply(struct core *c, const struct interface_config *cfg, uint64_t now)
{
	if (cfg->has_private_key)
		core_set_private_key(c, cfg->private_key);
	if (cfg->replace_peers) {
		while (c->peers)
			core_peer_remove(c, c->peers);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *pc = &cfg->peers[i];
		struct peer *p = core_peer_find(c, pc->public_key);
		if (pc->remove) {
			if (p)
				core_peer_remove(c, p);
			continue;
		}
		if (!p) {
			if (pc->update_only)
				continue;
			/* A peer with our own public key is ignored, as in WireGuard. */
			if (c->identity.has_key && crypto_equal(pc->public_key, c->identity.public_key, NOISE_PUBLIC_KEY_LEN))
				continue;
			p = core_peer_add(c, pc->public_key);
			if (!p)
				return ENOMEM;
		}
		if (pc->has_preshared_key)
			core_peer_set_psk(c, p, pc->preshared_key);
		if (pc->has_suite && pc->suite != p->suite) {
			/* Sessions of the other suite are void. */
			handshake_release(c, p);
			keypairs_clear(c, p);
			p->suite = pc->suite;
		}
		if (pc->endpoint.addr.sa.sa_family != AF_UNSPEC)
			core_peer_set_endpoint(c, p, &pc->endpoint);
		if (pc->replace_allowed_ips)
			core_peer_clear_allowed_ips(c, p);
		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			int r = core_peer_add_allowed_ip(c, p, &pc->allowed_ips[j]);
			if (r < 0)
				return -r;
		}
		if (pc->has_persistent_keepalive)
			core_peer_set_keepalive(c, p, pc->persistent_keepalive, now);
	}
	return 0;
}

struct pool *core_pool(struct core *c)
{
	return &c->pool;
}

uint32_t core_mtu(const struct core *c)
{
	return c->mtu;
}

uint32_t core_max_mtu(const struct core *c)
{
	return c->max_mtu;
}

int core_set_mtu(struct core *c, uint32_t mtu)
{
	if (!mtu || mtu > c->max_mtu)
		return -EINVAL;
	c->mtu = mtu;
	return 0;
}

void core_set_wall_offset(struct core *c, int64_t offset_ns)
{
	c->wall_offset_ns = offset_ns;
}

void core_count_drop(struct core *c, enum drop_cause cause, uint64_t n)
{
	if ((unsigned)cause < DROP_CAUSE_COUNT)
		c->drops[cause] += n;
}

uint64_t core_drops(const struct core *c, enum drop_cause cause)
{
	return (unsigned)cause < DROP_CAUSE_COUNT ? c->drops[cause] : 0;
}

const struct peer *core_peers_first(const struct core *c)
{
	return c->peers;
}

const struct peer *core_peers_next(const struct peer *p)
{
	return p->next;
}

size_t core_peer_count(const struct core *c)
{
	return c->n_peers;
}

void core_transport_up(struct core *c, struct peer *p, const struct endpoint *ep, uint64_t now)
{
	core_peer_set_endpoint(c, p, ep);
	p->last_sent_handshake = 0;
	core_peer_initiate(c, p, now);
}
