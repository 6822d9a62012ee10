// SPDX-License-Identifier: MIT
/*
 * sluice quickstart: a server and N clients in one go, as the TCP/AES-GCM VPN
 * sluice grew from set itself up (a 10.0.0.0/24 subnet, the server at .1,
 * port 55555), but with a key pair per host and a preshared key per client.
 * Every file is built in memory first and then created with O_EXCL, so a run
 * either writes all of them or none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
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
#include "netaddr.h"
#include "quickstart.h"
#include "sbuf.h"

#define DEFAULT_SUBNET "10.0.0.0/24"
#define DEFAULT_PORT QS_DEFAULT_PORT
#define CLIENTS_MAX 1000 /* a typo of --clients should not write a million files */
#define KEEPALIVE 25     /* seconds: keeps a NAT mapping of the client open */

/* A file name in DIR: "server.conf", "client12.conf". */
typedef char file_name[32];

static const char usage[] =
	"Usage: sluice quickstart --endpoint HOST[:PORT] [OPTIONS] DIR\n"
	"       sluice quickstart --add-client NAME [--dns ADDR] [--qr] [--interface IFACE] DIR\n"
	"       sluice quickstart --revoke NAME [--interface IFACE] DIR\n"
	"Writes DIR/server.conf and DIR/client1.conf ... DIR/clientN.conf: fresh keys,\n"
	"a preshared key per client, mode 0600, each ready for `sluice up`. DIR is\n"
	"created (mode 0700) if it does not exist; existing files are never\n"
	"overwritten: if one exists, nothing is written.\n"
	"\n"
	"  --endpoint HOST[:PORT]  where the clients reach the server: a name, an IPv4\n"
	"                          address or an IPv6 one ([2001:db8::1]:PORT). Required:\n"
	"                          a client config cannot work without it. PORT (default\n"
	"                          55555) is also the port the server listens on.\n"
	"  --clients N             how many client configs (default 1, at most 1000)\n"
	"  --subnet CIDR           the tunnel's subnet (default " DEFAULT_SUBNET
	"); the server\n"
	"                          takes its first address, the clients the next ones.\n"
	"                          Give it twice, an IPv4 and an IPv6 one, for both.\n"
	"  --tcp                   the server listens on TCP only (Transport = tcp) and the\n"
	"                          clients connect with Endpoint = tcp://HOST:PORT\n"
	"  --cipher SUITE          aes-256-gcm, or chacha20-poly1305 (WireGuard's, the\n"
	"                          default); sets Cipher on both sides\n"
	"  --tap                   Ethernet, not IP (Mode = tap): server and clients share\n"
	"                          one broadcast domain; the server switches frames between\n"
	"                          the clients by learned MAC address. A client joins its\n"
	"                          LAN with Bridge = br0 (see the comment in its file).\n"
	"  --dns ADDR[,ADDR...]    DNS = in the client files: name servers, and names as\n"
	"                          search domains (`sluice up` hands them to resolvconf)\n"
	"  --qr                    also print each client file written as a QR code for\n"
	"                          the terminal, for phone apps (needs qrencode)\n"
	"\n"
	"In a DIR quickstart wrote before (its server.conf is read):\n"
	"  --add-client NAME       writes DIR/NAME.conf for one more client, with the next\n"
	"                          free address, new keys and a preshared key, and adds it\n"
	"                          to server.conf (replaced whole, never half-written); if\n"
	"                          the server's interface runs here, it gets it at once\n"
	"                          (as `sluice syncconf`), keeping every session\n"
	"  --revoke NAME           removes NAME's [Peer] from server.conf (and the running\n"
	"                          interface) and deletes DIR/NAME.conf\n"
	"  --interface IFACE       the running server's interface (default: server, the\n"
	"                          name `sluice up DIR/server.conf` gives it)\n"
	"  --endpoint HOST[:PORT]  with --add-client: overrides the one server.conf notes\n"
	"\n"
	"Then: `sudo sluice up DIR/server.conf` on the server, and on client N (copy\n"
	"clientN.conf there, keeping it private) `sudo sluice up clientN.conf`. The\n"
	"interface is named after the file: rename it (say to wg0.conf) to change that.\n"
	"Exit status: 0 written, 1 bad arguments, 2 nothing written (a file exists, or\n"
	"DIR cannot be written), or written but not applied to the running server.\n";

