// SPDX-License-Identifier: MIT
/*
 * fwdbare: the floor under sluice's data path, for `make bench` (the
 * "ceiling" rows of tests/bench/bench.sh). A bare TUN <-> UDP forwarder
 * made of sluice's own data-path parts with no engine: the TUN opened with
 * the offloads as the daemon opens it (tun_open_offload; super-packets cut
 * by tun_vnet_read_turn, writes coalesced by tun_vnet_write), the UDP
 * socket as the daemon's (udp_open; GSO sends and GRO reads,
 * udp_gro_deliver), buffers from a pool of the daemon's sizes, the
 * daemon's AEAD contexts, its batch size (64, CORE_BATCH) and reads per
 * turn, one thread, one epoll loop and, as the daemon has it, the sandbox
 * (seccomp, mlockall; SLUICE_NO_SANDBOX=1 skips it).
 *
 * Each packet read from the TUN is sealed in place into a WireGuard data
 * message by the engine's own function (datamsg_seal: padding to 16 within
 * the MTU, type 4, the receiver index, a 64-bit counter, the suite byte set
 * for AES-256-GCM as sluice does) and sent to the one peer; each data
 * message received with our index is opened, cut to its IP packet's
 * length, and written to the TUN.
 * What it leaves out is the engine: no handshake, peers, sessions, timers,
 * replay window, allowed-IPs lookup, per-peer counters or endpoint roaming
 * (it only takes, once, the local address the peer's first datagram
 * arrived at, so that its replies carry the sticky source as the daemon's
 * do). So: NOT a VPN. One fixed key serves both directions and each side
 * counts from 0, so the two directions reuse nonces, and nothing is
 * checked for replay. A measuring tool for namespaces of a test, never for
 * traffic that matters.
 *
 *   fwdbare --tun NAME --listen PORT --peer IP:PORT --key HEX64
 *           --cipher chacha20-poly1305|aes-256-gcm [--index N] [--mtu N]
 *
 * The TUN is created (or attached to) by name; addresses, MTU and link
 * state are the caller's (ip). On SIGTERM or SIGINT it prints one line of
 * counts (key=value) on stderr and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <endian.h>

#include "core.h"
#include "crypto.h"
#include "datamsg.h"
#include "device_io.h"
#include "encoding.h"
#include "messages.h"
#include "netaddr.h"
#include "pool.h"
#include "sandbox.h"
#include "tun.h"
#include "udp.h"

/* The daemon's sizes, from where the daemon takes them: its batch
 * (core.h), its pool and reads per turn (device_io.h), and its buffers'
 * room (datamsg.h, as core_init sizes them). */
#define BATCH CORE_BATCH
#define POOL_BUFFERS DEVICE_POOL_BUFFERS
#define NORMAL_ROOM datamsg_room(1500, MESSAGE_PADDING_MULTIPLE + 64)
#define LARGE_ROOM (datamsg_room(MAX_MTU, 0) + PKT_TAILROOM)

static const char usage[] =
	"usage: fwdbare --tun NAME --listen PORT --peer IP:PORT --key HEX64\n"
	"               --cipher chacha20-poly1305|aes-256-gcm [--index N] [--mtu N]\n"
	"\n"
	"A bare TUN <-> UDP forwarder made of sluice's data-path parts (offloaded\n"
	"TUN, GSO/GRO socket, packet pool, AEAD) with no engine: what the same\n"
	"pipeline costs without one (make bench's ceiling rows). Not a VPN: one\n"
	"fixed key both ways, no handshake, no replay check.\n"
	"\n"
	"  --tun NAME       the TUN to create or attach to (address, MTU, up: ip's)\n"
	"  --listen PORT    the UDP port to bind (1-65535)\n"
	"  --peer IP:PORT   where data messages go (192.0.2.2:51820, [2001:db8::2]:51820)\n"
	"  --key HEX64      the key, 64 hex digits, the same on both sides (seen by\n"
	"                   anyone who lists processes: a throwaway key for a benchmark)\n"
	"  --cipher C       chacha20-poly1305 or aes-256-gcm, the same on both sides\n"
	"  --index N        the receiver index sent and accepted (default 1)\n"
	"  --mtu N          the TUN's MTU, which padding does not pass (default 1420)\n"
	"\n"
	"SIGTERM/SIGINT: prints the counts (key=value, one line) and exits 0.\n"
	"Exit codes: 0 stopped by a signal, 1 failed, 2 bad arguments.\n";

