// SPDX-License-Identifier: MIT
/* Prefixes and endpoints: parse, print, mask, compare; and what is refused. */
#include "unit.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>

#include "netaddr.h"

static void assert_cidr_round_trip(const char *in, bool allow_no_prefix, const char *want)
{
	struct cidr c;
	char out[CIDR_STR_MAX];

	assert_true(cidr_parse(&c, in, allow_no_prefix));
	cidr_format(out, &c);
	assert_string_equal(out, want);
}

static void test_cidr_v4(void **state)
{
	struct cidr c;

	assert_true(cidr_parse(&c, "192.0.2.1/24", false));
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.addr.bytes[0], 192);
	assert_int_equal(c.addr.bytes[3], 1);
	assert_cidr_round_trip("192.0.2.1/24", false, "192.0.2.1/24");
	assert_cidr_round_trip("0.0.0.0/0", false, "0.0.0.0/0");
	assert_cidr_round_trip("255.255.255.255/32", false, "255.255.255.255/32");
	/* A bare address is a host route when allowed. */
	assert_cidr_round_trip("10.1.2.3", true, "10.1.2.3/32");
	assert_false(cidr_parse(&c, "10.1.2.3", false));
}

static void test_cidr_v6(void **state)
{
	struct cidr c;

	assert_true(cidr_parse(&c, "2001:db8::1/64", false));
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 64);
	assert_int_equal(c.addr.bytes[0], 0x20);
	assert_int_equal(c.addr.bytes[15], 1);
	assert_cidr_round_trip("2001:db8::1/64", false, "2001:db8::1/64");
	assert_cidr_round_trip("::/0", false, "::/0");
	assert_cidr_round_trip("2001:DB8:0:0:0:0:0:1/128", false, "2001:db8::1/128");
	assert_cidr_round_trip("::ffff:192.0.2.1/128", false, "::ffff:192.0.2.1/128");
	assert_cidr_round_trip("fd00::1", true, "fd00::1/128");
}

static void test_cidr_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"/24",
		"10.0.0.300/24",
		"10.0.0.1/33",
		"::/129",
		"10.0.0.1/",
		"10.0.0.1/-1",
		"10.0.0.1/+8",
		"10.0.0.1/ 8",
		"10.0.0.1/0008",
		"10.0.0.1/24x",
		"10.1/8",
		"10.0.0/24",
		"0x0a.0.0.1/8",
		"010.0.0.1/8" /* inet_pton refuses octal-looking quads */,
		"fe80::1%eth0/64",
		"2001:db8:::1/64",
		"2001:db8::g/64",
		" 10.0.0.1/8",
		"10.0.0.1/8 ",
		"10.0.0.1/8/8",
		"host.example/32",
	};
	struct cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr_parse(&c, bad[i], true))
			fail_msg("cidr_parse accepted '%s'", bad[i]);
		assert_int_equal(c.family, 0); /* cleared on failure */
	}
}

static void test_cidr_mask(void **state)
{
	struct cidr c;
	char out[CIDR_STR_MAX];

	assert_true(cidr_parse(&c, "192.0.2.77/26", false));
	cidr_mask(&c);
	cidr_format(out, &c);
	assert_string_equal(out, "192.0.2.64/26");

	assert_true(cidr_parse(&c, "10.255.255.255/0", false));
	cidr_mask(&c);
	cidr_format(out, &c);
	assert_string_equal(out, "0.0.0.0/0");

	assert_true(cidr_parse(&c, "10.1.2.3/32", false));
	cidr_mask(&c);
	cidr_format(out, &c);
	assert_string_equal(out, "10.1.2.3/32");

	assert_true(cidr_parse(&c, "2001:db8:abcd::1/35", false));
	cidr_mask(&c);
	cidr_format(out, &c);
	assert_string_equal(out, "2001:db8:a000::/35");

	assert_true(cidr_parse(&c, "fd12:3456:789a:1::99/64", false));
	cidr_mask(&c);
	cidr_format(out, &c);
	assert_string_equal(out, "fd12:3456:789a:1::/64");
}