/* A config file being written: it holds private keys, which the buffer
 * wipes as it grows and when freed. One failure sticks (sbuf_error), so the
 * writers below check once, at the end. */
void qs_text_add(struct sbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qs_text_add(struct sbuf *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)sbuf_vputf(t, fmt, ap);
	va_end(ap);
}

/* net + index, keeping net's prefix length. */
struct cidr qs_subnet_host(const struct cidr *net, uint64_t index)
{
	struct cidr c = *net;
	int i = c.family == AF_INET ? 3 : 15;

	for (; i >= 0 && index; i--) {
		uint64_t sum = c.addr.bytes[i] + (index & 0xff);
		c.addr.bytes[i] = (uint8_t)sum;
		index = (index >> 8) + (sum >> 8);
	}
	return c;
}

/* How many clients fit: the server takes net + 1; IPv4 keeps the network
 * and broadcast addresses free, IPv6 the subnet-router anycast address. */
uint64_t qs_subnet_room(const struct cidr *net)
{
	unsigned host_bits = (net->family == AF_INET ? 32u : 128u) - net->prefix;
	uint64_t reserved = net->family == AF_INET ? 3 : 2;

	if (host_bits >= 63)
		return UINT64_MAX;
	uint64_t size = (uint64_t)1 << host_bits;
	return size > reserved ? size - reserved : 0;
}

static bool parse_subnet(struct plan *pl, const char *arg)
{
	struct cidr c, masked;
	char buf[CIDR_STR_MAX];

	if (!cidr_parse(&c, arg, false)) {
		fprintf(stderr, "quickstart: --subnet '%s' is not a prefix like 198.18.0.0/24 or 2001:db8:77::/64\n",
			arg);
		return false;
	}
	masked = c;
	cidr_mask(&masked);
	if (memcmp(&masked, &c, sizeof(c))) {
		cidr_format(buf, &masked);
		fprintf(stderr, "quickstart: --subnet '%s' has host bits set: did you mean %s?\n", arg, buf);
		return false;
	}
	if (qs_subnet_room(&c) == 0) {
		fprintf(stderr,
			"quickstart: --subnet '%s' has no room for a server and a client: use a prefix of /%u or shorter\n",
			arg, c.family == AF_INET ? 30 : 126);
		return false;
	}
	for (size_t i = 0; i < pl->n_subnets; i++) {
		if (pl->subnets[i].family == c.family) {
			fprintf(stderr,
				"quickstart: --subnet given twice for IPv%d ('%s'); give at most one IPv4 and one IPv6 subnet\n",
				c.family == AF_INET ? 4 : 6, arg);
			return false;
		}
	}
	pl->subnets[pl->n_subnets++] = c;
	return true;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

/* HOST, HOST:PORT, IPv6, [IPv6] or [IPv6]:PORT. */
bool qs_parse_endpoint(struct plan *pl, const char *arg)
{
	const char *host = arg, *port = NULL;
	size_t host_len;
	bool v6 = false;
	char v6buf[INET6_ADDRSTRLEN];
	struct in6_addr a6;

	if (strstr(arg, "://")) {
		fprintf(stderr,
			"quickstart: --endpoint '%s': give HOST[:PORT] without a scheme (--tcp makes the clients use tcp://)\n",
			arg);
		return false;
	}
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		host = arg + 1;
		host_len = (size_t)(close - host);
		port = close[1] ? close + 2 : NULL;
		v6 = true;
	} else {
		const char *colon = strchr(arg, ':');
		if (colon && strchr(colon + 1, ':')) { /* a bare IPv6 address: no port */
			host_len = strlen(arg);
			v6 = true;
		} else {
			host_len = colon ? (size_t)(colon - arg) : strlen(arg);
			port = colon ? colon + 1 : NULL;
		}
	}
	if (host_len == 0)
		goto bad;
	if (v6) {
		if (host_len >= sizeof(v6buf))
			goto bad;
		memcpy(v6buf, host, host_len);
		v6buf[host_len] = '\0';
		if (inet_pton(AF_INET6, v6buf, &a6) != 1) {
			fprintf(stderr, "quickstart: --endpoint '%s': '%s' is not an IPv6 address\n", arg, v6buf);
			return false;
		}
		snprintf(pl->host, sizeof(pl->host), "[%s]", v6buf);
	} else {
		if (host_len >= sizeof(pl->host) - 2)
			goto bad;
		for (size_t i = 0; i < host_len; i++)
			if (!host_char_ok(host[i]))
				goto bad;
		memcpy(pl->host, host, host_len);
		pl->host[host_len] = '\0';
	}
	pl->port = DEFAULT_PORT;
	if (port) {
		uint32_t v;
		if (!parse_u32(port, false, 65535, &v) || v == 0) {
			fprintf(stderr, "quickstart: --endpoint '%s': the port must be 1..65535\n", arg);
			return false;
		}
		pl->port = (uint16_t)v;
	}
	return true;
bad:
	fprintf(stderr,
		"quickstart: --endpoint '%s' is not HOST[:PORT] (a host name, an IPv4 address, or [IPv6]:PORT)\n", arg);
	return false;
}

