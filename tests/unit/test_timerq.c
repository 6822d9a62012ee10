// SPDX-License-Identifier: MIT
/* The event loop's timer heap. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "timerq.h"

/* Checks the heap property and every back-pointer. */
static void check_heap(const struct timerq *q)
{
	assert_true(q->n <= q->cap);
	for (size_t i = 0; i < q->n; i++) {
		assert_int_equal(q->heap[i]->pos, i);
		assert_true(q->heap[i]->deadline != UINT64_MAX);
		if (i > 0)
			assert_true(q->heap[(i - 1) / 2]->deadline <= q->heap[i]->deadline);
	}
}

/* Removes and returns the earliest entry, or NULL. */
static struct timerq_entry *pop(struct timerq *q)
{
	struct timerq_entry *e = timerq_peek(q);

	if (e) {
		timerq_remove(q, e);
		assert_false(timerq_entry_queued(e));
		check_heap(q);
	}
	return e;
}

static void test_empty(void **state)
{
	struct timerq q;
	struct timerq_entry e;

	(void)state;
	timerq_init(&q);
	assert_null(timerq_peek(&q));
	timerq_entry_init(&e);
	assert_false(timerq_entry_queued(&e));
	assert_int_equal(e.deadline, UINT64_MAX);
	/* Removing what is not queued is harmless, also with no storage. */
	timerq_remove(&q, &e);
	timerq_set(&q, &e, UINT64_MAX);
	assert_int_equal(q.n, 0);
	timerq_free(&q);
}

static void test_reserve(void **state)
{
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, 4), 0);
	assert_int_equal(q.cap, 4);
	assert_int_equal(timerq_reserve(&q, 2), 0); /* never shrinks */
	assert_int_equal(q.cap, 4);
	assert_int_equal(timerq_reserve(&q, 100), 0);
	assert_int_equal(q.cap, 100);
	assert_int_equal(timerq_reserve(&q, SIZE_MAX), -ENOMEM);
	/* A size whose byte count wraps to a small one must not "succeed". */
	assert_int_equal(timerq_reserve(&q, SIZE_MAX / sizeof(struct timerq_entry *) + 2), -ENOMEM);
	assert_int_equal(q.cap, 100);
	timerq_free(&q);
}

static void test_ordering(void **state)
{
	static const uint64_t deadlines[] = { 50, 10, 40, 30, 20, 60, 0, 10, 70 };
	static const uint64_t sorted[] = { 0, 10, 10, 20, 30, 40, 50, 60, 70 };
	enum { N = sizeof(deadlines) / sizeof(deadlines[0]) };
	struct timerq_entry e[N];
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, N), 0);
	for (size_t i = 0; i < N; i++) {
		timerq_entry_init(&e[i]);
		timerq_set(&q, &e[i], deadlines[i]);
		assert_true(timerq_entry_queued(&e[i]));
		check_heap(&q);
	}
	assert_int_equal(q.n, N);
	assert_ptr_equal(timerq_peek(&q), &e[6]);
	for (size_t i = 0; i < N; i++) {
		struct timerq_entry *t = pop(&q);

		assert_non_null(t);
		assert_int_equal(t->deadline, UINT64_MAX); /* dequeued: "never" */
		assert_true(t - e >= 0 && t - e < N);
		assert_int_equal(deadlines[t - e], sorted[i]);
	}
	assert_null(pop(&q));
	timerq_free(&q);
}

static void test_move(void **state)
{
	struct timerq_entry a, b, c, d;
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, 4), 0);
	timerq_entry_init(&a);
	timerq_entry_init(&b);
	timerq_entry_init(&c);
	timerq_entry_init(&d);
	timerq_set(&q, &a, 100);
	timerq_set(&q, &b, 200);
	timerq_set(&q, &c, 300);
	timerq_set(&q, &d, 400);
	assert_ptr_equal(timerq_peek(&q), &a);

	/* Earlier: d moves to the front. */
	timerq_set(&q, &d, 50);
	check_heap(&q);
	assert_ptr_equal(timerq_peek(&q), &d);
	/* Later: d goes to the back, a is first again. */
	timerq_set(&q, &d, 1000);
	check_heap(&q);
	assert_ptr_equal(timerq_peek(&q), &a);
	/* The front moving later gives way to the next. */
	timerq_set(&q, &a, 250);
	check_heap(&q);
	assert_ptr_equal(timerq_peek(&q), &b);
	/* Same deadline again: no change. */
	timerq_set(&q, &b, 200);
	check_heap(&q);
	assert_int_equal(q.n, 4);
	/* Moving never adds an entry, even at full capacity. */
	timerq_set(&q, &c, 1);
	assert_int_equal(q.n, 4);

	assert_ptr_equal(pop(&q), &c);
	assert_ptr_equal(pop(&q), &b);
	assert_ptr_equal(pop(&q), &a);
	assert_ptr_equal(pop(&q), &d);
	assert_null(pop(&q));
	timerq_free(&q);
}

