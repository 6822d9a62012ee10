// SPDX-License-Identifier: MIT
/*
 * The wg-quick file: a full good file, each kind of mistake with its exact
 * message (file, line, value), secrets kept out of messages, and the
 * file-mode check of config_load.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "encoding.h"
#include "sbuf.h"

#define PRIV "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* bytes 0..31 */
#define PUB1 "ERERERERERERERERERERERERERERERERERERERERERE=" /* 0x11 x 32 */
#define PUB2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" /* bytes 32..63 */
#define PUB3 "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=" /* 0x22 x 32 */
#define PSK "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="  /* 0xa5 x 32 */

static bool parse(struct interface_config *cfg, const char *text, char *err, size_t errlen)
{
	return config_parse(cfg, "wg0.conf", text, strlen(text), err, errlen);
}

static void assert_cidr(const struct cidr *c, const char *want)
{
	char buf[CIDR_STR_MAX];

	cidr_format(buf, c);
	assert_string_equal(buf, want);
}

static const char full_file[] =
	"\xef\xbb\xbf# wg0: every key sluice knows, and the wg-quick ones it ignores\n"
	"\n"
	"  [Interface]   # the local end\n"
	"PrivateKey = " PRIV
	"   # trailing comment\n"
	"  listenport=51820\n"
	"Address = 10.0.0.1/24, fd00::1/64\n"
	"address\t=\t10.0.1.1\n"
	"ADDRESS = fd00:1::1 ,\n"
	"MTU = 1420\r\n"
	"Table = 1234\n"
	"FwMark = 0x1F\n"
	"DNS = 192.0.2.53, 2001:db8::53,example.com\n"
	"dns = corp.example\n"
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo done\n"
	"PostUp = echo again\n"
	"PreDown = true\n"
	"SaveConfig = false\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " PUB1
	"\n"
	"PresharedKey = " PSK
	"\n"
	"AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
	"AllowedIPs = 192.168.77.9 / 24\n"
	"Endpoint = 192.0.2.1:51820\n"
	"PersistentKeepalive = 25\n"
	"\n"
	"[peer]\n"
	"publickey=" PUB2
	"\n"
	"AllowedIPs = 0.0.0.0/0, ::/0\n"
	"Endpoint = [2001:db8::1]:51820\r\n"
	"PersistentKeepalive = off\n"
	"# a peer with a name to resolve later, and no AllowedIPs\n"
	"[ Peer ]\n"
	"PublicKey = " PUB3
	"\n"
	"Endpoint = vpn.example.org:4500\n"
	"AllowedIPs =\n";