struct fwd {
	int tun_fd, udp_fd, epoll_fd, signal_fd;
	struct tun_vnet vnet;
	bool vnet_ready;
	struct udp_offloads udp_off;
	struct pool pool;
	bool pool_ready;
	struct crypto_aead_ctx send, recv;
	enum cipher_suite suite;
	struct endpoint peer;
	bool peer_src_known;
	uint32_t index, mtu;
	uint64_t send_counter;
	bool stop;
	/* Counts, printed at the end. */
	uint64_t tx_packets, rx_packets, tx_bytes, rx_bytes;
	uint64_t no_buffer, malformed, seal_failed, decrypt_failed, send_failed, tun_write_errors;
};

static int fail_arg(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "fwdbare: %s '%s': %s (see --help)\n", opt, value, why);
	return 2;
}

/* ---- TUN -> UDP ---- */

/* A batch read from the TUN: sealed, sent in one udp_send_all (GSO), the
 * buffers given back. */
static void tun_batch(void *ctx, struct pkt **pkts, int n)
{
	struct fwd *f = ctx;
	struct pkt **out = pkts; /* what goes on, kept in place */
	int n_out = 0;

	for (int i = 0; i < n; i++) {
		struct pkt *k = pkts[i];
		if (k->len < 20 || ((k->data[0] >> 4) != 4 && (k->data[0] >> 4) != 6)) {
			f->malformed++;
			pool_put(&f->pool, k);
		} else if (!datamsg_seal(&f->send, k, f->mtu, MESSAGE_MODE_IP, f->index, &f->send_counter)) {
			f->seal_failed++;
			pool_put(&f->pool, k);
		} else {
			k->ep = f->peer;
			out[n_out++] = k;
		}
	}
	f->send_failed += (uint64_t)udp_send_all(f->udp_fd, &f->udp_off, out, n_out);
	for (int i = 0; i < n_out; i++) {
		if (!out[i]->send_failed) {
			f->tx_packets++;
			f->tx_bytes += out[i]->len;
		}
		pool_put(&f->pool, out[i]);
	}
}

static void read_tun(struct fwd *f)
{
	struct pkt *pkts[BATCH];
	uint64_t dropped = 0;

	if (tun_vnet_read_turn(f->tun_fd, &f->vnet, &f->pool, pkts, BATCH, TUN_READS_PER_TURN, tun_batch, f, &dropped) <
	    0) {
		fprintf(stderr, "fwdbare: the TUN was deleted; stopping\n");
		f->stop = true;
	}
	f->no_buffer += dropped;
}

/* ---- UDP -> TUN ---- */

/* The length of the IP packet a decrypted payload starts with (padding
 * follows it), or 0 when there is none. */
static uint32_t ip_length(const uint8_t *p, uint32_t len)
{
	uint32_t tot = 0;

	if (len >= 20 && (p[0] >> 4) == 4)
		tot = (uint32_t)p[2] << 8 | p[3];
	else if (len >= 40 && (p[0] >> 4) == 6)
		tot = 40 + ((uint32_t)p[4] << 8 | p[5]);
	return tot >= 20 && tot <= len ? tot : 0;
}

/* Opens a data message in place; false to drop it. */
static bool open_message(struct fwd *f, struct pkt *k)
{
	struct message_data *hdr = (struct message_data *)k->data;

	if (k->len < MESSAGE_MINIMUM_LENGTH || hdr->header.type != MESSAGE_DATA || hdr->key_idx != f->index) {
		f->malformed++;
		return false;
	}
	uint32_t clen = k->len - MESSAGE_DATA_HEADER_LEN;
	if (!crypto_aead_ctx_open(&f->recv, hdr->encrypted_data, hdr->encrypted_data, clen, le64toh(hdr->counter))) {
		f->decrypt_failed++;
		return false;
	}
	uint32_t ip_len = ip_length(hdr->encrypted_data, clen - NOISE_AUTHTAG_LEN);
	if (!ip_len) {
		f->malformed++;
		return false;
	}
	f->rx_packets++;
	f->rx_bytes += k->len;
	k->data = hdr->encrypted_data;
	k->len = ip_len;
	return true;
}

/* A batch of datagrams: opened, written to the TUN in one coalescing
 * tun_vnet_write, the buffers given back. */
static void net_batch(void *ctx, struct pkt **pkts, int n)
{
	struct fwd *f = ctx;
	struct pkt **out = pkts; /* what goes on, kept in place */
	int n_out = 0;

	for (int i = 0; i < n; i++) {
		if (!open_message(f, pkts[i])) {
			pool_put(&f->pool, pkts[i]);
			continue;
		}
		/* The local address the peer reached us at, once: replies
		 * then leave from it, as the daemon's do. */
		if (!f->peer_src_known && pkts[i]->ep.has_src) {
			f->peer.has_src = true;
			f->peer.src = pkts[i]->ep.src;
			f->peer.src_ifindex = pkts[i]->ep.src_ifindex;
			f->peer_src_known = true;
		}
		out[n_out++] = pkts[i];
	}
	f->tun_write_errors += (uint64_t)tun_vnet_write(f->tun_fd, &f->vnet, out, n_out);
	for (int i = 0; i < n_out; i++)
		pool_put(&f->pool, out[i]);
}

