/* SPDX-License-Identifier: MIT */
/*
 * A transport data message made in place around a packet: the engine's
 * (core.c) and the bare forwarder's of make bench (tests/tools/fwdbare.c).
 * Pure: no I/O, no allocation.
 */
#ifndef SLUICE_DATAMSG_H
#define SLUICE_DATAMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "messages.h"
#include "pool.h"

/* What a buffer must hold for a tunnelled packet of mtu bytes (never less
 * than an Ethernet-sized one's) with `extra` bytes beside it: the data
 * message that carries it, as a peer with that MTU sends it. */
static inline size_t datamsg_room(uint32_t mtu, size_t extra)
{
	return (mtu > 1500 ? mtu : 1500) + extra + MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN;
}

/* Seals the len bytes at k->data in place into a data message: zero padding
 * to a multiple of MESSAGE_PADDING_MULTIPLE but not past limit (the MTU; a
 * longer packet stays unpadded), the header in front (type, the suite of
 * aead, mode, receiver_index as given, the counter), the tag behind; k then
 * holds the message. *counter is taken and incremented once the buffer is
 * known to have room. False, and k left as it was or half sealed, when it
 * has none or the AEAD failed. */
bool datamsg_seal(struct crypto_aead_ctx *aead, struct pkt *k, uint32_t limit, uint8_t mode, uint32_t receiver_index,
		  uint64_t *counter);

#endif
