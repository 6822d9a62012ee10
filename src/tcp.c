// SPDX-License-Identifier: MIT
#include "tcp.h"
#include "tcp_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "drop.h"
#include "log.h"

/* Work per event, so one busy connection cannot hold the loop. */
#define TCP_READS_PER_EVENT 8
#define TCP_RECV_BATCH 64
/* A client that stops acknowledging (or answering keepalive probes) is
 * gone: its accepted connection is freed. (Dialed ones: tcp_conn_sockopts.) */
#define TCP_USER_TIMEOUT_MS 30000
#define TCP_KEEPALIVE_IDLE_S 15
#define TCP_KEEPALIVE_INTERVAL_S 5
#define TCP_KEEPALIVE_COUNT 3
/* Messages about misbehaving connections: at most this many a minute. */
#define TCP_ABUSE_LOGS_PER_MINUTE 20

/* ---- connections ---- */

int tcp_tx_flush(struct tcp_tx *tx, int fd)
{
	struct iovec iov[2];
	int n_iov;

	while ((n_iov = tcp_tx_peek(tx, iov)) > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n_iov };
		ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				return 1;
			return -errno;
		}
		tcp_tx_consume(tx, (size_t)n);
		/* A short write means the socket buffer is full. */
		if (tcp_tx_pending(tx))
			return 1;
	}
	return 0;
}

void tcp_note_deadline(struct tcp *t, uint64_t when)
{
	if (when < t->next_deadline)
		t->next_deadline = when;
}

void tcp_count_drop(struct tcp *t, enum drop_cause cause, uint64_t n)
{
	if (n && t->ops.drop)
		t->ops.drop(t->ops.ctx, cause, n);
}

/* Rate limit for messages a remote party can cause. */
bool tcp_may_log(struct tcp *t)
{
	if (!t->log_window || t->now - t->log_window >= 60 * NS_PER_SEC) {
		t->log_window = t->now ? t->now : 1;
		t->log_count = 0;
	}
	if (t->log_count == TCP_ABUSE_LOGS_PER_MINUTE)
		log_info(
			"tcp: more misbehaving connections; not logging them for up to a minute (see the drop counters)");
	return t->log_count++ < TCP_ABUSE_LOGS_PER_MINUTE;
}

struct tcp_conn *tcp_conn_find(const struct tcp *t, uint32_t id)
{
	if (id == 0 || id == ENDPOINT_TCP_DOWN)
		return NULL;
	for (struct tcp_conn *c = t->buckets[id % TCP_BUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

struct id_search {
	uint32_t id;
	bool found;
};

static void id_search_visit(void *arg, uint32_t id)
{
	struct id_search *search = arg;
	search->found |= id == search->id;
}

/* Whether one of the owner's peers names connection id. */
static bool id_in_use(struct tcp *t, uint32_t id)
{
	struct id_search search = { .id = id };

	if (t->ops.conns_in_use)
		t->ops.conns_in_use(t->ops.ctx, id_search_visit, &search);
	return search.found;
}

static uint32_t new_id(struct tcp *t)
{
	for (;;) {
		uint32_t id = t->next_id++;
		/* Ids wrap after 2^32 connections: skip one still named anywhere. */
		if (id != 0 && id != ENDPOINT_TCP_DOWN && !tcp_conn_find(t, id) && !id_in_use(t, id))
			return id;
	}
}

static void endpoint_of(struct endpoint *ep, const struct sockaddr_storage *ss, uint32_t id)
{
	/* The dual-stack listener's IPv4 peers, as the UDP side reports them. */
	endpoint_from_sockaddr(ep, (const struct sockaddr *)ss);
	ep->conn = id;
}

static void set_fwmark(int fd, uint32_t fwmark)
{
	/* Without it the connection may be routed into the tunnel itself. */
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		log_warn("tcp: cannot set fwmark %u on a connection: %s", fwmark, strerror(errno));
}

/* Options of every connection. Failures only log: it works without them. */
void tcp_conn_sockopts(int fd, uint32_t fwmark, bool dialed)
{
	int one = 1, idle = TCP_KEEPALIVE_IDLE_S, interval = TCP_KEEPALIVE_INTERVAL_S, count = TCP_KEEPALIVE_COUNT;
	unsigned timeout = TCP_USER_TIMEOUT_MS;

	/* Each frame is a packet someone waits for: no Nagle delay. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("tcp: cannot set TCP_NODELAY: %s", strerror(errno));
	if (dialed) {
		/* What we send must be acknowledged within TCP_SILENCE_NS, or the
		 * kernel fails the connection and the dialer makes another: a
		 * client whose address or route changed is back in seconds, not
		 * after 30. No keepalive probes here: with a user timeout shorter
		 * than their interval, the kernel would close an idle connection
		 * on the first probe lost. The accepting side probes (which also
		 * keeps a NAT's mapping), and PersistentKeepalive is the user's
		 * choice, as over UDP. */
		timeout = (unsigned)(TCP_SILENCE_NS / NS_PER_MS);
		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) < 0)
			log_debug("tcp: cannot set TCP_USER_TIMEOUT: %s", strerror(errno));
	} else if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
		   setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
		   setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) < 0 ||
		   setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) < 0 ||
		   setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) < 0) {
		log_debug("tcp: cannot set keepalive options: %s", strerror(errno));
	}
	set_fwmark(fd, fwmark);
}