static void read_udp(struct fwd *f)
{
	struct pkt *pkts[UDP_GRO_BUFS * UDP_MAX_SEGMENTS];
	uint64_t dropped = 0;
	int got;

	if (f->udp_off.gro) {
		got = udp_recv_gro(f->udp_fd, &f->udp_off, &f->pool, pkts, (int)(sizeof(pkts) / sizeof(pkts[0])),
				   &dropped);
		f->no_buffer += dropped;
		udp_gro_deliver(&f->udp_off, pkts, got, BATCH, net_batch, f);
		return;
	}
	/* Without GRO (SLUICE_NO_UDP_GRO=1): a batch of plain reads. */
	int n = 0;
	while (n < BATCH && (pkts[n] = pool_get(&f->pool)))
		n++;
	got = n ? udp_recv_batch(f->udp_fd, pkts, n) : 0;
	for (int i = got < 0 ? 0 : got; i < n; i++)
		pool_put(&f->pool, pkts[i]);
	if (got > 0)
		net_batch(f, pkts, got);
}

/* ---- set-up and the loop ---- */

enum { TAG_TUN = 1, TAG_UDP, TAG_SIGNAL };

static int watch(struct fwd *f, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	return epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup(struct fwd *f, const char *tun, uint16_t port, const uint8_t key[KEY_LEN])
{
	bool uso = false;
	int ifindex, r;
	sigset_t sigs;

	if (!crypto_init() || !crypto_aead_ctx_init(&f->send) || !crypto_aead_ctx_init(&f->recv) ||
	    !crypto_aead_ctx_setkey(&f->send, f->suite, key) || !crypto_aead_ctx_setkey(&f->recv, f->suite, key)) {
		fprintf(stderr, "fwdbare: libcrypto could not set up the cipher\n");
		return -EINVAL;
	}
	if (pool_init(&f->pool, POOL_BUFFERS, PKT_HEADROOM + NORMAL_ROOM) < 0 ||
	    pool_reserve_large(&f->pool, POOL_BUFFERS / 8, PKT_HEADROOM + LARGE_ROOM) < 0) {
		fprintf(stderr, "fwdbare: no memory for the packet pool\n");
		return -ENOMEM;
	}
	f->pool_ready = true;
	pool_set_default_len(&f->pool, datamsg_room(f->mtu, 0));
	f->tun_fd = tun_open_offload(tun, &ifindex, &uso);
	if (f->tun_fd < 0) {
		fprintf(stderr, "fwdbare: cannot open the TUN %s with offloads: %s\n", tun, strerror(-f->tun_fd));
		return f->tun_fd;
	}
	if ((r = tun_vnet_init(&f->vnet, uso, false)) < 0) {
		fprintf(stderr, "fwdbare: no memory for the TUN's buffers\n");
		return r;
	}
	f->vnet_ready = true;
	f->udp_fd = udp_open(&port, 0);
	if (f->udp_fd < 0) {
		fprintf(stderr, "fwdbare: cannot listen on UDP port %u: %s\n", port, strerror(-f->udp_fd));
		return f->udp_fd;
	}
	if (udp_offloads_enable(f->udp_fd, &f->udp_off) < 0)
		fprintf(stderr, "fwdbare: no memory for UDP GRO buffers: one datagram per buffer\n");
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (f->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (f->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		r = -errno;
		fprintf(stderr, "fwdbare: %s\n", strerror(-r));
		return r;
	}
	if ((r = watch(f, f->tun_fd, TAG_TUN)) < 0 || (r = watch(f, f->udp_fd, TAG_UDP)) < 0 ||
	    (r = watch(f, f->signal_fd, TAG_SIGNAL)) < 0) {
		fprintf(stderr, "fwdbare: epoll_ctl: %s\n", strerror(-r));
		return r;
	}
	fprintf(stderr, "fwdbare: %s, UDP port %u (GSO %s, GRO %s), TUN %s (USO %s), %s\n", tun, port,
		f->udp_off.gso ? "on" : "off", f->udp_off.gro ? "on" : "off", tun, uso ? "on" : "off",
		f->suite == SUITE_AESGCM ? "AES-256-GCM" : "ChaCha20-Poly1305");
	return 0;
}

static int run(struct fwd *f)
{
	struct epoll_event evs[32];

	while (!f->stop) {
		int n = epoll_wait(f->epoll_fd, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "fwdbare: epoll_wait: %s\n", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_TUN:
				if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
					fprintf(stderr, "fwdbare: the TUN was deleted; stopping\n");
					f->stop = true;
				} else {
					read_tun(f);
				}
				break;
			case TAG_UDP:
				read_udp(f);
				break;
			case TAG_SIGNAL:
				f->stop = true;
				break;
			}
		}
	}
	return 0;
}

