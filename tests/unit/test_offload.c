// SPDX-License-Identifier: MIT
/*
 * TUN offloads (offload.c): splitting the kernel's TSO/USO super-packets
 * segment by segment, coalescing segments back (and what must not be
 * coalesced), the round trip split -> coalesce to the same bytes, and
 * malformed virtio_net_hdrs. Packets are built and checksums verified here
 * with a byte-at-a-time sum written for the test, not with csum.c.
 */
#include "unit.h"

#include "offload.h"
#include "packet.h"

#define MAXPKT 2048
#define NSEG 160

static const uint8_t SRC4[4] = { 198, 18, 0, 1 }, DST4[4] = { 198, 18, 0, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 2 };

static uint8_t payload[1 << 18];
static uint8_t super[OFFLOAD_MAX_PACKET + 100];
static uint8_t segs[NSEG][MAXPKT];
static size_t seg_len[NSEG];
static uint8_t orig[NSEG][MAXPKT]; /* segs[i] as added: heads get rewritten */
static uint8_t flat[OFFLOAD_READ_SIZE];
static struct offload_gro gro;

/* ---- the packets ---- */

static struct spec tcp4(void)
{
	struct spec sp = { .version = 4,
			   .proto = IPPROTO_TCP,
			   .sport = 40000,
			   .dport = 5201,
			   .seq = 0xfffff000,
			   .ack = 77,
			   .flags = F_ACK,
			   .window = 502,
			   .id = 0xfff0,
			   .df = true,
			   .ttl = 64,
			   .tsopt = true,
			   .tsval = 1000 };
	memcpy(sp.src, SRC4, 4);
	memcpy(sp.dst, DST4, 4);
	return sp;
}

static struct spec tcp6(void)
{
	struct spec sp = tcp4();
	sp.version = 6;
	sp.flow = 0x12345;
	memcpy(sp.src, SRC6, 16);
	memcpy(sp.dst, DST6, 16);
	return sp;
}

static struct spec udp4(void)
{
	struct spec sp = {
		.version = 4, .proto = IPPROTO_UDP, .sport = 4000, .dport = 4433, .id = 7, .df = false, .ttl = 64
	};
	memcpy(sp.src, SRC4, 4);
	memcpy(sp.dst, DST4, 4);
	return sp;
}

static struct spec udp6(void)
{
	struct spec sp = udp4();
	sp.version = 6;
	memcpy(sp.src, SRC6, 16);
	memcpy(sp.dst, DST6, 16);
	return sp;
}

/* The virtio_net_hdr the kernel puts in front of a super-packet. */
static struct virtio_net_hdr vnet_of(const struct spec *sp, uint16_t gso_size)
{
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.hdr_len = (uint16_t)hdrs_of(sp),
		.gso_size = gso_size,
		.csum_start = (uint16_t)l4_off_of(sp),
		.csum_offset = sp->proto == IPPROTO_TCP ? 16 : 6,
	};
	if (sp->proto == IPPROTO_UDP)
		h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	else
		h.gso_type = sp->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	return h;
}

static int setup(void **state)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + i / 251);
	return 0;
}

/* ---- split ---- */

/* Splits a super-packet of n payload bytes and checks every segment. */
static void check_split(const struct spec *sp, size_t n, uint16_t mss)
{
	struct offload_split s;
	struct virtio_net_hdr h = vnet_of(sp, mss);
	size_t len = build(super, sp, payload, n, true), hdrs = hdrs_of(sp), l4 = l4_off_of(sp);
	size_t want = n ? (n + mss - 1) / mss : 1;

	assert_int_equal(offload_split_init(&s, &h, super, len), want);
	for (size_t i = 0; i < want; i++) {
		uint8_t *g = segs[0];
		size_t chunk = n - i * mss < mss ? n - i * mss : mss;
		bool last = i + 1 == want;
		assert_int_equal(offload_split_remaining(&s), want - i);
		assert_int_equal(offload_split_next(&s, g, MAXPKT), hdrs + chunk);
		assert_valid(g, hdrs + chunk, sp);
		assert_memory_equal(g + hdrs, payload + i * mss, chunk);
		if (sp->version == 4) {
			assert_int_equal(get16(g + 4), (uint16_t)(sp->id + i));
			assert_int_equal(g[6], sp->df ? 0x40 : 0);
			assert_int_equal(g[8], sp->ttl);
		} else {
			assert_memory_equal(g, super, 4);
			assert_memory_equal(g + 6, super + 6, l4 - 6); /* next header on */
		}
		/* Ports, and for TCP ack, window, options: as in the original. */
		assert_memory_equal(g + l4, super + l4, 4);
		if (sp->proto == IPPROTO_TCP) {
			uint8_t f = sp->flags;
			if (!last)
				f &= (uint8_t) ~(F_FIN | F_PSH);
			if (i)
				f &= (uint8_t)~F_CWR;
			assert_int_equal(get32(g + l4 + 4), sp->seq + (uint32_t)(i * mss));
			assert_int_equal(g[l4 + 13], f);
			assert_memory_equal(g + l4 + 8, super + l4 + 8, 5);
			assert_memory_equal(g + l4 + 14, super + l4 + 14, 2);
			assert_memory_equal(g + l4 + 18, super + l4 + 18, hdrs - l4 - 18);
		}
	}
	assert_int_equal(offload_split_remaining(&s), 0);
	assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), OFFLOAD_ERR_DONE);
}