/* Closes with a reset rather than a FIN: no TIME_WAIT left behind for a
 * connection we refuse. */
static void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int conn_epoll(struct tcp *t, struct tcp_conn *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = t->tag_conn | (uint64_t)c->id << 32 };
	return epoll_ctl(t->epoll_fd, op, c->fd, &ev) < 0 ? -errno : 0;
}

/* The receive buffer of a connection that may carry a tunnel's traffic. */
static size_t rx_full_cap(const struct tcp *t)
{
	return t->max_frame + TCP_FRAME_HEADER_LEN > TCP_RX_BUF ? t->max_frame + TCP_FRAME_HEADER_LEN : TCP_RX_BUF;
}

static size_t unauth_max_frame(const struct tcp *t)
{
	return t->max_frame < TCP_UNAUTH_MAX_FRAME ? t->max_frame : TCP_UNAUTH_MAX_FRAME;
}

int tcp_conn_grow(struct tcp *t, struct tcp_conn *c)
{
	size_t cap = rx_full_cap(t);
	int r = 0;

	if (!c->rx.buf)
		r = tcp_rx_init(&c->rx, cap, t->max_frame);
	else if (c->rx.cap < cap)
		r = tcp_rx_resize(&c->rx, cap);
	if (r == 0)
		c->rx.max_frame = t->max_frame;
	if (r == 0 && !c->tx.buf)
		r = tcp_tx_init(&c->tx, TCP_TX_BUF, TCP_TX_RESERVE);
	return r;
}

/* Takes fd (closed on failure). remote: the peer's address. A dialed
 * connection gets its buffers once it is up (tcp_conn_grow); an accepted one
 * a small receive buffer until it authenticates, and no send ring. */
struct tcp_conn *tcp_conn_new(struct tcp *t, int fd, enum conn_state state, const struct sockaddr_storage *remote)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		goto fail;
	c->fd = fd;
	c->state = state;
	if (state == CONN_UNAUTH && tcp_rx_init(&c->rx, TCP_UNAUTH_RX_BUF, unauth_max_frame(t)) < 0)
		goto fail;
	c->id = new_id(t);
	endpoint_of(&c->ep, remote, c->id);
	c->want_out = state == CONN_CONNECTING; /* EPOLLOUT says when connect() is done */
	if (conn_epoll(t, c, EPOLL_CTL_ADD, c->want_out ? EPOLLOUT : EPOLLIN) < 0)
		goto fail;
	c->hnext = t->buckets[c->id % TCP_BUCKETS];
	t->buckets[c->id % TCP_BUCKETS] = c;
	c->next = t->conns;
	t->conns = c;
	t->n_conns++;
	return c;
fail:
	log_warn("tcp: cannot set up a connection: %s", strerror(errno ? errno : ENOMEM));
	if (c) {
		tcp_rx_free(&c->rx);
		tcp_tx_free(&c->tx);
		free(c);
	}
	close(fd);
	return NULL;
}

/* Closes c (err: why, 0 for an orderly close, for the log). The memory
 * stays until tcp_tick, so callers up the stack may still look at c. */
