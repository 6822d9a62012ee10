/* SPDX-License-Identifier: MIT */
/*
 * Why packets were dropped: one counter per cause, kept by the engine and
 * counted into by the transports through its calls; shown by `sluice show`.
 */
#ifndef SLUICE_DROP_H
#define SLUICE_DROP_H

enum drop_cause {
	DROP_NO_KEYPAIR = 0, /* data for an unknown or expired session */
	DROP_REPLAY,         /* counter seen before or too old */
	DROP_DECRYPT,        /* authentication failed */
	DROP_ALLOWEDIPS,     /* inner source not in the peer's AllowedIPs */
	DROP_MALFORMED,      /* not a valid message or inner packet */
	DROP_NO_PEER,        /* no peer for the destination */
	DROP_NO_BUFFER,      /* pool empty / staged queue full */
	DROP_SEND_FAILED,    /* the socket refused it */
	DROP_HANDSHAKE,      /* a handshake message that failed a check */
	/* Handshake messages that never reached the Noise work (core_handshake.c). */
	DROP_HANDSHAKE_MAC1,       /* mac1 wrong: junk, or a sender with another key for us */
	DROP_HANDSHAKE_QUEUE_FULL, /* the handshake queue was full */
	DROP_HANDSHAKE_RATELIMIT,  /* under load, more than its share from one source */
	DROP_HANDSHAKE_COOKIE,     /* under load without a valid mac2: answered with a cookie */
	DROP_COOKIE_RATELIMIT,     /* ... and left unanswered: cookie replies at their limit */
	DROP_HANDSHAKE_REPLAY,     /* an initiation whose timestamp is not newer than the last accepted */
	/* The TCP transport (tcp.c). The first two count packets; the others
	 * count connections closed, each holding whatever it had sent. */
	DROP_TCP_NO_CONN,      /* for a TCP endpoint whose connection is not up */
	DROP_TCP_TX_FULL,      /* the connection's send buffer was full */
	DROP_TCP_FRAMING,      /* a zero or oversized frame length: closed */
	DROP_TCP_TRUNCATED,    /* the peer closed in the middle of a frame */
	DROP_TCP_CONN_LIMIT,   /* too many unauthenticated connections: refused */
	DROP_TCP_AUTH_TIMEOUT, /* no authenticated message in time: closed */
	/* TAP mode (Mode = tap). */
	DROP_MODE_MISMATCH, /* a message of the other mode (TUN against TAP, or WireGuard's) */
	DROP_ALLOWEDMACS,   /* a frame whose source MAC is not in the peer's AllowedMACs */
	DROP_MAC_HELD,      /* a frame whose source MAC another peer holds (pinned or in use) */
	DROP_CAUSE_COUNT
};

/* A short name of each cause ("replay", "decrypt", ...) for show and logs. */
const char *drop_cause_name(enum drop_cause cause);

#endif