static void test_split_tcp4(void **state)
{
	struct spec sp = tcp4();

	sp.flags = F_ACK | F_PSH | F_FIN | F_CWR; /* sequence numbers wrap, too */
	check_split(&sp, 10000, 1448);
	check_split(&sp, 1448 * 5, 1448); /* an exact multiple: no empty segment */
	check_split(&sp, 100, 1448);      /* smaller than one segment */
	check_split(&sp, 0, 1448);        /* headers only */
	check_split(&sp, 65535 - 52, 1448);
	sp.df = false;
	sp.tsopt = false;
	sp.flags = F_ACK | F_ECE;
	check_split(&sp, 30001, 1000);
	check_split(&sp, 3001, 1); /* absurd, but well-defined */
}

static void test_split_tcp6(void **state)
{
	struct spec sp = tcp6();

	sp.flags = F_ACK | F_PSH | F_CWR;
	check_split(&sp, 20000, 1428);
	check_split(&sp, 65535 - 72, 1428);
	sp.dstopts = 16; /* walked past and copied to every segment */
	check_split(&sp, 5000, 1212);
}

static void test_split_udp4(void **state)
{
	struct spec sp = udp4();

	check_split(&sp, 54 * 1200, 1200);
	check_split(&sp, 10001, 1200);
	sp.df = true;
	check_split(&sp, 1, 1200);
}

static void test_split_udp6(void **state)
{
	struct spec sp = udp6();

	check_split(&sp, 9000, 1232);
	check_split(&sp, 65535 - 8, 1232);
}

/* Neither NEEDS_CSUM nor what the checksum field holds changes a
 * segment: both are recomputed from the headers. */
static void test_split_ignores_seed(void **state)
{
	struct spec specs[] = { tcp4(), tcp6(), udp4(), udp6() };
	static uint8_t a[MAXPKT], b[MAXPKT];

	for (size_t k = 0; k < 4; k++) {
		struct offload_split s1, s2;
		struct virtio_net_hdr h1 = vnet_of(&specs[k], 1000), h2 = h1;
		static uint8_t seeded[8000], full[8000];
		size_t len = build(seeded, &specs[k], payload, 5555, true);
		build(full, &specs[k], payload, 5555, false);
		h2.flags = 0;
		h2.csum_start = h2.csum_offset = 0;
		assert_int_equal(offload_split_init(&s1, &h1, seeded, len), 6);
		assert_int_equal(offload_split_init(&s2, &h2, full, len), 6);
		for (int i = 0; i < 6; i++) {
			int n = offload_split_next(&s1, a, sizeof(a));
			assert_int_equal(offload_split_next(&s2, b, sizeof(b)), n);
			assert_memory_equal(a, b, (size_t)n);
		}
	}
}

/* GSO_NONE: the packet as it is, or with CHECKSUM_PARTIAL completed. */
static void test_split_none(void **state)
{
	struct offload_split s;
	struct virtio_net_hdr none = { 0 };
	struct spec specs[] = { tcp4(), tcp6(), udp4(), udp6() };

	for (size_t k = 0; k < 4; k++) {
		struct spec *sp = &specs[k];
		size_t len = build(super, sp, payload, 1000, false);
		assert_int_equal(offload_split_init(&s, &none, super, len), 1);
		assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), len);
		assert_memory_equal(segs[0], super, len);
		assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), OFFLOAD_ERR_DONE);

		struct virtio_net_hdr partial = vnet_of(sp, 0);
		partial.gso_type = VIRTIO_NET_HDR_GSO_NONE;
		size_t plen = build(super, sp, payload, 1000, true);
		assert_int_equal(offload_split_init(&s, &partial, super, plen), 1);
		assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), plen);
		assert_valid(segs[0], plen, sp);
		build(segs[1], sp, payload, 1000, false);
		assert_memory_equal(segs[0], segs[1], plen);
	}
	/* Not even IP: passed on untouched, it is not ours to judge. */
	memset(super, 0xee, 100);
	assert_int_equal(offload_split_init(&s, &none, super, 100), 1);
	assert_int_equal(offload_split_next(&s, segs[0], 99), OFFLOAD_ERR_NOSPACE);
	assert_int_equal(offload_split_next(&s, segs[0], 100), 100);
}

