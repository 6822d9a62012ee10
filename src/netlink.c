// SPDX-License-Identifier: MIT
/*
 * rtnetlink over libmnl. Each call opens its own socket: these run a handful
 * of times at start-up and shutdown, and a fresh socket always talks to the
 * network namespace the caller is in now.
 */
#include "netlink.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* Sends one request and waits for its ACK. Returns 0 or the -errno the
 * kernel answered with. */
static int nl_request(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	uint32_t portid;
	ssize_t len;
	int one = 1, ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* Errors then carry only the request's header, not all of it back. */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	/* The socket is ours alone, so any sequence number is unambiguous. */
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		/* MNL_CB_STOP on the ACK; -1 with errno from an NLMSG_ERROR. */
		ret = mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, portid, NULL, NULL);
		if (ret == MNL_CB_ERROR) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			goto out;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

static int family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return -1;
	}
}

static size_t family_bytes(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static int cidr_check(const struct cidr *c)
{
	int bits = family_bits(c->family);

	if (bits < 0)
		return -EAFNOSUPPORT;
	if (c->prefix > bits)
		return -EINVAL;
	return 0;
}

static int link_change(int ifindex, unsigned int change, unsigned int flags,
		       uint32_t mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = change;
	ifi->ifi_flags = flags;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nlh);
}

int nl_link_set_mtu(int ifindex, uint32_t mtu)
{
	if (!mtu)
		return -EINVAL;
	return link_change(ifindex, 0, 0, mtu);
}

int nl_link_set_up(int ifindex, int up)
{
	return link_change(ifindex, IFF_UP, up ? IFF_UP : 0, 0);
}

int nl_link_delete(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	size_t len = strnlen(ifname, IFNAMSIZ);

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 0; /* the kernel then finds the link by IFLA_IFNAME */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nl_request(nlh);
}

int nl_link_delete_index(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_request(nlh);
}

int nl_addr_add(int ifindex, const struct cidr *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen = family_bytes(addr->family);
	uint32_t flags = 0;
	int ret;

	if (ifindex <= 0)
		return -EINVAL;
	ret = cidr_check(addr);
	if (ret)
		return ret;
	/* A tunnel address has nobody to collide with; without NODAD an IPv6
	 * address stays tentative and cannot be bound for a second or so. */
	if (addr->family == AF_INET6)
		flags |= IFA_F_NODAD;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)addr->family;
	ifa->ifa_prefixlen = addr->prefix;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IFA_LOCAL == IFA_ADDRESS: an ordinary address with an on-link
	 * prefix, not a point-to-point peer, even on a POINTOPOINT tun. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr->addr.bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr->addr.bytes);
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);

	ret = nl_request(nlh);
	return ret == -EEXIST ? 0 : ret;
}

int nl_addr_del(int ifindex, const struct cidr *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	if (ifindex <= 0)
		return -EINVAL;
	ret = cidr_check(addr);
	if (ret)
		return ret;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)addr->family;
	ifa->ifa_prefixlen = addr->prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, family_bytes(addr->family), addr->addr.bytes);
	ret = nl_request(nlh);
	return ret == -EADDRNOTAVAIL ? 0 : ret;
}

static int route_change(uint16_t type, int ifindex, const struct cidr *dst,
			uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct cidr prefix;
	int ret;

	if (ifindex <= 0)
		return -EINVAL;
	ret = cidr_check(dst);
	if (ret)
		return ret;
	/* The kernel refuses an IPv4 prefix with host bits set. */
	prefix = *dst;
	cidr_mask(&prefix);
	if (!table)
		table = RT_TABLE_MAIN;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)prefix.family;
	rtm->rtm_dst_len = prefix.prefix;
	rtm->rtm_table = table > 255 ? RT_TABLE_UNSPEC : (uint8_t)table;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
		rtm->rtm_protocol = RTPROT_STATIC;
		/* IPv6 routes have no scope; the kernel reports them as
		 * universe whatever is sent, so send what it will show. */
		rtm->rtm_scope = prefix.family == AF_INET ? RT_SCOPE_LINK
							  : RT_SCOPE_UNIVERSE;
	} else {
		/* NOWHERE and protocol 0 match any scope and origin. */
		rtm->rtm_protocol = RTPROT_UNSPEC;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (prefix.prefix)
		mnl_attr_put(nlh, RTA_DST, family_bytes(prefix.family), prefix.addr.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (table > 255)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nl_request(nlh);
}

int nl_route_add(int ifindex, const struct cidr *dst, uint32_t table)
{
	int ret = route_change(RTM_NEWROUTE, ifindex, dst, table);
	return ret == -EEXIST ? 0 : ret;
}

int nl_route_del(int ifindex, const struct cidr *dst, uint32_t table)
{
	return route_change(RTM_DELROUTE, ifindex, dst, table);
}
