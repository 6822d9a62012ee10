/* SPDX-License-Identifier: MIT */
/* The subcommands; main.c is their table. Each returns the process exit code. */
#ifndef SLUICE_CMD_H
#define SLUICE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_RUNTIME = 2 };

int cmd_genkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_showconf(int argc, char **argv);
int cmd_syncconf(int argc, char **argv);
int cmd_quickstart(int argc, char **argv);
int cmd_p2p(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
/* `show --prometheus` into out: every interface, or only the one named;
 * errors go to stderr. Returns the exit code. */
int cmd_show_prometheus(FILE *out, const char *only);
/* sluice [-f|--foreground] IFACE: wireguard-go's invocation (cmd_iface.c). */
int cmd_iface(int argc, char **argv);

/* What main makes of its first argument when it names no command. */
enum cmd_word {
	CMD_WORD_COMMAND, /* one of commands[] */
	CMD_WORD_IFACE,   /* an interface name: wireguard-go's `sluice IFACE` */
	CMD_WORD_UNKNOWN, /* neither; *nearest is the command it is one typo from, or what
			   * to type for a verb of other tools (status, stop...), if any */
};
enum cmd_word cmd_classify_word(const char *word, const char *const *commands, size_t n_commands, const char **nearest);

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

/* The file `sluice up ARG` reads: ARG itself when it holds a '/' or ends in
 * .conf; for a bare name (wg0), the first DIR/wg0.conf of the search path
 * ($SLUICE_CONFIG_PATH, colon-separated, or /etc/sluice:/etc/wireguard),
 * else a file of that name in the current directory. 0, -ENOENT (nothing
 * found: cmd_config_search_path() says where it looked) or -ENAMETOOLONG. */
#define CONFIG_PATH_ENV "SLUICE_CONFIG_PATH"
int cmd_config_path(char *out, size_t outlen, const char *arg);
const char *cmd_config_search_path(void);

#endif
