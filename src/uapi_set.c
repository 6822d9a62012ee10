// SPDX-License-Identifier: MIT
/*
 * A UAPI set request, read and written. set=1 is WireGuard's (wg set,
 * wg setconf): it edits; set=2 is sluice's (sluice syncconf): a whole
 * configuration, with sluice's own keys (uapi.h lists them).
 *
 * A set request is parsed, line by line as it arrives, into an
 * interface_config up to its empty line (or the end of the stream after a
 * whole line, as wireguard-go allows) before anything is applied: a bad
 * line rejects the request and changes nothing (wireguard-go applies lines
 * as they come). Lines may hold keys: what is kept of them is wiped.
 */
#include "uapi.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "encoding.h"
#include "l2.h"
#include "sbuf.h"

/* ------------------------------------------------------------------ */
/* Parsing a set request */

static bool key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(key, name, len);
}

const char *uapi_transports_name(unsigned transports)
{
	if (transports == TRANSPORT_TCP)
		return "tcp";
	return transports & TRANSPORT_TCP ? "udp,tcp" : "udp";
}

bool uapi_transports_parse(const char *s, unsigned *transports)
{
	if (!strcmp(s, "udp"))
		*transports = TRANSPORT_UDP;
	else if (!strcmp(s, "tcp"))
		*transports = TRANSPORT_TCP;
	else if (!strcmp(s, "udp,tcp"))
		*transports = TRANSPORT_UDP | TRANSPORT_TCP;
	else
		return false;
	return true;
}

const char *uapi_suite_name(enum cipher_suite suite)
{
	return suite == SUITE_AESGCM ? "aes-256-gcm" : "chacha20-poly1305";
}

bool uapi_suite_parse(const char *s, enum cipher_suite *suite)
{
	if (!strcmp(s, "chacha20-poly1305"))
		*suite = SUITE_CHACHAPOLY;
	else if (!strcmp(s, "aes-256-gcm"))
		*suite = SUITE_AESGCM;
	else
		return false;
	return true;
}

/* set=2's keys of the interface, beyond set=1's. */
static int device_line_ext(struct interface_config *cfg, size_t *cap_addresses, const char *key, size_t klen,
			   const char *value)
{
	uint32_t v;

	if (key_is(key, klen, UAPI_KEY_LISTEN_TRANSPORT)) {
		if (!uapi_transports_parse(value, &cfg->transports))
			return EINVAL;
	} else if (key_is(key, klen, UAPI_KEY_ADDRESS)) {
		struct cidr c;
		if (!cidr_parse(&c, value, false))
			return EINVAL;
		if (!config_grow((void **)&cfg->addresses, cap_addresses, cfg->n_addresses, sizeof(c)))
			return ENOMEM;
		cfg->addresses[cfg->n_addresses++] = c;
	} else if (key_is(key, klen, UAPI_KEY_MTU)) {
		if (!parse_u32(value, false, CONFIG_MTU_MAX, &v) || v < CONFIG_MTU_MIN)
			return EINVAL;
		cfg->mtu = v;
	} else if (key_is(key, klen, UAPI_KEY_TABLE)) {
		if (!strcmp(value, "off")) {
			cfg->table = TABLE_OFF;
		} else if (!strcmp(value, "auto")) {
			cfg->table = TABLE_AUTO;
		} else if (parse_u32(value, false, UINT32_MAX, &v) && v) {
			cfg->table = TABLE_ID;
			cfg->table_id = v;
		} else {
			return EINVAL;
		}
	} else if (key_is(key, klen, UAPI_KEY_REPLY_PING)) {
		if (strcmp(value, "true") && strcmp(value, "false"))
			return EINVAL;
		cfg->reply_ping = !strcmp(value, "true");
	} else if (key_is(key, klen, UAPI_KEY_MODE)) {
		if (strcmp(value, "tun") && strcmp(value, "tap"))
			return EINVAL;
		cfg->ethernet = !strcmp(value, "tap");
	} else if (key_is(key, klen, UAPI_KEY_BRIDGE)) {
		if (!*value || strlen(value) >= sizeof(cfg->bridge))
			return EINVAL;
		snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", value);
	} else {
		return EINVAL;
	}
	return 0;
}

