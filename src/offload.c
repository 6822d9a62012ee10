// SPDX-License-Identifier: MIT
#include "offload.h"

#include <netinet/in.h>
#include <string.h>

#include "csum.h"

/* Where the fields we touch sit in the IPv4, IPv6, TCP and UDP headers. */
enum {
	IP4_TOS = 1,
	IP4_TOT_LEN = 2,
	IP4_ID = 4,
	IP4_FRAG = 6,
	IP4_TTL = 8,
	IP4_PROTO = 9,
	IP4_CSUM = 10,
	IP4_SRC = 12,
	IP4_HDR_MIN = 20,
	IP6_PLEN = 4,
	IP6_NEXT = 6,
	IP6_HOPS = 7,
	IP6_SRC = 8,
	IP6_HDR = 40,
	TCP_SEQ = 4,
	TCP_ACK = 8,
	TCP_DOFF = 12,
	TCP_FLAGS = 13,
	TCP_WINDOW = 14,
	TCP_CSUM = 16,
	TCP_URG_PTR = 18,
	TCP_HDR_MIN = 20,
	TCP_HDR_MAX = 60,
	UDP_LEN = 4,
	UDP_CSUM = 6,
	UDP_HDR = 8,
};

#define IP4_DF 0x4000
#define IP4_MF_OFFSET 0x3fff /* more fragments, fragment offset */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK_FLAG 0x10
#define TCP_URG 0x20
#define TCP_CWR 0x80

/* IPv6 extension headers we walk past when segmenting: they are copied to
 * each segment and change neither the transport offset's meaning nor the
 * pseudo-header. A routing header would (its last address is the
 * pseudo-header's destination), and a fragment header cannot be under
 * GSO; those are refused, as is a chain longer than this. */
#define IP6_MAX_EXT 8

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
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *offload_result_name(int result)
{
	switch (result) {
	case OFFLOAD_OK:
		return "ok";
	case OFFLOAD_ERR_GSO_TYPE:
		return "unknown or unoffered gso_type";
	case OFFLOAD_ERR_GSO_SIZE:
		return "gso_size 0";
	case OFFLOAD_ERR_GSO_MISMATCH:
		return "gso_type does not match the packet";
	case OFFLOAD_ERR_CSUM_FIELDS:
		return "csum_start/csum_offset not at the transport checksum";
	case OFFLOAD_ERR_IP:
		return "malformed IP header";
	case OFFLOAD_ERR_L4:
		return "malformed transport header";
	case OFFLOAD_ERR_UNSUPPORTED:
		return "IPv6 extension header not segmentable";
	case OFFLOAD_ERR_NOSPACE:
		return "segment larger than the buffer";
	case OFFLOAD_ERR_FULL:
		return "coalescing batch full";
	case OFFLOAD_ERR_DONE:
		return "nothing left";
	}
	return "unknown outcome";
}

void offload_vnet_read(struct virtio_net_hdr *h, const uint8_t buf[OFFLOAD_VNET_HDR_LEN])
{
	memcpy(h, buf, sizeof(*h));
}

void offload_vnet_write(uint8_t buf[OFFLOAD_VNET_HDR_LEN], const struct virtio_net_hdr *h)
{
	memcpy(buf, h, sizeof(*h));
}

int offload_csum_complete(uint8_t *pkt, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
	if ((size_t)csum_start + csum_offset + 2 > len)
		return OFFLOAD_ERR_CSUM_FIELDS;
	uint16_t check = csum_finish(csum_partial(pkt + csum_start, len - csum_start, 0));
	/* For UDP 0 means "no checksum"; for TCP 0xffff is the same value. */
	put16(pkt + csum_start + csum_offset, check ? check : 0xffff);
	return OFFLOAD_OK;
}

/* ---- the IP header, as both directions see it ---- */

struct ip_info {
	uint8_t version;
	uint8_t proto;    /* of the transport header at l4_off */
	uint8_t addr_len; /* source at src_off, destination right after */
	uint8_t src_off;
	uint32_t l4_off;
};

/* A whole IP packet whose length fields agree with len and that is no
 * fragment. IPv6 extension headers are walked only if ext is true;
 * otherwise proto is the first next header. */
