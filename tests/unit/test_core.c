// SPDX-License-Identifier: MIT
/*
 * Two protocol cores against each other in memory, with simulated time:
 * a full handshake, data both ways, rekey after REKEY_AFTER_TIME, loss of the
 * response (retry after REKEY_TIMEOUT), cookies under load, replay and
 * AllowedIPs drops, keys zeroed after 3 x REJECT_AFTER_TIME, the
 * endpoint_changed hook (roaming, TCP connections), the log lines the engine
 * hands its log hook (and their rate limit), configurations applied by the
 * device layer and synced to without dropping sessions, and ten thousand
 * peers.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <time.h>

#include "config.h"
#include "core.h"
#include "crypto.h"
#include "device_config.h"
#include "encoding.h"
#include "log.h"
#include "timers.h"

#define WIRE_MAX 256
#define LOG_MAX 512

struct wire_msg {
	uint8_t data[9216]; /* a datagram or packet of an MTU of 9000 */
	uint32_t len;
};

struct side {
	struct core core;
	struct endpoint addr;          /* this side's underlay address */
	struct wire_msg net[WIRE_MAX]; /* sent to the network */
	int n_net;
	struct wire_msg tun[WIRE_MAX]; /* delivered to the tun */
	int n_tun;
	char log[LOG_MAX][400]; /* lines from the log hook */
	int n_log;
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
};

static struct side A, B;
static uint64_t now;

static void hook_net(void *ctx, struct pkt **pkts, int n)
{
	struct side *s = ctx;
	for (int i = 0; i < n; i++) {
		assert_true(s->n_net < WIRE_MAX);
		assert_true(pkts[i]->len <= sizeof(s->net[0].data));
		memcpy(s->net[s->n_net].data, pkts[i]->data, pkts[i]->len);
		s->net[s->n_net++].len = pkts[i]->len;
		core_account_sent(pkts[i]);
		pool_put(&s->core.pool, pkts[i]);
	}
}

static void hook_tun(void *ctx, struct pkt **pkts, int n)
{
	struct side *s = ctx;
	for (int i = 0; i < n; i++) {
		assert_true(s->n_tun < WIRE_MAX);
		assert_true(pkts[i]->len <= sizeof(s->tun[0].data));
		memcpy(s->tun[s->n_tun].data, pkts[i]->data, pkts[i]->len);
		s->tun[s->n_tun++].len = pkts[i]->len;
		pool_put(&s->core.pool, pkts[i]);
	}
}

static void hook_log(void *ctx, int level, const char *msg)
{
	struct side *s = ctx;
	assert_int_equal(level, LOG_LVL_DEBUG);
	if (s->n_log < LOG_MAX)
		snprintf(s->log[s->n_log++], sizeof(s->log[0]), "%s", msg);
}

/* How many of the side's log lines contain `text`. */
static int logged(const struct side *s, const char *text)
{
	int n = 0;
	for (int i = 0; i < s->n_log; i++)
		n += strstr(s->log[i], text) != NULL;
	return n;
}

/* Fails showing the side's log when no line contains `text`. */
static void assert_logged(const struct side *s, const char *text)
{
	if (logged(s, text))
		return;
	for (int i = 0; i < s->n_log; i++)
		print_message("  log: %s\n", s->log[i]);
	fail_msg("no log line contains \"%s\"", text);
}

/* Moves everything `from` sent into `to`, and has `to` work off the
 * handshake messages among them; returns how many messages. */
static int deliver(struct side *from, struct side *to)
{
	int n = from->n_net;
	struct pkt *pkts[WIRE_MAX];
	for (int i = 0; i < n; i++) {
		pkts[i] = pool_get_len(&to->core.pool, from->net[i].len); /* as udp.c: sized to the datagram */
		assert_non_null(pkts[i]);
		memcpy(pkts[i]->data, from->net[i].data, from->net[i].len);
		pkts[i]->len = from->net[i].len;
		pkts[i]->ep = from->addr;
	}
	from->n_net = 0;
	if (n)
		core_net_rx(&to->core, now, pkts, n);
	while (core_process_handshakes(&to->core, now, UINT32_MAX))
		;
	return n;
}

static void drop_wire(struct side *s)
{
	s->n_net = 0;
}

static int count_type(const struct side *s, uint8_t type)
{
	int n = 0;
	for (int i = 0; i < s->n_net; i++)
		n += s->net[i].len && s->net[i].data[0] == type;
	return n;
}

/* An IPv4/UDP packet from src to dst carrying `tag`. */
static struct pkt *ip_packet(struct side *s, const char *src, const char *dst, uint32_t tag, uint32_t payload)
{
	struct pkt *k = pool_get(&s->core.pool);
	assert_non_null(k);
	uint32_t len = 20 + payload;
	memset(k->data, 0, len);
	k->data[0] = 0x45;
	k->data[2] = (uint8_t)(len >> 8);
	k->data[3] = (uint8_t)len;
	k->data[8] = 64;
	k->data[9] = 17;
	inet_pton(AF_INET, src, k->data + 12);
	inet_pton(AF_INET, dst, k->data + 16);
	if (payload >= 4)
		memcpy(k->data + 20, &tag, 4);
	k->len = len;
	return k;
}

static void send_ip(struct side *s, const char *src, const char *dst, uint32_t tag)
{
	struct pkt *k = ip_packet(s, src, dst, tag, 100);
	core_tun_rx(&s->core, now, &k, 1);
}

static uint32_t tun_tag(const struct side *s, int i)
{
	uint32_t tag;
	memcpy(&tag, s->tun[i].data + 20, 4);
	return tag;
}

static void make_endpoint(struct endpoint *e, const char *ip, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->addr.in4.sin_family = AF_INET;
	e->addr.in4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &e->addr.in4.sin_addr);
}

static void add_allowed(struct core *c, struct peer *p, const char *ip, uint8_t prefix)
{
	struct cidr cd = { .family = AF_INET, .prefix = prefix };
	inet_pton(AF_INET, ip, &cd.addr.v4);
	assert_int_equal(core_peer_add_allowed_ip(c, p, &cd), 0);
}

static struct peer *peer_ab, *peer_ba;

static int setup(void **state)
{
	(void)state;
	struct core_hooks ha = { .ctx = &A, .send_net = hook_net, .send_tun = hook_tun, .log = hook_log };
	struct core_hooks hb = { .ctx = &B, .send_net = hook_net, .send_tun = hook_tun, .log = hook_log };

	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	now = 1000 * NS_PER_SEC;
	assert_true(crypto_init());
	assert_int_equal(core_init(&A.core, &ha, 1420, 1024), 0);
	assert_int_equal(core_init(&B.core, &hb, 1420, 1024), 0);
	A.core.wall_offset_ns = 1700000000LL * (int64_t)NS_PER_SEC;
	B.core.wall_offset_ns = 1700000000LL * (int64_t)NS_PER_SEC;
	make_endpoint(&A.addr, "192.0.2.1", 51820);
	make_endpoint(&B.addr, "192.0.2.2", 51821);
	assert_true(crypto_x25519_keygen(A.priv));
	assert_true(crypto_x25519_keygen(B.priv));
	assert_true(crypto_x25519_public(A.pub, A.priv));
	assert_true(crypto_x25519_public(B.pub, B.priv));
	core_set_private_key(&A.core, A.priv);
	core_set_private_key(&B.core, B.priv);

	peer_ab = core_peer_add(&A.core, B.pub);
	peer_ba = core_peer_add(&B.core, A.pub);
	assert_non_null(peer_ab);
	assert_non_null(peer_ba);
	uint8_t psk[KEY_LEN];
	assert_true(crypto_random(psk, sizeof(psk)));
	core_peer_set_psk(&A.core, peer_ab, psk);
	core_peer_set_psk(&B.core, peer_ba, psk);
	core_peer_set_endpoint(&A.core, peer_ab, &B.addr); /* A knows where B is; B learns A */
	add_allowed(&A.core, peer_ab, "198.18.0.2", 32);
	add_allowed(&B.core, peer_ba, "198.18.0.1", 32);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	core_destroy(&A.core);
	core_destroy(&B.core);
	return 0;
}

/* A sends a packet: initiation, response, data. */
static void handshake_and_first_packet(void)
{
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	assert_int_equal(deliver(&A, &B), 1);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	assert_int_equal(deliver(&B, &A), 1);
	/* A now sends the staged packet. */
	assert_int_equal(count_type(&A, MESSAGE_DATA), 1);
	assert_int_equal(deliver(&A, &B), 1);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 1);
	assert_int_equal(B.tun[0].len, 120);
	B.n_tun = 0;
}

static void test_handshake_and_data(void **state)
{
	(void)state;
	handshake_and_first_packet();
	/* B learned A's endpoint from the handshake and answers. */
	assert_true(endpoint_equal(&peer_ba->endpoint, &A.addr));
	send_ip(&B, "198.18.0.2", "198.18.0.1", 2);
	assert_int_equal(count_type(&B, MESSAGE_DATA), 1);
	/* Padded to 16: 16 header + 128 + 16 tag. */
	assert_int_equal(B.net[0].len, 16 + 128 + 16);
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 1);
	assert_int_equal(tun_tag(&A, 0), 2);
	assert_int_equal(A.tun[0].len, 120);
	assert_true(peer_ab->last_handshake_unix_ns > 0);
	assert_true(peer_ba->last_handshake_unix_ns > 0);
	assert_true(peer_ab->tx_bytes > 0 && peer_ab->rx_bytes > 0);

	/* Many packets both ways keep working. */
	for (uint32_t i = 0; i < 200; i++) {
		send_ip(&A, "198.18.0.1", "198.18.0.2", 1000 + i);
		send_ip(&B, "198.18.0.2", "198.18.0.1", 5000 + i);
		deliver(&A, &B);
		deliver(&B, &A);
	}
	assert_int_equal(A.n_tun, 201);
	assert_int_equal(B.n_tun, 200);
	assert_int_equal(tun_tag(&B, 199), 1199);
}

/* The private key is stored clamped, as WireGuard stores and shows it; the
 * same key given unclamped is no change, and sessions survive it. */
