/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for the running daemon. Set-up (the TUN, the sockets,
 * addresses and routes) needs root; what runs after it needs far less:
 *
 *   - capabilities: only CAP_NET_ADMIN (netlink for MTU and link deletion,
 *     SO_MARK, forced socket buffers) and CAP_NET_BIND_SERVICE (a port
 *     below 1024 set again over the control socket) stay, in the effective,
 *     permitted and bounding sets; the others are gone for good;
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

#define SANDBOX_DISABLE_ENV "SLUICE_NO_SANDBOX"

/* Enters the sandbox. Returns 0, or -errno after logging which step failed;
 * the steps that worked stay in force (the caller goes on: a daemon with
 * fewer restrictions still beats no daemon, and the log says so). */
int sandbox_enter(void);

#endif
