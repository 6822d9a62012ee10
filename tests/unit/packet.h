/* SPDX-License-Identifier: MIT */
/*
 * IPv4/IPv6 TCP and UDP packets for the offload tests, built and checked
 * with a checksum written here, byte at a time, not with src/csum.c.
 * Include after unit.h.
 */
#ifndef SLUICE_TEST_PACKET_H
#define SLUICE_TEST_PACKET_H

#include <stdbool.h>
#include <netinet/in.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

static inline uint64_t ones(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	return sum;
}

static inline uint16_t fold(uint64_t sum)
{
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* The pseudo-header sum of packet p for transport length l4_len. */
static inline uint64_t pseudo(const uint8_t *p, uint8_t proto, uint32_t l4_len)
{
	bool v4 = p[0] >> 4 == 4;
	uint64_t sum = ones(p + (v4 ? 12 : 8), v4 ? 8 : 32, 0);
	return sum + proto + (l4_len >> 16) + (l4_len & 0xffff);
}

struct spec {
	int version;
	uint8_t proto;
	uint8_t src[16], dst[16]; /* the first 4 bytes for IPv4 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint16_t id;
	bool df;
	uint8_t ttl, tos;
	uint32_t flow; /* IPv6 flow label */
	uint16_t mss;  /* TCP MSS option (4 bytes), if not 0 */
	bool tsopt;    /* TCP timestamps option (12 bytes) */
	uint32_t tsval;
	size_t dstopts; /* IPv6 destination options header, bytes */
};

static inline size_t l4_off_of(const struct spec *sp)
{
	return sp->version == 4 ? 20 : 40 + sp->dstopts;
}

static inline size_t hdrs_of(const struct spec *sp)
{
	if (sp->proto == IPPROTO_UDP)
		return l4_off_of(sp) + 8;
	return l4_off_of(sp) + 20 + (sp->mss ? 4 : 0) + (sp->tsopt ? 12 : 0);
}

/* A packet carrying data[0..n). seed: the transport checksum field holds
 * the pseudo-header sum, as in a CHECKSUM_PARTIAL super-packet from the
 * kernel; otherwise a full checksum, as a peer sends. */
static inline size_t build(uint8_t *b, const struct spec *sp, const uint8_t *data, size_t n, bool seed)
{
	size_t l4 = l4_off_of(sp), h = hdrs_of(sp), len = h + n;

	memset(b, 0, h);
	if (sp->version == 4) {
		b[0] = 0x45;
		b[1] = sp->tos;
		put16(b + 2, (uint32_t)len);
		put16(b + 4, sp->id);
		b[6] = sp->df ? 0x40 : 0;
		b[8] = sp->ttl;
		b[9] = sp->proto;
		memcpy(b + 12, sp->src, 4);
		memcpy(b + 16, sp->dst, 4);
		put16(b + 10, (uint16_t)~fold(ones(b, 20, 0)));
	} else {
		put32(b, 6u << 28 | (uint32_t)sp->tos << 20 | sp->flow);
		put16(b + 4, (uint32_t)(len - 40));
		b[6] = sp->dstopts ? IPPROTO_DSTOPTS : sp->proto;
		b[7] = sp->ttl;
		memcpy(b + 8, sp->src, 16);
		memcpy(b + 24, sp->dst, 16);
		if (sp->dstopts) {
			b[40] = sp->proto;
			b[41] = (uint8_t)(sp->dstopts / 8 - 1);
			b[42] = 1; /* PadN */
			b[43] = (uint8_t)(sp->dstopts - 4);
		}
	}
	uint8_t *t = b + l4;
	put16(t, sp->sport);
	put16(t + 2, sp->dport);
	if (sp->proto == IPPROTO_TCP) {
		uint8_t *o = t + 20;
		put32(t + 4, sp->seq);
		put32(t + 8, sp->ack);
		t[12] = (uint8_t)((h - l4) / 4) << 4;
		t[13] = sp->flags;
		put16(t + 14, sp->window);
		if (sp->mss) {
			o[0] = 2;
			o[1] = 4;
			put16(o + 2, sp->mss);
			o += 4;
		}
		if (sp->tsopt) {
			o[0] = 1;
			o[1] = 1;
			o[2] = 8;
			o[3] = 10;
			put32(o + 4, sp->tsval);
			put32(o + 8, 99);
		}
	} else {
		put16(t + 4, (uint32_t)(len - l4));
	}
	memcpy(b + h, data, n);
	size_t at = l4 + (sp->proto == IPPROTO_TCP ? 16 : 6);
	uint64_t ph = pseudo(b, sp->proto, (uint32_t)(len - l4));
	if (seed) {
		put16(b + at, fold(ph));
	} else {
		uint16_t c = (uint16_t)~fold(ones(t, len - l4, ph));
		put16(b + at, sp->proto == IPPROTO_UDP && !c ? 0xffff : c);
	}
	return len;
}

/* A whole, valid IP packet: lengths agree, checksums verify. */
static inline void assert_valid(const uint8_t *p, size_t len, const struct spec *sp)
{
	size_t l4 = l4_off_of(sp);

	if (sp->version == 4) {
		assert_int_equal(get16(p + 2), len);
		assert_int_equal(fold(ones(p, 20, 0)), 0xffff);
	} else {
		assert_int_equal(get16(p + 4), len - 40);
	}
	if (sp->proto == IPPROTO_UDP)
		assert_int_equal(get16(p + l4 + 4), len - l4);
	assert_int_equal(fold(ones(p + l4, len - l4, pseudo(p, sp->proto, (uint32_t)(len - l4)))), 0xffff);
}

#endif
