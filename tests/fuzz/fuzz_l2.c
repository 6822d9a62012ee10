// SPDX-License-Identifier: MIT
/*
 * TAP mode's frame path: a TAP engine with four peers (endpoints, no
 * sessions: what it sends waits in their queues) fed a sequence of records
 *   [op] [peer] [len] [len bytes of frame]
 * op % 4: 0 a frame read from the TAP; 1 a frame decrypted from the peer
 * (straight into core_l2_rx, length prefix made here, or taken from the
 * input when op & 4); 2 the clock moves on by len seconds; 3 the frame's
 * source address pinned to the peer (AllowedMACs), or all its pins cleared
 * when op & 4. The table is small, so it fills, ages and refuses.
 * Invariants checked: nothing crashes; the table's count matches its
 * entries; every buffer returns to the pool once the peers are removed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "crypto.h"

#define PEERS 4

static void to_pool(void *ctx, struct pkt **pkts, int n)
{
	struct core *c = ctx;
	for (int i = 0; i < n; i++)
		pool_put(&c->pool, pkts[i]);
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	if (!memchr(msg, 0, 1024))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	static struct core c;
	struct core_hooks h = { .ctx = &c, .send_net = to_pool, .send_tun = to_pool, .log = log_line };
	struct peer *peers[PEERS];
	uint8_t key[KEY_LEN];
	uint64_t now = NS_PER_SEC;

	/* One engine for every input (making one costs more than a run);
	 * each input gets fresh peers and an empty table. */
	if (!inited) {
		if (!crypto_init() || core_init(&c, &h, 1420, 256) || core_set_ethernet(&c))
			abort();
		memset(key, 1, sizeof(key));
		core_set_private_key(&c, key);
		inited = true;
	}
	/* A small table, so that it fills within one input. */
	l2_free(&c.l2);
	memset(key, 7, sizeof(key));
	if (l2_init(&c.l2, 16, key))
		abort();
	for (int i = 0; i < PEERS; i++) {
		struct endpoint ep = { 0 };
		key[0] = (uint8_t)(2 + i);
		key[31] = 0x40;
		peers[i] = core_peer_add(&c, key);
		if (!peers[i])
			abort();
		ep.addr.in4.sin_family = AF_INET;
		ep.addr.in4.sin_port = htons((uint16_t)(1000 + i));
		ep.addr.in4.sin_addr.s_addr = htonl(0xc0000210 + (uint32_t)i);
		if (i != 3) /* one peer without an endpoint: never flooded to */
			core_peer_set_endpoint(&c, peers[i], &ep);
	}
	while (size >= 3) {
		uint8_t op = data[0], who = data[1] % PEERS;
		size_t len = data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		struct peer *p = peers[who];
		switch (op % 4) {
		case 0: {
			struct pkt *k = pool_get(&c.pool);
			if (!k)
				break;
			memcpy(k->data, data, len);
			k->len = (uint32_t)len;
			core_tun_rx(&c, now, &k, 1);
			break;
		}
		case 1: {
			struct pkt *k = pool_get(&c.pool);
			struct peer *touched[CORE_BATCH];
			int n_touched = 0;
			if (!k)
				break;
			uint8_t *payload = k->data + MESSAGE_DATA_HEADER_LEN;
			uint32_t plen = (uint32_t)len;
			if (op & 4) {
				memcpy(payload, data, len);
			} else {
				payload[0] = (uint8_t)(len >> 8);
				payload[1] = (uint8_t)len;
				memcpy(payload + 2, data, len);
				plen += 2;
			}
			k->len = MESSAGE_DATA_HEADER_LEN + plen + NOISE_AUTHTAG_LEN;
			core_l2_rx(&c, p, k, payload, plen, now, touched, &n_touched);
			for (int j = 0; j < n_touched; j++)
				core_send_staged(&c, touched[j], now);
			core_net_rx(&c, now, NULL, 0); /* flushes both batches */
			break;
		}
		case 2:
			now += (uint64_t)len * NS_PER_SEC;
			break;
		case 3:
			if (op & 4)
				core_peer_clear_allowed_macs(&c, p);
			else if (len >= 12)
				(void)core_peer_add_allowed_mac(&c, p, data + 6);
			break;
		}
		data += len;
		size -= len;
		/* The count and the entries agree. */
		uint32_t cursor = 0, n = 0;
		while (l2_next(&c.l2, &cursor))
			n++;
		if (n != c.l2.used)
			abort();
	}
	core_peer_remove_all(&c);
	if (c.pool.available != c.pool.count)
		abort();
	return 0;
}