/* A UDP checksum that comes out 0 is sent as ffff: 0 would say "none". */
static void test_split_udp_zero_checksum(void **state)
{
	struct offload_split s;
	struct spec sp = udp4();
	struct virtio_net_hdr h = vnet_of(&sp, 1000);
	uint8_t data[2000];

	/* Make the first datagram's sum ffff by its last two bytes. */
	size_t len;
	memcpy(data, payload, sizeof(data));
	data[998] = data[999] = 0;
	build(segs[0], &sp, data, 1000, false);
	/* Its checksum c is ~sum: adding c as data makes the sum ffff. */
	put16(data + 998, get16(segs[0] + 26));
	len = build(super, &sp, data, 2000, true);
	assert_int_equal(offload_split_init(&s, &h, super, len), 2);
	assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), 1028);
	assert_int_equal(get16(segs[0] + 26), 0xffff);
	assert_valid(segs[0], 1028, &sp);

	/* The same datagram alone, CHECKSUM_PARTIAL without GSO. */
	len = build(super, &sp, data, 1000, true);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	assert_int_equal(offload_split_init(&s, &h, super, len), 1);
	assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), 1028);
	assert_int_equal(get16(segs[0] + 26), 0xffff);
}

/* A segment that does not fit is refused, and can be taken afterwards. */
static void test_split_nospace(void **state)
{
	struct offload_split s;
	struct spec sp = tcp4();
	struct virtio_net_hdr h = vnet_of(&sp, 1448);
	size_t len = build(super, &sp, payload, 3000, true);

	assert_int_equal(offload_split_init(&s, &h, super, len), 3);
	assert_int_equal(offload_split_next(&s, segs[0], 52 + 1447), OFFLOAD_ERR_NOSPACE);
	assert_int_equal(offload_split_remaining(&s), 3);
	assert_int_equal(offload_split_next(&s, segs[0], 52 + 1448), 52 + 1448);
	assert_int_equal(offload_split_next(&s, segs[0], 52 + 1448), 52 + 1448);
	assert_int_equal(offload_split_next(&s, segs[0], 52 + 104), 52 + 104);
}

/* ---- malformed input from the kernel ---- */

struct bad_case {
	const char *what;
	int want;
};

static void expect(const struct virtio_net_hdr *h, const uint8_t *p, size_t len, int want, const char *what)
{
	struct offload_split s;
	int r = offload_split_init(&s, h, p, len);
	if (r != want)
		fail_msg("%s: got %d (%s), want %d (%s)", what, r, offload_result_name(r), want,
			 offload_result_name(want));
}

/* n destination options headers of 8 bytes after the IPv6 header. */
static void ext_chain(uint8_t *p, int n)
{
	p[6] = IPPROTO_DSTOPTS;
	memset(p + 40, 0, 8 * (size_t)n);
	for (int i = 0; i < n; i++)
		p[40 + 8 * i] = i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_NONE;
}

