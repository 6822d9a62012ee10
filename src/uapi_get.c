// SPDX-License-Identifier: MIT
#include "uapi_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "encoding.h"
#include "l2.h"
#include "netaddr.h"
#include "timers.h"
#include "uapi.h"

static void put_key(struct sbuf *out, const char *name, const uint8_t key[KEY_LEN])
{
	char hex[KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	sbuf_putf(out, "%s=%s\n", name, hex);
	crypto_wipe(hex, sizeof(hex));
}

/* Every peer's allowed IPs from one walk of the trie: each prefix is
 * matched to its peer's place in the list (a binary search over the peers
 * sorted by address), then the prefixes are grouped by peer with a counting
 * sort, which keeps the walk's order within each peer. */
struct peer_place {
	const void *peer;
	size_t place;
};

struct prefix {
	size_t place;
	int family;
	uint8_t cidr;
	uint8_t addr[16];
};

struct gather {
	const struct peer_place *by_address;
	size_t n_peers;
	struct prefix *walked;
	size_t n, cap;
	size_t *first; /* counts while walking, then where each peer's prefixes start */
};

static int compare_peer_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct peer_place *)a)->peer;
	uintptr_t y = (uintptr_t)((const struct peer_place *)b)->peer;

	return x < y ? -1 : x > y;
}

static void gather_prefix(void *ctx, int family, const uint8_t *addr, uint8_t cidr, const void *peer)
{
	struct gather *g = ctx;
	struct peer_place key = { .peer = peer };
	const struct peer_place *hit = bsearch(&key, g->by_address, g->n_peers, sizeof(key), compare_peer_address);
	struct prefix *p;

	if (!hit || g->n == g->cap)
		return; /* no listed peer's, or more than the trie counts: neither happens */
	p = &g->walked[g->n++];
	p->place = hit->place;
	p->family = family;
	p->cidr = cidr;
	memcpy(p->addr, addr, family == AF_INET ? 4 : 16);
	g->first[hit->place + 1]++;
}

/* prefixes[first[i] .. first[i + 1]) are peer i's. */
static int group_prefixes(const struct core *c, size_t n_peers, struct prefix **prefixes, size_t **first)
{
	struct gather g = { .n_peers = n_peers, .cap = core_allowed_ip_count(c) };
	struct peer_place *places = calloc(n_peers ? n_peers : 1, sizeof(*places));
	struct prefix *grouped = NULL;
	size_t *next = NULL, i = 0;
	int r = -ENOMEM;

	g.walked = calloc(g.cap ? g.cap : 1, sizeof(*g.walked));
	g.first = calloc(n_peers + 1, sizeof(*g.first));
	grouped = calloc(g.cap ? g.cap : 1, sizeof(*grouped));
	next = calloc(n_peers + 1, sizeof(*next));
	if (!places || !g.walked || !g.first || !grouped || !next)
		goto out;
	for (const struct peer *p = core_peers_first(c); p && i < n_peers; p = core_peers_next(p), i++)
		places[i] = (struct peer_place){ .peer = p, .place = i };
	qsort(places, n_peers, sizeof(*places), compare_peer_address);
	g.by_address = places;
	core_allowed_ips_walk(c, gather_prefix, &g);
	for (i = 0; i < n_peers; i++)
		g.first[i + 1] += g.first[i];
	memcpy(next, g.first, (n_peers + 1) * sizeof(*next));
	for (i = 0; i < g.n; i++)
		grouped[next[g.walked[i].place]++] = g.walked[i];
	*prefixes = grouped;
	*first = g.first;
	grouped = NULL;
	g.first = NULL;
	r = 0;
out:
	free(places);
	free(g.walked);
	free(g.first);
	free(grouped);
	free(next);
	return r;
}

