// SPDX-License-Identifier: MIT
/*
 * Prefixes and endpoints. Addresses go through inet_pton, never inet_aton or
 * a numeric getaddrinfo: those accept "10.1" and "0x0a.0.0.1", and a config
 * file that means something other than what it shows is a security bug.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"

bool cidr_parse(struct cidr *out, const char *s, bool allow_no_prefix)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
	uint32_t prefix;

	memset(out, 0, sizeof(*out));
	if (addr_len == 0 || addr_len >= sizeof(addr))
		return false;
	memcpy(addr, s, addr_len);
	addr[addr_len] = '\0';

	if (memchr(addr, ':', addr_len)) {
		if (inet_pton(AF_INET6, addr, &out->addr.v6) != 1)
			return false;
		out->family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, addr, &out->addr.v4) != 1)
			return false;
		out->family = AF_INET;
	}
	uint32_t max = out->family == AF_INET ? 32 : 128;

	if (!slash) {
		if (!allow_no_prefix)
			goto fail;
		prefix = max;
	} else if (!parse_u32(slash + 1, false, max, &prefix) || strlen(slash + 1) > 3) {
		goto fail;
	}
	out->prefix = (uint8_t)prefix;
	return true;
fail:
	memset(out, 0, sizeof(*out));
	return false;
}

void cidr_format(char out[CIDR_STR_MAX], const struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN];

	if ((c->family != AF_INET && c->family != AF_INET6) ||
	    !inet_ntop(c->family, c->addr.bytes, addr, sizeof(addr))) {
		snprintf(out, CIDR_STR_MAX, "(invalid)");
		return;
	}
	snprintf(out, CIDR_STR_MAX, "%s/%u", addr, c->prefix);
}

void cidr_mask(struct cidr *c)
{
	unsigned bits = c->family == AF_INET ? 32 : c->family == AF_INET6 ? 128 : 0;
	unsigned prefix = c->prefix < bits ? c->prefix : bits;

	for (unsigned i = prefix / 8; i < bits / 8; i++) {
		unsigned keep = i == prefix / 8 ? prefix % 8 : 0;
		c->addr.bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* Splits without copying: the host (pointer and length) and the port. Rejects port 0:
 * nothing can be sent to it (Linux fails such a sendto with EINVAL), so an
 * Endpoint with port 0 is always a mistake. */
static bool split(const char *s, const char **host, size_t *host_len, bool *bracketed, uint16_t *port)
{
	const char *colon;
	uint32_t p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return false;
		*host = s + 1;
		*host_len = (size_t)(close - s - 1);
		colon = close + 1;
		*bracketed = true;
	} else {
		colon = strrchr(s, ':');
		/* A second colon means an IPv6 address without brackets:
		 * "2001:db8::1:51820" has no unambiguous port. */
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return false;
		*host = s;
		*host_len = (size_t)(colon - s);
		*bracketed = false;
	}
	if (*host_len == 0)
		return false;
	for (size_t i = 0; i < *host_len; i++) {
		unsigned char c = (unsigned char)(*host)[i];
		if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '/')
			return false;
	}
	if (!parse_u32(colon + 1, false, 65535, &p) || p == 0)
		return false;
	*port = (uint16_t)p;
	return true;
}

bool endpoint_split(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *h;
	size_t len;
	bool bracketed;

	if (!split(s, &h, &len, &bracketed, port) || len >= hostlen)
		return false;
	memcpy(host, h, len);
	host[len] = '\0';
	return true;
}

/* "fe80::1%eth0" or "fe80::1%2" into a sockaddr_in6. */
static bool parse_v6_scoped(struct sockaddr_in6 *sin6, char *host)
{
	char *pct = strchr(host, '%');

	if (pct) {
		uint32_t index;
		*pct++ = '\0';
		if (!parse_u32(pct, false, UINT32_MAX, &index)) {
			if (!*pct || strlen(pct) >= IF_NAMESIZE)
				return false;
			index = if_nametoindex(pct);
			if (index == 0)
				return false;
		}
		sin6->sin6_scope_id = index;
	}
	return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1;
}

bool endpoint_parse_numeric(struct endpoint *out, const char *s)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *h;
	size_t len;
	bool bracketed;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	out->addr.sa.sa_family = AF_UNSPEC;
	if (!split(s, &h, &len, &bracketed, &port) || len >= sizeof(host))
		return false;
	memcpy(host, h, len);
	host[len] = '\0';

	if (bracketed) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		if (!parse_v6_scoped(&sin6, host))
			return false;
		out->addr.in6 = sin6;
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return false;
		out->addr.in4 = sin;
	}
	return true;
}

