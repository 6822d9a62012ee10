// SPDX-License-Identifier: MIT
/*
 * The ReplyPing echo responder (icmp.c): requests for our own addresses become
 * correct replies; everything else is left byte for byte as it was. Checksums
 * are verified with a summing routine written here, not with icmp_checksum.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "icmp.h"

#define OWN_V4 "198.18.0.1"
#define PEER_V4 "198.18.0.2"
#define OWN_V6 "2001:db8:77::1"
#define PEER_V6 "2001:db8:77::2"

/* Our addresses, as core passes them: the interface's Address entries. */
static struct cidr own[2];

static int setup(void **state)
{
	assert_true(cidr_parse(&own[0], OWN_V4 "/24", false));
	assert_true(cidr_parse(&own[1], OWN_V6 "/64", false));
	return 0;
}

/* RFC 1071, summed a word at a time into 64 bits and folded at the end: the
 * one's complement sum of a region holding a valid checksum is 0xffff. */
static uint16_t ones_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

static uint16_t checksum_of(const uint8_t *p, size_t len, uint64_t sum)
{
	return (uint16_t)~ones_sum(p, len, sum);
}

/* The IPv6 pseudo-header (RFC 8200 8.1): source, destination, upper-layer
 * length, next header 58. */
static uint64_t pseudo_v6(const uint8_t *ip6, size_t plen)
{
	uint64_t sum = ones_sum(ip6 + 8, 32, 0);
	return sum + (plen >> 16) + (plen & 0xffff) + 58;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An IPv4 echo request src -> dst with `opt_words` words of IP options and
 * `payload` bytes of data after the 8-byte ICMP header. Returns its length. */
static size_t make_v4(uint8_t *p, const char *src, const char *dst, size_t opt_words, size_t payload)
{
	size_t ihl = 20 + 4 * opt_words, tot = ihl + 8 + payload;

	memset(p, 0, tot);
	p[0] = (uint8_t)(0x40 | (ihl / 4));
	put16(p + 2, (uint16_t)tot);
	put16(p + 4, 0x1234); /* id */
	p[6] = 0x40;          /* DF, as ping sets it */
	p[8] = 17;            /* a TTL the reply must not keep */
	p[9] = IPPROTO_ICMP;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	for (size_t i = 0; i < opt_words * 4; i++)
		p[20 + i] = 1; /* NOP options */
	put16(p + 10, checksum_of(p, ihl, 0));
	uint8_t *icmp = p + ihl;
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0xbeef);
	put16(icmp + 6, 7);
	for (size_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + 3);
	put16(icmp + 2, checksum_of(icmp, 8 + payload, 0));
	return tot;
}

static size_t make_v6(uint8_t *p, const char *src, const char *dst, size_t payload)
{
	size_t plen = 8 + payload;

	memset(p, 0, 40 + plen);
	p[0] = 0x60;
	p[1] = 0x0a; /* a traffic class and flow label that the reply keeps */
	p[3] = 0x5c;
	put16(p + 4, (uint16_t)plen);
	p[6] = 58; /* ICMPv6 */
	p[7] = 255;
	assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
	uint8_t *icmp = p + 40;
	icmp[0] = 128; /* echo request */
	put16(icmp + 4, 0xcafe);
	put16(icmp + 6, 3);
	for (size_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(i ^ 0x5a);
	put16(icmp + 2, checksum_of(icmp, plen, pseudo_v6(p, plen)));
	return 40 + plen;
}

/* Re-sums the ICMP checksum of a v4 packet after a field was changed. */
static void fix_icmp4(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 15) * 4, tot = get16(p + 2);
	put16(p + ihl + 2, 0);
	put16(p + ihl + 2, checksum_of(p + ihl, tot - ihl, 0));
}

static void fix_ip4(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	put16(p + 10, 0);
	put16(p + 10, checksum_of(p, ihl, 0));
}

static void fix_icmp6(uint8_t *p)
{
	size_t plen = get16(p + 4);
	put16(p + 42, 0);
	put16(p + 42, checksum_of(p + 40, plen, pseudo_v6(p, plen)));
}

