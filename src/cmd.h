/* SPDX-License-Identifier: MIT */
/* The subcommands; main.c is their table. Each returns the process exit code. */
#ifndef SLUICE_CMD_H
#define SLUICE_CMD_H

#include <stdbool.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_RUNTIME = 2 };

int cmd_genkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_quickstart(int argc, char **argv);
int cmd_p2p(int argc, char **argv);

struct interface_config;
/* Brings up ifname from cfg and runs it: in the foreground, or in a daemon
 * (returning once the interface is up). cfg is freed (and wiped) on every
 * path. Returns the exit code. */
int cmd_run_interface(struct interface_config *cfg, const char *ifname, bool foreground);

/* True when argv holds -h or --help (and prints usage to stdout). */
bool cmd_wants_help(int argc, char **argv, const char *usage);
/* The interface name of "wg0", "wg0.conf" or "/etc/x/wg0.conf"; false (and a
 * message) when it is empty or longer than IFNAMSIZ - 1. */
bool cmd_ifname(char out[16], const char *arg);

#endif