int endpoint_resolve(struct endpoint *out, const char *s)
{
	char host[1025], service[6];
	const char *h;
	size_t len;
	bool bracketed;
	uint16_t port;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP };
	struct addrinfo *res, *ai;
	int rc;

	if (endpoint_parse_numeric(out, s))
		return 0;
	if (!split(s, &h, &len, &bracketed, &port))
		return EAI_NONAME;
	/* Brackets hold an IPv6 literal, which endpoint_parse_numeric took;
	 * what is left in them is not an address and must not go to DNS. */
	if (bracketed || len >= sizeof(host))
		return EAI_NONAME;
	memcpy(host, h, len);
	host[len] = '\0';
	snprintf(service, sizeof(service), "%u", port);
	hints.ai_flags = AI_NUMERICSERV;

	rc = getaddrinfo(host, service, &hints, &res);
	if (rc)
		return rc;
	rc = EAI_NONAME;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) {
			memcpy(&out->addr.in4, ai->ai_addr, sizeof(struct sockaddr_in));
			rc = 0;
			break;
		}
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof(struct sockaddr_in6)) {
			memcpy(&out->addr.in6, ai->ai_addr, sizeof(struct sockaddr_in6));
			rc = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

void endpoint_format(char out[ENDPOINT_STR_MAX], const struct endpoint *e)
{
	char addr[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 12];

	switch (e->addr.sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &e->addr.in4.sin_addr, addr, sizeof(addr));
		snprintf(out, ENDPOINT_STR_MAX, "%s:%u", addr, ntohs(e->addr.in4.sin_port));
		return;
	case AF_INET6:
		inet_ntop(AF_INET6, &e->addr.in6.sin6_addr, addr, sizeof(addr));
		scope[0] = '\0';
		if (e->addr.in6.sin6_scope_id) {
			char name[IF_NAMESIZE];
			if (if_indextoname(e->addr.in6.sin6_scope_id, name))
				snprintf(scope, sizeof(scope), "%%%s", name);
			else
				snprintf(scope, sizeof(scope), "%%%u", e->addr.in6.sin6_scope_id);
		}
		snprintf(out, ENDPOINT_STR_MAX, "[%s%s]:%u", addr, scope, ntohs(e->addr.in6.sin6_port));
		return;
	default:
		snprintf(out, ENDPOINT_STR_MAX, "(none)");
	}
}

bool endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family || a->conn != b->conn || a->has_src != b->has_src)
		return false;
	if (a->has_src && (a->src_ifindex != b->src_ifindex || memcmp(&a->src, &b->src, sizeof(a->src))))
		return false;
	switch (a->addr.sa.sa_family) {
	case AF_INET:
		return a->addr.in4.sin_port == b->addr.in4.sin_port &&
		       a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
	case AF_INET6:
		return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
		       a->addr.in6.sin6_scope_id == b->addr.in6.sin6_scope_id &&
		       !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, sizeof(struct in6_addr));
	default:
		return true; /* both unset */
	}
}

socklen_t endpoint_len(const struct endpoint *e)
{
	switch (e->addr.sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

void endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.sa.sa_family = AF_UNSPEC;
	if (sa->sa_family == AF_INET) {
		memcpy(&ep->addr.in4, sa, sizeof(ep->addr.in4));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 s6;
		memcpy(&s6, sa, sizeof(s6));
		if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
			ep->addr.in4.sin_family = AF_INET;
			ep->addr.in4.sin_port = s6.sin6_port;
			memcpy(&ep->addr.in4.sin_addr, &s6.sin6_addr.s6_addr[12], 4);
		} else {
			s6.sin6_flowinfo = 0;
			ep->addr.in6 = s6;
		}
	}
}

bool endpoint_to_sin6(struct sockaddr_in6 *sin6, const struct endpoint *ep)
{
	switch (ep->addr.sa.sa_family) {
	case AF_INET6:
		*sin6 = ep->addr.in6;
		return true;
	case AF_INET:
		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = ep->addr.in4.sin_port;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], &ep->addr.in4.sin_addr, 4);
		return true;
	default:
		return false;
	}
}
