/* SPDX-License-Identifier: MIT */
/*
 * Interface set-up over rtnetlink (libmnl): addresses, MTU, link state,
 * routes. Never runs `ip`. Every function returns 0 or -errno.
 */
#ifndef SLUICE_NETLINK_H
#define SLUICE_NETLINK_H

#include <stdint.h>

#include "netaddr.h"

int nl_link_set_mtu(int ifindex, uint32_t mtu);
int nl_link_set_up(int ifindex, int up);
/* Deletes the link by name (used by `down` and on exit). */
int nl_link_delete(const char *ifname);
/* The same by index, in this process's network namespace. */
int nl_link_delete_index(int ifindex);
/* Adds an address (the prefix is the on-link subnet). -EEXIST is returned as 0. */
int nl_addr_add(int ifindex, const struct cidr *addr);
/* Removes it. An address that is not there (-EADDRNOTAVAIL) is returned as 0. */
int nl_addr_del(int ifindex, const struct cidr *addr);
/* Adds a route to the prefix through the interface in `table` (0 = main).
 * -EEXIST is returned as 0. */
int nl_route_add(int ifindex, const struct cidr *dst, uint32_t table);
int nl_route_del(int ifindex, const struct cidr *dst, uint32_t table);

#endif
