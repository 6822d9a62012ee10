/* SPDX-License-Identifier: MIT */
/*
 * sluice quickstart's pieces, shared by the first run that writes a server
 * and its clients (cmd_quickstart.c) and the later runs that add and revoke
 * one client in that directory (cmd_quickstart_client.c).
 */
#ifndef SLUICE_QUICKSTART_H
#define SLUICE_QUICKSTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "netaddr.h"

#define QS_DEFAULT_PORT 55555
#define QS_NAME_MAX 15 /* a client's file NAME.conf names its interface: IFNAMSIZ - 1 */
#define QS_DNS_MAX 256
/* The line of server.conf that says where clients reach the server, for
 * --add-client to read back: "# Clients use Endpoint = HOST:PORT". */
#define QS_ENDPOINT_NOTE "# Clients use Endpoint = "

struct host_keys {
	uint8_t priv[KEY_LEN], pub[KEY_LEN], psk[KEY_LEN];
};

struct plan {
	struct cidr subnets[2]; /* at most one per family */
	size_t n_subnets;
	char host[256]; /* as written in Endpoint: a name, a dotted quad or "[v6]" */
	uint16_t port;
	bool has_endpoint;
	unsigned clients;
	bool tcp;
	bool tap; /* Mode = tap: Ethernet frames */
	bool has_cipher;
	const char *cipher;
	char dns[QS_DNS_MAX];            /* DNS = for the clients, "" = none */
	bool qr;                         /* print each client written as a QR code */
	const char *add_client, *revoke; /* NAME: edit an existing DIR */
	const char *iface;               /* the running server's interface (--interface) */
};

struct sbuf;
void qs_text_add(struct sbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* net + index, keeping net's prefix length. */
struct cidr qs_subnet_host(const struct cidr *net, uint64_t index);
/* How many clients fit beside the server at net + 1. */
uint64_t qs_subnet_room(const struct cidr *net);
/* --endpoint HOST[:PORT] into pl->host and pl->port; false after a message. */
bool qs_parse_endpoint(struct plan *pl, const char *arg);
/* The address of host `index` of the first subnet, without a prefix. */
void qs_host_address(char out[CIDR_STR_MAX], const struct plan *pl, uint64_t index);
bool qs_make_keys(struct host_keys *k, bool with_psk);
bool qs_write_all(int fd, const char *buf, size_t len);
/* A client's file: its address is host `index` of each subnet. */
void qs_client_text(struct sbuf *t, const struct plan *pl, const char *name, uint64_t index,
		    const uint8_t server_pub[KEY_LEN], const struct host_keys *client);
/* The server's [Peer] block for that client, after a "# NAME" line. */
void qs_server_peer_text(struct sbuf *t, const struct plan *pl, const char *name, uint64_t index,
			 const struct host_keys *client);
/* What a server needs besides the files: the firewall, forwarding. */
void qs_print_notes(const struct plan *pl);
/* Whether the qrencode program is there (false after a message). */
bool qs_qr_available(void);
/* Prints text as a QR code for a terminal (qrencode -t ansiutf8). */
bool qs_print_qr(const char *title, const char *text, size_t len);

/* cmd_quickstart_client.c: --add-client and --revoke. Exit codes. */
int qs_add_client(struct plan *pl, const char *dir);
int qs_revoke(struct plan *pl, const char *dir);

#endif