static int device_line(struct interface_config *cfg, bool extended, size_t *cap_addresses, const char *key, size_t klen,
		       const char *value)
{
	uint32_t v;

	if (key_is(key, klen, "private_key")) {
		/* All zeros is how wg(8) says "remove the private key". */
		if (!key_from_hex(cfg->private_key, value))
			return EINVAL;
		cfg->has_private_key = true;
	} else if (key_is(key, klen, "listen_port")) {
		if (!parse_u32(value, false, 65535, &v))
			return EINVAL;
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)v;
	} else if (key_is(key, klen, "fwmark")) {
		if (!parse_u32(value, false, UINT32_MAX, &v))
			return EINVAL;
		cfg->has_fwmark = true;
		cfg->fwmark = v;
	} else if (key_is(key, klen, "replace_peers") && !extended) {
		if (strcmp(value, "true"))
			return EINVAL;
		cfg->replace_peers = true;
	} else if (extended) {
		return device_line_ext(cfg, cap_addresses, key, klen, value);
	} else {
		return EINVAL; /* unknown, or a peer's key before any public_key */
	}
	return 0;
}

bool uapi_add_mac(struct peer_config *peer, const char *value)
{
	struct config_mac m;
	/* Few per peer: grown one at a time (config_grow doubles from n). */
	size_t cap = peer->n_allowed_macs;

	if (!l2_mac_parse(m.addr, value) || l2_is_group(m.addr))
		return false;
	if (!config_grow((void **)&peer->allowed_macs, &cap, peer->n_allowed_macs, sizeof(m)))
		return false;
	peer->allowed_macs[peer->n_allowed_macs++] = m;
	return true;
}

/* set=2: an endpoint may name its transport. */
static int endpoint_line_ext(struct peer_config *peer, const char *value)
{
	peer->endpoint_transport = TRANSPORT_UDP;
	if (!strncmp(value, "tcp://", 6)) {
		peer->endpoint_transport = TRANSPORT_TCP;
		value += 6;
	} else if (!strncmp(value, "udp://", 6)) {
		value += 6;
	}
	return endpoint_parse_numeric(&peer->endpoint, value) ? 0 : EINVAL;
}

static int peer_line(struct peer_config *peer, bool extended, size_t *cap_ips, const char *key, size_t klen,
		     const char *value)
{
	uint32_t v;

	/* A whole configuration (set=2) says what each peer is; it does not
	 * edit one. */
	if (extended && (key_is(key, klen, "remove") || key_is(key, klen, "update_only") ||
			 key_is(key, klen, "replace_allowed_ips")))
		return EINVAL;
	if (extended && key_is(key, klen, "endpoint"))
		return endpoint_line_ext(peer, value);
	if (extended && key_is(key, klen, UAPI_KEY_CIPHER)) {
		if (!uapi_suite_parse(value, &peer->suite))
			return EINVAL;
		peer->has_suite = true;
		return 0;
	}
	if (extended && key_is(key, klen, UAPI_KEY_ALLOWED_MAC))
		return uapi_add_mac(peer, value) ? 0 : EINVAL;
	if (key_is(key, klen, "remove")) {
		if (strcmp(value, "true"))
			return EINVAL;
		peer->remove = true;
	} else if (key_is(key, klen, "update_only")) {
		if (strcmp(value, "true"))
			return EINVAL;
		peer->update_only = true;
	} else if (key_is(key, klen, "preshared_key")) {
		if (!key_from_hex(peer->preshared_key, value))
			return EINVAL;
		peer->has_preshared_key = true;
	} else if (key_is(key, klen, "endpoint")) {
		/* Numeric only: wg(8) resolves names before it sends. */
		if (!endpoint_parse_numeric(&peer->endpoint, value))
			return EINVAL;
	} else if (key_is(key, klen, "persistent_keepalive_interval")) {
		if (!parse_u32(value, false, 65535, &v))
			return EINVAL;
		peer->has_persistent_keepalive = true;
		peer->persistent_keepalive = (uint16_t)v;
	} else if (key_is(key, klen, "replace_allowed_ips")) {
		if (strcmp(value, "true"))
			return EINVAL;
		peer->replace_allowed_ips = true;
	} else if (key_is(key, klen, "allowed_ip")) {
		struct cidr c;
		if (!cidr_parse(&c, value, false))
			return EINVAL;
		cidr_mask(&c);
		if (!config_grow((void **)&peer->allowed_ips, cap_ips, peer->n_allowed_ips, sizeof(c)))
			return ENOMEM;
		peer->allowed_ips[peer->n_allowed_ips++] = c;
	} else if (key_is(key, klen, "protocol_version")) {
		if (strcmp(value, "1"))
			return EINVAL;
	} else {
		return EINVAL;
	}
	return 0;
}