static void test_full_file(void **state)
{
	struct interface_config cfg;
	char err[256] = "";
	uint8_t want[KEY_LEN];

	if (!parse(&cfg, full_file, err, sizeof(err)))
		fail_msg("%s", err);
	for (int i = 0; i < KEY_LEN; i++)
		want[i] = (uint8_t)i;
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, want, KEY_LEN);
	assert_true(cfg.has_listen_port);
	assert_int_equal(cfg.listen_port, 51820);
	assert_int_equal(cfg.n_addresses, 4);
	assert_cidr(&cfg.addresses[0], "10.0.0.1/24"); /* host bits kept: it is the interface's address */
	assert_cidr(&cfg.addresses[1], "fd00::1/64");
	assert_cidr(&cfg.addresses[2], "10.0.1.1/32");
	assert_cidr(&cfg.addresses[3], "fd00:1::1/128");
	assert_int_equal(cfg.mtu, 1420);
	assert_int_equal(cfg.table, TABLE_ID);
	assert_int_equal(cfg.table_id, 1234);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0x1f);

	assert_int_equal(cfg.n_unsupported_keys, 1);
	assert_string_equal(cfg.unsupported_keys[0].name, "SaveConfig");
	assert_int_equal(cfg.unsupported_keys[0].line, 17);
	/* DNS: addresses are name servers, names search domains, in order. */
	assert_int_equal(cfg.dns_servers.n, 2);
	assert_string_equal(cfg.dns_servers.items[0], "192.0.2.53");
	assert_string_equal(cfg.dns_servers.items[1], "2001:db8::53");
	assert_int_equal(cfg.dns_search.n, 2);
	assert_string_equal(cfg.dns_search.items[0], "example.com");
	assert_string_equal(cfg.dns_search.items[1], "corp.example");
	/* Hooks: as written (spaces kept, the comment gone), in order. */
	assert_int_equal(cfg.hooks[HOOK_PRE_UP].n, 0);
	assert_int_equal(cfg.hooks[HOOK_POST_UP].n, 2);
	assert_string_equal(cfg.hooks[HOOK_POST_UP].items[0], "iptables -A FORWARD -i %i -j ACCEPT; echo done");
	assert_string_equal(cfg.hooks[HOOK_POST_UP].items[1], "echo again");
	assert_int_equal(cfg.hooks[HOOK_PRE_DOWN].n, 1);
	assert_string_equal(cfg.hooks[HOOK_PRE_DOWN].items[0], "true");

	assert_int_equal(cfg.n_peers, 3);
	struct peer_config *p = &cfg.peers[0];
	memset(want, 0x11, KEY_LEN);
	assert_memory_equal(p->public_key, want, KEY_LEN);
	assert_true(p->has_preshared_key);
	memset(want, 0xa5, KEY_LEN);
	assert_memory_equal(p->preshared_key, want, KEY_LEN);
	assert_int_equal(p->line, 19);
	assert_int_equal(p->n_allowed_ips, 3);
	assert_cidr(&p->allowed_ips[0], "10.0.0.2/32");
	assert_cidr(&p->allowed_ips[1], "fd00::2/128");
	assert_cidr(&p->allowed_ips[2], "192.168.77.0/24"); /* masked */
	assert_string_equal(p->endpoint_str, "192.0.2.1:51820");
	assert_int_equal(p->endpoint_line, 24);
	assert_int_equal(p->endpoint.addr.sa.sa_family, AF_INET); /* numeric: parsed at once */
	assert_int_equal(ntohs(p->endpoint.addr.in4.sin_port), 51820);
	assert_true(p->has_persistent_keepalive);
	assert_int_equal(p->persistent_keepalive, 25);

	p = &cfg.peers[1];
	assert_false(p->has_preshared_key);
	assert_int_equal(p->line, 27);
	assert_int_equal(p->n_allowed_ips, 2);
	assert_cidr(&p->allowed_ips[0], "0.0.0.0/0");
	assert_cidr(&p->allowed_ips[1], "::/0");
	assert_string_equal(p->endpoint_str, "[2001:db8::1]:51820");
	assert_int_equal(p->endpoint.addr.sa.sa_family, AF_INET6);
	assert_true(p->has_persistent_keepalive);
	assert_int_equal(p->persistent_keepalive, 0);

	p = &cfg.peers[2];
	memset(want, 0x22, KEY_LEN);
	assert_memory_equal(p->public_key, want, KEY_LEN);
	assert_string_equal(p->endpoint_str, "vpn.example.org:4500");
	assert_int_equal(p->endpoint.addr.sa.sa_family, AF_UNSPEC); /* a name: config_resolve's job */
	assert_int_equal(p->n_allowed_ips, 0);
	assert_false(p->has_persistent_keepalive);

	config_free(&cfg);
	assert_int_equal(cfg.n_peers, 0);
	assert_null(cfg.peers);
	memset(want, 0, KEY_LEN);
	assert_memory_equal(cfg.private_key, want, KEY_LEN); /* wiped */
	config_free(&cfg);                                   /* twice is harmless */
}

static void test_minimal_and_defaults(void **state)
{
	struct interface_config cfg;
	char err[256];

	assert_true(parse(&cfg, "[Interface]\nPrivateKey=" PRIV, err, sizeof(err))); /* no final newline */
	assert_false(cfg.has_listen_port);
	assert_false(cfg.has_fwmark);
	assert_int_equal(cfg.mtu, 0);
	assert_int_equal(cfg.table, TABLE_AUTO);
	assert_int_equal(cfg.n_peers, 0);
	assert_int_equal(cfg.n_unsupported_keys, 0);
	config_free(&cfg);

	assert_true(parse(&cfg, "[Interface]\nPrivateKey=" PRIV "\nTable = off\nFwMark = off\nListenPort = 0\n", err,
			  sizeof(err)));
	assert_int_equal(cfg.table, TABLE_OFF);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0);
	assert_true(cfg.has_listen_port);
	assert_int_equal(cfg.listen_port, 0);
	config_free(&cfg);

	assert_true(parse(&cfg, "[INTERFACE]\nPRIVATEKEY=" PRIV "\nTable = Auto\nFwMark = 4294967295\nMTU=576\n", err,
			  sizeof(err)));
	assert_int_equal(cfg.table, TABLE_AUTO);
	assert_int_equal(cfg.fwmark, 0xffffffffu);
	assert_int_equal(cfg.mtu, 576);
	config_free(&cfg);

	/* The IPv6 minimum applies only with an IPv6 address. */
	assert_true(parse(&cfg, "[Interface]\nPrivateKey=" PRIV "\nMTU=1280\nAddress=fd00::1/64\n", err, sizeof(err)));
	config_free(&cfg);
}

