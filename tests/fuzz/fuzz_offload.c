// SPDX-License-Identifier: MIT
/*
 * The TUN offloads (offload.c) on anything. The first byte picks:
 *   even: split. Then a flags byte (bit 7: make the IP length fields agree
 *     with the input's length, so the fuzzer gets past them; bits 0-1: the
 *     buffer size, from 64 bytes to 64 KiB), the 10-byte virtio_net_hdr,
 *     and the packet.
 *   odd: coalesce. Then a flags byte (OFFLOAD_GRO_* in bits 0-1) and up to
 *     OFFLOAD_GRO_MAX_PKTS records, each a type byte and its data:
 *       0: raw: 2 bytes of length (11 bits), the packet;
 *       1: the same, then lengths and checksums made valid;
 *       2: the next segment of the previous packet: 2 bytes of payload
 *          length, a byte XORed into the TCP flags; sequence number and
 *          IPv4 id advanced, lengths and checksums made valid.
 * Invariants, besides no crash and no out-of-bounds:
 *   split: every segment a valid IP packet (lengths, checksums) carrying
 *     its slice of the payload at its sequence number, the payload
 *     exactly once; the segments then coalesced, as below.
 *   coalesce: every packet goes out exactly once, in its order within its
 *     flow; every super-packet is accepted by our own split, and gives
 *     back the packets that went into it (but for the checksums and the
 *     ids of DF packets, which may be written differently and are
 *     verified instead).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "csum.h"
#include "offload.h"

#define MAXSEG 2048

static uint8_t pkts[OFFLOAD_GRO_MAX_PKTS][MAXSEG];
static uint8_t orig[OFFLOAD_GRO_MAX_PKTS][MAXSEG];
static size_t lens[OFFLOAD_GRO_MAX_PKTS];
static uint8_t super[OFFLOAD_MAX_PACKET];
static uint8_t flat[OFFLOAD_READ_SIZE];
static uint8_t back[MAXSEG];
static struct offload_gro gro;

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* Where the transport header of a plain IPv4/IPv6 packet is, and its
 * protocol; 0 if there is none we know. */
static size_t l4_of(const uint8_t *p, size_t len, uint8_t *proto)
{
	if (len >= 20 && p[0] >> 4 == 4 && (p[0] & 15) >= 5 && (size_t)(p[0] & 15) * 4 <= len) {
		*proto = p[9];
		return (size_t)(p[0] & 15) * 4;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		*proto = p[6];
		return 40;
	}
	return 0;
}

static bool l4_valid(const uint8_t *p, size_t len, size_t l4, uint8_t proto)
{
	bool v4 = p[0] >> 4 == 4;
	uint16_t sum = csum_pseudo(p + (v4 ? 12 : 8), p + (v4 ? 16 : 24), v4 ? 4 : 16, proto, (uint32_t)(len - l4));
	return csum_partial(p + l4, len - l4, sum) == 0xffff;
}

/* Lengths and checksums made to agree with len, where they can. */
static void normalize(uint8_t *p, size_t len)
{
	uint8_t proto;
	size_t l4 = l4_of(p, len, &proto);

	if (!l4)
		return;
	if (p[0] >> 4 == 4) {
		put16(p + 2, (uint32_t)len);
		put16(p + 10, 0);
		put16(p + 10, csum_finish(csum_partial(p, l4, 0)));
	} else {
		put16(p + 4, (uint32_t)(len - 40));
	}
	size_t at;
	if (proto == IPPROTO_TCP && l4 + 20 <= len)
		at = l4 + 16;
	else if (proto == IPPROTO_UDP && l4 + 8 <= len)
		at = l4 + 6, put16(p + l4 + 4, (uint32_t)(len - l4));
	else
		return;
	put16(p + at, 0);
	bool v4 = p[0] >> 4 == 4;
	uint16_t sum = csum_pseudo(p + (v4 ? 12 : 8), p + (v4 ? 16 : 24), v4 ? 4 : 16, proto, (uint32_t)(len - l4));
	uint16_t c = csum_finish(csum_partial(p + l4, len - l4, sum));
	put16(p + at, proto == IPPROTO_UDP && !c ? 0xffff : c);
}

