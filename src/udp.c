// SPDX-License-Identifier: MIT
#include "udp.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* Datagrams per recvmmsg/sendmmsg call; the message arrays live on the
 * stack (about 7 KiB), larger batches take several calls. */
#define UDP_CHUNK 64
/* Socket buffers: enough for a burst at a few Gbit/s while the loop is busy
 * elsewhere. Without CAP_NET_ADMIN the kernel caps them at rmem_max. */
#define UDP_SOCKBUF (4 << 20)

static void set_buffer(int fd, int force_opt, int opt, const char *what)
{
	int size = UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)) < 0)
		log_warn("udp: cannot set %s to %d bytes: %s", what, size, strerror(errno));
}

int udp_set_fwmark(int fd, uint32_t fwmark)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		return -errno;
	return 0;
}

int udp_open(uint16_t *port, uint32_t fwmark)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_ANY_INIT,
		.sin6_port = htons(*port),
	};
	socklen_t len = sizeof(sin6);
	int fd, off = 0, err;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	/* One socket for both families, whatever net.ipv6.bindv6only says. */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		goto fail;
	/* Where each datagram arrived: replies leave from there (sticky
	 * source). IPV6_PKTINFO covers IPv4 too on this dual-stack socket. */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &(int){ 1 }, sizeof(int)) < 0)
		goto fail;
	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, "SO_RCVBUF");
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, "SO_SNDBUF");
	if (fwmark) {
		err = udp_set_fwmark(fd, fwmark);
		if (err) {
			close(fd);
			return err;
		}
	}
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&sin6, &len) < 0)
		goto fail;
	*port = ntohs(sin6.sin6_port);
	return fd;

fail:
	err = errno;
	close(fd);
	return -err;
}

/* Errors that say the socket itself (or our arguments) is broken, as
 * opposed to one datagram or one destination. */
static bool socket_broken(int err)
{
	return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EOPNOTSUPP;
}

/* Room for the control messages of one datagram: where it arrived (or is
 * to leave from), and a GSO or GRO segment size. */
#define CTRL_LEN (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))
union ctrl {
	char buf[CTRL_LEN];
	struct cmsghdr align;
};

/* The local address a datagram arrived at, from IPV6_PKTINFO. */
static void src_from_cmsg(struct endpoint *ep, struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			ep->src = pi.ipi6_addr;
			ep->src_ifindex = (uint32_t)pi.ipi6_ifindex;
			ep->has_src = true;
			return;
		}
	}
}

/* Fills h's control messages: the sticky source of ep, if any, and a GSO
 * segment size, if not 0. */
static void set_ctrl(struct msghdr *h, union ctrl *c, const struct endpoint *ep, uint16_t gso_size)
{
	size_t len = 0;

	h->msg_control = NULL;
	h->msg_controllen = 0;
	if (!ep->has_src && !gso_size)
		return;
	memset(c, 0, sizeof(*c));
	h->msg_control = c->buf;
	h->msg_controllen = sizeof(c->buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(h);
	if (ep->has_src) {
		struct in6_pktinfo pi = { .ipi6_addr = ep->src, .ipi6_ifindex = ep->src_ifindex };
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		len += CMSG_SPACE(sizeof(pi));
		cm = CMSG_NXTHDR(h, cm);
	}
	if (gso_size) {
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &gso_size, sizeof(gso_size));
		len += CMSG_SPACE(sizeof(uint16_t));
	}
	h->msg_controllen = len;
}

/* A send that failed because its sticky source is no longer one of ours
 * (the address was removed, the route changed): the datagrams of that
 * destination go again without one, and say so, so that the peer's
 * endpoint forgets it. */
static bool source_gone(int err, struct pkt *const *pkts, int n)
{
	if ((err != EINVAL && err != EADDRNOTAVAIL && err != ENETUNREACH) || !pkts[0]->ep.has_src)
		return false;
	for (int i = 0; i < n; i++) {
		pkts[i]->ep.has_src = false;
		pkts[i]->src_stale = true;
	}
	return true;
}

