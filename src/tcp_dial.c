// SPDX-License-Identifier: MIT
/* The peers we dial: a table by public key, and for each a connection kept
 * open to its tcp:// endpoint, redialed with backoff. */
#include "tcp.h"
#include "tcp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"

#define TCP_PEER_BUCKETS_MIN 16

static uint64_t backoff(unsigned failures)
{
	uint64_t max = TCP_RETRY_FIRST_NS;
	uint32_t r = 0;

	for (unsigned i = 0; i < failures && max < TCP_RETRY_MAX_NS; i++)
		max *= 2;
	if (max > TCP_RETRY_MAX_NS)
		max = TCP_RETRY_MAX_NS;
	/* Jitter over the upper half, so peers that lost the same server do
	 * not all come back in the same instant. */
	if (!crypto_random(&r, sizeof(r)))
		r = 0;
	return max / 2 + (uint64_t)r % (max / 2 + 1);
}

static void dialer_schedule(struct tcp *t, struct tcp_peer *tp, int err, bool was_up)
{
	char buf[ENDPOINT_STR_MAX];
	uint64_t delay = backoff(tp->failures++);

	tp->retry_at = t->now + delay;
	tcp_note_deadline(t, tp->retry_at);
	endpoint_format(buf, &tp->target);
	/* Say when it changes; a server that stays away is not news every 15 s. */
	if (was_up || tp->failures == 1)
		log_info("tcp: connection to %s %s: %s; trying again in %llu ms", buf, was_up ? "lost" : "failed",
			 err ? strerror(err) : "closed by the peer", (unsigned long long)(delay / NS_PER_MS));
	else
		log_debug("tcp: connection to %s failed: %s; trying again in %llu ms", buf,
			  err ? strerror(err) : "closed by the peer", (unsigned long long)(delay / NS_PER_MS));
}

/* An attempt failed before it made a connection. */
static void dialer_failed(struct tcp *t, struct tcp_peer *tp, int err)
{
	dialer_schedule(t, tp, err, false);
	if (t->ops.dialer_down)
		t->ops.dialer_down(t->ops.ctx, tp->public_key, 0);
}

static void dialer_attempt(struct tcp *t, struct tcp_peer *tp, uint64_t now)
{
	struct sockaddr_storage ss;
	struct tcp_conn *c;
	int fd, err;

	tp->retry_at = 0;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &tp->target.addr, endpoint_len(&tp->target));
	fd = socket(tp->target.addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		dialer_failed(t, tp, errno);
		return;
	}
	/* Before connect(): the mark routes the SYN too. */
	tcp_conn_sockopts(fd, t->fwmark, true);
	if (connect(fd, &tp->target.addr.sa, endpoint_len(&tp->target)) < 0 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		dialer_failed(t, tp, err);
		return;
	}
	c = tcp_conn_new(t, fd, CONN_CONNECTING, &ss);
	if (!c) {
		dialer_failed(t, tp, ENOMEM);
		return;
	}
	c->dialer = tp;
	tp->conn = c->id;
	c->deadline = now + TCP_CONNECT_TIMEOUT_NS;
	tcp_note_deadline(t, c->deadline);
}

void tcp_dial_up(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	struct tcp_peer *tp = c->dialer;

	if (t->ops.dialer_up && !t->ops.dialer_up(t->ops.ctx, tp->public_key, &c->ep, now))
		tcp_peer_stop(t, tp);
}

void tcp_dial_closed(struct tcp *t, struct tcp_conn *c, enum conn_state was, int err)
{
	struct tcp_peer *tp = c->dialer;

	if (tp->conn != c->id)
		return;
	tp->conn = 0;
	/* Backoff starts over after a connection that worked: one the peer
	 * authenticated on, or one that stayed up for a while (a dialed
	 * connection's own messages never move the peer's endpoint). A
	 * middlebox that accepts and hangs up at once does not qualify. */
	if (c->carried || (was == CONN_DIALED && t->now - c->up_since >= TCP_STABLE_NS))
		tp->failures = 0;
	if (!tp->stopped)
		dialer_schedule(t, tp, err, was == CONN_DIALED);
	if (t->ops.dialer_down)
		t->ops.dialer_down(t->ops.ctx, tp->public_key, was == CONN_DIALED ? c->id : 0);
}

/* A connection that is taking too long to come up, or that fell silent: a
 * handshake initiation went out over it and for TCP_SILENCE_NS nothing at
 * all came back. A live peer answers an initiation at once; one that does
 * not is behind a path that no longer works (our address changed, a NAT
 * forgot us, a middlebox hangs), or is no longer there. Data alone proves
 * nothing: a peer with nothing to say answers it only every
 * KEEPALIVE_TIMEOUT (the kernel's user timeout watches that it arrives). */
