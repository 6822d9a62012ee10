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

#include "config.h"
#include "core.h"
#include "sbuf.h"

/* get=1: the interface's keys (private_key in hex when there is one,
 * listen_port, fwmark when set), then each peer in the order added with its
 * keys, endpoint, handshake time, transfer, keepalive and allowed IPs (IPv4
 * then IPv6, ascending). Linear in peers and prefixes. 0 or -errno
 * (-ENOMEM, -EMSGSIZE from out). out then holds the private key: it wipes. */
int uapi_get_format(struct sbuf *out, const struct core *c, uint16_t listen_port, uint32_t fwmark);
/* What get=2 says of the interface beyond the engine: the daemon's. */
struct uapi_get_ext {
	unsigned transports; /* TRANSPORT_* bits listened on */
	bool reply_ping;
	/* The link as the daemon set it up (`sluice up`, `p2p`); false when
	 * addresses, MTU and routes are someone else's (`sluice IFACE`, set up
	 * by wg-quick), and the four below are not said. */
	bool link_managed;
	const struct cidr *addresses;
	size_t n_addresses;
	uint32_t mtu;
	enum table_mode table;
	uint32_t table_id;
	const char *bridge; /* TAP mode: the bridge `up` put it in, or "" */
	uint64_t now;       /* the engine's clock: learned MACs that aged are not listed */
	/* Optional: whether the daemon dials the peer with this key over TCP,
	 * and where (*target). */
	bool (*dial_target)(void *ctx, const uint8_t public_key[KEY_LEN], struct endpoint *target);
	void *ctx;
};

/* get=2 adds sluice's own keys (uapi.h): the interface's transports,
 * addresses, MTU, table and ReplyPing, drops by cause (sluice_drop_CAUSE),
 * the handshake queue (sluice_handshake_NAME: queued, under_load,
 * cookie_replies_sent), and for each peer (sluice_peer=KEY) its transport, cipher and the tcp://
 * endpoint dialed for it. 0 or -errno. */
int uapi_get_format_extended(struct sbuf *out, const struct core *c, const struct uapi_get_ext *x);

/* Reads a get reply's body (get=1 or get=2, without its errno line) back
 * into the configuration it describes, for `sluice showconf`: the keys a
 * file or a set request carries, and no counters. A peer whose transport is
 * a TCP connection it made to us (not dialed) gets no endpoint: its address
 * is the far end of that connection, nowhere to dial or send to. Unknown
 * keys are skipped (a newer daemon may say more). 0, -EPROTO for a
 * malformed line or value, or -ENOMEM; cfg is empty on error. */
int uapi_parse_get(struct interface_config *cfg, const char *body, size_t len);

#endif
