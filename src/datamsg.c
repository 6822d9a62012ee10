// SPDX-License-Identifier: MIT
/* A data message made in place (datamsg.h). */
#include "datamsg.h"

#include <endian.h>
#include <string.h>

#include "messages.h"

bool datamsg_seal(struct crypto_aead_ctx *aead, struct pkt *k, uint32_t limit, uint8_t mode, uint32_t receiver_index,
		  uint64_t *counter)
{
	uint32_t len = k->len;
	uint32_t padded = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(uint32_t)(MESSAGE_PADDING_MULTIPLE - 1);

	if (padded > limit)
		padded = len > limit ? len : limit;
	if (k->data - k->buf < MESSAGE_DATA_HEADER_LEN ||
	    (size_t)(k->data - k->buf) + padded + NOISE_AUTHTAG_LEN > k->cap)
		return false;
	memset(k->data + len, 0, padded - len);
	uint64_t n = (*counter)++;
	struct message_data *hdr = (struct message_data *)(k->data - MESSAGE_DATA_HEADER_LEN);
	memset(&hdr->header, 0, sizeof(hdr->header));
	hdr->header.type = MESSAGE_DATA;
	hdr->header.suite = aead->suite == SUITE_AESGCM ? MESSAGE_SUITE_AESGCM : MESSAGE_SUITE_CHACHAPOLY;
	hdr->header.mode = mode;
	hdr->key_idx = receiver_index; /* indices are opaque: sent as received */
	hdr->counter = htole64(n);
	if (!crypto_aead_ctx_seal(aead, hdr->encrypted_data, k->data, padded, n))
		return false;
	k->data = (uint8_t *)hdr;
	k->len = MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
	return true;
}
