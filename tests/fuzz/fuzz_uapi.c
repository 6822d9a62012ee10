// SPDX-License-Identifier: MIT
/*
 * The body of a UAPI set request on any bytes. Checks, beyond "no crash,
 * no leak": a rejected request leaves cfg empty, an accepted one holds only
 * masked prefixes of a valid length, the result is one of the errnos the
 * header promises, and the incremental parser fed the same bytes in pieces
 * gives the same result.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As uapi_parse_set, in pieces of `piece` bytes. */
static int parse_in_pieces(struct interface_config *cfg, const char *text, size_t len, size_t piece)
{
	struct uapi_set_parser p;
	size_t pos = 0;

	uapi_set_parser_init(&p);
	while (pos < len && !p.done) {
		size_t n = len - pos < piece ? len - pos : piece;
		pos += uapi_set_parser_feed(&p, text + pos, n);
	}
	if (p.done && pos < len && !p.error)
		p.error = EPROTO;
	if (p.pending)
		uapi_set_parser_feed(&p, "\n", 1);
	return uapi_set_parser_finish(&p, cfg);
}

static bool same_config(const struct interface_config *a, const struct interface_config *b)
{
	if (a->n_peers != b->n_peers || a->has_private_key != b->has_private_key ||
	    memcmp(a->private_key, b->private_key, 32) || a->listen_port != b->listen_port || a->fwmark != b->fwmark)
		return false;
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct peer_config *x = &a->peers[i], *y = &b->peers[i];
		if (memcmp(x->public_key, y->public_key, 32) || x->n_allowed_ips != y->n_allowed_ips ||
		    x->line != y->line || x->remove != y->remove ||
		    (x->n_allowed_ips && memcmp(x->allowed_ips, y->allowed_ips, x->n_allowed_ips * sizeof(*x->allowed_ips))))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interface_config cfg, pieces;
	int e = uapi_parse_set(&cfg, (const char *)data, size);
	int e2 = parse_in_pieces(&pieces, (const char *)data, size, 1 + size % 11);

	if (e != e2 || !same_config(&cfg, &pieces))
		abort();
	config_free(&pieces);

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
