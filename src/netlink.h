/* SPDX-License-Identifier: MIT */
/*
 * Interface set-up over rtnetlink (libmnl): addresses, MTU, link state,
 * routes, policy routing rules, and route lookups and dumps to see what is
 * there already. Never runs `ip`. Every function returns 0 or -errno.
 */
#ifndef SLUICE_NETLINK_H
#define SLUICE_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

int nl_link_set_mtu(int ifindex, uint32_t mtu);
int nl_link_set_up(int ifindex, int up);
/* Makes the link a port of the bridge (or bond) named master: -ENODEV when
 * there is none. */
int nl_link_set_master_name(int ifindex, const char *master);
/* Deletes the link by name (used by `down` and on exit). */
int nl_link_delete(const char *ifname);
/* The same by index, in this process's network namespace. */
int nl_link_delete_index(int ifindex);
/* Adds an address (the prefix is the on-link subnet). -EEXIST is returned as 0. */
int nl_addr_add(int ifindex, const struct cidr *addr);
/* Removes it. An address that is not there (-EADDRNOTAVAIL) is returned as 0. */
int nl_addr_del(int ifindex, const struct cidr *addr);
/* Adds a route to the prefix through the interface in `table` (0 = main).
 * It never replaces one: -EEXIST when the table has a route to the same
 * prefix with the same metric already (another interface's, or the on-link
 * route of one of this interface's addresses); nl_route_dump names it. */
int nl_route_add(int ifindex, const struct cidr *dst, uint32_t table);
int nl_route_del(int ifindex, const struct cidr *dst, uint32_t table);

/* A route as the kernel reports it. */
struct nl_route {
	struct cidr dst; /* the prefix it covers */
	uint32_t table;
	uint32_t metric;
	int oif;          /* the interface it leaves by; 0: none (blackhole,
	                       * unreachable) or a next-hop object's */
	uint8_t type;     /* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t protocol; /* RTPROT_KERNEL, RTPROT_STATIC, ... */
	uint32_t mtu;     /* the route's own MTU (RTAX_MTU), 0: none, the device's */
	bool has_gateway;
	struct cidr gateway; /* an address, prefix full; IPv6 under an IPv4
	                       * route through an IPv6 neighbour */
};

/* The route the kernel takes for a packet to addr->addr (the prefix is not
 * used) that carries `mark` (0: none), through the policy rules: what
 * `ip route get ADDR mark MARK fibmatch` shows. -ENETUNREACH where none. */
int nl_route_get(const struct cidr *addr, uint32_t mark, struct nl_route *out);
/* Calls fn with each route of the family in `table` (0: every table) until
 * fn returns nonzero, which is then returned; else 0 or -errno. A table
 * that does not exist is empty. */
typedef int (*nl_route_fn)(const struct nl_route *r, void *arg);
int nl_route_dump(int family, uint32_t table, nl_route_fn fn, void *arg);

/* A policy routing rule that sends packets to a table, as `ip rule`'s
 * "[not] fwmark M lookup T [suppress_prefixlength N] priority P". */
struct nl_rule {
	int family;        /* AF_INET or AF_INET6 */
	uint32_t table;    /* RT_TABLE_MAIN or any other but 0 */
	uint32_t priority; /* 0: the kernel picks (add), any (delete) */
	uint32_t fwmark;   /* 0: no mark selector, every packet */
	bool invert;       /* "not": the packets the selector misses */
	bool has_suppress_prefixlen;
	uint8_t suppress_prefixlen; /* a route this short or shorter found by
	                               * the rule is ignored: the lookup goes on */
};

/* Adds the rule; -EEXIST if one the same is there (the kernel leaves
 * `invert` out of that comparison). */
int nl_rule_add(const struct nl_rule *rule);
/* Deletes the first rule with the same table and, where given, the same
 * priority, fwmark and suppress_prefixlen; -ENOENT when none is left.
 * `invert` is not part of the match. */
int nl_rule_del(const struct nl_rule *rule);

#endif
