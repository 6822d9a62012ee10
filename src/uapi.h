/* SPDX-License-Identifier: MIT */
/*
 * The control socket: WireGuard's cross-platform UAPI text protocol
 * (https://www.wireguard.com/xplatform/) on /var/run/wireguard/IFACE.sock.
 * Here: the socket's path, the listening socket and the client side
 * (`sluice show`, `sluice down`) in uapi.c; the set parser and the set=2
 * writer in uapi_set.c. The daemon serves connections in its event loop
 * with uapi_server.[ch]; uapi_get.[ch] writes get replies.
 */
#ifndef SLUICE_UAPI_H
#define SLUICE_UAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define UAPI_DIR "/var/run/wireguard"
/* When set (and the process is not set-user-ID), the directory of the
 * sockets instead of UAPI_DIR: lets tests and unprivileged experiments run a
 * daemon and its client side by side without touching /var/run. */
#define UAPI_DIR_ENV "SLUICE_UAPI_DIR"

/* Replies end in "errno=N" where N is 0 or a NEGATIVE errno ("errno=-22"),
 * the convention of wireguard-go, which wg(8) relies on: it reads a set's
 * reply with fscanf("errno=%d") and reports errno = -N.
 *
 * The server side (uapi_server.h) serves several requests per connection,
 * in order. A get is "get=1" and an empty line; sluice's own client may send
 * "get=2" for sluice's own keys too (wg(8) never does). A set request is
 * parsed whole before anything is applied; it ends at its empty line, or
 * where the client stops sending after a whole line (a line cut off there
 * is answered EPROTO and nothing is applied). An unknown operation closes
 * the connection without a reply.
 *
 * "set=2" is sluice's own (`sluice syncconf`; wg(8) never sends it, and
 * wireguard-go hangs up on it): a whole configuration, as a file describes
 * it, which the daemon syncs to. Peers it does not name are removed; the
 * peers it names are updated in place, keeping their sessions; a key it
 * leaves out is at its default (no preshared key, no keepalive, WireGuard's
 * cipher, UDP...), but for private_key, fwmark (wg-quick sets one on a full
 * tunnel) and listen_port (absent or 0: the port in use stays). Its keys are set=1's without the ones that edit
 * (replace_peers, remove, update_only, replace_allowed_ips: EINVAL), and:
 *   endpoint=tcp://ADDR:PORT     (or udp://; no scheme is UDP)
 *   sluice_cipher=chacha20-poly1305|aes-256-gcm          (a peer's)
 *   sluice_listen_transport=udp|tcp|udp,tcp               (the interface's)
 *   sluice_address=CIDR (repeated), sluice_mtu=N, sluice_table=off|auto|N,
 *   sluice_reply_ping=true|false                          (the interface's)
 *   sluice_mode=tun|tap, sluice_bridge=NAME              (the interface's)
 *   sluice_allowed_mac=MAC (repeated)                     (a peer's)
 * get=2 answers with the same interface keys, where the daemon set up the
 * link itself, and names the tcp:// endpoint of each peer it dials. */

/* sluice's own keys, in get=2 replies and set=2 requests. */
#define UAPI_KEY_LISTEN_TRANSPORT "sluice_listen_transport"
#define UAPI_KEY_ADDRESS "sluice_address"
#define UAPI_KEY_MTU "sluice_mtu"
#define UAPI_KEY_TABLE "sluice_table"
#define UAPI_KEY_REPLY_PING "sluice_reply_ping"
#define UAPI_KEY_CIPHER "sluice_cipher"
/* TAP mode: the interface's mode (tun|tap, fixed until a restart) and
 * bridge; a peer's AllowedMACs (repeated). get=2 also lists each peer's
 * learned addresses (sluice_mac, repeated). */
