// SPDX-License-Identifier: MIT
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_tun.h>

int tun_open(const char *name, int *ifindex)
{
	struct ifreq ifr;
	unsigned int index;
	int fd, err;

	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* The kernel writes back the name it used (it fills in "tun%d"). */
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	index = if_nametoindex(ifr.ifr_name);
	if (!index)
		goto fail;
	*ifindex = (int)index;
	return fd;

fail:
	err = errno;
	close(fd);
	return -err;
}

int tun_exists(int ifindex)
{
	char name[IF_NAMESIZE];

	if (ifindex <= 0)
		return 0;
	if (if_indextoname((unsigned int)ifindex, name))
		return 1;
	/* Only "no such device" (ENXIO from glibc, ENODEV from the ioctl)
	 * says the link is gone; failing to ask (no fd left, no memory) must
	 * not make the daemon think so. */
	return errno != ENXIO && errno != ENODEV;
}

enum tun_state tun_state(int fd)
{
	struct ifreq ifr;
	struct stat mine, its;

	memset(&ifr, 0, sizeof(ifr));
	/* A deleted TUN leaves its descriptors detached: EBADFD. */
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADFD || errno == EBADF ? TUN_GONE : TUN_HERE;
	int ns = ioctl(fd, TUNGETDEVNETNS);
	if (ns < 0)
		return TUN_HERE; /* a kernel before 5.2 cannot say: assume it stayed */
	bool here = fstat(ns, &its) < 0 || stat("/proc/self/ns/net", &mine) < 0 ||
		    (its.st_dev == mine.st_dev && its.st_ino == mine.st_ino);
	close(ns);
	return here ? TUN_HERE : TUN_ELSEWHERE;
}

int tun_read_batch(int fd, struct pkt **pkts, int n)
{
	int i = 0;

	while (i < n) {
		struct pkt *k = pkts[i];
		size_t room = k->cap - (size_t)(k->data - k->buf);
		ssize_t r = read(fd, k->data, room);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* Hand over what we have; the error comes back on the
			 * next call. */
			return i ? i : -errno;
		}
		if (r == 0)
			break;
		k->len = (uint32_t)r;
		i++;
	}
	return i;
}

int tun_write(int fd, const struct pkt *k)
{
	ssize_t r;

	do
		r = write(fd, k->data, k->len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	/* A tun takes a packet whole or not at all. */
	return (size_t)r == k->len ? 0 : -EIO;
}
