/* SPDX-License-Identifier: MIT */
/*
 * What a restart must not forget: for each peer (by public key) the latest
 * TAI64N timestamp of an initiation we accepted from it, and its last
 * endpoint. Kept in a private file, STATE_DIR/IFACE/state (STATE_DIR is
 * /var/lib/sluice, or $SLUICE_STATE_DIR), so that after a restart (a crash,
 * kill -9, a reboot) an old initiation replayed at us is refused, and we
 * initiate to every peer we knew at once instead of waiting for its next
 * handshake.
 *
 * The file is text, one peer a line, and is parsed as outside input: a
 * header, then lines "peer KEY TIMESTAMP ENDPOINT" with single spaces, the
 * key in base64, the timestamp as 24 lowercase hex digits, the endpoint
 * numeric ("192.0.2.1:51820", "[2001:db8::1]:51820") or "-"; a line at most
 * STATE_LINE_MAX bytes, at most STATE_RECORDS_MAX lines, no key twice.
 * Anything else refuses the whole file (and names the line).
 *
 * Each interface has a directory of its own (mode 0700, owned by the user
 * the daemon runs as, so that one that gave up root can still replace its
 * file): the file is written to `state.tmp`, fsynced, renamed over `state`,
 * the directory fsynced. The directory is opened once at start and the
 * daemon works relative to it.
 */
#ifndef SLUICE_STATEFILE_H
#define SLUICE_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "messages.h"
#include "netaddr.h"

#define STATE_DIR "/var/lib/sluice"
#define STATE_DIR_ENV "SLUICE_STATE_DIR"
#define STATE_FILE_NAME "state"
#define STATE_TMP_NAME "state.tmp"
#define STATE_HEADER "# sluice state: rewritten while sluice runs\nsluice-state 1\n"
#define STATE_LINE_MAX 200
#define STATE_RECORDS_MAX MAX_PEERS_PER_DEVICE
#define STATE_FILE_MAX (sizeof(STATE_HEADER) + (size_t)STATE_RECORDS_MAX * STATE_LINE_MAX)

struct state_record {
	uint8_t public_key[KEY_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN]; /* all zero: none accepted yet */
	struct endpoint endpoint;               /* AF_UNSPEC: none; UDP only (conn 0, no source) */
	bool restored; /* the daemon's, not in the file: handed to its peer after the restart */
};

/* Records sorted by public key (state_records_sort), found by bisection. */
struct state_records {
	struct state_record *r;
	size_t n, cap;
};

void state_records_free(struct state_records *s);
/* Appends a copy (unsorted until state_records_sort). 0 or -ENOMEM. */
int state_records_add(struct state_records *s, const struct state_record *rec);
void state_records_sort(struct state_records *s);
struct state_record *state_records_find(const struct state_records *s, const uint8_t public_key[KEY_LEN]);

/* Parses a state file's text into out (sorted). False, with *line (0: the
 * file as a whole) and *why set and out empty, on anything not written by
 * statefile_format. */
bool statefile_parse(struct state_records *out, const char *text, size_t len, unsigned *line, const char **why);
/* The text statefile_parse reads back to the same records. 0 or -errno. */
struct sbuf;
int statefile_format(struct sbuf *out, const struct state_records *s);

/* The directory in use: $SLUICE_STATE_DIR or STATE_DIR. */
const char *statefile_dir(void);
/* Opens (making it, 0700, ours) the directory of ifname's state, after
 * making statefile_dir() (0755) if missing. Returns a descriptor or -errno. */
int statefile_open_dir(const char *ifname);
/* Reads the state of the directory dirfd into out. 0 (also when there is no
 * file yet: out empty), or -errno; a file that does not parse gives -EINVAL
 * with *line and *why set. */
int statefile_load(int dirfd, struct state_records *out, unsigned *line, const char **why);
/* Replaces the file atomically (temp file, fsync, rename, fsync of the
 * directory), mode 0600. 0 or -errno. */
int statefile_save(int dirfd, const struct state_records *s);

#endif
