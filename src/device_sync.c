// SPDX-License-Identifier: MIT
/*
 * A sync is `wg syncconf` done by the daemon itself, over what the daemon
 * owns besides the engine: its sockets, the TCP peers it dials, and the
 * link it set up (addresses, MTU, routes). Each is compared with what it
 * was made from and only what differs is touched, so a peer the file still
 * lists keeps its sessions and its traffic flows through the reload.
 */
#include "device_sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "device.h"
#include "device_config.h"
#include "log.h"
#include "messages.h"
#include "netlink.h"
#include "tun.h"
#include "uapi.h"
#include "uapi_get.h"

/* ---- sets of prefixes ---- */

static int compare_cidr(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->addr.bytes, y->addr.bytes, x->family == AF_INET ? 4 : 16);
	if (c)
		return c;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

/* The routes a configuration asks for: one per AllowedIPs prefix, sorted,
 * each once (two peers may list the same). *out is NULL when there are
 * none. 0 or -ENOMEM. */
/* A full tunnel's /0 lives in its own table with its rules (route.c), set
 * up at start: a reload leaves it to that, and syncs the other routes. */
static int routes_of(const struct interface_config *cfg, bool skip_default, struct cidr **out, size_t *n_out)
{
	size_t n = 0, k = 0;
	struct cidr *all;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < cfg->n_peers; i++)
		n += cfg->peers[i].n_allowed_ips;
	if (!n)
		return 0;
	all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			if (skip_default && cfg->peers[i].allowed_ips[j].prefix == 0)
				continue;
			all[k] = cfg->peers[i].allowed_ips[j];
			cidr_mask(&all[k++]);
		}
	}
	n = k;
	if (!n) {
		free(all);
		return 0;
	}
	qsort(all, n, sizeof(*all), compare_cidr);
	k = 1;
	for (size_t i = 1; i < n; i++)
		if (compare_cidr(&all[i], &all[k - 1]))
			all[k++] = all[i];
	*out = all;
	*n_out = k;
	return 0;
}

static bool cidr_in(const struct cidr *c, const struct cidr *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!compare_cidr(c, &list[i]))
			return true;
	return false;
}

static struct cidr *cidrs_copy(const struct cidr *list, size_t n)
{
	struct cidr *copy = calloc(n ? n : 1, sizeof(*copy));

	if (copy && n)
		memcpy(copy, list, n * sizeof(*copy));
	return copy;
}

/* ---- the record ---- */

static bool routes_wanted(const struct device_setup *s)
{
	return s->link_managed && s->table != TABLE_OFF;
}

static uint32_t route_table(const struct device_setup *s)
{
	return s->table == TABLE_ID ? s->table_id : 0;
}

int device_setup_init(struct device *d, const struct interface_config *cfg)
{
	struct device_setup *s = &d->setup;

	device_setup_free(s);
	s->link_managed = !cfg->link_unmanaged;
	s->table = cfg->table;
	s->table_id = cfg->table_id;
	s->reply_ping = cfg->reply_ping;
	if ((cfg->path && !(s->path = strdup(cfg->path))) ||
	    !(s->addresses = cidrs_copy(cfg->addresses, cfg->n_addresses)))
		goto nomem;
	s->n_addresses = cfg->n_addresses;
	if (routes_wanted(s) && routes_of(cfg, d->route.table != 0, &s->routes, &s->n_routes) < 0)
		goto nomem;
	return 0;
nomem:
	device_setup_free(s);
	log_err("cannot remember the configuration for reloads: %s", strerror(ENOMEM));
	return -ENOMEM;
}

void device_setup_free(struct device_setup *s)
{
	free(s->path);
	free(s->addresses);
	free(s->routes);
	memset(s, 0, sizeof(*s));
}

/* ---- the link ---- */

