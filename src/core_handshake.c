// SPDX-License-Identifier: MIT
/*
 * The engine's handshake messages from the network: the queue they wait in
 * and the work they cost (whitepaper 5.3, 5.4).
 *
 * core_net_rx hands each one here (core_handshake_enqueue) and goes on with
 * the data; core_tick works off a few at a time (core_process_handshakes),
 * so public-key work never holds data up, and a flood costs at most what
 * is checked before the queue: the size, mac1 (anyone who knows our public
 * key can make it, nobody else), and under load the rate per source.
 *
 * Under load (the queue an eighth full, or was in the last second; only
 * messages with a right mac1 ever enter it, so junk cannot put us there)
 * an initiation or response is worked on only if its mac2 proves the
 * sender's address (or it came over TCP, whose connection did); the others
 * get a cookie reply, a few a second per source (a sender that uses its
 * cookie needs one) and CORE_COOKIE_REPLIES_PER_SECOND in total. Every
 * message that goes no further is counted by its drop cause.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "crypto.h"
#include "encoding.h"
#include "session.h"
#include "timers.h"

/* ---- the queue ---- */

int core_handshake_queue_init(struct core *c)
{
	c->hs_queue = calloc(CORE_HANDSHAKE_QUEUE, sizeof(*c->hs_queue));
	return c->hs_queue ? 0 : -ENOMEM;
}

void core_handshake_queue_free(struct core *c)
{
	free(c->hs_queue);
	c->hs_queue = NULL;
	c->hs_head = c->hs_len = 0;
}

/* Also records when the queue was last long: under load lasts a second
 * after, so that a flood that keeps it just short is still treated as one. */
static bool under_load(struct core *c, uint64_t now)
{
	if (c->hs_len >= CORE_UNDER_LOAD_QUEUE) {
		if (!c->last_under_load || now >= c->last_under_load + NS_PER_SEC)
			core_log(c, CORE_LOG_UNDER_LOAD,
				 "Under load: %" PRIu32 " handshake messages queued; asking senders for cookies",
				 c->hs_len);
		c->last_under_load = now;
	}
	return c->force_under_load || (c->last_under_load && now < c->last_under_load + NS_PER_SEC);
}

void core_handshake_enqueue(struct core *c, struct pkt *k, uint64_t now)
{
	uint8_t type = k->data[0];

	if (type == MESSAGE_HANDSHAKE_COOKIE) {
		/* No mac1: only a reply to a message of ours still in flight can
		 * be real, and that takes knowing one of our indices. */
		const struct message_handshake_cookie *msg = (const void *)k->data;
		if (!index_table_lookup(&c->index, msg->receiver_index)) {
			core_log(c, CORE_LOG_INVALID_COOKIE, "Invalid cookie response from %s: unknown index",
				 FROM(&k->ep));
			core_drop(c, k, DROP_HANDSHAKE);
			return;
		}
	} else if (!cookie_check_mac1(&c->cookie_checker, k->data, k->len)) {
		/* Most often: the sender has another public key for us. */
		core_log(c, CORE_LOG_INVALID_MAC, "Invalid MAC of handshake, dropping packet from %s", FROM(&k->ep));
		core_drop(c, k, DROP_HANDSHAKE_MAC1);
		return;
	} else if (under_load(c, now) && !ratelimit_allow(&c->ratelimit, &k->ep, now)) {
		core_log(c, CORE_LOG_HANDSHAKE_DROPPED,
			 "Under load: more handshake messages than its share from %s, dropping packet", FROM(&k->ep));
		core_drop(c, k, DROP_HANDSHAKE_RATELIMIT);
		return;
	}
	if (c->hs_len == CORE_HANDSHAKE_QUEUE) {
		core_log(c, CORE_LOG_HANDSHAKE_DROPPED, "Handshake queue full, dropping packet from %s", FROM(&k->ep));
		core_drop(c, k, DROP_HANDSHAKE_QUEUE_FULL);
		return;
	}
	struct core_handshake_msg *m = &c->hs_queue[(c->hs_head + c->hs_len) & (CORE_HANDSHAKE_QUEUE - 1)];
	m->ep = k->ep;
	m->len = k->len;
	memcpy(m->data, k->data, k->len);
	c->hs_len++;
	pool_put(&c->pool, k);
}

/* ---- the macs under load ---- */

