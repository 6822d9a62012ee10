// SPDX-License-Identifier: MIT
/* sluice show [--json] [IFACE]: the state of one or every interface, laid
 * out like `wg show`, or as JSON for programs. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "encoding.h"
#include "sbuf.h"
#include "uapi.h"

static const char usage[] =
	"Usage: sluice show [--json] [IFACE | all | interfaces] [FIELD]\n"
	"Shows the interface IFACE, or every sluice/WireGuard userspace interface:\n"
	"public key, listening port, and each peer's endpoint, allowed ips, latest\n"
	"handshake and transfer, as `wg show` does.\n"
	"  --json  every field of the control socket's get, plus sluice's own\n"
	"          (transport, cipher, dropped packets by cause, the handshake\n"
	"          queue and cookie replies; in TAP mode the MAC table and each\n"
	"          peer's AllowedMACs and learned MACs), as JSON\n"
	"  FIELD   one of public-key, private-key, listen-port, fwmark, peers,\n"
	"          preshared-keys, endpoints, allowed-ips, latest-handshakes,\n"
	"          persistent-keepalive, transfer, dump: printed as `wg show` prints\n"
	"          it, for scripts (with `all`, each line starts with the interface)\n"
	"  interfaces  the names of the interfaces, on one line\n"
	"  --prometheus  the counters in Prometheus' text format (per-peer bytes and\n"
	"          latest handshake, drops by cause, the handshake queue, TAP mode's\n"
	"          MAC table), for a node_exporter textfile or any scraper that\n"
	"          runs a command (`sluice metrics` serves them over HTTP)\n";

#define MAX_DROPS 32
#define MAX_HANDSHAKE_STATS 8

struct peer_view {
	char public_key[KEY_B64_LEN + 1];
	bool has_psk;
	char psk[KEY_B64_LEN + 1];
	char endpoint[ENDPOINT_STR_MAX];
	struct sbuf allowed; /* ", "-separated */
	uint64_t hs_sec, hs_nsec, rx, tx, keepalive, protocol_version;
	char transport[8];
	char cipher[24];
	struct sbuf allowed_macs, macs; /* TAP mode, ", "-separated */
};

struct iface_view {
	char name[16];
	char public_key[KEY_B64_LEN + 1];
	char private_key[KEY_B64_LEN + 1]; /* wiped by iface_free */
	bool has_private_key;
	uint64_t listen_port, fwmark;
	struct peer_view *peers;
	size_t n_peers, cap_peers;
	size_t next_extended; /* the peer the next sluice_peer likely names */
	char drop_names[MAX_DROPS][32];
	uint64_t drops[MAX_DROPS];
	size_t n_drops;
	char hs_names[MAX_HANDSHAKE_STATS][32]; /* sluice_handshake_NAME */
	uint64_t hs_values[MAX_HANDSHAKE_STATS];
	size_t n_hs;
	char l2_names[MAX_HANDSHAKE_STATS][32]; /* sluice_l2_NAME: TAP mode's MAC table */
	uint64_t l2_values[MAX_HANDSHAKE_STATS];
	size_t n_l2;
	bool extended; /* the daemon answered get=2 */
	char mode[8];  /* tun or tap */
	char bridge[16];
};

static void iface_free(struct iface_view *v)
{
	for (size_t i = 0; i < v->n_peers; i++) {
		sbuf_free(&v->peers[i].allowed);
		sbuf_free(&v->peers[i].allowed_macs);
		sbuf_free(&v->peers[i].macs);
		crypto_wipe(v->peers[i].psk, sizeof(v->peers[i].psk));
	}
	if (v->peers)
		crypto_wipe(v->peers, v->cap_peers * sizeof(*v->peers));
	free(v->peers);
	crypto_wipe(v, sizeof(*v));
}

static void hex_to_b64(char out[KEY_B64_LEN + 1], const char *hex)
{
	uint8_t key[KEY_LEN];
	out[0] = '\0';
	if (key_from_hex(key, hex))
		key_to_base64(out, key);
	crypto_wipe(key, sizeof(key));
}

/* get=2 names the peers in the order get=1 listed them: look where the
 * last one was found first, so 10000 peers are not 10000 scans. */
