// SPDX-License-Identifier: MIT
/*
 * The link watch's parser (linkwatch_parse) on datagrams built here: what it
 * takes from well-formed RTM_NEWLINK / RTM_DELLINK messages, and that no
 * length in a broken one is trusted (each cut of a good datagram, lengths
 * past the end, lengths that overflow a signed int as libmnl's
 * mnl_nlmsg_ok would let through). The socket against the kernel is in
 * test_netlink.c.
 */
#include "unit.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "linkwatch.h"

#define OURS 7

struct dgram {
	uint8_t b[4096];
	size_t len;
};

static void put(struct dgram *d, const void *p, size_t n)
{
	assert_true(d->len + n <= sizeof(d->b));
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

static void pad(struct dgram *d)
{
	static const uint8_t zero[4];
	put(d, zero, (4 - d->len % 4) % 4);
}

/* Starts a message; msg_end sets its length. Returns its offset. */
static size_t msg_begin(struct dgram *d, uint16_t type)
{
	struct nlmsghdr h = { .nlmsg_type = type };
	size_t at = d->len;
	put(d, &h, sizeof(h));
	return at;
}

static void msg_end(struct dgram *d, size_t at)
{
	uint32_t len = (uint32_t)(d->len - at);
	memcpy(d->b + at + offsetof(struct nlmsghdr, nlmsg_len), &len, sizeof(len));
	pad(d);
}

static void put_ifinfo(struct dgram *d, uint8_t family, int index, unsigned flags)
{
	struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = index, .ifi_flags = flags };
	put(d, &ifi, sizeof(ifi));
}

static void put_attr(struct dgram *d, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(sizeof(a) + n), .nla_type = type };
	put(d, &a, sizeof(a));
	put(d, p, n);
	pad(d);
}

/* An RTM_NEWLINK as the kernel sends it: name, MTU, some other attributes. */
static void newlink(struct dgram *d, int index, uint32_t mtu)
{
	size_t at = msg_begin(d, RTM_NEWLINK);
	uint32_t txq = 500;
	put_ifinfo(d, AF_UNSPEC, index, IFF_UP);
	put_attr(d, IFLA_IFNAME, "sl0", 4);
	put_attr(d, IFLA_TXQLEN, &txq, sizeof(txq));
	put_attr(d, IFLA_MTU, &mtu, sizeof(mtu));
	put_attr(d, IFLA_OPERSTATE, "\x06", 1);
	msg_end(d, at);
}

static struct linkwatch_event parse(const struct dgram *d)
{
	struct linkwatch_event ev = { 0 };
	linkwatch_parse(d->b, d->len, OURS, &ev);
	return ev;
}

static void test_newlink(void **state)
{
	struct dgram d = { 0 };

	(void)state;
	newlink(&d, OURS, 1280);
	struct linkwatch_event ev = parse(&d);
	assert_true(ev.changed);
	assert_false(ev.deleted);
	assert_false(ev.lost);
	assert_int_equal(ev.mtu, 1280);
	assert_int_equal(ev.malformed, 0);
}

/* Several in one datagram: the last of ours wins, others are skipped. */
static void test_last_wins(void **state)
{
	struct dgram d = { 0 };

	(void)state;
	newlink(&d, OURS, 1280);
	newlink(&d, OURS + 1, 1500);
	newlink(&d, OURS, 8000);
	newlink(&d, OURS + 2, 9000);
	struct linkwatch_event ev = parse(&d);
	assert_int_equal(ev.mtu, 8000);
	assert_int_equal(ev.malformed, 0);

	/* Across datagrams too: the caller keeps ev. */
	struct dgram e = { 0 };
	newlink(&e, OURS, 1420);
	linkwatch_parse(e.b, e.len, OURS, &ev);
	assert_int_equal(ev.mtu, 1420);
}

