// SPDX-License-Identifier: MIT
/*
 * The state file: what statefile_format writes parses back to the same
 * records; anything else is refused whole, naming the line; saving leaves a
 * 0600 file and no temp file; loading a missing file is no error, a corrupt
 * or oversized one is.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoding.h"
#include "sbuf.h"
#include "statefile.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define TS1 "400000006553f1000a0b0c0d"

static void record(struct state_record *r, uint8_t key_byte, const char *ep)
{
	memset(r, 0, sizeof(*r));
	memset(r->public_key, key_byte, KEY_LEN);
	for (size_t i = 0; i < NOISE_TIMESTAMP_LEN; i++)
		r->timestamp[i] = (uint8_t)(key_byte + i);
	r->endpoint.addr.sa.sa_family = AF_UNSPEC;
	if (ep)
		assert_true(endpoint_parse_numeric(&r->endpoint, ep));
}

static void format(struct sbuf *out, const struct state_records *s)
{
	sbuf_init(out, 0);
	assert_int_equal(statefile_format(out, s), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct state_records s = { 0 }, back;
	struct state_record r;
	struct sbuf text;
	unsigned line;
	const char *why;

	record(&r, 9, "192.0.2.1:51820");
	assert_int_equal(state_records_add(&s, &r), 0);
	record(&r, 3, "[2001:db8::1]:443");
	assert_int_equal(state_records_add(&s, &r), 0);
	record(&r, 5, NULL);
	assert_int_equal(state_records_add(&s, &r), 0);
	state_records_sort(&s);
	format(&text, &s);
	assert_true(statefile_parse(&back, sbuf_ptr(&text), sbuf_len(&text), &line, &why));
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_memory_equal(back.r[i].public_key, s.r[i].public_key, KEY_LEN);
		assert_memory_equal(back.r[i].timestamp, s.r[i].timestamp, NOISE_TIMESTAMP_LEN);
		assert_true(back.r[i].endpoint.addr.sa.sa_family == s.r[i].endpoint.addr.sa.sa_family);
		if (s.r[i].endpoint.addr.sa.sa_family != AF_UNSPEC)
			assert_true(endpoint_equal(&back.r[i].endpoint, &s.r[i].endpoint));
	}
	/* Sorted by key, found by key. */
	assert_int_equal(back.r[0].public_key[0], 3);
	assert_int_equal(back.r[2].public_key[0], 9);
	uint8_t key[KEY_LEN];
	memset(key, 5, sizeof(key));
	assert_non_null(state_records_find(&back, key));
	assert_null(state_records_find(&back, (uint8_t[KEY_LEN]){ 4 }));
	/* An empty file is a header. */
	struct state_records none = { 0 };
	assert_true(statefile_parse(&none, STATE_HEADER, strlen(STATE_HEADER), &line, &why));
	assert_int_equal(none.n, 0);
	assert_null(state_records_find(&none, key));
	sbuf_free(&text);
	state_records_free(&s);
	state_records_free(&back);
}

/* text = the header + body; refused, naming `want_line`. */
static void refused(const char *body, size_t body_len, unsigned want_line, const char *want_why)
{
	struct state_records out;
	struct sbuf text;
	unsigned line = 99;
	const char *why = NULL;

	sbuf_init(&text, 0);
	assert_int_equal(sbuf_put(&text, STATE_HEADER, strlen(STATE_HEADER)), 0);
	assert_int_equal(sbuf_put(&text, body, body_len), 0);
	if (statefile_parse(&out, sbuf_ptr(&text), sbuf_len(&text), &line, &why)) {
		fprintf(stderr, "accepted: %.*s\n", (int)body_len, body);
		fail();
	}
	assert_int_equal(out.n, 0);
	assert_non_null(why);
	if (line != want_line || !strstr(why, want_why)) {
		fprintf(stderr, "%.*s: line %u, %s\n", (int)body_len, body, line, why);
		fail();
	}
	sbuf_free(&text);
}
#define REFUSED(body, line, why) refused(body, sizeof(body) - 1, line, why)