static void sync_routes(struct device *d, const struct interface_config *cfg)
{
	struct device_setup *s = &d->setup;
	char text[CIDR_STR_MAX];
	struct cidr *want;
	size_t n_want;
	int r;

	if (!routes_wanted(s))
		return;
	if (routes_of(cfg, d->route.table != 0, &want, &n_want) < 0) {
		log_err("cannot compute the routes of AllowedIPs: %s; routes left as they were", strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < s->n_routes; i++) {
		if (cidr_in(&s->routes[i], want, n_want))
			continue;
		cidr_format(text, &s->routes[i]);
		if ((r = nl_route_del(d->ifindex, &s->routes[i], route_table(s))) < 0)
			log_debug("route to %s: not removed: %s", text, strerror(-r));
		else
			log_info("route to %s removed", text);
	}
	for (size_t i = 0; i < n_want; i++) {
		if (cidr_in(&want[i], s->routes, s->n_routes))
			continue;
		cidr_format(text, &want[i]);
		if ((r = nl_route_add(d->ifindex, &want[i], route_table(s))) == -EEXIST)
			log_warn("route to %s already exists: traffic to it will not enter the tunnel", text);
		else if (r < 0)
			log_err("cannot add route to %s: %s", text, strerror(-r));
		else
			log_info("route to %s added", text);
	}
	free(s->routes);
	s->routes = want;
	s->n_routes = n_want;
}

static void sync_addresses(struct device *d, const struct interface_config *cfg)
{
	struct device_setup *s = &d->setup;
	char text[CIDR_STR_MAX];
	struct cidr *copy = cidrs_copy(cfg->addresses, cfg->n_addresses);
	int r;

	if (!copy) {
		log_err("cannot sync the addresses: %s", strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < s->n_addresses; i++) {
		if (cidr_in(&s->addresses[i], cfg->addresses, cfg->n_addresses))
			continue;
		cidr_format(text, &s->addresses[i]);
		if ((r = nl_addr_del(d->ifindex, &s->addresses[i])) < 0)
			log_err("cannot remove address %s from %s: %s", text, d->ifname, strerror(-r));
		else
			log_info("address %s removed from %s", text, d->ifname);
	}
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		if (cidr_in(&cfg->addresses[i], s->addresses, s->n_addresses))
			continue;
		cidr_format(text, &cfg->addresses[i]);
		if ((r = nl_addr_add(d->ifindex, &cfg->addresses[i])) < 0)
			log_err("cannot add address %s to %s: %s", text, d->ifname, strerror(-r));
		else
			log_info("address %s added to %s", text, d->ifname);
	}
	free(s->addresses);
	s->addresses = copy;
	s->n_addresses = cfg->n_addresses;
}

static void sync_mtu(struct device *d, const struct interface_config *cfg)
{
	/* Without MTU in the file, what was chosen at start stays. */
	uint32_t mtu = cfg->mtu ? cfg->mtu : d->mtu_auto ? d->mtu_auto : DEFAULT_MTU;
	int r;

	if (mtu == d->mtu)
		return;
	if (mtu > core_max_mtu(&d->core)) {
		log_warn("MTU %u is more than sluice carries (%u); MTU stays %u", mtu, core_max_mtu(&d->core), d->mtu);
		return;
	}
	if ((r = nl_link_set_mtu(d->ifindex, mtu)) < 0) {
		log_err("cannot set MTU %u on %s: %s", mtu, d->ifname, strerror(-r));
		return;
	}
	if (core_set_mtu(&d->core, mtu) == 0) {
		log_info("MTU of %s is now %u", d->ifname, mtu);
		d->mtu = mtu;
	}
}

static void sync_link(struct device *d, const struct interface_config *cfg)
{
	struct device_setup *s = &d->setup;

	if (!s->link_managed) {
		if (cfg->n_addresses || cfg->mtu || cfg->table != TABLE_AUTO)
			log_info("Address, MTU and Table are left to whoever set %s up (wg-quick, ip)", d->ifname);
		return;
	}
	if (tun_state(d->tun_fd) != TUN_HERE) {
		log_warn("%s is in another network namespace: its addresses, MTU and routes are left as they are",
			 d->ifname);
		return;
	}
	if (cfg->table != s->table || (cfg->table == TABLE_ID && cfg->table_id != s->table_id))
		log_warn("Table changed: it takes a restart; the routes stay in the table %s started with", d->ifname);
	sync_addresses(d, cfg);
	sync_mtu(d, cfg);
	sync_routes(d, cfg);
}

/* ---- the peers ---- */

static void stop_dialing(void *ctx, const uint8_t public_key[KEY_LEN])
{
	struct device *d = ctx;
	struct tcp_peer *tp = tcp_peer_find(&d->tcp, public_key);

	if (tp)
		tcp_peer_stop(&d->tcp, tp);
}

/* The TCP peers dialed follow cfg: a tcp:// endpoint is dialed (a new
 * target redialed, the same one left alone), a peer with any other is no
 * longer dialed. In the copy the engine gets, a dialed peer's endpoint is
 * its connection, or none where nothing changed: the engine keeps the
 * connection it uses. */
static int sync_peers(struct device *d, const struct interface_config *cfg, uint64_t now,
		      struct device_sync_counts *counts)
{
	struct interface_config copy = *cfg;
	struct peer_config *peers = NULL;
	struct endpoint target;
	int r = -ENOMEM;

	if (cfg->n_peers && !(peers = malloc(cfg->n_peers * sizeof(*peers))))
		goto out;
	if (cfg->n_peers)
		memcpy(peers, cfg->peers, cfg->n_peers * sizeof(*peers));
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer_config *pc = &peers[i];
		struct tcp_peer *tp = tcp_peer_find(&d->tcp, pc->public_key);
		bool dial = pc->endpoint_transport == TRANSPORT_TCP && pc->endpoint.addr.sa.sa_family != AF_UNSPEC;

		if (!dial) {
			if (tp)
				tcp_peer_stop(&d->tcp, tp);
			continue;
		}
		struct endpoint want = pc->endpoint;
		want.conn = 0;
		if (tp && tcp_peer_target(tp, &target) && endpoint_equal(&target, &want)) {
			pc->endpoint.addr.sa.sa_family = AF_UNSPEC; /* dialed there already */
			continue;
		}
		if (tp)
			tcp_peer_set_target(&d->tcp, tp, &pc->endpoint, now);
		else if (!(tp = tcp_peer_add(&d->tcp, pc->public_key, &pc->endpoint, now)))
			goto out;
		pc->endpoint.conn = tcp_peer_conn(&d->tcp, tp);
	}
	copy.peers = peers;
	r = device_sync_config(&d->core, &copy, now, stop_dialing, d, counts);
	if (r == 0)
		device_state_restore(d, now); /* peers added get what was known of them */
out:
	if (peers) {
		crypto_wipe(peers, cfg->n_peers * sizeof(*peers)); /* preshared keys */
		free(peers);
	}
	crypto_wipe(&copy, sizeof(copy)); /* it held the private key */
	return r;
}