static struct peer_view *find_peer(struct iface_view *v, const char *b64)
{
	for (size_t k = 0; k < v->n_peers; k++) {
		size_t i = (v->next_extended + k) % v->n_peers;
		if (!strcmp(v->peers[i].public_key, b64)) {
			v->next_extended = i + 1;
			return &v->peers[i];
		}
	}
	return NULL;
}

/* A number the daemon sent; 0 for anything else. */
static uint64_t number(const char *s)
{
	uint64_t v;
	return parse_u64(s, strlen(s), false, UINT64_MAX, &v) ? v : 0;
}

/* Reads a get reply (get=1 keys, and sluice_* keys after get=2). */
static int parse_reply(struct iface_view *v, char *body)
{
	struct peer_view *peer = NULL;
	char *save = NULL;

	for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, '=');
		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(line, "private_key")) {
			uint8_t key[KEY_LEN], pub[KEY_LEN];
			if (key_from_hex(key, val) && crypto_x25519_public(pub, key)) {
				key_to_base64(v->public_key, pub);
				key_to_base64(v->private_key, key);
				v->has_private_key = true;
			}
			crypto_wipe(key, sizeof(key));
		} else if (!strcmp(line, "listen_port")) {
			v->listen_port = number(val);
		} else if (!strcmp(line, "fwmark")) {
			v->fwmark = number(val);
		} else if (!strcmp(line, "public_key")) {
			if (!config_grow((void **)&v->peers, &v->cap_peers, v->n_peers, sizeof(*v->peers)))
				return -ENOMEM;
			peer = &v->peers[v->n_peers++];
			memset(peer, 0, sizeof(*peer));
			hex_to_b64(peer->public_key, val);
			snprintf(peer->transport, sizeof(peer->transport), "udp");
			snprintf(peer->cipher, sizeof(peer->cipher), "chacha20-poly1305");
		} else if (!strncmp(line, "sluice_drop_", 12)) {
			if (v->n_drops < MAX_DROPS) {
				snprintf(v->drop_names[v->n_drops], sizeof(v->drop_names[0]), "%s", line + 12);
				v->drops[v->n_drops++] = number(val);
			}
			v->extended = true;
		} else if (!strncmp(line, "sluice_l2_", 10)) {
			if (v->n_l2 < MAX_HANDSHAKE_STATS) {
				snprintf(v->l2_names[v->n_l2], sizeof(v->l2_names[0]), "%s", line + 10);
				v->l2_values[v->n_l2++] = number(val);
			}
		} else if (!strncmp(line, "sluice_handshake_", 17)) {
			if (v->n_hs < MAX_HANDSHAKE_STATS) {
				snprintf(v->hs_names[v->n_hs], sizeof(v->hs_names[0]), "%s", line + 17);
				v->hs_values[v->n_hs++] = number(val);
			}
			v->extended = true;
		} else if (!strcmp(line, "sluice_mode")) {
			snprintf(v->mode, sizeof(v->mode), "%s", val);
		} else if (!strcmp(line, "sluice_bridge")) {
			snprintf(v->bridge, sizeof(v->bridge), "%s", val);
		} else if (!strcmp(line, "sluice_peer")) {
			char b64[KEY_B64_LEN + 1];
			hex_to_b64(b64, val);
			peer = find_peer(v, b64);
			v->extended = true;
		} else if (!peer) {
			continue;
		} else if (!strcmp(line, "sluice_transport")) {
			snprintf(peer->transport, sizeof(peer->transport), "%s", val);
		} else if (!strcmp(line, "sluice_cipher")) {
			snprintf(peer->cipher, sizeof(peer->cipher), "%s", val);
		} else if (!strcmp(line, "sluice_allowed_mac") || !strcmp(line, "sluice_mac")) {
			struct sbuf *list = line[7] == 'a' ? &peer->allowed_macs : &peer->macs;
			sbuf_putf(list, "%s%s", sbuf_len(list) ? ", " : "", val);
		} else if (!strcmp(line, "preshared_key")) {
			peer->has_psk = strspn(val, "0") != strlen(val);
			if (peer->has_psk)
				hex_to_b64(peer->psk, val);
		} else if (!strcmp(line, "endpoint")) {
			snprintf(peer->endpoint, sizeof(peer->endpoint), "%s", val);
		} else if (!strcmp(line, "allowed_ip")) {
			sbuf_putf(&peer->allowed, "%s%s", sbuf_len(&peer->allowed) ? ", " : "", val);
		} else if (!strcmp(line, "last_handshake_time_sec")) {
			peer->hs_sec = number(val);
		} else if (!strcmp(line, "last_handshake_time_nsec")) {
			peer->hs_nsec = number(val);
		} else if (!strcmp(line, "rx_bytes")) {
			peer->rx = number(val);
		} else if (!strcmp(line, "tx_bytes")) {
			peer->tx = number(val);
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			peer->keepalive = number(val);
		} else if (!strcmp(line, "protocol_version")) {
			peer->protocol_version = number(val);
		}
	}
	return 0;
}

