// SPDX-License-Identifier: MIT
/*
 * The body of a UAPI set request on any bytes. Checks, beyond "no crash,
 * no leak": a rejected request leaves cfg empty, an accepted one holds only
 * masked prefixes of a valid length, and the result is one of the errnos the
 * header promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interface_config cfg;
	int e = uapi_parse_set(&cfg, (const char *)data, size);

	if (e != 0 && e != EINVAL && e != EPROTO && e != ENOMEM)
		abort();
	if (e) {
		if (cfg.peers || cfg.n_peers || cfg.has_private_key)
			abort();
		return 0;
	}
	for (size_t i = 0; i < cfg.n_peers; i++) {
		for (size_t j = 0; j < cfg.peers[i].n_allowed_ips; j++) {
			struct cidr c = cfg.peers[i].allowed_ips[j];
			if (c.prefix > (c.family == AF_INET ? 32 : 128))
				abort();
			cidr_mask(&c);
			if (memcmp(&c, &cfg.peers[i].allowed_ips[j], sizeof(c)))
				abort();
		}
	}
	config_free(&cfg);
	return 0;
}
