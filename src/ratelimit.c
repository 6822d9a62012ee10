// SPDX-License-Identifier: MIT
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

bool ratelimit_bucket_take(struct ratelimit_bucket *b, uint64_t now, struct ratelimit_rate rate)
{
	uint64_t cost = rate.cost, max = rate.max;

	if (!b->last) {
		b->credit = max;
	} else if (now > b->last) {
		uint64_t gained = now - b->last;
		b->credit = gained >= max - b->credit ? max : b->credit + gained;
	}
	if (now > b->last)
		b->last = now;
	if (b->credit < cost)
		return false;
	b->credit -= cost;
	return true;
}

int ratelimit_init(struct ratelimit *r, uint32_t per_second, uint32_t burst)
{
	memset(r, 0, sizeof(*r));
	per_second = per_second ? per_second : 1;
	burst = burst ? burst : 1;
	r->rate = ratelimit_rate(per_second, burst);
	ratelimit_set_overflow(r, per_second * RATELIMIT_OVERFLOW_SHARE, burst * RATELIMIT_OVERFLOW_SHARE);
	r->slots = calloc(RATELIMIT_SLOTS, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	if (!crypto_random(r->key, sizeof(r->key))) {
		free(r->slots);
		r->slots = NULL;
		return -EIO;
	}
	return 0;
}

void ratelimit_set_overflow(struct ratelimit *r, uint32_t per_second, uint32_t burst)
{
	r->overflow_rate = ratelimit_rate(per_second, burst);
}

void ratelimit_free(struct ratelimit *r)
{
	free(r->slots);
	r->slots = NULL;
}

bool ratelimit_allow(struct ratelimit *r, const struct endpoint *src, uint64_t now)
{
	struct sockaddr_in6 s6;
	uint8_t key[16];
	uint64_t hi, lo;

	/* IPv4 as ::ffff:a.b.c.d; of IPv6, a /64 is one sender. */
	if (!endpoint_to_sin6(&s6, src))
		return false;
	memcpy(key, &s6.sin6_addr, sizeof(key));
	if (src->addr.sa.sa_family == AF_INET6) {
		memset(key + 8, 0, 8);
		key[8] = 1;
	}
	memcpy(&hi, key, 8);
	memcpy(&lo, key + 8, 8);
	/* SipHash, not a MAC through libcrypto: this runs for every handshake
	 * message of a flood, before it is queued. */
	uint64_t h = crypto_siphash(r->key, key, sizeof(key));
	struct ratelimit_slot *set = &r->slots[h & (RATELIMIT_SLOTS - RATELIMIT_WAYS)], *s = NULL;
	/* Quiet this long, a bucket is full again: taking its slot costs nothing. */
	uint64_t refill = r->rate.max;

	for (int i = 0; i < RATELIMIT_WAYS; i++) {
		struct ratelimit_slot *x = &set[i];
		if (x->key_hi == hi && x->key_lo == lo && x->bucket.last) {
			s = x;
			break;
		}
		/* Else the free slot, or the one quiet the longest if quiet enough. */
		if (!x->bucket.last || now - x->bucket.last >= refill)
			if (!s || (s->bucket.last && (!x->bucket.last || x->bucket.last < s->bucket.last)))
				s = x;
	}
	if (!s) {
		r->overflowed++;
		return ratelimit_bucket_take(&r->overflow, now, r->overflow_rate);
	}
	if (s->key_hi != hi || s->key_lo != lo) {
		s->key_hi = hi;
		s->key_lo = lo;
		memset(&s->bucket, 0, sizeof(s->bucket)); /* starts full */
	}
	return ratelimit_bucket_take(&s->bucket, now, r->rate);
}
