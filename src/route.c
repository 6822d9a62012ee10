// SPDX-License-Identifier: MIT
#include "route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "encoding.h"
#include "log.h"
#include "messages.h"
#include "netlink.h"

/* How far past 51820 to look for an empty table. */
#define TABLE_SEARCH 1000
/* Copies of one rule removed at most, in case a delete keeps succeeding. */
#define PURGE_MAX 256

static const int families[2] = { AF_INET, AF_INET6 };
static const char *const family_names[2] = { "IPv4", "IPv6" };

static int family_slot(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

/* ---- describing a route, for messages ---- */

static const char *type_name(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE:
		return "blackhole";
	case RTN_UNREACHABLE:
		return "unreachable";
	case RTN_PROHIBIT:
		return "prohibit";
	case RTN_THROW:
		return "throw";
	case RTN_LOCAL:
		return "local";
	case RTN_BROADCAST:
		return "broadcast";
	case RTN_MULTICAST:
		return "multicast";
	default:
		return NULL;
	}
}

/* Appends a word to out, after a space unless it is the first; cut to fit. */
static void __attribute__((format(printf, 3, 4))) put_word(char *out, size_t len, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n && n + 1 < len) {
		out[n++] = ' ';
		out[n] = '\0';
	}
	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
}

/* "via 192.0.2.1 dev eth0", "blackhole", "dev eth0 metric 100": what
 * `ip route` would show of it. */
static void describe(char *out, size_t len, const struct nl_route *r)
{
	char addr[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];
	const char *type = type_name(r->type);

	out[0] = '\0';
	if (type)
		put_word(out, len, "%s", type);
	if (r->has_gateway && inet_ntop(r->gateway.family, r->gateway.addr.bytes, addr, sizeof(addr)))
		put_word(out, len, "via %s", addr);
	if (r->oif)
		put_word(out, len, "dev %s", if_indextoname((unsigned)r->oif, dev) ? dev : "(gone)");
	if (r->metric)
		put_word(out, len, "metric %u", r->metric);
}

/* ---- finding the route that holds a prefix ---- */

static bool same_prefix(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr.bytes, b->addr.bytes, a->family == AF_INET ? 4 : 16);
}

struct holder {
	const struct cidr *dst;
	struct nl_route route;
	bool found;
};

/* The one with the lowest metric: the one the kernel uses. */
static int holder_cb(const struct nl_route *r, void *arg)
{
	struct holder *h = arg;

	if (same_prefix(&r->dst, h->dst) && r->type != RTN_LOCAL && r->type != RTN_BROADCAST &&
	    (!h->found || r->metric < h->route.metric)) {
		h->route = *r;
		h->found = true;
	}
	return 0;
}

/* The route to exactly dst in table that the kernel prefers. In main, a
 * lookup of the prefix's first address finds it at once where no more
 * specific route covers that address; else (or in another table) a dump of
 * the table does. */
static bool find_holder(const struct cidr *dst, uint32_t table, struct nl_route *out)
{
	struct holder h = { .dst = dst };

	if (table == RT_TABLE_MAIN && nl_route_get(dst, 0, out) == 0 && out->table == table &&
	    same_prefix(&out->dst, dst))
		return true;
	if (nl_route_dump(dst->family, table, holder_cb, &h) < 0 || !h.found)
		return false;
	*out = h.route;
	return true;
}

/* ---- routes ---- */

static void warn_taken(const char *what, const struct cidr *dst, uint32_t table, const struct nl_route *holder)
{
	char prefix[CIDR_STR_MAX], where[32] = "", desc[128], how[sizeof(desc) + 3] = "";

	cidr_format(prefix, dst);
	if (table != RT_TABLE_MAIN)
		snprintf(where, sizeof(where), " in table %u", table);
	if (holder) {
		describe(desc, sizeof(desc), holder);
		snprintf(how, sizeof(how), " (%s)", desc);
	}
	log_warn(
		"route %s%s %s%s: traffic to it will not enter the tunnel; remove that route, "
		"or set Table = off and route it yourself",
		prefix, where, what, how);
}

/* A route to a prefix that is not a full tunnel's /0, in the main table or
 * Table's. One that collides with a route already there is not an error:
 * the tunnel works for the rest, and the host's route may be meant (a
 * LAN inside AllowedIPs); but it is said, naming that route. */
