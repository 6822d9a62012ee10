// SPDX-License-Identifier: MIT
/*
 * The quickstart and p2p subcommands, run in-process: the files quickstart
 * writes are read back with config_load (which also proves their mode), and
 * the arguments both commands refuse are refused before anything happens.
 * The 10.0.0.0/24 of quickstart's default only appears in text here; nothing
 * is configured on an interface.
 */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "crypto.h"
#include "encoding.h"
#include "uapi.h"

static char tmp[64];

static int setup(void **state)
{
	strcpy(tmp, "/tmp/sluice-unit-cmd.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	remove_tree(tmp);
	return 0;
}

#define RUN(fn, ...)                                                    \
	({                                                              \
		char *argv_[] = { __VA_ARGS__, NULL };                  \
		fn((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_); \
	})

static const char *path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void load(struct interface_config *cfg, const char *dir, const char *name)
{
	char path[256], err[512];
	struct stat st;

	path_in(path, sizeof(path), dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (!config_load(cfg, path, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
	assert_int_equal(cfg->n_unsupported_keys, 0);
}

static void assert_cidr(const struct cidr *c, const char *want)
{
	char buf[CIDR_STR_MAX];
	cidr_format(buf, c);
	assert_string_equal(buf, want);
}

static void public_of(uint8_t pub[KEY_LEN], const uint8_t priv[KEY_LEN])
{
	assert_true(crypto_x25519_public(pub, priv));
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_quickstart_defaults(void **state)
{
	struct interface_config srv, cli;
	uint8_t pub[KEY_LEN];
	char dir[128];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/defaults", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--endpoint", "192.0.2.1", dir), EXIT_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(count_entries(dir), 2);

	load(&srv, dir, "server.conf");
	load(&cli, dir, "client1.conf");
	/* The original system's layout: 10.0.0.1 serves 10.0.0.2 on port 55555. */
	assert_true(srv.has_listen_port);
	assert_int_equal(srv.listen_port, 55555);
	assert_int_equal(srv.n_addresses, 1);
	assert_cidr(&srv.addresses[0], "10.0.0.1/24");
	assert_int_equal(srv.transports, 0);
	assert_int_equal(srv.n_peers, 1);
	assert_int_equal(srv.peers[0].n_allowed_ips, 1);
	assert_cidr(&srv.peers[0].allowed_ips[0], "10.0.0.2/32");
	assert_true(srv.peers[0].has_preshared_key);
	assert_false(srv.peers[0].has_suite);
	assert_null(srv.peers[0].endpoint_str);

	assert_false(cli.has_listen_port);
	assert_int_equal(cli.n_addresses, 1);
	assert_cidr(&cli.addresses[0], "10.0.0.2/24");
	assert_int_equal(cli.n_peers, 1);
	assert_cidr(&cli.peers[0].allowed_ips[0], "10.0.0.0/24");
	assert_string_equal(cli.peers[0].endpoint_str, "192.0.2.1:55555");
	assert_int_equal(cli.peers[0].endpoint_transport, TRANSPORT_UDP);
	assert_true(cli.peers[0].has_persistent_keepalive);
	assert_int_equal(cli.peers[0].persistent_keepalive, 25);
	assert_false(cli.peers[0].has_suite);

	/* The keys pair up, and both sides hold the same preshared key. */
	public_of(pub, srv.private_key);
	assert_memory_equal(cli.peers[0].public_key, pub, KEY_LEN);
	public_of(pub, cli.private_key);
	assert_memory_equal(srv.peers[0].public_key, pub, KEY_LEN);
	assert_true(cli.peers[0].has_preshared_key);
	assert_memory_equal(cli.peers[0].preshared_key, srv.peers[0].preshared_key, KEY_LEN);
	assert_memory_not_equal(srv.private_key, cli.private_key, KEY_LEN);

	config_free(&srv);
	config_free(&cli);
}

static void test_quickstart_options(void **state)
{
	struct interface_config srv, cli[3];
	uint8_t pub[KEY_LEN];
	char dir[128], name[32];

	snprintf(dir, sizeof(dir), "%s/options", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--tcp", "--cipher", "aes-256-gcm", "--clients", "3",
			     "--subnet", "2001:db8:77::/64", "--subnet", "198.18.4.0/22", "--endpoint",
			     "[2001:db8::1]:4000", dir),
			 EXIT_OK);
	assert_int_equal(count_entries(dir), 4);
	load(&srv, dir, "server.conf");
	assert_int_equal(srv.transports, TRANSPORT_TCP);
	assert_int_equal(srv.listen_port, 4000);
	assert_int_equal(srv.n_addresses, 2);
	assert_cidr(&srv.addresses[0], "2001:db8:77::1/64");
	assert_cidr(&srv.addresses[1], "198.18.4.1/22");
	assert_int_equal(srv.n_peers, 3);
	for (int i = 0; i < 3; i++) {
		char want6[64], want4[64];
		snprintf(name, sizeof(name), "client%d.conf", i + 1);
		load(&cli[i], dir, name);
		snprintf(want6, sizeof(want6), "2001:db8:77::%d/128", i + 2);
		snprintf(want4, sizeof(want4), "198.18.4.%d/32", i + 2);
		assert_int_equal(srv.peers[i].n_allowed_ips, 2);
		assert_cidr(&srv.peers[i].allowed_ips[0], want6);
		assert_cidr(&srv.peers[i].allowed_ips[1], want4);
		assert_true(srv.peers[i].has_suite);
		assert_int_equal(srv.peers[i].suite, SUITE_AESGCM);
		public_of(pub, cli[i].private_key);
		assert_memory_equal(srv.peers[i].public_key, pub, KEY_LEN);
		assert_memory_equal(srv.peers[i].preshared_key, cli[i].peers[0].preshared_key, KEY_LEN);

		snprintf(want6, sizeof(want6), "2001:db8:77::%d/64", i + 2);
		snprintf(want4, sizeof(want4), "198.18.4.%d/22", i + 2);
		assert_cidr(&cli[i].addresses[0], want6);
		assert_cidr(&cli[i].addresses[1], want4);
		assert_int_equal(cli[i].peers[0].n_allowed_ips, 2);
		assert_cidr(&cli[i].peers[0].allowed_ips[0], "2001:db8:77::/64");
		assert_cidr(&cli[i].peers[0].allowed_ips[1], "198.18.4.0/22");
		assert_string_equal(cli[i].peers[0].endpoint_str, "[2001:db8::1]:4000");
		assert_int_equal(cli[i].peers[0].endpoint_transport, TRANSPORT_TCP);
		assert_int_equal(cli[i].peers[0].suite, SUITE_AESGCM);
		assert_int_equal(cli[i].transports, 0);
	}
	/* Every client has its own preshared key. */
	assert_memory_not_equal(srv.peers[0].preshared_key, srv.peers[1].preshared_key, KEY_LEN);
	assert_memory_not_equal(srv.peers[1].preshared_key, srv.peers[2].preshared_key, KEY_LEN);
	config_free(&srv);
	for (int i = 0; i < 3; i++)
		config_free(&cli[i]);
}

/* Host addresses carry across byte boundaries, and a name is kept as given. */
static void test_quickstart_addresses(void **state)
{
	struct interface_config cli;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/carry", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--clients", "300", "--subnet", "198.18.0.0/23",
			     "--endpoint", "vpn.example.com:443", dir),
			 EXIT_OK);
	assert_int_equal(count_entries(dir), 301);
	load(&cli, dir, "client300.conf");
	assert_cidr(&cli.addresses[0], "198.18.1.45/23"); /* 198.18.0.0 + 301 */
	assert_string_equal(cli.peers[0].endpoint_str, "vpn.example.com:443");
	config_free(&cli);

	/* A /30 holds exactly one client, a /126 two. */
	snprintf(dir, sizeof(dir), "%s/small4", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--subnet", "198.18.0.4/30", "--endpoint", "192.0.2.1", dir),
			 EXIT_OK);
	snprintf(dir, sizeof(dir), "%s/small6", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--clients", "2", "--subnet", "2001:db8::/126", "--endpoint",
			     "2001:db8::1", dir),
			 EXIT_OK);
	load(&cli, dir, "client2.conf");
	assert_cidr(&cli.addresses[0], "2001:db8::3/126");
	assert_string_equal(cli.peers[0].endpoint_str, "[2001:db8::1]:55555");
	config_free(&cli);
}

static char *read_text(const char *dir, const char *name)
{
	char path[256];
	struct stat st;
	int fd = open(path_in(path, sizeof(path), dir, name), O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	char *text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	return text;
}

/* --add-client and --revoke in a directory quickstart wrote: the layout is
 * read back from server.conf, the lowest free address is taken (a revoked
 * client's), the keys pair up, and a revoke undoes an add byte for byte. */
static void test_quickstart_add_revoke(void **state)
{
	struct interface_config srv, cli;
	uint8_t pub[KEY_LEN];
	char dir[128], path[256];

	/* No running server may be found: the control sockets of this test
	 * live in a directory of its own. */
	setenv(UAPI_DIR_ENV, tmp, 1);
	snprintf(dir, sizeof(dir), "%s/add", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--clients", "3", "--subnet", "198.18.0.0/24", "--subnet",
			     "2001:db8:5::/64", "--endpoint", "vpn.example.com:443", "--tcp", "--cipher", "aes-256-gcm",
			     dir),
			 EXIT_OK);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--revoke", "client2", dir), EXIT_OK);
	assert_int_equal(access(path_in(path, sizeof(path), dir, "client2.conf"), F_OK), -1);
	load(&srv, dir, "server.conf");
	assert_int_equal(srv.n_peers, 2);
	assert_cidr(&srv.peers[0].allowed_ips[0], "198.18.0.2/32");
	assert_cidr(&srv.peers[1].allowed_ips[0], "198.18.0.4/32");
	config_free(&srv);
	char *before = read_text(dir, "server.conf");

	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--add-client", "laptop", "--dns", "192.0.2.53", dir),
			 EXIT_OK);
	load(&srv, dir, "server.conf");
	load(&cli, dir, "laptop.conf");
	assert_int_equal(srv.n_peers, 3);
	/* client2's addresses, free again, in both families */
	assert_cidr(&cli.addresses[0], "198.18.0.3/24");
	assert_cidr(&cli.addresses[1], "2001:db8:5::3/64");
	assert_cidr(&srv.peers[2].allowed_ips[0], "198.18.0.3/32");
	assert_cidr(&srv.peers[2].allowed_ips[1], "2001:db8:5::3/128");
	/* the transport, cipher and endpoint of the first run */
	assert_string_equal(cli.peers[0].endpoint_str, "vpn.example.com:443");
	assert_int_equal(cli.peers[0].endpoint_transport, TRANSPORT_TCP);
	assert_true(cli.peers[0].has_suite && srv.peers[2].has_suite);
	assert_int_equal(cli.dns_servers.n, 1);
	public_of(pub, srv.private_key);
	assert_memory_equal(cli.peers[0].public_key, pub, KEY_LEN);
	public_of(pub, cli.private_key);
	assert_memory_equal(srv.peers[2].public_key, pub, KEY_LEN);
	assert_memory_equal(cli.peers[0].preshared_key, srv.peers[2].preshared_key, KEY_LEN);
	config_free(&srv);
	config_free(&cli);

	/* Refused: a name taken, a bad name, a layout option, an unknown client. */
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--add-client", "laptop", dir), EXIT_RUNTIME);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--add-client", "a/b", dir), EXIT_USAGE);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--add-client", "x", "--clients", "2", dir), EXIT_USAGE);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--revoke", "nobody", dir), EXIT_RUNTIME);

	/* Revoking what was just added gives back the file as it was. */
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--revoke", "laptop", dir), EXIT_OK);
	char *after = read_text(dir, "server.conf");
	assert_string_equal(after, before);
	free(before);
	free(after);
	unsetenv(UAPI_DIR_ENV);
}