static void assert_v4_reply(const uint8_t *req, const uint8_t *rep, size_t len)
{
	size_t ihl = (size_t)(req[0] & 15) * 4, tot = get16(req + 2);

	assert_int_equal(rep[0], req[0]);
	assert_int_equal(get16(rep + 2), tot);
	assert_memory_equal(rep + 4, req + 4, 4); /* id, flags, offset */
	assert_int_equal(rep[8], 64);             /* TTL */
	assert_int_equal(rep[9], IPPROTO_ICMP);
	assert_memory_equal(rep + 12, req + 16, 4); /* addresses swapped */
	assert_memory_equal(rep + 16, req + 12, 4);
	assert_memory_equal(rep + 20, req + 20, ihl - 20); /* options kept */
	assert_int_equal(ones_sum(rep, ihl, 0), 0xffff);   /* header checksum valid */
	assert_int_equal(rep[ihl], 0);                     /* echo reply */
	assert_int_equal(rep[ihl + 1], 0);
	assert_memory_equal(rep + ihl + 4, req + ihl + 4, tot - ihl - 4); /* id, seq, data */
	assert_int_equal(ones_sum(rep + ihl, tot - ihl, 0), 0xffff);      /* ICMP checksum valid */
	assert_memory_equal(rep + tot, req + tot, len - tot);             /* bytes past the packet */
}

static void assert_v6_reply(const uint8_t *req, const uint8_t *rep, size_t len)
{
	size_t plen = get16(req + 4);

	assert_memory_equal(rep, req, 7); /* version, class, flow, length, next header */
	assert_int_equal(rep[7], 64);     /* hop limit */
	assert_memory_equal(rep + 8, req + 24, 16);
	assert_memory_equal(rep + 24, req + 8, 16);
	assert_int_equal(rep[40], 129); /* echo reply */
	assert_int_equal(rep[41], 0);
	assert_memory_equal(rep + 44, req + 44, plen - 4);
	assert_int_equal(ones_sum(rep + 40, plen, pseudo_v6(rep, plen)), 0xffff);
	assert_memory_equal(rep + 40 + plen, req + 40 + plen, len - 40 - plen);
}

static void test_checksum_rfc1071(void **state)
{
	/* The worked example of RFC 1071 section 3: the sum is ddf2. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(icmp_checksum(b, sizeof(b), 0), (uint16_t)~0xddf2);
	assert_int_equal(checksum_of(b, sizeof(b), 0), (uint16_t)~0xddf2);
	/* An odd length pads with a zero byte. */
	assert_int_equal(icmp_checksum(b, 3, 0), checksum_of(b, 3, 0));
}

static void test_v4_reply(void **state)
{
	static const size_t payloads[] = { 0, 1, 56, 57, 1392 };
	uint8_t req[1500], rep[1500];

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t len = make_v4(req, PEER_V4, OWN_V4, 0, payloads[i]);
		assert_int_equal(ones_sum(req, 20, 0), 0xffff); /* the builder is right */
		memcpy(rep, req, len);
		assert_true(icmp_echo_reply(rep, len, own, 2));
		assert_v4_reply(req, rep, len);
	}
}

static void test_v4_reply_with_trailer_not_options(void **state)
{
	uint8_t req[256], rep[256];
	size_t len = make_v4(req, PEER_V4, OWN_V4, 0, 33);

	/* A buffer longer than the packet (padding after Total Length). */
	memset(req + len, 0xee, 16);
	memcpy(rep, req, len + 16);
	assert_true(icmp_echo_reply(rep, len + 16, own, 2));
	assert_v4_reply(req, rep, len + 16);

	/* IP options (record route, timestamps) need processing a reply in
	 * place cannot give: such requests are left to the kernel. */
	len = make_v4(req, PEER_V4, OWN_V4, 2, 33);
	memcpy(rep, req, len);
	assert_false(icmp_echo_reply(rep, len, own, 2));
	assert_memory_equal(rep, req, len);
}

static void test_v6_reply(void **state)
{
	static const size_t payloads[] = { 0, 1, 56, 57, 1232 };
	uint8_t req[1500], rep[1500];

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t len = make_v6(req, PEER_V6, OWN_V6, payloads[i]);
		memset(req + len, 0xee, 8);
		memcpy(rep, req, len + 8);
		assert_true(icmp_echo_reply(rep, len + 8, own, 2));
		assert_v6_reply(req, rep, len + 8);
	}
}

/* Each case must come back false with the packet untouched. */
static void assert_untouched(const uint8_t *pkt, size_t len, const char *why)
{
	uint8_t copy[1600];

	assert_true(len <= sizeof(copy));
	memcpy(copy, pkt, len);
	if (icmp_echo_reply(copy, len, own, 2)) {
		print_error("answered: %s\n", why);
		fail();
	}
	if (memcmp(copy, pkt, len)) {
		print_error("modified: %s\n", why);
		fail();
	}
}

