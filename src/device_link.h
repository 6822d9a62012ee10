/* SPDX-License-Identifier: MIT */
/*
 * A device's interface as the kernel tells of it: its MTU followed as the
 * administrator sets it (from the link watch's announcements, or asked
 * once a second where there is no watch), a move to another network
 * namespace said, a deletion stopping the daemon. device.c opens the watch
 * and owns the loop that calls these.
 */
#ifndef SLUICE_DEVICE_LINK_H
#define SLUICE_DEVICE_LINK_H

#include "device.h"
#include "tun.h"

/* The MTU asked with SIOCGIFMTU, applied if it changed; how says why. */
void device_follow_mtu(struct device *d, const char *how);
/* Where the TUN is now; a deleted one sets d->stop. */
enum tun_state device_check_tun(struct device *d);
/* The link watch's socket is readable. */
void device_read_link(struct device *d);
/* The watch closed (the MTU is polled from then on). */
void device_link_close(struct device *d);

#endif