struct bad_case {
	const char *text;
	const char *err;
};

#define IFACE "[Interface]\nPrivateKey = " PRIV "\n"
#define PEER1 "[Peer]\nPublicKey = " PUB1 "\n"

static const struct bad_case bad_cases[] = {
	{ IFACE PEER1 "AllowedIPs = 10.0.0.1/32, 10.0.0.300/24\n", "wg0.conf:5: invalid AllowedIPs: '10.0.0.300/24'" },
	{ IFACE "Foo = bar\n", "wg0.conf:3: unknown key 'Foo' in [Interface]" },
	{ IFACE PEER1 "Persistent Keepalive = 5\n", "wg0.conf:5: unknown key 'Persistent Keepalive' in [Peer]" },
	{ IFACE "[Peer]\nAllowedIPs = 10.0.0.2/32\n" PEER1, "wg0.conf:3: [Peer] has no PublicKey" },
	{ IFACE PEER1 "\n[Peer]\n# nothing\n", "wg0.conf:6: [Peer] has no PublicKey" },
	{ "ListenPort = 51820\n" IFACE,
	  "wg0.conf:1: key outside a section (put it under [Interface] or [Peer]): 'ListenPort'" },
	{ IFACE "PrivateKey = " PUB1 "\n", "wg0.conf:3: duplicate PrivateKey (first set at line 2)" },
	{ IFACE "ListenPort = 1\nListenPort = 2\n", "wg0.conf:4: duplicate ListenPort (first set at line 3)" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1:1\nEndpoint = 192.0.2.2:1\n",
	  "wg0.conf:6: duplicate Endpoint (first set at line 5)" },
	{ IFACE PEER1 "[Peer]\nPublicKey = " PUB2 "\n\n[Peer]\nPublicKey = " PUB1 "\n",
	  "wg0.conf:8: duplicate [Peer]: PublicKey already used by the [Peer] at line 3: '" PUB1 "'" },
	{ IFACE PEER1 "AllowedIPs = 198.18.0.0/24, 198.18.0.2/32\n[Peer]\nPublicKey = " PUB2
		      "\nAllowedIPs = 198.18.0.2/32\n",
	  "wg0.conf:6: AllowedIPs 198.18.0.2/32 is also in the [Peer] at line 3: a prefix routes to one peer only" },
	{ IFACE "[Peer]\nPublicKey = j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n", /* PRIV's own public key */
	  "wg0.conf:3: [Peer] PublicKey is this interface's own public key (the one of its PrivateKey): a peer cannot be the interface itself" },
	{ IFACE PEER1 "AllowedIPs = 2001:db8::/64\n[Peer]\nPublicKey = " PUB2 "\nAllowedIPs = 2001:db8::1/64\n",
	  "wg0.conf:6: AllowedIPs 2001:db8::/64 is also in the [Peer] at line 3: a prefix routes to one peer only" },
	{ "[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
	  "wg0.conf:2: invalid PrivateKey (not a 44-character base64 key)" },
	{ IFACE "[Peer]\nPublicKey = abc=\n", "wg0.conf:4: invalid PublicKey (not a 44-character base64 key)" },
	{ IFACE PEER1 "PresharedKey = paWlpaWlpaWl\n",
	  "wg0.conf:5: invalid PresharedKey (not a 44-character base64 key)" },
	{ "", "wg0.conf: no [Interface] section" },
	{ "# only a comment\n\n", "wg0.conf: no [Interface] section" },
	{ PEER1, "wg0.conf: no [Interface] section" },
	{ "[Interface]\nListenPort = 51820\n" PEER1, "wg0.conf:1: [Interface] has no PrivateKey" },
	{ IFACE "ListenPort = 65536\n", "wg0.conf:3: invalid ListenPort (expected 0..65535, 0 = any): '65536'" },
	{ IFACE "ListenPort = -1\n", "wg0.conf:3: invalid ListenPort (expected 0..65535, 0 = any): '-1'" },
	{ IFACE "MTU = 70000\n",
	  "wg0.conf:3: invalid MTU (expected 576..65535; 1280 or more with an IPv6 Address): '70000'" },
	{ IFACE "MTU = 500\n",
	  "wg0.conf:3: invalid MTU (expected 576..65535; 1280 or more with an IPv6 Address): '500'" },
	{ IFACE "MTU = 1000\nAddress = 10.0.0.1/24\nAddress = fd00::1/64\n",
	  "wg0.conf:3: MTU 1000 is too small for IPv6 Address 'fd00::1/64' (IPv6 needs 1280 or more)" },
	{ IFACE "Table = main\n",
	  "wg0.conf:3: invalid Table (expected off, auto or a table number 1..4294967295): 'main'" },
	{ IFACE "Table = 0\n", "wg0.conf:3: invalid Table (expected off, auto or a table number 1..4294967295): '0'" },
	{ IFACE "FwMark = 0xZZ\n",
	  "wg0.conf:3: invalid FwMark (expected off, a number or 0x followed by hex digits): '0xZZ'" },
	{ IFACE "FwMark = 0x100000000\n",
	  "wg0.conf:3: invalid FwMark (expected off, a number or 0x followed by hex digits): '0x100000000'" },
	{ IFACE "Address = 10.0.0.1/24, 10.0.0.1/33\n", "wg0.conf:3: invalid Address: '10.0.0.1/33'" },
	{ IFACE "DNS = 192.0.2.53, bad/name\n",
	  "wg0.conf:3: invalid DNS (expected IP addresses of name servers and search domains): 'bad/name'" },
	{ IFACE PEER1 "PersistentKeepalive = 65536\n",
	  "wg0.conf:5: invalid PersistentKeepalive (expected off or 0..65535 seconds): '65536'" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1\n",
	  "wg0.conf:5: invalid Endpoint (expected host:port or [IPv6]:port, port 1..65535): '192.0.2.1'" },
	{ IFACE PEER1 "Endpoint = 2001:db8::1:51820\n",
	  "wg0.conf:5: invalid Endpoint (expected host:port or [IPv6]:port, port 1..65535): '2001:db8::1:51820'" },
	{ IFACE PEER1 "Endpoint = host.example:0\n",
	  "wg0.conf:5: invalid Endpoint (expected host:port or [IPv6]:port, port 1..65535): 'host.example:0'" },
	{ IFACE PEER1 "Endpoint = [host.example]:1\n",
	  "wg0.conf:5: invalid Endpoint (brackets must hold an IPv6 address): '[host.example]:1'" },
	{ IFACE "AllowedIPs = 10.0.0.0/8\n", "wg0.conf:3: key 'AllowedIPs' belongs in [Peer], not in [Interface]" },
	{ IFACE PEER1 "ListenPort = 1\n", "wg0.conf:5: key 'ListenPort' belongs in [Interface], not in [Peer]" },
	{ "[Foo]\n", "wg0.conf:1: unknown section (expected [Interface] or [Peer]): 'Foo'" },
	{ IFACE "[Interface]\n", "wg0.conf:3: second [Interface] section (the first is at line 1)" },
	{ IFACE "[Peer\n", "wg0.conf:3: malformed section header (expected [Interface] or [Peer]): '[Peer'" },
	{ IFACE "[Peer] x\n", "wg0.conf:3: malformed section header (expected [Interface] or [Peer]): '[Peer] x'" },
	{ IFACE "ListenPort 51820\n", "wg0.conf:3: expected 'Key = Value' or a [Section]: 'ListenPort 51820'" },
	{ IFACE " = 5\n", "wg0.conf:3: missing key before '=': '5'" },
	{ IFACE "Foo\x01 = 1\n", "wg0.conf:3: unknown key 'Foo?' in [Interface]" },
	{ IFACE "Mode = tup\n", "wg0.conf:3: invalid Mode (expected tun or tap): 'tup'" },
	{ IFACE "Mode = tap\nMode = tun\n", "wg0.conf:4: duplicate Mode (first set at line 3)" },
	{ IFACE "Bridge = br0\n", "wg0.conf:3: Bridge needs Mode = tap (a TUN carries no Ethernet frames)" },
	{ IFACE "Mode = tap\nBridge = a-name-far-too-long\n",
	  "wg0.conf:4: invalid Bridge (expected an interface name of at most 15 characters): 'a-name-far-too-long'" },
	{ IFACE "Mode = tap\nReplyPing = yes\n",
	  "wg0.conf:1: ReplyPing needs Mode = tun (a TAP answers through the kernel)" },
	{ IFACE PEER1 "AllowedMACs = 02:00:5e:00:53:01\n",
	  "wg0.conf:3: [Peer] has AllowedMACs, which need Mode = tap in [Interface]" },
	{ IFACE "Mode = tap\n" PEER1 "AllowedMACs = 02:00:5e:00:53\n",
	  "wg0.conf:6: invalid AllowedMACs (expected addresses like 02:00:5e:00:53:01): '02:00:5e:00:53'" },
	{ IFACE "Mode = tap\n" PEER1 "AllowedMACs = 02:00:5e:00:53:01, ff:ff:ff:ff:ff:ff\n",
	  "wg0.conf:6: invalid AllowedMACs (a multicast or broadcast address is never a source): "
	  "'ff:ff:ff:ff:ff:ff'" },
	{ IFACE "Mode = tap\n" PEER1 "AllowedMACs = 02:00:5e:00:53:01\n[Peer]\nPublicKey = " PUB2
		"\nAllowedMACs = 02:00:5e:00:53:02, 02:00:5E:00:53:01\n",
	  "wg0.conf:7: AllowedMACs 02:00:5e:00:53:01 is also in the [Peer] at line 4: an address belongs to one peer "
	  "only" },
	{ IFACE "Mode = tap\nAllowedMACs = 02:00:5e:00:53:01\n",
	  "wg0.conf:4: key 'AllowedMACs' belongs in [Peer], not in [Interface]" },
};

