// SPDX-License-Identifier: MIT
/* sluice showconf IFACE: the running configuration as a file, with sluice's
 * own keys, which `sluice syncconf` and `sluice up` read back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "crypto.h"
#include "messages.h"
#include "sbuf.h"
#include "uapi.h"
#include "uapi_get.h"

static const char usage[] =
	"Usage: sluice showconf IFACE\n"
	"Prints the configuration of the running interface IFACE as a file that\n"
	"`sluice syncconf` and `sluice up` read back, as `wg showconf` does, with\n"
	"sluice's own keys too (Transport, Cipher, tcp:// endpoints; Address, MTU and\n"
	"Table where sluice set the interface up). It holds the private key.\n";

int cmd_showconf(int argc, char **argv)
{
	struct interface_config cfg;
	struct sbuf text;
	char ifname[16], *body = NULL;
	int r;

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc != 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!cmd_ifname(ifname, argv[1]))
		return EXIT_USAGE;
	/* sluice answers get=2 with its own keys too; a wireguard-go hangs up:
	 * what get=1 says is what `wg showconf` prints. */
	r = uapi_client_get_ext(ifname, true, &body);
	if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
		r = uapi_client_get_ext(ifname, false, &body);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "showconf: no interface %s (no daemon answers on %s/%s.sock)\n", ifname, uapi_dir(),
			ifname);
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "showconf: %s: %s\n", ifname, strerror(-r));
		return EXIT_RUNTIME;
	}
	size_t len = strlen(body);
	r = uapi_parse_get(&cfg, body, len);
	crypto_wipe(body, len); /* the private key, in hex */
	free(body);
	if (r < 0) {
		fprintf(stderr, "showconf: %s: the daemon's reply makes no sense: %s\n", ifname, strerror(-r));
		return EXIT_RUNTIME;
	}
	if (cfg.mtu == DEFAULT_MTU)
		cfg.mtu = 0; /* the default goes without saying */
	sbuf_init(&text, 0);
	r = config_format(&text, &cfg);
	config_free(&cfg);
	if (r == 0 && fwrite(sbuf_ptr(&text), 1, sbuf_len(&text), stdout) != sbuf_len(&text))
		r = -EIO;
	if (r == 0 && fflush(stdout) != 0)
		r = -errno;
	sbuf_free(&text);
	if (r < 0) {
		fprintf(stderr, "showconf: %s: %s\n", ifname, strerror(-r));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
