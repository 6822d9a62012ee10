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

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice COMMAND [ARGS]   (sluice COMMAND --help for more)\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n  --version   Prints the version\n");
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sluice: '%s' is not a command\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