static void test_bad_files(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct interface_config cfg;
		char err[512] = "";

		if (parse(&cfg, bad_cases[i].text, err, sizeof(err)))
			fail_msg("case %zu was accepted", i);
		if (strcmp(err, bad_cases[i].err))
			fail_msg("case %zu:\n got: %s\nwant: %s", i, err, bad_cases[i].err);
		/* A failed parse leaves nothing to free. */
		assert_int_equal(cfg.n_peers, 0);
		assert_null(cfg.peers);
		assert_null(cfg.addresses);
		assert_false(cfg.has_private_key);
	}
}

static void test_nul_and_long_lines(void **state)
{
	struct interface_config cfg;
	char err[256];
	static const char with_nul[] = "[Interface]\nPrivateKey = " PRIV "\nListen\0Port = 1\n";

	assert_false(config_parse(&cfg, "wg0.conf", with_nul, sizeof(with_nul) - 1, err, sizeof(err)));
	assert_string_equal(err, "wg0.conf:3: line contains a NUL byte (is this a text file?)");

	/* No fixed line length: a long comment, a long PostUp, a long list. */
	size_t n = 200000;
	char *text = malloc(n + 4096);
	assert_non_null(text);
	size_t o = (size_t)sprintf(text, "[Interface]\nPrivateKey = " PRIV "\n# ");
	memset(text + o, 'x', 100000);
	o += 100000;
	o += (size_t)sprintf(text + o, "\n[Peer]\nPublicKey = " PUB1 "\nAllowedIPs = 10.0.0.0/32");
	for (int i = 1; i < 2000; i++)
		o += (size_t)sprintf(text + o, ",10.%d.%d.0/24", i / 256, i % 256);
	text[o++] = '\n';
	assert_true(o < n + 4096);
	if (!config_parse(&cfg, "wg0.conf", text, o, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.peers[0].n_allowed_ips, 2000);
	assert_cidr(&cfg.peers[0].allowed_ips[1999], "10.7.207.0/24");
	config_free(&cfg);
	free(text);
}

static void test_many_peers(void **state)
{
	enum { N = 5000 };
	size_t cap = 120 + N * 100, o = 0;
	char *text = malloc(cap);
	struct interface_config cfg;
	char err[256];
	uint8_t key[KEY_LEN] = { 0 };
	char b64[KEY_B64_LEN + 1];

	assert_non_null(text);
	o += (size_t)snprintf(text + o, cap - o, "[Interface]\nPrivateKey = %s\n", PRIV);
	for (int i = 0; i < N; i++) {
		key[0] = (uint8_t)i;
		key[1] = (uint8_t)(i >> 8);
		key_to_base64(b64, key);
		o += (size_t)snprintf(text + o, cap - o, "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.1/32\n", b64,
				      i >> 8, i & 255);
	}
	if (!config_parse(&cfg, "wg0.conf", text, o, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.n_peers, N);
	assert_int_equal(cfg.peers[N - 1].line, 3 + 3 * (N - 1));
	config_free(&cfg);

	/* The same file with the last peer repeating the 4001st's key. */
	key[0] = (uint8_t)4000;
	key[1] = (uint8_t)(4000 >> 8);
	key_to_base64(b64, key);
	o += (size_t)snprintf(text + o, cap - o, "[Peer]\nPublicKey = %s\n", b64);
	assert_false(config_parse(&cfg, "wg0.conf", text, o, err, sizeof(err)));
	char want[256];
	snprintf(want, sizeof(want),
		 "wg0.conf:%d: duplicate [Peer]: PublicKey already used by the [Peer] at line %d: '%s'", 3 + 3 * N,
		 3 + 3 * 4000, b64);
	assert_string_equal(err, want);
	free(text);
}

/* Wherever a key goes wrong, its text must not reach the message. */
static void test_secrets_not_in_errors(void **state)
{
	static const char *const texts[] = {
		/* truncated private key */
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		/* a stray character */
		"[Interface]\nPrivateKey = " PRIV "x\n",
		/* pasted alone on a line: splits at its '=' into an unknown key */
		"[Interface]\n" PRIV "\n",
		/* ':' for '=' */
		"[Interface]\nPrivateKey: " PRIV "\n",
		/* no '=' at all */
		"[Interface]\nPrivateKey AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		/* under the wrong name */
		"[Interface]\nListenPort = " PRIV "\n",
		"[Interface]\nPrivateKey = " PUB1 "\n[Peer]\nEndpoint = " PRIV "\n",
		"[Interface]\nPrivateKey = " PUB1 "\n[Peer]\nPublicKey = " PRIV "x\n",
		"[Interface]\nPrivateKey = " PUB1 "\n[Peer]\nAllowedIPs = " PRIV "\n",
		"[Interface]\nPrivateKey = " PUB1 "\n[Peer]\nPublicKey = " PUB2 "\nPresharedKey = " PSK "?\n",
		"[Interface]\nPrivateKey = " PUB1 "\n[Peer]\nPublicKey = " PUB2 "\nPresharedKey = " PSK
		"\nPresharedKey = " PSK "\n",
		"[" PRIV "]\n",
		PRIV " = 1\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct interface_config cfg;
		char err[512] = "";

		if (parse(&cfg, texts[i], err, sizeof(err)))
			fail_msg("case %zu was accepted", i);
		assert_true(strncmp(err, "wg0.conf:", 9) == 0);
		if (strstr(err, "AAECAwQFBgcICQoLDA0O") || strstr(err, "paWlpaWlpaWlpaWl"))
			fail_msg("case %zu leaks a key: %s", i, err);
	}
}

/* ---- config_load: the file, its size and its mode ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-test-config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0); /* not subject to the umask */
	close(fd);
}

static void test_load_mode(void **state)
{
	static const char text[] = "[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n";
	struct interface_config cfg;
	char path[128], err[512], want[512];

	snprintf(path, sizeof(path), "%s/wg0.conf", tmpdir);

	write_file(path, text, sizeof(text) - 1, 0644);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s: contains a private key but is readable by others (mode 0644); fix with: chmod 600 %s", path,
		 path);
	assert_string_equal(err, want);
	assert_false(cfg.has_private_key);

	write_file(path, text, sizeof(text) - 1, 0640);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	assert_non_null(strstr(err, "(mode 0640); fix with: chmod 600 "));

	write_file(path, text, sizeof(text) - 1, 0600);
	if (!config_load(&cfg, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(cfg.has_private_key);
	assert_int_equal(cfg.listen_port, 51820);
	config_free(&cfg);

	write_file(path, text, sizeof(text) - 1, 0400);
	assert_true(config_load(&cfg, path, err, sizeof(err)));
	config_free(&cfg);

	/* Parse errors name the path and line, as config_parse does. */
	write_file(path, "[Interface]\nPrivateKey = " PRIV "\nMTU = 9\n",
		   strlen("[Interface]\nPrivateKey = " PRIV "\nMTU = 9\n"), 0600);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: invalid MTU (expected 576..65535; 1280 or more with an IPv6 Address): '9'",
		 path);
	assert_string_equal(err, want);
}

static void test_load_size_and_kind(void **state)
{
	struct interface_config cfg;
	char path[128], err[512], want[512];
	size_t big = CONFIG_FILE_MAX + 1;
	char *text = malloc(big);

	assert_non_null(text);
	/* A valid file padded with comment lines to just over 1 MiB. */
	memset(text, '#', big);
	const char head[] = "[Interface]\nPrivateKey = " PRIV "\n";
	memcpy(text, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1 + 70; i < big; i += 71)
		text[i] = '\n';
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	write_file(path, text, big, 0600);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: too large (%zu bytes; a configuration file is at most 1 MiB)", path, big);
	assert_string_equal(err, want);

	/* Exactly 1 MiB is fine. */
	write_file(path, text, CONFIG_FILE_MAX, 0600);
	if (!config_load(&cfg, path, err, sizeof(err)))
		fail_msg("%s", err);
	config_free(&cfg);
	free(text);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);

	assert_false(config_load(&cfg, tmpdir, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_string_equal(err, want);
}

/* `sluice up <(generate-config)`: a pipe, whose size shows only when read. */
static void test_load_pipe(void **state)
{
	static const char text[] = "[Interface]\nPrivateKey = " PRIV "\n" PEER1 "AllowedIPs = 10.0.0.0/8\n";
	struct interface_config cfg;
	char path[64], err[256];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	if (!config_load(&cfg, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.n_peers, 1);
	assert_int_equal(cfg.peers[0].n_allowed_ips, 1);
	config_free(&cfg);
	close(fds[0]);
}

/* A pipe says nothing of its size: the limit holds while reading. */
static void test_load_pipe_too_large(void **state)
{
	struct interface_config cfg;
	char path[64], err[256], want[256];
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char comment[4096];
		close(fds[0]);
		memset(comment, '#', sizeof(comment));
		comment[sizeof(comment) - 1] = '\n';
		for (size_t sent = 0; sent <= CONFIG_FILE_MAX; sent += sizeof(comment))
			if (write(fds[1], comment, sizeof(comment)) != (ssize_t)sizeof(comment))
				_exit(0); /* the reader stopped reading: fine */
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: too large (a configuration file is at most 1 MiB)", path);
	assert_string_equal(err, want);
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

static void test_resolve(void **state)
{
	struct interface_config cfg;
	char err[256];

	assert_true(parse(&cfg,
			  IFACE PEER1 "Endpoint = 192.0.2.7:1\n[Peer]\nPublicKey = " PUB2
				      "\nEndpoint = localhost:51820\n[Peer]\nPublicKey = " PUB3 "\n",
			  err, sizeof(err)));
	assert_int_equal(cfg.peers[1].endpoint.addr.sa.sa_family, AF_UNSPEC);
	if (!config_resolve(&cfg, "wg0.conf", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.peers[0].endpoint.addr.sa.sa_family, AF_INET);
	assert_true(cfg.peers[1].endpoint.addr.sa.sa_family == AF_INET ||
		    cfg.peers[1].endpoint.addr.sa.sa_family == AF_INET6);
	assert_int_equal(cfg.peers[2].endpoint.addr.sa.sa_family, AF_UNSPEC); /* none given */

	/* A failure names the line of the Endpoint and getaddrinfo's reason.
	 * This one fails without a DNS query, so the test needs no network. */
	free(cfg.peers[1].endpoint_str);
	cfg.peers[1].endpoint_str = strdup("[no-such-address]:1");
	assert_false(config_resolve(&cfg, "wg0.conf", err, sizeof(err)));
	char want[256];
	snprintf(want, sizeof(want), "wg0.conf:8: cannot resolve Endpoint '[no-such-address]:1': %s",
		 gai_strerror(EAI_NONAME));
	assert_string_equal(err, want);
	config_free(&cfg);
}

/* config_format writes what config_parse reads back to the same
 * configuration: every key, sluice's own (Transport, Cipher, tcp://) too. */
static void test_format_round_trip(void **state)
{
	static const char extra[] = "[Interface]\nPrivateKey = " PRIV
				    "\nTransport = udp,tcp\nReplyPing = yes\n"
				    "Table = off\nMTU = 1380\n" PEER1
				    "Cipher = aes-256-gcm\n"
				    "Endpoint = tcp://[2001:db8::7]:443\nPresharedKey = " PSK
				    "\n"
				    "[Peer]\nPublicKey = " PUB2
				    "\nCipher = chacha20-poly1305\nEndpoint = udp://192.0.2.9:1\n";
	static const char tap[] =
		"[Interface]\nPrivateKey = " PRIV "\nMode = TAP\nBridge = br0\n" PEER1
		"AllowedMACs = 02:00:5E:00:53:01\nAllowedMACs = 02-00-5e-00-53-02, 02:00:5e:00:53:03\n";
	const char *const files[] = { full_file, extra, tap };
	struct interface_config a, b;
	struct sbuf text;
	char err[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!parse(&a, files[i], err, sizeof(err)))
			fail_msg("%s", err);
		sbuf_init(&text, 0);
		assert_int_equal(config_format(&text, &a), 0);
		if (!config_parse(&b, "formatted", sbuf_ptr(&text), sbuf_len(&text), err, sizeof(err)))
			fail_msg("%s in:\n%.*s", err, (int)sbuf_len(&text), sbuf_ptr(&text));
		assert_true(config_equal(&a, &b));
		if (i == 1) {
			const char *t = sbuf_cstr(&text);
			assert_non_null(strstr(t, "\nTransport = udp,tcp\n"));
			assert_non_null(strstr(t, "\nReplyPing = true\n"));
			assert_non_null(strstr(t, "\nTable = off\n"));
			assert_non_null(strstr(t, "\nEndpoint = tcp://[2001:db8::7]:443\nCipher = aes-256-gcm\n"));
			assert_non_null(strstr(t, "\nEndpoint = 192.0.2.9:1\n")); /* udp:// is the default */
			assert_null(strstr(t, "chacha20"));                       /* the default is left out */
		}
		if (i == 2) {
			const char *t = sbuf_cstr(&text);
			assert_true(a.ethernet);
			assert_string_equal(a.bridge, "br0");
			assert_int_equal(a.peers[0].n_allowed_macs, 3);
			assert_int_equal(a.peers[0].allowed_macs[1].addr[5], 2);
			assert_non_null(strstr(t, "\nMode = tap\nBridge = br0\n"));
			assert_non_null(
				strstr(t, "\nAllowedMACs = 02:00:5e:00:53:01, 02:00:5e:00:53:02, 02:00:5e:00:53:03\n"));
			/* One address more or less is a change. */
			b.peers[0].n_allowed_macs--;
			assert_false(config_equal(&a, &b));
			b.peers[0].n_allowed_macs++;
			b.ethernet = false;
			assert_false(config_equal(&a, &b));
			b.ethernet = true;
		}
		/* A change is seen. */
		b.peers[0].persistent_keepalive ^= 1;
		b.peers[0].has_persistent_keepalive = true;
		assert_false(config_equal(&a, &b));
		config_free(&a);
		config_free(&b);
		sbuf_free(&text);
	}
}

/* config_load remembers the file by its absolute path, for SIGHUP; not a pipe. */
static void test_load_path(void **state)
{
	static const char text[] = "[Interface]\nPrivateKey = " PRIV "\n";
	struct interface_config cfg;
	char path[128], cwd[4096], err[256], *want;
	int fds[2];

	snprintf(path, sizeof(path), "%s/wg7.conf", tmpdir);
	write_file(path, text, sizeof(text) - 1, 0600);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	if (!config_load(&cfg, "wg7.conf", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(chdir(cwd), 0);
	want = realpath(path, NULL);
	assert_non_null(want);
	assert_non_null(cfg.path);
	assert_string_equal(cfg.path, want);
	free(want);
	config_free(&cfg);
	assert_null(cfg.path);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	assert_true(config_load(&cfg, path, err, sizeof(err)));
	assert_null(cfg.path);
	config_free(&cfg);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),  cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_bad_files),  cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_many_peers), cmocka_unit_test(test_secrets_not_in_errors),
		cmocka_unit_test(test_load_mode),  cmocka_unit_test(test_load_size_and_kind),
		cmocka_unit_test(test_load_pipe),  cmocka_unit_test(test_load_pipe_too_large),
		cmocka_unit_test(test_resolve),    cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_load_path),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