static int parse_ip(const uint8_t *p, size_t len, bool ext, struct ip_info *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (len < 1)
		return OFFLOAD_ERR_IP;
	ip->version = p[0] >> 4;
	if (ip->version == 4) {
		uint32_t ihl = (p[0] & 15u) * 4;
		if (len < IP4_HDR_MIN || ihl < IP4_HDR_MIN || ihl > len || get16(p + IP4_TOT_LEN) != len)
			return OFFLOAD_ERR_IP;
		if (get16(p + IP4_FRAG) & IP4_MF_OFFSET)
			return OFFLOAD_ERR_IP;
		ip->proto = p[IP4_PROTO];
		ip->addr_len = 4;
		ip->src_off = IP4_SRC;
		ip->l4_off = ihl;
		return OFFLOAD_OK;
	}
	if (ip->version == 6) {
		/* A payload length of 0 would be a jumbogram: not ours. */
		if (len < IP6_HDR || get16(p + IP6_PLEN) != len - IP6_HDR)
			return OFFLOAD_ERR_IP;
		uint8_t next = p[IP6_NEXT];
		uint32_t off = IP6_HDR;
		for (int n = 0; ext && (next == IPPROTO_HOPOPTS || next == IPPROTO_DSTOPTS); n++) {
			if (n == IP6_MAX_EXT)
				return OFFLOAD_ERR_UNSUPPORTED;
			if (off + 8 > len || off + (p[off + 1] + 1u) * 8 > len)
				return OFFLOAD_ERR_IP;
			next = p[off];
			off += (p[off + 1] + 1u) * 8;
		}
		ip->proto = next;
		ip->addr_len = 16;
		ip->src_off = IP6_SRC;
		ip->l4_off = off;
		return OFFLOAD_OK;
	}
	return OFFLOAD_ERR_IP;
}

/* ---- split ---- */

enum split_mode { SPLIT_COPY, SPLIT_CSUM, SPLIT_TCP, SPLIT_UDP };

static bool is_ip6_ext(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_ESP:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
	case IPPROTO_MH:
	case 139 /* HIP */:
	case 140 /* shim6 */:
		return true;
	}
	return false;
}

