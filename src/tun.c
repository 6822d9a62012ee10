// SPDX-License-Identifier: MIT
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_tun.h>

/* Linux 6.2 (UDP segmentation offload); Debian 12's uapi headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/* What our split handles (offload.c), ECN's CWR-on-the-first included. */
#define TUN_OFFLOADS_TCP (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define TUN_OFFLOADS_UDP (TUN_F_USO4 | TUN_F_USO6)

static int open_tun(const char *name, int *ifindex, short flags)
{
	struct ifreq ifr;
	unsigned int index;
	int fd, err;

	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* The kernel writes back the name it used (it fills in "tun%d"). */
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	index = if_nametoindex(ifr.ifr_name);
	if (!index)
		goto fail;
	*ifindex = (int)index;
	return fd;

fail:
	err = errno;
	close(fd);
	return -err;
}

int tun_open(const char *name, int *ifindex)
{
	return open_tun(name, ifindex, IFF_TUN | IFF_NO_PI);
}

int tun_open_tap(const char *name, int *ifindex)
{
	return open_tun(name, ifindex, IFF_TAP | IFF_NO_PI);
}

int tun_open_tap_offload(const char *name, int *ifindex)
{
	int fd = open_tun(name, ifindex, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), err;

	if (fd < 0)
		return fd;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS_TCP) == 0)
		return fd;
	err = errno;
	close(fd);
	return -err;
}

int tun_open_offload(const char *name, int *ifindex, bool *uso)
{
	int fd = open_tun(name, ifindex, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR), err;

	if (fd < 0)
		return fd;
	/* Each call replaces the whole set: try with UDP, then without
	 * (kernels before 6.2 refuse flags they do not know). */
	*uso = ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_OFFLOADS_TCP | TUN_OFFLOADS_UDP)) == 0;
	if (*uso || ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS_TCP) == 0)
		return fd;
	err = errno;
	close(fd);
	return -err;
}

int tun_exists(int ifindex)
{
	char name[IF_NAMESIZE];

	if (ifindex <= 0)
		return 0;
	if (if_indextoname((unsigned int)ifindex, name))
		return 1;
	/* Only "no such device" (ENXIO from glibc, ENODEV from the ioctl)
	 * says the link is gone; failing to ask (no fd left, no memory) must
	 * not make the daemon think so. */
	return errno != ENXIO && errno != ENODEV;
}

enum tun_state tun_state(int fd)
{
	struct ifreq ifr;
	struct stat mine, its;

	memset(&ifr, 0, sizeof(ifr));
	/* A deleted TUN leaves its descriptors detached: EBADFD. */
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADFD || errno == EBADF ? TUN_GONE : TUN_HERE;
	int ns = ioctl(fd, TUNGETDEVNETNS);
	if (ns < 0)
		return TUN_HERE; /* a kernel before 5.2 cannot say: assume it stayed */
	bool here = fstat(ns, &its) < 0 || stat("/proc/self/ns/net", &mine) < 0 ||
		    (its.st_dev == mine.st_dev && its.st_ino == mine.st_ino);
	close(ns);
	return here ? TUN_HERE : TUN_ELSEWHERE;
}

int tun_read_batch(int fd, struct pkt **pkts, int n)
{
	int i = 0;

	while (i < n) {
		struct pkt *k = pkts[i];
		ssize_t r = read(fd, k->data, pkt_room(k));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* Hand over what we have; the error comes back on the
			 * next call. */
			return i ? i : -errno;
		}
		if (r == 0)
			break;
		k->len = (uint32_t)r;
		i++;
	}
	return i;
}

