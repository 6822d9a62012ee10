// SPDX-License-Identifier: MIT
/*
 * The UAPI: parsing set requests (every key, every way to get one wrong),
 * whole and in pieces of every size; sluice's set=2 (a whole configuration)
 * and get=2 read back into the configuration they describe; then the real socket in a temporary
 * directory ($SLUICE_UAPI_DIR): modes, stale and live sockets, get and set
 * round trips through the client, the exact bytes on the wire, and the
 * server as an event-loop citizen: silent and slow clients cost nothing,
 * idle ones are closed, the number of connections is capped, large requests
 * and replies go through whole.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "crypto.h"
#include "sbuf.h"
#include "uapi.h"
#include "uapi_get.h"
#include "uapi_server.h"

#define HEX_PRIV "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_PUB1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_PUB2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HEX_PUB3 "3333333333333333333333333333333333333333333333333333333333333333"
#define HEX_PSK "A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5" /* upper case is fine */
#define HEX_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static int parse(struct interface_config *cfg, const char *text)
{
	return uapi_parse_set(cfg, text, strlen(text));
}

static void assert_cidr(const struct cidr *c, const char *want)
{
	char buf[CIDR_STR_MAX];

	cidr_format(buf, c);
	assert_string_equal(buf, want);
}

static const char full_request[] = "private_key=" HEX_PRIV
				   "\n"
				   "listen_port=51820\n"
				   "fwmark=4294967295\n"
				   "replace_peers=true\n"
				   "public_key=" HEX_PUB1
				   "\n"
				   "preshared_key=" HEX_PSK
				   "\n"
				   "endpoint=192.0.2.1:51820\n"
				   "persistent_keepalive_interval=25\n"
				   "replace_allowed_ips=true\n"
				   "allowed_ip=10.0.0.9/24\n"
				   "allowed_ip=fd00::/64\n"
				   "protocol_version=1\n"
				   "public_key=" HEX_PUB2
				   "\n"
				   "endpoint=[2001:db8::1]:443\n"
				   "update_only=true\n"
				   "public_key=" HEX_PUB3
				   "\n"
				   "remove=true\n"
				   "\n";

static void test_parse_all_keys(void **state)
{
	struct interface_config cfg;
	uint8_t want[KEY_LEN];

	assert_int_equal(parse(&cfg, full_request), 0);
	for (int i = 0; i < KEY_LEN; i++)
		want[i] = (uint8_t)i;
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, want, KEY_LEN);
	assert_true(cfg.has_listen_port);
	assert_int_equal(cfg.listen_port, 51820);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0xffffffffu);
	assert_true(cfg.replace_peers);
	assert_int_equal(cfg.n_peers, 3);

	struct peer_config *p = &cfg.peers[0];
	memset(want, 0x11, KEY_LEN);
	assert_memory_equal(p->public_key, want, KEY_LEN);
	assert_int_equal(p->line, 5);
	assert_true(p->has_preshared_key);
	memset(want, 0xa5, KEY_LEN);
	assert_memory_equal(p->preshared_key, want, KEY_LEN);
	assert_int_equal(p->endpoint.addr.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(p->endpoint.addr.in4.sin_port), 51820);
	assert_null(p->endpoint_str);
	assert_true(p->has_persistent_keepalive);
	assert_int_equal(p->persistent_keepalive, 25);
	assert_true(p->replace_allowed_ips);
	assert_int_equal(p->n_allowed_ips, 2);
	assert_cidr(&p->allowed_ips[0], "10.0.0.0/24"); /* masked */
	assert_cidr(&p->allowed_ips[1], "fd00::/64");
	assert_false(p->remove);
	assert_false(p->update_only);

	p = &cfg.peers[1];
	assert_int_equal(p->endpoint.addr.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(p->endpoint.addr.in6.sin6_port), 443);
	assert_true(p->update_only);
	assert_false(p->has_preshared_key);
	assert_int_equal(p->n_allowed_ips, 0);

	p = &cfg.peers[2];
	assert_true(p->remove);
	assert_int_equal(p->line, 16);
	config_free(&cfg);

	/* Without the final empty line, and without the final newline. */
	assert_int_equal(parse(&cfg, "listen_port=1\npublic_key=" HEX_PUB1 "\nallowed_ip=10.0.0.1/32"), 0);
	assert_int_equal(cfg.n_peers, 1);
	assert_int_equal(cfg.peers[0].n_allowed_ips, 1);
	config_free(&cfg);

	/* An empty request is valid and changes nothing. */
	assert_int_equal(parse(&cfg, ""), 0);
	assert_int_equal(parse(&cfg, "\n"), 0);
	assert_false(cfg.has_private_key);
}

static void test_parse_zero_keys(void **state)
{
	struct interface_config cfg;
	uint8_t zero[KEY_LEN] = { 0 };

	/* All zeros: "remove the private key" / "no preshared key". */
	assert_int_equal(parse(&cfg, "private_key=" HEX_ZERO "\npublic_key=" HEX_PUB1 "\npreshared_key=" HEX_ZERO "\n"),
			 0);
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, zero, KEY_LEN);
	assert_true(cfg.peers[0].has_preshared_key);
	assert_memory_equal(cfg.peers[0].preshared_key, zero, KEY_LEN);
	config_free(&cfg);

	assert_int_equal(
		parse(&cfg, "listen_port=0\nfwmark=0\npublic_key=" HEX_PUB1 "\npersistent_keepalive_interval=0\n"), 0);
	assert_true(cfg.has_listen_port);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0);
	assert_true(cfg.peers[0].has_persistent_keepalive);
	config_free(&cfg);
}

static const struct {
	const char *text;
	int err;
} reject_cases[] = {
	{ "private_key=" HEX_PRIV "0\n", EINVAL },
	{ "private_key=" HEX_PRIV "\r\n", EINVAL },
	{ "private_key=zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", EINVAL },
	{ "private_key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", EINVAL }, /* base64 is not the UAPI's */
	{ "listen_port=65536\n", EINVAL },
	{ "listen_port=-1\n", EINVAL },
	{ "listen_port=\n", EINVAL },
	{ "listen_port= 1\n", EINVAL },
	{ "fwmark=4294967296\n", EINVAL },
	{ "fwmark=0x10\n", EINVAL },
	{ "replace_peers=false\n", EINVAL },
	{ "replace_peers=1\n", EINVAL },
	{ "public_key=" HEX_PUB1 "1\n", EINVAL },
	{ "public_key=\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nremove=yes\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nupdate_only=TRUE\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nreplace_allowed_ips=false\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\npreshared_key=abc\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nendpoint=host.example:51820\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nendpoint=2001:db8::1:51820\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nendpoint=192.0.2.1\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nendpoint=192.0.2.1:0\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\npersistent_keepalive_interval=65536\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nallowed_ip=10.0.0.1\n", EINVAL }, /* the UAPI always names the prefix */
	{ "public_key=" HEX_PUB1 "\nallowed_ip=10.0.0.1/33\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nallowed_ip=fd00::/129\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nprotocol_version=2\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nlisten_port=1\n", EINVAL }, /* a device key after a peer's */
	{ "public_key=" HEX_PUB1 "\nprivate_key=" HEX_PRIV "\n", EINVAL },
	{ "public_key=" HEX_PUB1 "\nunknown=1\n", EINVAL },
	/* peer keys before any public_key */
	{ "remove=true\n", EINVAL },
	{ "update_only=true\n", EINVAL },
	{ "preshared_key=" HEX_PSK "\n", EINVAL },
	{ "endpoint=192.0.2.1:1\n", EINVAL },
	{ "persistent_keepalive_interval=1\n", EINVAL },
	{ "replace_allowed_ips=true\n", EINVAL },
	{ "allowed_ip=10.0.0.0/8\n", EINVAL },
	{ "protocol_version=1\n", EINVAL },
	{ "unknown_key=1\n", EINVAL },
	{ "=1\n", EINVAL },
	{ "listen_port=1\nendpoint="
	  "[fe80::1111:2222:3333:4444%0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789]:1\n",
	  EINVAL },
	/* not key=value at all: a protocol error */
	{ "listen_port\n", EPROTO },
	{ "public_key=" HEX_PUB1 "\nremove\n", EPROTO },
	/* nothing may follow the empty line */
	{ "listen_port=1\n\nlisten_port=2\n", EPROTO },
};

