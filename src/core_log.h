/* SPDX-License-Identifier: MIT */
/*
 * What the engine says happens, as the Linux module's debug lines do
 * ("Sending handshake initiation to peer 3 (192.0.2.2:51820)"): formatted
 * here, handed to the log hook, never written anywhere by the engine. Each
 * kind of line has its own token bucket (CORE_LOG_BURST lines at once,
 * CORE_LOG_PER_SECOND after that), so a flood of bad packets or ten
 * thousand peers cannot flood the log; a line that follows suppressed ones
 * says how many were lost.
 */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

#define CORE_LOG_PER_SECOND 10
#define CORE_LOG_BURST 10

struct core;
struct peer;

enum core_log_kind {
	CORE_LOG_PEER_CREATED,
	CORE_LOG_PEER_REMOVED,
	CORE_LOG_KEYPAIR_CREATED,
	CORE_LOG_KEYPAIR_DESTROYED,
	CORE_LOG_INITIATION_SENT,
	CORE_LOG_INITIATION_RECEIVED,
	CORE_LOG_RESPONSE_SENT,
	CORE_LOG_RESPONSE_RECEIVED,
	CORE_LOG_COOKIE_SENT,
	CORE_LOG_COOKIE_RECEIVED,
	CORE_LOG_INVALID_MAC,
	CORE_LOG_INVALID_INITIATION,
	CORE_LOG_INVALID_RESPONSE,
	CORE_LOG_INVALID_COOKIE,
	CORE_LOG_HANDSHAKE_RETRY,
	CORE_LOG_HANDSHAKE_GIVE_UP,
	CORE_LOG_STOPPED_HEARING,
	CORE_LOG_KEEPALIVE_SENT,
	CORE_LOG_KEEPALIVE_RECEIVED,
	CORE_LOG_KEYS_ZEROED,
	CORE_LOG_UNALLOWED_SRC,
	CORE_LOG_BAD_INNER_PACKET,
	CORE_LOG_NO_PEER_FOR_DST,
	CORE_LOG_ENDPOINT_CHANGED,
	CORE_LOG_UNDER_LOAD,
	CORE_LOG_HANDSHAKE_DROPPED,
	CORE_LOG_MODE_MISMATCH,
	CORE_LOG_UNALLOWED_MAC,
	CORE_LOG_KIND_COUNT
};

struct core_log_bucket {
	uint64_t last;       /* ns of the last refill */
	uint64_t credit;     /* ns of credit; a line costs NS_PER_SEC / CORE_LOG_PER_SECOND */
	uint32_t suppressed; /* lines dropped since the last one let through */
};

struct core_log {
	struct core_log_bucket buckets[CORE_LOG_KIND_COUNT];
	uint64_t now; /* the latest time the engine was given */
};

void core_log_init(struct core_log *l);

/* core_log(c, kind, fmt, ...): formats and hands one line to the log hook,
 * if there is a hook and the kind's bucket allows it. The arguments are
 * evaluated only then, so formatting an endpoint costs nothing when the line
 * is suppressed. */
#define core_log(c, kind, ...)                                   \
	do {                                                     \
		if (core_log_allow((c), (kind)))                 \
			core_log_emit((c), (kind), __VA_ARGS__); \
	} while (0)

bool core_log_allow(struct core *c, enum core_log_kind kind);
void core_log_emit(struct core *c, enum core_log_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "peer 3 (192.0.2.2:51820)", or "peer 3" while it has no endpoint. */
struct peer_label {
	char s[32 + ENDPOINT_STR_MAX];
};
const char *core_peer_label(struct peer_label *l, const struct peer *p);
/* "192.0.2.9:51820", "... over TCP" for a TCP connection's. */
struct endpoint_label {
	char s[ENDPOINT_STR_MAX + 16];
};
const char *core_endpoint_label(struct endpoint_label *l, const struct endpoint *ep);

#endif