static void test_split_malformed(void **state)
{
	struct spec t4 = tcp4(), t6 = tcp6(), u4 = udp4(), u6 = udp6();
	struct virtio_net_hdr h;
	uint8_t p[4000];
	size_t len;

#define CASE(spec_, mutate, want)                              \
	do {                                                   \
		len = build(p, &spec_, payload, 3000, true);   \
		h = vnet_of(&spec_, 1000);                     \
		mutate;                                        \
		expect(&h, p, len, want, #spec_ ": " #mutate); \
	} while (0)

	CASE(t4, (void)0, 3);
	CASE(t4, h.gso_size = 0, OFFLOAD_ERR_GSO_SIZE);
	CASE(t4, h.gso_type = VIRTIO_NET_HDR_GSO_UDP, OFFLOAD_ERR_GSO_TYPE); /* UFO */
	CASE(t4, h.gso_type = 2, OFFLOAD_ERR_GSO_TYPE);
	CASE(t4, h.gso_type = 0x7f, OFFLOAD_ERR_GSO_TYPE);
	CASE(t4, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6, OFFLOAD_ERR_GSO_MISMATCH);
	CASE(t4, h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, OFFLOAD_ERR_GSO_MISMATCH);
	CASE(t4, h.gso_type |= VIRTIO_NET_HDR_GSO_ECN, 3);
	CASE(u4, h.gso_type |= VIRTIO_NET_HDR_GSO_ECN, OFFLOAD_ERR_GSO_TYPE);
	CASE(t6, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, OFFLOAD_ERR_GSO_MISMATCH);
	CASE(u6, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6, OFFLOAD_ERR_GSO_MISMATCH);
	CASE(t4, h.flags = 0, 3); /* parsed, not trusted: the fields need not be there */
	CASE(t4, (h.flags = VIRTIO_NET_HDR_F_DATA_VALID, h.csum_start = 0, h.csum_offset = 0), 3);
	CASE(t4, h.csum_start = 21, OFFLOAD_ERR_CSUM_FIELDS);
	CASE(t4, h.csum_offset = 6, OFFLOAD_ERR_CSUM_FIELDS);
	CASE(u6, h.csum_offset = 16, OFFLOAD_ERR_CSUM_FIELDS);
	CASE(t4, h.hdr_len = 60000, 3); /* a hint only */
	CASE(t4, put16(p + 2, (uint32_t)len + 1), OFFLOAD_ERR_IP);
	CASE(t4, put16(p + 2, (uint32_t)len - 1), OFFLOAD_ERR_IP);
	CASE(t4, p[0] = 0x44, OFFLOAD_ERR_IP);
	CASE(t4, p[0] = 0x4f, OFFLOAD_ERR_CSUM_FIELDS); /* 60-byte header: csum_start disagrees */
	CASE(t4, p[0] = 0x55, OFFLOAD_ERR_IP);
	CASE(t4, p[6] |= 0x20, OFFLOAD_ERR_IP); /* more fragments */
	CASE(t4, p[7] = 1, OFFLOAD_ERR_IP);     /* fragment offset */
	CASE(t4, len = 19, OFFLOAD_ERR_IP);
	CASE(t4, len = 0, OFFLOAD_ERR_IP);
	CASE(t4, p[20 + 12] = 0x40, OFFLOAD_ERR_L4);            /* data offset 16 bytes */
	CASE(t4, (len = 40, put16(p + 2, 40)), OFFLOAD_ERR_L4); /* options cut off */
	CASE(t4, (len = 30, put16(p + 2, 30)), OFFLOAD_ERR_L4); /* header cut off */
	CASE(t4, (p[20 + 12] = 0xf0, len = 70, put16(p + 2, 70)), OFFLOAD_ERR_L4);
	CASE(u4, (len = 27, put16(p + 2, 27)), OFFLOAD_ERR_L4);
	CASE(t6, put16(p + 4, (uint32_t)len - 39), OFFLOAD_ERR_IP);
	CASE(t6, put16(p + 4, 0), OFFLOAD_ERR_IP); /* jumbogram */
	CASE(t6, len = 39, OFFLOAD_ERR_IP);
	CASE(t6, p[6] = IPPROTO_ROUTING, OFFLOAD_ERR_UNSUPPORTED);
	CASE(t6, p[6] = IPPROTO_FRAGMENT, OFFLOAD_ERR_UNSUPPORTED);
	CASE(t6, p[6] = IPPROTO_ICMPV6, OFFLOAD_ERR_GSO_MISMATCH);
	/* Destination options running past the end. */
	CASE(t6, (p[6] = IPPROTO_DSTOPTS, p[40] = IPPROTO_DSTOPTS, p[41] = 255, p[2088 + 1] = 255), OFFLOAD_ERR_IP);
	/* A chain of nine extension headers: refused, not walked. */
	CASE(t6, ext_chain(p, 9), OFFLOAD_ERR_UNSUPPORTED);
	CASE(t6, ext_chain(p, 8), OFFLOAD_ERR_GSO_MISMATCH); /* walked, to no transport */
	CASE(t4, len = OFFLOAD_MAX_PACKET + 1, OFFLOAD_ERR_IP);
	/* GSO_NONE with a checksum place past the end. */
	CASE(t4, (h.gso_type = 0, h.csum_start = (uint16_t)len - 1, h.csum_offset = 0), OFFLOAD_ERR_CSUM_FIELDS);
	CASE(t4, (h.gso_type = 0, h.csum_start = 0xffff, h.csum_offset = 0xffff), OFFLOAD_ERR_CSUM_FIELDS);
	CASE(t4, (h.gso_type = 0, h.csum_start = (uint16_t)len - 2, h.csum_offset = 0), 1);
#undef CASE
}

/* Every truncation and every single-bit flip of header and packet: no
 * crash (ASan watches), and whatever is accepted splits into segments
 * that carry the payload exactly once. */
static void split_all(const struct virtio_net_hdr *h, const uint8_t *p, size_t len)
{
	struct offload_split s;
	int n = offload_split_init(&s, h, p, len);
	size_t total = 0;

	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		int r = offload_split_next(&s, segs[0], MAXPKT);
		assert_true(r > 0);
		total += (size_t)r - (h->gso_type ? s.hdrs_len : 0);
	}
	assert_int_equal(offload_split_next(&s, segs[0], MAXPKT), OFFLOAD_ERR_DONE);
	assert_int_equal(total, h->gso_type ? len - s.hdrs_len : len);
}

static void test_split_mutations(void **state)
{
	struct spec specs[] = { tcp4(), tcp6(), udp4(), udp6() };
	uint8_t p[800];

	for (size_t k = 0; k < 4; k++) {
		size_t len = build(p, &specs[k], payload, 700, true);
		struct virtio_net_hdr h = vnet_of(&specs[k], 100);
		for (size_t cut = 0; cut <= len; cut++)
			split_all(&h, p, cut);
		for (size_t bit = 0; bit < 8 * sizeof(h); bit++) {
			struct virtio_net_hdr m = h;
			((uint8_t *)&m)[bit / 8] ^= (uint8_t)(1 << bit % 8);
			split_all(&m, p, len);
		}
		for (size_t bit = 0; bit < 8 * 80; bit++) {
			p[bit / 8] ^= (uint8_t)(1 << bit % 8);
			split_all(&h, p, len);
			p[bit / 8] ^= (uint8_t)(1 << bit % 8);
		}
	}
}

/* ---- coalesce ---- */

