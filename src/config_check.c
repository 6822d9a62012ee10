// SPDX-License-Identifier: MIT
/*
 * The checks a configuration file passes as a whole, once every line is
 * read: the [Interface] complete and coherent (PrivateKey, Mode and what
 * needs it, MTU against IPv6), no two [Peer]s with one PublicKey, none that
 * is the interface itself, no prefix or MAC address owned by two peers.
 * Each error names the line of the section at fault.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "crypto.h"
#include "encoding.h"
#include "l2.h"

static int compare_peer_keys(const void *a, const void *b)
{
	const struct peer_config *pa = *(const struct peer_config *const *)a;
	const struct peer_config *pb = *(const struct peer_config *const *)b;
	/* Public keys are not secret: plain memcmp is fine. */
	int c = memcmp(pa->public_key, pb->public_key, sizeof(pa->public_key));

	if (c)
		return c;
	return pa->line < pb->line ? -1 : pa->line > pb->line;
}

/* Sorting finds duplicates in O(n log n); a file may hold many peers. */
static bool check_duplicate_peers(struct config_parser *p)
{
	struct interface_config *cfg = p->cfg;
	const struct peer_config **sorted;
	const struct peer_config *dup = NULL, *first = NULL;

	if (cfg->n_peers < 2)
		return true;
	sorted = malloc(cfg->n_peers * sizeof(*sorted));
	if (!sorted)
		return config_fail_at(p, 0, "out of memory");
	for (size_t i = 0; i < cfg->n_peers; i++)
		sorted[i] = &cfg->peers[i];
	qsort(sorted, cfg->n_peers, sizeof(*sorted), compare_peer_keys);
	/* Equal keys sit together, each run in file order. Report the
	 * earliest repetition in the file, naming the first [Peer] of its run. */
	for (size_t i = 1, run = 0; i < cfg->n_peers; i++) {
		if (memcmp(sorted[i - 1]->public_key, sorted[i]->public_key, KEY_LEN)) {
			run = i;
			continue;
		}
		if (!dup || sorted[i]->line < dup->line) {
			dup = sorted[i];
			first = sorted[run];
		}
	}
	free(sorted);
	if (dup) {
		char b64[KEY_B64_LEN + 1];
		key_to_base64(b64, dup->public_key);
		return config_fail_at(p, dup->line,
				      "duplicate [Peer]: PublicKey already used by the [Peer] at line %u: '%s'",
				      first->line, b64);
	}
	return true;
}

/* A peer that is the interface itself would take the interface's own
 * handshakes: refused, where wg would take it silently. */
static bool check_not_self(struct config_parser *p)
{
	struct interface_config *cfg = p->cfg;
	uint8_t pub[KEY_LEN];
	bool ok = true;

	if (!cfg->has_private_key || !crypto_x25519_public(pub, cfg->private_key))
		return true;
	for (size_t i = 0; i < cfg->n_peers && ok; i++) {
		if (!memcmp(cfg->peers[i].public_key, pub, sizeof(pub)))
			ok = config_fail_at(
				p, cfg->peers[i].line,
				"[Peer] PublicKey is this interface's own public key (the one of its PrivateKey): "
				"a peer cannot be the interface itself");
	}
	return ok;
}

/* What two peers must not share: a prefix of AllowedIPs (family, length,
 * address) or an address of AllowedMACs, as bytes to sort by. */
#define OWNED_KEY_LEN 18
struct owned_key {
	uint8_t key[OWNED_KEY_LEN];
	const struct peer_config *peer;
};

static int compare_owned(const void *a, const void *b)
{
	const struct owned_key *x = a, *y = b;
	int c = memcmp(x->key, y->key, OWNED_KEY_LEN);
	if (c)
		return c;
	return x->peer->line < y->peer->line ? -1 : x->peer->line > y->peer->line;
}

struct owned_kind {
	const char *name; /* "AllowedIPs" */
	const char *rule; /* what the error says about it */
	size_t (*count)(const struct peer_config *peer);
	void (*key)(const struct peer_config *peer, size_t j, uint8_t key[OWNED_KEY_LEN]);
	void (*text)(const uint8_t key[OWNED_KEY_LEN], char out[CIDR_STR_MAX]);
};

static size_t count_ips(const struct peer_config *peer)
{
	return peer->n_allowed_ips;
}

static void key_of_ip(const struct peer_config *peer, size_t j, uint8_t key[OWNED_KEY_LEN])
{
	const struct cidr *c = &peer->allowed_ips[j];
	key[0] = (uint8_t)c->family;
	key[1] = c->prefix;
	memcpy(key + 2, c->addr.bytes, 16);
}

