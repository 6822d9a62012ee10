/* SPDX-License-Identifier: MIT */
/*
 * Readiness notification for systemd's Type=notify, without libsystemd: one
 * datagram ("READY=1", "STOPPING=1") to the AF_UNIX socket named by
 * $NOTIFY_SOCKET, a path or, after '@', a name in the abstract namespace.
 * Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
 */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#define NOTIFY_SOCKET_ENV "NOTIFY_SOCKET"

/* Tells the service manager the interface is up. Takes the socket from the
 * environment and unsets the variable, so no child process can speak for
 * this one; the address is kept for notify_stopping, which also runs at
 * exit(). */
void notify_ready(void);
/* Tells the service manager the daemon is shutting down. Once only: later
 * calls, and calls without an earlier notify_ready, do nothing. */
void notify_stopping(void);

#endif
