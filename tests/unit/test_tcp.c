// SPDX-License-Identifier: MIT
/* The TCP transport: the frame parser (frames split at every byte boundary,
 * several per read, zero, oversized and largest lengths, a buffer that
 * starts small), the send ring (partial writes against a socketpair,
 * wrap-around, the handshake reserve), and the transport over loopback
 * (dialing, authentication timeout and redial with backoff, a dialed
 * connection given up when an initiation goes unanswered, the waiting
 * connections: their limit, whom a newcomer evicts, the grace period, the
 * small buffers until authentication, reading at accept; bad frames, the
 * table of dialed peers, which connections a peer's move, a sweep or the
 * per-peer cap closes). */
#include "unit.h"

#include <poll.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "messages.h"
#include "drop.h"
#include "encoding.h"
#include "tcp.h"
#include "tcp_frame.h"
#include "tcp_internal.h"

#define NS NS_PER_SEC
#define MAX_FRAME 1600

/* ---- frames ---- */

/* A stream of frames of these lengths; message i is filled with (i * 31 + j). */
static const size_t lengths[] = { 1, 2, 148, MAX_FRAME, 92, 64, 32, 255, 256, 1, MAX_FRAME - 1, 3 };
#define N_FRAMES (sizeof(lengths) / sizeof(lengths[0]))

static size_t make_stream(uint8_t *out)
{
	size_t off = 0;

	for (size_t i = 0; i < N_FRAMES; i++) {
		out[off++] = (uint8_t)(lengths[i] >> 8);
		out[off++] = (uint8_t)lengths[i];
		for (size_t j = 0; j < lengths[i]; j++)
			out[off++] = (uint8_t)(i * 31 + j);
	}
	return off;
}

static void check_frame(size_t i, const uint8_t *frame, size_t len)
{
	assert_true(i < N_FRAMES);
	assert_int_equal(len, lengths[i]);
	for (size_t j = 0; j < len; j++)
		assert_int_equal(frame[j], (uint8_t)(i * 31 + j));
}

/* Takes every complete frame out of rx; returns how many, checking each. */
static size_t drain(struct tcp_rx *rx, size_t first)
{
	const uint8_t *frame;
	size_t len, n = 0;
	enum tcp_frame_status st;

	while ((st = tcp_rx_next(rx, &frame, &len)) == TCP_FRAME_OK)
		check_frame(first + n++, frame, len);
	assert_int_equal(st, TCP_FRAME_PARTIAL);
	return n;
}

static void test_frame_parse(void **state)
{
	uint8_t b[4] = { 0 };
	size_t len = 0;

	(void)state;
	assert_int_equal(tcp_frame_parse(b, 0, MAX_FRAME, &len), TCP_FRAME_PARTIAL);
	assert_int_equal(tcp_frame_parse(b, 1, MAX_FRAME, &len), TCP_FRAME_PARTIAL);
	assert_int_equal(tcp_frame_parse(b, 2, MAX_FRAME, &len), TCP_FRAME_EMPTY);
	b[1] = 2;
	assert_int_equal(tcp_frame_parse(b, 3, MAX_FRAME, &len), TCP_FRAME_PARTIAL);
	assert_int_equal(tcp_frame_parse(b, 4, MAX_FRAME, &len), TCP_FRAME_OK);
	assert_int_equal(len, 2);
	/* The length is judged as soon as it is there, before the message. */
	b[0] = (uint8_t)((MAX_FRAME + 1) >> 8);
	b[1] = (uint8_t)(MAX_FRAME + 1);
	assert_int_equal(tcp_frame_parse(b, 2, MAX_FRAME, &len), TCP_FRAME_OVERSIZE);
	b[0] = b[1] = 0xff;
	assert_int_equal(tcp_frame_parse(b, 2, MAX_FRAME, &len), TCP_FRAME_OVERSIZE);
	assert_int_equal(tcp_frame_parse(b, 2, TCP_FRAME_MAX, &len), TCP_FRAME_PARTIAL);
}

/* The stream cut in two at every byte boundary: the same frames. */
static void test_split_everywhere(void **state)
{
	static uint8_t stream[N_FRAMES * (MAX_FRAME + 2)];
	size_t total = make_stream(stream);
	struct tcp_rx rx;

	(void)state;
	for (size_t cut = 0; cut <= total; cut++) {
		size_t n;
		assert_int_equal(tcp_rx_init(&rx, 2 * (MAX_FRAME + 2), MAX_FRAME), 0);
		/* The buffer is smaller than the stream: feed what fits, drain, repeat. */
		size_t off = 0;
		n = 0;
		while (off < cut) {
			off += tcp_rx_feed(&rx, stream + off, cut - off);
			n += drain(&rx, n);
		}
		while (off < total) {
			off += tcp_rx_feed(&rx, stream + off, total - off);
			n += drain(&rx, n);
		}
		assert_int_equal(n, N_FRAMES);
		assert_int_equal(tcp_rx_buffered(&rx), 0);
		tcp_rx_free(&rx);
	}
}

/* One byte at a time, in the smallest buffer allowed (one largest frame). */
static void test_byte_by_byte_smallest_buffer(void **state)
{
	static uint8_t stream[N_FRAMES * (MAX_FRAME + 2)];
	size_t total = make_stream(stream), n = 0;
	struct tcp_rx rx;

	(void)state;
	assert_int_equal(tcp_rx_init(&rx, MAX_FRAME + 2, MAX_FRAME), 0);
	for (size_t off = 0; off < total; off++) {
		assert_int_equal(tcp_rx_feed(&rx, stream + off, 1), 1);
		n += drain(&rx, n);
	}
	assert_int_equal(n, N_FRAMES);
	tcp_rx_free(&rx);
	assert_int_equal(tcp_rx_init(&rx, 1, MAX_FRAME), -EINVAL);
}

/* Many frames in one read. */
static void test_many_per_read(void **state)
{
	static uint8_t stream[N_FRAMES * (MAX_FRAME + 2)];
	size_t total = make_stream(stream);
	struct tcp_rx rx;

	(void)state;
	assert_int_equal(tcp_rx_init(&rx, sizeof(stream), MAX_FRAME), 0);
	assert_int_equal(tcp_rx_feed(&rx, stream, total), total);
	assert_int_equal(drain(&rx, 0), N_FRAMES);
	tcp_rx_free(&rx);
}

/* Good frames, then a zero length: the good ones come out, then the error,
 * which sticks; no more room is offered. */
static void test_zero_length(void **state)
{
	const uint8_t bytes[] = { 0, 1, 0xaa, 0, 0, 0, 1, 0xbb };
	const uint8_t *frame;
	size_t len, room;
	struct tcp_rx rx;

	(void)state;
	assert_int_equal(tcp_rx_init(&rx, 4096, MAX_FRAME), 0);
	assert_int_equal(tcp_rx_feed(&rx, bytes, sizeof(bytes)), sizeof(bytes));
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_OK);
	assert_int_equal(len, 1);
	assert_int_equal(frame[0], 0xaa);
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_EMPTY);
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_EMPTY);
	tcp_rx_space(&rx, &room);
	assert_int_equal(room, 0);
	assert_int_equal(tcp_rx_feed(&rx, bytes, sizeof(bytes)), 0);
	tcp_rx_free(&rx);
}

