// SPDX-License-Identifier: MIT
/*
 * The one growable buffer: appends keep every byte through each growth,
 * printf-appends fit exactly, the maximum holds and the first error sticks,
 * consuming from the front wipes what it drops, and compaction leaves no
 * copy of what it moved.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "sbuf.h"

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_zeroed_is_empty(void **state)
{
	struct sbuf b;

	memset(&b, 0, sizeof(b));
	assert_int_equal(sbuf_len(&b), 0);
	assert_string_equal(sbuf_ptr(&b), "");
	assert_int_equal(sbuf_error(&b), 0);
	assert_int_equal(sbuf_put(&b, "abc", 3), 0);
	assert_int_equal(sbuf_len(&b), 3);
	assert_memory_equal(sbuf_ptr(&b), "abc", 3);
	sbuf_free(&b);
	assert_null(b.data);
	assert_int_equal(sbuf_len(&b), 0);
	sbuf_free(&b); /* twice is harmless */
}

static void test_put_keeps_every_byte(void **state)
{
	struct sbuf b;
	unsigned char want[100000];

	sbuf_init(&b, 0);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(i * 7 + i / 251);
	/* Odd sizes, so growth happens mid-append. */
	for (size_t i = 0, step = 1; i < sizeof(want); i += step, step = step % 97 + 1) {
		size_t n = i + step > sizeof(want) ? sizeof(want) - i : step;
		assert_int_equal(sbuf_put(&b, want + i, n), 0);
	}
	assert_int_equal(sbuf_len(&b), sizeof(want));
	assert_memory_equal(sbuf_ptr(&b), want, sizeof(want));
	assert_true(b.cap > sizeof(want));
	assert_int_equal(sbuf_put(&b, NULL, 0), 0);
	assert_int_equal(sbuf_len(&b), sizeof(want));
	sbuf_free(&b);
}

static void test_putf(void **state)
{
	struct sbuf b;
	char big[3000];

	sbuf_init(&b, 0);
	assert_int_equal(sbuf_putf(&b, "listen_port=%u\n", 51820u), 0);
	assert_int_equal(sbuf_putf(&b, "%s", ""), 0);
	assert_int_equal(sbuf_putf(&b, "fwmark=%d\n", 7), 0);
	assert_string_equal(sbuf_cstr(&b), "listen_port=51820\nfwmark=7\n");
	assert_int_equal(sbuf_len(&b), strlen("listen_port=51820\nfwmark=7\n"));

	/* Larger than the room there is: formatted again after growing. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sbuf_putf(&b, "[%s]", big), 0);
	assert_int_equal(sbuf_len(&b), 27 + 2 + sizeof(big) - 1);
	const char *s = sbuf_cstr(&b);
	assert_non_null(s);
	assert_int_equal(s[27], '[');
	assert_int_equal(s[27 + sizeof(big)], ']');
	assert_int_equal(s[27 + sizeof(big) + 1], '\0');
	assert_int_equal(strspn(s + 28, "x"), sizeof(big) - 1);

	/* Many small ones in a row. */
	sbuf_reset(&b);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(sbuf_putf(&b, "%d,", i % 10), 0);
	assert_int_equal(sbuf_len(&b), 20000);
	assert_memory_equal(sbuf_ptr(&b), "0,1,2,3,4,5,6,7,8,9,0,1", 23);
	sbuf_free(&b);
}

