// SPDX-License-Identifier: MIT
/*
 * hsload: handshake load for `make bench-handshake`. Plays many WireGuard
 * initiators against one responder over UDP and counts the responses the
 * responder sends back in a fixed time: its handshakes per second.
 *
 *   hsload peers SEED N
 *       prints N [Peer] sections (the public keys of initiators 0..N-1,
 *       derived from SEED), to append to the responder's configuration
 *   hsload run -k SEED -n N -r RESPONDER_PUB -t ADDR:PORT -s SRC_BASE
 *              [-a SOURCES] [-d SECONDS] [-W WARMUP] [-w WINDOW] [-i MS]
 *              [-c aes-256-gcm] [-v EVERY]
 *       sends initiations for WARMUP + SECONDS and prints one line of
 *       key=value counts of the last SECONDS (and total_responses, of the
 *       whole time, and tool_cpu_s, this tool's own CPU time)
 *   hsload selftest
 *       checks the initiation this tool builds against the project's own
 *       responder functions (handshake_initiation_sender and the rest)
 *   hsload flood -m junk|mac1|garbage -r RESPONDER_PUB -t ADDR:PORT -n COUNT -d SECONDS
 *                [-p PER_SECOND] [-s SRC_BASE -a SOURCES]
 *       a hostile network for test_flood.sh: sends initiation-sized
 *       datagrams, junk (random bytes behind the initiation's type) or
 *       initiations with a right mac1 for RESPONDER_PUB from no peer of it
 *       (what anyone who knows the public key can send), or garbage
 *       (random bytes of any length up to 1472, any type), until COUNT are
 *       sent or SECONDS are over, whichever first; at most PER_SECOND a
 *       second (0: as fast as it goes); from SOURCES addresses from
 *       SRC_BASE on (as `run`) or the socket's own. Prints sent=N
 *       seconds=S per_second=R.
 *
 * Each initiator i has the private key BLAKE2s(SEED || i) and always sends
 * from source address SRC_BASE + (i mod SOURCES): a responder under load
 * asks for a cookie bound to that address and rate-limits each address to
 * 20 handshakes a second (whitepaper 5.3), so a sender that is not to be
 * throttled needs many addresses. The bench gives this namespace a local
 * route for a whole block (ip route add local ... dev lo), so any address
 * in it is ours, and sets each datagram's source with IP_PKTINFO.
 *
 * The initiator side is made cheap so that the responder, not this tool,
 * runs out of CPU first: each initiator fixes its ephemeral key at start,
 * so e, es, s and ss (three X25519 operations) are done once; an initiation
 * then costs one AEAD of the 12-byte timestamp and the macs. The responder
 * cannot tell: the timestamp, which it checks, still grows. Every EVERY-th
 * response (default 8) is checked in full with handshake_consume_response.
 * An initiator sends again after its response, at most every -i ms
 * (default 60: the responder takes one initiation per peer per 20 ms and
 * 20 per address per second), and gives an initiation up after 1 s; at
 * most WINDOW initiations (default 128) are outstanding at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

#include "cookie.h"
#include "crypto.h"
#include "encoding.h"
#include "handshake.h"
#include "messages.h"
#include "noise.h"

#define NS_PER_SEC 1000000000ULL
#define GIVE_UP_NS NS_PER_SEC
#define MAX_PEERS 65536 /* the low 16 bits of a sender index name the peer */

struct initiator {
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	uint8_t e_priv[KEY_LEN];
	struct noise_symmetric pre; /* after e, es, s, ss */
	struct message_handshake_initiation tmpl;
	struct cookie_maker cookie;
	struct handshake hs;         /* of the outstanding initiation */
	uint64_t last_ts_ns;         /* wall-clock ns of the last timestamp */
	uint64_t sent_at, next_send; /* monotonic ns */
	uint32_t src;                /* source address, host order */
	uint16_t seq;
	int outstanding;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
	fprintf(stderr, "hsload: %s\n", msg);
	exit(1);
}

