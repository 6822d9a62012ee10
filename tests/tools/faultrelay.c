// SPDX-License-Identifier: MIT
/*
 * faultrelay: a bad network between two network namespaces, for the tests
 * (tests/netns/test_faults.sh) and by hand. It sits in the middle: clients
 * talk to its listening address, it talks to the target, and on the way it
 * drops, duplicates, reorders, delays, truncates and corrupts at the rates
 * it is given. A seed makes a run reproducible (the same decisions for the
 * same sequence of packets).
 *
 *   faultrelay udp -l ADDR:PORT -t ADDR:PORT [faults] [--seed N] [--seconds S]
 *       each client address gets its own socket to the target (so the
 *       target sees one source per client and its replies find their way
 *       back); every datagram, both ways, goes through the faults
 *   faultrelay tcp -l ADDR:PORT -t ADDR:PORT [--delay MS] [--corrupt P]
 *                  [--reset-after MS] [--stall-every MS --stall-ms MS]
 *       each accepted connection gets its own connection to the target;
 *       bytes are copied both ways after the delay; SIGUSR1 resets every
 *       connection at once (RST both ways)
 *
 * Rates are percentages (0 to 100, fractions allowed), decided per datagram
 * (per read for TCP's --corrupt). On SIGTERM, SIGINT or after --seconds it
 * prints one line of counts (key=value) and exits 0. See --help.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000ULL
#define MAX_DGRAM 65536
#define MAX_CLIENTS 256
#define MAX_HELD 64             /* reordered datagrams held back at once */
#define MAX_QUEUED 65536        /* delayed datagrams in flight */
#define MAX_CONNS 64            /* TCP connection pairs */
#define TCP_CHUNK 16384         /* bytes per read */
#define TCP_MAX_QUEUE (4 << 20) /* bytes in flight one way before reading stops */

static const char usage[] =
	"usage: faultrelay udp|tcp -l LISTEN_ADDR:PORT -t TARGET_ADDR:PORT [options]\n"
	"\n"
	"A relay that plays a bad network between namespaces (sluice's tests).\n"
	"Addresses: 192.0.2.1:51820 or [2001:db8::1]:51820. Rates in percent.\n"
	"\n"
	"both:\n"
	"  --seed N            random decisions from N (default 1): reproducible\n"
	"  --seconds S         exit after S seconds (default: run until SIGTERM)\n"
	"  --delay MS          hold every datagram (TCP: every chunk) MS ms\n"
	"  --corrupt P         flip one random byte of P%% of datagrams (TCP: of reads)\n"
	"udp:\n"
	"  --drop P            drop P%% of datagrams\n"
	"  --dup P             send P%% of datagrams twice\n"
	"  --reorder P         hold P%% back, released after --reorder-after later\n"
	"                      datagrams the same way (default 3) or --reorder-ms\n"
	"                      (default 50), whichever comes first\n"
	"  --jitter MS         add 0 to MS ms at random to each datagram's delay\n"
	"  --truncate P        cut P%% of datagrams to a random shorter length\n"
	"  --dir both|up|down  faults on client->target (up), target->client (down)\n"
	"                      or both (default)\n"
	"tcp:\n"
	"  --reset-after MS    reset each connection MS ms after it was accepted\n"
	"  --stall-every MS    every MS ms, stop copying for --stall-ms MS\n"
	"\n"
	"SIGUSR1 (tcp): reset every connection now. SIGTERM/SIGINT/--seconds: print\n"
	"the counts (key=value, one line) and exit 0.\n";

static volatile sig_atomic_t stop, reset_all;

static void on_stop(int sig)
{
	stop = 1;
}

