// SPDX-License-Identifier: MIT
/* The dialers: a connection kept open to each peer reached at a tcp://
 * endpoint, redialed with backoff. */
#include "tcp.h"
#include "tcp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

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

static void dialer_schedule(struct tcp *t, struct tcp_dialer *dl, int err, bool was_up)
{
	char buf[ENDPOINT_STR_MAX];
	uint64_t delay = backoff(dl->failures++);

	dl->retry_at = t->now + delay;
	tcp_note_deadline(t, dl->retry_at);
	endpoint_format(buf, &dl->target);
	/* Say when it changes; a server that stays away is not news every 15 s. */
	if (was_up || dl->failures == 1)
		log_info("tcp: connection to %s %s: %s; trying again in %llu ms", buf, was_up ? "lost" : "failed",
			 err ? strerror(err) : "closed by the peer", (unsigned long long)(delay / 1000000));
	else
		log_debug("tcp: connection to %s failed: %s; trying again in %llu ms", buf,
			  err ? strerror(err) : "closed by the peer", (unsigned long long)(delay / 1000000));
}

/* An attempt failed before it made a connection. */
static void dialer_failed(struct tcp *t, struct tcp_dialer *dl, int err)
{
	dialer_schedule(t, dl, err, false);
	if (t->ops.dialer_down)
		t->ops.dialer_down(t->ops.ctx, dl->user, 0);
}

static void dialer_attempt(struct tcp *t, struct tcp_dialer *dl, uint64_t now)
{
	struct sockaddr_storage ss;
	struct tcp_conn *c;
	int fd, err;

	dl->retry_at = 0;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &dl->target.addr, endpoint_len(&dl->target));
	fd = socket(dl->target.addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		dialer_failed(t, dl, errno);
		return;
	}
	/* Before connect(): the mark routes the SYN too. */
	tcp_conn_sockopts(fd, t->fwmark);
	if (connect(fd, &dl->target.addr.sa, endpoint_len(&dl->target)) < 0 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		dialer_failed(t, dl, err);
		return;
	}
	c = tcp_conn_new(t, fd, CONN_CONNECTING, &ss);
	if (!c) {
		dialer_failed(t, dl, ENOMEM);
		return;
	}
	c->dialer = dl;
	dl->conn = c->id;
	c->deadline = now + TCP_CONNECT_TIMEOUT_NS;
	tcp_note_deadline(t, c->deadline);
}

void tcp_dial_up(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	if (t->ops.dialer_up)
		t->ops.dialer_up(t->ops.ctx, c->dialer->user, &c->ep, now);
}

void tcp_dial_closed(struct tcp *t, struct tcp_conn *c, enum conn_state was, int err)
{
	struct tcp_dialer *dl = c->dialer;

	if (dl->conn != c->id)
		return;
	dl->conn = 0;
	/* Backoff starts over after a connection that worked: one the peer
	 * authenticated on, or one that stayed up for a while (a dialed
	 * connection's own messages never move the peer's endpoint). A
	 * middlebox that accepts and hangs up at once does not qualify. */
	if (c->carried || (was == CONN_DIALED && t->now - c->up_since >= TCP_STABLE_NS))
		dl->failures = 0;
	if (!dl->stopped)
		dialer_schedule(t, dl, err, was == CONN_DIALED);
	if (t->ops.dialer_down)
		t->ops.dialer_down(t->ops.ctx, dl->user, was == CONN_DIALED ? c->id : 0);
}

void tcp_dial_tick(struct tcp *t, uint64_t now)
{
	for (struct tcp_dialer *dl = t->dialers; dl; dl = dl->next) {
		if (dl->retry_at && now >= dl->retry_at)
			dialer_attempt(t, dl, now);
		else if (dl->retry_at)
			tcp_note_deadline(t, dl->retry_at);
	}
}

void tcp_dial_destroy(struct tcp *t)
{
	while (t->dialers) {
		struct tcp_dialer *dl = t->dialers;
		t->dialers = dl->next;
		free(dl);
	}
}

struct tcp_dialer *tcp_dialer_add(struct tcp *t, const struct endpoint *target, void *user, uint64_t now)
{
	struct tcp_dialer *dl = calloc(1, sizeof(*dl));

	if (!dl)
		return NULL;
	dl->target = *target;
	dl->target.conn = 0;
	dl->user = user;
	dl->retry_at = now;
	tcp_note_deadline(t, now);
	dl->next = t->dialers;
	t->dialers = dl;
	return dl;
}

/* Closes the dialer's connection without telling the owner, who knows. */
static void dialer_detach(struct tcp *t, struct tcp_dialer *dl)
{
	struct tcp_conn *c = tcp_conn_find(t, dl->conn);

	dl->conn = 0;
	if (c) {
		c->dialer = NULL;
		tcp_conn_close(t, c, 0, false);
	}
}

void tcp_dialer_set_target(struct tcp *t, struct tcp_dialer *dl, const struct endpoint *target, uint64_t now)
{
	struct endpoint to = *target;

	to.conn = 0;
	if (endpoint_equal(&dl->target, &to) && !dl->stopped)
		return;
	dialer_detach(t, dl);
	dl->target = to;
	dl->stopped = false;
	dl->failures = 0;
	dl->retry_at = now;
	tcp_note_deadline(t, now);
}

void tcp_dialer_stop(struct tcp *t, struct tcp_dialer *dl)
{
	dl->stopped = true;
	dl->retry_at = 0;
	dialer_detach(t, dl);
}

uint32_t tcp_dialer_conn(const struct tcp *t, const struct tcp_dialer *dl)
{
	const struct tcp_conn *c = tcp_conn_find(t, dl->conn);
	return c && c->state == CONN_DIALED ? c->id : ENDPOINT_TCP_DOWN;
}

const struct endpoint *tcp_dialer_target(const struct tcp_dialer *dl)
{
	return &dl->target;
}
