// SPDX-License-Identifier: MIT
#include "device_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "device.h"
#include "log.h"

#define PEER_NAME(p) core_peer_label(&(struct peer_label){ { 0 } }, (p))

struct resolve_job {
	char *text;
	uint8_t public_key[KEY_LEN];
	enum transport transport;
	int status; /* endpoint_resolve's: 0 or an EAI_ code */
	int saved_errno;
	struct endpoint ep;
	int notify_fd;
};

static void *resolve_thread(void *arg)
{
	struct resolve_job *job = arg;
	char done = 1;

	job->status = endpoint_resolve(&job->ep, job->text);
	job->saved_errno = errno;
	/* The loop reads the job only after this byte: the write orders it. */
	while (write(job->notify_fd, &done, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void names_clear(struct device_resolve *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->names[i].text);
	r->n = 0;
}

int device_resolve_set(struct device *d, const struct interface_config *cfg, int tag)
{
	struct device_resolve *r = &d->resolve;
	struct endpoint numeric;

	names_clear(r);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *pc = &cfg->peers[i];
		if (!pc->endpoint_str || endpoint_parse_numeric(&numeric, pc->endpoint_str))
			continue;
		if (!config_grow((void **)&r->names, &r->cap, r->n, sizeof(*r->names)))
			return -ENOMEM;
		struct named_endpoint *ne = &r->names[r->n];
		memset(ne, 0, sizeof(*ne));
		memcpy(ne->public_key, pc->public_key, KEY_LEN);
		ne->transport = pc->endpoint_transport;
		if (!(ne->text = strdup(pc->endpoint_str)))
			return -ENOMEM;
		r->n++;
	}
	if (r->n && r->fds[0] < 0) {
		if (pipe2(r->fds, O_CLOEXEC | O_NONBLOCK) < 0) {
			r->fds[0] = r->fds[1] = -1;
			return -errno;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)tag };
		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, r->fds[0], &ev) < 0)
			return -errno;
	}
	if (r->n)
		log_debug("%zu peer endpoint%s given by name: resolved again when handshakes go unanswered", r->n,
			  r->n == 1 ? "" : "s");
	return 0;
}

void device_resolve_tick(struct device *d, uint64_t now)
{
	struct device_resolve *r = &d->resolve;

	if (r->busy || !r->n)
		return;
	for (size_t k = 0; k < r->n; k++) {
		struct named_endpoint *ne = &r->names[(r->next + k) % r->n];
		struct peer *p = core_peer_find(&d->core, ne->public_key);
		if (!p || !core_peer_handshake_unanswered(p, now, RESOLVE_AFTER_NS))
			continue;
		if (ne->last_try && now - ne->last_try < RESOLVE_INTERVAL_NS)
			continue;
		struct resolve_job *job = calloc(1, sizeof(*job));
		if (!job || !(job->text = strdup(ne->text))) {
			free(job);
			return;
		}
		memcpy(job->public_key, ne->public_key, KEY_LEN);
		job->transport = ne->transport;
		job->notify_fd = r->fds[1];
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 1 << 20); /* getaddrinfo and NSS, not 8 MiB */
		int e = pthread_create(&r->thread, &attr, resolve_thread, job);
		pthread_attr_destroy(&attr);
		ne->last_try = now;
		r->next = ((r->next + k) % r->n) + 1;
		if (e) {
			log_warn("cannot start resolving %s: %s", job->text, strerror(e));
			free(job->text);
			free(job);
			return;
		}
		log_debug("%s: handshakes unanswered, resolving %s again", PEER_NAME(p), ne->text);
		r->job = job;
		r->busy = true;
		return;
	}
}

void device_resolve_done(struct device *d, uint64_t now)
{
	struct device_resolve *r = &d->resolve;
	char buf[16];

	while (read(r->fds[0], buf, sizeof(buf)) > 0)
		;
	if (!r->busy)
		return;
	pthread_join(r->thread, NULL);
	r->busy = false;
	struct resolve_job *job = r->job;
	r->job = NULL;
	struct peer *p = core_peer_find(&d->core, job->public_key);
	if (!p) {
		/* removed meanwhile */
	} else if (job->status) {
		log_debug("%s: cannot resolve %s: %s", PEER_NAME(p), job->text,
			  job->status == EAI_SYSTEM ? strerror(job->saved_errno) : gai_strerror(job->status));
	} else {
		char was[ENDPOINT_STR_MAX], now_str[ENDPOINT_STR_MAX];
		struct endpoint ep = job->ep;
		endpoint_format(was, &p->endpoint);
		endpoint_format(now_str, &ep);
		if (!strcmp(was, now_str)) {
			log_debug("%s: %s still resolves to %s", PEER_NAME(p), job->text, now_str);
		} else {
			log_info("%s: %s now resolves to %s (was %s): handshaking there", PEER_NAME(p), job->text,
				 now_str, was);
			device_endpoint_moved(d, p, job->transport, &ep, now);
		}
	}
	free(job->text);
	free(job);
}

void device_resolve_free(struct device_resolve *r)
{
	names_clear(r);
	free(r->names);
	r->names = NULL;
	r->cap = 0;
	if (r->busy) {
		/* getaddrinfo may take seconds more: let the thread finish
		 * alone, its pipe left open for it, rather than wait. */
		pthread_detach(r->thread);
		r->busy = false;
		r->job = NULL;
		if (r->fds[0] >= 0)
			close(r->fds[0]);
		r->fds[0] = r->fds[1] = -1;
		return;
	}
	if (r->fds[0] >= 0)
		close(r->fds[0]);
	if (r->fds[1] >= 0)
		close(r->fds[1]);
	r->fds[0] = r->fds[1] = -1;
}
