// SPDX-License-Identifier: MIT
/*
 * The body of a UAPI set request on any bytes, as set=1 (wg's) and as set=2
 * (sluice's whole configuration). Checks, beyond "no crash, no leak": a
 * rejected request leaves cfg empty, an accepted one holds only masked
 * prefixes of a valid length, the result is one of the errnos the header
 * promises, the incremental parser fed the same bytes in pieces gives the
 * same result, and an accepted set=2 written again (uapi_format_sync)
 * parses back to the same configuration. The same bytes as a get reply
 * (uapi_parse_get, `sluice showconf`) leave nothing behind on error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "uapi.h"
#include "uapi_get.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As uapi_parse_set, in pieces of `piece` bytes. */
static int parse_in_pieces(struct interface_config *cfg, const char *text, size_t len, size_t piece, bool extended)
{
	struct uapi_set_parser p;
	size_t pos = 0;

	uapi_set_parser_init_ext(&p, extended);
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
		    (x->n_allowed_ips &&
		     memcmp(x->allowed_ips, y->allowed_ips, x->n_allowed_ips * sizeof(*x->allowed_ips))))
			return false;
	}
	return true;
}

/* One way of reading the bytes: whole, in pieces, checked. */
static void check_set(const uint8_t *data, size_t size, bool extended)
{
	struct interface_config cfg, pieces;
	int e = uapi_parse_set_ext(&cfg, (const char *)data, size, extended);
	int e2 = parse_in_pieces(&pieces, (const char *)data, size, 1 + size % 11, extended);

	if (e != e2 || !same_config(&cfg, &pieces) || !config_equal(&cfg, &pieces))
		abort();
	config_free(&pieces);

	if (e != 0 && e != EINVAL && e != EPROTO && e != ENOMEM)
		abort();
	if (e) {
		if (cfg.peers || cfg.n_peers || cfg.has_private_key || cfg.addresses)
			abort();
		return;
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
	if (extended) {
		struct interface_config again;
		struct sbuf text;
		sbuf_init(&text, 0);
		if (uapi_format_sync(&text, &cfg) ||
		    uapi_parse_set_ext(&again, sbuf_ptr(&text), sbuf_len(&text), true) || !config_equal(&cfg, &again))
			abort();
		config_free(&again);
		sbuf_free(&text);
	}
	config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interface_config cfg;
	int e;

	check_set(data, size, false);
	check_set(data, size, true);
	e = uapi_parse_get(&cfg, (const char *)data, size);
	if (e != 0 && e != -EPROTO && e != -ENOMEM)
		abort();
	if (e && (cfg.peers || cfg.n_peers || cfg.addresses || cfg.has_private_key))
		abort();
	config_free(&cfg);
	return 0;
}
