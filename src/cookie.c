// SPDX-License-Identifier: MIT
#include "cookie.h"

#include <string.h>

#include "clock.h"
#include "crypto.h"

static void derive_key(uint8_t out[KEY_LEN], const char *label, const uint8_t pub[KEY_LEN])
{
	crypto_hash(out, label, strlen(label), pub, KEY_LEN);
}

static bool is_fresh(uint64_t birth, uint64_t now, uint64_t max_age_s)
{
	return birth != 0 && now >= birth && now - birth < max_age_s * NS_PER_SEC;
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->mac1_key, WG_LABEL_MAC1, our_public);
	derive_key(c->cookie_key, WG_LABEL_COOKIE, our_public);
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[KEY_LEN])
{
	memset(m, 0, sizeof(*m));
	derive_key(m->mac1_key, WG_LABEL_MAC1, peer_public);
	derive_key(m->cookie_key, WG_LABEL_COOKIE, peer_public);
}

void cookie_checker_wipe(struct cookie_checker *c)
{
	crypto_wipe(c, sizeof(*c));
}

void cookie_maker_wipe(struct cookie_maker *m)
{
	crypto_wipe(m, sizeof(*m));
}

/* The cookie of a source address: MAC(secret, ip || port), the secret
 * changing every COOKIE_SECRET_MAX_AGE. */
static bool make_cookie(struct cookie_checker *c, uint8_t cookie[COOKIE_LEN], const struct endpoint *src, uint64_t now)
{
	uint8_t input[18];
	size_t n;

	if (!is_fresh(c->secret_birth, now, COOKIE_SECRET_MAX_AGE)) {
		if (!crypto_random(c->secret, sizeof(c->secret)))
			return false;
		c->secret_birth = now ? now : 1;
	}
	if (src->addr.sa.sa_family == AF_INET) {
		memcpy(input, &src->addr.in4.sin_addr, 4);
		memcpy(input + 4, &src->addr.in4.sin_port, 2);
		n = 6;
	} else if (src->addr.sa.sa_family == AF_INET6) {
		memcpy(input, &src->addr.in6.sin6_addr, 16);
		memcpy(input + 16, &src->addr.in6.sin6_port, 2);
		n = 18;
	} else {
		return false;
	}
	crypto_mac(cookie, COOKIE_LEN, c->secret, sizeof(c->secret), input, n);
	return true;
}

void cookie_add_macs(struct cookie_maker *m, void *msg, size_t len, uint64_t now)
{
	uint8_t *p = msg;
	uint8_t *mac1 = p + MESSAGE_MAC1_OFFSET(len);
	uint8_t *mac2 = p + MESSAGE_MAC2_OFFSET(len);

	crypto_mac(mac1, COOKIE_LEN, m->mac1_key, sizeof(m->mac1_key), p, MESSAGE_MAC1_OFFSET(len));
	memcpy(m->last_mac1_sent, mac1, COOKIE_LEN);
	m->have_sent_mac1 = true;

	if (is_fresh(m->cookie_birth, now, COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY))
		crypto_mac(mac2, COOKIE_LEN, m->cookie, COOKIE_LEN, p, MESSAGE_MAC2_OFFSET(len));
	else
		memset(mac2, 0, COOKIE_LEN);
}

bool cookie_check_mac1(const struct cookie_checker *c, const void *msg, size_t len)
{
	uint8_t computed[COOKIE_LEN];

	if (len < sizeof(struct message_macs) + sizeof(struct message_header))
		return false;
	crypto_mac(computed, COOKIE_LEN, c->mac1_key, sizeof(c->mac1_key), msg, MESSAGE_MAC1_OFFSET(len));
	return crypto_equal(computed, (const uint8_t *)msg + MESSAGE_MAC1_OFFSET(len), COOKIE_LEN);
}

bool cookie_check_mac2(struct cookie_checker *c, const void *msg, size_t len, const struct endpoint *src, uint64_t now)
{
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];
	bool ok = false;

	if (len < sizeof(struct message_macs) + sizeof(struct message_header))
		goto out;
	if (!make_cookie(c, cookie, src, now))
		goto out;
	crypto_mac(computed, COOKIE_LEN, cookie, COOKIE_LEN, msg, MESSAGE_MAC2_OFFSET(len));
	ok = crypto_equal(computed, (const uint8_t *)msg + MESSAGE_MAC2_OFFSET(len), COOKIE_LEN);
out:
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}

bool cookie_create_reply(struct cookie_checker *c, struct message_handshake_cookie *out, const void *msg, size_t len,
			 uint32_t sender_index, const struct endpoint *src, uint64_t now)
{
	const uint8_t *mac1 = (const uint8_t *)msg + MESSAGE_MAC1_OFFSET(len);
	uint8_t cookie[COOKIE_LEN];
	bool ok = false;

	memset(out, 0, sizeof(*out));
	out->header.type = MESSAGE_HANDSHAKE_COOKIE;
	out->header.suite = ((const struct message_header *)msg)->suite; /* answer in the asker's suite */
	out->header.mode = ((const struct message_header *)msg)->mode;   /* and mode */
	out->receiver_index = sender_index;
	if (!crypto_random(out->nonce, sizeof(out->nonce)))
		goto out;
	if (!make_cookie(c, cookie, src, now))
		goto out;
	/* The cookie is bound to the mac1 of the message it answers. */
	ok = crypto_xaead_seal(out->encrypted_cookie, cookie, COOKIE_LEN, mac1, COOKIE_LEN, out->nonce, c->cookie_key);
out:
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}

bool cookie_consume_reply(struct cookie_maker *m, const struct message_handshake_cookie *msg, uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];
	bool ok = false;

	if (!m->have_sent_mac1)
		goto out;
	if (!crypto_xaead_open(cookie, msg->encrypted_cookie, sizeof(msg->encrypted_cookie), m->last_mac1_sent,
			       COOKIE_LEN, msg->nonce, m->cookie_key))
		goto out;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birth = now ? now : 1;
	m->have_sent_mac1 = false; /* one reply per message we sent */
	ok = true;
out:
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}
