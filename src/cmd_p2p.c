// SPDX-License-Identifier: MIT
/*
 * sluice p2p: a tunnel to one peer from one command line per host, no file,
 * as the UDP tutorial VPN sluice grew from was started (`vpn -k KEY -p PEER
 * LOCAL REMOTE`). The line becomes the same struct interface_config a file
 * would, and runs the way `sluice up` runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "crypto.h"
#include "encoding.h"
#include "sbuf.h"
#include "secretfile.h"
#include "log.h"
#include "netaddr.h"

#define DEFAULT_IFNAME "sluice0"
#define DEFAULT_PORT 51820

static const char usage[] =
	"Usage: sluice p2p [-f] [-v] --key FILE --peer PUBKEY [OPTIONS] LOCAL_ADDR REMOTE_ADDR\n"
	"Brings up a tunnel to one peer described on the command line alone; the other\n"
	"host runs the mirror image. With keys made by `umask 077; sluice genkey > a.key`\n"
	"and `sluice pubkey < a.key` (and the same on host B):\n"
	"  host A: sluice p2p --key a.key --peer PUB_B --endpoint 192.0.2.2:51820 198.18.0.1 198.18.0.2\n"
	"  host B: sluice p2p --key b.key --peer PUB_A --endpoint 192.0.2.1:51820 198.18.0.2 198.18.0.1\n"
	"\n"
	"  LOCAL_ADDR   this host's tunnel address(es), comma-separated, IPv4 and/or\n"
	"               IPv6; /32 or /128 unless a prefix is given\n"
	"  REMOTE_ADDR  the peer's tunnel address(es): each is routed through the tunnel\n"
	"               (the peer's AllowedIPs); a prefix routes a network behind the peer\n"
	"  -k, --key FILE            this host's private key (base64); refused if the\n"
	"                            file can be read by group or others\n"
	"  -p, --peer PUBKEY         the peer's public key (base64)\n"
	"  -e, --endpoint HOST:PORT  where the peer listens ([IPv6]:PORT for IPv6; a name\n"
	"                            is resolved once, at start). Without it this side\n"
	"                            waits for the peer to make contact\n"
	"  -l, --listen-port N       the port this side listens on (default 51820, 0 = any)\n"
	"  -n, --name IFACE          the interface's name (default " DEFAULT_IFNAME
	")\n"
	"      --tcp                 reach the peer over TCP (Endpoint tcp://HOST:PORT) and\n"
	"                            accept TCP besides UDP on the listen port\n"
	"      --cipher SUITE        aes-256-gcm, or chacha20-poly1305 (WireGuard's, the\n"
	"                            default); both sides must name the same\n"
	"      --psk FILE            a preshared key both sides hold (sluice genpsk), mode 0600\n"
	"      --tap                 Ethernet, not IP (Mode = tap): the two hosts share one\n"
	"                            Ethernet segment; REMOTE_ADDR is routed onto it (ARP\n"
	"                            finds the peer); both sides must give it\n"
	"      --bridge BRIDGE       with --tap: put the TAP in this existing bridge, joining\n"
	"                            the LAN on it to the peer's\n"
	"      --keepalive SECONDS   send a keepalive every SECONDS (25 keeps a NAT open;\n"
	"                            default off)\n"
	"  -f, --foreground          stay in the foreground and log to stderr\n"
	"  -v, --verbose             log debugging detail\n"
	"Without -f, returns once the interface is up; `sluice down IFACE` stops it.\n"
	"Exit status: 0 up, 1 bad arguments, 2 anything else (key file, resolving,\n"
	"bringing the interface up).\n";

/* Reads a base64 key from a file readable by its owner only, as config_load
 * demands of a file that holds a private key. */