static void test_private_key_clamped(void **state)
{
	uint8_t unclamped[KEY_LEN];
	(void)state;

	handshake_and_first_packet();
	memcpy(unclamped, A.priv, sizeof(unclamped));
	unclamped[0] |= 7;
	unclamped[31] = (uint8_t)((unclamped[31] | 0x80) & ~0x40);
	assert_memory_not_equal(unclamped, A.priv, KEY_LEN);
	core_set_private_key(&A.core, unclamped);
	assert_memory_equal(A.core.identity.private_key, A.priv, KEY_LEN);
	assert_memory_equal(A.core.identity.public_key, A.pub, KEY_LEN);
	assert_non_null(peer_ab->current); /* no change: the session stays */

	/* A fresh engine given the unclamped key keeps the clamped one. */
	struct core c;
	struct core_hooks h = { .send_net = hook_net, .send_tun = hook_tun };
	assert_int_equal(core_init(&c, &h, 1420, 64), 0);
	core_set_private_key(&c, unclamped);
	assert_true(c.identity.has_key);
	assert_memory_equal(c.identity.private_key, A.priv, KEY_LEN);
	assert_memory_equal(c.identity.public_key, A.pub, KEY_LEN);
	core_destroy(&c);
}

/* The buffers' sizes, in numbers: a data message for an MTU of at least
 * 1500 (16 bytes of header, 16 of tag), in TAP mode with the frame's
 * length, header and padding (36); normal buffers with 16 + 64 to spare,
 * large ones for 64 KiB. */
static void test_buffer_sizes(void **state)
{
	(void)state;
	size_t stride_normal = (sizeof(struct pkt) + PKT_HEADROOM + 1612 + 63) & ~(size_t)63;
	size_t stride_large = (sizeof(struct pkt) + PKT_HEADROOM + 65567 + PKT_TAILROOM + 63) & ~(size_t)63;
	assert_int_equal(A.core.pool.normal.stride, stride_normal);
	assert_int_equal(A.core.pool.large.stride, stride_large);
	assert_int_equal(core_max_mtu(&A.core), 65535);
	assert_int_equal(A.core.pool.default_len, 1532); /* MTU 1420: as 1500 */
	assert_int_equal(core_set_mtu(&A.core, 9000), 0);
	assert_int_equal(A.core.pool.default_len, 9032);
	assert_int_equal(core_set_mtu(&A.core, 1420), 0);
	assert_int_equal(core_set_ethernet(&A.core), 0);
	assert_int_equal(A.core.pool.default_len, 1568);
	assert_true(A.core.pool.default_len <= pool_max_len(&A.core.pool));
	assert_int_equal(core_set_mtu(&A.core, 9000), 0);
	assert_int_equal(A.core.pool.default_len, 9068);
}

/* Each peer's DH of the two static keys is made the first time a handshake
 * needs it, kept, and forgotten when our key changes. */
static void test_static_static_kept(void **state)
{
	uint8_t want[KEY_LEN], other[KEY_LEN];
	(void)state;

	assert_int_equal(peer_ba->static_static_state, STATIC_STATIC_UNKNOWN);
	handshake_and_first_packet();
	assert_int_equal(peer_ba->static_static_state, STATIC_STATIC_KNOWN);
	assert_int_equal(peer_ab->static_static_state, STATIC_STATIC_KNOWN);
	assert_true(crypto_x25519(want, B.priv, A.pub));
	assert_memory_equal(peer_ba->static_static, want, KEY_LEN);
	assert_memory_equal(peer_ab->static_static, want, KEY_LEN); /* the same DH from A's side */
	/* Another key: forgotten, then made with it. */
	assert_true(crypto_x25519_keygen(other));
	core_set_private_key(&B.core, other);
	assert_int_equal(peer_ba->static_static_state, STATIC_STATIC_UNKNOWN);
	assert_true(crypto_is_zero(peer_ba->static_static, KEY_LEN));
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC; /* B's last handshake message is that long ago */
	core_peer_initiate(&B.core, peer_ba, now);
	assert_int_equal(peer_ba->static_static_state, STATIC_STATIC_KNOWN);
	assert_true(crypto_x25519(want, other, A.pub));
	assert_memory_equal(peer_ba->static_static, want, KEY_LEN);
	drop_wire(&B);
	/* No key: none, and no handshake. */
	core_set_private_key(&B.core, NULL);
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_peer_initiate(&B.core, peer_ba, now);
	assert_int_equal(B.n_net, 0);
	/* Back to B's key: handshakes work again. */
	core_set_private_key(&B.core, B.priv);
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_peer_initiate(&A.core, peer_ab, now);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	drop_wire(&B);
	/* A low-order peer key: no DH works with it, and that is kept too. */
	uint8_t low[KEY_LEN] = { 0 };
	struct peer *bad = core_peer_add(&B.core, low);
	assert_non_null(bad);
	core_peer_set_endpoint(&B.core, bad, &A.addr);
	core_peer_initiate(&B.core, bad, now);
	assert_int_equal(bad->static_static_state, STATIC_STATIC_NONE);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_INITIATION), 0);
}

static void test_replay_dropped(void **state)
{
	(void)state;
	handshake_and_first_packet();
	send_ip(&A, "198.18.0.1", "198.18.0.2", 7);
	assert_int_equal(A.n_net, 1);
	struct wire_msg copy = A.net[0];
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	A.net[0] = copy;
	A.n_net = 1;
	uint64_t before = B.core.drops[DROP_REPLAY];
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.core.drops[DROP_REPLAY], before + 1);

	/* A flipped bit fails authentication. */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 8);
	A.net[0].data[40] ^= 1;
	before = B.core.drops[DROP_DECRYPT];
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.core.drops[DROP_DECRYPT], before + 1);
}

static void test_allowedips_source_check(void **state)
{
	(void)state;
	handshake_and_first_packet();
	/* A routes 198.18.0.2 to B but claims a source B does not allow. */
	uint64_t before = B.core.drops[DROP_ALLOWEDIPS];
	send_ip(&A, "198.18.9.9", "198.18.0.2", 9);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 0);
	assert_int_equal(B.core.drops[DROP_ALLOWEDIPS], before + 1);
	/* No peer for a destination: dropped and counted on the sender. */
	before = A.core.drops[DROP_NO_PEER];
	send_ip(&A, "198.18.0.1", "198.51.100.1", 10);
	assert_int_equal(A.n_net, 0);
	assert_int_equal(A.core.drops[DROP_NO_PEER], before + 1);
}

static void test_rekey_after_time(void **state)
{
	(void)state;
	handshake_and_first_packet();
	uint32_t first_index = peer_ab->current->local_index;

	/* Keep the session alive with traffic until REKEY_AFTER_TIME passes. */
	for (int t = 0; t <= REKEY_AFTER_TIME; t += 5) {
		now += 5 * NS_PER_SEC;
		core_tick(&A.core, now);
		core_tick(&B.core, now);
		send_ip(&A, "198.18.0.1", "198.18.0.2", 100 + t);
		send_ip(&B, "198.18.0.2", "198.18.0.1", 200 + t);
		deliver(&A, &B);
		deliver(&B, &A);
		deliver(&A, &B);
		deliver(&B, &A);
	}
	/* A rekeyed: a new session with another index, and data still flows. */
	assert_non_null(peer_ab->current);
	assert_int_not_equal(peer_ab->current->local_index, first_index);
	assert_true(now - peer_ab->current->birth < (uint64_t)REKEY_AFTER_TIME * NS_PER_SEC);
	A.n_tun = B.n_tun = 0;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 77);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 77);
	/* B's session with the new keys is confirmed and in use. */
	assert_non_null(peer_ba->current);
	assert_null(peer_ba->next_keypair);
}

static void test_response_lost(void **state)
{
	(void)state;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	drop_wire(&B); /* the response is lost */

	/* Nothing before REKEY_TIMEOUT... */
	now += (REKEY_TIMEOUT - 1) * NS_PER_SEC;
	core_tick(&A.core, now);
	assert_int_equal(A.n_net, 0);
	/* ...a retry after REKEY_TIMEOUT + jitter (at most 333 ms). */
	now += 1 * NS_PER_SEC + REKEY_TIMEOUT_JITTER_MAX_MS * NS_PER_MS;
	core_tick(&A.core, now);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	assert_int_equal(peer_ab->handshake_attempts, 1);
	deliver(&A, &B);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 1);
	assert_int_equal(peer_ab->handshake_attempts, 0);
	assert_false(core_peer_handshake_unanswered(peer_ab, now, 0)); /* answered */
}

static void test_give_up_after_rekey_attempt_time(void **state)
{
	(void)state;
	core_peer_set_endpoint(&A.core, peer_ab, &B.addr);
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	int initiations = 0;
	uint64_t start = now;
	for (int s = 0; s < 200; s++) {
		initiations += count_type(&A, MESSAGE_HANDSHAKE_INITIATION);
		drop_wire(&A);
		/* Unanswered for 10 s (what re-resolves a name) after 10 s, not
		 * before, and no more once the engine has given up. */
		if (s == 9)
			assert_false(core_peer_handshake_unanswered(peer_ab, now, 10 * NS_PER_SEC));
		if (s == 11)
			assert_true(core_peer_handshake_unanswered(peer_ab, now, 10 * NS_PER_SEC));
		now += NS_PER_SEC;
		core_tick(&A.core, now);
	}
	assert_true(now - start > 150 * NS_PER_SEC);
	assert_false(core_peer_handshake_unanswered(peer_ab, now, 10 * NS_PER_SEC));
	/* The first try, then retries while attempts <= MAX_TIMER_HANDSHAKES (as the Linux module counts), then silence. */
	assert_int_equal(initiations, 1 + MAX_TIMER_HANDSHAKES + 1);
	assert_int_equal(peer_ab->staged.len, 0);
}

