/* SPDX-License-Identifier: MIT */
/*
 * The sliding replay window of a receiving keypair (RFC 6479 style bitmap of
 * COUNTER_BITS_TOTAL bits; COUNTER_WINDOW_SIZE counters behind the greatest
 * one are remembered). Pure, no allocation.
 */
#ifndef SLUICE_REPLAY_H
#define SLUICE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

struct replay_window {
	uint64_t greatest; /* the greatest counter accepted so far */
	bool any;          /* whether any counter was accepted */
	uint64_t bitmap[COUNTER_BITS_TOTAL / 64];
};

void replay_init(struct replay_window *w);
/* Cheap check before decryption: would this counter be accepted? Does not
 * change the window. False for duplicates, for counters older than the
 * window and for counters >= REJECT_AFTER_MESSAGES. */
bool replay_check(const struct replay_window *w, uint64_t counter);
/* After the packet authenticated: accept the counter and slide the window.
 * Returns false (and changes nothing) when replay_check would. */
bool replay_update(struct replay_window *w, uint64_t counter);

#endif
