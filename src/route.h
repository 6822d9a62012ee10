/* SPDX-License-Identifier: MIT */
/*
 * An interface's place in the host's routing, set up over rtnetlink when it
 * comes up: its MTU, addresses and link state, and a route per AllowedIPs
 * prefix.
 */
#ifndef SLUICE_ROUTE_H
#define SLUICE_ROUTE_H

#include <stdint.h>

#include "config.h"

/* MTU, addresses, link up, a route per AllowedIPs prefix. A prefix another
 * route holds already is added anyway where the kernel lets it, and a
 * warning names that route: traffic to it will not enter the tunnel.
 * Returns 0 or -errno after logging. */
int route_setup(int ifindex, const char *ifname, uint32_t mtu, const struct interface_config *cfg);

#endif
