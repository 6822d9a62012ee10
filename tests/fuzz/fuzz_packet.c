// SPDX-License-Identifier: MIT
/*
 * Outside input to the protocol core: any datagram from the network.
 * The first byte picks a scenario so one harness reaches every consumer:
 *   0: the raw datagram to a core with one peer (no session yet);
 *   1: the datagram to a core that has a live session with that peer,
 *      with its first 4..16 bytes replaced by a real data header so the
 *      fuzzer gets past the index lookup;
 *   2: the datagram while the core is under load (cookie path);
 *   3: the datagram with a right mac1 for B (computed over it here), so
 *      that handshake-sized ones get into the queue and the Noise work.
 * Invariants checked: nothing crashes, every buffer returns to the pool.
 * Both engines have a log hook, so the lines they format from what came in
 * (endpoints, addresses, keys) are fuzzed too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "crypto.h"

static struct core A, B;
static struct peer *peer_ab, *peer_ba;
static uint8_t last_data[2048];
static uint32_t last_len;
static struct endpoint ep_a, ep_b;
static struct cookie_maker mac1_for_b;

static void to_pool_a(void *ctx, struct pkt **pkts, int n)
{
	(void)ctx;
	for (int i = 0; i < n; i++) {
		if (pkts[i]->len <= sizeof(last_data)) {
			memcpy(last_data, pkts[i]->data, pkts[i]->len);
			last_len = pkts[i]->len;
		}
		pool_put(&A.pool, pkts[i]);
	}
}

static void to_pool_b(void *ctx, struct pkt **pkts, int n)
{
	(void)ctx;
	for (int i = 0; i < n; i++) {
		if (pkts[i]->len <= sizeof(last_data)) {
			memcpy(last_data, pkts[i]->data, pkts[i]->len);
			last_len = pkts[i]->len;
		}
		pool_put(&B.pool, pkts[i]);
	}
}

static size_t logged_bytes;

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	logged_bytes += strlen(msg); /* reads every byte: ASan sees an unterminated line */
}

static void feed(struct core *c, const struct endpoint *from, const uint8_t *data, size_t len, uint64_t now)
{
	struct pkt *k = pool_get(&c->pool);
	if (!k)
		abort();
	if (len > k->cap - PKT_HEADROOM)
		len = k->cap - PKT_HEADROOM;
	memcpy(k->data, data, len);
	k->len = (uint32_t)len;
	k->ep = *from;
	core_net_rx(c, now, &k, 1);
	core_process_handshakes(c, now, UINT32_MAX);
}

static void init(void)
{
	static bool done;
	uint8_t ka[KEY_LEN], kb[KEY_LEN], pa[KEY_LEN], pb[KEY_LEN];
	struct core_hooks ha = { .send_net = to_pool_a, .send_tun = to_pool_a, .log = log_line };
	struct core_hooks hb = { .send_net = to_pool_b, .send_tun = to_pool_b, .log = log_line };

	if (done)
		return;
	done = true;
	if (!crypto_init() || core_init(&A, &ha, 1420, 256) || core_init(&B, &hb, 1420, 256))
		abort();
	/* Fixed keys: the fuzzer's findings must replay. */
	memset(ka, 1, sizeof(ka));
	memset(kb, 2, sizeof(kb));
	ka[0] &= 248;
	ka[31] = (ka[31] & 127) | 64;
	kb[0] &= 248;
	kb[31] = (kb[31] & 127) | 64;
	if (!crypto_x25519_public(pa, ka) || !crypto_x25519_public(pb, kb))
		abort();
	core_set_private_key(&A, ka);
	core_set_private_key(&B, kb);
	peer_ab = core_peer_add(&A, pb);
	peer_ba = core_peer_add(&B, pa);
	ep_a.addr.in4.sin_family = AF_INET;
	ep_a.addr.in4.sin_port = htons(1);
	ep_a.addr.in4.sin_addr.s_addr = htonl(0xc0000201);
	ep_b.addr.in4.sin_family = AF_INET;
	ep_b.addr.in4.sin_port = htons(2);
	ep_b.addr.in4.sin_addr.s_addr = htonl(0xc0000202);
	core_peer_set_endpoint(&A, peer_ab, &ep_b);
	cookie_maker_init(&mac1_for_b, pb);
	struct cidr all4 = { .family = AF_INET, .prefix = 0 };
	if (core_peer_add_allowed_ip(&A, peer_ab, &all4) || core_peer_add_allowed_ip(&B, peer_ba, &all4))
		abort();
}

