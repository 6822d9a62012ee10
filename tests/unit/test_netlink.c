// SPDX-License-Identifier: MIT
/*
 * netlink.c, route.c and tun.c against the real kernel, inside a network namespace
 * of a forked child so nothing touches the machine's own interfaces. Needs
 * root and /dev/net/tun: without them it exits 77 (skipped), or fails when
 * CI=true.
 *
 * Everything here is checked through a second path, not through the code
 * under test: SIOCGIF* ioctls, getifaddrs, /proc/net/if_inet6, route and
 * rule dumps of our own, and packets through the tun.
 */
#include "unit.h"
#include "unit_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "config.h"
#include "linkwatch.h"
#include "netlink.h"
#include "pool.h"
#include "route.h"
#include "tun.h"
#include "udp.h"

#define IFNAME "slctest0"
#define TABLE 1000         /* > 255: needs RTA_TABLE */
#define IFNAME2 "slctest1" /* stands for the physical link */
#define MARK 51820

static int ifindex, tunfd = -1, ifindex2, tunfd2 = -1;
static struct pool pool;

static struct cidr cidr(const char *s)
{
	struct cidr c;
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');

	memset(&c, 0, sizeof(c));
	assert_non_null(slash);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
	c.prefix = (uint8_t)atoi(slash + 1);
	c.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(c.family, ip, c.addr.bytes), 1);
	return c;
}

static void endpoint_set(struct endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, ip, &ep->addr.in4.sin_addr) == 1) {
		ep->addr.in4.sin_family = AF_INET;
		ep->addr.in4.sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &ep->addr.in6.sin6_addr), 1);
		ep->addr.in6.sin6_family = AF_INET6;
		ep->addr.in6.sin6_port = htons(port);
	}
}

static struct ifreq ifreq_get(unsigned long req)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, IFNAME);
	assert_int_equal(ioctl(s, req, &ifr), 0);
	close(s);
	return ifr;
}

/* --- our own route dump, independent of netlink.c ----------------------- */

struct route_query {
	struct cidr dst;
	uint32_t table;
	int found;
};

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= RTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_query *q = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	size_t alen = q->dst.family == AF_INET ? 4 : 16;
	uint32_t table;

	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (rtm->rtm_family != q->dst.family || rtm->rtm_dst_len != q->dst.prefix || table != q->table ||
	    !!tb[RTA_DST] != !!q->dst.prefix || !tb[RTA_OIF] || mnl_attr_get_u32(tb[RTA_OIF]) != (uint32_t)ifindex ||
	    (tb[RTA_DST] && memcmp(mnl_attr_get_payload(tb[RTA_DST]), q->dst.addr.bytes, alen)))
		return MNL_CB_OK;
	assert_int_equal(rtm->rtm_protocol, RTPROT_STATIC);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	if (rtm->rtm_family == AF_INET)
		assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	q->found++;
	return MNL_CB_OK;
}

/* Dumps every object of `type` (RTM_GETROUTE, RTM_GETRULE) of the family
 * through cb. rtmsg and fib_rule_hdr both start with the family. */
static void dump_all(uint16_t type, int family, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t len;
	int ret;

	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
	do {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		assert_true(len > 0);
		ret = mnl_cb_run(buf, (size_t)len, seq, portid, cb, data);
		assert_true(ret >= 0);
	} while (ret > 0);
	mnl_socket_close(nl);
}

/* How many routes to `dst` through our tun are in `table`. */
static int route_count(const char *dst, uint32_t table)
{
	struct route_query q = { .dst = cidr(dst), .table = table };

	dump_all(RTM_GETROUTE, q.dst.family, route_cb, &q);
	return q.found;
}

/* A route through a gateway, which nl_route_add cannot make. */
static void route_add_via(const char *dst, const char *gw, int oif)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cidr d = cidr(dst), g = cidr(gw);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	size_t alen = d.family == AF_INET ? 4 : 16;
	ssize_t len;

	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)d.family;
	rtm->rtm_dst_len = d.prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, RTA_DST, alen, d.addr.bytes);
	mnl_attr_put(nlh, RTA_GATEWAY, alen, g.addr.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 77);
	assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(mnl_cb_run(buf, (size_t)len, 1, mnl_socket_get_portid(nl), NULL, NULL), MNL_CB_STOP);
	mnl_socket_close(nl);
}

/* --- rules: our own dump ------------------------------------------------- */

struct rule_query {
	int family;
	uint32_t table, priority, fwmark;
	bool invert;
	int64_t suppress; /* -1: none */
	int found;
};