static void test_quickstart_no_overwrite(void **state)
{
	char dir[128], path[256], buf[16];
	int fd;

	snprintf(dir, sizeof(dir), "%s/exists", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	fd = open(path_in(path, sizeof(path), dir, "client2.conf"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "mine\n", 5), 5);
	close(fd);

	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--clients", "3", "--endpoint", "192.0.2.1", dir),
			 EXIT_RUNTIME);
	/* Nothing written, the existing file intact, the directory kept. */
	assert_int_equal(count_entries(dir), 1);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	assert_memory_equal(buf, "mine\n", 5);

	/* A second run into a complete DIR refuses as well. */
	snprintf(dir, sizeof(dir), "%s/again", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--endpoint", "192.0.2.1", dir), EXIT_OK);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--endpoint", "192.0.2.1", dir), EXIT_RUNTIME);
	assert_int_equal(count_entries(dir), 2);

	/* DIR's parent must exist; a created DIR is removed again on failure. */
	snprintf(dir, sizeof(dir), "%s/no/such", tmp);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--endpoint", "192.0.2.1", dir), EXIT_RUNTIME);
}

static void test_quickstart_refuses(void **state)
{
	static const char *const bad[][8] = {
		{ "DIR" },                     /* no --endpoint */
		{ "--endpoint", "192.0.2.1" }, /* no DIR */
		{ "--endpoint", "192.0.2.1", "DIR", "DIR2" },
		{ "--endpoint", "", "DIR" },
		{ "--endpoint", "a b", "DIR" },
		{ "--endpoint", "host:0", "DIR" },
		{ "--endpoint", "host:65536", "DIR" },
		{ "--endpoint", "host:", "DIR" },
		{ "--endpoint", "host:+1", "DIR" },
		{ "--endpoint", "[2001:db8::1", "DIR" },
		{ "--endpoint", "[192.0.2.1]:5", "DIR" },
		{ "--endpoint", "2001:db8::g", "DIR" },
		{ "--endpoint", "tcp://host:5", "DIR" },
		{ "--endpoint", "h", "--clients", "0", "DIR" },
		{ "--endpoint", "h", "--clients", "1001", "DIR" },
		{ "--endpoint", "h", "--clients", "two", "DIR" },
		{ "--endpoint", "h", "--clients", "-1", "DIR" },
		{ "--endpoint", "h", "--subnet", "10.0.0.1/24", "DIR" }, /* host bits */
		{ "--endpoint", "h", "--subnet", "198.18.0.0", "DIR" },  /* no prefix */
		{ "--endpoint", "h", "--subnet", "198.18.0.0/31", "DIR" },
		{ "--endpoint", "h", "--subnet", "2001:db8::/127", "DIR" },
		{ "--endpoint", "h", "--subnet", "198.18.0.0/29", "--clients", "6", "DIR" }, /* room for 5 */
		{ "--endpoint", "h", "--subnet", "198.18.0.0/24", "--subnet", "198.19.0.0/24", "DIR" },
		{ "--endpoint", "h", "--cipher", "des", "DIR" },
		{ "--endpoint", "h", "--frobnicate", "DIR" },
	};
	char dir[128], *argv[10];

	snprintf(dir, sizeof(dir), "%s/refused", tmp);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0;
		argv[argc++] = (char *)"quickstart";
		for (int j = 0; j < 8 && bad[i][j]; j++)
			argv[argc++] = !strcmp(bad[i][j], "DIR") ? dir : (char *)bad[i][j];
		argv[argc] = NULL;
		int rc = cmd_quickstart(argc, argv);
		if (rc != EXIT_USAGE) {
			print_error("case %zu (%s ...) returned %d\n", i, bad[i][0], rc);
			fail();
		}
		assert_int_equal(access(dir, F_OK), -1);
	}
	/* The limits themselves are fine. */
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--endpoint", "h", "--subnet", "198.18.0.0/29", "--clients",
			     "5", dir),
			 EXIT_OK);
	assert_int_equal(RUN(cmd_quickstart, "quickstart", "--help"), EXIT_OK);
}