static void test_parse_rejects(void **state)
{
	for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		struct interface_config cfg;
		int e = parse(&cfg, reject_cases[i].text);
		if (e != reject_cases[i].err)
			fail_msg("case %zu: got %d, want %d: %s", i, e, reject_cases[i].err, reject_cases[i].text);
		/* A rejected request leaves nothing behind. */
		assert_int_equal(cfg.n_peers, 0);
		assert_null(cfg.peers);
		assert_false(cfg.has_private_key);
		assert_false(cfg.has_listen_port);
	}

	/* A NUL inside a line: a protocol error, not a shorter value. */
	static const char with_nul[] = "listen_port=1\0\n";
	struct interface_config cfg;
	assert_int_equal(uapi_parse_set(&cfg, with_nul, sizeof(with_nul) - 1), EPROTO);
}

/* ---- the same requests in pieces ---- */

/* Everything a parse produced, as text, to compare two parses. */
static void dump_cfg(struct sbuf *out, int e, const struct interface_config *cfg)
{
	char text[ENDPOINT_STR_MAX];

	sbuf_putf(out, "e=%d key=%d:", e, cfg->has_private_key);
	for (int i = 0; i < KEY_LEN; i++)
		sbuf_putf(out, "%02x", cfg->private_key[i]);
	sbuf_putf(out, " port=%d:%u fwmark=%d:%u replace=%d peers=%zu\n", cfg->has_listen_port, cfg->listen_port,
		  cfg->has_fwmark, cfg->fwmark, cfg->replace_peers, cfg->n_peers);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *p = &cfg->peers[i];
		sbuf_putf(out, "peer line=%u key=%02x%02x psk=%d:%02x rm=%d upd=%d ka=%d:%u repl=%d ep=", p->line,
			  p->public_key[0], p->public_key[31], p->has_preshared_key, p->preshared_key[0], p->remove,
			  p->update_only, p->has_persistent_keepalive, p->persistent_keepalive, p->replace_allowed_ips);
		if (p->endpoint.addr.sa.sa_family != AF_UNSPEC) {
			endpoint_format(text, &p->endpoint);
			sbuf_putf(out, "%s", text);
		}
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			cidr_format(text, &p->allowed_ips[j]);
			sbuf_putf(out, " %s", text);
		}
		sbuf_putf(out, "\n");
	}
}

/* Feeds text in pieces of `piece` bytes, ending it as uapi_parse_set does
 * (the last line may lack its newline), and dumps the result. */
static void parse_in_pieces(struct sbuf *out, const char *text, size_t len, size_t piece)
{
	struct uapi_set_parser p;
	struct interface_config cfg;
	size_t pos = 0;

	uapi_set_parser_init(&p);
	while (pos < len && !p.done) {
		size_t n = len - pos < piece ? len - pos : piece;
		size_t taken = uapi_set_parser_feed(&p, text + pos, n);
		assert_true(taken <= n);
		assert_true(taken == n || p.done);
		pos += taken;
	}
	/* uapi_parse_set's whole-text rules: nothing after the empty line,
	 * and a last line without its newline. */
	if (p.done && pos < len && !p.error)
		p.error = EPROTO;
	if (p.pending)
		uapi_set_parser_feed(&p, "\n", 1);
	int e = uapi_set_parser_finish(&p, &cfg);
	dump_cfg(out, e, &cfg);
	config_free(&cfg);
}

static void check_pieces(const char *text, size_t len)
{
	static const size_t pieces[] = { 1, 2, 3, 5, 7, 64, UAPI_LINE_MAX - 1, UAPI_LINE_MAX, UAPI_LINE_MAX + 1, 4096 };
	struct interface_config cfg;
	struct sbuf whole, split;
	int e = uapi_parse_set(&cfg, text, len);

	sbuf_init(&whole, 0);
	sbuf_init(&split, 0);
	dump_cfg(&whole, e, &cfg);
	config_free(&cfg);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		sbuf_reset(&split);
		parse_in_pieces(&split, text, len, pieces[i]);
		if (sbuf_len(&whole) != sbuf_len(&split) ||
		    memcmp(sbuf_ptr(&whole), sbuf_ptr(&split), sbuf_len(&whole)))
			fail_msg("in pieces of %zu:\n%s\nwhole:\n%s\nrequest: %.*s", pieces[i], sbuf_cstr(&split),
				 sbuf_cstr(&whole), (int)len, text);
	}
	sbuf_free(&whole);
	sbuf_free(&split);
}

/* Feeding a request byte by byte, or in any pieces, gives what parsing it
 * whole gives: every request above, and lines longer than the parser keeps. */
static void test_parse_in_pieces(void **state)
{
	char text[2048];
	size_t n;

	check_pieces(full_request, strlen(full_request));
	check_pieces("", 0);
	check_pieces("\n", 1);
	check_pieces("listen_port=1\npublic_key=" HEX_PUB1 "\nallowed_ip=10.0.0.1/32", 86);
	for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++)
		check_pieces(reject_cases[i].text, strlen(reject_cases[i].text));
	static const char with_nul[] = "listen_port=1\0\n";
	check_pieces(with_nul, sizeof(with_nul) - 1);

	/* Long lines, judged without being kept: a long value or key is
	 * EINVAL, no '=' or a NUL anywhere is EPROTO. */
	static const struct {
		const char *head, *tail;
		size_t tail_len; /* 0: strlen (a tail with a NUL says how long it is) */
		char fill;
		size_t fill_len;
	} longs[] = {
		{ "public_key=" HEX_PUB1 "\nallowed_ip=", "/32\n", 0, '1', 500 },
		{ "", "=1\n", 0, 'k', 300 },
		{ "", "\n", 0, 'x', 300 },
		{ "listen_port=1\n", "\0=1\n", 4, 'k', 300 },
		{ "", "=\0\n", 3, 'k', 190 },
		{ "", "=\0\n", 3, 'k', 250 },
		{ "private_key=", "\n", 0, 'a', UAPI_LINE_MAX - 12 }, /* exactly UAPI_LINE_MAX */
		{ "private_key=", "\n", 0, 'a', UAPI_LINE_MAX - 11 }, /* one more */
		{ "", "\n\nlisten_port=1\n", 0, 'k', 400 },           /* the first error wins */
	};
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		size_t h = strlen(longs[i].head), t = longs[i].tail_len ? longs[i].tail_len : strlen(longs[i].tail);
		memcpy(text, longs[i].head, h);
		memset(text + h, longs[i].fill, longs[i].fill_len);
		memcpy(text + h + longs[i].fill_len, longs[i].tail, t);
		n = h + longs[i].fill_len + t;
		check_pieces(text, n);
	}
	struct interface_config cfg;
	memcpy(text, "listen_port=1\n", 14);
	memset(text + 14, 'x', 300);
	memcpy(text + 314, "\n", 1);
	assert_int_equal(uapi_parse_set(&cfg, text, 315), EPROTO);
	memset(text + 14, 'k', 300);
	memcpy(text + 314, "=1\n", 3);
	assert_int_equal(uapi_parse_set(&cfg, text, 317), EINVAL);
}