int offload_split_init(struct offload_split *s, const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len)
{
	struct ip_info ip;
	uint8_t want_version, want_proto, tmp[TCP_HDR_MAX];
	uint32_t thlen;
	int r;

	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	if (len == 0 || len > OFFLOAD_MAX_PACKET)
		return OFFLOAD_ERR_IP;
	s->len = (uint32_t)len;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		/* A packet the kernel left whole: nothing to parse, and with
		 * CHECKSUM_PARTIAL only the checksum to finish. */
		s->mode = SPLIT_COPY;
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			if ((size_t)h->csum_start + h->csum_offset + 2 > len)
				return OFFLOAD_ERR_CSUM_FIELDS;
			s->mode = SPLIT_CSUM;
			s->csum_start = h->csum_start;
			s->csum_offset = h->csum_offset;
		}
		s->count = 1;
		return 1;
	}

	switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		want_version = 4;
		want_proto = IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		want_version = 6;
		want_proto = IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		want_version = 0;
		want_proto = IPPROTO_UDP;
		break;
	default:
		return OFFLOAD_ERR_GSO_TYPE; /* UFO included: we never offer TUN_F_UFO */
	}
	/* The ECN bit says the first segment carries CWR: a TCP matter. */
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && want_proto != IPPROTO_TCP)
		return OFFLOAD_ERR_GSO_TYPE;
	if (!h->gso_size)
		return OFFLOAD_ERR_GSO_SIZE;
	r = parse_ip(pkt, len, true, &ip);
	if (r < 0)
		return r;
	if (want_version && ip.version != want_version)
		return OFFLOAD_ERR_GSO_MISMATCH;
	if (ip.proto != want_proto)
		return ip.version == 6 && is_ip6_ext(ip.proto) ? OFFLOAD_ERR_UNSUPPORTED : OFFLOAD_ERR_GSO_MISMATCH;
	/* The kernel hands GSO packets as CHECKSUM_PARTIAL, pointing at the
	 * transport checksum: pointing elsewhere means we misread them.
	 * Without NEEDS_CSUM the fields mean nothing, and we need them not:
	 * the headers are parsed, and every checksum is computed afresh (as
	 * the kernel's own virtio_net_hdr_to_skb takes such packets too). */
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (h->csum_start != ip.l4_off || h->csum_offset != (want_proto == IPPROTO_TCP ? TCP_CSUM : UDP_CSUM)))
		return OFFLOAD_ERR_CSUM_FIELDS;

	const uint8_t *l4 = pkt + ip.l4_off;
	if (want_proto == IPPROTO_TCP) {
		if (ip.l4_off + TCP_HDR_MIN > len)
			return OFFLOAD_ERR_L4;
		thlen = (uint32_t)(l4[TCP_DOFF] >> 4) * 4;
		if (thlen < TCP_HDR_MIN || ip.l4_off + thlen > len)
			return OFFLOAD_ERR_L4;
		s->mode = SPLIT_TCP;
		s->seq = get32(l4 + TCP_SEQ);
		/* The header without what changes per segment: sequence
		 * number, data offset and flags, checksum. */
		memcpy(tmp, l4, thlen);
		memset(tmp + TCP_SEQ, 0, 4);
		memset(tmp + TCP_DOFF, 0, 2);
		memset(tmp + TCP_CSUM, 0, 2);
	} else {
		thlen = UDP_HDR;
		if (ip.l4_off + thlen > len)
			return OFFLOAD_ERR_L4;
		s->mode = SPLIT_UDP;
		memcpy(tmp, l4, thlen);
		memset(tmp + UDP_LEN, 0, 4); /* length and checksum */
	}
	s->version = ip.version;
	s->l4_off = ip.l4_off;
	s->hdrs_len = ip.l4_off + thlen;
	s->gso_size = h->gso_size;
	s->off = s->hdrs_len;
	uint32_t payload = s->len - s->hdrs_len;
	s->count = payload ? (payload + s->gso_size - 1) / s->gso_size : 1;

	/* Everything in the transport checksum that no segment changes:
	 * the pseudo-header less its length, and the fixed header fields. */
	s->l4_sum = (uint32_t)csum_pseudo(pkt + ip.src_off, pkt + ip.src_off + ip.addr_len, ip.addr_len, want_proto,
					  0) +
		    csum_partial(tmp, thlen, 0);
	if (ip.version == 4) {
		/* Likewise the IPv4 header less total length, id and checksum. */
		memcpy(tmp, pkt, ip.l4_off);
		memset(tmp + IP4_TOT_LEN, 0, 4);
		memset(tmp + IP4_CSUM, 0, 2);
		s->ip_sum = csum_partial(tmp, ip.l4_off, 0);
		s->ip_id = get16(pkt + IP4_ID);
	}
	return (int)s->count;
}

uint32_t offload_split_next_len(const struct offload_split *s)
{
	if (s->done == s->count)
		return 0;
	if (s->mode == SPLIT_COPY || s->mode == SPLIT_CSUM)
		return s->len;
	return s->hdrs_len + (s->len - s->off < s->gso_size ? s->len - s->off : s->gso_size);
}