static int fetch(struct iface_view *v, const char *ifname)
{
	char *body = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", ifname);
	/* sluice answers get=2 with its own keys too; a wireguard-go hangs up. */
	r = uapi_client_get_ext(ifname, true, &body);
	if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
		r = uapi_client_get_ext(ifname, false, &body);
	if (r < 0)
		return r;
	size_t len = strlen(body); /* parsing cuts it into pieces */
	r = parse_reply(v, body);
	crypto_wipe(body, len); /* it held the private key in hex */
	free(body);
	return r;
}

/* "1 hour, 3 minutes, 2 seconds ago", as wg prints it. */
static void print_ago(uint64_t sec)
{
	static const struct {
		const char *name;
		uint64_t secs;
	} units[] = {
		{ "year", 365 * 24 * 3600ULL },
		{ "day", 24 * 3600ULL },
		{ "hour", 3600 },
		{ "minute", 60 },
		{ "second", 1 },
	};
	time_t now = time(NULL);
	uint64_t ago = (uint64_t)now > sec ? (uint64_t)now - sec : 0;
	bool first = true;

	if (ago == 0) {
		printf("Now");
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
	printf(" ago");
}

/* Bytes the way wg prints them: B, KiB, MiB, GiB, TiB with two decimals. */
static void print_bytes(uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		printf("%" PRIu64 " B", b);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	printf("%.2f %s", v, units[u]);
}

static void print_human(const struct iface_view *v)
{
	printf("interface: %s\n", v->name);
	if (v->has_private_key) {
		printf("  public key: %s\n", v->public_key);
		printf("  private key: (hidden)\n");
	}
	if (v->listen_port)
		printf("  listening port: %" PRIu64 "\n", v->listen_port);
	if (v->fwmark)
		printf("  fwmark: 0x%" PRIx64 "\n", v->fwmark);
	if (!strcmp(v->mode, "tap"))
		printf("  mode: tap (Ethernet frames)%s%s\n", v->bridge[0] ? ", bridge " : "", v->bridge);
	for (size_t i = 0; i < v->n_peers; i++) {
		const struct peer_view *p = &v->peers[i];
		printf("\npeer: %s\n", p->public_key);
		if (p->has_psk)
			printf("  preshared key: (hidden)\n");
		if (p->endpoint[0])
			printf("  endpoint: %s%s\n", strcmp(p->transport, "tcp") ? "" : "tcp://", p->endpoint);
		if (sbuf_len(&p->allowed))
			printf("  allowed ips: %.*s\n", (int)sbuf_len(&p->allowed), sbuf_ptr(&p->allowed));
		else
			printf("  allowed ips: (none)\n");
		if (strcmp(p->cipher, "chacha20-poly1305"))
			printf("  cipher: %s\n", p->cipher);
		if (sbuf_len(&p->allowed_macs))
			printf("  allowed macs: %.*s\n", (int)sbuf_len(&p->allowed_macs), sbuf_ptr(&p->allowed_macs));
		if (sbuf_len(&p->macs))
			printf("  learned macs: %.*s\n", (int)sbuf_len(&p->macs), sbuf_ptr(&p->macs));
		if (p->hs_sec) {
			printf("  latest handshake: ");
			print_ago(p->hs_sec);
			printf("\n");
		}
		if (p->rx || p->tx) {
			printf("  transfer: ");
			print_bytes(p->rx);
			printf(" received, ");
			print_bytes(p->tx);
			printf(" sent\n");
		}
		if (p->keepalive)
			printf("  persistent keepalive: every %" PRIu64 " second%s\n", p->keepalive,
			       p->keepalive == 1 ? "" : "s");
	}
}

/* Strings here are keys, addresses and fixed words: nothing to escape but
 * the JSON specials, which are handled anyway. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			printf("\\u%04x", (unsigned char)*s); /* keeps the output valid JSON whatever the bytes */
		else
			putchar(*s);
	}
	putchar('"');
}