static void test_others_only(void **state)
{
	struct dgram d = { 0 };

	(void)state;
	newlink(&d, OURS + 1, 1280);
	size_t at = msg_begin(&d, RTM_DELLINK);
	put_ifinfo(&d, AF_UNSPEC, OURS + 1, 0);
	msg_end(&d, at);
	struct linkwatch_event ev = parse(&d);
	assert_false(ev.changed);
	assert_false(ev.deleted);
	assert_int_equal(ev.mtu, 0);
}

/* Without IFLA_MTU: changed, and the MTU is not made up. */
static void test_no_mtu(void **state)
{
	struct dgram d = { 0 };
	size_t at = msg_begin(&d, RTM_NEWLINK);

	(void)state;
	put_ifinfo(&d, AF_UNSPEC, OURS, 0);
	put_attr(&d, IFLA_IFNAME, "sl0", 4);
	msg_end(&d, at);
	struct linkwatch_event ev = parse(&d);
	assert_true(ev.changed);
	assert_int_equal(ev.mtu, 0);
	assert_int_equal(ev.malformed, 0);
}

static void test_dellink(void **state)
{
	struct dgram d = { 0 };

	(void)state;
	newlink(&d, OURS, 1280);
	size_t at = msg_begin(&d, RTM_DELLINK);
	put_ifinfo(&d, AF_UNSPEC, OURS, 0);
	msg_end(&d, at);
	struct linkwatch_event ev = parse(&d);
	assert_true(ev.deleted);
	assert_true(ev.changed);

	/* A bridge port going: the link stays. */
	struct dgram b = { 0 };
	at = msg_begin(&b, RTM_DELLINK);
	put_ifinfo(&b, AF_BRIDGE, OURS, 0);
	msg_end(&b, at);
	at = msg_begin(&b, RTM_NEWLINK);
	put_ifinfo(&b, AF_BRIDGE, OURS, 0);
	uint32_t mtu = 1500;
	put_attr(&b, IFLA_MTU, &mtu, sizeof(mtu));
	msg_end(&b, at);
	ev = parse(&b);
	assert_false(ev.deleted);
	assert_false(ev.changed);
	assert_int_equal(ev.mtu, 0);
}

static void test_overrun_and_control(void **state)
{
	struct dgram d = { 0 };

	(void)state;
	size_t at = msg_begin(&d, NLMSG_NOOP);
	msg_end(&d, at);
	at = msg_begin(&d, NLMSG_OVERRUN);
	msg_end(&d, at);
	at = msg_begin(&d, NLMSG_ERROR);
	int err = -ENOBUFS;
	put(&d, &err, sizeof(err));
	msg_end(&d, at);
	struct linkwatch_event ev = parse(&d);
	assert_true(ev.lost);
	assert_false(ev.changed);
	assert_int_equal(ev.malformed, 0);
}

static void set_u32(struct dgram *d, size_t off, uint32_t v)
{
	memcpy(d->b + off, &v, sizeof(v));
}

static void set_u16(struct dgram *d, size_t off, uint16_t v)
{
	memcpy(d->b + off, &v, sizeof(v));
}

/* Offsets in a datagram made by newlink() alone. */
#define ATTR0 (NLMSG_HDRLEN + sizeof(struct ifinfomsg)) /* IFLA_IFNAME */
#define ATTR_MTU (ATTR0 + 8 + 8)                        /* after IFLA_IFNAME and IFLA_TXQLEN */

static void test_bad_message_lengths(void **state)
{
	static const uint32_t lens[] = { 0, 1, 15, 0x80000010u, 0xffffffffu };
	(void)state;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct dgram d = { 0 };
		newlink(&d, OURS, 1280);
		set_u32(&d, 0, lens[i]);
		struct linkwatch_event ev = parse(&d);
		assert_false(ev.changed);
		assert_int_equal(ev.mtu, 0);
		assert_int_equal(ev.malformed, 1);
	}
	/* One past the datagram: where the next message starts is unknown,
	 * so the good one after it is not read either. */
	struct dgram d = { 0 };
	newlink(&d, OURS, 1280);
	size_t first = d.len;
	newlink(&d, OURS, 1400);
	set_u32(&d, 0, (uint32_t)d.len + 1);
	struct linkwatch_event ev = parse(&d);
	assert_int_equal(ev.mtu, 0);
	assert_int_equal(ev.malformed, 1);
	/* The first good, the second one's length too long: the first stands. */
	set_u32(&d, 0, (uint32_t)first);
	set_u32(&d, first, (uint32_t)(d.len - first) + 4);
	ev = parse(&d);
	assert_int_equal(ev.mtu, 1280);
	assert_int_equal(ev.malformed, 1);
}

