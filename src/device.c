// SPDX-License-Identifier: MIT
#include "device.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "device_config.h"
#include "device_io.h"
#include "device_link.h"
#include "device_sync.h"
#include "encoding.h"
#include "keylog.h"
#include "linkwatch.h"
#include "log.h"
#include "netlink.h"
#include "route.h"
#include "timers.h"
#include "tun.h"
#include "uapi.h"
#include "uapi_get.h"
#include "udp.h"

#define LIVENESS_INTERVAL_NS NS_PER_SEC

/* epoll data: the tag in the low 32 bits; a TCP or control connection's id above. */
enum fd_tag {
	TAG_TUN = 1,
	TAG_UDP,
	TAG_UAPI,
	TAG_SIGNAL,
	TAG_TCP_LISTEN,
	TAG_TCP_CONN,
	TAG_UAPI_CONN,
	TAG_RESOLVE,
	TAG_LINK
};

/* SLUICE_TIMER_SCALE=N, for tests only (make soak): the protocol's clock
 * runs N times faster than the real one from start-up on, so every timer of
 * the engine (rekey after 120 s, reject after 180 s, REKEY_TIMEOUT,
 * keepalives, cookie secrets, rate limits) is N times shorter. Unset, the
 * clock is the real one. */
#define TIMER_SCALE_ENV "SLUICE_TIMER_SCALE"
#define TIMER_SCALE_MAX 1000
static uint64_t clock_scale = 1, clock_base;

static uint64_t boottime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t device_now(void)
{
	uint64_t raw = boottime_ns();
	return clock_scale == 1 ? raw : clock_base + (raw - clock_base) * clock_scale;
}

/* 0, or -EINVAL when SLUICE_TIMER_SCALE is set to something else than 1 to 1000. */
static int timer_scale_init(void)
{
	const char *v = getenv(TIMER_SCALE_ENV);
	uint32_t n;

	if (!v)
		return 0;
	if (!parse_u32(v, false, TIMER_SCALE_MAX, &n) || n < 1) {
		log_err("%s=%s: want a whole number from 1 to %d", TIMER_SCALE_ENV, v, TIMER_SCALE_MAX);
		return -EINVAL;
	}
	clock_base = boottime_ns();
	clock_scale = n;
	if (n > 1)
		log_info("%s=%" PRIu32 ": the protocol's timers run %" PRIu32 " times faster (for tests only)",
			 TIMER_SCALE_ENV, n, n);
	return 0;
}

static int64_t wall_offset(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)((uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec) - (int64_t)device_now();
}

/* ---- core hooks ---- */

static void hook_endpoint_changed(void *ctx, struct peer *p, const struct endpoint *old_ep,
				  const struct endpoint *new_ep)
{
	tcp_endpoint_changed(&((struct device *)ctx)->tcp, p->public_key, old_ep->conn, new_ep->conn);
}

static void hook_keylog(void *ctx, const uint8_t local_static_private[KEY_LEN],
			const uint8_t remote_static_public[KEY_LEN], const uint8_t local_ephemeral_private[KEY_LEN],
			const uint8_t preshared_key[KEY_LEN])
{
	keylog_write(((struct device *)ctx)->keylog_fd, local_static_private, remote_static_public,
		     local_ephemeral_private, preshared_key);
}

/* The engine's debug lines ("Sending handshake initiation to peer 3 ..."),
 * shown with `sluice up -v`; the engine limits their rate. */
static void hook_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	log_msg((enum log_level)level, "%s", msg);
}

/* ---- control socket ---- */

static int uapi_get(void *ctx, struct sbuf *out)
{
	struct device *d = ctx;
	return uapi_get_format(out, &d->core, d->listen_port, d->fwmark);
}

