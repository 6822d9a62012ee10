// SPDX-License-Identifier: MIT
/*
 * The wg-quick file, read the way wg(8) and wg-quick(8) read it: '#' starts a
 * comment anywhere, keys and section names are case-insensitive, and
 * whitespace inside a value is dropped ("AllowedIPs = 10.0.0.0/8, fd00::/8").
 * Unlike wg, a key given twice where only one makes sense is an error rather
 * than "last one wins": two ListenPorts in one file are a mistake to report.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_keys.h"
#include "crypto.h"
#include "encoding.h"
#include "l2.h"
#include "secretfile.h"
#include "sbuf.h"

/* How much of an offending value an error message shows. */
#define SHOWN_MAX 96

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER };

static const struct {
	const char *name;
	enum section section;
	bool ignored; /* wg-quick's: read, not acted on, reported */
} keys[K_COUNT] = {
	[K_PRIVATE_KEY] = { "PrivateKey", SECTION_INTERFACE, false },
	[K_LISTEN_PORT] = { "ListenPort", SECTION_INTERFACE, false },
	[K_ADDRESS] = { "Address", SECTION_INTERFACE, false },
	[K_MTU] = { "MTU", SECTION_INTERFACE, false },
	[K_TABLE] = { "Table", SECTION_INTERFACE, false },
	[K_FWMARK] = { "FwMark", SECTION_INTERFACE, false },
	[K_TRANSPORT] = { "Transport", SECTION_INTERFACE, false },
	[K_REPLY_PING] = { "ReplyPing", SECTION_INTERFACE, false },
	[K_FORWARD] = { "Forward", SECTION_INTERFACE, false },
	[K_MODE] = { "Mode", SECTION_INTERFACE, false },
	[K_BRIDGE] = { "Bridge", SECTION_INTERFACE, false },
	[K_SAVE_STATE] = { "SaveState", SECTION_INTERFACE, false },
	[K_USER] = { "User", SECTION_INTERFACE, false },
	[K_DNS] = { "DNS", SECTION_INTERFACE, false },
	[K_PRE_UP] = { "PreUp", SECTION_INTERFACE, false },
	[K_POST_UP] = { "PostUp", SECTION_INTERFACE, false },
	[K_PRE_DOWN] = { "PreDown", SECTION_INTERFACE, false },
	[K_POST_DOWN] = { "PostDown", SECTION_INTERFACE, false },
	[K_SAVE_CONFIG] = { "SaveConfig", SECTION_INTERFACE, true },
	[K_PUBLIC_KEY] = { "PublicKey", SECTION_PEER, false },
	[K_PRESHARED_KEY] = { "PresharedKey", SECTION_PEER, false },
	[K_ALLOWED_IPS] = { "AllowedIPs", SECTION_PEER, false },
	[K_ENDPOINT] = { "Endpoint", SECTION_PEER, false },
	[K_PERSISTENT_KEEPALIVE] = { "PersistentKeepalive", SECTION_PEER, false },
	[K_CIPHER] = { "Cipher", SECTION_PEER, false },
	[K_ALLOWED_MACS] = { "AllowedMACs", SECTION_PEER, false },
};

struct parser {
	struct interface_config *cfg;
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;
	enum section section;
	unsigned interface_line;
	unsigned mtu_line;
	unsigned bridge_line;
	unsigned seen[K_COUNT]; /* line of each single-valued key in the current section, 0 = not yet */
	size_t cap_addresses;
	size_t cap_peers;
	size_t cap_allowed_ips; /* of the current peer */
	size_t cap_allowed_macs;
};

static bool fail_at(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->errlen)
		return false;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

#define fail(p, ...) fail_at((p), (p)->line, __VA_ARGS__)

static bool is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
	       c == '=';
}

/* A 32-byte key is 43 base64 characters and a '='. A run of 40 of them is
 * most likely a key (perhaps a private one under the wrong name, or pasted
 * alone on a line), which an error message must not repeat. No address,
 * port or host name has such a run: '.', ':' and '-' are not base64. */
static bool looks_like_key(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		run = is_b64_char(*s) ? run + 1 : 0;
		if (run >= 40)
			return true;
	}
	return false;
}

/* The value as an error message shows it: quoted, control characters made
 * visible, long ones cut, keys withheld. */