static void test_cookie_under_load(void **state)
{
	(void)state;
	B.core.force_under_load = true;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	/* B answers with a cookie, not a response. */
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 1);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 0);
	deliver(&B, &A);
	assert_true(peer_ab->cookie.cookie_birth != 0);
	/* A tries again at once (not after REKEY_TIMEOUT), with mac2, and gets through. */
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	const uint8_t zero[16] = { 0 };
	assert_memory_not_equal(A.net[0].data + 148 - 16, zero, 16);
	assert_true(peer_ab->retried_for_cookie);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);

	/* A message with a bad mac1 is dropped silently, cookie or not. */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 2);
	drop_wire(&A);
	core_peer_initiate(&A.core, peer_ab, now + 10 * NS_PER_SEC);
	assert_int_equal(A.n_net, 1);
	A.net[0].data[116] ^= 0xff;
	uint64_t before = B.core.drops[DROP_HANDSHAKE_MAC1];
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_MAC1], before + 1);
	B.core.force_under_load = false;
}

/* ---- the handshake queue ---- */

/* An initiation with a right mac1 for `to` from someone who is no peer (all
 * it takes is `to`'s public key), from source address number `source`. */
static struct pkt *stranger_initiation(struct side *to, uint32_t source)
{
	struct pkt *k = pool_get(&to->core.pool);
	struct message_handshake_initiation *m = (struct message_handshake_initiation *)k->data;
	struct cookie_maker maker;
	char ip[32];

	assert_non_null(k);
	assert_true(crypto_random(m, sizeof(*m)));
	memset(&m->header, 0, sizeof(m->header));
	m->header.type = MESSAGE_HANDSHAKE_INITIATION;
	cookie_maker_init(&maker, to->pub);
	cookie_add_macs(&maker, m, sizeof(*m), now);
	k->len = sizeof(*m);
	snprintf(ip, sizeof(ip), "198.%u.%u.%u", 18 + (source >> 16 & 1), source >> 8 & 255, source & 255);
	make_endpoint(&k->ep, ip, 40000);
	return k;
}

/* Handshake-sized junk: mac1 cannot be right. */
static struct pkt *junk_initiation(struct side *to)
{
	struct pkt *k = pool_get(&to->core.pool);

	assert_non_null(k);
	assert_true(crypto_random(k->data, sizeof(struct message_handshake_initiation)));
	memset(k->data, 0, 4);
	k->data[0] = MESSAGE_HANDSHAKE_INITIATION;
	k->len = sizeof(struct message_handshake_initiation);
	k->ep = A.addr;
	return k;
}

static void feed_one(struct side *to, struct pkt *k)
{
	core_net_rx(&to->core, now, &k, 1);
}

static uint32_t queued(const struct side *s)
{
	struct core_handshake_stats st;
	core_handshake_stats(&s->core, &st);
	return st.queued;
}

static bool is_under_load(const struct side *s)
{
	struct core_handshake_stats st;
	core_handshake_stats(&s->core, &st);
	return st.under_load;
}

/* Works off B's queue in steps small enough for the test's wire, throwing
 * away what B sends. */
static void drain_b(void)
{
	while (core_process_handshakes(&B.core, now, 64))
		drop_wire(&B);
	drop_wire(&B);
}

/* The queue holds at most CORE_HANDSHAKE_QUEUE messages and no packet
 * buffers; core_tick works off CORE_HANDSHAKE_BUDGET of them and asks to be
 * called again at once while some wait; data passes while it is full. */
static void test_handshake_queue_bounded(void **state)
{
	(void)state;
	handshake_and_first_packet();
	uint64_t timer = core_next_deadline(&B.core);
	assert_true(timer > 0 && timer != UINT64_MAX);
	for (uint32_t i = 0; i < CORE_HANDSHAKE_QUEUE + 100; i++)
		feed_one(&B, stranger_initiation(&B, i)); /* each from its own address */
	assert_int_equal(queued(&B), CORE_HANDSHAKE_QUEUE);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_QUEUE_FULL], 100);
	assert_int_equal(B.core.pool.available, B.core.pool.count);
	assert_int_equal(B.n_net, 0); /* nothing worked on yet */
	assert_int_equal(core_next_deadline(&B.core), 0);
	assert_true(is_under_load(&B));

	/* Data from A goes through at once, queue or not. */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 77);
	assert_int_equal(A.n_net, 1);
	struct pkt *k = pool_get(&B.core.pool);
	memcpy(k->data, A.net[0].data, A.net[0].len);
	k->len = A.net[0].len;
	k->ep = A.addr;
	drop_wire(&A);
	feed_one(&B, k);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 77);

	core_tick(&B.core, now);
	assert_int_equal(queued(&B), CORE_HANDSHAKE_QUEUE - CORE_HANDSHAKE_BUDGET);
	/* Under load, each got a cookie reply instead of a DH. */
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), CORE_HANDSHAKE_BUDGET);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_COOKIE], CORE_HANDSHAKE_BUDGET);
	drop_wire(&B);

	/* The rest: cookie replies up to their burst (no time passes), then none. */
	drain_b();
	assert_int_equal(queued(&B), 0);
	assert_int_equal(core_next_deadline(&B.core), timer);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_COOKIE], CORE_COOKIE_REPLIES_BURST);
	assert_int_equal(B.core.drops[DROP_COOKIE_RATELIMIT], CORE_HANDSHAKE_QUEUE - CORE_COOKIE_REPLIES_BURST);
	assert_int_equal(B.core.cookie_replies_sent, CORE_COOKIE_REPLIES_BURST);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE], 0); /* no DH was spent on them */
	/* And they come back at their rate. */
	now += NS_PER_SEC / 2;
	feed_one(&B, stranger_initiation(&B, 1));
	drain_b();
	assert_int_equal(B.core.cookie_replies_sent, CORE_COOKIE_REPLIES_BURST + 1);
}

/* core_tick's budget: CORE_HANDSHAKE_BUDGET messages that need no DH, or
 * one that does, so the daemon reads its sockets between two DH. */
static void test_handshake_budget(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 20; i++)
		feed_one(&B, stranger_initiation(&B, i));
	core_tick(&B.core, now);
	assert_int_equal(queued(&B), 19); /* one DH: no such peer */
	assert_int_equal(B.core.drops[DROP_HANDSHAKE], 1);
	B.core.force_under_load = true; /* answered with cookies: cheap */
	core_tick(&B.core, now);
	assert_int_equal(queued(&B), 19 - CORE_HANDSHAKE_BUDGET);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_COOKIE], CORE_HANDSHAKE_BUDGET);
	B.core.force_under_load = false;
	assert_int_equal(core_process_handshakes(&B.core, now, 2 * CORE_HANDSHAKE_DH_COST),
			 19 - CORE_HANDSHAKE_BUDGET - 2);
	drain_b();
}

/* Junk with the size of an initiation never enters the queue, so it cannot
 * put the engine under load: it is counted (mac1), logged at a limited
 * rate, and a real peer's handshake afterwards needs no cookie. */
static void test_junk_does_not_load(void **state)
{
	(void)state;
	for (int i = 0; i < 5000; i++)
		feed_one(&B, junk_initiation(&B));
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_MAC1], 5000);
	assert_int_equal(queued(&B), 0);
	assert_false(is_under_load(&B));
	assert_int_equal(B.core.pool.available, B.core.pool.count);
	int lines = logged(&B, "Invalid MAC of handshake");
	assert_true(lines >= 1 && lines <= CORE_LOG_BURST);

	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 0);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	assert_int_equal(B.core.cookie_replies_sent, 0);
	now += NS_PER_SEC;
	feed_one(&B, junk_initiation(&B));
	assert_logged(&B, "similar messages suppressed");
}

/* Under load means the queue holds CORE_UNDER_LOAD_QUEUE, and lasts a
 * second after it last did. Below that, every message gets the full work. */
static void test_under_load_threshold(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < CORE_UNDER_LOAD_QUEUE - 1; i++)
		feed_one(&B, stranger_initiation(&B, i));
	assert_int_equal(core_process_handshakes(&B.core, now, 1), CORE_UNDER_LOAD_QUEUE - 2);
	assert_false(is_under_load(&B));
	assert_int_equal(B.core.drops[DROP_HANDSHAKE], 1); /* worked on: no such peer */
	assert_int_equal(B.n_net, 0);
	feed_one(&B, stranger_initiation(&B, 60000));
	feed_one(&B, stranger_initiation(&B, 60001));
	assert_int_equal(queued(&B), CORE_UNDER_LOAD_QUEUE);
	core_process_handshakes(&B.core, now, 1);
	assert_true(is_under_load(&B));
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_COOKIE], 1);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 1);
	assert_logged(&B, "Under load: 512 handshake messages queued");
	drain_b();
	/* Still under load for a second after: A's first try gets a cookie,
	 * and its immediate retry with mac2 gets through. */
	now += NS_PER_SEC / 2;
	assert_true(is_under_load(&B));
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 1);
	deliver(&B, &A);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	/* A second later, no more (as of the time B was last given). */
	now += NS_PER_SEC;
	assert_true(is_under_load(&B));
	core_tick(&B.core, now);
	assert_false(is_under_load(&B));
}

/* Under load, each source gets RATELIMIT_BURST messages into the queue and
 * then RATELIMIT_PER_SECOND; what is more is dropped before the queue. Of
 * those, RATELIMIT_COOKIES_BURST get cookie replies, then
 * RATELIMIT_COOKIES_PER_SECOND. */
static void test_under_load_rate_per_source(void **state)
{
	(void)state;
	B.core.force_under_load = true;
	for (int i = 0; i < 50; i++)
		feed_one(&B, stranger_initiation(&B, 7));
	assert_int_equal(queued(&B), RATELIMIT_BURST);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_RATELIMIT], 50 - RATELIMIT_BURST);
	feed_one(&B, stranger_initiation(&B, 8)); /* another source */
	assert_int_equal(queued(&B), RATELIMIT_BURST + 1);
	now += NS_PER_SEC / RATELIMIT_PER_SECOND + 1;
	feed_one(&B, stranger_initiation(&B, 7));
	assert_int_equal(queued(&B), RATELIMIT_BURST + 2);
	drain_b();
	/* Of those, source 7 gets RATELIMIT_COOKIES_BURST cookie replies, 8 one. */
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_COOKIE], RATELIMIT_COOKIES_BURST + 1);
	assert_int_equal(B.core.drops[DROP_COOKIE_RATELIMIT], RATELIMIT_BURST + 1 - RATELIMIT_COOKIES_BURST);
	assert_logged(&B, "more handshake messages than its share from 198.18.0.7:40000");
	B.core.force_under_load = false;
}