/* Makes sure A and B share a live session; returns the time to use. */
static uint64_t session(void)
{
	static uint64_t now = NS_PER_SEC;
	now += NS_PER_SEC;
	if (peer_ab->current && peer_ba->current)
		return now;
	core_peer_initiate(&A, peer_ab, now);
	if (last_len != sizeof(struct message_handshake_initiation))
		return now;
	uint8_t msg[256];
	uint32_t len = last_len;
	memcpy(msg, last_data, len);
	feed(&B, &ep_a, msg, len, now);
	if (last_len != sizeof(struct message_handshake_response))
		return now;
	len = last_len;
	memcpy(msg, last_data, len);
	feed(&A, &ep_b, msg, len, now);
	len = last_len; /* A's keepalive confirms B's session */
	memcpy(msg, last_data, len);
	feed(&B, &ep_a, msg, len, now);
	return now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[4096];
	uint64_t now;

	init();
	if (size < 1 || size > sizeof(buf))
		return 0;
	uint8_t mode = data[0] % 4;
	memcpy(buf, data + 1, size - 1);
	size--;
	now = session();
	if (mode == 1 && peer_ba->current && size >= 16) {
		buf[0] = MESSAGE_DATA;
		buf[1] = buf[2] = buf[3] = 0;
		uint32_t idx = peer_ba->current->remote_index; /* B's index as A addresses it */
		idx = peer_ab->current ? peer_ab->current->remote_index : idx;
		memcpy(buf + 4, &idx, 4);
	}
	if (mode == 3 && size >= sizeof(struct message_header) + sizeof(struct message_macs))
		cookie_add_macs(&mac1_for_b, buf, size, now);
	B.force_under_load = mode == 2;
	feed(&B, &ep_a, buf, size, now);
	B.force_under_load = false;
	core_tick(&B, now);
	/* Every buffer is back in its pool or waits in a peer's staged queue. */
	if (A.pool.available + peer_ab->staged.len != A.pool.count ||
	    B.pool.available + peer_ba->staged.len != B.pool.count)
		abort();
	return 0;
}

#ifdef FUZZ_PACKET_SEEDS
/*
 * The seed corpus tests/fuzz/corpus/fuzz_packet, made by the same two
 * engines (`make fuzz-seeds`): real messages A sends B and B sends A, each
 * behind the scenario byte that takes it furthest, and broken ones. B's
 * private key is fixed, so a recorded initiation still authenticates in the
 * fuzzer; data messages carry another run's keys but the right shape.
 */
#include <stdio.h>

static const char *seed_dir;

static void seed(const char *name, uint8_t mode, const uint8_t *msg, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(msg, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A's last output, copied. */
static size_t take(uint8_t *out)
{
	memcpy(out, last_data, last_len);
	return last_len;
}

int main(int argc, char **argv)
{
	uint8_t init_msg[256], resp[256], cookie[256], keepalive[256], data[2048], junk[148], ping[84] = { 0 };
	size_t n_init, n_resp, n_cookie, n_keepalive, n_data;
	uint64_t now = NS_PER_SEC;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (writes the fuzz_packet seed corpus there)\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	init();
	core_peer_initiate(&A, peer_ab, now);
	n_init = take(init_msg);
	feed(&B, &ep_a, init_msg, n_init, now);
	n_resp = take(resp);
	feed(&A, &ep_b, resp, n_resp, now);
	n_keepalive = take(keepalive);
	if (n_init != sizeof(struct message_handshake_initiation) ||
	    n_resp != sizeof(struct message_handshake_response) || n_keepalive != 32) {
		fprintf(stderr, "handshake failed: %zu %zu %zu\n", n_init, n_resp, n_keepalive);
		return 1;
	}
	/* An IPv4 echo request 192.0.2.1 -> 192.0.2.2 through A's session. */
	ping[0] = 0x45;
	ping[3] = sizeof(ping);
	ping[8] = 64;
	ping[9] = 1;
	memcpy(ping + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	ping[20] = 8;
	struct pkt *k = pool_get(&A.pool);
	memcpy(k->data, ping, sizeof(ping));
	k->len = sizeof(ping);
	core_tun_rx(&A, now, &k, 1);
	n_data = take(data);
	/* B under load answers a new initiation (REKEY_TIMEOUT later) with a cookie. */
	now += 6 * NS_PER_SEC;
	core_peer_initiate(&A, peer_ab, now);
	uint8_t init2[256];
	size_t n_init2 = take(init2);
	B.force_under_load = true;
	feed(&B, &ep_a, init2, n_init2, now);
	B.force_under_load = false;
	n_cookie = take(cookie);
	if (n_cookie != sizeof(struct message_handshake_cookie) || n_data < 32 + sizeof(ping)) {
		fprintf(stderr, "cookie or data failed: %zu %zu\n", n_cookie, n_data);
		return 1;
	}
	if (!crypto_random(junk, sizeof(junk)))
		return 1;

	seed("initiation", 0, init_msg, n_init);
	seed("initiation-mac1", 3, init_msg, n_init);
	seed("initiation-under-load", 2, init_msg, n_init);
	seed("initiation-truncated", 0, init_msg, 100);
	seed("response", 0, resp, n_resp);
	seed("response-mac1", 3, resp, n_resp);
	seed("response-truncated", 0, resp, 60);
	seed("cookie-reply", 0, cookie, n_cookie);
	seed("cookie-reply-truncated", 0, cookie, 40);
	seed("keepalive", 1, keepalive, n_keepalive);
	seed("data", 0, data, n_data);
	seed("data-session", 1, data, n_data);
	seed("data-truncated", 1, data, 20);
	seed("header-only", 0, init_msg, 4);
	seed("empty", 0, init_msg, 0);
	junk[0] = MESSAGE_HANDSHAKE_INITIATION;
	junk[1] = junk[2] = junk[3] = 0;
	seed("junk-initiation-size", 0, junk, sizeof(junk));
	seed("junk-initiation-mac1", 3, junk, sizeof(junk));
	seed("junk", 0, junk + 4, 64);
	/* initiation-long: the second initiation and one byte more. */
	init2[n_init2] = 0;
	seed("initiation-long", 0, init2, n_init2 + 1);
	printf("fuzz_packet seeds written to %s\n", seed_dir);
	return 0;
}
#endif