int device_listen(struct device *d, uint16_t port, unsigned transports)
{
	/* A socket already on that port stays: it holds the port. */
	bool same = port && port == d->listen_port;
	bool open_udp = (transports & TRANSPORT_UDP) && !(same && (d->transports & TRANSPORT_UDP));
	bool open_tcp = (transports & TRANSPORT_TCP) && !(same && (d->transports & TRANSPORT_TCP));
	int udp = -1, tcp = -1, r = 0;
	uint16_t p = port;

	/* A random UDP port may be taken for TCP: try a few. */
	for (int attempt = 0; attempt < (port ? 1 : 8); attempt++) {
		p = port;
		if (open_udp) {
			udp = udp_open(&p, d->fwmark);
			if (udp < 0) {
				log_err("cannot listen on UDP port %u: %s", port, strerror(-udp));
				return udp;
			}
		}
		if (!open_tcp)
			break;
		tcp = tcp_listen_open(&p, d->fwmark);
		if (tcp >= 0)
			break;
		r = tcp;
		if (udp >= 0)
			close(udp);
		udp = -1;
	}
	if (open_tcp && tcp < 0) {
		log_err("cannot listen on TCP port %u: %s", p, strerror(-r));
		return r;
	}
	if (udp >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_UDP };
		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, udp, &ev) < 0) {
			r = -errno;
			close(udp);
			if (tcp >= 0)
				close(tcp);
			log_err("cannot watch the UDP socket: %s", strerror(-r));
			return r;
		}
		if (d->udp_fd >= 0) {
			epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->udp_fd, NULL);
			close(d->udp_fd);
		}
		d->udp_fd = udp;
		if (udp_offloads_enable(udp, &d->udp_off) < 0)
			log_warn("no memory for UDP GRO buffers: receiving one datagram per buffer");
		log_debug("UDP offloads: GSO %s, GRO %s", d->udp_off.gso ? "on" : "off", d->udp_off.gro ? "on" : "off");
	} else if (!(transports & TRANSPORT_UDP) && d->udp_fd >= 0) {
		epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->udp_fd, NULL);
		close(d->udp_fd);
		d->udp_fd = -1;
	}
	if (tcp >= 0 && (r = tcp_set_listener(&d->tcp, tcp)) < 0) {
		log_err("cannot watch the TCP listening socket: %s", strerror(-r));
		return r;
	}
	if (!(transports & TRANSPORT_TCP))
		tcp_set_listener(&d->tcp, -1);
	d->listen_port = p;
	d->wanted_port = port;
	d->transports = transports;
	return 0;
}

void device_set_fwmark(struct device *d, uint32_t fwmark)
{
	if (fwmark == d->fwmark)
		return;
	d->fwmark = fwmark;
	if (d->udp_fd >= 0 && udp_set_fwmark(d->udp_fd, d->fwmark) < 0)
		log_warn("cannot set fwmark %u: %s", d->fwmark, strerror(errno));
	tcp_set_fwmark(&d->tcp, d->fwmark);
}

/* device_apply_config, but a peer reached over TCP keeps its endpoint on its
 * connection: an endpoint given for it (config file, UAPI) is where its
 * dialer connects, and the peer's endpoint names the connection (or
 * ENDPOINT_TCP_DOWN until it is up). Returns 0 or a negative errno. */
static int apply_config(struct device *d, const struct interface_config *cfg, uint64_t now)
{
	struct interface_config copy = *cfg;
	struct peer_config *peers = NULL;
	int r;

	if (cfg->n_peers && tcp_peer_count(&d->tcp)) {
		peers = malloc(cfg->n_peers * sizeof(*peers));
		if (!peers)
			return -ENOMEM;
		memcpy(peers, cfg->peers, cfg->n_peers * sizeof(*peers));
		for (size_t i = 0; i < cfg->n_peers; i++) {
			struct tcp_peer *tp = tcp_peer_find(&d->tcp, peers[i].public_key);
			if (!tp)
				continue;
			if (peers[i].remove) {
				tcp_peer_stop(&d->tcp, tp);
			} else if (peers[i].endpoint.addr.sa.sa_family != AF_UNSPEC) {
				tcp_peer_set_target(&d->tcp, tp, &peers[i].endpoint, now);
				peers[i].endpoint.conn = tcp_peer_conn(&d->tcp, tp);
			}
		}
		copy.peers = peers;
	}
	r = device_apply_config(&d->core, &copy, now);
	if (r == 0)
		device_state_restore(d, now); /* peers new to the engine get what it knew before a restart */
	if (peers) {
		crypto_wipe(peers, cfg->n_peers * sizeof(*peers)); /* preshared keys */
		free(peers);
	}
	crypto_wipe(&copy, sizeof(copy)); /* it held the private key */
	return r;
}

static int uapi_set(void *ctx, const struct interface_config *cfg)
{
	struct device *d = ctx;
	int r;

	if (cfg->has_fwmark)
		device_set_fwmark(d, cfg->fwmark);
	if (cfg->has_listen_port && cfg->listen_port != d->listen_port) {
		r = device_listen(d, cfg->listen_port, d->transports);
		if (r < 0)
			return -r;
	}
	return -apply_config(d, cfg, device_now()); /* the UAPI layer takes a positive errno */
}