static void qs_add_addresses(struct sbuf *t, const char *key, const struct plan *pl, uint64_t index, bool host_route)
{
	char buf[CIDR_STR_MAX];

	qs_text_add(t, "%s = ", key);
	for (size_t i = 0; i < pl->n_subnets; i++) {
		struct cidr c = qs_subnet_host(&pl->subnets[i], index);
		if (host_route)
			c.prefix = c.family == AF_INET ? 32 : 128;
		cidr_format(buf, &c);
		qs_text_add(t, "%s%s", i ? ", " : "", buf);
	}
	qs_text_add(t, "\n");
}

static void qs_add_subnets(struct sbuf *t, const struct plan *pl)
{
	char buf[CIDR_STR_MAX];

	for (size_t i = 0; i < pl->n_subnets; i++) {
		cidr_format(buf, &pl->subnets[i]);
		qs_text_add(t, "%s%s", i ? ", " : "", buf);
	}
}

static void qs_add_key(struct sbuf *t, const char *name, const uint8_t key[KEY_LEN])
{
	char b64[KEY_B64_LEN + 1];

	key_to_base64(b64, key);
	qs_text_add(t, "%s = %s\n", name, b64);
	crypto_wipe(b64, sizeof(b64));
}

static void server_text(struct sbuf *t, const struct plan *pl, const struct host_keys *server,
			const struct host_keys *clients)
{
	qs_text_add(t, "# sluice quickstart: the server of ");
	qs_add_subnets(t, pl);
	qs_text_add(t,
		    ".\n# Start it with: sudo sluice up server.conf (the interface is named after the file)\n"
		    "# Add a client: sluice quickstart --add-client NAME DIR; remove one: --revoke NAME\n"
		    "%s%s%s:%u\n\n",
		    QS_ENDPOINT_NOTE, pl->tcp ? "tcp://" : "", pl->host, pl->port);
	qs_text_add(t, "[Interface]\n");
	qs_add_key(t, "PrivateKey", server->priv);
	qs_text_add(t, "ListenPort = %u\n", pl->port);
	qs_add_addresses(t, "Address", pl, 1, false);
	if (pl->tcp)
		qs_text_add(t, "Transport = tcp\n");
	if (pl->tap) {
		/* The server is a switch between its clients: nothing to forward. */
		qs_text_add(t,
			    "# Ethernet frames: the clients share one broadcast domain with this interface.\n"
			    "Mode = tap\n");
	} else {
		/* Each client routes the whole subnet here: the server passes on
		 * what one client sends another. */
		qs_text_add(t, "Forward = yes\n");
	}
	for (unsigned i = 0; i < pl->clients; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%u", i + 1);
		qs_server_peer_text(t, pl, name, 2 + (uint64_t)i, &clients[i]);
	}
}

void qs_server_peer_text(struct sbuf *t, const struct plan *pl, const char *name, uint64_t index,
			 const struct host_keys *client)
{
	qs_text_add(t, "\n# %s\n[Peer]\n", name);
	qs_add_key(t, "PublicKey", client->pub);
	qs_add_key(t, "PresharedKey", client->psk);
	qs_add_addresses(t, "AllowedIPs", pl, index, true);
	if (pl->has_cipher)
		qs_text_add(t, "Cipher = %s\n", pl->cipher);
}

