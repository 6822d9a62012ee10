// SPDX-License-Identifier: MIT
#include "keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

int keylog_open(int *fd)
{
	const char *path = getenv("SLUICE_KEYLOG");
	struct stat st;

	*fd = -1;
	if (!path || !*path)
		return 0;
	/* Not through a symlink, and only a file of ours that nobody else can
	 * read: root appending session secrets to a file someone planted would
	 * hand them over. */
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		int e = errno;
		log_err("SLUICE_KEYLOG: cannot open %s: %s%s", path, strerror(e),
			e == ELOOP ? " (it is a symbolic link; give the file itself)" : "");
		return -e;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		log_err("SLUICE_KEYLOG: %s must be a regular file owned by this user and readable by nobody else "
			"(fix with: chmod 600 %s)",
			path, path);
		close(*fd);
		*fd = -1;
		return -EPERM;
	}
	log_warn(
		"*** SLUICE_KEYLOG is set: the secrets of every handshake are written to %s; "
		"anyone who reads it can decrypt this interface's traffic. For debugging only. ***",
		path);
	return 0;
}

void keylog_write(int fd, const uint8_t local_static_private[KEY_LEN], const uint8_t remote_static_public[KEY_LEN],
		  const uint8_t local_ephemeral_private[KEY_LEN], const uint8_t preshared_key[KEY_LEN])
{
	char b64[4][KEY_B64_LEN + 1], text[4 * (KEY_B64_LEN + 40)];
	int n;

	if (fd < 0)
		return;
	key_to_base64(b64[0], local_static_private);
	key_to_base64(b64[1], remote_static_public);
	key_to_base64(b64[2], local_ephemeral_private);
	key_to_base64(b64[3], preshared_key);
	n = snprintf(text, sizeof(text),
		     "LOCAL_STATIC_PRIVATE_KEY = %s\nREMOTE_STATIC_PUBLIC_KEY = %s\n"
		     "LOCAL_EPHEMERAL_PRIVATE_KEY = %s\nPRESHARED_KEY = %s\n",
		     b64[0], b64[1], b64[2], b64[3]);
	if (n > 0 && write(fd, text, (size_t)n) != n)
		log_warn("cannot write to the key log: %s", strerror(errno));
	crypto_wipe(b64, sizeof(b64));
	crypto_wipe(text, sizeof(text));
}
