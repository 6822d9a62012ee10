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

struct uapi_ops {
	void *ctx;
	/* Writes the body of a get=1 reply (without the errno line). */
	void (*get)(void *ctx, FILE *out);
	/* Applies a parsed set=1 request; returns 0 or a positive errno. */
	int (*set)(void *ctx, const struct interface_config *cfg);
};

/* Creates UAPI_DIR (0755) and the socket IFACE.sock (0600), replacing a stale
 * socket left by a dead daemon; fails with -EADDRINUSE when a live daemon
 * answers on it. Returns the listening fd (non-blocking) or -errno. */
int uapi_listen(const char *ifname);
/* Accepts every pending connection and serves it (bounded in time, so a
 * slow client cannot stall the daemon for long). */
void uapi_accept(int listen_fd, const struct uapi_ops *ops);
/* Closes the socket and removes its file. */
void uapi_close(int listen_fd, const char *ifname);

/* Parses the lines of a set=1 request (after the "set=1" line, up to the
 * blank line) into cfg. Returns 0 or a positive errno (EINVAL, EPROTO). */
int uapi_parse_set(struct interface_config *cfg, const char *text, size_t len);

/* Client: connects to IFACE's socket. Returns the fd or -errno. */
int uapi_connect(const char *ifname);
/* Client: get=1; *out receives the malloc'd reply body (NUL-terminated,
 * without the errno line). Returns 0 or -errno (including the server's). */
int uapi_client_get(const char *ifname, char **out);
/* Client: set=1 with body (lines, each ending in "\n"). Returns 0 or -errno. */
int uapi_client_set(const char *ifname, const char *body);

#endif