void qs_client_text(struct sbuf *t, const struct plan *pl, const char *name, uint64_t index,
		    const uint8_t server_pub[KEY_LEN], const struct host_keys *client)
{
	qs_text_add(t, "# sluice quickstart: %s of ", name);
	qs_add_subnets(t, pl);
	qs_text_add(t, ".\n# Start it with: sudo sluice up %s.conf (the interface is named after the file)\n\n", name);
	qs_text_add(t, "[Interface]\n");
	qs_add_key(t, "PrivateKey", client->priv);
	qs_add_addresses(t, "Address", pl, index, false);
	if (pl->dns[0])
		qs_text_add(t, "DNS = %s\n", pl->dns);
	if (pl->tap)
		qs_text_add(t,
			    "Mode = tap\n"
			    "# To join this host's LAN to the others instead, put its TAP in the LAN's\n"
			    "# bridge (and drop Address above: the bridge has the LAN's):\n"
			    "# Bridge = br0\n");
	qs_text_add(t, "\n# the server\n[Peer]\n");
	qs_add_key(t, "PublicKey", server_pub);
	qs_add_key(t, "PresharedKey", client->psk);
	if (!pl->tap) {
		qs_text_add(t, "AllowedIPs = ");
		qs_add_subnets(t, pl);
		qs_text_add(t, "\n");
	}
	qs_text_add(t, "Endpoint = %s%s:%u\n", pl->tcp ? "tcp://" : "", pl->host, pl->port);
	qs_text_add(t, "PersistentKeepalive = %d\n", KEEPALIVE);
	if (pl->has_cipher)
		qs_text_add(t, "Cipher = %s\n", pl->cipher);
}

bool qs_make_keys(struct host_keys *k, bool with_psk)
{
	return crypto_x25519_keygen(k->priv) && crypto_x25519_public(k->pub, k->priv) &&
	       (!with_psk || crypto_random(k->psk, sizeof(k->psk)));
}

