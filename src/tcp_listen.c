// SPDX-License-Identifier: MIT
/*
 * The TCP transport's listener: the listening socket, accepting, and the
 * connections that wait for their first authenticated message (read at
 * once, evicted by source, never younger than a grace period).
 */
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
#define TCP_ACCEPTS_PER_EVENT 64
#define TCP_RECV_BATCH 64
/* Out of descriptors: stop accepting for this long (the listening socket
 * would otherwise wake the loop at once, forever). */
#define TCP_LISTEN_PAUSE_NS NS_PER_SEC
/* A client that stops acknowledging (or answering keepalive probes) is
 * gone: its accepted connection is freed. (Dialed ones: tcp_conn_sockopts.) */
#define TCP_USER_TIMEOUT_MS 30000
#define TCP_KEEPALIVE_IDLE_S 15
#define TCP_KEEPALIVE_INTERVAL_S 5
#define TCP_KEEPALIVE_COUNT 3
/* Messages about misbehaving connections: at most this many a minute. */
#define TCP_ABUSE_LOGS_PER_MINUTE 20

/* ---- connections waiting for a handshake ---- */

/* Same source for the per-source limit: an IPv4 address, or an IPv6 /64. */
static bool same_source(const struct endpoint *a, const struct endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
	return !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 8);
}

static bool past_grace(const struct tcp_conn *c, uint64_t now)
{
	return now - c->accepted_at >= TCP_UNAUTH_GRACE_NS;
}

/* Appends c, accepted last, to the waiting ones; counts its source. */
void tcp_wait_add(struct tcp *t, struct tcp_conn *c)
{
	unsigned same = 0;

	for (struct tcp_conn *w = t->wait_head; w; w = w->wnext) {
		if (same_source(&w->ep, &c->ep)) {
			w->src_waiting++;
			same++;
		}
	}
	c->src_waiting = same + 1;
	c->wnext = NULL;
	c->wprev = t->wait_tail;
	if (t->wait_tail)
		t->wait_tail->wnext = c;
	else
		t->wait_head = c;
	t->wait_tail = c;
	t->n_unauth++;
}

void tcp_wait_remove(struct tcp *t, struct tcp_conn *c)
{
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		t->wait_head = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	else
		t->wait_tail = c->wprev;
	c->wnext = c->wprev = NULL;
	if (c->src_waiting > 1)
		for (struct tcp_conn *w = t->wait_head; w; w = w->wnext)
			if (same_source(&w->ep, &c->ep))
				w->src_waiting--;
	t->n_unauth--;
}

/* Whom a newcomer evicts when every waiting place is taken: of those
 * waiting past the grace period, the oldest from the source that holds the
 * most. A flood from many addresses evicts itself; a client, which sends
 * its initiation at once, was read before it could be evicted. NULL: every
 * one is younger (the list is oldest first). */
static struct tcp_conn *eviction_victim(const struct tcp *t, uint64_t now)
{
	struct tcp_conn *best = NULL;

	for (struct tcp_conn *w = t->wait_head; w && past_grace(w, now); w = w->wnext)
		if (!best || w->src_waiting > best->src_waiting)
			best = w;
	return best;
}

/* c, accepted and read just now, still waits for a handshake: it needs a
 * waiting place, and when the limits say there is none, one is made (an
 * older connection is evicted) or c itself is closed. Deciding only now, on
 * what c sent, is what lets a client in through a flood that takes every
 * place: its initiation came with its connection, and it never waits. */
