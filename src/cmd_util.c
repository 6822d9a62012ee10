// SPDX-License-Identifier: MIT
#include <net/if.h>
#include <stdio.h>
#include <string.h>

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
		fprintf(stderr, "'%s': an interface name must have 1 to %d characters (it is the file's name without .conf)\n",
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
