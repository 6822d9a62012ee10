// SPDX-License-Identifier: MIT
/*
 * The UAPI: parsing set requests (every key, every way to get one wrong),
 * then the real socket in a temporary directory ($SLUICE_UAPI_DIR): modes,
 * stale and live sockets, get and set round trips through the client, the
 * exact bytes on the wire, and the time bound on a silent client.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "uapi.h"

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

static const char full_request[] =
	"private_key=" HEX_PRIV "\n"
	"listen_port=51820\n"
	"fwmark=4294967295\n"
	"replace_peers=true\n"
	"public_key=" HEX_PUB1 "\n"
	"preshared_key=" HEX_PSK "\n"
	"endpoint=192.0.2.1:51820\n"
	"persistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=10.0.0.9/24\n"
	"allowed_ip=fd00::/64\n"
	"protocol_version=1\n"
	"public_key=" HEX_PUB2 "\n"
	"endpoint=[2001:db8::1]:443\n"
	"update_only=true\n"
	"public_key=" HEX_PUB3 "\n"
	"remove=true\n"
	"\n";

static void test_parse_all_keys(void **state)
{
	struct interface_config cfg;
	uint8_t want[32];

	assert_int_equal(parse(&cfg, full_request), 0);
	for (int i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, want, 32);
	assert_true(cfg.has_listen_port);
	assert_int_equal(cfg.listen_port, 51820);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0xffffffffu);
	assert_true(cfg.replace_peers);
	assert_int_equal(cfg.n_peers, 3);

	struct peer_config *p = &cfg.peers[0];
	memset(want, 0x11, 32);
	assert_memory_equal(p->public_key, want, 32);
	assert_int_equal(p->line, 5);
	assert_true(p->has_preshared_key);
	memset(want, 0xa5, 32);
	assert_memory_equal(p->preshared_key, want, 32);
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
	uint8_t zero[32] = { 0 };

	/* All zeros: "remove the private key" / "no preshared key". */
	assert_int_equal(parse(&cfg, "private_key=" HEX_ZERO "\npublic_key=" HEX_PUB1 "\npreshared_key=" HEX_ZERO "\n"), 0);
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, zero, 32);
	assert_true(cfg.peers[0].has_preshared_key);
	assert_memory_equal(cfg.peers[0].preshared_key, zero, 32);
	config_free(&cfg);

	assert_int_equal(parse(&cfg, "listen_port=0\nfwmark=0\npublic_key=" HEX_PUB1 "\npersistent_keepalive_interval=0\n"), 0);
	assert_true(cfg.has_listen_port);
	assert_true(cfg.has_fwmark);
	assert_int_equal(cfg.fwmark, 0);
	assert_true(cfg.peers[0].has_persistent_keepalive);
	config_free(&cfg);
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
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
		{ "public_key=" HEX_PUB1 "\nlisten_port=1\n", EINVAL },  /* a device key after a peer's */
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
		{ "listen_port=1\nendpoint=" "[fe80::1111:2222:3333:4444%0123456789012345678901234567890123456789"
		  "0123456789012345678901234567890123456789012345678901234567890123456789]:1\n", EINVAL },
		/* not key=value at all: a protocol error */
		{ "listen_port\n", EPROTO },
		{ "public_key=" HEX_PUB1 "\nremove\n", EPROTO },
		/* nothing may follow the empty line */
		{ "listen_port=1\n\nlisten_port=2\n", EPROTO },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct interface_config cfg;
		int e = parse(&cfg, cases[i].text);
		if (e != cases[i].err)
			fail_msg("case %zu: got %d, want %d: %s", i, e, cases[i].err, cases[i].text);
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

struct fake_daemon {
	pthread_mutex_t lock;
	int listen_fd;
	atomic_bool stop;
	pthread_t thread;
	/* what set saw */
	int set_calls;
	int set_result; /* positive errno to return */
	bool has_listen_port;
	uint16_t listen_port;
	size_t n_peers;
	size_t n_allowed_ips;
	bool removed;
};

static void fake_get(void *ctx, FILE *out)
{
	fprintf(out, "listen_port=1\n");
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

static void *fake_daemon_run(void *arg)
{
	struct fake_daemon *d = arg;
	struct uapi_ops ops = { .ctx = d, .get = fake_get, .set = fake_set };

	while (!atomic_load(&d->stop)) {
		struct pollfd pfd = { .fd = d->listen_fd, .events = POLLIN };
		if (poll(&pfd, 1, 50) > 0)
			uapi_accept(d->listen_fd, &ops);
	}
	return NULL;
}

static void fake_daemon_start(struct fake_daemon *d, const char *ifname)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->listen_fd = uapi_listen(ifname);
	if (d->listen_fd < 0)
		fail_msg("uapi_listen: %s", strerror(-d->listen_fd));
	assert_int_equal(pthread_create(&d->thread, NULL, fake_daemon_run, d), 0);
}

static void fake_daemon_stop(struct fake_daemon *d, const char *ifname)
{
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
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
	assert_string_equal(raw_exchange("wgt4", "get=1\n\nset=1\nlisten_port=2\n\nset=1\nlisten_port=x\n\nget=1\n\n", true),
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

static void test_slow_client_bounded(void **state)
{
	struct uapi_ops ops = { .get = fake_get, .set = fake_set };
	struct timespec t0;
	int fd = uapi_listen("wgt5");
	int silent, late;

	assert_true(fd >= 0);
	/* One client that never speaks, one that speaks half a request. */
	silent = uapi_connect("wgt5");
	late = uapi_connect("wgt5");
	assert_true(silent >= 0 && late >= 0);
	assert_int_equal(send(late, "get=", 4, 0), 4);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	uapi_accept(fd, &ops);
	double took = seconds_since(&t0);
	assert_true(took >= 0.9);
	assert_true(took < 1.5);

	/* The silent one was hung up on. */
	char c;
	assert_int_equal(recv(silent, &c, 1, 0), 0);
	close(silent);
	close(late);

	/* With nobody waiting, accept returns at once. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uapi_accept(fd, &ops);
	assert_true(seconds_since(&t0) < 0.2);
	uapi_close(fd, "wgt5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all_keys),
		cmocka_unit_test(test_parse_zero_keys),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_listen_modes_and_paths),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_socket_identity),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_client_round_trip),
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_slow_client_bounded),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
