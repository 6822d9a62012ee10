// SPDX-License-Identifier: MIT
/*
 * The configuration file's values, key by key: each [Interface] and [Peer]
 * key's value checked and stored (config.c hands over the key and its value;
 * config_check.c then checks the file as a whole). An error names the key
 * and shows the value, but never one that is or may be a key.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "encoding.h"
#include "l2.h"

/* Single-valued keys may appear once per section. */
static bool first_time(struct config_parser *p, enum key_id k)
{
	if (p->seen[k])
		return config_fail(p, "duplicate %s (first set at line %u)", config_key_table[k].name, p->seen[k]);
	p->seen[k] = p->line;
	return true;
}

/* Calls fn for each comma-separated item; empty items are skipped, as
 * wg-quick's word splitting skips them. */
static bool for_each_item(struct config_parser *p, char *list, bool (*fn)(struct config_parser *, char *))
{
	char *item = list;

	for (;;) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		if (*item && !fn(p, item))
			return false;
		if (!comma)
			return true;
		item = comma + 1;
	}
}

static bool add_string(struct config_parser *p, struct config_strings *list, const char *value)
{
	char *copy = strdup(value);

	if (!copy || !config_grow((void **)&list->items, &list->cap, list->n, sizeof(*list->items))) {
		free(copy);
		return config_fail(p, "out of memory");
	}
	list->items[list->n++] = copy;
	return true;
}

/* DNS = 192.0.2.53, 2001:db8::53, example.com: addresses are name servers,
 * names search domains, as with wg-quick. */
static bool add_dns(struct config_parser *p, char *item)
{
	struct interface_config *cfg = p->cfg;
	struct in6_addr a;
	char buf[SHOWN_MAX];
	bool name = item[0] != '.' && item[0] != '-';

	if (inet_pton(AF_INET, item, &a) == 1 || inet_pton(AF_INET6, item, &a) == 1)
		return add_string(p, &cfg->dns_servers, item);
	for (const char *c = item; *c && name; c++)
		name = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		       *c == '-' || *c == '_';
	if (!name || strlen(item) > 253)
		return config_fail(p, "invalid DNS (expected IP addresses of name servers and search domains): %s",
				   config_shown(buf, item));
	return add_string(p, &cfg->dns_search, item);
}

static bool add_address(struct config_parser *p, char *item)
{
	struct interface_config *cfg = p->cfg;
	struct cidr c;
	char buf[SHOWN_MAX];

	if (!cidr_parse(&c, item, true))
		return config_fail(p, "invalid Address: %s", config_shown(buf, item));
	if (!config_grow((void **)&cfg->addresses, &p->cap_addresses, cfg->n_addresses, sizeof(c)))
		return config_fail(p, "out of memory");
	cfg->addresses[cfg->n_addresses++] = c;
	return true;
}

static bool add_allowed_ip(struct config_parser *p, char *item)
{
	struct peer_config *peer = config_current_peer(p);
	struct cidr c;
	char buf[SHOWN_MAX];

	if (!cidr_parse(&c, item, true))
		return config_fail(p, "invalid AllowedIPs: %s", config_shown(buf, item));
	cidr_mask(&c);
	if (!config_grow((void **)&peer->allowed_ips, &p->cap_allowed_ips, peer->n_allowed_ips, sizeof(c)))
		return config_fail(p, "out of memory");
	peer->allowed_ips[peer->n_allowed_ips++] = c;
	return true;
}

static bool add_allowed_mac(struct config_parser *p, char *item)
{
	struct peer_config *peer = config_current_peer(p);
	struct config_mac m;
	char buf[SHOWN_MAX];

	if (!l2_mac_parse(m.addr, item))
		return config_fail(p, "invalid AllowedMACs (expected addresses like 02:00:5e:00:53:01): %s",
				   config_shown(buf, item));
	if (l2_is_group(m.addr))
		return config_fail(p, "invalid AllowedMACs (a multicast or broadcast address is never a source): %s",
				   config_shown(buf, item));
	if (!config_grow((void **)&peer->allowed_macs, &p->cap_allowed_macs, peer->n_allowed_macs, sizeof(m)))
		return config_fail(p, "out of memory");
	peer->allowed_macs[peer->n_allowed_macs++] = m;
	return true;
}

