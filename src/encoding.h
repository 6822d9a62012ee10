/* SPDX-License-Identifier: MIT */
/*
 * Key encodings: the base64 form `wg` prints (44 characters, one '=') and hex
 * (the UAPI's form). Decoding runs without branches on the key's bytes and
 * wipes the output when the input is not a valid key. And the one parser of
 * unsigned integers that files, the control socket and the command line use.
 */
#ifndef SLUICE_ENCODING_H
#define SLUICE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.h"

#define KEY_B64_LEN 44 /* without the terminating NUL */
#define KEY_HEX_LEN 64

void key_to_base64(char out[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN]);
/* Accepts exactly 44 characters ending in '=' (the terminating NUL follows). */
bool key_from_base64(uint8_t key[KEY_LEN], const char *b64) __attribute__((warn_unused_result));
void key_to_hex(char out[KEY_HEX_LEN + 1], const uint8_t key[KEY_LEN]);
/* Accepts exactly 64 hex digits, either case. */
bool key_from_hex(uint8_t key[KEY_LEN], const char *hex) __attribute__((warn_unused_result));

/* "0-9a-fA-F" -> 0..15; anything else -> -1. In constant time (keys). */
int hex_value(int c);

/* The digits s[0..len) as a number: decimal, or hexadecimal after "0x" when
 * allow_hex; no sign, no spaces, nothing after. True, with *out, when it is
 * a number no larger than max; false for anything else, overflow included. */
bool parse_u64(const char *s, size_t len, bool allow_hex, uint64_t max, uint64_t *out)
	__attribute__((warn_unused_result));
/* The same for a NUL-terminated string and 32 bits. */
bool parse_u32(const char *s, bool allow_hex, uint32_t max, uint32_t *out) __attribute__((warn_unused_result));

#endif
