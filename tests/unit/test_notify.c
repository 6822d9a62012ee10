// SPDX-License-Identifier: MIT
/*
 * notify.c against a real AF_UNIX datagram socket standing in for systemd:
 * one bound to a path in a temporary directory, one in the abstract
 * namespace ('@' in $NOTIFY_SOCKET). Each checks the exact datagrams, that
 * the kernel names our pid as the sender (systemd's NotifyAccess=main
 * relies on it), that the variable is gone afterwards, and that STOPPING=1
 * is sent once.
 */
#include "unit.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

struct manager {
	char dir[64];
	char env[96]; /* the NOTIFY_SOCKET value */
	int fd;
};

static int listen_on(struct manager *m, const struct sockaddr_un *addr, socklen_t len)
{
	int on = 1;

	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (const struct sockaddr *)addr, len) < 0)
		return -1;
	/* As systemd does, to learn who is speaking. */
	return setsockopt(m->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
}

static int setup_path(void **state)
{
	struct manager *m = calloc(1, sizeof(*m));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (!m)
		return -1;
	snprintf(m->dir, sizeof(m->dir), "/tmp/sluice-notify-XXXXXX");
	if (!mkdtemp(m->dir))
		return -1;
	snprintf(m->env, sizeof(m->env), "%s/notify", m->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", m->env);
	*state = m;
	return listen_on(m, &addr, sizeof(addr));
}

static int setup_abstract(void **state)
{
	static unsigned counter;
	struct manager *m = calloc(1, sizeof(*m));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (!m)
		return -1;
	snprintf(m->env, sizeof(m->env), "@sluice-test-notify/%ld/%u", (long)getpid(), counter++);
	size_t n = strlen(m->env);
	/* The exact length, no NUL: a sender that added one would miss us. */
	memcpy(addr.sun_path + 1, m->env + 1, n - 1);
	*state = m;
	return listen_on(m, &addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
}

static int teardown(void **state)
{
	struct manager *m = *state;
	char path[160];

	unsetenv(NOTIFY_SOCKET_ENV);
	notify_stopping(); /* forget any address a failed test left behind */
	if (m->fd >= 0)
		close(m->fd);
	if (m->dir[0]) {
		snprintf(path, sizeof(path), "%s/notify", m->dir);
		unlink(path);
		rmdir(m->dir);
	}
	free(m);
	return 0;
}

/* Receives one datagram within a second; returns its length, or -1 when
 * none came. Checks the sender is this process. */
static ssize_t receive(struct manager *m, char *buf, size_t cap)
{
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = cap - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
	};

	if (poll(&pfd, 1, 1000) != 1)
		return -1;
	ssize_t n = recvmsg(m->fd, &msg, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, SOL_SOCKET);
	assert_int_equal(c->cmsg_type, SCM_CREDENTIALS);
	struct ucred cred;
	memcpy(&cred, CMSG_DATA(c), sizeof(cred));
	assert_int_equal(cred.pid, getpid());
	return n;
}

static void assert_nothing_pending(struct manager *m)
{
	char buf[64];
	assert_int_equal(recv(m->fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void ready_then_stopping(struct manager *m)
{
	char buf[256];

	assert_int_equal(setenv(NOTIFY_SOCKET_ENV, m->env, 1), 0);
	notify_ready();
	assert_null(getenv(NOTIFY_SOCKET_ENV));
	assert_int_equal(receive(m, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "READY=1");
	assert_nothing_pending(m);

	notify_stopping();
	assert_int_equal(receive(m, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "STOPPING=1");
	notify_stopping(); /* once only */
	assert_nothing_pending(m);
}

static void test_path_socket(void **state)
{
	ready_then_stopping(*state);
}

static void test_abstract_socket(void **state)
{
	ready_then_stopping(*state);
}

/* Not started by systemd: nothing is sent, by either call. */
static void test_no_variable(void **state)
{
	struct manager *m = *state;

	unsetenv(NOTIFY_SOCKET_ENV);
	notify_ready();
	notify_stopping();
	assert_nothing_pending(m);
}

/* A value that names no AF_UNIX socket is dropped with a warning; a later
 * notify_stopping has nowhere to go, and the real socket hears nothing. */
static void test_unusable_values(void **state)
{
	struct manager *m = *state;
	char too_long[200];
	const char *values[] = { "run/systemd/notify", "@", "/", "vsock:2:1234", too_long, too_long };

	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[0] = '/';
	too_long[sizeof(too_long) - 1] = '\0';
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (i == sizeof(values) / sizeof(values[0]) - 1)
			too_long[0] = '@'; /* the last: too long for the abstract namespace too */
		assert_int_equal(setenv(NOTIFY_SOCKET_ENV, values[i], 1), 0);
		notify_ready();
		assert_null(getenv(NOTIFY_SOCKET_ENV));
		notify_stopping();
	}
	assert_nothing_pending(m);
}

/* The manager went away (the socket file is gone): a warning, no crash,
 * and the daemon carries on. */
static void test_manager_gone(void **state)
{
	struct manager *m = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/notify", m->dir);
	assert_int_equal(setenv(NOTIFY_SOCKET_ENV, m->env, 1), 0);
	assert_int_equal(unlink(path), 0);
	notify_ready();
	assert_null(getenv(NOTIFY_SOCKET_ENV));
	notify_stopping();
	assert_nothing_pending(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_socket, setup_path, teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup_abstract, teardown),
		cmocka_unit_test_setup_teardown(test_no_variable, setup_path, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_values, setup_path, teardown),
		cmocka_unit_test_setup_teardown(test_manager_gone, setup_path, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