static const char *shown(char out[SHOWN_MAX], const char *value)
{
	size_t o = 0;

	if (looks_like_key(value)) {
		snprintf(out, SHOWN_MAX, "(not shown: it looks like a key)");
		return out;
	}
	out[o++] = '\'';
	for (; *value && o < SHOWN_MAX - 6; value++) {
		unsigned char c = (unsigned char)*value;
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (*value) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* wg(8) drops every whitespace character of a line before parsing. */
static void remove_spaces(char *s)
{
	char *d = s;

	for (; *s; s++)
		if (!is_space(*s))
			*d++ = *s;
	*d = '\0';
}

/* Decimal, or hexadecimal after "0x" when allow_hex. No sign, no spaces. */
bool config_grow(void **array, size_t *cap, size_t n, size_t elem)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return true;
	new_cap = *cap ? *cap * 2 : 4;
	if (new_cap > SIZE_MAX / elem)
		return false;
	/* The old block may hold preshared keys: the one growth step wipes it. */
	p = sbuf_grow_block(*array, *cap * elem, n * elem, new_cap * elem);
	if (!p)
		return false;
	*array = p;
	*cap = new_cap;
	return true;
}

static struct peer_config *current_peer(struct parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

/* Ends the current section; a [Peer] must have named its key. */
static bool end_section(struct parser *p)
{
	if (p->section == SECTION_PEER && !p->seen[K_PUBLIC_KEY])
		return fail_at(p, current_peer(p)->line, "[Peer] has no PublicKey");
	return true;
}

static bool begin_section(struct parser *p, char *header)
{
	char buf[SHOWN_MAX];
	size_t n = strlen(header);
	char *inner;

	if (header[n - 1] != ']')
		return fail(p, "malformed section header (expected [Interface] or [Peer]): %s", shown(buf, header));
	if (!end_section(p))
		return false;
	header[n - 1] = '\0';
	inner = trim(header + 1);
	memset(p->seen, 0, sizeof(p->seen));

	if (!strcasecmp(inner, "Interface")) {
		if (p->interface_line)
			return fail(p, "second [Interface] section (the first is at line %u)", p->interface_line);
		p->interface_line = p->line;
		p->section = SECTION_INTERFACE;
		return true;
	}
	if (!strcasecmp(inner, "Peer")) {
		struct interface_config *cfg = p->cfg;
		if (!config_grow((void **)&cfg->peers, &p->cap_peers, cfg->n_peers, sizeof(*cfg->peers)))
			return fail(p, "out of memory");
		memset(&cfg->peers[cfg->n_peers], 0, sizeof(*cfg->peers));
		cfg->peers[cfg->n_peers].endpoint.addr.sa.sa_family = AF_UNSPEC;
		cfg->peers[cfg->n_peers].line = p->line;
		cfg->n_peers++;
		p->cap_allowed_ips = 0;
		p->cap_allowed_macs = 0;
		p->section = SECTION_PEER;
		return true;
	}
	return fail(p, "unknown section (expected [Interface] or [Peer]): %s", shown(buf, inner));
}

/* Single-valued keys may appear once per section. */
static bool first_time(struct parser *p, enum key_id k)
{
	if (p->seen[k])
		return fail(p, "duplicate %s (first set at line %u)", keys[k].name, p->seen[k]);
	p->seen[k] = p->line;
	return true;
}

/* Calls fn for each comma-separated item; empty items are skipped, as
 * wg-quick's word splitting skips them. */
static bool for_each_item(struct parser *p, char *list, bool (*fn)(struct parser *, char *))
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

static bool add_string(struct parser *p, struct config_strings *list, const char *value)
{
	char *copy = strdup(value);

	if (!copy || !config_grow((void **)&list->items, &list->cap, list->n, sizeof(*list->items))) {
		free(copy);
		return fail(p, "out of memory");
	}
	list->items[list->n++] = copy;
	return true;
}

/* DNS = 192.0.2.53, 2001:db8::53, example.com: addresses are name servers,
 * names search domains, as with wg-quick. */
static bool add_dns(struct parser *p, char *item)
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
		return fail(p, "invalid DNS (expected IP addresses of name servers and search domains): %s",
			    shown(buf, item));
	return add_string(p, &cfg->dns_search, item);
}

static bool add_address(struct parser *p, char *item)
{
	struct interface_config *cfg = p->cfg;
	struct cidr c;
	char buf[SHOWN_MAX];

	if (!cidr_parse(&c, item, true))
		return fail(p, "invalid Address: %s", shown(buf, item));
	if (!config_grow((void **)&cfg->addresses, &p->cap_addresses, cfg->n_addresses, sizeof(c)))
		return fail(p, "out of memory");
	cfg->addresses[cfg->n_addresses++] = c;
	return true;
}

static bool add_allowed_ip(struct parser *p, char *item)
{
	struct peer_config *peer = current_peer(p);
	struct cidr c;
	char buf[SHOWN_MAX];

	if (!cidr_parse(&c, item, true))
		return fail(p, "invalid AllowedIPs: %s", shown(buf, item));
	cidr_mask(&c);
	if (!config_grow((void **)&peer->allowed_ips, &p->cap_allowed_ips, peer->n_allowed_ips, sizeof(c)))
		return fail(p, "out of memory");
	peer->allowed_ips[peer->n_allowed_ips++] = c;
	return true;
}

static bool add_allowed_mac(struct parser *p, char *item)
{
	struct peer_config *peer = current_peer(p);
	struct config_mac m;
	char buf[SHOWN_MAX];

	if (!l2_mac_parse(m.addr, item))
		return fail(p, "invalid AllowedMACs (expected addresses like 02:00:5e:00:53:01): %s", shown(buf, item));
	if (l2_is_group(m.addr))
		return fail(p, "invalid AllowedMACs (a multicast or broadcast address is never a source): %s",
			    shown(buf, item));
	if (!config_grow((void **)&peer->allowed_macs, &p->cap_allowed_macs, peer->n_allowed_macs, sizeof(m)))
		return fail(p, "out of memory");
	peer->allowed_macs[peer->n_allowed_macs++] = m;
	return true;
}

static void note_ignored(struct parser *p, enum key_id k)
{
	struct interface_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_unsupported_keys; i++)
		if (cfg->unsupported_keys[i].name == keys[k].name)
			return;
	if (cfg->n_unsupported_keys < CONFIG_UNSUPPORTED_MAX) {
		cfg->unsupported_keys[cfg->n_unsupported_keys].name = keys[k].name;
		cfg->unsupported_keys[cfg->n_unsupported_keys].line = p->line;
		cfg->n_unsupported_keys++;
	}
}