int offload_split_next(struct offload_split *s, uint8_t *out, size_t cap)
{
	if (s->done == s->count)
		return OFFLOAD_ERR_DONE;
	if (s->mode == SPLIT_COPY || s->mode == SPLIT_CSUM) {
		if (s->len > cap)
			return OFFLOAD_ERR_NOSPACE;
		memcpy(out, s->pkt, s->len);
		if (s->mode == SPLIT_CSUM)
			offload_csum_complete(out, s->len, s->csum_start, s->csum_offset);
		s->done++;
		return (int)s->len;
	}

	uint32_t chunk = s->len - s->off < s->gso_size ? s->len - s->off : s->gso_size;
	uint32_t seg_len = s->hdrs_len + chunk;
	if (seg_len > cap)
		return OFFLOAD_ERR_NOSPACE;
	memcpy(out, s->pkt, s->hdrs_len);
	memcpy(out + s->hdrs_len, s->pkt + s->off, chunk);

	if (s->version == 4) {
		/* Ids count up from the first, as the kernel's own TSO does. */
		uint16_t id = (uint16_t)(s->ip_id + s->done);
		put16(out + IP4_TOT_LEN, seg_len);
		put16(out + IP4_ID, id);
		put16(out + IP4_CSUM, csum_finish(s->ip_sum + seg_len + id));
	} else {
		put16(out + IP6_PLEN, seg_len - IP6_HDR);
	}

	uint8_t *l4 = out + s->l4_off;
	uint32_t l4_len = seg_len - s->l4_off;
	uint32_t sum = s->l4_sum + l4_len + csum_partial(out + s->hdrs_len, chunk, 0);
	if (s->mode == SPLIT_TCP) {
		uint32_t seq = s->seq + s->done * (uint32_t)s->gso_size;
		uint8_t flags = l4[TCP_FLAGS];
		/* FIN and PSH belong to the end of the data, CWR to the
		 * first segment only (RFC 3168 6.1.2; tcp_gso_segment). */
		if (s->done + 1 < s->count)
			flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (s->done > 0)
			flags &= (uint8_t)~TCP_CWR;
		l4[TCP_FLAGS] = flags;
		put32(l4 + TCP_SEQ, seq);
		sum += (seq >> 16) + (seq & 0xffff) + get16(l4 + TCP_DOFF);
		put16(l4 + TCP_CSUM, csum_finish(sum));
	} else {
		put16(l4 + UDP_LEN, l4_len);
		sum += l4_len; /* the header's length field, besides the pseudo-header's */
		uint16_t check = csum_finish(sum);
		put16(l4 + UDP_CSUM, check ? check : 0xffff);
	}
	s->off += chunk;
	s->done++;
	return (int)seg_len;
}

/* ---- coalesce ---- */

enum gro_kind { KIND_PASS, KIND_TCP4, KIND_TCP6, KIND_UDP4, KIND_UDP6 };

/* What offload_gro_add learns of a packet. */
struct gro_pkt {
	uint8_t kind;    /* KIND_PASS unless it may be coalesced */
	uint8_t version; /* 0: not even the addresses are readable */
	uint8_t proto;
	bool proto_known; /* false for IPv6 with extension headers */
	bool ports_known; /* false for fragments and the above */
	uint8_t flags;    /* TCP */
	uint32_t l4_off, hdrs_len, payload;
	uint32_t hash;
};

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

/* Of the flow: version, protocol, addresses, ports. Only a quick filter in
 * front of memcmp, so it need not resist collisions. */
static uint32_t flow_hash(const uint8_t *p, const struct gro_pkt *c, const struct ip_info *ip)
{
	uint32_t h = mix(c->version, c->proto);
	for (int i = 0; i < 2 * ip->addr_len; i += 4)
		h = mix(h, get32(p + ip->src_off + i));
	return mix(h, get32(p + ip->l4_off));
}

/* Valid transport checksum (the sum over pseudo-header and segment is -0). */
static bool l4_csum_ok(const uint8_t *p, size_t len, const struct ip_info *ip)
{
	uint32_t l4_len = (uint32_t)len - ip->l4_off;
	uint32_t sum = csum_pseudo(p + ip->src_off, p + ip->src_off + ip->addr_len, ip->addr_len, ip->proto, l4_len);
	return csum_partial(p + ip->l4_off, l4_len, sum) == 0xffff;
}

