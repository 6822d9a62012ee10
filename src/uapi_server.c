// SPDX-License-Identifier: MIT
/*
 * Each control connection is a small state machine driven by epoll: bytes
 * in go to the request in progress (an operation line, or a set request's
 * parser, which takes lines as they come), and a request's reply goes to the
 * connection's output buffer, written as the socket takes it. While a reply
 * is waiting nothing more is read from that client: a client that sends
 * requests without reading the replies holds one reply, not many.
 *
 * What one event may cost is bounded by what it reads (READ_BUDGET) and by
 * the requests that came whole; applying a set is the engine's work and
 * happens at once, as it must (the reply says whether it worked).
 */
#include "uapi_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "uapi.h"

/* One read; and what one event may read from one connection before the
 * loop gets back to packets (epoll reports the rest again). */
#define READ_CHUNK 65536
#define READ_BUDGET (4 * READ_CHUNK)
/* Connections accepted per event of the listening socket. */
#define ACCEPT_BATCH 16
/* A reply buffer grown past this is let go once sent: an idle connection
 * keeps little. */
#define OUT_KEEP 65536

struct uapi_conn {
	int fd;
	uint32_t id;
	uint32_t events;        /* as registered with epoll */
	uint64_t last_progress; /* ns: accepted, or a byte read or written */
	struct sbuf in;         /* read, not yet taken by a request */
	struct sbuf out;        /* replies not yet written */
	bool in_set;            /* a set request is being parsed into set */
	size_t set_bytes;       /* of that request, for UAPI_REQUEST_MAX */
	struct uapi_set_parser set;
	bool eof;     /* the client stopped sending */
	bool closing; /* close once out is written */
};

enum step { STEP_DONE, STEP_NEED_INPUT, STEP_CLOSE };

static struct uapi_conn *conn_find(const struct uapi_server *s, uint32_t id)
{
	struct uapi_conn *c = s->conns[id % UAPI_MAX_CONNS];

	return c && c->id == id ? c : NULL;
}

static void conn_close(struct uapi_server *s, struct uapi_conn *c)
{
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	sbuf_free(&c->in);
	sbuf_free(&c->out);
	if (c->in_set)
		uapi_set_parser_free(&c->set);
	s->conns[c->id % UAPI_MAX_CONNS] = NULL;
	s->n_conns--;
	free(c);
}

static int listen_watch(struct uapi_server *s, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = s->tag_listen };

	if (on == s->listening)
		return 0;
	if (epoll_ctl(s->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd, &ev) < 0)
		return -errno;
	s->listening = on;
	return 0;
}

/* Full, or out of descriptors a moment ago: leave new clients in the
 * backlog, where they wait without waking the loop. */
static void listen_update(struct uapi_server *s, uint64_t now)
{
	listen_watch(s, s->n_conns < UAPI_MAX_CONNS && now >= s->accept_resume_at);
}

static int conn_add(struct uapi_server *s, int fd, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct uapi_conn *c;
	unsigned slot;

	for (slot = 0; slot < UAPI_MAX_CONNS && s->conns[slot]; slot++)
		;
	if (slot == UAPI_MAX_CONNS)
		return -EMFILE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	/* The slot in the low bits; the rest tells a new connection in the
	 * slot from an old one whose event is still in the batch. */
	c->id = s->next_id++ * UAPI_MAX_CONNS + slot;
	c->events = EPOLLIN;
	c->last_progress = now;
	sbuf_init(&c->in, 2 * READ_CHUNK);
	sbuf_init(&c->out, UAPI_REPLY_MAX);
	ev.data.u64 = s->tag_conn | (uint64_t)c->id << 32;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;
		free(c);
		return e;
	}
	s->conns[slot] = c;
	s->n_conns++;
	return 0;
}

int uapi_server_init(struct uapi_server *s, const struct uapi_ops *ops, int epoll_fd, int listen_fd,
		     uint32_t tag_listen, uint32_t tag_conn)
{
	memset(s, 0, sizeof(*s));
	s->ops = *ops;
	s->epoll_fd = epoll_fd;
	s->listen_fd = listen_fd;
	s->tag_listen = tag_listen;
	s->tag_conn = tag_conn;
	return listen_watch(s, true);
}

