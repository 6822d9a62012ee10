// SPDX-License-Identifier: MIT
/*
 * offload.c against the real kernel, in the network namespace of a forked
 * child (nothing touches the machine's own interfaces). Needs root and
 * /dev/net/tun: without them it exits 77 (skipped), or fails when CI=true.
 *
 * One TUN is opened the way the daemon will open it (tun_open_offload:
 * IFF_VNET_HDR, TSO, USO); we play the far end of it, 198.18.0.2 and
 * 2001:db8:77::2, and the kernel the near end. A second, plain TUN takes
 * what the kernel forwards to 198.51.100.0/24 and 2001:db8:99::/64.
 *
 *   Coalesce, forwarded: our super-packets go in; the kernel, which must
 *     segment them in software for the plain TUN, computes every checksum
 *     from the pseudo-header sum we left, and hands back the very packets
 *     we coalesced (TTL one less).
 *   Coalesce, delivered: a UDP super-packet reaches a local socket as the
 *     datagrams it was made of; TCP data reaches a local connection.
 *   Split: the kernel's own TSO and USO super-packets (a local TCP
 *     connection we answer by hand, a UDP_SEGMENT socket) come apart into
 *     valid packets carrying what the sockets sent.
 */
#include "unit.h"
#include "unit_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlink.h"
#include "offload.h"
#include "packet.h"
#include "tun.h"

#define TUN_OFF "sloffload0"
#define TUN_PLAIN "slplain0"
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif
#define TIMEOUT_MS 2000

static int off_fd = -1, plain_fd = -1;
static bool uso;
static uint8_t payload[1 << 16];
static uint8_t segs[64][2048];
static size_t seg_len[64];
static uint8_t orig[64][2048];
static uint8_t frame[OFFLOAD_READ_SIZE];
static struct offload_gro gro;

/* Far ends: us on the offload TUN, and the host behind the plain one. */
static const char *const US[2] = { "198.18.0.2", "2001:db8:77::2" };
static const char *const HOST[2] = { "198.18.0.1", "2001:db8:77::1" };
static const char *const BEYOND[2] = { "198.51.100.2", "2001:db8:99::2" };

static struct cidr cidr(const char *s)
{
	struct cidr c;
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');

	memset(&c, 0, sizeof(c));
	assert_non_null(slash);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
	c.prefix = (uint8_t)atoi(slash + 1);
	c.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(c.family, ip, c.addr.bytes), 1);
	return c;
}

static void sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, value, strlen(value)), (ssize_t)strlen(value));
	close(fd);
}

static struct spec spec_of(int v6, uint8_t proto, const char *src, const char *dst)
{
	struct spec sp = { .version = v6 ? 6 : 4,
			   .proto = proto,
			   .sport = 40000,
			   .dport = 5201,
			   .seq = 1000000,
			   .ack = 1,
			   .flags = F_ACK,
			   .window = 65535,
			   .id = 100,
			   .df = true,
			   .ttl = 64 };

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, src, sp.src), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, dst, sp.dst), 1);
	return sp;
}

/* One read within TIMEOUT_MS, or -1. */
static ssize_t read_wait(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, TIMEOUT_MS) != 1)
		return -1;
	return read(fd, buf, cap);
}

/* Segments 0..n-1 of a stream from sp: payload size each (the last
 * `last`), full checksums, ids counting up. */
static void make_stream(const struct spec *sp, int n, size_t size, size_t last)
{
	for (int i = 0; i < n; i++) {
		struct spec s = *sp;
		s.seq = sp->seq + (uint32_t)(i * size);
		s.id = (uint16_t)(sp->id + i);
		if (i == n - 1 && sp->proto == IPPROTO_TCP)
			s.flags |= F_PSH;
		seg_len[i] = build(segs[i], &s, payload + i * size, i == n - 1 ? last : size, false);
		memcpy(orig[i], segs[i], seg_len[i]);
	}
}

/* Coalesces segs[0..n) into one super-packet and writes it. */
static void write_coalesced(int n)
{
	offload_gro_init(&gro, OFFLOAD_GRO_TCP | (uso ? OFFLOAD_GRO_UDP : 0));
	for (int i = 0; i < n; i++)
		assert_int_equal(offload_gro_add(&gro, segs[i], seg_len[i]), i ? OFFLOAD_GRO_MERGED : OFFLOAD_GRO_HEAD);
	assert_int_equal(offload_gro_finish(&gro), 1);
	assert_int_equal(gro.out[0].segs, n);
	ssize_t w = writev(off_fd, gro.iov + gro.out[0].iov_first, gro.out[0].iov_count);
	if (w < 0)
		fail_msg("writev of a super-packet: %s", strerror(errno));
	assert_int_equal(w, OFFLOAD_VNET_HDR_LEN + gro.out[0].len);
}