static void on_usr1(int sig)
{
	reset_all = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "faultrelay: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, and the same sequence for the same seed. */
static uint64_t rng_state = 1;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* True with probability pct percent. */
static bool chance(double pct)
{
	return pct > 0 && (double)(rng() >> 11) / (double)(1ULL << 53) * 100.0 < pct;
}

static uint64_t below(uint64_t n)
{
	return n ? rng() % n : 0;
}

static struct {
	double drop, dup, reorder, truncate, corrupt;
	uint64_t delay_ns, jitter_ns, reorder_ns, reset_after_ns, stall_every_ns, stall_ns;
	unsigned reorder_after;
	int dir; /* bit 0: up, bit 1: down */
} opt = { .reorder_after = 3, .reorder_ns = 50 * NS_PER_MS, .dir = 3 };

static struct {
	uint64_t received, sent, dropped, duplicated, reordered, delayed, truncated, corrupted, clients, overflow;
	uint64_t accepted, resets, stalls, bytes_up, bytes_down, connect_failed;
} count;

static double parse_pct(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || v < 0 || v > 100) {
		fprintf(stderr, "faultrelay: bad rate '%s' (want 0 to 100)\n", s);
		exit(2);
	}
	return v;
}

static uint64_t parse_ms(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || !*s) {
		fprintf(stderr, "faultrelay: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* "192.0.2.1:51820" or "[2001:db8::1]:51820". */
static socklen_t parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon || colon == s)
		goto bad;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			goto bad;
		hl -= 2;
		s++;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = 0;
	uint64_t port = parse_ms(colon + 1);
	if (!port || port > 65535)
		goto bad;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		return sizeof(*in4);
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return sizeof(*in6);
	}
bad:
	fprintf(stderr, "faultrelay: bad address '%s' (want ADDR:PORT or [ADDR6]:PORT)\n", s);
	exit(2);
}

static int make_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, buf = 8 << 20;
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

/* --- UDP ------------------------------------------------------------------ */

struct client {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd; /* connected to the target */
};

struct dgram {
	uint64_t due, seq;          /* seq keeps equal deadlines in arrival order */
	int fd;                     /* the socket to send it from */
	struct sockaddr_storage to; /* for the listening socket; unused on a connected one */
	socklen_t tolen;
	uint16_t len;
	uint8_t *data;
};

static struct client clients[MAX_CLIENTS];
static unsigned nclients;
static struct dgram *heap[MAX_QUEUED]; /* delayed, by due time */
static unsigned nheap;
static uint64_t dgram_seq;
static struct {
	struct dgram *d;
	unsigned after; /* later datagrams the same way still to pass */
	int way;
} held[MAX_HELD];
static unsigned nheld;

static bool earlier(const struct dgram *a, const struct dgram *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct dgram *d)
{
	unsigned i = nheap++;
	while (i) {
		unsigned up = (i - 1) / 2;
		if (!earlier(d, heap[up]))
			break;
		heap[i] = heap[up];
		i = up;
	}
	heap[i] = d;
}

static struct dgram *heap_pop(void)
{
	struct dgram *top = heap[0], *last = heap[--nheap];
	unsigned i = 0;
	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && earlier(heap[c + 1], heap[c]))
			c++;
		if (!earlier(heap[c], last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap)
		heap[i] = last;
	return top;
}

static void dgram_send(struct dgram *d)
{
	ssize_t n = d->tolen ? sendto(d->fd, d->data, d->len, 0, (struct sockaddr *)&d->to, d->tolen)
			     : send(d->fd, d->data, d->len, 0);
	if (n >= 0)
		count.sent++;
}

static void dgram_free(struct dgram *d)
{
	free(d->data);
	free(d);
}

static struct dgram *dgram_copy(const struct dgram *d)
{
	struct dgram *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	*c = *d;
	c->data = malloc(d->len ? d->len : 1);
	if (!c->data)
		die("out of memory");
	memcpy(c->data, d->data, d->len);
	c->seq = dgram_seq++;
	return c;
}

/* Sends now, or after the delay (and jitter) when there is one. Takes d. */
static void dgram_out(struct dgram *d, bool faulty, uint64_t now)
{
	uint64_t delay = faulty ? opt.delay_ns + below(opt.jitter_ns) : 0;
	if (!delay) {
		dgram_send(d);
		dgram_free(d);
		return;
	}
	if (nheap == MAX_QUEUED) { /* a full queue loses what comes, as a link would */
		count.overflow++;
		dgram_free(d);
		return;
	}
	count.delayed++;
	d->due = now + delay;
	heap_push(d);
}