/* The 5-tuple of a TCP/UDP packet whose ports are at hand, for checking
 * order within flows. Returns its length in key, or 0. */
static size_t flow_key(const uint8_t *p, size_t len, uint8_t key[40])
{
	uint8_t proto;
	size_t l4 = l4_of(p, len, &proto);

	if (!l4 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP) || l4 + 4 > len)
		return 0;
	if (p[0] >> 4 == 4 && (get16(p + 6) & 0x1fff))
		return 0; /* a later fragment: no ports */
	size_t a = p[0] >> 4 == 4 ? 4 : 16, s = p[0] >> 4 == 4 ? 12 : 8;
	key[0] = p[0] >> 4;
	key[1] = proto;
	memcpy(key + 2, p + s, 2 * a);
	memcpy(key + 2 + 2 * a, p + l4, 4);
	return 2 + 2 * a + 4;
}

/* Segment `seg` (from splitting a super-packet) against the packet that
 * went into it: equal but for checksums, and for the id of a DF packet;
 * those checked for validity instead. */
static void same_but_checksums(const uint8_t *seg, size_t n, const uint8_t *o, size_t on)
{
	uint8_t proto;
	size_t l4 = l4_of(o, on, &proto);

	CHECK(n == on && l4);
	CHECK(l4_valid(seg, n, l4, proto));
	size_t at = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	bool df = o[0] >> 4 == 4 && (o[6] & 0x40);
	for (size_t i = 0; i < n; i++) {
		if (i == at || i == at + 1)
			continue;
		if (o[0] >> 4 == 4 && (i == 10 || i == 11 || (df && (i == 4 || i == 5))))
			continue;
		CHECK(seg[i] == o[i]);
	}
	if (o[0] >> 4 == 4)
		CHECK(csum_partial(seg, l4, 0) == 0xffff);
	/* What went in had valid checksums too (IPv4 UDP may have none). */
	bool none = o[0] >> 4 == 4 && proto == IPPROTO_UDP && get16(o + at) == 0;
	CHECK(none || l4_valid(o, on, l4, proto));
}

/* Coalesces pkts[0..n) (copies kept in orig) and checks what comes out. */
static void coalesce_and_check(size_t n, unsigned flags)
{
	static int out_of[OFFLOAD_GRO_MAX_PKTS], pos_in[OFFLOAD_GRO_MAX_PKTS];
	size_t seen = 0;

	offload_gro_init(&gro, flags);
	for (size_t i = 0; i < n; i++) {
		memcpy(orig[i], pkts[i], lens[i]);
		CHECK(offload_gro_add(&gro, pkts[i], lens[i]) >= 0);
	}
	size_t outs = offload_gro_finish(&gro);
	CHECK(outs >= 1 || n == 0);
	for (size_t j = 0; j < outs; j++) {
		const struct offload_gro_out *o = &gro.out[j];
		const struct offload_gro_group *G = &gro.groups[j];
		struct virtio_net_hdr h;
		struct offload_split s;
		size_t len = offload_gro_flatten(&gro, j, flat, sizeof(flat));

		CHECK(len == OFFLOAD_VNET_HDR_LEN + (size_t)o->len);
		CHECK(o->iov_count == 1 + o->segs);
		offload_vnet_read(&h, flat);
		int count = offload_split_init(&s, &h, flat + OFFLOAD_VNET_HDR_LEN, o->len);
		if (o->len == 0) {
			/* An empty packet went out as it came; split refuses it. */
			CHECK(count == OFFLOAD_ERR_IP && o->segs == 1);
			out_of[G->first] = (int)j;
			seen++;
			continue;
		}
		CHECK(count == o->segs);
		int k = 0;
		for (int16_t m = G->first; m >= 0; m = gro.members[m].next, k++) {
			out_of[m] = (int)j;
			pos_in[m] = k;
			seen++;
			int r = offload_split_next(&s, back, sizeof(back));
			CHECK(r > 0);
			if (o->segs == 1) {
				CHECK(h.gso_type == 0 && h.flags == 0);
				CHECK((size_t)r == lens[m] && !memcmp(back, orig[m], lens[m]));
			} else {
				CHECK(o->len <= OFFLOAD_GRO_MAX_LEN && o->segs <= OFFLOAD_GRO_MAX_SEGS);
				same_but_checksums(back, (size_t)r, orig[m], lens[m]);
			}
			if (gro.members[m].next >= 0)
				CHECK(gro.members[m].next > m);
		}
		CHECK(k == o->segs);
		CHECK(offload_split_next(&s, back, sizeof(back)) == OFFLOAD_ERR_DONE);
	}
	CHECK(seen == n);
	/* Within a flow, the order they came in. */
	for (size_t a = 0; a < n; a++) {
		uint8_t ka[40], kb[40];
		size_t la = flow_key(orig[a], lens[a], ka);
		if (!la)
			continue;
		for (size_t b = a + 1; b < n; b++) {
			if (flow_key(orig[b], lens[b], kb) != la || memcmp(ka, kb, la))
				continue;
			CHECK(out_of[a] < out_of[b] || (out_of[a] == out_of[b] && pos_in[a] < pos_in[b]));
		}
	}
}