static int rule_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= FRA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_query *q = data;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	uint32_t table, prio, mark;
	int64_t suppress = -1;

	mnl_attr_parse(nlh, sizeof(*frh), rule_attr, tb);
	table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh->table;
	prio = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	mark = tb[FRA_FWMARK] ? mnl_attr_get_u32(tb[FRA_FWMARK]) : 0;
	/* Reported only when set; "none" is (u32)-1. */
	if (tb[FRA_SUPPRESS_PREFIXLEN] && mnl_attr_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]) != UINT32_MAX)
		suppress = mnl_attr_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]);
	if (frh->family == q->family && frh->action == FR_ACT_TO_TBL && table == q->table && prio == q->priority &&
	    mark == q->fwmark && !!(frh->flags & FIB_RULE_INVERT) == q->invert && suppress == q->suppress)
		q->found++;
	return MNL_CB_OK;
}

/* How many rules are exactly this one. */
static int rule_count(const struct nl_rule *r)
{
	struct rule_query q = { .family = r->family,
				.table = r->table,
				.priority = r->priority,
				.fwmark = r->fwmark,
				.invert = r->invert,
				.suppress = r->has_suppress_prefixlen ? r->suppress_prefixlen : -1 };

	dump_all(RTM_GETRULE, r->family, rule_cb, &q);
	return q.found;
}

/* --- addresses ------------------------------------------------------------- */

static int has_addr(const char *ip, int prefix)
{
	struct ifaddrs *ifas, *i;
	uint8_t want[16], mask[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET, found = 0;

	assert_int_equal(inet_pton(family, ip, want), 1);
	assert_int_equal(getifaddrs(&ifas), 0);
	for (i = ifas; i; i = i->ifa_next) {
		const void *a, *m;
		size_t len = family == AF_INET ? 4 : 16;
		int bits = 0;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, IFNAME))
			continue;
		a = family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
				      : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		m = family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
				      : (const void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		if (memcmp(a, want, len))
			continue;
		memcpy(mask, m, len);
		for (size_t b = 0; b < len; b++)
			bits += __builtin_popcount(mask[b]);
		assert_int_equal(bits, prefix);
		found++;
	}
	freeifaddrs(ifas);
	return found;
}

/* The flags the kernel keeps for an IPv6 address of ours, from
 * /proc/net/if_inet6 ("addr ifindex prefix scope flags name"). */
static unsigned inet6_flags(const char *hex)
{
	char line[256], addr[40], name[IFNAMSIZ];
	unsigned idx, plen, scope, flags;
	FILE *f = fopen("/proc/net/if_inet6", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %x %x %x %15s", addr, &idx, &plen, &scope, &flags, name) == 6 &&
		    !strcmp(addr, hex) && !strcmp(name, IFNAME)) {
			fclose(f);
			return flags;
		}
	}
	fclose(f);
	fail_msg("%s not in /proc/net/if_inet6", hex);
	return 0;
}

/* --- packets through the tun ------------------------------------------- */

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads from the tun until a packet of that IP version to `dst` shows up
 * (the kernel sends its own IPv6 chatter, MLD and RS, the same way). */
static struct pkt *tun_wait_for(int version, const void *dst)
{
	long deadline = now_ms() + 3000;
	struct pkt *k = pool_get(&pool);

	assert_non_null(k);
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = tunfd, .events = POLLIN };
		int r;

		poll(&pfd, 1, 100);
		r = tun_read_batch(tunfd, &k, 1);
		assert_true(r >= 0);
		if (r == 0 || k->len < 20 || k->data[0] >> 4 != version)
			continue;
		if (version == 4 && !memcmp(k->data + 16, dst, 4))
			return k;
		if (version == 6 && k->len >= 40 && !memcmp(k->data + 24, dst, 16))
			return k;
	}
	fail_msg("no IPv%d packet came out of the tun", version);
	return NULL;
}

/* --- the tests, in order ----------------------------------------------- */

/* In the fresh namespace nothing is routed (even lo is down): every
 * datagram of a batch fails with ENETUNREACH, and the transport skips them
 * instead of failing the batch. */
