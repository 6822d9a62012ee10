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
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* What libmnl does with an NLMSG_ERROR, which it leaves to us once we
 * handle any control message: 0 is the ACK, anything else an -errno. */
static int on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

static int on_overrun(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

/* A dump that failed says so in its NLMSG_DONE (an int after the header);
 * libmnl's own handler takes every DONE for success. */
static int on_done(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err = *(const int *)mnl_nlmsg_get_payload(nlh);
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

/* Sends one request and reads until its ACK (or, for a dump, its DONE),
 * handing every other message to cb. Returns 0 or the -errno the kernel
 * answered with. */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* A dump comes in messages as large as the buffer the first read
	 * offers; 32 KiB takes a table many routes at a time. */
	char buf[32768];
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = on_error, [NLMSG_DONE] = on_done, [NLMSG_OVERRUN] = on_overrun
	};
	struct mnl_socket *nl;
	uint32_t portid;
	ssize_t len;
	int one = 1, ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* Errors then carry only the request's header, not all of it back. */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Lookups and dumps have their requests checked, and a dump is
	 * filtered by table in the kernel (4.20 on; callers filter too). */
	(void)mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	/* The socket is ours alone, so any sequence number is unambiguous.
	 * A dump ends with its DONE: the kernel sends it no ACK. */
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
		/* MNL_CB_STOP on the ACK, the DONE, or when cb says enough;
		 * -1 with errno from an NLMSG_ERROR. */
		errno = 0;
		ret = mnl_cb_run2(buf, (size_t)len, nlh->nlmsg_seq, portid, cb, data, ctl, NLMSG_MIN_TYPE);
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

/* Sends one request and waits for its ACK. */
static int nl_request(struct nlmsghdr *nlh)
{
	return nl_talk(nlh, NULL, NULL);
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

static int link_change(int ifindex, unsigned int change, unsigned int flags, uint32_t mtu, int master)
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
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nl_request(nlh);
}

int nl_link_set_mtu(int ifindex, uint32_t mtu)
{
	if (!mtu)
		return -EINVAL;
	return link_change(ifindex, 0, 0, mtu, 0);
}

int nl_link_set_up(int ifindex, int up)
{
	return link_change(ifindex, IFF_UP, up ? IFF_UP : 0, 0, 0);
}

int nl_link_set_master_name(int ifindex, const char *master)
{
	unsigned int index = if_nametoindex(master);

	if (!index)
		return -ENODEV;
	return link_change(ifindex, 0, 0, 0, (int)index);
}

/* RTM_DELLINK by index, or (index 0) by name. */
static int link_delete(int ifindex, const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex; /* 0: the kernel finds the link by IFLA_IFNAME */
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nl_request(nlh);
}

int nl_link_delete(const char *ifname)
{
	size_t len = strnlen(ifname, IFNAMSIZ);

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	return link_delete(0, ifname);
}

int nl_link_delete_index(int ifindex)
{
	if (ifindex <= 0)
		return -EINVAL;
	return link_delete(ifindex, NULL);
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

static int route_change(uint16_t type, int ifindex, const struct cidr *dst, uint32_t table)
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
		rtm->rtm_scope = prefix.family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
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
	return route_change(RTM_NEWROUTE, ifindex, dst, table);
}

int nl_route_del(int ifindex, const struct cidr *dst, uint32_t table)
{
	return route_change(RTM_DELROUTE, ifindex, dst, table);
}

/* ---- routes as the kernel reports them ---- */

/* Keeps the attributes a route is described by, the integers checked. */
static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case RTA_TABLE:
	case RTA_OIF:
	case RTA_PRIORITY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_OK;
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static bool addr_from_attr(struct cidr *out, int family, const struct nlattr *a)
{
	size_t alen = family_bytes(family);

	if (family_bits(family) < 0 || mnl_attr_get_payload_len(a) != alen)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->prefix = (uint8_t)family_bits(family);
	memcpy(out->addr.bytes, mnl_attr_get_payload(a), alen);
	return true;
}

/* The gateway: RTA_GATEWAY in the route's family, or RTA_VIA (an IPv4
 * route through an IPv6 neighbour). */
static void route_gateway(struct nl_route *r, int family, const struct nlattr *gw, const struct nlattr *via)
{
	if (gw) {
		r->has_gateway = addr_from_attr(&r->gateway, family, gw);
	} else if (via && mnl_attr_get_payload_len(via) >= sizeof(struct rtvia)) {
		const struct rtvia *v = mnl_attr_get_payload(via);
		size_t alen = mnl_attr_get_payload_len(via) - sizeof(*v);

		if (family_bits(v->rtvia_family) >= 0 && alen == family_bytes(v->rtvia_family)) {
			memset(&r->gateway, 0, sizeof(r->gateway));
			r->gateway.family = v->rtvia_family;
			r->gateway.prefix = (uint8_t)family_bits(v->rtvia_family);
			memcpy(r->gateway.addr.bytes, v->rtvia_addr, alen);
			r->has_gateway = true;
		}
	}
}

/* A multipath route: its first next hop stands for it. */
static void route_first_hop(struct nl_route *r, int family, const struct nlattr *mp)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct nlattr *attr;
	size_t len = mnl_attr_get_payload_len(mp);

	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
		return;
	r->oif = nh->rtnh_ifindex;
	const void *hop = RTNH_DATA(nh); /* its attributes, as an RTA_* list */
	mnl_attr_for_each_payload(hop, nh->rtnh_len - RTNH_LENGTH(0)) route_attr(attr, tb);
	route_gateway(r, family, tb[RTA_GATEWAY], tb[RTA_VIA]);
}