/* Segment i of a stream: payload [i * size, i * size + n), full checksum. */
static void make_seg(int i, const struct spec *base, size_t size, size_t n)
{
	struct spec sp = *base;
	sp.seq = base->seq + (uint32_t)(i * size);
	sp.id = (uint16_t)(base->id + i);
	seg_len[i] = build(segs[i], &sp, payload + i * size, n, false);
}

static void make_stream(int count, const struct spec *base, size_t size)
{
	for (int i = 0; i < count; i++)
		make_seg(i, base, size, size);
}

static int add(int i)
{
	memcpy(orig[i], segs[i], seg_len[i]);
	return offload_gro_add(&gro, segs[i], seg_len[i]);
}

/* Adds segments in the order given (ending with -1), checking verdicts. */
static void add_all(const int *order, const int *verdicts)
{
	for (int k = 0; order[k] >= 0; k++) {
		int r = add(order[k]);
		if (r != verdicts[k])
			fail_msg("packet %d (#%d): verdict %d, want %d", order[k], k, r, verdicts[k]);
	}
}

/* What the writes of the batch carry: each split again, in order, must
 * give back the packets added, in the order added within each output. */
static size_t expand(size_t out, uint8_t (*into)[MAXPKT], size_t *lens)
{
	struct virtio_net_hdr h;
	struct offload_split s;
	size_t len = offload_gro_flatten(&gro, out, flat, sizeof(flat));

	assert_int_equal(len, OFFLOAD_VNET_HDR_LEN + gro.out[out].len);
	offload_vnet_read(&h, flat);
	assert_memory_equal(&h, &gro.out[out].vnet, sizeof(h));
	int n = offload_split_init(&s, &h, flat + OFFLOAD_VNET_HDR_LEN, len - OFFLOAD_VNET_HDR_LEN);
	assert_int_equal(n, gro.out[out].segs);
	for (int i = 0; i < n; i++) {
		int r = offload_split_next(&s, into[i], MAXPKT);
		assert_true(r > 0);
		lens[i] = (size_t)r;
	}
	return (size_t)n;
}

/* Output `out` carries exactly segments first..first+n-1 (byte for byte,
 * once split again). */
static void assert_output(size_t out, int first, int n)
{
	static uint8_t back[NSEG][MAXPKT];
	size_t lens[NSEG];

	assert_true(out < gro.n_out);
	assert_int_equal(expand(out, back, lens), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(lens[i], seg_len[first + i]);
		assert_memory_equal(back[i], orig[first + i], lens[i]);
	}
}

/* Split a super-packet, coalesce its segments: the same bytes come back,
 * and the virtio_net_hdr the kernel gave with them. */
static void check_round_trip(const struct spec *sp, size_t n, uint16_t mss)
{
	struct offload_split s;
	struct virtio_net_hdr h = vnet_of(sp, mss);
	size_t len = build(super, sp, payload, n, true);
	int count = offload_split_init(&s, &h, super, len);

	assert_true(count > 1);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP | OFFLOAD_GRO_UDP);
	for (int i = 0; i < count; i++) {
		int r = offload_split_next(&s, segs[i], MAXPKT);
		assert_true(r > 0);
		seg_len[i] = (size_t)r;
		assert_int_equal(add(i), i ? OFFLOAD_GRO_MERGED : OFFLOAD_GRO_HEAD);
	}
	assert_int_equal(offload_gro_finish(&gro), 1);
	assert_int_equal(gro.out[0].segs, count);
	assert_int_equal(gro.out[0].iov_count, 1 + count);
	assert_int_equal(offload_gro_flatten(&gro, 0, flat, sizeof(flat)), OFFLOAD_VNET_HDR_LEN + len);
	assert_memory_equal(flat + OFFLOAD_VNET_HDR_LEN, super, len);
	struct virtio_net_hdr back;
	offload_vnet_read(&back, flat);
	assert_memory_equal(&back, &h, sizeof(h));
	/* Too small a buffer: nothing. */
	assert_int_equal(offload_gro_flatten(&gro, 0, flat, OFFLOAD_VNET_HDR_LEN + len - 1), 0);
	assert_int_equal(offload_gro_flatten(&gro, 1, flat, sizeof(flat)), 0);
}

static void test_round_trip(void **state)
{
	struct spec sp = tcp4();

	sp.flags = F_ACK | F_PSH;
	check_round_trip(&sp, 10000, 1448);
	check_round_trip(&sp, 64000, 1448);
	sp.df = false; /* then the ids must count up, and do */
	sp.flags = F_ACK | F_ECE;
	check_round_trip(&sp, 2 * 1448, 1448);
	sp = tcp6();
	check_round_trip(&sp, 20000, 1428);
	check_round_trip(&sp, 65535 - 32 - 1428, 1428);
	sp = udp4();
	check_round_trip(&sp, 40 * 1200 + 1, 1200);
	sp = udp6();
	check_round_trip(&sp, 32 * 1232, 1232);
}