static void fuzz_split(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 64, 576, 1500, MAXSEG };
	struct virtio_net_hdr h;
	struct offload_split s;

	if (size < 2 + OFFLOAD_VNET_HDR_LEN)
		return;
	uint8_t flags = data[0];
	size_t cap = caps[flags & 3];
	offload_vnet_read(&h, data + 1);
	data += 1 + OFFLOAD_VNET_HDR_LEN;
	size -= 1 + OFFLOAD_VNET_HDR_LEN;
	if (size > sizeof(super))
		return;
	memcpy(super, data, size);
	if (flags & 0x80) {
		if (size >= 20 && super[0] >> 4 == 4 && size <= 0xffff)
			put16(super + 2, (uint32_t)size);
		if (size >= 40 && super[0] >> 4 == 6)
			put16(super + 4, (uint32_t)(size - 40));
	}

	int count = offload_split_init(&s, &h, super, size);
	if (count < 0)
		return;
	CHECK(count >= 1 && (size_t)count == offload_split_remaining(&s));
	bool gso = h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	size_t total = 0, n = 0;
	uint8_t proto = (h.gso_type & 0x7f) == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;
	size_t l4 = s.l4_off; /* past IPv6 extension headers too */
	for (int i = 0; i < count; i++) {
		uint8_t *seg = n < OFFLOAD_GRO_MAX_PKTS ? pkts[n] : back;
		/* What the buffer must carry, said before the segment is cut. */
		uint32_t next_len = offload_split_next_len(&s);
		int r = offload_split_next(&s, seg, cap);
		CHECK(r == OFFLOAD_ERR_NOSPACE ? next_len > cap : (uint32_t)r == next_len);
		if (r == OFFLOAD_ERR_NOSPACE) {
			size_t want = gso ? s.hdrs_len + (size - s.off < s.gso_size ? size - s.off : s.gso_size) : size;
			CHECK(want > cap);
			return;
		}
		CHECK(r > 0 && (size_t)r <= cap);
		if (!gso) {
			/* The packet as it was, its checksum completed. */
			CHECK((size_t)r == size);
			for (size_t b = 0; b < size; b++)
				if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
				    b < (size_t)h.csum_start + h.csum_offset ||
				    b > (size_t)h.csum_start + h.csum_offset + 1)
					CHECK(seg[b] == super[b]);
			/* The field held the pseudo-header's sum: what is covered,
			 * plus that, now verifies. */
			if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h.csum_offset % 2 == 0) {
				uint16_t seed = get16(super + h.csum_start + h.csum_offset);
				CHECK(csum_partial(seg + h.csum_start, size - h.csum_start, seed) == 0xffff);
			}
			return;
		}
		/* A whole packet with valid checksums, carrying its slice. */
		size_t pay = (size_t)r - s.hdrs_len;
		if (super[0] >> 4 == 4) {
			CHECK(get16(seg + 2) == (size_t)r && csum_partial(seg, l4, 0) == 0xffff);
			CHECK(get16(seg + 4) == (uint16_t)(get16(super + 4) + i));
		} else {
			CHECK(get16(seg + 4) == (size_t)r - 40);
		}
		CHECK(l4_valid(seg, (size_t)r, l4, proto));
		CHECK(!memcmp(seg + s.hdrs_len, super + s.hdrs_len + total, pay));
		if (proto == IPPROTO_TCP)
			CHECK(get32(seg + l4 + 4) == get32(super + l4 + 4) + (uint32_t)total);
		else
			CHECK(get16(seg + l4 + 4) == (size_t)r - l4);
		CHECK(i + 1 == count || pay == s.gso_size);
		total += pay;
		if (n < OFFLOAD_GRO_MAX_PKTS && (size_t)r <= MAXSEG)
			lens[n++] = (size_t)r;
	}
	CHECK(offload_split_next_len(&s) == 0);
	CHECK(offload_split_next(&s, back, cap) == OFFLOAD_ERR_DONE);
	CHECK(total == size - s.hdrs_len);
	/* And back: whatever the segments coalesce into holds them all. */
	coalesce_and_check(n, OFFLOAD_GRO_TCP | OFFLOAD_GRO_UDP);
}