/* A cookie reply makes us try again at once, but once per initiation: a
 * forged or repeated reply cannot make us send more. */
static void test_cookie_retry_once(void **state)
{
	(void)state;
	B.core.force_under_load = true;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	struct wire_msg cookie = B.net[0];
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 1);
	deliver(&B, &A);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	drop_wire(&A); /* lost */
	/* The same reply again: it answers the previous initiation, not this one. */
	B.net[0] = cookie;
	B.n_net = 1;
	deliver(&B, &A);
	assert_int_equal(A.n_net, 0);
	B.core.force_under_load = false;
}

static void test_replayed_initiation_rejected(void **state)
{
	(void)state;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	struct wire_msg init = A.net[0];
	deliver(&A, &B);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	/* The same initiation again (an attacker replaying it): no response. */
	now += NS_PER_SEC;
	A.net[0] = init;
	A.n_net = 1;
	uint64_t before = B.core.drops[DROP_HANDSHAKE_REPLAY];
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 0);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_REPLAY], before + 1);
}

/* B restarted (a new engine, same key) with what it kept of A: it
 * initiates to A's endpoint at once, and refuses A's old initiation
 * replayed from elsewhere, leaving the endpoint where it was. */
static void test_restored_state(void **state)
{
	(void)state;
	struct core_hooks hb = { .ctx = &B, .send_net = hook_net, .send_tun = hook_tun, .log = hook_log };
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	struct endpoint ep, attacker;

	uint64_t gen = core_state_generation(&B.core);
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	struct wire_msg init = A.net[0];
	deliver(&A, &B);
	assert_true(core_state_generation(&B.core) > gen); /* a handshake accepted: save */
	memcpy(ts, peer_ba->latest_timestamp, sizeof(ts));
	ep = peer_ba->endpoint;
	deliver(&B, &A);
	deliver(&A, &B);

	core_destroy(&B.core);
	memset(&B.core, 0, sizeof(B.core));
	B.n_net = B.n_tun = B.n_log = 0;
	assert_int_equal(core_init(&B.core, &hb, 1420, 1024), 0);
	B.core.wall_offset_ns = 1700000000LL * (int64_t)NS_PER_SEC;
	core_set_private_key(&B.core, B.priv);
	peer_ba = core_peer_add(&B.core, A.pub);
	assert_non_null(peer_ba);
	core_peer_set_psk(&B.core, peer_ba, peer_ab->preshared_key);
	add_allowed(&B.core, peer_ba, "198.18.0.1", 32);
	now += NS_PER_SEC;
	assert_true(core_peer_restore(&B.core, peer_ba, ts, &ep, true, now));
	assert_true(endpoint_equal(&peer_ba->endpoint, &A.addr));
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_INITIATION), 1);
	assert_logged(&B, "known from before the restart: initiating to 192.0.2.1:51820");
	drop_wire(&B);

	/* The old initiation, from another address. */
	make_endpoint(&attacker, "192.0.2.66", 40000);
	struct pkt *k = pool_get(&B.core.pool);
	assert_non_null(k);
	memcpy(k->data, init.data, init.len);
	k->len = init.len;
	k->ep = attacker;
	core_net_rx(&B.core, now, &k, 1);
	while (core_process_handshakes(&B.core, now, UINT32_MAX))
		;
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 0);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_REPLAY], 1);
	assert_true(endpoint_equal(&peer_ba->endpoint, &A.addr));

	/* A restored timestamp never lowers the one the engine has. */
	uint8_t zero[NOISE_TIMESTAMP_LEN] = { 0 };
	assert_true(core_peer_restore(&B.core, peer_ba, zero, NULL, false, now));
	assert_memory_equal(peer_ba->latest_timestamp, ts, sizeof(ts));
	/* Without a private key no handshake can start: ask again later. */
	core_set_private_key(&B.core, NULL);
	assert_false(core_peer_restore(&B.core, peer_ba, ts, NULL, true, now));
}

static void test_keys_zeroed(void **state)
{
	(void)state;
	handshake_and_first_packet();
	assert_non_null(peer_ab->current);
	for (int s = 0; s < 3 * REJECT_AFTER_TIME + 30; s += 10) {
		now += 10 * NS_PER_SEC;
		core_tick(&A.core, now);
		core_tick(&B.core, now);
		drop_wire(&A);
		drop_wire(&B);
	}
	assert_null(peer_ab->current);
	assert_null(peer_ab->previous);
	for (int i = 0; i < 3; i++)
		assert_false(peer_ab->keypairs[i].valid);
	/* Sending again makes a fresh session. */
	A.n_tun = B.n_tun = 0;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 3);
	deliver(&A, &B);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
}

static void test_passive_keepalive(void **state)
{
	(void)state;
	handshake_and_first_packet();
	/* B received data and has nothing to send: a keepalive within KEEPALIVE_TIMEOUT. */
	now += (KEEPALIVE_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&B.core, now);
	assert_int_equal(count_type(&B, MESSAGE_DATA), 1);
	assert_int_equal(B.net[0].len, 32); /* empty payload */
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 0);
}

static void test_malformed_dropped(void **state)
{
	(void)state;
	static const uint32_t lens[] = { 0, 1, 4, 31, 147, 149, 91, 63, 65 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (uint8_t type = 0; type < 6; type++) {
			struct pkt *k = pool_get(&B.core.pool);
			memset(k->data, 0, 200);
			k->data[0] = type;
			k->len = lens[i];
			k->ep = A.addr;
			core_net_rx(&B.core, now, &k, 1);
		}
	}
	assert_int_equal(B.n_net, 0);
	assert_int_equal(B.n_tun, 0);
	assert_int_equal(B.core.pool.available, B.core.pool.count);
}

static void test_staged_packets_capped(void **state)
{
	(void)state;
	/* 40 peers that never answer, flooded with packets. */
	for (int i = 0; i < 40; i++) {
		uint8_t pub[KEY_LEN];
		char ip[32];
		assert_true(crypto_random(pub, sizeof(pub)));
		struct peer *p = core_peer_add(&A.core, pub);
		assert_non_null(p);
		core_peer_set_endpoint(&A.core, p, &B.addr);
		snprintf(ip, sizeof(ip), "198.18.1.%d", i + 1);
		add_allowed(&A.core, p, ip, 32);
	}
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 40; i++) {
			char ip[32];
			snprintf(ip, sizeof(ip), "198.18.1.%d", i + 1);
			send_ip(&A, "198.18.0.1", ip, (uint32_t)round);
		}
		drop_wire(&A);
	}
	/* At most a quarter of the pool waits; the rest stays free for receiving. */
	assert_true(A.core.n_staged <= A.core.pool.count / 4);
	assert_true(A.core.pool.available + A.core.n_staged == A.core.pool.count);
	assert_true(A.core.drops[DROP_NO_BUFFER] > 0);
	/* And the real peer still gets through. */
	handshake_and_first_packet();
}

static void test_responder_waits_for_confirmation(void **state)
{
	(void)state;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	/* B has data for A before A confirmed: it waits, it does not start its own handshake. */
	send_ip(&B, "198.18.0.2", "198.18.0.1", 2);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_INITIATION), 0);
	assert_int_equal(count_type(&B, MESSAGE_DATA), 0);
	deliver(&B, &A);
	deliver(&A, &B); /* A's staged packet confirms B's session */
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(count_type(&B, MESSAGE_DATA), 1);
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 1);
	assert_int_equal(tun_tag(&A, 0), 2);
}

static void set_suite(struct peer *p, enum cipher_suite suite)
{
	core_peer_set_suite(p->core, p, suite);
}

static void test_aesgcm_suite(void **state)
{
	(void)state;
	set_suite(peer_ab, SUITE_AESGCM);
	set_suite(peer_ba, SUITE_AESGCM);
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	assert_int_equal(A.net[0].data[1], MESSAGE_SUITE_AESGCM); /* the suite byte */
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	assert_int_equal(B.net[0].data[1], MESSAGE_SUITE_AESGCM);
	deliver(&B, &A);
	assert_int_equal(count_type(&A, MESSAGE_DATA), 1);
	assert_int_equal(A.net[0].data[1], MESSAGE_SUITE_AESGCM);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 1);
	assert_int_equal(peer_ba->current->recv.suite, SUITE_AESGCM);
	send_ip(&B, "198.18.0.2", "198.18.0.1", 2);
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 1);
	/* A data message relabelled as the other suite is dropped. */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 3);
	A.net[0].data[1] = MESSAGE_SUITE_CHACHAPOLY;
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
}

static void test_suite_mismatch_no_session(void **state)
{
	(void)state;
	/* A speaks AES-GCM, B expects WireGuard's suite from A: no session. */
	set_suite(peer_ab, SUITE_AESGCM);
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	uint64_t before = B.core.drops[DROP_HANDSHAKE];
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE], before + 1);
	/* The same initiation relabelled as ChaChaPoly fails to decrypt too. */
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&A.core, now);
	assert_int_equal(A.n_net, 1);
	A.net[0].data[1] = MESSAGE_SUITE_CHACHAPOLY;
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
}

/* ---- TAP mode ---- */

/* An Ethernet frame from src to dst (last bytes of 02:00:00:00:00:xx, or
 * 0xff for broadcast) of len bytes, tagged. */
static struct pkt *make_frame(struct side *s, uint8_t src, uint8_t dst, uint32_t tag, uint32_t len)
{
	struct pkt *k = pool_get(&s->core.pool);
	assert_non_null(k);
	memset(k->data, 0, len);
	for (int i = 0; i < 6; i++)
		k->data[i] = dst == 0xff ? 0xff : (uint8_t)(i == 0 ? 0x02 : i == 5 ? dst : 0);
	k->data[6] = 0x02;
	k->data[11] = src;
	k->data[12] = 0x88;
	k->data[13] = 0xb5;
	if (len >= 18)
		memcpy(k->data + 14, &tag, 4);
	k->len = len;
	return k;
}

