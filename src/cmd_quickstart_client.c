// SPDX-License-Identifier: MIT
/*
 * sluice quickstart --add-client NAME DIR and --revoke NAME DIR: one client
 * more or less in a directory quickstart wrote. DIR/server.conf is the
 * record: its addresses give the subnets, its peers the addresses taken, a
 * "# NAME" line before a [Peer] names that client. The server's file is
 * replaced whole (a new file renamed over it), so a crash leaves the old or
 * the new one, never half of one; a running server is then synced to it as
 * `sluice syncconf` does, which keeps every other peer's session.
 * Also --qr: a client's file as a QR code, through the qrencode program.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "hooks.h"
#include "quickstart.h"
#include "sbuf.h"
#include "secretfile.h"
#include "uapi.h"

#define QR_PROGRAM "qrencode"

struct server_dir {
	char path[PATH_MAX]; /* DIR/server.conf */
	struct sbuf text;    /* as read: it holds the server's private key */
	struct interface_config cfg;
	int dfd;
};

static void server_dir_free(struct server_dir *sd)
{
	sbuf_free(&sd->text);
	config_free(&sd->cfg);
	if (sd->dfd >= 0)
		close(sd->dfd);
}

static bool server_dir_load(struct server_dir *sd, const char *dir)
{
	char err[512];
	mode_t mode;

	memset(sd, 0, sizeof(*sd));
	sd->dfd = -1;
	sbuf_init(&sd->text, CONFIG_FILE_MAX);
	snprintf(sd->path, sizeof(sd->path), "%s/server.conf", dir);
	if (!secretfile_read(sd->path, "a configuration file", CONFIG_FILE_MAX, &sd->text, &mode, err, sizeof(err)) ||
	    !config_parse(&sd->cfg, sd->path, sbuf_ptr(&sd->text), sbuf_len(&sd->text), err, sizeof(err))) {
		fprintf(stderr, "quickstart: %s\n(--add-client and --revoke work in a directory quickstart wrote)\n",
			err);
		return false;
	}
	sd->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->dfd < 0) {
		fprintf(stderr, "quickstart: cannot open the directory %s: %s\n", dir, strerror(errno));
		return false;
	}
	return true;
}

/* The layout the first run chose, read back from the server's file. */
static bool plan_from_server(struct plan *pl, const struct server_dir *sd)
{
	const struct interface_config *cfg = &sd->cfg;

	pl->n_subnets = 0;
	for (size_t i = 0; i < cfg->n_addresses && pl->n_subnets < 2; i++) {
		struct cidr net = cfg->addresses[i];
		cidr_mask(&net);
		if (pl->n_subnets == 1 && pl->subnets[0].family == net.family)
			continue;
		pl->subnets[pl->n_subnets++] = net;
	}
	if (!pl->n_subnets || !cfg->has_listen_port) {
		fprintf(stderr, "quickstart: %s has no %s: is it a server file quickstart wrote?\n", sd->path,
			pl->n_subnets ? "ListenPort" : "Address");
		return false;
	}
	pl->tcp = cfg->transports == TRANSPORT_TCP;
	pl->tap = cfg->ethernet;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].has_suite) {
			pl->has_cipher = true;
			pl->cipher = cfg->peers[i].suite == SUITE_AESGCM ? "aes-256-gcm" : "chacha20-poly1305";
			break;
		}
	}
	if (pl->has_endpoint)
		return true;
	/* The note the first run left: "# Clients use Endpoint = [tcp://]HOST:PORT". */
	const char *text = sbuf_ptr(&sd->text), *end = text + sbuf_len(&sd->text);
	size_t note_len = strlen(QS_ENDPOINT_NOTE);
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (len > note_len && len - note_len < 300 && !memcmp(line, QS_ENDPOINT_NOTE, note_len)) {
			char value[300];
			memcpy(value, line + note_len, len - note_len);
			value[len - note_len] = '\0';
			const char *v = strncmp(value, "tcp://", 6) ? value : value + 6;
			if (!qs_parse_endpoint(pl, v))
				return false;
			return true;
		}
		line = nl ? nl + 1 : end;
	}
	fprintf(stderr,
		"quickstart: %s does not say where clients reach the server (no '%s' line): give --endpoint "
		"HOST[:PORT]\n",
		sd->path, QS_ENDPOINT_NOTE);
	return false;
}

