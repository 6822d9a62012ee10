/* SPDX-License-Identifier: MIT */
/*
 * The control socket: WireGuard's cross-platform UAPI text protocol
 * (https://www.wireguard.com/xplatform/) on /var/run/wireguard/IFACE.sock.
 * The server side parses requests and calls back into the daemon; the client
 * side serves `sluice show` and `sluice down`.
 */
#ifndef SLUICE_UAPI_H
#define SLUICE_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define UAPI_DIR "/var/run/wireguard"
/* When set (and the process is not set-user-ID), the directory of the
 * sockets instead of UAPI_DIR: lets tests and unprivileged experiments run a
 * daemon and its client side by side without touching /var/run. */
#define UAPI_DIR_ENV "SLUICE_UAPI_DIR"

/* Replies end in "errno=N" where N is 0 or a NEGATIVE errno ("errno=-22"),
 * the convention of wireguard-go, which wg(8) relies on: it reads a set's
 * reply with fscanf("errno=%d") and reports errno = -N. */

struct uapi_ops {
	void *ctx;
	/* Writes the body of a get=1 reply (without the errno line). */
	void (*get)(void *ctx, FILE *out);
	/* Optional: sluice's own keys (sluice_*), appended for "get=2", an
	 * operation only sluice's own client sends. */
	void (*get_extended)(void *ctx, FILE *out);
	/* Applies a parsed set=1 request; returns 0 or a positive errno. */
	int (*set)(void *ctx, const struct interface_config *cfg);
};

/* The directory in use: $SLUICE_UAPI_DIR or UAPI_DIR. */
const char *uapi_dir(void);
/* Writes "DIR/IFNAME.sock" to out. Returns 0, -EINVAL for a name Linux
 * would not accept for an interface (empty, 16 bytes or more, '/', ':',
 * whitespace, "." or ".."), or -ENAMETOOLONG when the path does not fit
 * (a socket path must fit sun_path, 108 bytes with its NUL). */
int uapi_socket_path(char *out, size_t outlen, const char *ifname);

/* Creates UAPI_DIR (0755) and the socket IFACE.sock (0600), replacing a stale
 * socket left by a dead daemon; fails with -EADDRINUSE when a live daemon
 * answers on it. Returns the listening fd (non-blocking) or -errno. */
int uapi_listen(const char *ifname);
/* Accepts every pending connection and serves it (bounded in time, so a
 * slow client cannot stall the daemon for long): one call spends at most a
 * second on all its clients together; connections still waiting then are
 * served by the next call. Several requests may come on one connection. A
 * set request is parsed whole before ops->set sees it; it ends at its empty
 * line, or where the client stops sending after a whole line (a line cut
 * off there is answered EPROTO and nothing is applied). An unknown
 * operation closes the connection without a reply. */
void uapi_accept(int listen_fd, const struct uapi_ops *ops);
/* Closes the socket and removes its file. */
void uapi_close(int listen_fd, const char *ifname);
/* The identity (st_dev, st_ino) of IFACE's socket file, as lstat sees it:
 * taken after uapi_listen, it tells the daemon later whether its file was
 * removed or replaced by another daemon's (wireguard-go exits then, and a
 * daemon must not unlink a file that is no longer its own). 0 or -errno
 * (-ENOENT: no such file). */
int uapi_socket_identity(const char *ifname, unsigned long long *dev, unsigned long long *ino);

/* Parses the lines of a set=1 request (after the "set=1" line, up to the
 * blank line, which may be included) into cfg. Returns 0 or a positive
 * errno: EPROTO for a line without '=' (or anything after the blank line),
 * EINVAL for an unknown key, a peer's key before any public_key, or a bad
 * value, ENOMEM. On error cfg is left empty. A private_key of all zeros
 * (has_private_key with a zero key) means "remove the private key"; a
 * preshared_key of all zeros means "no preshared key". endpoint is numeric
 * only and lands in peer.endpoint (endpoint_str stays NULL); peer.line is
 * the line number of the peer's public_key within the request. */
int uapi_parse_set(struct interface_config *cfg, const char *text, size_t len);

/* Client: connects to IFACE's socket. Returns the fd or -errno: -ENOENT
 * when there is no such socket (no such interface), -ECONNREFUSED when a
 * dead daemon left its socket behind. Reads and writes time out after 10 s. */
int uapi_connect(const char *ifname);
/* Client: get=1; *out receives the malloc'd reply body (NUL-terminated,
 * without the errno line). Returns 0 or -errno (including the server's).
 * The body holds the private key in hex: crypto_wipe it before freeing. */
int uapi_client_get(const char *ifname, char **out);
/* Client: as uapi_client_get, with "get=2" (sluice's own keys too) when
 * extended; a daemon that does not know get=2 hangs up (-EPROTO or similar). */
int uapi_client_get_ext(const char *ifname, bool extended, char **out);
/* Client: set=1 with body (lines, each ending in "\n"). Returns 0 or -errno
 * (-EINVAL without sending when body holds an empty line). */
int uapi_client_set(const char *ifname, const char *body);

#endif