static void put_peer(struct sbuf *out, const struct peer *p, const struct prefix *prefixes, size_t n)
{
	char text[ENDPOINT_STR_MAX > CIDR_STR_MAX ? ENDPOINT_STR_MAX : CIDR_STR_MAX];

	put_key(out, "public_key", p->public_key);
	put_key(out, "preshared_key", p->preshared_key);
	sbuf_putf(out, "protocol_version=1\n");
	if (p->endpoint.addr.sa.sa_family != AF_UNSPEC) {
		endpoint_format(text, &p->endpoint);
		sbuf_putf(out, "endpoint=%s\n", text);
	}
	sbuf_putf(out, "last_handshake_time_sec=%llu\n", (unsigned long long)(p->last_handshake_unix_ns / NS_PER_SEC));
	sbuf_putf(out, "last_handshake_time_nsec=%llu\n", (unsigned long long)(p->last_handshake_unix_ns % NS_PER_SEC));
	sbuf_putf(out, "tx_bytes=%llu\n", (unsigned long long)p->tx_bytes);
	sbuf_putf(out, "rx_bytes=%llu\n", (unsigned long long)p->rx_bytes);
	sbuf_putf(out, "persistent_keepalive_interval=%u\n", p->persistent_keepalive);
	for (size_t i = 0; i < n; i++) {
		struct cidr cidr = { .family = prefixes[i].family, .prefix = prefixes[i].cidr };
		memcpy(cidr.addr.bytes, prefixes[i].addr, prefixes[i].family == AF_INET ? 4 : 16);
		cidr_format(text, &cidr);
		sbuf_putf(out, "allowed_ip=%s\n", text);
	}
}

int uapi_get_format(struct sbuf *out, const struct core *c, uint16_t listen_port, uint32_t fwmark)
{
	const uint8_t *private_key = core_private_key(c);
	size_t n_peers = core_peer_count(c), *first = NULL, i = 0;
	struct prefix *prefixes = NULL;
	int r = group_prefixes(c, n_peers, &prefixes, &first);

	if (r < 0)
		return r;
	if (private_key)
		put_key(out, "private_key", private_key);
	sbuf_putf(out, "listen_port=%u\n", listen_port);
	if (fwmark)
		sbuf_putf(out, "fwmark=%u\n", fwmark);
	for (const struct peer *p = core_peers_first(c); p && i < n_peers; p = core_peers_next(p), i++)
		put_peer(out, p, prefixes + first[i], first[i + 1] - first[i]);
	free(prefixes);
	free(first);
	return sbuf_error(out);
}

/* A peer's AllowedMACs and the addresses learned behind it (a scan of the
 * table per peer: TAP interfaces have few peers). */
static void put_macs(struct sbuf *out, const struct l2_table *l2, const struct peer *p, uint64_t now)
{
	const struct l2_entry *e;
	char mac[L2_MAC_STRLEN];
	uint32_t cursor = 0;

	while ((e = l2_next(l2, &cursor))) {
		if (e->owner != p || l2_entry_aged(e, now))
			continue;
		l2_mac_string(mac, e->mac);
		sbuf_putf(out, "%s=%s\n", e->pinned ? UAPI_KEY_ALLOWED_MAC : UAPI_KEY_MAC, mac);
	}
}

