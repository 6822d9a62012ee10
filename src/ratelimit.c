// SPDX-License-Identifier: MIT
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define NS_PER_PACKET (1000000000ULL / RATELIMIT_PER_SECOND)
#define TOKEN_MAX (NS_PER_PACKET * RATELIMIT_BURST)

int ratelimit_init(struct ratelimit *r)
{
	r->slots = calloc(RATELIMIT_SLOTS, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	if (!crypto_random(r->secret, sizeof(r->secret))) {
		free(r->slots);
		r->slots = NULL;
		return -EIO;
	}
	return 0;
}

void ratelimit_free(struct ratelimit *r)
{
	free(r->slots);
	r->slots = NULL;
}

bool ratelimit_allow(struct ratelimit *r, const struct endpoint *src, uint64_t now)
{
	uint8_t key[16] = { 0 };
	uint8_t h[16];
	uint64_t hi, lo;

	if (src->addr.sa.sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &src->addr.in4.sin_addr, 4);
	} else if (src->addr.sa.sa_family == AF_INET6) {
		memcpy(key, &src->addr.in6.sin6_addr, 8); /* a /64 is one sender */
		key[8] = 1;
	} else {
		return false;
	}
	memcpy(&hi, key, 8);
	memcpy(&lo, key + 8, 8);
	crypto_mac(h, sizeof(h), r->secret, sizeof(r->secret), key, sizeof(key));
	uint32_t idx;
	memcpy(&idx, h, sizeof(idx));
	struct ratelimit_slot *s = &r->slots[idx & (RATELIMIT_SLOTS - 1)];

	if (s->key_hi != hi || s->key_lo != lo || now - s->last > 1000000000ULL) {
		/* A new sender (or an idle one) takes the slot with a full bucket. */
		s->key_hi = hi;
		s->key_lo = lo;
		s->last = now;
		s->tokens = TOKEN_MAX - NS_PER_PACKET;
		return true;
	}
	s->tokens += now - s->last;
	if (s->tokens > TOKEN_MAX)
		s->tokens = TOKEN_MAX;
	s->last = now;
	if (s->tokens < NS_PER_PACKET)
		return false;
	s->tokens -= NS_PER_PACKET;
	return true;
}