static void test_oversize_and_max(void **state)
{
	static uint8_t big[TCP_FRAME_HEADER_LEN + TCP_FRAME_MAX];
	const uint8_t *frame;
	size_t len;
	struct tcp_rx rx;

	(void)state;
	/* max_frame + 1: refused on its two length bytes. */
	assert_int_equal(tcp_rx_init(&rx, 4096, MAX_FRAME), 0);
	big[0] = (uint8_t)((MAX_FRAME + 1) >> 8);
	big[1] = (uint8_t)(MAX_FRAME + 1);
	assert_int_equal(tcp_rx_feed(&rx, big, 2), 2);
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_OVERSIZE);
	tcp_rx_free(&rx);

	/* The largest frame the wire can carry, in a buffer just big enough. */
	assert_int_equal(tcp_rx_init(&rx, sizeof(big), TCP_FRAME_MAX), 0);
	big[0] = big[1] = 0xff;
	for (size_t i = 2; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	assert_int_equal(tcp_rx_feed(&rx, big, sizeof(big)), sizeof(big));
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_OK);
	assert_int_equal(len, TCP_FRAME_MAX);
	assert_memory_equal(frame, big + 2, TCP_FRAME_MAX);
	assert_int_equal(tcp_rx_next(&rx, &frame, &len), TCP_FRAME_PARTIAL);
	tcp_rx_free(&rx);
	assert_int_equal(tcp_rx_init(&rx, 1 << 20, TCP_FRAME_MAX + 1), -EINVAL);
	assert_int_equal(tcp_rx_init(&rx, 1 << 20, 0), -EINVAL);
}

/* A buffer smaller than the frames: each frame waits for a resize to
 * tcp_rx_need, then comes out whole; what was buffered survives. */
static void test_rx_small_then_resized(void **state)
{
	static uint8_t stream[N_FRAMES * (MAX_FRAME + 2)];
	size_t total = make_stream(stream), off = 0, n = 0, resizes = 0;
	struct tcp_rx rx;

	(void)state;
	assert_int_equal(tcp_rx_init(&rx, TCP_FRAME_HEADER_LEN, MAX_FRAME), 0);
	while (off < total) {
		size_t room;
		tcp_rx_space(&rx, &room);
		if (!room) {
			size_t need = tcp_rx_need(&rx);
			assert_true(need > rx.cap && need <= MAX_FRAME + TCP_FRAME_HEADER_LEN);
			assert_int_equal(tcp_rx_resize(&rx, tcp_rx_buffered(&rx) - 1), -EINVAL);
			assert_int_equal(tcp_rx_resize(&rx, need), 0);
			resizes++;
			continue;
		}
		off += tcp_rx_feed(&rx, stream + off, total - off < 7 ? total - off : 7);
		n += drain(&rx, n);
	}
	assert_int_equal(n, N_FRAMES);
	assert_true(resizes >= 2); /* 2 -> 3 -> 150 -> MAX_FRAME + 2, at least */
	assert_int_equal(rx.cap, MAX_FRAME + TCP_FRAME_HEADER_LEN);
	tcp_rx_free(&rx);
}

/* ---- the send ring ---- */

static void fill_msg(uint8_t *msg, size_t len, uint8_t type, unsigned seq)
{
	msg[0] = type;
	for (size_t j = 1; j < len; j++)
		msg[j] = (uint8_t)(seq * 13 + j);
}

/* Reads what is waiting on fd into rx and checks the frames against the
 * sequence numbers expected (lengths given by len_of). Returns frames seen. */
static unsigned read_frames(int fd, struct tcp_rx *rx, unsigned next_seq, size_t (*len_of)(unsigned))
{
	unsigned seen = 0;

	for (;;) {
		size_t room, len;
		const uint8_t *frame;
		uint8_t *space = tcp_rx_space(rx, &room);
		ssize_t n = recv(fd, space, room, MSG_DONTWAIT);
		if (n <= 0)
			break;
		tcp_rx_commit(rx, (size_t)n);
		while (tcp_rx_next(rx, &frame, &len) == TCP_FRAME_OK) {
			unsigned seq = next_seq + seen++;
			assert_int_equal(len, len_of(seq));
			for (size_t j = 1; j < len; j++)
				assert_int_equal(frame[j], (uint8_t)(seq * 13 + j));
		}
	}
	return seen;
}

static size_t varied_len(unsigned seq)
{
	return 1 + (seq * 397) % 1500;
}

/* A socket buffer far smaller than the ring: writes are partial, the ring
 * wraps many times, and the far side still sees every frame, in order. */
static void test_tx_partial_writes(void **state)
{
	int sv[2], small = 4096;
	struct tcp_tx tx;
	struct tcp_rx rx;
	uint8_t msg[1600];
	unsigned pushed = 0, received = 0, pending_seen = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(tcp_tx_init(&tx, 16384, 1024), 0);
	assert_int_equal(tcp_rx_init(&rx, 8192, MAX_FRAME), 0);
	while (pushed < 2000) {
		/* Push until the ring refuses, flush what the socket takes. */
		while (pushed < 2000) {
			fill_msg(msg, varied_len(pushed), MESSAGE_DATA, pushed);
			if (!tcp_tx_push(&tx, msg, varied_len(pushed)))
				break;
			pushed++;
		}
		int r = tcp_tx_flush(&tx, sv[0]);
		assert_true(r == 0 || r == 1);
		if (r == 1) {
			assert_true(tcp_tx_pending(&tx) > 0);
			pending_seen++;
		}
		received += read_frames(sv[1], &rx, received, varied_len);
	}
	while (tcp_tx_pending(&tx)) {
		assert_true(tcp_tx_flush(&tx, sv[0]) >= 0);
		received += read_frames(sv[1], &rx, received, varied_len);
	}
	received += read_frames(sv[1], &rx, received, varied_len);
	assert_int_equal(received, 2000);
	assert_true(pending_seen > 0); /* the partial-write path did run */
	tcp_tx_free(&tx);
	tcp_rx_free(&rx);
	close(sv[0]);
	close(sv[1]);
}

/* Data stops where the reserve begins; handshake messages use the reserve. */
static void test_tx_handshake_reserve(void **state)
{
	struct tcp_tx tx;
	uint8_t data[1000], init[sizeof(struct message_handshake_initiation)];
	unsigned n_data = 0, n_init = 0;
	const size_t cap = 16384, reserve = 2048;

	(void)state;
	assert_int_equal(tcp_tx_init(&tx, cap, reserve), 0);
	fill_msg(data, sizeof(data), MESSAGE_DATA, 0);
	fill_msg(init, sizeof(init), MESSAGE_HANDSHAKE_INITIATION, 0);
	while (tcp_tx_push(&tx, data, sizeof(data)))
		n_data++;
	/* Data filled all but the reserve (and less than one more frame). */
	assert_true(cap - tcp_tx_pending(&tx) >= reserve);
	assert_true(cap - tcp_tx_pending(&tx) < reserve + 2 + sizeof(data));
	assert_int_equal(tcp_tx_pending(&tx), n_data * (2 + sizeof(data)));
	while (tcp_tx_push(&tx, data, 1))
		n_data++;
	assert_true(cap - tcp_tx_pending(&tx) >= reserve);
	assert_true(cap - tcp_tx_pending(&tx) < reserve + 3);
	/* A response and a cookie reply fit too, and initiations until full. */
	uint8_t resp[sizeof(struct message_handshake_response)], cookie[sizeof(struct message_handshake_cookie)];
	fill_msg(resp, sizeof(resp), MESSAGE_HANDSHAKE_RESPONSE, 1);
	fill_msg(cookie, sizeof(cookie), MESSAGE_HANDSHAKE_COOKIE, 2);
	assert_true(tcp_tx_push(&tx, resp, sizeof(resp)));
	assert_true(tcp_tx_push(&tx, cookie, sizeof(cookie)));
	assert_false(tcp_tx_push(&tx, data, 1)); /* not even a tiny data message */
	while (tcp_tx_push(&tx, init, sizeof(init)))
		n_init++;
	assert_true(n_init >= 5);
	assert_true(cap - tcp_tx_pending(&tx) < 2 + sizeof(init));
	/* Nothing of any kind when it is full; nothing empty or too long ever. */
	assert_false(tcp_tx_push(&tx, init, sizeof(init)));
	tcp_tx_free(&tx);
	assert_int_equal(tcp_tx_init(&tx, 1 << 18, 0), 0);
	assert_false(tcp_tx_push(&tx, data, 0));
	static uint8_t huge[TCP_FRAME_MAX + 1];
	assert_false(tcp_tx_push(&tx, huge, sizeof(huge)));
	assert_true(tcp_tx_push(&tx, huge, TCP_FRAME_MAX));
	tcp_tx_free(&tx);
}

