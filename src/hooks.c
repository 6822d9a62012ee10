// SPDX-License-Identifier: MIT
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "sbuf.h"

static const char *const stage_names[HOOK_STAGES] = { "PreUp", "PostUp", "PreDown", "PostDown" };

/* The keeper's messages, daemon to keeper; it answers MSG_DOWN with one byte. */
enum { MSG_DNS_SET = 'S', MSG_UP = 'U', MSG_DOWN = 'D' };

bool hooks_program_exists(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len && len + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		p = colon ? colon + 1 : NULL;
	}
	return false;
}

/* Runs argv (argv[0] looked up in PATH) with `input` on its standard input
 * when given, else the caller's. The child gets the signals a shell expects:
 * the daemon blocks some and its keeper ignores others. Exit status, or -1. */
static int run(char *const argv[], const char *input, size_t len)
{
	int fds[2] = { -1, -1 }, status;
	sigset_t none;

	fflush(NULL);
	if (input && pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		if (input) {
			close(fds[0]);
			close(fds[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (input && dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "sluice: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (input) {
		close(fds[0]);
		/* A program that does not read all of it gets EPIPE, not us killed. */
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		for (size_t off = 0; off < len;) {
			ssize_t n = write(fds[1], input + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		close(fds[1]);
		signal(SIGPIPE, old);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int hooks_run(const struct interface_config *cfg, enum hook_stage stage, const char *ifname, bool stop_on_failure)
{
	const struct config_strings *list = &cfg->hooks[stage];
	int ret = 0;

	for (size_t i = 0; i < list->n; i++) {
		struct sbuf cmd;
		sbuf_init(&cmd, 1 << 20);
		/* %i is the interface, as in wg-quick; nothing else is replaced. */
		for (const char *p = list->items[i]; *p; p++) {
			if (p[0] == '%' && p[1] == 'i') {
				sbuf_put(&cmd, ifname, strlen(ifname));
				p++;
			} else {
				sbuf_put(&cmd, p, 1);
			}
		}
		const char *text = sbuf_cstr(&cmd);
		if (!text) {
			log_err("%s: out of memory", stage_names[stage]);
			sbuf_free(&cmd);
			return -1;
		}
		log_info("%s: %s", stage_names[stage], text);
		char *argv[] = { "/bin/sh", "-c", (char *)text, NULL };
		int status = run(argv, NULL, 0);
		if (status != 0) {
			if (status < 0)
				log_err("%s command '%s' could not be run: %s", stage_names[stage], text,
					strerror(errno));
			else
				log_err("%s command '%s' failed: exit status %d", stage_names[stage], text, status);
			ret = -1;
		}
		sbuf_free(&cmd);
		if (ret < 0 && stop_on_failure)
			break;
	}
	return ret;
}

/* resolvconf's name for the interface: wg-quick's prefix, "tun." where
 * Debian's resolvconf orders interfaces by such patterns (systemd's
 * resolvconf would take "tun.wg0" for the link "tun", so only there). */
static void resolvconf_name(char *out, size_t outlen, const char *ifname)
{
	FILE *f = fopen("/etc/resolvconf/interface-order", "re");
	char line[256];

	snprintf(out, outlen, "%s", ifname);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n"), i = 0;
		line[n] = '\0';
		while (i < n && ((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= 'A' && line[i] <= 'Z') ||
				 (line[i] >= '0' && line[i] <= '9') || line[i] == '-'))
			i++;
		if (i > 0 && i == n - 1 && line[i] == '*') {
			line[i] = '\0';
			snprintf(out, outlen, "%.32s.%.16s", line, ifname);
			break;
		}
	}
	fclose(f);
}

int hooks_dns_set(const struct interface_config *cfg, const char *ifname)
{
	if (!cfg->dns_servers.n)
		return 0;
	if (hooks_program_exists("resolvconf")) {
		struct sbuf in;
		char name[64];
		sbuf_init(&in, 1 << 16);
		for (size_t i = 0; i < cfg->dns_servers.n; i++)
			sbuf_putf(&in, "nameserver %s\n", cfg->dns_servers.items[i]);
		for (size_t i = 0; i < cfg->dns_search.n; i++)
			sbuf_putf(&in, "%s%s", i ? " " : "search ", cfg->dns_search.items[i]);
		if (cfg->dns_search.n)
			sbuf_putf(&in, "\n");
		resolvconf_name(name, sizeof(name), ifname);
		char *argv[] = { "resolvconf", "-a", name, "-m", "0", "-x", NULL };
		int status = sbuf_error(&in) ? -1 : run(argv, sbuf_ptr(&in), sbuf_len(&in));
		sbuf_free(&in);
		if (status != 0) {
			log_err("DNS: resolvconf -a %s -m 0 -x failed (exit status %d)", name, status);
			return -1;
		}
		log_info("DNS: %zu name server%s for %s handed to resolvconf", cfg->dns_servers.n,
			 cfg->dns_servers.n == 1 ? "" : "s", ifname);
		return 0;
	}
	if (hooks_program_exists("resolvectl")) {
		size_t n = cfg->dns_servers.n > cfg->dns_search.n ? cfg->dns_servers.n : cfg->dns_search.n;
		char **argv = calloc(n + 4, sizeof(*argv));
		int status = -1;
		if (argv) {
			argv[0] = "resolvectl";
			argv[1] = "dns";
			argv[2] = (char *)ifname;
			memcpy(argv + 3, cfg->dns_servers.items, cfg->dns_servers.n * sizeof(*argv));
			argv[3 + cfg->dns_servers.n] = NULL;
			status = run(argv, NULL, 0);
			if (status == 0 && cfg->dns_search.n) {
				argv[1] = "domain";
				memcpy(argv + 3, cfg->dns_search.items, cfg->dns_search.n * sizeof(*argv));
				argv[3 + cfg->dns_search.n] = NULL;
				status = run(argv, NULL, 0);
			}
			free(argv);
		}
		if (status != 0) {
			log_err("DNS: resolvectl dns/domain %s failed (exit status %d)", ifname, status);
			return -1;
		}
		log_info("DNS: %zu name server%s for %s handed to resolvectl", cfg->dns_servers.n,
			 cfg->dns_servers.n == 1 ? "" : "s", ifname);
		return 0;
	}
	log_err("DNS = is set, but neither resolvconf nor resolvectl is in PATH: install one (Debian: resolvconf, or "
		"systemd-resolved), or remove DNS from the file");
	return -1;
}

void hooks_dns_unset(const struct interface_config *cfg, const char *ifname)
{
	int status;

	if (!cfg->dns_servers.n)
		return;
	if (hooks_program_exists("resolvconf")) {
		char name[64];
		resolvconf_name(name, sizeof(name), ifname);
		char *argv[] = { "resolvconf", "-d", name, "-f", NULL };
		status = run(argv, NULL, 0);
	} else {
		/* resolved forgets a link's servers when it goes; revert is
		 * for a link that stays. */
		char *argv[] = { "resolvectl", "revert", (char *)ifname, NULL };
		status = run(argv, NULL, 0);
	}
	if (status != 0)
		log_warn("DNS: removing the name servers of %s failed (exit status %d)", ifname, status);
}

static void keeper_main(int fd, struct interface_config *cfg, const char *ifname, bool foreground)
{
	bool dns = false, up = false, pre_down_done = false;
	char msg;

	/* It needs the commands and the names only: no key stays here. */
	crypto_wipe(cfg->private_key, sizeof(cfg->private_key));
	for (size_t i = 0; i < cfg->n_peers; i++)
		crypto_wipe(cfg->peers[i].preshared_key, sizeof(cfg->peers[i].preshared_key));
	/* SIGTERM and SIGINT stop the daemon, which then tells us; under
	 * systemd (its whole cgroup gets them) or at a terminal (the whole
	 * process group) we must outlive it to run PostDown. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		log_to_syslog("sluice");
	}
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
	for (;;) {
		ssize_t n = read(fd, &msg, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (msg == MSG_DNS_SET) {
			dns = true;
		} else if (msg == MSG_UP) {
			up = true;
		} else if (msg == MSG_DOWN) {
			if (up && !pre_down_done)
				hooks_run(cfg, HOOK_PRE_DOWN, ifname, false);
			pre_down_done = true;
			(void)!write(fd, &msg, 1);
		}
	}
	/* The daemon is gone: the interface with it. */
	if (up && !pre_down_done)
		hooks_run(cfg, HOOK_PRE_DOWN, ifname, false);
	if (dns)
		hooks_dns_unset(cfg, ifname);
	if (up)
		hooks_run(cfg, HOOK_POST_DOWN, ifname, false);
	_exit(0);
}

int hooks_keeper_start(struct hooks_keeper *k, const struct interface_config *cfg, const char *ifname, bool foreground)
{
	int sv[2];

	k->pid = 0;
	k->fd = -1;
	if (!cfg->hooks[HOOK_PRE_DOWN].n && !cfg->hooks[HOOK_POST_DOWN].n && !cfg->dns_servers.n)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		keeper_main(sv[1], (struct interface_config *)cfg, ifname, foreground);
	}
	close(sv[1]);
	k->pid = pid;
	k->fd = sv[0];
	log_debug("PreDown, PostDown and DNS removal are left to process %d, which keeps the privileges for them",
		  (int)pid);
	return 0;
}

static void tell(struct hooks_keeper *k, char msg)
{
	if (k->fd >= 0 && write(k->fd, &msg, 1) != 1)
		log_warn("cannot reach the process that runs PreDown and PostDown: %s", strerror(errno));
}

void hooks_keeper_dns_set(struct hooks_keeper *k)
{
	tell(k, MSG_DNS_SET);
}

void hooks_keeper_up(struct hooks_keeper *k)
{
	tell(k, MSG_UP);
}

void hooks_keeper_going_down(struct hooks_keeper *k)
{
	char ack;

	if (k->fd < 0)
		return;
	tell(k, MSG_DOWN);
	while (read(k->fd, &ack, 1) < 0 && errno == EINTR)
		;
}

void hooks_keeper_finish(struct hooks_keeper *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->pid > 0)
		while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
			;
	k->pid = 0;
}