static void test_udp_unreachable_is_skipped(void **state)
{
	(void)state;
	struct pkt *k[3];
	uint16_t port = 0;
	int fd = udp_open(&port, 0);

	assert_true(fd >= 0);
	for (int i = 0; i < 3; i++) {
		k[i] = pool_get(&pool);
		k[i]->len = 32;
		memset(k[i]->data, i, 32);
	}
	endpoint_set(&k[0]->ep, "192.0.2.1", 9);
	endpoint_set(&k[1]->ep, "2001:db8::9", 9);
	endpoint_set(&k[2]->ep, "198.51.100.7", 9);
	assert_int_equal(udp_send_batch(fd, NULL, k, 3), 3);
	for (int i = 0; i < 3; i++)
		pool_put(&pool, k[i]);
	close(fd);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct cidr c = cidr("198.18.0.1/24");

	assert_int_equal(nl_link_set_mtu(987654, 1380), -ENODEV);
	assert_int_equal(nl_link_set_up(987654, 1), -ENODEV);
	assert_int_equal(nl_link_set_mtu(0, 1380), -EINVAL);
	assert_int_equal(nl_link_delete("no-such-link"), -ENODEV);
	assert_int_equal(nl_link_delete("a-name-far-too-long-for-a-link"), -EINVAL);
	assert_int_equal(nl_link_delete(""), -EINVAL);
	c.prefix = 33;
	assert_int_equal(nl_addr_add(1, &c), -EINVAL);
	c.family = AF_UNSPEC;
	assert_int_equal(nl_route_add(1, &c, 0), -EAFNOSUPPORT);
	{
		struct nl_route r;
		struct nl_rule rule = { .family = AF_UNSPEC, .table = 7 };

		assert_int_equal(nl_route_get(&c, 0, &r), -EAFNOSUPPORT);
		assert_int_equal(nl_route_dump(AF_UNSPEC, 0, NULL, NULL), -EAFNOSUPPORT);
		assert_int_equal(nl_rule_add(&rule), -EAFNOSUPPORT);
		rule.family = AF_INET;
		rule.table = 0;
		assert_int_equal(nl_rule_add(&rule), -EINVAL);
		rule.table = 7;
		rule.has_suppress_prefixlen = true;
		rule.suppress_prefixlen = 33;
		assert_int_equal(nl_rule_add(&rule), -EINVAL);
		assert_int_equal(nl_rule_del(&rule), -EINVAL);
	}
	assert_int_equal(tun_open("a-name-far-too-long-for-a-link", &ifindex), -ENAMETOOLONG);
}

