/* SPDX-License-Identifier: MIT */
/* For the unit tests that need the kernel (TUN, rtnetlink): run them in a
 * network namespace of their own, made by a forked child, so the machine's
 * namespace is never touched and the namespace dies with the child. */
#ifndef SLUICE_UNIT_NETNS_H
#define SLUICE_UNIT_NETNS_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit code for "this machine cannot run the test": 77 (skipped), or a
 * failure with CI=true, where a skip would hide a gap. */
static inline int unit_cannot_run(const char *test, const char *why)
{
	const char *ci = getenv("CI");

	if (ci && !strcmp(ci, "true")) {
		fprintf(stderr,
			"%s: FAIL: %s; CI=true needs root and /dev/net/tun "
			"(run `sudo make check` on a host that has them)\n",
			test, why);
		return 1;
	}
	printf("skipped: %s\n", why);
	return 77;
}

/* Runs fn (cmocka's group runner, nonzero on failure) in a forked child
 * inside a new network namespace; returns main's exit code. */
static inline int unit_run_in_netns(const char *test, int (*fn)(void))
{
	int status, fd;
	pid_t pid;

	if (geteuid() != 0)
		return unit_cannot_run(test, "needs root (network namespace and TUN)");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return unit_cannot_run(test, "/dev/net/tun cannot be opened");
	close(fd);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(77);
		}
		_exit(fn() ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: child killed by signal %d\n", test, WTERMSIG(status));
		return 1;
	}
	if (WEXITSTATUS(status) == 77)
		return unit_cannot_run(test, "cannot create a network namespace");
	return WEXITSTATUS(status);
}

#endif