/* ---- the TCP transport's callbacks ---- */

static void tcp_recv(void *ctx, struct pkt **pkts, int n, uint64_t now)
{
	struct device *d = ctx;
	core_net_rx(&d->core, now, pkts, n);
}

static void tcp_drop(void *ctx, enum drop_cause cause, uint64_t n)
{
	struct device *d = ctx;
	core_count_drop(&d->core, cause, n);
}

static bool tcp_dialer_up(void *ctx, const uint8_t public_key[KEY_LEN], const struct endpoint *ep, uint64_t now)
{
	struct device *d = ctx;
	struct peer *p = core_peer_find(&d->core, public_key);

	if (p)
		core_transport_up(&d->core, p, ep, now);
	return p != NULL; /* false: removed over the UAPI meanwhile */
}

static void tcp_dialer_down(void *ctx, const uint8_t public_key[KEY_LEN], uint32_t conn)
{
	struct device *d = ctx;
	struct peer *p = core_peer_find(&d->core, public_key);

	if (p && conn && p->endpoint.conn == conn) {
		struct endpoint ep = p->endpoint;
		ep.conn = ENDPOINT_TCP_DOWN;
		core_peer_set_endpoint(&d->core, p, &ep);
	}
}

/* The connection each peer's endpoint names: the transport gives no new
 * connection such an id, and closes accepted connections nobody names. */
static void tcp_conns_in_use(void *ctx, void (*fn)(void *arg, uint32_t id), void *arg)
{
	struct device *d = ctx;

	for (const struct peer *p = core_peers_first(&d->core); p; p = core_peers_next(p))
		if (p->endpoint.conn)
			fn(arg, p->endpoint.conn);
}

/* A dialed peer for each peer the file gives a tcp:// endpoint. */
static int add_tcp_peers(struct device *d, const struct interface_config *cfg, uint64_t now)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *pc = &cfg->peers[i];
		if (pc->endpoint_transport == TRANSPORT_TCP && pc->endpoint.addr.sa.sa_family != AF_UNSPEC &&
		    !tcp_peer_add(&d->tcp, pc->public_key, &pc->endpoint, now))
			return -ENOMEM;
	}
	return 0;
}

/* ---- set-up ---- */