static void test_remove_middle(void **state)
{
	enum { N = 15 };
	struct timerq_entry e[N];
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, N), 0);
	for (size_t i = 0; i < N; i++) {
		timerq_entry_init(&e[i]);
		timerq_set(&q, &e[i], 10 * (i + 1));
	}
	/* e[i] sits at heap slot i: remove inner nodes and a leaf. */
	assert_ptr_equal(q.heap[5], &e[5]);
	timerq_remove(&q, &e[5]);
	check_heap(&q);
	timerq_remove(&q, &e[1]);
	check_heap(&q);
	timerq_remove(&q, &e[N - 1]); /* the last slot */
	check_heap(&q);
	/* Removing by a deadline of UINT64_MAX, and twice. */
	timerq_set(&q, &e[8], UINT64_MAX);
	timerq_remove(&q, &e[8]);
	check_heap(&q);
	assert_false(timerq_entry_queued(&e[1]));
	assert_false(timerq_entry_queued(&e[5]));
	assert_false(timerq_entry_queued(&e[8]));
	assert_int_equal(q.n, N - 4);

	for (size_t i = 0; i < N; i++) {
		if (i == 1 || i == 5 || i == 8 || i == N - 1)
			continue;
		assert_ptr_equal(pop(&q), &e[i]);
	}
	assert_null(pop(&q));
	/* Removed entries can be queued again. */
	timerq_set(&q, &e[5], 7);
	assert_ptr_equal(timerq_peek(&q), &e[5]);
	timerq_free(&q);
	assert_false(timerq_entry_queued(&e[5]));
}

/* A removal whose last entry must move up, not down: the hole is in another
 * subtree where the last entry is smaller than the hole's parent. */
static void test_remove_sifts_up(void **state)
{
	static const uint64_t deadlines[] = { 1, 100, 2, 101, 102, 3, 4 };
	enum { N = sizeof(deadlines) / sizeof(deadlines[0]) };
	struct timerq_entry e[N];
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, N), 0);
	for (size_t i = 0; i < N; i++) {
		timerq_entry_init(&e[i]);
		timerq_set(&q, &e[i], deadlines[i]);
	}
	check_heap(&q);
	assert_ptr_equal(q.heap[3], &e[3]);
	assert_ptr_equal(q.heap[6], &e[6]);
	/* Slot 3's parent holds 100; the last entry (4) must rise above it. */
	timerq_remove(&q, &e[3]);
	check_heap(&q);
	assert_ptr_equal(q.heap[1], &e[6]);
	timerq_free(&q);
}

/* Queuing past the reserved capacity is a caller bug that the assert stops
 * (in a child, since it aborts). */
static void test_set_beyond_capacity_asserts(void **state)
{
#ifdef NDEBUG
	(void)state;
	skip();
#else
	struct timerq_entry a, b;
	struct timerq q;
	int status;
	pid_t pid;

	(void)state;
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, 1), 0);
	timerq_entry_init(&a);
	timerq_entry_init(&b);
	timerq_set(&q, &a, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
		timerq_set(&q, &b, 2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	timerq_free(&q);
#endif
}

/* The reference: a plain array of deadlines, sorted on demand. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_random_against_sorted(void **state)
{
	enum { N = 500, ROUNDS = 20000 };
	struct timerq_entry *e = calloc(N, sizeof(*e));
	uint64_t *ref = calloc(N, sizeof(*ref)), *sorted = calloc(N, sizeof(*sorted));
	uint64_t x = 0x0123456789abcdefULL;
	struct timerq q;

	(void)state;
	assert_non_null(e);
	assert_non_null(ref);
	assert_non_null(sorted);
	timerq_init(&q);
	assert_int_equal(timerq_reserve(&q, N), 0);
	for (size_t i = 0; i < N; i++) {
		timerq_entry_init(&e[i]);
		ref[i] = UINT64_MAX;
	}
	for (unsigned int round = 0; round < ROUNDS; round++) {
		size_t i;
		uint64_t r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (size_t)(x % N);
		r = x >> 32;
		switch (r % 8) {
		case 0:
			timerq_remove(&q, &e[i]);
			ref[i] = UINT64_MAX;
			break;
		case 1: {
			/* Pop the earliest; it must carry the smallest deadline. */
			struct timerq_entry *t = timerq_peek(&q);
			uint64_t least = UINT64_MAX;

			for (size_t j = 0; j < N; j++)
				least = ref[j] < least ? ref[j] : least;
			if (!t) {
				assert_int_equal(least, UINT64_MAX);
				break;
			}
			assert_int_equal(t->deadline, least);
			assert_int_equal(ref[t - e], least);
			timerq_remove(&q, t);
			ref[t - e] = UINT64_MAX;
			break;
		}
		default:
			/* Narrow range so that equal deadlines are common. */
			ref[i] = (r >> 3) % 1000;
			timerq_set(&q, &e[i], ref[i]);
			break;
		}
		for (size_t j = 0; j < N; j++) {
			assert_int_equal(timerq_entry_queued(&e[j]), ref[j] != UINT64_MAX);
			assert_int_equal(e[j].deadline, ref[j]);
		}
		if (round % 64 == 0)
			check_heap(&q);
	}

	/* Drain: deadlines come out as the sorted reference. */
	size_t n = 0;
	for (size_t j = 0; j < N; j++) {
		if (ref[j] != UINT64_MAX)
			sorted[n++] = ref[j];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	assert_int_equal(q.n, n);
	for (size_t j = 0; j < n; j++) {
		struct timerq_entry *t = pop(&q);

		assert_non_null(t);
		assert_int_equal(ref[t - e], sorted[j]);
	}
	assert_null(pop(&q));
	timerq_free(&q);
	free(e);
	free(ref);
	free(sorted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_remove_middle),
		cmocka_unit_test(test_remove_sifts_up),
		cmocka_unit_test(test_set_beyond_capacity_asserts),
		cmocka_unit_test(test_random_against_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
