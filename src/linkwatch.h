/* SPDX-License-Identifier: MIT */
/*
 * The link watch: a NETLINK_ROUTE socket in the RTNLGRP_LINK group, on which
 * the kernel announces every change of a link of this network namespace
 * (`ip link set IFACE mtu N`, up, down, deletion) as it happens, and the
 * parser of what it reads. The parser is pure and takes any bytes: netlink
 * messages come from the kernel, but they are input from outside the
 * process, and every length in them is checked before it is used.
 */
#ifndef SLUICE_LINKWATCH_H
#define SLUICE_LINKWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the messages read said of one link, newest last. */
struct linkwatch_event {
	bool changed;       /* an RTM_NEWLINK for it: look at where the link is now */
	bool deleted;       /* an RTM_DELLINK for it: deleted, or moved to another namespace */
	uint32_t mtu;       /* IFLA_MTU of the last well-formed RTM_NEWLINK carrying one; 0: none */
	bool lost;          /* messages were lost (ENOBUFS, NLMSG_OVERRUN, a datagram cut
	                     * short): what the link is now must be asked */
	unsigned malformed; /* messages that were cut short or inconsistent, skipped */
};

/* Adds to ev what the datagram buf (len bytes, any alignment) says of the
 * link of index ifindex; other links' messages are skipped. The caller
 * zeroes ev before the first datagram. A message whose lengths do not add
 * up is counted in ev->malformed and nothing of it is taken (one about
 * ifindex also sets ev->lost, so that the MTU is asked again); one whose
 * header's length runs past the datagram ends the parse. */
void linkwatch_parse(const void *buf, size_t len, int ifindex, struct linkwatch_event *ev);

/* The watch socket, non-blocking and close-on-exec, or -errno. It takes no
 * privilege; the daemon opens it before its sandbox. */
int linkwatch_open(void);
/* Reads the datagrams waiting on fd (a bounded number: epoll calls again for
 * more) into ev through linkwatch_parse; messages not from the kernel are
 * ignored. 0, or -errno for an error other than EAGAIN, EINTR or ENOBUFS
 * (the last sets ev->lost). */
int linkwatch_read(int fd, int ifindex, struct linkwatch_event *ev);

#endif
