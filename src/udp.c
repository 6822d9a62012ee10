// SPDX-License-Identifier: MIT
#include "udp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
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

static void endpoint_from_sin6(struct endpoint *ep, const struct sockaddr_in6 *sin6)
{
	memset(ep, 0, sizeof(*ep));
	if (sin6->sin6_family != AF_INET6) {
		ep->addr.sa.sa_family = AF_UNSPEC;
	} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		ep->addr.in4.sin_family = AF_INET;
		ep->addr.in4.sin_port = sin6->sin6_port;
		memcpy(&ep->addr.in4.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	} else {
		ep->addr.in6 = *sin6;
	}
}

/* Fills *sin6 for sending to ep; false when ep is no IP endpoint. */
static bool sin6_from_endpoint(struct sockaddr_in6 *sin6, const struct endpoint *ep)
{
	switch (ep->addr.sa.sa_family) {
	case AF_INET6:
		*sin6 = ep->addr.in6;
		return true;
	case AF_INET:
		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = ep->addr.in4.sin_port;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], &ep->addr.in4.sin_addr, 4);
		return true;
	default:
		return false;
	}
}

static size_t room(const struct pkt *k)
{
	return k->cap - (size_t)(k->data - k->buf);
}

int udp_recv_batch(int fd, struct pkt **pkts, int n)
{
	struct mmsghdr msgs[UDP_CHUNK];
	struct iovec iov[UDP_CHUNK];
	struct sockaddr_in6 from[UDP_CHUNK];
	int total = 0, soft_errors = 0;

	while (total < n) {
		int want = n - total < UDP_CHUNK ? n - total : UDP_CHUNK;
		int got;

		for (int i = 0; i < want; i++) {
			struct pkt *k = pkts[total + i];

			iov[i].iov_base = k->data;
			iov[i].iov_len = room(k);
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
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
			endpoint_from_sin6(&k->ep, &from[i]);
		}
		total += got;
		if (got < want)
			break; /* drained */
	}
	return total;
}

int udp_send_batch(int fd, struct pkt *const *pkts, int n)
{
	struct mmsghdr msgs[UDP_CHUNK];
	struct iovec iov[UDP_CHUNK];
	struct sockaddr_in6 to[UDP_CHUNK];
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
			if (sin6_from_endpoint(&to[i], &k->ep)) {
				msgs[i].msg_hdr.msg_name = &to[i];
				msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
			}
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
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
		/* This destination is unreachable, refused, filtered or the
		 * datagram too big: drop it, count it as handled, go on. */
		log_debug("udp: send to one endpoint failed: %s", strerror(err));
		pkts[done]->send_failed = true;
		done++;
	}
	return done;
}