/* What a stream gives that a whole text does not: the request ends at its
 * empty line (the rest is the next request's), and a line cut off at the
 * end is refused. */
static void test_parser_stream(void **state)
{
	static const char two[] = "listen_port=7\n\nget=1\n\n";
	struct uapi_set_parser p;
	struct interface_config cfg;

	uapi_set_parser_init(&p);
	assert_int_equal(uapi_set_parser_feed(&p, two, 5), 5);
	assert_false(p.done);
	assert_int_equal(uapi_set_parser_feed(&p, two + 5, sizeof(two) - 1 - 5), 15 - 5);
	assert_true(p.done);
	assert_int_equal(uapi_set_parser_finish(&p, &cfg), 0);
	assert_true(cfg.has_listen_port);
	assert_int_equal(cfg.listen_port, 7);
	config_free(&cfg);

	uapi_set_parser_init(&p);
	assert_int_equal(uapi_set_parser_feed(&p, "listen_port=7\nlisten_po", 23), 23);
	assert_true(p.pending);
	assert_int_equal(uapi_set_parser_finish(&p, &cfg), EPROTO);
	assert_false(cfg.has_listen_port);

	/* After an error the rest is only scanned for the end. */
	uapi_set_parser_init(&p);
	static const char bad[] = "bad\npublic_key=zz\n\nset=1\n";
	assert_int_equal(uapi_set_parser_feed(&p, bad, sizeof(bad) - 1), sizeof(bad) - 1 - 6);
	assert_true(p.done);
	assert_int_equal(uapi_set_parser_finish(&p, &cfg), EPROTO);
	assert_int_equal(cfg.n_peers, 0);

	/* Free without finishing, holding a peer and half a key. */
	uapi_set_parser_init(&p);
	static const char half[] = "public_key=" HEX_PUB1 "\npreshared_key=A5A5";
	assert_int_equal(uapi_set_parser_feed(&p, half, sizeof(half) - 1), sizeof(half) - 1);
	assert_true(p.pending);
	uapi_set_parser_free(&p);
}

/* ---- set=2: a whole configuration, with sluice's own keys ---- */

static const char whole_request[] = "private_key=" HEX_PRIV
				    "\n"
				    "listen_port=443\n"
				    "fwmark=0\n"
				    "sluice_listen_transport=udp,tcp\n"
				    "sluice_address=198.18.0.1/24\n"
				    "sluice_address=2001:db8:77::1/64\n"
				    "sluice_mtu=1380\n"
				    "sluice_table=1234\n"
				    "sluice_reply_ping=true\n"
				    "public_key=" HEX_PUB1
				    "\n"
				    "preshared_key=" HEX_PSK
				    "\n"
				    "endpoint=tcp://192.0.2.1:443\n"
				    "sluice_cipher=aes-256-gcm\n"
				    "persistent_keepalive_interval=25\n"
				    "allowed_ip=198.18.0.2/32\n"
				    "protocol_version=1\n"
				    "public_key=" HEX_PUB2
				    "\n"
				    "endpoint=udp://[2001:db8::1]:51820\n"
				    "sluice_cipher=chacha20-poly1305\n"
				    "public_key=" HEX_PUB3
				    "\n"
				    "endpoint=192.0.2.3:1\n"
				    "\n";

static void test_parse_whole(void **state)
{
	struct interface_config cfg;

	assert_int_equal(uapi_parse_set_ext(&cfg, whole_request, strlen(whole_request), true), 0);
	assert_true(cfg.has_private_key);
	assert_int_equal(cfg.listen_port, 443);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.transports, TRANSPORT_UDP | TRANSPORT_TCP);
	assert_int_equal(cfg.n_addresses, 2);
	assert_cidr(&cfg.addresses[0], "198.18.0.1/24"); /* an address keeps its host bits */
	assert_cidr(&cfg.addresses[1], "2001:db8:77::1/64");
	assert_int_equal(cfg.mtu, 1380);
	assert_int_equal(cfg.table, TABLE_ID);
	assert_int_equal(cfg.table_id, 1234);
	assert_true(cfg.reply_ping);
	assert_int_equal(cfg.n_peers, 3);
	assert_int_equal(cfg.peers[0].endpoint_transport, TRANSPORT_TCP);
	assert_int_equal(ntohs(cfg.peers[0].endpoint.addr.in4.sin_port), 443);
	assert_true(cfg.peers[0].has_suite);
	assert_int_equal(cfg.peers[0].suite, SUITE_AESGCM);
	assert_true(cfg.peers[0].has_preshared_key);
	assert_int_equal(cfg.peers[0].persistent_keepalive, 25);
	assert_int_equal(cfg.peers[1].endpoint_transport, TRANSPORT_UDP);
	assert_int_equal(cfg.peers[1].endpoint.addr.sa.sa_family, AF_INET6);
	assert_int_equal(cfg.peers[1].suite, SUITE_CHACHAPOLY);
	assert_int_equal(cfg.peers[2].endpoint_transport, TRANSPORT_UDP); /* no scheme: UDP */
	config_free(&cfg);

	/* Off and auto. */
	static const char off[] = "sluice_table=off\nsluice_reply_ping=false\nsluice_listen_transport=tcp\n";
	assert_int_equal(uapi_parse_set_ext(&cfg, off, strlen(off), true), 0);
	assert_int_equal(cfg.table, TABLE_OFF);
	assert_false(cfg.reply_ping);
	assert_int_equal(cfg.transports, TRANSPORT_TCP);
	config_free(&cfg);
}

static const struct {
	const char *text;
	bool extended;
} whole_rejects[] = {
	/* set=2 says what each peer is; it does not edit one */
	{ "replace_peers=true\n", true },
	{ "public_key=" HEX_PUB1 "\nremove=true\n", true },
	{ "public_key=" HEX_PUB1 "\nupdate_only=true\n", true },
	{ "public_key=" HEX_PUB1 "\nreplace_allowed_ips=true\n", true },
	/* bad values of sluice's keys */
	{ "sluice_listen_transport=quic\n", true },
	{ "sluice_listen_transport=UDP\n", true },
	{ "sluice_address=198.18.0.1\n", true },
	{ "sluice_address=198.18.0.1/33\n", true },
	{ "sluice_mtu=575\n", true },
	{ "sluice_mtu=65536\n", true },
	{ "sluice_table=0\n", true },
	{ "sluice_table=main\n", true },
	{ "sluice_reply_ping=yes\n", true },
	{ "public_key=" HEX_PUB1 "\nsluice_cipher=aes\n", true },
	{ "public_key=" HEX_PUB1 "\nendpoint=ftp://192.0.2.1:1\n", true },
	{ "public_key=" HEX_PUB1 "\nendpoint=tcp://host.example:1\n", true },
	{ "public_key=" HEX_PUB1 "\nendpoint=tcp://tcp://192.0.2.1:1\n", true },
	{ "sluice_cipher=aes-256-gcm\n", true }, /* a peer's key before any peer */
	{ "public_key=" HEX_PUB1 "\nsluice_mtu=1420\n", true },
	/* sluice's keys are set=2's only: wg(8) never sends them */
	{ "sluice_listen_transport=tcp\n", false },
	{ "sluice_address=198.18.0.1/24\n", false },
	{ "public_key=" HEX_PUB1 "\nsluice_cipher=aes-256-gcm\n", false },
	{ "public_key=" HEX_PUB1 "\nendpoint=tcp://192.0.2.1:443\n", false },
	{ "public_key=" HEX_PUB1 "\nendpoint=udp://192.0.2.1:443\n", false },
};