/* A datagram one way or the other: through the faults, out. Takes d. */
static void dgram_in(struct dgram *d, int way, uint64_t now)
{
	bool faulty = opt.dir & way;

	count.received++;
	/* Held datagrams the same way move one closer to their release. */
	for (unsigned i = 0; i < nheld;) {
		if (held[i].way == way && --held[i].after == 0) {
			dgram_out(held[i].d, faulty, now);
			held[i] = held[--nheld];
			continue;
		}
		i++;
	}
	if (faulty && chance(opt.drop)) {
		count.dropped++;
		dgram_free(d);
		return;
	}
	if (faulty && d->len > 1 && chance(opt.truncate)) {
		count.truncated++;
		d->len = (uint16_t)below(d->len);
	}
	if (faulty && d->len && chance(opt.corrupt)) {
		count.corrupted++;
		d->data[below(d->len)] ^= (uint8_t)(1 + below(255));
	}
	if (faulty && chance(opt.dup)) {
		count.duplicated++;
		dgram_out(dgram_copy(d), faulty, now);
	}
	if (faulty && nheld < MAX_HELD && chance(opt.reorder)) {
		count.reordered++;
		d->due = now + opt.reorder_ns;
		held[nheld].d = d;
		held[nheld].after = opt.reorder_after ? opt.reorder_after : 1;
		held[nheld].way = way;
		nheld++;
		return;
	}
	dgram_out(d, faulty, now);
}

static struct client *client_of(const struct sockaddr_storage *a, socklen_t len, const struct sockaddr_storage *target,
				socklen_t tlen)
{
	for (unsigned i = 0; i < nclients; i++)
		if (clients[i].len == len && !memcmp(&clients[i].addr, a, len))
			return &clients[i];
	if (nclients == MAX_CLIENTS)
		return NULL;
	struct client *c = &clients[nclients];
	c->fd = make_socket(target->ss_family, SOCK_DGRAM);
	if (connect(c->fd, (const struct sockaddr *)target, tlen) < 0)
		die("connect to the target");
	memcpy(&c->addr, a, len);
	c->len = len;
	nclients++;
	count.clients++;
	return c;
}

static struct dgram *dgram_new(void)
{
	struct dgram *d = calloc(1, sizeof(*d));
	if (!d || !(d->data = malloc(MAX_DGRAM)))
		die("out of memory");
	d->seq = dgram_seq++;
	return d;
}