static void classify(const struct offload_gro *g, const uint8_t *p, size_t len, struct gro_pkt *c)
{
	struct ip_info ip;

	memset(c, 0, sizeof(*c));
	/* First what identifies the flow, as far as the packet shows it:
	 * a packet we pass through still ends its flow's super-packet. */
	if (len >= IP4_HDR_MIN && p[0] >> 4 == 4) {
		c->version = 4;
		c->proto = p[IP4_PROTO];
		c->proto_known = true;
		uint32_t ihl = (p[0] & 15u) * 4;
		c->ports_known = ihl >= IP4_HDR_MIN && ihl + 4 <= len && !(get16(p + IP4_FRAG) & 0x1fff);
	} else if (len >= IP6_HDR && p[0] >> 4 == 6) {
		c->version = 6;
		c->proto = p[IP6_NEXT];
		/* Behind extension headers the protocol is not at hand. */
		c->proto_known = !is_ip6_ext(c->proto);
		c->ports_known = (c->proto == IPPROTO_TCP || c->proto == IPPROTO_UDP) && len >= IP6_HDR + 4;
	} else {
		return;
	}
	if (len > OFFLOAD_GRO_MAX_LEN || parse_ip(p, len, false, &ip) < 0)
		return;
	if (ip.version == 4) {
		/* No options (the kernel's GRO does not merge them either),
		 * and a valid header checksum: we rewrite it, and must not
		 * turn a corrupt header into a valid one. */
		if (ip.l4_off != IP4_HDR_MIN || csum_partial(p, IP4_HDR_MIN, 0) != 0xffff)
			return;
	}
	c->l4_off = ip.l4_off;
	const uint8_t *l4 = p + ip.l4_off;
	if (ip.proto == IPPROTO_TCP && (g->flags & OFFLOAD_GRO_TCP)) {
		if (ip.l4_off + TCP_HDR_MIN > len)
			return;
		uint32_t thlen = (uint32_t)(l4[TCP_DOFF] >> 4) * 4;
		if (thlen < TCP_HDR_MIN || ip.l4_off + thlen >= len) /* no payload: a pure ACK */
			return;
		c->flags = l4[TCP_FLAGS];
		if (!(c->flags & TCP_ACK_FLAG) || (c->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_CWR)))
			return;
		c->hdrs_len = ip.l4_off + thlen;
		c->kind = ip.version == 4 ? KIND_TCP4 : KIND_TCP6;
	} else if (ip.proto == IPPROTO_UDP && (g->flags & OFFLOAD_GRO_UDP)) {
		if (ip.l4_off + UDP_HDR >= len || get16(l4 + UDP_LEN) != len - ip.l4_off)
			return;
		c->hdrs_len = ip.l4_off + UDP_HDR;
		c->kind = ip.version == 4 ? KIND_UDP4 : KIND_UDP6;
	} else {
		return;
	}
	/* The kernel trusts a CHECKSUM_PARTIAL packet and computes a fresh
	 * checksum when it resegments: a corrupt segment inside would come
	 * out valid. An IPv4 UDP datagram without checksum (0) has none to
	 * launder. */
	bool no_udp_csum = c->kind == KIND_UDP4 && get16(l4 + UDP_CSUM) == 0;
	if (!no_udp_csum && !l4_csum_ok(p, len, &ip)) {
		c->kind = KIND_PASS;
		return;
	}
	c->payload = (uint32_t)len - c->hdrs_len;
	c->hash = flow_hash(p, c, &ip);
}

static uint32_t addr_len_of(int version)
{
	return version == 4 ? 4 : 16;
}

static uint32_t src_off_of(int version)
{
	return version == 4 ? IP4_SRC : IP6_SRC;
}

static int version_of(uint8_t kind)
{
	return kind == KIND_TCP4 || kind == KIND_UDP4 ? 4 : 6;
}

static bool is_tcp(uint8_t kind)
{
	return kind == KIND_TCP4 || kind == KIND_TCP6;
}

/* Whether the packet belongs to the flow of group G's head h (a candidate,
 * so its own protocol, and its ports at h + l4_off, are known). */
static bool same_flow(const struct offload_gro_group *G, const uint8_t *h, const uint8_t *p, const struct gro_pkt *c)
{
	int v = version_of(G->kind);
	uint32_t a = addr_len_of(v), s = src_off_of(v);

	if (c->version != v || memcmp(h + s, p + s, 2 * a))
		return false;
	if (!c->proto_known)
		return true;
	if (c->proto != (is_tcp(G->kind) ? IPPROTO_TCP : IPPROTO_UDP))
		return false;
	return !c->ports_known || !memcmp(h + G->l4_off, p + (v == 4 ? (p[0] & 15u) * 4 : IP6_HDR), 4);
}

static void close_group(struct offload_gro_group *G)
{
	G->open = false;
}

