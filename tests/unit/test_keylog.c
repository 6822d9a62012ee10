// SPDX-License-Identifier: MIT
/* The key log: off without SLUICE_KEYLOG; refuses a symbolic link and a
 * file others may read; appends one block per handshake message, in the
 * form Wireshark reads. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoding.h"
#include "keylog.h"
#include "log.h"

static char dir[] = "/tmp/sluice-keylog-XXXXXX";
static char file[64], link_path[64];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/keys", dir);
	snprintf(link_path, sizeof(link_path), "%s/link", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	unlink(link_path);
	unsetenv("SLUICE_KEYLOG");
	return rmdir(dir);
}

static void test_off(void **state)
{
	int fd = 123;

	(void)state;
	unsetenv("SLUICE_KEYLOG");
	assert_int_equal(keylog_open(&fd), 0);
	assert_int_equal(fd, -1);
	setenv("SLUICE_KEYLOG", "", 1);
	assert_int_equal(keylog_open(&fd), 0);
	assert_int_equal(fd, -1);
	keylog_write(-1, (uint8_t[KEY_LEN]){ 0 }, (uint8_t[KEY_LEN]){ 0 }, (uint8_t[KEY_LEN]){ 0 },
		     (uint8_t[KEY_LEN]){ 0 }); /* nothing, no crash */
}

static void test_refused(void **state)
{
	int fd;

	(void)state;
	/* Someone else may read it. */
	close(open(file, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(chmod(file, 0644), 0);
	setenv("SLUICE_KEYLOG", file, 1);
	assert_int_equal(keylog_open(&fd), -EPERM);
	assert_int_equal(fd, -1);
	/* Through a symbolic link, even to a good file. */
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(symlink(file, link_path), 0);
	setenv("SLUICE_KEYLOG", link_path, 1);
	assert_int_equal(keylog_open(&fd), -ELOOP);
	assert_int_equal(fd, -1);
	/* Not a regular file. */
	setenv("SLUICE_KEYLOG", dir, 1);
	assert_true(keylog_open(&fd) < 0);
	assert_int_equal(fd, -1);
}

static void test_blocks(void **state)
{
	uint8_t keys[4][KEY_LEN];
	char b64[4][KEY_B64_LEN + 1], want[1024], got[1024];
	struct stat st;
	int fd, n = 0;

	(void)state;
	setenv("SLUICE_KEYLOG", file, 1);
	assert_int_equal(keylog_open(&fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* made private */
	for (int i = 0; i < 4; i++) {
		memset(keys[i], 0x11 * (i + 1), KEY_LEN);
		key_to_base64(b64[i], keys[i]);
	}
	for (int round = 0; round < 2; round++) {
		keylog_write(fd, keys[0], keys[1], keys[2], keys[3]);
		n += snprintf(want + n, sizeof(want) - (size_t)n,
			      "LOCAL_STATIC_PRIVATE_KEY = %s\nREMOTE_STATIC_PUBLIC_KEY = %s\n"
			      "LOCAL_EPHEMERAL_PRIVATE_KEY = %s\nPRESHARED_KEY = %s\n",
			      b64[0], b64[1], b64[2], b64[3]);
	}
	close(fd);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, sizeof(got)), n);
	assert_memory_equal(got, want, (size_t)n);
	close(fd);

	/* Opened again, it appends. */
	assert_int_equal(keylog_open(&fd), 0);
	keylog_write(fd, keys[0], keys[1], keys[2], keys[3]);
	close(fd);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, n + n / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_blocks),
	};
	log_level = LOG_LVL_ERROR; /* no warning that the log is on; the refusals print their errors */
	return cmocka_run_group_tests(tests, setup, teardown);
}