static void teardown(struct fwd *f)
{
	if (f->epoll_fd >= 0)
		close(f->epoll_fd);
	if (f->signal_fd >= 0)
		close(f->signal_fd);
	if (f->udp_fd >= 0)
		close(f->udp_fd);
	udp_offloads_free(&f->udp_off);
	if (f->vnet_ready)
		tun_vnet_free(&f->vnet);
	if (f->tun_fd >= 0)
		close(f->tun_fd);
	if (f->pool_ready)
		pool_destroy(&f->pool); /* wipes: buffers may hold plaintext */
	crypto_aead_ctx_free(&f->send);
	crypto_aead_ctx_free(&f->recv);
	crypto_cleanup();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tun", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "peer", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "cipher", required_argument, NULL, 'c' },
		{ "index", required_argument, NULL, 'i' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct fwd f = { .tun_fd = -1, .udp_fd = -1, .epoll_fd = -1, .signal_fd = -1, .index = 1, .mtu = 1420 };
	const char *tun = NULL, *cipher = NULL;
	uint8_t key[KEY_LEN] = { 0 };
	bool have_key = false, have_peer = false;
	uint32_t port = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ) {
				ret = fail_arg("--tun", optarg, "an interface name is 1 to 15 characters");
				goto done;
			}
			tun = optarg;
			break;
		case 'l':
			if (!parse_u32(optarg, false, 65535, &port) || !port) {
				ret = fail_arg("--listen", optarg, "not a port (1-65535)");
				goto done;
			}
			break;
		case 'p':
			if (!endpoint_parse_numeric(&f.peer, optarg)) {
				ret = fail_arg("--peer", optarg, "not IP:PORT or [IPv6]:PORT");
				goto done;
			}
			have_peer = true;
			break;
		case 'k':
			if (strlen(optarg) != 2 * KEY_LEN || !key_from_hex(key, optarg)) {
				ret = fail_arg("--key", "...", "not 64 hex digits");
				goto done;
			}
			have_key = true;
			break;
		case 'c':
			if (strcmp(optarg, "chacha20-poly1305") == 0)
				f.suite = SUITE_CHACHAPOLY;
			else if (strcmp(optarg, "aes-256-gcm") == 0)
				f.suite = SUITE_AESGCM;
			else {
				ret = fail_arg("--cipher", optarg, "chacha20-poly1305 or aes-256-gcm");
				goto done;
			}
			cipher = optarg;
			break;
		case 'i':
			if (!parse_u32(optarg, true, UINT32_MAX, &f.index)) {
				ret = fail_arg("--index", optarg, "not a 32-bit number");
				goto done;
			}
			break;
		case 'm':
			if (!parse_u32(optarg, false, MAX_MTU, &f.mtu) || f.mtu < 576) {
				ret = fail_arg("--mtu", optarg, "not an MTU (576-65535)");
				goto done;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			ret = 0;
			goto done;
		default:
			fputs(usage, stderr);
			ret = 2;
			goto done;
		}
	}
	if (optind < argc) {
		ret = fail_arg("argument", argv[optind], "unexpected");
		goto done;
	}
	if (!tun || !port || !have_peer || !have_key || !cipher) {
		fprintf(stderr, "fwdbare: --tun, --listen, --peer, --key and --cipher are all needed (see --help)\n");
		ret = 2;
		goto done;
	}

	ret = setup(&f, tun, (uint16_t)port, key) < 0 ? 1 : 0;
	crypto_wipe(key, sizeof(key));
	if (ret == 0) {
		bool must_stop = false;
		/* As the daemon runs: seccomp, mlockall, no core dumps. */
		(void)sandbox_enter(NULL, &must_stop);
		ret = run(&f) < 0 ? 1 : 0;
		fprintf(stderr,
			"fwdbare: tx_packets=%" PRIu64 " tx_bytes=%" PRIu64 " rx_packets=%" PRIu64 " rx_bytes=%" PRIu64
			" no_buffer=%" PRIu64 " malformed=%" PRIu64 " seal_failed=%" PRIu64 " decrypt_failed=%" PRIu64
			" send_failed=%" PRIu64 " tun_write_errors=%" PRIu64 "\n",
			f.tx_packets, f.tx_bytes, f.rx_packets, f.rx_bytes, f.no_buffer, f.malformed, f.seal_failed,
			f.decrypt_failed, f.send_failed, f.tun_write_errors);
	}
	teardown(&f);
	return ret;
done: /* before set-up: the key (or what part of it was read) wiped */
	crypto_wipe(key, sizeof(key));
	return ret;
}
