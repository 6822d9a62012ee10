// SPDX-License-Identifier: MIT
#include "session.h"

#include <errno.h>
#include <inttypes.h>

#include "core.h"
#include "crypto.h"
#include "timers.h"

int session_peer_init(struct peer *p)
{
	for (int i = 0; i < 3; i++) {
		if (!crypto_aead_ctx_init(&p->keypairs[i].send) || !crypto_aead_ctx_init(&p->keypairs[i].recv)) {
			for (int j = 0; j <= i; j++) {
				crypto_aead_ctx_free(&p->keypairs[j].send);
				crypto_aead_ctx_free(&p->keypairs[j].recv);
			}
			return -ENOMEM;
		}
	}
	return 0;
}

static void keypair_release(struct peer *p, struct keypair *kp)
{
	struct core *c = p->core;

	if (!kp || !kp->valid)
		return;
	index_table_remove(&c->index, kp->local_index);
	crypto_aead_ctx_clear(&kp->send);
	crypto_aead_ctx_clear(&kp->recv);
	kp->valid = false;
	kp->send_counter = 0;
	core_log(c, CORE_LOG_KEYPAIR_DESTROYED, "Keypair %" PRIu64 " destroyed for peer %" PRIu64, kp->id, p->id);
}

void session_handshake_release(struct peer *p)
{
	/* A zeroed handshake handed its index over to a keypair (or never had one). */
	if (p->handshake.state != HANDSHAKE_ZEROED && p->handshake.local_index)
		index_table_remove(&p->core->index, p->handshake.local_index);
	handshake_wipe(&p->handshake);
}

void session_clear(struct peer *p)
{
	for (int i = 0; i < 3; i++)
		keypair_release(p, &p->keypairs[i]);
	p->previous = p->current = p->next_keypair = NULL;
	session_handshake_release(p);
}

void session_peer_free(struct peer *p)
{
	session_clear(p);
	for (int i = 0; i < 3; i++) {
		crypto_aead_ctx_free(&p->keypairs[i].send);
		crypto_aead_ctx_free(&p->keypairs[i].recv);
	}
}

static struct keypair *free_slot(struct peer *p)
{
	for (int i = 0; i < 3; i++) {
		struct keypair *kp = &p->keypairs[i];
		if (kp != p->previous && kp != p->current && kp != p->next_keypair)
			return kp;
	}
	return NULL;
}

/* The initiator uses a new session at once: the old current becomes
 * previous (or, if a responder's `next` was never confirmed, that one does,
 * since the other side may still be sending on it). The responder keeps
 * the new one as `next` until the initiator's first packet confirms it. */
static void rotate_for(struct peer *p, bool initiator)
{
	if (initiator) {
		if (p->next_keypair) {
			keypair_release(p, p->previous);
			p->previous = p->next_keypair;
			p->next_keypair = NULL;
			keypair_release(p, p->current);
		} else {
			keypair_release(p, p->previous);
			p->previous = p->current;
		}
		p->current = NULL;
	} else {
		keypair_release(p, p->next_keypair);
		p->next_keypair = NULL;
		keypair_release(p, p->previous);
		p->previous = NULL;
	}
}

enum session_outcome session_begin(struct peer *p, uint64_t now)
{
	struct core *c = p->core;
	uint8_t send_key[KEY_LEN], recv_key[KEY_LEN];
	uint32_t local_index = p->handshake.local_index, remote_index = p->handshake.remote_index;
	enum cipher_suite suite = p->handshake.suite;
	enum session_outcome ret = SESSION_FAILED;
	bool initiator = false;

	if (!handshake_derive_keys(&p->handshake, send_key, recv_key, &initiator))
		goto out;
	rotate_for(p, initiator);
	struct keypair *kp = free_slot(p);
	if (!kp || !crypto_aead_ctx_setkey(&kp->send, suite, send_key) ||
	    !crypto_aead_ctx_setkey(&kp->recv, suite, recv_key)) {
		if (kp) {
			crypto_aead_ctx_clear(&kp->send);
			crypto_aead_ctx_clear(&kp->recv);
		}
		index_table_remove(&c->index, local_index);
		goto out;
	}
	replay_init(&kp->replay);
	kp->send_counter = 0;
	kp->birth = now;
	kp->id = ++c->keypair_ids;
	kp->local_index = local_index;
	kp->remote_index = remote_index;
	kp->we_initiated = initiator;
	kp->valid = true;
	/* The handshake's index now names the session. */
	struct index_slot *slot = (struct index_slot *)index_table_lookup(&c->index, local_index);
	if (slot) {
		slot->kind = INDEX_KEYPAIR;
		slot->keypair = kp;
	}
	if (initiator)
		p->current = kp;
	else
		p->next_keypair = kp;
	timers_session_derived(p, now);
	core_log(c, CORE_LOG_KEYPAIR_CREATED, "Keypair %" PRIu64 " created for peer %" PRIu64, kp->id, p->id);
	ret = initiator ? SESSION_SENDS_NOW : SESSION_AWAITS_CONFIRMATION;
out:
	crypto_wipe(send_key, sizeof(send_key));
	crypto_wipe(recv_key, sizeof(recv_key));
	return ret;
}

bool session_can_send(const struct keypair *kp, uint64_t now)
{
	return kp && kp->valid && !timers_passed(kp->birth, now, REJECT_AFTER_TIME) &&
	       kp->send_counter < REJECT_AFTER_MESSAGES;
}

enum session_outcome session_sending(struct peer *p, uint64_t now, struct keypair **kp)
{
	*kp = session_can_send(p->current, now) ? p->current : NULL;
	return *kp ? SESSION_OK : SESSION_NONE;
}

enum session_outcome session_sent(const struct keypair *kp, uint64_t now)
{
	if (kp->send_counter > REKEY_AFTER_MESSAGES ||
	    (kp->we_initiated && timers_passed(kp->birth, now, REKEY_AFTER_TIME)))
		return SESSION_REKEY;
	return SESSION_OK;
}

enum session_outcome session_receivable(const struct keypair *kp, enum cipher_suite suite, uint64_t now)
{
	if (!kp->valid || timers_passed(kp->birth, now, REJECT_AFTER_TIME) || kp->recv.suite != suite)
		return SESSION_REJECTED;
	return SESSION_OK;
}

enum session_outcome session_received(struct peer *p, struct keypair *kp, uint64_t now)
{
	/* The responder's `next` keypair is confirmed by the first packet on it. */
	if (kp == p->next_keypair) {
		keypair_release(p, p->previous);
		p->previous = p->current;
		p->current = kp;
		p->next_keypair = NULL;
		return SESSION_CONFIRMED;
	}
	/* The current session is ours and old: rekey before it is rejected. */
	struct keypair *cur = p->current;
	if (cur && cur->valid && cur->we_initiated && !p->sent_lastminute_handshake &&
	    timers_passed(cur->birth, now, REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT)) {
		p->sent_lastminute_handshake = true;
		return SESSION_REKEY;
	}
	return SESSION_OK;
}