/* ---- syncing ---- */

int device_sync(struct device *d, const struct interface_config *cfg)
{
	uint16_t port = cfg->has_listen_port && cfg->listen_port ? cfg->listen_port : d->listen_port;
	unsigned transports = cfg->transports ? cfg->transports : TRANSPORT_UDP;
	struct device_sync_counts counts = { 0 };
	int r;

	/* A TUN cannot become a TAP: the descriptor is made at start. */
	if (cfg->ethernet != d->ethernet) {
		log_err("Mode changed to %s: it takes a restart (`sluice down %s`, then `sluice up`); nothing changed",
			cfg->ethernet ? "tap" : "tun", d->ifname);
		return -EINVAL;
	}
	if (strcmp(cfg->bridge, d->bridge))
		log_warn("Bridge changed: it takes a restart; %s stays %s%s", d->ifname,
			 d->bridge[0] ? "a port of " : "in no bridge", d->bridge);
	/* First what can fail without harm: the port, before anything else
	 * changed. */
	if (port != d->listen_port || transports != d->transports) {
		if ((r = device_listen(d, port, transports)) < 0)
			return r;
		log_info("listening on %s port %u", uapi_transports_name(transports), d->listen_port);
	}
	/* Absent, it stays: wg-quick marks a full tunnel's packets itself. */
	if (cfg->has_fwmark)
		device_set_fwmark(d, cfg->fwmark);
	r = sync_peers(d, cfg, device_now(), &counts);
	if (r < 0) {
		log_err("cannot sync the peers: %s (%zu added, %zu removed before it failed)", strerror(-r),
			counts.added, counts.removed);
		return r;
	}
	sync_link(d, cfg);
	d->setup.reply_ping = cfg->reply_ping;
	if ((r = core_set_reply_ping(&d->core, cfg->reply_ping, cfg->addresses, cfg->n_addresses)) < 0)
		log_err("cannot set ReplyPing: %s", strerror(-r));
	log_info("configuration synced: %zu peer%s (%zu added, %zu removed, %zu kept with their sessions)",
		 core_peer_count(&d->core), core_peer_count(&d->core) == 1 ? "" : "s", counts.added, counts.removed,
		 counts.kept);
	return 0;
}

