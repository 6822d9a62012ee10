/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's per-peer timers (whitepaper section 6) as plain deadlines on
 * the peer, moved by protocol events. The clock is an argument; the core
 * asks timers_expired() what is due and acts on it.
 */
#ifndef SLUICE_TIMERS_H
#define SLUICE_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "peer.h"

/* Whether `seconds` have passed from `since` to `now` (ns). */
static inline bool timers_passed(uint64_t since, uint64_t now, uint64_t seconds)
{
	return now - since >= seconds * NS_PER_SEC;
}

enum timer_action {
	TIMER_RETRANSMIT_HANDSHAKE = 1 << 0,
	TIMER_SEND_KEEPALIVE = 1 << 1,
	TIMER_NEW_HANDSHAKE = 1 << 2,
	TIMER_ZERO_KEY_MATERIAL = 1 << 3,
	TIMER_PERSISTENT_KEEPALIVE = 1 << 4,
};

/* Events. jitter_ns is a random value in [0, REKEY_TIMEOUT_JITTER_MAX_MS ms). */
void timers_data_sent(struct peer *p, uint64_t now, uint64_t jitter_ns);
void timers_data_received(struct peer *p, uint64_t now);
void timers_any_authenticated_packet_sent(struct peer *p);
void timers_any_authenticated_packet_received(struct peer *p);
void timers_any_authenticated_packet_traversal(struct peer *p, uint64_t now);
void timers_handshake_initiated(struct peer *p, uint64_t now, uint64_t jitter_ns);
void timers_handshake_complete(struct peer *p);
void timers_session_derived(struct peer *p, uint64_t now);
void timers_stop_all(struct peer *p);

/* Clears every timer that is due at `now` and returns their actions. */
unsigned timers_expired(struct peer *p, uint64_t now);
/* The earliest armed deadline, or UINT64_MAX. */
uint64_t timers_next_deadline(const struct peer *p);

#endif
