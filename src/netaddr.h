/* SPDX-License-Identifier: MIT */
/*
 * IP prefixes and UDP/TCP endpoints: parsing and printing, shared by the
 * config file, the UAPI and the daemon. Parsing never resolves names.
 */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t prefix;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} addr;
};

struct endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr; /* sa.sa_family == AF_UNSPEC when unset */
	/* Which transport reaches it: 0 = UDP; otherwise a TCP connection of
	 * the device (ENDPOINT_TCP_DOWN while that connection is being made). */
	uint32_t conn;
	/* UDP: the local address the peer's datagrams arrived at, and its
	 * interface; replies leave from it (sticky source, as WireGuard's),
	 * so a multi-homed host answers from the address it was reached at.
	 * IPv4 as IPv4-mapped. has_src false: the kernel chooses. */
	bool has_src;
	uint32_t src_ifindex;
	struct in6_addr src;
};

#define ENDPOINT_TCP_DOWN UINT32_MAX

#define CIDR_STR_MAX 64     /* "ffff:...:ffff/128" */
#define ENDPOINT_STR_MAX 80 /* "[v6%scope]:65535" */

/* "192.0.2.1/24", "2001:db8::1/64"; without "/N" the prefix is the full
 * length when allow_no_prefix is true, else it is an error. */
bool cidr_parse(struct cidr *out, const char *s, bool allow_no_prefix);
void cidr_format(char out[CIDR_STR_MAX], const struct cidr *c);
/* Zeroes the bits past the prefix. */
void cidr_mask(struct cidr *c);

/* Endpoints are "host:port" or "[IPv6]:port". The port must be 1..65535:
 * port 0 is refused because nothing can be sent to it (Linux fails a UDP
 * sendto to port 0 with EINVAL). An IPv6 address without brackets is refused
 * ("2001:db8::1:51820" has no unambiguous port). */

/* Numeric endpoint "192.0.2.1:51820" or "[2001:db8::1]:51820"; an IPv6 link-
 * local address may carry a scope, "[fe80::1%eth0]:51820" or "%2". Strict
 * dotted quads only ("10.1" is refused, unlike inet_aton). */
bool endpoint_parse_numeric(struct endpoint *out, const char *s);
/* Splits "host:port" / "[v6]:port" into host and port without resolving.
 * host gets at most hostlen - 1 characters. */
bool endpoint_split(const char *s, char *host, size_t hostlen, uint16_t *port);
/* Resolves "name:port" with getaddrinfo (numeric forms too). Returns 0 or a
 * getaddrinfo error code (EAI_*) suitable for gai_strerror. */
int endpoint_resolve(struct endpoint *out, const char *s);
/* "192.0.2.1:51820", "[2001:db8::1]:51820"; "(none)" when unset. */
void endpoint_format(char out[ENDPOINT_STR_MAX], const struct endpoint *e);
/* The one place IPv4-mapped addresses are unfolded: a dual-stack socket's
 * peer (sockaddr_in6 or sockaddr_in) as an endpoint, ::ffff:a.b.c.d as
 * AF_INET; anything else leaves it AF_UNSPEC. conn and the source are 0. */
void endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa);
/* ...and folded: ep as a sockaddr_in6 for a dual-stack socket (AF_INET as
 * ::ffff:a.b.c.d). False when ep is no IP endpoint. */
bool endpoint_to_sin6(struct sockaddr_in6 *sin6, const struct endpoint *ep);

/* Same remote address, transport and (sticky) local source. */
bool endpoint_equal(const struct endpoint *a, const struct endpoint *b);
socklen_t endpoint_len(const struct endpoint *e);

#endif