static void test_endpoint_split(void **state)
{
	char host[64];
	uint16_t port = 0;

	assert_true(endpoint_split("[2001:db8::1]:51820", host, sizeof(host), &port));
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 51820);
	assert_true(endpoint_split("192.0.2.1:51820", host, sizeof(host), &port));
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 51820);
	assert_true(endpoint_split("host.example:1", host, sizeof(host), &port));
	assert_string_equal(host, "host.example");
	assert_int_equal(port, 1);
	assert_true(endpoint_split("vpn.example.org:65535", host, sizeof(host), &port));
	assert_int_equal(port, 65535);

	static const char *const bad[] = {
		"192.0.2.1",
		"192.0.2.1:",
		"192.0.2.1:0",
		"192.0.2.1:65536",
		"192.0.2.1:99999999999",
		"192.0.2.1:-1",
		"192.0.2.1:+1",
		"192.0.2.1: 1",
		"192.0.2.1:1x",
		"2001:db8::1:51820",
		"[2001:db8::1]51820",
		"[2001:db8::1]",
		"[2001:db8::1:51820",
		":51820",
		"[]:1",
		"ho st:1",
		"host/x:1",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (endpoint_split(bad[i], host, sizeof(host), &port))
			fail_msg("endpoint_split accepted '%s'", bad[i]);

	/* The host must fit, with its NUL. */
	assert_false(endpoint_split("host.example:1", host, 12, &port));
	assert_true(endpoint_split("host.example:1", host, 13, &port));
}

static void assert_endpoint_round_trip(const char *in, const char *want)
{
	struct endpoint e;
	char out[ENDPOINT_STR_MAX];

	assert_true(endpoint_parse_numeric(&e, in));
	endpoint_format(out, &e);
	assert_string_equal(out, want);
}

static void test_endpoint_numeric(void **state)
{
	struct endpoint e, f;
	char lo[IF_NAMESIZE], want[ENDPOINT_STR_MAX];

	assert_true(endpoint_parse_numeric(&e, "192.0.2.1:51820"));
	assert_int_equal(e.addr.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(e.addr.in4.sin_port), 51820);
	assert_int_equal(ntohl(e.addr.in4.sin_addr.s_addr), 0xc0000201);
	assert_int_equal(endpoint_len(&e), sizeof(struct sockaddr_in));

	assert_true(endpoint_parse_numeric(&f, "[2001:db8::1]:443"));
	assert_int_equal(f.addr.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(f.addr.in6.sin6_port), 443);
	assert_int_equal(f.addr.in6.sin6_addr.s6_addr[15], 1);
	assert_int_equal(endpoint_len(&f), sizeof(struct sockaddr_in6));

	assert_endpoint_round_trip("192.0.2.1:51820", "192.0.2.1:51820");
	assert_endpoint_round_trip("[2001:DB8:0::1]:1", "[2001:db8::1]:1");
	assert_endpoint_round_trip("[::ffff:192.0.2.1]:7", "[::ffff:192.0.2.1]:7");

	/* A scope by number prints by name when the interface exists. */
	assert_true(endpoint_parse_numeric(&e, "[fe80::1%1]:51820"));
	assert_int_equal(e.addr.in6.sin6_scope_id, 1);
	if (if_indextoname(1, lo)) {
		snprintf(want, sizeof(want), "[fe80::1%%%s]:51820", lo);
		assert_endpoint_round_trip("[fe80::1%1]:51820", want);
		assert_endpoint_round_trip(want, want); /* and a scope by name parses */
	}

	static const char *const bad[] = {
		"host.example:51820", "[192.0.2.1]:1",       "10.1:5",       "192.0.2.256:1",
		"192.0.2.1:0",        "[2001:db8::1]:0",     "[fe80::1%]:1", "[fe80::1%no-such-if-xyz]:1",
		"2001:db8::1:1",      "[2001:db8::1]:65536", "0x7f.0.0.1:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (endpoint_parse_numeric(&e, bad[i]))
			fail_msg("endpoint_parse_numeric accepted '%s'", bad[i]);
		assert_int_equal(e.addr.sa.sa_family, AF_UNSPEC);
		assert_int_equal(endpoint_len(&e), 0);
	}
	char out[ENDPOINT_STR_MAX];
	endpoint_format(out, &e);
	assert_string_equal(out, "(none)");
}

static void test_endpoint_equal(void **state)
{
	struct endpoint a, b, c, d, none1, none2;

	assert_true(endpoint_parse_numeric(&a, "192.0.2.1:51820"));
	assert_true(endpoint_parse_numeric(&b, "192.0.2.1:51820"));
	assert_true(endpoint_parse_numeric(&c, "192.0.2.1:51821"));
	assert_true(endpoint_parse_numeric(&d, "[::ffff:192.0.2.1]:51820"));
	assert_true(endpoint_equal(&a, &b));
	assert_false(endpoint_equal(&a, &c));
	assert_false(endpoint_equal(&a, &d)); /* v4-mapped is another family */

	assert_true(endpoint_parse_numeric(&a, "[fe80::1%1]:5"));
	assert_true(endpoint_parse_numeric(&b, "[fe80::1%2]:5"));
	assert_true(endpoint_parse_numeric(&c, "[fe80::1%1]:5"));
	assert_false(endpoint_equal(&a, &b)); /* scopes differ */
	assert_true(endpoint_equal(&a, &c));

	assert_false(endpoint_parse_numeric(&none1, "x"));
	assert_false(endpoint_parse_numeric(&none2, "y"));
	assert_true(endpoint_equal(&none1, &none2));
	assert_false(endpoint_equal(&none1, &a));
}

