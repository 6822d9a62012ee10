/* SPDX-License-Identifier: MIT */
/*
 * The TCP transport, for networks that let no UDP through. Each WireGuard
 * message travels as one frame, [u16 big-endian length][message], over a TCP
 * connection. The device drives it from its epoll loop; nothing here blocks.
 *
 * The frames, the receive buffer and the send ring are in tcp_frame.h (pure,
 * no I/O). Here is the transport (struct tcp): one listening socket and the
 * connections it accepts (tcp.c), and the peers reached at a tcp://
 * endpoint, by public key, with a connection each that it dials and redials
 * (tcp_dial.c). It knows peers by their keys only; what the engine makes of
 * a connection coming or going is the owner's business (struct tcp_ops).
 *
 * A connection has an id (struct endpoint.conn): never 0 (UDP) nor
 * ENDPOINT_TCP_DOWN, never reused while the process lives (until the 32-bit
 * counter wraps, and then never one still open). Packets carry the id, not a
 * pointer, so a packet for a connection closed meanwhile is simply dropped.
 */
#ifndef SLUICE_TCP_H
#define SLUICE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "drop.h"
#include "encoding.h"
#include "messages.h"
#include "netaddr.h"
#include "pool.h"
#include "tcp_frame.h"

/* ---- the transport ---- */

/* Writes what is pending in tx to fd. 0: all written; 1: some is left (the
 * socket is full, wait for EPOLLOUT); -errno: the connection is broken. */
int tcp_tx_flush(struct tcp_tx *tx, int fd);

/* Limits. */
/* Accepted connections that have not authenticated yet ("waiting"). Each
 * holds only a small receive buffer (TCP_UNAUTH_RX_BUF), so there may be
 * many: a burst of connections must not push out a real client before its
 * initiation is read. A connection is read as soon as it is accepted, and
 * only one that is still waiting then needs a place: when they are all
 * taken, it evicts the oldest waiting connection of the source holding the
 * most of them, never one younger than TCP_UNAUTH_GRACE_NS (it is closed
 * itself instead). At most half the descriptors the process may open wait
 * (RLIMIT_NOFILE), and out of descriptors, a waiting one makes room the same
 * way. */
#define TCP_MAX_UNAUTH 1024
#define TCP_MAX_UNAUTH_PER_SOURCE 4 /* from one IPv4 address or IPv6 /64 */
#define TCP_UNAUTH_GRACE_NS (NS_PER_SEC)
/* One handshake initiation and its frame header: all a client sends before
 * it is answered. A longer frame grows the buffer to one largest frame. */
#define TCP_UNAUTH_RX_BUF (TCP_FRAME_HEADER_LEN + sizeof(struct message_handshake_initiation))
/* The longest frame a connection takes before it authenticates: a packet
 * of an Ethernet-sized MTU at most, so that the connections waiting hold
 * little memory however large the MTU; then up to tcp->max_frame. */
#define TCP_UNAUTH_MAX_FRAME 2048
/* Authenticated connections accepted from one peer: a client that keeps
 * reconnecting (one we dial too, whose connections are kept) leaves at most
 * this many behind; the oldest goes. */
#define TCP_MAX_CONNS_PER_PEER 2
#define TCP_STABLE_NS (10 * NS_PER_SEC) /* a dialed connection up this long worked */
/* Longer than REKEY_TIMEOUT plus its jitter, twice: an initiator whose
 * first initiation was lost to the rate limit under load (over TCP, no
 * cookie reply is sent: core.c check_macs) retries on the same connection,
 * twice if need be (a client with the silence rule below dials a new one
 * instead, after the first). */
#define TCP_AUTH_TIMEOUT_NS (11 * NS_PER_SEC)
#define TCP_CONNECT_TIMEOUT_NS (10 * NS_PER_SEC)
/* A dialed connection over which a handshake initiation went out and
 * nothing at all came back for this long is given up and dialed again: a
 * live peer answers an initiation at once (a response, or a cookie reply).
 * The same span bounds what the kernel lets stay unacknowledged on a dialed
 * socket (TCP_USER_TIMEOUT), which catches data sent into a dead path. */