static int add_route(int ifindex, const struct cidr *dst, uint32_t table)
{
	char prefix[CIDR_STR_MAX];
	struct nl_route holder;
	int r = nl_route_add(ifindex, dst, table);

	if (r == -EEXIST) {
		bool found = find_holder(dst, table, &holder);
		/* Ours already: an Address's on-link route, or the prefix
		 * given twice. */
		if (found && holder.oif == ifindex)
			return 0;
		warn_taken("already exists", dst, table, found ? &holder : NULL);
		return 0;
	}
	if (r < 0) {
		cidr_format(prefix, dst);
		log_err("cannot add route to %s: %s", prefix, strerror(-r));
		return r;
	}
	/* IPv6 routes we add get metric 1024: one the host has with a lower
	 * metric (from router advertisements, DHCPv6, a network manager) wins
	 * silently. An IPv4 route gets metric 0, which nothing beats: a tie
	 * is EEXIST, above. */
	if (dst->family == AF_INET6 && table == RT_TABLE_MAIN && find_holder(dst, table, &holder) &&
	    holder.oif != ifindex)
		warn_taken("is taken by a route with a lower metric", dst, table, &holder);
	return 0;
}

/* A full tunnel's /0, in its own table: there a route of someone else's
 * would leave the tunnel's traffic outside it, so it is refused. */
static int add_default(const struct route_state *rs, int ifindex, const struct cidr *dst)
{
	struct nl_route holder;
	char desc[128];
	int r = nl_route_add(ifindex, dst, rs->table);

	if (r == -EEXIST) {
		if (!find_holder(dst, rs->table, &holder)) {
			snprintf(desc, sizeof(desc), "?");
		} else {
			if (holder.oif == ifindex)
				return 0; /* ::/0 or 0.0.0.0/0 given twice */
			describe(desc, sizeof(desc), &holder);
		}
		log_err("table %u has an %s default route already (%s): another full tunnel uses that table; "
			"give this one another FwMark",
			rs->table, family_names[family_slot(dst->family)], desc);
		return r;
	}
	if (r < 0)
		log_err("cannot add the %s default route to table %u: %s", family_names[family_slot(dst->family)],
			rs->table, strerror(-r));
	return r;
}

