// SPDX-License-Identifier: MIT
/* sluice up [-f] [-v] FILE: brings up the interface FILE describes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "device.h"
#include "hooks.h"
#include "log.h"
#include "notify.h"
#include "sandbox.h"

static const char usage[] =
	"Usage: sluice up [-f] [-v] [-u USER] FILE|NAME\n"
	"Brings up the interface described by FILE (wg-quick format); the interface\n"
	"is named after FILE without .conf (wg0.conf -> wg0). A bare NAME (wg0) reads\n"
	"/etc/sluice/NAME.conf, else /etc/wireguard/NAME.conf, as wg-quick does\n"
	"($SLUICE_CONFIG_PATH, colon-separated directories, changes where it looks).\n"
	"  -f, --foreground  stay in the foreground and log to stderr\n"
	"  -v, --verbose     log debugging detail\n"
	"  -u, --user USER   once set up, run as USER (overrides User = in FILE)\n"
	"Without -f, returns once the interface is up; the daemon logs to syslog.\n";

/* A server with many TCP clients holds a descriptor each: take every
 * descriptor the hard limit allows (systemd's soft limit is 1024), before
 * tcp_init sizes its waiting room by it. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cmd_run_interface(struct interface_config *cfg, const char *ifname, bool foreground)
{
	struct device dev;
	struct hooks_keeper keeper = { .pid = 0, .fd = -1 };
	struct sandbox_user user = { 0 };
	int ret = EXIT_RUNTIME, ready[2] = { -1, -1 }, r;
	bool must_stop;

	/* Looked up now, while the caller sees what goes wrong. */
	if (cfg->user[0]) {
		r = sandbox_resolve_user(&user, cfg->user);
		if (r < 0) {
			if (cfg->user_line)
				fprintf(stderr, "%s:%u: User = %s: %s\n", cfg->path ? cfg->path : "configuration",
					cfg->user_line, cfg->user, r == -ENOENT ? "no such user" : strerror(-r));
			else
				fprintf(stderr, "up: --user %s: %s\n", cfg->user,
					r == -ENOENT ? "no such user" : strerror(-r));
			config_free(cfg); /* as on every way out (twice is harmless) */
			return EXIT_USAGE;
		}
	}
	raise_fd_limit();

	if (!foreground) {
		/* The child reports on this pipe once the interface is up, so we
		 * return only then, with its verdict. */
		if (pipe2(ready, O_CLOEXEC) < 0) {
			fprintf(stderr, "pipe: %s\n", strerror(errno));
			return EXIT_RUNTIME;
		}
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "fork: %s\n", strerror(errno));
			close(ready[0]);
			close(ready[1]);
			return EXIT_RUNTIME;
		}
		if (pid > 0) {
			char status = 1;
			close(ready[1]);
			if (read(ready[0], &status, 1) != 1)
				status = 1;
			close(ready[0]);
			return status == 0 ? EXIT_OK : EXIT_RUNTIME;
		}
		close(ready[0]);
		setsid();
		/* Hold none of the caller's descriptors (a pipe kept open would
		 * keep a caller waiting for its end): keep 0-2 and ours. */
		if (ready[1] > 3)
			close_range(3, (unsigned)ready[1] - 1, 0);
		close_range((unsigned)ready[1] + 1, ~0U, 0);
	}

	/* wg-quick's order: PreUp before the interface exists, DNS once it
	 * is up, then PostUp; a failing hook undoes the interface. */
	if (hooks_run(cfg, HOOK_PRE_UP, ifname, true) < 0)
		goto out;
	if ((r = hooks_keeper_start(&keeper, cfg, ifname, foreground)) < 0) {
		log_err("cannot start the process for PreDown, PostDown and DNS: %s", strerror(-r));
		goto out;
	}
	if (device_up(&dev, ifname, cfg) < 0)
		goto out;
	if (hooks_dns_set(cfg, ifname) < 0) {
		device_down(&dev);
		goto out;
	}
	if (cfg->dns_servers.n)
		hooks_keeper_dns_set(&keeper);
	if (hooks_run(cfg, HOOK_POST_UP, ifname, true) < 0) {
		device_down(&dev);
		goto out;
	}
	hooks_keeper_up(&keeper);
	notify_ready();
	config_free(cfg); /* the keys now live in the device only */
	if (!foreground) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC), logfd = -1;
		if (!log_to_syslog("sluice")) {
			/* No syslog daemon (a container, a minimal host): messages
			 * would be lost, so they go to a file that says so. */
			char path[64];
			snprintf(path, sizeof(path), "%s/%s.log", LOG_FALLBACK_DIR, ifname);
			if (mkdir(LOG_FALLBACK_DIR, 0700) == 0 || errno == EEXIST)
				logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (logfd >= 0)
				fprintf(stderr, "sluice: no syslog on this host (/dev/log): %s logs to %s\n", ifname,
					path);
			else
				fprintf(stderr,
					"sluice: no syslog on this host (/dev/log) and %s cannot be written: %s\n",
					path, strerror(errno));
		}
		char ok = 0;
		/* The parent may be gone: carry on whatever write says. */
		(void)!write(ready[1], &ok, 1);
		close(ready[1]);
		ready[1] = -1;
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(logfd >= 0 ? logfd : null, 2);
			close(null);
		}
		if (logfd >= 0)
			close(logfd);
		log_info("%s up; daemon running as pid %d", ifname, (int)getpid());
	}
	/* Set-up is done: the daemon runs with what it still needs only. */
	r = user.set ? device_state_chown(&dev.state, user.uid, user.gid) : 0;
	if (r < 0)
		log_warn("cannot give the state directory %s/%s to User = %s: %s; the state will not be saved",
			 statefile_dir(), ifname, user.name, strerror(-r));
	sandbox_enter(user.set ? &user : NULL, &must_stop);
	ret = must_stop ? EXIT_RUNTIME : device_run(&dev) < 0 ? EXIT_RUNTIME : EXIT_OK;
	notify_stopping();                /* systemd: shutdown begins (before the interface goes) */
	hooks_keeper_going_down(&keeper); /* PreDown */
	device_down(&dev);
	log_info("%s down", ifname);