static void send_frame(struct side *s, uint8_t src, uint8_t dst, uint32_t tag, uint32_t len)
{
	struct pkt *k = make_frame(s, src, dst, tag, len);
	core_tun_rx(&s->core, now, &k, 1);
}

static void set_ethernet(struct side *s)
{
	assert_int_equal(core_set_ethernet(&s->core), 0);
}

static void test_tap_frames(void **state)
{
	(void)state;
	set_ethernet(&A);
	set_ethernet(&B);
	/* A broadcast: unknown to A, flooded to its one peer. */
	send_frame(&A, 1, 0xff, 7, 61);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	assert_int_equal(A.net[0].data[2], MESSAGE_MODE_ETHERNET);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	assert_int_equal(B.net[0].data[2], MESSAGE_MODE_ETHERNET);
	deliver(&B, &A);
	assert_int_equal(count_type(&A, MESSAGE_DATA), 1);
	assert_int_equal(A.net[0].data[2], MESSAGE_MODE_ETHERNET);
	/* 2 bytes of length + 61, padded to 64. */
	assert_int_equal(A.net[0].len, 16 + 64 + 16);
	deliver(&A, &B);
	/* The frame whole, its length kept (no padding reaches the TAP). */
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.tun[0].len, 61);
	assert_int_equal(B.tun[0].data[11], 1);
	/* B learned 02:..:01 behind A and sends to it as unicast. */
	bool found;
	uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 };
	assert_ptr_equal(l2_lookup(core_l2_table(&B.core), mac1, now, &found), peer_ba);
	assert_true(found);
	send_frame(&B, 2, 1, 8, 1400);
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 1);
	assert_int_equal(A.tun[0].len, 1400);
	/* A frame for an address on A's own side (the TAP's) is not sent. */
	send_frame(&A, 1, 1, 9, 60);
	assert_int_equal(A.n_net, 0);
	/* Too short to be a frame: dropped. */
	uint64_t malformed = A.core.drops[DROP_MALFORMED];
	send_frame(&A, 1, 0xff, 10, 13);
	assert_int_equal(A.core.drops[DROP_MALFORMED], malformed + 1);
}

/* One batch from the TAP with runs of frames that share their addresses
 * (a TSO super-frame's segments) among others: each frame goes where the
 * table says at that frame, whatever the frames before it taught it, and
 * the table's counters and times are what one learn a frame made them. */
static void test_tap_runs(void **state)
{
	struct {
		uint8_t src, dst;
		uint32_t len;
	} batch[] = {
		{ 1, 2, 60 },    /* 0: 2 unknown: flooded to B */
		{ 1, 2, 60 },    /* 1: the same run: flooded */
		{ 5, 2, 60 },    /* 2: the same destination, another source: 5 learned, flooded */
		{ 2, 1, 60 },    /* 3: teaches 2 (local); 1 is local: not sent */
		{ 1, 2, 60 },    /* 4: 2 is local now: not sent (not flooded as 0 was) */
		{ 9, 3, 60 },    /* 5: 9 pinned to B: refused; 3 unknown: flooded */
		{ 9, 3, 60 },    /* 6: refused again, counted again */
		{ 9, 3, 13 },    /* 7: too short: dropped, the run goes on */
		{ 9, 3, 60 },    /* 8: refused, flooded */
		{ 4, 3, 60 },    /* 9: after a refused source, another: 4 learned, flooded */
		{ 1, 0xff, 60 }, /* 10: broadcast: flooded */
		{ 3, 9, 60 },    /* 11: teaches 3; 9 is B's: sent to B */
		{ 3, 9, 60 },    /* 12: the same run: sent to B */
	};
	const uint32_t want[] = { 0, 1, 2, 5, 6, 8, 9, 10, 11, 12 };
	struct pkt *pkts[sizeof(batch) / sizeof(batch[0])];
	uint8_t pinned[6] = { 2, 0, 0, 0, 0, 9 }, mac1[6] = { 2, 0, 0, 0, 0, 1 };
	const struct l2_table *t;
	bool found;
	int n = (int)(sizeof(batch) / sizeof(batch[0]));

	(void)state;
	set_ethernet(&A);
	t = core_l2_table(&A.core);
	assert_int_equal(core_peer_add_allowed_mac(&A.core, peer_ab, pinned), 0);
	uint64_t malformed = A.core.drops[DROP_MALFORMED];
	for (int i = 0; i < n; i++)
		pkts[i] = make_frame(&A, batch[i].src, batch[i].dst, (uint32_t)i, batch[i].len);
	core_tun_rx(&A.core, now, pkts, n);
	assert_int_equal(peer_ab->staged.len, sizeof(want) / sizeof(want[0]));
	int j = 0;
	for (struct pkt *k = peer_ab->staged.head; k; k = k->next, j++) {
		uint32_t tag;
		memcpy(&tag, k->data + 14, 4);
		assert_int_equal(tag, want[j]);
	}
	assert_int_equal(A.core.drops[DROP_MALFORMED], malformed + 1);
	assert_int_equal(t->stats.learned, 5); /* 1, 5, 2, 4 and 3 */
	assert_int_equal(t->stats.refused, 3); /* frames 5, 6 and 8 */
	assert_int_equal(t->stats.moved, 0);
	assert_null(l2_lookup(t, mac1, now, &found));
	assert_true(found);
	assert_int_equal(l2_find(t, mac1)->seen, now);
	/* A run later: its source seen again, at that batch's time. */
	for (int i = 0; i < 3; i++)
		pkts[i] = make_frame(&A, 1, 2, 100, 60);
	core_tun_rx(&A.core, now + 10 * NS_PER_SEC, pkts, 3);
	assert_int_equal(l2_find(t, mac1)->seen, now + 10 * NS_PER_SEC);
	assert_int_equal(t->stats.learned, 5);
	assert_int_equal(peer_ab->staged.len, sizeof(want) / sizeof(want[0]));
}

/* A and B in TAP mode with a session, A with an MTU of 9000; B with a
 * third peer C, which has an endpoint when c_ip is not NULL. Returns C. */
static struct peer *tap_third_peer(const char *c_ip)
{
	uint8_t c_priv[KEY_LEN], c_pub[KEY_LEN];
	struct endpoint c_addr;

	set_ethernet(&A);
	set_ethernet(&B);
	assert_int_equal(core_set_mtu(&A.core, 9000), 0);
	assert_true(crypto_x25519_keygen(c_priv));
	assert_true(crypto_x25519_public(c_pub, c_priv));
	struct peer *pc = core_peer_add(&B.core, c_pub);
	assert_non_null(pc);
	if (c_ip) {
		make_endpoint(&c_addr, c_ip, 51822);
		core_peer_set_endpoint(&B.core, pc, &c_addr);
	}
	/* The session A-B. */
	send_frame(&A, 1, 0xff, 7, 61);
	deliver(&A, &B);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	B.n_tun = 0;
	drop_wire(&B);
	return pc;
}

/* A peer's broadcast where the other peers have nowhere to send: the TAP
 * gets the frame itself and no copy is made (a large one would take a
 * large buffer). */
static void test_tap_flood_no_copy(void **state)
{
	(void)state;
	struct peer *pc = tap_third_peer(NULL);
	size_t carved = B.core.pool.large.carved;
	uint64_t no_buffer = B.core.drops[DROP_NO_BUFFER];
	send_frame(&A, 1, 0xff, 8, 8000);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.tun[0].len, 8000);
	assert_int_equal(pc->staged.len, 0);
	assert_int_equal(B.core.pool.large.carved, carved + 1); /* the datagram's, no copy's */
	assert_int_equal(B.core.drops[DROP_NO_BUFFER], no_buffer);
	assert_int_equal(B.core.pool.available, B.core.pool.count);
}

/* A peer's frame longer than this side's buffers for its own MTU (the peer
 * has a larger one), flooded on to another peer: the copy gets a buffer
 * that holds it, as the original had. */
static void test_tap_flood_large_frame(void **state)
{
	(void)state;
	struct peer *pc = tap_third_peer("192.0.2.3");
	/* 8000 bytes of broadcast from A: to B's TAP, and a copy to C. */
	send_frame(&A, 1, 0xff, 8, 8000);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.tun[0].len, 8000);
	int copies = 0;
	for (struct pkt *k = pc->staged.head; k; k = k->next) {
		assert_true(k->len + PKT_TAILROOM <= pkt_room(k));
		copies += k->len == 8000;
	}
	assert_int_equal(copies, 1);
}

/* A TAP interface and a TUN one never get a session: the mark is checked
 * first, and rewriting it breaks mac1 (and the handshake's hash). */
static void test_tap_mode_mismatch(void **state)
{
	(void)state;
	set_ethernet(&A);
	send_frame(&A, 1, 0xff, 1, 60);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	uint64_t before = B.core.drops[DROP_MODE_MISMATCH];
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	assert_int_equal(B.core.drops[DROP_MODE_MISMATCH], before + 1);
	/* A TUN engine takes no AllowedMACs. */
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	assert_int_equal(core_peer_add_allowed_mac(&B.core, peer_ba, mac), -EINVAL);
	assert_logged(&B, "for an interface in TAP mode, and this one is in TUN mode");
	/* Relabelled as TUN: mac1 covers the header. */
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&A.core, now);
	assert_int_equal(A.n_net, 1);
	A.net[0].data[2] = MESSAGE_MODE_IP;
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	assert_int_equal(B.core.drops[DROP_HANDSHAKE_MAC1], 1);
	/* And the other way: B (TUN) to A (TAP). */
	send_ip(&B, "198.18.0.2", "198.18.0.1", 1);
	core_peer_set_endpoint(&B.core, peer_ba, &A.addr);
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&B.core, now);
	assert_true(B.n_net >= 1);
	before = A.core.drops[DROP_MODE_MISMATCH];
	A.n_net = 0;
	deliver(&B, &A);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_RESPONSE), 0);
	assert_true(A.core.drops[DROP_MODE_MISMATCH] > before);
}