/* Whether candidate p may follow what group G holds. */
static bool can_join(const struct offload_gro_group *G, const uint8_t *h, const uint8_t *p, const struct gro_pkt *c)
{
	if (c->kind != G->kind || c->hdrs_len != G->hdrs_len || c->payload > G->gso_size ||
	    G->segs >= OFFLOAD_GRO_MAX_SEGS || G->len + c->payload > OFFLOAD_GRO_MAX_LEN)
		return false;
	if (version_of(G->kind) == 4) {
		/* TOS, TTL and DF equal; without DF the ids count up, as
		 * resegmenting will make them again. */
		if (h[IP4_TOS] != p[IP4_TOS] || h[IP4_TTL] != p[IP4_TTL] || h[IP4_FRAG] != p[IP4_FRAG])
			return false;
		if (!(get16(p + IP4_FRAG) & IP4_DF) && get16(p + IP4_ID) != G->next_id)
			return false;
	} else {
		/* Version, traffic class, flow label; hop limit. */
		if (memcmp(h, p, 4) || h[IP6_HOPS] != p[IP6_HOPS])
			return false;
	}
	if (!is_tcp(G->kind))
		return true;
	const uint8_t *ht = h + G->l4_off, *pt = p + G->l4_off;
	/* Contiguous, acknowledging the same, with the same window and
	 * options (timestamps included), and flags equal but for PSH: the
	 * kernel's GRO asks as much (tcp_gro_receive). The urgent pointer
	 * means nothing without URG, but resegmenting would copy the
	 * first's to all: equal too, so that nothing is lost. */
	return get32(pt + TCP_SEQ) == G->next_seq && !memcmp(ht + TCP_ACK, pt + TCP_ACK, 4) &&
	       ht[TCP_DOFF] == pt[TCP_DOFF] && ht[TCP_FLAGS] == (pt[TCP_FLAGS] & ~TCP_PSH) &&
	       !memcmp(ht + TCP_WINDOW, pt + TCP_WINDOW, 2) && !memcmp(ht + TCP_URG_PTR, pt + TCP_URG_PTR, 2) &&
	       !memcmp(ht + TCP_HDR_MIN, pt + TCP_HDR_MIN, G->hdrs_len - G->l4_off - TCP_HDR_MIN);
}

void offload_gro_init(struct offload_gro *g, unsigned flags)
{
	g->flags = flags;
	g->n_pkts = g->n_groups = g->n_out = 0;
	g->finished = false;
}

int offload_gro_add(struct offload_gro *g, uint8_t *pkt, size_t len)
{
	struct gro_pkt c;
	struct offload_gro_group *G = NULL;

	if (g->finished)
		return OFFLOAD_ERR_DONE;
	if (g->n_pkts == OFFLOAD_GRO_MAX_PKTS)
		return OFFLOAD_ERR_FULL;
	classify(g, pkt, len, &c);

	int16_t idx = (int16_t)g->n_pkts++;
	struct offload_gro_member *m = &g->members[idx];
	m->data = pkt;
	m->len = (uint32_t)len;
	m->next = -1;

	/* The open group of the flow: there is at most one, as any packet of
	 * a flow that does not join ends it. A packet that cannot be
	 * coalesced ends every group it might belong to (all those between
	 * its addresses, when it shows no ports). */
	for (int i = c.version ? g->n_groups - 1 : -1; i >= 0; i--) {
		struct offload_gro_group *o = &g->groups[i];
		if (!o->open || (c.kind && o->hash != c.hash) || !same_flow(o, g->members[o->first].data, pkt, &c))
			continue;
		if (c.kind) {
			G = o;
			break;
		}
		close_group(o);
	}
	if (G && c.kind && can_join(G, g->members[G->first].data, pkt, &c)) {
		g->members[G->last].next = idx;
		G->last = idx;
		G->segs++;
		G->len += c.payload;
		G->next_seq += c.payload;
		G->next_id++;
		/* Only the last may be short, and PSH marks the last. */
		if (c.payload < G->gso_size || (is_tcp(c.kind) && (c.flags & TCP_PSH))) {
			G->psh = is_tcp(c.kind) && (c.flags & TCP_PSH);
			close_group(G);
		}
		return OFFLOAD_GRO_MERGED;
	}
	if (G)
		close_group(G);

	G = &g->groups[g->n_groups++];
	memset(G, 0, sizeof(*G));
	G->first = G->last = idx;
	G->segs = 1;
	G->len = (uint32_t)len;
	G->kind = c.kind;
	if (!c.kind)
		return OFFLOAD_GRO_PASS;
	G->hash = c.hash;
	G->l4_off = (uint16_t)c.l4_off;
	G->hdrs_len = (uint16_t)c.hdrs_len;
	G->gso_size = (uint16_t)c.payload;
	G->open = !(is_tcp(c.kind) && (c.flags & TCP_PSH));
	if (is_tcp(c.kind))
		G->next_seq = get32(pkt + c.l4_off + TCP_SEQ) + c.payload;
	if (c.version == 4)
		G->next_id = (uint16_t)(get16(pkt + IP4_ID) + 1);
	return OFFLOAD_GRO_HEAD;
}

