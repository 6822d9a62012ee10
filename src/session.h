/* SPDX-License-Identifier: MIT */
/*
 * A peer's sessions: its handshake in progress and its three keypair slots
 * (previous, current, next), and how they rotate (whitepaper 5.4.5 and 6;
 * the Linux module's noise.c; OpenBSD's wg_noise.c, whose callers act on
 * the outcome codes of its noise_remote_* calls). The packet paths in
 * core.c ask this layer which keypair sends and tell it which one received;
 * it answers with what to do next. No I/O and no clock: `now` is an
 * argument. Installing a session allocates nothing (session_peer_init made
 * the AEAD contexts).
 */
#ifndef SLUICE_SESSION_H
#define SLUICE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

/* What the caller is to do. Each call names the outcomes it returns. */
enum session_outcome {
	SESSION_OK = 0,              /* nothing more to do */
	SESSION_FAILED,              /* begin: no keypair was made; the handshake is gone */
	SESSION_SENDS_NOW,           /* begin, initiator: the new keypair is current */
	SESSION_AWAITS_CONFIRMATION, /* begin, responder: it is `next` until the initiator's first packet */
	SESSION_CONFIRMED,           /* received: `next` became current; send what waited for it */
	SESSION_REKEY,               /* sent or received: the session is worn or old; initiate now */
	SESSION_NONE,                /* sending: no keypair can send; initiate */
	SESSION_REJECTED,            /* receiving: keypair void, expired or of the other suite */
};

/* The AEAD contexts of the three slots (when the peer is made). 0 or -ENOMEM. */
int session_peer_init(struct peer *p);
/* Releases every keypair and the handshake, then frees the contexts. */
void session_peer_free(struct peer *p);

/* Forgets the handshake in progress and its index. */
void session_handshake_release(struct peer *p);
/* Forgets every keypair and the handshake: keys zeroed after
 * 3 x REJECT_AFTER_TIME, a new private key, another cipher suite. */
void session_clear(struct peer *p);

/* Turns the finished handshake (responder: response created; initiator:
 * response consumed) into a keypair, rotating the slots. SESSION_SENDS_NOW,
 * SESSION_AWAITS_CONFIRMATION or SESSION_FAILED. */
enum session_outcome session_begin(struct peer *p, uint64_t now) __attribute__((warn_unused_result));

/* Which keypair sends: SESSION_OK with *kp set (current, valid, young
 * enough, counter left), or SESSION_NONE. */
enum session_outcome session_sending(struct peer *p, uint64_t now, struct keypair **kp)
	__attribute__((warn_unused_result));
/* Whether kp may still seal a packet (checked again per packet: the
 * counter may run out within a batch). */
bool session_can_send(const struct keypair *kp, uint64_t now);
/* After sending on kp: SESSION_REKEY when it is worn (either side) or old
 * (its initiator), else SESSION_OK. */
enum session_outcome session_sent(const struct keypair *kp, uint64_t now);

/* Before opening a data message on kp: SESSION_OK or SESSION_REJECTED. */
enum session_outcome session_receivable(const struct keypair *kp, enum cipher_suite suite, uint64_t now);
/* After a data message on kp was authenticated: SESSION_CONFIRMED when it
 * was `next` (now current), SESSION_REKEY once when the current session is
 * ours and close to REJECT_AFTER_TIME, else SESSION_OK. */
enum session_outcome session_received(struct peer *p, struct keypair *kp, uint64_t now);

#endif
