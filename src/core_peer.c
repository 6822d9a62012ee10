// SPDX-License-Identifier: MIT
/*
 * The engine's state and its peers: making and destroying an engine, the
 * private key, adding, finding and removing peers and setting what they are
 * configured with, and what the daemon may read. The packet paths are in
 * core.c, the keypair slots in session.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "crypto.h"
#include "datamsg.h"
#include "encoding.h"
#include "session.h"
#include "timers.h"

int core_init(struct core *c, const struct core_hooks *hooks, uint32_t mtu, size_t pool_count)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->hooks = *hooks;
	c->mtu = mtu ? mtu : DEFAULT_MTU;
	allowedips_init(&c->allowedips);
	timerq_init(&c->timers);
	core_log_init(&c->log);
	/* Normal buffers carry an Ethernet-sized MTU's packets (and a peer's
	 * datagrams of that size), made now; large ones, as far as 64 KiB,
	 * only reserved, for larger MTUs (core_set_mtu) and larger datagrams.
	 * Normal ones have 64 bytes to spare (TAP mode's frame overhead fits). */
	size_t room = datamsg_room(1500, MESSAGE_PADDING_MULTIPLE + 64);
	size_t large = pool_count / 8 < 8 ? 8 : pool_count / 8;
	if (pool_init(&c->pool, pool_count, PKT_HEADROOM + room) < 0 ||
	    pool_reserve_large(&c->pool, large, PKT_HEADROOM + datamsg_room(MAX_MTU, 0) + PKT_TAILROOM) < 0) {
		pool_destroy(&c->pool);
		return -ENOMEM;
	}
	c->max_mtu = pool_max_len(&c->pool) < MAX_MTU ? (uint32_t)pool_max_len(&c->pool) : MAX_MTU;
	if (c->mtu > c->max_mtu)
		c->mtu = c->max_mtu;
	core_set_mtu(c, c->mtu);
	c->max_staged = (uint32_t)(pool_count / 4);
	if ((r = peer_table_init(&c->peer_table)) < 0)
		goto fail;
	if (index_table_init(&c->index, 64) < 0 || timerq_reserve(&c->timers, 16) < 0 ||
	    ratelimit_init(&c->ratelimit, RATELIMIT_PER_SECOND, RATELIMIT_BURST) < 0 ||
	    ratelimit_init(&c->cookie_ratelimit, RATELIMIT_COOKIES_PER_SECOND, RATELIMIT_COOKIES_BURST) < 0 ||
	    core_handshake_queue_init(c) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	/* Sources that find the rate tables full (a flood from many thousands
	 * of addresses) are held to a cap the size of the engine's own limits,
	 * not to a small share: a small share would be a second lottery for a
	 * real client among them, on top of the total of cookie replies (it
	 * then needed its 5 s retries to get a cookie). Into the queue up to 16
	 * times what it holds a second (beyond: handshake_queue_full); without
	 * a valid mac2 they get only a cookie reply, at most
	 * CORE_COOKIE_REPLIES_PER_SECOND of them in total. */
	ratelimit_set_overflow(&c->ratelimit, CORE_OVERFLOW_PER_SECOND, CORE_HANDSHAKE_QUEUE);
	ratelimit_set_overflow(&c->cookie_ratelimit, CORE_OVERFLOW_PER_SECOND, CORE_HANDSHAKE_QUEUE);
	return 0;
fail:
	core_destroy(c);
	return r;
}

static void peer_free(struct core *c, struct peer *p)
{
	struct pkt *k;

	timerq_remove(&c->timers, &p->timer);
	session_peer_free(p);
	while ((k = core_unstage(c, p)))
		pool_put(&c->pool, k);
	cookie_maker_wipe(&p->cookie);
	crypto_wipe(p, sizeof(*p));
	free(p);
}

void core_destroy(struct core *c)
{
	/* Nothing to say while going away; the hook's owner may be going too. */
	c->hooks.log = NULL;
	while (c->peers)
		core_peer_remove(c, c->peers);
	allowedips_free(&c->allowedips);
	index_table_free(&c->index);
	peer_table_free(&c->peer_table);
	timerq_free(&c->timers);
	ratelimit_free(&c->ratelimit);
	ratelimit_free(&c->cookie_ratelimit);
	core_handshake_queue_free(c);
	free(c->own_addresses);
	c->own_addresses = NULL;
	pool_destroy(&c->pool); /* wipes: buffers may still hold plaintext */
	cookie_checker_wipe(&c->cookie_checker);
	handshake_identity_clear(&c->identity);
	l2_free(&c->l2);
}

