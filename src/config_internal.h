/* SPDX-License-Identifier: MIT */
/*
 * Inside the configuration file's parser: what config.c (lines, sections,
 * keys), config_value.c (each key's value) and config_check.c (the file
 * checked as a whole) share. Not for the parser's users: they have config.h.
 */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "config_keys.h"

/* How much of an offending value an error message shows. */
#define SHOWN_MAX 96

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER };

/* The keys a file may hold, by enum key_id. */
struct config_key_info {
	const char *name; /* as the file spells it, "AllowedIPs" */
	enum section section;
	bool ignored; /* wg-quick's: read, not acted on, reported */
};
extern const struct config_key_info config_key_table[K_COUNT];

struct config_parser {
	struct interface_config *cfg;
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;
	enum section section;
	unsigned interface_line;
	unsigned mtu_line;
	unsigned bridge_line;
	unsigned seen[K_COUNT]; /* line of each single-valued key in the current section, 0 = not yet */
	size_t cap_addresses;
	size_t cap_peers;
	size_t cap_allowed_ips; /* of the current peer */
	size_t cap_allowed_macs;
};

static inline struct peer_config *config_current_peer(struct config_parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

/* ---- config.c ---- */

/* Writes "NAME:LINE: " and the message to p->err; returns false, for
 * `return config_fail(p, ...)`. config_fail: at the current line. */
bool config_fail_at(struct config_parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define config_fail(p, ...) config_fail_at((p), (p)->line, __VA_ARGS__)
/* The value as an error message shows it: quoted, control characters made
 * visible, long ones cut, keys withheld. Returns out. */
const char *config_shown(char out[SHOWN_MAX], const char *value);
/* wg(8) drops every whitespace character of a line before parsing. */
void config_remove_spaces(char *s);

/* ---- config_value.c ---- */

/* Takes the value of key k, one of the current section's, as written after
 * '=' (trimmed); may cut it up in place. False after writing the error. */
bool config_interface_key(struct config_parser *p, enum key_id k, char *value);
bool config_peer_key(struct config_parser *p, enum key_id k, char *value);

/* ---- config_check.c ---- */

/* The file as a whole, once every line is read. False after writing the
 * error. */
bool config_check(struct config_parser *p);

#endif