int uapi_get_format_extended(struct sbuf *out, const struct core *c, const struct uapi_get_ext *x)
{
	char text[ENDPOINT_STR_MAX > CIDR_STR_MAX ? ENDPOINT_STR_MAX : CIDR_STR_MAX];
	struct endpoint target;

	sbuf_putf(out, UAPI_KEY_LISTEN_TRANSPORT "=%s\n", uapi_transports_name(x->transports));
	sbuf_putf(out, UAPI_KEY_REPLY_PING "=%s\n", x->reply_ping ? "true" : "false");
	const struct l2_table *l2 = core_l2_table(c);
	sbuf_putf(out, UAPI_KEY_MODE "=%s\n", l2 ? "tap" : "tun");
	if (x->bridge && x->bridge[0])
		sbuf_putf(out, UAPI_KEY_BRIDGE "=%s\n", x->bridge);
	if (x->link_managed) {
		for (size_t i = 0; i < x->n_addresses; i++) {
			cidr_format(text, &x->addresses[i]);
			sbuf_putf(out, UAPI_KEY_ADDRESS "=%s\n", text);
		}
		sbuf_putf(out, UAPI_KEY_MTU "=%u\n", x->mtu);
		if (x->table == TABLE_ID)
			sbuf_putf(out, UAPI_KEY_TABLE "=%u\n", x->table_id);
		else
			sbuf_putf(out, UAPI_KEY_TABLE "=%s\n", x->table == TABLE_OFF ? "off" : "auto");
	}
	struct core_handshake_stats hs;

	for (int i = 0; i < DROP_CAUSE_COUNT; i++)
		sbuf_putf(out, UAPI_KEY_DROP_PREFIX "%s=%llu\n", drop_cause_name((enum drop_cause)i),
			  (unsigned long long)core_drops(c, (enum drop_cause)i));
	core_handshake_stats(c, &hs);
	if (l2) {
		sbuf_putf(out, "sluice_l2_entries=%u\n", l2->used);
		sbuf_putf(out, "sluice_l2_capacity=%u\n", l2->capacity);
		sbuf_putf(out, "sluice_l2_learned=%llu\n", (unsigned long long)l2->stats.learned);
		sbuf_putf(out, "sluice_l2_moved=%llu\n", (unsigned long long)l2->stats.moved);
		sbuf_putf(out, "sluice_l2_expired=%llu\n", (unsigned long long)l2->stats.expired);
		sbuf_putf(out, "sluice_l2_full=%llu\n", (unsigned long long)l2->stats.full);
		sbuf_putf(out, "sluice_l2_refused=%llu\n", (unsigned long long)l2->stats.refused);
	}
	sbuf_putf(out, "sluice_handshake_queued=%u\n", hs.queued);
	sbuf_putf(out, "sluice_handshake_under_load=%d\n", hs.under_load);
	sbuf_putf(out, "sluice_handshake_cookie_replies_sent=%llu\n", (unsigned long long)hs.cookie_replies_sent);
	sbuf_putf(out, "sluice_handshake_ratelimit_overflow=%llu\n", (unsigned long long)hs.ratelimit_overflow);
	for (const struct peer *p = core_peers_first(c); p; p = core_peers_next(p)) {
		put_key(out, UAPI_KEY_PEER, p->public_key);
		sbuf_putf(out, UAPI_KEY_TRANSPORT "=%s\n", p->endpoint.conn ? "tcp" : "udp");
		sbuf_putf(out, UAPI_KEY_CIPHER "=%s\n", uapi_suite_name(p->suite));
		if (x->dial_target && x->dial_target(x->ctx, p->public_key, &target)) {
			endpoint_format(text, &target);
			sbuf_putf(out, UAPI_KEY_DIAL "=tcp://%s\n", text);
		}
		if (l2)
			put_macs(out, l2, p, x->now);
	}
	return sbuf_error(out);
}

/* ---- reading a reply back ---- */

struct get_reader {
	struct interface_config *cfg;
	size_t cap_peers, cap_ips, cap_addresses;
	/* The peer get=1's keys are about (the last public_key; it alone may
	 * grow), and the one get=2's are about (the last sluice_peer). */
	struct peer_config *listed, *named;
	size_t next_named; /* where the next sluice_peer likely is */
	/* Per peer, made at the first sluice_peer (get=2 names peers after
	 * get=1 listed them all): its transport now is TCP; we dial it. */
	struct peer_flags {
		bool tcp, dialed;
	} * flags;
	size_t n_flags;
};

/* get=2 names the peers in the order get=1 listed them: look where the
 * last one was found first, so ten thousand peers are not as many scans. */
static struct peer_config *named_peer(struct get_reader *r, const uint8_t key[KEY_LEN], size_t *index)
{
	size_t n = r->cfg->n_peers;