/* Writes one packet as it is (an empty virtio_net_hdr in front). */
static void write_plain(const uint8_t *p, size_t len)
{
	static const struct virtio_net_hdr none;
	struct iovec iov[2] = { { (void *)&none, sizeof(none) }, { (void *)p, len } };

	assert_int_equal(writev(off_fd, iov, 2), (ssize_t)(OFFLOAD_VNET_HDR_LEN + len));
}

/* ---- coalesce, forwarded ---- */

static void check_forwarded(int v6, uint8_t proto)
{
	struct spec sp = spec_of(v6, proto, US[v6], BEYOND[v6]);
	const int n = 8;
	int got = 0;

	sp.tsopt = proto == IPPROTO_TCP;
	make_stream(&sp, n, 1200, 700);
	write_coalesced(n);

	while (got < n) {
		uint8_t *p = frame;
		ssize_t r = read_wait(plain_fd, p, sizeof(frame));
		if (r < 0)
			fail_msg("%s over IPv%d: %d of %d segments came out", proto == IPPROTO_TCP ? "TCP" : "UDP",
				 v6 ? 6 : 4, got, n);
		/* Only ours: the kernel sends its own (router solicitations). */
		if (v6 ? (r < 40 || p[0] >> 4 != 6 || p[6] != proto) : (r < 20 || p[0] >> 4 != 4 || p[9] != proto))
			continue;
		const uint8_t *o = orig[got];
		assert_int_equal(r, seg_len[got]);
		assert_valid(p, (size_t)r, &sp);
		if (v6) {
			assert_int_equal(p[7], o[7] - 1); /* hop limit */
			assert_memory_equal(p, o, 7);
			assert_memory_equal(p + 8, o + 8, (size_t)r - 8);
		} else {
			assert_int_equal(p[8], o[8] - 1); /* TTL, so the header checksum too */
			assert_memory_equal(p, o, 8);
			assert_memory_equal(p + 9, o + 9, 1);
			assert_memory_equal(p + 12, o + 12, (size_t)r - 12);
		}
		got++;
	}
}

static void test_forward_tcp4(void **state)
{
	check_forwarded(0, IPPROTO_TCP);
}

static void test_forward_tcp6(void **state)
{
	check_forwarded(1, IPPROTO_TCP);
}

static void test_forward_udp4(void **state)
{
	if (!uso)
		skip();
	check_forwarded(0, IPPROTO_UDP);
}

static void test_forward_udp6(void **state)
{
	if (!uso)
		skip();
	check_forwarded(1, IPPROTO_UDP);
}

/* ---- coalesce, delivered ---- */

static void check_udp_delivered(int v6)
{
	struct spec sp = spec_of(v6, IPPROTO_UDP, US[v6], HOST[v6]);
	struct sockaddr_storage ss;
	socklen_t sl;
	const int n = 10;
	uint8_t buf[2048];

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(sp.dport);
		inet_pton(AF_INET6, HOST[1], &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(sp.dport);
		inet_pton(AF_INET, HOST[0], &a->sin_addr);
		sl = sizeof(*a);
	}
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&ss, sl), 0);

	make_stream(&sp, n, 1000, 333);
	write_coalesced(n);
	for (int i = 0; i < n; i++) {
		ssize_t r = read_wait(s, buf, sizeof(buf));
		if (r < 0)
			fail_msg("UDP over IPv%d: %d of %d datagrams delivered", v6 ? 6 : 4, i, n);
		assert_int_equal(r, i == n - 1 ? 333 : 1000);
		assert_memory_equal(buf, payload + i * 1000, (size_t)r);
	}
	close(s);
}

static void test_deliver_udp4(void **state)
{
	if (!uso)
		skip();
	check_udp_delivered(0);
}

static void test_deliver_udp6(void **state)
{
	if (!uso)
		skip();
	check_udp_delivered(1);
}

/* ---- split: the kernel's own super-packets ---- */

/* Reads frames off the offload TUN and splits each into out (cap
 * packets); returns how many packets, and counts GSO frames in *supers.
 * Stops at the first frame that holds a packet `want` accepts. */