int udp_recv_batch(int fd, struct pkt **pkts, int n)
{
	struct mmsghdr msgs[UDP_CHUNK];
	struct iovec iov[UDP_CHUNK];
	struct sockaddr_in6 from[UDP_CHUNK];
	union ctrl ctrl[UDP_CHUNK];
	int total = 0, soft_errors = 0;

	while (total < n) {
		int want = n - total < UDP_CHUNK ? n - total : UDP_CHUNK;
		int got;

		for (int i = 0; i < want; i++) {
			struct pkt *k = pkts[total + i];

			iov[i].iov_base = k->data;
			iov[i].iov_len = pkt_room(k);
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = ctrl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
		}
		got = recvmmsg(fd, msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
		if (got < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if (err == EAGAIN || err == EWOULDBLOCK || err == ENOMEM || err == ENOBUFS)
				break;
			if (socket_broken(err) || err == EINVAL)
				return total ? total : -err;
			/* An ICMP error (ECONNREFUSED, EHOSTUNREACH, ...)
			 * reported on the socket: reading it cleared it, the
			 * datagrams behind it are still there. Bounded, so a
			 * flood of errors cannot hold the loop here. */
			if (++soft_errors > 4)
				break;
			log_debug("udp: receive: %s", strerror(err));
			continue;
		}
		for (int i = 0; i < got; i++) {
			struct pkt *k = pkts[total + i];

			/* A datagram larger than the buffer cannot be a
			 * message we accept; length 0 marks it for the drop. */
			k->len = msgs[i].msg_hdr.msg_flags & MSG_TRUNC ? 0 : msgs[i].msg_len;
			endpoint_from_sockaddr(&k->ep, (const struct sockaddr *)&from[i]);
			src_from_cmsg(&k->ep, &msgs[i].msg_hdr);
		}
		total += got;
		if (got < want)
			break; /* drained */
	}
	return total;
}

static int send_plain(int fd, struct pkt *const *pkts, int n)
{
	struct mmsghdr msgs[UDP_CHUNK];
	struct iovec iov[UDP_CHUNK];
	struct sockaddr_in6 to[UDP_CHUNK];
	union ctrl ctrl[UDP_CHUNK];
	int done = 0;

	while (done < n) {
		int want = n - done < UDP_CHUNK ? n - done : UDP_CHUNK;
		int sent;

		for (int i = 0; i < want; i++) {
			const struct pkt *k = pkts[done + i];

			iov[i].iov_base = k->data;
			iov[i].iov_len = k->len;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			/* No address: the kernel answers EDESTADDRREQ and the
			 * datagram is skipped below like any unsendable one. */
			if (endpoint_to_sin6(&to[i], &k->ep)) {
				msgs[i].msg_hdr.msg_name = &to[i];
				msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
			}
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			set_ctrl(&msgs[i].msg_hdr, &ctrl[i], &k->ep, 0);
		}
		sent = sendmmsg(fd, msgs, (unsigned int)want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent > 0) {
			done += sent;
			continue;
		}
		if (sent == 0)
			break;
		/* sendmmsg reports an error only for the first datagram of a
		 * call: pkts[done] failed. */
		int err = errno;

		if (err == EINTR)
			continue;
		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM)
			break; /* full: the caller keeps the rest for later */
		if (socket_broken(err))
			return done ? done : -err;
		if (source_gone(err, pkts + done, 1))
			continue;
		/* This destination is unreachable, refused, filtered or the
		 * datagram too big: drop it, count it as handled, go on. */
		log_debug("udp: send to one endpoint failed: %s", strerror(err));
		pkts[done]->send_failed = true;
		done++;
	}
	return done;
}

/* ---- UDP GSO: one sendmsg per run of equal datagrams to one endpoint ---- */

/* The largest UDP payload one GSO send may carry (an IP packet's 65535
 * less the IPv6 and UDP headers: the smaller room of the two families). */
#define GSO_MAX_BYTES (65535 - 40 - 8)

/* How many of pkts[0..n) form one run: same endpoint, same length, the
 * last one possibly shorter; at most UDP_MAX_SEGMENTS and GSO_MAX_BYTES. */
static int run_length(const struct udp_offloads *o, struct pkt *const *pkts, int n)
{
	uint32_t size = pkts[0]->len, total = size;
	int i = 1;

	if (o->gso_max_size && size > o->gso_max_size)
		return 1;
	while (i < n && i < UDP_MAX_SEGMENTS && pkts[i]->len <= size && total + pkts[i]->len <= GSO_MAX_BYTES &&
	       endpoint_equal(&pkts[i]->ep, &pkts[0]->ep)) {
		total += pkts[i]->len;
		if (pkts[i++]->len < size)
			break; /* a shorter one ends the run */
	}
	return i;
}

