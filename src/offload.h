/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads: the virtio_net_hdr that rides in front of every packet on a
 * TUN opened with IFF_VNET_HDR, the split of the kernel's TCP and UDP
 * super-packets (TSO, USO) into MTU-sized packets before encryption, and
 * the coalescing of decrypted segments into super-packets (the GRO a NIC
 * would do) before they are written. Pure: no syscalls, no allocation;
 * every buffer is the caller's.
 *
 * How the daemon uses it
 * ----------------------
 * Open the TUN with tun_open_offload (tun.h): IFF_TUN | IFF_NO_PI |
 * IFF_VNET_HDR, then TUNSETOFFLOAD with TUN_F_CSUM | TSO4 | TSO6 | TSO_ECN,
 * plus USO4 | USO6 where the kernel takes them (Linux 6.2 and later;
 * without, leave OFFLOAD_GRO_UDP out of offload_gro_init's flags). From
 * then on every read() and write() on the TUN carries a struct
 * virtio_net_hdr followed by one IP packet: OFFLOAD_VNET_HDR_LEN = 10
 * bytes, TUNSETVNETHDRSZ's default (12 would be the mergeable-buffers
 * layout, which we never ask for). Its 16-bit fields are in host byte
 * order, the TUN's default: never set TUNSETVNETLE/BE.
 *
 * The MTU stays what it is: the TUN's MTU (core_mtu) is what the kernel
 * segments for, a super-packet only carries many such segments at once.
 *
 * Reading (split). A read may return a super-packet of up to 64 KiB, so it
 * goes into one buffer of OFFLOAD_READ_SIZE bytes the device owns, never
 * into a pool buffer:
 *
 *	ssize_t r = read(tun, big, OFFLOAD_READ_SIZE);
 *	struct virtio_net_hdr h;
 *	struct offload_split s;
 *	if (r < OFFLOAD_VNET_HDR_LEN) ...;
 *	offload_vnet_read(&h, big);
 *	int n = offload_split_init(&s, &h, big + OFFLOAD_VNET_HDR_LEN, r - OFFLOAD_VNET_HDR_LEN);
 *	if (n < 0) drop one packet, log offload_result_name(n);
 *	while (offload_split_remaining(&s)) {
 *		struct pkt *k = pool_get_len(pool, offload_split_next_len(&s));
 *		if (!k) { drop offload_split_remaining(&s) packets; break; }
 *		int len = offload_split_next(&s, k->data, pkt_room(k) - PKT_TAILROOM);
 *		if (len < 0) { pool_put(pool, k); drop the rest; break; }
 *		k->len = len;  hand k to core_tun_rx with the others
 *	}
 *
 * Each segment lands at pkt->data, so the PKT_HEADROOM in front of it stays
 * free for the WireGuard header, and the cap passed leaves PKT_TAILROOM
 * behind it: core pads and adds the AEAD tag behind the packet, in the
 * same buffer. The buffer is picked by the segment's length, so a larger
 * MTU (9000, 34736) needs no restart; a segment that does not fit is
 * refused (OFFLOAD_ERR_NOSPACE), never truncated.
 *
 * Writing (coalesce). core's send_tun hook hands a batch of decrypted
 * packets in pool buffers. Feed them in order, then write what comes out:
 *
 *	offload_gro_init(&gro, OFFLOAD_GRO_TCP | (uso ? OFFLOAD_GRO_UDP : 0));
 *	for (i = 0; i < n; i++)
 *		offload_gro_add(&gro, pkts[i]->data, pkts[i]->len);
 *	for (j = 0, m = offload_gro_finish(&gro); j < m; j++)
 *		writev(tun, gro.iov + gro.out[j].iov_first, gro.out[j].iov_count);
 *	for (i = 0; i < n; i++)
 *		pool_put(pool, pkts[i]);
 *
 * Memory: the coalesced bytes are never copied in user space. A
 * super-packet is an iovec list: its virtio_net_hdr (inside struct
 * offload_gro), the first packet whole (its IP and transport headers
 * rewritten in place by offload_gro_finish), then the payload of each
 * packet that joined it, read from the pool buffers where decryption left
 * them. The kernel copies it once, as it copies any write. So the
 * coalescer needs no 64 KiB buffers; its whole state is struct offload_gro
 * (13 KiB for OFFLOAD_GRO_MAX_PKTS = 128 packets), and the pool buffers stay
 * MTU-sized. The buffers must stay untouched until the writes are done.
 * offload_gro_flatten copies one output into a flat buffer for a caller
 * that would rather write() (tests, fuzzing).
 *
 * Within a flow, packets leave in the order they came: a packet joins only
 * the newest super-packet of its flow, and a packet of the flow that cannot
 * join ends that super-packet. Flows may overtake each other, as with GRO.
 */
