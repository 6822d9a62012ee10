// SPDX-License-Identifier: MIT
/* The UDP transport over loopback: batches both ways over ::1 and
 * 127.0.0.1, endpoint families, truncation, fwmark, and ICMP errors that
 * must not stop the receive path. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "udp.h"

#define BATCH 20 /* not a multiple of anything the transport might use */

struct pair {
	int a, b;
	uint16_t port_a, port_b;
	struct pool pool;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(pool_init(&p->pool, 512, 2048), 0);
	p->a = udp_open(&p->port_a, 0);
	assert_true(p->a >= 0);
	p->b = udp_open(&p->port_b, 0);
	assert_true(p->b >= 0);
	assert_int_not_equal(p->port_a, 0);
	assert_int_not_equal(p->port_b, 0);
	assert_int_not_equal(p->port_a, p->port_b);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	close(p->a);
	close(p->b);
	assert_int_equal(p->pool.available, p->pool.count); /* nothing leaked */
	pool_destroy(&p->pool);
	free(p);
	return 0;
}

static void endpoint_set(struct endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, ip, &ep->addr.in4.sin_addr) == 1) {
		ep->addr.in4.sin_family = AF_INET;
		ep->addr.in4.sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &ep->addr.in6.sin6_addr), 1);
		ep->addr.in6.sin6_family = AF_INET6;
		ep->addr.in6.sin6_port = htons(port);
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives until `want` datagrams arrived or two seconds passed. */
static int recv_all(int fd, struct pkt **pkts, int want)
{
	long deadline = now_ms() + 2000;
	int have = 0;

	while (have < want && now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r;

		poll(&pfd, 1, 100);
		r = udp_recv_batch(fd, pkts + have, want - have);
		assert_true(r >= 0);
		have += r;
	}
	return have;
}

static void fill(struct pkt *k, int i)
{
	k->len = (uint32_t)(1 + i * 61); /* 1 .. 1160 bytes */
	for (uint32_t j = 0; j < k->len; j++)
		k->data[j] = (uint8_t)(i * 7 + j);
}

/* Sends BATCH datagrams from a to b at `ip` and checks what b gets. */
static void roundtrip(struct pair *p, const char *ip, int family)
{
	struct pkt *tx[BATCH], *rx[BATCH];
	int sent = 0, got;

	for (int i = 0; i < BATCH; i++) {
		tx[i] = pool_get(&p->pool);
		rx[i] = pool_get(&p->pool);
		assert_non_null(tx[i]);
		assert_non_null(rx[i]);
		fill(tx[i], i);
		endpoint_set(&tx[i]->ep, ip, p->port_b);
	}
	while (sent < BATCH) {
		int r = udp_send_batch(p->a, NULL, tx + sent, BATCH - sent);
		assert_true(r >= 0);
		sent += r;
	}
	got = recv_all(p->b, rx, BATCH);
	assert_int_equal(got, BATCH);

	for (int i = 0; i < BATCH; i++) {
		char want[INET6_ADDRSTRLEN], seen[INET6_ADDRSTRLEN];
		const struct endpoint *ep = &rx[i]->ep;

		assert_int_equal(rx[i]->len, tx[i]->len); /* loopback keeps order */
		assert_memory_equal(rx[i]->data, tx[i]->data, tx[i]->len);
		assert_int_equal(ep->addr.sa.sa_family, family);
		if (family == AF_INET) {
			assert_int_equal(ntohs(ep->addr.in4.sin_port), p->port_a);
			inet_ntop(AF_INET, &ep->addr.in4.sin_addr, seen, sizeof(seen));
		} else {
			assert_int_equal(ntohs(ep->addr.in6.sin6_port), p->port_a);
			inet_ntop(AF_INET6, &ep->addr.in6.sin6_addr, seen, sizeof(seen));
		}
		snprintf(want, sizeof(want), "%s", ip);
		assert_string_equal(seen, want);
	}
	for (int i = 0; i < BATCH; i++) {
		pool_put(&p->pool, tx[i]);
		pool_put(&p->pool, rx[i]);
	}
}

static void test_roundtrip_v6(void **state)
{
	roundtrip(*state, "::1", AF_INET6);
}

static void test_roundtrip_v4(void **state)
{
	roundtrip(*state, "127.0.0.1", AF_INET);
}

static void test_empty_recv(void **state)
{
	struct pair *p = *state;
	struct pkt *k = pool_get(&p->pool);

	assert_int_equal(udp_recv_batch(p->b, &k, 1), 0);
	assert_int_equal(udp_send_batch(p->a, NULL, &k, 0), 0);
	pool_put(&p->pool, k);
}

/* A datagram longer than the buffer comes back with len 0, and does not
 * disturb the one behind it. */
