/* SPDX-License-Identifier: MIT */
/*
 * A running interface made to match a whole configuration without dropping
 * its sessions: `sluice syncconf` (a set=2 request on the control socket)
 * and SIGHUP (the file the daemon was started from, read again). What the
 * device set up from its configuration beyond the engine is kept here, so
 * that a sync changes only what differs: the addresses and routes it added,
 * and the file.
 */
#ifndef SLUICE_DEVICE_SYNC_H
#define SLUICE_DEVICE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sbuf.h"

struct device;

struct device_setup {
	char *path;            /* the file SIGHUP reads again, or NULL */
	bool link_managed;     /* addresses, MTU and routes are ours (not wg-quick's) */
	enum table_mode table; /* where routes go: fixed until a restart */
	uint32_t table_id;
	bool reply_ping;
	struct cidr *addresses; /* the interface's addresses we added */
	size_t n_addresses;
	struct cidr *routes; /* the routes we added, sorted, each once */
	size_t n_routes;
};

/* Records what device_up set up from cfg. 0 or -ENOMEM. */
int device_setup_init(struct device *d, const struct interface_config *cfg);
void device_setup_free(struct device_setup *s);

/* Makes the interface cfg (a whole configuration, as a file gives it):
 * the port and transports listened on (ListenPort absent or 0: the port in
 * use stays), FwMark (absent: it stays, as with wg syncconf), the peers (device_sync_config: the sessions of peers
 * that stay are kept; the TCP peers dialed follow their tcp:// endpoints),
 * and where the daemon set up the link itself, its addresses, MTU (up to
 * what the buffers made at start carry) and the routes of AllowedIPs.
 * What only a restart changes (Table; a larger MTU) is logged and left.
 * A port that cannot be had fails it before anything changed. Logs what it
 * did. 0 or -errno. */
int device_sync(struct device *d, const struct interface_config *cfg);
/* SIGHUP: reads the file again and syncs to it; logs what went wrong (the
 * interface then stays as it was). */
void device_reload(struct device *d);

/* The control socket's operations for set=2 and get=2 (uapi_ops). */
int device_uapi_sync(void *ctx, const struct interface_config *cfg);
int device_uapi_get_extended(void *ctx, struct sbuf *out);

#endif
