// SPDX-License-Identifier: MIT
#include "core_log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "timers.h"

#define LINE_COST (NS_PER_SEC / CORE_LOG_PER_SECOND)

void core_log_init(struct core_log *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < CORE_LOG_KIND_COUNT; i++)
		l->buckets[i].credit = CORE_LOG_BURST * LINE_COST;
}

bool core_log_allow(struct core *c, enum core_log_kind kind)
{
	struct core_log_bucket *b = &c->log.buckets[kind];
	uint64_t now = c->log.now;

	if (!c->hooks.log)
		return false;
	/* Time given to the engine only goes forward, but a caller may hand
	 * it an earlier `now` than the last one: that refills nothing. */
	if (now > b->last) {
		uint64_t gained = now - b->last;
		b->credit = gained >= CORE_LOG_BURST * LINE_COST - b->credit ? CORE_LOG_BURST * LINE_COST
									     : b->credit + gained;
		b->last = now;
	}
	if (b->credit < LINE_COST) {
		b->suppressed++;
		return false;
	}
	b->credit -= LINE_COST;
	return true;
}

void core_log_emit(struct core *c, enum core_log_kind kind, const char *fmt, ...)
{
	struct core_log_bucket *b = &c->log.buckets[kind];
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->suppressed && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (%" PRIu32 " similar message%s suppressed)", b->suppressed,
			 b->suppressed == 1 ? "" : "s");
	b->suppressed = 0;
	c->hooks.log(c->hooks.ctx, LOG_LVL_DEBUG, msg);
}

const char *core_peer_label(struct peer_label *l, const struct peer *p)
{
	char ep[ENDPOINT_STR_MAX];

	if (p->endpoint.addr.sa.sa_family == AF_UNSPEC) {
		snprintf(l->s, sizeof(l->s), "peer %" PRIu64, p->id);
	} else {
		endpoint_format(ep, &p->endpoint);
		snprintf(l->s, sizeof(l->s), "peer %" PRIu64 " (%s%s)", p->id, ep, p->endpoint.conn ? " over TCP" : "");
	}
	return l->s;
}

const char *core_endpoint_label(struct endpoint_label *l, const struct endpoint *ep)
{
	char s[ENDPOINT_STR_MAX];

	endpoint_format(s, ep);
	snprintf(l->s, sizeof(l->s), "%s%s", s, ep->conn ? " over TCP" : "");
	return l->s;
}