/* A ", "-separated list as a JSON array of strings. */
static void json_list(const struct sbuf *list)
{
	printf("[");
	if (sbuf_len(list)) {
		char *copy = strndup(sbuf_ptr(list), sbuf_len(list)), *save = NULL;
		bool first = true;
		for (char *t = copy ? strtok_r(copy, ", ", &save) : NULL; t; t = strtok_r(NULL, ", ", &save)) {
			printf("%s", first ? "" : ",");
			json_string(t);
			first = false;
		}
		free(copy);
	}
	printf("]");
}

static void print_json(const struct iface_view *v)
{
	printf("{\"interface\":");
	json_string(v->name);
	printf(",\"public_key\":");
	if (v->has_private_key)
		json_string(v->public_key);
	else
		printf("null");
	printf(",\"private_key\":%s", v->has_private_key ? "\"(hidden)\"" : "null");
	printf(",\"listen_port\":%" PRIu64 ",\"fwmark\":%" PRIu64, v->listen_port, v->fwmark);
	printf(",\"mode\":");
	json_string(v->mode[0] ? v->mode : "tun");
	if (v->bridge[0]) {
		printf(",\"bridge\":");
		json_string(v->bridge);
	}
	printf(",\"dropped\":{");
	for (size_t i = 0; i < v->n_drops; i++) {
		printf("%s", i ? "," : "");
		json_string(v->drop_names[i]);
		printf(":%" PRIu64, v->drops[i]);
	}
	printf("},\"handshakes\":{");
	for (size_t i = 0; i < v->n_hs; i++) {
		printf("%s", i ? "," : "");
		json_string(v->hs_names[i]);
		printf(":%" PRIu64, v->hs_values[i]);
	}
	printf("}");
	if (v->n_l2) {
		printf(",\"macs\":{");
		for (size_t i = 0; i < v->n_l2; i++) {
			printf("%s", i ? "," : "");
			json_string(v->l2_names[i]);
			printf(":%" PRIu64, v->l2_values[i]);
		}
		printf("}");
	}
	printf(",\"peers\":[");
	for (size_t i = 0; i < v->n_peers; i++) {
		const struct peer_view *p = &v->peers[i];
		printf("%s{\"public_key\":", i ? "," : "");
		json_string(p->public_key);
		printf(",\"preshared_key\":%s", p->has_psk ? "\"(hidden)\"" : "null");
		printf(",\"protocol_version\":%" PRIu64, p->protocol_version);
		printf(",\"endpoint\":");
		if (p->endpoint[0])
			json_string(p->endpoint);
		else
			printf("null");
		printf(",\"allowed_ips\":");
		json_list(&p->allowed);
		if (!strcmp(v->mode, "tap")) {
			printf(",\"allowed_macs\":");
			json_list(&p->allowed_macs);
			printf(",\"macs\":");
			json_list(&p->macs);
		}
		printf(",\"latest_handshake\":%" PRIu64 ",\"latest_handshake_nsec\":%" PRIu64, p->hs_sec, p->hs_nsec);
		printf(",\"transfer_rx\":%" PRIu64 ",\"transfer_tx\":%" PRIu64, p->rx, p->tx);
		printf(",\"persistent_keepalive\":%" PRIu64, p->keepalive);
		printf(",\"transport\":");
		json_string(p->transport);
		printf(",\"cipher\":");
		json_string(p->cipher);
		printf("}");
	}
	printf("]}");
}

/* Shows one interface. Listing them all (listing true), a socket whose
 * daemon is gone, or that went between readdir and connect, is no
 * interface and not an error: -1 says "skipped". */
/* `wg show IFACE FIELD`: what scripts read. prefix is "IFACE\t" for `all`. */
static const char *const fields[] = {
	"public-key",  "private-key",       "listen-port",          "fwmark",   "peers", "preshared-keys", "endpoints",
	"allowed-ips", "latest-handshakes", "persistent-keepalive", "transfer", "dump"
};

static bool is_field(const char *s)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(s, fields[i]))
			return true;
	return false;
}