/* The one place IPv4-mapped addresses are unfolded (a dual-stack socket's
 * peer, a configured [::ffff:a.b.c.d]) and folded (to send on it). */
static void test_v4_mapped(void **state)
{
	struct endpoint mapped, v4, v6, e;
	struct sockaddr_in6 s6;
	char text[ENDPOINT_STR_MAX];

	assert_true(endpoint_parse_numeric(&mapped, "[::ffff:192.0.2.1]:51820"));
	assert_int_equal(mapped.addr.sa.sa_family, AF_INET6);
	endpoint_from_sockaddr(&e, &mapped.addr.sa);
	assert_int_equal(e.addr.sa.sa_family, AF_INET);
	endpoint_format(text, &e);
	assert_string_equal(text, "192.0.2.1:51820");

	/* ...and back: the same bytes as the mapped form. */
	assert_true(endpoint_parse_numeric(&v4, "192.0.2.1:51820"));
	assert_true(endpoint_to_sin6(&s6, &v4));
	assert_int_equal(s6.sin6_family, AF_INET6);
	assert_int_equal(s6.sin6_port, mapped.addr.in6.sin6_port);
	assert_memory_equal(&s6.sin6_addr, &mapped.addr.in6.sin6_addr, sizeof(s6.sin6_addr));
	endpoint_from_sockaddr(&e, (const struct sockaddr *)&s6);
	assert_true(endpoint_equal(&e, &v4));

	/* Plain IPv6 stays IPv6 (its flow label dropped); IPv4 stays IPv4. */
	assert_true(endpoint_parse_numeric(&v6, "[2001:db8::1]:51820"));
	v6.addr.in6.sin6_flowinfo = htonl(0x12345);
	endpoint_from_sockaddr(&e, &v6.addr.sa);
	assert_int_equal(e.addr.sa.sa_family, AF_INET6);
	assert_int_equal(e.addr.in6.sin6_flowinfo, 0);
	assert_memory_equal(&e.addr.in6.sin6_addr, &v6.addr.in6.sin6_addr, sizeof(s6.sin6_addr));
	assert_true(endpoint_to_sin6(&s6, &v6));
	endpoint_from_sockaddr(&e, &v4.addr.sa);
	assert_true(endpoint_equal(&e, &v4));

	/* Anything else is no IP endpoint. */
	struct sockaddr un = { .sa_family = AF_UNIX };
	endpoint_from_sockaddr(&e, &un);
	assert_int_equal(e.addr.sa.sa_family, AF_UNSPEC);
	assert_false(endpoint_to_sin6(&s6, &e));
}

static void test_endpoint_resolve(void **state)
{
	struct endpoint e;

	assert_int_equal(endpoint_resolve(&e, "192.0.2.9:1234"), 0);
	assert_int_equal(e.addr.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(e.addr.in4.sin_port), 1234);
	assert_int_equal(endpoint_resolve(&e, "[::1]:5"), 0);
	assert_int_equal(e.addr.sa.sa_family, AF_INET6);
	/* Names go to getaddrinfo; localhost comes from /etc/hosts. */
	assert_int_equal(endpoint_resolve(&e, "localhost:51820"), 0);
	assert_true(e.addr.sa.sa_family == AF_INET || e.addr.sa.sa_family == AF_INET6);
	assert_int_equal(ntohs(e.addr.sa.sa_family == AF_INET ? e.addr.in4.sin_port : e.addr.in6.sin6_port), 51820);
	/* Malformed ones fail before any lookup. */
	assert_int_equal(endpoint_resolve(&e, "localhost"), EAI_NONAME);
	assert_int_equal(endpoint_resolve(&e, "[not-an-address]:1"), EAI_NONAME);
	assert_int_equal(endpoint_resolve(&e, "localhost:0"), EAI_NONAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_v4),        cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_cidr_rejects),   cmocka_unit_test(test_cidr_mask),
		cmocka_unit_test(test_endpoint_split), cmocka_unit_test(test_endpoint_numeric),
		cmocka_unit_test(test_endpoint_equal), cmocka_unit_test(test_endpoint_resolve),
		cmocka_unit_test(test_v4_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