int core_set_ethernet(struct core *c)
{
	uint8_t key[CRYPTO_SIPHASH_KEY_LEN];
	int r;

	if (c->ethernet)
		return 0;
	if (!crypto_random(key, sizeof(key)))
		return -EIO;
	r = l2_init(&c->l2, L2_DEFAULT_CAPACITY, key);
	crypto_wipe(key, sizeof(key));
	if (r < 0)
		return r;
	c->ethernet = true;
	c->wire_mode = MESSAGE_MODE_ETHERNET;
	c->frame_overhead = ETHERNET_OVERHEAD;
	c->identity.ethernet = true;
	return core_set_mtu(c, c->mtu); /* buffers for frames: the overhead counted */
}

int core_peer_add_allowed_mac(struct core *c, struct peer *p, const uint8_t mac[ETHERNET_ADDR_LEN])
{
	if (!c->ethernet)
		return -EINVAL;
	int r = l2_pin(&c->l2, mac, p);
	if (r == 0)
		p->n_allowed_macs++; /* not again for one it had */
	return r < 0 ? r : 0;
}

void core_peer_clear_allowed_macs(struct core *c, struct peer *p)
{
	if (!c->ethernet)
		return;
	l2_forget_owner(&c->l2, p, false, true);
	p->n_allowed_macs = 0;
}

const struct l2_table *core_l2_table(const struct core *c)
{
	return c->ethernet ? &c->l2 : NULL;
}

bool core_is_own_public_key(const struct core *c, const uint8_t public_key[KEY_LEN])
{
	return c->identity.has_key && crypto_equal(public_key, c->identity.public_key, KEY_LEN);
}

struct peer *core_peer_find(struct core *c, const uint8_t public_key[KEY_LEN])
{
	return peer_table_lookup(&c->peer_table, public_key);
}

/* Made when first needed rather than when the peer is added: ten thousand
 * peers load in a tenth of the time, and what a flood can make us compute
 * is the same, one DH per peer per key of ours. */
const uint8_t *core_peer_static_static(struct core *c, struct peer *p)
{
	if (p->static_static_state == STATIC_STATIC_UNKNOWN)
		p->static_static_state = handshake_static_static(p->static_static, &c->identity, p->public_key)
						 ? STATIC_STATIC_KNOWN
						 : STATIC_STATIC_NONE;
	return p->static_static_state == STATIC_STATIC_KNOWN ? p->static_static : NULL;
}

struct peer *core_peer_add(struct core *c, const uint8_t public_key[KEY_LEN])
{
	struct peer *p;