static int new_peer(struct interface_config *cfg, size_t *cap_peers, const char *value, unsigned line)
{
	struct peer_config *peer;

	if (!config_grow((void **)&cfg->peers, cap_peers, cfg->n_peers, sizeof(*cfg->peers)))
		return ENOMEM;
	peer = &cfg->peers[cfg->n_peers];
	memset(peer, 0, sizeof(*peer));
	peer->endpoint.addr.sa.sa_family = AF_UNSPEC;
	peer->line = line;
	if (!key_from_hex(peer->public_key, value))
		return EINVAL;
	cfg->n_peers++;
	return 0;
}

void uapi_set_parser_init(struct uapi_set_parser *p)
{
	uapi_set_parser_init_ext(p, false);
}

void uapi_set_parser_init_ext(struct uapi_set_parser *p, bool extended)
{
	memset(p, 0, sizeof(*p));
	p->extended = extended;
}

void uapi_set_parser_free(struct uapi_set_parser *p)
{
	config_free(&p->cfg);
	crypto_wipe(p, sizeof(*p)); /* the partial line may hold a key */
}

/* One whole line, without its newline. A long one (past UAPI_LINE_MAX) comes
 * as its verdict only: nothing that long is valid, and what makes it EPROTO
 * rather than EINVAL (no '=', a NUL) is known without keeping it. */
static void take_line(struct uapi_set_parser *p, const char *start, size_t n, bool long_line, bool long_eq,
		      bool long_nul)
{
	char value[UAPI_VALUE_MAX + 1];
	const char *eq;
	size_t klen, vlen;
	int e;

	p->line++;
	if (n == 0 && !long_line) {
		p->done = true; /* the empty line ends the request */
		return;
	}
	if (p->error)
		return; /* only looking for the end now */
	if (long_line) {
		p->error = long_nul || !long_eq ? EPROTO : EINVAL;
		return;
	}
	eq = memchr(start, '=', n);
	if (!eq || memchr(start, '\0', n)) {
		p->error = EPROTO;
		return;
	}
	vlen = n - (size_t)(eq + 1 - start);
	if (vlen > UAPI_VALUE_MAX) {
		p->error = EINVAL;
		return;
	}
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
	klen = (size_t)(eq - start);

	if (key_is(start, klen, "public_key")) {
		e = new_peer(&p->cfg, &p->cap_peers, value, p->line);
		p->cap_ips = 0;
	} else if (p->cfg.n_peers == 0) {
		e = device_line(&p->cfg, p->extended, &p->cap_addresses, start, klen, value);
	} else {
		e = peer_line(&p->cfg.peers[p->cfg.n_peers - 1], p->extended, &p->cap_ips, start, klen, value);
	}
	crypto_wipe(value, sizeof(value));
	p->error = e;
}

/* Keeps a piece of a line that has not ended yet. */
static void keep_piece(struct uapi_set_parser *p, const char *piece, size_t n)
{
	p->pending = true;
	if (!p->long_line && p->partial_len + n > sizeof(p->partial)) {
		p->long_line = true;
		p->long_eq = memchr(p->partial, '=', p->partial_len) != NULL;
		p->long_nul = memchr(p->partial, '\0', p->partial_len) != NULL;
		crypto_wipe(p->partial, sizeof(p->partial));
		p->partial_len = 0;
	}
	if (p->long_line) {
		p->long_eq = p->long_eq || memchr(piece, '=', n);
		p->long_nul = p->long_nul || memchr(piece, '\0', n);
		return;
	}
	memcpy(p->partial + p->partial_len, piece, n);
	p->partial_len += n;
}

size_t uapi_set_parser_feed(struct uapi_set_parser *p, const char *data, size_t len)
{
	size_t pos = 0;

	while (pos < len && !p->done) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		if (!nl) {
			keep_piece(p, start, n);
			return len;
		}
		pos += n + 1;
		if (!p->pending) {
			/* The usual case: a whole line in what came, parsed where it lies. */
			take_line(p, start, n, false, false, false);
			continue;
		}
		keep_piece(p, start, n);
		take_line(p, p->partial, p->partial_len, p->long_line, p->long_eq, p->long_nul);
		crypto_wipe(p->partial, p->partial_len);
		p->partial_len = 0;
		p->pending = p->long_line = p->long_eq = p->long_nul = false;
	}
	return pos;
}

