/* SPDX-License-Identifier: MIT */
/*
 * Endpoints given by name that move (what wg's reresolve-dns.sh does by
 * hand): a peer whose Endpoint is a host name is resolved again when its
 * handshakes have gone unanswered for RESOLVE_AFTER_NS (two REKEY_TIMEOUTs:
 * an initiation and its retry lost) while the engine still retries, at most
 * once per RESOLVE_INTERVAL_NS per peer; a new address becomes the peer's
 * endpoint and a handshake follows at once.
 *
 * getaddrinfo may take seconds (a DNS server that does not answer), so it
 * runs in a short-lived thread, one at a time, and says it is done through
 * a pipe the event loop watches: the loop never waits for it. The thread
 * touches nothing but its job (the name in, an address out).
 */
#ifndef SLUICE_DEVICE_RESOLVE_H
#define SLUICE_DEVICE_RESOLVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "messages.h"

#define RESOLVE_AFTER_NS (2 * REKEY_TIMEOUT * NS_PER_SEC)
#define RESOLVE_INTERVAL_NS (10 * NS_PER_SEC)

struct device;
struct resolve_job;

struct named_endpoint {
	uint8_t public_key[KEY_LEN];
	char *text; /* host:port, as written after any tcp:// */
	enum transport transport;
	uint64_t last_try; /* ns, 0 = never */
};

struct device_resolve {
	struct named_endpoint *names;
	size_t n, cap;
	size_t next; /* where the round-robin over names goes on */
	int fds[2];  /* the thread writes a byte to fds[1] when done; -1 until needed */
	bool busy;   /* a thread holds job */
	pthread_t thread;
	struct resolve_job *job;
};

/* Records the peers of cfg whose Endpoint is a name (replacing what was
 * recorded), making the pipe (watched with tag) if there are any. 0 or
 * -errno. */
int device_resolve_set(struct device *d, const struct interface_config *cfg, int tag);
/* Starts resolving one name whose peer's handshakes go unanswered, if any
 * and none is under way. */
void device_resolve_tick(struct device *d, uint64_t now);
/* The pipe is readable: applies the finished job. */
void device_resolve_done(struct device *d, uint64_t now);
/* Forgets the names; a thread still running is left to finish alone. */
void device_resolve_free(struct device_resolve *r);

#endif
