// SPDX-License-Identifier: MIT
/*
 * What the engine does when a peer's timers fire (whitepaper section 6;
 * timers.c keeps the deadlines): retry or give up a handshake, keepalives,
 * a new handshake when the other side went quiet, keys zeroed. Each peer
 * has one entry in the engine's heap, at its earliest deadline.
 */
#include <stddef.h>

#include "core_internal.h"
#include "session.h"
#include "timers.h"

static struct peer *peer_of_timer(struct timerq_entry *e)
{
	return (struct peer *)((char *)e - offsetof(struct peer, timer));
}

/* Keeps the peer's heap entry no later than its earliest deadline. Deadlines
 * that move later are left alone: the entry fires early, finds nothing due
 * and is put back at the right time (cheaper than a heap move per packet). */
void core_schedule(struct core *c, struct peer *p)
{
	uint64_t t = timers_next_deadline(p);
	if (t == UINT64_MAX)
		return;
	if (!timerq_entry_queued(&p->timer) || t < p->timer.deadline)
		timerq_set(&c->timers, &p->timer, t);
}

static void peer_timers_fire(struct core *c, struct peer *p, uint64_t now)
{
	unsigned due = timers_expired(p, now);

	if (due & TIMER_RETRANSMIT_HANDSHAKE) {
		if (p->handshake_attempts > MAX_TIMER_HANDSHAKES) {
			/* Give up: drop what waited and forget the handshake soon. */
			core_log(c, CORE_LOG_HANDSHAKE_GIVE_UP,
				 "Handshake for %s did not complete after %d attempts, giving up", PEER(p),
				 MAX_TIMER_HANDSHAKES + 2);
			struct pkt *k;
			while ((k = core_unstage(c, p)))
				core_drop(c, k, DROP_NO_KEYPAIR);
			p->timer_send_keepalive = 0;
			if (!p->timer_zero_key_material)
				p->timer_zero_key_material = now + 3ULL * REJECT_AFTER_TIME * NS_PER_SEC;
		} else {
			p->handshake_attempts++;
			core_log(c, CORE_LOG_HANDSHAKE_RETRY,
				 "Handshake for %s did not complete after %d seconds, retrying (try %u)", PEER(p),
				 REKEY_TIMEOUT, p->handshake_attempts + 1);
			p->last_sent_handshake = 0; /* a retry is not rate limited again */
			core_send_initiation(c, p, now, true);
		}
	}
	if (due & TIMER_SEND_KEEPALIVE) {
		core_send_keepalive(c, p, now);
		if (p->need_another_keepalive) {
			p->need_another_keepalive = false;
			p->timer_send_keepalive = now + KEEPALIVE_TIMEOUT * NS_PER_SEC;
		}
	}
	if (due & TIMER_NEW_HANDSHAKE) {
		core_log(c, CORE_LOG_STOPPED_HEARING,
			 "Retrying handshake with %s because we stopped hearing back after %d seconds", PEER(p),
			 KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
		core_send_initiation(c, p, now, false);
	}
	if (due & TIMER_ZERO_KEY_MATERIAL) {
		core_log(c, CORE_LOG_KEYS_ZEROED,
			 "Zeroing out all keys for %s, since we haven't received a new one in %d seconds", PEER(p),
			 REJECT_AFTER_TIME * 3);
		session_clear(p);
	}
	if ((due & TIMER_PERSISTENT_KEEPALIVE) && p->persistent_keepalive)
		core_send_keepalive(c, p, now);
}

void core_tick(struct core *c, uint64_t now)
{
	struct timerq_entry *e;

	core_clock(c, now);
	while ((e = timerq_peek(&c->timers)) && e->deadline <= now) {
		struct peer *p = peer_of_timer(e);
		timerq_remove(&c->timers, e);
		peer_timers_fire(c, p, now);
		core_schedule(c, p);
	}
	core_flush_net(c);
	core_process_handshakes(c, now, CORE_HANDSHAKE_BUDGET);
}

uint64_t core_next_deadline(const struct core *c)
{
	struct timerq_entry *e = timerq_peek(&c->timers);

	if (c->hs_len)
		return 0;
	return e ? e->deadline : UINT64_MAX;
}