	if (c->n_peers >= MAX_PEERS_PER_DEVICE)
		return NULL;
	/* Every table grows by doubling, so adding n peers costs O(n). */
	size_t want_timers = c->timers.cap > c->n_peers ? c->timers.cap : 2 * c->timers.cap;
	if (index_table_reserve(&c->index, (uint32_t)(c->n_peers + 1) * 4) < 0 ||
	    timerq_reserve(&c->timers, want_timers) < 0 ||
	    peer_table_reserve(&c->peer_table, (uint32_t)c->n_peers + 1) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (session_peer_init(p) < 0) {
		free(p);
		return NULL;
	}
	p->core = c;
	p->id = ++c->peer_ids;
	memcpy(p->public_key, public_key, KEY_LEN);
	p->public_key_hash = peer_table_hash(&c->peer_table, public_key);
	p->suite = SUITE_CHACHAPOLY;
	p->endpoint.addr.sa.sa_family = AF_UNSPEC;
	cookie_maker_init(&p->cookie, public_key);
	timerq_entry_init(&p->timer);
	peer_table_insert(&c->peer_table, p);
	/* Appended: peers are listed in the order they were added, as WireGuard does. */
	p->prev = c->peers_tail;
	if (c->peers_tail)
		c->peers_tail->next = p;
	else
		c->peers = p;
	c->peers_tail = p;
	c->n_peers++;
	c->state_generation++;
	if (core_log_allow(c, CORE_LOG_PEER_CREATED)) {
		char b64[KEY_B64_LEN + 1];
		key_to_base64(b64, public_key);
		core_log_emit(c, CORE_LOG_PEER_CREATED, "Peer %" PRIu64 " created, public key %s", p->id, b64);
	}
	return p;
}

void core_peer_remove(struct core *c, struct peer *p)
{
	core_log(c, CORE_LOG_PEER_REMOVED, "Peer %" PRIu64 " removed", p->id);
	c->state_generation++;
	if (p->prev)
		p->prev->next = p->next;
	else
		c->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->peers_tail = p->prev;
	c->n_peers--;
	peer_table_remove(&c->peer_table, p);
	if (c->ethernet)
		l2_forget_owner(&c->l2, p, true, true);
	allowedips_remove_by_peer(&c->allowedips, p);
	peer_free(c, p);
}

void core_peer_remove_all(struct core *c)
{
	while (c->peers)
		core_peer_remove(c, c->peers);
}

void core_peer_set_psk(struct core *c, struct peer *p, const uint8_t *psk)
{
	(void)c;
	if (psk)
		memcpy(p->preshared_key, psk, KEY_LEN);
	else
		crypto_wipe(p->preshared_key, KEY_LEN);
}

void core_peer_set_suite(struct core *c, struct peer *p, enum cipher_suite suite)
{
	(void)c;
	if (suite == p->suite)
		return;
	/* Sessions of the other suite are void. */
	session_clear(p);
	p->suite = suite;
}

void core_peer_set_endpoint(struct core *c, struct peer *p, const struct endpoint *ep)
{
	if (!endpoint_equal(&p->endpoint, ep))
		c->state_generation++;
	p->endpoint = *ep;
}

void core_peer_set_keepalive(struct core *c, struct peer *p, uint16_t seconds, uint64_t now)
{
	bool was_off = !p->persistent_keepalive;

	core_clock(c, now);
	p->persistent_keepalive = seconds;
	if (!seconds) {
		p->timer_persistent_keepalive = 0;
		return;
	}
	if (was_off && p->endpoint.addr.sa.sa_family != AF_UNSPEC && c->identity.has_key) {
		core_send_keepalive(c, p, now);
		core_flush_net(c);
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
	uint8_t clamped[KEY_LEN] = { 0 };
	bool has_key = private_key && !crypto_is_zero(private_key, KEY_LEN);

	/* Stored clamped, as WireGuard stores (and so shows) it: the same key
	 * given unclamped is no change. */
	if (has_key) {
		memcpy(clamped, private_key, sizeof(clamped));
		crypto_x25519_clamp(clamped);
	}
	if (c->identity.has_key == has_key && (!has_key || crypto_equal(c->identity.private_key, clamped, KEY_LEN)))
		goto out;
	if (!has_key || !handshake_identity_set(&c->identity, clamped))
		handshake_identity_clear(&c->identity);
	cookie_checker_init(&c->cookie_checker, c->identity.public_key);
	/* A peer with our own key is removed, as in WireGuard; sessions made
	 * with the old key are void, and so is every peer's ss. */
	struct peer *self = c->identity.has_key ? core_peer_find(c, c->identity.public_key) : NULL;
	if (self)
		core_peer_remove(c, self);
	for (struct peer *p = c->peers; p; p = p->next) {
		session_clear(p);
		crypto_wipe(p->static_static, sizeof(p->static_static));
		p->static_static_state = STATIC_STATIC_UNKNOWN;
	}
out:
	crypto_wipe(clamped, sizeof(clamped));
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

/* ---- what the daemon around the engine may ask and tell it ---- */

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
	/* A packet read from the tun, or a datagram from a peer with our MTU
	 * (in TAP mode a frame: its header, length and padding besides). */
	size_t frame = c->frame_overhead ? c->frame_overhead + MESSAGE_PADDING_MULTIPLE : 0;
	pool_set_default_len(&c->pool, datamsg_room(mtu, frame));
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

const uint8_t *core_private_key(const struct core *c)
{
	return c->identity.has_key ? c->identity.private_key : NULL;
}

size_t core_allowed_ip_count(const struct core *c)
{
	return c->allowedips.count;
}

void core_allowed_ips_walk(const struct core *c, allowedips_walk_all_fn fn, void *ctx)
{
	allowedips_walk_all(&c->allowedips, fn, ctx);
}

bool core_peer_handshake_unanswered(const struct peer *p, uint64_t now, uint64_t for_ns)
{
	return p->timer_retransmit_handshake && p->handshake_unanswered_since &&
	       now - p->handshake_unanswered_since >= for_ns;
}