#ifndef SLUICE_OFFLOAD_H
#define SLUICE_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

/* USO's type (Linux 4.18); Debian 12's uapi headers do not have it yet. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define OFFLOAD_VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))
/* The largest IP packet with 16-bit length fields: an IPv6 header plus a
 * payload length of 65535. IPv4 stops at 65535 by itself. */
#define OFFLOAD_MAX_PACKET (40 + 65535)
/* The buffer a TUN read needs so that no super-packet is cut short. */
#define OFFLOAD_READ_SIZE (OFFLOAD_VNET_HDR_LEN + OFFLOAD_MAX_PACKET)

/* Named outcomes. Every error is negative; the caller drops the packet and
 * may log offload_result_name(). */
enum offload_result {
	OFFLOAD_OK = 0,
	OFFLOAD_ERR_GSO_TYPE = -1,     /* unknown gso_type, ECN on UDP, or the UFO we never offer */
	OFFLOAD_ERR_GSO_SIZE = -2,     /* gso_size 0 on a GSO packet */
	OFFLOAD_ERR_GSO_MISMATCH = -3, /* gso_type disagrees with the IP version or protocol */
	OFFLOAD_ERR_CSUM_FIELDS = -4,  /* NEEDS_CSUM with csum_start/offset not where the
					* transport checksum is, or past the end */
	OFFLOAD_ERR_IP = -5,           /* IP header: short, bad version or IHL, lengths that
					* disagree with the read, a fragment; an empty read */
	OFFLOAD_ERR_L4 = -6,           /* transport header short or with a bad data offset */
	OFFLOAD_ERR_UNSUPPORTED = -7,  /* IPv6 extension header we cannot segment past */
	OFFLOAD_ERR_NOSPACE = -8,      /* the segment does not fit the buffer given */
	OFFLOAD_ERR_FULL = -9,         /* offload_gro already holds OFFLOAD_GRO_MAX_PKTS */
	OFFLOAD_ERR_DONE = -10,        /* split: no segment left; gro: add after finish */
};

const char *offload_result_name(int result);

/* The header as the TUN carries it (host byte order). */
void offload_vnet_read(struct virtio_net_hdr *h, const uint8_t buf[OFFLOAD_VNET_HDR_LEN]);
void offload_vnet_write(uint8_t buf[OFFLOAD_VNET_HDR_LEN], const struct virtio_net_hdr *h);

/* Completes the checksum of a CHECKSUM_PARTIAL packet in place, as the
 * kernel's skb_checksum_help: the sum from csum_start to the end, which
 * includes the pseudo-header sum the sender left in the field, goes into
 * the field at csum_start + csum_offset (0 is sent as 0xffff). */
int offload_csum_complete(uint8_t *pkt, size_t len, uint16_t csum_start, uint16_t csum_offset);

/* ---- split: one read from the TUN into IP packets ---- */

struct offload_split {
	const uint8_t *pkt; /* the super-packet, read-only */
	uint32_t len;
	uint32_t off;      /* next payload byte */
	uint32_t count;    /* segments in all */
	uint32_t done;     /* segments written */
	uint32_t hdrs_len; /* IP + extension + transport header: copied to each */
	uint32_t l4_off;
	uint16_t gso_size;
	uint16_t csum_start, csum_offset; /* the copy mode's NEEDS_CSUM */
	uint16_t ip_id;                   /* IPv4: the first segment's */
	uint8_t mode;
	uint8_t version;
	uint32_t seq;    /* TCP: the first segment's */
	uint32_t ip_sum; /* IPv4 header without length, id and checksum */
	uint32_t l4_sum; /* transport header without what varies, plus the
			       * pseudo-header without its length */
};

/* Checks h against the packet (len bytes, IPv4 or IPv6, what followed the
 * virtio_net_hdr in the read) and prepares the split. The packet is only
 * read, and must stay until the last offload_split_next.
 *   GSO_NONE: one segment, the packet itself; with NEEDS_CSUM its checksum
 *     is completed in the copy.
 *   GSO_TCPV4/TCPV6 (also | GSO_ECN), GSO_UDP_L4: segments of gso_size
 *     payload bytes (the last may be shorter), each a whole IP packet with
 *     full checksums, since nothing after us offloads them.
 * hdr_len is not trusted (the kernel calls it a hint, and it may cover
 * payload); the headers are parsed instead. Returns the number of segments
 * (>= 1) or an OFFLOAD_ERR_*. */
