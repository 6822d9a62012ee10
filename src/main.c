// SPDX-License-Identifier: MIT
/* sluice: a table of subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "up", cmd_up, "Brings up an interface from a wg-quick style file" },
	{ "down", cmd_down, "Stops an interface and removes it" },
	{ "show", cmd_show, "Shows the state of interfaces, like `wg show`" },
	{ "showconf", cmd_showconf, "Prints a running interface's configuration as a file" },
	{ "syncconf", cmd_syncconf, "Applies a changed file to a running interface, keeping its sessions" },
	{ "quickstart", cmd_quickstart, "Writes configs for a server and its clients, keys included" },
	{ "p2p", cmd_p2p, "Brings up a tunnel to one peer from the command line, no file" },
	{ "metrics", cmd_metrics, "Serves the counters over HTTP for Prometheus (/metrics)" },
	{ "genkey", cmd_genkey, "Prints a new private key" },
	{ "genpsk", cmd_genpsk, "Prints a new preshared key" },
	{ "pubkey", cmd_pubkey, "Reads a private key on stdin, prints its public key" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice COMMAND [ARGS]   (sluice COMMAND --help for more)\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n  --version   Prints the version\n");
	fprintf(out,
		"\nsluice [-f|--foreground] IFACE, as wireguard-go: creates IFACE unconfigured, for\n"
		"wg(8) and wg-quick(8) (WG_QUICK_USERSPACE_IMPLEMENTATION=sluice) to set up; a bare\n"
		"IFACE is taken only from a tool (-f, WG_PROCESS_FOREGROUND, wg-quick, no terminal)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("sluice %s\n", SLUICE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);

	/* wireguard-go's command line, as wg-quick uses it: [-f] IFACE and
	 * nothing else. A word that is a verb in other tools (status, stop,
	 * reload...) or one typo from a command is never taken for a name:
	 * `sluice status` must not create an interface. A bare name is taken
	 * for one only when a tool is calling: -f, WG_PROCESS_FOREGROUND, or
	 * WG_QUICK_USERSPACE_IMPLEMENTATION in the environment (wg-quick),
	 * or a standard input that is no terminal (scripts, service managers).
	 * Typed at a terminal, a bare word is a mistyped command. */
	const char *names[N_COMMANDS], *nearest = NULL;
	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i].name;
	bool flag = !strcmp(argv[1], "-f") || !strcmp(argv[1], "--foreground");
	const char *word = flag && argc > 2 ? argv[2] : argv[1];
	enum cmd_word kind = cmd_classify_word(word, names, N_COMMANDS, &nearest);
	bool tool_calling = flag || getenv("WG_PROCESS_FOREGROUND") || getenv("WG_QUICK_USERSPACE_IMPLEMENTATION") ||
			    !isatty(STDIN_FILENO);
	if (kind == CMD_WORD_IFACE && argc == 2 + flag && tool_calling)
		return cmd_iface(argc, argv);
	if (flag && !nearest)
		return cmd_iface(argc, argv); /* says what is wrong with the name or the arguments */
	if (nearest)
		fprintf(stderr, "sluice: '%s' is not a command; did you mean '%s%s'?\n\n", word,
			strchr(nearest, ' ') ? "" : "sluice ", nearest);
	else
		fprintf(stderr, "sluice: '%s' is not a command\n\n", word);
	if (kind == CMD_WORD_IFACE && argc == 2)
		fprintf(stderr,
			"(To create an unconfigured interface named %s as wireguard-go does, run it as\n"
			"`sluice -f %s`, or let wg-quick do it with WG_QUICK_USERSPACE_IMPLEMENTATION=sluice.)\n\n",
			word, word);
	usage(stderr);
	return EXIT_USAGE;
}
