// SPDX-License-Identifier: MIT
#include "device_config.h"

#include <errno.h>

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
