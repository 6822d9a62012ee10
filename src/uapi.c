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
 * A set request is read whole, up to its empty line (or the end of the
 * stream after a whole line, as wireguard-go allows), and parsed into an
 * interface_config before anything is applied: a bad line rejects the
 * request and changes nothing (wireguard-go applies lines as they come).
 */
#include "uapi.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "encoding.h"

/* What one call of uapi_accept may spend on its clients, all together. */
#define UAPI_BUDGET_MS 1000
/* The largest set request served: about 100000 peers with a few allowed
 * IPs each. The socket is root's alone; this only bounds a runaway. */
#define UAPI_REQUEST_MAX (32u << 20)
/* The client's limit on a reply (a get with very many peers). */
#define UAPI_REPLY_MAX (256u << 20)
/* The client waits this long for a daemon that stopped answering. */
#define UAPI_CLIENT_TIMEOUT_S 10
/* No value of any key is longer: "[v6%ifname]:65535" is 63 characters. */
#define UAPI_VALUE_MAX 128

/* Request and reply buffers hold keys in hex: wipe what is let go. */
struct buf {
	char *data;
	size_t len, cap;
};

static bool buf_reserve(struct buf *b, size_t extra, size_t max)
{
	size_t need, cap;
	char *p;

	if (extra > max || b->len > max - extra)
		return false;
	need = b->len + extra;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > max + 1)
		cap = max + 1;
	p = malloc(cap);
	if (!p)
		return false;
	if (b->data) {
		memcpy(p, b->data, b->len);
		crypto_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void buf_free(struct buf *b)
{
	if (b->data) {
		crypto_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static void buf_consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	crypto_wipe(b->data + b->len, n);
}

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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd until the deadline; false on timeout or error. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = events };
		int rc;

		if (left <= 0)
			return false;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc > 0;
	}
}

static bool send_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, deadline))
				continue;
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static bool send_errno(int fd, int positive_errno, int64_t deadline)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "errno=%d\n\n", -positive_errno);

	return send_all(fd, line, (size_t)n, deadline);
}

static bool serve_get(int fd, const struct uapi_ops *ops, bool extended, int64_t deadline)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	bool ok;

	if (!f)
		return send_errno(fd, ENOMEM, deadline);
	ops->get(ops->ctx, f);
	if (extended && ops->get_extended)
		ops->get_extended(ops->ctx, f);
	if (fclose(f) != 0) {
		free(body);
		return send_errno(fd, EIO, deadline);
	}
	/* The protocol is lines: a body that forgot its last newline would
	 * glue itself to the errno line. */
	ok = send_all(fd, body, len, deadline) &&
	     (len == 0 || body[len - 1] == '\n' || send_all(fd, "\n", 1, deadline)) &&
	     send_errno(fd, 0, deadline);
	crypto_wipe(body, len);
	free(body);
	return ok;
}

static bool serve_set(int fd, const struct uapi_ops *ops, const char *body, size_t len, int64_t deadline)
{
	struct interface_config cfg;
	int e = uapi_parse_set(&cfg, body, len);

	if (e == 0)
		e = ops->set(ops->ctx, &cfg);
	config_free(&cfg);
	return send_errno(fd, e < 0 ? -e : e, deadline);
}

/* Serves requests on one connection until the client closes it, sends
 * something that is not a request, or the deadline passes. */