void uapi_server_destroy(struct uapi_server *s)
{
	for (unsigned i = 0; i < UAPI_MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i]);
	listen_watch(s, false);
}

void uapi_server_on_listen(struct uapi_server *s, uint64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH && s->n_conns < UAPI_MAX_CONNS; i++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_warn("control socket: cannot accept a connection: %s; trying again in a second",
					 strerror(errno));
				s->accept_resume_at = now + NS_PER_SEC;
			}
			break;
		}
		if ((r = conn_add(s, fd, now)) < 0) {
			log_warn("control socket: cannot take a connection: %s", strerror(-r));
			close(fd);
		}
	}
	listen_update(s, now);
}

/* ---- one connection ---- */

static void reply_errno(struct uapi_conn *c, int positive_errno)
{
	/* Without room for the reply, hang up rather than answer later
	 * requests out of step. */
	if (sbuf_putf(&c->out, "errno=%d\n\n", -positive_errno) < 0)
		c->closing = true;
}

static void answer_get(struct uapi_server *s, struct uapi_conn *c, bool extended)
{
	int e = s->ops.get(s->ops.ctx, &c->out);

	if (!e && extended && s->ops.get_extended)
		e = s->ops.get_extended(s->ops.ctx, &c->out);
	if (!e)
		e = sbuf_error(&c->out);
	if (e) {
		/* Nothing of a body cut short goes out (out held only this
		 * reply: requests are taken only once it is empty). */
		sbuf_reset(&c->out);
		reply_errno(c, -e);
		return;
	}
	/* The protocol is lines: a body that forgot its last newline would
	 * glue itself to the errno line. */
	if (sbuf_len(&c->out) && sbuf_ptr(&c->out)[sbuf_len(&c->out) - 1] != '\n')
		sbuf_put(&c->out, "\n", 1);
	reply_errno(c, 0);
}

static void answer_set(struct uapi_server *s, struct uapi_conn *c)
{
	struct interface_config cfg;
	bool whole = c->set.extended;
	int e = uapi_set_parser_finish(&c->set, &cfg);

	c->in_set = false;
	if (e == 0)
		e = whole ? s->ops.sync(s->ops.ctx, &cfg) : s->ops.set(s->ops.ctx, &cfg);
	config_free(&cfg);
	reply_errno(c, e < 0 ? -e : e);
}

/* Takes what the buffered bytes allow of the request in progress. */
static enum step take_request(struct uapi_server *s, struct uapi_conn *c)
{
	static const char *const ops[] = { "get=1\n", "get=2\n", "set=1\n", "set=2\n" };
	const char *d = sbuf_ptr(&c->in);
	size_t n = sbuf_len(&c->in);

	if (c->in_set) {
		size_t taken;
		if (!n)
			return STEP_NEED_INPUT;
		taken = uapi_set_parser_feed(&c->set, d, n);
		sbuf_consume(&c->in, taken);
		c->set_bytes += taken;
		if (c->set_bytes > UAPI_REQUEST_MAX) {
			log_warn("control socket: a set request longer than %zu MiB; connection closed",
				 UAPI_REQUEST_MAX >> 20);
			return STEP_CLOSE;
		}
		if (!c->set.done)
			return STEP_NEED_INPUT;
		answer_set(s, c);
		return STEP_DONE;
	}
	if (n < 6) {
		/* Wait for more only while this can still become an operation. */
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (!memcmp(d, ops[i], n))
				return STEP_NEED_INPUT;
		return STEP_CLOSE;
	}
	if (!memcmp(d, "get=1\n", 6) || !memcmp(d, "get=2\n", 6)) {
		bool extended = d[4] == '2';
		if (n < 7)
			return STEP_NEED_INPUT;
		/* A get has no keys: anything but the empty line is answered
		 * EINVAL, and the connection closed. */
		if (d[6] != '\n') {
			reply_errno(c, EINVAL);
			c->closing = true;
			return STEP_DONE;
		}
		sbuf_consume(&c->in, 7);
		answer_get(s, c, extended);
		return STEP_DONE;
	}
	if (!memcmp(d, "set=1\n", 6) || (!memcmp(d, "set=2\n", 6) && s->ops.sync)) {
		bool whole = d[4] == '2';
		sbuf_consume(&c->in, 6);
		uapi_set_parser_init_ext(&c->set, whole);
		c->in_set = true;
		c->set_bytes = 0;
		return STEP_DONE;
	}
	return STEP_CLOSE; /* an unknown operation: hang up, as wireguard-go does */
}