static bool interface_key(struct parser *p, enum key_id k, char *value)
{
	struct interface_config *cfg = p->cfg;
	char buf[SHOWN_MAX];
	uint32_t v;

	if (keys[k].ignored) {
		note_ignored(p, k);
		return true;
	}
	/* A command keeps its spaces; wg-quick, too, takes it as written. */
	if (k == K_PRE_UP || k == K_POST_UP || k == K_PRE_DOWN || k == K_POST_DOWN)
		return add_string(p, &cfg->hooks[k - K_PRE_UP], value);
	remove_spaces(value);
	if (k == K_DNS)
		return for_each_item(p, value, add_dns);
	if (k != K_ADDRESS && !first_time(p, k))
		return false;

	switch (k) {
	case K_PRIVATE_KEY:
		/* Never echo the value: it is, or is meant to be, a secret. */
		if (!key_from_base64(cfg->private_key, value))
			return fail(p, "invalid PrivateKey (not a 44-character base64 key)");
		cfg->has_private_key = true;
		return true;
	case K_LISTEN_PORT:
		if (!parse_u32(value, false, 65535, &v))
			return fail(p, "invalid ListenPort (expected 0..65535, 0 = any): %s", shown(buf, value));
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)v;
		return true;
	case K_ADDRESS:
		return for_each_item(p, value, add_address);
	case K_MTU:
		if (!parse_u32(value, false, CONFIG_MTU_MAX, &v) || v < CONFIG_MTU_MIN)
			return fail(p, "invalid MTU (expected %u..%u; %u or more with an IPv6 Address): %s",
				    CONFIG_MTU_MIN, CONFIG_MTU_MAX, CONFIG_MTU_MIN_IPV6, shown(buf, value));
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
			return fail(p, "invalid Table (expected off, auto or a table number 1..4294967295): %s",
				    shown(buf, value));
		}
		return true;
	case K_FWMARK:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!parse_u32(value, true, UINT32_MAX, &v))
			return fail(p, "invalid FwMark (expected off, a number or 0x followed by hex digits): %s",
				    shown(buf, value));
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
			return fail(p, "invalid Transport (expected udp, tcp or udp,tcp): %s", shown(buf, value));
		return true;
	case K_MODE:
		if (!strcasecmp(value, "tun"))
			cfg->ethernet = false;
		else if (!strcasecmp(value, "tap"))
			cfg->ethernet = true;
		else
			return fail(p, "invalid Mode (expected tun or tap): %s", shown(buf, value));
		return true;
	case K_BRIDGE:
		if (!*value || strlen(value) >= IFNAMSIZ || strchr(value, '/'))
			return fail(p, "invalid Bridge (expected an interface name of at most %d characters): %s",
				    IFNAMSIZ - 1, shown(buf, value));
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
			return fail(p, "invalid %s (expected true or false): %s", keys[k].name, shown(buf, value));
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
			return fail(
				p,
				"invalid User (expected a user name of at most %zu letters, digits, '.', '_', '-'): %s",
				sizeof(cfg->user) - 1, shown(buf, value));
		snprintf(cfg->user, sizeof(cfg->user), "%s", value);
		cfg->user_line = p->line;
		return true;
	default:
		return false; /* not an [Interface] key: the caller checked */
	}
}