static void print_allowed_tabbed(const struct peer_view *p, char sep)
{
	if (!sbuf_len(&p->allowed)) {
		printf("(none)");
		return;
	}
	/* Stored ", "-separated; wg separates them with one space (a comma in dump). */
	const char *a = sbuf_ptr(&p->allowed);
	for (size_t i = 0; i < sbuf_len(&p->allowed); i++) {
		if (a[i] == ',' && i + 1 < sbuf_len(&p->allowed) && a[i + 1] == ' ') {
			putchar(sep);
			i++;
		} else {
			putchar(a[i]);
		}
	}
}

static void print_endpoint(const struct peer_view *p)
{
	if (!p->endpoint[0])
		printf("(none)");
	else
		printf("%s%s", strcmp(p->transport, "tcp") ? "" : "tcp://", p->endpoint);
}

static void print_field(const struct iface_view *v, const char *field, const char *prefix)
{
	if (!strcmp(field, "public-key")) {
		printf("%s%s\n", prefix, v->has_private_key ? v->public_key : "(none)");
	} else if (!strcmp(field, "private-key")) {
		printf("%s%s\n", prefix, v->has_private_key ? v->private_key : "(none)");
	} else if (!strcmp(field, "listen-port")) {
		printf("%s%" PRIu64 "\n", prefix, v->listen_port);
	} else if (!strcmp(field, "fwmark")) {
		if (v->fwmark)
			printf("%s0x%" PRIx64 "\n", prefix, v->fwmark);
		else
			printf("%soff\n", prefix);
	} else if (!strcmp(field, "dump")) {
		printf("%s%s\t%s\t%" PRIu64 "\t", prefix, v->has_private_key ? v->private_key : "(none)",
		       v->has_private_key ? v->public_key : "(none)", v->listen_port);
		if (v->fwmark)
			printf("0x%" PRIx64 "\n", v->fwmark);
		else
			printf("off\n");
	}
	for (size_t i = 0; i < v->n_peers; i++) {
		const struct peer_view *p = &v->peers[i];
		if (!strcmp(field, "peers")) {
			printf("%s%s\n", prefix, p->public_key);
		} else if (!strcmp(field, "preshared-keys")) {
			printf("%s%s\t%s\n", prefix, p->public_key, p->has_psk ? p->psk : "(none)");
		} else if (!strcmp(field, "endpoints")) {
			printf("%s%s\t", prefix, p->public_key);
			print_endpoint(p);
			printf("\n");
		} else if (!strcmp(field, "allowed-ips")) {
			printf("%s%s\t", prefix, p->public_key);
			print_allowed_tabbed(p, ' ');
			printf("\n");
		} else if (!strcmp(field, "latest-handshakes")) {
			printf("%s%s\t%" PRIu64 "\n", prefix, p->public_key, p->hs_sec);
		} else if (!strcmp(field, "persistent-keepalive")) {
			if (p->keepalive)
				printf("%s%s\t%" PRIu64 "\n", prefix, p->public_key, p->keepalive);
			else
				printf("%s%s\toff\n", prefix, p->public_key);
		} else if (!strcmp(field, "transfer")) {
			printf("%s%s\t%" PRIu64 "\t%" PRIu64 "\n", prefix, p->public_key, p->rx, p->tx);
		} else if (!strcmp(field, "dump")) {
			printf("%s%s\t%s\t", prefix, p->public_key, p->has_psk ? p->psk : "(none)");
			print_endpoint(p);
			printf("\t");
			print_allowed_tabbed(p, ',');
			printf("\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", p->hs_sec, p->rx, p->tx);
			if (p->keepalive)
				printf("%" PRIu64 "\n", p->keepalive);
			else
				printf("off\n");
		}
	}
}

/* ---- Prometheus' text exposition format ---- */

/* One metric family across interfaces: HELP and TYPE once, then a sample
 * per interface (and peer, or cause). */
enum prom_metric {
	PROM_RX,
	PROM_TX,
	PROM_HANDSHAKE,
	PROM_KEEPALIVE,
	PROM_PEERS,
	PROM_DROPS,
	PROM_HANDSHAKES,
	PROM_MACS,
	PROM_COUNT,
};