static int add_routes(const struct route_state *rs, int ifindex, const struct interface_config *cfg)
{
	uint32_t table = cfg->table == TABLE_ID ? cfg->table_id : RT_TABLE_MAIN;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			struct cidr dst = cfg->peers[i].allowed_ips[j];
			int r;

			cidr_mask(&dst);
			if (dst.prefix == 0 && rs->table)
				r = add_default(rs, ifindex, &dst);
			else
				r = add_route(ifindex, &dst, table);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- rules ---- */

static struct nl_rule rule_suppress(int family, uint32_t table)
{
	return (struct nl_rule){ .family = family,
				 .table = RT_TABLE_MAIN,
				 .priority = ROUTE_PRIO_SUPPRESS,
				 .fwmark = table,
				 .invert = true,
				 .has_suppress_prefixlen = true,
				 .suppress_prefixlen = 0 };
}

static struct nl_rule rule_table(int family, uint32_t table)
{
	return (struct nl_rule){
		.family = family, .table = table, .priority = ROUTE_PRIO_TABLE, .fwmark = table, .invert = true
	};
}

/* Deletes every copy of the rule, at any priority. Returns how many, or
 * -errno. */
static int rule_purge(const struct nl_rule *rule)
{
	struct nl_rule any = *rule;
	int n;

	any.priority = 0;
	for (n = 0; n < PURGE_MAX; n++) {
		int r = nl_rule_del(&any);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return r;
	}
	return n;
}

/* With it, reverse-path filtering looks replies up with their mark; that
 * matters only where a firewall gives replies the tunnel's mark back (as
 * wg-quick's nftables rules do), but wg-quick sets it, and so do we. */
static void set_src_valid_mark(void)
{
	static const char path[] = "/proc/sys/net/ipv4/conf/all/src_valid_mark";
	char now = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &now, 1) != 1)
			now = 0;
		close(fd);
	}
	if (now == '1')
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		log_info(
			"cannot set net.ipv4.conf.all.src_valid_mark = 1 (%s): only a firewall that marks replies "
			"for strict reverse-path filtering needs it; set it with sysctl(8) if yours does",
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int add_rules(struct route_state *rs)
{
	int stale = 0;

	for (int i = 0; i < 2; i++) {
		struct nl_rule suppress = rule_suppress(families[i], rs->table);
		struct nl_rule table = rule_table(families[i], rs->table);
		int r;

		/* Rules for this table left by a daemon that could not
		 * remove them (SIGKILL, a crash): replaced, not doubled. In
		 * both families, as the last run may have had both /0s. */
		r = rule_purge(&table);
		if (r > 0)
			stale += r;
		r = rule_purge(&suppress);
		if (r > 0)
			stale += r;
		if (!rs->full[i])
			continue;
		/* The suppressing rule first: alone, it changes nothing. */
		r = nl_rule_add(&suppress);
		if (r == 0) {
			rs->rules[i] = true;
			r = nl_rule_add(&table);
		}
		if (r < 0) {
			log_err("cannot add the %s rules of table %u (not fwmark 0x%x lookup main "
				"suppress_prefixlength 0; not fwmark 0x%x lookup %u): %s",
				family_names[i], rs->table, rs->table, rs->table, rs->table, strerror(-r));
			return r;
		}
	}
	if (stale)
		log_info("removed %d rule%s for table %u left behind by an earlier run", stale, stale == 1 ? "" : "s",
			 rs->table);
	if (rs->full[0])
		set_src_valid_mark();
	log_info(
		"full tunnel: the %s%s%s default route%s in table %u, rules at priorities %u and %u; "
		"the tunnel's own packets carry fwmark 0x%x and leave by the main table",
		rs->full[0] ? "IPv4" : "", rs->full[0] && rs->full[1] ? " and " : "", rs->full[1] ? "IPv6" : "",
		rs->full[0] && rs->full[1] ? "s" : "", rs->table, ROUTE_PRIO_SUPPRESS, ROUTE_PRIO_TABLE, rs->table);
	return 0;
}

/* A whole number from /proc/sys ("2\n"), or -1. */
static int read_sysctl(const char *path)
{
	char buf[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;
	uint64_t n;

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	return len > 0 && parse_u64(buf, (size_t)len, false, INT_MAX, &n) ? (int)n : -1;
}

/* Strict reverse-path filtering checks a reply from a peer by looking its
 * source up without the mark, which names the tunnel, not the interface the
 * reply came in by: the reply is dropped, and the tunnel never comes up.
 * wg-quick gives replies the mark back from conntrack (nftables); sluice
 * adds no firewall rules, so it says so, for each IPv4 peer it would hit. */
static void warn_strict_rp_filter(const struct route_state *rs, int ifindex, const struct interface_config *cfg)
{
	int all = read_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter");

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct endpoint *ep = &cfg->peers[i].endpoint;
		struct cidr peer = { .family = AF_INET, .prefix = 32 };
		struct nl_route back, out;
		char dev[IF_NAMESIZE], path[80], addr[INET_ADDRSTRLEN];
		int rp;

		if (ep->addr.sa.sa_family != AF_INET)
			continue;
		peer.addr.v4 = ep->addr.in4.sin_addr;
		if (nl_route_get(&peer, 0, &back) < 0 || back.oif != ifindex ||
		    nl_route_get(&peer, rs->table, &out) < 0 || !out.oif || !if_indextoname((unsigned)out.oif, dev))
			continue;
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", dev);
		rp = read_sysctl(path);
		/* The kernel uses the larger of the two; 2 (loose) passes. */
		if ((rp > all ? rp : all) != 1)
			continue;
		inet_ntop(AF_INET, &peer.addr.v4, addr, sizeof(addr));
		log_warn(
			"strict reverse-path filtering on %s (net.ipv4.conf.%s.rp_filter = 1) will drop the replies "
			"from peer %s: set it to 2 (loose), or give replies the mark 0x%x back from conntrack as "
			"wg-quick does",
			dev, all == 1 ? "all" : dev, addr, rs->table);
	}
}

/* ---- the interface's life ---- */

static int any_route(const struct nl_route *r, void *arg)
{
	(void)r;
	(void)arg;
	return 1;
}

/* Whether a table has a route in either family. */
static int table_in_use(uint32_t table)
{
	for (int i = 0; i < 2; i++) {
		int r = nl_route_dump(families[i], table, any_route, NULL);
		if (r != 0 && r != -EAFNOSUPPORT) /* no IPv6 at all: nothing there */
			return r;
	}
	return 0;
}

int route_plan(struct route_state *rs, const struct interface_config *cfg, uint32_t *fwmark)
{
	memset(rs, 0, sizeof(*rs));
	if (cfg->link_unmanaged || cfg->table != TABLE_AUTO)
		return 0;
	for (size_t i = 0; i < cfg->n_peers; i++)
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			if (cfg->peers[i].allowed_ips[j].prefix == 0)
				rs->full[family_slot(cfg->peers[i].allowed_ips[j].family)] = true;
	if (!rs->full[0] && !rs->full[1])
		return 0;

	if (*fwmark) {
		if (*fwmark >= RT_TABLE_COMPAT && *fwmark <= RT_TABLE_LOCAL) {
			log_err("FwMark %u names a table the kernel keeps for itself (%u to %u): a full tunnel "
				"(AllowedIPs with a /0) uses its FwMark as its own routing table; pick another",
				*fwmark, RT_TABLE_COMPAT, RT_TABLE_LOCAL);
			return -EINVAL;
		}
		rs->table = *fwmark;
		return 0;
	}
	for (uint32_t t = ROUTE_TABLE_FIRST; t < ROUTE_TABLE_FIRST + TABLE_SEARCH; t++) {
		int r = table_in_use(t);
		if (r < 0) {
			log_err("cannot list the routes of table %u: %s", t, strerror(-r));
			return r;
		}
		if (r == 0) {
			rs->table = *fwmark = t;
			return 0;
		}
	}
	log_err("tables %u to %u all have routes: set FwMark to a free table for this full tunnel", ROUTE_TABLE_FIRST,
		ROUTE_TABLE_FIRST + TABLE_SEARCH - 1);
	return -EBUSY;
}

/* Writes value to /proc/sys/PATH; 0 or -errno. */
static int sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Forward = yes: packets that arrive on the interface may leave again, so
 * a hub's clients reach each other. IPv4 decides by the interface a packet
 * came in on; IPv6 forwards only where the host forwards at all, which is
 * the administrator's to turn on (named in the log when it is off). */
static void set_forwarding(const char *ifname, bool on)
{
	char path[128], all = '0';
	int r;

	if (!on)
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);
	if ((r = sysctl_write(path, "1")) < 0)
		log_warn("Forward: cannot turn on IPv4 forwarding for %s (%s)", ifname, strerror(-r));
	else
		log_info("Forward: IPv4 packets that come in on %s may be forwarded (net.ipv4.conf.%s.forwarding = 1)",
			 ifname, ifname);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", ifname);
	(void)sysctl_write(path, "1");
	int fd = open("/proc/sys/net/ipv6/conf/all/forwarding", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &all, 1) != 1)
			all = '0';
		close(fd);
	}
	if (all != '1')
		log_info(
			"Forward: IPv6 is forwarded only where the host forwards it: sysctl -w "
			"net.ipv6.conf.all.forwarding=1 if clients should reach each other over IPv6");
}

