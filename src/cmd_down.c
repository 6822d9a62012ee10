// SPDX-License-Identifier: MIT
/* sluice down IFACE|FILE: stops the daemon serving IFACE with SIGTERM, as
 * systemd would, so that it runs PreDown while the interface still exists,
 * removes it and waits for PostDown (hooks.h); then waits for it to exit.
 * Where no daemon answers on the control socket (or it does not go), the
 * interface is deleted instead: its daemon sees the tun go and exits. */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "netlink.h"
#include "uapi.h"

static const char usage[] =
	"Usage: sluice down IFACE|FILE\n"
	"Stops the sluice interface IFACE (or the one FILE brought up) and removes it:\n"
	"its daemon gets SIGTERM, runs PreDown, removes the interface, takes DNS away\n"
	"and runs PostDown; down returns once it has exited.\n";

/* The process that listens on the control socket: the interface's daemon
 * (SO_PEERCRED of a connection to it). -1 when none answers. */
static pid_t daemon_pid(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t pid = -1;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		pid = cred.pid;
	close(fd);
	return pid;
}

/* Gone, or a zombie its parent has not reaped yet. */
static bool process_gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return true;
	char *ok = fgets(buf, sizeof(buf), f);
	fclose(f);
	const char *close_paren = ok ? strrchr(buf, ')') : NULL;
	return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

static void sleep_50ms(void)
{
	nanosleep(&(struct timespec){ .tv_nsec = 50 * NS_PER_MS }, NULL);
}

/* SIGTERM, then up to 30 s (PreDown and PostDown may take a while) for
 * the daemon to finish. */
static bool stop_daemon(const char *ifname, const char *sock)
{
	pid_t pid = daemon_pid(sock);

	if (pid <= 0 || kill(pid, SIGTERM) < 0)
		return false;
	for (int i = 0; i < 600 && !process_gone(pid); i++)
		sleep_50ms();
	if (!process_gone(pid)) {
		fprintf(stderr, "down: the daemon of %s (pid %d) has not exited 30 s after SIGTERM\n", ifname,
			(int)pid);
		return false;
	}
	/* A daemon that ran as another user (User =) could not remove its
	 * socket: nobody listens on it now, so it goes. */
	uapi_remove_stale(ifname);
	return if_nametoindex(ifname) == 0;
}

int cmd_down(int argc, char **argv)
{
	char ifname[16], sock[128];

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc != 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!cmd_ifname(ifname, argv[1]))
		return EXIT_USAGE;
	if (if_nametoindex(ifname) != 0 && uapi_socket_path(sock, sizeof(sock), ifname) == 0 &&
	    stop_daemon(ifname, sock))
		return EXIT_OK;
	int r = nl_link_delete(ifname);
	if (r == -ENODEV) {
		fprintf(stderr, "down: there is no interface %s\n", ifname);
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "down: cannot delete %s: %s\n", ifname, strerror(-r));
		return EXIT_RUNTIME;
	}
	/* Wait (up to 5 s) for the daemon to notice and remove its socket; one
	 * that ran as another user (User =) cannot, and leaves it to us once it
	 * no longer listens. */
	if (uapi_socket_path(sock, sizeof(sock), ifname) < 0)
		return EXIT_OK;
	for (int i = 0; i < 100 && access(sock, F_OK) == 0 && uapi_remove_stale(ifname) != 0; i++)
		sleep_50ms();
	if (access(sock, F_OK) == 0) {
		fprintf(stderr, "down: %s is deleted but its daemon has not exited yet (%s remains)\n", ifname, sock);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
