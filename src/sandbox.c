// SPDX-License-Identifier: MIT
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* What the running daemon keeps. */
static const int kept_caps[] = { CAP_NET_ADMIN, CAP_NET_BIND_SERVICE };

/* Locked memory the daemon may grow to: the packet pool, the GRO buffers
 * and the peers of a large server, with room to spare. */
#define MEMLOCK_LIMIT (256ULL << 20)

/* What the loop, the transports, the control socket, netlink, the key log
 * and logging call, with what glibc calls underneath them. */
static const char *const allowed[] = {
	/* the event loop and time */
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_ctl",
	"epoll_create1",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"clock_gettime",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"restart_syscall",
	/* descriptors */
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"close",
	"close_range",
	"fcntl",
	"ioctl",
	"dup",
	"dup2",
	"dup3",
	"lseek",
	"pipe2",
	/* sockets: UDP, TCP, the control socket, netlink, syslog */
	"socket",
	"bind",
	"listen",
	"accept",
	"accept4",
	"connect",
	"shutdown",
	"setsockopt",
	"getsockopt",
	"getsockname",
	"getpeername",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"socketpair",
	/* files: the key log, the log file, the control socket's file, /proc */
	"openat",
	"open",
	"newfstatat",
	"fstat",
	"stat",
	"lstat",
	"statx",
	"unlink",
	"unlinkat",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"readlinkat",
	"getdents64",
	"mkdir",
	"mkdirat",
	"fchmod",
	"umask",
	/* the state file (statefile.c): written to a temp file, renamed */
	"fsync",
	"fdatasync",
	"rename",
	"renameat",
	"renameat2",
	/* memory */
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"brk",
	"madvise",
	"mlock",
	"munlock",
	"mlockall",
	"munlockall",
	/* signals, identity, exit */
	"rt_sigprocmask",
	"rt_sigaction",
	"rt_sigreturn",
	"signalfd4",
	"getpid",
	"gettid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"tgkill",
	"kill",
	"wait4", /* the keeper of PreDown and PostDown (hooks.c), at exit */
	"waitid",
	"exit",
	"exit_group",
	"futex",
	"sched_yield",
	"getrandom",
	"uname",
	"prctl",
	"getrlimit",
	"prlimit64",
	"set_robust_list",
	"rseq",
	"sysinfo",
};

/* What only an attacker who took the daemon over would call. */
static const char *const fatal[] = {
	"execve",
	"execveat",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"bpf",
	"perf_event_open",
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setgroups",
	"capset",
	"unshare",
	"setns",
	"keyctl",
	"add_key",
	"request_key",
	"userfaultfd",
	"swapon",
	"swapoff",
	"reboot",
	"open_by_handle_at",
	"name_to_handle_at",
};

int sandbox_resolve_user(struct sandbox_user *u, const char *name)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno ? -errno : -ENOENT;
	u->set = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

static uint64_t kept_mask(void)
{
	uint64_t keep = 0;

	for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		keep |= 1ULL << kept_caps[i];
	return keep;
}

/* Dropping from the bounding set takes CAP_SETPCAP, so it comes first,
 * while the daemon is still root. A capability past the kernel's last
 * answers EINVAL. */
static int drop_bounding_set(void)
{
	for (int cap = 0; cap < 64; cap++) {
		if (kept_mask() & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			return -errno;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

/* Becomes the user with its group and no other (setgroups first: it takes
 * CAP_SETGID), keeping the permitted capabilities across the change of uid
 * (PR_SET_KEEPCAPS) for drop_capabilities to make effective again. */
static int switch_user(const struct sandbox_user *u)
{
	int r = 0;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(1, &u->gid) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
		r = -errno;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return r;
}

/* Effective and permitted: the kept ones the daemon has, nothing else. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t keep, have;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	have = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
	keep = kept_mask() & have;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a system call on this architecture */
		int r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!ctx)
		return -ENOMEM;
	r = add_rules(ctx, SCMP_ACT_ALLOW, allowed, sizeof(allowed) / sizeof(allowed[0]));
	/* Threads, never processes: the resolver of endpoints given by name
	 * (device_resolve.h) runs getaddrinfo in one. clone3 hides its flags
	 * from the filter, so it answers ENOSYS and glibc falls back to clone. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r == 0 && seccomp_syscall_resolve_name("clone3") != __NR_SCMP_ERROR)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = add_rules(ctx, SCMP_ACT_KILL_PROCESS, fatal, sizeof(fatal) / sizeof(fatal[0]));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int sandbox_enter(const struct sandbox_user *user, bool *must_stop)
{
	const char *off = getenv(SANDBOX_DISABLE_ENV);
	struct rlimit none = { 0, 0 }, lock = { MEMLOCK_LIMIT, MEMLOCK_LIMIT };
	int r, failed = 0;

	*must_stop = false;
	if (off && *off && strcmp(off, "0") != 0) {
		log_warn("%s is set: the daemon keeps every privilege it started with%s", SANDBOX_DISABLE_ENV,
			 user && user->set ? ", and runs as root, not as its User" : "");
		return 0;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0) {
		failed = -errno;
		log_warn("sandbox: cannot stop core dumps: %s", strerror(errno));
	}
	/* Raised while we still may, so that locking does not make memory
	 * run out once CAP_IPC_LOCK is gone. */
	if (setrlimit(RLIMIT_MEMLOCK, &lock) < 0 && getrlimit(RLIMIT_MEMLOCK, &lock) == 0 &&
	    lock.rlim_cur != RLIM_INFINITY && lock.rlim_cur < MEMLOCK_LIMIT) {
		log_debug("sandbox: locked memory limited to %llu bytes: memory is not locked",
			  (unsigned long long)lock.rlim_cur);
	} else if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0) {
		log_debug("sandbox: cannot lock memory: %s", strerror(errno));
	}
	r = drop_bounding_set();
	if (r < 0) {
		failed = r;
		log_warn("sandbox: cannot drop capabilities from the bounding set: %s", strerror(-r));
	}
	/* Asked not to run as root: not switching is no smaller sandbox, it
	 * is not what was asked, and the daemon stops. */
	if (user && user->set && (r = switch_user(user)) < 0) {
		log_err("cannot switch to User = %s (uid %u, gid %u): %s%s", user->name, (unsigned)user->uid,
			(unsigned)user->gid, strerror(-r),
			r == -EPERM ? " (the daemon lacks CAP_SETUID or CAP_SETGID, or a system call filter forbids "
				      "it: under systemd, set the unit's User= instead)"
				    : "");
		*must_stop = true;
		return r;
	}
	r = drop_capabilities();
	if (r < 0) {
		failed = r;
		log_warn("sandbox: cannot drop capabilities: %s", strerror(-r));
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		failed = -errno;
		log_warn("sandbox: cannot set no_new_privs: %s", strerror(errno));
	} else if ((r = install_filter()) < 0) {
		failed = r;
		log_warn("sandbox: cannot install the system call filter: %s", strerror(-r));
	}
	/* A change of uid makes the process dumpable again (per
	 * fs.suid_dumpable): say no once more. */
	if (user && user->set && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		failed = -errno;
	if (!failed)
		log_debug(
			"sandbox: %s%s%sonly CAP_NET_ADMIN and CAP_NET_BIND_SERVICE kept, no new privileges, "
			"not dumpable, system calls filtered",
			user && user->set ? "running as " : "", user && user->set ? user->name : "",
			user && user->set ? ", " : "");
	return failed;
}