static void test_parse_whole_rejects(void **state)
{
	struct interface_config cfg;

	for (size_t i = 0; i < sizeof(whole_rejects) / sizeof(whole_rejects[0]); i++) {
		const char *t = whole_rejects[i].text;
		int e = uapi_parse_set_ext(&cfg, t, strlen(t), whole_rejects[i].extended);
		if (e != EINVAL)
			fail_msg("set=%d '%s': %d, want EINVAL", whole_rejects[i].extended ? 2 : 1, t, e);
		assert_int_equal(cfg.n_peers, 0);
		assert_int_equal(cfg.n_addresses, 0);
		assert_null(cfg.addresses);
	}
}

/* What `sluice syncconf` sends is what the daemon parses back. */
static void test_format_sync_round_trip(void **state)
{
	static const char file[] =
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nListenPort = 443\n"
		"Transport = udp,tcp\nAddress = 198.18.0.1/24, 2001:db8:77::1/64\nMTU = 1380\nTable = off\n"
		"ReplyPing = true\nFwMark = 0x10\n"
		"[Peer]\nPublicKey = ERERERERERERERERERERERERERERERERERERERERERE=\n"
		"PresharedKey = paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\nAllowedIPs = 198.18.0.2/32, 198.19.0.0/16\n"
		"Endpoint = tcp://[2001:db8::7]:443\nCipher = aes-256-gcm\nPersistentKeepalive = 25\n"
		"[Peer]\nPublicKey = ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\nEndpoint = 192.0.2.9:51820\n"
		"[Peer]\nPublicKey = IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=\n";
	struct interface_config a, b;
	struct sbuf body;
	char err[256];

	if (!config_parse(&a, "wg0.conf", file, strlen(file), err, sizeof(err)))
		fail_msg("%s", err);
	sbuf_init(&body, 0);
	assert_int_equal(uapi_format_sync(&body, &a), 0);
	assert_int_equal(uapi_parse_set_ext(&b, sbuf_ptr(&body), sbuf_len(&body), true), 0);
	assert_true(config_equal(&a, &b));
	config_free(&b);
	assert_non_null(strstr(sbuf_cstr(&body), "\nendpoint=tcp://[2001:db8::7]:443\n"));
	/* set=1 would refuse it: its keys are sluice's. */
	assert_int_equal(uapi_parse_set(&b, sbuf_ptr(&body), sbuf_len(&body)), EINVAL);
	config_free(&a);
	sbuf_free(&body);
}

/* TAP mode's keys go through set=2 too: the mode, the bridge, AllowedMACs. */
static void test_format_sync_tap(void **state)
{
	static const char file[] =
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nMode = tap\nBridge = br0\n"
		"[Peer]\nPublicKey = ERERERERERERERERERERERERERERERERERERERERERE=\n"
		"AllowedMACs = 02:00:5e:00:53:01, 02:00:5e:00:53:02\n";
	struct interface_config a, b;
	struct sbuf body;
	char err[256];

	(void)state;
	if (!config_parse(&a, "wg0.conf", file, strlen(file), err, sizeof(err)))
		fail_msg("%s", err);
	sbuf_init(&body, 0);
	assert_int_equal(uapi_format_sync(&body, &a), 0);
	const char *t = sbuf_cstr(&body);
	assert_non_null(strstr(t, "\nsluice_mode=tap\nsluice_bridge=br0\n"));
	assert_non_null(strstr(t, "\nsluice_allowed_mac=02:00:5e:00:53:02\n"));
	assert_int_equal(uapi_parse_set_ext(&b, sbuf_ptr(&body), sbuf_len(&body), true), 0);
	assert_true(config_equal(&a, &b));
	config_free(&b);
	/* A group address, a bad mode: refused. */
	static const char *const bad[] = {
		"sluice_mode=tup\n",
		"public_key=1111111111111111111111111111111111111111111111111111111111111111\n"
		"sluice_allowed_mac=ff:ff:ff:ff:ff:ff\n",
		"public_key=1111111111111111111111111111111111111111111111111111111111111111\n"
		"sluice_allowed_mac=02:00\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(uapi_parse_set_ext(&b, bad[i], strlen(bad[i]), true), EINVAL);
		config_free(&b);
	}
	config_free(&a);
	sbuf_free(&body);
}

/* A get=2 reply, written from a real engine, reads back as the
 * configuration it came from; `sluice showconf` prints that. */
static void hook_drop(void *ctx, struct pkt **pkts, int n)
{
	struct core *c = ctx;
	for (int i = 0; i < n; i++)
		pool_put(core_pool(c), pkts[i]);
}

static bool dial_first(void *ctx, const uint8_t public_key[KEY_LEN], struct endpoint *target)
{
	uint8_t want[KEY_LEN];

	(void)ctx;
	assert_int_equal(unit_hex(want, sizeof(want), HEX_PUB1), KEY_LEN);
	if (memcmp(public_key, want, KEY_LEN))
		return false;
	assert_true(endpoint_parse_numeric(target, "192.0.2.1:443"));
	return true;
}

