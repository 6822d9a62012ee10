/* SPDX-License-Identifier: MIT */
/*
 * The body of a get reply, written from the engine's state through its
 * read-only calls (core_peers_first/next, core_drops, core_peer_count) and
 * one walk of its allowed IPs: what the control socket answers to `wg show`,
 * `wg showconf` and `sluice show`.
 */
#ifndef SLUICE_UAPI_GET_H
#define SLUICE_UAPI_GET_H

#include <stdint.h>

#include "core.h"
#include "sbuf.h"

/* get=1: the interface's keys (private_key in hex when there is one,
 * listen_port, fwmark when set), then each peer in the order added with its
 * keys, endpoint, handshake time, transfer, keepalive and allowed IPs (IPv4
 * then IPv6, ascending). Linear in peers and prefixes. 0 or -errno
 * (-ENOMEM, -EMSGSIZE from out). out then holds the private key: it wipes. */
int uapi_get_format(struct sbuf *out, const struct core *c, uint16_t listen_port, uint32_t fwmark);
/* get=2 adds sluice's own keys: drops by cause (sluice_drop_CAUSE), the
 * handshake queue (sluice_handshake_NAME: queued, under_load,
 * cookie_replies_sent), and for each peer (sluice_peer=KEY) its transport
 * and cipher. 0 or -errno. */
int uapi_get_format_extended(struct sbuf *out, const struct core *c);

#endif
