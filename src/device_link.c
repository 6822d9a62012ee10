// SPDX-License-Identifier: MIT
#include "device_link.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "linkwatch.h"
#include "log.h"

/* The tun's MTU is its administrator's (ip link set mtu; wg-quick sets it
 * after `sluice IFACE` made the tun with 1420): padding follows it, as in
 * WireGuard, and so does the size of the buffers pool_get hands out. Any
 * MTU a tun can have (up to 65535) is carried: packets larger than an
 * Ethernet MTU's take the pool's large buffers. `how` says who noticed. */
static void apply_mtu(struct device *d, uint32_t mtu, const char *how)
{
	uint32_t old = core_mtu(&d->core);

	if (!mtu || mtu == old)
		return;
	if (core_set_mtu(&d->core, mtu) < 0) {
		log_debug("MTU of %s is now %u, more than sluice carries (%u)", d->ifname, mtu, core_max_mtu(&d->core));
		return;
	}
	log_info("MTU of %s changed %u -> %u (%s)", d->ifname, old, mtu, how);
	d->mtu = mtu;
}

/* The MTU asked with SIOCGIFMTU: once a second where there is no link
 * watch, and when the watch lost announcements. Any socket of this
 * namespace answers; the control socket is always there. */
void device_follow_mtu(struct device *d, const char *how)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname((unsigned)d->ifindex, ifr.ifr_name) || ioctl(d->uapi_fd, SIOCGIFMTU, &ifr) < 0 ||
	    ifr.ifr_mtu <= 0)
		return;
	apply_mtu(d, (uint32_t)ifr.ifr_mtu, how);
}

/* Where the TUN is now, said in the log when that changed; a deleted one
 * stops the daemon. */
enum tun_state device_check_tun(struct device *d)
{
	enum tun_state where = tun_state(d->tun_fd);

	if (where != d->tun_where && where == TUN_ELSEWHERE)
		log_info("%s moved to another network namespace; serving it there, the sockets stay here", d->ifname);
	else if (where != d->tun_where && where == TUN_HERE)
		log_info("%s is back in this network namespace", d->ifname);
	d->tun_where = where;
	if (where == TUN_GONE && !d->stop) {
		log_info("%s was deleted; shutting down", d->ifname);
		d->stop = true;
	}
	return where;
}

void device_link_close(struct device *d)
{
	if (d->link_fd < 0)
		return;
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->link_fd, NULL);
	close(d->link_fd);
	d->link_fd = -1;
}

/* Announcements of the kernel's about links: ours changed its MTU, was
 * deleted, or moved. */
void device_read_link(struct device *d)
{
	struct linkwatch_event ev = { 0 };
	int r = linkwatch_read(d->link_fd, d->ifindex, &ev);

	if (r < 0) {
		log_warn("the link watch failed (%s): the MTU of %s is looked at once a second from now on",
			 strerror(-r), d->ifname);
		device_link_close(d);
		return;
	}
	if (ev.malformed)
		log_debug("link watch: %u malformed netlink message%s skipped", ev.malformed,
			  ev.malformed == 1 ? "" : "s");
	if (!ev.changed && !ev.deleted && !ev.lost)
		return;
	/* The index names the TUN only while it is here: moved away, some
	 * other link may get it. */
	if (device_check_tun(d) != TUN_HERE)
		return;
	if (ev.lost)
		device_follow_mtu(d, "asked again: link announcements were lost");
	else
		apply_mtu(d, ev.mtu, "link watch");
}