static bool prefix_holds(const struct cidr *p, const struct cidr *host)
{
	struct cidr a = *host, b = *p;

	if (p->family != host->family)
		return false;
	a.prefix = b.prefix;
	cidr_mask(&a);
	cidr_mask(&b);
	return !memcmp(&a.addr, &b.addr, sizeof(a.addr));
}

static bool address_taken(const struct interface_config *cfg, const struct cidr *net, const struct cidr *host)
{
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (cfg->addresses[i].family == host->family &&
		    !memcmp(&cfg->addresses[i].addr, &host->addr, sizeof(host->addr)))
			return true;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *p = &cfg->peers[i];
		for (size_t j = 0; j < p->n_allowed_ips; j++)
			/* Only what lies inside the subnet: a peer routing a
			 * wider network (a site) takes no client address. */
			if (p->allowed_ips[j].prefix >= net->prefix && prefix_holds(&p->allowed_ips[j], host))
				return true;
	}
	return false;
}

/* The lowest host index from 2 up free in every subnet; 0 when full. */
static uint64_t next_free_index(const struct plan *pl, const struct interface_config *cfg)
{
	uint64_t last = UINT64_MAX;

	for (size_t i = 0; i < pl->n_subnets; i++) {
		uint64_t room = qs_subnet_room(&pl->subnets[i]);
		if (room < UINT64_MAX && room + 1 < last)
			last = room + 1;
	}
	for (uint64_t index = 2; index <= last; index++) {
		bool free_in_all = true;
		for (size_t i = 0; free_in_all && i < pl->n_subnets; i++) {
			struct cidr host = qs_subnet_host(&pl->subnets[i], index);
			free_in_all = !address_taken(cfg, &pl->subnets[i], &host);
		}
		if (free_in_all)
			return index;
	}
	return 0;
}

struct line {
	const char *start;
	size_t len;  /* without the newline */
	size_t next; /* offset of the line after it */
};

static bool next_line(const char *text, size_t text_len, size_t off, struct line *l)
{
	if (off >= text_len)
		return false;
	const char *nl = memchr(text + off, '\n', text_len - off);
	l->start = text + off;
	l->len = nl ? (size_t)(nl - l->start) : text_len - off;
	l->next = nl ? off + l->len + 1 : text_len;
	while (l->len && (l->start[l->len - 1] == ' ' || l->start[l->len - 1] == '\t' || l->start[l->len - 1] == '\r'))
		l->len--;
	return true;
}

static bool line_is(const struct line *l, const char *s)
{
	return l->len == strlen(s) && !strncasecmp(l->start, s, l->len);
}

/* Where client NAME's block lies in the server's text: from the blank line
 * before its "# NAME" line to the end of its last key, so that removing
 * [*start, *end) leaves the file as if it had never been added. */
static bool find_client_block(const char *text, size_t len, const char *name, size_t *start, size_t *end)
{
	char comment[QS_NAME_MAX + 3];
	struct line l, next;
	size_t off = 0, prev_blank = SIZE_MAX;

	snprintf(comment, sizeof(comment), "# %s", name);
	while (next_line(text, len, off, &l)) {
		size_t here = off;
		off = l.next;
		if (!(l.len == strlen(comment) && !memcmp(l.start, comment, l.len) &&
		      next_line(text, len, off, &next) && line_is(&next, "[Peer]"))) {
			prev_blank = l.len == 0 ? here : SIZE_MAX;
			continue;
		}
		*start = prev_blank != SIZE_MAX ? prev_blank : here;
		*end = next.next;
		for (off = next.next; next_line(text, len, off, &l); off = l.next) {
			if (l.len && l.start[0] == '[')
				break;
			if (l.len && l.start[0] != '#')
				*end = l.next;
		}
		return true;
	}
	return false;
}

/* Replaces path (following a symbolic link to the file it names) with
 * text: a new file beside it, mode 0600, synced, renamed over it. */
