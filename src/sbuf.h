/* SPDX-License-Identifier: MIT */
/*
 * The one growable byte buffer: control requests and replies, configuration
 * files, generated configs. What it holds may be a key (hex or base64), so
 * every block it lets go of is wiped first: growth goes through
 * sbuf_grow_block, which copies into a new block and wipes the old one
 * (never realloc, which frees unwiped), bytes consumed from the front are
 * wiped at once, and sbuf_free wipes the whole block.
 *
 * Errors follow the negative errno convention: -ENOMEM, -EMSGSIZE (past the
 * buffer's maximum size). An append either happens whole or not at all; the
 * first error also sticks (sbuf_error), and appends after it fail with it,
 * so a formatter may write many lines and check once at the end.
 *
 * A zeroed struct sbuf is an empty buffer with the default maximum.
 */
#ifndef SLUICE_SBUF_H
#define SLUICE_SBUF_H

#include <stdarg.h>
#include <stddef.h>

/* The maximum of a buffer made with max 0 (or zeroed). */
#define SBUF_SIZE_MAX ((size_t)256 << 20)

struct sbuf {
	char *data; /* the block, cap bytes; NULL until the first append */
	size_t off; /* consumed from the front (wiped) */
	size_t len; /* bytes held, from data + off */
	size_t cap;
	size_t max; /* len never passes it; 0: SBUF_SIZE_MAX */
	int error;  /* the first error, sticky; 0 while all went well */
};

/* An empty buffer that holds at most max bytes (0: SBUF_SIZE_MAX). */
void sbuf_init(struct sbuf *b, size_t max);
/* Wipes and frees the block; the buffer is empty again, keeps its maximum
 * and forgets its error. */
void sbuf_free(struct sbuf *b);
/* Wipes what it holds and forgets its error, keeping the block: costs what
 * it holds, not the size of the block. */
void sbuf_reset(struct sbuf *b);

/* The bytes held (sbuf_len of them, not NUL-terminated unless sbuf_cstr);
 * never NULL. */
const char *sbuf_ptr(const struct sbuf *b);
static inline size_t sbuf_len(const struct sbuf *b)
{
	return b->len;
}
static inline int sbuf_error(const struct sbuf *b)
{
	return b->error;
}

/* Room for n more bytes after what it holds, plus one spare byte for a NUL.
 * *dst points at the room; sbuf_commit then counts how many were written.
 * 0, -ENOMEM, or -EMSGSIZE when the buffer would hold more than its max. */
int sbuf_reserve(struct sbuf *b, size_t n, char **dst);
/* Counts n bytes written at the room sbuf_reserve returned (n at most what
 * was reserved). Bytes written there and not counted are the caller's to
 * wipe. */
void sbuf_commit(struct sbuf *b, size_t n);
/* Appends n bytes. 0 or -errno. */
int sbuf_put(struct sbuf *b, const void *p, size_t n);
/* Appends formatted text (vsnprintf straight into reserved room, no NUL
 * counted). 0 or -errno (-EINVAL for a bad format). */
int sbuf_putf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_vputf(struct sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drops n bytes from the front and wipes them. 0, or -EINVAL when it holds
 * fewer than n (nothing is dropped then). */
int sbuf_consume(struct sbuf *b, size_t n);

/* Drops n bytes from the end and wipes them. 0, or -EINVAL when it holds
 * fewer than n. */
int sbuf_consume_end(struct sbuf *b, size_t n);

/* What it holds, NUL-terminated (the NUL is not counted), for the owner to
 * read or change in place; NULL on -ENOMEM. */
char *sbuf_cstr(struct sbuf *b);
/* Hands the block over: the bytes held, at the start of a malloc'd block,
 * NUL-terminated; *len (may be NULL) receives their count. The buffer is
 * empty afterwards. The caller wipes (crypto_wipe) and frees it. NULL on
 * -ENOMEM (the buffer is left as it was). */
char *sbuf_steal(struct sbuf *b, size_t *len);
/* Writes everything it holds to fd (a file: EINTR and short writes carried
 * on), leaving it as it was. 0 or -errno. */
int sbuf_write_fd(const struct sbuf *b, int fd);

/* Appends what fd gives until its end, or until the buffer holds its
 * maximum (a byte more than a caller's limit then proves a file too
 * large). hint: the size expected (st_size), 0 when unknown; each read
 * after the first asks for SBUF_READ_CHUNK. EINTR is carried on. 0, or
 * -errno of the read, or -ENOMEM (what was read stays). */
#define SBUF_READ_CHUNK 65536
int sbuf_read_fd(struct sbuf *b, int fd, size_t hint);

/* The one growth step, for sbuf and for the arrays that hold keys
 * (config_grow): allocates new_size bytes, copies the first keep bytes of
 * old (old_size bytes, may be NULL), wipes and frees old. NULL when out of
 * memory, old left as it was. keep <= old_size, keep <= new_size. */
void *sbuf_grow_block(void *old, size_t old_size, size_t keep, size_t new_size);

#endif