/* A key file of the given mode holding text. */
static void key_file(char *path, size_t len, const char *name, mode_t mode, const char *text)
{
	int fd;

	path_in(path, len, tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_p2p_refuses(void **state)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN], other[KEY_LEN];
	char priv64[KEY_B64_LEN + 2], pub64[KEY_B64_LEN + 1], other64[KEY_B64_LEN + 1];
	char good[256], open_key[256], junk[256];

	assert_true(crypto_x25519_keygen(priv));
	assert_true(crypto_x25519_public(pub, priv));
	assert_true(crypto_x25519_keygen(other));
	assert_true(crypto_x25519_public(other, other));
	key_to_base64(priv64, priv);
	strcat(priv64, "\n");
	key_to_base64(pub64, pub);
	key_to_base64(other64, other);
	key_file(good, sizeof(good), "good.key", 0600, priv64);
	key_file(open_key, sizeof(open_key), "open.key", 0644, priv64);
	key_file(junk, sizeof(junk), "junk.key", 0600, "not a key\n");

	assert_int_equal(RUN(cmd_p2p, "p2p", "--help"), EXIT_OK);
	/* Usage errors, found before any file is read or interface made. */
	assert_int_equal(RUN(cmd_p2p, "p2p", "--peer", other64, "198.18.0.1", "198.18.0.2"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "198.18.0.1", "198.18.0.2"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "198.18.0.1"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", "xyz", "198.18.0.1", "198.18.0.2"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "198.18.0.300", "198.18.0.2"),
			 EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "198.18.0.1", "198.18.0.2/33"),
			 EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "198.18.0.1", ","), EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--listen-port", "65536", "198.18.0.1",
			     "198.18.0.2"),
			 EXIT_USAGE);
	assert_int_equal(
		RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--cipher", "rc4", "198.18.0.1", "198.18.0.2"),
		EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--endpoint", "192.0.2.2", "198.18.0.1",
			     "198.18.0.2"),
			 EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--tcp", "--endpoint",
			     "udp://192.0.2.2:1", "198.18.0.1", "198.18.0.2"),
			 EXIT_USAGE);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--name", "a-name-far-too-long",
			     "198.18.0.1", "198.18.0.2"),
			 EXIT_USAGE);
	/* The mirror line with the keys crossed the wrong way. */
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", good, "--peer", pub64, "198.18.0.1", "198.18.0.2"), EXIT_USAGE);
	/* Key files: missing, readable by others, not a key. */
	assert_int_equal(
		RUN(cmd_p2p, "p2p", "--key", "/nonexistent/key", "--peer", other64, "198.18.0.1", "198.18.0.2"),
		EXIT_RUNTIME);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", open_key, "--peer", other64, "198.18.0.1", "198.18.0.2"),
			 EXIT_RUNTIME);
	assert_int_equal(RUN(cmd_p2p, "p2p", "--key", junk, "--peer", other64, "198.18.0.1", "198.18.0.2"),
			 EXIT_RUNTIME);
	assert_int_equal(
		RUN(cmd_p2p, "p2p", "--key", good, "--peer", other64, "--psk", junk, "198.18.0.1", "198.18.0.2"),
		EXIT_RUNTIME);
	crypto_wipe(priv, sizeof(priv));
	crypto_wipe(priv64, sizeof(priv64));
}