/* A closed far end: flush reports the error, without SIGPIPE. */
static void test_tx_broken(void **state)
{
	int sv[2];
	struct tcp_tx tx;
	uint8_t msg[100];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(tcp_tx_init(&tx, 4096, 512), 0);
	fill_msg(msg, sizeof(msg), MESSAGE_DATA, 0);
	assert_true(tcp_tx_push(&tx, msg, sizeof(msg)));
	assert_int_equal(tcp_tx_flush(&tx, sv[0]), -EPIPE);
	tcp_tx_free(&tx);
	close(sv[0]);
}

/* ---- the transport over loopback ---- */

#define TAG_LISTEN 1
#define TAG_CONN 2

struct side {
	struct tcp t;
	int epfd;
	uint64_t drops[DROP_CAUSE_COUNT];
	unsigned n_recv;
	struct endpoint last_from;
	uint8_t last[2048];
	size_t last_len;
	unsigned ups, downs;
	bool auth_on_initiation; /* on_recv: peer key_b authenticated on it */
	struct endpoint up_ep;
	uint32_t down_conn;
	uint8_t up_key[KEY_LEN], down_key[KEY_LEN];
	bool refuse_up; /* on_up: "no such peer" */
	/* With in_use_op: the connections the side's peers name. */
	bool in_use_op;
	uint32_t in_use[4];
	size_t n_in_use;
	unsigned in_use_asked;
};

static struct pool pool;
static const uint8_t key_a[KEY_LEN] = { 0xa1, 0xa2, 0xa3 }, key_b[KEY_LEN] = { 0xb1, 0xb2, 0xb3 };
static uint64_t now = NS;

static void on_recv(void *ctx, struct pkt **pkts, int n, uint64_t t)
{
	struct side *s = ctx;
	(void)t;
	for (int i = 0; i < n; i++) {
		s->n_recv++;
		if (s->auth_on_initiation && pkts[i]->data[0] == MESSAGE_HANDSHAKE_INITIATION)
			tcp_endpoint_changed(&s->t, key_b, 0, pkts[i]->ep.conn);
		s->last_from = pkts[i]->ep;
		s->last_len = pkts[i]->len;
		memcpy(s->last, pkts[i]->data, pkts[i]->len);
		pool_put(&pool, pkts[i]);
	}
}

static bool on_up(void *ctx, const uint8_t public_key[KEY_LEN], const struct endpoint *ep, uint64_t t)
{
	struct side *s = ctx;
	(void)t;
	s->ups++;
	s->up_ep = *ep;
	memcpy(s->up_key, public_key, KEY_LEN);
	return !s->refuse_up;
}

static void on_down(void *ctx, const uint8_t public_key[KEY_LEN], uint32_t conn)
{
	struct side *s = ctx;
	s->downs++;
	s->down_conn = conn;
	memcpy(s->down_key, public_key, KEY_LEN);
}

static void on_conns_in_use(void *ctx, void (*fn)(void *arg, uint32_t id), void *arg)
{
	struct side *s = ctx;
	s->in_use_asked++;
	for (size_t i = 0; i < s->n_in_use; i++)
		fn(arg, s->in_use[i]);
}

static void on_drop(void *ctx, enum drop_cause cause, uint64_t n)
{
	struct side *s = ctx;
	s->drops[cause] += n;
}

/* in_use_op: the side tells the transport which connections its peers name
 * (and so the transport sweeps by itself). */
static void side_init_with(struct side *s, bool in_use_op)
{
	struct tcp_ops ops = { .ctx = s, .recv = on_recv, .dialer_up = on_up, .dialer_down = on_down, .drop = on_drop };

	memset(s, 0, sizeof(*s));
	if (in_use_op)
		ops.conns_in_use = on_conns_in_use;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(s->epfd >= 0);
	assert_int_equal(tcp_init(&s->t, &ops, s->epfd, TAG_LISTEN, TAG_CONN, &pool), 0);
}

static void side_init(struct side *s)
{
	side_init_with(s, false);
}

static void side_free(struct side *s)
{
	tcp_destroy(&s->t);
	close(s->epfd);
}

/* A listener on 127.0.0.1 only (tcp_listen_open would take every address). */
static uint16_t side_listen(struct side *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 128), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(tcp_set_listener(&s->t, fd), 0);
	return ntohs(sin.sin_port);
}

static void pump(struct side *s)
{
	struct epoll_event evs[16];
	int n = epoll_wait(s->epfd, evs, 16, 1);

	for (int i = 0; i < n; i++) {
		if ((uint32_t)evs[i].data.u64 == TAG_LISTEN)
			tcp_on_listen(&s->t, now);
		else
			tcp_on_conn(&s->t, (uint32_t)(evs[i].data.u64 >> 32), evs[i].events, now);
	}
	tcp_tick(&s->t, now);
}

static void pump2(struct side *a, struct side *b)
{
	pump(a);
	if (b)
		pump(b);
}

/* Pumps one or both sides until cond holds (at most about 3 s of real time). */
#define PUMP_UNTIL(cond, a, b)                               \
	do {                                                 \
		for (int i_ = 0; i_ < 1500 && !(cond); i_++) \
			pump2(a, b);                         \
		assert_true(cond);                           \
	} while (0)

static void loopback(struct endpoint *ep, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ep->addr.in4.sin_port = htons(port);
}

static void send_msg(struct side *s, const struct endpoint *to, uint8_t type, size_t len)
{
	struct pkt *k = pool_get(&pool);

	assert_non_null(k);
	fill_msg(k->data, len, type, 7);
	k->len = (uint32_t)len;
	k->ep = *to;
	tcp_send(&s->t, &k, 1);
	pool_put(&pool, k);
}

static int setup(void **state)
{
	(void)state;
	now = NS;
	return pool_init(&pool, 512, PKT_HEADROOM + MAX_FRAME + PKT_TAILROOM);
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(pool.available, pool.count);
	pool_destroy(&pool);
	return 0;
}