static void test_tun_open(void **state)
{
	(void)state;
	tunfd = tun_open(IFNAME, &ifindex);
	assert_true(tunfd >= 0);
	assert_int_equal(ifindex, (int)if_nametoindex(IFNAME));
	assert_true(tun_exists(ifindex));
	assert_int_equal(fcntl(tunfd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	assert_int_equal(fcntl(tunfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_false(ifreq_get(SIOCGIFFLAGS).ifr_flags & IFF_UP);
}

static void test_mtu(void **state)
{
	(void)state;
	assert_int_equal(nl_link_set_mtu(ifindex, 1380), 0);
	assert_int_equal(ifreq_get(SIOCGIFMTU).ifr_mtu, 1380);
}

/* Reads the link watch until what it said of our link satisfies done, for
 * at most 2 s. */
static void watch_until(int fd, struct linkwatch_event *ev, bool (*done)(const struct linkwatch_event *))
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < 20 && !done(ev); i++) {
		if (poll(&p, 1, 100) > 0)
			assert_int_equal(linkwatch_read(fd, ifindex, ev), 0);
	}
	assert_true(done(ev));
}

static bool mtu_is_9000(const struct linkwatch_event *ev)
{
	return ev->mtu == 9000;
}

static bool mtu_is_1380(const struct linkwatch_event *ev)
{
	return ev->mtu == 1380;
}

static bool is_deleted(const struct linkwatch_event *ev)
{
	return ev->deleted;
}

/* The kernel's announcements, as the daemon reads them: the MTU set last. */
static void test_link_watch_mtu(void **state)
{
	struct linkwatch_event ev = { 0 };
	int fd = linkwatch_open();

	(void)state;
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(linkwatch_read(fd, ifindex, &ev), 0); /* nothing yet: EAGAIN is 0 */
	assert_false(ev.changed);
	assert_int_equal(nl_link_set_mtu(ifindex, 1280), 0);
	assert_int_equal(nl_link_set_mtu(ifindex, 9000), 0);
	watch_until(fd, &ev, mtu_is_9000);
	assert_true(ev.changed);
	assert_false(ev.deleted);
	assert_int_equal(ev.malformed, 0);
	/* Another link's change says nothing of ours. */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(nl_link_set_mtu(ifindex, 1380), 0);
	watch_until(fd, &ev, mtu_is_1380);
	struct linkwatch_event other = { 0 };
	assert_int_equal(nl_link_set_mtu(ifindex, 1400), 0);
	usleep(100000);
	assert_int_equal(linkwatch_read(fd, ifindex + 1000, &other), 0);
	assert_false(other.changed);
	assert_int_equal(other.mtu, 0);
	assert_int_equal(nl_link_set_mtu(ifindex, 1380), 0);
	assert_int_equal(ifreq_get(SIOCGIFMTU).ifr_mtu, 1380);
	close(fd);
}

/* A watch that reads too late (its buffer full): ENOBUFS says announcements
 * were lost, and the daemon asks the MTU again. */
static void test_link_watch_overrun(void **state)
{
	struct linkwatch_event ev = { 0 };
	int fd = linkwatch_open(), small = 1;

	(void)state;
	assert_true(fd >= 0);
	/* The kernel's smallest receive buffer holds about one RTM_NEWLINK. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (uint32_t mtu = 1300; mtu < 1320; mtu++)
		assert_int_equal(nl_link_set_mtu(ifindex, mtu), 0);
	assert_int_equal(linkwatch_read(fd, ifindex, &ev), 0);
	assert_true(ev.lost);
	assert_int_equal(nl_link_set_mtu(ifindex, 1380), 0);
	close(fd);
}

static void test_addresses(void **state)
{
	(void)state;
	struct cidr v4 = cidr("198.18.0.1/24"), v6 = cidr("2001:db8:77::1/64");

	assert_int_equal(nl_addr_add(ifindex, &v4), 0);
	assert_int_equal(nl_addr_add(ifindex, &v4), 0); /* EEXIST is fine */
	assert_int_equal(nl_addr_add(ifindex, &v6), 0);
	assert_int_equal(nl_addr_add(ifindex, &v6), 0);
	assert_int_equal(has_addr("198.18.0.1", 24), 1);
	assert_true(inet6_flags("20010db8007700000000000000000001") & IFA_F_NODAD);
}

static void test_link_up(void **state)
{
	(void)state;
	assert_int_equal(nl_link_set_up(ifindex, 1), 0);
	assert_true(ifreq_get(SIOCGIFFLAGS).ifr_flags & IFF_UP);
	assert_int_equal(has_addr("198.18.0.1", 24), 1);
	assert_int_equal(has_addr("2001:db8:77::1", 64), 1);
	/* Usable at once, not tentative: it can be bound right now. */
	assert_false(inet6_flags("20010db8007700000000000000000001") & IFA_F_TENTATIVE);
	{
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		inet_pton(AF_INET6, "2001:db8:77::1", &sin6.sin6_addr);
		assert_int_equal(bind(s, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
		close(s);
	}
}

static const char *const routes[] = {
	"198.18.5.0/24", "2001:db8:78::/64", /* main table */
	"198.18.6.0/24", "2001:db8:79::/64", /* TABLE */
};

static void test_routes_add(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		struct cidr c = cidr(routes[i]);
		uint32_t table = i < 2 ? 0 : TABLE;

		assert_int_equal(nl_route_add(ifindex, &c, table), 0);
		/* Never replaced, never silently taken for ours. */
		assert_int_equal(nl_route_add(ifindex, &c, table), -EEXIST);
		assert_int_equal(route_count(routes[i], table ? table : RT_TABLE_MAIN), 1);
		assert_int_equal(route_count(routes[i], table ? RT_TABLE_MAIN : TABLE), 0);
	}
	/* Host bits in the prefix are masked, not refused. */
	{
		struct cidr c = cidr("198.18.7.9/24");

		assert_int_equal(nl_route_add(ifindex, &c, 0), 0);
		assert_int_equal(route_count("198.18.7.0/24", RT_TABLE_MAIN), 1);
		assert_int_equal(nl_route_del(ifindex, &c, 0), 0);
		assert_int_equal(route_count("198.18.7.0/24", RT_TABLE_MAIN), 0);
	}
}

static void assert_prefix(const struct cidr *got, const char *want)
{
	struct cidr w = cidr(want);
	char buf[CIDR_STR_MAX];

	cidr_format(buf, got);
	assert_string_equal(buf, want);
	assert_int_equal(got->family, w.family);
}

static void assert_addr(const struct cidr *got, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(got->family, got->addr.bytes, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

/* What the kernel takes for a destination: the route in the table, with
 * its prefix (fibmatch), not the one-off result for the address. */
static void test_route_get(void **state)
{
	(void)state;
	struct nl_route r;
	struct cidr a = cidr("198.18.5.9/32");

	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "198.18.5.0/24");
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_int_equal(r.oif, ifindex);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.protocol, RTPROT_STATIC);
	assert_false(r.has_gateway);

	a = cidr("2001:db8:78::9/128");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "2001:db8:78::/64");
	assert_int_equal(r.metric, 1024); /* the kernel's for routes added without one */
	assert_int_equal(r.oif, ifindex);

	/* An address's own on-link route, the kernel's. */
	a = cidr("198.18.0.77/32");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "198.18.0.0/24");
	assert_int_equal(r.protocol, RTPROT_KERNEL);

	/* TABLE is reached by no rule; nothing else is routed here. 203.0.113.9
	 * is only looked up, never sent to. */
	a = cidr("198.18.6.9/32");
	assert_int_equal(nl_route_get(&a, 0, &r), -ENETUNREACH);
	a = cidr("203.0.113.9/32");
	assert_int_equal(nl_route_get(&a, 0, &r), -ENETUNREACH);
	a = cidr("2001:db8:ffff::9/128");
	assert_int_equal(nl_route_get(&a, 0, &r), -ENETUNREACH);

	/* Gateways, in both families. */
	route_add_via("198.51.100.0/24", "198.18.0.254/32", ifindex);
	a = cidr("198.51.100.7/32");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "198.51.100.0/24");
	assert_true(r.has_gateway);
	assert_addr(&r.gateway, "198.18.0.254");
	assert_int_equal(r.metric, 77);
	assert_int_equal(r.oif, ifindex);
	route_add_via("2001:db8:ff::/48", "2001:db8:77::fe/128", ifindex);
	a = cidr("2001:db8:ff::7/128");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "2001:db8:ff::/48");
	assert_true(r.has_gateway);
	assert_addr(&r.gateway, "2001:db8:77::fe");
	assert_int_equal(r.metric, 77);

	a = cidr("198.51.100.0/24");
	assert_int_equal(nl_route_del(ifindex, &a, 0), 0);
	a = cidr("2001:db8:ff::/48");
	assert_int_equal(nl_route_del(ifindex, &a, 0), 0);
}

