// SPDX-License-Identifier: MIT
#include "sbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"

/* The first block; doubled from there. */
#define SBUF_FIRST_CAP 256

void *sbuf_grow_block(void *old, size_t old_size, size_t keep, size_t new_size)
{
	/* Not realloc: it may free the old block unwiped. */
	void *p = malloc(new_size ? new_size : 1);

	if (!p)
		return NULL;
	if (old) {
		memcpy(p, old, keep);
		crypto_wipe(old, old_size);
		free(old);
	}
	return p;
}

static size_t limit(const struct sbuf *b)
{
	return b->max ? b->max : SBUF_SIZE_MAX;
}

const char *sbuf_ptr(const struct sbuf *b)
{
	return b->data ? b->data + b->off : "";
}

static int fail(struct sbuf *b, int e)
{
	if (!b->error)
		b->error = e;
	return b->error;
}

void sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	/* Room for the spare NUL and for doubling never overflows. */
	b->max = max > SIZE_MAX / 4 ? SIZE_MAX / 4 : max;
}

void sbuf_free(struct sbuf *b)
{
	size_t max = b->max;

	if (b->data) {
		crypto_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void sbuf_reset(struct sbuf *b)
{
	/* Only what it holds: the rest of the block is wiped already (see
	 * sbuf_consume, compact, sbuf_vputf), and wiping the whole block for
	 * each reuse would make a reader of many short lines after one long
	 * one quadratic. */
	if (b->len)
		crypto_wipe(b->data + b->off, b->len);
	b->off = b->len = 0;
	b->error = 0;
}

/* Moves what it holds to the front of the block and wipes the copy left
 * behind. Costs len, and is done only when at least len was consumed, or
 * before a growth that copies len anyway: appending stays linear. */
static void compact(struct sbuf *b)
{
	if (!b->off)
		return;
	memmove(b->data, b->data + b->off, b->len);
	crypto_wipe(b->data + b->len, b->off);
	b->off = 0;
}

int sbuf_reserve(struct sbuf *b, size_t n, char **dst)
{
	size_t max = limit(b), need, cap;
	char *p;

	if (b->error)
		return b->error;
	if (n > max || b->len > max - n)
		return fail(b, -EMSGSIZE);
	need = b->len + n + 1; /* the spare byte for a NUL */
	if (b->off + need > b->cap) {
		if (need <= b->cap && b->off >= b->len) {
			compact(b);
		} else {
			cap = b->cap ? b->cap : SBUF_FIRST_CAP;
			while (cap < need)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			compact(b);
			p = sbuf_grow_block(b->data, b->cap, b->len, cap);
			if (!p)
				return fail(b, -ENOMEM);
			b->data = p;
			b->cap = cap;
		}
	}
	if (dst)
		*dst = b->data + b->off + b->len;
	return 0;
}

void sbuf_commit(struct sbuf *b, size_t n)
{
	/* Never past the block, whatever the caller claims. */
	if (!b->data || n > b->cap - b->off - b->len)
		return;
	b->len += n;
}

int sbuf_put(struct sbuf *b, const void *src, size_t n)
{
	char *dst;
	int r = sbuf_reserve(b, n, &dst);

	if (r)
		return r;
	if (n)
		memcpy(dst, src, n);
	b->len += n;
	return 0;
}

int sbuf_vputf(struct sbuf *b, const char *fmt, va_list ap)
{
	size_t room = b->data ? b->cap - b->off - b->len : 0;
	char *dst = b->data ? b->data + b->off + b->len : NULL;
	va_list again;
	int n, r;

	if (b->error)
		return b->error;
	/* Straight into the room there is; a second pass only when it grew
	 * (the block the first pass wrote into is wiped as it is let go). */
	va_copy(again, ap);
	n = vsnprintf(dst, room, fmt, ap);
	if (n < 0) {
		r = fail(b, -EINVAL);
		goto out;
	}
	if ((size_t)n >= room) {
		r = sbuf_reserve(b, (size_t)n, &dst);
		if (r)
			goto out;
		vsnprintf(dst, (size_t)n + 1, fmt, again);
	} else if ((size_t)n > limit(b) - b->len) {
		crypto_wipe(dst, room); /* what was formatted there is not kept */
		r = fail(b, -EMSGSIZE);
		goto out;
	}
	b->len += (size_t)n;
	r = 0;
out:
	va_end(again);
	return r;
}

int sbuf_putf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sbuf_vputf(b, fmt, ap);
	va_end(ap);
	return r;
}

int sbuf_consume(struct sbuf *b, size_t n)
{
	if (n > b->len)
		return -EINVAL;
	if (!n)
		return 0;
	crypto_wipe(b->data + b->off, n);
	b->off += n;
	b->len -= n;
	if (!b->len)
		b->off = 0;
	return 0;
}

int sbuf_consume_end(struct sbuf *b, size_t n)
{
	if (n > b->len)
		return -EINVAL;
	if (!n)
		return 0;
	b->len -= n;
	crypto_wipe(b->data + b->off + b->len, n);
	if (!b->len)
		b->off = 0;
	return 0;
}

char *sbuf_cstr(struct sbuf *b)
{
	char *end;

	if (sbuf_reserve(b, 0, &end))
		return NULL;
	*end = '\0';
	return b->data + b->off;
}

char *sbuf_steal(struct sbuf *b, size_t *len)
{
	size_t max = b->max;
	char *p;

	if (!sbuf_cstr(b))
		return NULL;
	compact(b);
	b->data[b->len] = '\0';
	p = b->data;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	b->max = max;
	return p;
}

int sbuf_write_fd(const struct sbuf *b, int fd)
{
	const char *p = sbuf_ptr(b);
	size_t n = sbuf_len(b);

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sbuf_read_fd(struct sbuf *b, int fd, size_t hint)
{
	for (;;) {
		size_t room = limit(b) - b->len, want = hint && b->len <= hint ? hint + 1 - b->len : SBUF_READ_CHUNK;
		char *dst;
		ssize_t n;
		int r;

		if (!room)
			return 0;
		if (want > room)
			want = room;
		if ((r = sbuf_reserve(b, want, &dst)) < 0)
			return r;
		n = read(fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		sbuf_commit(b, (size_t)n);
	}
}
