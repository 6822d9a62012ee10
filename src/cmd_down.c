// SPDX-License-Identifier: MIT
/* sluice down IFACE|FILE: deletes the interface; its daemon sees the tun go
 * and exits, removing its control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "netlink.h"
#include "uapi.h"

static const char usage[] =
	"Usage: sluice down IFACE|FILE\n"
	"Stops the sluice interface IFACE (or the one FILE brought up) and removes it.\n";

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
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	if (access(sock, F_OK) == 0) {
		fprintf(stderr, "down: %s is deleted but its daemon has not exited yet (%s remains)\n", ifname, sock);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