/* Runs per sendmmsg call, and room for their segments. */
#define GSO_MSGS 16
#define GSO_IOVS (GSO_MSGS * 8)

static int send_gso(int fd, struct udp_offloads *o, struct pkt *const *pkts, int n)
{
	union ctrl ctrl[GSO_MSGS];
	struct mmsghdr msgs[GSO_MSGS];
	struct iovec iov[GSO_IOVS];
	struct sockaddr_in6 to[GSO_MSGS];
	int runs[GSO_MSGS];
	int done = 0;

	while (done < n) {
		int m = 0, used = 0, at = done;

		memset(msgs, 0, sizeof(msgs));
		while (m < GSO_MSGS && at < n) {
			int len = run_length(o, pkts + at, n - at);
			if (len > GSO_IOVS - used) {
				if (used)
					break;
				len = GSO_IOVS;
			}
			struct msghdr *h = &msgs[m].msg_hdr;
			for (int i = 0; i < len; i++) {
				iov[used + i].iov_base = pkts[at + i]->data;
				iov[used + i].iov_len = pkts[at + i]->len;
			}
			h->msg_iov = &iov[used];
			h->msg_iovlen = (size_t)len;
			if (endpoint_to_sin6(&to[m], &pkts[at]->ep)) {
				h->msg_name = &to[m];
				h->msg_namelen = sizeof(to[m]);
			}
			set_ctrl(h, &ctrl[m], &pkts[at]->ep, len > 1 ? (uint16_t)pkts[at]->len : 0);
			runs[m++] = len;
			used += len;
			at += len;
		}
		int sent = sendmmsg(fd, msgs, (unsigned int)m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent > 0) {
			for (int i = 0; i < sent; i++)
				done += runs[i];
			continue;
		}
		if (sent == 0)
			break;
		int err = errno;
		if (err == EINTR)
			continue;
		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM)
			break;
		if (socket_broken(err))
			return done ? done : -err;
		if (source_gone(err, pkts + done, runs[0]))
			continue;
		if (runs[0] > 1 && (err == EMSGSIZE || err == EINVAL) && pkts[done]->len > 1280) {
			/* Segments larger than the path's MTU (a large MTU on the
			 * tunnel): the kernel only fragments datagrams sent one
			 * by one. Runs of this size or more go plainly. */
			log_info("udp: the kernel refused segments of %u bytes (%s): larger ones go unsegmented",
				 pkts[done]->len, strerror(err));
			o->gso_max_size = pkts[done]->len - 1;
			continue;
		}
		if (runs[0] > 1 && (err == EIO || err == EINVAL)) {
			/* The route's device cannot segment or checksum for
			 * us: send plainly from now on. */
			log_info("udp: the kernel refused a segmented send (%s): UDP GSO off", strerror(err));
			o->gso = false;
			int r = send_plain(fd, pkts + done, n - done);
			return r < 0 ? (done ? done : r) : done + r;
		}
		/* This destination is unreachable, refused or filtered: the
		 * whole run is lost, counted as handled. */
		log_debug("udp: send to one endpoint failed: %s", strerror(err));
		for (int i = 0; i < runs[0]; i++)
			pkts[done + i]->send_failed = true;
		done += runs[0];
	}
	return done;
}

int udp_send_batch(int fd, struct udp_offloads *o, struct pkt *const *pkts, int n)
{
	if (o && o->gso)
		return send_gso(fd, o, pkts, n);
	return send_plain(fd, pkts, n);
}

int udp_send_all(int fd, struct udp_offloads *o, struct pkt *const *pkts, int n)
{
	int sent = 0;

	while (sent < n) {
		int r = udp_send_batch(fd, o, pkts + sent, n - sent);
		if (r <= 0)
			break;
		sent += r;
	}
	for (int i = sent; i < n; i++)
		pkts[i]->send_failed = true;
	return n - sent;
}

/* ---- UDP GRO: runs of datagrams in one read, cut apart here ---- */

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

