/* SPDX-License-Identifier: MIT */
/*
 * What `sluice up` does around the interface as wg-quick does: the
 * PreUp/PostUp/PreDown/PostDown commands (through /bin/sh -c, %i replaced
 * by the interface's name) and DNS (through resolvconf, else resolvectl).
 *
 * The daemon cannot run the down hooks itself: once set up it has no right
 * to exec (sandbox.c). So when a file has PreDown, PostDown or DNS, a
 * keeper is forked before set-up: a process that holds no key, ignores the
 * signals that stop the daemon, and waits on a socket pair. The daemon tells
 * it "up" (after PostUp), and "going down" when it stops, before it removes
 * the interface (the keeper runs PreDown and answers); when the daemon is
 * gone (it closed its end, or died), the keeper takes DNS away, runs
 * PostDown and exits. A daemon that never said "up" gets no down hooks,
 * as wg-quick runs none when `up` fails.
 */
#ifndef SLUICE_HOOKS_H
#define SLUICE_HOOKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

/* Runs the stage's commands in order, each through /bin/sh -c with %i
 * replaced by ifname, with the caller's standard descriptors. Stops at the
 * first that fails (logged: "PreUp command 'false' failed: exit status 1")
 * when stop_on_failure. 0, or -1 if one failed. */
int hooks_run(const struct interface_config *cfg, enum hook_stage stage, const char *ifname, bool stop_on_failure);

/* DNS = for ifname: `resolvconf -a [PREFIX]IFACE -m 0 -x` fed "nameserver"
 * and "search" lines (PREFIX as wg-quick finds it, "tun." where
 * /etc/resolvconf/interface-order says "tun*"), else `resolvectl dns` and
 * `resolvectl domain`. Nothing to do without a name server. 0, or -1 after
 * logging (neither program found, or it failed). */
int hooks_dns_set(const struct interface_config *cfg, const char *ifname);
void hooks_dns_unset(const struct interface_config *cfg, const char *ifname);

/* Whether PATH holds an executable named name. */
bool hooks_program_exists(const char *name);

struct hooks_keeper {
	pid_t pid; /* 0: none (nothing to do at the end) */
	int fd;
};

/* Forks the keeper if cfg has PreDown, PostDown or DNS. foreground: its
 * output stays the caller's; else /dev/null and syslog. 0 or -errno. */
int hooks_keeper_start(struct hooks_keeper *k, const struct interface_config *cfg, const char *ifname, bool foreground);
/* DNS was set: the keeper takes it away at the end. */
void hooks_keeper_dns_set(struct hooks_keeper *k);
/* Up and PostUp done: the down hooks will run. */
void hooks_keeper_up(struct hooks_keeper *k);
/* Stopping, the interface still there: returns once PreDown has run. */
void hooks_keeper_going_down(struct hooks_keeper *k);
/* The interface is gone: waits for the keeper's DNS removal and PostDown. */
void hooks_keeper_finish(struct hooks_keeper *k);

#endif