#define UAPI_KEY_MODE "sluice_mode"
#define UAPI_KEY_BRIDGE "sluice_bridge"
#define UAPI_KEY_ALLOWED_MAC "sluice_allowed_mac"
#define UAPI_KEY_MAC "sluice_mac"
/* get=2 only: the peer the keys after it are about, its transport now
 * (tcp: a connection, dialed or accepted), and the tcp:// endpoint the
 * daemon dials for it, if it does. */
#define UAPI_KEY_PEER "sluice_peer"
#define UAPI_KEY_TRANSPORT "sluice_transport"
#define UAPI_KEY_DIAL "sluice_endpoint"
#define UAPI_KEY_DROP_PREFIX "sluice_drop_"

/* Names of the values of those keys. */
const char *uapi_transports_name(unsigned transports);
bool uapi_transports_parse(const char *s, unsigned *transports);
const char *uapi_suite_name(enum cipher_suite suite);
/* Appends an AllowedMACs address ("02:00:5e:00:53:01") to peer; false for
 * one that is malformed or a group address, or without memory. */
bool uapi_add_mac(struct peer_config *peer, const char *value);
bool uapi_suite_parse(const char *s, enum cipher_suite *suite);

/* The largest set request served: about 200000 peers with an allowed IP
 * each. The socket is root's alone; this only bounds a runaway. */
#define UAPI_REQUEST_MAX ((size_t)32 << 20)
/* The largest reply: a get with very many peers. */
#define UAPI_REPLY_MAX ((size_t)256 << 20)
/* No value of any key is longer: "[v6%ifname]:65535" is 63 characters. */
#define UAPI_VALUE_MAX 128
/* A longer line is wrong whatever it holds: the longest key
 * (persistent_keepalive_interval), '=' and the longest value fit. */
#define UAPI_LINE_MAX 192

/* The directory in use: $SLUICE_UAPI_DIR or UAPI_DIR. */
const char *uapi_dir(void);
/* Writes "DIR/IFNAME.sock" to out. Returns 0, -EINVAL for a name Linux
 * would not accept for an interface (empty, 16 bytes or more, '/', ':',
 * whitespace, "." or ".."), or -ENAMETOOLONG when the path does not fit
 * (a socket path must fit sun_path, 108 bytes with its NUL). */
int uapi_socket_path(char *out, size_t outlen, const char *ifname);

/* Creates UAPI_DIR (0755) and the socket IFACE.sock (0600), replacing a stale
 * socket left by a dead daemon; fails with -EADDRINUSE when a live daemon
 * answers on it. Returns the listening fd (non-blocking) or -errno. */
int uapi_listen(const char *ifname);
/* Closes the socket and removes its file. */
void uapi_close(int listen_fd, const char *ifname);
/* Removes IFACE's socket if nobody listens on it any more (a daemon that ran
 * as another user cannot remove it from UAPI_DIR itself). 0: gone, or there
 * was none; -EADDRINUSE: a daemon answers; -errno otherwise. */
int uapi_remove_stale(const char *ifname);
/* The identity (st_dev, st_ino) of IFACE's socket file, as lstat sees it:
 * taken after uapi_listen, it tells the daemon later whether its file was
 * removed or replaced by another daemon's (wireguard-go exits then, and a
 * daemon must not unlink a file that is no longer its own). 0 or -errno
 * (-ENOENT: no such file). */
int uapi_socket_identity(const char *ifname, unsigned long long *dev, unsigned long long *ino);

/* Parses the lines of a set=1 request (after the "set=1" line, up to the
 * blank line, which may be included; the last line may lack its newline)
 * into cfg. Returns 0 or a positive errno: EPROTO for a line without '='
 * or with a NUL (or anything after the blank line), EINVAL for an unknown
 * key, a peer's key before any public_key, or a bad value, ENOMEM. On error
 * cfg is left empty. A private_key of all zeros (has_private_key with a zero
 * key) means "remove the private key"; a preshared_key of all zeros means
 * "no preshared key". endpoint is numeric only and lands in peer.endpoint
 * (endpoint_str stays NULL); peer.line is the line number of the peer's
 * public_key within the request. */