/* Packets that do not join keep their order within the flow. */
static void test_out_of_order(void **state)
{
	struct spec sp = tcp4();

	make_stream(5, &sp, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 3, 2, 4, -1 },
		(int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });
	assert_int_equal(offload_gro_finish(&gro), 4);
	assert_output(0, 0, 2);
	assert_output(1, 3, 1);
	assert_output(2, 2, 1);
	assert_output(3, 4, 1);
	/* A duplicate does not join either. */
	make_stream(5, &sp, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 1, 2, -1 },
		(int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED });
	assert_int_equal(offload_gro_finish(&gro), 2);
}

/* Two flows interleaved: one super-packet each, in the order they began. */
static void test_two_flows(void **state)
{
	struct spec a = tcp4(), b = tcp4();

	b.sport++;
	make_stream(3, &a, 1000);
	for (int i = 0; i < 3; i++) {
		b.seq = a.seq + (uint32_t)(i * 1000);
		b.id = (uint16_t)(a.id + i);
		seg_len[3 + i] = build(segs[3 + i], &b, payload + i * 1000, 1000, false);
	}
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 3, 0, 4, 1, 5, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED,
							  OFFLOAD_GRO_MERGED, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_MERGED });
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_output(0, 3, 3);
	assert_output(1, 0, 3);

	/* Other address, other protocol, other version: other flows. */
	struct spec c = tcp6(), d = udp4();
	seg_len[6] = build(segs[6], &c, payload, 1000, false);
	seg_len[7] = build(segs[7], &d, payload, 1000, false);
	make_stream(3, &a, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP | OFFLOAD_GRO_UDP);
	add_all((int[]){ 0, 6, 7, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD,
						       OFFLOAD_GRO_MERGED, OFFLOAD_GRO_MERGED });
	assert_int_equal(offload_gro_finish(&gro), 3);
	assert_output(0, 0, 3);
}

/* Segment 1 built from `mutated` (at its place in the stream) may not join
 * segment 0; it passes (or heads a group of its own) untouched. */
