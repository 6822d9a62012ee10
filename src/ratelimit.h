/* SPDX-License-Identifier: MIT */
/*
 * Rate limits for handshake messages under load (whitepaper 5.3): token
 * buckets, one per source address (IPv6 by /64) in a fixed table made at
 * start-up, and single ones the engine keeps for totals. A cookie only
 * proves that a sender owns its address; this keeps one address from
 * costing us more than a few DH (or cookie replies) a second.
 *
 * The table is set-associative: a source hashes (keyed SipHash, so nobody
 * can aim at a set) to a set of RATELIMIT_WAYS slots. A newcomer takes a
 * free slot, or one whose owner has been quiet long enough for its bucket to
 * be full again (evicting it gives nobody a token more). When every slot of
 * its set is busy, which takes a flood from many thousands of addresses, it
 * is never given a fresh bucket by evicting a busy source (that would let a
 * flood from more sources than slots through unlimited, and reset the
 * flooders' own buckets): all such sources share one overflow bucket, and
 * each time is counted. The overflow bucket holds RATELIMIT_OVERFLOW_SHARE
 * sources' worth unless the owner sizes it (ratelimit_set_overflow): too
 * small, and a real client that arrives during such a flood finds its set
 * full and waits for its retries; the engine makes it as large as its own
 * total for cookie replies, so newcomers fare as well as before and the
 * total stays bounded.
 */
#ifndef SLUICE_RATELIMIT_H
#define SLUICE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "netaddr.h"

/* Handshake messages from one source, under load. */
#define RATELIMIT_PER_SECOND 20
#define RATELIMIT_BURST 5
/* Cookie replies to one source: a sender that uses its cookie needs one;
 * one that asks for more is not using them. */
#define RATELIMIT_COOKIES_PER_SECOND 2
#define RATELIMIT_COOKIES_BURST 4
#define RATELIMIT_SLOTS 16384      /* power of two: 512 KiB, touched as used */
#define RATELIMIT_WAYS 4           /* slots a source may take (a set), power of two */
#define RATELIMIT_OVERFLOW_SHARE 8 /* sources' worth for all that find their set full */

/* A token bucket: tokens come at a steady rate up to a burst. Zeroed, it
 * starts full. The credit is kept in ns of refill time. */
struct ratelimit_bucket {
	uint64_t last;   /* ns of the last refill; 0 = never used */
	uint64_t credit; /* ns: one token costs the rate's cost */
};

/* A rate as a bucket spends it, worked out once (ratelimit_rate) so that
 * no message pays for a division. */
struct ratelimit_rate {
	uint64_t cost; /* ns of refill a token costs: NS_PER_SEC / per_second */
	uint64_t max;  /* ns a full bucket holds: burst tokens' cost; also how
			* long a bucket takes to fill up again from empty */
};

/* per_second a second after a burst of `burst` (either 0 counts as 1).
 * Inline, so a rate of constants costs nothing at all. */
static inline struct ratelimit_rate ratelimit_rate(uint32_t per_second, uint32_t burst)
{
	uint64_t cost = NS_PER_SEC / (per_second ? per_second : 1);
	return (struct ratelimit_rate){ cost, cost * (burst ? burst : 1) };
}

/* Takes a token if there is one. */
bool ratelimit_bucket_take(struct ratelimit_bucket *b, uint64_t now, struct ratelimit_rate rate);

struct ratelimit_slot {
	uint64_t key_hi, key_lo; /* the address (v4 mapped), 0/0 = free */
	struct ratelimit_bucket bucket;
};

struct ratelimit {
	struct ratelimit_slot *slots;
	struct ratelimit_rate rate;       /* per source */
	struct ratelimit_bucket overflow; /* shared by sources whose set is full */
	struct ratelimit_rate overflow_rate;
	uint64_t overflowed;                 /* messages that found their set full */
	uint8_t key[CRYPTO_SIPHASH_KEY_LEN]; /* keys the slot hash so a sender cannot aim at a slot */
};

/* A limit of per_second a second after a burst of `burst`, per source.
 * 0, -ENOMEM, or -EIO (no randomness). */
int ratelimit_init(struct ratelimit *r, uint32_t per_second, uint32_t burst);
void ratelimit_free(struct ratelimit *r);
/* The bucket of sources that find their set full (default: the limit of
 * RATELIMIT_OVERFLOW_SHARE sources). per_second >= 1, burst >= 1. */
void ratelimit_set_overflow(struct ratelimit *r, uint32_t per_second, uint32_t burst);
/* True when src is within its limit now (and takes a token). */
bool ratelimit_allow(struct ratelimit *r, const struct endpoint *src, uint64_t now);

#endif