static void test_max_and_sticky_error(void **state)
{
	struct sbuf b;
	char *dst;

	sbuf_init(&b, 10);
	assert_int_equal(sbuf_put(&b, "0123456789", 10), 0); /* exactly the max */
	assert_string_equal(sbuf_cstr(&b), "0123456789");    /* the NUL fits still */
	assert_true(b.cap <= 11);
	assert_int_equal(sbuf_put(&b, "a", 1), -EMSGSIZE);
	assert_int_equal(sbuf_error(&b), -EMSGSIZE);
	assert_int_equal(sbuf_len(&b), 10);
	/* After an error nothing is appended, not even what would fit. */
	assert_int_equal(sbuf_consume(&b, 5), 0);
	assert_int_equal(sbuf_put(&b, "a", 1), -EMSGSIZE);
	assert_int_equal(sbuf_putf(&b, "%d", 1), -EMSGSIZE);
	assert_int_equal(sbuf_len(&b), 5);
	assert_memory_equal(sbuf_ptr(&b), "56789", 5);
	/* reset forgets it. */
	sbuf_reset(&b);
	assert_int_equal(sbuf_error(&b), 0);
	assert_int_equal(sbuf_putf(&b, "%s", "01234567890"), -EMSGSIZE);
	assert_int_equal(sbuf_len(&b), 0);
	sbuf_reset(&b);
	assert_int_equal(sbuf_putf(&b, "%s", "0123456789"), 0);
	sbuf_reset(&b);
	assert_int_equal(sbuf_reserve(&b, 11, &dst), -EMSGSIZE);
	sbuf_reset(&b);
	assert_int_equal(sbuf_reserve(&b, (size_t)-1, &dst), -EMSGSIZE);
	sbuf_free(&b);
	assert_int_equal(b.max, 10); /* free keeps the maximum */
	assert_int_equal(sbuf_error(&b), 0);
	assert_int_equal(sbuf_put(&b, "01234567890", 11), -EMSGSIZE);
	sbuf_free(&b);
}

static void test_reserve_commit(void **state)
{
	struct sbuf b;
	char *dst;

	sbuf_init(&b, 0);
	assert_int_equal(sbuf_put(&b, "ab", 2), 0);
	assert_int_equal(sbuf_reserve(&b, 1000, &dst), 0);
	assert_ptr_equal(dst, sbuf_ptr(&b) + 2);
	memcpy(dst, "cdef", 4);
	sbuf_commit(&b, 4); /* fewer than reserved */
	assert_int_equal(sbuf_len(&b), 6);
	assert_string_equal(sbuf_cstr(&b), "abcdef");
	/* A commit past the block is refused. */
	sbuf_commit(&b, b.cap);
	assert_int_equal(sbuf_len(&b), 6);
	sbuf_free(&b);
}

static void test_consume_wipes(void **state)
{
	struct sbuf b;
	const char *base;

	sbuf_init(&b, 0);
	assert_int_equal(sbuf_put(&b, "private_key=abcdef\nrest", 23), 0);
	base = b.data;
	assert_int_equal(sbuf_consume(&b, 19), 0);
	assert_int_equal(sbuf_len(&b), 4);
	assert_memory_equal(sbuf_ptr(&b), "rest", 4);
	assert_true(all_zero(base, 19)); /* the dropped key is gone */
	assert_int_equal(sbuf_consume(&b, 5), -EINVAL);
	assert_int_equal(sbuf_len(&b), 4);
	assert_int_equal(sbuf_consume(&b, 4), 0);
	assert_int_equal(sbuf_len(&b), 0);
	assert_true(all_zero(base, 23));
	assert_int_equal(sbuf_consume(&b, 0), 0);

	/* From the end too. */
	assert_int_equal(sbuf_put(&b, "body\nerrno=0\n", 14), 0);
	assert_int_equal(sbuf_consume(&b, 1), 0);
	assert_int_equal(sbuf_consume_end(&b, 9), 0);
	assert_int_equal(sbuf_len(&b), 4);
	assert_memory_equal(sbuf_ptr(&b), "ody\n", 4);
	assert_true(all_zero(base + 5, 9));
	assert_int_equal(sbuf_consume_end(&b, 5), -EINVAL);
	assert_int_equal(sbuf_consume_end(&b, 4), 0);
	assert_int_equal(sbuf_len(&b), 0);
	assert_true(all_zero(base, 14));
	sbuf_free(&b);
}

/* A stream through a small window: append, consume, append; the block does
 * not grow without bound, moves leave no copies, and the bytes come out in
 * order. */
