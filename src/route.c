// SPDX-License-Identifier: MIT
#include "route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "log.h"
#include "netlink.h"

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
	log_warn("route %s%s %s%s: traffic to it will not enter the tunnel; remove that route, "
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

static int add_routes(int ifindex, const struct interface_config *cfg)
{
	uint32_t table = cfg->table == TABLE_ID ? cfg->table_id : RT_TABLE_MAIN;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			struct cidr dst = cfg->peers[i].allowed_ips[j];
			int r;

			cidr_mask(&dst);
			r = add_route(ifindex, &dst, table);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int route_setup(int ifindex, const char *ifname, uint32_t mtu, const struct interface_config *cfg)
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
	if (cfg->table == TABLE_OFF)
		return 0;
	return add_routes(ifindex, cfg);
}
