// SPDX-License-Identifier: MIT
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "1 MiB", "128 bytes". */
static void size_text(char *out, size_t outlen, size_t n)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, outlen, "%zu MiB", n >> 20);
	else
		snprintf(out, outlen, "%zu bytes", n);
}

bool secretfile_read(const char *path, const char *what, size_t max, struct sbuf *out, mode_t *mode, char *err,
		     size_t errlen)
{
	char limit[32];
	struct stat st;
	bool ok = false;
	int fd;

	/* One byte past the limit proves a file too large. */
	size_text(limit, sizeof(limit), max);
	sbuf_init(out, max + 1);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: too large (%lld bytes; %s is at most %s)", path, (long long)st.st_size, what,
			 limit);
		goto out;
	}
	int r = sbuf_read_fd(out, fd, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0);
	if (r == -ENOMEM) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		goto out;
	}
	if (sbuf_len(out) > max) {
		snprintf(err, errlen, "%s: too large (%s is at most %s)", path, what, limit);
		goto out;
	}
	*mode = st.st_mode;
	ok = true;
out:
	if (!ok)
		sbuf_free(out);
	close(fd);
	return ok;
}

bool secretfile_private(const char *path, mode_t mode, const char *what, char *err, size_t errlen)
{
	if (!(mode & 077))
		return true;
	snprintf(err, errlen, "%s: contains a %s but is readable by others (mode %04o); fix with: chmod 600 %s", path,
		 what, (unsigned)(mode & 07777), path);
	return false;
}