struct collected {
	struct nl_route r[64];
	int n, stop_after;
};

static int collect(const struct nl_route *r, void *arg)
{
	struct collected *c = arg;

	if (c->n < 64)
		c->r[c->n] = *r;
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 42 : 0;
}

static void test_route_dump(void **state)
{
	(void)state;
	struct collected c = { 0 };
	bool seen_main = false, seen_table = false;

	assert_int_equal(nl_route_dump(AF_INET, TABLE, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_prefix(&c.r[0].dst, "198.18.6.0/24");
	assert_int_equal(c.r[0].table, TABLE);
	assert_int_equal(c.r[0].oif, ifindex);

	memset(&c, 0, sizeof(c));
	assert_int_equal(nl_route_dump(AF_INET6, TABLE, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_prefix(&c.r[0].dst, "2001:db8:79::/64");
	assert_int_equal(c.r[0].metric, 1024);

	/* A table nothing was ever added to: empty, not an error. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(nl_route_dump(AF_INET, 4242, collect, &c), 0);
	assert_int_equal(nl_route_dump(AF_INET6, 4242, collect, &c), 0);
	assert_int_equal(c.n, 0);

	/* Every table: main's and TABLE's among the kernel's own. */
	assert_int_equal(nl_route_dump(AF_INET, 0, collect, &c), 0);
	assert_true(c.n > 2 && c.n <= 64);
	for (int i = 0; i < c.n; i++) {
		char buf[CIDR_STR_MAX];

		assert_int_equal(c.r[i].dst.family, AF_INET);
		cidr_format(buf, &c.r[i].dst);
		seen_main |= c.r[i].table == RT_TABLE_MAIN && !strcmp(buf, "198.18.5.0/24");
		seen_table |= c.r[i].table == TABLE && !strcmp(buf, "198.18.6.0/24");
	}
	assert_true(seen_main && seen_table);

	/* fn's nonzero stops the dump and comes back. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(nl_route_dump(AF_INET, 0, collect, &c), 42);
	assert_int_equal(c.n, 1);
}

/* The routes carry traffic into the tun, and what we write into the tun
 * reaches a socket: both directions of the data path, for real. */
static void test_packets(void **state)
{
	(void)state;
	static const char payload[] = "sluice through the tun";
	uint8_t v4dst[4], v6dst[16], v4src[4];
	struct pkt *k = pool_get(&pool), *out;
	struct pollfd pfd;
	uint16_t port = 0;
	int fd = udp_open(&port, 0);

	assert_true(fd >= 0);
	/* Out: the socket sends to routed prefixes, the tun reads them. */
	k->len = sizeof(payload);
	memcpy(k->data, payload, sizeof(payload));
	endpoint_set(&k->ep, "198.18.5.9", 4000);
	assert_int_equal(udp_send_batch(fd, NULL, &k, 1), 1);
	inet_pton(AF_INET, "198.18.5.9", v4dst);
	out = tun_wait_for(4, v4dst);
	assert_int_equal(out->len, 20 + 8 + sizeof(payload));
	assert_memory_equal(out->data + 28, payload, sizeof(payload));
	pool_put(&pool, out);

	endpoint_set(&k->ep, "2001:db8:78::9", 4000);
	assert_int_equal(udp_send_batch(fd, NULL, &k, 1), 1);
	inet_pton(AF_INET6, "2001:db8:78::9", v6dst);
	out = tun_wait_for(6, v6dst);
	assert_int_equal(out->len, 40 + 8 + sizeof(payload));
	pool_put(&pool, out);

	/* In: an IPv4/UDP packet from 198.18.0.2 to our address and port,
	 * written into the tun, arrives on the socket. */
	{
		uint8_t *p = k->data;
		struct iphdr *ip = (struct iphdr *)p;
		struct udphdr *udp = (struct udphdr *)(p + 20);

		memset(p, 0, 28);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons((uint16_t)(28 + sizeof(payload)));
		inet_pton(AF_INET, "198.18.0.2", &ip->saddr);
		inet_pton(AF_INET, "198.18.0.1", &ip->daddr);
		ip->check = ip_checksum(ip, 20);
		udp->source = htons(5555);
		udp->dest = htons(port);
		udp->len = htons((uint16_t)(8 + sizeof(payload)));
		udp->check = 0; /* optional over IPv4 */
		memcpy(p + 28, payload, sizeof(payload));
		k->len = (uint32_t)(28 + sizeof(payload));
		memcpy(v4src, &ip->saddr, 4);
	}
	assert_int_equal(tun_write(tunfd, k), 0);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(udp_recv_batch(fd, &k, 1), 1);
	assert_int_equal(k->len, sizeof(payload));
	assert_memory_equal(k->data, payload, sizeof(payload));
	assert_int_equal(k->ep.addr.sa.sa_family, AF_INET);
	assert_memory_equal(&k->ep.addr.in4.sin_addr, v4src, 4);
	assert_int_equal(ntohs(k->ep.addr.in4.sin_port), 5555);

	pool_put(&pool, k);
	close(fd);
}

static void test_routes_del(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		struct cidr c = cidr(routes[i]);
		uint32_t table = i < 2 ? 0 : TABLE;

		assert_int_equal(nl_route_del(ifindex, &c, table), 0);
		assert_int_equal(route_count(routes[i], table ? table : RT_TABLE_MAIN), 0);
		assert_int_equal(nl_route_del(ifindex, &c, table), -ESRCH);
	}
}

/* wg-quick's pair of rules (their priorities are what the kernel gives
 * them on a host with the default rules only), as route.c makes them. */
#define PRIO_SUPPRESS 32764
#define PRIO_TABLE 32765

static struct nl_rule suppress_rule(int family)
{
	return (struct nl_rule){ .family = family,
				 .table = RT_TABLE_MAIN,
				 .priority = PRIO_SUPPRESS,
				 .fwmark = MARK,
				 .invert = true,
				 .has_suppress_prefixlen = true,
				 .suppress_prefixlen = 0 };
}

static struct nl_rule table_rule(int family)
{
	return (struct nl_rule){
		.family = family, .table = MARK, .priority = PRIO_TABLE, .fwmark = MARK, .invert = true
	};
}

static void test_rules(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		struct nl_rule sup = suppress_rule(family), tab = table_rule(family), any;
		struct nl_rule small = { .family = family, .table = 100, .priority = 1000 };

		assert_int_equal(nl_rule_add(&sup), 0);
		assert_int_equal(rule_count(&sup), 1);
		assert_int_equal(nl_rule_add(&sup), -EEXIST);
		assert_int_equal(rule_count(&sup), 1);
		assert_int_equal(nl_rule_add(&tab), 0);
		assert_int_equal(rule_count(&tab), 1);
		/* Not the other's: the flags and attributes are each rule's. */
		sup.invert = false;
		assert_int_equal(rule_count(&sup), 0);
		sup.invert = true;

		/* A table below 256, in the header; no mark: every packet. */
		assert_int_equal(nl_rule_add(&small), 0);
		assert_int_equal(rule_count(&small), 1);
		assert_int_equal(nl_rule_del(&small), 0);
		assert_int_equal(rule_count(&small), 0);

		/* Deleted at any priority when none is given. */
		any = tab;
		any.priority = 0;
		assert_int_equal(nl_rule_del(&any), 0);
		assert_int_equal(rule_count(&tab), 0);
		assert_int_equal(nl_rule_del(&any), -ENOENT);
		assert_int_equal(nl_rule_del(&sup), 0);
		assert_int_equal(rule_count(&sup), 0);
		assert_int_equal(nl_rule_del(&sup), -ENOENT);
	}
}

/* wg-quick's full tunnel, made of the calls above: a second tun stands for
 * the physical link with main's default routes; the tun's /0 routes in
 * table MARK; the two rules. Lookups without the mark go to the tun
 * unless main has something more specific; with it, to the "physical"
 * link. Nothing is sent: lookups only. */
static void test_full_tunnel_lookups(void **state)
{
	(void)state;
	static const char *const defaults[] = { "0.0.0.0/0", "::/0" };
	struct cidr phys = cidr("192.0.2.2/24");
	struct nl_route r;
	struct cidr a;

	tunfd2 = tun_open(IFNAME2, &ifindex2);
	assert_true(tunfd2 >= 0);
	assert_int_equal(nl_link_set_up(ifindex2, 1), 0);
	assert_int_equal(nl_addr_add(ifindex2, &phys), 0);
	for (int f = 0; f < 2; f++) {
		struct nl_rule sup = suppress_rule(f ? AF_INET6 : AF_INET), tab = table_rule(f ? AF_INET6 : AF_INET);
		struct cidr d = cidr(defaults[f]);

		assert_int_equal(nl_route_add(ifindex2, &d, 0), 0);
		assert_int_equal(nl_route_add(ifindex, &d, MARK), 0);
		assert_int_equal(route_count(defaults[f], MARK), 1);
		assert_int_equal(nl_rule_add(&sup), 0);
		assert_int_equal(nl_rule_add(&tab), 0);
	}

	a = cidr("203.0.113.9/32");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_int_equal(r.dst.prefix, 0);
	assert_int_equal(r.table, MARK);
	assert_int_equal(r.oif, ifindex);
	assert_int_equal(nl_route_get(&a, MARK, &r), 0);
	assert_int_equal(r.dst.prefix, 0);
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_int_equal(r.oif, ifindex2);
	/* More specific routes in main win over the tunnel's /0. */
	a = cidr("198.18.0.9/32");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "198.18.0.0/24");
	assert_int_equal(r.oif, ifindex);
	a = cidr("192.0.2.9/32");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_prefix(&r.dst, "192.0.2.0/24");
	assert_int_equal(r.oif, ifindex2);

	a = cidr("2001:db8:ffff::9/128");
	assert_int_equal(nl_route_get(&a, 0, &r), 0);
	assert_int_equal(r.table, MARK);
	assert_int_equal(r.oif, ifindex);
	assert_int_equal(nl_route_get(&a, MARK, &r), 0);
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_int_equal(r.oif, ifindex2);

	for (int f = 0; f < 2; f++) {
		struct nl_rule sup = suppress_rule(f ? AF_INET6 : AF_INET), tab = table_rule(f ? AF_INET6 : AF_INET);
		struct cidr d = cidr(defaults[f]);

		assert_int_equal(nl_rule_del(&tab), 0);
		assert_int_equal(nl_rule_del(&sup), 0);
		assert_int_equal(nl_route_del(ifindex, &d, MARK), 0);
	}
	/* The "physical" link and its routes go with its descriptor. */
	close(tunfd2);
	tunfd2 = -1;
}

static const char conf_head[] =
	"[Interface]\n"
	"PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
	"Address = 198.18.0.1/24, 2001:db8:77::1/64\n";
static const char conf_peer[] =
	"[Peer]\n"
	"PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n";

static void parse(struct interface_config *cfg, const char *iface_lines, const char *allowed)
{
	char text[1024], err[256];

	snprintf(text, sizeof(text), "%s%s%sAllowedIPs = %s\n", conf_head, iface_lines, conf_peer, allowed);
	if (!config_parse(cfg, "test.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("%s", err);
}

/* Which configurations are full tunnels, and the table each gets. */
static void test_route_plan(void **state)
{
	(void)state;
	struct interface_config cfg;
	struct route_state rs;
	struct cidr busy4 = cidr("198.18.9.0/24"), busy6 = cidr("2001:db8:9::/64");
	uint32_t mark;

	parse(&cfg, "", "0.0.0.0/0");
	mark = 0;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, ROUTE_TABLE_FIRST);
	assert_int_equal(mark, ROUTE_TABLE_FIRST);
	assert_true(rs.full[0]);
	assert_false(rs.full[1]);
	/* A table with a route in either family is someone's: the next. */
	assert_int_equal(nl_route_add(ifindex, &busy4, ROUTE_TABLE_FIRST), 0);
	assert_int_equal(nl_route_add(ifindex, &busy6, ROUTE_TABLE_FIRST + 1), 0);
	mark = 0;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, ROUTE_TABLE_FIRST + 2);
	assert_int_equal(mark, ROUTE_TABLE_FIRST + 2);
	assert_int_equal(nl_route_del(ifindex, &busy4, ROUTE_TABLE_FIRST), 0);
	assert_int_equal(nl_route_del(ifindex, &busy6, ROUTE_TABLE_FIRST + 1), 0);
	/* FwMark set: it is the table. One of the kernel's is refused. */
	mark = 0x1234;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, 0x1234);
	assert_int_equal(mark, 0x1234);
	mark = RT_TABLE_MAIN;
	assert_int_equal(route_plan(&rs, &cfg, &mark), -EINVAL);
	config_free(&cfg);

	parse(&cfg, "", "::/0, 198.18.0.0/24");
	mark = 0;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_false(rs.full[0]);
	assert_true(rs.full[1]);
	assert_int_equal(rs.table, ROUTE_TABLE_FIRST);
	config_free(&cfg);

	/* Not full tunnels: no /0, Table = off or a number, an unmanaged link. */
	parse(&cfg, "", "0.0.0.0/1, 128.0.0.0/1");
	mark = 0;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, 0);
	assert_int_equal(mark, 0);
	config_free(&cfg);
	parse(&cfg, "Table = off\n", "0.0.0.0/0");
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, 0);
	config_free(&cfg);
	parse(&cfg, "Table = 1000\n", "0.0.0.0/0");
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, 0);
	config_free(&cfg);
	parse(&cfg, "", "0.0.0.0/0");
	cfg.link_unmanaged = true;
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(rs.table, 0);
	assert_int_equal(mark, 0);
	config_free(&cfg);
}

