// SPDX-License-Identifier: MIT
#include "device_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "log.h"

void device_state_open(struct device_state *s, const char *ifname, bool enabled)
{
	unsigned line;
	const char *why;
	int r;

	memset(s, 0, sizeof(*s));
	s->dir_fd = -1;
	snprintf(s->path, sizeof(s->path), "%s/%s/%s", statefile_dir(), ifname, STATE_FILE_NAME);
	if (!enabled) {
		log_debug("SaveState = false: nothing is kept across restarts");
		return;
	}
	r = statefile_open_dir(ifname);
	if (r < 0) {
		log_warn(
			"cannot open the state directory %s/%s: %s; after a restart, peers will be reached only once "
			"they send a handshake, and old initiations will not be recognized (SaveState = false says "
			"this is wanted)",
			statefile_dir(), ifname, strerror(-r));
		return;
	}
	s->dir_fd = r;
	r = statefile_load(s->dir_fd, &s->records, &line, &why);
	if (r == -EINVAL && line)
		log_warn("%s:%u: %s; starting without the saved state (the file will be written anew)", s->path, line,
			 why);
	else if (r == -EINVAL)
		log_warn("%s: %s; starting without the saved state (the file will be written anew)", s->path, why);
	else if (r < 0)
		log_warn("cannot read %s: %s; starting without the saved state", s->path, strerror(-r));
	else if (s->records.n)
		log_debug("%s: %zu peer%s known from before", s->path, s->records.n, s->records.n == 1 ? "" : "s");
}

void device_state_restore(struct device *d, uint64_t now)
{
	struct device_state *s = &d->state;

	if (!s->records.n)
		return;
	for (const struct peer *cp = core_peers_first(&d->core); cp; cp = core_peers_next(cp)) {
		struct state_record *rec = state_records_find(&s->records, cp->public_key);
		if (!rec)
			continue;
		struct peer *p = core_peer_find(&d->core, cp->public_key);
		bool first = !rec->restored;
		if (core_peer_restore(&d->core, p, rec->timestamp, first ? &rec->endpoint : NULL, first, now))
			rec->restored = true;
	}
}

static bool timestamp_zero(const uint8_t ts[NOISE_TIMESTAMP_LEN])
{
	static const uint8_t zero[NOISE_TIMESTAMP_LEN];
	return !memcmp(ts, zero, NOISE_TIMESTAMP_LEN);
}

/* The record of a peer as the engine has it: its UDP endpoint without the
 * sticky source (a TCP connection's id means nothing after a restart). */
static void record_of(struct state_record *rec, const struct peer *p)
{
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->public_key, p->public_key, KEY_LEN);
	memcpy(rec->timestamp, p->latest_timestamp, NOISE_TIMESTAMP_LEN);
	rec->endpoint.addr.sa.sa_family = AF_UNSPEC;
	if (p->endpoint.addr.sa.sa_family != AF_UNSPEC && !p->endpoint.conn)
		rec->endpoint.addr = p->endpoint.addr;
	rec->restored = true; /* it is the live peer's */
}

/* The records brought up to date with the peers: theirs replaced (the
 * timestamp only ever grows), new ones added; those of peers removed since
 * stay (a peer removed and added again must not accept what it refused),
 * unless the file would hold more than STATE_RECORDS_MAX. */
static int update_records(struct device *d)
{
	struct state_records *r = &d->state.records;
	size_t known = r->n;

	for (const struct peer *p = core_peers_first(&d->core); p; p = core_peers_next(p)) {
		struct state_record now;
		record_of(&now, p);
		struct state_record *old = known ? state_records_find(&(struct state_records){ r->r, known, known },
								      p->public_key)
						 : NULL;
		if (old) {
			if (memcmp(now.timestamp, old->timestamp, NOISE_TIMESTAMP_LEN) > 0)
				memcpy(old->timestamp, now.timestamp, NOISE_TIMESTAMP_LEN);
			if (now.endpoint.addr.sa.sa_family != AF_UNSPEC || p->endpoint.conn)
				old->endpoint = now.endpoint;
			continue;
		}
		if (timestamp_zero(now.timestamp) && now.endpoint.addr.sa.sa_family == AF_UNSPEC)
			continue; /* nothing worth keeping */
		if (state_records_add(r, &now) < 0)
			return -ENOMEM;
	}
	state_records_sort(r);
	if (r->n > STATE_RECORDS_MAX) {
		size_t kept = 0;
		for (size_t i = 0; i < r->n; i++)
			if (core_peer_find(&d->core, r->r[i].public_key) || kept + (r->n - i) <= STATE_RECORDS_MAX)
				r->r[kept++] = r->r[i];
		r->n = kept;
	}
	return 0;
}

static void save(struct device *d, uint64_t now)
{
	struct device_state *s = &d->state;
	int r;

	s->saved_generation = core_state_generation(&d->core);
	s->saved_at = now;
	if ((r = update_records(d)) == 0)
		r = statefile_save(s->dir_fd, &s->records);
	if (r < 0 && !s->save_failed)
		log_warn("cannot write %s: %s (said once; the daemon goes on without it)", s->path, strerror(-r));
	else if (r == 0 && s->save_failed)
		log_info("%s written again", s->path);
	s->save_failed = r < 0;
}

uint64_t device_state_deadline(const struct device *d)
{
	const struct device_state *s = &d->state;

	if (s->dir_fd < 0 || core_state_generation(&d->core) == s->saved_generation)
		return UINT64_MAX;
	return s->saved_at ? s->saved_at + DEVICE_STATE_SAVE_INTERVAL_NS : 0;
}

void device_state_tick(struct device *d, uint64_t now)
{
	if (device_state_deadline(d) <= now)
		save(d, now);
}

int device_state_chown(struct device_state *s, uid_t uid, gid_t gid)
{
	if (s->dir_fd < 0)
		return 0;
	if (fchown(s->dir_fd, uid, gid) < 0)
		return -errno;
	/* The file itself is replaced by rename; an old one may stay root's. */
	return 0;
}

void device_state_close(struct device *d)
{
	struct device_state *s = &d->state;

	if (s->dir_fd >= 0) {
		if (core_state_generation(&d->core) != s->saved_generation)
			save(d, device_now());
		close(s->dir_fd);
	}
	s->dir_fd = -1;
	state_records_free(&s->records);
}