static int watch(struct device *d, int fd, enum fd_tag tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The link watch opened, or why not said once: the MTU is then polled.
 * SLUICE_NO_LINK_WATCH=1 (tests) polls on purpose. */
static void open_link_watch(struct device *d)
{
	const char *off = getenv("SLUICE_NO_LINK_WATCH");
	int fd;

	if (off && *off && strcmp(off, "0") != 0) {
		log_info("SLUICE_NO_LINK_WATCH is set: the MTU of %s is looked at once a second", d->ifname);
		return;
	}
	fd = linkwatch_open();
	if (fd >= 0) {
		int r = watch(d, fd, TAG_LINK);
		if (r < 0) {
			close(fd);
			fd = r;
		}
	}
	if (fd < 0) {
		log_warn("cannot watch %s for changes over netlink (%s): its MTU is looked at once a second", d->ifname,
			 strerror(-fd));
		return;
	}
	d->link_fd = fd;
}

/* Whether the control socket's file is still the one we made: wg-quick and
 * wireguard-go's users stop a daemon by removing it, and a new daemon for
 * the same name may have put its own in its place. */
static bool uapi_file_ours(const struct device *d)
{
	unsigned long long dev, ino;
	int r = uapi_socket_identity(d->ifname, &dev, &ino);

	/* Failing to ask (no memory, a path too long) is not "removed". */
	if (r < 0)
		return r != -ENOENT && r != -ENOTDIR;
	return dev == d->uapi_file_dev && ino == d->uapi_file_ino;
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

/* The TUN with the offloads (super-packets in, coalesced writes out), or
 * a plain one where the kernel refuses them or SLUICE_NO_TUN_OFFLOAD=1
 * says so. Returns 0 or -errno; d->tun_fd is set. */
static int open_tun(struct device *d)
{
	bool uso = false;
	int fd = -1;

	if (!env_on("SLUICE_NO_TUN_OFFLOAD")) {
		fd = d->ethernet ? tun_open_tap_offload(d->ifname, &d->ifindex)
				 : tun_open_offload(d->ifname, &d->ifindex, &uso);
		if (fd >= 0) {
			d->vnet = malloc(sizeof(*d->vnet));
			if (!d->vnet || tun_vnet_init(d->vnet, uso, d->ethernet) < 0) {
				free(d->vnet);
				d->vnet = NULL;
				close(fd);
				fd = -1;
			}
		} else {
			log_debug("TUN offloads refused (%s): one packet per read and write", strerror(-fd));
		}
	}
	if (fd < 0)
		fd = d->ethernet ? tun_open_tap(d->ifname, &d->ifindex) : tun_open(d->ifname, &d->ifindex);
	if (fd < 0)
		return fd;
	d->tun_fd = fd;
	log_debug("TUN offloads: %s", d->vnet ? (uso ? "TSO and USO" : "TSO (no USO)") : "off");
	return 0;
}

int device_up(struct device *d, const char *ifname, const struct interface_config *cfg)
{
	struct core_hooks hooks = { .ctx = d,
				    .send_net = device_send_net,
				    .send_tun = device_send_tun,
				    .keylog = hook_keylog,
				    .endpoint_changed = hook_endpoint_changed,
				    .log = hook_log };
	struct tcp_ops tcp_ops = { .ctx = d,
				   .recv = tcp_recv,
				   .dialer_up = tcp_dialer_up,
				   .dialer_down = tcp_dialer_down,
				   .conns_in_use = tcp_conns_in_use,
				   .drop = tcp_drop };
	sigset_t mask;
	int r;

	memset(d, 0, sizeof(*d));
	d->tun_fd = d->udp_fd = d->uapi_fd = d->signal_fd = d->epoll_fd = d->keylog_fd = d->state.dir_fd = -1;
	d->link_fd = -1;
	d->resolve.fds[0] = d->resolve.fds[1] = -1;
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	d->ethernet = cfg->ethernet;
	d->fwmark = cfg->has_fwmark ? cfg->fwmark : 0;
	d->transports = cfg->transports ? cfg->transports : TRANSPORT_UDP;
	log_set_prefix(d->ifname);
	if ((r = timer_scale_init()) < 0)
		return r;
	/* Before the sockets: a full tunnel's may need a mark. */
	if ((r = route_plan(&d->route, cfg, &d->fwmark)) < 0)
		return r;
	/* wireguard-go's way (`sluice IFACE`) leaves the MTU to wg-quick. */
	if (!cfg->mtu && !cfg->link_unmanaged)
		d->mtu_auto = route_auto_mtu(cfg, d->fwmark);
	/* A TAP's messages carry each frame's Ethernet header and length too. */
	if (d->mtu_auto && d->ethernet)
		d->mtu_auto -= DEFAULT_MTU - DEFAULT_TAP_MTU;
	d->mtu = cfg->mtu ? cfg->mtu : d->mtu_auto ? d->mtu_auto : d->ethernet ? DEFAULT_TAP_MTU : DEFAULT_MTU;

	if (!crypto_init()) {
		log_err("libcrypto lacks an algorithm sluice needs (BLAKE2s, ChaCha20-Poly1305, AES-256-GCM or X25519)");
		return -ENOSYS;
	}
	r = core_init(&d->core, &hooks, d->mtu, DEVICE_POOL_BUFFERS);
	if (r < 0) {
		log_err("cannot allocate packet buffers: %s", strerror(-r));
		return r;
	}
	core_set_wall_offset(&d->core, wall_offset());
	if (d->ethernet && (r = core_set_ethernet(&d->core)) < 0) {
		log_err("cannot set up TAP mode: %s", strerror(-r));
		goto fail;
	}
	if ((r = keylog_open(&d->keylog_fd)) < 0)
		goto fail;

	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = tcp_init(&d->tcp, &tcp_ops, d->epoll_fd, TAG_TCP_LISTEN, TAG_TCP_CONN, core_pool(&d->core));
	if (r < 0)
		goto fail;
	tcp_set_fwmark(&d->tcp, d->fwmark);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0 || watch(d, d->signal_fd, TAG_SIGNAL) < 0) {
		r = -errno;
		goto fail;
	}

	d->uapi_fd = uapi_listen(d->ifname);
	if (d->uapi_fd < 0) {
		r = d->uapi_fd;
		if (r == -EADDRINUSE)
			log_err("interface %s is already run by another sluice or wireguard process (%s/%s.sock answers)",
				d->ifname, UAPI_DIR, d->ifname);
		else
			log_err("cannot create the control socket %s/%s.sock: %s", UAPI_DIR, d->ifname, strerror(-r));
		goto fail;
	}
	struct uapi_ops uapi_ops = { .ctx = d,
				     .get = uapi_get,
				     .get_extended = device_uapi_get_extended,
				     .set = uapi_set,
				     .sync = device_uapi_sync };
	if ((r = uapi_server_init(&d->uapi, &uapi_ops, d->epoll_fd, d->uapi_fd, TAG_UAPI, TAG_UAPI_CONN)) < 0)
		goto fail;
	if ((r = uapi_socket_identity(d->ifname, &d->uapi_file_dev, &d->uapi_file_ino)) < 0) {
		log_err("cannot stat the control socket %s/%s.sock: %s", uapi_dir(), d->ifname, strerror(-r));
		goto fail;
	}

	r = open_tun(d);
	if (r < 0) {
		log_err("cannot create %s device %s: %s%s", d->ethernet ? "TAP" : "TUN", d->ifname, strerror(-r),
			r == -EPERM || r == -EACCES ? " (sluice needs CAP_NET_ADMIN: run it as root)" : "");
		goto fail;
	}
	d->tun_where = TUN_HERE;
	if ((r = watch(d, d->tun_fd, TAG_TUN)) < 0)
		goto fail;
	open_link_watch(d); /* before the sandbox: it runs with what it has then */

	r = device_listen(d, cfg->has_listen_port ? cfg->listen_port : 0, d->transports);
	if (r < 0)
		goto fail;
	device_state_open(&d->state, d->ifname, !cfg->no_save_state);
	r = add_tcp_peers(d, cfg, device_now());
	if (r < 0) {
		log_err("cannot set up the TCP connections: %s", strerror(-r));
		goto fail;
	}
	r = apply_config(d, cfg, device_now());
	if (r < 0) {
		log_err("cannot apply the configuration: %s", strerror(-r));
		goto fail;
	}
	r = core_set_reply_ping(&d->core, cfg->reply_ping, cfg->addresses, cfg->n_addresses);
	if (r < 0)
		goto fail;
	if ((r = device_names_set(d, cfg)) < 0)
		goto fail;
	r = route_setup(&d->route, d->ifindex, d->ifname, d->mtu, cfg);
	if (r < 0)
		goto fail;
	if (cfg->bridge[0] && !cfg->link_unmanaged) {
		if ((r = nl_link_set_master_name(d->ifindex, cfg->bridge)) < 0) {
			log_err("cannot put %s in bridge %s: %s%s", d->ifname, cfg->bridge, strerror(-r),
				r == -ENODEV ? " (no such interface: create it first, `ip link add br0 type bridge`)"
					     : "");
			goto fail;
		}
		snprintf(d->bridge, sizeof(d->bridge), "%s", cfg->bridge);
		log_info("%s is a port of bridge %s", d->ifname, d->bridge);
	}
	if ((r = device_setup_init(d, cfg)) < 0)
		goto fail;
	log_info("interface %s (%s) up, listening on %s port %u, %zu peer%s", d->ifname, d->ethernet ? "TAP" : "TUN",
		 d->transports == TRANSPORT_TCP  ? "TCP"
		 : d->transports & TRANSPORT_TCP ? "UDP and TCP"
						 : "UDP",
		 d->listen_port, core_peer_count(&d->core), core_peer_count(&d->core) == 1 ? "" : "s");
	return 0;
fail:
	device_down(d);
	return r;
}

/* ---- the loop ---- */

static void read_signal(struct device *d)
{
	struct signalfd_siginfo si;
	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			device_reload(d);
			continue;
		}
		log_info("received %s; shutting down", strsignal((int)si.ssi_signo));
		d->stop = true;
	}
}