static void serve(int fd, const struct uapi_ops *ops, int64_t deadline)
{
	struct buf in = { 0 };
	size_t scanned = 0; /* how much of a set request was searched for its end */

	for (;;) {
		/* Complete requests already buffered. */
		while (in.len >= 6) {
			if (!memcmp(in.data, "get=1\n", 6) || !memcmp(in.data, "get=2\n", 6)) {
				bool extended = in.data[4] == '2';
				if (in.len < 7)
					break;
				/* A get has no keys: anything but the empty
				 * line is answered EINVAL, then dropped. */
				if (in.data[6] != '\n') {
					send_errno(fd, EINVAL, deadline);
					goto out;
				}
				buf_consume(&in, 7);
				if (!serve_get(fd, ops, extended, deadline))
					goto out;
			} else if (!memcmp(in.data, "set=1\n", 6)) {
				/* The body ends at the first empty line:
				 * "\n\n" from the operation line's newline on. */
				size_t from = scanned > 6 ? scanned - 1 : 5;
				const char *end = memmem(in.data + from, in.len - from, "\n\n", 2);
				if (!end) {
					scanned = in.len;
					break;
				}
				scanned = 0;
				size_t body_end = (size_t)(end - in.data) + 1;
				if (!serve_set(fd, ops, in.data + 6, body_end > 6 ? body_end - 6 : 0, deadline))
					goto out;
				buf_consume(&in, body_end + 1);
			} else {
				goto out; /* unknown operation: hang up, as wireguard-go does */
			}
		}
		if (in.len && in.len < 6 && memcmp(in.data, "get=1\n", in.len) && memcmp(in.data, "get=2\n", in.len) &&
		    memcmp(in.data, "set=1\n", in.len))
			goto out;

		if (!buf_reserve(&in, 4096, UAPI_REQUEST_MAX))
			goto out;
		ssize_t n = recv(fd, in.data + in.len, in.cap - in.len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline))
				continue;
			goto out;
		}
		if (n == 0) {
			/* The client stopped sending (it may still read):
			 * wireguard-go takes the end of the stream for the
			 * empty line, and scripts rely on it (printf
			 * 'set=1\nlisten_port=1\n' | nc -U). So does sluice,
			 * when the request ends with a whole line; a line cut
			 * off may be a truncated value, and is refused. */
			if (in.len >= 6 && !memcmp(in.data, "set=1\n", 6)) {
				if (in.data[in.len - 1] == '\n')
					serve_set(fd, ops, in.data + 6, in.len - 6, deadline);
				else
					send_errno(fd, EPROTO, deadline);
			}
			goto out;
		}
		in.len += (size_t)n;
	}
out:
	buf_free(&in);
}

void uapi_accept(int listen_fd, const struct uapi_ops *ops)
{
	int64_t deadline = now_ms() + UAPI_BUDGET_MS;

	/* Connections left when the budget is spent stay in the backlog; the
	 * listening socket is still readable and the next round takes them. */
	while (now_ms() < deadline) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		serve(fd, ops, deadline);
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* Parsing a set request */

static bool parse_decimal(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(key, name, len);
}

static int device_line(struct interface_config *cfg, const char *key, size_t klen, const char *value)
{
	uint32_t v;

	if (key_is(key, klen, "private_key")) {
		/* All zeros is how wg(8) says "remove the private key". */
		if (!key_from_hex(cfg->private_key, value))
			return EINVAL;
		cfg->has_private_key = true;
	} else if (key_is(key, klen, "listen_port")) {
		if (!parse_decimal(value, 65535, &v))
			return EINVAL;
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)v;
	} else if (key_is(key, klen, "fwmark")) {
		if (!parse_decimal(value, UINT32_MAX, &v))
			return EINVAL;
		cfg->has_fwmark = true;
		cfg->fwmark = v;
	} else if (key_is(key, klen, "replace_peers")) {
		if (strcmp(value, "true"))
			return EINVAL;
		cfg->replace_peers = true;
	} else {
		return EINVAL; /* unknown, or a peer's key before any public_key */
	}
	return 0;
}