static const struct {
	const char *name, *type, *help;
} prom_metrics[PROM_COUNT] = {
	[PROM_RX] = { "sluice_peer_receive_bytes_total", "counter", "Bytes received from the peer." },
	[PROM_TX] = { "sluice_peer_transmit_bytes_total", "counter", "Bytes sent to the peer, handshakes included." },
	[PROM_HANDSHAKE] = { "sluice_peer_latest_handshake_seconds", "gauge",
			     "Unix time of the latest handshake with the peer, 0 for none." },
	[PROM_KEEPALIVE] = { "sluice_peer_persistent_keepalive_seconds", "gauge",
			     "The peer's persistent keepalive interval, 0 for off." },
	[PROM_PEERS] = { "sluice_peers", "gauge", "Peers configured on the interface." },
	[PROM_DROPS] = { "sluice_dropped_packets_total", "counter", "Packets dropped, by cause." },
	[PROM_HANDSHAKES] = { "sluice_handshake_queue", "gauge",
			      "The handshake queue: queued, under_load (0 or 1), cookie_replies_sent, ratelimit_overflow." },
	[PROM_MACS] = { "sluice_mac_table", "gauge",
			"TAP mode's MAC table: entries, capacity, and learned, moved, expired, full, refused so far." },
};

static void print_prometheus(FILE *out, const struct iface_view *views, size_t n)
{
	for (int m = 0; m < PROM_COUNT; m++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", prom_metrics[m].name, prom_metrics[m].help,
			prom_metrics[m].name, prom_metrics[m].type);
		for (size_t i = 0; i < n; i++) {
			const struct iface_view *v = &views[i];
			const char *name = prom_metrics[m].name;
			if (m == PROM_PEERS)
				fprintf(out, "%s{interface=\"%s\"} %zu\n", name, v->name, v->n_peers);
			for (size_t d = 0; m == PROM_DROPS && d < v->n_drops; d++)
				fprintf(out, "%s{interface=\"%s\",cause=\"%s\"} %" PRIu64 "\n", name, v->name,
					v->drop_names[d], v->drops[d]);
			for (size_t h = 0; m == PROM_HANDSHAKES && h < v->n_hs; h++)
				fprintf(out, "%s{interface=\"%s\",stat=\"%s\"} %" PRIu64 "\n", name, v->name,
					v->hs_names[h], v->hs_values[h]);
			for (size_t h = 0; m == PROM_MACS && h < v->n_l2; h++)
				fprintf(out, "%s{interface=\"%s\",stat=\"%s\"} %" PRIu64 "\n", name, v->name,
					v->l2_names[h], v->l2_values[h]);
			for (size_t p = 0; m <= PROM_KEEPALIVE && p < v->n_peers; p++) {
				const struct peer_view *pv = &v->peers[p];
				uint64_t value = m == PROM_RX          ? pv->rx
						 : m == PROM_TX        ? pv->tx
						 : m == PROM_HANDSHAKE ? pv->hs_sec
								       : pv->keepalive;
				fprintf(out, "%s{interface=\"%s\",public_key=\"%s\",transport=\"%s\"} %" PRIu64 "\n",
					name, v->name, pv->public_key, pv->transport, value);
			}
		}
	}
}

/* What one interface prints: the human layout, JSON, or one field. */
struct show_how {
	bool json;
	const char *field; /* NULL: everything */
	bool prefix;       /* `all FIELD`: lines start with "IFACE\t" */
};

static int show_one(const char *ifname, const struct show_how *how, const char *separator, bool listing)
{
	struct iface_view v;
	int r = fetch(&v, ifname);

	if (listing && (r == -ENOENT || r == -ECONNREFUSED)) {
		iface_free(&v);
		return -1;
	}
	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "show: no interface %s (no daemon answers on %s/%s.sock)\n", ifname, uapi_dir(),
			ifname);
		iface_free(&v);
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "show: %s: %s\n", ifname, strerror(-r));
		iface_free(&v);
		return EXIT_RUNTIME;
	}
	if (how->field) {
		char prefix[20];
		snprintf(prefix, sizeof(prefix), "%s", how->prefix ? ifname : "");
		if (how->prefix)
			strcat(prefix, "\t");
		print_field(&v, how->field, prefix);
	} else {
		fputs(separator, stdout);
		if (how->json)
			print_json(&v);
		else
			print_human(&v);
	}
	iface_free(&v);
	return EXIT_OK;
}

