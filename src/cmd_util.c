// SPDX-License-Identifier: MIT
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

bool cmd_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return true;
		}
	}
	return false;
}

bool cmd_ifname(char out[16], const char *arg)
{
	const char *base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	size_t len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".conf"))
		len -= 5;
	if (len == 0 || len >= IFNAMSIZ) {
		fprintf(stderr,
			"'%s': an interface name must have 1 to %d characters (it is the file's name without .conf)\n",
			arg, IFNAMSIZ - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = base[i];
		if (ch == '/' || ch == ' ' || ch == ':' || ch == '\t' || ch == '\n') {
			fprintf(stderr, "'%s': the interface name may not contain '%c'\n", arg, ch);
			return false;
		}
	}
	memcpy(out, base, len);
	out[len] = '\0';
	return true;
}

/* A bare name is looked up as wg-quick does, in sluice's own directory
 * first: `sluice up wg0` reads /etc/sluice/wg0.conf or, failing that,
 * /etc/wireguard/wg0.conf. */
#define CONFIG_PATH_DEFAULT "/etc/sluice:/etc/wireguard"

const char *cmd_config_search_path(void)
{
	const char *env = getenv(CONFIG_PATH_ENV);
	return env && *env ? env : CONFIG_PATH_DEFAULT;
}

int cmd_config_path(char *out, size_t outlen, const char *arg)
{
	size_t len = strlen(arg);
	bool bare = len && !strchr(arg, '/') && !(len > 5 && !strcmp(arg + len - 5, ".conf"));

	if (bare) {
		const char *dirs = cmd_config_search_path();
		while (*dirs) {
			size_t n = strcspn(dirs, ":");
			if (n && n + 1 + len + 5 < outlen) {
				snprintf(out, outlen, "%.*s/%s.conf", (int)n, dirs, arg);
				if (access(out, F_OK) == 0)
					return 0;
			}
			dirs += n + (dirs[n] == ':');
		}
		/* A file of that name here, as sluice has always read it. */
		if (access(arg, F_OK) != 0)
			return -ENOENT;
	}
	if (len >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, arg, len + 1);
	return 0;
}