static void test_get_reads_back(void **state)
{
	struct core c;
	struct core_hooks hooks = { .ctx = &c, .send_net = hook_drop, .send_tun = hook_drop };
	uint8_t priv[KEY_LEN], pub[3][KEY_LEN], psk[KEY_LEN];
	struct cidr ips[3], addrs[1];
	struct endpoint ep;
	struct sbuf out;
	struct interface_config cfg;
	const char *hex[3] = { HEX_PUB1, HEX_PUB2, HEX_PUB3 };

	assert_true(crypto_init());
	assert_int_equal(core_init(&c, &hooks, 1420, 64), 0);
	assert_int_equal(unit_hex(priv, sizeof(priv), HEX_PRIV), KEY_LEN);
	assert_int_equal(unit_hex(psk, sizeof(psk), HEX_PSK), KEY_LEN);
	core_set_private_key(&c, priv);
	assert_true(cidr_parse(&ips[0], "198.18.0.2/32", false));
	assert_true(cidr_parse(&ips[1], "198.19.0.0/16", false));
	assert_true(cidr_parse(&ips[2], "2001:db8:77::3/128", false));
	assert_true(cidr_parse(&addrs[0], "198.18.0.1/24", false));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(unit_hex(pub[i], KEY_LEN, hex[i]), KEY_LEN);
		struct peer *p = core_peer_add(&c, pub[i]);
		assert_non_null(p);
		assert_int_equal(core_peer_add_allowed_ip(&c, p, &ips[i]), 0);
		if (i == 0) {
			core_peer_set_psk(&c, p, psk);
			core_peer_set_suite(&c, p, SUITE_AESGCM);
			core_peer_set_keepalive(&c, p, 25, 1);
			assert_true(endpoint_parse_numeric(&ep, "192.0.2.1:443"));
			ep.conn = 7; /* the connection we dialed */
		} else if (i == 1) {
			assert_true(endpoint_parse_numeric(&ep, "192.0.2.2:40000"));
			ep.conn = 8; /* a connection it made to us: no endpoint to keep */
		} else {
			assert_true(endpoint_parse_numeric(&ep, "[2001:db8::3]:51820"));
		}
		core_peer_set_endpoint(&c, p, &ep);
	}
	struct uapi_get_ext x = { .transports = TRANSPORT_TCP,
				  .reply_ping = true,
				  .link_managed = true,
				  .addresses = addrs,
				  .n_addresses = 1,
				  .mtu = 1380,
				  .table = TABLE_OFF,
				  .dial_target = dial_first };
	sbuf_init(&out, 0);
	assert_int_equal(uapi_get_format(&out, &c, 443, 16), 0);
	assert_int_equal(uapi_get_format_extended(&out, &c, &x), 0);
	assert_int_equal(uapi_parse_get(&cfg, sbuf_ptr(&out), sbuf_len(&out)), 0);
	assert_true(cfg.has_private_key);
	/* The engine keeps the key clamped, as WireGuard shows it. */
	priv[0] &= 248;
	priv[31] = (uint8_t)((priv[31] & 127) | 64);
	assert_memory_equal(cfg.private_key, priv, KEY_LEN);
	assert_int_equal(cfg.listen_port, 443);
	assert_int_equal(cfg.fwmark, 16);
	assert_int_equal(cfg.transports, TRANSPORT_TCP);
	assert_true(cfg.reply_ping);
	assert_int_equal(cfg.n_addresses, 1);
	assert_int_equal(cfg.mtu, 1380);
	assert_int_equal(cfg.table, TABLE_OFF);
	assert_int_equal(cfg.n_peers, 3);
	assert_memory_equal(cfg.peers[0].preshared_key, psk, KEY_LEN);
	assert_true(cfg.peers[0].has_suite);
	assert_int_equal(cfg.peers[0].suite, SUITE_AESGCM);
	assert_int_equal(cfg.peers[0].persistent_keepalive, 25);
	assert_int_equal(cfg.peers[0].endpoint_transport, TRANSPORT_TCP);
	assert_int_equal(ntohs(cfg.peers[0].endpoint.addr.in4.sin_port), 443);
	assert_int_equal(cfg.peers[1].endpoint.addr.sa.sa_family, AF_UNSPEC);
	assert_false(cfg.peers[1].has_preshared_key);
	assert_false(cfg.peers[1].has_suite);
	assert_int_equal(cfg.peers[2].endpoint_transport, TRANSPORT_UDP);
	assert_int_equal(cfg.peers[2].endpoint.addr.sa.sa_family, AF_INET6);
	assert_int_equal(cfg.peers[2].n_allowed_ips, 1);
	assert_cidr(&cfg.peers[2].allowed_ips[0], "2001:db8:77::3/128");

	/* As a file, and back. */
	struct sbuf text;
	struct interface_config again;
	char err[256];
	sbuf_init(&text, 0);
	assert_int_equal(config_format(&text, &cfg), 0);
	if (!config_parse(&again, "shown", sbuf_ptr(&text), sbuf_len(&text), err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(config_equal(&cfg, &again));
	assert_non_null(strstr(sbuf_cstr(&text), "Endpoint = tcp://192.0.2.1:443\n"));
	assert_non_null(strstr(sbuf_cstr(&text), "Transport = tcp\n"));
	config_free(&again);
	config_free(&cfg);
	sbuf_free(&text);

	/* get=1 alone (a wireguard-go) reads too, without sluice's keys. */
	sbuf_reset(&out);
	assert_int_equal(uapi_get_format(&out, &c, 443, 0), 0);
	assert_int_equal(uapi_parse_get(&cfg, sbuf_ptr(&out), sbuf_len(&out)), 0);
	assert_int_equal(cfg.n_peers, 3);
	assert_int_equal(cfg.peers[1].endpoint.addr.sa.sa_family, AF_INET); /* get=1 cannot tell */
	assert_false(cfg.peers[0].has_suite);
	config_free(&cfg);
	sbuf_free(&out);
	core_destroy(&c);

	/* Unknown keys are a newer daemon's: skipped. Malformed values are not. */
	static const char future[] = "listen_port=1\nsome_new_key=1\npublic_key=" HEX_PUB1 "\nnew_peer_key=x\n";
	assert_int_equal(uapi_parse_get(&cfg, future, strlen(future)), 0);
	assert_int_equal(cfg.n_peers, 1);
	config_free(&cfg);
	static const char *const bad[] = { "listen_port=x\n",
					   "private_key=zz\n",
					   "no equals sign\n",
					   "public_key=" HEX_PUB1 "\nallowed_ip=10.0.0.1\n",
					   "sluice_peer=" HEX_PUB1 "\n",
					   /* fine: names no peer */ };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = uapi_parse_get(&cfg, bad[i], strlen(bad[i]));
		assert_int_equal(e, i == 4 ? 0 : -EPROTO);
		assert_int_equal(cfg.n_peers, 0);
		config_free(&cfg);
	}
}

/* ---- the socket ---- */

static char tmpdir[64], sockdir[96];

static int setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-test-uapi.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* Not created yet: uapi_listen makes it. */
	snprintf(sockdir, sizeof(sockdir), "%s/wireguard", tmpdir);
	return setenv(UAPI_DIR_ENV, sockdir, 1);
}

static int remove_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

/* The server in an event loop of its own: the tags and the loop a daemon
 * would have. */
enum { TAG_LISTEN = 1, TAG_CONN = 2 };

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* One round of the loop: waits up to timeout_ms, dispatches, ticks. */
static void pump(struct uapi_server *s, int epoll_fd, int timeout_ms, uint64_t now)
{
	struct epoll_event evs[16];
	int n = epoll_wait(epoll_fd, evs, 16, timeout_ms);

	for (int i = 0; i < n; i++) {
		if ((uint32_t)evs[i].data.u64 == TAG_LISTEN)
			uapi_server_on_listen(s, now);
		else
			uapi_server_on_conn(s, (uint32_t)(evs[i].data.u64 >> 32), evs[i].events, now);
	}
	uapi_server_tick(s, now);
}

struct fake_daemon {
	pthread_mutex_t lock;
	int listen_fd, epoll_fd;
	struct uapi_server server;
	atomic_bool stop;
	pthread_t thread;
	size_t get_lines; /* lines of a get body past the first */
	/* what set saw */
	int set_calls;
	int set_result; /* positive errno to return */
	bool has_listen_port;
	uint16_t listen_port;
	size_t n_peers;
	size_t n_allowed_ips;
	bool removed;
	double longest_round; /* s, of one round of the loop's work */
	/* what sync saw */
	int sync_calls;
	unsigned sync_transports;
	enum transport sync_endpoint_transport;
	bool sync_aes;
};

static int fake_get(void *ctx, struct sbuf *out)
{
	struct fake_daemon *d = ctx;

	sbuf_putf(out, "listen_port=1\n");
	if (d) {
		pthread_mutex_lock(&d->lock);
		size_t lines = d->get_lines;
		pthread_mutex_unlock(&d->lock);
		for (size_t i = 0; i < lines; i++)
			sbuf_putf(out, "public_key=%064zx\n", i);
	}
	return sbuf_error(out);
}