/* main's reading of a first argument that is no command: wireguard-go's
 * `sluice IFACE` for a name, "not a command" for the rest. */
static void test_classify_word(void **state)
{
	static const char *const commands[] = { "up",         "down", "show",   "showconf", "syncconf",
						"quickstart", "p2p",  "genkey", "genpsk",   "pubkey" };
	const size_t n = sizeof(commands) / sizeof(commands[0]);
	const char *nearest;

	assert_int_equal(cmd_classify_word("show", commands, n, &nearest), CMD_WORD_COMMAND);
	assert_null(nearest);
	static const char *const names[] = { "wg0", "wg-vpn", "p2p0", "up0", "tun.x", "abcdefghijklmno", "shower" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(cmd_classify_word(names[i], commands, n, &nearest), CMD_WORD_IFACE);
		assert_null(nearest);
	}
	/* One typo from a command of four letters or more. */
	static const struct {
		const char *word, *nearest;
	} typos[] = { { "shwo", "show" }, { "sho", "show" },       { "genky", "genkey" },
		      { "dwon", "down" }, { "pubkeys", "pubkey" }, { "quickstrat", "quickstart" } };
	for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
		assert_int_equal(cmd_classify_word(typos[i].word, commands, n, &nearest), CMD_WORD_UNKNOWN);
		assert_non_null(nearest);
		assert_string_equal(nearest, typos[i].nearest);
	}
	/* Verbs of other tools, with what to type instead. */
	static const struct {
		const char *word, *instead;
	} verbs[] = { { "status", "show" },
		      { "stop", "down" },
		      { "start", "up" },
		      { "list", "show" },
		      { "reload", "sluice syncconf IFACE" },
		      { "setconf", "wg setconf IFACE FILE" },
		      { "keygen", "genkey" },
		      { "dump", "show" } };
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		assert_int_equal(cmd_classify_word(verbs[i].word, commands, n, &nearest), CMD_WORD_UNKNOWN);
		assert_non_null(nearest);
		assert_string_equal(nearest, verbs[i].instead);
	}
	/* Not a name Linux takes, or an option. */
	static const char *const junk[] = { "a/b", "a:b", "a b", "", ".", "..", "abcdefghijklmnop", "-x", "--bogus" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(cmd_classify_word(junk[i], commands, n, &nearest), CMD_WORD_UNKNOWN);
		assert_null(nearest);
	}
}