	for (size_t k = 0; k < n; k++) {
		size_t i = (r->next_named + k) % n;
		if (!memcmp(r->cfg->peers[i].public_key, key, KEY_LEN)) {
			r->next_named = i + 1;
			*index = i;
			return &r->cfg->peers[i];
		}
	}
	return NULL;
}

static int read_peer_start(struct get_reader *r, const char *value)
{
	struct interface_config *cfg = r->cfg;
	struct peer_config *peer;

	if (!config_grow((void **)&cfg->peers, &r->cap_peers, cfg->n_peers, sizeof(*cfg->peers)))
		return -ENOMEM;
	peer = &cfg->peers[cfg->n_peers];
	memset(peer, 0, sizeof(*peer));
	peer->endpoint.addr.sa.sa_family = AF_UNSPEC;
	if (!key_from_hex(peer->public_key, value))
		return -EPROTO;
	cfg->n_peers++;
	r->listed = peer;
	r->named = NULL;
	r->cap_ips = 0;
	return 0;
}

static int read_line(struct get_reader *r, const char *key, const char *value)
{
	struct interface_config *cfg = r->cfg;
	struct peer_config *peer = r->listed, *named = r->named;
	uint64_t v;
	struct cidr c;

	if (!strcmp(key, "public_key"))
		return read_peer_start(r, value);
	if (!strcmp(key, UAPI_KEY_PEER)) {
		uint8_t pub[KEY_LEN];
		size_t i = 0;
		if (!key_from_hex(pub, value))
			return -EPROTO;
		if (!r->flags) {
			r->n_flags = cfg->n_peers;
			if (!(r->flags = calloc(r->n_flags ? r->n_flags : 1, sizeof(*r->flags))))
				return -ENOMEM;
		}
		r->listed = NULL;
		r->named = named_peer(r, pub, &i);
		if (i >= r->n_flags)
			r->named = NULL; /* listed after the sluice_peer lines began: not ours */
		return 0;
	}
	if (!strcmp(key, "private_key")) {
		if (!key_from_hex(cfg->private_key, value))
			return -EPROTO;
		cfg->has_private_key = !crypto_is_zero(cfg->private_key, KEY_LEN);
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_u64(value, strlen(value), false, 65535, &v))
			return -EPROTO;
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)v;
	} else if (!strcmp(key, "fwmark")) {
		if (!parse_u64(value, strlen(value), false, UINT32_MAX, &v))
			return -EPROTO;
		cfg->has_fwmark = true;
		cfg->fwmark = (uint32_t)v;
	} else if (!strcmp(key, UAPI_KEY_LISTEN_TRANSPORT)) {
		if (!uapi_transports_parse(value, &cfg->transports))
			return -EPROTO;
	} else if (!strcmp(key, UAPI_KEY_REPLY_PING)) {
		cfg->reply_ping = !strcmp(value, "true");
	} else if (!strcmp(key, UAPI_KEY_MODE)) {
		cfg->ethernet = !strcmp(value, "tap");
	} else if (!strcmp(key, UAPI_KEY_BRIDGE)) {
		snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", value);
	} else if (!strcmp(key, UAPI_KEY_ADDRESS)) {
		if (!cidr_parse(&c, value, false))
			return -EPROTO;
		if (!config_grow((void **)&cfg->addresses, &r->cap_addresses, cfg->n_addresses, sizeof(c)))
			return -ENOMEM;
		cfg->addresses[cfg->n_addresses++] = c;
	} else if (!strcmp(key, UAPI_KEY_MTU)) {
		if (!parse_u64(value, strlen(value), false, UINT32_MAX, &v))
			return -EPROTO;
		cfg->mtu = (uint32_t)v;
	} else if (!strcmp(key, UAPI_KEY_TABLE)) {
		if (!strcmp(value, "off"))
			cfg->table = TABLE_OFF;
		else if (!strcmp(value, "auto"))
			cfg->table = TABLE_AUTO;
		else if (parse_u64(value, strlen(value), false, UINT32_MAX, &v) && v) {
			cfg->table = TABLE_ID;
			cfg->table_id = (uint32_t)v;
		} else {
			return -EPROTO;
		}
	} else if (named) {
		struct peer_flags *flags = &r->flags[named - cfg->peers];
		if (!strcmp(key, UAPI_KEY_CIPHER)) {
			if (!uapi_suite_parse(value, &named->suite))
				return -EPROTO;
			named->has_suite = named->suite != SUITE_CHACHAPOLY;
		} else if (!strcmp(key, UAPI_KEY_TRANSPORT)) {
			flags->tcp = !strcmp(value, "tcp");
		} else if (!strcmp(key, UAPI_KEY_ALLOWED_MAC)) {
			if (!uapi_add_mac(named, value))
				return -EPROTO;
		} else if (!strcmp(key, UAPI_KEY_DIAL)) {
			if (strncmp(value, "tcp://", 6) || !endpoint_parse_numeric(&named->endpoint, value + 6))
				return -EPROTO;
			named->endpoint_transport = TRANSPORT_TCP;
			flags->dialed = true;
		}
	} else if (!peer) {
		return 0; /* a peer's key without a peer, or one we do not know */
	} else if (!strcmp(key, "preshared_key")) {
		if (!key_from_hex(peer->preshared_key, value))
			return -EPROTO;
		peer->has_preshared_key = !crypto_is_zero(peer->preshared_key, KEY_LEN);
	} else if (!strcmp(key, "endpoint")) {
		if (!endpoint_parse_numeric(&peer->endpoint, value))
			return -EPROTO;
		peer->endpoint_transport = TRANSPORT_UDP;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_u64(value, strlen(value), false, 65535, &v))
			return -EPROTO;
		peer->has_persistent_keepalive = v != 0;
		peer->persistent_keepalive = (uint16_t)v;
	} else if (!strcmp(key, "allowed_ip")) {
		if (!cidr_parse(&c, value, false))
			return -EPROTO;
		cidr_mask(&c);
		if (!config_grow((void **)&peer->allowed_ips, &r->cap_ips, peer->n_allowed_ips, sizeof(c)))
			return -ENOMEM;
		peer->allowed_ips[peer->n_allowed_ips++] = c;
	}
	return 0;
}