int offload_split_init(struct offload_split *s, const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len);

static inline uint32_t offload_split_remaining(const struct offload_split *s)
{
	return s->count - s->done;
}

/* The length of the segment offload_split_next writes next (0 when done):
 * what its buffer must carry. */
uint32_t offload_split_next_len(const struct offload_split *s);

/* Writes the next segment to out (cap bytes). Returns its length (> 0), or
 * OFFLOAD_ERR_NOSPACE (and stays on that segment), or OFFLOAD_ERR_DONE. */
int offload_split_next(struct offload_split *s, uint8_t *out, size_t cap);

/* ---- coalesce: a batch of decrypted packets into TUN writes ---- */

#define OFFLOAD_GRO_MAX_PKTS 128  /* packets per batch (core's batch is 64) */
#define OFFLOAD_GRO_MAX_SEGS 64   /* packets per super-packet, as the kernel's GRO */
#define OFFLOAD_GRO_MAX_LEN 65535 /* IP bytes per super-packet */

enum offload_gro_flags {
	OFFLOAD_GRO_TCP = 1,
	OFFLOAD_GRO_UDP = 2, /* only if the TUN took TUN_F_USO4 | TUN_F_USO6 */
};

/* What offload_gro_add did with a packet. */
enum offload_gro_verdict {
	OFFLOAD_GRO_PASS = 0,   /* written alone, as it is */
	OFFLOAD_GRO_HEAD = 1,   /* starts a super-packet others may join */
	OFFLOAD_GRO_MERGED = 2, /* joined the super-packet of its flow */
};

/* One write to the TUN: iov[iov_first .. iov_first + iov_count) of
 * struct offload_gro, the virtio_net_hdr first. */
struct offload_gro_out {
	struct virtio_net_hdr vnet;
	uint32_t len; /* IP bytes, without the virtio_net_hdr */
	uint16_t iov_first, iov_count;
	uint16_t segs; /* packets it carries */
};

/* Internal to offload.c; here so the caller can own the memory. */
struct offload_gro_member {
	uint8_t *data;
	uint32_t len;
	int16_t next; /* the next packet of its super-packet, or -1 */
};

struct offload_gro_group {
	uint32_t hash;       /* of the flow: version, protocol, addresses, ports */
	uint32_t len;        /* IP bytes so far */
	uint32_t next_seq;   /* TCP: the sequence number that may join */
	int16_t first, last; /* members */
	uint16_t segs;
	uint16_t l4_off, hdrs_len;
	uint16_t gso_size; /* payload of the first packet: no later one is larger */
	uint16_t next_id;  /* IPv4 without DF: the id that may join */
	uint8_t kind;
	bool open;
	bool psh;
};

struct offload_gro {
	unsigned flags;
	uint16_t n_pkts, n_groups, n_out;
	bool finished;
	struct offload_gro_member members[OFFLOAD_GRO_MAX_PKTS];
	struct offload_gro_group groups[OFFLOAD_GRO_MAX_PKTS];
	struct offload_gro_out out[OFFLOAD_GRO_MAX_PKTS];
	struct iovec iov[2 * OFFLOAD_GRO_MAX_PKTS];
};

/* Starts a batch (and resets one that is done). flags: OFFLOAD_GRO_*. */
void offload_gro_init(struct offload_gro *g, unsigned flags);

/* Takes the next packet of the batch (pkt stays the caller's, and may be
 * rewritten by offload_gro_finish if it heads a super-packet). A packet
 * joins a super-packet only if it is a TCP segment (or a UDP datagram) of
 * the same flow, contiguous with and no larger than what is there, with
 * equal IP fields and TCP options, valid checksums, and nothing but ACK
 * (and PSH, which ends the super-packet) among its TCP flags.
 * Returns an offload_gro_verdict, or OFFLOAD_ERR_FULL / OFFLOAD_ERR_DONE. */
int offload_gro_add(struct offload_gro *g, uint8_t *pkt, size_t len);

/* Ends the batch: fixes up the first packet of each super-packet (IP
 * lengths, IPv4 header checksum, UDP length, and the pseudo-header sum in
 * the transport checksum field, as CHECKSUM_PARTIAL wants), fills g->out
 * and g->iov, and returns how many writes there are. */
size_t offload_gro_finish(struct offload_gro *g);

/* Copies write i (virtio_net_hdr and packet) into buf. Returns its length
 * or 0 if it does not fit. */
size_t offload_gro_flatten(const struct offload_gro *g, size_t i, uint8_t *buf, size_t cap);

#endif