static int full_tunnel_rules(void)
{
	int n = 0;

	for (int f = 0; f < 2; f++) {
		struct nl_rule sup = suppress_rule(f ? AF_INET6 : AF_INET), tab = table_rule(f ? AF_INET6 : AF_INET);
		n += rule_count(&sup) + rule_count(&tab);
	}
	return n;
}

/* route.c's whole life: set up, set up again over what a killed daemon
 * left, torn down (twice). */
static void test_route_setup_teardown(void **state)
{
	(void)state;
	struct interface_config cfg;
	struct route_state rs, again;
	struct cidr v4 = cidr("0.0.0.0/0"), v6 = cidr("::/0");
	uint32_t mark = 0;

	/* 198.18.0.0/24 is also the on-link route of the Address: fine. */
	parse(&cfg, "", "0.0.0.0/0, ::/0, 198.18.0.0/24");
	assert_int_equal(route_plan(&rs, &cfg, &mark), 0);
	assert_int_equal(mark, MARK);
	assert_int_equal(route_setup(&rs, ifindex, IFNAME, 1380, &cfg), 0);
	assert_int_equal(full_tunnel_rules(), 4);
	assert_int_equal(route_count("0.0.0.0/0", MARK), 1);
	assert_int_equal(route_count("::/0", MARK), 1);

	/* SIGKILL: the rules stay, the routes go with the interface. */
	assert_int_equal(nl_route_del(ifindex, &v4, MARK), 0);
	assert_int_equal(nl_route_del(ifindex, &v6, MARK), 0);
	mark = 0;
	assert_int_equal(route_plan(&again, &cfg, &mark), 0);
	assert_int_equal(again.table, MARK);
	assert_int_equal(route_setup(&again, ifindex, IFNAME, 1380, &cfg), 0);
	assert_int_equal(full_tunnel_rules(), 4);

	route_teardown(&again);
	assert_int_equal(full_tunnel_rules(), 0);
	route_teardown(&again);
	route_teardown(&rs); /* its rules are gone already: nothing to do */
	assert_int_equal(full_tunnel_rules(), 0);
	assert_int_equal(nl_route_del(ifindex, &v4, MARK), 0);
	assert_int_equal(nl_route_del(ifindex, &v6, MARK), 0);
	config_free(&cfg);
}