static void test_dial_exchange_bind(void **state)
{
	struct side a, b;
	struct endpoint target;
	uint16_t port;

	(void)state;
	side_init(&a);
	side_init(&b);
	port = side_listen(&a);
	loopback(&target, port);
	struct tcp_peer *dl = tcp_peer_add(&b.t, key_a, &target, now);
	assert_non_null(dl);
	PUMP_UNTIL(b.ups == 1 && a.t.n_unauth == 1, &a, &b);
	assert_memory_equal(b.up_key, key_a, KEY_LEN);
	assert_int_equal(tcp_peer_conn(&b.t, dl), b.up_ep.conn);
	assert_true(b.up_ep.conn != 0 && b.up_ep.conn != ENDPOINT_TCP_DOWN);
	assert_true(tcp_conn_exists(&b.t, b.up_ep.conn));
	target.conn = b.up_ep.conn;
	assert_true(endpoint_equal(&b.up_ep, &target)); /* the address dialed, and the id */

	/* B -> A: the frame arrives with A's id for the connection. */
	send_msg(&b, &b.up_ep, MESSAGE_HANDSHAKE_INITIATION, sizeof(struct message_handshake_initiation));
	PUMP_UNTIL(a.n_recv == 1, &a, &b);
	assert_int_equal(a.last_len, sizeof(struct message_handshake_initiation));
	assert_int_equal(a.last[0], MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(a.last_from.addr.sa.sa_family, AF_INET);
	assert_int_equal(a.last_from.addr.in4.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_true(tcp_conn_exists(&a.t, a.last_from.conn));

	/* Authenticated: no longer counted, no deadline. */
	tcp_conn_authenticated(&a.t, a.last_from.conn, false);
	assert_int_equal(a.t.n_unauth, 0);
	now += 60 * NS;
	pump(&a);
	assert_true(tcp_conn_exists(&a.t, a.last_from.conn));

	/* A -> B over the same connection, a large data message. */
	send_msg(&a, &a.last_from, MESSAGE_DATA, MAX_FRAME);
	PUMP_UNTIL(b.n_recv == 1, &a, &b);
	assert_int_equal(b.last_len, MAX_FRAME);
	assert_int_equal(b.last_from.conn, b.up_ep.conn);

	/* A sweep without a mark closes it; B's dialer notices and redials. */
	uint32_t old = b.up_ep.conn;
	tcp_sweep(&a.t);
	PUMP_UNTIL(b.downs == 1, &a, &b);
	assert_int_equal(b.down_conn, old);
	assert_memory_equal(b.down_key, key_a, KEY_LEN);
	assert_int_equal(tcp_peer_conn(&b.t, dl), ENDPOINT_TCP_DOWN);
	/* The connection carried frames: the first retry comes within 1 s. */
	assert_true(tcp_next_deadline(&b.t) <= now + TCP_RETRY_FIRST_NS);
	now += TCP_RETRY_FIRST_NS;
	PUMP_UNTIL(b.ups == 2, &a, &b);
	assert_true(b.up_ep.conn > old);
	/* Sends to the old id, or to no connection, are counted. */
	struct endpoint stale = b.up_ep;
	stale.conn = old;
	send_msg(&b, &stale, MESSAGE_DATA, 100);
	stale.conn = ENDPOINT_TCP_DOWN;
	send_msg(&b, &stale, MESSAGE_DATA, 100);
	assert_int_equal(b.drops[DROP_TCP_NO_CONN], 2);
	side_free(&a);
	side_free(&b);
}

/* A connection from a peer we dial too is kept: the sweep leaves it. */
static void test_sweep_spares_kept(void **state)
{
	struct side a, b;
	struct endpoint target;

	(void)state;
	side_init(&a);
	side_init(&b);
	loopback(&target, side_listen(&a));
	assert_non_null(tcp_peer_add(&b.t, key_a, &target, now));
	PUMP_UNTIL(b.ups == 1 && a.t.n_unauth == 1, &a, &b);
	send_msg(&b, &b.up_ep, MESSAGE_DATA, 32);
	PUMP_UNTIL(a.n_recv == 1, &a, &b);
	tcp_conn_authenticated(&a.t, a.last_from.conn, true);
	tcp_sweep(&a.t);
	now += 60 * NS;
	pump2(&a, &b);
	assert_true(tcp_conn_exists(&a.t, a.last_from.conn));
	assert_int_equal(b.downs, 0);
	side_free(&a);
	side_free(&b);
}

/* Nothing authenticated within 5 s: closed, counted; the dialer backs off. */
static void test_auth_timeout_and_backoff(void **state)
{
	struct side a, b;
	struct endpoint target;
	uint64_t delays[8];

	(void)state;
	side_init(&a);
	side_init(&b);
	loopback(&target, side_listen(&a));
	assert_non_null(tcp_peer_add(&b.t, key_a, &target, now));
	PUMP_UNTIL(b.ups == 1 && a.t.n_unauth == 1, &a, &b);
	now += TCP_AUTH_TIMEOUT_NS - 1;
	pump(&a);
	assert_int_equal(a.t.n_unauth, 1);
	now += 1;
	pump(&a);
	assert_int_equal(a.t.n_unauth, 0);
	assert_int_equal(a.drops[DROP_TCP_AUTH_TIMEOUT], 1);
	PUMP_UNTIL(b.downs == 1, &a, &b);

	/* Now every attempt fails (nobody listens): the delays double up to 15 s. */
	tcp_set_listener(&a.t, -1);
	for (int i = 0; i < 8; i++) {
		uint64_t failed_at = now;
		unsigned downs = b.downs;
		/* The deadline may be early (a dead connection's): then nothing
		 * happens there, and the next one is the retry. */
		do {
			now = tcp_next_deadline(&b.t);
			pump(&b);
		} while (b.t.n_conns == 0 && b.downs == downs);
		delays[i] = now - failed_at;
		PUMP_UNTIL(b.downs == downs + 1, &b, NULL);
	}
	/* The first connection came up but carried nothing: no reset. */
	assert_true(delays[0] >= NS / 2 && delays[0] <= NS);
	assert_true(delays[1] >= NS && delays[1] <= 2 * NS);
	assert_true(delays[2] >= 2 * NS && delays[2] <= 4 * NS);
	assert_true(delays[3] >= 4 * NS && delays[3] <= 8 * NS);
	for (int i = 4; i < 8; i++)
		assert_true(delays[i] >= TCP_RETRY_MAX_NS / 2 && delays[i] <= TCP_RETRY_MAX_NS);
	assert_int_equal(b.ups, 1);
	side_free(&a);
	side_free(&b);
}

/* A client socket connected to the listener from 127.0.0.SRC. */
static int connect_from(uint16_t port, uint8_t src)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000000U | src) };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/* The far end of fd reset it (or closed it). */
static bool was_closed(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char byte;

	return poll(&pfd, 1, 1000) == 1 && recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

/* Nothing came back on fd: its connection still waits. */
static bool still_open(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) == 0;
}

/* A waiting connection is small: a thousand of them cost less than the
 * buffers of three authenticated ones. */
static void test_waiting_is_small(void **state)
{
	(void)state;
	assert_int_equal(TCP_UNAUTH_RX_BUF, 150);
	assert_true(TCP_MAX_UNAUTH * (sizeof(struct tcp_conn) + TCP_UNAUTH_RX_BUF) < 3 * (TCP_RX_BUF + TCP_TX_BUF));
}

/* When every waiting place is taken, a newcomer evicts the oldest waiting
 * connection, but never one younger than the grace period: the newcomer is
 * refused instead. */