int udp_offloads_enable(int fd, struct udp_offloads *o)
{
	int on = 1, seg = 0;
	socklen_t len = sizeof(seg);

	udp_offloads_free(o);
	/* GSO needs no switch: a kernel that knows UDP_SEGMENT answers the
	 * getsockopt. */
	o->gso = !env_set("SLUICE_NO_UDP_GSO") && getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &len) == 0;
	if (env_set("SLUICE_NO_UDP_GRO"))
		return 0;
	o->gro_mem = malloc((size_t)UDP_GRO_BUFS * UDP_GRO_BUF_LEN);
	if (!o->gro_mem)
		return -ENOMEM;
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) < 0) {
		log_debug("udp: no UDP_GRO: %s", strerror(errno));
		free(o->gro_mem);
		o->gro_mem = NULL;
		return 0;
	}
	o->gro = true;
	return 0;
}

void udp_offloads_free(struct udp_offloads *o)
{
	free(o->gro_mem);
	memset(o, 0, sizeof(*o));
}

/* The segment size of a GRO run from its control message, or 0. */
static uint16_t gro_size(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int v;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 && v <= 65535 ? (uint16_t)v : 0;
		}
	}
	return 0;
}

int udp_recv_gro(int fd, struct udp_offloads *o, struct pool *pool, struct pkt **out, int max, uint64_t *dropped)
{
	union ctrl ctrl[UDP_GRO_BUFS];
	struct mmsghdr msgs[UDP_GRO_BUFS];
	struct iovec iov[UDP_GRO_BUFS];
	struct sockaddr_in6 from[UDP_GRO_BUFS];
	int got, n = 0;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_GRO_BUFS; i++) {
		iov[i].iov_base = o->gro_mem + (size_t)i * UDP_GRO_BUF_LEN;
		iov[i].iov_len = UDP_GRO_BUF_LEN;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_control = ctrl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
	}
	/* Each run may hold up to UDP_MAX_SEGMENTS datagrams: read no more
	 * runs than out can surely take. */
	int want = max / UDP_MAX_SEGMENTS;
	if (want > UDP_GRO_BUFS)
		want = UDP_GRO_BUFS;
	if (want < 1)
		want = 1;
	o->n_runs = 0;
	do
		got = recvmmsg(fd, msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		int err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOMEM || err == ENOBUFS)
			return 0;
		if (socket_broken(err) || err == EINVAL)
			return -err;
		log_debug("udp: receive: %s", strerror(err));
		return 0; /* an ICMP error, cleared by reading it */
	}
	for (int i = 0; i < got; i++) {
		struct msghdr *h = &msgs[i].msg_hdr;
		const uint8_t *p = iov[i].iov_base;
		size_t left = msgs[i].msg_len;
		size_t seg = gro_size(h);
		struct endpoint ep;

		if (h->msg_flags & MSG_TRUNC) {
			(*dropped)++;
			continue;
		}
		if (!seg || seg > left)
			seg = left;
		endpoint_from_sockaddr(&ep, (const struct sockaddr *)&from[i]);
		src_from_cmsg(&ep, h);
		int first = n;
		while (left) {
			size_t len = left < seg ? left : seg;
			struct pkt *k = n < max ? pool_get_len(pool, len) : NULL;
			if (!k || len > pkt_room(k)) {
				if (k)
					pool_put(pool, k);
				(*dropped)++;
			} else {
				memcpy(k->data, p, len);
				k->len = (uint32_t)len;
				k->ep = ep;
				out[n++] = k;
			}
			p += len;
			left -= len;
		}
		if (n > first)
			o->run_len[o->n_runs++] = n - first;
	}
	return n;
}

void udp_gro_deliver(const struct udp_offloads *o, struct pkt **pkts, int got, int batch, pkt_batch_fn fn, void *ctx)
{
	int at = 0, n = 0;

	for (int r = 0; r < o->n_runs; r++) {
		int len = o->run_len[r];
		if (n && n + len > batch) {
			fn(ctx, pkts + at, n);
			at += n;
			n = 0;
		}
		n += len;
		while (n >= batch) {
			fn(ctx, pkts + at, batch);
			at += batch;
			n -= batch;
		}
	}
	if (at < got)
		fn(ctx, pkts + at, got - at);
}