static void test_truncated(void **state)
{
	struct pair *p = *state;
	struct pkt *tx[2], *rx[2];

	for (int i = 0; i < 2; i++) {
		tx[i] = pool_get(&p->pool);
		rx[i] = pool_get(&p->pool);
		endpoint_set(&tx[i]->ep, "127.0.0.1", p->port_b);
	}
	tx[0]->len = 1500;
	memset(tx[0]->data, 0xaa, tx[0]->len);
	tx[1]->len = 100;
	memset(tx[1]->data, 0x55, tx[1]->len);
	assert_int_equal(udp_send_batch(p->a, NULL, tx, 2), 2);

	/* Leave only 200 bytes of room in the first receive buffer. */
	rx[0]->data = rx[0]->buf + rx[0]->cap - 200;
	assert_int_equal(recv_all(p->b, rx, 2), 2);
	assert_int_equal(rx[0]->len, 0);
	assert_int_equal(rx[1]->len, 100);
	assert_memory_equal(rx[1]->data, tx[1]->data, 100);
	for (int i = 0; i < 2; i++) {
		pool_put(&p->pool, tx[i]);
		pool_put(&p->pool, rx[i]);
	}
}

/* A datagram the kernel refuses (here: one without a destination) is
 * skipped and counted as handled; the rest of the batch still goes. The
 * unreachable-network case is in test_netlink, inside a namespace. */
static void test_send_skips_unsendable(void **state)
{
	struct pair *p = *state;
	struct pkt *tx[3], *rx[3];

	for (int i = 0; i < 3; i++) {
		tx[i] = pool_get(&p->pool);
		rx[i] = pool_get(&p->pool);
		fill(tx[i], i + 1);
		endpoint_set(&tx[i]->ep, "::1", p->port_b);
	}
	memset(&tx[1]->ep, 0, sizeof(tx[1]->ep)); /* AF_UNSPEC */
	assert_int_equal(udp_send_batch(p->a, NULL, tx, 3), 3);
	assert_int_equal(recv_all(p->b, rx, 3), 2);
	assert_int_equal(rx[0]->len, tx[0]->len);
	assert_int_equal(rx[1]->len, tx[2]->len);
	assert_memory_equal(rx[1]->data, tx[2]->data, tx[2]->len);
	for (int i = 0; i < 3; i++) {
		pool_put(&p->pool, tx[i]);
		pool_put(&p->pool, rx[i]);
	}
}

/* With IP(V6)_RECVERR on, a port-unreachable answer makes the next receive
 * call fail with ECONNREFUSED. The transport must step over it and return
 * the datagram that is waiting behind it. */
static void test_recv_survives_icmp_error(void **state)
{
	static const char *const ips[] = { "127.0.0.1", "::1" };
	struct pair *p = *state;
	int one = 1, closed;
	uint16_t closed_port = 0;

	assert_int_equal(setsockopt(p->a, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)), 0);
	assert_int_equal(setsockopt(p->a, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
	/* A port that was just free and is closed again. */
	closed = udp_open(&closed_port, 0);
	assert_true(closed >= 0);
	close(closed);

	for (size_t t = 0; t < sizeof(ips) / sizeof(ips[0]); t++) {
		struct pkt *k = pool_get(&p->pool), *rx = pool_get(&p->pool);
		struct pollfd pfd = { .fd = p->a, .events = POLLERR };
		int err = 0;
		socklen_t len = sizeof(err);

		fill(k, 3);
		endpoint_set(&k->ep, ips[t], closed_port);
		assert_int_equal(udp_send_batch(p->a, NULL, &k, 1), 1);
		/* Wait for the ICMP error to land on the socket. */
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		assert_true(pfd.revents & POLLERR);

		/* Now something real for a, from b. */
		endpoint_set(&k->ep, ips[t], p->port_a);
		assert_int_equal(udp_send_batch(p->b, NULL, &k, 1), 1);
		assert_int_equal(recv_all(p->a, &rx, 1), 1);
		assert_int_equal(rx->len, k->len);
		assert_memory_equal(rx->data, k->data, k->len);
		/* The pending error was consumed, not left to trip the loop. */
		assert_int_equal(getsockopt(p->a, SOL_SOCKET, SO_ERROR, &err, &len), 0);
		assert_int_equal(err, 0);
		pool_put(&p->pool, k);
		pool_put(&p->pool, rx);
	}
}

static void test_fixed_port_and_fwmark(void **state)
{
	struct pair *p = *state;
	uint16_t port = p->port_a, again = p->port_a;
	uint32_t mark = 0;
	socklen_t len = sizeof(mark);
	int fd;

	/* The port is taken by a: binding it again fails cleanly. */
	assert_int_equal(udp_open(&again, 0), -EADDRINUSE);

	port = 0;
	fd = udp_open(&port, 0x51c);
	if (geteuid() != 0) {
		/* SO_MARK needs CAP_NET_ADMIN. */
		assert_int_equal(fd, -EPERM);
		return;
	}
	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 0x51c);
	assert_int_equal(udp_set_fwmark(fd, 0), 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 0);
	close(fd);
}

/* GSO out, GRO in: runs of equal datagrams to one endpoint leave in one
 * send each and arrive as runs that udp_recv_gro cuts apart again, in
 * order and intact; a shorter datagram ends a run, another endpoint or a
 * longer one starts a new one. */
