// SPDX-License-Identifier: MIT
#include "uapi_get.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "encoding.h"
#include "netaddr.h"
#include "timers.h"

/* The engine has no call that hands out its own private key; this is the
 * one field read from outside its calls, kept behind one function until
 * core.h has such a call. */
static const struct static_identity *engine_identity(const struct core *c)
{
	return &c->identity;
}

static void put_key(struct sbuf *out, const char *name, const uint8_t key[32])
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
	struct gather g = { .n_peers = n_peers, .cap = c->allowedips.count };
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
	allowedips_walk_all(&c->allowedips, gather_prefix, &g);
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
	const struct static_identity *id = engine_identity(c);
	size_t n_peers = core_peer_count(c), *first = NULL, i = 0;
	struct prefix *prefixes = NULL;
	int r = group_prefixes(c, n_peers, &prefixes, &first);

	if (r < 0)
		return r;
	if (id->has_key)
		put_key(out, "private_key", id->private_key);
	sbuf_putf(out, "listen_port=%u\n", listen_port);
	if (fwmark)
		sbuf_putf(out, "fwmark=%u\n", fwmark);
	for (const struct peer *p = core_peers_first(c); p && i < n_peers; p = core_peers_next(p), i++)
		put_peer(out, p, prefixes + first[i], first[i + 1] - first[i]);
	free(prefixes);
	free(first);
	return sbuf_error(out);
}

int uapi_get_format_extended(struct sbuf *out, const struct core *c)
{
	struct core_handshake_stats hs;

	for (int i = 0; i < DROP_CAUSE_COUNT; i++)
		sbuf_putf(out, "sluice_drop_%s=%llu\n", drop_cause_name((enum drop_cause)i),
			  (unsigned long long)core_drops(c, (enum drop_cause)i));
	core_handshake_stats(c, &hs);
	sbuf_putf(out, "sluice_handshake_queued=%u\n", hs.queued);
	sbuf_putf(out, "sluice_handshake_under_load=%d\n", hs.under_load);
	sbuf_putf(out, "sluice_handshake_cookie_replies_sent=%llu\n", (unsigned long long)hs.cookie_replies_sent);
	for (const struct peer *p = core_peers_first(c); p; p = core_peers_next(p)) {
		put_key(out, "sluice_peer", p->public_key);
		sbuf_putf(out, "sluice_transport=%s\n", p->endpoint.conn ? "tcp" : "udp");
		sbuf_putf(out, "sluice_cipher=%s\n", p->suite == SUITE_AESGCM ? "aes-256-gcm" : "chacha20-poly1305");
	}
	return sbuf_error(out);
}