/* Under load, whether the message may be worked on: mac2 right (or over
 * TCP); else it is answered with a cookie, if cookie replies allow. */
static bool check_load(struct core *c, const struct core_handshake_msg *m, uint32_t sender_index, uint64_t now)
{
	/* Over TCP the handshake that opened the connection already proved the
	 * sender owns its address, and a cookie (bound to the source port)
	 * would not survive a reconnect: the rate per source, applied when it
	 * was queued, is all. */
	if (!under_load(c, now) || m->ep.conn != 0)
		return true;
	if (cookie_check_mac2(&c->cookie_checker, m->data, m->len, &m->ep, now))
		return true;
	/* A few per source first: a flood from many addresses then leaves the
	 * total (what costs us CPU, and what we send to addresses that may be
	 * forged) to the real senders. */
	if (!ratelimit_allow(&c->cookie_ratelimit, &m->ep, now) ||
	    !ratelimit_bucket_take(&c->cookie_replies, now,
				   ratelimit_rate(CORE_COOKIE_REPLIES_PER_SECOND, CORE_COOKIE_REPLIES_BURST))) {
		core_log(c, CORE_LOG_HANDSHAKE_DROPPED,
			 "Under load: cookie replies at their limit, dropping packet from %s", FROM(&m->ep));
		c->drops[DROP_COOKIE_RATELIMIT]++;
		return false;
	}
	struct message_handshake_cookie reply;
	c->drops[DROP_HANDSHAKE_COOKIE]++;
	if (cookie_create_reply(&c->cookie_checker, &reply, m->data, m->len, sender_index, &m->ep, now)) {
		core_log(c, CORE_LOG_COOKIE_SENT, "Sending cookie response for denied handshake message for %s",
			 FROM(&m->ep));
		if (core_send_handshake_message(c, NULL, &m->ep, &reply, sizeof(reply)))
			c->cookie_replies_sent++;
	}
	return false;
}

/* ---- initiations ---- */

static const char *suite_name(enum cipher_suite suite)
{
	return suite == SUITE_AESGCM ? "aes-256-gcm" : "chacha20-poly1305";
}

/* Finds the initiation's peer by the static key it carries and checks the
 * peer may start a handshake; says why not. */
static struct peer *initiation_peer(struct core *c, const struct core_handshake_msg *m, const struct handshake *st,
				    const uint8_t initiator_public[KEY_LEN])
{
	struct peer *p = core_peer_find(c, initiator_public);

	if (!p) {
		if (core_log_allow(c, CORE_LOG_INVALID_INITIATION)) {
			char b64[KEY_B64_LEN + 1];
			key_to_base64(b64, initiator_public);
			core_log_emit(c, CORE_LOG_INVALID_INITIATION,
				      "Invalid handshake initiation from %s: no peer has its public key %s",
				      FROM(&m->ep), b64);
		}
		return NULL;
	}
	if (p->suite != st->suite) {
		core_log(c, CORE_LOG_INVALID_INITIATION,
			 "Invalid handshake initiation from %s: peer %" PRIu64 " uses %s, this one %s", FROM(&m->ep),
			 p->id, suite_name(p->suite), suite_name(st->suite));
		return NULL;
	}
	return p;
}

/* Only a newer timestamp, and not more often than INITIATIONS_PER_SECOND.
 * DROP_CAUSE_COUNT when it is, else why not. */