static void note_ignored(struct config_parser *p, enum key_id k)
{
	struct interface_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_unsupported_keys; i++)
		if (cfg->unsupported_keys[i].name == config_key_table[k].name)
			return;
	if (cfg->n_unsupported_keys < CONFIG_UNSUPPORTED_MAX) {
		cfg->unsupported_keys[cfg->n_unsupported_keys].name = config_key_table[k].name;
		cfg->unsupported_keys[cfg->n_unsupported_keys].line = p->line;
		cfg->n_unsupported_keys++;
	}
}

bool config_interface_key(struct config_parser *p, enum key_id k, char *value)
{
	struct interface_config *cfg = p->cfg;
	char buf[SHOWN_MAX];
	uint32_t v;

	if (config_key_table[k].ignored) {
		note_ignored(p, k);
		return true;
	}
	/* A command keeps its spaces; wg-quick, too, takes it as written. */
	if (k == K_PRE_UP || k == K_POST_UP || k == K_PRE_DOWN || k == K_POST_DOWN)
		return add_string(p, &cfg->hooks[k - K_PRE_UP], value);
	config_remove_spaces(value);
	if (k == K_DNS)
		return for_each_item(p, value, add_dns);
	if (k != K_ADDRESS && !first_time(p, k))
		return false;

	switch (k) {
	case K_PRIVATE_KEY:
		/* Never echo the value: it is, or is meant to be, a secret. */
		if (!key_from_base64(cfg->private_key, value))
			return config_fail(p, "invalid PrivateKey (not a 44-character base64 key)");
		cfg->has_private_key = true;
		return true;
	case K_LISTEN_PORT:
		if (!parse_u32(value, false, 65535, &v))
			return config_fail(p, "invalid ListenPort (expected 0..65535, 0 = any): %s",
					   config_shown(buf, value));
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)v;
		return true;
	case K_ADDRESS:
		return for_each_item(p, value, add_address);
	case K_MTU:
		if (!parse_u32(value, false, CONFIG_MTU_MAX, &v) || v < CONFIG_MTU_MIN)
			return config_fail(p, "invalid MTU (expected %u..%u; %u or more with an IPv6 Address): %s",
					   CONFIG_MTU_MIN, CONFIG_MTU_MAX, CONFIG_MTU_MIN_IPV6,
					   config_shown(buf, value));
		cfg->mtu = v;
		p->mtu_line = p->line;
		return true;
	case K_TABLE:
		if (!strcasecmp(value, "off")) {
			cfg->table = TABLE_OFF;
		} else if (!strcasecmp(value, "auto")) {
			cfg->table = TABLE_AUTO;
		} else if (parse_u32(value, false, UINT32_MAX, &v) && v != 0) {
			cfg->table = TABLE_ID;
			cfg->table_id = v;
		} else {
			return config_fail(p, "invalid Table (expected off, auto or a table number 1..4294967295): %s",
					   config_shown(buf, value));
		}
		return true;
	case K_FWMARK:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!parse_u32(value, true, UINT32_MAX, &v))
			return config_fail(p,
					   "invalid FwMark (expected off, a number or 0x followed by hex digits): %s",
					   config_shown(buf, value));
		cfg->has_fwmark = true;
		cfg->fwmark = v;
		return true;
	case K_TRANSPORT:
		if (!strcasecmp(value, "udp"))
			cfg->transports = TRANSPORT_UDP;
		else if (!strcasecmp(value, "tcp"))
			cfg->transports = TRANSPORT_TCP;
		else if (!strcasecmp(value, "udp,tcp") || !strcasecmp(value, "tcp,udp"))
			cfg->transports = TRANSPORT_UDP | TRANSPORT_TCP;
		else
			return config_fail(p, "invalid Transport (expected udp, tcp or udp,tcp): %s",
					   config_shown(buf, value));
		return true;
	case K_MODE:
		if (!strcasecmp(value, "tun"))
			cfg->ethernet = false;
		else if (!strcasecmp(value, "tap"))
			cfg->ethernet = true;
		else
			return config_fail(p, "invalid Mode (expected tun or tap): %s", config_shown(buf, value));
		return true;
	case K_BRIDGE:
		if (!*value || strlen(value) >= IFNAMSIZ || strchr(value, '/'))
			return config_fail(p,
					   "invalid Bridge (expected an interface name of at most %d characters): %s",
					   IFNAMSIZ - 1, config_shown(buf, value));
		snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", value);
		p->bridge_line = p->line;
		return true;
	case K_REPLY_PING:
	case K_FORWARD:
	case K_SAVE_STATE: {
		bool flag;
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcasecmp(value, "on"))
			flag = true;
		else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcasecmp(value, "off"))
			flag = false;
		else
			return config_fail(p, "invalid %s (expected true or false): %s", config_key_table[k].name,
					   config_shown(buf, value));
		if (k == K_REPLY_PING)
			cfg->reply_ping = flag;
		else if (k == K_FORWARD)
			cfg->forward = flag;
		else
			cfg->no_save_state = !flag;
		return true;
	}
	case K_USER:
		/* A name as useradd takes it: nothing a path or a shell would read twice. */
		if (!config_user_valid(value))
			return config_fail(
				p,
				"invalid User (expected a user name of at most %zu letters, digits, '.', '_', '-'): %s",
				sizeof(cfg->user) - 1, config_shown(buf, value));
		snprintf(cfg->user, sizeof(cfg->user), "%s", value);
		cfg->user_line = p->line;
		return true;
	default:
		return false; /* not an [Interface] key: the caller checked */
	}
}