static void test_unauth_limit(void **state)
{
	enum { MAX = 8 };
	struct side a;
	int fds[MAX], late[2], next;
	uint16_t port;

	(void)state;
	side_init(&a);
	port = side_listen(&a);
	a.t.max_unauth = MAX;
	for (size_t i = 0; i < MAX; i++)
		fds[i] = connect_from(port, (uint8_t)(2 + i)); /* one source each */
	PUMP_UNTIL(a.t.n_unauth == MAX, &a, NULL);

	/* Full, and all younger than a second: newcomers are refused. */
	now += TCP_UNAUTH_GRACE_NS - 1;
	late[0] = connect_from(port, 20);
	late[1] = connect_from(port, 21);
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == 2, &a, NULL);
	assert_int_equal(a.t.n_unauth, MAX);
	assert_true(was_closed(late[0]));
	assert_true(was_closed(late[1]));
	for (size_t i = 0; i < MAX; i++)
		assert_true(still_open(fds[i]));

	/* A second on, the oldest makes room. */
	now += 1;
	next = connect_from(port, 22);
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == 3, &a, NULL);
	assert_int_equal(a.t.n_unauth, MAX);
	assert_true(was_closed(fds[0]));
	for (size_t i = 1; i < MAX; i++)
		assert_true(still_open(fds[i]));
	assert_true(still_open(next));
	for (size_t i = 0; i < MAX; i++)
		close(fds[i]);
	close(late[0]);
	close(late[1]);
	close(next);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* The newcomer evicts from the source holding the most waiting places, not
 * the oldest connection overall. */
static void test_evict_most_waiting(void **state)
{
	enum { MAX = 8 };
	struct side a;
	int first, flood[TCP_MAX_UNAUTH_PER_SOURCE], single[3], n1, n2;
	uint16_t port;

	(void)state;
	side_init(&a);
	port = side_listen(&a);
	a.t.max_unauth = MAX;
	first = connect_from(port, 2); /* the oldest of all */
	PUMP_UNTIL(a.t.n_unauth == 1, &a, NULL);
	now += 1000;
	for (size_t i = 0; i < TCP_MAX_UNAUTH_PER_SOURCE; i++)
		flood[i] = connect_from(port, 3);
	for (size_t i = 0; i < 3; i++)
		single[i] = connect_from(port, (uint8_t)(4 + i));
	PUMP_UNTIL(a.t.n_unauth == MAX, &a, NULL);
	assert_int_equal(a.t.wait_head->src_waiting, 1);
	assert_int_equal(a.t.wait_head->wnext->src_waiting, TCP_MAX_UNAUTH_PER_SOURCE);

	now += TCP_UNAUTH_GRACE_NS;
	n1 = connect_from(port, 10);
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == 1, &a, NULL);
	assert_true(was_closed(flood[0]));
	assert_true(still_open(first));
	/* Source 3 still holds the most (3): its next oldest goes. */
	n2 = connect_from(port, 11);
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == 2, &a, NULL);
	assert_true(was_closed(flood[1]));
	assert_true(still_open(first));
	for (size_t i = 2; i < TCP_MAX_UNAUTH_PER_SOURCE; i++)
		assert_true(still_open(flood[i]));
	for (size_t i = 0; i < 3; i++)
		assert_true(still_open(single[i]));
	assert_true(still_open(n1) && still_open(n2));
	assert_int_equal(a.t.n_unauth, MAX);
	for (size_t i = 0; i < TCP_MAX_UNAUTH_PER_SOURCE; i++)
		close(flood[i]);
	for (size_t i = 0; i < 3; i++)
		close(single[i]);
	close(first);
	close(n1);
	close(n2);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* One source holds at most TCP_MAX_UNAUTH_PER_SOURCE waiting connections:
 * more are refused within the grace period, and after it a newcomer from
 * that source evicts the source's own oldest. */
static void test_unauth_per_source(void **state)
{
	struct side a;
	int fds[TCP_MAX_UNAUTH_PER_SOURCE + 3], other, again;
	uint16_t port;

	(void)state;
	side_init(&a);
	port = side_listen(&a);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fds[i] = connect_from(port, 9);
	PUMP_UNTIL(a.t.n_unauth + a.drops[DROP_TCP_CONN_LIMIT] == sizeof(fds) / sizeof(fds[0]), &a, NULL);
	assert_int_equal(a.t.n_unauth, TCP_MAX_UNAUTH_PER_SOURCE);
	assert_int_equal(a.drops[DROP_TCP_CONN_LIMIT], 3);
	/* Another source is not affected. */
	other = connect_from(port, 10);
	PUMP_UNTIL(a.t.n_unauth == TCP_MAX_UNAUTH_PER_SOURCE + 1, &a, NULL);
	/* A second on, the source's oldest makes room for its newest. */
	now += TCP_UNAUTH_GRACE_NS;
	again = connect_from(port, 9);
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == 4, &a, NULL);
	assert_int_equal(a.t.n_unauth, TCP_MAX_UNAUTH_PER_SOURCE + 1);
	assert_true(was_closed(fds[0]));
	assert_true(still_open(fds[1]) && still_open(again) && still_open(other));
	close(other);
	close(again);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* A client's initiation that is in when its connection is accepted is read
 * at once, in the same event: a burst of connections right behind it cannot
 * crowd it out, and the ones that do not fit are refused. */