static enum drop_cause initiation_timely(struct core *c, const struct core_handshake_msg *m, const struct peer *p,
					 const uint8_t timestamp[NOISE_TIMESTAMP_LEN], uint64_t now)
{
	if (memcmp(timestamp, p->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0) {
		core_log(c, CORE_LOG_INVALID_INITIATION,
			 "Invalid handshake initiation from %s: replayed timestamp of peer %" PRIu64, FROM(&m->ep),
			 p->id);
		return DROP_HANDSHAKE_REPLAY;
	}
	if (p->last_initiation_consumed && now - p->last_initiation_consumed < NS_PER_SEC / INITIATIONS_PER_SECOND) {
		core_log(c, CORE_LOG_INVALID_INITIATION,
			 "Invalid handshake initiation from %s: peer %" PRIu64 " sends more than %d a second",
			 FROM(&m->ep), p->id, INITIATIONS_PER_SECOND);
		return DROP_HANDSHAKE;
	}
	return DROP_CAUSE_COUNT;
}

/* The work is ordered so that what a stranger can send costs least: the
 * macs, then one DH to learn the sender, then the peer lookup; the peer's
 * ss (made once) and the timestamp only for a known peer. */
static bool consume_initiation(struct core *c, const struct core_handshake_msg *m, uint64_t now)
{
	const struct message_handshake_initiation *msg = (const void *)m->data;
	struct handshake st;
	uint8_t initiator_public[KEY_LEN], timestamp[NOISE_TIMESTAMP_LEN];
	struct message_handshake_response resp;
	struct peer *p;

	memset(&st, 0, sizeof(st));
	memset(timestamp, 0, sizeof(timestamp));
	memset(&resp, 0, sizeof(resp));
	if (!check_load(c, m, msg->sender_index, now))
		goto cheap;
	enum cipher_suite suite = msg->header.suite == MESSAGE_SUITE_AESGCM ? SUITE_AESGCM : SUITE_CHACHAPOLY;
	if (!handshake_initiation_sender(&st, initiator_public, msg, &c->identity, suite)) {
		core_log(c, CORE_LOG_INVALID_INITIATION, "Invalid handshake initiation from %s", FROM(&m->ep));
		goto bad;
	}
	if (!(p = initiation_peer(c, m, &st, initiator_public)))
		goto bad;
	const uint8_t *ss = core_peer_static_static(c, p);
	if (!ss) {
		core_log(c, CORE_LOG_INVALID_INITIATION,
			 "Invalid handshake initiation from %s: peer %" PRIu64 " has a public key no DH works with",
			 FROM(&m->ep), p->id);
		goto bad;
	}
	if (!handshake_initiation_finish(&st, timestamp, msg, ss)) {
		core_log(c, CORE_LOG_INVALID_INITIATION, "Invalid handshake initiation from %s", FROM(&m->ep));
		goto bad;
	}
	enum drop_cause untimely = initiation_timely(c, m, p, timestamp, now);
	if (untimely != DROP_CAUSE_COUNT) {
		c->drops[untimely]++;
		goto out;
	}
	/* Every check passed: commit to the peer. */
	session_handshake_release(p);
	p->handshake = st;
	memcpy(p->latest_timestamp, timestamp, NOISE_TIMESTAMP_LEN);
	c->state_generation++;
	p->last_initiation_consumed = now;
	p->rx_bytes += m->len;
	core_update_endpoint(p, &m->ep);
	core_log(c, CORE_LOG_INITIATION_RECEIVED, "Receiving handshake initiation from %s", PEER(p));
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);

	uint32_t idx = index_table_insert(&c->index, INDEX_HANDSHAKE, p, NULL);
	if (!handshake_create_response(&p->handshake, &resp, p->public_key, p->preshared_key, idx)) {
		index_table_remove(&c->index, idx);
		session_handshake_release(p);
		goto out;
	}
	cookie_add_macs(&p->cookie, &resp, sizeof(resp), now);
	core_keylog(c, p);
	if (session_begin(p, now) == SESSION_AWAITS_CONFIRMATION) {
		core_log(c, CORE_LOG_RESPONSE_SENT, "Sending handshake response to %s", PEER(p));
		core_send_handshake_message(c, p, &p->endpoint, &resp, sizeof(resp));
		/* Counts as our handshake: no initiation of ours until this one settles. */
		p->last_sent_handshake = now;
		timers_any_authenticated_packet_sent(p);
	}
	core_schedule(c, p);
	goto out;
bad:
	c->drops[DROP_HANDSHAKE]++;
out:
	handshake_wipe(&st);
	crypto_wipe(timestamp, sizeof(timestamp));
	crypto_wipe(&resp, sizeof(resp));
	return true;
cheap:
	return false;
}

/* ---- responses and cookie replies ---- */