static bool replace_file(const char *path, const char *text, size_t len)
{
	char *real = realpath(path, NULL), tmp[PATH_MAX + 16];
	bool ok = false;
	int fd = -1;

	if (!real) {
		fprintf(stderr, "quickstart: %s: %s\n", path, strerror(errno));
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", real);
	if (unlink(tmp) < 0 && errno != ENOENT) /* left by a run that was killed */
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || !qs_write_all(fd, text, len) || fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	ok = rename(tmp, real) == 0;
out:
	if (!ok) {
		fprintf(stderr, "quickstart: cannot replace %s (via %s): %s; it is unchanged\n", real, tmp,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(real);
	return ok;
}

/* Syncs the running server to its changed file. 0: done or not running
 * here (said so); EXIT_RUNTIME: it runs and refused (said so). */
static int apply_live(const struct plan *pl, const char *path)
{
	const char *iface = pl->iface ? pl->iface : "server";
	char sock[256];

	if (uapi_socket_path(sock, sizeof(sock), iface) < 0 || access(sock, F_OK) < 0) {
		printf("No interface %s runs here (no %s): the change takes effect when the server\n"
		       "starts, or apply it to a running one with: sudo sluice syncconf IFACE %s\n",
		       iface, sock, path);
		return EXIT_OK;
	}
	char *argv[] = { "syncconf", (char *)iface, (char *)path, NULL };
	fflush(stdout);
	if (cmd_syncconf(3, argv) != EXIT_OK) {
		fprintf(stderr,
			"quickstart: %s was updated but not applied to the running %s (see above); retry with: "
			"sudo sluice syncconf %s %s\n",
			path, iface, iface, path);
		return EXIT_RUNTIME;
	}
	printf("Applied to the running interface %s: the other clients' sessions are kept.\n", iface);
	return EXIT_OK;
}

int qs_add_client(struct plan *pl, const char *dir)
{
	struct server_dir sd;
	struct host_keys client, server;
	struct sbuf client_text, server_text;
	char file[QS_NAME_MAX + 6], addr[CIDR_STR_MAX];
	const char *name = pl->add_client;
	size_t s, e;
	int ret = EXIT_RUNTIME, fd = -1;
	bool client_written = false;

	memset(&client, 0, sizeof(client));
	memset(&server, 0, sizeof(server));
	sbuf_init(&client_text, CONFIG_FILE_MAX);
	sbuf_init(&server_text, CONFIG_FILE_MAX + 4096);
	if (!server_dir_load(&sd, dir) || !plan_from_server(pl, &sd))
		goto out;
	snprintf(file, sizeof(file), "%s.conf", name);
	struct stat st;
	if (fstatat(sd.dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    find_client_block(sbuf_ptr(&sd.text), sbuf_len(&sd.text), name, &s, &e)) {
		fprintf(stderr,
			"quickstart: there is a client %s already (%s/%s or '# %s' in server.conf); choose "
			"another NAME, or --revoke it first\n",
			name, dir, file, name);
		goto out;
	}
	uint64_t index = next_free_index(pl, &sd.cfg);
	if (!index) {
		fprintf(stderr, "quickstart: every address of the tunnel's subnet is taken; nothing was written\n");
		goto out;
	}
	if (!sd.cfg.has_private_key || !crypto_x25519_public(server.pub, sd.cfg.private_key) ||
	    !qs_make_keys(&client, true)) {
		fprintf(stderr, "quickstart: %s\n",
			sd.cfg.has_private_key ? "cannot make keys (no random bytes?)"
					       : "server.conf has no PrivateKey");
		goto out;
	}
	qs_client_text(&client_text, pl, name, index, server.pub, &client);
	sbuf_put(&server_text, sbuf_ptr(&sd.text), sbuf_len(&sd.text));
	if (sbuf_len(&sd.text) && sbuf_ptr(&sd.text)[sbuf_len(&sd.text) - 1] != '\n')
		sbuf_put(&server_text, "\n", 1);
	qs_server_peer_text(&server_text, pl, name, index, &client);
	if (sbuf_error(&client_text) || sbuf_error(&server_text)) {
		fprintf(stderr, "quickstart: out of memory\n");
		goto out;
	}
	/* The client's file first: if the server's cannot be replaced, it
	 * goes again and nothing has changed. */
	fd = openat(sd.dfd, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "quickstart: cannot create %s/%s: %s; nothing was written\n", dir, file,
			strerror(errno));
		goto out;
	}
	client_written = true;
	bool ok = fchmod(fd, 0600) == 0 && qs_write_all(fd, sbuf_ptr(&client_text), sbuf_len(&client_text));
	if (close(fd) < 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "quickstart: cannot write %s/%s: %s; nothing was written\n", dir, file,
			strerror(errno));
		goto out;
	}
	if (!replace_file(sd.path, sbuf_ptr(&server_text), sbuf_len(&server_text)))
		goto out;
	client_written = false; /* kept */
	qs_host_address(addr, pl, index);
	printf("Wrote %s/%s: %s, reaching the server at %s%s:%u\n", dir, file, addr, pl->tcp ? "tcp://" : "", pl->host,
	       pl->port);
	printf("Added %s to %s\n", name, sd.path);
	ret = apply_live(pl, sd.path);
	printf("Copy %s to that client only (it holds a private key) and run: sudo sluice up %s\n", file, file);
	qs_print_notes(pl);
	if (pl->qr && !qs_print_qr(file, sbuf_ptr(&client_text), sbuf_len(&client_text)))
		ret = EXIT_RUNTIME;
out:
	if (client_written && unlinkat(sd.dfd, file, 0) < 0)
		fprintf(stderr, "quickstart: cannot remove the partial %s/%s: %s\n", dir, file, strerror(errno));
	crypto_wipe(&client, sizeof(client));
	sbuf_free(&client_text);
	sbuf_free(&server_text);
	server_dir_free(&sd);
	return ret;
}

int qs_revoke(struct plan *pl, const char *dir)
{
	struct server_dir sd;
	struct sbuf server_text;
	char file[QS_NAME_MAX + 6];
	const char *name = pl->revoke;
	size_t start, end;
	int ret = EXIT_RUNTIME;

	sbuf_init(&server_text, CONFIG_FILE_MAX);
	if (!server_dir_load(&sd, dir))
		goto out;
	const char *text = sbuf_ptr(&sd.text);
	size_t len = sbuf_len(&sd.text);
	if (!find_client_block(text, len, name, &start, &end)) {
		fprintf(stderr,
			"quickstart: %s has no client %s (no '# %s' line before a [Peer]); nothing was changed\n",
			sd.path, name, name);
		goto out;
	}
	sbuf_put(&server_text, text, start);
	sbuf_put(&server_text, text + end, len - end);
	if (sbuf_error(&server_text)) {
		fprintf(stderr, "quickstart: out of memory\n");
		goto out;
	}
	if (!replace_file(sd.path, sbuf_ptr(&server_text), sbuf_len(&server_text)))
		goto out;
	printf("Removed %s from %s\n", name, sd.path);
	snprintf(file, sizeof(file), "%s.conf", name);
	if (unlinkat(sd.dfd, file, 0) == 0)
		printf("Deleted %s/%s: its keys are of no use any more\n", dir, file);
	else if (errno != ENOENT)
		fprintf(stderr, "quickstart: warning: cannot delete %s/%s: %s\n", dir, file, strerror(errno));
	ret = apply_live(pl, sd.path);
out:
	sbuf_free(&server_text);
	server_dir_free(&sd);
	return ret;
}

bool qs_qr_available(void)
{
	if (hooks_program_exists(QR_PROGRAM))
		return true;
	fprintf(stderr, "quickstart: --qr needs the program " QR_PROGRAM
			", which is not in PATH: install it (Debian: apt install qrencode); nothing was written\n");
	return false;
}

bool qs_print_qr(const char *title, const char *text, size_t len)
{
	int fds[2], status;

	printf("\n%s as a QR code (scan it with the WireGuard app; it holds the private key):\n", title);
	fflush(stdout);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "quickstart: pipe: %s\n", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "quickstart: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		/* The text goes in on stdin, never on the command line, where
		 * every user could read the key in /proc. */
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		execlp(QR_PROGRAM, QR_PROGRAM, "-t", "ansiutf8", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	bool wrote = qs_write_all(fds[1], text, len);
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	if (!wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "quickstart: %s failed (exit status %d) making the QR code of %s\n", QR_PROGRAM,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, title);
		return false;
	}
	return true;
}