static void run_udp(const struct sockaddr_storage *listen_addr, socklen_t llen, const struct sockaddr_storage *target,
		    socklen_t tlen, uint64_t end)
{
	static struct pollfd pfd[MAX_CLIENTS + 1];
	int lfd = make_socket(listen_addr->ss_family, SOCK_DGRAM);
	struct dgram *d = NULL;

	if (bind(lfd, (const struct sockaddr *)listen_addr, llen) < 0)
		die("bind the listening address");
	while (!stop) {
		uint64_t now = now_ns(), due = end;

		if (now >= end)
			break;
		/* What is due goes out; what waits sets the poll timeout. */
		while (nheap && heap[0]->due <= now) {
			struct dgram *x = heap_pop();
			dgram_send(x);
			dgram_free(x);
		}
		for (unsigned i = 0; i < nheld;) {
			if (held[i].d->due <= now) {
				dgram_out(held[i].d, true, now);
				held[i] = held[--nheld];
				continue;
			}
			if (held[i].d->due < due)
				due = held[i].d->due;
			i++;
		}
		if (nheap && heap[0]->due < due)
			due = heap[0]->due;
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (unsigned i = 0; i < nclients; i++)
			pfd[i + 1] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		uint64_t wait = due > now ? due - now : 0;
		int ms = wait >= 1000 * NS_PER_MS ? 1000 : (int)((wait + NS_PER_MS - 1) / NS_PER_MS);
		if (poll(pfd, nclients + 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		now = now_ns();
		/* Up to 64 datagrams a socket a turn, so the queue keeps moving. */
		for (int k = 0; k < 64 && (pfd[0].revents & POLLIN); k++) {
			if (!d)
				d = dgram_new();
			d->tolen = sizeof(d->to);
			ssize_t n = recvfrom(lfd, d->data, MAX_DGRAM, 0, (struct sockaddr *)&d->to, &d->tolen);
			if (n < 0)
				break;
			struct client *c = client_of(&d->to, d->tolen, target, tlen);
			if (!c)
				continue;
			d->len = (uint16_t)n;
			d->fd = c->fd;
			d->tolen = 0; /* out through the connected socket */
			dgram_in(d, 1, now);
			d = NULL;
		}
		for (unsigned i = 0; i < nclients; i++) {
			for (int k = 0; k < 64 && (pfd[i + 1].revents & POLLIN); k++) {
				if (!d)
					d = dgram_new();
				ssize_t n = recv(clients[i].fd, d->data, MAX_DGRAM, 0);
				if (n < 0)
					break;
				d->len = (uint16_t)n;
				d->fd = lfd;
				d->to = clients[i].addr;
				d->tolen = clients[i].len;
				dgram_in(d, 2, now);
				d = NULL;
			}
		}
	}
	if (d)
		dgram_free(d);
	printf("faultrelay udp: received=%llu sent=%llu dropped=%llu duplicated=%llu reordered=%llu "
	       "delayed=%llu truncated=%llu corrupted=%llu overflow=%llu clients=%llu\n",
	       (unsigned long long)count.received, (unsigned long long)count.sent, (unsigned long long)count.dropped,
	       (unsigned long long)count.duplicated, (unsigned long long)count.reordered,
	       (unsigned long long)count.delayed, (unsigned long long)count.truncated,
	       (unsigned long long)count.corrupted, (unsigned long long)count.overflow,
	       (unsigned long long)count.clients);
}

/* --- TCP ------------------------------------------------------------------ */

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;
	uint8_t data[];
};

struct way {
	struct chunk *head, *tail;
	size_t queued;
	bool eof, shut; /* the reading side closed; we shut the writing side */
};

struct conn {
	int fd[2];         /* 0: the client's, 1: ours to the target */
	struct way way[2]; /* way[i]: read from fd[i], written to fd[1 - i] */
	uint64_t reset_at;
	bool used;
};

static struct conn conns[MAX_CONNS];

static void conn_close(struct conn *c, bool rst)
{
	for (int i = 0; i < 2; i++) {
		if (rst) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->fd[i]);
		while (c->way[i].head) {
			struct chunk *k = c->way[i].head;
			c->way[i].head = k->next;
			free(k);
		}
	}
	if (rst)
		count.resets++;
	memset(c, 0, sizeof(*c));
}

static void conn_accept(int lfd, const struct sockaddr_storage *target, socklen_t tlen, uint64_t now)
{
	int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
	struct conn *c = NULL;

	if (cfd < 0)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (!conns[i].used) {
			c = &conns[i];
			break;
		}
	if (!c) {
		close(cfd);
		return;
	}
	int tfd = socket(target->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tfd < 0)
		die("socket");
	/* Blocking connect: the target is a namespace away. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(tfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(tfd, (const struct sockaddr *)target, tlen) < 0) {
		count.connect_failed++;
		close(tfd);
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(cfd);
		return;
	}
	setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(tfd, F_SETFL, fcntl(tfd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->fd[0] = cfd;
	c->fd[1] = tfd;
	c->reset_at = opt.reset_after_ns ? now + opt.reset_after_ns : 0;
	count.accepted++;
}

/* Reads what fd[i] has into way i, each read one chunk, due after the delay. */
static bool way_read(struct conn *c, int i, uint64_t now)
{
	struct way *w = &c->way[i];
	struct chunk *k = malloc(sizeof(*k) + TCP_CHUNK);

	if (!k)
		die("out of memory");
	ssize_t n = read(c->fd[i], k->data, TCP_CHUNK);
	if (n <= 0) {
		free(k);
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (n < 0)
				return false; /* reset by the far side: reset ours too */
			w->eof = true;
		}
		return true;
	}
	k->len = (size_t)n;
	k->off = 0;
	k->next = NULL;
	k->due = now + opt.delay_ns;
	if (chance(opt.corrupt)) {
		count.corrupted++;
		k->data[below(k->len)] ^= (uint8_t)(1 + below(255));
	}
	if (i == 0)
		count.bytes_up += (uint64_t)n;
	else
		count.bytes_down += (uint64_t)n;
	if (w->tail)
		w->tail->next = k;
	else
		w->head = k;
	w->tail = k;
	w->queued += k->len;
	return true;
}

