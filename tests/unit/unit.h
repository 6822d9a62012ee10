/* SPDX-License-Identifier: MIT */
/* Common includes and helpers of the cmocka unit tests. */
#ifndef SLUICE_UNIT_H
#define SLUICE_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Decodes hex into out (at most cap bytes); returns the byte count or -1. */
static inline int unit_hex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* Directory of the test data (tests/vectors), overridable for out-of-tree runs. */
static inline const char *unit_vectors_dir(void)
{
	const char *d = getenv("SLUICE_VECTORS");
	return d ? d : "tests/vectors";
}

#endif