/* Fills r from an RTM_NEWROUTE; false for anything else. */
static bool route_parse(const struct nlmsghdr *nlh, struct nl_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int bits;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return false;
	bits = family_bits(rtm->rtm_family);
	if (bits < 0 || rtm->rtm_dst_len > bits)
		return false;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb) < 0)
		return false;
	memset(r, 0, sizeof(*r));
	r->dst.family = rtm->rtm_family;
	if (tb[RTA_DST] && !addr_from_attr(&r->dst, rtm->rtm_family, tb[RTA_DST]))
		return false;
	r->dst.prefix = rtm->rtm_dst_len;
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r->type = rtm->rtm_type;
	r->protocol = rtm->rtm_protocol;
	if (tb[RTA_PRIORITY])
		r->metric = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_OIF])
		r->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_METRICS]) {
		const struct nlattr *m;
		mnl_attr_for_each_nested(m, tb[RTA_METRICS])
		{
			if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_validate(m, MNL_TYPE_U32) == 0)
				r->mtu = mnl_attr_get_u32(m);
		}
	}
	route_gateway(r, rtm->rtm_family, tb[RTA_GATEWAY], tb[RTA_VIA]);
	if (!r->oif && tb[RTA_MULTIPATH])
		route_first_hop(r, rtm->rtm_family, tb[RTA_MULTIPATH]);
	return true;
}

struct route_get {
	struct nl_route *out;
	bool found;
};

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_get *g = data;

	if (!g->found && route_parse(nlh, g->out))
		g->found = true;
	return MNL_CB_OK;
}

int nl_route_get(const struct cidr *addr, uint32_t mark, struct nl_route *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_get g = { .out = out };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int bits = family_bits(addr->family), ret;

	if (bits < 0)
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)addr->family;
	rtm->rtm_dst_len = (uint8_t)bits;
	/* The route in the table, with its prefix, rather than the one-off
	 * result the kernel makes for this destination; for IPv4, with the
	 * table it is in (else reported as main; IPv6 always says, and
	 * refuses the flag). */
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	if (addr->family == AF_INET)
		rtm->rtm_flags |= RTM_F_LOOKUP_TABLE;
	mnl_attr_put(nlh, RTA_DST, family_bytes(addr->family), addr->addr.bytes);
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	ret = nl_talk(nlh, route_get_cb, &g);
	if (ret == 0 && !g.found)
		ret = -ENOMSG;
	return ret;
}

struct route_dump {
	int family;
	uint32_t table;
	nl_route_fn fn;
	void *arg;
	int ret;
};

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	struct nl_route r;

	/* Checked here too: a kernel before 4.20 sends every table. */
	if (!route_parse(nlh, &r) || r.dst.family != d->family || (d->table && r.table != d->table))
		return MNL_CB_OK;
	d->ret = d->fn(&r, d->arg);
	return d->ret ? MNL_CB_STOP : MNL_CB_OK;
}

int nl_route_dump(int family, uint32_t table, nl_route_fn fn, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_dump d = { .family = family, .table = table, .fn = fn, .arg = arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (family_bits(family) < 0)
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	if (table) {
		rtm->rtm_table = table > 255 ? RT_TABLE_UNSPEC : (uint8_t)table;
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	}
	ret = nl_talk(nlh, route_dump_cb, &d);
	/* A table no route was ever added to does not exist: it is empty. */
	if (ret == -ENOENT && table)
		ret = 0;
	return ret ? ret : d.ret;
}

/* ---- policy routing rules ---- */

static int rule_change(uint16_t type, const struct nl_rule *rule)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	int bits = family_bits(rule->family);

	if (bits < 0)
		return -EAFNOSUPPORT;
	if (!rule->table || (rule->has_suppress_prefixlen && rule->suppress_prefixlen > bits))
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	if (type == RTM_NEWRULE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)rule->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = rule->table > 255 ? RT_TABLE_UNSPEC : (uint8_t)rule->table;
	if (rule->invert)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, rule->table);
	if (rule->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, rule->priority);
	/* Without FRA_FWMASK the kernel compares every bit of the mark. */
	if (rule->fwmark)
		mnl_attr_put_u32(nlh, FRA_FWMARK, rule->fwmark);
	if (rule->has_suppress_prefixlen)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, rule->suppress_prefixlen);
	return nl_request(nlh);
}

int nl_rule_add(const struct nl_rule *rule)
{
	return rule_change(RTM_NEWRULE, rule);
}

int nl_rule_del(const struct nl_rule *rule)
{
	return rule_change(RTM_DELRULE, rule);
}