void tcp_conn_close(struct tcp *t, struct tcp_conn *c, int err, bool reset)
{
	enum conn_state was = c->state;

	if (was == CONN_DEAD)
		return;
	for (struct tcp_conn **pc = &t->buckets[c->id % TCP_BUCKETS]; *pc; pc = &(*pc)->hnext) {
		if (*pc == c) {
			*pc = c->hnext;
			break;
		}
	}
	epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	if (reset)
		close_reset(c->fd);
	else
		close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	t->n_dead++;
	if (was == CONN_UNAUTH)
		tcp_wait_remove(t, c);
	if (c->dialer)
		tcp_dial_closed(t, c, was, err);
}

static void conn_free(struct tcp_conn *c)
{
	tcp_rx_free(&c->rx);
	tcp_tx_free(&c->tx);
	free(c);
}

static void reap(struct tcp *t)
{
	for (struct tcp_conn **pc = &t->conns; *pc;) {
		struct tcp_conn *c = *pc;
		if (c->state != CONN_DEAD) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		conn_free(c);
		t->n_conns--;
		t->n_dead--;
	}
}

static void conn_flush(struct tcp *t, struct tcp_conn *c)
{
	int r = tcp_tx_flush(&c->tx, c->fd);
	bool want;

	if (r < 0) {
		tcp_conn_close(t, c, -r, false);
		return;
	}
	want = r > 0;
	if (want != c->want_out) {
		c->want_out = want;
		if (conn_epoll(t, c, EPOLL_CTL_MOD, EPOLLIN | (want ? EPOLLOUT : 0)) < 0)
			tcp_conn_close(t, c, errno, false);
	}
}

static void deliver(struct tcp *t, struct pkt **pkts, int *n, uint64_t now)
{
	if (*n) {
		t->ops.recv(t->ops.ctx, pkts, *n, now);
		*n = 0;
	}
}

void tcp_conn_read(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	struct pkt *pkts[TCP_RECV_BATCH];
	char buf[ENDPOINT_STR_MAX];
	int n = 0;

	for (int round = 0; round < TCP_READS_PER_EVENT && c->state != CONN_DEAD; round++) {
		enum tcp_frame_status st;
		const uint8_t *frame;
		size_t room, len;
		uint8_t *space = tcp_rx_space(&c->rx, &room);
		ssize_t got;

		if (!room) {
			/* A frame longer than the buffer: a waiting connection's
			 * grows to one largest frame, another's to full size. */
			size_t cap = c->state == CONN_UNAUTH ? unauth_max_frame(t) + TCP_FRAME_HEADER_LEN
							     : rx_full_cap(t);
			if (tcp_rx_resize(&c->rx, cap) < 0) {
				tcp_count_drop(t, DROP_NO_BUFFER, 1);
				tcp_conn_close(t, c, ENOMEM, true);
				break;
			}
			space = tcp_rx_space(&c->rx, &room);
		}
		got = recv(c->fd, space, room, MSG_DONTWAIT);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tcp_conn_close(t, c, errno, false);
			break;
		}
		if (got == 0) {
			if (tcp_rx_buffered(&c->rx)) {
				tcp_count_drop(t, DROP_TCP_TRUNCATED, 1);
				if (tcp_may_log(t)) {
					endpoint_format(buf, &c->ep);
					log_info("tcp: %s closed the connection in the middle of a frame", buf);
				}
			}
			tcp_conn_close(t, c, 0, false);
			break;
		}
		tcp_rx_commit(&c->rx, (size_t)got);
		/* The peer said something: the connection is not silent. */
		c->silent_since = 0;
		c->unstamped = false;
		/* Delivering can close this connection (a failed reply): stop then. */
		while (c->state != CONN_DEAD && (st = tcp_rx_next(&c->rx, &frame, &len)) == TCP_FRAME_OK) {
			struct pkt *k = pool_get_len(t->pool, len);
			if (!k) {
				tcp_count_drop(t, DROP_NO_BUFFER, 1);
				continue;
			}
			memcpy(k->data, frame, len);
			k->len = (uint32_t)len;
			k->ep = c->ep;
			pkts[n++] = k;
			if (n == TCP_RECV_BATCH)
				deliver(t, pkts, &n, now); /* frames stay put: rx is not touched */
		}
		if (st != TCP_FRAME_PARTIAL) {
			tcp_count_drop(t, DROP_TCP_FRAMING, 1);
			if (tcp_may_log(t)) {
				endpoint_format(buf, &c->ep);
				log_info("tcp: %s sent a frame of %s length; closing its connection", buf,
					 st == TCP_FRAME_EMPTY ? "zero" : "too large a");
			}
			tcp_conn_close(t, c, EPROTO, true);
			break;
		}
		if ((size_t)got < room)
			break; /* drained */
	}
	deliver(t, pkts, &n, now);
}

