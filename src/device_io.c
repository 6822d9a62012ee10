// SPDX-License-Identifier: MIT
/* The packet pumps of a device (device_io.h). */
#include "device_io.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tun.h"
#include "udp.h"

static void send_udp(struct device *d, struct pkt **pkts, int n)
{
	int left = udp_send_all(d->udp_fd, &d->udp_off, pkts, n);
	core_count_drop(&d->core, DROP_SEND_FAILED, (uint64_t)left);
}

/* Each packet goes out on the transport its endpoint names: a TCP
 * connection (ep.conn != 0), or the UDP socket. */
void device_send_net(void *ctx, struct pkt **pkts, int n)
{
	struct device *d = ctx;

	for (int done = 0; done < n;) {
		struct pkt *udp[CORE_BATCH], *tcp[CORE_BATCH];
		int n_udp = 0, n_tcp = 0;

		for (; done < n && n_udp < CORE_BATCH && n_tcp < CORE_BATCH; done++) {
			if (pkts[done]->ep.conn)
				tcp[n_tcp++] = pkts[done];
			else
				udp[n_udp++] = pkts[done];
		}
		if (n_tcp)
			tcp_send(&d->tcp, tcp, n_tcp);
		if (n_udp)
			send_udp(d, udp, n_udp);
	}
	for (int i = 0; i < n; i++) {
		core_account_sent(pkts[i]);
		pool_put(core_pool(&d->core), pkts[i]);
	}
}
void device_send_tun(void *ctx, struct pkt **pkts, int n)
{
	struct device *d = ctx;

	if (d->vnet) {
		d->tun_write_errors += d->ethernet ? (uint64_t)tun_vnet_write_frames(d->tun_fd, d->vnet, pkts, n)
						   : (uint64_t)tun_vnet_write(d->tun_fd, d->vnet, pkts, n);
		for (int i = 0; i < n; i++)
			pool_put(core_pool(&d->core), pkts[i]);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (tun_write(d->tun_fd, pkts[i]) < 0)
			d->tun_write_errors++;
		pool_put(core_pool(&d->core), pkts[i]);
	}
}

/* With no buffer free, a readable descriptor would wake the loop forever:
 * take one packet off it and count it lost. */
static void discard_one(struct device *d, int fd)
{
	static uint8_t scratch[OFFLOAD_READ_SIZE];
	if (read(fd, scratch, sizeof(scratch)) < 0 && errno != EAGAIN)
		log_debug("discarding a packet: %s", strerror(errno));
	core_count_drop(&d->core, DROP_NO_BUFFER, 1);
}

/* A read turn's batches go to the engine: the device, and the time of the turn. */
struct io_turn {
	struct device *d;
	uint64_t now;
};

static void tun_batch(void *ctx, struct pkt **pkts, int n)
{
	struct io_turn *t = ctx;
	core_tun_rx(&t->d->core, t->now, pkts, n);
}

static void net_batch(void *ctx, struct pkt **pkts, int n)
{
	struct io_turn *t = ctx;
	core_net_rx(&t->d->core, t->now, pkts, n);
}

static void read_tun_vnet(struct device *d, uint64_t now)
{
	struct tun_vnet *v = d->vnet;
	struct pkt *pkts[CORE_BATCH];
	struct io_turn turn = { d, now };
	uint64_t dropped = 0, malformed = v->malformed;

	if (tun_vnet_read_turn(d->tun_fd, v, core_pool(&d->core), pkts, CORE_BATCH, TUN_READS_PER_TURN, tun_batch,
			       &turn, &dropped) < 0) {
		log_info("%s was deleted; shutting down", d->ifname);
		d->stop = true;
	}
	if (dropped)
		core_count_drop(&d->core, DROP_NO_BUFFER, dropped);
	if (v->malformed != malformed)
		core_count_drop(&d->core, DROP_MALFORMED, v->malformed - malformed);
}

void device_read_tun(struct device *d, uint64_t now)
{
	struct pkt *pkts[CORE_BATCH];
	int n = 0, got;

	if (d->vnet) {
		read_tun_vnet(d, now);
		return;
	}

	while (n < CORE_BATCH && (pkts[n] = pool_get(core_pool(&d->core))))
		n++;
	if (!n) {
		discard_one(d, d->tun_fd);
		return;
	}
	got = tun_read_batch(d->tun_fd, pkts, n);
	for (int i = got < 0 ? 0 : got; i < n; i++)
		pool_put(core_pool(&d->core), pkts[i]);
	if (got == -EBADFD || got == -EIO || got == -ENXIO) {
		log_info("%s was deleted; shutting down", d->ifname);
		d->stop = true;
		return;
	}
	if (got > 0)
		core_tun_rx(&d->core, now, pkts, got);
}

/* A GRO socket: runs of datagrams cut apart, handed to the engine whole
 * runs a batch at a time (udp_gro_deliver). */
static void read_udp_gro(struct device *d, uint64_t now)
{
	struct pkt *pkts[UDP_GRO_BUFS * UDP_MAX_SEGMENTS];
	struct io_turn turn = { d, now };
	uint64_t dropped = 0;
	int got = udp_recv_gro(d->udp_fd, &d->udp_off, core_pool(&d->core), pkts, (int)(sizeof(pkts) / sizeof(pkts[0])),
			       &dropped);

	if (dropped)
		core_count_drop(&d->core, DROP_NO_BUFFER, dropped);
	udp_gro_deliver(&d->udp_off, pkts, got, CORE_BATCH, net_batch, &turn);
}

void device_read_udp(struct device *d, uint64_t now)
{
	struct pkt *pkts[CORE_BATCH];
	int n = 0, got;

	if (d->udp_off.gro) {
		read_udp_gro(d, now);
		return;
	}

	while (n < CORE_BATCH && (pkts[n] = pool_get(core_pool(&d->core))))
		n++;
	if (!n) {
		discard_one(d, d->udp_fd);
		return;
	}
	got = udp_recv_batch(d->udp_fd, pkts, n);
	for (int i = got < 0 ? 0 : got; i < n; i++)
		pool_put(core_pool(&d->core), pkts[i]);
	if (got > 0)
		core_net_rx(&d->core, now, pkts, got);
}
