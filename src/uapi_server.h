/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the control socket, as citizens of its event loop:
 * every connection is non-blocking and registered in the device's epoll set
 * with its own tag, requests are parsed as their bytes arrive, and replies
 * are written as the socket takes them. A client that says nothing, sends
 * slowly or does not read costs the packet path nothing; it is closed after
 * UAPI_IDLE_TIMEOUT_NS without progress either way.
 *
 * The wire protocol is uapi.h's.
 */
#ifndef SLUICE_UAPI_SERVER_H
#define SLUICE_UAPI_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "sbuf.h"

/* At most this many connections at once; more wait in the listen backlog. */
#define UAPI_MAX_CONNS 64
/* A connection that neither sent nor took a byte for this long is closed. */
#define UAPI_IDLE_TIMEOUT_NS (10 * NS_PER_SEC)

struct uapi_ops {
	void *ctx;
	/* Appends the body of a get=1 reply (without the errno line) to out;
	 * 0 or -errno. An append that failed shows in sbuf_error(out) too. */
	int (*get)(void *ctx, struct sbuf *out);
	/* Optional: sluice's own keys (sluice_*), appended for "get=2", an
	 * operation only sluice's own client sends. */
	int (*get_extended)(void *ctx, struct sbuf *out);
	/* Applies a parsed set=1 request; returns 0 or a positive errno. */
	int (*set)(void *ctx, const struct interface_config *cfg);
	/* Optional: syncs to a parsed set=2 request, a whole configuration
	 * (uapi.h); 0 or an errno of either sign. Without it, set=2 is an
	 * unknown operation. */
	int (*sync)(void *ctx, const struct interface_config *cfg);
};

struct uapi_conn;

struct uapi_server {
	struct uapi_ops ops;
	int epoll_fd, listen_fd;
	uint32_t tag_listen, tag_conn; /* epoll data: tag | (uint64_t)id << 32 */
	bool listening;                /* listen_fd is in the epoll set */
	uint64_t accept_resume_at;     /* out of descriptors: not before this (ns) */
	struct uapi_conn *conns[UAPI_MAX_CONNS];
	unsigned n_conns;
	uint32_t next_id;
};

/* Serves listen_fd (uapi_listen's, non-blocking; the caller keeps it and
 * closes it after uapi_server_destroy) through epoll_fd. ops is copied.
 * Events of the listening socket are tagged tag_listen, those of a
 * connection tag_conn | (uint64_t)id << 32. 0 or -errno. */
int uapi_server_init(struct uapi_server *s, const struct uapi_ops *ops, int epoll_fd, int listen_fd,
		     uint32_t tag_listen, uint32_t tag_conn);
/* Closes every connection, wiping what they held. A zeroed struct (init
 * never ran) is fine. */
void uapi_server_destroy(struct uapi_server *s);

/* Epoll events; now is a monotonic time in ns. */
void uapi_server_on_listen(struct uapi_server *s, uint64_t now);
void uapi_server_on_conn(struct uapi_server *s, uint32_t id, uint32_t events, uint64_t now);
/* Closes idle connections and takes up accepting again after a pause. Call
 * once a second or more often. */
void uapi_server_tick(struct uapi_server *s, uint64_t now);

#endif