static void test_v4_left_alone(void **state)
{
	uint8_t p[256];
	size_t len;

	len = make_v4(p, PEER_V4, "198.18.0.9", 0, 56);
	assert_untouched(p, len, "another host's address");
	len = make_v4(p, PEER_V4, "198.18.0.0", 0, 56);
	assert_untouched(p, len, "our subnet's network address");
	len = make_v4(p, PEER_V4, "198.18.0.255", 0, 56);
	assert_untouched(p, len, "our subnet's broadcast address");
	/* Not ours without the interface: no own addresses at all. */
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	{
		uint8_t copy[256];
		memcpy(copy, p, len);
		assert_false(icmp_echo_reply(copy, len, own, 0));
		assert_memory_equal(copy, p, len);
		/* Only the IPv6 address configured. */
		assert_false(icmp_echo_reply(copy, len, own + 1, 1));
		assert_memory_equal(copy, p, len);
	}

	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[20] = 0; /* an echo reply */
	fix_icmp4(p);
	assert_untouched(p, len, "an echo reply");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[20] = 13; /* timestamp request */
	fix_icmp4(p);
	assert_untouched(p, len, "a timestamp request");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[21] = 1; /* code 1 */
	fix_icmp4(p);
	assert_untouched(p, len, "an echo request with a nonzero code");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[9] = IPPROTO_UDP;
	fix_ip4(p);
	assert_untouched(p, len, "a UDP packet");

	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[6] |= 0x20; /* more fragments */
	fix_ip4(p);
	assert_untouched(p, len, "a first fragment (MF)");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[7] = 0x10; /* offset 128 bytes */
	fix_ip4(p);
	assert_untouched(p, len, "a later fragment (offset)");

	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[30] ^= 0x40;
	assert_untouched(p, len, "a bad ICMP checksum");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[10] ^= 0x01;
	assert_untouched(p, len, "a bad IP header checksum");

	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	assert_untouched(p, len - 1, "shorter than its Total Length");
	assert_untouched(p, 27, "shorter than an ICMP header");
	assert_untouched(p, 19, "shorter than an IP header");
	assert_untouched(p, 0, "empty");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	put16(p + 2, 24); /* Total Length leaves no room for the ICMP header */
	fix_ip4(p);
	assert_untouched(p, len, "a Total Length shorter than IP + ICMP headers");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[0] = 0x44; /* IHL 4: shorter than the fixed header */
	assert_untouched(p, len, "an IHL below 5");
	len = make_v4(p, PEER_V4, OWN_V4, 0, 56);
	p[0] = 0x4f; /* IHL 15: 60 bytes of header */
	put16(p + 2, 64);
	assert_untouched(p, 64, "an IHL that leaves no room for ICMP");
}

static void test_v6_left_alone(void **state)
{
	uint8_t p[256];
	size_t len;

	len = make_v6(p, PEER_V6, "2001:db8:77::9", 56);
	assert_untouched(p, len, "another host's address");
	len = make_v6(p, PEER_V6, "ff02::1", 56);
	assert_untouched(p, len, "all-nodes multicast");
	len = make_v6(p, PEER_V6, "2001:db8:77::", 56);
	assert_untouched(p, len, "our subnet's anycast address");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	{
		uint8_t copy[256];
		memcpy(copy, p, len);
		assert_false(icmp_echo_reply(copy, len, own, 1)); /* only the IPv4 address configured */
		assert_memory_equal(copy, p, len);
	}

	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[40] = 129;
	fix_icmp6(p);
	assert_untouched(p, len, "an echo reply");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[40] = 135; /* neighbour solicitation */
	fix_icmp6(p);
	assert_untouched(p, len, "a neighbour solicitation");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[41] = 1;
	fix_icmp6(p);
	assert_untouched(p, len, "an echo request with a nonzero code");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[6] = 44; /* a fragment header would come first */
	assert_untouched(p, len, "next header Fragment");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[6] = 0; /* hop-by-hop options */
	assert_untouched(p, len, "next header Hop-by-Hop");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[6] = 17;
	assert_untouched(p, len, "UDP");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[60] ^= 0x01;
	assert_untouched(p, len, "a bad ICMPv6 checksum");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[9] ^= 0x01; /* the source changes the pseudo-header sum */
	assert_untouched(p, len, "a checksum that does not cover the pseudo-header");

	len = make_v6(p, PEER_V6, OWN_V6, 56);
	assert_untouched(p, len - 1, "shorter than its Payload Length");
	assert_untouched(p, 47, "shorter than an ICMPv6 header");
	assert_untouched(p, 39, "shorter than an IPv6 header");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	put16(p + 4, 4); /* payload too short for an ICMPv6 header */
	assert_untouched(p, len, "a Payload Length below 8");
	len = make_v6(p, PEER_V6, OWN_V6, 56);
	p[0] = 0x50; /* version 5 */
	assert_untouched(p, len, "IP version 5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_v4_reply),
		cmocka_unit_test(test_v4_reply_with_trailer_not_options),
		cmocka_unit_test(test_v6_reply),
		cmocka_unit_test(test_v4_left_alone),
		cmocka_unit_test(test_v6_left_alone),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
