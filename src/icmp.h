/* SPDX-License-Identifier: MIT */
/*
 * The user-space echo responder (ReplyPing): turns an ICMP or ICMPv6 echo
 * request for one of our addresses into its reply, in place. Pure.
 */
#ifndef SLUICE_ICMP_H
#define SLUICE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* If pkt (len bytes, a whole IPv4 or IPv6 packet) is an echo request whose
 * destination is one of own[0..n), rewrites it into the echo reply (source
 * and destination swapped, TTL / hop limit reset to 64, checksums
 * recomputed) and returns true. Otherwise leaves it untouched. */
bool icmp_echo_reply(uint8_t *pkt, size_t len, const struct cidr *own, size_t n);

/* The Internet checksum (RFC 1071) of buf, starting from a partial sum. */
uint16_t icmp_checksum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