static void gso_gro_roundtrip(struct pair *p, const char *ip)
{
	enum { N = 150 };
	static const uint32_t sizes[] = { 1200, 1200, 1200, 700, 1200, 1300, 1300, 64 };
	struct pkt *tx[N], *rx[N + 8];
	struct udp_offloads oa = { 0 }, ob = { 0 };
	uint64_t dropped = 0;
	int sent = 0, got = 0;

	assert_int_equal(udp_offloads_enable(p->a, &oa), 0);
	assert_int_equal(udp_offloads_enable(p->b, &ob), 0);
	if (!oa.gso || !ob.gro) {
		udp_offloads_free(&oa);
		udp_offloads_free(&ob);
		skip(); /* a kernel without UDP GSO/GRO (before 4.18/5.0) */
	}
	for (int i = 0; i < N; i++) {
		tx[i] = pool_get(&p->pool);
		assert_non_null(tx[i]);
		tx[i]->len = sizes[i % 8];
		for (uint32_t j = 0; j < tx[i]->len; j++)
			tx[i]->data[j] = (uint8_t)(i * 13 + j);
		endpoint_set(&tx[i]->ep, ip, p->port_b);
	}
	while (sent < N) {
		int r = udp_send_batch(p->a, &oa, tx + sent, N - sent);
		assert_true(r >= 0);
		sent += r;
	}
	long deadline = now_ms() + 2000;
	while (got < N && now_ms() < deadline) {
		int r = udp_recv_gro(p->b, &ob, &p->pool, rx + got, N + 8 - got, &dropped);
		assert_true(r >= 0);
		/* The runs say how the datagrams came: each at most a GSO send's. */
		int in_runs = 0;
		for (int i = 0; i < ob.n_runs; i++) {
			assert_true(ob.run_len[i] >= 1 && ob.run_len[i] <= UDP_MAX_SEGMENTS);
			in_runs += ob.run_len[i];
		}
		assert_int_equal(in_runs, r);
		if (r == 0) {
			struct pollfd pfd = { .fd = p->b, .events = POLLIN };
			poll(&pfd, 1, 100);
		}
		got += r;
	}
	assert_int_equal(got, N);
	assert_int_equal(dropped, 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rx[i]->len, tx[i]->len);
		assert_memory_equal(rx[i]->data, tx[i]->data, tx[i]->len);
		assert_true(endpoint_equal(&rx[i]->ep, &rx[0]->ep));
		pool_put(&p->pool, rx[i]);
		pool_put(&p->pool, tx[i]);
	}
	udp_offloads_free(&oa);
	udp_offloads_free(&ob);
}

static void test_gso_gro_v4(void **state)
{
	gso_gro_roundtrip(*state, "127.0.0.1");
}

static void test_gso_gro_v6(void **state)
{
	gso_gro_roundtrip(*state, "::1");
}

/* Sticky source: a datagram says where it arrived (IPV6_PKTINFO, IPv4 as
 * mapped), a reply given that source leaves from it; a source that is not
 * ours any more is dropped from the datagram, which still leaves, marked. */
static void test_sticky_source(void **state)
{
	struct pair *p = *state;
	struct pkt *k = pool_get(&p->pool), *r = pool_get(&p->pool);
	struct in6_addr want;

	assert_non_null(k);
	assert_non_null(r);
	fill(k, 3);
	endpoint_set(&k->ep, "127.0.0.1", p->port_b);
	assert_int_equal(udp_send_batch(p->a, NULL, &k, 1), 1);
	assert_int_equal(recv_all(p->b, &r, 1), 1);
	assert_true(r->ep.has_src);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &want), 1);
	assert_memory_equal(&r->ep.src, &want, sizeof(want));

	/* From another local address: 127.0.0.2 is ours too (lo has 127/8). */
	k->ep.has_src = true;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.2", &k->ep.src), 1);
	k->ep.src_ifindex = 0;
	assert_int_equal(udp_send_batch(p->a, NULL, &k, 1), 1);
	assert_false(k->src_stale);
	assert_int_equal(recv_all(p->b, &r, 1), 1);
	assert_int_equal(r->ep.addr.sa.sa_family, AF_INET);
	assert_int_equal(ntohl(r->ep.addr.in4.sin_addr.s_addr), 0x7f000002);

	/* A source that is no address of ours. */
	k->ep.has_src = true;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.99", &k->ep.src), 1);
	assert_int_equal(udp_send_batch(p->a, NULL, &k, 1), 1);
	assert_true(k->src_stale);
	assert_false(k->ep.has_src);
	assert_false(k->send_failed);
	assert_int_equal(recv_all(p->b, &r, 1), 1);
	assert_int_equal(ntohl(r->ep.addr.in4.sin_addr.s_addr), 0x7f000001);
	pool_put(&p->pool, k);
	pool_put(&p->pool, r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_recv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_skips_unsendable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_survives_icmp_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_port_and_fwmark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sticky_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gso_gro_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gso_gro_v6, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