int uapi_set_parser_finish(struct uapi_set_parser *p, struct interface_config *cfg)
{
	int e = p->error;

	if (!e && p->pending)
		e = EPROTO; /* a line cut off may be a truncated value */
	memset(cfg, 0, sizeof(*cfg));
	if (!e) {
		*cfg = p->cfg;
		memset(&p->cfg, 0, sizeof(p->cfg));
	}
	uapi_set_parser_free(p);
	return e;
}

int uapi_parse_set(struct interface_config *cfg, const char *text, size_t len)
{
	return uapi_parse_set_ext(cfg, text, len, false);
}

int uapi_parse_set_ext(struct interface_config *cfg, const char *text, size_t len, bool extended)
{
	struct uapi_set_parser p;
	size_t taken;

	uapi_set_parser_init_ext(&p, extended);
	taken = uapi_set_parser_feed(&p, text, len);
	if (p.done && taken < len && !p.error)
		p.error = EPROTO; /* nothing may follow the empty line */
	/* Given whole, the last line needs no newline. */
	if (p.pending)
		uapi_set_parser_feed(&p, "\n", 1);
	return uapi_set_parser_finish(&p, cfg);
}

/* ------------------------------------------------------------------ */
/* Writing a set=2 request */

static void put_hex_key(struct sbuf *out, const char *name, const uint8_t key[KEY_LEN])
{
	char hex[KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	sbuf_putf(out, "%s=%s\n", name, hex);
	crypto_wipe(hex, sizeof(hex));
}

int uapi_format_sync(struct sbuf *out, const struct interface_config *cfg)
{
	char text[ENDPOINT_STR_MAX > CIDR_STR_MAX ? ENDPOINT_STR_MAX : CIDR_STR_MAX];

	if (cfg->has_private_key)
		put_hex_key(out, "private_key", cfg->private_key);
	if (cfg->has_listen_port && cfg->listen_port)
		sbuf_putf(out, "listen_port=%u\n", cfg->listen_port);
	if (cfg->has_fwmark)
		sbuf_putf(out, "fwmark=%u\n", cfg->fwmark);
	sbuf_putf(out, UAPI_KEY_LISTEN_TRANSPORT "=%s\n",
		  uapi_transports_name(cfg->transports ? cfg->transports : TRANSPORT_UDP));
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		cidr_format(text, &cfg->addresses[i]);
		sbuf_putf(out, UAPI_KEY_ADDRESS "=%s\n", text);
	}
	if (cfg->mtu)
		sbuf_putf(out, UAPI_KEY_MTU "=%u\n", cfg->mtu);
	if (cfg->table == TABLE_OFF)
		sbuf_putf(out, UAPI_KEY_TABLE "=off\n");
	else if (cfg->table == TABLE_ID)
		sbuf_putf(out, UAPI_KEY_TABLE "=%u\n", cfg->table_id);
	if (cfg->reply_ping)
		sbuf_putf(out, UAPI_KEY_REPLY_PING "=true\n");
	sbuf_putf(out, UAPI_KEY_MODE "=%s\n", cfg->ethernet ? "tap" : "tun");
	if (cfg->bridge[0])
		sbuf_putf(out, UAPI_KEY_BRIDGE "=%s\n", cfg->bridge);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *peer = &cfg->peers[i];
		put_hex_key(out, "public_key", peer->public_key);
		if (peer->has_preshared_key)
			put_hex_key(out, "preshared_key", peer->preshared_key);
		if (peer->endpoint.addr.sa.sa_family != AF_UNSPEC) {
			endpoint_format(text, &peer->endpoint);
			sbuf_putf(out, "endpoint=%s%s\n", peer->endpoint_transport == TRANSPORT_TCP ? "tcp://" : "",
				  text);
		}
		if (peer->has_persistent_keepalive)
			sbuf_putf(out, "persistent_keepalive_interval=%u\n", peer->persistent_keepalive);
		if (peer->has_suite)
			sbuf_putf(out, UAPI_KEY_CIPHER "=%s\n", uapi_suite_name(peer->suite));
		for (size_t j = 0; j < peer->n_allowed_ips; j++) {
			cidr_format(text, &peer->allowed_ips[j]);
			sbuf_putf(out, "allowed_ip=%s\n", text);
		}
		for (size_t j = 0; j < peer->n_allowed_macs; j++) {
			l2_mac_string(text, peer->allowed_macs[j].addr);
			sbuf_putf(out, UAPI_KEY_ALLOWED_MAC "=%s\n", text);
		}
	}
	return sbuf_error(out);
}
