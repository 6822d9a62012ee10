/* SPDX-License-Identifier: MIT */
/*
 * One interface: owns the tun, the UDP socket, the TCP transport, the
 * control socket and the protocol core, and runs the event loop (epoll over
 * tagged descriptors, timeout from the core's and the transport's deadlines).
 */
#ifndef SLUICE_DEVICE_H
#define SLUICE_DEVICE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "core.h"
#include "device_resolve.h"
#include "device_state.h"
#include "device_sync.h"
#include "route.h"
#include "tcp.h"
#include "tun.h"
#include "uapi_server.h"
#include "udp.h"

struct device {
	char ifname[IFNAMSIZ];
	int ifindex;
	int tun_fd, udp_fd, uapi_fd, signal_fd, epoll_fd;
	int link_fd;                 /* the link watch (linkwatch.h), or -1: the MTU is polled */
	struct uapi_server uapi;     /* the control connections, on uapi_fd */
	unsigned transports;         /* TRANSPORT_* bits listened on (udp_fd is -1 without UDP) */
	struct udp_offloads udp_off; /* GSO/GRO on udp_fd */
	uint16_t listen_port;        /* bound port (UDP and TCP alike) */
	uint16_t wanted_port;        /* configured port, 0 = random */
	uint32_t fwmark;
	uint32_t mtu;
	uint32_t mtu_auto;        /* chosen at start for a file without MTU (route_auto_mtu), 0: none */
	bool ethernet;            /* Mode = tap: a TAP, frames (fixed until a restart) */
	char bridge[IFNAMSIZ];    /* the bridge `up` enslaved it to, or "" */
	struct route_state route; /* a full tunnel's table and rules (route.c) */
	struct core core;
	struct tcp tcp;
	volatile bool stop;
	uint64_t last_liveness_check;
	unsigned tun_where; /* enum tun_state at the last check */
	/* The control socket's file (lstat), to notice it removed or replaced. */
	unsigned long long uapi_file_dev, uapi_file_ino;
	uint64_t tun_write_errors;
	/* With IFF_VNET_HDR (the default where the kernel takes the offloads;
	 * SLUICE_NO_TUN_OFFLOAD=1 turns it off): super-packets split on read,
	 * writes coalesced. NULL on a plain TUN. */
	struct tun_vnet *vnet;
	int keylog_fd;                 /* SLUICE_KEYLOG, or -1 */
	struct device_setup setup;     /* what a reload compares against (device_sync.h) */
	struct device_resolve resolve; /* endpoints given by name (device_resolve.h) */
	struct device_state state;     /* what a restart must not forget (device_state.h) */
};

/* Creates the interface named ifname from cfg: tun, addresses, MTU, link up,
 * routes and a full tunnel's rules (route.c), socket, control socket (with
 * cfg->link_unmanaged: tun with the default MTU, left down, socket, control
 * socket). An empty cfg is fine: no key means no handshakes until one is
 * set over the UAPI. Returns 0, or -errno after logging why (everything
 * made so far is undone). */
int device_up(struct device *d, const char *ifname, const struct interface_config *cfg);
/* Runs until SIGINT/SIGTERM, until the tun disappears, or until the control
 * socket's file is removed or replaced (as wireguard-go). */
int device_run(struct device *d);
/* Removes a full tunnel's rules, the interface and the control socket,
 * wipes every secret. */
void device_down(struct device *d);

/* For device_sync.c: listens on port (0: any one every transport can have)
 * with the transports given, keeping a socket already on that port and
 * closing the ones of transports no longer wanted; on failure (logged)
 * nothing changes. 0 or -errno. */
int device_listen(struct device *d, uint16_t port, unsigned transports);
void device_set_fwmark(struct device *d, uint32_t fwmark);

/* Records cfg's endpoints given by name, to resolve again when their
 * handshakes go unanswered (device_resolve.h). 0 or -errno. */
int device_names_set(struct device *d, const struct interface_config *cfg);
/* A peer's endpoint, resolved again, changed: the peer (and its TCP dialer)
 * goes there, and a handshake starts. */
void device_endpoint_moved(struct device *d, struct peer *p, enum transport transport, const struct endpoint *ep,
			   uint64_t now);

/* Monotonic ns (CLOCK_BOOTTIME, so timers count time asleep, as WireGuard's). */
uint64_t device_now(void);

#endif
