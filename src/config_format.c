// SPDX-License-Identifier: MIT
/* Configurations compared (a reload changes only what differs) and written
 * back as a file config_parse reads the same (sluice showconf). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "config_keys.h"
#include "encoding.h"
#include "l2.h"
#include "netaddr.h"
#include "sbuf.h"

static bool same_cidrs(const struct cidr *a, size_t na, const struct cidr *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t len = a[i].family == AF_INET ? 4 : 16;
		if (a[i].family != b[i].family || a[i].prefix != b[i].prefix ||
		    memcmp(a[i].addr.bytes, b[i].addr.bytes, len))
			return false;
	}
	return true;
}

static bool same_key_or_zero(bool has_a, const uint8_t a[KEY_LEN], bool has_b, const uint8_t b[KEY_LEN])
{
	static const uint8_t zero[KEY_LEN];

	return crypto_equal(has_a ? a : zero, has_b ? b : zero, KEY_LEN);
}

static bool same_peer(const struct peer_config *a, const struct peer_config *b)
{
	enum transport ta = a->endpoint_transport ? a->endpoint_transport : TRANSPORT_UDP;
	enum transport tb = b->endpoint_transport ? b->endpoint_transport : TRANSPORT_UDP;
	bool has_ep_a = a->endpoint_str || a->endpoint.addr.sa.sa_family != AF_UNSPEC;
	bool has_ep_b = b->endpoint_str || b->endpoint.addr.sa.sa_family != AF_UNSPEC;

	if (memcmp(a->public_key, b->public_key, KEY_LEN) ||
	    !same_key_or_zero(a->has_preshared_key, a->preshared_key, b->has_preshared_key, b->preshared_key) ||
	    (a->has_suite ? a->suite : SUITE_CHACHAPOLY) != (b->has_suite ? b->suite : SUITE_CHACHAPOLY) ||
	    (a->has_persistent_keepalive ? a->persistent_keepalive : 0) !=
		    (b->has_persistent_keepalive ? b->persistent_keepalive : 0) ||
	    !same_cidrs(a->allowed_ips, a->n_allowed_ips, b->allowed_ips, b->n_allowed_ips) ||
	    a->n_allowed_macs != b->n_allowed_macs ||
	    (a->n_allowed_macs &&
	     memcmp(a->allowed_macs, b->allowed_macs, a->n_allowed_macs * sizeof(*a->allowed_macs))) ||
	    a->remove != b->remove || a->update_only != b->update_only ||
	    a->replace_allowed_ips != b->replace_allowed_ips || has_ep_a != has_ep_b)
		return false;
	if (!has_ep_a)
		return true;
	if (ta != tb)
		return false;
	if (a->endpoint_str && b->endpoint_str)
		return !strcmp(a->endpoint_str, b->endpoint_str);
	return endpoint_equal(&a->endpoint, &b->endpoint);
}

bool config_equal(const struct interface_config *a, const struct interface_config *b)
{
	if (a->has_private_key != b->has_private_key ||
	    (a->has_private_key && !crypto_equal(a->private_key, b->private_key, KEY_LEN)) ||
	    (a->has_listen_port ? a->listen_port : 0) != (b->has_listen_port ? b->listen_port : 0) ||
	    (a->has_fwmark ? a->fwmark : 0) != (b->has_fwmark ? b->fwmark : 0) ||
	    !same_cidrs(a->addresses, a->n_addresses, b->addresses, b->n_addresses) || a->mtu != b->mtu ||
	    a->table != b->table || (a->table == TABLE_ID && a->table_id != b->table_id) ||
	    (a->transports ? a->transports : TRANSPORT_UDP) != (b->transports ? b->transports : TRANSPORT_UDP) ||
	    a->reply_ping != b->reply_ping || a->forward != b->forward || a->ethernet != b->ethernet ||
	    strcmp(a->bridge, b->bridge) || a->replace_peers != b->replace_peers ||
	    a->no_save_state != b->no_save_state || strcmp(a->user, b->user) != 0 || a->n_peers != b->n_peers)
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (!same_peer(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}

static void put_key_line(struct sbuf *out, enum key_id k, const uint8_t key[KEY_LEN])
{
	char b64[KEY_B64_LEN + 1];

	key_to_base64(b64, key);
	sbuf_putf(out, "%s = %s\n", config_key_name(k), b64);
	crypto_wipe(b64, sizeof(b64));
}

static void put_cidrs(struct sbuf *out, enum key_id k, const struct cidr *list, size_t n)
{
	char text[CIDR_STR_MAX];

	if (!n)
		return;
	sbuf_putf(out, "%s = ", config_key_name(k));
	for (size_t i = 0; i < n; i++) {
		cidr_format(text, &list[i]);
		sbuf_putf(out, "%s%s", i ? ", " : "", text);
	}
	sbuf_put(out, "\n", 1);
}

static void put_peer(struct sbuf *out, const struct peer_config *peer)
{
	char text[ENDPOINT_STR_MAX];
	const char *scheme = peer->endpoint_transport == TRANSPORT_TCP ? "tcp://" : "";

	sbuf_putf(out, "\n[Peer]\n");
	put_key_line(out, K_PUBLIC_KEY, peer->public_key);
	if (peer->has_preshared_key && !crypto_is_zero(peer->preshared_key, sizeof(peer->preshared_key)))
		put_key_line(out, K_PRESHARED_KEY, peer->preshared_key);
	put_cidrs(out, K_ALLOWED_IPS, peer->allowed_ips, peer->n_allowed_ips);
	if (peer->endpoint_str) {
		sbuf_putf(out, "%s = %s%s\n", config_key_name(K_ENDPOINT), scheme, peer->endpoint_str);
	} else if (peer->endpoint.addr.sa.sa_family != AF_UNSPEC) {
		endpoint_format(text, &peer->endpoint);
		sbuf_putf(out, "%s = %s%s\n", config_key_name(K_ENDPOINT), scheme, text);
	}
	if (peer->has_persistent_keepalive && peer->persistent_keepalive)
		sbuf_putf(out, "%s = %u\n", config_key_name(K_PERSISTENT_KEEPALIVE), peer->persistent_keepalive);
	if (peer->has_suite && peer->suite == SUITE_AESGCM)
		sbuf_putf(out, "%s = aes-256-gcm\n", config_key_name(K_CIPHER));
	for (size_t i = 0; i < peer->n_allowed_macs; i++) {
		char mac[L2_MAC_STRLEN];
		l2_mac_string(mac, peer->allowed_macs[i].addr);
		sbuf_putf(out, "%s%s", i ? ", " : "AllowedMACs = ", mac);
		if (i + 1 == peer->n_allowed_macs)
			sbuf_put(out, "\n", 1);
	}
}

int config_format(struct sbuf *out, const struct interface_config *cfg)
{
	sbuf_putf(out, "[Interface]\n");
	if (cfg->has_private_key)
		put_key_line(out, K_PRIVATE_KEY, cfg->private_key);
	if (cfg->has_listen_port && cfg->listen_port)
		sbuf_putf(out, "%s = %u\n", config_key_name(K_LISTEN_PORT), cfg->listen_port);
	if (cfg->has_fwmark && cfg->fwmark)
		sbuf_putf(out, "%s = 0x%x\n", config_key_name(K_FWMARK), cfg->fwmark);
	put_cidrs(out, K_ADDRESS, cfg->addresses, cfg->n_addresses);
	if (cfg->mtu)
		sbuf_putf(out, "%s = %u\n", config_key_name(K_MTU), cfg->mtu);
	if (cfg->table == TABLE_OFF)
		sbuf_putf(out, "%s = off\n", config_key_name(K_TABLE));
	else if (cfg->table == TABLE_ID)
		sbuf_putf(out, "%s = %u\n", config_key_name(K_TABLE), cfg->table_id);
	if (cfg->transports & TRANSPORT_TCP)
		sbuf_putf(out, "%s = %s\n", config_key_name(K_TRANSPORT),
			  cfg->transports & TRANSPORT_UDP ? "udp,tcp" : "tcp");
	if (cfg->reply_ping)
		sbuf_putf(out, "%s = true\n", config_key_name(K_REPLY_PING));
	if (cfg->forward)
		sbuf_putf(out, "%s = true\n", config_key_name(K_FORWARD));
	if (cfg->ethernet)
		sbuf_putf(out, "%s = tap\n", config_key_name(K_MODE));
	if (cfg->bridge[0])
		sbuf_putf(out, "%s = %s\n", config_key_name(K_BRIDGE), cfg->bridge);
	if (cfg->no_save_state)
		sbuf_putf(out, "%s = false\n", config_key_name(K_SAVE_STATE));
	if (cfg->user[0])
		sbuf_putf(out, "%s = %s\n", config_key_name(K_USER), cfg->user);
	for (size_t i = 0; i < cfg->n_peers; i++)
		put_peer(out, &cfg->peers[i]);
	return sbuf_error(out);
}