static bool consume_response(struct core *c, const struct core_handshake_msg *m, uint64_t now)
{
	const struct message_handshake_response *msg = (const void *)m->data;
	struct handshake st;
	bool costly = false;

	memset(&st, 0, sizeof(st));
	if (!check_load(c, m, msg->sender_index, now))
		goto out;
	const struct index_slot *slot = index_table_lookup(&c->index, msg->receiver_index);
	if (!slot || slot->kind != INDEX_HANDSHAKE)
		goto bad;
	struct peer *p = slot->peer;
	if ((msg->header.suite == MESSAGE_SUITE_AESGCM) != (p->handshake.suite == SUITE_AESGCM))
		goto bad;
	costly = true;
	if (!handshake_consume_response(&st, &p->handshake, msg, &c->identity, p->preshared_key))
		goto bad;
	p->handshake = st;
	core_log(c, CORE_LOG_RESPONSE_RECEIVED, "Receiving handshake response from %s", PEER(p));
	if (session_begin(p, now) != SESSION_SENDS_NOW)
		goto out;
	p->rx_bytes += m->len;
	core_update_endpoint(p, &m->ep);
	p->last_handshake_unix_ns = (uint64_t)((int64_t)now + c->wall_offset_ns);
	timers_handshake_complete(p);
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);
	/* Confirm the session to the responder: staged data, or a keepalive. */
	core_send_keepalive(c, p, now);
	core_schedule(c, p);
	goto out;
bad:
	core_log(c, CORE_LOG_INVALID_RESPONSE, "Invalid handshake response from %s", FROM(&m->ep));
	c->drops[DROP_HANDSHAKE]++;
out:
	handshake_wipe(&st);
	return costly;
}

static bool consume_cookie(struct core *c, const struct core_handshake_msg *m, uint64_t now)
{
	const struct message_handshake_cookie *msg = (const void *)m->data;
	const struct index_slot *slot = index_table_lookup(&c->index, msg->receiver_index);

	if (!slot || !cookie_consume_reply(&slot->peer->cookie, msg, now)) {
		core_log(c, CORE_LOG_INVALID_COOKIE, "Could not decrypt invalid cookie response from %s", FROM(&m->ep));
		c->drops[DROP_HANDSHAKE]++;
		return false;
	}
	struct peer *p = slot->peer;
	core_log(c, CORE_LOG_COOKIE_RECEIVED, "Receiving cookie response from %s for peer %" PRIu64, FROM(&m->ep),
		 p->id);
	/* Our initiation was not worked on: the responder is under load. With
	 * the cookie, mac2 now proves our address; say so again at once rather
	 * than after REKEY_TIMEOUT, which under a flood is most of the wait.
	 * Once per initiation of ours, so a forged reply (it takes our last
	 * mac1) can make us send no more than twice as many. */
	if (slot->kind != INDEX_HANDSHAKE || p->handshake.state != HANDSHAKE_CREATED_INITIATION ||
	    p->retried_for_cookie)
		return false;
	core_log(c, CORE_LOG_INITIATION_SENT, "Retrying handshake with %s at once, with the cookie", PEER(p));
	p->last_sent_handshake = 0;
	core_send_initiation(c, p, now, true);
	p->retried_for_cookie = true;
	return true;
}

/* Each returns whether it did public-key work (a DH), rather than stop at a
 * check, a cookie reply or a drop. */
static bool (*const consumers[])(struct core *c, const struct core_handshake_msg *m, uint64_t now) = {
	[MESSAGE_HANDSHAKE_INITIATION] = consume_initiation,
	[MESSAGE_HANDSHAKE_RESPONSE] = consume_response,
	[MESSAGE_HANDSHAKE_COOKIE] = consume_cookie,
};

uint32_t core_process_handshakes(struct core *c, uint64_t now, uint32_t budget)
{
	core_clock(c, now);
	while (budget && c->hs_len) {
		/* Worked on in place, still counted in the queue's length. */
		const struct core_handshake_msg *m = &c->hs_queue[c->hs_head];
		bool costly = consumers[m->data[0]](c, m, now);
		c->hs_head = (c->hs_head + 1) & (CORE_HANDSHAKE_QUEUE - 1);
		c->hs_len--;
		uint32_t cost = costly ? CORE_HANDSHAKE_DH_COST : 1;
		budget = budget > cost ? budget - cost : 0;
	}
	core_flush_net(c);
	return c->hs_len;
}

void core_handshake_stats(const struct core *c, struct core_handshake_stats *out)
{
	uint64_t now = c->log.now;

	out->queued = c->hs_len;
	out->under_load = c->force_under_load || (c->last_under_load && now < c->last_under_load + NS_PER_SEC);
	out->cookie_replies_sent = c->cookie_replies_sent;
	out->ratelimit_overflow = c->ratelimit.overflowed + c->cookie_ratelimit.overflowed;
}
