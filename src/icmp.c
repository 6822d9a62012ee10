// SPDX-License-Identifier: MIT
#include "icmp.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#define REPLY_TTL 64

uint16_t icmp_checksum(const uint8_t *buf, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool is_own(int family, const uint8_t *addr, const struct cidr *own, size_t n)
{
	size_t alen = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		if (own[i].family == family && !memcmp(own[i].addr.bytes, addr, alen))
			return true;
	return false;
}

static bool reply4(uint8_t *p, size_t len, const struct cidr *own, size_t n)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t tot = (size_t)p[2] << 8 | p[3];

	if (ihl < 20 || tot < ihl + 8 || tot > len || p[9] != IPPROTO_ICMP)
		return false;
	/* Options (record route, timestamps, source routes) want processing a
	 * reply in place cannot give: those requests are the kernel's. */
	if (ihl != 20)
		return false;
	/* Fragments (MF set or an offset) are the kernel's business. */
	if (((p[6] & 0x3f) | p[7]) != 0)
		return false;
	/* A kernel drops a header whose checksum is wrong (ip_rcv); answering
	 * it would also hand back a header we had silently repaired. */
	if (icmp_checksum(p, ihl, 0) != 0)
		return false;
	uint8_t *icmp = p + ihl;
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0 || !is_own(AF_INET, p + 16, own, n))
		return false;
	if (icmp_checksum(icmp, tot - ihl, 0) != 0)
		return false; /* a corrupt request gets no answer, as from a kernel */
	uint8_t tmp[4];
	memcpy(tmp, p + 12, 4);
	memcpy(p + 12, p + 16, 4);
	memcpy(p + 16, tmp, 4);
	p[8] = REPLY_TTL;
	put16(p + 10, 0);
	put16(p + 10, icmp_checksum(p, ihl, 0));
	icmp[0] = ICMP_ECHOREPLY;
	put16(icmp + 2, 0);
	put16(icmp + 2, icmp_checksum(icmp, tot - ihl, 0));
	return true;
}

/* The ICMPv6 checksum covers a pseudo-header of both addresses, the length
 * and the next header (RFC 8200 section 8.1). */
static uint32_t pseudo6(const uint8_t *ip6, uint32_t plen)
{
	uint32_t sum = 0;
	for (int i = 8; i < 40; i += 2)
		sum += (uint32_t)ip6[i] << 8 | ip6[i + 1];
	sum += plen >> 16;
	sum += plen & 0xffff;
	sum += IPPROTO_ICMPV6;
	return sum;
}

static bool reply6(uint8_t *p, size_t len, const struct cidr *own, size_t n)
{
	size_t plen = (size_t)p[4] << 8 | p[5];

	if (len < 40 + 8 || 40 + plen > len || plen < 8 || p[6] != IPPROTO_ICMPV6)
		return false;
	uint8_t *icmp = p + 40;
	if (icmp[0] != ICMP6_ECHO_REQUEST || icmp[1] != 0 || !is_own(AF_INET6, p + 24, own, n))
		return false;
	if (icmp_checksum(icmp, plen, pseudo6(p, (uint32_t)plen)) != 0)
		return false;
	uint8_t tmp[16];
	memcpy(tmp, p + 8, 16);
	memcpy(p + 8, p + 24, 16);
	memcpy(p + 24, tmp, 16);
	p[7] = REPLY_TTL;
	icmp[0] = ICMP6_ECHO_REPLY;
	put16(icmp + 2, 0);
	put16(icmp + 2, icmp_checksum(icmp, plen, pseudo6(p, (uint32_t)plen)));
	return true;
}

bool icmp_echo_reply(uint8_t *pkt, size_t len, const struct cidr *own, size_t n)
{
	if (len >= 20 && (pkt[0] >> 4) == 4)
		return reply4(pkt, len, own, n);
	if (len >= 40 && (pkt[0] >> 4) == 6)
		return reply6(pkt, len, own, n);
	return false;
}