/* Turns the head of G into the super-packet's headers and fills in vnet. */
static void fix_head(const struct offload_gro_group *G, uint8_t *h, struct virtio_net_hdr *vnet)
{
	int v = version_of(G->kind);
	bool tcp = is_tcp(G->kind);
	uint32_t l4_len = G->len - G->l4_off;
	uint8_t *l4 = h + G->l4_off;

	if (v == 4) {
		/* The head's header checksum was valid: update it. */
		uint16_t old = get16(h + IP4_TOT_LEN);
		put16(h + IP4_TOT_LEN, G->len);
		put16(h + IP4_CSUM, csum_replace16(get16(h + IP4_CSUM), old, (uint16_t)G->len));
	} else {
		put16(h + IP6_PLEN, G->len - IP6_HDR);
	}
	if (tcp) {
		if (G->psh)
			l4[TCP_FLAGS] |= TCP_PSH;
	} else {
		put16(l4 + UDP_LEN, l4_len);
	}
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum (with the
	 * whole transport length), and the kernel adds the rest, per segment
	 * when it resegments (tcp_gso_segment, __udp_gso_segment). */
	uint32_t a = addr_len_of(v), s = src_off_of(v);
	put16(l4 + (tcp ? TCP_CSUM : UDP_CSUM),
	      csum_pseudo(h + s, h + s + a, a, tcp ? IPPROTO_TCP : IPPROTO_UDP, l4_len));

	vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vnet->gso_type = tcp ? (v == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6)
			     : VIRTIO_NET_HDR_GSO_UDP_L4;
	vnet->hdr_len = G->hdrs_len;
	vnet->gso_size = G->gso_size;
	vnet->csum_start = G->l4_off;
	vnet->csum_offset = tcp ? TCP_CSUM : UDP_CSUM;
}

size_t offload_gro_finish(struct offload_gro *g)
{
	size_t n_iov = 0;

	if (g->finished)
		return g->n_out;
	for (int i = 0; i < g->n_groups; i++) {
		const struct offload_gro_group *G = &g->groups[i];
		struct offload_gro_out *o = &g->out[i];

		memset(&o->vnet, 0, sizeof(o->vnet));
		if (G->segs > 1)
			fix_head(G, g->members[G->first].data, &o->vnet);
		o->len = G->len;
		o->segs = G->segs;
		o->iov_first = (uint16_t)n_iov;
		g->iov[n_iov].iov_base = &o->vnet;
		g->iov[n_iov++].iov_len = sizeof(o->vnet);
		for (int16_t k = G->first; k >= 0; k = g->members[k].next) {
			uint32_t skip = k == G->first ? 0 : G->hdrs_len;
			g->iov[n_iov].iov_base = g->members[k].data + skip;
			g->iov[n_iov++].iov_len = g->members[k].len - skip;
		}
		o->iov_count = (uint16_t)(n_iov - o->iov_first);
	}
	g->n_out = g->n_groups;
	g->finished = true;
	return g->n_out;
}

size_t offload_gro_flatten(const struct offload_gro *g, size_t i, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	if (i >= g->n_out || OFFLOAD_VNET_HDR_LEN + (size_t)g->out[i].len > cap)
		return 0;
	const struct offload_gro_out *o = &g->out[i];
	for (int k = 0; k < o->iov_count; k++) {
		const struct iovec *v = &g->iov[o->iov_first + k];
		memcpy(buf + len, v->iov_base, v->iov_len);
		len += v->iov_len;
	}
	return len;
}