static void test_read_at_accept(void **state)
{
	enum { MAX = 4, FLOOD = 16 };
	uint8_t frame[TCP_FRAME_HEADER_LEN + sizeof(struct message_handshake_initiation)];
	struct side a;
	int client, flood[FLOOD], more[MAX];
	uint16_t port;
	struct tcp_conn *c;

	(void)state;
	side_init(&a);
	a.auth_on_initiation = true;
	port = side_listen(&a);
	a.t.max_unauth = MAX;
	client = connect_from(port, 2);
	frame[0] = 0;
	frame[1] = sizeof(struct message_handshake_initiation);
	fill_msg(frame + 2, sizeof(struct message_handshake_initiation), MESSAGE_HANDSHAKE_INITIATION, 1);
	assert_int_equal(send(client, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (size_t i = 0; i < FLOOD; i++)
		flood[i] = connect_from(port, (uint8_t)(3 + i));
	/* One event of the listening socket, nothing else. */
	tcp_on_listen(&a.t, now);
	assert_int_equal(a.n_recv, 1);
	c = tcp_conn_find(&a.t, a.last_from.conn);
	assert_non_null(c);
	assert_int_equal(c->state, CONN_BOUND);
	assert_int_equal(a.t.n_unauth, MAX);
	assert_int_equal(a.drops[DROP_TCP_CONN_LIMIT], FLOOD - MAX);

	/* Later bursts evict the flood's, never the client's. */
	now += TCP_UNAUTH_GRACE_NS;
	for (size_t i = 0; i < MAX; i++)
		more[i] = connect_from(port, (uint8_t)(30 + i));
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == FLOOD, &a, NULL);
	assert_true(tcp_conn_exists(&a.t, c->id));
	assert_true(still_open(client));
	close(client);
	for (size_t i = 0; i < FLOOD; i++)
		close(flood[i]);
	for (size_t i = 0; i < MAX; i++)
		close(more[i]);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* A client whose initiation comes with its connection gets in although
 * every waiting place is taken by connections younger than the grace period
 * (so none may be evicted), and although its address holds as many waiting
 * connections as it may: it is read before it is judged, and never waits. */
static void test_client_through_full(void **state)
{
	enum { MAX = 8 };
	uint8_t frame[TCP_FRAME_HEADER_LEN + sizeof(struct message_handshake_initiation)];
	struct side a;
	int flood[MAX], client, late;
	uint16_t port;

	(void)state;
	side_init(&a);
	a.auth_on_initiation = true;
	port = side_listen(&a);
	a.t.max_unauth = MAX;
	for (size_t i = 0; i < MAX; i++)
		flood[i] = connect_from(port, (uint8_t)(2 + i % 2)); /* 4 from 127.0.0.2, 4 from .3 */
	PUMP_UNTIL(a.t.n_unauth == MAX, &a, NULL);

	frame[0] = 0;
	frame[1] = sizeof(struct message_handshake_initiation);
	fill_msg(frame + 2, sizeof(struct message_handshake_initiation), MESSAGE_HANDSHAKE_INITIATION, 1);
	client = connect_from(port, 2); /* the full source, too */
	assert_int_equal(send(client, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	late = connect_from(port, 20); /* says nothing: refused */
	PUMP_UNTIL(a.n_recv == 1 && a.drops[DROP_TCP_CONN_LIMIT] == 1, &a, NULL);
	assert_int_equal(tcp_conn_find(&a.t, a.last_from.conn)->state, CONN_BOUND);
	assert_true(still_open(client));
	assert_true(was_closed(late));
	for (size_t i = 0; i < MAX; i++)
		assert_true(still_open(flood[i]));
	assert_int_equal(a.t.n_unauth, MAX);
	for (size_t i = 0; i < MAX; i++)
		close(flood[i]);
	close(client);
	close(late);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* Out of descriptors, a connection that has waited past the grace period
 * makes room; within it, the listener pauses and nothing is evicted. */
static void test_out_of_descriptors(void **state)
{
	enum { N = 6 };
	struct side a;
	struct rlimit saved, low;
	int fds[N], spare[N], free_slots = 0;
	uint16_t port;

	(void)state;
	side_init(&a);
	port = side_listen(&a);
	for (size_t i = 0; i < N; i++)
		fds[i] = connect_from(port, (uint8_t)(2 + i));
	/* Room for three more descriptors (what dup finds free below the limit). */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)dup(0);
	close((int)low.rlim_cur);
	low.rlim_cur += 3;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (free_slots < N && (spare[free_slots] = dup(0)) >= 0)
		free_slots++;
	for (int i = 0; i < free_slots; i++)
		close(spare[i]);
	assert_true(free_slots >= 1 && free_slots <= 3);

	PUMP_UNTIL(a.t.n_unauth == (unsigned)free_slots && a.t.listen_paused, &a, NULL);
	assert_int_equal(a.drops[DROP_TCP_CONN_LIMIT], 0);
	/* A second on: each of the first makes room for one more. */
	now += TCP_UNAUTH_GRACE_NS;
	PUMP_UNTIL(a.drops[DROP_TCP_CONN_LIMIT] == (uint64_t)(N - free_slots), &a, NULL);
	assert_int_equal(a.t.n_unauth, free_slots);
	for (int i = 0; i < N - free_slots; i++)
		assert_true(was_closed(fds[i]));
	for (int i = N - free_slots; i < N; i++)
		assert_true(still_open(fds[i]));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	for (size_t i = 0; i < N; i++)
		close(fds[i]);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* The large buffers come after authentication (accepted) or once up
 * (dialed): a waiting connection has a small receive buffer, grown to one
 * largest frame at most, and no send ring. */
static void test_buffers_after_auth(void **state)
{
	uint8_t frame[TCP_FRAME_HEADER_LEN + 1000];
	struct side a, b;
	struct endpoint target;
	struct tcp_peer *tp;
	struct tcp_conn *c;
	uint16_t port;
	int fd;

	(void)state;
	side_init(&a);
	side_init(&b);
	port = side_listen(&a);
	fd = connect_from(port, 2);
	PUMP_UNTIL(a.t.n_unauth == 1, &a, NULL);
	c = a.t.wait_head;
	assert_int_equal(c->rx.cap, TCP_UNAUTH_RX_BUF);
	assert_null(c->tx.buf);

	/* A frame longer than that before authenticating: one largest frame. */
	frame[0] = 1000 >> 8;
	frame[1] = 1000 & 0xff;
	fill_msg(frame + 2, 1000, MESSAGE_DATA, 3);
	assert_int_equal(send(fd, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	PUMP_UNTIL(a.n_recv == 1, &a, NULL);
	assert_int_equal(a.last_len, 1000);
	assert_int_equal(c->rx.cap, a.t.max_frame + TCP_FRAME_HEADER_LEN);
	assert_null(c->tx.buf);

	/* Authenticated: full size, and it carries large frames both ways. */
	tcp_conn_authenticated(&a.t, c->id, false);
	assert_int_equal(c->rx.cap, TCP_RX_BUF);
	assert_int_equal(c->tx.cap, TCP_TX_BUF);
	send_msg(&a, &c->ep, MESSAGE_DATA, MAX_FRAME);
	{
		uint8_t back[TCP_FRAME_HEADER_LEN + MAX_FRAME];
		size_t got = 0;
		while (got < sizeof(back)) {
			ssize_t r = recv(fd, back + got, sizeof(back) - got, 0);
			assert_true(r > 0);
			got += (size_t)r;
		}
		assert_int_equal((size_t)back[0] << 8 | back[1], MAX_FRAME);
	}

	/* Dialed: nothing while connecting, full size once up. */
	loopback(&target, port);
	tp = tcp_peer_add(&b.t, key_a, &target, now);
	assert_non_null(tp);
	pump(&b);
	c = tcp_conn_find(&b.t, tp->conn);
	assert_non_null(c);
	assert_int_equal(c->state, CONN_CONNECTING);
	assert_null(c->rx.buf);
	assert_null(c->tx.buf);
	PUMP_UNTIL(b.ups == 1, &a, &b);
	assert_int_equal(c->rx.cap, TCP_RX_BUF);
	assert_int_equal(c->tx.cap, TCP_TX_BUF);
	close(fd);
	side_free(&a);
	side_free(&b);
}

/* A raw client from 127.0.0.SRC that sends one frame; returns its socket
 * and, in *id, the connection's id on A. */
static int client_with_frame(struct side *a, uint16_t port, uint8_t src, uint32_t *id)
{
	static const char frame[] = { 0x00, 0x01, MESSAGE_DATA };
	unsigned before = a->n_recv;
	int fd = connect_from(port, src);

	assert_int_equal(send(fd, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	PUMP_UNTIL(a->n_recv == before + 1, a, NULL);
	*id = a->last_from.conn;
	assert_true(tcp_conn_exists(&a->t, *id));
	return fd;
}

/* Dialed peers by public key: many of them, found again, each once. */
static void test_peer_table(void **state)
{
	struct side a;
	struct endpoint target;
	struct tcp_peer *first = NULL;
	uint8_t key[KEY_LEN];
	enum { N = 3000 };

	(void)state;
	side_init(&a);
	loopback(&target, 9);
	assert_null(tcp_peer_find(&a.t, key_a));
	for (unsigned i = 0; i < N; i++) {
		memset(key, 0, sizeof(key));
		/* A third differ only in their last bytes: one bucket's chain. */
		memcpy(i % 3 ? key : key + KEY_LEN - sizeof(i), &i, sizeof(i));
		key[KEY_LEN - 8] = (uint8_t)(i % 3);
		struct tcp_peer *tp = tcp_peer_add(&a.t, key, &target, now);
		assert_non_null(tp);
		if (!first)
			first = tp;
		assert_ptr_equal(tcp_peer_add(&a.t, key, &target, now), tp); /* once */
	}
	assert_int_equal(tcp_peer_count(&a.t), N);
	for (unsigned i = 0; i < N; i++) {
		memset(key, 0, sizeof(key));
		memcpy(i % 3 ? key : key + KEY_LEN - sizeof(i), &i, sizeof(i));
		key[KEY_LEN - 8] = (uint8_t)(i % 3);
		struct tcp_peer *tp = tcp_peer_find(&a.t, key);
		assert_non_null(tp);
		assert_int_equal(tcp_peer_conn(&a.t, tp), ENDPOINT_TCP_DOWN); /* not dialed yet */
		if (i == 0)
			assert_ptr_equal(tp, first);
	}
	assert_null(tcp_peer_find(&a.t, key_a));
	side_free(&a);
}

/* The owner has no such peer any more when its connection comes up: the
 * transport stops dialing it, until it gets a target again. */
static void test_dialer_up_refused(void **state)
{
	struct side a, b;
	struct endpoint target;
	struct tcp_peer *tp;

	(void)state;
	side_init(&a);
	side_init(&b);
	loopback(&target, side_listen(&a));
	tp = tcp_peer_add(&b.t, key_a, &target, now);
	assert_non_null(tp);
	b.refuse_up = true;
	PUMP_UNTIL(b.ups == 1 && b.t.n_conns == 0, &a, &b);
	assert_int_equal(tcp_peer_conn(&b.t, tp), ENDPOINT_TCP_DOWN);
	now += 60 * NS;
	PUMP_UNTIL(a.t.n_conns == 0, &a, &b);
	assert_int_equal(b.ups, 1);
	assert_int_equal(b.downs, 0); /* the owner knows */
	assert_int_equal(tcp_next_deadline(&b.t), UINT64_MAX);

	b.refuse_up = false;
	tcp_peer_set_target(&b.t, tp, &target, now);
	PUMP_UNTIL(b.ups == 2, &a, &b);
	assert_int_equal(tcp_peer_conn(&b.t, tp), b.up_ep.conn);
	side_free(&a);
	side_free(&b);
}

/* The engine moves a peer from one accepted connection to another: the old
 * one is closed unless another peer names it or we dial the peer too. */
static void test_endpoint_changed(void **state)
{
	struct side a;
	struct endpoint nowhere;
	uint32_t x, y, z;
	int fx, fy, fz;
	uint16_t port;

	(void)state;
	side_init_with(&a, true);
	port = side_listen(&a);
	fx = client_with_frame(&a, port, 2, &x);
	fy = client_with_frame(&a, port, 3, &y);
	fz = client_with_frame(&a, port, 4, &z);
	assert_int_equal(a.t.n_unauth, 3);

	/* B authenticates on x: bound, no deadline. */
	a.in_use[0] = x;
	a.n_in_use = 1;
	tcp_endpoint_changed(&a.t, key_b, 0, x);
	assert_int_equal(a.t.n_unauth, 2);
	/* B reconnected on y: x is nobody's, closed. */
	a.in_use[0] = y;
	tcp_endpoint_changed(&a.t, key_b, x, y);
	assert_false(tcp_conn_exists(&a.t, x));
	assert_true(tcp_conn_exists(&a.t, y));
	/* B moves on to z, but another peer names y (it is behind the same
	 * address, say): y stays. */
	a.in_use[1] = z;
	a.n_in_use = 2;
	tcp_endpoint_changed(&a.t, key_b, y, z);
	assert_true(tcp_conn_exists(&a.t, y));
	assert_true(tcp_conn_exists(&a.t, z));

	/* A peer we dial too keeps both of its connections: moving to UDP
	 * closes nothing, nor does a sweep when nobody names z. */
	loopback(&nowhere, 9);
	assert_non_null(tcp_peer_add(&a.t, key_b, &nowhere, now));
	tcp_endpoint_changed(&a.t, key_b, z, z);
	a.n_in_use = 0;
	tcp_endpoint_changed(&a.t, key_b, z, 0);
	tcp_sweep(&a.t);
	assert_true(tcp_conn_exists(&a.t, z));
	assert_false(tcp_conn_exists(&a.t, y)); /* nobody's, not kept */

	tcp_peer_stop(&a.t, tcp_peer_find(&a.t, key_b)); /* before it ever dialed */
	close(fx);
	close(fy);
	close(fz);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* With conns_in_use, the transport sweeps every TCP_SWEEP_INTERVAL_NS by
 * itself, and never hands out an id a peer still names. */
static void test_sweep_by_itself(void **state)
{
	struct side a;
	uint32_t x, named;
	uint16_t port;
	int fd;

	(void)state;
	side_init_with(&a, true);
	port = side_listen(&a);
	named = a.t.next_id;
	a.in_use[0] = named; /* a closed connection some peer still names */
	a.n_in_use = 1;
	fd = client_with_frame(&a, port, 2, &x);
	assert_int_equal(x, named + 1);
	tcp_endpoint_changed(&a.t, key_b, 0, x);
	a.in_use[0] = x;

	/* Named: it stays, sweep after sweep. */
	for (int i = 0; i < 3; i++) {
		unsigned asked = a.in_use_asked;
		assert_true(tcp_next_deadline(&a.t) <= now + TCP_SWEEP_INTERVAL_NS);
		now += TCP_SWEEP_INTERVAL_NS;
		pump(&a);
		assert_true(a.in_use_asked > asked);
		assert_true(tcp_conn_exists(&a.t, x));
	}
	/* Nobody's any more: the next sweep closes it, not an earlier one. */
	a.n_in_use = 0;
	now += TCP_SWEEP_INTERVAL_NS - 1;
	pump(&a);
	assert_true(tcp_conn_exists(&a.t, x));
	now += 1;
	pump(&a);
	assert_false(tcp_conn_exists(&a.t, x));
	close(fd);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* A peer we dial too keeps the connections it opens to us, but only its
 * newest TCP_MAX_CONNS_PER_PEER: each reconnect closes its oldest (unless a
 * peer names it). */
static void test_per_peer_cap(void **state)
{
	struct side a;
	struct endpoint nowhere;
	uint32_t x, y, z, w;
	int fx, fy, fz, fw;
	uint16_t port;

	(void)state;
	side_init_with(&a, true);
	port = side_listen(&a);
	loopback(&nowhere, 9);
	assert_non_null(tcp_peer_add(&a.t, key_b, &nowhere, now));
	tcp_peer_stop(&a.t, tcp_peer_find(&a.t, key_b)); /* dialed (so kept), never connecting */
	a.n_in_use = 1;

	fx = client_with_frame(&a, port, 2, &x);
	a.in_use[0] = x;
	tcp_endpoint_changed(&a.t, key_b, 0, x);
	now += 1000;
	fy = client_with_frame(&a, port, 2, &y);
	a.in_use[0] = y;
	tcp_endpoint_changed(&a.t, key_b, x, y);
	assert_true(tcp_conn_exists(&a.t, x) && tcp_conn_exists(&a.t, y));
	/* A third: the oldest goes. */
	now += 1000;
	fz = client_with_frame(&a, port, 2, &z);
	a.in_use[0] = z;
	tcp_endpoint_changed(&a.t, key_b, y, z);
	assert_false(tcp_conn_exists(&a.t, x));
	assert_true(was_closed(fx));
	assert_true(tcp_conn_exists(&a.t, y) && tcp_conn_exists(&a.t, z));
	/* Moving back to one it holds already closes nothing. */
	tcp_endpoint_changed(&a.t, key_b, z, y);
	tcp_endpoint_changed(&a.t, key_b, y, z);
	assert_true(tcp_conn_exists(&a.t, y) && tcp_conn_exists(&a.t, z));
	/* Another peer names y: it stays, over the cap. */
	now += 1000;
	fw = client_with_frame(&a, port, 2, &w);
	a.in_use[0] = w;
	a.in_use[1] = y;
	a.n_in_use = 2;
	tcp_endpoint_changed(&a.t, key_b, z, w);
	assert_true(tcp_conn_exists(&a.t, y) && tcp_conn_exists(&a.t, z) && tcp_conn_exists(&a.t, w));
	close(fx);
	close(fy);
	close(fz);
	close(fw);
	PUMP_UNTIL(a.t.n_conns == 0, &a, NULL);
	side_free(&a);
}

/* A dialed connection over which an initiation got no answer for
 * TCP_SILENCE_NS is given up, not a moment before, and dialed again within
 * the first retry: back within 6 s. An idle one, one carrying data one way
 * only, and one whose initiation was answered, stay. */
static void test_silence_redial(void **state)
{
	struct side a, b;
	struct endpoint target;
	struct tcp_peer *tp;
	uint32_t first;
	uint64_t sent;

	(void)state;
	side_init(&a);
	side_init(&b);
	loopback(&target, side_listen(&a));
	tp = tcp_peer_add(&b.t, key_a, &target, now);
	PUMP_UNTIL(b.ups == 1 && a.t.n_unauth == 1, &a, &b);
	tcp_conn_authenticated(&a.t, a.t.wait_head->id, false); /* no auth timeout on A */
	first = b.up_ep.conn;

	/* Idle for a minute. */
	now += 60 * NS;
	pump2(&a, &b);
	/* Data from B every second for a minute, A silent. */
	for (int i = 0; i < 60; i++) {
		send_msg(&b, &b.up_ep, MESSAGE_DATA, 100);
		now += NS;
		pump2(&a, &b);
	}
	PUMP_UNTIL(a.n_recv == 60, &a, &b);
	assert_int_equal(b.downs, 0);
	/* An initiation, answered (by anything). */
	send_msg(&b, &b.up_ep, MESSAGE_HANDSHAKE_INITIATION, sizeof(struct message_handshake_initiation));
	PUMP_UNTIL(a.n_recv == 61, &a, &b);
	now += NS;
	send_msg(&a, &a.last_from, MESSAGE_HANDSHAKE_RESPONSE, sizeof(struct message_handshake_response));
	PUMP_UNTIL(b.n_recv == 1, &a, &b);
	now += 60 * NS;
	pump2(&a, &b);
	assert_int_equal(b.downs, 0);
	assert_int_equal(tcp_peer_conn(&b.t, tp), first);

	/* An initiation nobody answers. */
	sent = now;
	send_msg(&b, &b.up_ep, MESSAGE_HANDSHAKE_INITIATION, sizeof(struct message_handshake_initiation));
	pump2(&a, &b);
	/* More data, and the core's retry, change nothing. */
	send_msg(&b, &b.up_ep, MESSAGE_DATA, 100);
	now = sent + TCP_SILENCE_NS / 2;
	pump2(&a, &b);
	send_msg(&b, &b.up_ep, MESSAGE_HANDSHAKE_INITIATION, sizeof(struct message_handshake_initiation));
	now = sent + TCP_SILENCE_NS - 1;
	pump2(&a, &b);
	assert_int_equal(b.downs, 0);
	assert_true(tcp_next_deadline(&b.t) <= sent + TCP_SILENCE_NS);
	now = sent + TCP_SILENCE_NS;
	pump2(&a, &b);
	assert_int_equal(b.downs, 1);
	assert_int_equal(b.down_conn, first);
	assert_int_equal(tcp_peer_conn(&b.t, tp), ENDPOINT_TCP_DOWN);
	/* Dialed again with the first, fast retry. */
	assert_true(tcp_next_deadline(&b.t) <= now + TCP_RETRY_FIRST_NS);
	now = tcp_next_deadline(&b.t);
	PUMP_UNTIL(b.ups == 2, &a, &b);
	assert_true(now - sent <= TCP_SILENCE_NS + TCP_RETRY_FIRST_NS);
	assert_true(b.up_ep.conn != first);
	assert_int_equal(tcp_peer_conn(&b.t, tp), b.up_ep.conn);
	side_free(&a);
	side_free(&b);
}

/* A raw client: zero and oversized lengths, truncated frames. */
static void test_bad_streams(void **state)
{
	struct {
		char bytes[8];
		size_t len;
		enum drop_cause cause;
	} cases[] = {
		{ "\x00\x00", 2, DROP_TCP_FRAMING },
		{ "\xff\xff", 2, DROP_TCP_FRAMING },
		{ "", 2, DROP_TCP_FRAMING }, /* one more than a pool buffer holds: below */
		{ "\x00\x94\x01\x00\x00", 5, DROP_TCP_TRUNCATED },
		{ "\x00", 1, DROP_TCP_TRUNCATED },
	};
	struct side a;
	uint16_t port;

	(void)state;
	side_init(&a);
	port = side_listen(&a);
	/* What the pool holds: at least what the test asked for, at most a stride more. */
	assert_true(a.t.max_frame >= MAX_FRAME && a.t.max_frame < MAX_FRAME + 64);
	cases[2].bytes[0] = (char)((a.t.max_frame + 1) >> 8);
	cases[2].bytes[1] = (char)(a.t.max_frame + 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					   .sin_port = htons(port) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		uint64_t before = a.drops[cases[i].cause];

		assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(send(fd, cases[i].bytes, cases[i].len, 0), (ssize_t)cases[i].len);
		if (cases[i].cause == DROP_TCP_TRUNCATED)
			shutdown(fd, SHUT_WR);
		PUMP_UNTIL(a.drops[cases[i].cause] == before + 1 && a.t.n_conns == 0, &a, (struct side *)NULL);
		close(fd);
	}
	assert_int_equal(a.n_recv, 0);
	side_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_parse),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_byte_by_byte_smallest_buffer),
		cmocka_unit_test(test_many_per_read),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_oversize_and_max),
		cmocka_unit_test(test_rx_small_then_resized),
		cmocka_unit_test(test_tx_partial_writes),
		cmocka_unit_test(test_tx_handshake_reserve),
		cmocka_unit_test(test_tx_broken),
		cmocka_unit_test_setup_teardown(test_dial_exchange_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_spares_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_timeout_and_backoff, setup, teardown),
		cmocka_unit_test(test_waiting_is_small),
		cmocka_unit_test_setup_teardown(test_unauth_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_most_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unauth_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_at_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_through_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_after_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialer_up_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_by_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_peer_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silence_redial, setup, teardown),
	};
	log_level = LOG_LVL_WARN; /* the transport reports each connection at info */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