static void fuzz_coalesce(const uint8_t *data, size_t size)
{
	size_t n = 0;

	if (size < 1)
		return;
	unsigned flags = data[0] & 3;
	data++;
	size--;
	while (size >= 3 && n < OFFLOAD_GRO_MAX_PKTS) {
		uint8_t type = data[0] % 3;
		size_t len = get16(data + 1) & 0x7ff;
		data += 3;
		size -= 3;
		if (type < 2) {
			if (len > size)
				len = size;
			memcpy(pkts[n], data, len);
			lens[n] = len;
			data += len;
			size -= len;
			if (type == 1)
				normalize(pkts[n], len);
			n++;
			continue;
		}
		/* The segment after the previous one. */
		uint8_t proto, xor = size ? data[0] : 0;
		data += size ? 1 : 0;
		size -= size ? 1 : 0;
		if (!n)
			continue;
		const uint8_t *prev = pkts[n - 1];
		size_t l4 = l4_of(prev, lens[n - 1], &proto), hl;
		if (!l4 || (proto == IPPROTO_TCP ? l4 + 20 : l4 + 8) > lens[n - 1])
			continue;
		hl = proto == IPPROTO_TCP ? l4 + (size_t)(prev[l4 + 12] >> 4) * 4 : l4 + 8;
		if (hl > lens[n - 1] || hl + len > MAXSEG)
			continue;
		memcpy(pkts[n], prev, hl);
		for (size_t i = 0; i < len; i++)
			pkts[n][hl + i] = (uint8_t)(n * 31 + i);
		if (proto == IPPROTO_TCP) {
			put32(pkts[n] + l4 + 4, get32(prev + l4 + 4) + (uint32_t)(lens[n - 1] - hl));
			pkts[n][l4 + 13] ^= xor;
		}
		if (prev[0] >> 4 == 4)
			put16(pkts[n] + 4, get16(prev + 4) + 1u);
		lens[n] = hl + len;
		normalize(pkts[n], lens[n]);
		n++;
	}
	coalesce_and_check(n, flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_coalesce(data + 1, size - 1);
	else
		fuzz_split(data + 1, size - 1);
	return 0;
}
