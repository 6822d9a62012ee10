// SPDX-License-Identifier: MIT
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoding.h"
#include "sbuf.h"

#define RECORD_PREFIX "peer "
#define TIMESTAMP_HEX_LEN (2 * NOISE_TIMESTAMP_LEN)

/* ---- records ---- */

void state_records_free(struct state_records *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

int state_records_add(struct state_records *s, const struct state_record *rec)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct state_record *r = realloc(s->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n++] = *rec;
	return 0;
}

static int compare_records(const void *a, const void *b)
{
	return memcmp(((const struct state_record *)a)->public_key, ((const struct state_record *)b)->public_key,
		      KEY_LEN);
}

void state_records_sort(struct state_records *s)
{
	if (s->n > 1)
		qsort(s->r, s->n, sizeof(*s->r), compare_records);
}

struct state_record *state_records_find(const struct state_records *s, const uint8_t public_key[KEY_LEN])
{
	struct state_record key;

	if (!s->n)
		return NULL;
	memcpy(key.public_key, public_key, KEY_LEN);
	return bsearch(&key, s->r, s->n, sizeof(*s->r), compare_records);
}

/* ---- the text ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: one spelling only */
}

static bool timestamp_from_hex(uint8_t out[NOISE_TIMESTAMP_LEN], const char *s, size_t len)
{
	if (len != TIMESTAMP_HEX_LEN)
		return false;
	for (size_t i = 0; i < NOISE_TIMESTAMP_LEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void timestamp_to_hex(char out[TIMESTAMP_HEX_LEN + 1], const uint8_t ts[NOISE_TIMESTAMP_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < NOISE_TIMESTAMP_LEN; i++) {
		out[2 * i] = digits[ts[i] >> 4];
		out[2 * i + 1] = digits[ts[i] & 15];
	}
	out[TIMESTAMP_HEX_LEN] = '\0';
}

/* "peer KEY TIMESTAMP ENDPOINT", NUL-terminated, without its newline. */
static const char *parse_record(struct state_record *rec, char *line)
{
	char *key, *ts, *ep, *sp;

	memset(rec, 0, sizeof(*rec));
	if (strncmp(line, RECORD_PREFIX, strlen(RECORD_PREFIX)) != 0)
		return "expected a line 'peer KEY TIMESTAMP ENDPOINT'";
	key = line + strlen(RECORD_PREFIX);
	if (!(sp = strchr(key, ' ')))
		return "expected a timestamp after the key";
	*sp = '\0';
	ts = sp + 1;
	if (!(sp = strchr(ts, ' ')))
		return "expected an endpoint after the timestamp";
	*sp = '\0';
	ep = sp + 1;
	if (strchr(ep, ' '))
		return "more than four fields";
	if (strlen(key) != KEY_B64_LEN || !key_from_base64(rec->public_key, key))
		return "invalid public key (expected 44 characters of base64)";
	if (!timestamp_from_hex(rec->timestamp, ts, strlen(ts)))
		return "invalid timestamp (expected 24 lowercase hex digits)";
	if (strcmp(ep, "-") == 0)
		return NULL;
	char again[ENDPOINT_STR_MAX];
	if (!endpoint_parse_numeric(&rec->endpoint, ep))
		return "invalid endpoint (expected a numeric address:port, or -)";
	/* One spelling, the one we write: nothing for a reader to guess. */
	endpoint_format(again, &rec->endpoint);
	if (strcmp(again, ep) != 0)
		return "endpoint not written as sluice writes it";
	return NULL;
}

struct ordered {
	size_t index; /* in file order */
	const struct state_record *rec;
};

static int compare_ordered(const void *a, const void *b)
{
	return compare_records(((const struct ordered *)a)->rec, ((const struct ordered *)b)->rec);
}

/* Sorts out by key, refusing a key given twice (*line: the later one). */
static bool sort_unique(struct state_records *out, unsigned first_line, unsigned *line)
{
	struct ordered *o;
	struct state_record *sorted;
	bool ok = true;

	if (out->n < 2)
		return true;
	o = malloc(out->n * sizeof(*o));
	sorted = malloc(out->n * sizeof(*sorted));
	if (!o || !sorted) {
		free(o);
		free(sorted);
		*line = 0;
		return false;
	}
	for (size_t i = 0; i < out->n; i++)
		o[i] = (struct ordered){ i, &out->r[i] };
	qsort(o, out->n, sizeof(*o), compare_ordered);
	for (size_t i = 1; i < out->n && ok; i++) {
		if (compare_records(o[i - 1].rec, o[i].rec) == 0) {
			size_t later = o[i - 1].index > o[i].index ? o[i - 1].index : o[i].index;
			*line = first_line + (unsigned)later;
			ok = false;
		}
	}
	for (size_t i = 0; ok && i < out->n; i++)
		sorted[i] = *o[i].rec;
	if (ok) {
		free(out->r);
		out->r = sorted;
		out->cap = out->n;
	} else {
		free(sorted);
	}
	free(o);
	return ok;
}

bool statefile_parse(struct state_records *out, const char *text, size_t len, unsigned *line, const char **why)
{
	size_t header_len = strlen(STATE_HEADER), pos;
	unsigned header_lines = 0;
	char buf[STATE_LINE_MAX + 1];

	memset(out, 0, sizeof(*out));
	*line = 0;
	*why = NULL;
	for (size_t i = 0; i < header_len; i++)
		header_lines += STATE_HEADER[i] == '\n';
	if (len > STATE_FILE_MAX) {
		*why = "too large";
		return false;
	}
	if (len < header_len || memcmp(text, STATE_HEADER, header_len) != 0) {
		*line = 1;
		*why = "not a sluice state file (the header is missing or of another version)";
		return false;
	}
	*line = header_lines;
	for (pos = header_len; pos < len;) {
		size_t room = len - pos < sizeof(buf) ? len - pos : sizeof(buf);
		const char *nl = memchr(text + pos, '\n', room);
		struct state_record rec;

		++*line;
		if (!nl) {
			*why = room == sizeof(buf) ? "line too long" : "the last line has no newline";
			goto fail;
		}
		size_t n = (size_t)(nl - (text + pos));
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos += n + 1;
		if (strlen(buf) != n) {
			*why = "a NUL byte";
			goto fail;
		}
		if (out->n == STATE_RECORDS_MAX) {
			*why = "too many peers";
			goto fail;
		}
		if ((*why = parse_record(&rec, buf)))
			goto fail;
		if (state_records_add(out, &rec) < 0) {
			*why = "out of memory";
			goto fail;
		}
	}
	if (!sort_unique(out, header_lines + 1, line)) {
		*why = *line ? "a public key given twice" : "out of memory";
		goto fail;
	}
	*line = 0;
	return true;
fail:
	state_records_free(out);
	return false;
}

int statefile_format(struct sbuf *out, const struct state_records *s)
{
	sbuf_putf(out, "%s", STATE_HEADER);
	for (size_t i = 0; i < s->n; i++) {
		const struct state_record *r = &s->r[i];
		char key[KEY_B64_LEN + 1], ts[TIMESTAMP_HEX_LEN + 1], ep[ENDPOINT_STR_MAX];

		key_to_base64(key, r->public_key);
		timestamp_to_hex(ts, r->timestamp);
		if (r->endpoint.addr.sa.sa_family == AF_UNSPEC)
			snprintf(ep, sizeof(ep), "-");
		else
			endpoint_format(ep, &r->endpoint);
		sbuf_putf(out, RECORD_PREFIX "%s %s %s\n", key, ts, ep);
	}
	return sbuf_error(out);
}

/* ---- the files ---- */

const char *statefile_dir(void)
{
	/* secure_getenv: a set-user-ID caller never takes it from the environment. */
	const char *dir = secure_getenv(STATE_DIR_ENV);

	return dir && *dir ? dir : STATE_DIR;
}

int statefile_open_dir(const char *ifname)
{
	const char *base = statefile_dir();
	char path[4096];
	struct stat st;
	int fd;

	if (!*ifname || strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	if (mkdir(base, 0755) == 0) {
		if (chmod(base, 0755) < 0) /* past the umask: users other than root traverse it */
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", base, ifname) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Ours: a daemon that ran as another user (User =) may have had it,
	 * and the sandbox leaves root no CAP_DAC_OVERRIDE to write into it. */
	if (fstat(fd, &st) < 0 || ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0) ||
	    ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(fd, geteuid(), getegid()) < 0)) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int statefile_load(int dirfd, struct state_records *out, unsigned *line, const char **why)
{
	struct stat st;
	struct sbuf text;
	int fd, r = 0;

	sbuf_init(&text, STATE_FILE_MAX + 1);
	memset(out, 0, sizeof(*out));
	*line = 0;
	*why = NULL;
	fd = openat(dirfd, STATE_FILE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > STATE_FILE_MAX) {
		*why = "too large";
		r = -EINVAL;
		goto out;
	}
	/* Read to the end, whatever st_size said, but never past the limit:
	 * a byte more proves the file too large. */
	if ((r = sbuf_read_fd(&text, fd, (size_t)st.st_size)) < 0)
		goto out;
	if (sbuf_len(&text) > STATE_FILE_MAX) {
		*why = "too large";
		r = -EINVAL;
		goto out;
	}
	if (!statefile_parse(out, sbuf_ptr(&text), sbuf_len(&text), line, why))
		r = -EINVAL;
out:
	sbuf_free(&text);
	close(fd);
	return r;
}

int statefile_save(int dirfd, const struct state_records *s)
{
	struct sbuf text;
	int fd, r;

	sbuf_init(&text, STATE_FILE_MAX);
	if ((r = statefile_format(&text, s)) < 0)
		goto out;
	/* A temp file left by a crash, maybe another user's: ours is new. */
	if (unlinkat(dirfd, STATE_TMP_NAME, 0) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = openat(dirfd, STATE_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = sbuf_write_fd(&text, fd);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, STATE_TMP_NAME, dirfd, STATE_FILE_NAME) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, STATE_TMP_NAME, 0);
	else
		fsync(dirfd); /* the rename itself on disk; nothing to undo if it fails */
out:
	sbuf_free(&text);
	return r;
}
