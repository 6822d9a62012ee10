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
	int sent = 0;

	while (sent < n) {
		int r = udp_send_batch(d->udp_fd, &d->udp_off, pkts + sent, n - sent);
		if (r <= 0)
			break;
		sent += r;
	}
	core_count_drop(&d->core, DROP_SEND_FAILED, (uint64_t)(n - sent));
	for (int i = sent; i < n; i++)
		pkts[i]->send_failed = true;
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

/* Super-packets read per event: the TUN's backlog is drained in a few
 * turns, the sockets get theirs in between. */
#define TUN_READS_PER_TURN 8

static void read_tun_vnet(struct device *d, uint64_t now)
{
	struct tun_vnet *v = d->vnet;
	struct pkt *pkts[CORE_BATCH];
	uint64_t dropped = 0, malformed = v->malformed;
	int n = 0, reads = 0;

	/* Small packets (an ACK stream) of several reads share one batch, and
	 * so one send; segments a batch had no room for are handed out before
	 * returning, since no TUN event would come back for them. */
	for (;;) {
		int read_one = reads < TUN_READS_PER_TURN;
		if (!read_one && !offload_split_remaining(&v->split))
			break;
		int got = tun_vnet_read(d->tun_fd, v, core_pool(&d->core), pkts + n, CORE_BATCH - n, CORE_BATCH,
					read_one, &dropped);
		reads += read_one;
		if (got == -EBADFD || got == -EIO || got == -ENXIO) {
			log_info("%s was deleted; shutting down", d->ifname);
			d->stop = true;
			break;
		}
		if (got <= 0 && !offload_split_remaining(&v->split))
			break;
		n += got > 0 ? got : 0;
		/* Full, or a super-packet waits whole for the next batch. */
		if (n == CORE_BATCH || (n && offload_split_remaining(&v->split))) {
			core_tun_rx(&d->core, now, pkts, n);
			n = 0;
		}
	}
	if (n)
		core_tun_rx(&d->core, now, pkts, n);
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

/* A GRO socket: runs of datagrams cut apart, handed to the core a batch
 * at a time. */
static void read_udp_gro(struct device *d, uint64_t now)
{
	struct pkt *pkts[UDP_GRO_BUFS * UDP_MAX_SEGMENTS];
	uint64_t dropped = 0;
	int got = udp_recv_gro(d->udp_fd, &d->udp_off, core_pool(&d->core), pkts, (int)(sizeof(pkts) / sizeof(pkts[0])),
			       &dropped);

	if (dropped)
		core_count_drop(&d->core, DROP_NO_BUFFER, dropped);
	/* Whole runs per core call, as many as fit in a batch: a run is
	 * usually one super-packet of the peer's, and the TUN write that
	 * ends each call then carries it whole (one write, one wake-up of
	 * the reader, one ACK) instead of in two pieces. */
	int at = 0, batch = 0;
	for (int r = 0; r < d->udp_off.n_runs; r++) {
		int len = d->udp_off.run_len[r];
		if (batch && batch + len > CORE_BATCH) {
			core_net_rx(&d->core, now, pkts + at, batch);
			at += batch;
			batch = 0;
		}
		batch += len;
		while (batch >= CORE_BATCH) {
			core_net_rx(&d->core, now, pkts + at, CORE_BATCH);
			at += CORE_BATCH;
			batch -= CORE_BATCH;
		}
	}
	if (at < got)
		core_net_rx(&d->core, now, pkts + at, got - at);
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