static void test_tap_allowed_macs(void **state)
{
	(void)state;
	uint8_t pinned[6] = { 2, 0, 0, 0, 0, 9 };
	set_ethernet(&A);
	set_ethernet(&B);
	assert_int_equal(core_peer_add_allowed_mac(&B.core, peer_ba, pinned), 0);
	assert_int_equal(core_peer_add_allowed_mac(&B.core, peer_ba, pinned), 0); /* again: counted once */
	assert_int_equal(peer_ba->n_allowed_macs, 1);
	send_frame(&A, 1, 0xff, 1, 60);
	deliver(&A, &B);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 0);
	assert_int_equal(B.core.drops[DROP_ALLOWEDMACS], 1);
	assert_logged(&B, "Frame has unallowed src MAC (02:00:00:00:00:01)");
	send_frame(&A, 9, 0xff, 2, 60);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	/* Another peer cannot have it; once A's is cleared, it can. */
	uint8_t other[KEY_LEN];
	assert_true(crypto_x25519_keygen(other));
	struct peer *pc = core_peer_add(&B.core, other);
	assert_non_null(pc);
	assert_int_equal(core_peer_add_allowed_mac(&B.core, pc, pinned), -EEXIST);
	assert_int_equal(pc->n_allowed_macs, 0);
	core_peer_clear_allowed_macs(&B.core, peer_ba);
	assert_int_equal(peer_ba->n_allowed_macs, 0);
	assert_int_equal(core_peer_add_allowed_mac(&B.core, pc, pinned), 0);
	assert_int_equal(pc->n_allowed_macs, 1);
}

/* A reload moves an AllowedMACs address from one peer to another, and one
 * that drops a peer's AllowedMACs leaves what it learned. */
static void test_device_sync_tap_macs(void **state)
{
	struct interface_config cfg;
	struct peer_config pcs[2];
	struct config_mac m1 = { { 2, 0, 0, 0, 0, 0x31 } };
	uint8_t k_new[KEY_LEN];
	bool found;

	(void)state;
	set_ethernet(&A);
	assert_true(crypto_random(k_new, sizeof(k_new)));
	memset(&cfg, 0, sizeof(cfg));
	memset(pcs, 0, sizeof(pcs));
	cfg.ethernet = true;
	cfg.peers = pcs;
	cfg.n_peers = 2;
	memcpy(pcs[0].public_key, B.pub, KEY_LEN);
	pcs[0].endpoint.addr.sa.sa_family = AF_UNSPEC;
	pcs[0].allowed_macs = &m1;
	pcs[0].n_allowed_macs = 1;
	memcpy(pcs[1].public_key, k_new, KEY_LEN);
	pcs[1].endpoint.addr.sa.sa_family = AF_UNSPEC;
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, NULL), 0);
	assert_ptr_equal(l2_lookup(core_l2_table(&A.core), m1.addr, now, &found), peer_ab);
	assert_int_equal(peer_ab->n_allowed_macs, 1);
	/* Moved to the other peer in one reload. */
	pcs[0].n_allowed_macs = 0;
	pcs[1].allowed_macs = &m1;
	pcs[1].n_allowed_macs = 1;
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, NULL), 0);
	struct peer *p_new = core_peer_find(&A.core, k_new);
	assert_ptr_equal(l2_lookup(core_l2_table(&A.core), m1.addr, now, &found), p_new);
	assert_true(l2_find(core_l2_table(&A.core), m1.addr)->pinned);
	assert_int_equal(peer_ab->n_allowed_macs, 0);
	assert_int_equal(p_new->n_allowed_macs, 1);
}

/* An ICMP echo request from 198.18.0.1 to 198.18.0.2 with a valid checksum. */
static void send_echo(struct side *s, uint16_t seq)
{
	struct pkt *k = ip_packet(s, "198.18.0.1", "198.18.0.2", 0, 16);
	k->data[9] = 1; /* ICMP */
	/* A valid header checksum, as every packet from a kernel has: the
	 * responder, like a kernel, ignores a header whose checksum is wrong. */
	uint32_t hsum = 0;
	for (int i = 0; i < 20; i += 2)
		hsum += (uint32_t)k->data[i] << 8 | k->data[i + 1];
	while (hsum >> 16)
		hsum = (hsum & 0xffff) + (hsum >> 16);
	k->data[10] = (uint8_t)(~hsum >> 8);
	k->data[11] = (uint8_t)~hsum;
	uint8_t *icmp = k->data + 20;
	memset(icmp, 0, 16);
	icmp[0] = 8;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	uint32_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)icmp[i] << 8 | icmp[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp[2] = (uint8_t)(~sum >> 8);
	icmp[3] = (uint8_t)~sum;
	core_tun_rx(&s->core, now, &k, 1);
}

static void test_reply_ping(void **state)
{
	(void)state;
	struct cidr own = { .family = AF_INET, .prefix = 24 };
	inet_pton(AF_INET, "198.18.0.2", &own.addr.v4);
	assert_int_equal(core_set_reply_ping(&B.core, true, &own, 1), 0);
	handshake_and_first_packet();
	send_echo(&A, 7);
	deliver(&A, &B);
	/* B answered in user space: nothing reached its tun, a reply went back. */
	assert_int_equal(B.n_tun, 0);
	assert_int_equal(count_type(&B, MESSAGE_DATA), 1);
	deliver(&B, &A);
	assert_int_equal(A.n_tun, 1);
	assert_int_equal(A.tun[0].data[20], 0); /* echo reply */
	assert_int_equal(A.tun[0].data[27], 7); /* same sequence */
	uint8_t expect_src[4];
	inet_pton(AF_INET, "198.18.0.2", expect_src);
	assert_memory_equal(A.tun[0].data + 12, expect_src, 4);
	/* Off: the request goes to the tun like any packet. */
	assert_int_equal(core_set_reply_ping(&B.core, false, &own, 1), 0);
	send_echo(&A, 8);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(B.tun[0].data[20], 8);
}

/* endpoint_changed: called once per change, by authenticated packets only,
 * with the endpoint before and after (a TCP connection id counts). */
static int n_changes;
static struct endpoint change_old, change_new;

static void record_change(void *ctx, struct peer *p, const struct endpoint *old_ep, const struct endpoint *new_ep)
{
	(void)ctx;
	assert_ptr_equal(p, peer_ba);
	assert_true(endpoint_equal(&p->endpoint, new_ep)); /* already in place */
	n_changes++;
	change_old = *old_ep;
	change_new = *new_ep;
}

static void test_endpoint_changed_hook(void **state)
{
	struct endpoint first;

	(void)state;
	n_changes = 0;
	B.core.hooks.endpoint_changed = record_change;
	handshake_and_first_packet();
	assert_int_equal(n_changes, 1); /* learned from the initiation */
	assert_int_equal(change_old.addr.sa.sa_family, AF_UNSPEC);
	assert_true(endpoint_equal(&change_new, &A.addr));
	send_ip(&A, "198.18.0.1", "198.18.0.2", 2);
	deliver(&A, &B);
	assert_int_equal(n_changes, 1); /* the same endpoint: no call */

	/* Same address, now over TCP connection 7. */
	first = A.addr;
	A.addr.conn = 7;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 3);
	deliver(&A, &B);
	assert_int_equal(n_changes, 2);
	assert_true(endpoint_equal(&change_old, &first));
	assert_int_equal(change_new.conn, 7);
	assert_int_equal(peer_ba->endpoint.conn, 7);

	/* A replayed data message from elsewhere moves nothing. */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 4);
	struct wire_msg copy = A.net[0];
	deliver(&A, &B);
	A.net[0] = copy;
	A.n_net = 1;
	make_endpoint(&A.addr, "192.0.2.66", 4444);
	deliver(&A, &B);
	assert_int_equal(n_changes, 2);
	assert_int_equal(peer_ba->endpoint.conn, 7);
}

static void test_under_load_over_tcp_no_cookie(void **state)
{
	(void)state;
	/* Over a TCP connection the cookie round trip is skipped: the
	 * connection proves the address, and a cookie would not survive a
	 * reconnect from another port. The rate limit still applies. */
	B.core.force_under_load = true;
	A.addr.conn = 5;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_COOKIE), 0);
	assert_int_equal(count_type(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);
	deliver(&B, &A);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	B.core.force_under_load = false;
}

/* ---- what the engine says (the log hook) ---- */

/* A handshake and the first packet, told by both sides, with the peers'
 * ids and endpoints. */
static void test_log_handshake(void **state)
{
	(void)state;
	assert_logged(&A, "Peer 1 created, public key ");
	handshake_and_first_packet();
	assert_logged(&A, "Sending handshake initiation to peer 1 (192.0.2.2:51821)");
	assert_logged(&B, "Receiving handshake initiation from peer 1 (192.0.2.1:51820)");
	assert_logged(&B, "Peer 1 endpoint changed to 192.0.2.1:51820");
	assert_logged(&B, "Sending handshake response to peer 1 (192.0.2.1:51820)");
	assert_logged(&B, "Keypair 1 created for peer 1");
	assert_logged(&A, "Receiving handshake response from peer 1 (192.0.2.2:51821)");
	assert_logged(&A, "Keypair 1 created for peer 1");
	/* Nothing invalid on either side. */
	assert_int_equal(logged(&A, "Invalid"), 0);
	assert_int_equal(logged(&B, "Invalid"), 0);

	/* B has nothing to say back: a keepalive after KEEPALIVE_TIMEOUT. */
	now += (KEEPALIVE_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&B.core, now);
	assert_logged(&B, "Sending keepalive packet to peer 1 (192.0.2.1:51820)");
	deliver(&B, &A);
	assert_logged(&A, "Receiving keepalive packet from peer 1 (192.0.2.2:51821)");

	/* Keys go after 3 x REJECT_AFTER_TIME without a new handshake. */
	for (int s = 0; s < 3 * REJECT_AFTER_TIME + 30; s += 10) {
		now += 10 * NS_PER_SEC;
		core_tick(&A.core, now);
		drop_wire(&A);
	}
	assert_logged(&A,
		      "Zeroing out all keys for peer 1 (192.0.2.2:51821), "
		      "since we haven't received a new one in 540 seconds");
	assert_logged(&A, "Keypair 1 destroyed for peer 1");
}