bool config_peer_key(struct config_parser *p, enum key_id k, char *value)
{
	struct peer_config *peer = config_current_peer(p);
	char buf[SHOWN_MAX];
	uint32_t v;

	config_remove_spaces(value);
	if (k != K_ALLOWED_IPS && k != K_ALLOWED_MACS && !first_time(p, k))
		return false;

	switch (k) {
	case K_PUBLIC_KEY:
		/* Not echoed either: a string that is not a public key may be
		 * a private key put under the wrong name. */
		if (!key_from_base64(peer->public_key, value))
			return config_fail(p, "invalid PublicKey (not a 44-character base64 key)");
		return true;
	case K_PRESHARED_KEY:
		if (!key_from_base64(peer->preshared_key, value))
			return config_fail(p, "invalid PresharedKey (not a 44-character base64 key)");
		peer->has_preshared_key = true;
		return true;
	case K_ALLOWED_IPS:
		return for_each_item(p, value, add_allowed_ip);
	case K_ALLOWED_MACS:
		return for_each_item(p, value, add_allowed_mac);
	case K_ENDPOINT: {
		char host[1025];
		uint16_t port;
		peer->endpoint_transport = TRANSPORT_UDP;
		if (!strncasecmp(value, "tcp://", 6)) {
			peer->endpoint_transport = TRANSPORT_TCP;
			value += 6;
		} else if (!strncasecmp(value, "udp://", 6)) {
			value += 6;
		}
		/* Also "udp://tcp://...": one scheme, and only the two. */
		if (strstr(value, "://"))
			return config_fail(p, "invalid Endpoint (the scheme may be udp:// or tcp://): %s",
					   config_shown(buf, value));
		if (!endpoint_split(value, host, sizeof(host), &port))
			return config_fail(p, "invalid Endpoint (expected host:port or [IPv6]:port, port 1..65535): %s",
					   config_shown(buf, value));
		/* Numeric endpoints are known now; names wait for config_resolve. */
		if (!endpoint_parse_numeric(&peer->endpoint, value) && value[0] == '[')
			return config_fail(p, "invalid Endpoint (brackets must hold an IPv6 address): %s",
					   config_shown(buf, value));
		peer->endpoint_str = strdup(value);
		if (!peer->endpoint_str)
			return config_fail(p, "out of memory");
		peer->endpoint_line = p->line;
		return true;
	}
	case K_PERSISTENT_KEEPALIVE:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!parse_u32(value, false, 65535, &v))
			return config_fail(p, "invalid PersistentKeepalive (expected off or 0..65535 seconds): %s",
					   config_shown(buf, value));
		peer->has_persistent_keepalive = true;
		peer->persistent_keepalive = (uint16_t)v;
		return true;
	case K_CIPHER:
		if (!strcasecmp(value, "chacha20-poly1305"))
			peer->suite = SUITE_CHACHAPOLY;
		else if (!strcasecmp(value, "aes-256-gcm"))
			peer->suite = SUITE_AESGCM;
		else
			return config_fail(p, "invalid Cipher (expected chacha20-poly1305 or aes-256-gcm): %s",
					   config_shown(buf, value));
		peer->has_suite = true;
		return true;
	default:
		return false;
	}
}
