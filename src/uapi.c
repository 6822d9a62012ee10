// SPDX-License-Identifier: MIT
/*
 * WireGuard's cross-platform configuration protocol over a UNIX stream
 * socket. A request is an operation line ("get=1" or "set=1"), key=value
 * lines for a set, and an empty line; the reply is the get's key=value lines
 * (if any), then "errno=N" and an empty line.
 *
 * N is 0 or a negative errno: wireguard-go writes its IpcError codes, which
 * are -EINVAL, -EPROTO, -EADDRINUSE, -EIO (ipc/uapi_unix.go), and wg(8)
 * reads the reply of a set with fscanf("errno=%d") and sets errno = -N
 * (wireguard-tools src/ipc-uapi.h). sluice replies the same way; its client
 * accepts either sign.
 *
 * A set request is parsed, line by line as it arrives, into an
 * interface_config up to its empty line (or the end of the stream after a
 * whole line, as wireguard-go allows) before anything is applied: a bad
 * line rejects the request and changes nothing (wireguard-go applies lines
 * as they come).
 */
#include "uapi.h"

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto.h"
#include "encoding.h"
#include "l2.h"
#include "sbuf.h"

/* The client waits this long for a daemon that stopped answering. */
#define UAPI_CLIENT_TIMEOUT_S 10

/* ------------------------------------------------------------------ */
/* Socket paths */

const char *uapi_dir(void)
{
	/* secure_getenv: a set-user-ID caller never takes the directory from
	 * the environment. */
	const char *dir = secure_getenv(UAPI_DIR_ENV);

	return dir && *dir ? dir : UAPI_DIR;
}

/* Linux's rule for interface names (dev_valid_name), which also keeps the
 * name from leaving the socket directory. */
static bool ifname_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int uapi_socket_path(char *out, size_t outlen, const char *ifname)
{
	int n;

	if (!ifname_valid(ifname))
		return -EINVAL;
	n = snprintf(out, outlen, "%s/%s.sock", uapi_dir(), ifname);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

static int socket_address(struct sockaddr_un *addr, const char *ifname)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path is 108 bytes; the path and its NUL must fit. */
	return uapi_socket_path(addr->sun_path, sizeof(addr->sun_path), ifname);
}

/* ------------------------------------------------------------------ */
/* Server */

/* The socket file takes its mode from the umask at bind(): 0777 & ~0177 is
 * 0600 (fchmod on a socket does not reach the file, and a chmod after bind
 * would leave a window). umask is process-wide, which is fine at start-up,
 * before any thread exists. */
static int bind_private(int fd, const struct sockaddr_un *addr)
{
	mode_t old = umask(0177);
	int rc = bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
	int e = errno;

	umask(old);
	return rc < 0 ? -e : 0;
}

/* After bind failed with EADDRINUSE: a live daemon answers (-EADDRINUSE);
 * a dead one left a socket nobody listens on (ECONNREFUSED), which is
 * removed (returns 0). Anything but a socket is left alone. */