/* A peer configured with the wrong public key for us: its mac1 is wrong. */
static void test_log_wrong_public_key(void **state)
{
	uint8_t wrong[KEY_LEN];

	(void)state;
	assert_true(crypto_random(wrong, sizeof(wrong)));
	core_peer_remove(&A.core, peer_ab);
	struct peer *p = core_peer_add(&A.core, wrong);
	assert_non_null(p);
	assert_int_equal(p->id, 2);
	core_peer_set_endpoint(&A.core, p, &B.addr);
	add_allowed(&A.core, p, "198.18.0.2", 32);
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	assert_logged(&A, "Sending handshake initiation to peer 2 (192.0.2.2:51821)");
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	assert_logged(&B, "Invalid MAC of handshake, dropping packet from 192.0.2.1:51820");
	assert_int_equal(logged(&B, "Receiving handshake initiation"), 0);
	/* A hears nothing and retries after REKEY_TIMEOUT. */
	now += (REKEY_TIMEOUT + 1) * NS_PER_SEC;
	core_tick(&A.core, now);
	assert_logged(&A, "Handshake for peer 2 (192.0.2.2:51821) did not complete after 5 seconds, retrying (try 2)");
}

/* A sender that is not a peer of ours: its initiation decrypts, but no
 * peer has its key. */
static void test_log_unknown_peer(void **state)
{
	char b64[KEY_B64_LEN + 1], want[200];

	(void)state;
	core_peer_remove(&B.core, peer_ba);
	assert_logged(&B, "Peer 1 removed");
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	deliver(&A, &B);
	assert_int_equal(B.n_net, 0);
	key_to_base64(b64, A.pub);
	snprintf(want, sizeof(want), "Invalid handshake initiation from 192.0.2.1:51820: no peer has its public key %s",
		 b64);
	assert_logged(&B, want);
}

static void test_log_unallowed_src(void **state)
{
	(void)state;
	handshake_and_first_packet();
	send_ip(&A, "198.18.9.9", "198.18.0.2", 9);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 0);
	assert_logged(&B, "Packet has unallowed src IP (198.18.9.9) from peer 1 (192.0.2.1:51820)");
	send_ip(&A, "198.18.0.1", "198.51.100.1", 10);
	assert_logged(&A, "No peer has allowed IPs matching 198.51.100.1");
}

/* Sessions rotate, told as the kernel module tells it: each rekey makes a
 * keypair on both sides, and the one before the previous goes. */
static void test_log_keypair_rotation(void **state)
{
	(void)state;
	handshake_and_first_packet();
	for (int t = 0; t <= 2 * REKEY_AFTER_TIME + 10; t += 5) {
		now += 5 * NS_PER_SEC;
		core_tick(&A.core, now);
		core_tick(&B.core, now);
		send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
		send_ip(&B, "198.18.0.2", "198.18.0.1", 2);
		for (int i = 0; i < 4; i++) {
			deliver(&A, &B);
			deliver(&B, &A);
		}
		if (t == REKEY_AFTER_TIME + 5) {
			/* One rotation: 2 is current, 1 previous, none gone. */
			assert_logged(&A, "Keypair 2 created for peer 1");
			assert_logged(&B, "Keypair 2 created for peer 1");
			assert_int_equal(logged(&A, "destroyed"), 0);
			assert_int_equal(logged(&B, "destroyed"), 0);
		}
	}
	/* Two: 3 is current, 2 previous, 1 destroyed on both sides. */
	assert_logged(&A, "Keypair 3 created for peer 1");
	assert_logged(&B, "Keypair 3 created for peer 1");
	assert_logged(&A, "Keypair 1 destroyed for peer 1");
	assert_logged(&B, "Keypair 1 destroyed for peer 1");
	assert_int_equal(logged(&A, "Keypair 2 destroyed"), 0);
	assert_int_equal(logged(&B, "Keypair 2 destroyed"), 0);
	assert_int_equal(logged(&A, "Zeroing out"), 0);
	assert_int_equal(logged(&A, "did not complete"), 0);
	assert_non_null(peer_ab->current);
	assert_non_null(peer_ab->previous);
}

static void test_log_give_up(void **state)
{
	char want[128];

	(void)state;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	for (int s = 0; s < 200; s++) {
		drop_wire(&A);
		now += NS_PER_SEC;
		core_tick(&A.core, now);
	}
	for (int try = 2; try <= MAX_TIMER_HANDSHAKES + 2; try++) {
		snprintf(want, sizeof(want), "did not complete after 5 seconds, retrying (try %d)", try);
		assert_logged(&A, want);
	}
	assert_int_equal(logged(&A, "retrying (try"), MAX_TIMER_HANDSHAKES + 1);
	assert_logged(&A, "Handshake for peer 1 (192.0.2.2:51821) did not complete after 20 attempts, giving up");
}

/* At most CORE_LOG_BURST lines of a kind at once; the next one allowed
 * says how many were suppressed. Other kinds are not affected. */
static void test_log_rate_limited(void **state)
{
	(void)state;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 1);
	struct wire_msg init = A.net[0];
	init.data[116] ^= 0xff; /* mac1 */
	drop_wire(&A);
	for (int i = 0; i < 100; i++) {
		A.net[0] = init;
		A.n_net = 1;
		deliver(&A, &B);
	}
	assert_int_equal(logged(&B, "Invalid MAC"), CORE_LOG_BURST);
	/* Tokens come back at CORE_LOG_PER_SECOND. */
	now += NS_PER_SEC / CORE_LOG_PER_SECOND;
	A.net[0] = init;
	A.n_net = 1;
	deliver(&A, &B);
	assert_int_equal(logged(&B, "Invalid MAC"), CORE_LOG_BURST + 1);
	assert_logged(
		&B, "Invalid MAC of handshake, dropping packet from 192.0.2.1:51820 (90 similar messages suppressed)");
	/* Another kind of line still gets through. */
	A.net[0] = init;
	A.net[0].data[116] ^= 0xff;
	A.n_net = 1;
	deliver(&A, &B);
	assert_logged(&B, "Receiving handshake initiation from peer 1");
}

/* Ids count up in the order peers are added, never reused; an engine
 * without a log hook says nothing and works the same. */
static void test_peer_ids_and_no_log_hook(void **state)
{
	uint8_t key[KEY_LEN];

	(void)state;
	assert_int_equal(peer_ab->id, 1);
	for (uint64_t want = 2; want <= 4; want++) {
		assert_true(crypto_random(key, sizeof(key)));
		struct peer *p = core_peer_add(&A.core, key);
		assert_non_null(p);
		assert_int_equal(p->id, want);
		if (want == 3)
			core_peer_remove(&A.core, p);
	}
	uint64_t ids[4], n = 0;
	for (const struct peer *p = core_peers_first(&A.core); p; p = core_peers_next(p))
		ids[n++] = p->id;
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 4);

	A.core.hooks.log = NULL;
	B.core.hooks.log = NULL;
	A.n_log = B.n_log = 0;
	handshake_and_first_packet();
	assert_int_equal(A.n_log + B.n_log, 0);
}

/* ---- the device layer applies configurations through the engine's calls ---- */

static void test_device_apply_config(void **state)
{
	struct interface_config cfg;
	struct peer_config pcs[4];
	struct cidr ip4 = { .family = AF_INET, .prefix = 32 };
	uint8_t k1[KEY_LEN], k2[KEY_LEN];

	(void)state;
	assert_true(crypto_random(k1, sizeof(k1)));
	assert_true(crypto_random(k2, sizeof(k2)));
	inet_pton(AF_INET, "198.18.3.1", &ip4.addr.v4);
	memset(&cfg, 0, sizeof(cfg));
	memset(pcs, 0, sizeof(pcs));
	cfg.peers = pcs;
	/* A new peer with everything; our own key (ignored); one to update only (absent: ignored). */
	memcpy(pcs[0].public_key, k1, KEY_LEN);
	pcs[0].has_preshared_key = true;
	memset(pcs[0].preshared_key, 7, KEY_LEN);
	pcs[0].has_suite = true;
	pcs[0].suite = SUITE_AESGCM;
	pcs[0].endpoint = B.addr;
	pcs[0].allowed_ips = &ip4;
	pcs[0].n_allowed_ips = 1;
	pcs[0].has_persistent_keepalive = true;
	pcs[0].persistent_keepalive = 25;
	memcpy(pcs[1].public_key, A.pub, KEY_LEN);
	memcpy(pcs[2].public_key, k2, KEY_LEN);
	pcs[2].update_only = true;
	cfg.n_peers = 3;
	assert_int_equal(device_apply_config(&A.core, &cfg, now), 0);
	assert_int_equal(core_peer_count(&A.core), 2);
	struct peer *p = core_peer_find(&A.core, k1);
	assert_non_null(p);
	assert_int_equal(p->suite, SUITE_AESGCM);
	assert_int_equal(p->preshared_key[0], 7);
	assert_int_equal(p->persistent_keepalive, 25);
	assert_true(endpoint_equal(&p->endpoint, &B.addr));
	assert_ptr_equal(allowedips_lookup(&A.core.allowedips, AF_INET, &ip4.addr.v4), p);
	assert_null(core_peer_find(&A.core, A.pub));
	assert_null(core_peer_find(&A.core, k2));
	/* Keepalive on: a handshake started at once (the key is applied). */
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);

	/* A bad prefix: a negative errno, as every engine call. */
	struct cidr bad = ip4;
	bad.prefix = 33;
	memset(pcs, 0, sizeof(pcs));
	memcpy(pcs[0].public_key, k1, KEY_LEN);
	pcs[0].allowed_ips = &bad;
	pcs[0].n_allowed_ips = 1;
	cfg.n_peers = 1;
	assert_int_equal(device_apply_config(&A.core, &cfg, now), -EINVAL);

	/* Removal, then replace_peers. */
	memset(pcs, 0, sizeof(pcs));
	memcpy(pcs[0].public_key, k1, KEY_LEN);
	pcs[0].remove = true;
	assert_int_equal(device_apply_config(&A.core, &cfg, now), 0);
	assert_null(core_peer_find(&A.core, k1));
	assert_int_equal(core_peer_count(&A.core), 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.replace_peers = true;
	assert_int_equal(device_apply_config(&A.core, &cfg, now), 0);
	assert_int_equal(core_peer_count(&A.core), 0);
	assert_null(core_peers_first(&A.core));
}

