// SPDX-License-Identifier: MIT
#include "timers.h"

/* Sent data but heard nothing back: new handshake after KEEPALIVE_TIMEOUT +
 * REKEY_TIMEOUT, unless already counting. */
void timers_data_sent(struct peer *p, uint64_t now, uint64_t jitter_ns)
{
	if (!p->timer_new_handshake)
		p->timer_new_handshake = now + (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) * NS_PER_SEC + jitter_ns;
}

/* Received data: answer with a keepalive if we have nothing to say within
 * KEEPALIVE_TIMEOUT. */
void timers_data_received(struct peer *p, uint64_t now)
{
	if (!p->timer_send_keepalive)
		p->timer_send_keepalive = now + KEEPALIVE_TIMEOUT * NS_PER_SEC;
	else
		p->need_another_keepalive = true;
}

/* Anything we send serves as a keepalive. */
void timers_any_authenticated_packet_sent(struct peer *p)
{
	p->timer_send_keepalive = 0;
}

/* Anything we receive proves the session works. */
void timers_any_authenticated_packet_received(struct peer *p)
{
	p->timer_new_handshake = 0;
}

void timers_any_authenticated_packet_traversal(struct peer *p, uint64_t now)
{
	if (p->persistent_keepalive)
		p->timer_persistent_keepalive = now + p->persistent_keepalive * NS_PER_SEC;
}

void timers_handshake_initiated(struct peer *p, uint64_t now, uint64_t jitter_ns)
{
	p->timer_retransmit_handshake = now + REKEY_TIMEOUT * NS_PER_SEC + jitter_ns;
}

void timers_handshake_complete(struct peer *p)
{
	p->timer_retransmit_handshake = 0;
	p->handshake_attempts = 0;
	p->handshake_unanswered_since = 0;
	p->sent_lastminute_handshake = false;
}

/* Keys are wiped 3 * REJECT_AFTER_TIME after the last session was made. */
void timers_session_derived(struct peer *p, uint64_t now)
{
	p->timer_zero_key_material = now + 3ULL * REJECT_AFTER_TIME * NS_PER_SEC;
}

void timers_stop_all(struct peer *p)
{
	p->timer_retransmit_handshake = 0;
	p->timer_send_keepalive = 0;
	p->timer_new_handshake = 0;
	p->timer_zero_key_material = 0;
	p->timer_persistent_keepalive = 0;
	p->need_another_keepalive = false;
}

static unsigned take(uint64_t *deadline, uint64_t now, unsigned action)
{
	if (*deadline && *deadline <= now) {
		*deadline = 0;
		return action;
	}
	return 0;
}

unsigned timers_expired(struct peer *p, uint64_t now)
{
	return take(&p->timer_retransmit_handshake, now, TIMER_RETRANSMIT_HANDSHAKE) |
	       take(&p->timer_send_keepalive, now, TIMER_SEND_KEEPALIVE) |
	       take(&p->timer_new_handshake, now, TIMER_NEW_HANDSHAKE) |
	       take(&p->timer_zero_key_material, now, TIMER_ZERO_KEY_MATERIAL) |
	       take(&p->timer_persistent_keepalive, now, TIMER_PERSISTENT_KEEPALIVE);
}

static uint64_t earlier(uint64_t best, uint64_t t)
{
	return (t && t < best) ? t : best;
}

uint64_t timers_next_deadline(const struct peer *p)
{
	uint64_t t = UINT64_MAX;
	t = earlier(t, p->timer_retransmit_handshake);
	t = earlier(t, p->timer_send_keepalive);
	t = earlier(t, p->timer_new_handshake);
	t = earlier(t, p->timer_zero_key_material);
	t = earlier(t, p->timer_persistent_keepalive);
	return t;
}