static bool read_key_file(uint8_t key[KEY_LEN], const char *path, const char *what)
{
	char err[512], text[KEY_B64_LEN + 1];
	struct sbuf buf;
	mode_t mode;
	bool ok = false;

	/* A pipe too, for --key <(pass show vpn/key). 128 bytes is more than a
	 * key with any line ending. */
	if (!secretfile_read(path, "a key file", 128, &buf, &mode, err, sizeof(err))) {
		fprintf(stderr, "p2p: %s (the %s)\n", err, what);
		return false;
	}
	if (!secretfile_private(path, mode, what, err, sizeof(err))) {
		fprintf(stderr, "p2p: %s\n", err);
		goto out;
	}
	/* The newline `sluice genkey > FILE` writes, and any trailing blanks. */
	size_t len = sbuf_len(&buf);
	const char *p = sbuf_ptr(&buf);
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len != KEY_B64_LEN) {
		memset(text, 0, sizeof(text));
	} else {
		memcpy(text, p, len);
		text[len] = '\0';
	}
	if (len != KEY_B64_LEN || !key_from_base64(key, text)) {
		fprintf(stderr, "p2p: %s: not a %s (expected 44 characters of base64, as sluice %s writes)\n", path,
			what, !strcmp(what, "private key") ? "genkey" : "genpsk");
		goto out;
	}
	ok = true;
out:
	crypto_wipe(text, sizeof(text));
	sbuf_free(&buf);
	return ok;
}

/* "198.18.0.1" or "198.18.0.1/24,2001:db8:77::1": a malloc'd array. A bare
 * address is a host (/32, /128). mask zeroes the host bits (routes). */
static struct cidr *parse_cidr_list(const char *arg, const char *what, bool mask, size_t *n_out)
{
	char *copy = strdup(arg), *save = NULL;
	struct cidr *list = NULL;
	size_t n = 0;

	*n_out = 0;
	if (!copy || !(list = calloc(strlen(arg) / 2 + 1, sizeof(*list)))) {
		fprintf(stderr, "p2p: out of memory\n");
		goto fail;
	}
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!cidr_parse(&list[n], item, true)) {
			fprintf(stderr,
				"p2p: %s '%s' is not an address (like 198.18.0.1, 2001:db8:77::1 or 198.18.0.0/24)\n",
				what, item);
			goto fail;
		}
		if (mask)
			cidr_mask(&list[n]);
		n++;
	}
	if (!n) {
		fprintf(stderr, "p2p: %s is empty\n", what);
		goto fail;
	}
	free(copy);
	*n_out = n;
	return list;
fail:
	free(copy);
	free(list);
	return NULL;
}

/* cmd_ifname reads a file name; --name is the interface name itself. */
static bool valid_ifname(char out[IFNAMSIZ], const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ) {
		fprintf(stderr, "p2p: --name '%s': an interface name has 1 to %d characters\n", name, IFNAMSIZ - 1);
		return false;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n")) {
		fprintf(stderr,
			"p2p: --name '%s': an interface name may not be . or .., nor contain '/', ':' or blanks\n",
			name);
		return false;
	}
	memcpy(out, name, len + 1);
	return true;
}

struct p2p_args {
	const char *key_file, *psk_file, *peer, *endpoint, *name, *local, *remote;
	uint32_t listen_port, keepalive;
	bool has_keepalive, tcp, foreground, has_suite, tap;
	enum cipher_suite suite;
	const char *bridge;
};