static void dial_check(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	char buf[ENDPOINT_STR_MAX];

	if (c->state == CONN_CONNECTING) {
		if (now >= c->deadline)
			tcp_conn_close(t, c, ETIMEDOUT, true);
		else
			tcp_note_deadline(t, c->deadline);
		return;
	}
	if (c->state != CONN_DIALED)
		return;
	if (c->unstamped) {
		c->unstamped = false;
		c->silent_since = now;
	}
	if (!c->silent_since)
		return;
	if (now - c->silent_since < TCP_SILENCE_NS) {
		tcp_note_deadline(t, c->silent_since + TCP_SILENCE_NS);
		return;
	}
	endpoint_format(buf, &c->ep);
	log_info("tcp: no answer from %s for %llu s after a handshake initiation; giving up on the connection", buf,
		 (unsigned long long)(TCP_SILENCE_NS / NS_PER_SEC));
	tcp_conn_close(t, c, ETIMEDOUT, true);
}

void tcp_dial_tick(struct tcp *t, uint64_t now)
{
	for (struct tcp_peer *tp = t->peers; tp; tp = tp->next) {
		struct tcp_conn *c = tcp_conn_find(t, tp->conn);

		if (c)
			dial_check(t, c, now); /* a close schedules the retry */
		if (tp->retry_at && now >= tp->retry_at)
			dialer_attempt(t, tp, now);
		else if (tp->retry_at)
			tcp_note_deadline(t, tp->retry_at);
	}
}

void tcp_dial_destroy(struct tcp *t)
{
	while (t->peers) {
		struct tcp_peer *tp = t->peers;
		t->peers = tp->next;
		free(tp);
	}
	free(t->peer_buckets);
	t->peer_buckets = NULL;
	t->n_peers = t->n_peer_buckets = 0;
}

/* ---- the table ---- */

/* Public keys are uniformly random, and they come from the configuration,
 * never from the network: their first bytes are as good a hash as any, and
 * nobody can aim a key at a bucket. */
static size_t bucket_of(const struct tcp *t, const uint8_t public_key[KEY_LEN])
{
	uint64_t h;

	memcpy(&h, public_key, sizeof(h));
	return (size_t)(h & (t->n_peer_buckets - 1));
}

/* Doubles the buckets. Out of memory, the chains only grow longer (but the
 * first allocation must succeed). */
static void grow_buckets(struct tcp *t)
{
	size_t n = t->n_peer_buckets ? t->n_peer_buckets * 2 : TCP_PEER_BUCKETS_MIN;
	struct tcp_peer **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	free(t->peer_buckets);
	t->peer_buckets = b;
	t->n_peer_buckets = n;
	for (struct tcp_peer *tp = t->peers; tp; tp = tp->next) {
		size_t i = bucket_of(t, tp->public_key);
		tp->hnext = b[i];
		b[i] = tp;
	}
}

struct tcp_peer *tcp_peer_find(const struct tcp *t, const uint8_t public_key[KEY_LEN])
{
	if (!t->n_peer_buckets)
		return NULL;
	for (struct tcp_peer *tp = t->peer_buckets[bucket_of(t, public_key)]; tp; tp = tp->hnext)
		if (!memcmp(tp->public_key, public_key, KEY_LEN))
			return tp;
	return NULL;
}

struct tcp_peer *tcp_peer_add(struct tcp *t, const uint8_t public_key[KEY_LEN], const struct endpoint *target,
			      uint64_t now)
{
	struct tcp_peer *tp = tcp_peer_find(t, public_key);
	size_t i;

	if (tp)
		return tp;
	if (t->n_peers >= t->n_peer_buckets)
		grow_buckets(t);
	if (!t->n_peer_buckets)
		return NULL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	memcpy(tp->public_key, public_key, KEY_LEN);
	tp->target = *target;
	tp->target.conn = 0;
	tp->retry_at = now;
	tcp_note_deadline(t, now);
	tp->next = t->peers;
	t->peers = tp;
	i = bucket_of(t, public_key);
	tp->hnext = t->peer_buckets[i];
	t->peer_buckets[i] = tp;
	t->n_peers++;
	return tp;
}

/* Closes the peer's connection without telling the owner, who knows. */
static void dialer_detach(struct tcp *t, struct tcp_peer *tp)
{
	struct tcp_conn *c = tcp_conn_find(t, tp->conn);

	tp->conn = 0;
	if (c) {
		c->dialer = NULL;
		tcp_conn_close(t, c, 0, false);
	}
}

void tcp_peer_set_target(struct tcp *t, struct tcp_peer *tp, const struct endpoint *target, uint64_t now)
{
	struct endpoint to = *target;

	to.conn = 0;
	if (endpoint_equal(&tp->target, &to) && !tp->stopped)
		return;
	dialer_detach(t, tp);
	tp->target = to;
	tp->stopped = false;
	tp->failures = 0;
	tp->retry_at = now;
	tcp_note_deadline(t, now);
}

void tcp_peer_stop(struct tcp *t, struct tcp_peer *tp)
{
	tp->stopped = true;
	tp->retry_at = 0;
	dialer_detach(t, tp);
}

uint32_t tcp_peer_conn(const struct tcp *t, const struct tcp_peer *tp)
{
	const struct tcp_conn *c = tcp_conn_find(t, tp->conn);
	return c && c->state == CONN_DIALED ? c->id : ENDPOINT_TCP_DOWN;
}

bool tcp_peer_target(const struct tcp_peer *tp, struct endpoint *target)
{
	if (tp->stopped)
		return false;
	*target = tp->target;
	return true;
}
