/* SPDX-License-Identifier: MIT */
/*
 * A parsed configuration, from a file or a UAPI set request, applied to the
 * engine through its calls alone: the device layer is where the config
 * parser's types meet the engine, which never sees them.
 */
#ifndef SLUICE_DEVICE_CONFIG_H
#define SLUICE_DEVICE_CONFIG_H

#include <stdint.h>

#include "config.h"
#include "core.h"

/* Everything but what the device owns at the interface level (port,
 * fwmark, addresses, MTU): the private key, then peers added, updated or
 * removed in order. A peer with our own public key is ignored, as in
 * WireGuard. Returns 0 or a negative errno (-ENOMEM; -EINVAL for a bad
 * allowed IP); the peers before the failing one stay applied. */
int device_apply_config(struct core *c, const struct interface_config *cfg, uint64_t now);

/* What device_sync_config did. */
struct device_sync_counts {
	size_t added, removed, kept;
};

/* Makes the engine's peers those of cfg, a whole configuration (a file, or
 * a set=2 request), keeping what need not go: the private key is set (every
 * session goes only if it changed); a peer cfg does not list is removed,
 * after removing(ctx, its key) when given; a peer it lists is added, or
 * updated in place with its keypairs and handshake state kept. A peer's
 * preshared key, cipher, keepalive and allowed IPs become cfg's, what cfg
 * leaves out at its default (none, chacha20-poly1305, off, none); its
 * endpoint becomes cfg's when cfg gives one that differs (else it stays,
 * learned from the peer); another cipher voids its sessions, as it must.
 * 0 or a negative errno (-ENOMEM, -EINVAL), the peers before the failing
 * one synced. counts may be NULL. */
int device_sync_config(struct core *c, const struct interface_config *cfg, uint64_t now,
		       void (*removing)(void *ctx, const uint8_t public_key[KEY_LEN]), void *ctx,
		       struct device_sync_counts *counts);

#endif