int uapi_parse_set(struct interface_config *cfg, const char *text, size_t len);
/* The same for set=1 (extended false) or set=2 (true). */
int uapi_parse_set_ext(struct interface_config *cfg, const char *text, size_t len, bool extended);
/* The lines of a set=2 request that gives the daemon cfg whole, endpoints
 * as resolved (one not resolved is left out). 0 or -errno (out's). The text
 * holds the private key: out wipes what it lets go of. */
struct sbuf;
int uapi_format_sync(struct sbuf *out, const struct interface_config *cfg);

/* The same parser, fed a set request's bytes as they arrive (in pieces of
 * any size: the result is the one uapi_parse_set gives for the whole). After
 * the first bad line the rest is only scanned for the empty line, so the
 * request is taken whole and answered once. Holds at most one line of the
 * request besides what it parsed (UAPI_LINE_MAX bytes: a longer line is
 * judged on the fly); lines may hold keys, which it wipes. */
struct uapi_set_parser {
	struct interface_config cfg;
	size_t cap_peers, cap_ips; /* allocated room of cfg.peers and the last peer's allowed_ips */
	size_t cap_addresses;      /* and of cfg.addresses (set=2) */
	bool extended;             /* set=2 */
	unsigned line;             /* lines taken */
	int error;                 /* the first bad line's positive errno, or 0 */
	bool done;                 /* the empty line came: the request is whole */
	/* A line that came in pieces: its first bytes, and for a line past
	 * UAPI_LINE_MAX only whether it had an '=' and a NUL. */
	bool pending;
	bool long_line, long_eq, long_nul;
	size_t partial_len;
	char partial[UAPI_LINE_MAX];
};
void uapi_set_parser_init(struct uapi_set_parser *p);
void uapi_set_parser_init_ext(struct uapi_set_parser *p, bool extended);
/* Takes bytes of the request; returns how many were taken: all of them, or
 * fewer when the empty line came (p->done; what follows is not this
 * request's). */
size_t uapi_set_parser_feed(struct uapi_set_parser *p, const char *data, size_t len);
/* The request ends (at its empty line, or where the stream ended): moves the
 * parsed request into cfg (config_free it) and returns 0, or returns the
 * first error (EPROTO for a line cut off at the end), cfg left empty. The
 * parser is empty afterwards, as after uapi_set_parser_free. */
int uapi_set_parser_finish(struct uapi_set_parser *p, struct interface_config *cfg);
/* Drops whatever was parsed, wiping it. */
void uapi_set_parser_free(struct uapi_set_parser *p);

/* Client: connects to IFACE's socket. Returns the fd or -errno: -ENOENT
 * when there is no such socket (no such interface), -ECONNREFUSED when a
 * dead daemon left its socket behind. Reads and writes time out after 10 s. */
int uapi_connect(const char *ifname);
/* Client: get=1; *out receives the malloc'd reply body (NUL-terminated,
 * without the errno line). Returns 0 or -errno (including the server's).
 * The body holds the private key in hex: crypto_wipe it before freeing. */
int uapi_client_get(const char *ifname, char **out);
/* Client: as uapi_client_get, with "get=2" (sluice's own keys too) when
 * extended; a daemon that does not know get=2 hangs up (-EPROTO or similar). */
int uapi_client_get_ext(const char *ifname, bool extended, char **out);
/* Client: set=1 with body (lines, each ending in "\n"). Returns 0 or -errno
 * (-EINVAL without sending when body holds an empty line). */
int uapi_client_set(const char *ifname, const char *body);
/* Client: set=2, a body from uapi_format_sync. As uapi_client_set; a daemon
 * that does not know set=2 hangs up (-EPROTO, -ECONNRESET or -EPIPE). */
int uapi_client_sync(const char *ifname, const char *body);

#endif