out:
	hooks_keeper_finish(&keeper); /* DNS removed, PostDown */
	if (!foreground) {
		if (ready[1] >= 0) {
			char fail = 1;
			(void)!write(ready[1], &fail, 1); /* nothing more to say if it fails */
		}
		config_free(cfg);
		_exit(ret);
	}
	return ret;
}

static void warn_unsupported(const struct interface_config *cfg, const char *file)
{
	for (size_t i = 0; i < cfg->n_unsupported_keys; i++)
		log_warn("%s:%u: %s is a wg-quick setting that sluice up ignores", file, cfg->unsupported_keys[i].line,
			 cfg->unsupported_keys[i].name);
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct interface_config cfg;
	char err[512], ifname[16];
	bool foreground = false;
	const char *user = NULL;
	int ret = EXIT_RUNTIME, opt;

	memset(&cfg, 0, sizeof(cfg));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+fvu:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			foreground = true;
			break;
		case 'v':
			log_level = LOG_LVL_DEBUG;
			break;
		case 'u':
			if (!config_user_valid(optarg)) {
				fprintf(stderr, "up: --user: not a user name: '%s'\n", optarg);
				return EXIT_USAGE;
			}
			user = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	char path[4096];
	int r = cmd_config_path(path, sizeof(path), argv[optind]);
	if (r == -ENOENT) {
		fprintf(stderr, "up: no configuration named '%s': looked for %s.conf in %s, and for ./%s\n",
			argv[optind], argv[optind], cmd_config_search_path(), argv[optind]);
		return EXIT_RUNTIME;
	} else if (r < 0) {
		fprintf(stderr, "up: '%s': %s\n", argv[optind], strerror(-r));
		return EXIT_USAGE;
	}
	const char *file = path;
	if (!cmd_ifname(ifname, file))
		return EXIT_USAGE;
	if (!config_load(&cfg, file, err, sizeof(err)) || !config_resolve(&cfg, file, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	warn_unsupported(&cfg, file);
	if (user) {
		snprintf(cfg.user, sizeof(cfg.user), "%s", user);
		cfg.user_line = 0;
	}
	ret = cmd_run_interface(&cfg, ifname, foreground);
out:
	config_free(&cfg);
	return ret;
}