static bool peer_key(struct parser *p, enum key_id k, char *value)
{
	struct peer_config *peer = current_peer(p);
	char buf[SHOWN_MAX];
	uint32_t v;

	remove_spaces(value);
	if (k != K_ALLOWED_IPS && k != K_ALLOWED_MACS && !first_time(p, k))
		return false;

	switch (k) {
	case K_PUBLIC_KEY:
		/* Not echoed either: a string that is not a public key may be
		 * a private key put under the wrong name. */
		if (!key_from_base64(peer->public_key, value))
			return fail(p, "invalid PublicKey (not a 44-character base64 key)");
		return true;
	case K_PRESHARED_KEY:
		if (!key_from_base64(peer->preshared_key, value))
			return fail(p, "invalid PresharedKey (not a 44-character base64 key)");
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
			return fail(p, "invalid Endpoint (the scheme may be udp:// or tcp://): %s", shown(buf, value));
		if (!endpoint_split(value, host, sizeof(host), &port))
			return fail(p, "invalid Endpoint (expected host:port or [IPv6]:port, port 1..65535): %s",
				    shown(buf, value));
		/* Numeric endpoints are known now; names wait for config_resolve. */
		if (!endpoint_parse_numeric(&peer->endpoint, value) && value[0] == '[')
			return fail(p, "invalid Endpoint (brackets must hold an IPv6 address): %s", shown(buf, value));
		peer->endpoint_str = strdup(value);
		if (!peer->endpoint_str)
			return fail(p, "out of memory");
		peer->endpoint_line = p->line;
		return true;
	}
	case K_PERSISTENT_KEEPALIVE:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!parse_u32(value, false, 65535, &v))
			return fail(p, "invalid PersistentKeepalive (expected off or 0..65535 seconds): %s",
				    shown(buf, value));
		peer->has_persistent_keepalive = true;
		peer->persistent_keepalive = (uint16_t)v;
		return true;
	case K_CIPHER:
		if (!strcasecmp(value, "chacha20-poly1305"))
			peer->suite = SUITE_CHACHAPOLY;
		else if (!strcasecmp(value, "aes-256-gcm"))
			peer->suite = SUITE_AESGCM;
		else
			return fail(p, "invalid Cipher (expected chacha20-poly1305 or aes-256-gcm): %s",
				    shown(buf, value));
		peer->has_suite = true;
		return true;
	default:
		return false;
	}
}

