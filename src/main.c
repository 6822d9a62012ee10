// SPDX-License-Identifier: MIT
/* sluice: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "up", cmd_up, "Brings up an interface from a wg-quick style file" },
	{ "down", cmd_down, "Stops an interface and removes it" },
	{ "show", cmd_show, "Shows the state of interfaces, like `wg show`" },
	{ "quickstart", cmd_quickstart, "Writes configs for a server and its clients, keys included" },
	{ "p2p", cmd_p2p, "Brings up a tunnel to one peer from the command line, no file" },
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
	fprintf(out, "\nsluice [-f|--foreground] IFACE, as wireguard-go: creates IFACE unconfigured, for\n"
		     "wg(8) and wg-quick(8) (WG_QUICK_USERSPACE_IMPLEMENTATION=sluice) to set up\n");
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
	 * nothing else. A word one typo from a command is not taken for a
	 * name: `sluice shwo` must not create an interface. */
	const char *names[N_COMMANDS], *nearest = NULL;
	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i].name;
	bool flag = !strcmp(argv[1], "-f") || !strcmp(argv[1], "--foreground");
	if (flag || (argc == 2 && cmd_classify_word(argv[1], names, N_COMMANDS, &nearest) == CMD_WORD_IFACE))
		return cmd_iface(argc, argv);
	if (!nearest && argc > 2)
		cmd_classify_word(argv[1], names, N_COMMANDS, &nearest);
	if (nearest)
		fprintf(stderr, "sluice: '%s' is not a command; did you mean '%s'?\n\n", argv[1], nearest);
	else
		fprintf(stderr, "sluice: '%s' is not a command\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
