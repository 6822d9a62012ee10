/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071), its pseudo-headers (RFC 768, RFC 9293,
 * RFC 8200 section 8.1) and its incremental update (RFC 1624). Pure.
 *
 * Every value here is the number a big-endian 16-bit field holds: read a
 * field as (p[0] << 8 | p[1]) and compare it with what these return.
 *
 * A "sum" is a ones'-complement sum not yet complemented. The functions
 * return sums folded to 16 bits, so a caller may add up to 65536 of them
 * with + in a uint32_t and fold once at the end.
 */
#ifndef SLUICE_CSUM_H
#define SLUICE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Folds a 32-bit accumulation of sums to 16 bits (end-around carry). */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field's value for data whose sum is `sum`. */
static inline uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* The sum of len bytes added to sum. buf must sit at an even offset from
 * the start of the checksummed region (an odd len is padded with a zero
 * byte, so only the last piece of a region may be odd). Any alignment. */
uint16_t csum_partial(const void *buf, size_t len, uint32_t sum);
/* The same without vector instructions: what csum_partial does on a CPU
 * without AVX2 (test_csum compares the two). */
uint16_t csum_partial_portable(const void *buf, size_t len, uint32_t sum);

/* The sum of a TCP or UDP pseudo-header: source and destination (4 or 16
 * bytes each), the protocol and the transport length. */
uint16_t csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t addr_len, uint8_t proto, uint32_t l4_len);

/* A checksum field after one 16-bit word it covers changed from old to
 * new, without summing the data again (RFC 1624, equation 3). */
static inline uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	return csum_finish((uint32_t)(uint16_t)~check + (uint16_t)~old + new);
}

/* The same for a 32-bit word (a TCP sequence number). */
static inline uint16_t csum_replace32(uint16_t check, uint32_t old, uint32_t new)
{
	return csum_finish((uint32_t)(uint16_t)~check + (uint16_t) ~(old >> 16) + (uint16_t)~old + (new >> 16) +
			   (new & 0xffff));
}

#endif
