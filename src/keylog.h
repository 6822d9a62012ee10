/* SPDX-License-Identifier: MIT */
/*
 * Wireshark's WireGuard key log (its preference wg.keylog_file), for
 * debugging only: with SLUICE_KEYLOG=FILE set, the secrets of every
 * handshake message we make are appended to FILE, one block of
 * "TYPE = base64" lines each. Whoever reads FILE can decrypt the traffic.
 */
#ifndef SLUICE_KEYLOG_H
#define SLUICE_KEYLOG_H

#include <stdint.h>

#include "encoding.h"

/* Opens the file SLUICE_KEYLOG names, for appending, and warns loudly that
 * it is on. Returns 0 with *fd = -1 when SLUICE_KEYLOG is unset or empty,
 * 0 with *fd open, or -errno after logging why (a symbolic link, a file
 * someone else owns or may read: *fd = -1). */
int keylog_open(int *fd);
/* Appends the block of one handshake message; nothing when fd < 0. Write
 * errors are logged. */
void keylog_write(int fd, const uint8_t local_static_private[KEY_LEN], const uint8_t remote_static_public[KEY_LEN],
		  const uint8_t local_ephemeral_private[KEY_LEN], const uint8_t preshared_key[KEY_LEN]);

#endif
