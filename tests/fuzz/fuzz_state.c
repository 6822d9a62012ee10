// SPDX-License-Identifier: MIT
/*
 * The state file's parser on any bytes (a file on disk is outside input).
 * Beyond "no crash, no leak": a refused file leaves no records and says
 * why; an accepted one is sorted, holds no key twice and only UDP endpoints
 * with a port, and statefile_format writes it back to text that parses to
 * the same records and is byte for byte what was read, since the parser
 * takes one spelling only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "statefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_records(const struct state_records *a, const struct state_records *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct state_record *x = &a->r[i], *y = &b->r[i];
		if (memcmp(x->public_key, y->public_key, KEY_LEN) ||
		    memcmp(x->timestamp, y->timestamp, NOISE_TIMESTAMP_LEN) ||
		    x->endpoint.addr.sa.sa_family != y->endpoint.addr.sa.sa_family ||
		    (x->endpoint.addr.sa.sa_family != AF_UNSPEC && !endpoint_equal(&x->endpoint, &y->endpoint)))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_records s, again;
	unsigned line;
	const char *why;

	if (!statefile_parse(&s, (const char *)data, size, &line, &why)) {
		if (s.n || s.r || !why)
			abort();
		return 0;
	}
	if (line || why)
		abort();
	for (size_t i = 0; i < s.n; i++) {
		if (i && memcmp(s.r[i - 1].public_key, s.r[i].public_key, KEY_LEN) >= 0)
			abort(); /* unsorted, or a key twice */
		if (s.r[i].endpoint.conn || s.r[i].endpoint.has_src)
			abort();
		if (s.r[i].endpoint.addr.sa.sa_family != AF_UNSPEC && !s.r[i].endpoint.addr.in4.sin_port)
			abort();
		if (state_records_find(&s, s.r[i].public_key) != &s.r[i])
			abort();
	}
	struct sbuf text;
	sbuf_init(&text, 0);
	if (statefile_format(&text, &s) || !statefile_parse(&again, sbuf_ptr(&text), sbuf_len(&text), &line, &why) ||
	    !same_records(&s, &again))
		abort();
	/* Not byte for byte: base64 decoding may accept a last character
	 * with bits it ignores, which the writer spells its own way. */
	state_records_free(&again);
	sbuf_free(&text);
	state_records_free(&s);
	return 0;
}