static void text_of_ip(const uint8_t key[OWNED_KEY_LEN], char out[CIDR_STR_MAX])
{
	struct cidr c = { .family = key[0], .prefix = key[1] };
	memcpy(c.addr.bytes, key + 2, 16);
	cidr_format(out, &c);
}

static size_t count_macs(const struct peer_config *peer)
{
	return peer->n_allowed_macs;
}

static void key_of_mac(const struct peer_config *peer, size_t j, uint8_t key[OWNED_KEY_LEN])
{
	memcpy(key, peer->allowed_macs[j].addr, ETHERNET_ADDR_LEN);
}

static void text_of_mac(const uint8_t key[OWNED_KEY_LEN], char out[CIDR_STR_MAX])
{
	l2_mac_string(out, key);
}

static const struct owned_kind owned_ips = { "AllowedIPs", "a prefix routes to one peer only", count_ips, key_of_ip,
					     text_of_ip };
static const struct owned_kind owned_macs = { "AllowedMACs", "an address belongs to one peer only", count_macs,
					      key_of_mac, text_of_mac };

/* One prefix in two peers' AllowedIPs routes to the later only (wg moves it
 * without a word, leaving the first peer without it); one address in two
 * peers' AllowedMACs would be pinned to both: refused, naming both. */
static bool check_owned_once(struct config_parser *p, const struct owned_kind *kind)
{
	struct interface_config *cfg = p->cfg;
	struct owned_key *all;
	size_t n = 0;
	bool ok = true;

	for (size_t i = 0; i < cfg->n_peers; i++)
		n += kind->count(&cfg->peers[i]);
	if (n < 2)
		return true;
	all = calloc(n, sizeof(*all));
	if (!all)
		return config_fail_at(p, 0, "out of memory");
	n = 0;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < kind->count(&cfg->peers[i]); j++) {
			kind->key(&cfg->peers[i], j, all[n].key);
			all[n++].peer = &cfg->peers[i];
		}
	}
	qsort(all, n, sizeof(*all), compare_owned);
	for (size_t i = 1; i < n && ok; i++) {
		if (all[i].peer == all[i - 1].peer || memcmp(all[i].key, all[i - 1].key, OWNED_KEY_LEN))
			continue;
		char buf[CIDR_STR_MAX];
		kind->text(all[i].key, buf);
		ok = config_fail_at(p, all[i].peer->line, "%s %s is also in the [Peer] at line %u: %s", kind->name, buf,
				    all[i - 1].peer->line, kind->rule);
	}
	free(all);
	return ok;
}

static bool check_interface(struct config_parser *p)
{
	struct interface_config *cfg = p->cfg;
	char buf[CIDR_STR_MAX];

	if (!p->interface_line) {
		snprintf(p->err, p->errlen, "%s: no [Interface] section", p->name);
		return false;
	}
	if (!cfg->has_private_key)
		return config_fail_at(p, p->interface_line, "[Interface] has no PrivateKey");
	if (!cfg->ethernet && cfg->bridge[0])
		return config_fail_at(p, p->bridge_line, "Bridge needs Mode = tap (a TUN carries no Ethernet frames)");
	for (size_t i = 0; i < cfg->n_peers && !cfg->ethernet; i++)
		if (cfg->peers[i].n_allowed_macs)
			return config_fail_at(p, cfg->peers[i].line,
					      "[Peer] has AllowedMACs, which need Mode = tap in [Interface]");
	if (cfg->ethernet && cfg->reply_ping)
		return config_fail_at(p, p->interface_line,
				      "ReplyPing needs Mode = tun (a TAP answers through the kernel)");
	if (cfg->mtu && cfg->mtu < CONFIG_MTU_MIN_IPV6) {
		for (size_t i = 0; i < cfg->n_addresses; i++) {
			if (cfg->addresses[i].family != AF_INET6)
				continue;
			cidr_format(buf, &cfg->addresses[i]);
			return config_fail_at(p, p->mtu_line,
					      "MTU %u is too small for IPv6 Address '%s' (IPv6 needs %u or more)",
					      cfg->mtu, buf, CONFIG_MTU_MIN_IPV6);
		}
	}
	return true;
}

bool config_check(struct config_parser *p)
{
	return check_interface(p) && check_duplicate_peers(p) && check_not_self(p) && check_owned_once(p, &owned_ips) &&
	       check_owned_once(p, &owned_macs);
}