static void connect_done(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;
	char buf[ENDPOINT_STR_MAX];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	len = sizeof(ss);
	if (!err && getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
		err = errno;
	if (err) {
		tcp_conn_close(t, c, err, true);
		return;
	}
	endpoint_of(&c->ep, &ss, c->id);
	c->state = CONN_DIALED;
	c->up_since = now;
	c->deadline = 0;
	c->want_out = false;
	if (tcp_conn_grow(t, c) < 0) {
		tcp_conn_close(t, c, ENOMEM, true);
		return;
	}
	if (conn_epoll(t, c, EPOLL_CTL_MOD, EPOLLIN) < 0) {
		tcp_conn_close(t, c, errno, true);
		return;
	}
	endpoint_format(buf, &c->ep);
	log_info("tcp: connected to %s", buf);
	if (c->dialer)
		tcp_dial_up(t, c, now);
}

/* ---- the transport ---- */

/* Waiting connections may take at most half the descriptors the process may
 * open (systemd gives a service 1024 unless told otherwise): the rest is
 * for the connections that authenticated, the ones we dial, the control
 * socket. */
static unsigned max_unauth_for_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 2 >= TCP_MAX_UNAUTH)
		return TCP_MAX_UNAUTH;
	return rl.rlim_cur / 2 < 16 ? 16 : (unsigned)(rl.rlim_cur / 2);
}

int tcp_init(struct tcp *t, const struct tcp_ops *ops, int epoll_fd, uint32_t tag_listen, uint32_t tag_conn,
	     struct pool *pool)
{
	size_t room = pool_max_len(pool);

	memset(t, 0, sizeof(*t));
	if (!room)
		return -EINVAL;
	t->ops = *ops;
	t->pool = pool;
	t->epoll_fd = epoll_fd;
	t->tag_listen = tag_listen;
	t->tag_conn = tag_conn;
	t->listen_fd = -1;
	t->max_frame = room > TCP_FRAME_MAX ? TCP_FRAME_MAX : room;
	t->next_id = 1;
	t->next_deadline = UINT64_MAX;
	t->max_unauth = max_unauth_for_fds();
	return 0;
}

void tcp_destroy(struct tcp *t)
{
	while (t->conns) {
		struct tcp_conn *c = t->conns;
		t->conns = c->next;
		if (c->fd >= 0) {
			epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
		}
		conn_free(c);
	}
	tcp_dial_destroy(t);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	memset(t->buckets, 0, sizeof(t->buckets));
	t->wait_head = t->wait_tail = NULL;
	t->listen_fd = -1;
	t->n_conns = t->n_unauth = t->n_dead = 0;
}