int uapi_parse_get(struct interface_config *cfg, const char *body, size_t len)
{
	struct get_reader r = { .cfg = cfg };
	struct sbuf line;
	size_t pos = 0;
	int e = 0;

	memset(cfg, 0, sizeof(*cfg));
	sbuf_init(&line, UAPI_LINE_MAX + 1);
	while (pos < len && !e) {
		const char *start = body + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char *text, *eq;

		pos += n + 1;
		if (!n)
			continue;
		sbuf_reset(&line);
		if (sbuf_put(&line, start, n) || !(text = sbuf_cstr(&line))) {
			e = sbuf_error(&line) == -EMSGSIZE ? -EPROTO : -ENOMEM;
			break;
		}
		eq = strchr(text, '=');
		if (!eq || strlen(text) != n) {
			e = -EPROTO;
			break;
		}
		*eq = '\0';
		e = read_line(&r, text, eq + 1);
	}
	/* A TCP connection the peer made to us is no endpoint to keep. */
	for (size_t i = 0; !e && i < r.n_flags; i++) {
		if (r.flags[i].tcp && !r.flags[i].dialed) {
			memset(&cfg->peers[i].endpoint, 0, sizeof(cfg->peers[i].endpoint));
			cfg->peers[i].endpoint.addr.sa.sa_family = AF_UNSPEC;
			cfg->peers[i].endpoint_transport = 0;
		}
	}
	free(r.flags);
	sbuf_free(&line);
	if (e)
		config_free(cfg);
	return e;
}