int route_setup(struct route_state *rs, int ifindex, const char *ifname, uint32_t mtu,
		const struct interface_config *cfg)
{
	char buf[CIDR_STR_MAX];
	int r = nl_link_set_mtu(ifindex, mtu);

	if (r < 0) {
		log_err("cannot set MTU %u on %s: %s", mtu, ifname, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		r = nl_addr_add(ifindex, &cfg->addresses[i]);
		if (r < 0) {
			cidr_format(buf, &cfg->addresses[i]);
			log_err("cannot add address %s to %s: %s", buf, ifname, strerror(-r));
			return r;
		}
	}
	if (cfg->link_unmanaged)
		return 0;
	r = nl_link_set_up(ifindex, 1);
	if (r < 0) {
		log_err("cannot bring %s up: %s", ifname, strerror(-r));
		return r;
	}
	set_forwarding(ifname, cfg->forward);
	if (cfg->table == TABLE_OFF)
		return 0;
	r = add_routes(rs, ifindex, cfg);
	if (r < 0 || !rs->table)
		return r;
	r = add_rules(rs);
	if (r == 0 && rs->full[0])
		warn_strict_rp_filter(rs, ifindex, cfg);
	return r;
}

void route_teardown(struct route_state *rs)
{
	for (int i = 0; i < 2; i++) {
		struct nl_rule table = rule_table(families[i], rs->table);
		struct nl_rule suppress = rule_suppress(families[i], rs->table);
		int r;

		if (!rs->rules[i])
			continue;
		/* The rule into the tunnel's table first: alone, the
		 * suppressing one changes nothing. */
		if ((r = rule_purge(&table)) < 0 || (r = rule_purge(&suppress)) < 0)
			log_warn(
				"cannot remove the %s rules of table %u: %s; remove them with "
				"`ip %s rule del table %u` and `ip %s rule del fwmark 0x%x table main`",
				family_names[i], rs->table, strerror(-r), i ? "-6" : "-4", rs->table, i ? "-6" : "-4",
				rs->table);
		rs->rules[i] = false;
	}
}

/* The MTU a packet towards `to` leaves with: its route's own, else its
 * device's. 0 when unknown. */
static uint32_t path_mtu(const struct nl_route *r)
{
	struct ifreq ifr;
	uint32_t mtu = 0;

	if (r->mtu)
		return r->mtu;
	memset(&ifr, 0, sizeof(ifr));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (r->oif > 0 && if_indextoname((unsigned)r->oif, ifr.ifr_name) && ioctl(fd, SIOCGIFMTU, &ifr) == 0 &&
	    ifr.ifr_mtu > 0)
		mtu = (uint32_t)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static int default_route_cb(const struct nl_route *r, void *arg)
{
	struct nl_route *out = arg;

	if (r->dst.prefix != 0 || r->type != RTN_UNICAST)
		return 0;
	*out = *r;
	return 1;
}

uint32_t route_auto_mtu(const struct interface_config *cfg, uint32_t fwmark)
{
	uint32_t best = 0;
	struct nl_route r;
	char addr[INET6_ADDRSTRLEN] = "";
	const char *via = "no endpoint and no default route";

	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct endpoint ep;
		struct cidr to;
		memset(&to, 0, sizeof(to));
		/* ::ffff:a.b.c.d is looked up as a.b.c.d */
		endpoint_from_sockaddr(&ep, &cfg->peers[i].endpoint.addr.sa);
		if (ep.addr.sa.sa_family == AF_INET) {
			to.family = AF_INET;
			to.addr.v4 = ep.addr.in4.sin_addr;
		} else if (ep.addr.sa.sa_family == AF_INET6) {
			to.family = AF_INET6;
			to.addr.v6 = ep.addr.in6.sin6_addr;
		} else {
			continue;
		}
		to.prefix = to.family == AF_INET ? 32 : 128;
		if (nl_route_get(&to, fwmark, &r) < 0)
			continue;
		uint32_t mtu = path_mtu(&r);
		/* wg-quick takes the largest: one far peer behind a small
		 * link does not shrink the tunnel for all the others. */
		if (mtu > best) {
			best = mtu;
			inet_ntop(to.family, to.addr.bytes, addr, sizeof(addr));
			via = "the route to the endpoint";
		}
	}
	if (!best && nl_route_dump(AF_INET, RT_TABLE_MAIN, default_route_cb, &r) == 1) {
		best = path_mtu(&r);
		via = "the default route";
	}
	if (!best || best < ROUTE_MTU_OVERHEAD + CONFIG_MTU_MIN) {
		log_info("MTU %u: the default (%s says nothing)", DEFAULT_MTU, via);
		return DEFAULT_MTU;
	}
	/* Never more than the default: the packet buffers are sized for the
	 * MTU at start, and a loopback route (64 KiB) would make them huge.
	 * A jumbo-frame underlay takes MTU = in the file. */
	if (best - ROUTE_MTU_OVERHEAD > DEFAULT_MTU) {
		log_debug("MTU %u: %s%s%s has MTU %u, more than the default needs", DEFAULT_MTU, via,
			  addr[0] ? " " : "", addr, best);
		return DEFAULT_MTU;
	}
	log_info("MTU %u: %s%s%s has MTU %u, less %u for the outer headers", best - ROUTE_MTU_OVERHEAD, via,
		 addr[0] ? " " : "", addr, best, ROUTE_MTU_OVERHEAD);
	return best - ROUTE_MTU_OVERHEAD;
}