#define TCP_SILENCE_NS ((uint64_t)REKEY_TIMEOUT * NS_PER_SEC)
#define TCP_RETRY_FIRST_NS (NS_PER_SEC) /* first retry within 1 s */
#define TCP_RETRY_MAX_NS (15 * NS_PER_SEC)
/* How often accepted connections no peer names any more are closed. */
#define TCP_SWEEP_INTERVAL_NS (10 * NS_PER_SEC)
#define TCP_RX_BUF (64 * 1024) /* once authenticated, or dialed and up */
#define TCP_TX_BUF (128 * 1024)
#define TCP_TX_RESERVE 2048 /* a dozen handshake messages */
#define TCP_BUCKETS 256

struct tcp_conn;
struct tcp_peer;

struct tcp_ops {
	void *ctx;
	/* Frames read from a connection, as packets from the pool with ep =
	 * the remote address and the connection's id. The callee owns them. */
	void (*recv)(void *ctx, struct pkt **pkts, int n, uint64_t now);
	/* The connection to a dialed peer (tcp_peer_add) is up: ep is the
	 * remote address and its id. Returns false when the owner has no such
	 * peer any more: the transport then stops dialing it (tcp_peer_stop). */
	bool (*dialer_up)(void *ctx, const uint8_t public_key[KEY_LEN], const struct endpoint *ep, uint64_t now);
	/* A dialed peer's connection (id conn, or 0 if it never came up)
	 * failed or closed; the transport dials again by itself. */
	void (*dialer_down)(void *ctx, const uint8_t public_key[KEY_LEN], uint32_t conn);
	/* Optional: calls fn(arg, id) for the connection id that each of the
	 * owner's peers names (endpoint.conn), if not 0. A closed id a peer
	 * still names is not handed to a new connection, and an accepted
	 * connection that no peer names is closed (tcp_endpoint_changed, and a
	 * sweep every TCP_SWEEP_INTERVAL_NS). */
	void (*conns_in_use)(void *ctx, void (*fn)(void *arg, uint32_t id), void *arg);
	/* n packets, or connections, were lost, for this cause (the
	 * DROP_TCP_* ones and DROP_NO_BUFFER). */
	void (*drop)(void *ctx, enum drop_cause cause, uint64_t n);
};

struct tcp {
	struct tcp_ops ops;
	struct pool *pool;
	int epoll_fd;
	uint32_t tag_listen, tag_conn; /* epoll data: tag | (uint64_t)id << 32 */
	int listen_fd;
	bool listen_paused; /* out of descriptors: not accepting for a while */
	uint64_t listen_resume_at;
	uint32_t fwmark;
	size_t max_frame;

	uint32_t next_id;
	struct tcp_conn *buckets[TCP_BUCKETS];
	struct tcp_conn *conns;                 /* every connection, dead ones until reaped */
	struct tcp_conn *wait_head, *wait_tail; /* waiting ones, oldest first */
	unsigned n_conns, n_unauth, n_dead;
	unsigned max_unauth; /* TCP_MAX_UNAUTH (tests lower it) */
	uint64_t last_sweep;

	struct tcp_peer *peers;         /* every dialed peer, newest first */
	struct tcp_peer **peer_buckets; /* by public key; a power of two of them */
	size_t n_peers, n_peer_buckets;

	uint64_t now;           /* the latest time passed in */
	uint64_t next_deadline; /* no work before this (may be early) */
	uint64_t log_window;    /* rate limit of messages about bad peers */
	unsigned log_count;
};

/* ops is copied. Frames may be as large as a pool buffer holds. Events of
 * the listening socket are tagged tag_listen, those of a connection
 * tag_conn | (uint64_t)id << 32. */
int tcp_init(struct tcp *t, const struct tcp_ops *ops, int epoll_fd, uint32_t tag_listen, uint32_t tag_conn,
	     struct pool *pool);
/* Closes every connection and the listening socket; forgets every peer. */
void tcp_destroy(struct tcp *t);

/* A dual-stack listening socket, non-blocking, on *port (0 picks one; *port
 * receives it). Returns the fd or -errno. */
int tcp_listen_open(uint16_t *port, uint32_t fwmark);
/* Takes fd (from tcp_listen_open) as the listening socket, closing the one
 * before; -1 closes it only. Returns 0 or -errno (fd is then closed). */
int tcp_set_listener(struct tcp *t, int fd);
/* For the listening socket and every connection, present and future. */
void tcp_set_fwmark(struct tcp *t, uint32_t fwmark);