bool qs_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Opens DIR, creating it (0700) when missing; *created says so. */
static int open_dir(const char *dir, bool *created)
{
	*created = false;
	if (mkdir(dir, 0700) == 0) {
		*created = true;
		/* The umask may have taken bits away; 0700 is what we promise. */
		if (chmod(dir, 0700) < 0)
			fprintf(stderr, "quickstart: warning: cannot set mode 0700 on %s: %s\n", dir, strerror(errno));
	} else if (errno != EEXIST) {
		fprintf(stderr, "quickstart: cannot create the directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "quickstart: cannot open the directory %s: %s\n", dir, strerror(errno));
	return fd;
}

/* --dns ADDR[,ADDR...], given once or more: nameservers (IP addresses) and
 * search domains (names), as wg-quick's DNS = takes them. */
static bool parse_dns(struct plan *pl, const char *arg)
{
	char item[QS_DNS_MAX];
	const char *p = arg;

	do {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct in6_addr a;
		bool ok = len > 0 && len < sizeof(item);

		if (ok) {
			memcpy(item, p, len);
			item[len] = '\0';
			if (inet_pton(AF_INET, item, &a) != 1 && inet_pton(AF_INET6, item, &a) != 1)
				for (size_t i = 0; i < len; i++)
					ok = ok && host_char_ok(item[i]) && item[i] != '_';
		}
		if (!ok) {
			fprintf(stderr,
				"quickstart: --dns '%s': expected IP addresses of name servers or search domains, "
				"separated by commas (e.g. --dns 192.0.2.53,example.com)\n",
				arg);
			return false;
		}
		size_t used = strlen(pl->dns);
		if (used + len + 3 > sizeof(pl->dns)) {
			fprintf(stderr, "quickstart: --dns: too many entries (at most %d characters)\n",
				QS_DNS_MAX - 3);
			return false;
		}
		snprintf(pl->dns + used, sizeof(pl->dns) - used, "%s%s", used ? ", " : "", item);
		p = comma ? comma + 1 : NULL;
	} while (p);
	return true;
}

/* NAME of --add-client and --revoke: the file NAME.conf, which names the
 * client's interface, so what an interface name may be. */
static bool client_name_ok(const char *name)
{
	size_t len = strlen(name);
	bool ok = len > 0 && len <= QS_NAME_MAX && strcmp(name, "server") != 0 && name[0] != '-' && name[0] != '.';

	for (size_t i = 0; ok && i < len; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_' || name[i] == '.';
	if (!ok)
		fprintf(stderr,
			"quickstart: client name '%s': expected 1 to %d letters, digits, '-', '_' or '.' (not 'server'): "
			"NAME.conf names the client's interface\n",
			name, QS_NAME_MAX);
	return ok;
}

static int parse_args(struct plan *pl, int argc, char **argv, const char **dir)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "clients", required_argument, NULL, 'n' },
		{ "subnet", required_argument, NULL, 's' },
		{ "tcp", no_argument, NULL, 't' },
		{ "cipher", required_argument, NULL, 'c' },
		{ "tap", no_argument, NULL, 'T' },
		{ "dns", required_argument, NULL, 'd' },
		{ "qr", no_argument, NULL, 'q' },
		{ "add-client", required_argument, NULL, 'a' },
		{ "revoke", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool has_endpoint = false, has_layout = false;
	int opt;

	memset(pl, 0, sizeof(*pl));
	pl->clients = 1;
	/* 0, not 1: glibc then forgets any state of an earlier getopt run
	 * (the unit tests call several commands in one process). */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (!qs_parse_endpoint(pl, optarg))
				return EXIT_USAGE;
			has_endpoint = pl->has_endpoint = true;
			break;
		case 'd':
			if (!parse_dns(pl, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			pl->qr = true;
			break;
		case 'a':
		case 'r':
			if (pl->add_client || pl->revoke) {
				fputs("quickstart: one --add-client or --revoke per run\n", stderr);
				return EXIT_USAGE;
			}
			if (!client_name_ok(optarg))
				return EXIT_USAGE;
			*(opt == 'a' ? &pl->add_client : &pl->revoke) = optarg;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) > QS_NAME_MAX || strchr(optarg, '/')) {
				fprintf(stderr, "quickstart: --interface '%s' is not an interface name\n", optarg);
				return EXIT_USAGE;
			}
			pl->iface = optarg;
			break;
		case 'n': {
			uint32_t v;
			if (!parse_u32(optarg, false, CLIENTS_MAX, &v) || v < 1) {
				fprintf(stderr, "quickstart: --clients '%s': expected a number from 1 to %d\n", optarg,
					CLIENTS_MAX);
				return EXIT_USAGE;
			}
			pl->clients = (unsigned)v;
			has_layout = true;
			break;
		}
		case 's':
			if (!parse_subnet(pl, optarg))
				return EXIT_USAGE;
			has_layout = true;
			break;
		case 't':
			pl->tcp = true;
			has_layout = true;
			break;
		case 'T':
			pl->tap = true;
			has_layout = true;
			break;
		case 'c':
			has_layout = true;
			if (!strcasecmp(optarg, "aes-256-gcm")) {
				pl->cipher = "aes-256-gcm";
			} else if (!strcasecmp(optarg, "chacha20-poly1305")) {
				pl->cipher = "chacha20-poly1305";
			} else {
				fprintf(stderr,
					"quickstart: --cipher '%s': expected aes-256-gcm or chacha20-poly1305\n",
					optarg);
				return EXIT_USAGE;
			}
			pl->has_cipher = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default: /* getopt said what is wrong */
			fputs("Try 'sluice quickstart --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "quickstart: %s (see sluice quickstart --help)\n",
			optind == argc ? "which directory? DIR is missing" : "one DIR only, after the options");
		return EXIT_USAGE;
	}
	*dir = argv[optind];
	if (!**dir) {
		fprintf(stderr, "quickstart: DIR is empty\n");
		return EXIT_USAGE;
	}
	if (pl->add_client || pl->revoke) {
		/* The server's file says these; two sources could disagree. */
		if (has_layout) {
			fprintf(stderr,
				"quickstart: --clients, --subnet, --tcp and --cipher are for a new DIR; --%s takes them "
				"from DIR/server.conf\n",
				pl->add_client ? "add-client" : "revoke");
			return EXIT_USAGE;
		}
		if (pl->revoke && (has_endpoint || pl->dns[0] || pl->qr)) {
			fputs("quickstart: --revoke takes no --endpoint, --dns or --qr\n", stderr);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (pl->iface) {
		fputs("quickstart: --interface goes with --add-client or --revoke\n", stderr);
		return EXIT_USAGE;
	}
	if (!has_endpoint) {
		fprintf(stderr,
			"quickstart: --endpoint HOST is required: the name or address at which the clients reach\n"
			"the server (e.g. --endpoint vpn.example.com, --endpoint 192.0.2.1:55555)\n");
		return EXIT_USAGE;
	}
	if (!pl->n_subnets && !parse_subnet(pl, DEFAULT_SUBNET))
		return EXIT_USAGE;
	for (size_t i = 0; i < pl->n_subnets; i++) {
		uint64_t room = qs_subnet_room(&pl->subnets[i]);
		if (pl->clients > room) {
			char buf[CIDR_STR_MAX];
			cidr_format(buf, &pl->subnets[i]);
			fprintf(stderr,
				"quickstart: %s has room for %llu client%s besides the server, not %u: use a larger --subnet\n",
				buf, (unsigned long long)room, room == 1 ? "" : "s", pl->clients);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* The address of host `index` of the first subnet, without a prefix. */
void qs_host_address(char out[CIDR_STR_MAX], const struct plan *pl, uint64_t index)
{
	struct cidr c = qs_subnet_host(&pl->subnets[0], index);

	cidr_format(out, &c);
	char *slash = strchr(out, '/');
	if (slash)
		*slash = '\0';
}

static void print_summary(const struct plan *pl, const char *dir)
{
	char addr[CIDR_STR_MAX];

	qs_host_address(addr, pl, 1);
	printf("Wrote %s/server.conf: the server, %s, listening on %s port %u\n", dir, addr, pl->tcp ? "TCP" : "UDP",
	       pl->port);
	for (unsigned i = 0; i < pl->clients; i++) {
		qs_host_address(addr, pl, 2 + (uint64_t)i);
		printf("Wrote %s/client%u.conf: %s, reaching the server at %s%s:%u\n", dir, i + 1, addr,
		       pl->tcp ? "tcp://" : "", pl->host, pl->port);
	}
	if (pl->tap) {
		printf("Each file holds a private key: keep it mode 0600, and copy each client's file to that client "
		       "only.\n"
		       "On the server:  sudo sluice up %s/server.conf\n"
		       "On client N:    sudo sluice up clientN.conf\n"
		       "More clients later: sluice quickstart --add-client NAME %s (and --revoke NAME)\n"
		       "The server's firewall must let %s port %u in. Mode = tap: server and clients share one\n"
		       "Ethernet segment (ARP, broadcasts, any protocol); the server switches frames between the\n"
		       "clients by learned MAC address. A client with Bridge = br0 joins its whole LAN instead.\n",
		       dir, dir, pl->tcp ? "TCP" : "UDP", pl->port);
		return;
	}
	printf("Each file holds a private key: keep it mode 0600, and copy each client's file to that client only.\n"
	       "On the server:  sudo sluice up %s/server.conf\n"
	       "On client N:    sudo sluice up clientN.conf\n"
	       "More clients later: sluice quickstart --add-client NAME %s (and --revoke NAME)\n",
	       dir, dir);
	qs_print_notes(pl);
}

void qs_print_notes(const struct plan *pl)
{
	printf("The server's firewall must let %s port %u in. Clients reach each other through the server\n"
	       "(Forward = yes in server.conf turns forwarding on for its interface; for IPv6 also\n"
	       "sysctl -w net.ipv6.conf.all.forwarding=1). To reach the internet through it as well, the\n"
	       "server needs forwarding and NAT out of its uplink (net.ipv4.ip_forward=1 and masquerading).\n",
	       pl->tcp ? "TCP" : "UDP", pl->port);
}

int cmd_quickstart(int argc, char **argv)
{
	struct plan pl;
	struct host_keys server;
	struct host_keys *clients = NULL;
	struct sbuf *texts = NULL;
	file_name *names = NULL;
	bool *written = NULL, dir_created = false;
	const char *dir = NULL;
	char *dir_copy = NULL;
	size_t n_files = 0;
	int ret, dfd = -1;

	memset(&server, 0, sizeof(server));
	ret = parse_args(&pl, argc, argv, &dir);
	if (ret < 0)
		return EXIT_OK; /* --help */
	if (ret != EXIT_OK)
		return ret;
	if (pl.qr && !qs_qr_available())
		return EXIT_USAGE;
	ret = EXIT_RUNTIME;
	/* "vpn/" names its files "vpn/server.conf", not "vpn//server.conf". */
	dir_copy = strdup(dir);
	if (!dir_copy) {
		fprintf(stderr, "quickstart: out of memory\n");
		goto out;
	}
	for (size_t n = strlen(dir_copy); n > 1 && dir_copy[n - 1] == '/'; n--)
		dir_copy[n - 1] = '\0';
	dir = dir_copy;
	if (pl.add_client || pl.revoke) {
		ret = pl.add_client ? qs_add_client(&pl, dir) : qs_revoke(&pl, dir);
		goto out;
	}

	n_files = 1 + (size_t)pl.clients;
	clients = calloc(pl.clients, sizeof(*clients));
	texts = calloc(n_files, sizeof(*texts));
	names = calloc(n_files, sizeof(*names));
	written = calloc(n_files, sizeof(*written));
	if (!clients || !texts || !names || !written) {
		fprintf(stderr, "quickstart: out of memory\n");
		goto out;
	}
	if (!qs_make_keys(&server, false)) {
		fprintf(stderr, "quickstart: cannot make keys (no random bytes?)\n");
		goto out;
	}
	for (unsigned i = 0; i < pl.clients; i++) {
		if (!qs_make_keys(&clients[i], true)) {
			fprintf(stderr, "quickstart: cannot make keys (no random bytes?)\n");
			goto out;
		}
	}
	snprintf(names[0], sizeof(names[0]), "server.conf");
	server_text(&texts[0], &pl, &server, clients);
	for (unsigned i = 0; i < pl.clients; i++) {
		char name[sizeof(names[0]) - 5]; /* without ".conf" */
		snprintf(name, sizeof(name), "client%u", i + 1);
		snprintf(names[i + 1], sizeof(names[i + 1]), "%s.conf", name);
		qs_client_text(&texts[i + 1], &pl, name, 2 + (uint64_t)i, server.pub, &clients[i]);
	}
	for (size_t i = 0; i < n_files; i++) {
		if (sbuf_error(&texts[i])) {
			fprintf(stderr, "quickstart: out of memory\n");
			goto out;
		}
	}

	dfd = open_dir(dir, &dir_created);
	if (dfd < 0)
		goto out;
	/* Look before writing anything, so that one existing file leaves the
	 * others unwritten too; O_EXCL below catches one that appears meanwhile. */
	for (size_t i = 0; i < n_files; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			fprintf(stderr,
				"quickstart: %s/%s already exists; nothing was written (remove it, or choose another DIR)\n",
				dir, names[i]);
			goto out;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "quickstart: cannot look at %s/%s: %s; nothing was written\n", dir, names[i],
				strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < n_files; i++) {
		int fd = openat(dfd, names[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "quickstart: cannot create %s/%s: %s; nothing was written\n", dir, names[i],
				strerror(errno));
			goto out;
		}
		written[i] = true;
		/* Mode 0600 whatever the umask: `sluice up` refuses anything looser. */
		bool ok = fchmod(fd, 0600) == 0 && sbuf_write_fd(&texts[i], fd) == 0;
		int saved = errno;
		if (close(fd) < 0 && ok) {
			ok = false;
			saved = errno;
		}
		if (!ok) {
			fprintf(stderr, "quickstart: cannot write %s/%s: %s; nothing was written\n", dir, names[i],
				strerror(saved));
			goto out;
		}
	}
	ret = EXIT_OK;
	print_summary(&pl, dir);
	for (size_t i = 1; pl.qr && i < n_files; i++)
		if (!qs_print_qr(names[i], sbuf_ptr(&texts[i]), sbuf_len(&texts[i])))
			ret = EXIT_RUNTIME;
out:
	if (ret != EXIT_OK && dfd >= 0) {
		for (size_t i = 0; i < n_files; i++)
			if (written && written[i] && unlinkat(dfd, names[i], 0) < 0)
				fprintf(stderr, "quickstart: cannot remove the partial %s/%s: %s\n", dir, names[i],
					strerror(errno));
		if (dir_created && rmdir(dir) < 0)
			fprintf(stderr, "quickstart: cannot remove %s: %s\n", dir, strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
	if (texts)
		for (size_t i = 0; i < n_files; i++)
			sbuf_free(&texts[i]);
	if (clients) {
		crypto_wipe(clients, pl.clients * sizeof(*clients));
		free(clients);
	}
	crypto_wipe(&server, sizeof(server));
	free(texts);
	free(names);
	free(written);
	free(dir_copy);
	return ret;
}
