// SPDX-License-Identifier: MIT
/* sluice show [IFACE]: the state of one or every interface, laid out like `wg show`. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "crypto.h"
#include "encoding.h"
#include "uapi.h"

static const char usage[] =
	"Usage: sluice show [IFACE]\n"
	"Shows the interface IFACE, or every sluice/WireGuard userspace interface.\n";

static void print_b64_of_hex(const char *label, const char *hex, bool is_private)
{
	uint8_t key[KEY_LEN], pub[KEY_LEN];
	char b64[KEY_B64_LEN + 1];

	if (!key_from_hex(key, hex))
		return;
	if (is_private) {
		if (crypto_x25519_public(pub, key)) {
			key_to_base64(b64, pub);
			printf("  public key: %s\n", b64);
		}
		printf("  private key: (hidden)\n");
	} else {
		key_to_base64(b64, key);
		printf("%s%s\n", label, b64);
	}
	crypto_wipe(key, sizeof(key));
	crypto_wipe(b64, sizeof(b64));
}

static void print_ago(uint64_t sec)
{
	time_t now = time(NULL);
	uint64_t ago = (uint64_t)now > sec ? (uint64_t)now - sec : 0;
	static const struct { const char *name; uint64_t secs; } units[] = {
		{ "year", 365 * 24 * 3600ULL }, { "day", 24 * 3600ULL }, { "hour", 3600 }, { "minute", 60 }, { "second", 1 },
	};
	bool first = true;

	printf("  latest handshake: ");
	if (ago == 0) {
		printf("Now\n");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = ago / units[i].secs;
		if (!n)
			continue;
		ago -= n * units[i].secs;
		printf("%s%" PRIu64 " %s%s", first ? "" : ", ", n, units[i].name, n == 1 ? "" : "s");
		first = false;
	}
	printf(" ago\n");
}

static void print_bytes(uint64_t b)
{
	if (b < 1024)
		printf("%" PRIu64 " B", b);
	else if (b < 1024ULL * 1024)
		printf("%.2f KiB", b / 1024.0);
	else if (b < 1024ULL * 1024 * 1024)
		printf("%.2f MiB", b / (1024.0 * 1024));
	else if (b < 1024ULL * 1024 * 1024 * 1024)
		printf("%.2f GiB", b / (1024.0 * 1024 * 1024));
	else
		printf("%.2f TiB", b / (1024.0 * 1024 * 1024 * 1024));
}

struct peer_view {
	char public_key[KEY_HEX_LEN + 1];
	bool has_psk;
	char endpoint[ENDPOINT_STR_MAX];
	char allowed[1024];
	uint64_t hs_sec, rx, tx, keepalive;
};

static void print_peer(const struct peer_view *p)
{
	printf("\n");
	print_b64_of_hex("peer: ", p->public_key, false);
	if (p->has_psk)
		printf("  preshared key: (hidden)\n");
	if (p->endpoint[0])
		printf("  endpoint: %s\n", p->endpoint);
	printf("  allowed ips: %s\n", p->allowed[0] ? p->allowed : "(none)");
	if (p->hs_sec)
		print_ago(p->hs_sec);
	if (p->rx || p->tx) {
		printf("  transfer: ");
		print_bytes(p->rx);
		printf(" received, ");
		print_bytes(p->tx);
		printf(" sent\n");
	}
	if (p->keepalive)
		printf("  persistent keepalive: every %" PRIu64 " second%s\n", p->keepalive, p->keepalive == 1 ? "" : "s");
}

static int show_one(const char *ifname)
{
	char *body = NULL, *save = NULL;
	struct peer_view peer;
	bool in_peer = false;
	int r = uapi_client_get(ifname, &body);

	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "show: no interface %s (no daemon answers on %s/%s.sock)\n", ifname, uapi_dir(), ifname);
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "show: %s: %s\n", ifname, strerror(-r));
		return EXIT_RUNTIME;
	}
	size_t body_len = strlen(body); /* strtok_r cuts it into pieces */
	printf("interface: %s\n", ifname);
	for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, '=');
		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(line, "private_key")) {
			print_b64_of_hex(NULL, val, true);
		} else if (!strcmp(line, "listen_port")) {
			printf("  listening port: %s\n", val);
		} else if (!strcmp(line, "fwmark")) {
			printf("  fwmark: 0x%x\n", (unsigned)strtoul(val, NULL, 10));
		} else if (!strcmp(line, "public_key")) {
			if (in_peer)
				print_peer(&peer);
			memset(&peer, 0, sizeof(peer));
			snprintf(peer.public_key, sizeof(peer.public_key), "%s", val);
			in_peer = true;
		} else if (!in_peer) {
			continue;
		} else if (!strcmp(line, "preshared_key")) {
			peer.has_psk = strspn(val, "0") != strlen(val);
		} else if (!strcmp(line, "endpoint")) {
			snprintf(peer.endpoint, sizeof(peer.endpoint), "%s", val);
		} else if (!strcmp(line, "allowed_ip")) {
			size_t n = strlen(peer.allowed);
			snprintf(peer.allowed + n, sizeof(peer.allowed) - n, "%s%s", n ? ", " : "", val);
		} else if (!strcmp(line, "last_handshake_time_sec")) {
			peer.hs_sec = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "rx_bytes")) {
			peer.rx = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "tx_bytes")) {
			peer.tx = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			peer.keepalive = strtoull(val, NULL, 10);
		}
	}
	if (in_peer)
		print_peer(&peer);
	/* The reply held the private key in hex. */
	crypto_wipe(body, body_len);
	free(body);
	return EXIT_OK;
}

int cmd_show(int argc, char **argv)
{
	char ifname[16];

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc > 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (argc == 2) {
		if (!cmd_ifname(ifname, argv[1]))
			return EXIT_USAGE;
		return show_one(ifname);
	}
	DIR *dir = opendir(uapi_dir());
	if (!dir)
		return EXIT_OK; /* no interfaces */
	int ret = EXIT_OK, shown = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n <= 5 || n - 5 >= sizeof(ifname) || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		memcpy(ifname, de->d_name, n - 5);
		ifname[n - 5] = '\0';
		if (shown++)
			printf("\n");
		if (show_one(ifname) != EXIT_OK)
			ret = EXIT_RUNTIME;
	}
	closedir(dir);
	return ret;
}