static void test_link_down_and_delete(void **state)
{
	struct linkwatch_event ev = { 0 };
	int fd = linkwatch_open();

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(nl_link_set_up(ifindex, 0), 0);
	assert_false(ifreq_get(SIOCGIFFLAGS).ifr_flags & IFF_UP);
	assert_int_equal(nl_link_delete(IFNAME), 0);
	assert_int_equal(if_nametoindex(IFNAME), 0);
	assert_false(tun_exists(ifindex));
	assert_int_equal(nl_link_delete(IFNAME), -ENODEV);
	watch_until(fd, &ev, is_deleted);
	close(fd);
	close(tunfd);
	tunfd = -1;
}

static int run_in_namespace(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_unreachable_is_skipped),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_tun_open),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_link_watch_mtu),
		cmocka_unit_test(test_link_watch_overrun),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_link_up),
		cmocka_unit_test(test_routes_add),
		cmocka_unit_test(test_route_get),
		cmocka_unit_test(test_route_dump),
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_routes_del),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_full_tunnel_lookups),
		cmocka_unit_test(test_route_plan),
		cmocka_unit_test(test_route_setup_teardown),
		cmocka_unit_test(test_link_down_and_delete),
	};
	int ret;

	if (pool_init(&pool, 16, 2048))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	pool_destroy(&pool);
	return ret;
}

int main(void)
{
	return unit_run_in_netns("test_netlink", run_in_namespace);
}