/* Writes what is due of way i to fd[1 - i]. False when the connection is dead. */
static bool way_write(struct conn *c, int i, uint64_t now)
{
	struct way *w = &c->way[i];

	while (w->head && w->head->due <= now) {
		struct chunk *k = w->head;
		ssize_t n = write(c->fd[1 - i], k->data + k->off, k->len - k->off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		k->off += (size_t)n;
		w->queued -= (size_t)n;
		if (k->off < k->len)
			return true;
		w->head = k->next;
		if (!w->head)
			w->tail = NULL;
		free(k);
	}
	if (!w->head && w->eof && !w->shut) {
		shutdown(c->fd[1 - i], SHUT_WR);
		w->shut = true;
	}
	return true;
}

static void run_tcp(const struct sockaddr_storage *listen_addr, socklen_t llen, const struct sockaddr_storage *target,
		    socklen_t tlen, uint64_t end)
{
	static struct pollfd pfd[1 + 2 * MAX_CONNS];
	int lfd = make_socket(listen_addr->ss_family, SOCK_STREAM);
	uint64_t start = now_ns(), stall_until = 0, next_stall = opt.stall_every_ns ? start + opt.stall_every_ns : 0;

	if (bind(lfd, (const struct sockaddr *)listen_addr, llen) < 0)
		die("bind the listening address");
	if (listen(lfd, 64) < 0)
		die("listen");
	while (!stop) {
		uint64_t now = now_ns(), due = end;
		bool stalled;

		if (now >= end)
			break;
		if (reset_all) {
			reset_all = 0;
			for (int i = 0; i < MAX_CONNS; i++)
				if (conns[i].used)
					conn_close(&conns[i], true);
		}
		if (next_stall && now >= next_stall) {
			count.stalls++;
			stall_until = now + opt.stall_ns;
			next_stall = now + opt.stall_every_ns;
		}
		stalled = now < stall_until;
		if (stalled && stall_until < due)
			due = stall_until;
		if (next_stall && next_stall < due)
			due = next_stall;
		unsigned n = 0;
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (!c->used)
				continue;
			if (c->reset_at && now >= c->reset_at) {
				conn_close(c, true);
				continue;
			}
			if (c->reset_at && c->reset_at < due)
				due = c->reset_at;
			bool dead = false;
			for (int w = 0; w < 2 && !stalled; w++)
				if (!way_write(c, w, now))
					dead = true;
			if (dead) {
				conn_close(c, true);
				continue;
			}
			if (c->way[0].eof && c->way[1].eof && !c->way[0].head && !c->way[1].head) {
				conn_close(c, false);
				continue;
			}
			for (int w = 0; w < 2; w++) {
				short ev = 0;
				if (!stalled && !c->way[w].eof && c->way[w].queued < TCP_MAX_QUEUE)
					ev |= POLLIN;
				if (!stalled && c->way[1 - w].head) {
					if (c->way[1 - w].head->due <= now)
						ev |= POLLOUT;
					else if (c->way[1 - w].head->due < due)
						due = c->way[1 - w].head->due;
				}
				pfd[n++] = (struct pollfd){ .fd = c->fd[w], .events = ev };
			}
		}
		uint64_t wait = due > now ? due - now : 0;
		int ms = wait >= 1000 * NS_PER_MS ? 1000 : (int)((wait + NS_PER_MS - 1) / NS_PER_MS);
		if (poll(pfd, n, ms) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		now = now_ns();
		unsigned p = 1;
		for (int i = 0; i < MAX_CONNS && p < n; i++) {
			struct conn *c = &conns[i];
			if (!c->used || pfd[p].fd != c->fd[0])
				continue;
			bool dead = false;
			for (int w = 0; w < 2; w++, p++) {
				if (pfd[p].revents & (POLLIN | POLLHUP | POLLERR)) {
					if ((pfd[p].revents & POLLERR) || !way_read(c, w, now))
						dead = true;
				}
			}
			if (dead)
				conn_close(c, true);
		}
		if (pfd[0].revents & POLLIN)
			conn_accept(lfd, target, tlen, now);
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			conn_close(&conns[i], false);
	printf("faultrelay tcp: accepted=%llu resets=%llu stalls=%llu corrupted=%llu bytes_up=%llu "
	       "bytes_down=%llu connect_failed=%llu\n",
	       (unsigned long long)count.accepted, (unsigned long long)count.resets, (unsigned long long)count.stalls,
	       (unsigned long long)count.corrupted, (unsigned long long)count.bytes_up,
	       (unsigned long long)count.bytes_down, (unsigned long long)count.connect_failed);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "drop", required_argument, NULL, 'D' },
		{ "dup", required_argument, NULL, 'u' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "reorder-after", required_argument, NULL, 'a' },
		{ "reorder-ms", required_argument, NULL, 'm' },
		{ "delay", required_argument, NULL, 'd' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "truncate", required_argument, NULL, 'T' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'w' },
		{ "reset-after", required_argument, NULL, 'R' },
		{ "stall-every", required_argument, NULL, 'e' },
		{ "stall-ms", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_storage la, ta;
	socklen_t llen = 0, tlen = 0;
	uint64_t seconds = 0, seed = 1;
	int o;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "udp") && strcmp(argv[1], "tcp"))) {
		fputs(usage, stderr);
		return 2;
	}
	bool tcp = !strcmp(argv[1], "tcp");
	optind = 2;
	while ((o = getopt_long(argc, argv, "l:t:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'l':
			llen = parse_addr(optarg, &la);
			break;
		case 't':
			tlen = parse_addr(optarg, &ta);
			break;
		case 's':
			seed = parse_ms(optarg);
			break;
		case 'S':
			seconds = parse_ms(optarg);
			break;
		case 'D':
			opt.drop = parse_pct(optarg);
			break;
		case 'u':
			opt.dup = parse_pct(optarg);
			break;
		case 'r':
			opt.reorder = parse_pct(optarg);
			break;
		case 'a':
			opt.reorder_after = (unsigned)parse_ms(optarg);
			break;
		case 'm':
			opt.reorder_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'd':
			opt.delay_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'j':
			opt.jitter_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'T':
			opt.truncate = parse_pct(optarg);
			break;
		case 'c':
			opt.corrupt = parse_pct(optarg);
			break;
		case 'w':
			if (!strcmp(optarg, "up"))
				opt.dir = 1;
			else if (!strcmp(optarg, "down"))
				opt.dir = 2;
			else if (!strcmp(optarg, "both"))
				opt.dir = 3;
			else {
				fprintf(stderr, "faultrelay: --dir wants both, up or down, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'R':
			opt.reset_after_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'e':
			opt.stall_every_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'x':
			opt.stall_ns = parse_ms(optarg) * NS_PER_MS;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || !llen || !tlen) {
		fprintf(stderr, "faultrelay: -l LISTEN and -t TARGET are needed\n%s", usage);
		return 2;
	}
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1; /* never zero */
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	uint64_t end = seconds ? now_ns() + seconds * 1000000000ULL : UINT64_MAX;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tcp)
		run_tcp(&la, llen, &ta, tlen, end);
	else
		run_udp(&la, llen, &ta, tlen, end);
	return 0;
}