void tcp_set_fwmark(struct tcp *t, uint32_t fwmark)
{
	t->fwmark = fwmark;
	if (t->listen_fd >= 0 && setsockopt(t->listen_fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		log_warn("tcp: cannot set fwmark %u on the listening socket: %s", fwmark, strerror(errno));
	for (struct tcp_conn *c = t->conns; c; c = c->next)
		if (c->state != CONN_DEAD)
			set_fwmark(c->fd, fwmark);
}

void tcp_on_conn(struct tcp *t, uint32_t id, uint32_t events, uint64_t now)
{
	struct tcp_conn *c = tcp_conn_find(t, id);

	t->now = now;
	if (!c)
		return; /* closed while its event waited */
	if (c->state == CONN_CONNECTING) {
		connect_done(t, c, now);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		tcp_conn_read(t, c, now); /* errors and the end show up as read results */
	if (c->state != CONN_DEAD && (events & EPOLLOUT))
		conn_flush(t, c);
}

void tcp_tick(struct tcp *t, uint64_t now)
{
	char buf[ENDPOINT_STR_MAX];

	t->now = now;
	if (now >= t->next_deadline) {
		/* Recomputed from scratch; whatever is scheduled meanwhile lowers it. */
		t->next_deadline = UINT64_MAX;
		if (t->listen_paused) {
			if (now >= t->listen_resume_at) {
				t->listen_paused = false;
				if (tcp_listener_watch(t) < 0)
					log_err("tcp: cannot watch the listening socket again: %s", strerror(errno));
			} else {
				tcp_note_deadline(t, t->listen_resume_at);
			}
		}
		/* Waiting connections are in accept order, so in deadline order. */
		while (t->wait_head && now >= t->wait_head->deadline) {
			struct tcp_conn *c = t->wait_head;
			tcp_count_drop(t, DROP_TCP_AUTH_TIMEOUT, 1);
			if (tcp_may_log(t)) {
				endpoint_format(buf, &c->ep);
				log_info("tcp: no handshake from %s within %llu s; closing its connection", buf,
					 (unsigned long long)(TCP_AUTH_TIMEOUT_NS / NS_PER_SEC));
			}
			tcp_conn_close(t, c, ETIMEDOUT, true);
		}
		if (t->wait_head)
			tcp_note_deadline(t, t->wait_head->deadline);
		/* The dialed connections: connect timeouts, silence. */
		tcp_dial_tick(t, now);
	}
	if (t->ops.conns_in_use && t->n_conns) {
		if (now - t->last_sweep >= TCP_SWEEP_INTERVAL_NS) {
			t->last_sweep = now;
			tcp_sweep(t);
		}
		tcp_note_deadline(t, t->last_sweep + TCP_SWEEP_INTERVAL_NS);
	}
	if (t->n_dead)
		reap(t);
}

uint64_t tcp_next_deadline(const struct tcp *t)
{
	return t->n_dead ? t->now : t->next_deadline;
}

void tcp_send(struct tcp *t, struct pkt *const *pkts, int n)
{
	struct tcp_conn *touched[TCP_RECV_BATCH];
	int n_touched = 0;
	uint64_t no_conn = 0, full = 0, no_buffer = 0;

	for (int i = 0; i <= n; i++) {
		/* Write once per connection per batch (and when the list is full). */
		if (i == n || n_touched == TCP_RECV_BATCH) {
			for (int j = 0; j < n_touched; j++) {
				struct tcp_conn *c = touched[j];
				c->queued = false;
				if (c->state != CONN_DEAD && !c->want_out)
					conn_flush(t, c);
			}
			n_touched = 0;
			if (i == n)
				break;
		}
		struct pkt *k = pkts[i];
		struct tcp_conn *c = tcp_conn_find(t, k->ep.conn);
		if (!c || c->state == CONN_CONNECTING) {
			no_conn++;
			k->send_failed = true;
			continue;
		}
		/* Only a connection still waiting for a handshake has no ring
		 * (the engine answers on one only once it authenticated). */
		if (!c->tx.buf && tcp_tx_init(&c->tx, TCP_TX_BUF, TCP_TX_RESERVE) < 0) {
			no_buffer++;
			k->send_failed = true;
			continue;
		}
		if (!tcp_tx_push(&c->tx, k->data, k->len)) {
			full++;
			k->send_failed = true;
			continue;
		}
		if (c->dialer && k->data[0] == MESSAGE_HANDSHAKE_INITIATION && !c->silent_since && !c->unstamped) {
			/* Silence is timed from here. tcp_send takes no clock: the
			 * next tcp_tick takes the time, a little late, never early. */
			c->unstamped = true;
			tcp_note_deadline(t, 0);
		}
		if (!c->queued) {
			c->queued = true;
			touched[n_touched++] = c;
		}
	}
	tcp_count_drop(t, DROP_TCP_NO_CONN, no_conn);
	tcp_count_drop(t, DROP_TCP_TX_FULL, full);
	tcp_count_drop(t, DROP_NO_BUFFER, no_buffer);
}

/* Accepted connection id carries peer public_key's messages: the first peer
 * to authenticate on it owns it. Of the connections a peer owns, the newest
 * TCP_MAX_CONNS_PER_PEER stay (one that a peer names stays too): a peer we
 * dial keeps the ones it opens to us, and without this each reconnect of
 * its would leave one more behind. */
static void claim(struct tcp *t, uint32_t id, const uint8_t public_key[KEY_LEN])
{
	struct tcp_conn *c = tcp_conn_find(t, id);
	char buf[ENDPOINT_STR_MAX];

	if (!c || c->state != CONN_BOUND || c->owned)
		return;
	c->owned = true;
	memcpy(c->owner, public_key, KEY_LEN);
	for (;;) {
		struct tcp_conn *oldest = NULL;
		unsigned n = 0;

		for (struct tcp_conn *x = t->conns; x; x = x->next) {
			if (x->state != CONN_BOUND || !x->owned || memcmp(x->owner, public_key, KEY_LEN))
				continue;
			n++;
			if (x != c && (!oldest || x->accepted_at < oldest->accepted_at ||
				       (x->accepted_at == oldest->accepted_at && x->id < oldest->id)))
				oldest = x;
		}
		if (n <= TCP_MAX_CONNS_PER_PEER || !oldest || id_in_use(t, oldest->id))
			return;
		endpoint_format(buf, &c->ep);
		log_debug("tcp: the peer on connection %u (%s) holds %u; closing its oldest, %u", c->id, buf, n,
			  oldest->id);
		tcp_conn_close(t, oldest, 0, false);
	}
}

void tcp_endpoint_changed(struct tcp *t, const uint8_t public_key[KEY_LEN], uint32_t old_conn, uint32_t new_conn)
{
	/* Two peers that dial each other hold two connections, and each side
	 * moves to whichever one it last heard from: closing the other would
	 * only have it dialed again, and again. */
	bool dialed = tcp_peer_find(t, public_key) != NULL;

	/* The peer authenticated a message from this connection: it is theirs. */
	if (new_conn && new_conn != ENDPOINT_TCP_DOWN) {
		tcp_conn_authenticated(t, new_conn, dialed);
		claim(t, new_conn, public_key);
	}
	/* A client that reconnected leaves its old connection behind. */
	if (!dialed && old_conn && old_conn != ENDPOINT_TCP_DOWN && old_conn != new_conn && !id_in_use(t, old_conn))
		tcp_conn_release(t, old_conn);
}

void tcp_conn_authenticated(struct tcp *t, uint32_t id, bool keep)
{
	struct tcp_conn *c = tcp_conn_find(t, id);

	if (!c)
		return;
	if (c->state == CONN_UNAUTH) {
		tcp_wait_remove(t, c);
		c->state = CONN_BOUND;
		c->deadline = 0;
		/* Now it may carry a tunnel's traffic. Out of memory, it makes do
		 * with what it has: the receive buffer grows when a frame needs it
		 * (conn_read), the send ring is made on the first send. */
		if (tcp_conn_grow(t, c) < 0)
			log_warn("tcp: no memory for the buffers of connection %u; trying again as it is used", id);
	}
	c->keep |= keep;
	/* The connection worked: its dialer's backoff starts over when it ends.
	 * (Only authenticated traffic counts, so a middlebox that sends one
	 * frame and hangs up cannot make us redial in a tight loop.) */
	c->carried = true;
}

void tcp_conn_release(struct tcp *t, uint32_t id)
{
	struct tcp_conn *c = tcp_conn_find(t, id);

	if (c && (c->state == CONN_UNAUTH || c->state == CONN_BOUND)) {
		log_debug("tcp: connection %u is no peer's any more; closing it", id);
		tcp_conn_close(t, c, 0, false);
	}
}

bool tcp_conn_exists(const struct tcp *t, uint32_t id)
{
	return tcp_conn_find(t, id) != NULL;
}

static void sweep_mark(void *arg, uint32_t id)
{
	struct tcp_conn *c = tcp_conn_find(arg, id);
	if (c)
		c->marked = true;
}

void tcp_sweep(struct tcp *t)
{
	for (struct tcp_conn *c = t->conns; c; c = c->next)
		c->marked = false;
	if (t->ops.conns_in_use)
		t->ops.conns_in_use(t->ops.ctx, sweep_mark, t);
	for (struct tcp_conn *c = t->conns; c; c = c->next)
		if (c->state == CONN_BOUND && !c->marked && !c->keep)
			tcp_conn_release(t, c->id);
}