static void test_stream_compacts(void **state)
{
	struct sbuf b;
	char chunk[100], got[100];
	unsigned next_in = 0, next_out = 0;

	sbuf_init(&b, 0);
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)(next_in++ % 251);
		assert_int_equal(sbuf_put(&b, chunk, sizeof(chunk)), 0);
		size_t take = round % 3 ? 100 : 60;
		if (take > sbuf_len(&b))
			take = sbuf_len(&b);
		memcpy(got, sbuf_ptr(&b), take);
		for (size_t i = 0; i < take; i++)
			assert_int_equal((unsigned char)got[i], next_out++ % 251);
		assert_int_equal(sbuf_consume(&b, take), 0);
		/* Outside what it holds the block is zero, spare room aside
		 * (where the next append goes). */
		assert_true(all_zero(b.data, b.off));
	}
	/* What it holds stays below about 2000 * 40 / 3 bytes: the block is
	 * a small multiple of that, not of the 200000 bytes streamed. */
	assert_true(b.cap <= 4 * 2000 * 40 / 3 + 512);
	sbuf_free(&b);
}

static void test_cstr_and_steal(void **state)
{
	struct sbuf b;
	size_t len = 99;
	char *p;

	sbuf_init(&b, 0);
	p = sbuf_steal(&b, &len); /* empty: still a string */
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_string_equal(p, "");
	free(p);

	assert_int_equal(sbuf_put(&b, "xxget=1\n", 8), 0);
	assert_int_equal(sbuf_consume(&b, 2), 0);
	assert_string_equal(sbuf_cstr(&b), "get=1\n");
	p = sbuf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 6);
	assert_string_equal(p, "get=1\n"); /* moved to the front */
	assert_null(b.data);
	assert_int_equal(sbuf_len(&b), 0);
	free(p);
	sbuf_free(&b);
}

static void test_grow_block(void **state)
{
	char *a = sbuf_grow_block(NULL, 0, 0, 8);
	char *c;

	assert_non_null(a);
	memcpy(a, "01234567", 8);
	c = sbuf_grow_block(a, 8, 5, 16);
	assert_non_null(c);
	assert_memory_equal(c, "01234", 5);
	free(c);
}

/* Reading a descriptor to its end: more than one chunk, through a pipe
 * (no size known) and a file (its size as the hint); stopping at the
 * maximum; a read error is returned with what came before kept. */
static void test_read_fd(void **state)
{
	enum { N = 3 * SBUF_READ_CHUNK + 17 };
	static char data[N];
	char path[] = "/tmp/sluice-test-sbuf.XXXXXX";
	struct sbuf b;
	int fds[2], fd;

	for (size_t i = 0; i < N; i++)
		data[i] = (char)(i * 7 + i / 251);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, N), N);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	sbuf_init(&b, 0);
	assert_int_equal(sbuf_read_fd(&b, fd, N), 0);
	assert_int_equal(sbuf_len(&b), N);
	assert_memory_equal(sbuf_ptr(&b), data, N);
	sbuf_free(&b);

	/* At most max: a byte past a caller's limit, and no more. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	sbuf_init(&b, 1001);
	assert_int_equal(sbuf_read_fd(&b, fd, 1000), 0);
	assert_int_equal(sbuf_len(&b), 1001);
	assert_memory_equal(sbuf_ptr(&b), data, 1001);
	sbuf_free(&b);
	close(fd);

	/* A pipe, no hint, appended after what the buffer held. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, 5000), 5000);
	close(fds[1]);
	sbuf_init(&b, 0);
	assert_int_equal(sbuf_put(&b, "head", 4), 0);
	assert_int_equal(sbuf_read_fd(&b, fds[0], 0), 0);
	assert_int_equal(sbuf_len(&b), 5004);
	assert_memory_equal(sbuf_ptr(&b), "head", 4);
	assert_memory_equal(sbuf_ptr(&b) + 4, data, 5000);
	close(fds[0]);

	/* An error: -errno, and the buffer as it was. */
	assert_int_equal(sbuf_read_fd(&b, -1, 0), -EBADF);
	assert_int_equal(sbuf_len(&b), 5004);
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeroed_is_empty),
		cmocka_unit_test(test_put_keeps_every_byte),
		cmocka_unit_test(test_putf),
		cmocka_unit_test(test_max_and_sticky_error),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_consume_wipes),
		cmocka_unit_test(test_stream_compacts),
		cmocka_unit_test(test_cstr_and_steal),
		cmocka_unit_test(test_grow_block),
		cmocka_unit_test(test_read_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