static void test_bad_attributes(void **state)
{
	(void)state;
	struct {
		size_t off;
		uint16_t len;
	} cases[] = {
		{ ATTR0, 0 },        /* less than its header: would loop forever */
		{ ATTR0, 3 },        /* the same */
		{ ATTR0, 0xffff },   /* past the message */
		{ ATTR_MTU, 6 },     /* an MTU of 2 bytes */
		{ ATTR_MTU, 12 },    /* of 8 bytes */
		{ ATTR_MTU, 0x1000 } /* past the message */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dgram d = { 0 };
		newlink(&d, OURS, 1280);
		set_u16(&d, cases[i].off, cases[i].len);
		struct linkwatch_event ev = parse(&d);
		assert_false(ev.changed);
		assert_int_equal(ev.mtu, 0);
		assert_int_equal(ev.malformed, 1);
		assert_true(ev.lost); /* about our link: the MTU is asked again */
		/* The same message about another link is only counted. */
		struct dgram o = { 0 };
		newlink(&o, OURS + 1, 1280);
		set_u16(&o, cases[i].off, cases[i].len);
		ev = parse(&o);
		assert_false(ev.lost);
	}
	/* A message shorter than its ifinfomsg. */
	struct dgram d = { 0 };
	size_t at = msg_begin(&d, RTM_NEWLINK);
	put(&d, "\0\0\0\0\x07\0\0\0", 8);
	msg_end(&d, at);
	assert_int_equal(parse(&d).malformed, 1);
}

/* Every cut of a good datagram (as MSG_TRUNC would leave it, or a fuzzer):
 * never read past the cut, never an MTU the bytes before it do not hold. */
static void test_every_cut(void **state)
{
	struct dgram d = { 0 };
	size_t ends[3];

	(void)state;
	newlink(&d, OURS, 1280);
	ends[0] = d.len;
	newlink(&d, OURS + 1, 1500);
	ends[1] = d.len;
	newlink(&d, OURS, 8000);
	ends[2] = d.len;
	for (size_t cut = 0; cut <= d.len; cut++) {
		/* A copy of exactly `cut` bytes, so ASan sees a read past it. */
		uint8_t *b = malloc(cut ? cut : 1);
		assert_non_null(b);
		memcpy(b, d.b, cut);
		struct linkwatch_event ev = { 0 };
		linkwatch_parse(b, cut, OURS, &ev);
		free(b);
		uint32_t want = cut >= ends[2] ? 8000 : cut >= ends[0] ? 1280 : 0;
		assert_int_equal(ev.mtu, want);
		bool whole = cut == 0 || cut == ends[0] || cut == ends[1] || cut == ends[2];
		assert_int_equal(ev.malformed, whole ? 0 : 1);
	}
}

/* Any alignment: the parser copies every header it reads. */
static void test_unaligned(void **state)
{
	struct dgram d = { 0 };
	uint8_t *b;

	(void)state;
	newlink(&d, OURS, 1280);
	newlink(&d, OURS, 9000);
	b = malloc(d.len + 1);
	assert_non_null(b);
	memcpy(b + 1, d.b, d.len);
	struct linkwatch_event ev = { 0 };
	linkwatch_parse(b + 1, d.len, OURS, &ev);
	free(b);
	assert_int_equal(ev.mtu, 9000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newlink),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_others_only),
		cmocka_unit_test(test_no_mtu),
		cmocka_unit_test(test_dellink),
		cmocka_unit_test(test_overrun_and_control),
		cmocka_unit_test(test_bad_message_lengths),
		cmocka_unit_test(test_bad_attributes),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_unaligned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
