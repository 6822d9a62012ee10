// SPDX-License-Identifier: MIT
#include "device_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The peer's AllowedMACs become pc's. -EEXIST: one is another peer's. */
static int set_allowed_macs(struct core *c, struct peer *p, const struct peer_config *pc)
{
	core_peer_clear_allowed_macs(c, p);
	for (size_t j = 0; j < pc->n_allowed_macs; j++) {
		int r = core_peer_add_allowed_mac(c, p, pc->allowed_macs[j].addr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_peer(struct core *c, const struct peer_config *pc, uint64_t now)
{
	struct peer *p = core_peer_find(c, pc->public_key);

	if (pc->remove) {
		if (p)
			core_peer_remove(c, p);
		return 0;
	}
	if (!p) {
		if (pc->update_only || core_is_own_public_key(c, pc->public_key))
			return 0;
		p = core_peer_add(c, pc->public_key);
		if (!p)
			return -ENOMEM;
	}
	if (pc->has_preshared_key)
		core_peer_set_psk(c, p, pc->preshared_key);
	if (pc->has_suite)
		core_peer_set_suite(c, p, pc->suite);
	if (pc->endpoint.addr.sa.sa_family != AF_UNSPEC)
		core_peer_set_endpoint(c, p, &pc->endpoint);
	if (pc->replace_allowed_ips)
		core_peer_clear_allowed_ips(c, p);
	for (size_t j = 0; j < pc->n_allowed_ips; j++) {
		int r = core_peer_add_allowed_ip(c, p, &pc->allowed_ips[j]);
		if (r < 0)
			return r;
	}
	if (pc->n_allowed_macs) {
		int r = set_allowed_macs(c, p, pc);
		if (r < 0)
			return r;
	}
	if (pc->has_persistent_keepalive)
		core_peer_set_keepalive(c, p, pc->persistent_keepalive, now);
	return 0;
}

int device_apply_config(struct core *c, const struct interface_config *cfg, uint64_t now)
{
	if (cfg->has_private_key)
		core_set_private_key(c, cfg->private_key);
	if (cfg->replace_peers)
		core_peer_remove_all(c);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		int r = apply_peer(c, &cfg->peers[i], now);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether want names another place than the endpoint the peer has: the
 * sticky source the peer taught us is no part of a configuration. */
static bool endpoint_moved(const struct endpoint *have, const struct endpoint *want)
{
	struct endpoint w = *want;

	w.has_src = have->has_src;
	w.src_ifindex = have->src_ifindex;
	w.src = have->src;
	return !endpoint_equal(have, &w);
}

static int sync_peer(struct core *c, const struct peer_config *pc, uint64_t now, struct device_sync_counts *counts)
{
	struct peer *p = core_peer_find(c, pc->public_key);
	uint16_t keepalive = pc->has_persistent_keepalive ? pc->persistent_keepalive : 0;

	if (!p) {
		if (core_is_own_public_key(c, pc->public_key))
			return 0;
		p = core_peer_add(c, pc->public_key);
		if (!p)
			return -ENOMEM;
		counts->added++;
	} else {
		counts->kept++;
	}
	core_peer_set_psk(c, p, pc->has_preshared_key ? pc->preshared_key : NULL);
	core_peer_set_suite(c, p, pc->has_suite ? pc->suite : SUITE_CHACHAPOLY);
	if (pc->endpoint.addr.sa.sa_family != AF_UNSPEC && endpoint_moved(&p->endpoint, &pc->endpoint))
		core_peer_set_endpoint(c, p, &pc->endpoint);
	/* All of them again: the engine has no cheaper way to compare, and no
	 * packet passes in between. */
	core_peer_clear_allowed_ips(c, p);
	for (size_t j = 0; j < pc->n_allowed_ips; j++) {
		int r = core_peer_add_allowed_ip(c, p, &pc->allowed_ips[j]);
		if (r < 0)
			return r;
	}
	if (keepalive != p->persistent_keepalive)
		core_peer_set_keepalive(c, p, keepalive, now);
	return core_l2_table(c) ? set_allowed_macs(c, p, pc) : 0;
}

static int compare_key_pointers(const void *a, const void *b)
{
	/* Public keys are not secret: plain memcmp is fine. */
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, KEY_LEN);
}

int device_sync_config(struct core *c, const struct interface_config *cfg, uint64_t now,
		       void (*removing)(void *ctx, const uint8_t public_key[KEY_LEN]), void *ctx,
		       struct device_sync_counts *counts)
{
	struct device_sync_counts ignored;
	const uint8_t **listed;
	const struct peer *p, *next;

	if (!counts)
		counts = &ignored;
	memset(counts, 0, sizeof(*counts));
	if (cfg->has_private_key)
		core_set_private_key(c, cfg->private_key);
	/* The peers cfg lists, sorted, to find the ones it does not in
	 * O(n log n): a server may have ten thousand. */
	listed = malloc((cfg->n_peers ? cfg->n_peers : 1) * sizeof(*listed));
	if (!listed)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++)
		listed[i] = cfg->peers[i].public_key;
	qsort(listed, cfg->n_peers, sizeof(*listed), compare_key_pointers);
	for (p = core_peers_first(c); p; p = next) {
		const uint8_t *key = p->public_key;
		next = core_peers_next(p);
		if (bsearch(&key, listed, cfg->n_peers, sizeof(*listed), compare_key_pointers))
			continue;
		if (removing)
			removing(ctx, key);
		core_peer_remove(c, core_peer_find(c, key));
		counts->removed++;
	}
	free(listed);
	/* Every pin goes first: an address may move from one peer's
	 * AllowedMACs to another's in one reload. The peers left are all in
	 * cfg, and the read-only list is not for changing them. */
	for (size_t i = 0; core_l2_table(c) && i < cfg->n_peers; i++) {
		struct peer *q = core_peer_find(c, cfg->peers[i].public_key);
		if (q)
			core_peer_clear_allowed_macs(c, q);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		int r = sync_peer(c, &cfg->peers[i], now, counts);
		if (r < 0)
			return r;
	}
	return 0;
}