static int read_split(uint8_t (*out)[2048], size_t *lens, int cap, bool (*want)(const uint8_t *, size_t), int *supers)
{
	for (;;) {
		struct virtio_net_hdr h;
		struct offload_split s;
		ssize_t r = read_wait(off_fd, frame, sizeof(frame));
		bool wanted = false;

		if (r < OFFLOAD_VNET_HDR_LEN)
			return -1;
		offload_vnet_read(&h, frame);
		int n = offload_split_init(&s, &h, frame + OFFLOAD_VNET_HDR_LEN, (size_t)r - OFFLOAD_VNET_HDR_LEN);
		if (n < 0)
			fail_msg("the kernel's packet was refused: %s", offload_result_name(n));
		assert_true(n <= cap);
		for (int i = 0; i < n; i++) {
			int len = offload_split_next(&s, out[i], sizeof(out[i]));
			assert_true(len > 0);
			lens[i] = (size_t)len;
			wanted |= want(out[i], lens[i]);
		}
		if (!wanted)
			continue;
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			++*supers;
		return n;
	}
}

static int want_port, want_version;

/* TCP or UDP over want_version to want_port (at the usual place: no
 * options, no extension headers in what we provoke). What else comes,
 * a FIN of an earlier test or a router solicitation, is not ours. */
static bool to_port(const uint8_t *p, size_t len)
{
	size_t l4 = p[0] >> 4 == 4 ? 20 : 40;
	uint8_t proto = p[0] >> 4 == 4 ? p[9] : p[6];

	return p[0] >> 4 == want_version && len >= l4 + 8 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
	       get16(p + l4 + 2) == want_port;
}

static void check_tcp(int v6)
{
	static uint8_t pk[64][2048];
	size_t lens[64];
	int supers = 0, n;
	const size_t total = 10 * 1400; /* the initial window, at our MSS */
	struct sockaddr_storage ss;
	socklen_t sl;
	struct spec sp = spec_of(v6, IPPROTO_TCP, US[v6], HOST[v6]);
	size_t l4 = v6 ? 40 : 20;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(5201);
		inet_pton(AF_INET6, US[1], &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(5201);
		inet_pton(AF_INET, US[0], &a->sin_addr);
		sl = sizeof(*a);
	}
	int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	assert_true(connect(c, (struct sockaddr *)&ss, sl) < 0 && errno == EINPROGRESS);

	/* SYN: a CHECKSUM_PARTIAL packet the split completes. */
	want_port = 5201;
	want_version = v6 ? 6 : 4;
	n = read_split(pk, lens, 64, to_port, &supers);
	assert_int_equal(n, 1);
	assert_true(pk[0][l4 + 13] & F_SYN);
	sp.sport = 5201;
	sp.dport = get16(pk[0] + l4);
	sp.ttl = 64;
	assert_valid(pk[0], lens[0], &sp);
	uint32_t their_seq = get32(pk[0] + l4 + 4) + 1, our_seq = 7000000;

	/* SYN-ACK, by hand: MSS 1400, no timestamps, no window scaling. */
	struct spec synack = sp;
	synack.seq = our_seq++;
	synack.ack = their_seq;
	synack.flags = F_SYN | F_ACK;
	synack.mss = 1400;
	seg_len[0] = build(segs[0], &synack, payload, 0, false);
	write_plain(segs[0], seg_len[0]);
	struct pollfd pf = { .fd = c, .events = POLLOUT };
	assert_int_equal(poll(&pf, 1, TIMEOUT_MS), 1);
	int err = 0;
	socklen_t el = sizeof(err);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);

	/* The kernel sends its initial window: TSO super-packets. */
	assert_int_equal(send(c, payload, total, 0), (ssize_t)total);
	size_t got = 0;
	while (got < total) {
		n = read_split(pk, lens, 64, to_port, &supers);
		if (n < 0)
			fail_msg("IPv%d: %zu of %zu bytes came out of the TUN", v6 ? 6 : 4, got, total);
		for (int i = 0; i < n; i++) {
			size_t hl = l4 + (size_t)(pk[i][l4 + 12] >> 4) * 4, pay = lens[i] - hl;
			struct spec chk = sp;
			chk.sport = get16(pk[i] + l4);
			assert_valid(pk[i], lens[i], &chk);
			if (!pay)
				continue; /* the ACK of our SYN-ACK */
			assert_int_equal(get32(pk[i] + l4 + 4), their_seq + got);
			assert_true(pay <= 1400);
			assert_memory_equal(pk[i] + hl, payload + got, pay);
			got += pay;
		}
	}
	assert_int_equal(got, total);
	if (supers == 0)
		fail_msg("IPv%d: the kernel sent no TSO super-packet: nothing split", v6 ? 6 : 4);

	/* And our data the other way, coalesced, acknowledging theirs. */
	struct spec data = sp;
	data.seq = our_seq;
	data.ack = their_seq + (uint32_t)total;
	make_stream(&data, 10, 1000, 1000);
	write_coalesced(10);
	static uint8_t rx[10000];
	size_t have = 0;
	while (have < sizeof(rx)) {
		pf = (struct pollfd){ .fd = c, .events = POLLIN };
		assert_int_equal(poll(&pf, 1, TIMEOUT_MS), 1);
		ssize_t r = recv(c, rx + have, sizeof(rx) - have, 0);
		assert_true(r > 0);
		have += (size_t)r;
	}
	assert_memory_equal(rx, payload, sizeof(rx));
	close(c);
}