static int peer_line(struct peer_config *peer, size_t *cap_ips, const char *key, size_t klen, const char *value)
{
	uint32_t v;

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
		if (!parse_decimal(value, 65535, &v))
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

int uapi_parse_set(struct interface_config *cfg, const char *text, size_t len)
{
	char value[UAPI_VALUE_MAX + 1];
	size_t pos = 0, cap_peers = 0, cap_ips = 0;
	unsigned line = 0;
	int e = 0;

	memset(cfg, 0, sizeof(*cfg));
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		const char *eq;
		size_t vlen;

		pos += n + 1;
		line++;
		if (n == 0) {
			/* The empty line ends the request; nothing may follow. */
			e = pos < len ? EPROTO : 0;
			break;
		}
		eq = memchr(start, '=', n);
		if (!eq || memchr(start, '\0', n)) {
			e = EPROTO;
			break;
		}
		vlen = n - (size_t)(eq + 1 - start);
		if (vlen > UAPI_VALUE_MAX) {
			e = EINVAL;
			break;
		}
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		size_t klen = (size_t)(eq - start);

		if (key_is(start, klen, "public_key")) {
			e = new_peer(cfg, &cap_peers, value, line);
			cap_ips = 0;
		} else if (cfg->n_peers == 0) {
			e = device_line(cfg, start, klen, value);
		} else {
			e = peer_line(&cfg->peers[cfg->n_peers - 1], &cap_ips, start, klen, value);
		}
		if (e)
			break;
	}
	crypto_wipe(value, sizeof(value));
	if (e)
		config_free(cfg);
	return e;
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
static int transact(const char *ifname, const char *req, size_t req_len, struct buf *reply)
{
	const char *end = NULL, *errno_line;
	size_t scanned = 0;
	long long value;
	char *stop;
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
		ssize_t n;
		if (!buf_reserve(reply, 65536, UAPI_REPLY_MAX)) {
			rc = reply->len >= UAPI_REPLY_MAX ? -EMSGSIZE : -ENOMEM;
			goto out;
		}
		n = recv(fd, reply->data + reply->len, reply->cap - reply->len - 1, 0);
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
		reply->len += (size_t)n;
		/* Lines are never empty before the end: the first "\n\n"
		 * (or a lone "\n" at the start) ends the reply. */
		if (reply->data[0] == '\n') {
			rc = -EPROTO;
			goto out;
		}
		size_t from = scanned ? scanned - 1 : 0;
		end = memmem(reply->data + from, reply->len - from, "\n\n", 2);
		scanned = reply->len;
	}
	/* The last line before the empty one is "errno=N". */
	size_t body_len = (size_t)(end - reply->data) + 1;
	errno_line = end;
	while (errno_line > reply->data && errno_line[-1] != '\n')
		errno_line--;
	if (strncmp(errno_line, "errno=", 6)) {
		rc = -EPROTO;
		goto out;
	}
	reply->data[body_len - 1] = '\0';
	errno_line += 6;
	if (!((errno_line[0] >= '0' && errno_line[0] <= '9') || errno_line[0] == '-')) {
		rc = -EPROTO;
		goto out;
	}
	errno = 0;
	value = strtoll(errno_line, &stop, 10);
	if (*stop || errno || value > 4095 || value < -4095) {
		rc = -EPROTO;
		goto out;
	}
	/* wireguard-go and sluice send -errno; accept a positive one too. */
	rc = value <= 0 ? (int)value : -(int)value;
	reply->len = (size_t)(errno_line - 6 - reply->data);
	reply->data[reply->len] = '\0';
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
	struct buf reply = { 0 };
	int rc;

	*out = NULL;
	rc = transact(ifname, extended ? "get=2\n\n" : "get=1\n\n", 7, &reply);
	if (rc) {
		buf_free(&reply);
		return rc;
	}
	/* Hand the buffer over: it holds the private key in hex, so the
	 * caller wipes it (crypto_wipe) before free. */
	*out = reply.data;
	return 0;
}

int uapi_client_set(const char *ifname, const char *body)
{
	struct buf req = { 0 };
	size_t len = strlen(body);
	int rc;

	/* An empty line would end the request early and the rest would be
	 * taken for a new operation. */
	if (len && (body[len - 1] != '\n' || body[0] == '\n' || strstr(body, "\n\n")))
		return -EINVAL;
	if (!buf_reserve(&req, len + 8, UAPI_REQUEST_MAX))
		return -ENOMEM;
	memcpy(req.data, "set=1\n", 6);
	memcpy(req.data + 6, body, len);
	req.data[6 + len] = '\n';
	req.len = len + 7;

	struct buf reply = { 0 };
	rc = transact(ifname, req.data, req.len, &reply);
	buf_free(&reply);
	buf_free(&req);
	return rc;
}
