/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the state kept across restarts (statefile.h): loaded
 * at start, handed to each peer as it appears (at start, or later over the
 * control socket, as wg-quick does), saved when a handshake is accepted or
 * an endpoint changes (at most once a second) and on a clean shutdown.
 */
#ifndef SLUICE_DEVICE_STATE_H
#define SLUICE_DEVICE_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "statefile.h"

#define DEVICE_STATE_SAVE_INTERVAL_NS NS_PER_SEC

struct device;

struct device_state {
	int dir_fd;                   /* -1: SaveState = false, or the directory could not be made */
	struct state_records records; /* sorted; peers removed since included */
	uint64_t saved_generation;    /* core_state_generation at the last save */
	uint64_t saved_at;            /* ns, 0 = never */
	bool save_failed;             /* said once, until a save works again */
	char path[4200];              /* the file, for messages */
};

/* Opens ifname's state directory and reads its file; a file that cannot be
 * read or parsed is logged (file, line, what) and the daemon starts without
 * it. Never fails: without state the daemon works as WireGuard does. */
void device_state_open(struct device_state *s, const char *ifname, bool enabled);
/* Hands the saved state to the peers that have not had it yet (and raises
 * the replay floor of every peer that has a record). Call after peers may
 * have been added. */
void device_state_restore(struct device *d, uint64_t now);
/* Saves if something changed and the last save is DEVICE_STATE_SAVE_INTERVAL_NS ago. */
void device_state_tick(struct device *d, uint64_t now);
/* When device_state_tick next has work; UINT64_MAX for none. */
uint64_t device_state_deadline(const struct device *d);
/* The directory becomes the user's (User =), before the daemon becomes it. */
int device_state_chown(struct device_state *s, uid_t uid, gid_t gid);
/* Saves what changed since the last save, and closes. */
void device_state_close(struct device *d);

#endif
