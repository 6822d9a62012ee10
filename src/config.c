// SPDX-License-Identifier: MIT
/*
 * The wg-quick file, read the way wg(8) and wg-quick(8) read it: '#' starts a
 * comment anywhere, keys and section names are case-insensitive, and
 * whitespace inside a value is dropped ("AllowedIPs = 10.0.0.0/8, fd00::/8").
 * Unlike wg, a key given twice where only one makes sense is an error rather
 * than "last one wins": two ListenPorts in one file are a mistake to report.
 *
 * Here: the file read (config_load), cut into lines, sections and keys, and
 * the error messages; each key's value is config_value.c's, and the checks
 * of the file as a whole (config_check.c) come after its last line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "crypto.h"
#include "secretfile.h"
#include "sbuf.h"

const struct config_key_info config_key_table[K_COUNT] = {
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

bool config_fail_at(struct config_parser *p, unsigned line, const char *fmt, ...)
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
const char *config_shown(char out[SHOWN_MAX], const char *value)
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
void config_remove_spaces(char *s)
{
	char *d = s;

	for (; *s; s++)
		if (!is_space(*s))
			*d++ = *s;
	*d = '\0';
}

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

/* Ends the current section; a [Peer] must have named its key. */
static bool end_section(struct config_parser *p)
{
	if (p->section == SECTION_PEER && !p->seen[K_PUBLIC_KEY])
		return config_fail_at(p, config_current_peer(p)->line, "[Peer] has no PublicKey");
	return true;
}

static bool begin_section(struct config_parser *p, char *header)
{
	char buf[SHOWN_MAX];
	size_t n = strlen(header);
	char *inner;

	if (header[n - 1] != ']')
		return config_fail(p, "malformed section header (expected [Interface] or [Peer]): %s",
				   config_shown(buf, header));
	if (!end_section(p))
		return false;
	header[n - 1] = '\0';
	inner = trim(header + 1);
	memset(p->seen, 0, sizeof(p->seen));

	if (!strcasecmp(inner, "Interface")) {
		if (p->interface_line)
			return config_fail(p, "second [Interface] section (the first is at line %u)",
					   p->interface_line);
		p->interface_line = p->line;
		p->section = SECTION_INTERFACE;
		return true;
	}
	if (!strcasecmp(inner, "Peer")) {
		struct interface_config *cfg = p->cfg;
		if (!config_grow((void **)&cfg->peers, &p->cap_peers, cfg->n_peers, sizeof(*cfg->peers)))
			return config_fail(p, "out of memory");
		memset(&cfg->peers[cfg->n_peers], 0, sizeof(*cfg->peers));
		cfg->peers[cfg->n_peers].endpoint.addr.sa.sa_family = AF_UNSPEC;
		cfg->peers[cfg->n_peers].line = p->line;
		cfg->n_peers++;
		p->cap_allowed_ips = 0;
		p->cap_allowed_macs = 0;
		p->section = SECTION_PEER;
		return true;
	}
	return config_fail(p, "unknown section (expected [Interface] or [Peer]): %s", config_shown(buf, inner));
}

static bool key_line(struct config_parser *p, char *line)
{
	char buf[SHOWN_MAX];
	char *eq = strchr(line, '=');
	char *key, *value;
	int k;

	if (!eq)
		return config_fail(p, "expected 'Key = Value' or a [Section]: %s", config_shown(buf, line));
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!*key)
		return config_fail(p, "missing key before '=': %s", config_shown(buf, value));
	if (p->section == SECTION_NONE)
		return config_fail(p, "key outside a section (put it under [Interface] or [Peer]): %s",
				   config_shown(buf, key));

	for (k = 0; k < K_COUNT; k++)
		if (!strcasecmp(key, config_key_table[k].name))
			break;
	const char *here = p->section == SECTION_INTERFACE ? "[Interface]" : "[Peer]";
	if (k == K_COUNT)
		return config_fail(p, "unknown key %s in %s", config_shown(buf, key), here);
	if (config_key_table[k].section != p->section)
		return config_fail(p, "key '%s' belongs in %s, not in %s", config_key_table[k].name,
				   config_key_table[k].section == SECTION_INTERFACE ? "[Interface]" : "[Peer]", here);
	if (p->section == SECTION_INTERFACE)
		return config_interface_key(p, (enum key_id)k, value);
	return config_peer_key(p, (enum key_id)k, value);
}

static bool parse_line(struct config_parser *p, char *line)
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

bool config_parse(struct interface_config *cfg, const char *name, const char *text, size_t len, char *err,
		  size_t errlen)
{
	struct config_parser p = { .cfg = cfg, .name = name, .err = err, .errlen = errlen };
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
			config_fail(&p, "line contains a NUL byte (is this a text file?)");
			goto out;
		}
		/* A copy to cut up in place; it may hold a key, which the
		 * buffer wipes. */
		char *copy;
		sbuf_reset(&line);
		if (sbuf_put(&line, start, n) || !(copy = sbuf_cstr(&line))) {
			config_fail(&p, "out of memory");
			goto out;
		}
		if (!parse_line(&p, copy))
			goto out;
	}
	ok = end_section(&p) && config_check(&p);
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
	return (unsigned)k < K_COUNT ? config_key_table[k].name : "?";
}