/* The interfaces' counters in one exposition (each metric's HELP once). */
int cmd_show_prometheus(FILE *out, const char *only)
{
	struct iface_view *views = NULL;
	size_t n = 0, cap = 0;
	char ifname[16];
	int ret = EXIT_OK;
	DIR *dir = NULL;

	if (only && !cmd_ifname(ifname, only))
		return EXIT_USAGE;
	if (!only)
		dir = opendir(uapi_dir());
	for (;;) {
		if (!only) {
			struct dirent *de = dir ? readdir(dir) : NULL;
			if (!de)
				break;
			size_t len = strlen(de->d_name);
			if (len <= 5 || len - 5 >= sizeof(ifname) || strcmp(de->d_name + len - 5, ".sock"))
				continue;
			memcpy(ifname, de->d_name, len - 5);
			ifname[len - 5] = '\0';
		}
		if (!config_grow((void **)&views, &cap, n, sizeof(*views))) {
			ret = EXIT_RUNTIME;
			break;
		}
		int r = fetch(&views[n], ifname);
		if (r == 0) {
			n++;
		} else {
			iface_free(&views[n]);
			if (only || (r != -ENOENT && r != -ECONNREFUSED)) {
				fprintf(stderr, "show: %s: %s\n", ifname, strerror(-r));
				ret = EXIT_RUNTIME;
			}
		}
		if (only)
			break;
	}
	if (dir)
		closedir(dir);
	if (ret == EXIT_OK)
		print_prometheus(out, views, n);
	for (size_t i = 0; i < n; i++)
		iface_free(&views[i]);
	free(views);
	return ret;
}

int cmd_show(int argc, char **argv)
{
	struct show_how how = { 0 };
	bool prometheus = false;
	const char *words[2];
	int n_words = 0;
	char ifname[16];

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			how.json = true;
		} else if (!strcmp(argv[i], "--prometheus")) {
			prometheus = true;
		} else if (argv[i][0] == '-' || n_words == 2) {
			fputs(usage, stderr);
			return EXIT_USAGE;
		} else {
			words[n_words++] = argv[i];
		}
	}
	/* wg's forms: show, show IFACE, show all, show interfaces, with a FIELD
	 * after IFACE or all. A lone field name is not an interface. */
	const char *only = n_words ? words[0] : NULL;
	if (n_words == 2) {
		if (!is_field(words[1])) {
			fprintf(stderr, "show: '%s' is not a field (see sluice show --help)\n", words[1]);
			return EXIT_USAGE;
		}
		how.field = words[1];
	}
	if (only && !strcmp(only, "interfaces") && n_words == 1)
		how.field = "interfaces";
	if (how.field && how.json) {
		fputs("show: --json shows every field; give it no FIELD\n", stderr);
		return EXIT_USAGE;
	}
	if (prometheus) {
		if (how.json || how.field) {
			fputs("show: --prometheus takes no FIELD and no --json\n", stderr);
			return EXIT_USAGE;
		}
		return cmd_show_prometheus(stdout, only && strcmp(only, "all") ? only : NULL);
	}
	if (only && strcmp(only, "all") && strcmp(only, "interfaces")) {
		if (!cmd_ifname(ifname, only))
			return EXIT_USAGE;
		int r = show_one(ifname, &how, "", false);
		if (how.json && !how.field && r == EXIT_OK)
			printf("\n");
		return r;
	}
	bool names_only = how.field && !strcmp(how.field, "interfaces");
	how.prefix = true;
	DIR *dir = opendir(uapi_dir());
	int ret = EXIT_OK, shown = 0;
	if (how.json)
		printf("[");
	if (dir) {
		struct dirent *de;
		while ((de = readdir(dir))) {
			size_t n = strlen(de->d_name);
			if (n <= 5 || n - 5 >= sizeof(ifname) || strcmp(de->d_name + n - 5, ".sock"))
				continue;
			memcpy(ifname, de->d_name, n - 5);
			ifname[n - 5] = '\0';
			if (names_only) {
				/* A socket is an interface only while its daemon answers. */
				int fd = uapi_connect(ifname);
				if (fd < 0)
					continue;
				close(fd);
				printf("%s%s", shown++ ? " " : "", ifname);
				continue;
			}
			int r = show_one(ifname, &how, !shown ? "" : how.json ? "," : "\n", true);
			if (r == EXIT_OK)
				shown++;
			else if (r != -1)
				ret = EXIT_RUNTIME;
		}
		closedir(dir);
	}
	if (names_only && shown)
		printf("\n");
	if (how.json)
		printf("]\n");
	return ret;
}
