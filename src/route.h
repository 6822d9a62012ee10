/* SPDX-License-Identifier: MIT */
/*
 * An interface's place in the host's routing, set up over rtnetlink when it
 * comes up: its MTU, addresses and link state, a route per AllowedIPs
 * prefix, and for a full tunnel (a /0 in AllowedIPs, Table = auto) the
 * policy routing wg-quick sets up, per family that has a /0:
 *
 *   the /0 goes to a table T of its own, never to main, so it collides
 *   with no default route the host has;
 *   32764  not fwmark T lookup main suppress_prefixlength 0
 *          main's more specific routes (the LAN's, the way to the peer) win;
 *          its default route is passed over;
 *   32765  not fwmark T lookup T
 *          everything else enters the tunnel;
 *   and the tunnel's own sockets carry fwmark T, so neither rule takes
 *   their packets: they follow main's default route out of the physical
 *   interface instead of looping into the tunnel.
 *
 * wg-quick's suppress rule has no "not fwmark T": with it, each interface's
 * pair of rules is its own, found and removed by T alone, and what it does
 * is the same (a packet marked T skips both rules and reaches main anyway).
 *
 * The rules are removed when the daemon exits (the routes go with the
 * interface); rules left by a daemon killed before it could are replaced
 * at the next set-up, never added twice.
 */
#ifndef SLUICE_ROUTE_H
#define SLUICE_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* wg-quick's first choice of table, and of fwmark when none is set. */
#define ROUTE_TABLE_FIRST 51820
/* The priorities the kernel gives wg-quick's two rules on a host with the
 * default rules only (local 0, main 32766, default 32767). */
#define ROUTE_PRIO_SUPPRESS 32764
#define ROUTE_PRIO_TABLE 32765

struct route_state {
	uint32_t table; /* the full tunnel's table, equal to its fwmark; 0: none */
	bool full[2];   /* [0] IPv4, [1] IPv6: a /0 of that family enters the tunnel */
	bool rules[2];  /* that family's rules are in place, to remove at exit */
};

/* Decides, before the sockets are made, whether cfg is a full tunnel: a /0
 * in some peer's AllowedIPs, Table = auto and a link sluice manages. If so
 * the table is the fwmark when one is set (*fwmark), else the first from
 * 51820 up with no route in it, and *fwmark becomes that table, as with
 * wg-quick: the sockets must carry it. Returns 0 or -errno after logging. */
int route_plan(struct route_state *rs, const struct interface_config *cfg, uint32_t *fwmark);

/* MTU, addresses, link up, a route per AllowedIPs prefix and the full
 * tunnel's rules. A prefix another route holds already is added anyway where
 * the kernel lets it, and a warning names that route: traffic to it will not
 * enter the tunnel. Returns 0 or -errno after logging; route_teardown undoes
 * what was done. */
int route_setup(struct route_state *rs, int ifindex, const char *ifname, uint32_t mtu,
		const struct interface_config *cfg);

/* What wg-quick takes off the underlay's MTU for the tunnel's: an IPv6
 * header (40), UDP (8) and WireGuard's data header and tag (32). */
#define ROUTE_MTU_OVERHEAD 80

/* MTU unset, as wg-quick chooses it: the largest MTU of the routes (their
 * own, else their device's) towards the peers' endpoints, looked up with
 * the sockets' fwmark; with no endpoint, the IPv4 default route's; less
 * ROUTE_MTU_OVERHEAD; DEFAULT_MTU (1420) when nothing says, and at most
 * that (the packet buffers are sized by the MTU at start: a jumbo-frame
 * underlay wants MTU = in the file). Logs why. */
uint32_t route_auto_mtu(const struct interface_config *cfg, uint32_t fwmark);

/* Removes the full tunnel's rules (the routes go with the interface). Safe
 * to call after a failed or no set-up, and twice. */
void route_teardown(struct route_state *rs);

#endif