int tun_write(int fd, const struct pkt *k)
{
	ssize_t r;

	do
		r = write(fd, k->data, k->len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	/* A tun takes a packet whole or not at all. */
	return (size_t)r == k->len ? 0 : -EIO;
}

/* ---- IFF_VNET_HDR: super-packets in, coalesced writes out ---- */

/* A TAP's super-frame holds an Ethernet header before its 64 KiB packet. */
#define TUN_VNET_READ_SIZE (OFFLOAD_READ_SIZE + ETHERNET_HEADER_LEN)

int tun_vnet_init(struct tun_vnet *v, bool uso, bool tap)
{
	memset(v, 0, sizeof(*v));
	v->rbuf = malloc(TUN_VNET_READ_SIZE);
	if (!v->rbuf)
		return -ENOMEM;
	v->uso = uso;
	v->tap = tap;
	return 0;
}

void tun_vnet_free(struct tun_vnet *v)
{
	free(v->rbuf);
	v->rbuf = NULL;
}

/* An Ethernet frame (at least its header) whose EtherType is IPv4 or IPv6. */
static bool ip_ethertype(const uint8_t *frame)
{
	return (frame[12] == 0x08 && frame[13] == 0x00) || (frame[12] == 0x86 && frame[13] == 0xdd);
}

/* A TAP's read: a frame the kernel left whole goes on as it is (its
 * checksum offsets count from the frame's start, as the split's do); a
 * super-frame's Ethernet header is kept aside, to go in front of each
 * segment, and the split works on the IP packet after it. Returns how
 * many bytes after the virtio_net_hdr the split skips, or SIZE_MAX for a
 * super-frame that does not carry IPv4 or IPv6 right after its header. */
static size_t tap_frame_start(struct tun_vnet *v, struct virtio_net_hdr *h, size_t r)
{
	const uint8_t *frame = v->rbuf + OFFLOAD_VNET_HDR_LEN;

	v->split_l2 = 0;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	if (r < (size_t)OFFLOAD_VNET_HDR_LEN + ETHERNET_HEADER_LEN || !ip_ethertype(frame) ||
	    h->csum_start < ETHERNET_HEADER_LEN)
		return SIZE_MAX;
	memcpy(v->l2_hdr, frame, ETHERNET_HEADER_LEN);
	v->split_l2 = ETHERNET_HEADER_LEN;
	h->csum_start -= ETHERNET_HEADER_LEN;
	h->hdr_len = h->hdr_len > ETHERNET_HEADER_LEN ? h->hdr_len - ETHERNET_HEADER_LEN : 0;
	return ETHERNET_HEADER_LEN;
}

/* Hands out what is left of the current split. */
static int take_segments(struct tun_vnet *v, struct pool *pool, struct pkt **out, int n, int max, uint64_t *dropped)
{
	while (n < max && offload_split_remaining(&v->split)) {
		struct pkt *k = pool_get_len(pool, offload_split_next_len(&v->split) + v->split_l2);
		if (!k) {
			*dropped += offload_split_remaining(&v->split);
			v->split.done = v->split.count;
			break;
		}
		int len = offload_split_next(&v->split, k->data + v->split_l2,
					     pkt_room(k) - PKT_TAILROOM - v->split_l2);
		if (len <= 0) {
			pool_put(pool, k);
			*dropped += offload_split_remaining(&v->split);
			v->split.done = v->split.count;
			break;
		}
		if (v->split_l2) {
			memcpy(k->data, v->l2_hdr, v->split_l2);
			len += v->split_l2;
		}
		k->len = (uint32_t)len;
		out[n++] = k;
	}
	return n;
}

int tun_vnet_read(int fd, struct tun_vnet *v, struct pool *pool, struct pkt **out, int max, int batch, int reads,
		  uint64_t *dropped)
{
	int n = take_segments(v, pool, out, 0, max, dropped);

	while (n < max && reads-- > 0) {
		ssize_t r = read(fd, v->rbuf, TUN_VNET_READ_SIZE);
		if (r < 0) {
			if (errno == EINTR) {
				reads++;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || n)
				break;
			return -errno;
		}
		if (r == 0)
			break;
		struct virtio_net_hdr h;
		if (r < OFFLOAD_VNET_HDR_LEN) {
			v->malformed++;
			continue;
		}
		offload_vnet_read(&h, v->rbuf);
		size_t skip = v->tap ? tap_frame_start(v, &h, (size_t)r) : 0;
		if (skip == SIZE_MAX || offload_split_init(&v->split, &h, v->rbuf + OFFLOAD_VNET_HDR_LEN + skip,
							   (size_t)r - OFFLOAD_VNET_HDR_LEN - skip) < 0) {
			memset(&v->split, 0, sizeof(v->split));
			v->malformed++;
			continue;
		}
		/* One that fits a batch of its own but not what is left of
		 * this one waits whole for the next: its segments then leave
		 * in one GSO send, and reach the peer as one run. */
		uint32_t segs = offload_split_remaining(&v->split);
		if (segs > (uint32_t)(max - n) && segs <= (uint32_t)batch && batch - max + n > 0)
			break;
		n = take_segments(v, pool, out, n, max, dropped);
	}
	return n;
}

int tun_vnet_read_turn(int fd, struct tun_vnet *v, struct pool *pool, struct pkt **pkts, int batch, int reads,
		       pkt_batch_fn fn, void *ctx, uint64_t *dropped)
{
	int n = 0, done = 0, err = 0;

	for (;;) {
		int read_one = done < reads;
		if (!read_one && !offload_split_remaining(&v->split))
			break;
		int got = tun_vnet_read(fd, v, pool, pkts + n, batch - n, batch, read_one, dropped);
		done += read_one;
		if (got == -EBADFD || got == -EIO || got == -ENXIO) {
			err = got;
			break;
		}
		if (got <= 0 && !offload_split_remaining(&v->split))
			break;
		n += got > 0 ? got : 0;
		/* Full, or a super-packet waits whole for the next batch. */
		if (n == batch || (n && offload_split_remaining(&v->split))) {
			fn(ctx, pkts, n);
			n = 0;
		}
	}
	if (n)
		fn(ctx, pkts, n);
	return err;
}

static int writev_all(int fd, const struct iovec *iov, int n)
{
	ssize_t r;

	do
		r = writev(fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

/* An Ethernet frame whose IPv4 or IPv6 packet the coalescer may take. */
static bool ip_frame(const struct pkt *k)
{
	const uint8_t *f = k->data;

	return k->len > ETHERNET_HEADER_LEN && ip_ethertype(f);
}

int tun_vnet_write_frames(int fd, struct tun_vnet *v, struct pkt *const *pkts, int n)
{
	static const uint8_t none[OFFLOAD_VNET_HDR_LEN]; /* GSO_NONE, no flags */
	int failed = 0, at = 0;

	while (at < n) {
		if (!ip_frame(pkts[at])) {
			struct iovec iov[2] = { { (void *)none, sizeof(none) }, { pkts[at]->data, pkts[at]->len } };
			failed -= writev_all(fd, iov, 2);
			at++;
			continue;
		}
		/* A run of IP frames with one Ethernet header: their packets
		 * are coalesced as a TUN's are, and each write gets the header
		 * back, from the bytes in front of its first packet. */
		int end = at + 1;
		while (end < n && end - at < OFFLOAD_GRO_MAX_PKTS && ip_frame(pkts[end]) &&
		       !memcmp(pkts[end]->data, pkts[at]->data, ETHERNET_HEADER_LEN))
			end++;
		offload_gro_init(&v->gro, OFFLOAD_GRO_TCP);
		for (int i = at; i < end; i++)
			offload_gro_add(&v->gro, pkts[i]->data + ETHERNET_HEADER_LEN,
					pkts[i]->len - ETHERNET_HEADER_LEN);
		size_t outs = offload_gro_finish(&v->gro);
		for (size_t j = 0; j < outs; j++) {
			struct offload_gro_out *o = &v->gro.out[j];
			struct iovec *first = &v->gro.iov[o->iov_first + 1];
			first->iov_base = (uint8_t *)first->iov_base - ETHERNET_HEADER_LEN;
			first->iov_len += ETHERNET_HEADER_LEN;
			if (o->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				o->vnet.csum_start += ETHERNET_HEADER_LEN;
			if (o->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE)
				o->vnet.hdr_len += ETHERNET_HEADER_LEN;
			if (writev_all(fd, v->gro.iov + o->iov_first, o->iov_count) < 0)
				failed += o->segs;
		}
		at = end;
	}
	return failed;
}

int tun_vnet_write(int fd, struct tun_vnet *v, struct pkt *const *pkts, int n)
{
	int failed = 0;

	for (int at = 0; at < n; at += OFFLOAD_GRO_MAX_PKTS) {
		int chunk = n - at < OFFLOAD_GRO_MAX_PKTS ? n - at : OFFLOAD_GRO_MAX_PKTS;
		offload_gro_init(&v->gro, OFFLOAD_GRO_TCP | (v->uso ? OFFLOAD_GRO_UDP : 0));
		for (int i = 0; i < chunk; i++)
			offload_gro_add(&v->gro, pkts[at + i]->data, pkts[at + i]->len);
		size_t outs = offload_gro_finish(&v->gro);
		for (size_t j = 0; j < outs; j++) {
			const struct offload_gro_out *o = &v->gro.out[j];
			ssize_t r;
			do
				r = writev(fd, v->gro.iov + o->iov_first, o->iov_count);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				failed += o->segs;
		}
	}
	return failed;
}
