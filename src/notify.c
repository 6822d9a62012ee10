// SPDX-License-Identifier: MIT
/*
 * systemd's notification protocol, the part a Type=notify service needs:
 * each state is one datagram of "KEY=VALUE" lines sent to the AF_UNIX
 * socket named by $NOTIFY_SOCKET. The manager learns the sender's pid from
 * the kernel (SO_PASSCRED on its side), so nothing else goes with it.
 * libsystemd would do the same in a few more lines; sluice links nothing
 * but libcrypto and libmnl.
 */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* The manager's address, taken from the environment by notify_ready. */
static struct {
	bool armed;
	struct sockaddr_un addr;
	socklen_t len;
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* as written, for messages */
} manager;

/* "/run/systemd/notify" is a path; "@name" a name in the abstract
 * namespace, whose address starts with a NUL and whose length counts the
 * name's bytes only (no terminating NUL: it would be part of the name). */
static bool parse_address(const char *s)
{
	size_t n = strlen(s);

	memset(&manager, 0, sizeof(manager));
	manager.addr.sun_family = AF_UNIX;
	if (n < 2 || (s[0] != '/' && s[0] != '@'))
		return false;
	if (s[0] == '@') {
		if (n > sizeof(manager.addr.sun_path))
			return false;
		memcpy(manager.addr.sun_path + 1, s + 1, n - 1);
		manager.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		if (n >= sizeof(manager.addr.sun_path))
			return false;
		memcpy(manager.addr.sun_path, s, n + 1);
		manager.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	memcpy(manager.name, s, n + 1);
	manager.armed = true;
	return true;
}

static void send_state(const char *state)
{
	size_t len = strlen(state);
	ssize_t n = -1;
	int fd, err;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		do
			n = sendto(fd, state, len, MSG_NOSIGNAL, (const struct sockaddr *)&manager.addr, manager.len);
		while (n < 0 && errno == EINTR);
	}
	err = errno;
	if (fd >= 0)
		close(fd);
	if (n == (ssize_t)len)
		log_debug("told the service manager %s", state);
	else
		log_warn("cannot tell the service manager %s on %s=%s: %s", state, NOTIFY_SOCKET_ENV, manager.name,
			 n < 0 ? strerror(err) : "short write");
}

void notify_ready(void)
{
	static bool at_exit_registered;
	const char *env = getenv(NOTIFY_SOCKET_ENV);

	if (!env || !*env)
		return;
	bool ok = parse_address(env);
	if (!ok)
		log_warn(
			"%s='%s' names no AF_UNIX socket (expected an absolute path or @name, at most %zu bytes): "
			"cannot report readiness",
			NOTIFY_SOCKET_ENV, env, sizeof(manager.addr.sun_path) - 1);
	/* Only this process speaks for the service: a child that inherited
	 * the variable would be refused by the manager anyway. */
	unsetenv(NOTIFY_SOCKET_ENV);
	if (!ok)
		return;
	send_state("READY=1");
	/* The daemon's way out is a return from main (or exit()), whatever
	 * stopped it: a signal, its interface deleted, an error. */
	if (!at_exit_registered && atexit(notify_stopping) == 0)
		at_exit_registered = true;
}

void notify_stopping(void)
{
	if (!manager.armed)
		return;
	send_state("STOPPING=1");
	memset(&manager, 0, sizeof(manager));
}