int device_run(struct device *d)
{
	struct epoll_event evs[32];

	while (!d->stop) {
		uint64_t now = device_now();
		uint64_t deadline = core_next_deadline(&d->core);
		uint64_t tcp_deadline = tcp_next_deadline(&d->tcp);
		uint64_t state_deadline = device_state_deadline(d);
		uint64_t wait_ns = LIVENESS_INTERVAL_NS;
		if (tcp_deadline < deadline)
			deadline = tcp_deadline;
		if (state_deadline < deadline)
			deadline = state_deadline;
		if (deadline <= now)
			wait_ns = 0;
		else if (deadline - now < wait_ns)
			wait_ns = deadline - now;
		wait_ns /= clock_scale; /* in real time */
		int timeout = (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
		int n = epoll_wait(d->epoll_fd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		now = device_now();
		/* Timestamps follow the wall clock, also when it is set late (NTP). */
		core_set_wall_offset(&d->core, wall_offset());
		for (int i = 0; i < n; i++) {
			switch ((uint32_t)evs[i].data.u64) {
			case TAG_TUN:
				if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
					log_info("%s was deleted; shutting down", d->ifname);
					d->stop = true;
				} else {
					device_read_tun(d, now);
				}
				break;
			case TAG_UDP:
				device_read_udp(d, now);
				break;
			case TAG_UAPI:
				uapi_server_on_listen(&d->uapi, now);
				break;
			case TAG_UAPI_CONN:
				uapi_server_on_conn(&d->uapi, (uint32_t)(evs[i].data.u64 >> 32), evs[i].events, now);
				break;
			case TAG_SIGNAL:
				read_signal(d);
				break;
			case TAG_TCP_LISTEN:
				tcp_on_listen(&d->tcp, now);
				break;
			case TAG_TCP_CONN:
				tcp_on_conn(&d->tcp, (uint32_t)(evs[i].data.u64 >> 32), evs[i].events, now);
				break;
			case TAG_RESOLVE:
				device_resolve_done(d, now);
				break;
			case TAG_LINK:
				device_read_link(d);
				break;
			}
		}
		core_tick(&d->core, now);
		tcp_tick(&d->tcp, now);
		uapi_server_tick(&d->uapi, now);
		device_state_tick(d, now);
		if (now - d->last_liveness_check >= LIVENESS_INTERVAL_NS) {
			d->last_liveness_check = now;
			device_resolve_tick(d, now);
			enum tun_state where = device_check_tun(d);
			if (where != TUN_GONE && !uapi_file_ours(d)) {
				log_info("the control socket %s/%s.sock was removed or replaced; shutting down",
					 uapi_dir(), d->ifname);
				d->stop = true;
			} else if (where == TUN_HERE && d->link_fd < 0) {
				/* Moved away, its index and MTU are another
				 * namespace's: asked here, they would name some
				 * other link. */
				device_follow_mtu(d, "polled");
			}
		}
	}
	return 0;
}

void device_down(struct device *d)
{
	/* Before the control socket goes: `sluice down` waits for that. */
	route_teardown(&d->route);
	uapi_server_destroy(&d->uapi);
	if (d->uapi_fd >= 0) {
		/* Unlink the file only if it is still ours: another daemon
		 * may have taken the name over. */
		if (!d->uapi_file_ino || uapi_file_ours(d))
			uapi_close(d->uapi_fd, d->ifname);
		else
			close(d->uapi_fd);
	}
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	udp_offloads_free(&d->udp_off);
	if (d->tcp.pool) /* tcp_init ran */
		tcp_destroy(&d->tcp);
	if (d->tun_fd >= 0) {
		/* A non-persistent tun goes away with its last descriptor; make
		 * sure of it in case someone else holds one, by index and only
		 * while it is in our namespace: by name, or once moved away, it
		 * would be some other link. */
		if (tun_state(d->tun_fd) == TUN_HERE)
			nl_link_delete_index(d->ifindex);
		close(d->tun_fd);
	}
	if (d->vnet) {
		tun_vnet_free(d->vnet);
		free(d->vnet);
		d->vnet = NULL;
	}
	device_link_close(d);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->keylog_fd >= 0)
		close(d->keylog_fd);
	d->keylog_fd = -1;
	d->uapi_fd = d->udp_fd = d->tun_fd = d->signal_fd = d->epoll_fd = -1;
	device_state_close(d); /* what changed since the last save, before the peers go */
	core_destroy(&d->core);
	device_setup_free(&d->setup);
	device_resolve_free(&d->resolve);
}

int device_names_set(struct device *d, const struct interface_config *cfg)
{
	return device_resolve_set(d, cfg, TAG_RESOLVE);
}

void device_endpoint_moved(struct device *d, struct peer *p, enum transport transport, const struct endpoint *ep,
			   uint64_t now)
{
	struct endpoint to = *ep;
	struct tcp_peer *tp = transport == TRANSPORT_TCP ? tcp_peer_find(&d->tcp, p->public_key) : NULL;

	if (tp) {
		tcp_peer_set_target(&d->tcp, tp, &to, now);
		to.conn = tcp_peer_conn(&d->tcp, tp);
	}
	core_peer_set_endpoint(&d->core, p, &to);
	core_peer_initiate(&d->core, p, now);
}
