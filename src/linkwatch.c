// SPDX-License-Identifier: MIT
#include "linkwatch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* Datagrams read at most per call: a burst of link changes elsewhere on the
 * host must not hold up the packets. */
#define READS_PER_CALL 16
/* A link's RTM_NEWLINK is a few KiB (its statistics, its address families'
 * attributes); one larger is read cut short and counted as lost. */
#define DATAGRAM_MAX 16384
/* Room for bursts (a container runtime adding links by the hundred) before
 * the kernel drops announcements; capped by net.core.rmem_max. */
#define RCVBUF 262144

/* The 4-byte alignment of netlink messages and attributes, in size_t so
 * that no length can wrap. */
static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* The attributes of one RTM_NEWLINK (after its ifinfomsg): *mtu from
 * IFLA_MTU if there is one. False when an attribute's length is less than
 * its header's, runs past the message, or IFLA_MTU is not 4 bytes. */
static bool parse_attrs(const uint8_t *p, size_t len, uint32_t *mtu)
{
	while (len >= sizeof(struct nlattr)) {
		struct nlattr a;
		memcpy(&a, p, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > len)
			return false;
		if ((a.nla_type & NLA_TYPE_MASK) == IFLA_MTU) {
			if (a.nla_len != sizeof(a) + sizeof(uint32_t))
				return false;
			memcpy(mtu, p + sizeof(a), sizeof(*mtu));
		}
		size_t step = align4(a.nla_len);
		if (step >= len)
			return true;
		p += step;
		len -= step;
	}
	/* Fewer bytes than an attribute header: a message cut short. */
	return len == 0;
}

/* One RTM_NEWLINK or RTM_DELLINK's payload; taken only if well-formed. */
static void parse_link(uint16_t type, const uint8_t *p, size_t len, int ifindex, struct linkwatch_event *ev)
{
	struct ifinfomsg ifi;
	uint32_t mtu = 0;

	if (len < sizeof(ifi)) {
		ev->malformed++;
		return;
	}
	memcpy(&ifi, p, sizeof(ifi));
	/* AF_BRIDGE messages speak of a link's bridge port: one leaving its
	 * bridge sends an RTM_DELLINK, and the link is still there. */
	if (ifi.ifi_index != ifindex || ifi.ifi_family != AF_UNSPEC)
		return;
	if (type == RTM_DELLINK) {
		ev->deleted = true;
		return;
	}
	size_t hdr = align4(sizeof(ifi));
	if (!parse_attrs(p + hdr, len > hdr ? len - hdr : 0, &mtu)) {
		/* About our link, but unreadable: the MTU is asked again. */
		ev->malformed++;
		ev->lost = true;
		return;
	}
	ev->changed = true;
	if (mtu)
		ev->mtu = mtu;
}

void linkwatch_parse(const void *buf, size_t len, int ifindex, struct linkwatch_event *ev)
{
	const uint8_t *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len) {
			/* Where the next message starts is unknown. */
			ev->malformed++;
			return;
		}
		const uint8_t *payload = p + align4(sizeof(h));
		size_t plen = h.nlmsg_len - align4(sizeof(h));
		switch (h.nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			parse_link(h.nlmsg_type, payload, plen, ifindex, ev);
			break;
		case NLMSG_OVERRUN:
			ev->lost = true;
			break;
		default: /* NLMSG_NOOP, NLMSG_DONE, NLMSG_ERROR: nothing asked */
			break;
		}
		size_t step = align4(h.nlmsg_len);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
	if (len)
		ev->malformed++; /* bytes after the last message, too few for one */
}

int linkwatch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1U << (RTNLGRP_LINK - 1) };
	int rcvbuf = RCVBUF;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int linkwatch_read(int fd, int ifindex, struct linkwatch_event *ev)
{
	uint32_t buf[DATAGRAM_MAX / sizeof(uint32_t)]; /* aligned, though the parser copies */

	for (int i = 0; i < READS_PER_CALL; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		/* MSG_TRUNC: the datagram's length, even past the buffer. */
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				ev->lost = true;
				continue;
			}
			return -errno;
		}
		/* Only the kernel speaks on this group; a process that sends to
		 * our port is not it. */
		if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		if ((size_t)n > sizeof(buf)) {
			ev->lost = true;
			continue;
		}
		linkwatch_parse(buf, (size_t)n, ifindex, ev);
	}
	return 0;
}