static void test_refused(void **state)
{
	(void)state;
	struct state_records out;
	unsigned line;
	const char *why;

	assert_false(statefile_parse(&out, "", 0, &line, &why));
	assert_int_equal(line, 1);
	assert_false(statefile_parse(&out, "sluice-state 2\n", 15, &line, &why));
	assert_false(statefile_parse(&out, "# sluice state: rewritten while sluice runs\nsluice-state 2\n", 59, &line,
				     &why));
	REFUSED("peer " KEY1 " " TS1 " 192.0.2.1:51820", 3, "no newline");
	REFUSED("peer " KEY1 " " TS1 " 192.0.2.1:51820\n\n", 4, "expected a line");
	REFUSED("# a comment\n", 3, "expected a line");
	REFUSED("peer  " KEY1 " " TS1 " -\n", 3, "more than four fields");
	REFUSED("peer " KEY1 " " TS1 " - \n", 3, "more than four fields");
	REFUSED("peer " KEY1 " " TS1 " - x\n", 3, "more than four fields");
	REFUSED("peer " KEY1 " " TS1 "\n", 3, "expected an endpoint");
	REFUSED("peer " KEY1 "\n", 3, "expected a timestamp");
	REFUSED("peer AAAA " TS1 " -\n", 3, "invalid public key");
	REFUSED("peer " KEY1 " 400000006553F1000A0B0C0D -\n", 3, "invalid timestamp");
	REFUSED("peer " KEY1 " 400000006553f1000a0b0c -\n", 3, "invalid timestamp");
	REFUSED("peer " KEY1 " " TS1 " example.com:51820\n", 3, "invalid endpoint");
	REFUSED("peer " KEY1 " " TS1 " 192.0.2.1:0\n", 3, "invalid endpoint");
	REFUSED("peer " KEY1 " " TS1 " [2001:DB8::1]:51820\n", 3, "as sluice writes it");
	REFUSED("peer " KEY1 " " TS1 " -\npeer " KEY1 " " TS1 " -\n", 4, "given twice");
	REFUSED("peer " KEY1 " " TS1 " -\0\n", 3, "NUL");
	REFUSED("PEER " KEY1 " " TS1 " -\n", 3, "expected a line");

	char longline[STATE_LINE_MAX + 10];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\n';
	refused(longline, sizeof(longline), 3, "line too long");
}

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-statefile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_save_and_load(void **state)
{
	(void)state;
	struct state_records s = { 0 }, back;
	struct state_record r;
	unsigned line;
	const char *why;
	struct stat st;

	assert_int_equal(setenv(STATE_DIR_ENV, dir, 1), 0);
	assert_string_equal(statefile_dir(), dir);
	assert_int_equal(statefile_open_dir("../x"), -EINVAL);
	int fd = statefile_open_dir("wg7");
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* No file yet: nothing known, no error. */
	assert_int_equal(statefile_load(fd, &back, &line, &why), 0);
	assert_int_equal(back.n, 0);

	record(&r, 7, "198.51.100.7:51820");
	assert_int_equal(state_records_add(&s, &r), 0);
	assert_int_equal(statefile_save(fd, &s), 0);
	assert_int_equal(fstatat(fd, STATE_FILE_NAME, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(faccessat(fd, STATE_TMP_NAME, F_OK, 0), -1); /* renamed away */
	assert_int_equal(statefile_load(fd, &back, &line, &why), 0);
	assert_int_equal(back.n, 1);
	assert_memory_equal(back.r[0].timestamp, r.timestamp, NOISE_TIMESTAMP_LEN);
	state_records_free(&back);

	/* A temp file a crash left behind is replaced. */
	int tmp = openat(fd, STATE_TMP_NAME, O_WRONLY | O_CREAT, 0644);
	assert_true(tmp >= 0);
	close(tmp);
	assert_int_equal(statefile_save(fd, &s), 0);

	/* Corrupt: refused with the line. */
	int f = openat(fd, STATE_FILE_NAME, O_WRONLY | O_APPEND);
	assert_true(f >= 0);
	assert_int_equal(write(f, "junk\n", 5), 5);
	assert_int_equal(statefile_load(fd, &back, &line, &why), -EINVAL);
	assert_int_equal(line, 4);
	assert_int_equal(back.n, 0);
	/* Oversized: refused before it is read. */
	assert_int_equal(ftruncate(f, (off_t)STATE_FILE_MAX + 1), 0);
	close(f);
	assert_int_equal(statefile_load(fd, &back, &line, &why), -EINVAL);
	assert_string_equal(why, "too large");
	/* Not a regular file. */
	assert_int_equal(unlinkat(fd, STATE_FILE_NAME, 0), 0);
	assert_int_equal(mkdirat(fd, STATE_FILE_NAME, 0700), 0);
	assert_true(statefile_load(fd, &back, &line, &why) < 0);
	assert_int_equal(unlinkat(fd, STATE_FILE_NAME, AT_REMOVEDIR), 0);

	close(fd);
	state_records_free(&s);
	unsetenv(STATE_DIR_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test_setup_teardown(test_save_and_load, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
