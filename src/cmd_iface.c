// SPDX-License-Identifier: MIT
/*
 * sluice [-f|--foreground] IFACE: wireguard-go's command line, so that a
 * WireGuard user can swap wireguard-go for sluice and keep their tools.
 * wg-quick runs `$WG_QUICK_USERSPACE_IMPLEMENTATION IFACE` where the kernel
 * has no WireGuard, then configures the interface with `wg setconf` and ip.
 *
 * As wireguard-go, it makes the TUN IFACE (MTU 1420, left down) and the
 * control socket /var/run/wireguard/IFACE.sock, with no configuration at
 * all (no key, no peers, no addresses; a random listening port), and returns
 * once both exist, leaving a daemon behind; -f or WG_PROCESS_FOREGROUND=1
 * keeps it in front. The daemon exits when the interface is deleted (which
 * is how `wg-quick down` stops it), when its socket file is removed, and on
 * SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "uapi.h"

#define IFNAMSIZ_MAX (IFNAMSIZ - 1) /* the longest interface name */

static const char usage[] =
	"Usage: sluice [-f|--foreground] IFACE\n"
	"Creates the interface IFACE and its control socket " UAPI_DIR
	"/IFACE.sock,\n"
	"unconfigured and down, as wireguard-go does: configure it with wg(8) and ip(8),\n"
	"or let wg-quick(8) do it (WG_QUICK_USERSPACE_IMPLEMENTATION=sluice).\n"
	"Returns once both exist, leaving a daemon that logs to syslog; it exits when\n"
	"IFACE is deleted or its socket file removed.\n"
	"  -f, --foreground  stay in the foreground and log to stderr (also when the\n"
	"                    environment has WG_PROCESS_FOREGROUND=1)\n"
	"Environment: LOG_LEVEL=verbose (or debug) logs debugging detail.\n";

/* Optimal string alignment distance of a and b, counted up to 2: a word one
 * typo away from a command is taken for that command mistyped. */
static int distance_capped(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[IFNAMSIZ_MAX + 1][IFNAMSIZ_MAX + 1];

	if (la > IFNAMSIZ_MAX || lb > IFNAMSIZ_MAX)
		return 2;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb] < 2 ? d[la][lb] : 2;
}

/* Words people type for a verb sluice spells otherwise (systemctl's, wg's,
 * other VPNs'): never taken for an interface name, each with what to type. */
static const struct {
	const char *word, *instead;
} verbs[] = {
	{ "status", "show" },
	{ "list", "show" },
	{ "ls", "show" },
	{ "info", "show" },
	{ "stats", "show" },
	{ "dump", "show" },
	{ "peers", "show" },
	{ "stop", "down" },
	{ "disconnect", "down" },
	{ "disable", "down" },
	{ "destroy", "down" },
	{ "remove", "down" },
	{ "rm", "down" },
	{ "del", "down" },
	{ "delete", "down" },
	{ "kill", "down" },
	{ "start", "up" },
	{ "connect", "up" },
	{ "enable", "up" },
	{ "create", "up" },
	{ "add", "up" },
	{ "run", "up" },
	{ "restart", "sluice down IFACE; sluice up FILE" },
	{ "reload", "sluice syncconf IFACE" },
	{ "setconf", "wg setconf IFACE FILE" },
	{ "addconf", "wg addconf IFACE FILE" },
	{ "set", "wg set IFACE ..." },
	{ "get", "show" },
	{ "config", "quickstart" },
	{ "conf", "quickstart" },
	{ "init", "quickstart" },
	{ "keygen", "genkey" },
	{ "genkeys", "genkey" },
	{ "gen", "genkey" },
	{ "key", "genkey" },
	{ "keys", "genkey" },
	{ "psk", "genpsk" },
	{ "pub", "pubkey" },
	{ "log", "show" },
	{ "logs", "show" },
	{ "iface", "sluice -f IFACE" },
	{ "interface", "sluice -f IFACE" },
};

enum cmd_word cmd_classify_word(const char *word, const char *const *commands, size_t n_commands, const char **nearest)
{
	char path[128];

	*nearest = NULL;
	for (size_t i = 0; i < n_commands; i++)
		if (!strcmp(word, commands[i]))
			return CMD_WORD_COMMAND;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcmp(word, verbs[i].word)) {
			*nearest = verbs[i].instead;
			return CMD_WORD_UNKNOWN;
		}
	}
	/* An option is never a name, and a name is what Linux accepts for an
	 * interface (uapi_socket_path applies its rule). */
	if (word[0] == '-' || uapi_socket_path(path, sizeof(path), word) < 0)
		return CMD_WORD_UNKNOWN;
	for (size_t i = 0; i < n_commands; i++) {
		if (strlen(commands[i]) >= 4 && distance_capped(word, commands[i]) == 1) {
			*nearest = commands[i];
			return CMD_WORD_UNKNOWN;
		}
	}
	return CMD_WORD_IFACE;
}

int cmd_iface(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct interface_config cfg;
	const char *env;
	char path[128];
	bool foreground = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			foreground = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default: /* getopt said what is wrong */
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *ifname = argv[optind];
	int r = uapi_socket_path(path, sizeof(path), ifname);
	if (r < 0) {
		fprintf(stderr,
			"sluice: '%s' is not a valid interface name (1 to %d characters, no '/', ':' or spaces)\n",
			ifname, IFNAMSIZ_MAX);
		return EXIT_USAGE;
	}
	env = getenv("WG_PROCESS_FOREGROUND");
	if (env && !strcmp(env, "1"))
		foreground = true;
	/* wireguard-go's LOG_LEVEL: error, verbose (debug in old releases), silent. */
	env = getenv("LOG_LEVEL");
	if (env && (!strcmp(env, "verbose") || !strcmp(env, "debug")))
		log_level = LOG_LVL_DEBUG;
	else if (env && !strcmp(env, "silent"))
		log_level = LOG_LVL_ERROR;

	memset(&cfg, 0, sizeof(cfg));
	cfg.link_unmanaged = true;
	cfg.table = TABLE_OFF; /* there are no peers, hence no routes: say so all the same */
	return cmd_run_interface(&cfg, ifname, foreground); /* frees cfg */
}