void device_reload(struct device *d)
{
	struct interface_config cfg;
	char err[512];

	if (!d->setup.path) {
		log_warn(
			"SIGHUP: %s was not started from a file (sluice -f IFACE, p2p, or a pipe): nothing to read "
			"again; `sluice syncconf %s FILE` changes it",
			d->ifname, d->ifname);
		return;
	}
	log_info("SIGHUP: reading %s again", d->setup.path);
	if (!config_load(&cfg, d->setup.path, err, sizeof(err)) ||
	    !config_resolve(&cfg, d->setup.path, err, sizeof(err))) {
		/* Without CAP_DAC_OVERRIDE (the sandbox drops it) root reads
		 * only files it owns or may read as anyone. */
		bool denied = strstr(err, strerror(EACCES)) != NULL;
		log_err("reload: %s; %s stays as it was%s", err, d->ifname,
			!denied          ? ""
			: geteuid() != 0 ? " (the daemon runs as its User now and may not read it: "
					   "`sluice syncconf` reads it as its caller)"
					 : " (the daemon may read only files root owns: "
					   "`sluice syncconf` reads it as its caller)");
		config_free(&cfg);
		return;
	}
	for (size_t i = 0; i < cfg.n_unsupported_keys; i++)
		log_warn("%s:%u: %s is a wg-quick setting that sluice ignores", d->setup.path,
			 cfg.unsupported_keys[i].line, cfg.unsupported_keys[i].name);
	if (device_sync(d, &cfg) == 0 && device_names_set(d, &cfg) < 0)
		log_warn("reload: out of memory for the endpoints given by name");
	config_free(&cfg);
}

/* ---- the control socket ---- */

int device_uapi_sync(void *ctx, const struct interface_config *cfg)
{
	return device_sync(ctx, cfg);
}

static bool dial_target(void *ctx, const uint8_t public_key[KEY_LEN], struct endpoint *target)
{
	struct device *d = ctx;
	struct tcp_peer *tp = tcp_peer_find(&d->tcp, public_key);

	return tp && tcp_peer_target(tp, target);
}

int device_uapi_get_extended(void *ctx, struct sbuf *out)
{
	struct device *d = ctx;
	struct uapi_get_ext x = {
		.transports = d->transports,
		.reply_ping = d->setup.reply_ping,
		.link_managed = d->setup.link_managed,
		.addresses = d->setup.addresses,
		.n_addresses = d->setup.n_addresses,
		.mtu = d->mtu,
		.table = d->setup.table,
		.table_id = d->setup.table_id,
		.bridge = d->bridge,
		.now = device_now(),
		.dial_target = dial_target,
		.ctx = d,
	};

	return uapi_get_format_extended(out, &d->core, &x);
}