static void test_iface_refuses(void **state)
{
	/* Nothing is created: each is refused before the daemon starts. */
	assert_int_equal(RUN(cmd_iface, "sluice", "-f", "a/b"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_iface, "sluice", "-f"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_iface, "sluice", "-f", "wg0", "wg1"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_iface, "sluice", "--bogus", "wg0"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_iface, "sluice", "abcdefghijklmnop"), EXIT_USAGE);
	assert_int_equal(RUN(cmd_iface, "sluice", "--help"), EXIT_OK);
}

/* `sluice up NAME`: NAME.conf along the search path, first match wins; a
 * path or a .conf name is taken as it is. */
static void test_config_path(void **state)
{
	char dir[] = "/tmp/sluice-cfgpath.XXXXXX", path[512], want[512], env[1100];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/b", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/b/wg7.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(env, sizeof(env), "%s/none:%s/a:%s/b", dir, dir, dir);
	setenv(CONFIG_PATH_ENV, env, 1);

	assert_int_equal(cmd_config_path(path, sizeof(path), "wg7"), 0);
	snprintf(want, sizeof(want), "%s/b/wg7.conf", dir);
	assert_string_equal(path, want);
	assert_int_equal(cmd_config_path(path, sizeof(path), "wg8"), -ENOENT);
	assert_int_equal(cmd_config_path(path, sizeof(path), "./wg8"), 0);
	assert_string_equal(path, "./wg8");
	assert_int_equal(cmd_config_path(path, sizeof(path), "wg8.conf"), 0);
	assert_string_equal(path, "wg8.conf");
	assert_int_equal(cmd_config_path(path, 4, "wg8.conf"), -ENAMETOOLONG);

	unsetenv(CONFIG_PATH_ENV);
	snprintf(path, sizeof(path), "%s/b/wg7.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/b", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quickstart_defaults),  cmocka_unit_test(test_quickstart_options),
		cmocka_unit_test(test_quickstart_addresses), cmocka_unit_test(test_quickstart_no_overwrite),
		cmocka_unit_test(test_quickstart_refuses),   cmocka_unit_test(test_p2p_refuses),
		cmocka_unit_test(test_classify_word),        cmocka_unit_test(test_iface_refuses),
		cmocka_unit_test(test_config_path),          cmocka_unit_test(test_quickstart_add_revoke),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
