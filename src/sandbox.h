/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for the running daemon. Set-up (the TUN, the sockets,
 * addresses and routes) needs root; what runs after it needs far less:
 *
 *   - capabilities: only CAP_NET_ADMIN (netlink for MTU and link deletion,
 *     SO_MARK, forced socket buffers) and CAP_NET_BIND_SERVICE (a port
 *     below 1024 set again over the control socket) stay, in the effective,
 *     permitted and bounding sets; the others are gone for good;
 *   - optionally another user (User =): setgroups, setresgid, setresuid,
 *     with the two capabilities kept across the change (PR_SET_KEEPCAPS)
 *     and made effective again; the control socket and the state
 *     directory are made (and the latter given to the user) before;
 *   - no new privileges (PR_SET_NO_NEW_PRIVS): nothing it could execute
 *     gains any;
 *   - not dumpable (PR_SET_DUMPABLE 0, RLIMIT_CORE 0): no core file, and no
 *     ptrace by processes of the same user, ever holds a key;
 *   - memory locked (mlockall MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT): keys are
 *     never written to swap, and pages are locked only as they are used, so
 *     the resident size does not grow;
 *   - a seccomp filter: the system calls the event loop, the transports, the
 *     control socket, netlink and logging use are allowed; the ones that
 *     would turn a compromised daemon into a foothold (execve, ptrace,
 *     mount, module loading, bpf, ...) kill it; anything else fails with
 *     EPERM, as the systemd unit's SystemCallErrorNumber does.
 *
 * SLUICE_NO_SANDBOX=1 skips it all (for debugging with gdb or strace).
 */
#ifndef SLUICE_SANDBOX_H
#define SLUICE_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#define SANDBOX_DISABLE_ENV "SLUICE_NO_SANDBOX"

/* `User =`: the user the daemon becomes once set up. */
struct sandbox_user {
	bool set;
	uid_t uid;
	gid_t gid; /* its primary group, the only one kept */
	char name[33];
};

/* Looks name up (before the sandbox: NSS may read files or ask a daemon).
 * 0, -ENOENT (no such user) or -errno. */
int sandbox_resolve_user(struct sandbox_user *u, const char *name);

/* Enters the sandbox, becoming user (may be NULL) if set. Returns 0, or
 * -errno after logging which step failed; the steps that worked stay in
 * force (the caller goes on: a daemon with fewer restrictions still beats
 * no daemon, and the log says so) unless *must_stop: the switch to the
 * user failed, and a daemon asked not to run as root must not. */
int sandbox_enter(const struct sandbox_user *user, bool *must_stop);

#endif