static void test_tcp4(void **state)
{
	check_tcp(0);
}

static void test_tcp6(void **state)
{
	check_tcp(1);
}

static void check_uso(int v6)
{
	static uint8_t pk[64][2048];
	size_t lens[64];
	int supers = 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	int gso = 1200;
	const size_t total = 20 * 1200 + 77;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(4433);
		inet_pton(AF_INET6, US[1], &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(4433);
		inet_pton(AF_INET, US[0], &a->sin_addr);
		sl = sizeof(*a);
	}
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &gso, sizeof(gso)), 0);
	assert_int_equal(sendto(s, payload, total, 0, (struct sockaddr *)&ss, sl), (ssize_t)total);

	struct spec sp = spec_of(v6, IPPROTO_UDP, HOST[v6], US[v6]);
	size_t l4 = v6 ? 40 : 20, got = 0;
	want_port = 4433;
	want_version = v6 ? 6 : 4;
	while (got < total) {
		int n = read_split(pk, lens, 64, to_port, &supers);
		if (n < 0)
			fail_msg("IPv%d: %zu of %zu bytes came out of the TUN", v6 ? 6 : 4, got, total);
		for (int i = 0; i < n; i++) {
			assert_valid(pk[i], lens[i], &sp);
			size_t pay = lens[i] - l4 - 8;
			assert_int_equal(pay, total - got < 1200 ? total - got : 1200);
			assert_memory_equal(pk[i] + l4 + 8, payload + got, pay);
			got += pay;
		}
	}
	if (uso && supers == 0)
		fail_msg("IPv%d: USO is on but the kernel sent no UDP super-packet", v6 ? 6 : 4);
	close(s);
}

static void test_uso4(void **state)
{
	check_uso(0);
}

static void test_uso6(void **state)
{
	check_uso(1);
}

/* ---- the namespace ---- */

static int setup(void **state)
{
	int off_idx, plain_idx;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + i / 509);
	assert_int_equal(nl_link_set_up((int)if_nametoindex("lo"), 1), 0);
	off_fd = tun_open_offload(TUN_OFF, &off_idx, &uso);
	if (off_fd < 0)
		fail_msg("tun_open_offload: %s", strerror(-off_fd));
	if (!uso)
		printf("note: this kernel refused TUN_F_USO4/6; the UDP cases are skipped\n");
	plain_fd = tun_open(TUN_PLAIN, &plain_idx);
	assert_true(plain_fd >= 0);
	struct cidr a[] = { cidr("198.18.0.1/24"), cidr("2001:db8:77::1/64") };
	struct cidr b[] = { cidr("198.51.100.1/24"), cidr("2001:db8:99::1/64") };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(nl_addr_add(off_idx, &a[i]), 0);
		assert_int_equal(nl_addr_add(plain_idx, &b[i]), 0);
	}
	/* Only in this namespace: forward, and no reverse-path filter. */
	sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	sysctl("/proc/sys/net/ipv4/conf/" TUN_OFF "/rp_filter", "0");
	assert_int_equal(nl_link_set_up(off_idx, 1), 0);
	assert_int_equal(nl_link_set_up(plain_idx, 1), 0);
	/* IPv6 on links just brought up needs a moment before input routing
	 * delivers to local sockets: without it, about half the runs lost the
	 * first UDPv6 datagrams written to the TUN. */
	usleep(500000);
	return 0;
}

static int run_in_namespace(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_tcp4), cmocka_unit_test(test_forward_tcp6),
		cmocka_unit_test(test_forward_udp4), cmocka_unit_test(test_forward_udp6),
		cmocka_unit_test(test_deliver_udp4), cmocka_unit_test(test_deliver_udp6),
		cmocka_unit_test(test_tcp4),         cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_uso4),         cmocka_unit_test(test_uso6),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

int main(void)
{
	return unit_run_in_netns("test_offload_kernel", run_in_namespace);
}