static int fake_set(void *ctx, const struct interface_config *cfg)
{
	struct fake_daemon *d = ctx;

	pthread_mutex_lock(&d->lock);
	d->set_calls++;
	d->has_listen_port = cfg->has_listen_port;
	d->listen_port = cfg->listen_port;
	d->n_peers = cfg->n_peers;
	d->n_allowed_ips = cfg->n_peers ? cfg->peers[0].n_allowed_ips : 0;
	d->removed = cfg->n_peers && cfg->peers[cfg->n_peers - 1].remove;
	int r = d->set_result;
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int fake_sync(void *ctx, const struct interface_config *cfg)
{
	struct fake_daemon *d = ctx;

	pthread_mutex_lock(&d->lock);
	d->sync_calls++;
	d->sync_transports = cfg->transports;
	d->n_peers = cfg->n_peers;
	d->sync_endpoint_transport = cfg->n_peers ? cfg->peers[0].endpoint_transport : 0;
	d->sync_aes = cfg->n_peers && cfg->peers[0].has_suite && cfg->peers[0].suite == SUITE_AESGCM;
	int r = d->set_result;
	pthread_mutex_unlock(&d->lock);
	return -r; /* either sign will do */
}

static void *fake_daemon_run(void *arg)
{
	struct fake_daemon *d = arg;

	while (!atomic_load(&d->stop)) {
		struct epoll_event ev;
		/* Wait outside the measured part, then measure the work. */
		if (epoll_wait(d->epoll_fd, &ev, 1, 50) <= 0) {
			uapi_server_tick(&d->server, mono_ns());
			continue;
		}
		uint64_t t0 = mono_ns();
		pump(&d->server, d->epoll_fd, 0, t0);
		double took = (double)(mono_ns() - t0) / 1e9;
		pthread_mutex_lock(&d->lock);
		if (took > d->longest_round)
			d->longest_round = took;
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

/* with_sync: the daemon takes set=2 (sluice's), else it is unknown (wireguard-go). */
static void fake_daemon_start_with(struct fake_daemon *d, const char *ifname, bool with_sync)
{
	struct uapi_ops ops = { .ctx = d, .get = fake_get, .set = fake_set, .sync = with_sync ? fake_sync : NULL };

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->listen_fd = uapi_listen(ifname);
	if (d->listen_fd < 0)
		fail_msg("uapi_listen: %s", strerror(-d->listen_fd));
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(d->epoll_fd >= 0);
	assert_int_equal(uapi_server_init(&d->server, &ops, d->epoll_fd, d->listen_fd, TAG_LISTEN, TAG_CONN), 0);
	assert_int_equal(pthread_create(&d->thread, NULL, fake_daemon_run, d), 0);
}

static void fake_daemon_start(struct fake_daemon *d, const char *ifname)
{
	fake_daemon_start_with(d, ifname, false);
}

static void fake_daemon_stop(struct fake_daemon *d, const char *ifname)
{
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	uapi_server_destroy(&d->server);
	close(d->epoll_fd);
	uapi_close(d->listen_fd, ifname);
	pthread_mutex_destroy(&d->lock);
}

static void test_listen_modes_and_paths(void **state)
{
	char path[128], want[128];
	struct stat st;
	int fd;

	assert_int_equal(uapi_socket_path(path, sizeof(path), "wgt0"), 0);
	snprintf(want, sizeof(want), "%s/wgt0.sock", sockdir);
	assert_string_equal(path, want);
	assert_string_equal(uapi_dir(), sockdir);

	static const char *const bad_names[] = { "", ".", "..", "a/b", "wg:0", "wg 0", "0123456789abcdef" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_int_equal(uapi_socket_path(path, sizeof(path), bad_names[i]), -EINVAL);
		assert_int_equal(uapi_listen(bad_names[i]), -EINVAL);
		assert_int_equal(uapi_connect(bad_names[i]), -EINVAL);
	}
	assert_int_equal(uapi_socket_path(path, 10, "wgt0"), -ENAMETOOLONG);

	fd = uapi_listen("wgt0");
	assert_true(fd >= 0);
	assert_int_equal(stat(sockdir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A live daemon keeps its socket. */
	assert_int_equal(uapi_listen("wgt0"), -EADDRINUSE);
	assert_int_equal(stat(want, &st), 0);

	uapi_close(fd, "wgt0");
	assert_int_equal(stat(want, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* No socket, no interface. */
	assert_int_equal(uapi_connect("wgt0"), -ENOENT);
	char *body = (char *)"untouched";
	assert_int_equal(uapi_client_get("wgt0", &body), -ENOENT);
	assert_null(body);
	assert_int_equal(uapi_client_set("wgt0", "listen_port=1\n"), -ENOENT);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, dead;

	/* A daemon that died without cleaning up: a socket file nobody
	 * listens on. */
	assert_int_equal(uapi_socket_path(addr.sun_path, sizeof(addr.sun_path), "wgt1"), 0);
	mkdir(sockdir, 0755);
	dead = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(dead >= 0);
	assert_int_equal(bind(dead, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(dead);
	assert_int_equal(uapi_connect("wgt1"), -ECONNREFUSED);

	fd = uapi_listen("wgt1");
	if (fd < 0)
		fail_msg("uapi_listen over a stale socket: %s", strerror(-fd));
	int c = uapi_connect("wgt1");
	assert_true(c >= 0);
	close(c);
	uapi_close(fd, "wgt1");

	/* Something that is not a socket is left alone. */
	FILE *f = fopen(addr.sun_path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(uapi_listen("wgt1"), -EEXIST);
	unlink(addr.sun_path);
}

/* The daemon notices its socket file removed or replaced by its identity. */
static void test_socket_identity(void **state)
{
	unsigned long long dev, ino, dev2, ino2;
	int fd, fd2;

	assert_int_equal(uapi_socket_identity("wgt6", &dev, &ino), -ENOENT);
	fd = uapi_listen("wgt6");
	assert_true(fd >= 0);
	assert_int_equal(uapi_socket_identity("wgt6", &dev, &ino), 0);
	assert_int_equal(uapi_socket_identity("wgt6", &dev2, &ino2), 0);
	assert_true(dev == dev2 && ino == ino2);
	assert_int_equal(uapi_socket_identity("a/b", &dev2, &ino2), -EINVAL);

	/* Removed (as one stops wireguard-go), then another daemon's. */
	char path[128];
	assert_int_equal(uapi_socket_path(path, sizeof(path), "wgt6"), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(uapi_socket_identity("wgt6", &dev2, &ino2), -ENOENT);
	fd2 = uapi_listen("wgt6");
	assert_true(fd2 >= 0);
	assert_int_equal(uapi_socket_identity("wgt6", &dev2, &ino2), 0);
	assert_false(dev == dev2 && ino == ino2);
	close(fd);
	uapi_close(fd2, "wgt6");
}

static void test_path_too_long(void **state)
{
	char longdir[200];

	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv(UAPI_DIR_ENV, longdir, 1);
	assert_int_equal(uapi_listen("wgt2"), -ENAMETOOLONG);
	assert_int_equal(uapi_connect("wgt2"), -ENAMETOOLONG);
	setenv(UAPI_DIR_ENV, sockdir, 1);
}

static void test_client_round_trip(void **state)
{
	struct fake_daemon d;
	char *body = NULL;

	fake_daemon_start(&d, "wgt3");

	assert_int_equal(uapi_client_get("wgt3", &body), 0);
	assert_non_null(body);
	assert_string_equal(body, "listen_port=1\n");
	free(body);

	assert_int_equal(uapi_client_set("wgt3", "listen_port=7\npublic_key=" HEX_PUB1 "\nallowed_ip=10.0.0.0/8\n"
						 "allowed_ip=fd00::/8\npublic_key=" HEX_PUB2 "\nremove=true\n"),
			 0);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 1);
	assert_true(d.has_listen_port);
	assert_int_equal(d.listen_port, 7);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.n_allowed_ips, 2);
	assert_true(d.removed);
	pthread_mutex_unlock(&d.lock);

	/* A bad request is refused before the daemon sees it. */
	assert_int_equal(uapi_client_set("wgt3", "listen_port=70000\n"), -EINVAL);
	assert_int_equal(uapi_client_set("wgt3", "remove=true\n"), -EINVAL);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 1);
	/* The daemon's own failure comes back as -errno. */
	d.set_result = EADDRINUSE;
	pthread_mutex_unlock(&d.lock);
	assert_int_equal(uapi_client_set("wgt3", "listen_port=53\n"), -EADDRINUSE);

	/* The client refuses a body that would end the request early. */
	assert_int_equal(uapi_client_set("wgt3", "listen_port=1\n\nlisten_port=2\n"), -EINVAL);
	assert_int_equal(uapi_client_set("wgt3", "listen_port=1"), -EINVAL);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 2);
	pthread_mutex_unlock(&d.lock);

	/* An empty set is a request too. */
	d.set_result = 0;
	assert_int_equal(uapi_client_set("wgt3", ""), 0);

	fake_daemon_stop(&d, "wgt3");
}

/* set=2 through the client: to a daemon that takes it, and to one that
 * does not (wireguard-go), which hangs up. */
static void test_client_sync(void **state)
{
	static const char body[] = "private_key=" HEX_PRIV "\nsluice_listen_transport=tcp\npublic_key=" HEX_PUB1
				   "\nendpoint=tcp://192.0.2.1:443\nsluice_cipher=aes-256-gcm\n";
	struct fake_daemon d;

	fake_daemon_start_with(&d, "wgt11", true);
	assert_int_equal(uapi_client_sync("wgt11", body), 0);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.sync_calls, 1);
	assert_int_equal(d.set_calls, 0);
	assert_int_equal(d.sync_transports, TRANSPORT_TCP);
	assert_int_equal(d.n_peers, 1);
	assert_int_equal(d.sync_endpoint_transport, TRANSPORT_TCP);
	assert_true(d.sync_aes);
	d.set_result = EADDRINUSE;
	pthread_mutex_unlock(&d.lock);
	assert_int_equal(uapi_client_sync("wgt11", body), -EADDRINUSE);
	/* An edit is no whole configuration: refused before the daemon sees it. */
	assert_int_equal(uapi_client_sync("wgt11", "public_key=" HEX_PUB1 "\nremove=true\n"), -EINVAL);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.sync_calls, 2);
	pthread_mutex_unlock(&d.lock);
	/* And set=1 still goes to set. */
	d.set_result = 0;
	assert_int_equal(uapi_client_set("wgt11", "listen_port=7\n"), 0);
	fake_daemon_stop(&d, "wgt11");

	fake_daemon_start(&d, "wgt12");
	int r = uapi_client_sync("wgt12", body);
	assert_true(r == -EPROTO || r == -ECONNRESET || r == -EPIPE);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 0);
	pthread_mutex_unlock(&d.lock);
	fake_daemon_stop(&d, "wgt12");
}

/* Sends raw bytes, reads until the daemon closes; returns what came back. */
static char *raw_exchange(const char *ifname, const char *req, bool half_close)
{
	static char reply[4096];
	size_t len = 0;
	int fd = uapi_connect(ifname);

	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	if (half_close)
		shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = recv(fd, reply + len, sizeof(reply) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	reply[len] = '\0';
	return reply;
}

static void test_wire_format(void **state)
{
	struct fake_daemon d;

	fake_daemon_start(&d, "wgt4");
	/* Several requests on one connection, answered in order; errors as
	 * negative errnos, as wireguard-go sends them and wg(8) reads them. */
	assert_string_equal(
		raw_exchange("wgt4", "get=1\n\nset=1\nlisten_port=2\n\nset=1\nlisten_port=x\n\nget=1\n\n", true),
		"listen_port=1\nerrno=0\n\n"
		"errno=0\n\n"
		"errno=-22\n\n"
		"listen_port=1\nerrno=0\n\n");
	assert_string_equal(raw_exchange("wgt4", "set=1\nlisten_port\n\n", true), "errno=-71\n\n"); /* EPROTO */
	/* An unknown operation: hang up without a word. */
	assert_string_equal(raw_exchange("wgt4", "del=1\n\n", true), "");
	assert_string_equal(raw_exchange("wgt4", "g", true), "");
	/* A get with something after it. */
	assert_string_equal(raw_exchange("wgt4", "get=1\nx=1\n\n", true), "errno=-22\n\n");
	/* A set whose client stops sending after a whole line ends there, as
	 * with wireguard-go (printf 'set=1\nlisten_port=9\n' | nc -U). */
	pthread_mutex_lock(&d.lock);
	int calls = d.set_calls;
	pthread_mutex_unlock(&d.lock);
	assert_string_equal(raw_exchange("wgt4", "set=1\nlisten_port=9\n", true), "errno=0\n\n");
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, calls + 1);
	assert_true(d.has_listen_port);
	assert_int_equal(d.listen_port, 9);
	pthread_mutex_unlock(&d.lock);
	assert_string_equal(raw_exchange("wgt4", "set=1\n", true), "errno=0\n\n");
	/* A line cut off may be a truncated value: refused, not applied. */
	assert_string_equal(raw_exchange("wgt4", "set=1\nlisten_port=9", true), "errno=-71\n\n");
	assert_string_equal(raw_exchange("wgt4", "set=1\nlisten_port=8\nlisten_po", true), "errno=-71\n\n");
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, calls + 2);
	assert_int_equal(d.listen_port, 0);
	pthread_mutex_unlock(&d.lock);
	/* A get needs its empty line. */
	assert_string_equal(raw_exchange("wgt4", "get=1\n", true), "");
	fake_daemon_stop(&d, "wgt4");
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A client that says nothing, one that stops halfway, one that sends a byte
 * at a time: others are served at once, and no round of the loop waits. */
static void test_slow_clients_cost_nothing(void **state)
{
	struct fake_daemon d;
	struct timespec t0;
	char *body = NULL;
	int silent, late, dribble;

	fake_daemon_start(&d, "wgt5");
	silent = uapi_connect("wgt5");
	late = uapi_connect("wgt5");
	dribble = uapi_connect("wgt5");
	assert_true(silent >= 0 && late >= 0 && dribble >= 0);
	assert_int_equal(send(late, "get=", 4, 0), 4);

	static const char req[] = "set=1\nlisten_port=4\npublic_key=" HEX_PUB1 "\nallowed_ip=10.0.0.0/8\n\n";
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		assert_int_equal(send(dribble, req + i, 1, MSG_NOSIGNAL), 1);
		if (i % 16 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			assert_int_equal(uapi_client_get("wgt5", &body), 0);
			assert_true(seconds_since(&t0) < 0.5);
			assert_string_equal(body, "listen_port=1\n");
			free(body);
		}
	}
	char reply[32] = { 0 };
	assert_int_equal(recv(dribble, reply, sizeof(reply) - 1, 0), 9);
	assert_string_equal(reply, "errno=0\n\n");
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 1);
	assert_int_equal(d.listen_port, 4);
	assert_int_equal(d.n_allowed_ips, 1);
	assert_true(d.longest_round < 0.25);
	pthread_mutex_unlock(&d.lock);
	close(silent);
	close(late);
	close(dribble);
	fake_daemon_stop(&d, "wgt5");
}

/* The server driven by hand, with a clock of our own. */
struct harness {
	int listen_fd, epoll_fd;
	struct uapi_server server;
	const char *ifname;
};

static void harness_start(struct harness *h, const char *ifname, void *ctx)
{
	struct uapi_ops ops = { .ctx = ctx, .get = fake_get, .set = fake_set };

	h->ifname = ifname;
	h->listen_fd = uapi_listen(ifname);
	assert_true(h->listen_fd >= 0);
	h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(h->epoll_fd >= 0);
	assert_int_equal(uapi_server_init(&h->server, &ops, h->epoll_fd, h->listen_fd, TAG_LISTEN, TAG_CONN), 0);
}

static void harness_stop(struct harness *h)
{
	uapi_server_destroy(&h->server);
	close(h->epoll_fd);
	uapi_close(h->listen_fd, h->ifname);
}

/* Rounds of the loop until nothing is left to do right now. */
static void pump_all(struct harness *h, uint64_t now)
{
	for (int i = 0; i < 20; i++)
		pump(&h->server, h->epoll_fd, 10, now);
}

static bool closed_by_server(int fd)
{
	char c;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 1000) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_idle_timeout(void **state)
{
	const uint64_t t = 1000 * NS_PER_SEC;
	struct harness h;
	int quiet, half;

	harness_start(&h, "wgt7", NULL);
	quiet = uapi_connect("wgt7");
	half = uapi_connect("wgt7");
	assert_true(quiet >= 0 && half >= 0);
	pump_all(&h, t);
	assert_int_equal(h.server.n_conns, 2);
	/* Progress resets the clock: half a request 5 s later. */
	assert_int_equal(send(half, "set=1\nlisten_p", 15, 0), 15);
	pump_all(&h, t + 5 * NS_PER_SEC);
	uapi_server_tick(&h.server, t + UAPI_IDLE_TIMEOUT_NS - 1);
	assert_int_equal(h.server.n_conns, 2);
	uapi_server_tick(&h.server, t + UAPI_IDLE_TIMEOUT_NS);
	assert_int_equal(h.server.n_conns, 1);
	assert_true(closed_by_server(quiet));
	uapi_server_tick(&h.server, t + 5 * NS_PER_SEC + UAPI_IDLE_TIMEOUT_NS);
	assert_int_equal(h.server.n_conns, 0);
	assert_true(closed_by_server(half));
	close(quiet);
	close(half);
	harness_stop(&h);
}

/* At UAPI_MAX_CONNS the rest wait in the backlog, and are served once a
 * place frees. */
static void test_connection_cap(void **state)
{
	const uint64_t t = NS_PER_SEC;
	struct fake_daemon ctx;
	struct harness h;
	int fds[UAPI_MAX_CONNS], extra;
	char reply[64] = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	pthread_mutex_init(&ctx.lock, NULL);
	harness_start(&h, "wgt8", &ctx);
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		fds[i] = uapi_connect("wgt8");
		assert_true(fds[i] >= 0);
	}
	pump_all(&h, t);
	assert_int_equal(h.server.n_conns, UAPI_MAX_CONNS);
	assert_false(h.server.listening);
	extra = uapi_connect("wgt8");
	assert_true(extra >= 0);
	assert_int_equal(send(extra, "get=1\n\n", 7, 0), 7);
	pump_all(&h, t);
	assert_int_equal(h.server.n_conns, UAPI_MAX_CONNS);
	assert_int_equal(recv(extra, reply, sizeof(reply), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);

	close(fds[0]);
	pump_all(&h, t);
	assert_int_equal(recv(extra, reply, sizeof(reply) - 1, 0), 23);
	assert_string_equal(reply, "listen_port=1\nerrno=0\n\n");
	assert_int_equal(h.server.n_conns, UAPI_MAX_CONNS);
	for (int i = 1; i < UAPI_MAX_CONNS; i++)
		close(fds[i]);
	close(extra);
	pump_all(&h, t);
	assert_int_equal(h.server.n_conns, 0);
	assert_true(h.server.listening);
	harness_stop(&h);
	pthread_mutex_destroy(&ctx.lock);
}

/* A reply bigger than the socket holds goes out as the client reads, and
 * requests sent meanwhile wait their turn: nothing is read while a reply
 * waits. */
static void test_large_reply_and_pipelining(void **state)
{
	const uint64_t t = NS_PER_SEC;
	struct fake_daemon ctx;
	struct harness h;
	struct sbuf got;
	int fd;

	memset(&ctx, 0, sizeof(ctx));
	pthread_mutex_init(&ctx.lock, NULL);
	ctx.get_lines = 50000; /* 3.9 MB */
	harness_start(&h, "wgt9", &ctx);
	fd = uapi_connect("wgt9");
	assert_true(fd >= 0);
	static const char reqs[] = "get=1\n\nset=1\nlisten_port=5\n\nget=1\n\n";
	assert_int_equal(send(fd, reqs, sizeof(reqs) - 1, 0), (ssize_t)sizeof(reqs) - 1);
	sbuf_init(&got, 0);
	for (int rounds = 0; rounds < 100000; rounds++) {
		char *dst;
		pump(&h.server, h.epoll_fd, 0, t);
		assert_int_equal(sbuf_reserve(&got, 65536, &dst), 0);
		ssize_t n = recv(fd, dst, 65536, MSG_DONTWAIT);
		if (n > 0)
			sbuf_commit(&got, (size_t)n);
		if (n == 0)
			break;
		if (sbuf_len(&got) >= 2 * (14 + 50000 * 76 + 9) + 9)
			break;
	}
	size_t one = 14 + 50000 * 76 + 9;
	assert_int_equal(sbuf_len(&got), 2 * one + 9);
	const char *r = sbuf_ptr(&got);
	assert_memory_equal(r + one - 9, "errno=0\n\n", 9);
	assert_memory_equal(r + one, "errno=0\n\n", 9);
	assert_memory_equal(r + 2 * one, "errno=0\n\n", 9);
	pthread_mutex_lock(&ctx.lock);
	assert_int_equal(ctx.set_calls, 1);
	assert_int_equal(ctx.listen_port, 5);
	pthread_mutex_unlock(&ctx.lock);
	sbuf_free(&got);
	close(fd);
	harness_stop(&h);
	pthread_mutex_destroy(&ctx.lock);
}

/* A set request of 10000 peers (1.5 MB) through the client. */
static void test_large_set(void **state)
{
	struct fake_daemon d;
	struct sbuf body;

	sbuf_init(&body, 0);
	sbuf_putf(&body, "replace_peers=true\n");
	for (unsigned i = 0; i < 10000; i++)
		sbuf_putf(&body, "public_key=%064x\nreplace_allowed_ips=true\nallowed_ip=198.18.%u.%u/32\n", i + 1,
			  i / 256, i % 256);
	assert_int_equal(sbuf_error(&body), 0);
	assert_true(sbuf_len(&body) > 1000000);
	fake_daemon_start(&d, "wgt10");
	assert_int_equal(uapi_client_set("wgt10", sbuf_cstr(&body)), 0);
	pthread_mutex_lock(&d.lock);
	assert_int_equal(d.set_calls, 1);
	assert_int_equal(d.n_peers, 10000);
	assert_int_equal(d.n_allowed_ips, 1);
	pthread_mutex_unlock(&d.lock);
	fake_daemon_stop(&d, "wgt10");
	sbuf_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all_keys),
		cmocka_unit_test(test_parse_zero_keys),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_in_pieces),
		cmocka_unit_test(test_parser_stream),
		cmocka_unit_test(test_parse_whole),
		cmocka_unit_test(test_parse_whole_rejects),
		cmocka_unit_test(test_format_sync_round_trip),
		cmocka_unit_test(test_format_sync_tap),
		cmocka_unit_test(test_get_reads_back),
		cmocka_unit_test(test_listen_modes_and_paths),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_socket_identity),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_client_round_trip),
		cmocka_unit_test(test_client_sync),
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_slow_clients_cost_nothing),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_large_reply_and_pipelining),
		cmocka_unit_test(test_large_set),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