static void enforce_limits(struct tcp *t, struct tcp_conn *c, uint64_t now)
{
	char buf[ENDPOINT_STR_MAX];
	struct tcp_conn *victim;

	if (c->src_waiting > TCP_MAX_UNAUTH_PER_SOURCE) {
		/* A source competes with itself for its few places, so that a
		 * client behind an address it shares with a flood still gets in. */
		victim = c;
		for (struct tcp_conn *w = t->wait_head; w; w = w->wnext) {
			if (same_source(&w->ep, &c->ep)) {
				if (past_grace(w, now))
					victim = w; /* its oldest */
				break;
			}
		}
		if (tcp_may_log(t)) {
			endpoint_format(buf, &c->ep);
			log_info("tcp: %s has %u connections waiting for a handshake; closing %s", buf,
				 TCP_MAX_UNAUTH_PER_SOURCE, victim == c ? "the newest" : "its oldest");
		}
	} else if (t->n_unauth > t->max_unauth) {
		victim = eviction_victim(t, now);
		if (!victim)
			victim = c;
		if (tcp_may_log(t)) {
			endpoint_format(buf, &victim->ep);
			if (victim == c)
				log_info(
					"tcp: %u connections are waiting for a handshake, none for a second yet; "
					"refusing %s",
					t->max_unauth, buf);
			else
				log_info(
					"tcp: %u connections are waiting for a handshake; closing the oldest of the %u from %s",
					t->max_unauth, victim->src_waiting, buf);
		}
	} else {
		return;
	}
	tcp_count_drop(t, DROP_TCP_CONN_LIMIT, 1);
	tcp_conn_close(t, victim, 0, true);
}

/* ---- the listening socket ---- */

int tcp_listen_open(uint16_t *port, uint32_t fwmark)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_ANY_INIT,
		.sin6_port = htons(*port),
	};
	socklen_t len = sizeof(sin6);
	int fd, off = 0, one = 1, err;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* One socket for both families; and a restarted daemon gets its port
	 * back although connections of the one before linger in TIME_WAIT. */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	/* As long a queue as the kernel allows: under a flood of connections,
	 * a client's waits there to be accepted rather than being dropped. */
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin6, &len) < 0)
		goto fail;
	*port = ntohs(sin6.sin6_port);
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

int tcp_listener_watch(struct tcp *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = t->tag_listen };
	return epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->listen_fd, &ev) < 0 ? -errno : 0;
}

int tcp_set_listener(struct tcp *t, int fd)
{
	int r;

	if (t->listen_fd >= 0) {
		if (!t->listen_paused)
			epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, t->listen_fd, NULL);
		close(t->listen_fd);
	}
	t->listen_fd = fd;
	t->listen_paused = false;
	if (fd < 0)
		return 0;
	r = tcp_listener_watch(t);
	if (r < 0) {
		close(fd);
		t->listen_fd = -1;
	}
	return r;
}

void tcp_on_listen(struct tcp *t, uint64_t now)
{
	char buf[ENDPOINT_STR_MAX];

	t->now = now;
	for (int i = 0; i < TCP_ACCEPTS_PER_EVENT && t->listen_fd >= 0 && !t->listen_paused; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct tcp_conn *c;
		int fd = accept4(t->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && (c = eviction_victim(t, now))) {
				/* Out of descriptors, and connections that have waited
				 * a while for nothing hold them: one makes room. */
				tcp_count_drop(t, DROP_TCP_CONN_LIMIT, 1);
				if (tcp_may_log(t))
					log_info(
						"tcp: out of descriptors with %u connections waiting for a handshake; "
						"closing one",
						t->n_unauth);
				tcp_conn_close(t, c, 0, true);
				continue;
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_warn("tcp: cannot accept connections: %s; pausing for a second", strerror(errno));
				epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, t->listen_fd, NULL);
				t->listen_paused = true;
				t->listen_resume_at = now + TCP_LISTEN_PAUSE_NS;
				tcp_note_deadline(t, t->listen_resume_at);
			}
			return;
		}
		tcp_conn_sockopts(fd, t->fwmark, false);
		c = tcp_conn_new(t, fd, CONN_UNAUTH, &ss);
		if (!c)
			continue;
		c->accepted_at = now;
		c->deadline = now + TCP_AUTH_TIMEOUT_NS;
		tcp_wait_add(t, c);
		tcp_note_deadline(t, c->deadline);
		endpoint_format(buf, &c->ep);
		log_debug("tcp: accepted %s (connection %u)", buf, c->id);
		/* A client sends its initiation as soon as it is connected, so it
		 * is most often here already: read it now, before accepting more
		 * and before judging whether this one may wait. */
		tcp_conn_read(t, c, now);
		if (c->state == CONN_UNAUTH)
			enforce_limits(t, c, now);
	}
}