/* The client stopped sending. wireguard-go takes the end of the stream for
 * the empty line of a set, and scripts rely on it (printf
 * 'set=1\nlisten_port=1\n' | nc -U); so does sluice, when the request ends
 * with a whole line. A line cut off may be a truncated value: refused.
 * Anything else unfinished gets no reply. */
static void end_of_stream(struct uapi_server *s, struct uapi_conn *c)
{
	if (c->in_set) {
		if (c->set.pending) {
			uapi_set_parser_free(&c->set);
			c->in_set = false;
			reply_errno(c, EPROTO);
		} else {
			answer_set(s, c);
		}
	}
	c->closing = true;
}

/* Reads once. >0 bytes, 0 at the end of the stream, or -errno (-EAGAIN:
 * nothing there now). */
static ssize_t read_some(struct uapi_conn *c, size_t *budget, uint64_t now)
{
	size_t want = *budget < READ_CHUNK ? *budget : READ_CHUNK;
	char *dst;
	ssize_t n;
	int r = sbuf_reserve(&c->in, want, &dst);

	if (r < 0)
		return r;
	do
		n = recv(c->fd, dst, want, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	sbuf_commit(&c->in, (size_t)n);
	*budget -= (size_t)n;
	c->last_progress = now;
	return n;
}

/* Writes what the socket takes. 0 or -errno. */
static int flush(struct uapi_conn *c, uint64_t now)
{
	while (sbuf_len(&c->out)) {
		ssize_t n = send(c->fd, sbuf_ptr(&c->out), sbuf_len(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		sbuf_consume(&c->out, (size_t)n); /* wipes what went: keys in hex */
		c->last_progress = now;
	}
	if (c->out.cap > OUT_KEEP)
		sbuf_free(&c->out);
	return 0;
}

/* Runs the connection as far as it goes now. False when it was closed. */
static bool serve(struct uapi_server *s, struct uapi_conn *c, uint64_t now)
{
	size_t budget = READ_BUDGET;
	uint32_t want;

	for (;;) {
		if (sbuf_len(&c->out)) {
			if (flush(c, now) < 0)
				goto close;
			if (sbuf_len(&c->out))
				break; /* the socket is full: on EPOLLOUT */
		}
		if (c->closing)
			goto close;
		switch (take_request(s, c)) {
		case STEP_DONE:
			continue;
		case STEP_CLOSE:
			goto close;
		case STEP_NEED_INPUT:
			break;
		}
		if (c->eof) {
			end_of_stream(s, c);
			continue;
		}
		if (!budget)
			break; /* more on the next round: epoll reports it again */
		ssize_t n = read_some(c, &budget, now);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			goto close;
	}
	want = sbuf_len(&c->out) ? EPOLLOUT : EPOLLIN;
	if (want != c->events) {
		struct epoll_event ev = { .events = want, .data.u64 = s->tag_conn | (uint64_t)c->id << 32 };
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			goto close;
		c->events = want;
	}
	return true;
close:
	conn_close(s, c);
	return false;
}

void uapi_server_on_conn(struct uapi_server *s, uint32_t id, uint32_t events, uint64_t now)
{
	struct uapi_conn *c = conn_find(s, id);

	if (!c)
		return; /* closed earlier in this round */
	if (events & EPOLLERR)
		conn_close(s, c);
	else
		serve(s, c, now);
	listen_update(s, now);
}

void uapi_server_tick(struct uapi_server *s, uint64_t now)
{
	for (unsigned i = 0; i < UAPI_MAX_CONNS; i++) {
		struct uapi_conn *c = s->conns[i];
		if (c && now - c->last_progress >= UAPI_IDLE_TIMEOUT_NS) {
			log_debug("control socket: a connection idle for %llu s closed",
				  (unsigned long long)(UAPI_IDLE_TIMEOUT_NS / NS_PER_SEC));
			conn_close(s, c);
		}
	}
	listen_update(s, now);
}
