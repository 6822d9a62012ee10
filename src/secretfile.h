/* SPDX-License-Identifier: MIT */
/*
 * The one reader of files that may hold keys: a configuration file, a key
 * file given to `p2p`. Opened without following a terminal, a regular file
 * or a pipe (`sluice up <(generate-config)`), read to its end whatever
 * st_size says (it may change under us), into a buffer that wipes every
 * block it lets go of. The mode comes from fstat on the descriptor read,
 * so nothing can swap the file between the check and the reading.
 */
#ifndef SLUICE_SECRETFILE_H
#define SLUICE_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sbuf.h"

/* Reads path (at most max bytes) into out, which the caller frees with
 * sbuf_free. *mode receives the file's st_mode. False with a message in err
 * ("PATH: cannot open: ...", "PATH: too large (N bytes; WHAT is at most 1
 * MiB)") otherwise. what: "a configuration file", "a key file". */
bool secretfile_read(const char *path, const char *what, size_t max, struct sbuf *out, mode_t *mode, char *err,
		     size_t errlen);
/* "PATH: holds a WHAT but is readable by others (mode 0644); fix with:
 * chmod 600 PATH" when mode lets group or others in; true when it does not. */
bool secretfile_private(const char *path, mode_t mode, const char *what, char *err, size_t errlen);

#endif