static void derive_key(uint8_t priv[32], const char *seed, uint32_t i)
{
	uint8_t le[4] = { (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) };
	crypto_hash(priv, seed, strlen(seed), le, sizeof(le));
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

static void suite_names(enum cipher_suite suite, const char **construction, const char **identifier)
{
	*construction = suite == SUITE_AESGCM ? SLUICE_AESGCM_CONSTRUCTION : WG_CONSTRUCTION;
	*identifier = suite == SUITE_AESGCM ? SLUICE_AESGCM_IDENTIFIER : WG_IDENTIFIER;
}

/* Everything of initiator p's initiation that does not change: Noise's
 * e, es, s, ss with a fixed ephemeral key (noise_ik_write1 up to the payload). */
static void initiator_prepare(struct initiator *p, const uint8_t rpub[32], enum cipher_suite suite)
{
	const char *construction, *identifier;
	struct noise_symmetric *s = &p->pre;
	uint8_t dh[32];

	if (!crypto_x25519_public(p->pub, p->priv) || !crypto_x25519_keygen(p->e_priv))
		die("X25519 failed");
	suite_names(suite, &construction, &identifier);
	noise_symmetric_init(s, construction, suite);
	noise_mix_hash(s, identifier, strlen(identifier));
	noise_mix_hash(s, rpub, 32);
	memset(&p->tmpl, 0, sizeof(p->tmpl));
	p->tmpl.header.type = MESSAGE_HANDSHAKE_INITIATION;
	p->tmpl.header.suite = suite == SUITE_AESGCM ? MESSAGE_SUITE_AESGCM : MESSAGE_SUITE_CHACHAPOLY;
	if (!crypto_x25519_public(p->tmpl.unencrypted_ephemeral, p->e_priv))
		die("X25519 failed");
	noise_mix_hash(s, p->tmpl.unencrypted_ephemeral, 32); /* e */
	noise_mix_key(s, p->tmpl.unencrypted_ephemeral, 32);  /* (psk mode) */
	if (!crypto_x25519(dh, p->e_priv, rpub))              /* es */
		die("responder key is a low-order point");
	noise_mix_key(s, dh, sizeof(dh));
	if (!noise_encrypt_and_hash(s, p->tmpl.encrypted_static, p->pub, 32)) /* s */
		die("AEAD failed");
	if (!crypto_x25519(dh, p->priv, rpub)) /* ss */
		die("responder key is a low-order point");
	noise_mix_key(s, dh, sizeof(dh));
	crypto_wipe(dh, sizeof(dh));
	cookie_maker_init(&p->cookie, rpub);
}

/* A fresh initiation of p into msg: a newer timestamp, sender index idx. */
static void initiator_build(struct initiator *p, struct message_handshake_initiation *msg, uint32_t idx,
			    enum cipher_suite suite, uint64_t now_mono)
{
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	uint64_t wall = clock_ns(CLOCK_REALTIME);

	/* TAI64N keeps 2^-24 s steps: one step past the last is always newer. */
	if (p->last_ts_ns && wall < p->last_ts_ns + (1ULL << 24))
		wall = p->last_ts_ns + (1ULL << 24);
	p->last_ts_ns = wall;
	handshake_tai64n(ts, wall);
	*msg = p->tmpl;
	msg->sender_index = idx;
	memset(&p->hs, 0, sizeof(p->hs));
	p->hs.sym = p->pre;
	if (!noise_encrypt_and_hash(&p->hs.sym, msg->encrypted_timestamp, ts, sizeof(ts)))
		die("AEAD failed");
	p->hs.state = HANDSHAKE_CREATED_INITIATION;
	p->hs.suite = suite;
	memcpy(p->hs.ephemeral_private, p->e_priv, 32);
	p->hs.local_index = idx;
	cookie_add_macs(&p->cookie, msg, sizeof(*msg), now_mono);
}

static int cmd_peers(int argc, char **argv)
{
	uint8_t priv[32], pub[32];
	char b64[KEY_B64_LEN + 1];

	if (argc != 4)
		die("usage: hsload peers SEED N");
	long n = strtol(argv[3], NULL, 10);
	if (n < 1 || n > MAX_PEERS)
		die("N must be 1 to 65536");
	for (long i = 0; i < n; i++) {
		derive_key(priv, argv[2], (uint32_t)i);
		if (!crypto_x25519_public(pub, priv))
			die("X25519 failed");
		key_to_base64(b64, pub);
		printf("[Peer]\nPublicKey = %s\n", b64);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The initiation built here, fed to the project's responder functions, must
 * be accepted, and the response must complete our side. */
static int cmd_selftest(void)
{
	static const uint8_t psk[32];
	enum cipher_suite suites[] = { SUITE_CHACHAPOLY, SUITE_AESGCM };

	for (size_t k = 0; k < 2; k++) {
		struct static_identity resp = { 0 }, me = { 0 };
		struct initiator p;
		struct message_handshake_initiation msg;
		struct message_handshake_response r;
		struct handshake st, done;
		uint8_t priv[32], ts[NOISE_TIMESTAMP_LEN], got_ts[NOISE_TIMESTAMP_LEN], sender[32], ss[32];

		memset(&p, 0, sizeof(p));
		if (!crypto_x25519_keygen(priv) || !handshake_identity_set(&resp, priv))
			die("X25519 failed");
		derive_key(p.priv, "selftest", (uint32_t)k);
		initiator_prepare(&p, resp.public_key, suites[k]);
		if (!handshake_identity_set(&me, p.priv))
			die("X25519 failed");
		initiator_build(&p, &msg, 7, suites[k], clock_ns(CLOCK_MONOTONIC));
		handshake_tai64n(ts, p.last_ts_ns);
		if (!handshake_initiation_sender(&st, sender, &msg, &resp, suites[k]) || memcmp(sender, p.pub, 32) ||
		    !handshake_static_static(ss, &resp, sender) ||
		    !handshake_initiation_finish(&st, got_ts, &msg, ss) || memcmp(got_ts, ts, sizeof(ts)))
			die("selftest: the responder rejects our initiation");
		if (!handshake_create_response(&st, &r, p.pub, psk, 9) ||
		    !handshake_consume_response(&done, &p.hs, &r, &me, psk))
			die("selftest: the response does not complete our handshake");
		handshake_identity_clear(&resp);
		handshake_identity_clear(&me);
	}
	printf("selftest ok\n");
	return 0;
}

/* "192.0.2.1:51820" into dst. */
static void parse_target(struct sockaddr_in *dst, const char *target)
{
	char host[64];
	const char *colon = strrchr(target, ':');

	if (!colon || (size_t)(colon - target) >= sizeof(host))
		die("-t: ADDR:PORT");
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = 0;
	memset(dst, 0, sizeof(*dst));
	dst->sin_family = AF_INET;
	dst->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &dst->sin_addr) != 1)
		die("-t: ADDR is an IPv4 dotted quad");
}

struct counts {
	uint64_t sent, responses, cookies, verified, bad, gave_up, stray;
};

static int cmd_run(int argc, char **argv)
{
	const char *seed = NULL, *rpub_b64 = NULL, *target = NULL, *src_base = NULL;
	long n = 0, sources = 0, window = 128, every = 8;
	double seconds = 5, warmup = 1, interval_ms = 60;
	enum cipher_suite suite = SUITE_CHACHAPOLY;
	int c;

	while ((c = getopt(argc - 1, argv + 1, "k:n:r:t:s:a:d:W:w:i:c:v:")) != -1) {
		switch (c) {
		case 'k':
			seed = optarg;
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rpub_b64 = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 's':
			src_base = optarg;
			break;
		case 'a':
			sources = strtol(optarg, NULL, 10);
			break;
		case 'd':
			seconds = strtod(optarg, NULL);
			break;
		case 'W':
			warmup = strtod(optarg, NULL);
			break;
		case 'w':
			window = strtol(optarg, NULL, 10);
			break;
		case 'i':
			interval_ms = strtod(optarg, NULL);
			break;
		case 'v':
			every = strtol(optarg, NULL, 10);
			break;
		case 'c':
			if (!strcmp(optarg, "aes-256-gcm"))
				suite = SUITE_AESGCM;
			else if (strcmp(optarg, "chacha20-poly1305"))
				die("-c: aes-256-gcm or chacha20-poly1305");
			break;
		default:
			die("bad option (see the comment at the top of hsload.c)");
		}
	}
	if (!seed || !rpub_b64 || !target || !src_base || n < 1 || n > MAX_PEERS || seconds <= 0 || warmup < 0 ||
	    window < 1 || every < 1 || interval_ms < 0)
		die("usage: hsload run -k SEED -n N -r RESPONDER_PUB -t ADDR:PORT -s SRC_BASE [...]");
	if (sources < 1)
		sources = n;

	uint8_t rpub[32];
	if (!key_from_base64(rpub, rpub_b64))
		die("-r: not a base64 key");
	struct sockaddr_in dst;
	struct in_addr base;
	parse_target(&dst, target);
	if (inet_pton(AF_INET, src_base, &base) != 1)
		die("-s: an IPv4 dotted quad");

	struct initiator *peers = calloc((size_t)n, sizeof(*peers));
	if (!peers)
		die("out of memory");
	for (long i = 0; i < n; i++) {
		derive_key(peers[i].priv, seed, (uint32_t)i);
		initiator_prepare(&peers[i], rpub, suite);
		peers[i].src = ntohl(base.s_addr) + (uint32_t)(i % sources);
	}
	struct static_identity me = { 0 };
	static const uint8_t psk[32];

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket failed");
	int buf = 4 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	struct sockaddr_in any = { .sin_family = AF_INET };
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		die("bind failed");

	struct counts cnt = { 0 }, at_start = { 0 };
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	uint64_t measure_from = t0 + (uint64_t)(warmup * 1e9);
	uint64_t end = measure_from + (uint64_t)(seconds * 1e9);
	uint64_t interval = (uint64_t)(interval_ms * 1e6);
	long in_flight = 0, cursor = 0;
	int measuring = warmup == 0;
	union {
		uint8_t raw[256];
		struct message_header h;
		struct message_handshake_response resp;
		struct message_handshake_cookie cookie;
	} in;

	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		if (!measuring && now >= measure_from) {
			at_start = cnt;
			measuring = 1;
		}
		if (now >= end)
			break;
		/* Everything that came back. */
		for (;;) {
			ssize_t len = recv(fd, in.raw, sizeof(in.raw), 0);
			if (len < 0)
				break;
			uint32_t ridx;
			if (len == sizeof(in.resp) && in.h.type == MESSAGE_HANDSHAKE_RESPONSE)
				ridx = in.resp.receiver_index;
			else if (len == sizeof(in.cookie) && in.h.type == MESSAGE_HANDSHAKE_COOKIE)
				ridx = in.cookie.receiver_index;
			else {
				cnt.stray++; /* e.g. the responder's own initiations */
				continue;
			}
			struct initiator *p = &peers[(ridx & 0xffff) % (uint32_t)n];
			if (!p->outstanding || p->hs.local_index != ridx) {
				cnt.stray++; /* given up on already */
				continue;
			}
			p->outstanding = 0;
			in_flight--;
			if (in.h.type == MESSAGE_HANDSHAKE_COOKIE) {
				if (cookie_consume_reply(&p->cookie, &in.cookie, now))
					cnt.cookies++;
				else
					cnt.bad++;
				p->next_send = now; /* not consumed: again at once, with mac2 */
				continue;
			}
			cnt.responses++;
			if (cnt.responses % (uint64_t)every == 0) {
				struct handshake done;
				if (handshake_identity_set(&me, p->priv) &&
				    handshake_consume_response(&done, &p->hs, &in.resp, &me, psk))
					cnt.verified++;
				else
					cnt.bad++;
				handshake_wipe(&done);
			}
			p->next_send = p->sent_at + interval;
		}
		/* Whoever is due, while the window allows. */
		int blocked = 0;
		for (long k = 0; k < n && !blocked; k++) {
			struct initiator *p = &peers[cursor];
			cursor = (cursor + 1) % n;
			if (p->outstanding) {
				if (now - p->sent_at < GIVE_UP_NS)
					continue;
				p->outstanding = 0;
				in_flight--;
				cnt.gave_up++;
			}
			if (in_flight >= window || now < p->next_send)
				continue;
			struct message_handshake_initiation msg;
			uint32_t idx = ((uint32_t)++p->seq << 16) | (uint32_t)(p - peers);
			initiator_build(p, &msg, idx, suite, now);
			char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
			struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
			struct msghdr mh = {
				.msg_name = &dst,
				.msg_namelen = sizeof(dst),
				.msg_iov = &iov,
				.msg_iovlen = 1,
				.msg_control = cbuf,
				.msg_controllen = sizeof(cbuf),
			};
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(p->src) };
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			if (sendmsg(fd, &mh, 0) < 0) {
				if (errno == EAGAIN || errno == ENOBUFS) {
					blocked = 1;
					continue;
				}
				perror("hsload: sendmsg");
				return 1;
			}
			p->outstanding = 1;
			p->sent_at = now;
			in_flight++;
			cnt.sent++;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 1);
	}
	uint64_t resp = cnt.responses - at_start.responses;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double tool_cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("total_responses=%llu tool_cpu_s=%.2f ", (unsigned long long)cnt.responses, tool_cpu);
	printf("seconds=%.2f peers=%ld sources=%ld sent=%llu responses=%llu cookies=%llu verified=%llu "
	       "bad=%llu gave_up=%llu stray=%llu handshakes_per_s=%.0f\n",
	       seconds, n, sources, (unsigned long long)(cnt.sent - at_start.sent), (unsigned long long)resp,
	       (unsigned long long)(cnt.cookies - at_start.cookies),
	       (unsigned long long)(cnt.verified - at_start.verified), (unsigned long long)(cnt.bad - at_start.bad),
	       (unsigned long long)(cnt.gave_up - at_start.gave_up), (unsigned long long)(cnt.stray - at_start.stray),
	       (double)resp / seconds);
	close(fd);
	handshake_identity_clear(&me);
	free(peers);
	/* Fail when nothing checked out: a wrong key or a responder that is not there. */
	return cnt.verified > 0 && cnt.bad == 0 ? 0 : 1;
}