static bool key_line(struct parser *p, char *line)
{
	char buf[SHOWN_MAX];
	char *eq = strchr(line, '=');
	char *key, *value;
	int k;

	if (!eq)
		return fail(p, "expected 'Key = Value' or a [Section]: %s", shown(buf, line));
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!*key)
		return fail(p, "missing key before '=': %s", shown(buf, value));
	if (p->section == SECTION_NONE)
		return fail(p, "key outside a section (put it under [Interface] or [Peer]): %s", shown(buf, key));

	for (k = 0; k < K_COUNT; k++)
		if (!strcasecmp(key, keys[k].name))
			break;
	const char *here = p->section == SECTION_INTERFACE ? "[Interface]" : "[Peer]";
	if (k == K_COUNT)
		return fail(p, "unknown key %s in %s", shown(buf, key), here);
	if (keys[k].section != p->section)
		return fail(p, "key '%s' belongs in %s, not in %s", keys[k].name,
			    keys[k].section == SECTION_INTERFACE ? "[Interface]" : "[Peer]", here);
	if (p->section == SECTION_INTERFACE)
		return interface_key(p, (enum key_id)k, value);
	return peer_key(p, (enum key_id)k, value);
}

static bool parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return true;
	if (line[0] == '[')
		return begin_section(p, line);
	return key_line(p, line);
}

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
static bool check_duplicate_peers(struct parser *p)
{
	struct interface_config *cfg = p->cfg;
	const struct peer_config **sorted;
	const struct peer_config *dup = NULL, *first = NULL;

	if (cfg->n_peers < 2)
		return true;
	sorted = malloc(cfg->n_peers * sizeof(*sorted));
	if (!sorted)
		return fail_at(p, 0, "out of memory");
	for (size_t i = 0; i < cfg->n_peers; i++)
		sorted[i] = &cfg->peers[i];
	qsort(sorted, cfg->n_peers, sizeof(*sorted), compare_peer_keys);
	/* Equal keys sit together, each run in file order. Report the
	 * earliest repetition in the file, naming the first [Peer] of its run. */
	for (size_t i = 1, run = 0; i < cfg->n_peers; i++) {
		if (memcmp(sorted[i - 1]->public_key, sorted[i]->public_key, 32)) {
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
		return fail_at(p, dup->line, "duplicate [Peer]: PublicKey already used by the [Peer] at line %u: '%s'",
			       first->line, b64);
	}
	return true;
}

/* A peer that is the interface itself would take the interface's own
 * handshakes: refused, where wg would take it silently. */
static bool check_not_self(struct parser *p)
{
	struct interface_config *cfg = p->cfg;
	uint8_t pub[KEY_LEN];
	bool ok = true;

	if (!cfg->has_private_key || !crypto_x25519_public(pub, cfg->private_key))
		return true;
	for (size_t i = 0; i < cfg->n_peers && ok; i++) {
		if (!memcmp(cfg->peers[i].public_key, pub, sizeof(pub)))
			ok = fail_at(p, cfg->peers[i].line,
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
static bool check_owned_once(struct parser *p, const struct owned_kind *kind)
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
		return fail_at(p, 0, "out of memory");
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
		ok = fail_at(p, all[i].peer->line, "%s %s is also in the [Peer] at line %u: %s", kind->name, buf,
			     all[i - 1].peer->line, kind->rule);
	}
	free(all);
	return ok;
}

static bool check_interface(struct parser *p)
{
	struct interface_config *cfg = p->cfg;
	char buf[CIDR_STR_MAX];

	if (!p->interface_line) {
		snprintf(p->err, p->errlen, "%s: no [Interface] section", p->name);
		return false;
	}
	if (!cfg->has_private_key)
		return fail_at(p, p->interface_line, "[Interface] has no PrivateKey");
	if (!cfg->ethernet && cfg->bridge[0])
		return fail_at(p, p->bridge_line, "Bridge needs Mode = tap (a TUN carries no Ethernet frames)");
	for (size_t i = 0; i < cfg->n_peers && !cfg->ethernet; i++)
		if (cfg->peers[i].n_allowed_macs)
			return fail_at(p, cfg->peers[i].line,
				       "[Peer] has AllowedMACs, which need Mode = tap in [Interface]");
	if (cfg->ethernet && cfg->reply_ping)
		return fail_at(p, p->interface_line, "ReplyPing needs Mode = tun (a TAP answers through the kernel)");
	if (cfg->mtu && cfg->mtu < CONFIG_MTU_MIN_IPV6) {
		for (size_t i = 0; i < cfg->n_addresses; i++) {
			if (cfg->addresses[i].family != AF_INET6)
				continue;
			cidr_format(buf, &cfg->addresses[i]);
			return fail_at(p, p->mtu_line,
				       "MTU %u is too small for IPv6 Address '%s' (IPv6 needs %u or more)", cfg->mtu,
				       buf, CONFIG_MTU_MIN_IPV6);
		}
	}
	return true;
}

bool config_parse(struct interface_config *cfg, const char *name, const char *text, size_t len, char *err,
		  size_t errlen)
{
	struct parser p = { .cfg = cfg, .name = name, .err = err, .errlen = errlen };
	struct sbuf line;
	size_t pos = 0;
	bool ok = false;

	memset(cfg, 0, sizeof(*cfg));
	sbuf_init(&line, 0);
	if (errlen)
		err[0] = '\0';
	/* Editors on Windows start files with a UTF-8 byte order mark. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		pos += n + 1;
		p.line++;
		if (memchr(start, '\0', n)) {
			fail(&p, "line contains a NUL byte (is this a text file?)");
			goto out;
		}
		/* A copy to cut up in place; it may hold a key, which the
		 * buffer wipes. */
		char *copy;
		sbuf_reset(&line);
		if (sbuf_put(&line, start, n) || !(copy = sbuf_cstr(&line))) {
			fail(&p, "out of memory");
			goto out;
		}
		if (!parse_line(&p, copy))
			goto out;
	}
	ok = end_section(&p) && check_interface(&p) && check_duplicate_peers(&p) && check_not_self(&p) &&
	     check_owned_once(&p, &owned_ips) && check_owned_once(&p, &owned_macs);
out:
	sbuf_free(&line);
	if (!ok)
		config_free(cfg);
	return ok;
}

bool config_load(struct interface_config *cfg, const char *path, char *err, size_t errlen)
{
	struct sbuf buf;
	mode_t mode;
	bool ok = false;

	memset(cfg, 0, sizeof(*cfg));
	if (!secretfile_read(path, "a configuration file", CONFIG_FILE_MAX, &buf, &mode, err, errlen))
		return false;
	if (!config_parse(cfg, path, sbuf_ptr(&buf), sbuf_len(&buf), err, errlen))
		goto out;
	/* Decided after parsing: a file without a private key may be public. */
	if (cfg->has_private_key && !secretfile_private(path, mode, "private key", err, errlen)) {
		config_free(cfg);
		goto out;
	}
	/* Absolute: the daemon, reading it again on SIGHUP, may have another
	 * working directory. A pipe cannot be read twice. */
	if (S_ISREG(mode) && !(cfg->path = realpath(path, NULL))) {
		config_free(cfg);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ok = true;
out:
	sbuf_free(&buf);
	return ok;
}

bool config_resolve(struct interface_config *cfg, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer_config *peer = &cfg->peers[i];
		int rc;

		if (!peer->endpoint_str)
			continue;
		rc = endpoint_resolve(&peer->endpoint, peer->endpoint_str);
		if (rc == EAI_SYSTEM) {
			snprintf(err, errlen, "%s:%u: cannot resolve Endpoint '%s': %s", name, peer->endpoint_line,
				 peer->endpoint_str, strerror(errno));
			return false;
		}
		if (rc) {
			snprintf(err, errlen, "%s:%u: cannot resolve Endpoint '%s': %s", name, peer->endpoint_line,
				 peer->endpoint_str, gai_strerror(rc));
			return false;
		}
	}
	return true;
}

void config_strings_free(struct config_strings *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void config_free(struct interface_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer_config *peer = &cfg->peers[i];
		free(peer->endpoint_str);
		free(peer->allowed_ips);
		free(peer->allowed_macs);
		crypto_wipe(peer, sizeof(*peer));
	}
	free(cfg->peers);
	free(cfg->addresses);
	free(cfg->path);
	config_strings_free(&cfg->dns_servers);
	config_strings_free(&cfg->dns_search);
	for (int i = 0; i < HOOK_STAGES; i++)
		config_strings_free(&cfg->hooks[i]);
	crypto_wipe(cfg, sizeof(*cfg));
}

bool config_user_valid(const char *name)
{
	size_t n = strlen(name);

	return n && n < sizeof(((struct interface_config *)0)->user) && name[0] != '-' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

const char *config_key_name(enum key_id k)
{
	return (unsigned)k < K_COUNT ? keys[k].name : "?";
}
