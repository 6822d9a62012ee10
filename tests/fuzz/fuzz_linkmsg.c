// SPDX-License-Identifier: MIT
/*
 * The link watch's parser (linkwatch_parse) on any bytes: the first four are
 * the index of the link asked about (so the fuzzer reaches the attributes
 * of "our" link), the rest one datagram as read from the netlink socket.
 * Beyond "no read past the end": an MTU is only reported with a change, it
 * is four bytes the datagram holds, and the same bytes parse the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linkwatch_event ev = { 0 }, again = { 0 };
	int32_t ifindex;

	if (size < sizeof(ifindex))
		return 0;
	memcpy(&ifindex, data, sizeof(ifindex));
	data += sizeof(ifindex);
	size -= sizeof(ifindex);
	/* An exact copy, so that ASan sees any read past its end. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	linkwatch_parse(buf, size, ifindex, &ev);
	if (ev.mtu && (!ev.changed || !memmem(buf, size, &ev.mtu, sizeof(ev.mtu))))
		abort();
	linkwatch_parse(buf, size, ifindex, &again);
	if (ev.changed != again.changed || ev.deleted != again.deleted || ev.mtu != again.mtu ||
	    ev.lost != again.lost || ev.malformed != again.malformed)
		abort();
	free(buf);
	return 0;
}