/* ---- flood ---- */

#define FLOOD_BATCH 64
#define FLOOD_GARBAGE_MAX 1472 /* a full Ethernet frame's UDP payload */

static int cmd_flood(int argc, char **argv)
{
	const char *mode = NULL, *rpub_b64 = NULL, *target = NULL, *src_base = NULL;
	long count = 0, sources = 0;
	double seconds = 0, per_second = 0;
	int c;

	while ((c = getopt(argc - 1, argv + 1, "m:r:t:n:d:p:s:a:")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'r':
			rpub_b64 = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 'd':
			seconds = strtod(optarg, NULL);
			break;
		case 'p':
			per_second = strtod(optarg, NULL);
			break;
		case 's':
			src_base = optarg;
			break;
		case 'a':
			sources = strtol(optarg, NULL, 10);
			break;
		default:
			die("bad option (see the comment at the top of hsload.c)");
		}
	}
	/* Bounded in both: a flood that is left running by mistake stops. */
	if (!mode || (strcmp(mode, "junk") && strcmp(mode, "mac1") && strcmp(mode, "garbage")) || !rpub_b64 ||
	    !target || count < 1 || seconds <= 0 || seconds > 600 || per_second < 0 || (src_base && sources < 1) ||
	    sources > 65536)
		die("usage: hsload flood -m junk|mac1|garbage -r RESPONDER_PUB -t ADDR:PORT -n COUNT -d SECONDS [-p PER_SECOND] "
		    "[-s SRC_BASE -a SOURCES]");
	bool junk = !strcmp(mode, "junk"), garbage = !strcmp(mode, "garbage");
	uint8_t rpub[32];
	if (!key_from_base64(rpub, rpub_b64))
		die("-r: not a base64 key");
	struct sockaddr_in dst;
	struct in_addr base = { 0 };
	parse_target(&dst, target);
	if (src_base && inet_pton(AF_INET, src_base, &base) != 1)
		die("-s: an IPv4 dotted quad");
	struct cookie_maker maker;
	cookie_maker_init(&maker, rpub);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket failed");
	int buf = 4 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	struct sockaddr_in any = { .sin_family = AF_INET };
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		die("bind failed");

	static struct message_handshake_initiation msgs[FLOOD_BATCH];
	static uint8_t gbufs[FLOOD_BATCH][FLOOD_GARBAGE_MAX];
	static char cbufs[FLOOD_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct mmsghdr mm[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(seconds * 1e9), now = t0;
	long sent = 0, next_source = 0;

	while (sent < count && (now = clock_ns(CLOCK_MONOTONIC)) < end) {
		/* At the rate asked for: no more than the time so far allows. */
		long due = count - sent;
		if (per_second > 0) {
			long allowed = (long)((double)(now - t0) / 1e9 * per_second) + 1 - sent;
			if (allowed <= 0) {
				struct timespec ts = { 0, 200000 };
				nanosleep(&ts, NULL);
				continue;
			}
			if (allowed < due)
				due = allowed;
		}
		int n = due < FLOOD_BATCH ? (int)due : FLOOD_BATCH;
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < n; i++) {
			struct message_handshake_initiation *m = &msgs[i];
			if (!crypto_random(m, sizeof(*m)))
				die("no randomness");
			memset(&m->header, 0, sizeof(m->header));
			m->header.type = MESSAGE_HANDSHAKE_INITIATION;
			if (!junk)
				cookie_add_macs(&maker, m, sizeof(*m), now);
			iov[i].iov_base = m;
			iov[i].iov_len = sizeof(*m);
			if (garbage) {
				/* Any length, any type byte (data, cookie, handshake or none). */
				uint16_t len;
				if (!crypto_random(&len, sizeof(len)) || !crypto_random(gbufs[i], sizeof(gbufs[i])))
					die("no randomness");
				iov[i].iov_base = gbufs[i];
				iov[i].iov_len = 1 + len % FLOOD_GARBAGE_MAX;
			}
			mm[i].msg_hdr.msg_name = &dst;
			mm[i].msg_hdr.msg_namelen = sizeof(dst);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			if (src_base) {
				struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(
								 ntohl(base.s_addr) +
								 (uint32_t)(next_source++ % sources)) };
				memset(cbufs[i], 0, sizeof(cbufs[i]));
				mm[i].msg_hdr.msg_control = cbufs[i];
				mm[i].msg_hdr.msg_controllen = sizeof(cbufs[i]);
				struct cmsghdr *cm = CMSG_FIRSTHDR(&mm[i].msg_hdr);
				cm->cmsg_level = SOL_IP;
				cm->cmsg_type = IP_PKTINFO;
				cm->cmsg_len = CMSG_LEN(sizeof(pi));
				memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			}
		}
		int r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
				continue;
			perror("hsload: sendmmsg");
			return 1;
		}
		sent += r;
	}
	double took = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("sent=%ld seconds=%.2f per_second=%.0f\n", sent, took, took > 0 ? (double)sent / took : 0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (!crypto_init())
		die("libcrypto lacks an algorithm");
	if (argc >= 2 && !strcmp(argv[1], "peers"))
		return cmd_peers(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "selftest"))
		return cmd_selftest();
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return cmd_flood(argc, argv);
	fprintf(stderr, "usage: hsload peers SEED N | hsload run ... | hsload flood ... | hsload selftest\n");
	return 2;
}