static void check_breaks(const char *what, struct spec mutated, bool passes)
{
	struct spec sp = tcp4();

	make_stream(3, &sp, 1000);
	mutated.seq = sp.seq + 1000;
	seg_len[1] = build(segs[1], &mutated, payload + 1000, 1000, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	int v0 = add(0), v1 = add(1), v2 = add(2);
	if (v0 != OFFLOAD_GRO_HEAD || v1 != (passes ? OFFLOAD_GRO_PASS : OFFLOAD_GRO_HEAD) || v2 == OFFLOAD_GRO_MERGED)
		fail_msg("%s: verdicts %d %d %d", what, v0, v1, v2);
	assert_int_equal(offload_gro_finish(&gro), 3);
	/* What passes goes out untouched, with an empty virtio_net_hdr. */
	static const struct virtio_net_hdr zero;
	assert_memory_equal(&gro.out[1].vnet, &zero, sizeof(zero));
	assert_int_equal(gro.out[1].iov_count, 2);
	assert_ptr_equal(gro.iov[gro.out[1].iov_first + 1].iov_base, segs[1]);
	assert_int_equal(gro.iov[gro.out[1].iov_first + 1].iov_len, seg_len[1]);
}

static void test_refuses(void **state)
{
	struct spec m;
	uint8_t flags[] = { F_SYN, F_FIN, F_RST, F_URG, F_CWR };

	for (size_t i = 0; i < sizeof(flags); i++) {
		m = tcp4();
		m.flags |= flags[i];
		check_breaks("flag", m, true);
	}
	m = tcp4(), m.flags = 0, check_breaks("no ACK", m, true);
	m = tcp4(), m.flags |= F_ECE, check_breaks("ECE", m, false);
	m = tcp4(), m.ack++, check_breaks("ack", m, false);
	m = tcp4(), m.window++, check_breaks("window", m, false);
	m = tcp4(), m.tsval++, check_breaks("timestamp", m, false);
	m = tcp4(), m.tsopt = false, check_breaks("options", m, false);
	m = tcp4(), m.ttl--, check_breaks("TTL", m, false);
	m = tcp4(), m.tos = 4, check_breaks("TOS", m, false);
	m = tcp4(), m.df = false, check_breaks("DF", m, false);
	m = tcp4(), m.dport++, check_breaks("port", m, false);
	m = tcp4(), m.proto = IPPROTO_UDP, check_breaks("UDP of the same addresses and ports", m, true);
}

/* A full TCP checksum again, after an IPv4 segment was edited. */
static void refresh_tcp4_csum(uint8_t *p, size_t len)
{
	put16(p + 36, 0);
	put16(p + 36, (uint16_t)~fold(ones(p + 20, len - 20, pseudo(p, IPPROTO_TCP, (uint32_t)len - 20))));
}

static void test_refuses_more(void **state)
{
	struct spec sp = tcp4();

	/* A corrupt transport checksum, and a corrupt IPv4 header checksum:
	 * passed to the kernel to drop, never made valid by coalescing. */
	make_stream(3, &sp, 1000);
	segs[1][seg_len[1] - 1] ^= 1;
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });
	make_stream(3, &sp, 1000);
	segs[1][10] ^= 1;
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });

	/* IPv4 options. */
	make_stream(3, &sp, 1000);
	memmove(segs[1] + 24, segs[1] + 20, seg_len[1] - 20);
	memset(segs[1] + 20, 1, 4); /* four NOPs */
	segs[1][0] = 0x46;
	seg_len[1] += 4;
	put16(segs[1] + 2, (uint32_t)seg_len[1]);
	put16(segs[1] + 10, 0);
	put16(segs[1] + 10, (uint16_t)~fold(ones(segs[1], 24, 0)));
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });

	/* Without DF the ids must count up; with DF they may be anything. */
	sp.df = false;
	make_stream(3, &sp, 1000);
	put16(segs[1] + 4, 0);
	put16(segs[1] + 10, 0);
	put16(segs[1] + 10, (uint16_t)~fold(ones(segs[1], 20, 0)));
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });
	sp.df = true;
	make_stream(3, &sp, 1000);
	for (int i = 0; i < 3; i++) {
		put16(segs[i] + 4, 0);
		put16(segs[i] + 10, 0);
		put16(segs[i] + 10, (uint16_t)~fold(ones(segs[i], 20, 0)));
	}
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_MERGED });

	/* The urgent pointer, meaningless without URG, is kept all the same. */
	make_stream(3, &sp, 1000);
	segs[1][20 + 19] = 1;
	refresh_tcp4_csum(segs[1], seg_len[1]);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });

	/* IPv6: flow label and hop limit. */
	sp = tcp6();
	struct spec m = sp;
	m.flow++;
	make_stream(2, &sp, 1000);
	m.seq += 1000;
	seg_len[1] = build(segs[1], &m, payload + 1000, 1000, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });
	m = sp;
	m.ttl = 1;
	m.seq += 1000;
	seg_len[1] = build(segs[1], &m, payload + 1000, 1000, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });
	/* Extension headers are not coalesced, and end their flow's group. */
	m = sp;
	m.dstopts = 8;
	m.seq += 1000;
	make_stream(3, &sp, 1000);
	seg_len[1] = build(segs[1], &m, payload + 1000, 1000, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });

	/* A pure ACK of the same flow passes and ends the group; one of the
	 * other direction does not. */
	sp = tcp4();
	make_stream(3, &sp, 1000);
	seg_len[3] = build(segs[3], &sp, payload, 0, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 3, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });
	uint8_t *r = segs[3];
	uint8_t tmp[4];
	memcpy(tmp, r + 12, 4);
	memcpy(r + 12, r + 16, 4);
	memcpy(r + 16, tmp, 4); /* checksums are unchanged by the swap */
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 3, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_MERGED });

	/* A pure ACK of another connection between the same addresses does
	 * not end it either. */
	make_stream(3, &sp, 1000);
	struct spec other = sp;
	other.sport++;
	seg_len[3] = build(segs[3], &other, payload, 0, false);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 3, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_MERGED });

	/* A fragment of the same addresses ends the group (its ports are
	 * unknown); garbage ends nothing. */
	make_stream(3, &sp, 1000);
	memcpy(segs[3], segs[1], seg_len[1]);
	seg_len[3] = seg_len[1];
	segs[3][6] |= 0x20;
	put16(segs[3] + 10, 0);
	put16(segs[3] + 10, (uint16_t)~fold(ones(segs[3], 20, 0)));
	memset(segs[4], 0x45, 30);
	seg_len[4] = 30;
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 4, 1, 3, 2, -1 },
		(int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_PASS, OFFLOAD_GRO_HEAD });
}

/* Sizes: none larger than the first; a smaller one is the last. */
static void test_sizes(void **state)
{
	struct spec sp = tcp4();

	make_seg(0, &sp, 1000, 1000);
	make_seg(1, &sp, 1000, 500);
	sp.seq += 500 - 1000; /* so that 2 follows 1 */
	make_seg(2, &sp, 1000, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_HEAD });
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_output(0, 0, 2);

	sp = tcp4();
	make_seg(0, &sp, 1000, 500);
	sp.seq += 500 - 1000;
	make_seg(1, &sp, 1000, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_HEAD });

	/* PSH ends it, and goes on the super-packet. */
	sp = tcp4();
	make_stream(3, &sp, 1000);
	sp.flags |= F_PSH;
	make_seg(1, &sp, 1000, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_HEAD });
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_int_equal(segs[0][20 + 13], F_ACK | F_PSH);
	assert_output(0, 0, 2);
}

