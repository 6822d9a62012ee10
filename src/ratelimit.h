/* SPDX-License-Identifier: MIT */
/*
 * Per-source rate limit for handshake messages under load (whitepaper
 * 5.3): a token bucket per source address (IPv6 by /64), in a fixed table
 * made at start-up. A cookie only proves that a sender owns its address;
 * this keeps one address from costing us more than a few DH a second.
 */
#ifndef SLUICE_RATELIMIT_H
#define SLUICE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

#define RATELIMIT_PER_SECOND 20
#define RATELIMIT_BURST 5
#define RATELIMIT_SLOTS 4096 /* power of two */

struct ratelimit_slot {
	uint64_t key_hi, key_lo; /* the address (v4 mapped), 0/0 = free */
	uint64_t last;           /* ns of the last refill */
	uint64_t tokens;         /* in ns of credit: one packet costs NS_PER_PACKET */
};

struct ratelimit {
	struct ratelimit_slot *slots;
	uint8_t secret[16];      /* keys the slot hash so a sender cannot aim at a slot */
};

int ratelimit_init(struct ratelimit *r);
void ratelimit_free(struct ratelimit *r);
/* True when a handshake message from src may be processed now. */
bool ratelimit_allow(struct ratelimit *r, const struct endpoint *src, uint64_t now);

#endif
