/* SPDX-License-Identifier: MIT */
/*
 * Inside the TCP transport: what tcp.c (connections, the listener) and
 * tcp_dial.c (the peers we dial) share. Not for the transport's users: they
 * have tcp.h.
 */
#ifndef SLUICE_TCP_INTERNAL_H
#define SLUICE_TCP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "tcp.h"
#include "tcp_frame.h"

enum conn_state {
	CONN_CONNECTING, /* dialed, connect() in progress */
	CONN_DIALED,     /* dialed and up */
	CONN_UNAUTH,     /* accepted, nothing authenticated from it yet */
	CONN_BOUND,      /* accepted, a peer's endpoint */
	CONN_DEAD,       /* closed; freed by the next tcp_tick */
};

struct tcp_conn {
	struct tcp_conn *next;  /* t->conns */
	struct tcp_conn *hnext; /* t->buckets[id % TCP_BUCKETS] */
	uint32_t id;
	int fd;
	enum conn_state state;
	bool want_out;      /* EPOLLOUT is armed: tx is pending */
	bool queued;        /* to be flushed at the end of tcp_send */
	bool marked;        /* in use by a peer (sweep) */
	bool carried;       /* it worked: authenticated traffic, or up a while */
	bool keep;          /* accepted from a peer we also dial: never swept */
	uint64_t deadline;  /* connect or authentication deadline, 0 = none */
	struct endpoint ep; /* remote address, conn = id */
	struct tcp_rx rx;   /* small while waiting; none while connecting */
	struct tcp_tx tx;   /* none until authenticated or up */

	/* Accepted. */
	uint64_t accepted_at;
	struct tcp_conn *wnext, *wprev; /* t->wait_head: while CONN_UNAUTH */
	unsigned src_waiting;           /* waiting ones from its source, itself too */
	bool owned;                     /* owner: the peer that first authenticated on it */
	uint8_t owner[KEY_LEN];

	/* Dialed. */
	struct tcp_peer *dialer; /* the peer it was dialed for; NULL: accepted */
	uint64_t up_since;       /* when it came up */
	/* An initiation went out and nothing came back since: when (0: none;
	 * `unstamped`: one went out, tcp_tick takes the time). */
	uint64_t silent_since;
	bool unstamped;
};

/* A peer we dial, and the state of its dialer. */
struct tcp_peer {
	struct tcp_peer *next;  /* t->peers */
	struct tcp_peer *hnext; /* t->peer_buckets[] */
	uint8_t public_key[KEY_LEN];
	struct endpoint target; /* conn = 0 */
	uint32_t conn;          /* connecting or up, 0 = none */
	uint64_t retry_at;      /* next attempt, 0 = none scheduled */
	unsigned failures;      /* since the last connection that worked */
	bool stopped;
};

/* ---- tcp.c ---- */

/* Lowers t->next_deadline to when, if that is earlier. */
void tcp_note_deadline(struct tcp *t, uint64_t when);
/* The open connection id, or NULL. */
struct tcp_conn *tcp_conn_find(const struct tcp *t, uint32_t id);
/* Takes fd (closed on failure) and watches it. remote: the peer's address.
 * NULL (after logging why) when out of memory or descriptors. */
struct tcp_conn *tcp_conn_new(struct tcp *t, int fd, enum conn_state state, const struct sockaddr_storage *remote);
/* Closes c (err: why, 0 for an orderly close, for the log). The memory
 * stays until tcp_tick, so callers up the stack may still look at c. A
 * dialed connection's dialer hears of it through tcp_dial_closed. */
void tcp_conn_close(struct tcp *t, struct tcp_conn *c, int err, bool reset);
/* Options of every connection, set before connect() for a dialed one. */
void tcp_conn_sockopts(int fd, uint32_t fwmark, bool dialed);
/* The full-size buffers of a connection that authenticated or came up.
 * 0 or -ENOMEM (it keeps what it had). */
int tcp_conn_grow(struct tcp *t, struct tcp_conn *c);

/* Counts n drops with the owner (ops.drop). */
void tcp_count_drop(struct tcp *t, enum drop_cause cause, uint64_t n);
/* Whether a message about a misbehaving peer may be logged (rate limit). */
bool tcp_may_log(struct tcp *t);
/* Reads what c has: frames to the owner, or the close it ends in. */
void tcp_conn_read(struct tcp *t, struct tcp_conn *c, uint64_t now);

/* ---- tcp_listen.c ---- */

/* An accepted connection starts (and stops) waiting for its first
 * authenticated message. */
void tcp_wait_add(struct tcp *t, struct tcp_conn *c);
void tcp_wait_remove(struct tcp *t, struct tcp_conn *c);
/* Watches the listening socket again (after a pause for descriptors). */
int tcp_listener_watch(struct tcp *t);

/* ---- tcp_dial.c ---- */

/* The connection c dialed for c->dialer is up. */
void tcp_dial_up(struct tcp *t, struct tcp_conn *c, uint64_t now);
/* The connection c dialed for c->dialer (in state `was` before) was closed. */
void tcp_dial_closed(struct tcp *t, struct tcp_conn *c, enum conn_state was, int err);
/* Attempts that are due, connections that did not come up in time or fell
 * silent (TCP_SILENCE_NS); notes the deadlines of the others. */
void tcp_dial_tick(struct tcp *t, uint64_t now);
/* Forgets every peer. */
void tcp_dial_destroy(struct tcp *t);

#endif