/* Returns EXIT_OK, EXIT_USAGE, or -1 after printing --help. */
static int parse_args(struct p2p_args *a, int argc, char **argv)
{
	enum { OPT_TCP = 256, OPT_CIPHER, OPT_PSK, OPT_KEEPALIVE, OPT_TAP, OPT_BRIDGE };
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "listen-port", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "tcp", no_argument, NULL, OPT_TCP },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "psk", required_argument, NULL, OPT_PSK },
		{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "tap", no_argument, NULL, OPT_TAP },
		{ "bridge", required_argument, NULL, OPT_BRIDGE },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	a->listen_port = DEFAULT_PORT;
	a->name = DEFAULT_IFNAME;
	optind = 0; /* 0: glibc forgets any earlier getopt run (unit tests run several) */
	while ((opt = getopt_long(argc, argv, "+k:p:e:l:n:fvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			a->key_file = optarg;
			break;
		case 'p':
			a->peer = optarg;
			break;
		case 'e':
			a->endpoint = optarg;
			break;
		case 'l':
			if (!parse_u32(optarg, false, 65535, &a->listen_port)) {
				fprintf(stderr, "p2p: --listen-port '%s': expected 0..65535 (0 = any free port)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			a->name = optarg;
			break;
		case OPT_TCP:
			a->tcp = true;
			break;
		case OPT_CIPHER:
			if (!strcasecmp(optarg, "aes-256-gcm")) {
				a->suite = SUITE_AESGCM;
			} else if (!strcasecmp(optarg, "chacha20-poly1305")) {
				a->suite = SUITE_CHACHAPOLY;
			} else {
				fprintf(stderr, "p2p: --cipher '%s': expected aes-256-gcm or chacha20-poly1305\n",
					optarg);
				return EXIT_USAGE;
			}
			a->has_suite = true;
			break;
		case OPT_PSK:
			a->psk_file = optarg;
			break;
		case OPT_TAP:
			a->tap = true;
			break;
		case OPT_BRIDGE:
			if (!*optarg || strlen(optarg) >= IFNAMSIZ || strchr(optarg, '/')) {
				fprintf(stderr,
					"p2p: --bridge '%s': expected an interface name of at most %d characters\n",
					optarg, IFNAMSIZ - 1);
				return EXIT_USAGE;
			}
			a->bridge = optarg;
			break;
		case OPT_KEEPALIVE:
			if (!parse_u32(optarg, false, 65535, &a->keepalive)) {
				fprintf(stderr, "p2p: --keepalive '%s': expected 0..65535 seconds (0 = off)\n", optarg);
				return EXIT_USAGE;
			}
			a->has_keepalive = true;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'v':
			log_level = LOG_LVL_DEBUG;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default: /* getopt said what is wrong */
			fputs("Try 'sluice p2p --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (a->bridge && !a->tap) {
		fprintf(stderr, "p2p: --bridge needs --tap (a TUN carries no Ethernet frames)\n");
		return EXIT_USAGE;
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"p2p: expected LOCAL_ADDR and REMOTE_ADDR after the options, got %d argument%s (see sluice p2p --help)\n",
			argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	a->local = argv[optind];
	a->remote = argv[optind + 1];
	if (!a->key_file || !a->peer) {
		fprintf(stderr, "p2p: %s is required (see sluice p2p --help)\n",
			!a->key_file ? "--key FILE (this host's private key)"
				     : "--peer PUBKEY (the peer's public key)");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Fills the peer's endpoint from "HOST:PORT", "tcp://HOST:PORT" or
 * "udp://HOST:PORT", resolving a name. Returns an exit code. */
static int set_endpoint(struct peer_config *peer, const char *arg, bool tcp)
{
	const char *s = arg;
	char host[1025];
	uint16_t port;
	int rc;

	if (!strncasecmp(s, "tcp://", 6)) {
		tcp = true;
		s += 6;
	} else if (!strncasecmp(s, "udp://", 6)) {
		if (tcp) {
			fprintf(stderr, "p2p: --endpoint '%s' says udp:// but --tcp is given\n", arg);
			return EXIT_USAGE;
		}
		s += 6;
	}
	if (!endpoint_split(s, host, sizeof(host), &port)) {
		fprintf(stderr, "p2p: --endpoint '%s' is not HOST:PORT or [IPv6]:PORT (port 1..65535)\n", arg);
		return EXIT_USAGE;
	}
	peer->endpoint_transport = tcp ? TRANSPORT_TCP : TRANSPORT_UDP;
	peer->endpoint_str = strdup(s);
	if (!peer->endpoint_str) {
		fprintf(stderr, "p2p: out of memory\n");
		return EXIT_RUNTIME;
	}
	rc = endpoint_resolve(&peer->endpoint, s);
	if (rc) {
		fprintf(stderr, "p2p: cannot resolve --endpoint '%s': %s\n", s,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int cmd_p2p(int argc, char **argv)
{
	struct interface_config cfg;
	struct peer_config *peer;
	struct p2p_args a;
	uint8_t own_pub[KEY_LEN];
	char ifname[IFNAMSIZ];
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	ret = parse_args(&a, argc, argv);
	if (ret < 0)
		return EXIT_OK; /* --help */
	if (ret != EXIT_OK)
		return ret;
	if (!valid_ifname(ifname, a.name))
		return EXIT_USAGE;

	ret = EXIT_USAGE;
	cfg.peers = calloc(1, sizeof(*cfg.peers));
	if (!cfg.peers) {
		fprintf(stderr, "p2p: out of memory\n");
		ret = EXIT_RUNTIME;
		goto out;
	}
	cfg.n_peers = 1;
	peer = &cfg.peers[0];
	peer->endpoint.addr.sa.sa_family = AF_UNSPEC;
	if (!key_from_base64(peer->public_key, a.peer)) {
		fprintf(stderr,
			"p2p: --peer is not a public key (expected 44 characters of base64, as sluice pubkey prints)\n");
		goto out;
	}
	cfg.addresses = parse_cidr_list(a.local, "LOCAL_ADDR", false, &cfg.n_addresses);
	if (!cfg.addresses)
		goto out;
	peer->allowed_ips = parse_cidr_list(a.remote, "REMOTE_ADDR", true, &peer->n_allowed_ips);
	if (!peer->allowed_ips)
		goto out;
	if (a.endpoint && (ret = set_endpoint(peer, a.endpoint, a.tcp)) != EXIT_OK)
		goto out;

	ret = EXIT_RUNTIME;
	if (!read_key_file(cfg.private_key, a.key_file, "private key"))
		goto out;
	cfg.has_private_key = true;
	if (!crypto_x25519_public(own_pub, cfg.private_key)) {
		fprintf(stderr, "p2p: %s: cannot compute the public key of this private key\n", a.key_file);
		goto out;
	}
	/* A mirror-image line with the two keys crossed the wrong way. */
	if (!memcmp(own_pub, peer->public_key, KEY_LEN)) {
		fprintf(stderr, "p2p: --peer is the public key of --key %s itself: give the other host's public key\n",
			a.key_file);
		ret = EXIT_USAGE;
		goto out;
	}
	if (a.psk_file) {
		if (!read_key_file(peer->preshared_key, a.psk_file, "preshared key"))
			goto out;
		peer->has_preshared_key = true;
	}
	cfg.has_listen_port = true;
	cfg.listen_port = (uint16_t)a.listen_port;
	/* TCP is offered besides UDP, so a peer that comes over UDP is served too. */
	/* A tcp:// endpoint means TCP as much as --tcp does: listen on it too, so
	 * that the mirror-image line on the other host can reach us. */
	bool tcp = a.tcp || (a.endpoint && peer->endpoint_transport == TRANSPORT_TCP);
	cfg.transports = tcp ? TRANSPORT_UDP | TRANSPORT_TCP : 0;
	cfg.table = TABLE_AUTO;
	peer->has_suite = a.has_suite;
	peer->suite = a.suite;
	/* TAP mode: REMOTE_ADDR stays the peer's AllowedIPs only for the route
	 * it makes onto the TAP; the engine switches frames by MAC address. */
	cfg.ethernet = a.tap;
	if (a.bridge)
		snprintf(cfg.bridge, sizeof(cfg.bridge), "%s", a.bridge);
	peer->has_persistent_keepalive = a.has_keepalive;
	peer->persistent_keepalive = (uint16_t)a.keepalive;

	ret = cmd_run_interface(&cfg, ifname, a.foreground); /* frees cfg */
	if (ret == EXIT_OK && !a.foreground)
		printf("%s is up: %s <-> %s; stop it with: sluice down %s\n", ifname, a.local, a.remote, ifname);
out:
	crypto_wipe(own_pub, sizeof(own_pub));
	config_free(&cfg);
	return ret;
}
