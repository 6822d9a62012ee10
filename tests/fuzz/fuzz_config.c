// SPDX-License-Identifier: MIT
/*
 * The wg-quick parser on any bytes. Beyond "no crash, no leak", it checks
 * what callers rely on: a failed parse leaves cfg empty and says where, a
 * successful one has a private key, and no message repeats a key's text
 * (the only base64 key a message may hold is the public one of a
 * duplicate [Peer]), and config_format writes what parses back to the same
 * configuration.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_key_like_run(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		char c = *s;
		bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			   c == '/' || c == '=';
		run = b64 ? run + 1 : 0;
		if (run >= 40)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interface_config cfg;
	char err[512];

	if (config_parse(&cfg, "fuzz.conf", (const char *)data, size, err, sizeof(err))) {
		if (!cfg.has_private_key)
			abort();
		for (size_t i = 0; i < cfg.n_peers; i++)
			for (size_t j = 0; j < cfg.peers[i].n_allowed_ips; j++)
				if (cfg.peers[i].allowed_ips[j].prefix >
				    (cfg.peers[i].allowed_ips[j].family == AF_INET ? 32 : 128))
					abort();
		if (cfg.n_unsupported_keys > CONFIG_UNSUPPORTED_MAX)
			abort();
		struct interface_config again;
		struct sbuf text;
		sbuf_init(&text, 0);
		if (config_format(&text, &cfg) ||
		    !config_parse(&again, "formatted", sbuf_ptr(&text), sbuf_len(&text), err, sizeof(err)) ||
		    !config_equal(&cfg, &again))
			abort();
		config_free(&again);
		sbuf_free(&text);
		config_free(&cfg);
	} else {
		if (strncmp(err, "fuzz.conf", 9) || cfg.peers || cfg.addresses || cfg.has_private_key)
			abort();
		if (has_key_like_run(err) && !strstr(err, "duplicate [Peer]"))
			abort();
	}
	return 0;
}
