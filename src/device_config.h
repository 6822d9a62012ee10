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

#endif