/* At most 64 KiB of IP and OFFLOAD_GRO_MAX_SEGS packets per write. */
static void test_limits(void **state)
{
	struct spec sp = tcp4();

	make_stream(50, &sp, 1448);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	for (int i = 0; i < 50; i++)
		assert_int_equal(add(i), i == 0 || i == 45 ? OFFLOAD_GRO_HEAD : OFFLOAD_GRO_MERGED);
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_int_equal(gro.out[0].len, 52 + 45 * 1448);
	assert_output(0, 0, 45);
	assert_output(1, 45, 5);

	sp.tsopt = false;
	make_stream(NSEG, &sp, 100);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	for (int i = 0; i < 70; i++)
		assert_int_equal(add(i), i % OFFLOAD_GRO_MAX_SEGS ? OFFLOAD_GRO_MERGED : OFFLOAD_GRO_HEAD);
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_output(0, 0, OFFLOAD_GRO_MAX_SEGS);
	assert_output(1, OFFLOAD_GRO_MAX_SEGS, 70 - OFFLOAD_GRO_MAX_SEGS);

	make_stream(NSEG, &sp, 100);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	for (int i = 0; i < OFFLOAD_GRO_MAX_PKTS; i++)
		assert_true(add(i) >= 0);
	assert_int_equal(add(0), OFFLOAD_ERR_FULL);
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_int_equal(add(0), OFFLOAD_ERR_DONE);
	make_stream(1, &sp, 100);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP); /* and ready again */
	assert_int_equal(add(0), OFFLOAD_GRO_HEAD);
}

static void test_udp(void **state)
{
	struct spec sp = udp4();

	make_stream(5, &sp, 1000);
	make_seg(3, &sp, 1000, 300);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP | OFFLOAD_GRO_UDP);
	add_all((int[]){ 0, 1, 2, 3, 4, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED, OFFLOAD_GRO_MERGED,
						       OFFLOAD_GRO_MERGED, OFFLOAD_GRO_HEAD });
	assert_int_equal(offload_gro_finish(&gro), 2);
	assert_output(0, 0, 4);
	assert_output(1, 4, 1);
	assert_int_equal(gro.out[0].vnet.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(gro.out[0].vnet.gso_size, 1000);

	/* Without UDP GRO (no USO on the TUN), each goes alone. */
	make_stream(3, &sp, 1000);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	add_all((int[]){ 0, 1, 2, -1 }, (int[]){ OFFLOAD_GRO_PASS, OFFLOAD_GRO_PASS, OFFLOAD_GRO_PASS });

	/* IPv4 without checksum (0) may be coalesced; IPv6 may not. */
	make_stream(2, &sp, 1000);
	put16(segs[0] + 26, 0);
	put16(segs[1] + 26, 0);
	offload_gro_init(&gro, OFFLOAD_GRO_UDP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_MERGED });
	sp = udp6();
	make_stream(2, &sp, 1000);
	put16(segs[1] + 46, 0);
	offload_gro_init(&gro, OFFLOAD_GRO_UDP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS });

	/* A UDP length that disagrees with the IP length: not coalesced. */
	sp = udp4();
	make_stream(2, &sp, 1000);
	put16(segs[1] + 24, 900);
	offload_gro_init(&gro, OFFLOAD_GRO_UDP);
	add_all((int[]){ 0, 1, -1 }, (int[]){ OFFLOAD_GRO_HEAD, OFFLOAD_GRO_PASS });
}

/* A lone candidate is written untouched, with an empty virtio_net_hdr. */
static void test_single_untouched(void **state)
{
	static const struct virtio_net_hdr zero;
	struct spec sp = tcp4();
	uint8_t copy[MAXPKT];

	make_stream(1, &sp, 1000);
	memcpy(copy, segs[0], seg_len[0]);
	offload_gro_init(&gro, OFFLOAD_GRO_TCP);
	assert_int_equal(add(0), OFFLOAD_GRO_HEAD);
	assert_int_equal(offload_gro_finish(&gro), 1);
	assert_memory_equal(segs[0], copy, seg_len[0]);
	assert_memory_equal(&gro.out[0].vnet, &zero, sizeof(zero));
	assert_int_equal(offload_gro_flatten(&gro, 0, flat, sizeof(flat)), OFFLOAD_VNET_HDR_LEN + seg_len[0]);
	/* Nor is anything odd: empty, short, not IP. */
	offload_gro_init(&gro, OFFLOAD_GRO_TCP | OFFLOAD_GRO_UDP);
	assert_int_equal(offload_gro_add(&gro, copy, 0), OFFLOAD_GRO_PASS);
	assert_int_equal(offload_gro_add(&gro, copy, 1), OFFLOAD_GRO_PASS);
	copy[0] = 0x65;
	assert_int_equal(offload_gro_add(&gro, copy, 100), OFFLOAD_GRO_PASS);
	assert_int_equal(offload_gro_finish(&gro), 3);
}

static void test_names(void **state)
{
	for (int r = OFFLOAD_OK; r >= OFFLOAD_ERR_DONE; r--)
		assert_string_not_equal(offload_result_name(r), "unknown outcome");
	assert_string_equal(offload_result_name(1), "unknown outcome");
	assert_int_equal(OFFLOAD_VNET_HDR_LEN, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_tcp4),
		cmocka_unit_test(test_split_tcp6),
		cmocka_unit_test(test_split_udp4),
		cmocka_unit_test(test_split_udp6),
		cmocka_unit_test(test_split_ignores_seed),
		cmocka_unit_test(test_split_none),
		cmocka_unit_test(test_split_udp_zero_checksum),
		cmocka_unit_test(test_split_nospace),
		cmocka_unit_test(test_split_malformed),
		cmocka_unit_test(test_split_mutations),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_two_flows),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_refuses_more),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_single_untouched),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