static int remove_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, rc, e;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	e = errno;
	close(fd);
	/* EAGAIN: a listener whose backlog is full, alive all the same. */
	if (rc == 0 || e == EAGAIN)
		return -EADDRINUSE;
	if (e != ECONNREFUSED)
		return e == ENOENT ? 0 : -e;
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int uapi_listen(const char *ifname)
{
	struct sockaddr_un addr;
	const char *dir = uapi_dir();
	int fd, rc;

	rc = socket_address(&addr, ifname);
	if (rc)
		return rc;
	if (mkdir(dir, 0755) == 0) {
		/* mkdir's mode passes through the umask; wg(8) run by any
		 * user lists this directory, as with wireguard-go. */
		if (chmod(dir, 0755) < 0)
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = bind_private(fd, &addr);
	if (rc == -EADDRINUSE) {
		rc = remove_stale_socket(&addr);
		if (rc == 0)
			rc = bind_private(fd, &addr);
	}
	if (rc == 0 && listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		unlink(addr.sun_path);
	}
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

void uapi_close(int listen_fd, const char *ifname)
{
	struct sockaddr_un addr;

	if (listen_fd >= 0)
		close(listen_fd);
	if (socket_address(&addr, ifname) == 0)
		unlink(addr.sun_path);
}

int uapi_remove_stale(const char *ifname)
{
	struct sockaddr_un addr;
	int rc = socket_address(&addr, ifname);

	return rc ? rc : remove_stale_socket(&addr);
}

int uapi_socket_identity(const char *ifname, unsigned long long *dev, unsigned long long *ino)
{
	struct sockaddr_un addr;
	struct stat st;
	int rc = socket_address(&addr, ifname);

	if (rc)
		return rc;
	if (lstat(addr.sun_path, &st) < 0)
		return -errno;
	*dev = (unsigned long long)st.st_dev;
	*ino = (unsigned long long)st.st_ino;
	return 0;
}

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

/* ------------------------------------------------------------------ */
/* Client */

int uapi_connect(const char *ifname)
{
	struct sockaddr_un addr;
	struct timeval tv = { .tv_sec = UAPI_CLIENT_TIMEOUT_S };
	int fd, rc;

	rc = socket_address(&addr, ifname);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A daemon that stopped answering must not hang `sluice show`. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int client_errno(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK ? -ETIMEDOUT : -e;
}

/* Sends a request and reads the reply up to its empty line. On success
 * (the transport worked, whatever the daemon's errno) returns the daemon's
 * -errno and leaves the reply body, without the errno line, in reply. */
static int transact(const char *ifname, const char *req, size_t req_len, struct sbuf *reply)
{
	const char *data, *end = NULL, *line;
	size_t scanned = 0, digits;
	long long value;
	char num[16], *stop;
	int fd, rc = 0;

	fd = uapi_connect(ifname);
	if (fd < 0)
		return fd;
	while (req_len) {
		ssize_t n = send(fd, req, req_len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = client_errno(errno);
			goto out;
		}
		req += n;
		req_len -= (size_t)n;
	}
	while (!end) {
		size_t room = UAPI_REPLY_MAX - sbuf_len(reply), want = room < 65536 ? room : 65536;
		char *dst;
		ssize_t n;

		if (!want) {
			rc = -EMSGSIZE;
			goto out;
		}
		if ((rc = sbuf_reserve(reply, want, &dst)) < 0)
			goto out;
		n = recv(fd, dst, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = client_errno(errno);
			goto out;
		}
		if (n == 0) {
			rc = -EPROTO; /* closed before the reply ended */
			goto out;
		}
		sbuf_commit(reply, (size_t)n);
		data = sbuf_ptr(reply);
		/* Lines are never empty before the end: the first "\n\n"
		 * (or a lone "\n" at the start) ends the reply. */
		if (data[0] == '\n') {
			rc = -EPROTO;
			goto out;
		}
		size_t from = scanned ? scanned - 1 : 0;
		end = memmem(data + from, sbuf_len(reply) - from, "\n\n", 2);
		scanned = sbuf_len(reply);
	}
	/* The last line before the empty one is "errno=N". */
	data = sbuf_ptr(reply);
	line = end;
	while (line > data && line[-1] != '\n')
		line--;
	digits = (size_t)(end - line);
	if (digits < 7 || memcmp(line, "errno=", 6) || (digits -= 6) >= sizeof(num)) {
		rc = -EPROTO;
		goto out;
	}
	memcpy(num, line + 6, digits);
	num[digits] = '\0';
	if (!((num[0] >= '0' && num[0] <= '9') || num[0] == '-')) {
		rc = -EPROTO;
		goto out;
	}
	errno = 0;
	value = strtoll(num, &stop, 10);
	if (*stop || errno || value > 4095 || value < -4095) {
		rc = -EPROTO;
		goto out;
	}
	/* wireguard-go and sluice send -errno; accept a positive one too. */
	rc = value <= 0 ? (int)value : -(int)value;
	/* Keep the body: everything before the errno line. */
	sbuf_consume_end(reply, sbuf_len(reply) - (size_t)(line - data));
out:
	close(fd);
	return rc;
}

int uapi_client_get(const char *ifname, char **out)
{
	return uapi_client_get_ext(ifname, false, out);
}

int uapi_client_get_ext(const char *ifname, bool extended, char **out)
{
	struct sbuf reply;
	int rc;

	*out = NULL;
	sbuf_init(&reply, UAPI_REPLY_MAX);
	rc = transact(ifname, extended ? "get=2\n\n" : "get=1\n\n", 7, &reply);
	/* Hand the block over: it holds the private key in hex, so the caller
	 * wipes it (crypto_wipe) before free. */
	if (rc == 0 && !(*out = sbuf_steal(&reply, NULL)))
		rc = -ENOMEM;
	sbuf_free(&reply);
	return rc;
}

/* op: "set=1\n" or "set=2\n". */
static int client_set(const char *ifname, const char *op, const char *body)
{
	struct sbuf req, reply;
	size_t len = strlen(body);
	int rc;

	/* An empty line would end the request early and the rest would be
	 * taken for a new operation. */
	if (len && (body[len - 1] != '\n' || body[0] == '\n' || strstr(body, "\n\n")))
		return -EINVAL;
	sbuf_init(&req, 6 + UAPI_REQUEST_MAX); /* "set=1\n", then what the daemon takes */
	sbuf_init(&reply, UAPI_REPLY_MAX);
	sbuf_put(&req, op, 6);
	sbuf_put(&req, body, len);
	rc = sbuf_put(&req, "\n", 1); /* the first failure sticks */
	if (rc == 0)
		rc = transact(ifname, sbuf_ptr(&req), sbuf_len(&req), &reply);
	sbuf_free(&reply);
	sbuf_free(&req);
	return rc;
}

int uapi_client_set(const char *ifname, const char *body)
{
	return client_set(ifname, "set=1\n", body);
}

int uapi_client_sync(const char *ifname, const char *body)
{
	return client_set(ifname, "set=2\n", body);
}
