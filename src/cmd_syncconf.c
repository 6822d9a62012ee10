// SPDX-License-Identifier: MIT
/* sluice syncconf IFACE [FILE]: makes a running interface what FILE says,
 * keeping the sessions of the peers that stay. The file is read and its
 * names resolved here, as the caller (who may read it), and sent whole as
 * a set=2 request (uapi.h); the daemon syncs to it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "crypto.h"
#include "sbuf.h"
#include "uapi.h"

static const char usage[] =
	"Usage: sluice syncconf IFACE [FILE]\n"
	"Makes the running interface IFACE what FILE describes without dropping the\n"
	"sessions of the peers it keeps, as `wg syncconf` does, with sluice's own keys\n"
	"too (Transport, Cipher, tcp:// endpoints, Address, MTU, ReplyPing): peers FILE\n"
	"does not list are removed, the others updated in place, new ones added.\n"
	"Without FILE, reads the file `sluice up IFACE` reads (/etc/sluice/IFACE.conf,\n"
	"else /etc/wireguard/IFACE.conf); IFACE may be that file itself.\n"
	"The daemon does the same on SIGHUP, with the file it was started from.\n";

int cmd_syncconf(int argc, char **argv)
{
	struct interface_config cfg;
	char ifname[16], path[4096], err[512];
	struct sbuf body;
	int ret = EXIT_RUNTIME, r;

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc != 2 && argc != 3) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!cmd_ifname(ifname, argv[1]))
		return EXIT_USAGE;
	r = cmd_config_path(path, sizeof(path), argv[argc - 1]);
	if (r == -ENOENT) {
		fprintf(stderr, "syncconf: no configuration named '%s': looked for %s.conf in %s, and for ./%s\n",
			argv[1], argv[1], cmd_config_search_path(), argv[1]);
		return EXIT_RUNTIME;
	} else if (r < 0) {
		fprintf(stderr, "syncconf: '%s': %s\n", argv[argc - 1], strerror(-r));
		return EXIT_USAGE;
	}
	if (!config_load(&cfg, path, err, sizeof(err)) || !config_resolve(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < cfg.n_unsupported_keys; i++)
		fprintf(stderr, "%s:%u: %s is a wg-quick setting that sluice ignores\n", path,
			cfg.unsupported_keys[i].line, cfg.unsupported_keys[i].name);
	sbuf_init(&body, UAPI_REQUEST_MAX);
	r = uapi_format_sync(&body, &cfg);
	config_free(&cfg);
	if (r == 0)
		r = uapi_client_sync(ifname, sbuf_cstr(&body) ? sbuf_cstr(&body) : "");
	sbuf_free(&body); /* it held the private key */
	switch (r) {
	case 0:
		ret = EXIT_OK;
		break;
	case -ENOENT:
	case -ECONNREFUSED:
		fprintf(stderr, "syncconf: no interface %s (no daemon answers on %s/%s.sock)\n", ifname, uapi_dir(),
			ifname);
		break;
	case -EPROTO:
	case -ECONNRESET:
	case -EPIPE:
		fprintf(stderr,
			"syncconf: the daemon of %s does not take a whole configuration (is it wireguard-go, or an older "
			"sluice?); for it, `wg syncconf %s FILE` with a file without Transport, Cipher and tcp://\n",
			ifname, ifname);
		break;
	case -EADDRINUSE:
		fprintf(stderr, "syncconf: %s: the ListenPort of %s is taken; nothing was changed\n", ifname, path);
		break;
	default:
		fprintf(stderr, "syncconf: %s: %s\n", ifname, strerror(-r));
	}
	return ret;
}