/* Epoll events. */
void tcp_on_listen(struct tcp *t, uint64_t now);
void tcp_on_conn(struct tcp *t, uint32_t id, uint32_t events, uint64_t now);
/* Connect and authentication timeouts, silent dialed connections, dialer
 * retries, the sweep, freeing closed connections. Call after each round of
 * events (tcp_send leaves it the time of a silence to take). */
void tcp_tick(struct tcp *t, uint64_t now);
/* When tcp_tick next has work, or UINT64_MAX. */
uint64_t tcp_next_deadline(const struct tcp *t);

/* Queues each packet (ep.conn != 0) on its connection and writes what the
 * sockets take. Packets for no connection, or that do not fit, are counted
 * and skipped. The caller keeps the packets. */
void tcp_send(struct tcp *t, struct pkt *const *pkts, int n);

/* The engine moved the endpoint of peer public_key from connection
 * old_conn to new_conn (either may also be 0, UDP, or ENDPOINT_TCP_DOWN) on
 * a message the peer authenticated: new_conn is the peer's
 * (tcp_conn_authenticated, kept if we dial the peer too), and an accepted
 * old_conn that no peer names any more is closed, unless we dial the peer
 * (a client that reconnected leaves its old connection behind). Of the
 * accepted connections a peer authenticated on first, the newest
 * TCP_MAX_CONNS_PER_PEER stay, and those a peer names. */
void tcp_endpoint_changed(struct tcp *t, const uint8_t public_key[KEY_LEN], uint32_t old_conn, uint32_t new_conn);
/* A peer authenticated a message from connection id: an accepted one stops
 * waiting (no more deadline, no longer counted against TCP_MAX_UNAUTH) and
 * gets its full-size buffers. keep: the peer is one we dial too, so each
 * side may use either of two connections; the sweep leaves this one alone
 * (closing it would only make the peer redial). */
void tcp_conn_authenticated(struct tcp *t, uint32_t id, bool keep);
/* No peer uses accepted connection id any more: it is closed. Dialed
 * connections are left alone (their dialer owns them). */
void tcp_conn_release(struct tcp *t, uint32_t id);
/* Whether id names an open connection. */
bool tcp_conn_exists(const struct tcp *t, uint32_t id);
/* Closes the accepted, authenticated connections that no peer names any
 * more (ops.conns_in_use; without it, every one), except kept ones
 * (tcp_conn_authenticated). With ops.conns_in_use, tcp_tick does it every
 * TCP_SWEEP_INTERVAL_NS. */
void tcp_sweep(struct tcp *t);

/* ---- peers we dial ---- */

/* A peer reached at a tcp:// endpoint, found by its public key (peers come
 * and go over the UAPI). The transport keeps a connection to its target
 * open: it connects at once, and after each failure or close again, backing
 * off exponentially with jitter (first retry within 1 s, at most 15 s
 * apart; back to the first after a connection that worked). A connection
 * that falls silent is given up (TCP_SILENCE_NS): a handshake initiation
 * went out and nothing came back, or what we sent went unacknowledged. */

/* Starts dialing target for public_key; if that key is dialed already,
 * returns its peer unchanged. NULL when out of memory. Peers stay until
 * tcp_destroy; tcp_peer_stop stops one. */
struct tcp_peer *tcp_peer_add(struct tcp *t, const uint8_t public_key[KEY_LEN], const struct endpoint *target,
			      uint64_t now);
/* The dialed peer with this key, stopped or not, or NULL. */
struct tcp_peer *tcp_peer_find(const struct tcp *t, const uint8_t public_key[KEY_LEN]);
static inline size_t tcp_peer_count(const struct tcp *t)
{
	return t->n_peers;
}
/* A new target (closes the connection to the old one, dials at once), or
 * the same one again (only restarts a stopped peer). */
void tcp_peer_set_target(struct tcp *t, struct tcp_peer *tp, const struct endpoint *target, uint64_t now);
/* Closes the peer's connection and makes no new one until set_target. */
void tcp_peer_stop(struct tcp *t, struct tcp_peer *tp);
/* The id of the peer's connection when it is up, else ENDPOINT_TCP_DOWN. */
uint32_t tcp_peer_conn(const struct tcp *t, const struct tcp_peer *tp);
/* Where the peer is dialed (conn 0); false when it is stopped. */
bool tcp_peer_target(const struct tcp_peer *tp, struct endpoint *target);

#endif