static int n_removing;
static uint8_t removing_key[KEY_LEN];

static void record_removing(void *ctx, const uint8_t public_key[KEY_LEN])
{
	(void)ctx;
	n_removing++;
	memcpy(removing_key, public_key, KEY_LEN);
}

/* A sync (syncconf, SIGHUP) keeps the session of a peer the configuration
 * still lists, whatever else changes: data flows on without a handshake. */
static void test_device_sync_config(void **state)
{
	struct interface_config cfg;
	struct peer_config pcs[2];
	struct cidr ips[2] = { { .family = AF_INET, .prefix = 32 }, { .family = AF_INET, .prefix = 24 } };
	struct device_sync_counts counts;
	uint8_t k_gone[KEY_LEN], k_new[KEY_LEN];

	(void)state;
	handshake_and_first_packet();
	A.n_net = B.n_net = 0;
	/* A third peer on A, which the configuration will not list. */
	assert_true(crypto_random(k_gone, sizeof(k_gone)));
	assert_true(crypto_random(k_new, sizeof(k_new)));
	assert_non_null(core_peer_add(&A.core, k_gone));
	assert_int_equal(core_peer_count(&A.core), 2);

	inet_pton(AF_INET, "198.18.0.2", &ips[0].addr.v4);
	inet_pton(AF_INET, "198.19.7.0", &ips[1].addr.v4);
	memset(&cfg, 0, sizeof(cfg));
	memset(pcs, 0, sizeof(pcs));
	cfg.peers = pcs;
	cfg.n_peers = 2;
	/* B: the same key and psk as before, its keepalive on, one more
	 * allowed IP, no endpoint (it stays), no cipher (the default). */
	memcpy(pcs[0].public_key, B.pub, KEY_LEN);
	pcs[0].has_preshared_key = true;
	memcpy(pcs[0].preshared_key, peer_ab->preshared_key, KEY_LEN);
	pcs[0].has_persistent_keepalive = true;
	pcs[0].persistent_keepalive = 17;
	pcs[0].allowed_ips = ips;
	pcs[0].n_allowed_ips = 2;
	pcs[0].endpoint.addr.sa.sa_family = AF_UNSPEC;
	memcpy(pcs[1].public_key, k_new, KEY_LEN);
	pcs[1].endpoint.addr.sa.sa_family = AF_UNSPEC;
	n_removing = 0;
	assert_int_equal(device_sync_config(&A.core, &cfg, now, record_removing, NULL, &counts), 0);
	assert_int_equal(counts.added, 1);
	assert_int_equal(counts.removed, 1);
	assert_int_equal(counts.kept, 1);
	assert_int_equal(n_removing, 1);
	assert_memory_equal(removing_key, k_gone, KEY_LEN);
	assert_null(core_peer_find(&A.core, k_gone));
	assert_non_null(core_peer_find(&A.core, k_new));
	assert_ptr_equal(core_peer_find(&A.core, B.pub), peer_ab); /* updated in place */
	assert_int_equal(peer_ab->persistent_keepalive, 17);
	assert_true(endpoint_equal(&peer_ab->endpoint, &B.addr));
	assert_ptr_equal(allowedips_lookup(&A.core.allowedips, AF_INET, &ips[1].addr.v4), peer_ab);
	/* Listed first after the one kept: peers keep their order. */
	assert_ptr_equal(core_peers_first(&A.core), peer_ab);

	/* The session is the one it had: data goes at once, both ways. */
	A.n_net = 0;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 7);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 0);
	assert_true(count_type(&A, MESSAGE_DATA) >= 1);
	deliver(&A, &B);
	assert_int_equal(B.n_tun, 1);
	assert_int_equal(tun_tag(&B, 0), 7);

	/* The same again changes nothing. */
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, &counts), 0);
	assert_int_equal(counts.added + counts.removed, 0);
	A.n_net = 0;
	send_ip(&A, "198.18.0.1", "198.18.0.2", 8);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 0);

	/* Another cipher voids the session: the next packet waits for a
	 * handshake. Without the psk line, the psk is gone. */
	pcs[0].has_suite = true;
	pcs[0].suite = SUITE_AESGCM;
	pcs[0].has_preshared_key = false;
	A.n_net = 0;
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, NULL), 0);
	assert_int_equal(peer_ab->suite, SUITE_AESGCM);
	assert_true(crypto_is_zero(peer_ab->preshared_key, KEY_LEN));
	now += 6 * NS_PER_SEC; /* past REKEY_TIMEOUT since the last initiation */
	send_ip(&A, "198.18.0.1", "198.18.0.2", 9);
	assert_int_equal(count_type(&A, MESSAGE_DATA), 0);
	assert_int_equal(count_type(&A, MESSAGE_HANDSHAKE_INITIATION), 1);

	/* An empty configuration removes every peer. */
	cfg.n_peers = 0;
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, &counts), 0);
	assert_int_equal(counts.removed, 2);
	assert_int_equal(core_peer_count(&A.core), 0);
	peer_ab = NULL;
}

/* ---- ten thousand peers ---- */

#define MANY_PEERS 10000

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Added, found, half removed and found again, each in time linear in the
 * peer count (the times are printed, not asserted: machines differ); then
 * the same through the config parser and the device layer. */
static void test_many_peers(void **state)
{
	static uint8_t keys[MANY_PEERS][KEY_LEN];
	static struct peer *peers[MANY_PEERS];
	struct timespec t0;
	double t_add, t_find, t_remove, t_refind;

	(void)state;
	for (int i = 0; i < MANY_PEERS; i++) {
		assert_true(crypto_random(keys[i], KEY_LEN));
		keys[i][0] = (uint8_t)i; /* distinct for sure */
		keys[i][1] = (uint8_t)(i >> 8);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY_PEERS; i++) {
		struct cidr ip = { .family = AF_INET, .prefix = 32 };
		peers[i] = core_peer_add(&B.core, keys[i]);
		assert_non_null(peers[i]);
		ip.addr.bytes[0] = 198;
		ip.addr.bytes[1] = 19;
		ip.addr.bytes[2] = (uint8_t)(i >> 8);
		ip.addr.bytes[3] = (uint8_t)i;
		assert_int_equal(core_peer_add_allowed_ip(&B.core, peers[i], &ip), 0);
	}
	t_add = seconds_since(&t0);
	assert_int_equal(core_peer_count(&B.core), MANY_PEERS + 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY_PEERS; i++)
		assert_ptr_equal(core_peer_find(&B.core, keys[i]), peers[i]);
	t_find = seconds_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY_PEERS; i += 2)
		core_peer_remove(&B.core, peers[i]);
	t_remove = seconds_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY_PEERS; i++) {
		if (i % 2)
			assert_ptr_equal(core_peer_find(&B.core, keys[i]), peers[i]);
		else
			assert_null(core_peer_find(&B.core, keys[i]));
	}
	t_refind = seconds_since(&t0);
	/* Still in the order added. */
	const struct peer *p = core_peers_first(&B.core);
	assert_ptr_equal(p, peer_ba);
	for (int i = 1; i < MANY_PEERS; i += 2) {
		p = core_peers_next(p);
		assert_ptr_equal(p, peers[i]);
	}
	assert_null(core_peers_next(p));
	assert_int_equal(core_peer_count(&B.core), MANY_PEERS / 2 + 1);
	print_message("%d peers: add %.3f s, find all %.3f s, remove half %.3f s, find all again %.3f s\n", MANY_PEERS,
		      t_add, t_find, t_remove, t_refind);

	/* The loading path: a file with 10,000 [Peer] sections, parsed (with
	 * its duplicate check) and applied. */
	size_t cap = (size_t)MANY_PEERS * 120 + 200, len = 0;
	char *text = malloc(cap), b64[KEY_B64_LEN + 1];
	assert_non_null(text);
	key_to_base64(b64, A.priv);
	len += (size_t)snprintf(text + len, cap - len, "[Interface]\nPrivateKey = %s\n", b64);
	for (int i = 0; i < MANY_PEERS; i++) {
		key_to_base64(b64, keys[i]);
		len += (size_t)snprintf(text + len, cap - len, "[Peer]\nPublicKey = %s\nAllowedIPs = 198.19.%d.%d/32\n",
					b64, i >> 8, i & 255);
	}
	struct interface_config cfg;
	char err[256];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(config_parse(&cfg, "many.conf", text, len, err, sizeof(err)));
	double t_parse = seconds_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(device_apply_config(&A.core, &cfg, now), 0);
	double t_apply = seconds_since(&t0);
	assert_int_equal(core_peer_count(&A.core), MANY_PEERS + 1);
	assert_non_null(core_peer_find(&A.core, keys[MANY_PEERS - 1]));
	/* Synced to the same file without its last peer: that one goes, and
	 * so does B (set up before, in no file); the other 9,999 stay. */
	cfg.n_peers--;
	struct device_sync_counts counts;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(device_sync_config(&A.core, &cfg, now, NULL, NULL, &counts), 0);
	double t_sync = seconds_since(&t0);
	cfg.n_peers++;
	assert_int_equal(counts.kept, MANY_PEERS - 1);
	assert_int_equal(counts.removed, 2);
	assert_int_equal(core_peer_count(&A.core), MANY_PEERS - 1);
	print_message("%d peers from a file: parse %.3f s, apply %.3f s, sync %.3f s\n", MANY_PEERS, t_parse, t_apply,
		      t_sync);
	config_free(&cfg);
	crypto_wipe(text, len);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_flood_no_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_flood_large_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_mode_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_allowed_macs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_sync_tap_macs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_key_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_static_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowedips_source_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_after_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_up_after_rekey_attempt_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_queue_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junk_does_not_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_under_load_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_under_load_rate_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_retry_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_initiation_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_zeroed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passive_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staged_packets_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responder_waits_for_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aesgcm_suite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suite_mismatch_no_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_under_load_over_tcp_no_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_changed_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_wrong_public_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_unknown_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_unallowed_src, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_keypair_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_ids_and_no_log_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_apply_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_sync_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_peers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
