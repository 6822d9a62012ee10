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
 * Here: the socket's path, the listening socket, and the client's side of a
 * request. A set request is parsed and written by uapi_set.c; the daemon
 * serves connections in uapi_server.c, and uapi_get.c writes get replies.
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

#include "encoding.h"
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
	uint64_t value;
	bool neg;
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
	if (digits < 7 || memcmp(line, "errno=", 6)) {
		rc = -EPROTO;
		goto out;
	}
	digits -= 6;
	/* wireguard-go and sluice send -errno; accept a positive one too. */
	neg = line[6] == '-';
	if (!parse_u64(line + 6 + neg, digits - neg, false, 4095, &value)) {
		rc = -EPROTO;
		goto out;
	}
	rc = -(int)value;
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
