/* SPDX-License-Identifier: MIT */
/*
 * The wg-quick style configuration file, parsed into a plain description of
 * an interface and its peers. The same structures carry a UAPI `set=1`
 * request (uapi_set.c), so the daemon has a single way to apply a change.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "crypto.h"
#include "messages.h"
#include "netaddr.h"

enum table_mode {
	TABLE_AUTO = 0, /* routes for AllowedIPs in the main table */
	TABLE_OFF,      /* no routes */
	TABLE_ID,       /* routes in table `table_id` */
};

/* IPv4 hosts must accept 576-byte datagrams (RFC 791), IPv6 links must
 * carry 1280 (RFC 8200); below that a tunnel cannot carry its own traffic. */
#define CONFIG_MTU_MIN 576
#define CONFIG_MTU_MIN_IPV6 1280
#define CONFIG_MTU_MAX 65535

/* Transports, as bits of interface_config.transports. */
enum transport {
	TRANSPORT_UDP = 1,
	TRANSPORT_TCP = 2,
};

struct peer_config {
	uint8_t public_key[KEY_LEN];
	uint8_t preshared_key[KEY_LEN];
	bool has_preshared_key;
	char *endpoint_str;                /* as written, NULL when absent; resolved by config_resolve */
	struct endpoint endpoint;          /* AF_UNSPEC until resolved */
	enum transport endpoint_transport; /* "tcp://host:port" = TCP; "udp://" or no scheme = UDP */
	bool has_suite;
	enum cipher_suite suite; /* Cipher = chacha20-poly1305 (default) | aes-256-gcm */
	unsigned endpoint_line;  /* line of the Endpoint key, for config_resolve's messages */
	bool has_persistent_keepalive;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	struct cidr *allowed_ips;
	size_t n_allowed_ips;
	/* AllowedMACs (Mode = tap): the source addresses its frames may have;
	 * none = any it does not take from another peer. */
	struct config_mac {
		uint8_t addr[ETHERNET_ADDR_LEN];
	} * allowed_macs;
	size_t n_allowed_macs;
	/* UAPI only */
	bool remove;
	bool update_only;
	bool replace_allowed_ips;
	unsigned line; /* line of the [Peer] header, for messages */
};

/* A wg-quick key that sluice reads and ignores: SaveConfig. Each is
 * recorded once (first occurrence, in file order) so the caller can warn
 * "wg0.conf:4: SaveConfig is not supported". */
#define CONFIG_UNSUPPORTED_MAX 6 /* one slot per such key: it cannot overflow */
struct config_unsupported_key {
	const char *name; /* canonical spelling, static storage */
	unsigned line;
};

/* wg-quick's hooks, run by `sluice up` and at the interface's end (hooks.c). */
enum hook_stage { HOOK_PRE_UP, HOOK_POST_UP, HOOK_PRE_DOWN, HOOK_POST_DOWN, HOOK_STAGES };

/* A list of strings as the file gives them, in order. */
struct config_strings {
	char **items;
	size_t n, cap;
};

struct interface_config {
	bool has_private_key;
	uint8_t private_key[KEY_LEN];
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark; /* 0 = off */
	struct cidr *addresses;
	size_t n_addresses;
	uint32_t mtu;          /* 0 = default */
	unsigned transports;   /* TRANSPORT_* bits to listen on; 0 = UDP only (the default) */
	bool reply_ping;       /* answer echo requests for our own addresses in user space */
	bool forward;          /* forward packets that arrive on the interface (a hub: client to client) */
	bool ethernet;         /* Mode = tap: a TAP carrying Ethernet frames (default tun) */
	char bridge[IFNAMSIZ]; /* Bridge = br0 (Mode = tap): `up` enslaves the TAP to it; "" = none */
	bool no_save_state;    /* SaveState = false: no state file (statefile.h) */
	char user[33];         /* User =: the daemon runs as this user once set up; "" = stays root */
	unsigned user_line;
	enum table_mode table;
	uint32_t table_id;
	bool replace_peers; /* UAPI only */
	/* `sluice IFACE`, as wireguard-go: the tun is made with the default
	 * MTU and left down; addresses, MTU, link state and routes are the
	 * caller's (wg-quick's), as is everything else over the UAPI. */
	bool link_unmanaged;
	struct peer_config *peers;
	size_t n_peers;
	/* DNS = : IP addresses (name servers), as written; names are search
	 * domains. Applied by `sluice up` (hooks.c), not by the daemon. */
	struct config_strings dns_servers, dns_search;
	/* PreUp = ... PostDown = : shell commands, %i for the interface, each
	 * as written after '=' (spaces inside kept), in file order. */
	struct config_strings hooks[HOOK_STAGES];
	struct config_unsupported_key unsupported_keys[CONFIG_UNSUPPORTED_MAX];
	size_t n_unsupported_keys;
	/* The file config_load read, as an absolute path, for the daemon to
	 * read again on SIGHUP; NULL for a pipe and for anything else. */
	char *path;
};

/* Parses a configuration held in memory. `name` is used in messages only.
 * On error returns false and writes "NAME:LINE: what is wrong: 'value'" to err.
 * A PrivateKey is required: sluice has no other way to get one (wg-quick
 * would let `wg set` add it later; sluice applies the file whole). Error
 * messages never contain the text of a PrivateKey or PresharedKey, nor any
 * value that looks like a key (a run of 40 or more base64 characters).
 * cfg is overwritten; on failure it is left empty (config_free is a no-op). */
bool config_parse(struct interface_config *cfg, const char *name, const char *text, size_t len, char *err,
		  size_t errlen);
/* Reads and parses a file or a pipe (at most CONFIG_FILE_MAX bytes).
 * Refuses one that holds a PrivateKey and is accessible by group or others
 * (mode & 077), saying how to fix the mode. */
#define CONFIG_FILE_MAX (1024 * 1024)
bool config_load(struct interface_config *cfg, const char *path, char *err, size_t errlen);
/* Resolves every peer's endpoint_str into endpoint (names via getaddrinfo).
 * Error: "NAME:LINE: cannot resolve Endpoint 'host:port': <gai_strerror>". */
bool config_resolve(struct interface_config *cfg, const char *name, char *err, size_t errlen);
/* Writes cfg in the format config_parse reads, which reads it back to the
 * same configuration: [Interface], then each [Peer], keys in base64, the
 * Endpoint as written (endpoint_str) or else as resolved, with its tcp://;
 * a key at its default is left out. The text holds the private key: out
 * wipes what it lets go of. 0 or -errno (out's error). */
struct sbuf;
int config_format(struct sbuf *out, const struct interface_config *cfg);

/* Whether a and b describe the same configuration, as far as applying them
 * goes: a key absent and a key at its default are the same (no preshared
 * key and one of zeros, no Cipher and chacha20-poly1305, no Transport and
 * udp), an Endpoint is compared as written when both have the text, and as
 * resolved otherwise; lists in order. For tests and fuzzers. */
bool config_equal(const struct interface_config *a, const struct interface_config *b);
/* A name `User =` (or `sluice up --user`) takes: 1 to 32 letters, digits,
 * '.', '_', '-', not starting with '-'. */
bool config_user_valid(const char *name);

/* Makes room for element n of an array of *cap elements of elem bytes,
 * doubling it; the old block is wiped (it may hold keys). False: no memory. */
bool config_grow(void **array, size_t *cap, size_t n, size_t elem);

void config_strings_free(struct config_strings *list);

/* Frees everything and wipes the keys; leaves cfg zeroed, so calling it
 * twice is harmless. */
void config_free(struct interface_config *cfg);

#endif
